"""The bot's rate limiter: Telegram's three send limits, paced, and 429s that stay local.

Why not PTB's AIORateLimiter: it has no per-private-chat limit, counts every call with a
chat_id (edits, chat actions) against the 30/s budget, lets bursts through and — worst for a
fan-out — halts *every* request for ``retry_after`` on any single 429, after which its
bucket releases one burst that overflows Telegram's bucket again (docs/facts §3.3, App. C).

Here the bot-wide limit is a token bucket with a small burst whose tokens are taken when the
request is about to leave (so requests held up by a busy event loop cannot leave in a clump), and
each chat has a GCRA pacer (a token bucket expressed as a "theoretical arrival time"): requests
leave evenly spaced instead of in bursts.  Only message-producing methods count (those are what Telegram's flood limits
count); answers to button presses and edits go straight through.

- bot-wide: ``overall_per_s`` (29, one under Telegram's ~30/s), burst 5;
- private chat: about one per second after a burst of 3 (Telegram allows "short bursts");
- group/channel: 19 per minute after a burst of 15 (Telegram: 20/min).

A 429 blocks only the chat it was answered for, for ``retry_after``.  If 429s dominate the
recent sends across several chats, the limit is bot-wide after all, and everything pauses.
A request Telegram answered without sending (429, 4xx, 5xx, connection refused) gives its
bot-wide slot back, so faults do not eat the budget; a timeout does not (it may have been sent).

Interactive replies retry a 429 up to ``max_retries`` times after ``retry_after``.  The outbox
sender passes ``rate_limit_args={"max_retries": 0}`` and reschedules the row itself.

``time_scale`` > 1 only against the local test server, whose clock runs that much faster
(every Telegram limit scales with it); production is always 1.  ``retry_after`` is in real
seconds on both (tgfake reports it that way).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any

from telegram.error import RetryAfter, TelegramError, TimedOut
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

SENDING_METHODS = frozenset({
    "sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "copyMessage", "forwardMessage",
    "sendAnimation", "sendVideo", "sendAudio", "sendVoice", "sendSticker", "sendLocation", "sendContact",
    "sendVenue", "sendPoll", "sendDice", "sendVideoNote", "copyMessages", "forwardMessages",
})
MAX_CHAT_PACERS = 20000
FLOOD_WINDOW = 20        # recent counted sends looked at to tell a bot-wide flood from a chat's
FLOOD_SHARE = 0.4        # this share of 429s among them, over several chats, pauses everything


class TokenBucket:
    """``rate`` tokens per real second, at most ``burst`` saved; waiters are served in order.

    Used for the bot-wide limit: the decision is taken when the request is about to leave, so
    requests delayed by a busy event loop cannot pile up and leave together (a reservation
    scheme would let every overdue one go at once and overflow Telegram's bucket).
    """

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.capacity = float(max(1, burst))
        self.tokens = self.capacity
        self.stamp = time.monotonic()
        self.blocked_until = 0.0
        self._lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    async def acquire(self) -> None:
        now = time.monotonic()
        if not self._lock.locked() and now >= self.blocked_until:  # fast path: nobody waiting, budget left
            self._refill(now)
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return
        async with self._lock:
            while True:
                now = time.monotonic()
                if now < self.blocked_until:
                    await asyncio.sleep(self.blocked_until - now)
                    continue
                self._refill(now)
                if self.tokens >= 1.0:
                    self.tokens -= 1.0
                    return
                await asyncio.sleep((1.0 - self.tokens) / self.rate)

    def refund(self) -> None:
        self.tokens = min(self.capacity, self.tokens + 1.0)

    def block_until(self, when: float) -> None:
        self.blocked_until = max(self.blocked_until, when)
        self.tokens = 0.0
        self.stamp = max(self.stamp, when)


class Pacer:
    """GCRA: ``rate`` requests per real second, ``burst`` of them back to back."""

    __slots__ = ("interval", "tolerance", "tat")

    def __init__(self, rate: float, burst: int) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (max(1, burst) - 1) * self.interval
        self.tat = 0.0

    def reserve(self, now: float) -> float:
        """Books the next slot; returns the monotonic time at which it may be used."""
        tat = max(self.tat, now)
        at = max(now, tat - self.tolerance)
        self.tat = tat + self.interval
        return at

    def refund(self) -> None:
        """The request never counted at Telegram: give its slot back."""
        self.tat -= self.interval

    def block_until(self, when: float) -> None:
        """Nothing goes before ``when``."""
        self.tat = max(self.tat, when + self.tolerance)

    def idle(self, now: float) -> bool:
        return self.tat <= now


def retry_seconds(value: Any) -> float:
    """``RetryAfter.retry_after`` in seconds (an int in PTB 22, a timedelta in later versions)."""
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


class TelegramRateLimiter(BaseRateLimiter[dict]):
    def __init__(self, overall_per_s: float = 29.0, private_burst: int = 3, max_retries: int = 3,
                 time_scale: float = 1.0, *, overall_burst: int = 5, private_per_s: float = 0.95,
                 group_per_min: float = 19.0, group_burst: int = 15) -> None:
        self.time_scale = time_scale
        self.max_retries = max_retries
        self._overall = TokenBucket(overall_per_s * time_scale, overall_burst)
        self._private = (private_per_s * time_scale, private_burst)
        self._group = (group_per_min / 60.0 * time_scale, group_burst)
        self._chats: dict[int | str, Pacer] = {}
        self._paused_until = 0.0
        self._recent: deque[tuple[bool, Any]] = deque(maxlen=FLOOD_WINDOW)
        self.stats = {"requests": 0, "retry_after": 0, "global_pauses": 0}

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    # --- pacing ----------------------------------------------------------------------------------
    def _chat(self, chat_id: int | str) -> Pacer:
        pacer = self._chats.get(chat_id)
        if pacer is None:
            if len(self._chats) >= MAX_CHAT_PACERS:
                now = time.monotonic()
                for key in [k for k, p in self._chats.items() if p.idle(now)]:
                    del self._chats[key]
            group = isinstance(chat_id, str) or chat_id < 0
            rate, burst = self._group if group else self._private
            pacer = self._chats[chat_id] = Pacer(rate, burst)
        return pacer

    async def _sleep_until(self, when: float) -> None:
        delay = when - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _wait_pause(self) -> None:
        while self._paused_until > time.monotonic():
            await self._sleep_until(self._paused_until)

    async def _acquire(self, chat_id: int | str | None) -> None:
        # Under budget nothing here sleeps: each step checks before it awaits (no coroutine per step).
        if self._paused_until > time.monotonic():
            await self._wait_pause()
        if chat_id is not None:
            now = time.monotonic()
            at = self._chat(chat_id).reserve(now)
            if at > now:
                await self._sleep_until(at)
        await self._overall.acquire()
        if self._paused_until > time.monotonic():
            await self._wait_pause()  # a bot-wide 429 may have arrived while we waited for our slot

    def _on_429(self, chat_id: int | str | None, wait: float) -> None:
        now = time.monotonic()
        self.stats["retry_after"] += 1
        if chat_id is not None:
            self._chat(chat_id).block_until(now + wait)
        self._recent.append((True, chat_id))
        hits = [c for flooded, c in self._recent if flooded]
        if len(self._recent) >= FLOOD_WINDOW // 2 and len(hits) >= FLOOD_SHARE * len(self._recent) \
                and len(set(hits)) >= 3 and self._paused_until < now + wait:
            self._paused_until = now + wait
            self.stats["global_pauses"] += 1
            self._recent.clear()
            log.warning("Telegram flood limit across chats: pausing all sends for %.1fs", wait)

    # --- the BaseRateLimiter hook ------------------------------------------------------------------
    async def process_request(  # type: ignore[override]
            self, callback, args, kwargs, endpoint, data, rate_limit_args) -> Any:
        retries = self.max_retries
        if isinstance(rate_limit_args, dict):
            retries = int(rate_limit_args.get("max_retries", retries))
        elif isinstance(rate_limit_args, int):
            retries = rate_limit_args
        chat_id = data.get("chat_id")
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)
        counted = endpoint in SENDING_METHODS and chat_id is not None
        for attempt in range(retries + 1):
            if counted:
                await self._acquire(chat_id)
            elif self._paused_until > time.monotonic():
                await self._wait_pause()
            self.stats["requests"] += 1
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = retry_seconds(exc.retry_after)
                if counted:
                    self._overall.refund()
                self._on_429(chat_id, wait)
                if attempt >= retries:
                    raise
                log.info("429 on %s: retrying after %.1fs", endpoint, wait)
                await asyncio.sleep(wait)
                continue
            except TimedOut:
                raise  # may have been sent: its slot stays spent
            except TelegramError:
                if counted:
                    self._overall.refund()
                raise
            if counted:
                self._recent.append((False, chat_id))
            return result
        raise AssertionError("unreachable")
