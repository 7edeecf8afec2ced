"""Delivers the outbox through the bot, within Telegram's limits, exactly once per row.

The bot's rate limiter (bot/ratelimit.py) paces requests (bot-wide, per chat, per group).
Here we decide what a failure means:
- 429 after the limiter's own retries → the row waits ``retry_after`` and is tried again;
- network errors / 5xx → exponential backoff, up to MAX_ATTEMPTS;
- 403 (blocked, kicked) → the user is marked inactive and their pending rows are skipped;
- a group upgraded to a supergroup → the binding and pending rows move to the new chat id;
- "chat not found" → the row fails, the rest of that chat's rows are skipped.

Exactly once: a row is marked ``sending`` (committed) right before the request and ``sent``
with Telegram's message id right after.  If the process dies in between, the claim expires
and the row is sent again: at most the messages in flight at the crash (≤ CONCURRENCY) can
repeat, and only if Telegram had already accepted them.  Rows never leave "pending" without
either a message id or a recorded reason.
"""
from __future__ import annotations

import asyncio
import base64
import logging
import re
from datetime import timedelta

from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from services import outbox
from services.core import Core
from storage.models import GroupBinding, Outbox

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 12
CONCURRENCY = 4
IDLE_POLL_S = 0.25


class OutboxSender:
    def __init__(self, core: Core, bot: Bot, worker: str = "sender") -> None:
        self.core = core
        self.bot = bot
        self.worker = worker
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.sent = 0
        self._lease_checked = -1e9

    def wake(self) -> None:
        """Called after an enqueue so interactive fan-outs go out without waiting for the poll."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self) -> None:
        """Graceful: finish the batch in flight, then stop (SIGTERM path)."""
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=30)
            except asyncio.TimeoutError:
                self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sent = await self.drain_once()
            except Exception:  # the DB briefly unavailable must not kill the sender
                log.exception("outbox drain failed; retrying shortly")
                sent = 0
                await asyncio.sleep(1.0)
            if sent == 0:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=IDLE_POLL_S)
                except asyncio.TimeoutError:
                    pass

    async def drain_once(self, limit: int = 64) -> int:
        """Claim due rows and send them; returns how many were attempted."""
        if not await self._may_send():
            return 0
        rows = await self.core.db.run(outbox.claim_due, self.worker, self.core.clock.now(), limit)
        if not rows:
            return 0
        # Rows for one chat go in order; different chats in parallel (the limiter paces them).
        by_chat: dict[int, list[Outbox]] = {}
        for row in rows:
            by_chat.setdefault(row.chat_id, []).append(row)
        queue: asyncio.Queue[list[Outbox]] = asyncio.Queue()
        for chat_rows in by_chat.values():
            queue.put_nowait(chat_rows)

        async def worker() -> None:
            while not queue.empty():
                chat_rows = queue.get_nowait()
                for row in chat_rows:
                    if not await self._deliver(row):
                        break  # the chat is gone or blocked: later rows were skipped

        await asyncio.gather(*(worker() for _ in range(min(CONCURRENCY, len(by_chat)))))
        return len(rows)

    async def _may_send(self) -> bool:
        """With several instances only the lease holder sends, so pacing stays bot-wide (scheduler/leader.py)."""
        leader = getattr(self.core, "leader", None)
        if leader is None:
            return True
        import time
        if time.monotonic() - self._lease_checked > leader.ttl_s / 3:
            self._lease_checked = time.monotonic()
            await leader.refresh(self.core)
        return leader.is_leader

    async def _deliver(self, row: Outbox) -> bool:
        db, now = self.core.db, self.core.clock.now
        await db.run(outbox.mark_sending, row.id)
        try:
            message_id = await self._send(row)
        except RetryAfter as exc:
            wait = _seconds(exc.retry_after)
            await db.run(outbox.mark_retry, row.id, now() + timedelta(seconds=wait), f"429 retry after {wait}")
            return True
        except ChatMigrated as exc:
            await db.run(_migrate, row.chat_id, exc.new_chat_id)
            await db.run(outbox.mark_retry, row.id, now(), f"migrated to {exc.new_chat_id}")
            self.wake()
            return False
        except Forbidden as exc:
            await db.run(_blocked, row.chat_id, str(exc), now())
            await db.run(outbox.mark_failed, row.id, f"403 {exc}", "skipped")
            return False
        except BadRequest as exc:
            text = str(exc).lower()
            if "chat not found" in text or "chat_id is empty" in text:
                await db.run(outbox.mark_failed, row.id, str(exc))
                await db.run(outbox.skip_chat, row.chat_id, "chat not found")
                return False
            await db.run(outbox.mark_failed, row.id, str(exc))
            log.error("outbox row %s rejected by Telegram: %s", row.id, exc)
            return True
        except (TimedOut, NetworkError) as exc:
            attempts = row.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                await db.run(outbox.mark_failed, row.id, f"network: {exc}")
            else:
                delay = min(300, 2 ** attempts)
                await db.run(outbox.mark_retry, row.id, now() + timedelta(seconds=delay), f"network: {exc}")
            return True
        await db.run(outbox.mark_sent, row.id, message_id, now())
        self.sent += 1
        return True

    async def _send(self, row: Outbox) -> int:
        payload = row.payload or {}
        markup = InlineKeyboardMarkup.de_json(payload["reply_markup"], self.bot) if payload.get("reply_markup") else None
        parse_mode = payload.get("parse_mode", ParseMode.HTML)
        if payload.get("photo_b64"):
            message = await self.bot.send_photo(row.chat_id, base64.b64decode(payload["photo_b64"]),
                                                caption=payload.get("caption", "")[:1024] or None,
                                                parse_mode=parse_mode, reply_markup=markup)
        elif payload.get("document_b64"):
            message = await self.bot.send_document(row.chat_id, base64.b64decode(payload["document_b64"]),
                                                   filename=payload.get("filename", "file"),
                                                   caption=payload.get("caption", "")[:1024] or None,
                                                   parse_mode=parse_mode, reply_markup=markup)
        else:
            try:
                message = await self.bot.send_message(row.chat_id, payload.get("text", "")[:4096], parse_mode=parse_mode,
                                                      reply_markup=markup, disable_web_page_preview=True)
            except BadRequest as exc:
                if "can't parse entities" not in str(exc).lower():
                    raise
                # Never lose a message to a formatting slip: send it as plain text instead.
                log.error("outbox row %s had bad HTML, sending plain: %s", row.id, exc)
                plain = re.sub(r"<[^>]+>", "", payload.get("text", ""))[:4096]
                message = await self.bot.send_message(row.chat_id, plain, reply_markup=markup)
        return message.message_id


def _seconds(value) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


def _migrate(session, old_chat_id: int, new_chat_id: int) -> None:
    binding = session.get(GroupBinding, old_chat_id)
    if binding is not None:
        session.add(GroupBinding(chat_id=new_chat_id, team_id=binding.team_id, title=binding.title,
                                 bound_by=binding.bound_by, bound_at=binding.bound_at))
        session.delete(binding)
    outbox.retarget_chat(session, old_chat_id, new_chat_id)


def _blocked(session, chat_id: int, reason: str, now) -> None:
    from services.users import mark_blocked
    if chat_id > 0:
        mark_blocked(session, chat_id, now)
    else:
        session.query(GroupBinding).filter(GroupBinding.chat_id == chat_id).delete()
    outbox.skip_chat(session, chat_id, reason)
