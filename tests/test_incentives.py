"""Points ledger, anti-cheating, approvals, rewards, milestones and lead revocation, on a real database."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from services import incentives as inc
from services import points as points_svc
from storage.models import Customer, Outbox, PointsEntry
from storage.models_incentives import AntiCheatFlag, Redemption
from tests.conftest import pg_only
from tests.incentive_helpers import (advance, complete, fill, followup, later, make_team, new_customer, pg_core,
                                     sqlite_url, to_stage)


@pytest.fixture
def db_url(tmp_path):
    """SQLite here; PostgreSQL runs the same scenarios once, in the pg test at the end of the module."""
    return sqlite_url(tmp_path)


def ledger(core, user_id: int) -> list[PointsEntry]:
    return core.db.call(lambda s: list(s.exec(select(PointsEntry).where(PointsEntry.user_id == user_id).order_by(PointsEntry.id))))


def balance(core, user_id: int) -> int:
    return core.db.call(points_svc.balance, user_id)


def evidence_customer(core, entry: PointsEntry) -> int | None:
    c = core.db.call(inc.customer_of_evidence, entry.evidence_type, entry.evidence_id)
    return c.id if c else None


def outbox_to(core, tg_id: int) -> list[Outbox]:
    return core.db.call(lambda s: list(s.exec(select(Outbox).where(Outbox.chat_id == tg_id).order_by(Outbox.id))))


def test_every_award_is_a_row_tied_to_its_evidence_and_balance_is_derived(core):
    _, _, (rep, *_) = make_team(core, 1)
    c = new_customer(core, rep, 1)
    assert complete(core, rep, c.id, "verify_contact").points == 2
    followup(core, rep, c.id, "电话沟通，客户想看案例")
    rows = ledger(core, rep.id)
    assert [(r.action, r.points, r.evidence_type) for r in rows] == [
        ("item:verify_contact", 2, "checklist"), ("followup_logged", 2, "activity")]
    assert all(r.evidence_id for r in rows)
    assert balance(core, rep.id) == sum(r.points for r in rows) == 4
    # The same evidence never pays twice.
    again = core.db.call(lambda s: inc.award(s, rep, "followup_logged", 2, core.config, core.clock.now(),
                                                    evidence_type="activity", evidence_id=rows[1].evidence_id))
    assert again is None


def test_needs_analysis_pays_only_with_its_required_fields(core):
    _, _, (rep,) = make_team(core, 1)
    c = new_customer(core, rep, 1)
    to_stage(core, rep, c.id, "needs")
    refused = complete(core, rep, c.id, "needs_analysis")
    assert refused.status == "missing_fields" and set(refused.missing) == {"main_product", "budget"}
    fill(core, rep, c.id, main_product="数控机床", budget="50万")
    done = complete(core, rep, c.id, "needs_analysis")
    assert done.status == "done" and done.points == 10  # the article's +10


def test_cross_department_meeting_needs_a_meeting_with_another_department(core):
    _, _, (rep,) = make_team(core, 1)
    c = new_customer(core, rep, 1)
    to_stage(core, rep, c.id, "quote")
    before = balance(core, rep.id)
    tapped = complete(core, rep, c.id, "tech_meeting")
    assert tapped.status == "done" and tapped.points == 0  # no evidence, no points
    assert balance(core, rep.id) == before
    notice = [o for o in outbox_to(core, rep.tg_id) if o.dedupe_key.startswith("evidence:")]
    assert notice and "/meeting" in notice[0].payload["text"]
    # Only colleagues from sales: still nothing.
    customer = core.db.call(lambda s: s.get(Customer, c.id))
    same = core.db.call(inc.record_meeting, core.config, rep, customer, inc.parse_attendees("小李/销售部 小王/销售部"), core.clock.now())
    assert not same.cross_department and same.points == 0
    # Someone from engineering: the withheld +15 is paid, once.
    cross = core.db.call(inc.record_meeting, core.config, rep, customer, inc.parse_attendees("张工/技术部 李经理（交付部）"),
                         core.clock.now())
    assert cross.cross_department and cross.points == 15
    assert balance(core, rep.id) == before + 15
    again = core.db.call(inc.record_meeting, core.config, rep, customer, inc.parse_attendees("张工/技术部"), core.clock.now())
    assert again.points == 0 and balance(core, rep.id) == before + 15


def test_parse_attendees():
    assert inc.parse_attendees("张工/技术部, 李经理(财务部)、王五") == [
        {"name": "张工", "department": "技术部"}, {"name": "李经理", "department": "财务部"}, {"name": "王五", "department": ""}]


def test_daily_cap_per_action(core):
    _, _, (rep,) = make_team(core, 1)
    cap = core.config.anticheat.daily_caps["followup_logged"]
    customers = [new_customer(core, rep, i) for i in range(cap + 2)]
    for i, c in enumerate(customers):
        later(core, minutes=5)  # spaced out: no burst
        followup(core, rep, c.id, f"第{i}次沟通：客户关心交付周期{i}")
    paid = [r for r in ledger(core, rep.id) if r.action == "followup_logged"]
    assert len(paid) == cap
    later(core, hours=24)
    followup(core, rep, customers[0].id, "新的一天，继续跟进交付细节")
    assert len([r for r in ledger(core, rep.id) if r.action == "followup_logged"]) == cap + 1


def test_high_value_award_waits_for_a_managers_tap(core):
    _, mgr, (rep, other) = make_team(core, 2)
    c = new_customer(core, rep, 1)
    to_stage(core, rep, c.id, "contract")  # entering 签约 earns contract_signed = 50 ≥ approval threshold
    pending = [r for r in ledger(core, rep.id) if r.status == "pending"]
    assert [(r.action, r.points) for r in pending] == [("contract_signed", 50)]
    assert balance(core, rep.id) == sum(r.points for r in ledger(core, rep.id) if r.status == "awarded")
    request = [o for o in outbox_to(core, mgr.tg_id) if o.dedupe_key.startswith("approve:points:")]
    assert request and request[0].payload["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"ap:points:{pending[0].id}:1"
    # A rep cannot decide; the manager can, once.
    assert core.db.call(inc.decide_award, core.config, other, pending[0].id, True, core.clock.now()).status == "forbidden"
    before = balance(core, rep.id)
    assert core.db.call(inc.decide_award, core.config, mgr, pending[0].id, True, core.clock.now()).status == "done"
    assert balance(core, rep.id) == before + 50
    assert core.db.call(inc.decide_award, core.config, mgr, pending[0].id, False, core.clock.now()).status == "already"
    assert any(o.dedupe_key == f"approved:{pending[0].id}" for o in outbox_to(core, rep.tg_id))


def test_declined_award_never_counts(core):
    _, mgr, (rep,) = make_team(core, 1)
    c = new_customer(core, rep, 1)
    to_stage(core, rep, c.id, "contract")
    entry = next(r for r in ledger(core, rep.id) if r.status == "pending")
    before = balance(core, rep.id)
    core.db.call(inc.decide_award, core.config, mgr, entry.id, False, core.clock.now())
    assert balance(core, rep.id) == before
    assert core.db.call(lambda s: s.get(PointsEntry, entry.id)).status == "rejected"


def test_points_of_a_lead_found_invalid_are_revoked(core):
    _, mgr, (rep,) = make_team(core, 1)
    good = new_customer(core, rep, 1)
    fake = new_customer(core, rep, 2)
    complete(core, rep, good.id, "verify_contact")
    complete(core, rep, fake.id, "verify_contact")
    followup(core, rep, fake.id, "客户说下周见面")
    to_stage(core, rep, fake.id, "needs")
    earned_on_fake = sum(r.points for r in ledger(core, rep.id) if r.status == "awarded" and
                         evidence_customer(core, r) == fake.id)
    assert earned_on_fake > 0
    before = balance(core, rep.id)
    customer = core.db.call(lambda s: s.get(Customer, fake.id))
    reversals = core.db.call(inc.revoke_lead, core.config, customer, core.clock.now(), "虚假线索", mgr)
    assert -sum(r.points for r in reversals) == earned_on_fake
    assert balance(core, rep.id) == before - earned_on_fake
    assert all(r.reverses_id for r in reversals) and all(r.status == "reversal" for r in reversals)
    # Revoking twice changes nothing; the invalid lead earns nothing more.
    customer = core.db.call(lambda s: s.get(Customer, fake.id))
    assert core.db.call(inc.revoke_lead, core.config, customer, core.clock.now(), "虚假线索", mgr) == []
    later(core, hours=1)
    followup(core, rep, fake.id, "再次跟进这个假客户")
    assert balance(core, rep.id) == before - earned_on_fake
    assert core.db.call(lambda s: s.get(Customer, fake.id)).invalid
    assert any(o.dedupe_key == f"leadrev:{fake.id}" for o in outbox_to(core, rep.tg_id))


def test_a_burst_of_mechanical_actions_is_flagged_and_can_be_revoked(core):
    _, mgr, (rep,) = make_team(core, 1)
    customers = [new_customer(core, rep, i) for i in range(10)]
    later(core, minutes=10)
    for i, c in enumerate(customers):
        core.clock.advance(timedelta(seconds=2))
        complete(core, rep, c.id, "verify_contact")
    flags = core.db.call(lambda s: list(s.exec(select(AntiCheatFlag))))
    assert len(flags) == 1 and flags[0].kind == "burst" and flags[0].user_id == rep.id
    assert len(flags[0].entry_ids) == 10  # the later taps joined the open flag
    notice = [o for o in outbox_to(core, mgr.tg_id) if o.dedupe_key.startswith("flag:")]
    assert len(notice) == 1 and "af:" in notice[0].payload["reply_markup"]["inline_keyboard"][0][1]["callback_data"]
    before = balance(core, rep.id)
    assert core.db.call(inc.decide_flag, core.config, mgr, flags[0].id, "revoke", core.clock.now()).status == "done"
    assert balance(core, rep.id) == before - 20
    assert core.db.call(inc.decide_flag, core.config, mgr, flags[0].id, "revoke", core.clock.now()).status == "already"


def test_spaced_out_work_is_not_a_burst(core):
    _, _, (rep,) = make_team(core, 1)
    customers = [new_customer(core, rep, i) for i in range(10)]
    for c in customers:
        later(core, seconds=30)
        complete(core, rep, c.id, "verify_contact")
    assert core.db.call(lambda s: list(s.exec(select(AntiCheatFlag)))) == []


def test_copy_paste_notes_are_flagged(core):
    _, mgr, (rep,) = make_team(core, 1)
    customers = [new_customer(core, rep, i) for i in range(4)]
    for i, c in enumerate(customers[:2]):
        later(core, minutes=7)
        followup(core, rep, c.id, "已电话沟通，客户有兴趣，下周再联系")
    assert core.db.call(lambda s: list(s.exec(select(AntiCheatFlag)))) == []
    later(core, minutes=7)
    followup(core, rep, customers[2].id, "已电话沟通，客户有兴趣，下周再联系 ")
    later(core, minutes=7)
    followup(core, rep, customers[3].id, "已电话沟通，客户有兴趣，下周再联系")
    flags = core.db.call(lambda s: list(s.exec(select(AntiCheatFlag))))
    assert len(flags) == 1 and flags[0].kind == "copy_paste" and len(flags[0].entry_ids) == 4
    assert sum(1 for o in outbox_to(core, mgr.tg_id) if o.dedupe_key.startswith("flag:")) == 1


def test_redemption_is_requested_approved_and_deducted(core):
    _, mgr, (rep,) = make_team(core, 1)
    reward = core.config.rewards[0]
    poor = core.db.call(inc.request_redemption, core.config, rep, reward.id, core.clock.now())
    assert poor.status == "insufficient"
    core.db.call(lambda s: s.add(PointsEntry(user_id=rep.id, team_id=rep.team_id, action="seed", points=reward.price + 50,
                                             status="awarded", at=core.clock.now() - timedelta(days=1))))
    asked = core.db.call(inc.request_redemption, core.config, rep, reward.id, core.clock.now())
    assert asked.status == "done"
    # The requested price is held: a second request for more than what is left is refused.
    view = core.db.call(inc.shop_view, core.config, rep)
    assert view.reserved == reward.price and view.available == 50
    assert core.db.call(inc.request_redemption, core.config, rep, reward.id, core.clock.now()).status == "insufficient"
    assert balance(core, rep.id) == reward.price + 50  # nothing deducted before approval
    request = [o for o in outbox_to(core, mgr.tg_id) if o.dedupe_key.startswith("approve:redeem:")]
    assert request and f"ap:redeem:{asked.subject.id}:1" in str(request[0].payload)
    done = core.db.call(inc.decide_redemption, core.config, mgr, asked.subject.id, True, core.clock.now())
    assert done.status == "done"
    assert balance(core, rep.id) == 50
    deduction = [r for r in ledger(core, rep.id) if r.status == "redeemed"]
    assert [(r.points, r.evidence_type, r.evidence_id) for r in deduction] == [(-reward.price, "redemption", asked.subject.id)]
    # Spending never lowers the leaderboard's earned points.
    start, end = inc.period_bounds(core.config, core.clock.now(), "month")
    stats = core.db.call(inc.rep_stats, core.config, rep.team_id, start - timedelta(days=2), end, core.clock.now())
    assert stats[rep.id].points == reward.price + 50
    assert core.db.call(inc.decide_redemption, core.config, mgr, asked.subject.id, True, core.clock.now()).status == "already"


def test_declined_redemption_costs_nothing(core):
    _, mgr, (rep,) = make_team(core, 1)
    reward = core.config.rewards[0]
    core.db.call(lambda s: s.add(PointsEntry(user_id=rep.id, team_id=rep.team_id, action="seed", points=reward.price,
                                             status="awarded", at=core.clock.now())))
    asked = core.db.call(inc.request_redemption, core.config, rep, reward.id, core.clock.now())
    core.db.call(inc.decide_redemption, core.config, mgr, asked.subject.id, False, core.clock.now())
    assert balance(core, rep.id) == reward.price
    assert core.db.call(lambda s: s.get(Redemption, asked.subject.id)).status == "declined"
    assert core.db.call(inc.shop_view, core.config, rep).available == reward.price


def test_first_deal_milestone_once(core):
    _, mgr, (rep,) = make_team(core, 1)
    c = new_customer(core, rep, 1)
    to_stage(core, rep, c.id, "payment")
    assert advance(core, rep, c.id).status == "won"
    milestones = [r for r in ledger(core, rep.id) if r.action == "milestone:first_deal"]
    assert [(r.points, r.status) for r in milestones] == [(20, "awarded")]
    c2 = new_customer(core, rep, 2)
    to_stage(core, rep, c2.id, "payment")
    advance(core, rep, c2.id)
    assert len([r for r in ledger(core, rep.id) if r.action == "milestone:first_deal"]) == 1


def test_stage_advance_and_complete_data_points(core):
    _, _, (rep,) = make_team(core, 1)
    c = new_customer(core, rep, 1)
    to_stage(core, rep, c.id, "needs")
    actions = [r.action for r in ledger(core, rep.id)]
    assert "stage:contact" in actions and "stage:needs" in actions
    fill(core, rep, c.id, main_product="机床", size="200人", budget="50万", amount="40万", decision_maker="李总",
         contract_no="HT-9")
    assert "complete_data" in [r.action for r in ledger(core, rep.id)]


@pg_only
def test_ledger_flows_on_postgresql(config):
    """The same ledger scenarios on PostgreSQL, in one schema per scenario."""
    for scenario in (test_high_value_award_waits_for_a_managers_tap, test_points_of_a_lead_found_invalid_are_revoked,
                     test_a_burst_of_mechanical_actions_is_flagged_and_can_be_revoked,
                     test_redemption_is_requested_approved_and_deducted):
        with pg_core(config) as core:
            scenario(core)
