"""/team and offboarding (离职继承) end to end through the real bot (issue 11).

Scenario functions take the harness; test_e2e_team_pg.py runs them again on PostgreSQL.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from storage.models import Activity, Customer, PointsEntry, Task
from storage.models_team import AuditEvent
from tests.e2e.test_e2e_team import add_customer, member, texts, two_teams


async def open_member(h, manager, name):
    listing = (await h.send(manager, "/team"))[-1]
    return (await h.press(manager, listing, text=name))[-1]


async def offboard(h, manager, name, choice):
    """/team → member → 停用并交接 → ``choice`` → 确认; returns the final message."""
    panel = await open_member(h, manager, name)
    choose = (await h.press(manager, panel, text="停用并交接"))[-1]
    confirm = (await h.press(manager, choose, text=choice))[-1]
    assert "确认停用" in confirm["text"], confirm["text"]
    return (await h.press(manager, confirm, text="确认"))[-1]


async def scenario_offboard_to_one_colleague(h):
    _, mgr, (li, chen) = await h.team(reps=2)
    await add_customer(h, li, "张总", "华东精密机械有限公司", "13800138000")
    await add_customer(h, li, "王总", "南方电子有限公司", "13900139000")
    await h.send(li, "张总 已报价5万 下周二回访")
    # The update moves 张总 towards 方案报价, whose gate asks for fields first: save the rest now.
    preview = [m for m in h.chat_messages(li) if "保存" in str(m.get("reply_markup"))][-1]
    await h.press(li, preview, text="保存")
    listing = await h.send(li, "/customers")
    old_card = (await h.press(li, listing[-1], text="张总"))[-1]
    li_row, chen_row = await member(h, li), await member(h, chen)
    li_points = await h.core.db.run(lambda s: sum(p.points for p in s.exec(select(PointsEntry).where(PointsEntry.user_id == li_row.id))))
    assert li_points > 0
    # The member list shows role, status, customers held and last activity.
    roster = (await h.send(mgr, "/team"))[-1]["text"]
    assert "销售1" in roster and "客户 2" in roster and "在职" in roster
    h.clock.advance(timedelta(days=3))
    done = await offboard(h, mgr, "销售1", "交给 销售2")
    assert "已停用" in done["text"] and "销售2 2 个客户" in done["text"]
    now = h.clock.now()
    owners = await h.core.db.run(lambda s: {c.name: (c.owner_id, c.previous_owner_id, c.protected_until) for c in s.exec(select(Customer))})
    protect = timedelta(days=h.config.pool.protect_days)
    assert owners == {"张总": (chen_row.id, li_row.id, now + protect), "王总": (chen_row.id, li_row.id, now + protect)}
    tasks = await h.core.db.run(lambda s: [(t.user_id, t.status) for t in s.exec(select(Task))])
    assert tasks and all(t == (chen_row.id, "open") for t in tasks)
    # Points and history stay attributed to the person who earned and wrote them.
    assert li_points == await h.core.db.run(lambda s: sum(p.points for p in s.exec(select(PointsEntry).where(PointsEntry.user_id == li_row.id))))
    assert await h.core.db.run(lambda s: len(list(s.exec(select(Activity).where(Activity.user_id == li_row.id, Activity.kind == "followup"))))) == 1
    # The new owner gets one message listing what they received.
    await h.drain()
    received = [m for m in h.chat_messages(chen) if "客户交接" in (m.get("text") or "")]
    assert len(received) == 1 and "张总" in received[0]["text"] and "王总" in received[0]["text"]
    chen_list = texts(await h.send(chen, "/customers"))
    assert "张总" in chen_list and "王总" in chen_list
    # The leaver presses a button on an old card: a polite refusal, nothing changes, nothing shown.
    for label in ("下一阶段", "记跟进"):
        pressed = await h.press(li, old_card, text=label)
        assert "华东" not in texts(pressed)
        assert "已停用" in (h.tg.callback_answers()[-1].get("text") or "")
    assert "已停用" in texts(await h.send(li, "/today"))
    kinds = await h.core.db.run(lambda s: sorted(e.kind for e in s.exec(select(AuditEvent).where(AuditEvent.kind.in_(("deactivated", "handover"))))))
    assert kinds == ["deactivated", "handover"]
    # The next morning's digest says who left and what moved.
    await h.run_schedule(datetime(2026, 11, 30, 0, 15))
    digest = [m for m in h.chat_messages(mgr) if "离职" in (m.get("text") or m.get("caption") or "")]
    assert digest and "销售1 离职，2 个客户已交接（销售2 2）" in (digest[-1].get("text") or "")
    return mgr, li, chen


async def test_offboard_to_one_colleague(harness):
    await scenario_offboard_to_one_colleague(harness)


async def scenario_split_and_pool(h):
    _, mgr, (a, b, c) = await h.team(reps=3)
    for i, (name, phone) in enumerate((("甲总", "13800000001"), ("乙总", "13800000002"), ("丙总", "13800000003"), ("丁总", "13800000004"))):
        await add_customer(h, a, name, f"测试{name}有限公司", phone)
    await offboard(h, mgr, "销售1", "平均分给全组")
    b_row, c_row = await member(h, b), await member(h, c)
    owners = await h.core.db.run(lambda s: sorted(x.owner_id for x in s.exec(select(Customer))))
    assert owners.count(b_row.id) == 2 and owners.count(c_row.id) == 2
    # Pool: protection restarts by the pool's rules (unprotected, released now); a colleague claims it.
    await add_customer(h, b, "戊总", "测试戊总有限公司", "13800000005")
    await offboard(h, mgr, "销售2", "放入公海")
    pooled = await h.core.db.run(lambda s: list(s.exec(select(Customer).where(Customer.owner_id == None))))  # noqa: E711
    assert len(pooled) == 3 and all(x.protected_until is None and x.released_at == h.clock.now() for x in pooled)
    pool = (await h.send(c, "/pool"))[-1]
    claimed = await h.press(c, pool, text="戊总")
    assert "戊总" in texts(claimed)
    assert (await h.core.db.run(lambda s: s.exec(select(Customer).where(Customer.name == "戊总")).one())).owner_id == c_row.id


async def test_offboard_split_and_pool(harness):
    await scenario_split_and_pool(harness)


async def scenario_reactivate_and_boundaries(h):
    admin, mgr_a, rep_a, mgr_b, rep_b = await two_teams(h)
    await add_customer(h, rep_a, "张总", "华东精密机械有限公司", "13800138000")
    # A rep cannot use /team; a manager of team B cannot touch team A's rep with a forged button.
    assert "仅限经理" in texts(await h.send(rep_a, "/team"))
    rep_a_row = await member(h, rep_a)
    for data in (f"tmo:{rep_a_row.id}:p:0:1", f"tmt:{rep_a_row.id}:1:keep:0:1", f"tmm:{rep_a_row.id}", f"tmr:{rep_a_row.id}:manager"):
        await h.press(mgr_b, {"message_id": 1, "chat_id": mgr_b["id"]}, data=data, validate=False)
    still = await member(h, rep_a)
    assert still.deactivated_at is None and still.team_id == rep_a_row.team_id and still.role == "rep"
    roster_b = texts(await h.send(mgr_b, "/team"))
    assert "销售1" not in roster_b
    # Team A's manager offboards the rep to the pool; an admin reactivates: customers stay in the pool.
    await h.send(mgr_a, "/team")
    await offboard(h, mgr_a, "销售1", "放入公海")
    assert "已停用" in texts(await h.send(rep_a, "/customers"))
    pick = (await h.send(admin, "/team"))[-1]
    listing = (await h.press(admin, pick, text="销售一部"))[-1]
    panel = (await h.press(admin, listing, text="销售1"))[-1]
    restored = (await h.press(admin, panel, text="恢复访问"))[-1]
    assert "不会自动退回" in restored["text"]
    mine = texts(await h.send(rep_a, "/customers"))
    assert "已停用" not in mine and "张总" not in mine
    assert (await h.core.db.run(lambda s: s.exec(select(Customer)).one())).owner_id is None
    # The admin moves the rep to team B keeping their customers: they go along into team B.
    await add_customer(h, rep_a, "李总", "西部重工有限公司", "13600136000")
    panel = (await h.press(admin, (await h.press(admin, (await h.send(admin, "/team"))[-1], text="销售一部"))[-1], text="销售1"))[-1]
    teams = (await h.press(admin, panel, text="调到其他团队"))[-1]
    choose = (await h.press(admin, teams, text="华南团队"))[-1]
    confirm = (await h.press(admin, choose, text="随人带到新团队"))[-1]
    done = (await h.press(admin, confirm, text="确认"))[-1]
    assert "已调到" in done["text"]
    moved = await member(h, rep_a)
    cust = await h.core.db.run(lambda s: s.exec(select(Customer).where(Customer.name == "李总")).one())
    assert moved.team_id == (await member(h, rep_b)).team_id == cust.team_id and cust.owner_id == moved.id
    assert "李总" in texts(await h.send(mgr_b, "/customers")) and "李总" in texts(await h.send(rep_a, "/customers"))
    assert "李总" not in texts(await h.send(mgr_a, "/customers"))
    pooled = await h.core.db.run(lambda s: s.exec(select(Customer).where(Customer.name == "张总")).one())
    assert pooled.team_id == rep_a_row.team_id and pooled.owner_id is None  # the pool stays with team A
    kinds = await h.core.db.run(lambda s: [e.kind for e in s.exec(select(AuditEvent).order_by(AuditEvent.id))])
    assert {"deactivated", "reactivated", "team_changed"} <= set(kinds)


async def test_reactivate_move_and_boundaries(harness):
    await scenario_reactivate_and_boundaries(harness)
