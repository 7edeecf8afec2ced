"""Outbox delivery through the real bot and the local Bot API server: faults, 429, 403, "chat not
found", group migration, interactive replies that survive a 429, and a duplicate update."""
from __future__ import annotations

import time
from datetime import datetime

from sqlmodel import select
from telegram import Update

from bench.common import seed_reps
from services import outbox
from storage.models import GroupBinding, Outbox, User

BRIEF_AT = datetime(2026, 11, 27, 0, 30)  # Friday 08:30 in Shanghai


def _reps(h, n: int) -> list[int]:
    """n reps who pressed Start, each owning one fresh customer (so each gets a brief)."""
    ids = [h.tg.add_user(first_name=f"rep{i}")["id"] for i in range(n)]
    h.tg._bot().started.update(ids)
    seed_reps(h.core.db, h.config, ids, h.clock.now())
    return ids


def _rows(h) -> list[Outbox]:
    return h.core.db.call(lambda s: list(s.exec(select(Outbox))))


async def test_fanout_of_500_briefs_with_10_percent_faults_delivers_each_once(harness):
    h = harness
    ids = _reps(h, 500)
    h.tg.set_faults(0.1, kinds=("429", "500", "timeout", "drop"), timeout_hold_s=3.0)
    done = await h.run_schedule(BRIEF_AT)
    assert ("brief", "1:2026-11-27T08:30", "done") in done
    stats = h.tg.stats()
    assert stats["faults_injected"] >= 25, stats
    deliveries = h.tg.deliveries()
    assert [i for i in ids if deliveries.get(i) != 1] == []
    assert h.tg.duplicates() == []
    assert h.tg.rejected() == []
    briefs = [r for r in _rows(h) if r.kind == "brief"]
    assert len(briefs) == 500
    assert all(r.status == "sent" and r.telegram_message_id for r in briefs)
    # The recorded message id is the one Telegram gave that chat's brief.
    by_chat = {m["chat_id"]: m["message_id"] for m in h.tg.sent() if m["chat_id"] in set(ids)}
    assert all(by_chat[r.chat_id] == r.telegram_message_id for r in briefs)
    assert stats["rate_limited_429"] == 0  # only injected 429s: the limiter kept to Telegram's limits


async def test_blocked_user_is_marked_inactive_skipped_and_listed_in_the_digest(harness):
    h = harness
    _, manager, (rep_a, rep_b) = await h.team(reps=2)
    for rep, name in ((rep_a, "张总"), (rep_b, "李总")):
        await h.send(rep, "/new")
        for value in (name, f"{name}的公司有限公司", "13800138000" if rep is rep_a else "13900139000", "官网表单"):
            await h.send(rep, value)
    # rep_b blocks the bot; the bot never hears of it (update lost) and learns on the next send.
    h.tg._bot().blocked.add(rep_b["id"])
    await h.run_schedule(BRIEF_AT)
    user_b = h.core.db.call(lambda s: s.exec(select(User).where(User.tg_id == rep_b["id"])).one())
    assert user_b.active is False and user_b.blocked_at is not None
    brief_b = [r for r in _rows(h) if r.chat_id == rep_b["id"] and r.kind == "brief"]
    assert [r.status for r in brief_b] == ["skipped"] and "403" in brief_b[0].last_error
    assert any("今日任务" in m["text"] for m in h.chat_messages(rep_a))
    # Anything queued for the blocked user later is skipped without another call to Telegram.
    calls_before = len([c for c in h.tg.calls("sendMessage") if c["params"].get("chat_id") == rep_b["id"]])
    await h.core.db.run(outbox.enqueue, rep_b["id"], "notice", {"text": "hello"}, "test:notice:b", h.clock.now())
    await h.drain()
    calls_after = len([c for c in h.tg.calls("sendMessage") if c["params"].get("chat_id") == rep_b["id"]])
    assert calls_after == calls_before
    assert [r.status for r in _rows(h) if r.dedupe_key == "test:notice:b"] == ["skipped"]
    # The manager's next morning digest names the rep who blocked the bot.
    await h.run_schedule(datetime(2026, 11, 30, 0, 16))  # Monday 08:16
    digest = [m for m in h.chat_messages(manager) if "销售2" in (m.get("text") or "")]
    assert digest, [m.get("text") for m in h.chat_messages(manager)]


async def test_chat_not_found_and_a_group_migrated_to_a_supergroup(harness):
    h = harness
    admin, manager, (rep,) = await h.team(reps=1)
    from tgfake.world import Group
    group = h.tg.add_group("销售一部群", member_ids=[manager["id"]])
    gid = group["id"]
    team_id = h.core.db.call(lambda s: s.exec(select(User).where(User.tg_id == manager["id"])).one().team_id)
    h.core.db.call(lambda s: s.add(GroupBinding(chat_id=gid, team_id=team_id, title="群", bound_by=1,
                                                bound_at=h.clock.now())))
    # Telegram upgrades the group; the service messages never reached the bot.
    new_id = h.tg.world.new_group_id(True)
    h.tg.world.groups[new_id] = Group(new_id, "销售一部群", "supergroup", members=[manager["id"]], migrated_from=gid)
    h.tg.world.groups[gid].migrated_to = new_id

    def queue(s):
        outbox.enqueue(s, gid, "leaderboard", {"text": "榜单一"}, "test:board:1", h.clock.now())
        outbox.enqueue(s, gid, "leaderboard", {"text": "榜单二"}, "test:board:2", h.clock.now())
        outbox.enqueue(s, -4242424242, "notice", {"text": "无人之群一"}, "test:lost:1", h.clock.now())
        outbox.enqueue(s, -4242424242, "notice", {"text": "无人之群二"}, "test:lost:2", h.clock.now())
    h.core.db.call(queue)
    await h.drain()
    assert [m["text"] for m in h.tg.sent(new_id)] == ["榜单一", "榜单二"]  # in order, in the new chat
    rows = {r.dedupe_key: r for r in _rows(h)}
    assert rows["test:board:1"].chat_id == new_id and rows["test:board:1"].status == "sent"
    assert h.core.db.call(lambda s: s.get(GroupBinding, new_id)) is not None
    assert h.core.db.call(lambda s: s.get(GroupBinding, gid)) is None
    assert (rows["test:lost:1"].status, rows["test:lost:2"].status) == ("failed", "skipped")
    assert "chat not found" in rows["test:lost:1"].last_error.lower()
    assert h.tg.rejected() == []


async def test_429_waits_retry_after_then_sends_once(harness):
    h = harness
    ids = _reps(h, 3)
    h.tg.fail_next("sendMessage", error_code=429, description="Too Many Requests: retry after 1",
                   parameters={"retry_after": 1})
    started = time.monotonic()
    await h.run_schedule(BRIEF_AT)
    deliveries = h.tg.deliveries()
    assert all(deliveries.get(i) == 1 for i in ids) and h.tg.duplicates() == []
    retried = [r for r in _rows(h) if r.kind == "brief" and r.attempts == 2]
    assert len(retried) == 1
    calls = [c for c in h.tg.calls("sendMessage") if str(c["params"].get("chat_id")) == str(retried[0].chat_id)]
    assert calls[0]["status"] == 429 and calls[1]["time"] - calls[0]["time"] >= 0.95
    assert time.monotonic() - started >= 0.95


async def test_interactive_reply_survives_a_429(harness):
    h = harness
    _, _, (rep,) = await h.team(reps=1)
    h.tg.fail_next("sendMessage", "429")
    replies = await h.send(rep, "/today")
    assert replies, "the reply went out after retry_after"
    assert [c["status"] for c in h.tg.calls("sendMessage")[-2:]] == [429, 200]


async def test_a_duplicate_update_is_processed_once(harness):
    h = harness
    _, _, (rep,) = await h.team(reps=1)
    before = len(h.chat_messages(rep))
    pushed = h.tg.send_text(rep["id"], "/today")
    await h.settle(pushed["update_id"])
    after_first = len(h.chat_messages(rep))
    assert after_first > before
    # The same update again (webhook retry / polling overlap): nothing happens.
    await h.app.process_update(Update.de_json(pushed, h.app.bot))
    await h.tg.wait_idle()
    assert len(h.chat_messages(rep)) == after_first


async def test_graceful_stop_mid_fanout_finishes_in_flight_and_hands_back_the_rest(harness):
    """What SIGTERM does (bot/run.py → bot.app.shutdown → sender.stop), in the middle of a fan-out."""
    h = harness
    ids = [h.tg.add_user(first_name=f"u{i}")["id"] for i in range(150)]
    h.tg._bot().started.update(ids)
    h.core.db.call(lambda s: [outbox.enqueue(s, i, "notice", {"text": f"通知 {i}"}, f"n:{i}", h.clock.now())
                              for i in ids])
    sender = h.app.bot_data["sender"]
    sender.wake()
    await h.tg.wait_until(lambda: h.tg.stats()["sends"] >= 40, timeout=20)
    await sender.stop()
    accepted = h.tg.stats()["sends"]
    rows = _rows(h)
    assert sum(r.status == "sent" for r in rows) == accepted  # every accepted send is recorded
    assert accepted < len(ids)
    assert [r.id for r in rows if r.status == "pending" and r.claimed_until is not None] == []  # handed back
    sender.start()  # the next process (or instance) picks up at once
    await h.drain()
    deliveries = h.tg.deliveries()
    assert [i for i in ids if deliveries.get(i) != 1] == [] and h.tg.duplicates() == []
