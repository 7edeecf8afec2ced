"""Team boundaries through the real bot (issue 11): two teams on one deployment, tried as an outsider.

Each ``test_failure_N_*`` is one numbered failure of the issue; the scenario functions take the
harness so tests/e2e/test_e2e_team_pg.py runs the same ones on PostgreSQL.
"""
from __future__ import annotations

from sqlmodel import select

from services import users as users_svc
from storage.models import Activity, Customer, Invite, User
from storage.models_team import AuditEvent
from tests.e2e.test_e2e_navigation import add_customer, open_card


async def two_teams(h):
    """Team A (the default team: admin, 王经理, 销售1) and team B (华南团队: 赵经理, 销售B)."""
    admin, mgr_a, (rep_a,) = await h.team(reps=1)
    code = await manager_invite(h, admin, "华南团队")
    mgr_b = await h.join(code, "赵经理")
    rep_b = await h.join(await h.invite(mgr_b), "销售B")
    return admin, mgr_a, rep_a, mgr_b, rep_b


async def manager_invite(h, admin, team_name: str) -> str:
    """An admin's manager invite for a (new) team, made the way the bot's /invite makes it."""
    def make(session):
        team = users_svc.ensure_team(session, team_name, "Asia/Shanghai", h.clock.now())
        creator = users_svc.get_user(session, admin["id"])
        return users_svc.create_invite(session, creator, h.clock.now(), 72, "manager", team.id).code
    return await h.core.db.run(make)


async def member(h, tg_user) -> User:
    return await h.core.db.run(users_svc.get_user, tg_user["id"])


def texts(replies) -> str:
    return "\n".join(m.get("text") or "" for m in replies)


# --- 1. an invite of another team -----------------------------------------------------------------

async def test_failure_1_another_teams_invite_neither_raises_nor_moves(harness):
    h = harness
    admin, mgr_a, rep_a, mgr_b, rep_b = await two_teams(h)
    await add_customer(h, rep_b, "钱总", "南方电子有限公司", "13700137000")
    before_a, before_rep = await member(h, mgr_a), await member(h, rep_a)
    # A manager of team A holding team B's ordinary rep invite.
    code = await h.invite(mgr_b)
    refused = await h.send(mgr_a, f"/start {code}")
    assert "经理或管理员" in texts(refused) and "/team" in texts(refused)
    after = await member(h, mgr_a)
    assert (after.team_id, after.role) == (before_a.team_id, "manager")
    listing = await h.send(mgr_a, "/customers")
    assert "钱总" not in texts(listing)
    # A rep of team A holding team B's manager invite: no promotion, no move.
    code_m = await manager_invite(h, admin, "华南团队")
    refused = await h.send(rep_a, f"/start {code_m}")
    assert "经理或管理员" in texts(refused)
    after = await member(h, rep_a)
    assert (after.team_id, after.role) == (before_rep.team_id, "rep")
    # The invites were not used up by the refusals: the person they were meant for still joins.
    newcomer = await h.join(code, "新人")
    joined = await member(h, newcomer)
    assert (joined.team_id, joined.role) == ((await member(h, rep_b)).team_id, "rep")
    # Invites carry role and team; every refusal and redemption is on the audit trail.
    invites = await h.core.db.run(lambda s: list(s.exec(select(Invite).order_by(Invite.id))))
    assert {(i.role, i.team_id) for i in invites} >= {("manager", joined.team_id), ("rep", joined.team_id)}
    kinds = await h.core.db.run(lambda s: [e.kind for e in s.exec(select(AuditEvent))])
    assert kinds.count("invite_refused") == 2 and "invite_redeemed" in kinds and "invite_created" in kinds
    # Through the bot: an admin names the team an invite is for (a new name creates it); a manager
    # invites only into their own team.
    made = texts(await h.send(admin, "/invite rep 西北团队"))
    assert "西北团队" in made and "start=" in made and "新团队" in made
    assert "start=" not in texts(await h.send(mgr_a, "/invite rep 华南团队"))
    code_w = texts(await h.send(admin, "/invite rep 西北团队")).split("start=")[1].split()[0]
    west = await member(h, await h.join(code_w, "西北新人"))
    assert west.role == "rep" and west.team_id not in (after.team_id, joined.team_id)


# --- 2. a rep who changed team ----------------------------------------------------------------------

async def test_failure_2_rep_in_another_team_cannot_open_old_customers(harness):
    h = harness
    admin, mgr_a, rep_a, mgr_b, rep_b = await two_teams(h)
    await add_customer(h, rep_a, "张总", "华东精密机械有限公司", "13800138000")
    card = await open_card(h, rep_a, "张总")
    cid = await h.core.db.run(lambda s: s.exec(select(Customer.id)).one())
    team_b = (await member(h, rep_b)).team_id
    # The rep now belongs to team B (the state an invite of team B used to leave behind) while the
    # customer stayed in team A under their name.
    await h.core.db.run(lambda s: setattr(s.exec(select(User).where(User.tg_id == rep_a["id"])).one(), "team_id", team_b))
    for label in ("下一阶段", "记跟进"):
        replies = await h.press(rep_a, card, text=label)
        assert "华东" not in texts(replies) and "13800138000" not in texts(replies)
    assert "张总" not in texts(await h.send(rep_a, "/customers"))
    for text in ("/log 张总 回访", "/stage 张总"):
        replies = await h.send(rep_a, text)
        assert "没有找到" in texts(replies) and "华东" not in texts(replies), text
    for data in (f"c:{cid}", f"ca:{cid}:lost:y", f"ca:{cid}:at:2h"):
        replies = await h.press(rep_a, card, data=data, validate=False)
        assert "华东" not in texts(replies), data
    assert "找不到这个客户" in (h.tg.callback_answers()[-1].get("text") or "")
    cust = await h.core.db.run(lambda s: s.get(Customer, cid))
    assert cust.stage == "lead" and cust.status == "open"


# --- 3. /查重 across teams --------------------------------------------------------------------------

async def test_failure_3_cross_team_lookup_is_exact_only_and_leaks_nothing(harness):
    h = harness
    admin, mgr_a, rep_a, mgr_b, rep_b = await two_teams(h)
    await add_customer(h, rep_a, "张总", "华东精密机械集团有限公司", "13800138000")
    await h.send(rep_a, "张总 已报价5万 下周二回访")
    # A fragment of team A's company: nothing about it.
    fragment = await h.send(rep_b, "/查重 精密机械")
    assert "华东" not in texts(fragment) and "张总" not in texts(fragment) and "销售1" not in texts(fragment)
    # An exact phone, an exact company, a subsidiary of the group: held, by whom, until when — no more.
    for query in ("13800138000", "华东精密机械集团有限公司", "华东精密机械(苏州)分公司"):
        held = texts(await h.send(rep_b, f"/查重 {query}"))
        assert "销售一部" in held and "销售1" in held and "保护期至" in held, (query, held)
        assert "张总" not in held and "13800138000" not in held.replace(query, "") and "50,000" not in held, held
    # Inside one's own team the lookup stays as it was (fragments included).
    own = texts(await h.send(mgr_a, "/查重 精密机械"))
    assert "张总" in own
    # Recorded, and the manager of the held customer's team sees who looked.
    events = await h.core.db.run(lambda s: list(s.exec(select(AuditEvent).where(AuditEvent.kind == "lookup"))))
    rep_b_id = (await member(h, rep_b)).id
    assert len([e for e in events if e.actor_id == rep_b_id]) == 4
    # Rate-limited per person.
    limit = h.config.duplicates.lookups_per_hour
    for _ in range(limit - 4):
        await h.send(rep_b, "/查重 13800138000")
    limited = texts(await h.send(rep_b, "/查重 13800138000"))
    assert "太频繁" in limited and "销售1" not in limited
    # Someone else is not limited by rep B's lookups.
    assert "销售1" in texts(await h.send(mgr_b, "/查重 13800138000"))


# --- 4. deactivation -------------------------------------------------------------------------------

async def test_failure_4_deactivated_rep_loses_access_at_once(harness):
    from services import team as team_svc
    h = harness
    admin, mgr_a, rep_a, mgr_b, rep_b = await two_teams(h)
    await add_customer(h, rep_a, "张总", "华东精密机械有限公司", "13800138000")
    card = await open_card(h, rep_a, "张总")
    manager = await member(h, mgr_a)
    rep = await member(h, rep_a)
    await h.core.db.run(team_svc.deactivate, h.core, manager, rep.id, team_svc.Handover(mode="pool"))
    for text in ("/customers", "/today", "张总 已报价5万", "/查重 华东精密机械有限公司", "/start"):
        replies = await h.send(rep_a, text)
        assert "已停用" in texts(replies) and "华东" not in texts(replies), text
    pressed = await h.press(rep_a, card, text="下一阶段")
    assert "华东" not in texts(pressed) and "已停用" in (h.tg.callback_answers()[-1].get("text") or "")
    # Writing to the bot did not re-activate the account, nor does a fresh invite.
    refused = await h.send(rep_a, f"/start {await h.invite(mgr_a)}")
    assert "已停用" in texts(refused)
    rep = await member(h, rep_a)
    assert rep.deactivated_at is not None and not rep.active


# --- 5. visibility after the row lock --------------------------------------------------------------

async def test_failure_5_followup_after_handover_is_refused(harness):
    """Sequential case (both databases): a rep's open prompt after the customer went to a colleague."""
    from services import team as team_svc
    h = harness
    _, mgr_a, (li, chen) = await h.team(reps=2)
    await add_customer(h, li, "张总", "华东精密机械有限公司", "13800138000")
    listing = await h.send(li, "/customers")
    card = (await h.press(li, listing[-1], text="张总"))[-1]
    await h.press(li, card, text="记跟进")  # the bot now waits for li's follow-up text
    manager, chen_row, li_row = await member(h, mgr_a), await member(h, chen), await member(h, li)
    cid = await h.core.db.run(lambda s: s.exec(select(Customer.id)).one())
    await h.core.db.run(team_svc.hand_over_customers, h.core, manager, li_row.id, [cid], chen_row.id)
    replies = await h.send(li, "客户说下周二再谈")
    assert "找不到这个客户" in texts(replies)
    logged = await h.core.db.run(lambda s: list(s.exec(select(Activity).where(Activity.kind == "followup"))))
    assert logged == []
    # The new owner got one message listing what they received.
    await h.drain()
    notices = [m for m in h.chat_messages(chen) if "张总" in (m.get("text") or "") and "交接" in (m.get("text") or "")]
    assert len(notices) == 1


# --- the audit trail --------------------------------------------------------------------------------

async def test_audit_trail_in_the_bot(harness):
    h = harness
    admin, mgr_a, rep_a, mgr_b, rep_b = await two_teams(h)
    await add_customer(h, rep_a, "张总", "华东精密机械集团有限公司", "13800138000")
    await h.send(rep_b, "/查重 13800138000")
    # Team A's manager sees who from another team looked up their customer (and what).
    trail_a = texts(await h.send(mgr_a, "/audit"))
    assert "查重" in trail_a and "销售B" in trail_a and "13800138000" in trail_a
    # Team B's manager sees their own member's lookup, but not team A's own invites.
    trail_b = texts(await h.send(mgr_b, "/audit"))
    assert "销售B" in trail_b and "销售1" not in trail_b
    # The admin sees every team and exports the trail as a CSV file (the export is recorded).
    trail = (await h.send(admin, "/audit"))[-1]
    assert "创建邀请" in trail["text"] and "通过邀请加入" in trail["text"]
    exported = await h.press(admin, trail, text="导出")
    document = [m for m in exported if m.get("kind") == "document"]
    assert document, exported
    content = h.tg.file_bytes(document[-1]).decode("utf-8-sig")
    assert content.startswith("id,at_utc,kind") and "lookup" in content and "invite_redeemed" in content
    kinds = await h.core.db.run(lambda s: [e.kind for e in s.exec(select(AuditEvent))])
    assert "export" in kinds
    assert "仅限经理" in texts(await h.send(rep_a, "/audit"))


async def test_new_customer_held_by_another_team_tells_only_what_the_lookup_tells(harness):
    h = harness
    admin, mgr_a, rep_a, mgr_b, rep_b = await two_teams(h)
    await add_customer(h, rep_a, "张总", "华东精密机械集团有限公司", "13800138000")
    # The same phone: held, by which team and owner, until when; not the name or the company record.
    same = texts(await add_customer(h, rep_b, "李经理", "别的公司", "13800138000"))
    assert "销售一部" in same and "销售1" in same and "张总" not in same and "华东" not in same
    # A near-miss of the company name (fuzzy): only that another team may hold it.
    near = texts(await add_customer(h, rep_b, "赵总", "华东精密机械设备有限公司", "13700000001"))
    assert "其他团队" in near and "销售1" not in near and "张总" not in near
    assert await h.core.db.run(lambda s: len(list(s.exec(select(Customer))))) == 1


async def test_english_members_get_english_refusals_and_panels(harness):
    h = harness
    admin = await h.make_admin()
    manager = await h.join(await h.invite(admin, "manager"), "Mary", language_code="en")
    rep = await h.join(await h.invite(manager), "Tom", language_code="en")
    other = await h.join(await h.invite(manager), "Ann", language_code="en")
    refused = texts(await h.send(rep, f"/start {await h.invite(manager)}"))
    assert "already a member" in refused
    roster = (await h.send(manager, "/team"))[-1]
    assert "Tom" in roster["text"] and "active" in roster["text"]
    panel = (await h.press(manager, roster, text="Tom"))[-1]
    choose = (await h.press(manager, panel, text="Deactivate"))[-1]
    confirm = (await h.press(manager, choose, text="To Ann"))[-1]
    done = (await h.press(manager, confirm, text="Confirm"))[-1]
    assert "deactivated" in done["text"]
    assert "deactivated" in texts(await h.send(rep, "/today"))
    assert (await member(h, other)).deactivated_at is None
