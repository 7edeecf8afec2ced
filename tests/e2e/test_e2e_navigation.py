"""Sales navigation end to end: the 08:30 brief, free-text updates, duplicates, /查重, the pool."""
from datetime import datetime, timedelta

from sqlmodel import select

from services import customers as cs
from storage.models import Customer, Outbox, Task
from tests.harness import button_data, buttons


async def add_customer(h, rep, name, company, phone, source="官网表单"):
    await h.send(rep, "/new")
    for value in (name, company, phone):
        await h.send(rep, value)
    return await h.send(rep, source)


async def open_card(h, rep, name):
    """The rep's customer card, opened from /customers."""
    listing = await h.send(rep, "/customers")
    return (await h.press(rep, listing[-1], text=name))[-1]


async def test_brief_arrives_at_0830_team_time_once(harness):
    h = harness
    _, manager, (rep,) = await h.team(reps=1)
    await add_customer(h, rep, "张总", "华东精密机械有限公司", "13800138000")
    before = len(h.chat_messages(rep))
    # 08:29 Shanghai (00:29 UTC): nothing yet.
    ran = await h.run_schedule(datetime(2026, 11, 27, 0, 29))  # yesterday's slot is long past: skipped
    assert not [k for k, _, status in ran if k == "brief" and status == "done"]
    assert len(h.chat_messages(rep)) == before
    # 08:30 Shanghai: exactly one brief; running the scheduler again sends nothing more.
    done = await h.run_schedule(datetime(2026, 11, 27, 0, 30))
    assert ("brief", "1:2026-11-27T08:30", "done") in done
    await h.run_schedule(datetime(2026, 11, 27, 0, 35))
    new = h.chat_messages(rep)[before:]
    assert len(new) == 1 and "今日任务" in new[0]["text"] and "张总" in new[0]["text"]
    assert not [m for m in h.chat_messages(manager) if "按优先级排序" in (m.get("text") or "")], "no empty brief"
    card = await h.press(rep, new[0], text="张总")
    assert card[-1]["message_id"] == new[0]["message_id"] and "推荐话术" in card[-1]["text"]


async def test_weekend_brief_is_not_sent(harness):
    h = harness
    _, _, (rep,) = await h.team(reps=1)
    await add_customer(h, rep, "张总", "华东精密机械有限公司", "13800138000")
    before = len(h.chat_messages(rep))
    await h.run_schedule(datetime(2026, 11, 28, 0, 31))  # Saturday 08:31
    assert len(h.chat_messages(rep)) == before


async def test_free_text_update_confirmed_and_ambiguous(harness):
    h = harness
    _, _, (rep,) = await h.team(reps=1)
    await add_customer(h, rep, "张总", "华东精密机械有限公司", "13800138000")
    preview = await h.send(rep, "张总 已报价5万 下周二回访")
    text = preview[-1]["text"]
    assert "50,000" in text and "下周二 10:00" in text and "方案报价" in text
    # The stage gate is checked before the preview: the move needs fields, so the rep saves the rest.
    saved = await h.press(rep, preview[-1], text="保存")
    assert "已保存" in saved[-1]["text"]
    cust = await h.core.db.run(lambda s: s.exec(select(Customer)).one())
    assert cust.amount == 50000 and cust.next_followup_at == datetime(2026, 12, 1, 2, 0)
    tasks = await h.core.db.run(lambda s: s.exec(select(Task)).all())
    assert [t.due_at for t in tasks] == [datetime(2026, 12, 1, 2, 0)]
    # Two customers called 王总: the bot asks which one, then previews.
    await add_customer(h, rep, "王总", "智学教育科技", "13900139000")
    await add_customer(h, rep, "王总", "蓝海物流有限公司", "13700137000")
    ask = await h.send(rep, "王总 明天下午3点 电话回访")
    assert "请选择" in ask[-1]["text"] and len(buttons(ask[-1])) == 2
    chosen = await h.press(rep, ask[-1], text="蓝海")
    assert "要这样记录吗" in chosen[-1]["text"]
    cancelled = await h.press(rep, chosen[-1], text="取消")
    assert "已取消" in cancelled[-1]["text"]
    # A junk date is refused with a reason.
    junk = await h.send(rep, "张总 2099年1月1日 回访")
    if buttons(junk[-1]):
        junk = await h.press(rep, junk[-1], text="确认")
    assert "太远" in junk[-1]["text"]
    assert h.tg.rejected() == []


async def test_duplicates_by_phone_and_subsidiary_and_owner_lookup(harness):
    h = harness
    _, manager, (li, chen) = await h.team(reps=2)
    await add_customer(h, li, "张总", "华东精密机械集团有限公司", "138-0013-8000")
    dup_phone = await add_customer(h, chen, "张经理", "另一家公司", "+86 138 0013 8000")
    assert "已存在" in dup_phone[-1]["text"] and "销售1" in dup_phone[-1]["text"] and "电话号码相同" in dup_phone[-1]["text"]
    dup_group = await add_customer(h, chen, "孙经理", "华东精密机械(苏州)分公司", "13700137000")
    assert "已存在" in dup_group[-1]["text"] and "同一集团" in dup_group[-1]["text"]
    count = await h.core.db.run(lambda s: len(s.exec(select(Customer)).all()))
    assert count == 1
    await h.drain()
    notices = [m["text"] for m in h.chat_messages(manager) if "重复客户" in (m.get("text") or "")]
    assert len(notices) == 1, "one notice per customer, rep and day: no spam for repeated attempts"
    # /查重 before anyone starts work: owner and protection, group matches included, free names.
    owned = await h.send(chen, "/查重 华东精密机械子公司")
    assert "销售1" in owned[-1]["text"] and "保护期至" in owned[-1]["text"]
    assert "13800138000" not in owned[-1]["text"]
    by_phone = await h.send(chen, "/owner 13800138000")
    assert "销售1" in by_phone[-1]["text"]
    free = await h.send(chen, "/查重 完全不同的新公司")
    assert "未被任何人跟进" in free[-1]["text"]


async def test_pool_warning_recycling_and_claim(harness):
    h = harness
    _, _, (li, chen) = await h.team(reps=2)
    await add_customer(h, li, "张总", "华东精密机械有限公司", "13800138000")
    start = h.clock.now()
    # Two days before the 10-day protection ends, the owner is warned at the nightly run.
    await h.run_schedule(start + timedelta(days=8, hours=17))  # 01:00 Shanghai, day 9
    warnings = [m for m in h.chat_messages(li) if "回到公海" in (m.get("text") or "")]
    assert len(warnings) == 1 and "张总" in warnings[0]["text"]
    await h.run_schedule(start + timedelta(days=10, hours=17))
    released = [m for m in h.chat_messages(li) if "已回到公海" in (m.get("text") or "")]
    assert len(released) == 1
    # The former owner waits a cooldown; another rep claims it.
    pool = await h.send(li, "/pool")
    await h.press(li, pool[-1], text="认领")  # refused: the cooldown (the alert is checked below)
    answers = [r for r in h.tg.requests if r["method"].lower() == "answercallbackquery"]
    assert "重新认领" in (answers[-1]["params"].get("text") or "")
    pool2 = await h.send(chen, "/pool")
    claimed = await h.press(chen, pool2[-1], text="认领")
    assert "已认领" in claimed[-1]["text"]
    owner = await h.core.db.run(lambda s: s.exec(select(Customer)).one().owner_id)
    rep_ids = await h.core.db.run(lambda s: [u.id for u in s.exec(select(cs.User).where(cs.User.tg_id == chen["id"]))])
    assert owner == rep_ids[0]


async def test_reminder_fires_at_set_time_and_quiet_hours_fold(harness):
    h = harness
    _, _, (rep,) = await h.team(reps=1)
    await h.run_schedule(h.clock.now())  # this morning's jobs ran (nothing to brief yet)
    created = await add_customer(h, rep, "张总", "华东精密机械有限公司", "13800138000")
    card = await h.press(rep, created[-1], text="张总")
    more = await h.press(rep, card[-1], text="更多")  # ⏰ later is behind 「更多」 (two primary rows)
    later = await h.press(rep, more[-1], text="稍后提醒")
    set_msg = await h.press(rep, later[-1], text="2小时后")
    assert "提醒您" in set_msg[-1]["text"]
    before = len(h.chat_messages(rep))
    await h.run_schedule(h.clock.now() + timedelta(hours=1))
    assert len(h.chat_messages(rep)) == before
    await h.run_schedule(h.clock.now() + timedelta(hours=1, minutes=1))
    fired = h.chat_messages(rep)[before:]
    assert len(fired) == 1 and "提醒" in fired[0]["text"] and "张总" in fired[0]["text"]
    # A reminder due at 22:30 (quiet hours) is folded into the next morning brief.
    await h.core.db.run(lambda s: s.add(Task(customer_id=1, user_id=3, kind="reminder", text="晚间",
                                             due_at=datetime(2026, 11, 26, 14, 30), created_at=h.clock.now())))
    before = len(h.chat_messages(rep))
    await h.run_schedule(datetime(2026, 11, 26, 14, 31))
    assert len(h.chat_messages(rep)) == before
    await h.run_schedule(datetime(2026, 11, 27, 0, 31))
    brief = h.chat_messages(rep)[before:]
    assert len(brief) == 1 and "合并" in brief[0]["text"]


async def test_rep_cannot_reach_another_reps_customer_by_any_command(harness):
    h = harness
    _, _, (li, chen) = await h.team(reps=2)
    await add_customer(h, li, "张总", "华东精密机械有限公司", "13800138000")
    cid = await h.core.db.run(lambda s: s.exec(select(Customer.id)).one())
    for text in ("/log 张总 偷看一下", "/stage 张总", "张总 已报价5万", "/customers", "/today"):
        replies = await h.send(chen, text)
        assert all("华东" not in (m.get("text") or "") and "13800138000" not in (m.get("text") or "") for m in replies), text
    fake_msg = {"message_id": 1, "chat_id": chen["id"]}
    for data in (f"c:{cid}", f"ca:{cid}:done:verify_contact", f"ca:{cid}:next:", f"ca:{cid}:fill:phone",
                 f"ca:{cid}:at:2h", f"cl:{cid}"):
        replies = await h.press(chen, fake_msg, data=data, validate=False)
        assert all("华东" not in (m.get("text") or "") for m in replies), data
    cust = await h.core.db.run(lambda s: s.get(Customer, cid))
    assert cust.stage == "lead" and cust.owner_id is not None
    tasks = await h.core.db.run(lambda s: s.exec(select(Task)).all())
    assert tasks == []


async def test_manager_decides_a_duplicate_and_pilots_modules(harness):
    h = harness
    _, manager, (li, chen) = await h.team(reps=2)
    await add_customer(h, li, "张总", "华东精密机械集团有限公司", "13800138000")
    await add_customer(h, chen, "张总", "华东精密机械子公司", "13900139000")
    await h.drain()
    notice = [m for m in h.chat_messages(manager) if "重复客户" in (m.get("text") or "")][-1]
    decided = await h.press(manager, notice, text="转给")
    assert "由 销售2 负责" in decided[-1]["text"]
    listing = await h.send(chen, "/customers")
    assert "张总" in listing[-1]["text"]
    # A rep cannot decide.
    forged = await h.press(li, {"message_id": 1, "chat_id": li["id"]}, data=notice["reply_markup"]["inline_keyboard"][0][0]["callback_data"], validate=False)
    assert all("负责" not in (m.get("text") or "") for m in forged)
    # Piloting: switch the first-visit SOP off for this team; its items leave the cards.
    panel = await h.send(manager, "/modules")
    assert "first_visit" in str(panel[-1]["reply_markup"])
    toggled = await h.press(manager, panel[-1], text="first_visit")
    assert "⬜ first_visit" in str(toggled[-1]["reply_markup"])
    cid = await h.core.db.run(lambda s: s.exec(select(Customer.id)).one())
    await h.core.db.run(lambda s: setattr(s.get(Customer, cid), "stage", "contact"))
    card = await h.press(chen, {"message_id": listing[-1]["message_id"], "chat_id": chen["id"]}, data=f"c:{cid}", validate=False)
    assert "约定需求沟通时间" in card[-1]["text"] and "发送公司介绍与案例" not in card[-1]["text"]
