"""PTB's AIORateLimiter plus the per-private-chat limit it lacks.

AIORateLimiter paces bot-wide (30/s) and per group (20/min) but not 1 msg/s per private chat,
and it counts every call with a chat_id.  We keep a small per-chat bucket (burst of 3, then
1/s) for message-producing methods, and retry a 429 a few times for interactive replies.
"""
from __future__ import annotations

from typing import Any

from aiolimiter import AsyncLimiter
from telegram.ext import AIORateLimiter

SENDING_METHODS = frozenset({
    "sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "copyMessage", "forwardMessage",
    "sendAnimation", "sendVideo", "sendAudio", "sendVoice", "sendSticker", "sendLocation", "sendContact",
})
MAX_CHAT_LIMITERS = 20000


class TelegramRateLimiter(AIORateLimiter):
    def __init__(self, overall_per_s: float = 29, private_burst: int = 3, max_retries: int = 3,
                 time_scale: float = 1.0) -> None:
        """``time_scale`` > 1 only against the local test server, whose clock runs that much faster
        (every Telegram limit scales with it); production is always 1."""
        # One under Telegram's 30/s: client and server clocks never tick in perfect step.
        super().__init__(overall_max_rate=overall_per_s, overall_time_period=1 / time_scale, group_max_rate=20,
                         group_time_period=60 / time_scale, max_retries=max_retries)
        self._private_burst = private_burst
        self._chat_period = private_burst / time_scale
        self._chats: dict[int, AsyncLimiter] = {}

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            if len(self._chats) > MAX_CHAT_LIMITERS:
                self._chats.clear()
            limiter = self._chats[chat_id] = AsyncLimiter(self._private_burst, self._chat_period)
        return limiter

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args) -> Any:  # type: ignore[override]
        chat_id = data.get("chat_id")
        if endpoint in SENDING_METHODS and isinstance(chat_id, int) and chat_id > 0:
            async with self._chat_limiter(chat_id):
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
