"""Unanswered sends: which failures leave the outcome unknown, and how the next send's message id
and a probe chat settle them (scheduler/probe.py) — against the local Bot API server.

The safety property tested throughout: a message is deleted only when it was positively found
to be a second copy of the same send; anything else stays (a possible repeat, never a loss).
"""
from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager

import pytest
import telegram
from telegram.constants import ParseMode
from telegram.error import NetworkError

from bench.common import free_port, seed_reps
from bot.transport import AiohttpRequest
from telegram.request import HTTPXRequest
from scheduler import probe as probe_mod
from scheduler.probe import DeliveryProbe, IdLedger, may_have_arrived
from tests.test_transport import TOKEN, bot_for, started_user, tg, transport  # noqa: F401 (fixtures)

BRIEF = "<b>今日任务</b> 张总 · 报价"


def live(server, chat_id: int) -> list[dict]:
    return server.sent(chat_id)


def probe_chat(tg) -> int:
    return tg.add_group("probe", supergroup=True)["id"]


@asynccontextmanager
async def user_probe_bot(tg):
    """A started user (its /start is message 1), a probe chat, and the bot on the aiohttp transport."""
    uid = started_user(tg)
    sink = probe_chat(tg)
    async with bot_for(tg, "aiohttp") as bot:
        yield uid, sink, bot


async def brief(bot, chat_id: int, text: str = BRIEF):
    return await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)


async def failed_send(tg, bot, chat_id: int, kind: str, text: str = BRIEF) -> None:
    """A send failing with ``kind`` (a NetworkError): with "lost_ack" the message arrived, with "drop" not."""
    tg.fail_next("sendMessage", kind)
    with pytest.raises(NetworkError):
        await brief(bot, chat_id, text)


async def _failure(bot, uid: int) -> BaseException:
    try:
        await bot.send_message(uid, "x")
    except telegram.error.TelegramError as exc:
        return exc
    raise AssertionError("the call did not fail")


async def test_which_failures_leave_the_outcome_unknown(tg, transport):  # noqa: F811
    uid = started_user(tg)
    async with bot_for(tg, transport, read_timeout=0.2) as bot:
        tg.timeout_hold_s = 0.5
        verdicts = {}
        for kind in ("timeout", "drop", "lost_ack", "500", "502"):
            tg.fail_next("sendMessage", kind)
            verdicts[kind] = may_have_arrived(await _failure(bot, uid))
    assert verdicts == {"timeout": True, "drop": True, "lost_ack": True, "500": False, "502": False}
    # Nothing listening: the request never left this process.
    request = AiohttpRequest(connect_timeout=0.5) if transport == "aiohttp" else HTTPXRequest(connect_timeout=0.5)
    refused = telegram.Bot(TOKEN, base_url=f"http://127.0.0.1:{free_port()}/bot", request=request)
    await request.initialize()
    try:
        exc = await _failure(refused, uid)
    finally:
        await request.shutdown()
    assert isinstance(exc, NetworkError) and not may_have_arrived(exc)


async def test_a_lost_answer_whose_message_arrived_leaves_one_copy(tg):  # noqa: F811
    async with user_probe_bot(tg) as (uid, sink, bot):                        # id 1: /start
        ledger = IdLedger()
        ledger.note(uid, (await bot.send_message(uid, "earlier")).message_id)  # id 2
        since, floors = time.time(), ledger.floors(uid)
        await failed_send(tg, bot, uid, "lost_ack")                            # id 3, answer lost
        tg.send_text(uid, "用户插了一句")                                           # id 4
        resent = await brief(bot, uid)                                         # id 5
        probe = DeliveryProbe(sink)
        kept = await probe.settle(bot, uid, resent, since, floors, ledger)
    assert kept == 3
    assert [m["message_id"] for m in live(tg, uid)] == [2, 3]
    assert tg.duplicates(live=True) == [] and len(tg.duplicates()) == 1  # delivered twice, one left
    assert live(tg, sink) == []  # the forwarded copies were removed from the probe chat
    assert probe.stats == {"proven_absent": 0, "repeats_removed": 1, "unresolved": 0, "probes": 2}


async def test_two_lost_answers_leave_one_repeat_and_count_it_unresolved(tg):  # noqa: F811
    """Two attempts whose answers were lost both arrived: the resend goes, the earliest copy is
    kept, and the second copy — a repeat the probe does not remove — is counted as unresolved
    (a fan-out under load once left 2 repeats while counting 1)."""
    async with user_probe_bot(tg) as (uid, sink, bot):                        # id 1: /start
        ledger = IdLedger()
        ledger.note(uid, (await bot.send_message(uid, "earlier")).message_id)  # id 2
        since, floors = time.time(), ledger.floors(uid)
        for _ in range(2):                                                     # ids 3 and 4, answers lost
            await asyncio.sleep(1.0)                                           # Telegram's 1 message/s per chat
            await failed_send(tg, bot, uid, "lost_ack")
        await asyncio.sleep(1.0)
        resent = await brief(bot, uid)                                         # id 5
        probe = DeliveryProbe(sink)
        kept = await probe.settle(bot, uid, resent, since, floors, ledger)
    assert kept == 3
    assert [m["message_id"] for m in live(tg, uid)] == [2, 3, 4]
    left = sum(d["count"] - 1 for d in tg.duplicates(live=True))
    assert left == 1 and probe.stats["unresolved"] == left and probe.stats["repeats_removed"] == 1


async def test_nothing_is_deleted_unless_it_is_a_copy(tg, monkeypatch):  # noqa: F811
    monkeypatch.setattr(probe_mod, "CLOCK_MARGIN_S", 0.0)
    async with user_probe_bot(tg) as (uid, sink, bot):                        # 1
        await brief(bot, uid)                                                  # 2: the same text, yesterday
        time.sleep(1.1)                                                        # (dates are whole seconds)
        since = time.time()
        tg.send_text(uid, "今日任务 张总 · 报价")                                  # 3: a user typing the same text
        await failed_send(tg, bot, uid, "drop")                                # never arrived
        await bot.send_message(uid, "另一条回复")                                # 4: another reply meanwhile
        resent = await brief(bot, uid)                                         # 5
        probe = DeliveryProbe(sink)
        kept = await probe.settle(bot, uid, resent, since, (0, 0), IdLedger())
    assert kept == 5
    assert [m["message_id"] for m in live(tg, uid)] == [2, 4, 5]
    assert probe.stats["unresolved"] == 1 and probe.stats["repeats_removed"] == 0
    assert live(tg, sink) == []


async def test_ids_prove_absence_without_a_probe_chat(tg):  # noqa: F811
    a = tg.add_user(first_name="A")["id"]
    tg._bot().started.add(a)
    async with bot_for(tg, "aiohttp") as bot:
        ledger, probe = IdLedger(), DeliveryProbe(None)
        floors = ledger.floors(a)
        await failed_send(tg, bot, a, "drop")
        resent = await brief(bot, a)                                           # id 1: nothing before it
        assert await probe.settle(bot, a, resent, time.time(), floors, ledger) == 1
        ledger.note(a, 1)
        floors = ledger.floors(a)
        await failed_send(tg, bot, a, "lost_ack", "second")                   # id 2 arrived
        resent = await bot.send_message(a, "second")                          # id 3
        assert await probe.settle(bot, a, resent, time.time(), floors, ledger) == 3  # kept: cannot tell
    assert probe.stats == {"proven_absent": 1, "repeats_removed": 0, "unresolved": 1, "probes": 0}


async def test_one_counter_for_all_private_chats_is_handled_too(tg):  # noqa: F811
    tg.set_message_ids("account")
    a, *others = (tg.add_user(first_name=f"U{n}")["id"] for n in range(7))
    tg._bot().started.update({a, *others})
    b = others.pop()
    sink = probe_chat(tg)
    async with bot_for(tg, "aiohttp") as bot:
        ledger = IdLedger()
        ledger.note(b, (await bot.send_message(b, "b1")).message_id)            # 1
        since, floors = time.time(), ledger.floors(a)
        await failed_send(tg, bot, a, "lost_ack")                              # 2 arrived in A
        for n, other in enumerate(others[:5]):                                  # 3..7 other chats, known
            ledger.note(other, (await bot.send_message(other, f"b{n}")).message_id)
        resent = await brief(bot, a)                                           # 8
        probe = DeliveryProbe(sink)
        kept = await probe.settle(bot, a, resent, since, floors, ledger)
    assert not ledger.per_chat and kept == 2
    assert [m["message_id"] for m in live(tg, a)] == [2]
    assert probe.stats["probes"] == 1  # ids 3..7 were B's: no look needed


async def test_fanout_with_lost_answers_never_loses_and_repeats_at_most_the_unknown(harness):
    """The sender end to end: 10 % faults including lost_ack; a probe chat settles what it can."""
    h = harness
    ids = [h.tg.add_user(first_name=f"rep{i}")["id"] for i in range(300)]
    h.tg._bot().started.update(ids)
    seed_reps(h.core.db, h.config, ids, h.clock.now())
    sender = h.app.bot_data["sender"]
    sender.probe.probe_chat_id = probe_chat(h.tg)
    h.tg.set_faults(0.1, kinds=("429", "500", "timeout", "drop", "lost_ack"), timeout_hold_s=3.0)
    from datetime import datetime
    await h.run_schedule(datetime(2026, 11, 27, 0, 30))
    h.tg.set_faults(0.0)
    assert await sender.settled()
    deliveries = h.tg.deliveries()
    assert [i for i in ids if not deliveries.get(i)] == []  # nothing lost
    assert h.tg.stats()["faults_by_kind"].get("lost_ack", 0) >= 5
    repeats = sum(d["count"] - 1 for d in h.tg.duplicates() if d["chat_id"] in set(ids))
    left = sum(d["count"] - 1 for d in h.tg.duplicates(live=True) if d["chat_id"] in set(ids))
    assert repeats <= sender.stats["ambiguous"]
    assert left <= sender.probe.stats["unresolved"]
    assert sender.probe.stats["repeats_removed"] >= 1
    # what each row recorded is a message that is still in its chat
    from storage.models import Outbox
    from sqlmodel import select
    rows = h.core.db.call(lambda s: list(s.exec(select(Outbox).where(Outbox.kind == "brief"))))
    bot = h.tg._bot()
    assert all(bot.find(r.chat_id, r.telegram_message_id) is not None for r in rows)


def test_the_ledger_tells_per_chat_numbering_from_one_counter():
    ledger = IdLedger()
    ledger.note(101, 7, started=1.0)
    ledger.note(102, 8, started=2.0)
    assert not ledger.per_chat
    assert ledger.floors(101) == (7, 8) and ledger.low(101, (7, 8)) == 8
    assert not ledger.unknown(101, 8)  # another chat's id: under one counter, not this chat's
    assert ledger.ceiling(101, top=20, after=1.5) == 8  # a send that left later got 8
    ledger.note(103, 8, started=3.0)  # the same id in another private chat: numbered per chat
    assert ledger.per_chat
    assert ledger.low(101, (7, 8)) == 7 and ledger.unknown(101, 8) and ledger.ceiling(101, 20, 1.5) == 20
    assert ledger.floors(-1001) == (0, 0) and ledger.unknown(-1001, 8)  # supergroups: always per chat
