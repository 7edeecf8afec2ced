"""Per-rep daily rollups (services/rollups.py) stay exact: after random sequences of writes across past
days — activities logged and undone, stage moves, checklist items, ledger entries awarded, approved,
rejected and reversed, customers marked invalid, moved to another team or handed over, moved to another
stage (entry times edited, won, lost, reopened), checklist steps done, undone and edited — every
rollup-based figure the digests, boards and KPI windows read equals the one counted from the raw rows
(``rollups.disabled()``), the stalled-deal escalations read from ``customer.progress_at`` (0009_digest's
triggers) equal the raw ones and the column equals its definition, with reads in between so that
computed days are changed afterwards.
SQLite and PostgreSQL (when it answers)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import select

from core.clock import local_date
from services import counters
from services import digest as digest_svc
from services import rollups
from services import stalls
from services.rep_stats import day_bounds, period_bounds, rep_stats, rep_stats_many
from storage.models import Activity, ChecklistDone, Customer, PointsEntry, StageChange, Team, User
from storage.models_rollup import RepDay, RollupDay, RollupDirty

KINDS = ("followup", "stage", "checklist", "create", "note", "paste", "visit")
STATUSES = ("awarded", "pending", "reversal", "rejected", "redeemed")
STAGES = ("lead", "contact", "needs", "quote")


def _setup(core, rng: random.Random):
    def setup(session):
        now = core.clock.now()
        teams = [Team(name=f"T{i}", created_at=now - timedelta(days=400)) for i in range(2)]
        session.add_all(teams)
        session.flush()
        reps = [User(tg_id=1000 + i, name=f"R{i}", role="rep", team_id=teams[i % 2].id, joined_at=now - timedelta(days=300))
                for i in range(6)]
        session.add_all(reps)
        session.flush()
        customers = [Customer(team_id=r.team_id, owner_id=r.id, name=f"C{r.id}-{j}", stage="lead", stage_entered_at=now - timedelta(days=60),
                              created_at=now - timedelta(days=60), updated_at=now, next_followup_at=now + timedelta(days=1))
                     for r in reps for j in range(4)]
        session.add_all(customers)
        session.flush()
        return [t.id for t in teams], [r.id for r in reps], [c.id for c in customers]
    return core.db.call(setup)


def _write(session, rng: random.Random, now: datetime, team_ids, rep_ids, customer_ids, items_used: set) -> None:
    """One random write, somewhere in the last 40 days (today included)."""
    at = now - timedelta(days=rng.uniform(0, 40))
    op = rng.choice(["activity", "activity", "undo", "move", "item", "points", "points", "approve", "reject",
                     "invalid", "team", "handover", "move_edit", "stage", "entered_edit", "status", "item_undo",
                     "item_edit", "item", "due", "due", "completeness", "new_customer"])
    cid = rng.choice(customer_ids)
    uid = rng.choice(rep_ids)
    if op == "activity":
        session.add(Activity(customer_id=cid, user_id=uid, kind=rng.choice(KINDS), text="x", at=at))
    elif op == "undo":
        row = session.exec(select(Activity).order_by(Activity.id.desc()).limit(5)).all()
        if row:
            session.delete(rng.choice(row))
    elif op == "move":
        session.add(StageChange(customer_id=cid, from_stage=rng.choice(["lead", None, "needs"]),
                                to_stage=rng.choice(["needs", "won", "quote"]), by_user_id=uid, at=at,
                                complete_data=rng.random() < 0.7))
    elif op == "move_edit":
        row = session.exec(select(StageChange).order_by(StageChange.id)).all()
        if row:
            rng.choice(row).at = at
    elif op == "stage":  # the customer moves to another stage (progress: entering it, or its later steps)
        c = session.get(Customer, cid)
        c.stage, c.stage_entered_at = rng.choice(STAGES), at
    elif op == "entered_edit":
        session.get(Customer, cid).stage_entered_at = at
    elif op == "due":  # the next follow-up moved (across today's start, or cleared)
        session.get(Customer, cid).next_followup_at = None if rng.random() < 0.1 else now + timedelta(days=rng.uniform(-3, 3))
    elif op == "completeness":
        session.get(Customer, cid).completeness = rng.choice([0, 20, 60, 100])
    elif op == "new_customer":
        c = Customer(team_id=rng.choice(team_ids), owner_id=rng.choice([uid, None]), name="new", stage=rng.choice(STAGES),
                     stage_entered_at=at, created_at=at, updated_at=at, completeness=rng.choice([0, 40]),
                     next_followup_at=now + timedelta(days=rng.uniform(-3, 3)))
        session.add(c)
        session.flush()
        customer_ids.append(c.id)
    elif op == "status":  # won, lost, or reopened
        session.get(Customer, cid).status = rng.choice(["open", "open", "won", "lost"])
    elif op == "item_undo":
        rows = session.exec(select(ChecklistDone).order_by(ChecklistDone.id)).all()
        if rows:
            row = rng.choice(rows)
            items_used.discard((row.customer_id, row.stage, row.item_id))
            session.delete(row)
    elif op == "item_edit":
        rows = session.exec(select(ChecklistDone).order_by(ChecklistDone.id)).all()
        if rows:
            row = rng.choice(rows)
            if rng.random() < 0.7:
                row.at = at
            elif (row.customer_id, "needs", row.item_id) not in items_used:  # filed under another stage
                items_used.discard((row.customer_id, row.stage, row.item_id))
                row.stage = "needs"
                items_used.add((row.customer_id, row.stage, row.item_id))
    elif op == "item":
        key = (cid, rng.choice(["lead", session.get(Customer, cid).stage]), f"i{rng.randint(0, 30)}")
        if key not in items_used:
            items_used.add(key)
            session.add(ChecklistDone(customer_id=cid, stage=key[1], item_id=key[2], user_id=uid, at=at,
                                      within_expected=rng.random() < 0.6))
    elif op == "points":
        session.add(PointsEntry(user_id=uid, team_id=rng.choice(team_ids + [None]), action="followup_logged",
                                points=rng.randint(-5, 15), status=rng.choice(STATUSES), at=at))
    elif op in ("approve", "reject"):
        pending = session.exec(select(PointsEntry).where(PointsEntry.status == "pending")).all()
        if pending:
            rng.choice(pending).status = "awarded" if op == "approve" else "rejected"
    elif op == "invalid":
        c = session.get(Customer, cid)
        c.invalid = not c.invalid
    elif op == "team":
        c = session.get(Customer, cid)
        c.team_id = rng.choice(team_ids)
    elif op == "handover":  # to a rep, or released to the pool
        c = session.get(Customer, cid)
        c.owner_id = rng.choice([uid, uid, None])


def _figures(session, config, team_ids, rep_ids, now):
    """What the readers return: KPI window, week and month boards, one rep alone, yesterday by kind."""
    reps = list(session.exec(select(User).where(User.id.in_(rep_ids)).order_by(User.id)))
    out = {}
    windows = {"kpi": (day_bounds(config, now)[1] - timedelta(days=30), day_bounds(config, now)[1]),
               "week": period_bounds(config, now, "week"), "month": period_bounds(config, now, "month"),
               "closed": (day_bounds(config, now, 20)[0], day_bounds(config, now)[0])}
    for name, (start, end) in windows.items():
        stats = rep_stats_many(session, config, team_ids, start, end, now, users=reps)
        out[name] = {u: (s.points, s.moves, s.moves_complete, s.deals, s.items, s.items_on_time, s.open_customers,
                         s.completeness_sum, s.overdue) for u, s in stats.items()}
        one = rep_stats(session, config, reps[0].team_id, start, end, now, users=[reps[0]])
        s = one[reps[0].id]
        out[name + "_one"] = (s.points, s.moves, s.moves_complete, s.deals, s.items, s.items_on_time, s.open_customers,
                              s.completeness_sum, s.overdue)
    y_start, y_end = day_bounds(config, now, 1)
    out["yesterday"] = digest_svc.yesterday_activity(session, rep_ids, y_start, y_end, config, now)
    d = digest_svc.build_many(session, config, team_ids, now)
    out["digest"] = {t: ({u: r.kinds for u, r in d[t].yesterday.items()}, d[t].kpis,
                         d[t].compliance.compliance, d[t].overdue_total, d[t].funnel) for t in team_ids}
    # The stalled-deal escalations: from customer.progress_at (0009_digest's triggers) or raw.
    out["escalated"] = {t: (d[t].escalated_total, d[t].escalated) for t in team_ids}
    out["escalated_top2"] = stalls.escalations(session, config, team_ids, now, 2)
    return out


def _progress_is_exact(session) -> int:
    """Every customer's progress_at equals the later of entering its stage and its latest step in that stage,
    counted from the raw rows in Python; returns how many customers were checked."""
    steps: dict = {}
    for row in session.exec(select(ChecklistDone)):
        key = (row.customer_id, row.stage)
        steps[key] = max(steps.get(key, row.at), row.at)
    customers = session.exec(select(Customer)).all()
    for c in customers:
        session.refresh(c)  # the column is written by the database, not by the ORM
        want = max(c.stage_entered_at, steps.get((c.id, c.stage), c.stage_entered_at))
        assert c.progress_at == want, (c.id, c.stage, c.progress_at, want)
    return len(customers)


def _folded_sums_equal_raw(session) -> int:
    """The counter tables (append-only deltas, some folded): each key's sum equals the raw count (SQL);
    returns how many keys were compared."""
    raw = {(t, s, st): n for t, s, st, n in session.execute(text(
        "SELECT team_id, stage, status, count(*) FROM customer WHERE NOT invalid GROUP BY team_id, stage, status"))}
    kept = {(t, s, st): int(n) for t, s, st, n in session.execute(text(
        "SELECT team_id, stage, status, sum(n) FROM stagecount GROUP BY team_id, stage, status HAVING sum(n) <> 0"))}
    assert kept == raw
    raw_open = {(t, o): n for t, o, n in session.execute(text(
        "SELECT team_id, coalesce(owner_id, 0), count(*) FROM customer WHERE status = 'open' AND NOT invalid "
        "GROUP BY team_id, coalesce(owner_id, 0)"))}
    kept_open = {(t, o): int(n) for t, o, n in session.execute(text(
        "SELECT team_id, owner_id, sum(open_n) FROM ownerload GROUP BY team_id, owner_id HAVING sum(open_n) <> 0"))}
    assert kept_open == raw_open
    return len(raw) + len(raw_open)


def _counter_keys(session) -> int:
    """The keys the counter tables hold, from the customers read as objects and counted in Python:
    (team, stage, status) of the valid ones, (team, owner or the pool) of the open valid ones."""
    valid = [c for c in session.exec(select(Customer)) if not c.invalid]
    return (len({(c.team_id, c.stage, c.status) for c in valid})
            + len({(c.team_id, c.owner_id or 0) for c in valid if c.status == "open"}))


def test_rollup_figures_equal_raw_after_random_writes(core, monkeypatch):
    read = []  # windows the readers took from the rollups: the comparison below is not raw against raw
    window_counts = rollups.window_counts
    monkeypatch.setattr(rollups, "window_counts", lambda *a, **k: read.append(a[2:4]) or window_counts(*a, **k))
    rng = random.Random(18)
    config = core.config
    team_ids, rep_ids, customer_ids = _setup(core, rng)
    items_used: set = set()
    start_now = core.clock.now()
    steps, from_rollups = 12, 0
    escalated = folds = windows_reused = 0
    for step in range(steps):
        now = start_now + timedelta(hours=step * 13)  # reads on different days: new days close in between
        core.db.call(lambda s: [_write(s, rng, now, team_ids, rep_ids, customer_ids, items_used) for _ in range(25)])
        if step % 4 == 0:  # the nightly job, now and then: readers compute the other days that closed meanwhile
            core.db.call(lambda s: rollups.nightly(s, config, now, days=45))
        if step % 3 == 1:  # the counters' deltas folded (the nightly job's part), or past a small threshold
            rows = "SELECT count(*) FROM stagecount"
            before = core.db.call(lambda s: s.execute(text(rows)).scalar())
            core.db.call(counters.fold_all)
            folds += core.db.call(lambda s: s.execute(text(rows)).scalar()) < before  # the fold did shrink it
            assert core.db.call(lambda s: s.execute(text(  # one row per key left
                "SELECT count(*) - count(DISTINCT team_id || '/' || stage || '/' || status) FROM stagecount")).scalar()) == 0
        elif step % 3 == 2:
            core.db.call(lambda s: [counters.fold_if_needed(s, t, threshold=10) for t in counters.TABLES])
        before = len(read)
        got, reused = core.db.call(lambda s: (_figures(s, config, team_ids, rep_ids, now), s.info.get(rollups._REUSED, 0)))
        from_rollups += len(read) > before
        with rollups.disabled():
            want = core.db.call(_figures, config, team_ids, rep_ids, now)
        assert got == want, f"step {step}"
        windows_reused += reused  # month and closed days derived from the KPI window read before them
        assert core.db.call(_progress_is_exact) == len(customer_ids), f"step {step}"  # the test's own tally
        compared = core.db.call(_folded_sums_equal_raw)
        assert compared == core.db.call(_counter_keys) and compared > 0, f"step {step}"
        escalated += sum(n for n, _ in got["escalated"].values())
    # The reads did go through the rollups: days were computed, every mark was consumed, and a
    # rollup row changed behind the triggers' back shows in the figures (the comparison can fail).
    days = core.db.call(lambda s: len(s.exec(select(RollupDay)).all()))
    assert days >= 30
    marks = core.db.call(lambda s: s.exec(select(RollupDirty).where(
        RollupDirty.at < day_bounds(config, now)[0])).all())
    assert marks == []

    def tamper(session):
        row = session.exec(select(RepDay).where(RepDay.team_id == team_ids[0]).order_by(RepDay.day.desc())).first()
        row.points += 1000
        return row.user_id
    core.db.call(tamper)
    got = core.db.call(_figures, config, team_ids, rep_ids, now)
    with rollups.disabled():
        want = core.db.call(_figures, config, team_ids, rep_ids, now)
    assert got["closed"] != want["closed"]
    assert from_rollups == steps  # every step's closed days were read from the rollups
    assert escalated > 0
    assert folds == 4
    assert windows_reused >= 12


def test_a_reader_rolls_up_at_most_a_couple_of_missing_days_itself(core):
    config = core.config
    team_ids, rep_ids, _ = _setup(core, random.Random(5))
    now = core.clock.now()
    reps = core.db.call(lambda s: list(s.exec(select(User).where(User.id.in_(rep_ids)))))
    start, end = period_bounds(config, now, "month")
    core.db.call(lambda s: rep_stats_many(s, config, team_ids, start, end, now, users=reps))
    assert core.db.call(lambda s: rollups.computed_days(s, config)) == set()  # a month untouched: counted raw
    core.db.call(lambda s: rollups.nightly(s, config, now - timedelta(days=2)))
    core.db.call(lambda s: rep_stats_many(s, config, team_ids, day_bounds(config, now, 20)[0], end, now, users=reps))
    today = local_date(config, now)
    assert {today - timedelta(days=1), today - timedelta(days=2)} <= core.db.call(lambda s: rollups.computed_days(s, config))


def test_nightly_job_computes_closed_days_and_a_late_write_is_counted(core):
    config = core.config
    team_ids, rep_ids, customer_ids = _setup(core, random.Random(1))
    now = core.clock.now()
    core.db.call(lambda s: rollups.nightly(s, config, now, days=10))
    y_day = local_date(config, now) - timedelta(days=1)
    assert core.db.call(lambda s: rollups.computed_days(s, config)) >= {y_day - timedelta(days=i) for i in range(10)}
    # A ledger entry written for yesterday after the day was computed (a pending approval arriving late).
    at = day_bounds(config, now, 1)[0] + timedelta(hours=3)
    core.db.call(lambda s: s.add(PointsEntry(user_id=rep_ids[0], team_id=team_ids[0], action="x", points=7,
                                             status="awarded", at=at)))
    reps = core.db.call(lambda s: list(s.exec(select(User).where(User.id == rep_ids[0]))))
    start = day_bounds(config, now, 1)[0]
    stats = core.db.call(lambda s: rep_stats_many(s, config, [team_ids[0]], start, day_bounds(config, now)[0], now,
                                                  users=reps))
    assert stats[rep_ids[0]].points == 7
    rows = core.db.call(lambda s: s.exec(select(RepDay).where(RepDay.day == y_day)).all())
    assert [(r.user_id, r.points) for r in rows] == [(rep_ids[0], 7)]


def test_the_scheduled_job_rolls_up_the_closed_days(core):
    from scheduler.jobs import run_due_jobs
    config = core.config
    _setup(core, random.Random(2))
    at = datetime(2026, 11, 26, 16, 30)  # 00:30 in Shanghai: the job's 00:20 slot is due
    done = run_due_jobs(core, at, only={"rollups"})
    assert done and all(status == "done" for _, _, status in done)
    today = local_date(config, at)
    assert core.db.call(lambda s: rollups.computed_days(s, config)) == {today - timedelta(days=i) for i in range(1, 32)}


def test_a_read_only_session_counts_exactly_whether_or_not_the_rollups_are_current(core, caplog):
    """…and does not try to write them (no failed write, no warning: the demo's output stays clean)."""
    config = core.config
    team_ids, rep_ids, customer_ids = _setup(core, random.Random(3))
    rng, items_used = random.Random(4), set()
    now = core.clock.now()
    core.db.call(lambda s: rollups.nightly(s, config, now))
    for _ in range(2):  # current, then with marks pending that a read-only connection cannot apply
        got = core.db.call_read(_figures, config, team_ids, rep_ids, now)
        with rollups.disabled():
            want = core.db.call_read(_figures, config, team_ids, rep_ids, now)
        assert got == want
        core.db.call(lambda s: [_write(s, rng, now, team_ids, rep_ids, customer_ids, items_used) for _ in range(30)])
    assert not [r for r in caplog.records if r.name == "services.rollups" and r.levelname == "WARNING"]
    assert core.db.call_read(lambda s: rollups.is_current(s, config, now.date() - timedelta(days=30),
                                                          now.date() - timedelta(days=2))) is False
