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
from tests.e2e import test_e2e_navigation as navigation
from tests.harness import Harness, buttons


async def more(user, card, h):
    """Open the card's "更多" view (the lost exit, visit plan and SOP feedback live there)."""
    return (await h.press(user, card, text="更多" if "更多" in str(buttons(card)) else "More"))[-1]


@pytest.fixture
def bot(harness_both):
    return harness_both


async def add_customer(h, rep, name, company, phone, source="官网表单"):
    created = await navigation.add_customer(h, rep, name, company, phone, source)
    assert "已创建客户" in created[-1]["text"], created
    return created[-1]


async def open_card(h, rep, created_message, name):
    card = await h.press(rep, created_message, text=name)
    assert "待办清单" in card[-1]["text"], card
    return card[-1]


reopen = navigation.open_card  # the card again, from /customers


async def customer_named(h, name):
    return await h.core.db.run(lambda s: s.exec(select(Customer).where(Customer.name == name)).one())


# --- 1. lost reasons and stalled deals ------------------------------------------------------------

async def test_lost_deal_asks_reason_competitor_and_note(bot):
    h = bot
    _, manager, (rep,) = await h.team(reps=1)
    card = await open_card(h, rep, await add_customer(h, rep, "张总", "华东精密机械有限公司", "13800138000"), "张总")
    confirm = await h.press(rep, await more(rep, card, h), text="丢单")
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


async def test_an_overlong_lost_note_is_dropped_with_a_word_and_the_loss_stays(bot):
    from services.lost import MAX_NOTE
    h = bot
    _, _, (rep,) = await h.team(reps=1)
    card = await open_card(h, rep, await add_customer(h, rep, "赵总", "北辰电子有限公司", "13600136000"), "赵总")
    confirm = await h.press(rep, await more(rep, card, h), text="丢单")
    ask = await h.press(rep, confirm[-1], text="确认丢单")
    comp = await h.press(rep, ask[-1], text="没有预算")
    note_ask = await h.press(rep, comp[-1], text="无 / 不清楚")
    assert "备注" in note_ask[-1]["text"]
    dropped = await h.send(rep, "很" * (MAX_NOTE + 1))
    assert "太长" in dropped[-1]["text"] and str(MAX_NOTE) in dropped[-1]["text"], dropped[-1]["text"]
    loss = await h.core.db.run(lambda s: s.exec(select(DealLoss)).one())
    assert loss.reason == "no_budget" and not loss.note
    after = await h.send(rep, "/today")   # the prompt is over: the next text is not taken as a note
    assert "太长" not in after[-1]["text"]
    assert (await h.core.db.run(lambda s: s.exec(select(DealLoss)).one())).note in (None, "")


async def test_lost_reason_can_be_skipped_and_another_rep_cannot_set_it(bot):
    h = bot
    _, _, (li, chen) = await h.team(reps=2)
    card = await open_card(h, li, await add_customer(h, li, "王总", "蓝海物流有限公司", "13700137000"), "王总")
    confirm = await h.press(li, await more(li, card, h), text="丢单")
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


# --- 2. competitors ---------------------------------------------------------------------------------

CHAT_WITH_COMPETITOR = (
    "张总 2026-11-25 10:02\n你们这个系统报价多少？小云那边一个人一个月才几十块。\n"
    "李明 2026-11-25 10:05\n张总，我们有两周免费试用。\n"
    "张总 2026-11-25 10:09\n价格有点贵，我得跟老板汇报一下。\n")


async def test_competitor_mentions_card_script_and_matrix(bot):
    h = bot
    _, manager, (rep,) = await h.team(reps=1)
    await add_customer(h, rep, "张总", "华东精密机械有限公司", "13800138000")
    await add_customer(h, rep, "王总", "蓝海物流有限公司", "13700137000")
    await add_customer(h, rep, "赵总", "智学教育科技有限公司", "13900139000")
    # A pasted chat names 小云 (an alias of 小云销售助手): the analysis shows the counter-script.
    replies = await h.send(rep, CHAT_WITH_COMPETITOR)
    if "谁是客户" in replies[-1]["text"]:
        replies = await h.press(rep, replies[-1], text="张总")
    text = replies[-1]["text"]
    xiaoyun = h.config.competitor("xiaoyun")
    assert "提到竞品 小云销售助手" in text and xiaoyun.counter_scripts[0] in text
    # A follow-up on 王总 names 金算盘 (alias of 金算盘CRM).
    logged = await h.send(rep, "/log 王总 客户说金算盘也来报过价，下周再谈")
    assert "已记录跟进" in logged[-1]["text"]
    mentions = await h.core.db.run(lambda s: [(m.competitor, m.source, m.objections) for m in s.exec(
        select(CompetitorMention).order_by(CompetitorMention.id))])
    assert mentions[0][:2] == ("xiaoyun", "paste") and "price" in mentions[0][2]
    assert mentions[1] == ("kingsoft_crm", "followup", [])
    # The card of a deal where a competitor was mentioned carries its counter-script; others do not.
    card = await reopen(h, rep, "王总")
    assert "⚔️ 竞品 金算盘CRM 应对话术" in card["text"]
    assert h.config.competitor("kingsoft_crm").counter_scripts[0] in card["text"]
    assert "⚔️" not in (await reopen(h, rep, "赵总"))["text"]
    # 赵总 is lost to 小云; 王总 is won (seeded: walking seven stages is another test's job).
    card = await reopen(h, rep, "赵总")
    confirm = await h.press(rep, await more(rep, card, h), text="丢单")
    ask = await h.press(rep, confirm[-1], text="确认丢单")
    comp = await h.press(rep, ask[-1], text="价格太高")
    note = await h.press(rep, comp[-1], text="小云销售助手")
    await h.press(rep, note[-1], text="跳过")
    wang = await customer_named(h, "王总")

    def win(s):
        c = s.get(Customer, wang.id)
        c.status = "won"
        s.add(c)
    await h.core.db.run(win)
    # The matrix (a rep may look too): per competitor deals, won, lost, win rate, objections.
    table = await h.send(manager, "/matrix")
    text = table[-1]["text"]
    lines = {line.split()[0]: line.split() for line in text.splitlines() if line.split() and line.split()[0] in
             ("小云销售助手", "金算盘CRM", "钉销通")}
    assert lines["小云销售助手"][1:5] == ["2", "0", "1", "0%"]       # 张总 (open) + 赵总 (lost to them)
    assert lines["金算盘CRM"][1:5] == ["1", "1", "0", "100%"]        # 王总, won
    assert lines["钉销通"][1:5] == ["0", "0", "0", "—"]
    assert "价格太高" in lines["小云销售助手"][5]
    detail = await h.press(manager, table[-1], text="小云销售助手")
    d = detail[-1]["text"]
    assert "定位：低价SaaS" in d and "出现在 2 个商机" in d and "明确输给它 1" in d and xiaoyun.counter_scripts[0] in d
    back = await h.press(manager, detail[-1], text="竞品矩阵")
    assert "竞品对比分析矩阵" in back[-1]["text"]
    chart = await h.press(manager, back[-1], text="图表")
    photo = [m for m in chart if m.get("kind") == "photo"]
    assert photo and h.tg.file_bytes(photo[-1]).startswith(b"\x89PNG")
    assert "定位" in (await h.send(rep, "/matrix 金算盘"))[-1]["text"]
    assert h.tg.rejected() == []


async def test_competitor_bad_input_is_refused_and_changes_nothing(bot):
    h = bot
    _, manager, (rep,) = await h.team(reps=1)
    await add_customer(h, rep, "张总", "华东精密机械有限公司", "13800138000")
    before = await h.core.db.run(lambda s: len(s.exec(select(CompetitorMention)).all()))
    huge = await h.send(manager, "/matrix " + "竞" * 5000)
    assert "竞品名称太长（5000 字，最多 40 字）。没有做任何更改。" in huge[-1]["text"]
    unknown = await h.send(manager, "/matrix 不存在的厂商<b>")
    assert "没有竞品「不存在的厂商<b>」" in unknown[-1]["text"]
    # A 5,000-character follow-up naming no competitor adds nothing; one naming two adds two.
    await h.send(rep, "/log 张总 " + "聊" * 3000)
    assert await h.core.db.run(lambda s: len(s.exec(select(CompetitorMention)).all())) == before
    await h.send(rep, "/log 张总 钉销和JSP crm都在跟")
    found = await h.core.db.run(lambda s: sorted(m.competitor for m in s.exec(select(CompetitorMention))))
    assert found == ["dingxiao", "kingsoft_crm"]
    assert h.tg.rejected() == []


# --- 3. visit plans --------------------------------------------------------------------------------

CHAT_AFTERNOON = (  # five customer replies on three days, all mid-afternoon: enough for a best time
    "张总 2026-11-23 14:50\n你好，想了解一下你们的设备方案。\n"
    "张总 2026-11-23 15:15\n资料收到了，我先看看。\n"
    "张总 2026-11-24 15:02\n方案我看了，价格有点贵。\n"
    "李明 2026-11-24 15:05\n张总，可以分期付款。\n"
    "张总 2026-11-24 15:20\n那你们报价单发我，我再对比一下。\n"
    "张总 2026-11-25 15:40\n我们下周可以约个时间面谈。\n")


async def test_visit_plan_ics_reminder_and_check_in(bot):
    from icalendar import Calendar
    h = bot
    _, _, (rep,) = await h.team(reps=1)
    for name, company, phone in (("张总", "华东精密机械有限公司", "13800138000"), ("王总", "蓝海物流有限公司", "13700137000"),
                                 ("赵总", "智学教育科技有限公司", "13900139000")):
        await add_customer(h, rep, name, company, phone)
    zhang = await customer_named(h, "张总")

    def seed(s):  # state set up: 张总 is at the quote stage with a known contact person
        c = s.get(Customer, zhang.id)
        c.stage, c.contact = "quote", "张伟"
        s.add(c)
    await h.core.db.run(seed)
    replies = await h.send(rep, CHAT_AFTERNOON)
    if "谁是客户" in replies[-1]["text"]:
        replies = await h.press(rep, replies[-1], text="张总")
    assert "购买意向" in replies[-1]["text"]
    # The plan: goal from the stage checklist, whom to meet, materials, questions, answers, the slot.
    plan = (await h.send(rep, "/visit 张总"))[-1]
    text = plan["text"]
    for expected in ("拜访计划 · 张总", "报价前确认预算范围", "提交方案与报价单", "联系人：张伟", "方案书", "报价单",
                     "金额", "决策人", "价格太高", h.config.objections["price"].script,
                     "建议时间：11月27日 周五 15:00（客户常在这个时段回复）"):
        assert expected in text, (expected, text)
    scheduled = await h.press(rep, plan, text="加入日历")
    assert "已安排拜访 张总：11月27日 周五 15:00" in scheduled[0]["text"]
    document = [m for m in scheduled if m.get("kind") == "document"]
    assert len(document) == 1 and document[0]["filename"].endswith(".ics")
    assert "加入手机日历" in document[0]["caption"]
    # The .ics opens in a standard calendar parser: one event at the slot, an alarm an hour before.
    cal = Calendar.from_ical(h.tg.file_bytes(document[0]))
    events = [c for c in cal.walk("VEVENT")]
    assert len(events) == 1
    event = events[0]
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert start.utcoffset() == timedelta(0) and start.replace(tzinfo=None) == datetime(2026, 11, 27, 7, 0)
    assert end - start == timedelta(minutes=h.config.coaching.visit_minutes)
    assert str(event["summary"]) == "拜访 张总" and "拜访目标" in str(event["description"])
    assert str(event["location"]) == "华东精密机械有限公司"
    alarms = list(event.walk("VALARM"))
    assert len(alarms) == 1 and alarms[0].decoded("trigger") == -timedelta(minutes=60)
    # Other visits are planned around it: 王总 and 赵总 have no chats (default 10:00), the second moves.
    for name in ("王总", "赵总"):
        other = (await h.send(rep, f"/visit {name}"))[-1]
        await h.press(rep, other, text="加入日历")
    week = (await h.send(rep, "/visit"))[-1]["text"]
    assert "未来 7 天的拜访（3 个）" in week and week.index("赵总") < week.index("王总") < week.index("张总")
    visits = await h.core.db.run(lambda s: {v.customer_id: v.start_at for v in s.exec(select(Visit))})
    wang, zhao = await customer_named(h, "王总"), await customer_named(h, "赵总")
    assert visits[wang.id] == datetime(2026, 11, 27, 2, 0) and visits[zhao.id] == datetime(2026, 11, 27, 1, 0)
    # An hour before: the reminder.
    before = len(h.chat_messages(rep))
    await h.run_schedule(datetime(2026, 11, 27, 6, 0))
    reminders = [m for m in h.chat_messages(rep)[before:] if "拜访 张总" in (m.get("text") or "")]
    assert len(reminders) == 1 and "报价前确认预算范围" in reminders[0]["text"]
    # An hour after it ends: "去了吗？结果？" → the result is logged as a visit with its next step.
    await h.run_schedule(datetime(2026, 11, 27, 9, 0))
    checkins = [m for m in h.chat_messages(rep) if "去了吗？结果？" in (m.get("text") or "")]
    zhang_checkin = next(m for m in checkins if "张总" in m["text"])
    ask = await h.press(rep, zhang_checkin, text="去了")
    assert "结果如何" in ask[-1]["text"]
    logged = await h.send(rep, "客户认可方案，下周二报价")
    assert "已记录拜访：张总" in logged[-1]["text"] and "12月1日 周二" in logged[-1]["text"]
    visit = await h.core.db.run(lambda s: s.exec(select(Visit).where(Visit.customer_id == zhang.id)).one())
    assert visit.status == "done" and visit.outcome == "客户认可方案，下周二报价"
    zhang = await customer_named(h, "张总")
    assert zhang.next_followup_at is not None and zhang.last_followup_at == h.clock.now()
    from core.callbacks import VisitAct
    await h.press(rep, zhang_checkin, data=VisitAct("went", visit.id).encode(), validate=False)  # an old button again
    assert (await h.core.db.run(lambda s: s.get(Visit, visit.id))).status == "done"
    # 王总: did not go → recorded as missed, with a button to plan again.
    wang_checkin = next(m for m in checkins if "王总" in m["text"])
    missed = await h.press(rep, wang_checkin, text="没去")
    assert "未拜访" in missed[-1]["text"] and buttons(missed[-1])
    statuses = await h.core.db.run(lambda s: sorted(v.status for v in s.exec(select(Visit))))
    assert statuses == ["done", "missed", "planned"]
    assert h.tg.rejected() == []


# --- 4. SOP feedback and the weekly review ----------------------------------------------------------

async def test_sop_feedback_in_two_taps_reaches_the_manager_only_in_the_weekly_review(bot):
    h = bot
    _, manager, (li, chen) = await h.team(reps=2)
    card = await open_card(h, li, await add_customer(h, li, "张总", "华东精密机械有限公司", "13800138000"), "张总")
    manager_before = len(h.chat_messages(manager))
    # Tap 1: the card's feedback button lists this stage's steps; tap 2: "说不清" on step 1.
    menu = await h.press(li, await more(li, card, h), text="SOP反馈")
    assert "哪一步有问题" in menu[-1]["text"] and "1. 核实联系人与电话" in menu[-1]["text"]
    saved = await h.press(li, menu[-1], text="1 说不清")
    assert "已记录反馈：「核实联系人与电话」· 说不清" in saved[-1]["text"]
    thanks = await h.send(li, "电话是总机，核实到哪一级算完成？")
    assert "谢谢反馈" in thanks[-1]["text"]
    # A long text while a note is awaited (a chat pasted for analysis) is not taken as the note.
    card = await reopen(h, li, "张总")
    menu = await h.press(li, await more(li, card, h), text="SOP反馈")
    await h.press(li, menu[-1], text="2 没用")
    dropped = await h.send(li, "备" * 400)
    assert "没有作为备注保存" in dropped[-1]["text"]
    # 陈 flags the same step without a note (Skip), and once more on another customer.
    for name, company, phone in (("王总", "蓝海物流有限公司", "13700137000"), ("赵总", "智学教育科技有限公司", "13900139000")):
        c = await open_card(h, chen, await add_customer(h, chen, name, company, phone), name)
        menu = await h.press(chen, await more(chen, c, h), text="SOP反馈")
        saved = await h.press(chen, menu[-1], text="1 说不清")
        await h.press(chen, saved[-1], text="跳过")
    rows = await h.core.db.run(lambda s: [(f.item_id, f.kind, f.note) for f in s.exec(select(SopFeedback).order_by(SopFeedback.id))])
    assert rows == [("verify_contact", "unclear", "电话是总机，核实到哪一级算完成？"), ("tag_source", "useless", ""),
                    ("verify_contact", "unclear", ""), ("verify_contact", "unclear", "")]
    assert len(h.chat_messages(manager)) == manager_before, "a flag never pings the manager"
    # A forged flag on an item that is not in the customer's stage is refused and stores nothing.
    from core.callbacks import SopFlag
    zhang = await customer_named(h, "张总")
    await h.press(li, await reopen(h, li, "张总"), data=SopFlag(zhang.id, "c", "payment_confirmed").encode(), validate=False)
    assert await h.core.db.run(lambda s: len(s.exec(select(SopFeedback)).all())) == 4
    # Friday 17:00: the weekly 复盘 arrives, with the flags, the note and the key to edit.
    await h.run_schedule(datetime(2026, 11, 27, 9, 0))
    reviews = [m for m in h.chat_messages(manager) if "每周复盘" in (m.get("text") or "")]
    assert len(reviews) == 1
    text = reviews[0]["text"]
    assert "线索获取·核实联系人与电话：3 条（说不清 3）" in text and "电话是总机，核实到哪一级算完成？" in text
    assert '[[stages]] id="lead" › [[stages.checklist]] id="verify_contact" › text' in text
    assert not [m for m in h.chat_messages(li) if "📋 每周复盘" in (m.get("text") or "")]
    # On demand for managers only.
    assert "每周复盘" in (await h.send(manager, "/review"))[-1]["text"]
    assert "仅限经理" in (await h.send(li, "/review"))[-1]["text"]
    assert h.tg.rejected() == []


# --- 5. a deployment started from an industry template ---------------------------------------------

@pytest.mark.parametrize("name", ["saas", "medical"])
async def test_a_template_runs_the_bot(tmp_path, name):
    from core import templates
    config = templates.init(name, tmp_path / "config.toml")
    h = Harness(tmp_path, config=config)
    await h.start()
    try:
        _, manager, (rep,) = await h.team(reps=1)
        card = await open_card(h, rep, await add_customer(h, rep, "刘总", "东方医疗科技有限公司", "13600136000"), "刘总")
        first = config.stages[0]
        assert first.name in card["text"] and first.checklist[0].text in card["text"]
        table = await h.send(manager, "/matrix")
        assert "竞品A（请改名）" in table[-1]["text"]
        confirm = await h.press(rep, await more(rep, card, h), text="丢单")
        ask = await h.press(rep, confirm[-1], text="确认丢单")
        assert [b["text"] for b in buttons(ask[-1])] == [r.label for r in config.lost_reasons]
        assert h.tg.rejected() == []
    finally:
        await h.stop()


# --- 6. a pilot's impact ------------------------------------------------------------------------------

async def test_pilot_switched_with_modules_is_reported_with_its_sample(bot):
    from services import users as us
    h = bot
    _, manager, (rep,) = await h.team(reps=1)
    await h.core.db.run(us.add_admin, 900, "Bo", "销售二部", h.config.team.timezone, h.clock.now())
    assert "没有试点" in (await h.send(manager, "/pilot"))[-1]["text"]
    menu = await h.send(manager, "/modules")
    await h.press(manager, menu[-1], text="pre_quote")       # this team pilots the SOP without pre_quote
    text = (await h.send(manager, "/pilot"))[-1]["text"]
    assert "模块 pre_quote 关闭（试点：销售一部；对照：销售二部" in text
    assert "方案报价：太早，无法判断（n=0/0，每组至少 8 个）" in text
    assert "仅限经理" in (await h.send(rep, "/pilot"))[-1]["text"]


async def test_english_rep_gets_english_reasons_plan_and_matrix(bot):
    h = bot
    admin = await h.make_admin()
    manager = await h.join(await h.invite(admin, "manager"), "Wang")
    rep = await h.join(await h.invite(manager), "Lee", language_code="en")
    await h.send(rep, "/new")
    for value in ("Mr Zhang", "East Precision Machinery Co", "13800138000"):
        await h.send(rep, value)
    created = (await h.send(rep, "Website form"))[-1]
    card = (await h.press(rep, created, text="Mr Zhang"))[-1]
    extra = await more(rep, card, h)  # the visit plan and SOP feedback sit behind "More" (two-row cards)
    assert "Visit plan" in [b["text"] for b in buttons(extra)][-3]
    plan = (await h.press(rep, extra, text="Visit plan"))[-1]
    assert "Visit plan · Mr Zhang" in plan["text"] and "Proposed time" in plan["text"]
    card = (await h.press(rep, plan, text="Back to the card"))[-1]
    confirm = await h.press(rep, await more(rep, card, h), text="Lost")
    ask = await h.press(rep, confirm[-1], text="Confirm lost")
    assert "Why was it lost?" in ask[-1]["text"]
    assert [b["text"] for b in buttons(ask[-1])][0] == "Price too high"
    assert "Competitor matrix" in (await h.send(rep, "/matrix"))[-1]["text"]
    assert h.tg.rejected() == []


async def test_business_chat_naming_a_competitor_is_recorded_once(bot):
    import asyncio

    async def call(value):
        return await value if asyncio.iscoroutine(value) else value
    h = bot
    _, _, (rep,) = await h.team(reps=1)
    await add_customer(h, rep, "张总", "华东精密机械有限公司", "13800138000")
    customer_user = h.user("张总")
    conn = await call(h.tg.business_connect(rep["id"]))
    await h.settle(conn["update_id"])
    await h.press(rep, h.chat_messages(rep)[-1], text="允许")
    conn_id = conn["business_connection"]["id"]
    for text in ("你们价格有点贵，小云便宜多了", "我再考虑一下", "报价单发我看看"):
        await h.settle((await call(h.tg.business_message(conn_id, customer_user, text)))["update_id"])
    mentions = await h.core.db.run(lambda s: [(m.competitor, m.source) for m in s.exec(select(CompetitorMention))])
    assert mentions == [("xiaoyun", "business")], "the chat is re-read on each message; the mention counts once"
    card = await reopen(h, rep, "张总")
    assert "⚔️ 竞品 小云销售助手 应对话术" in card["text"]
