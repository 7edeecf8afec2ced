"""Delivers the outbox through the bot, within Telegram's limits, once per row.

Shape: one loop claims due rows in batches (only on the leader, see scheduler/leader.py) and
keeps them in memory, one FIFO per chat; ``concurrency`` workers take a chat at a time, send its
oldest row and record the outcome.  Rows of one chat go strictly in order; different chats go
in parallel and the bot's rate limiter (bot/ratelimit.py) paces them: bot-wide, per chat, per
group.  Results are written by a group-committing recorder (one transaction for whatever
finished meanwhile) and a worker waits for its row's commit before taking more work, so a
database outage stops the sender instead of piling up unrecorded sends.

What a failure means:
- 429 → the row (and the rest of its chat) waits ``retry_after`` in memory, then goes again;
- network errors / 5xx → exponential backoff in memory (server-time seconds), up to MAX_ATTEMPTS;
- 403 (blocked, kicked) → the user is marked inactive (listed in the manager's digest), the
  group binding forgotten, and every open row for that chat skipped — and later claims skip
  rows for inactive users;
- a group upgraded to a supergroup → the binding and open rows move to the new chat id and
  the row is sent there;
- "chat not found" → the row fails, the rest of that chat's rows are skipped;
- other 400s → the row fails (a "can't parse entities" is first resent as plain text).

Exactly once: a row is sent by the instance that claimed it, and ``sent`` with Telegram's
message id is committed before the worker moves on.  A crash leaves claimed rows unsent; their
claim expires (lease TTL) and the next leader sends them.  The one window left is a message
Telegram accepted whose answer we never recorded (killed between the two, or a timeout / dropped
connection after it had in fact been delivered): it is sent again.  Such attempts are counted
(``stats["ambiguous"]``) and each resend is checked afterwards, off the delivery path, against
message ids and an optional probe chat (scheduler/probe.py), which removes a proven repeat.
Results are written by scheduler/outbox_ops.py; the window is stated in docs/deployment.md.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from typing import Any

from telegram import Bot

from scheduler.probe import DeliveryProbe, IdLedger
# One row's delivery and its retry policy (scheduler/sender_delivery.py) and the group-committing
# recorder (scheduler/sender_recorder.py) are mixins of OutboxSender; the policy's constants are
# re-exported here, where they were defined before the split.
from scheduler.sender_delivery import (BACKOFF_BASE_S, BACKOFF_MAX_S, MAX_ATTEMPTS,  # noqa: F401
                                       OUTBOX_RATE_ARGS, DeliveryMixin)
from scheduler.sender_recorder import RecorderMixin, _short
from services import outbox
from services.core import Core
from services.outbox import Item

log = logging.getLogger(__name__)
CONCURRENCY = 64          # many are idle waiting for their rate-limit slot; a timeout holds one for seconds
CLAIM_BATCH = 256
IDLE_POLL_S = 0.25
MAX_MEMORY_WAIT_S = 60.0  # longer waits go back to the database (next_attempt_at)
# httpcore scans every pooled connection (quadratically) on each request, so one big pool costs
# more CPU per message the more connections it ever opened; several small pools stay cheap and a
# request hanging until its read timeout only holds one small pool's connection.
HTTP_POOLS = 8
HTTP_POOL_SIZE = 4


@dataclass
class _Chat:
    gen: int
    items: deque = field(default_factory=deque)


class OutboxSender(DeliveryMixin, RecorderMixin):
    def __init__(self, core: Core, bot: Bot, worker: str = "sender", *, leader: Any = None,
                 concurrency: int = CONCURRENCY, batch: int = CLAIM_BATCH, time_scale: float = 1.0,
                 claim_ttl_s: float | None = None, http_pools: int = HTTP_POOLS,
                 probe_chat_id: int | None = None) -> None:
        self.core = core
        self.bot = bot
        self.http_pools = http_pools
        self._bots: list[Bot] = [bot]
        self._own_bots: list[Bot] = []
        self.worker = worker
        self.leader = leader if leader is not None else getattr(core, "leader", None)
        self.concurrency = concurrency
        self.batch = batch
        self.time_scale = time_scale
        ttl = claim_ttl_s or (self.leader.ttl_s if self.leader is not None else outbox.CLAIM_SECONDS)
        self.claim_ttl_s = float(ttl)
        # None: the bot's default (5 s). Against the local server with a faster clock (test-only
        # time_scale) it shrinks too, but not below 1 s: a busy test machine must not turn slow
        # answers into timeouts (each one a possible repeat, see the module docstring).
        self.read_timeout: float | None = max(1.0, 5.0 / time_scale) if time_scale > 1 else None
        self.sent = 0
        # ambiguous: attempts whose outcome is unknown (the request may have reached Telegram);
        # each can become a repeat, so repeats never exceed it (see docs/deployment.md)
        self.stats = {"sent": 0, "retries": 0, "failed": 0, "skipped": 0, "taken_over": 0, "ambiguous": 0}
        self.probe = DeliveryProbe(probe_chat_id, time_scale=time_scale, read_timeout=self.read_timeout)
        self.ledger = IdLedger()             # message ids this sender got back (scheduler/probe.py)
        self._sending: dict[int, float] = {}  # sends in flight: token -> start (monotonic)
        self._send_seq = 0
        self._settling: set[asyncio.Task] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._chats: dict[int, _Chat] = {}
        self._held: dict[int, Item] = {}
        self._active: set[int] = set()       # chats a worker is sending for right now
        self._parked: set[int] = set()       # chats set aside while not leading (or stopping)
        self._ready: asyncio.Queue = asyncio.Queue()
        self._gen = 0
        self._timers: set[asyncio.TimerHandle] = set()
        self._ops: list[tuple[list[tuple], asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None
        self._last_renew = time.monotonic()
        self._workers: list[asyncio.Task] = []
        self._aborted = False

    # --- lifecycle ---------------------------------------------------------------------------------
    def wake(self) -> None:
        """Called after an enqueue so interactive fan-outs go out without waiting for the poll."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self, timeout: float = 30.0) -> None:
        """Graceful (SIGTERM): finish the sends in flight, record them, hand the rest back."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=timeout)
            except asyncio.TimeoutError:
                log.warning("outbox sender did not stop within %.0fs; cancelling", timeout)
                self._task.cancel()
            self._task = None

    async def abort(self) -> None:
        """Test hook: stop at once and hand nothing back — what SIGKILL does to a process."""
        self._aborted = True
        for task in [self._task, self._flusher, *self._workers, *self._settling]:
            if task is not None:
                task.cancel()
        for task in [self._task, self._flusher, *self._workers, *self._settling]:
            if task is not None:
                try:
                    await task
                except BaseException:
                    pass
        for timer in self._timers:
            timer.cancel()
        self._task = None
        await self._close_pools()  # connections only; nothing in the database is touched

    @property
    def held(self) -> int:
        return len(self._held)

    async def settled(self, timeout: float = 30.0) -> bool:
        """Wait for the checks of earlier unanswered attempts still running (scheduler/probe.py)."""
        if self._settling:
            await asyncio.wait(list(self._settling), timeout=timeout)
        return not self._settling

    # --- the claim loop ----------------------------------------------------------------------------
    async def _open_pools(self) -> None:
        """Extra bots sharing the main bot's token, defaults and rate limiter, each with a small pool."""
        from telegram.ext import ExtBot
        from bot.transport import make_request
        if self.http_pools <= 1 or not isinstance(self.bot, ExtBot):
            return
        base, files = self.bot.base_url, self.bot.base_file_url
        for _ in range(self.http_pools):
            clone = ExtBot(self.bot.token, base_url=lambda _t, u=base: u, base_file_url=lambda _t, u=files: u,
                           request=make_request(HTTP_POOL_SIZE, pool_timeout=None),
                           rate_limiter=self.bot.rate_limiter, defaults=self.bot.defaults)
            try:
                await clone.initialize()
            except Exception as exc:
                log.warning("outbox: could not open an extra connection pool (%s); using the bot's own", exc)
                break
            self._own_bots.append(clone)
        if self._own_bots:
            self._bots = list(self._own_bots)

    async def _close_pools(self) -> None:
        for clone in self._own_bots:
            try:
                await clone.shutdown()
            except Exception:
                pass
        self._own_bots, self._bots = [], [self.bot]

    async def _run(self) -> None:
        await self._open_pools()
        workers = self._workers = [asyncio.create_task(self._worker(i), name=f"outbox-worker-{i}")
                                   for i in range(self.concurrency)]
        try:
            while not self._stopping:
                try:
                    await self._step()
                except Exception as exc:  # the database briefly unavailable must not kill the sender
                    log.warning("outbox sender: %s: %s; retrying shortly", exc.__class__.__name__, _short(exc))
                    await self._pause(1.0)
                    continue
                await self._pause(IDLE_POLL_S)
        finally:
            if self._aborted:
                return  # noqa: B012 - a simulated crash leaves everything as it is
            for _ in workers:
                self._ready.put_nowait(None)
            await asyncio.gather(*workers, return_exceptions=True)
            for timer in self._timers:
                timer.cancel()
            await self.settled(timeout=10.0)
            await self._flush_all()
            await self._release(list(self._held))
            self._chats.clear()
            self._parked.clear()
            self._active.clear()
            self._timers.clear()
            self._ready = asyncio.Queue()
            await self._close_pools()

    async def _pause(self, seconds: float) -> None:
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    def _leading(self) -> bool:
        return self.leader is None or self.leader.is_leader

    async def _step(self) -> None:
        if self.leader is not None:
            await self.leader.refresh_if_due(self.core)
        if not self._leading():
            if self._held:
                await self._release_idle("not the leader")
            self._parked.clear()
            return
        for chat_id in self._parked:
            chat = self._chats.get(chat_id)
            if chat is not None and chat.items:
                self._ready.put_nowait((chat_id, chat.gen))
        self._parked.clear()
        if self._held and time.monotonic() - self._last_renew > self.claim_ttl_s / 3:
            await self.core.db.run(outbox.renew_claims, self.worker, self.claim_ttl_s)
            self._last_renew = time.monotonic()
        if len(self._held) >= self.batch // 2:
            return
        items = await self.core.db.run(outbox.claim_due, self.worker, self.core.clock.now(), self.batch,
                                       self.claim_ttl_s)
        if not self._held:
            self._last_renew = time.monotonic()
        for item in items:
            if item.id in self._held:
                continue
            if item.previous_holder:
                self.stats["taken_over"] += 1
                log.warning("outbox row %s (%s) taken over from %s, whose claim expired: sending it (if that "
                            "instance's request had reached Telegram, this is a repeat)", item.id, item.dedupe_key,
                            item.previous_holder)
                # Its outcome there is unknown: settled like an unanswered attempt, with what the
                # database knows — the chat's last recorded message and the row's creation time.
                created = item.extra.get("created_at")
                item.extra.setdefault("ambiguous_since", created.replace(tzinfo=timezone.utc).timestamp()
                                      if created is not None else 0.0)
                item.extra.setdefault("floors", (item.extra.get("newest_sent", 0), 0))
                item.extra["taken_over"] = True
            self._add(item)
        if len(items) >= self.batch // 2:
            self._wake.set()  # more may be due: claim again as soon as there is room

    def _add(self, item: Item) -> None:
        self._held[item.id] = item
        chat = self._chats.get(item.chat_id)
        if chat is not None:
            chat.items.append(item)
            return
        self._gen += 1
        self._chats[item.chat_id] = _Chat(self._gen, deque([item]))
        self._ready.put_nowait((item.chat_id, self._gen))

    def _drop_chat(self, chat_id: int) -> list[Item]:
        chat = self._chats.pop(chat_id, None)
        items = list(chat.items) if chat else []
        for item in items:
            self._held.pop(item.id, None)
        return items

    async def _release_idle(self, why: str) -> None:
        """Hand back the rows of every chat no worker is sending for right now."""
        ids = []
        for chat_id in [c for c in self._chats if c not in self._active]:
            ids += [item.id for item in self._drop_chat(chat_id)]
        if ids:
            log.info("outbox: handing back %d claimed row(s): %s", len(ids), why)
            await self._release(ids)

    async def _release(self, ids: list[int], next_attempt_at=None) -> None:
        for item_id in ids:
            self._held.pop(item_id, None)
        if not ids:
            return
        try:
            await self.core.db.run(outbox.release_claims, self.worker, ids, next_attempt_at)
        except Exception as exc:
            log.warning("could not hand back %d claimed row(s) (%s); they are retried when the claim expires",
                        len(ids), exc.__class__.__name__)

    # --- workers -------------------------------------------------------------------------------------
    async def _worker(self, index: int = 0) -> None:
        bot = self._bots[index % len(self._bots)]
        while True:
            token = await self._ready.get()
            if token is None:
                return
            chat_id, gen = token
            chat = self._chats.get(chat_id)
            if chat is None or chat.gen != gen or not chat.items:
                continue
            if self._stopping or not self._leading():
                self._parked.add(chat_id)  # the loop hands its rows back, or resumes it
                continue
            item = chat.items[0]
            self._active.add(chat_id)
            try:
                outcome = await self._deliver(item, bot)
            except Exception:  # never lose a worker
                log.exception("outbox row %s: unexpected error", item.id)
                outcome = ("retry", 5.0 / self.time_scale)
            finally:
                self._active.discard(chat_id)
            self._after(chat_id, gen, item, outcome)

    def _after(self, chat_id: int, gen: int, item: Item, outcome: tuple) -> None:
        chat = self._chats.get(chat_id)
        if chat is None or chat.gen != gen:
            return
        kind = outcome[0]
        if kind == "done":
            if chat.items and chat.items[0] is item:
                chat.items.popleft()
            self._held.pop(item.id, None)
            if chat.items:
                self._ready.put_nowait((chat_id, gen))
            else:
                del self._chats[chat_id]
            if len(self._held) < self.batch // 2:
                self._wake.set()
        elif kind == "drop_chat":
            self._drop_chat(chat_id)
            self._wake.set()
        elif kind == "migrated":
            new_id = outcome[1]
            items = self._drop_chat(chat_id)
            for moved in items:
                moved.chat_id = new_id
                self._add(moved)
        elif kind == "retry":
            delay = outcome[1]
            if delay > MAX_MEMORY_WAIT_S:
                items = self._drop_chat(chat_id)
                when = self.core.clock.now() + timedelta(seconds=delay)
                asyncio.ensure_future(self._release([i.id for i in items], when))
                return
            loop = asyncio.get_running_loop()
            handle: asyncio.TimerHandle

            def ready() -> None:
                self._timers.discard(handle)
                self._ready.put_nowait((chat_id, gen))
            handle = loop.call_later(max(0.0, delay), ready)
            self._timers.add(handle)
