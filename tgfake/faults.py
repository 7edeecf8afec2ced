"""Fault injection: a seeded share of calls fails the way networks and Telegram fail.

Why: a send path is only reliable if it survives a 429 out of nowhere, a 500, a request that
never answers (client read timeout) and a dropped connection — and does not double-send
afterwards. Every kind except ``lost_ack`` fails *before* the call has any effect.
``lost_ack`` is the nasty at-least-once case: the message is delivered, then the connection
drops, so a client that retries will send it twice (``FakeTelegram.duplicates()`` shows it).

By default the polling/lifecycle methods (getUpdates, getMe, webhook management, logOut,
close) are never faulted, so an Application can start and poll; name them in ``methods`` to
fault them too.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from typing import Any

KINDS = ("429", "500", "502", "timeout", "drop", "lost_ack")
DEFAULT_KINDS = ("429", "500", "timeout", "drop")
LIFECYCLE = frozenset({"getupdates", "getme", "setwebhook", "deletewebhook", "getwebhookinfo",
                       "logout", "close"})


@dataclass
class Fault:
    """One injected failure; ``error`` overrides the answer of a scripted error."""

    kind: str
    error: dict[str, Any] | None = None

    @property
    def performs_effect(self) -> bool:
        """Only lost_ack lets the call change state before failing."""
        return self.kind == "lost_ack"


class FaultInjector:
    """Decides, per call, whether and how it fails (seeded, so runs are reproducible)."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.rate = 0.0
        self.kinds: tuple[str, ...] = DEFAULT_KINDS
        self.methods: frozenset[str] | None = None
        self._scripted: dict[str, deque[Fault]] = {}

    def configure(self, rate: float, kinds: tuple[str, ...] | list[str] = DEFAULT_KINDS,
                  methods: tuple[str, ...] | list[str] | None = None) -> None:
        """Sets the random fault rate (0..1), kinds and (case-insensitive) method filter."""
        unknown = set(kinds) - set(KINDS)
        if unknown or not kinds:
            raise ValueError(f"fault kinds must be a non-empty subset of {KINDS}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        self.rate, self.kinds = rate, tuple(kinds)
        self.methods = frozenset(m.lower() for m in methods) if methods else None

    def script(self, method: str, fault: Fault, count: int = 1) -> None:
        """Makes the next ``count`` calls of ``method`` fail with ``fault``."""
        queue = self._scripted.setdefault(method.lower(), deque())
        queue.extend([fault] * count)

    def pick(self, method: str) -> Fault | None:
        """The fault for this call, if any (scripted ones first)."""
        name = method.lower()
        scripted = self._scripted.get(name)
        if scripted:
            return scripted.popleft()
        if self.rate <= 0:
            return None
        if self.methods is not None:
            if name not in self.methods:
                return None
        elif name in LIFECYCLE:
            return None
        if self.rng.random() >= self.rate:
            return None
        return Fault(self.rng.choice(self.kinds))
