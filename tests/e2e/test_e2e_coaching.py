"""Coaching end to end (issue 16), each on SQLite and on PostgreSQL: the real bot against the local
Bot API server, read like a chat.

Lost reasons and stalled deals; competitors in pastes, follow-ups and on the card; the matrix;
visit plans with their .ics file, reminder and check-in; SOP feedback and the weekly review.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from storage.models import Customer
from storage.models_coaching import CompetitorMention, DealLoss, SopFeedback, Visit
from tests.conftest import PG_OK, PG_URL, drop_pg_schema, fresh_pg_schema_url
from tests.harness import Harness, button_data, buttons


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG_OK, reason=f"PostgreSQL not reachable at {PG_URL}: PostgreSQL end-to-end tests skipped"))])
async def bot(request, tmp_path):
    schema = None
    url = None
    if request.param == "postgresql":
        url, schema = fresh_pg_schema_url()
    h = Harness(tmp_path, db_url=url)
    try:
        await h.start()
        yield h
    finally:
        await h.stop()
        if schema:
            drop_pg_schema(schema)


async def add_customer(h, rep, name, company, phone, source="官网表单"):
    await h.send(rep, "/new")
    for value in (name, company, phone):
        await h.send(rep, value)
    created = await h.send(rep, source)
    assert "已创建客户" in created[-1]["text"], created
    return created[-1]


async def open_card(h, rep, created_message, name):
    card = await h.press(rep, created_message, text=name)
    assert "待办清单" in card[-1]["text"], card
    return card[-1]


async def reopen(h, rep, name):
    listing = await h.send(rep, "/customers")
    card = await h.press(rep, listing[-1], text=name)
    return card[-1]


async def customer_named(h, name):
    return await h.core.db.run(lambda s: s.exec(select(Customer).where(Customer.name == name)).one())


# --- 1. lost reasons and stalled deals ------------------------------------------------------------

async def test_lost_deal_asks_reason_competitor_and_note(bot):
    h = bot
    _, manager, (rep,) = await h.team(reps=1)
    card = await open_card(h, rep, await add_customer(h, rep, "张总", "华东精密机械有限公司", "13800138000"), "张总")
    confirm = await h.press(rep, card, text="丢单")
    assert "确定把" in confirm[-1]["text"]
    ask = await h.press(rep, confirm[-1], text="确认丢单")
    assert "丢单原因是" in ask[-1]["text"]
    labels = [b["text"] for b in buttons(ask[-1])]
    assert labels == [r.label for r in h.config.lost_reasons]   # the playbook's dictionary, in its order
    comp = await h.press(rep, ask[-1], text="选了竞品")
    assert "哪家竞品" in comp[-1]["text"] and any("小云销售助手" in b["text"] for b in buttons(comp[-1]))
    note_ask = await h.press(rep, comp[-1], text="小云销售助手")
    assert "备注" in note_ask[-1]["text"]
    done = await h.send(rep, "对方报价只有我们一半 <b>真的</b>")
    text = done[-1]["text"]
    assert "已记录丢单" in text and "选了竞品" in text and "小云销售助手" in text and "<b>真的</b>" in text  # escaped
    loss = await h.core.db.run(lambda s: s.exec(select(DealLoss)).one())
    assert (loss.reason, loss.competitor, loss.stage) == ("competitor", "xiaoyun", "lead")
    assert loss.note.startswith("对方报价只有我们一半")
    customer = await customer_named(h, "张总")
    assert customer.status == "lost"
    # A tampered reason index changes nothing.
    from core.callbacks import LostWhy
    bad = await h.press(rep, done[-1], data=LostWhy(customer.id, "r", 99).encode(), validate=False)
    assert (await h.core.db.run(lambda s: s.get(DealLoss, customer.id))).reason == "competitor"
    assert h.tg.rejected() == [] and bad is not None


async def test_lost_reason_can_be_skipped_and_another_rep_cannot_set_it(bot):
    h = bot
    _, _, (li, chen) = await h.team(reps=2)
    card = await open_card(h, li, await add_customer(h, li, "王总", "蓝海物流有限公司", "13700137000"), "王总")
    confirm = await h.press(li, card, text="丢单")
    ask = await h.press(li, confirm[-1], text="确认丢单")
    customer = await customer_named(h, "王总")
    from core.callbacks import LostWhy
    # 陈 (another rep) forges the reason button for 李's customer: refused, nothing recorded.
    await h.send(chen, "/today")
    forged = await h.press(chen, h.chat_messages(chen)[-1], data=LostWhy(customer.id, "r", 0).encode(), validate=False)
    assert forged is not None
    assert await h.core.db.run(lambda s: s.get(DealLoss, customer.id)) is None
    comp = await h.press(li, ask[-1], text="没有预算")
    note_ask = await h.press(li, comp[-1], text="无 / 不清楚")
    done = await h.press(li, note_ask[-1], text="跳过")
    assert "没有预算" in done[-1]["text"] and "竞品：—" in done[-1]["text"]


async def test_stalled_deal_flagged_on_card_then_escalated_in_digest(bot):
    h = bot
    _, manager, (rep,) = await h.team(reps=1)
    created = await add_customer(h, rep, "张总", "华东精密机械有限公司", "13800138000")
    limit = h.config.stall_limit("lead")           # 3 days in config.toml
    escalate = h.config.coaching.escalate_after_days  # 3 more
    # Day 1: not stalled.
    card = await open_card(h, rep, created, "张总")
    assert "停滞" not in card["text"]
    # Thursday + 5 days 23 h (Wed 08:15 digest): flagged on the card, not yet in the digest.
    await h.run_schedule(datetime(2026, 12, 2, 0, 15))
    card = await reopen(h, rep, "张总")
    assert f"⏳ 停滞：已 5 天没有推进（本阶段 {limit} 天即算停滞）" in card["text"]
    digest = [m for m in h.chat_messages(manager) if "日报" in (m.get("text") or "") or "团队" in (m.get("text") or "")]
    assert not [m for m in h.chat_messages(manager) if "停滞升级" in (m.get("text") or "")]
    # Thursday + 6 days 23 h: idle ≥ limit + escalate_after_days → the manager's digest names it.
    assert 6 >= limit + escalate
    await h.run_schedule(datetime(2026, 12, 3, 0, 15))
    escalated = [m for m in h.chat_messages(manager) if "停滞升级" in (m.get("text") or "")]
    assert len(escalated) == 1 and "张总（销售1，6天）" in escalated[0]["text"], digest
    # Progress (a checklist step) clears the flag on the card.
    card = await reopen(h, rep, "张总")
    cleared = await h.press(rep, card, text="核实联系人")
    assert "停滞" not in cleared[-1]["text"]
