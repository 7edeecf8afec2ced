"""Updates from different people run concurrently; one person's updates run in the order sent.

Why not PTB's default (one update at a time): every update waits for the Bot API round trips
of the one before it.  Against Telegram (tens to hundreds of ms per call, two calls for a button
press) that caps the whole company at a handful of updates per second — at 08:30, when every
rep opens their brief, presses queue up behind each other.  Why not plain
``concurrent_updates(True)``: a rep who taps ✅ and then 📝 must see them applied in that order,
and the per-user state in ``context.user_data`` (drafts, the pending prompt, the member loaded
with the update-id claim in bot/dedupe.py) must not be shared by two of their updates at once.

So each update waits only for earlier updates of the same key (the sender, or the chat when
there is no sender).  Ordering holds because PTB starts the update tasks in arrival order and
``asyncio.Lock`` wakes its waiters first-in, first-out.
"""
from __future__ import annotations

import asyncio
from typing import Any, Awaitable

from telegram import Update
from telegram.ext import BaseUpdateProcessor

DEFAULT_CONCURRENCY = 64     # handlers running at once
UNBOUNDED_WAITING = 1 << 20  # updates that may wait in their lanes (PTB's semaphore)


def ordering_key(update: object) -> object:
    """Whose updates must not overtake each other."""
    if isinstance(update, Update):
        if update.effective_user is not None:
            return ("user", update.effective_user.id)
        if update.effective_chat is not None:
            return ("chat", update.effective_chat.id)
    return ("other", None)


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """At most ``max_concurrent_updates`` handlers run at once; updates waiting behind their own
    person's lane take no slot, so one person's backlog (a burst of forwards, a handler stuck in a
    retry) cannot hold everyone else up.  PTB's own semaphore (taken before ``do_process_update``)
    is therefore sized to let every waiting update in, and the real limit is applied inside."""

    __slots__ = ("_lanes", "_running")

    def __init__(self, max_concurrent_updates: int = DEFAULT_CONCURRENCY) -> None:
        super().__init__(UNBOUNDED_WAITING)
        self._running = asyncio.BoundedSemaphore(max_concurrent_updates)
        self._lanes: dict[object, tuple[asyncio.Lock, list[int]]] = {}  # key -> (lock, [users])

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = ordering_key(update)
        lock, users = self._lanes.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                async with self._running:
                    await coroutine
        finally:
            users[0] -= 1
            if not users[0]:  # nobody queued behind: forget the lane (the dict stays small)
                del self._lanes[key]

    @property
    def lanes(self) -> int:
        return len(self._lanes)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
