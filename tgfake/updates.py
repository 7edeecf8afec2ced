"""The per-bot update queue and webhook delivery.

Why: Telegram keeps updates until the bot confirms them (getUpdates with a higher ``offset``,
or a 2xx answer from the webhook), for at most 24 hours, and filters them by
``allowed_updates`` when they are created. Bots get these semantics wrong in ways that only
show up against a real queue: lost updates after a restart, duplicates after a crash, a
webhook handler that answers 500 and gets the same update again.

Retention (24 h) is measured in real time, not on the scaled clock, so a long benchmark at a
high ``time_scale`` never loses queued updates.

Webhook delivery is sequential (one request in flight per bot, in update order; Telegram's
``max_connections`` is accepted but not used) and retried with exponential back-off on any
non-2xx answer or connection error; after ``max_attempts`` the update is dropped and the error
shows in getWebhookInfo.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tgfake.limits import Clock

log = logging.getLogger("tgfake.updates")

RETENTION_S = 24 * 3600.0
# Sent unless allowed_updates asks for them (Bot API: getUpdates.allowed_updates).
NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class Notifier:
    """A re-armable 'something changed' signal for any number of waiters."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wakes every current waiter."""
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, timeout: float) -> bool:
        """Waits for the next notify; False on timeout."""
        try:
            await asyncio.wait_for(self._event.wait(), max(timeout, 0.0))
        except asyncio.TimeoutError:
            return False
        return True


@dataclass
class QueuedUpdate:
    """One update waiting for confirmation."""

    update_id: int
    kind: str
    payload: dict[str, Any]
    created: float  # time.monotonic(): retention is real time, whatever the time scale

    def to_api(self) -> dict[str, Any]:
        """The Update object."""
        return {"update_id": self.update_id, self.kind: self.payload}


class UpdateQueue:
    """Unconfirmed updates of one bot plus its allowed_updates filter."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        self.items: deque[QueuedUpdate] = deque()
        self.next_id = 1
        self.allowed: list[str] | None = None
        self.changed = Notifier()
        self._on_change = on_change

    def wants(self, kind: str) -> bool:
        """Whether the current allowed_updates lets this kind of update through."""
        if self.allowed:
            return kind in self.allowed
        return kind not in NOT_BY_DEFAULT

    def push(self, kind: str, payload: dict[str, Any]) -> int | None:
        """Queues an update; returns its update_id, or None if allowed_updates filters it."""
        if not self.wants(kind):
            return None
        update = QueuedUpdate(self.next_id, kind, payload, time.monotonic())
        self.next_id += 1
        self.items.append(update)
        self._changed()
        return update.update_id

    def _changed(self) -> None:
        self.changed.notify()
        self._on_change()

    def _expire(self) -> None:
        horizon = time.monotonic() - RETENTION_S
        while self.items and self.items[0].created < horizon:
            self.items.popleft()

    def confirm(self, offset: int) -> None:
        """getUpdates offset: positive confirms ids below it, negative keeps the last -offset."""
        before = len(self.items)
        if offset > 0:
            while self.items and self.items[0].update_id < offset:
                self.items.popleft()
        elif offset < 0:
            while len(self.items) > -offset:
                self.items.popleft()
        if len(self.items) != before:
            self._changed()

    def peek(self, limit: int) -> list[QueuedUpdate]:
        """The oldest ``limit`` unconfirmed updates."""
        self._expire()
        return [self.items[i] for i in range(min(limit, len(self.items)))]

    def clear(self) -> None:
        """drop_pending_updates."""
        if self.items:
            self.items.clear()
            self._changed()

    def __len__(self) -> int:
        return len(self.items)


@dataclass
class Webhook:
    """setWebhook settings plus delivery status for getWebhookInfo."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    delivered: int = 0
    attempts: list[float] = field(default_factory=list)


class WebhookDeliverer:
    """POSTs queued updates of one bot to its webhook, in order, with retries."""

    def __init__(self, queue: UpdateQueue, hook: Webhook, session: aiohttp.ClientSession,
                 clock: Clock, *, on_delivered: Callable[[], None], retry_base_s: float,
                 max_attempts: int, timeout_s: float) -> None:
        self.queue, self.hook, self.session, self.clock = queue, hook, session, clock
        self.on_delivered = on_delivered
        self.retry_base_s, self.max_attempts, self.timeout_s = (
            retry_base_s, max_attempts, timeout_s)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Starts the delivery loop."""
        self._task = asyncio.create_task(self._run(), name="tgfake-webhook")

    async def stop(self) -> None:
        """Stops the delivery loop (an in-flight POST is abandoned, the update stays queued)."""
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down
                pass
            self._task = None

    async def _run(self) -> None:
        failures = 0
        while True:
            pending = self.queue.peek(1)
            if not pending:
                await self.queue.changed.wait(3600)
                continue
            update = pending[0]
            error = await self._post(update)
            if error is None:
                failures = 0
                self.hook.delivered += 1
                self.queue.confirm(update.update_id + 1)
                self.on_delivered()
                continue
            failures = await self._after_failure(update, error, failures + 1)

    async def _after_failure(self, update: QueuedUpdate, error: str, failures: int) -> int:
        self.hook.last_error_date = int(time.time())
        self.hook.last_error_message = error
        log.info("webhook delivery of update %s failed (%d): %s", update.update_id, failures,
                 error)
        if failures >= self.max_attempts:
            log.warning("webhook: giving up on update %s", update.update_id)
            self.queue.confirm(update.update_id + 1)
            return 0
        delay = min(self.retry_base_s * 2 ** (failures - 1), 60.0)
        await asyncio.sleep(self.clock.to_real(delay))
        return failures

    async def _post(self, update: QueuedUpdate) -> str | None:
        """Delivers one update; returns None on 2xx, else Telegram-style error text."""
        headers = {}
        if self.hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.hook.secret_token
        self.hook.attempts.append(time.monotonic())
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout_s)
            async with self.session.post(self.hook.url, json=update.to_api(), headers=headers,
                                         timeout=timeout) as resp:
                await resp.read()
                if 200 <= resp.status < 300:
                    return None
                return f"Wrong response from the webhook: {resp.status} {resp.reason}"
        except asyncio.TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientError as exc:
            return f"Connection failed: {exc.__class__.__name__}"
