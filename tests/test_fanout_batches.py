"""The morning brief job built in batches (scheduler/briefs.py, scheduler/jobs.py): the same briefs
as one rep at a time, the same buttons as PTB builds, and a run abandoned half-way finished once."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import select

from bench.common import customer_names
from handlers import views
from scheduler import briefs
from storage.models import Customer, JobRun, Outbox, Team, User
from tests.test_perf import add_customers
from tests.test_services import team_with


def _scatter(core, ids, rng, now):
    stages = [s.id for s in core.config.stages]

    def work(session):
        for cid in ids:
            c = session.get(Customer, cid)
            c.stage = rng.choice(stages + ["retired_stage"])
            c.stage_entered_at = now - timedelta(days=rng.uniform(0, 30))
            c.next_followup_at = rng.choice([None, now + timedelta(days=rng.uniform(-3, 3))])
            c.protected_until = rng.choice([None, now + timedelta(days=rng.uniform(-1, 10))])
            c.last_followup_at = rng.choice([None, now - timedelta(days=1)])
            c.intent_level = rng.choice([None, "high", "medium"])
            c.intent_score = rng.choice([None, 0, 35, 70, 70, 99])  # ties: the id breaks them
            c.priority = rng.choice([0, 0, 1, 5])
            c.status = rng.choice(["open", "open", "open", "won"])
            session.add(c)
    core.db.call(work)


def test_batched_briefs_equal_one_rep_at_a_time(core):
    from services.brief import brief_for, briefs_for_many
    _, manager, rep, other = team_with(core)
    rng = random.Random(11)
    now = core.clock.now()
    for owner in (rep, other):
        _scatter(core, add_customers(core, owner, customer_names(80, rng)), rng, now)
    users = [manager, rep, other]

    def both(session):
        team = session.get(Team, rep.team_id)
        many = briefs_for_many(session, core.config, team, [u.id for u in users], now)
        one = {u.id: brief_for(session, core.config, session.get(User, u.id), now) for u in users}
        shape = lambda items: [(i.customer.id, i.reasons, i.score, i.next_item.id if i.next_item else None)  # noqa: E731
                               for i in items]
        return {k: shape(v) for k, v in many.items()}, {k: shape(v) for k, v in one.items()}, many
    many, one, items = core.db.call_read(both)
    assert many == one and len(one[rep.id]) == 15 and len(one[other.id]) == 15
    # The job's buttons are PTB's, without building PTB objects.
    assert briefs.brief_keyboard_dict(items[rep.id]) == views.brief_keyboard(items[rep.id]).to_dict()
    assert briefs.brief_keyboard_dict([]) is None


def test_the_job_in_batches_queues_what_one_transaction_did(core, monkeypatch):
    """Same payloads whether the job runs as one transaction or batch by batch (first batch of 1)."""
    from scheduler.jobs import run_due_jobs
    _, manager, rep, other = team_with(core)
    rng = random.Random(4)
    now = core.clock.now()
    for owner in (rep, other):
        _scatter(core, add_customers(core, owner, customer_names(30, rng)), rng, now)
    from scheduler.jobs import JOBS, latest_slot
    at = core.clock.now() + timedelta(days=7)
    slot = latest_slot(next(j for j in JOBS if j.key == "brief"), core.config, core.config.tz, at)

    def one_transaction(session):
        n = briefs.brief_job(session, core, session.get(Team, rep.team_id), slot)
        rows = {r.dedupe_key: r.payload for r in session.exec(select(Outbox).where(Outbox.kind == "brief"))}
        session.rollback()
        return n, rows
    n, expected = core.db.call(one_transaction)
    assert n >= 2
    monkeypatch.setattr(briefs, "FIRST_BATCH", 1)
    monkeypatch.setattr(briefs, "BATCH", 1)
    commits = []
    done = run_due_jobs(core, now=at, only={"brief"}, on_commit=lambda: commits.append(1))
    assert [status for _, _, status in done] == ["done"]
    assert len(commits) >= 3  # members: manager, two reps, one batch each
    rows = core.db.call(lambda s: {r.dedupe_key: r.payload for r in s.exec(select(Outbox).where(Outbox.kind == "brief"))})
    assert rows == expected


def test_a_run_abandoned_half_way_is_finished_once(core, monkeypatch):
    from scheduler import jobs
    _, manager, rep, other = team_with(core)
    rng = random.Random(5)
    now = core.clock.now()
    for owner in (rep, other):
        add_customers(core, owner, customer_names(5, rng), next_followup_at=now - timedelta(hours=1))
    monkeypatch.setattr(briefs, "FIRST_BATCH", 1)
    monkeypatch.setattr(briefs, "BATCH", 1)
    real_batch = briefs.brief_batch
    calls = []

    def crash_on_third(session, core_, team, slot, ids):
        calls.append(ids)
        if len(calls) == 3:
            raise RuntimeError("the process died")
        return real_batch(session, core_, team, slot, ids)
    monkeypatch.setattr(briefs.brief_job, "batch", crash_on_third)
    at = now + timedelta(days=7)
    assert jobs.run_due_jobs(core, now=at, only={"brief"}) == []
    run = core.db.call(lambda s: s.exec(select(JobRun).where(JobRun.job_key == "brief")).one())
    assert run.status == jobs.RUNNING
    queued = core.db.call(lambda s: len(list(s.exec(select(Outbox.id).where(Outbox.kind == "brief")))))
    # The next tick leaves a fresh heartbeat alone (another instance may be running it) …
    assert jobs.run_due_jobs(core, now=at, only={"brief"}) == []
    # … and finishes a stale one: the briefs already queued are not queued again.
    core.db.call(lambda s: s.execute(update(JobRun).values(detail="heartbeat 2000-01-01T00:00:00")))
    monkeypatch.setattr(briefs.brief_job, "batch", real_batch)
    done = jobs.run_due_jobs(core, now=at, only={"brief"})
    assert [status for _, _, status in done] == ["done"]
    keys = core.db.call(lambda s: list(s.exec(select(Outbox.dedupe_key).where(Outbox.kind == "brief"))))
    assert len(keys) == len(set(keys)) == 2 and queued >= 1  # one brief per rep with customers, each once
    assert core.db.call(lambda s: s.exec(select(JobRun.status).where(JobRun.job_key == "brief")).one()) == "done"
    assert jobs.run_due_jobs(core, now=at, only={"brief"}) == []
