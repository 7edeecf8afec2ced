"""Different users acting on one row at the same moment (their updates run side by side now).

On PostgreSQL (READ COMMITTED) two transactions that read a row, decide from it and write can
interleave; each test below runs the competing service calls from threads, each in its own
transaction (``core.db.call``), and checks the outcome is one a one-at-a-time order could give.
SQLite serializes write transactions, so there the same tests pin the plain behaviour.

Where the service is handed a customer its caller loaded (``get_for``), the threads load it first
and then wait for each other (PostgreSQL only: SQLite would not let the second transaction start),
so the service calls meet exactly where production handlers can meet.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlmodel import select

from services import customers as cs
from services import incentives as inc
from services import points as points_svc
from services import users as us
from storage.models import Activity, ChecklistDone, Customer, Invite, PointsEntry, StageChange, User
from storage.models_incentives import Redemption
from tests.incentive_helpers import complete, make_team, new_customer, to_stage
from tests.test_services import create, team_with


def at_once(core, *works):
    """Run each ``work(session)`` in its own transaction on its own thread, all at the same moment."""
    start = threading.Barrier(len(works), timeout=20)

    def run(work):
        start.wait()
        return core.db.call(work)

    with ThreadPoolExecutor(max_workers=len(works)) as pool:
        return [f.result() for f in [pool.submit(run, w) for w in works]]


def loaded_first(core, users, load, service):
    """One ``work`` per user: ``load(session, user)`` reads the row as the handler (or the service's
    own first query) does, then ``service(session, user, loaded)`` runs; on PostgreSQL every
    transaction has read the row before any goes on, the interleaving that used to go wrong."""
    loaded = threading.Barrier(len(users), timeout=20)

    def work_of(user):
        def work(session):
            row = load(session, user)
            if not core.db.is_sqlite:
                loaded.wait()
            return service(session, user, row)
        return work
    return [work_of(u) for u in users]


def on_loaded(core, users, customer_id, service):
    """``loaded_first`` for services handed the customer their caller loaded (``get_for``)."""
    return loaded_first(core, users, lambda s, u: cs.get_for(s, u, customer_id), service)


def rows(core, model, *where):
    return core.db.call(lambda s: list(s.exec(select(model).where(*where))))


# --- invites ---------------------------------------------------------------------------------------

def test_one_invite_redeemed_by_two_people_at_once_lets_one_in(core):
    admin, mgr, *_ = team_with(core, reps=0)
    code = core.db.call(us.create_invite, mgr, core.clock.now(), 72).code

    def redeem(session, tg_id, _invite):
        try:
            return us.redeem_invite(session, code, tg_id, f"新人{tg_id}", None, "zh", core.clock.now()).user.tg_id
        except us.InviteError as exc:
            return exc.reason
    results = at_once(core, *loaded_first(core, [500, 501, 502, 503],
                                          lambda s, _: s.exec(select(Invite).where(Invite.code == code)).one(), redeem))
    assert sorted(map(str, results)).count("used") == 3, results
    joined = [r for r in results if r != "used"]
    members = rows(core, User, User.tg_id.in_([500, 501, 502, 503]))
    assert [u.tg_id for u in members] == joined and members[0].team_id == mgr.team_id


# --- customers: checklist, stages, lost, fields, follow-ups, duplicates ----------------------------

def test_rep_and_manager_ticking_one_item_at_once_complete_it_once(core):
    _, mgr, rep, _ = team_with(core)
    c = create(core, rep, name="张总", phone="13800138000", source="官网表单").customer
    results = at_once(core, *on_loaded(core, [rep, mgr], c.id, lambda s, u, cust: cs.complete_item(
        s, core.config, u, cust, "verify_contact", core.clock.now())))
    assert sorted(r.status for r in results) == ["already", "done"]
    assert len(rows(core, ChecklistDone, ChecklistDone.customer_id == c.id)) == 1
    assert len(rows(core, PointsEntry, PointsEntry.action == "item:verify_contact")) == 1


def test_rep_and_manager_advancing_at_once_move_the_stage_once(core):
    _, mgr, rep, _ = team_with(core)
    c = create(core, rep, name="张总", phone="13800138000", source="官网表单").customer  # lead, complete
    results = at_once(core, *on_loaded(core, [rep, mgr], c.id, lambda s, u, cust: cs.advance_stage(
        s, core.config, u, cust, core.clock.now())))
    # The second sees the customer in "contact", whose required fields are still missing.
    assert sorted(r.status for r in results) == ["blocked", "moved"]
    moves = rows(core, StageChange, StageChange.customer_id == c.id, StageChange.from_stage.is_not(None))
    assert [(m.from_stage, m.to_stage) for m in moves] == [("lead", "contact")]
    assert len(rows(core, PointsEntry, PointsEntry.action == "stage:contact")) == 1


def test_two_people_closing_one_customer_as_lost_close_it_once(core):
    _, mgr, rep, _ = team_with(core)
    c = create(core, rep, name="张总", phone="13800138000", source="官网表单").customer
    at_once(core, *on_loaded(core, [rep, mgr], c.id, lambda s, u, cust: cs.close_lost(s, u, cust, core.clock.now())))
    lost = rows(core, StageChange, StageChange.customer_id == c.id, StageChange.to_stage == "lost")
    assert len(lost) == 1
    assert len(rows(core, Activity, Activity.customer_id == c.id, Activity.text == "lost")) == 1


def test_rep_and_manager_filling_two_fields_at_once_keep_both(core):
    _, mgr, rep, _ = team_with(core)
    c = create(core, rep, name="张总", phone="13800138000", source="官网表单").customer
    values = {rep.id: ("main_product", "数控机床"), mgr.id: ("budget", "50万")}
    at_once(core, *on_loaded(core, [rep, mgr], c.id, lambda s, u, cust: cs.set_field(
        s, core.config, u, cust, *values[u.id], core.clock.now())))
    custom = core.db.call(lambda s: s.get(Customer, c.id)).custom
    assert custom.get("main_product") == "数控机床" and custom.get("budget"), custom


def test_rep_and_manager_logging_follow_ups_at_once_both_extend_protection(core):
    from datetime import timedelta
    _, mgr, rep, _ = team_with(core)
    c = create(core, rep, name="张总", phone="13800138000", source="官网表单").customer
    before = c.protected_until
    at_once(core, *on_loaded(core, [rep, mgr], c.id, lambda s, u, cust: cs.log_followup(
        s, core.config, u, cust, f"{u.name}电话沟通", core.clock.now())))
    after = core.db.call(lambda s: s.get(Customer, c.id)).protected_until
    step = timedelta(days=core.config.pool.extend_per_followup_days)
    cap = core.clock.now() + timedelta(days=core.config.pool.max_protect_days)
    assert after == min(before + 2 * step, cap) and before + step < cap


def test_two_managers_transferring_one_duplicate_at_once_transfer_it_once(core):
    admin, mgr, owner, requester = team_with(core)
    c = create(core, owner, name="张总", phone="13800138000", source="官网表单").customer
    results = at_once(core, *on_loaded(core, [mgr, admin], c.id, lambda s, m, _: cs.decide_duplicate(
        s, core.config, m, c.id, requester.id, True, core.clock.now())))
    assert all(r is not None and r[0].owner_id == requester.id for r in results)
    transfers = rows(core, Activity, Activity.customer_id == c.id, Activity.kind == "transfer")
    assert [a.text for a in transfers] == [f"{owner.id}->{requester.id}"]
    assert core.db.call(lambda s: s.get(Customer, c.id)).previous_owner_id == owner.id


# --- incentives: meetings, redemptions ------------------------------------------------------------

def test_two_cross_department_meetings_at_once_release_withheld_points_once(core):
    _, mgr, (rep, *_) = make_team(core, reps=1)
    c = new_customer(core, rep, 1)
    to_stage(core, rep, c.id, "quote")
    assert complete(core, rep, c.id, "tech_meeting").points == 0  # withheld: no meeting yet
    attendees = [{"name": "张工", "department": "技术部"}]
    at_once(core, *on_loaded(core, [rep, mgr], c.id, lambda s, u, cust: inc.record_meeting(
        s, core.config, u, cust, attendees, core.clock.now())))
    released = rows(core, PointsEntry, PointsEntry.action == "item:tech_meeting")
    assert [(e.user_id, e.points, e.status) for e in released] == [(rep.id, 15, "awarded")]


def test_managers_approving_one_reps_rewards_at_once_never_overspend(core):
    admin, mgr, (rep, *_) = make_team(core, reps=1)
    now = core.clock.now()

    def seed(session):
        session.add(PointsEntry(user_id=rep.id, team_id=rep.team_id, action="seed", points=1200, status="awarded", at=now))
        more = [us.redeem_invite(session, us.create_invite(session, admin, now, 72, "manager").code, 900 + i,
                                 f"经理{i}", None, "zh", now).user for i in range(2)]
        return [mgr, admin, *more]
    deciders = core.db.call(seed)
    requests = [core.db.call(inc.request_redemption, core.config, rep, "training", now) for _ in deciders]  # 4 × 300
    assert [r.status for r in requests] == ["done"] * 4

    def clawback(session):  # a flagged award is revoked after the requests: 300 left, enough for one
        session.add(PointsEntry(user_id=rep.id, team_id=rep.team_id, action="seed", points=-900, status="reversal", at=now))
    core.db.call(clawback)
    results = at_once(core, *(
        (lambda s, m=m, r=r: inc.decide_redemption(s, core.config, m, r.subject.id, True, now).status)
        for m, r in zip(deciders, requests)))
    assert sorted(results) == ["done"] + ["insufficient"] * 3, results
    assert core.db.call(points_svc.balance, rep.id) == 0
    assert len(rows(core, Redemption, Redemption.status == "approved")) == 1


def test_two_awards_crossing_a_milestone_at_once_pay_it_once(core):
    """The rep's own award and one given to them by someone else land together: one milestone."""
    from core.config import Milestone
    _, mgr, (rep, *_) = make_team(core, reps=1)
    core.config = core.config.model_copy(update={"milestones": [
        Milestone(id="points_10", label="积分满10", metric="points_earned", threshold=10, points=50)]})
    now = core.clock.now()

    def seed(session):
        entries = [PointsEntry(user_id=rep.id, team_id=rep.team_id, action=f"seed{i}", points=6, status="awarded", at=now)
                   for i in range(2)]
        session.add_all(entries)
        session.flush()
        return [e.id for e in entries]
    first, second = core.db.call(seed)  # 12 points earned, the milestone not yet checked

    def check(session, _user, entry_id):
        return inc.check_milestones(session, core.config, rep, session.get(PointsEntry, entry_id), now)
    done_before = lambda s, u: s.exec(select(PointsEntry.action).where(  # noqa: E731 - what check reads first
        PointsEntry.user_id == rep.id, PointsEntry.action.startswith("milestone:"))).all() and None
    works = loaded_first(core, [rep, mgr], done_before, lambda s, u, _: check(s, u, first if u is rep else second))
    at_once(core, *works)
    paid = rows(core, PointsEntry, PointsEntry.action == "milestone:points_10")
    assert [(e.user_id, e.points) for e in paid] == [(rep.id, 50)]
