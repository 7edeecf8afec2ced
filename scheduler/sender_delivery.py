"""One outbox row's delivery: the send itself and what each Telegram answer means for the row.

``DeliveryMixin`` holds the part of ``scheduler.sender.OutboxSender`` that sends one row (text,
photo or document, with the plain-text fallback for bad HTML) and classifies the outcome: 429 →
retry after Telegram's wait, network errors / 5xx → exponential backoff up to ``MAX_ATTEMPTS``,
403 → the chat is dropped, a migrated group → the rows move, other 400s and bad payloads → the row
fails; plus the off-path settling of an earlier unanswered attempt (scheduler/probe.py).  The
retry policy's constants live here and are re-exported by scheduler/sender.py, whose docstring
states the whole policy.  Split out of scheduler/sender.py without a change of behaviour.
"""
from __future__ import annotations

import asyncio
import base64
import logging
import random
import re
import time
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.ratelimit import retry_seconds
from core.logctx import reset_context, set_context
from scheduler.probe import may_have_arrived
from services.outbox import Item

log = logging.getLogger("scheduler.sender")  # the sender's logger, as before the split
MAX_ATTEMPTS = 12
BACKOFF_BASE_S = 1.0      # server seconds: 1, 2, 4 ... capped
BACKOFF_MAX_S = 60.0
OUTBOX_RATE_ARGS = {"max_retries": 0}  # the sender reschedules 429s itself


class DeliveryMixin:
    """Sending one row and reading the answer (a part of ``OutboxSender``; uses its state)."""

    async def _deliver(self, item: Item, bot: Bot | None = None) -> tuple:
        ctx = set_context(outbox=item.id, chat=item.chat_id, kind=item.kind)
        try:
            return await self._deliver_inner(item, bot or self.bot)
        finally:
            reset_context(ctx)

    async def _deliver_inner(self, item: Item, bot: Bot) -> tuple:
        now = self.core.clock.now
        started, floors = time.time(), self.ledger.floors(item.chat_id)
        self._send_seq += 1
        token = self._send_seq
        self._sending[token] = time.monotonic()
        try:
            sent = await self._send(item, bot)
        except RetryAfter as exc:
            wait = retry_seconds(exc.retry_after)
            item.attempts += 1
            self.stats["retries"] += 1
            log.info("outbox row %s: 429, retry after %.1fs", item.id, wait)
            return ("retry", wait)
        except ChatMigrated as exc:
            log.info("outbox: group %s became supergroup %s", item.chat_id, exc.new_chat_id)
            await self._record(("migrate", item.chat_id, exc.new_chat_id))
            return ("migrated", exc.new_chat_id)
        except Forbidden as exc:
            log.info("outbox: chat %s unreachable (%s): skipping its messages", item.chat_id, exc)
            self.stats["skipped"] += 1
            await self._record(("blocked", item.chat_id, f"403 {exc}", now()))
            return ("drop_chat",)
        except BadRequest as exc:
            text = str(exc).lower()
            item.attempts += 1
            if "chat not found" in text or "chat_id is empty" in text or "peer_id_invalid" in text:
                self.stats["failed"] += 1
                await self._record(("failed", item.id, str(exc), "failed", item.attempts),
                                   ("skip_chat", item.chat_id, "chat not found"))
                return ("drop_chat",)
            self.stats["failed"] += 1
            log.error("outbox row %s (%s) rejected by Telegram: %s", item.id, item.dedupe_key, exc)
            await self._record(("failed", item.id, str(exc), "failed", item.attempts))
            return ("done",)
        except (TimedOut, NetworkError) as exc:
            item.attempts += 1
            if may_have_arrived(exc):
                self.stats["ambiguous"] += 1
                item.extra.setdefault("ambiguous_since", started)
                item.extra.setdefault("floors", floors)
                item.extra["failed_at"] = time.monotonic()
            failures = item.extra["network_failures"] = item.extra.get("network_failures", 0) + 1
            self.stats["retries"] += 1
            if failures >= MAX_ATTEMPTS:
                self.stats["failed"] += 1
                log.error("outbox row %s failed after %d attempts: %s", item.id, item.attempts, exc)
                await self._record(("failed", item.id, f"network: {exc}", "failed", item.attempts))
                return ("done",)
            delay = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (failures - 1)) * random.uniform(0.8, 1.2)
            return ("retry", delay / self.time_scale)
        except (KeyError, TypeError, ValueError) as exc:  # a malformed payload: record, never retry forever
            item.attempts += 1
            self.stats["failed"] += 1
            log.error("outbox row %s has a bad payload: %r", item.id, exc)
            await self._record(("failed", item.id, f"bad payload: {exc!r}", "failed", item.attempts))
            return ("done",)
        finally:
            left = self._sending.pop(token, None)
        message_id = sent.message_id
        self.ledger.note(item.chat_id, message_id, left)
        if "ambiguous_since" in item.extra:
            # An earlier attempt may have arrived: the ids tell, or a look at them — off the delivery path.
            task = asyncio.create_task(self._settle(item, bot, sent), name=f"outbox-settle-{item.id}")
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)
        await self._record(("sent", item.id, message_id, now(), item.attempts))
        self.sent += 1
        self.stats["sent"] += 1
        return ("done",)

    async def _settle(self, item: Item, bot: Bot, sent: Message) -> None:
        """Was an earlier, unanswered attempt of ``item`` delivered after all? (scheduler/probe.py)"""
        # Sends already in flight get their ids noted first: under one id counter for all chats
        # their ids would otherwise look like candidates.
        begun, deadline = time.monotonic(), time.monotonic() + (self.read_timeout or 5.0) + 1.0
        while any(start <= begun for start in self._sending.values()) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        try:
            kept = await self.probe.settle(bot, item.chat_id, sent, item.extra["ambiguous_since"],
                                           item.extra["floors"], self.ledger, item.extra.get("failed_at"))
        except Exception:  # settling is an extra: the row was delivered either way
            log.exception("outbox row %s: could not settle an earlier unanswered attempt", item.id)
            return
        if kept != sent.message_id:
            await self._record(("message_id", item.id, kept))

    async def _send(self, item: Item, bot: Bot) -> Message:
        payload = item.payload or {}
        markup = InlineKeyboardMarkup.de_json(payload["reply_markup"], bot) if payload.get("reply_markup") else None
        parse_mode = payload.get("parse_mode", ParseMode.HTML)
        common: dict[str, Any] = {"reply_markup": markup, "rate_limit_args": OUTBOX_RATE_ARGS}
        if self.read_timeout is not None:
            common["read_timeout"] = self.read_timeout
        if payload.get("photo_b64"):
            message = await bot.send_photo(item.chat_id, base64.b64decode(payload["photo_b64"]),
                                                caption=payload.get("caption", "")[:1024] or None,
                                                parse_mode=parse_mode, **common)
        elif payload.get("document_b64"):
            message = await bot.send_document(item.chat_id, base64.b64decode(payload["document_b64"]),
                                                   filename=payload.get("filename", "file"),
                                                   caption=payload.get("caption", "")[:1024] or None,
                                                   parse_mode=parse_mode, **common)
        else:
            text = payload.get("text") or ""
            if not text.strip():
                raise ValueError("empty text")
            try:
                message = await bot.send_message(item.chat_id, text[:4096], parse_mode=parse_mode,
                                                      disable_web_page_preview=True, **common)
            except BadRequest as exc:
                if "can't parse entities" not in str(exc).lower():
                    raise
                # Never lose a message to a formatting slip: send it as plain text instead.
                log.error("outbox row %s had bad HTML, sending plain: %s", item.id, exc)
                plain = re.sub(r"<[^>]+>", "", text)[:4096]
                message = await bot.send_message(item.chat_id, plain, **common)
        return message
