"""Flood limits on a clock that may run faster than real time.

Why: Telegram answers 429 when a bot sends more than ~30 messages/s overall, more than about
one message/s into one private chat (short bursts allowed) or more than 20 messages/min into
one group. A bot's send path (queueing, AIORateLimiter, retry on RetryAfter) is only tested if
the fake enforces the same limits.

Clock: ``time_scale`` server seconds pass per real second (``time_scale=10`` makes every
bucket refill ten times faster in wall-clock terms), so demos and benchmarks can run a long
scenario quickly while every limit keeps its Telegram value in *server* time.

retry_after rule (the one place where the two clocks meet): the server works out how many
server seconds the request must wait and reports ``retry_after = ceil(wait / time_scale)``,
i.e. **real (wall-clock) seconds, rounded up, at least 1**. An unmodified client that sleeps
``retry_after`` seconds, as PTB users do, therefore waits long enough on any time scale. With
``time_scale=1`` this is exactly Telegram's meaning.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

GLOBAL_PER_SECOND = 30.0
GROUP_PER_MINUTE = 20.0
PRIVATE_PER_SECOND = 1.0
PAID_PER_SECOND = 1000.0


class Clock:
    """Server time in seconds since start, advancing ``time_scale`` times faster than real."""

    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.time_scale = time_scale
        self._origin = time.monotonic()

    def now(self) -> float:
        """Server seconds elapsed."""
        return (time.monotonic() - self._origin) * self.time_scale

    def to_real(self, server_seconds: float) -> float:
        """Converts a server duration to wall-clock seconds."""
        return server_seconds / self.time_scale

    def retry_after(self, server_wait: float) -> int:
        """The retry_after to report: real seconds, rounded up, at least 1."""
        return max(1, math.ceil(self.to_real(server_wait) - 1e-9))


@dataclass
class TokenBucket:
    """Classic token bucket: ``capacity`` burst, refilled at ``rate`` tokens/server second."""

    capacity: float
    rate: float
    tokens: float
    stamp: float

    @classmethod
    def full(cls, capacity: float, rate: float, now: float) -> "TokenBucket":
        """A bucket that starts full (a fresh chat may burst)."""
        return cls(capacity, rate, capacity, now)

    def refill(self, now: float) -> None:
        """Adds the tokens earned since the last look."""
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def wait_for(self, n: float) -> float:
        """Server seconds until ``n`` tokens are available (0 if they are now)."""
        if self.tokens >= n:
            return 0.0
        return (n - self.tokens) / self.rate


class FloodControl:
    """The three send limits of one bot: overall, per private chat, per group."""

    def __init__(self, clock: Clock, per_chat_burst: int = 3) -> None:
        self.clock = clock
        self.per_chat_burst = max(1, per_chat_burst)
        now = clock.now()
        self._global = TokenBucket.full(GLOBAL_PER_SECOND, GLOBAL_PER_SECOND, now)
        self._paid = TokenBucket.full(PAID_PER_SECOND, PAID_PER_SECOND, now)
        self._chats: dict[int, TokenBucket] = {}

    def _chat_bucket(self, chat_id: int, now: float) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if chat_id < 0:  # groups, supergroups and channels
                bucket = TokenBucket.full(GROUP_PER_MINUTE, GROUP_PER_MINUTE / 60.0, now)
            else:
                bucket = TokenBucket.full(self.per_chat_burst, PRIVATE_PER_SECOND, now)
            self._chats[chat_id] = bucket
        return bucket

    def acquire(self, chat_id: int, n: int = 1, paid: bool = False) -> float:
        """Takes ``n`` sends for ``chat_id`` from every bucket, or none of them.

        Returns 0.0 when the sends are allowed, else the server seconds to wait.
        ``paid`` (allow_paid_broadcast) swaps the 30/s budget for the 1000/s one.
        """
        now = self.clock.now()
        buckets = [self._paid if paid else self._global, self._chat_bucket(chat_id, now)]
        for bucket in buckets:
            bucket.refill(now)
        wait = max(bucket.wait_for(min(n, bucket.capacity)) for bucket in buckets)
        if wait > 0:
            return wait
        for bucket in buckets:
            bucket.tokens -= n
        return 0.0
