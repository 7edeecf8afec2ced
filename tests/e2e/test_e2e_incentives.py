"""Incentives end to end, through the local Bot API server with the clock under the test's control:
a scheduled leaderboard post to a bound group (image, then after a supergroup migration), approvals,
a revoked award, a redemption, /me with the radar chart, the manager digest with its funnel chart
and bottleneck, and a spot-check round."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlmodel import select

from services import groups as groups_svc
from services import points as points_svc
from services import users as users_svc
from storage.models import Customer, PointsEntry, User
from tests.harness import buttons
from tests.incentive_helpers import fill, new_customer, to_stage

PNG = b"\x89PNG\r\n\x1a\n"
THU_1800 = datetime(2026, 11, 26, 10, 0)   # Thursday 18:00 in Shanghai (naive UTC)
FRI_0815 = datetime(2026, 11, 27, 0, 15)   # Friday 08:15
FRI_0930 = datetime(2026, 11, 27, 1, 30)   # Friday 09:30


async def db_user(h, tg: dict) -> User:
    return await h.core.db.run(users_svc.get_user, tg["id"])


async def big_deal_in_negotiation(h) -> tuple[dict, dict, User]:
    """A team of one rep whose customer 大单客户 is in negotiation with a contract number: the next
    `/stage 大单客户` signs it, and the high-value award waits for the manager's approval."""
    _, manager, (rep,) = await h.team(reps=1)
    user = await db_user(h, rep)
    c = new_customer(h.core, user, 1, name="大单客户")
    to_stage(h.core, user, c.id, "negotiation")
    fill(h.core, user, c.id, contract_no="HT-2026-001")
    return manager, rep, user


async def give_points(h, user: User, points: int, at: datetime | None = None) -> None:
    def add(session):
        session.add(PointsEntry(user_id=user.id, team_id=user.team_id, action="followup_logged", points=points,
                                status="awarded", at=at or h.clock.now()))
    await h.core.db.run(add)


def photos(h, chat_id: int) -> list[dict]:
    return [m for m in h.tg.sent(chat_id) if m["kind"] == "photo" or (m["message"] or {}).get("photo")]


async def test_scheduled_leaderboard_in_a_bound_group_with_image_and_migration(harness):
    h = harness
    # A ranked board for three reps (a team below min_team_ranked shows its total: test_e2e_firstweek).
    board = h.core.config.leaderboard.model_copy(update={"min_team_ranked": 3})
    h.core.config = h.core.config.model_copy(update={"leaderboard": board})
    _, manager, reps = await h.team(reps=3)
    group = h.tg.add_group("销售一部群", member_ids=[manager["id"]] + [r["id"] for r in reps])
    bound = await h.send(manager, "/bind", chat_id=group["id"])
    assert "已绑定" in bound[-1]["text"]
    # A rep cannot bind.
    denied = await h.send(reps[0], "/bind", chat_id=group["id"])
    assert "仅限经理" in denied[-1]["text"]
    users = [await db_user(h, r) for r in reps]
    c = new_customer(h.core, users[0], 1, name="机密客户张总", phone="13912345678")
    await give_points(h, users[0], 40)
    await give_points(h, users[1], 25)
    await give_points(h, users[2], 5)
    await h.run_schedule(THU_1800)
    posts = photos(h, group["id"])
    assert len(posts) == 1
    caption = posts[0]["caption"]
    assert "日榜" in caption and "销售1" in caption and "销售2" in caption
    assert "销售3" not in caption  # the bottom of the list is never posted
    assert c.name not in caption and "13912345678" not in caption
    image = h.tg.file_bytes(posts[0])
    assert image.startswith(PNG) and len(image) > 10_000
    # Every rep got their own rank privately.
    for rep, rank in zip(reps, (1, 2, 3)):
        private = [m for m in h.tg.sent(rep["id"]) if "日榜" in (m["text"] or "")]
        assert private and f"{rank}/3" in private[-1]["text"]
    # The group becomes a supergroup: the next board goes to the new id.
    new_id = h.tg.migrate_group(group["id"])
    await h.tg.wait_idle()
    await give_points(h, users[2], 60, at=THU_1800 + timedelta(hours=1))
    await h.run_schedule(THU_1800 + timedelta(days=1))
    moved = photos(h, new_id)
    assert len(moved) >= 1 and "销售3" in moved[-1]["caption"] and "↑" in moved[-1]["caption"]
    assert len(photos(h, group["id"])) == 1
    # /board on demand in the group shows the same public view.
    on_demand = await h.send(reps[0], "/board", chat_id=new_id)
    assert on_demand and on_demand[-1]["caption"] and "销售3" in on_demand[-1]["caption"]
    # Removed from the group: the binding goes, nothing more is posted there.
    h.tg.remove_bot_from_group(new_id, manager["id"])
    await h.tg.wait_idle()
    await asyncio.sleep(0.2)
    assert await h.core.db.run(groups_svc.get_binding, new_id) is None
    assert h.tg.rejected() == []


async def test_approval_flow_for_a_high_value_award(harness):
    h = harness
    manager, rep, user = await big_deal_in_negotiation(h)
    before = await h.core.db.run(points_svc.balance, user.id)
    moved = await h.send(rep, "/stage 大单客户")
    assert "签约" in moved[-1]["text"]
    await h.drain()
    request = [m for m in h.tg.sent(manager["id"]) if "待审批积分" in (m["text"] or "")]
    assert request and "+50" in request[-1]["text"]
    # The rep's points did not move yet.
    assert await h.core.db.run(points_svc.balance, user.id) == before
    decided = await h.press(manager, request[-1], text="批准")
    assert "已批准" in decided[-1]["text"] and not buttons(decided[-1])
    await h.drain()
    assert await h.core.db.run(points_svc.balance, user.id) == before + 50
    assert any("经理已批准" in (m["text"] or "") for m in h.tg.sent(rep["id"]))
    # A repeated (or forged) tap changes nothing; a rep's tap is refused.
    entry = await h.core.db.run(lambda s: s.exec(select(PointsEntry).where(PointsEntry.action == "contract_signed")).one())
    await h.press(manager, request[-1], data=f"ap:points:{entry.id}:0", validate=False)
    await h.press(rep, {"message_id": 1, "chat_id": rep["id"]}, data=f"ap:points:{entry.id}:0", validate=False)
    assert await h.core.db.run(points_svc.balance, user.id) == before + 50


async def test_burst_flag_and_revoked_award(harness):
    h = harness
    _, manager, (rep,) = await h.team(reps=1)
    h.config.anticheat.burst_max_actions = 3  # a small burst is enough for the test
    user = await db_user(h, rep)
    for n in (1, 2, 3):
        new_customer(h.core, user, n)
    for n in (1, 2, 3):
        await h.send(rep, f"/log 客户{n} 电话沟通第{n}次，客户关注价格")
    earned = await h.core.db.run(points_svc.balance, user.id)
    assert earned == 6
    await h.drain()
    flag = [m for m in h.tg.sent(manager["id"]) if "异常操作" in (m["text"] or "")]
    assert len(flag) == 1
    revoked = await h.press(manager, flag[0], text="撤回")
    assert "已撤回" in revoked[-1]["text"]
    await h.drain()
    assert await h.core.db.run(points_svc.balance, user.id) == 0
    reversals = await h.core.db.run(lambda s: list(s.exec(select(PointsEntry).where(PointsEntry.status == "reversal"))))
    assert len(reversals) == 3 and all(r.reverses_id for r in reversals)
    assert any("撤回" in (m["text"] or "") for m in h.tg.sent(rep["id"]))


async def test_redemption_requested_approved_and_deducted(harness):
    h = harness
    _, manager, (rep,) = await h.team(reps=1)
    user = await db_user(h, rep)
    await give_points(h, user, 350)
    shop = await h.send(rep, "/shop")
    assert "积分兑换" in shop[-1]["text"] and "350" in shop[-1]["text"]
    asked = await h.press(rep, shop[-1], text="外部培训课程")
    assert "待审批" in asked[-1]["text"]
    await h.drain()
    request = [m for m in h.tg.sent(manager["id"]) if "兑换申请" in (m["text"] or "")]
    assert request
    await h.press(manager, request[-1], text="批准")
    await h.drain()
    assert await h.core.db.run(points_svc.balance, user.id) == 50
    assert any("兑换已批准" in (m["text"] or "") for m in h.tg.sent(rep["id"]))
    again = await h.send(rep, "/shop")
    assert "当前积分：50" in again[-1]["text"]


async def test_me_shows_the_radar_chart_and_managers_see_their_reps(harness):
    h = harness
    _, manager, (rep, other) = await h.team(reps=2)
    user = await db_user(h, rep)
    c = new_customer(h.core, user, 1)
    to_stage(h.core, user, c.id, "needs")
    me = await h.send(rep, "/me")
    photo = [m for m in me if m["kind"] == "photo" or (m["message"] or {}).get("photo")]
    assert photo, me
    caption = photo[-1]["caption"]
    assert "能力画像" in caption and "KPI" in caption and "最需要加强" in caption and "流程合规" in caption
    assert h.tg.file_bytes(photo[-1]).startswith(PNG)
    picker = await h.send(manager, "/me")
    assert "选择" in picker[-1]["text"]
    profile = await h.press(manager, picker[-1], text="销售1")
    assert any((m.get("caption") or "").startswith("销售1") for m in profile)
    # A rep cannot open a colleague's profile with a forged button.
    other_user = await db_user(h, other)
    forged = await h.press(rep, {"message_id": 1, "chat_id": rep["id"]}, data=f"pv:{other_user.id}", validate=False)
    assert not any((m.get("caption") or "").startswith("销售2") for m in forged)


async def test_manager_digest_with_funnel_chart_and_bottleneck(harness):
    h = harness
    _, manager, (rep,) = await h.team(reps=1)
    user = await db_user(h, rep)
    now = FRI_0815

    def seed(session):
        # 6 fresh leads, 3 customers 9 days into 需求挖掘 (expected 7), 2 in 方案报价 on time, 1 won.
        for i, (stage, days, status) in enumerate([("lead", 1, "open")] * 6 + [("needs", 9, "open")] * 3
                                                  + [("quote", 2, "open")] * 2 + [("payment", 3, "won")]):
            session.add(Customer(team_id=user.team_id, owner_id=user.id, name=f"漏斗客户{i}", stage=stage, status=status,
                                 stage_entered_at=now - timedelta(days=days), created_at=now - timedelta(days=20),
                                 updated_at=now, next_followup_at=now - timedelta(days=2) if i == 0 else None))
    await h.core.db.run(seed)
    # Yesterday the rep logged a follow-up.
    h.clock.set(now - timedelta(hours=20))
    await h.send(rep, "/log 漏斗客户1 电话确认了需求范围")
    await h.run_schedule(now)
    texts = [m for m in h.tg.sent(manager["id"]) if "团队日报" in (m["text"] or "")]
    assert len(texts) == 1
    digest = texts[0]["text"]
    # Sentences first (issue 14): where it sticks, in words.
    assert "最卡的阶段是「需求挖掘」：3 个在跟客户中 3 个超过预计天数" in digest
    assert "销售1" in digest and "跟进 1" in digest and "逾期客户 1 个" in digest
    charts = photos(h, manager["id"])
    assert charts and "瓶颈：需求挖掘" in charts[-1]["caption"]
    assert h.tg.file_bytes(charts[-1]).startswith(PNG)
    # The rep's morning brief (08:30) carries their own line of the same numbers.
    await h.run_schedule(now + timedelta(minutes=15))
    brief = [m for m in h.tg.sent(rep["id"]) if "今日任务" in (m["text"] or "")]
    assert brief and "📊 昨日：跟进 1" in brief[-1]["text"]


async def test_quiet_digest_is_one_line(harness):
    h = harness
    _, manager, _ = await h.team(reps=1)
    await h.run_schedule(FRI_0815 + timedelta(days=7))
    texts = [m["text"] for m in h.tg.sent(manager["id"]) if "团队日报" in (m["text"] or "")]
    assert len(texts) == 1 and "没有新动态" in texts[0] and "\n" not in texts[0]
    assert not photos(h, manager["id"])


async def test_spot_check_round(harness):
    h = harness
    _, manager, (rep,) = await h.team(reps=1)
    user = await db_user(h, rep)
    for n in range(6):
        new_customer(h.core, user, n)
    await h.send(rep, "/log 客户0 上门拜访，确认了对接人")
    earned = await h.core.db.run(points_svc.balance, user.id)
    await h.run_schedule(FRI_0930)
    cards = [m for m in h.tg.sent(manager["id"]) if "抽查" in (m["text"] or "")]
    assert 3 <= len(cards) <= 5
    assert all("****" in m["text"] for m in cards)
    ok = await h.press(manager, cards[0], text="属实")
    assert "已确认属实" in ok[-1]["text"] and not buttons(ok[-1])
    target = next((m for m in cards[1:] if "客户0" in m["text"]), cards[1])
    menu = await h.press(manager, target, text="有问题")
    assert "问题是什么" in menu[-1]["text"]
    flagged = await h.press(manager, menu[-1], text="跟进记录不实")
    assert "已标记" in flagged[-1]["text"]
    await h.drain()
    assert any("抽查了客户" in (m["text"] or "") for m in h.tg.sent(rep["id"]))
    if "客户0" in target["text"]:
        assert await h.core.db.run(points_svc.balance, user.id) < earned
    assert h.tg.rejected() == []
