"""Scheduled jobs, run exactly once per slot.

PTB's JobQueue (APScheduler) calls ``tick`` every few seconds.  ``tick`` works out, for each
job and team, the latest slot (e.g. today 08:30 in the team's zone) and runs the job if no
JobRun row exists for it — inserting that row in the same transaction as the job's outbox
messages.  So a restart, a second instance or a redelivered tick cannot run a slot twice; a
slot missed while the bot was down runs on start if still within the grace period, and is
recorded as skipped otherwise.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.clock import local_to_utc, to_local
from core.config import WEEKDAYS, Config, parse_hhmm
from services.core import Core
from storage.models import JobRun, Team

log = logging.getLogger(__name__)

JobFn = Callable[[Session, Core, Team, datetime], int]


@dataclass(frozen=True)
class JobSpec:
    key: str
    time_of: Callable[[Config], str]
    days_of: Callable[[Config], list[str]]
    fn_path: str  # "module:function", imported lazily so optional features plug in


ALL_DAYS = lambda c: list(WEEKDAYS)  # noqa: E731
REFIT_TIME = "03:40"  # local, a quiet hour
ROLLUP_TIME = "00:20"  # local: just after the day closed (scheduler/rollups.py)

JOBS: list[JobSpec] = [
    JobSpec("pool_recycle", lambda c: c.schedule.pool_recycle_time, ALL_DAYS, "scheduler.pool:recycle"),
    JobSpec("digest", lambda c: c.schedule.digest_time, lambda c: c.schedule.workdays, "scheduler.briefs:digest_job"),
    JobSpec("brief", lambda c: c.schedule.brief_time, lambda c: c.schedule.workdays, "scheduler.briefs:brief_job"),
    JobSpec("spot_check", lambda c: c.schedule.spot_check_time, lambda c: c.schedule.workdays, "scheduler.spotcheck:spot_check_job"),
    JobSpec("leaderboard_daily", lambda c: c.schedule.leaderboard_daily, lambda c: c.schedule.workdays,
            "scheduler.boards:daily_board_job"),
    JobSpec("leaderboard_weekly", lambda c: c.schedule.leaderboard_weekly_time, lambda c: [c.schedule.leaderboard_weekly_day],
            "scheduler.boards:weekly_board_job"),
    JobSpec("weekly_review", lambda c: c.coaching.review_time, lambda c: [c.coaching.review_day],
            "scheduler.coaching:review_job"),  # the managers' weekly 复盘 (issue 16)
    # The team's own intent reading, refitted from its 准/不准 labels (issue 13 item 6).
    JobSpec("feedback_refit", lambda c: REFIT_TIME, ALL_DAYS, "scheduler.feedback:refit_job"),
    # Per-rep daily rollups of the closed days the digests, boards and KPI windows read (issue 18).
    JobSpec("rollups", lambda c: ROLLUP_TIME, ALL_DAYS, "scheduler.rollups:rollup_job"),
    # Connectors (scheduler/connectors.py): one spec per connector and hour; an hour the connector
    # does not run has no days, so it never comes due (ERP daily "02:00", chat archive "hourly:05").
    *[JobSpec(f"connector_{name}_{hour:02d}", lambda c, n=name, h=hour: c.connectors[n].slot_time(h),
              lambda c, n=name, h=hour: list(WEEKDAYS) if c.connectors[n].runs_at_hour(h) else [],
              f"scheduler.connectors:{name}_job") for name in ("erp", "chat_archive") for hour in range(24)],
]


def latest_slot(spec: JobSpec, config: Config, tz: ZoneInfo, now: datetime) -> datetime | None:
    """The most recent scheduled local time at or before ``now`` (naive UTC in, naive UTC out)."""
    at = parse_hhmm(spec.time_of(config))
    days = set(spec.days_of(config))
    local_now = to_local(now, tz).replace(tzinfo=None)
    for back in range(0, 8):
        day = (local_now - timedelta(days=back)).date()
        if WEEKDAYS[day.weekday()] not in days:
            continue
        slot_local = datetime.combine(day, at)
        if slot_local <= local_now:
            return local_to_utc(slot_local, tz)
    return None


def _resolve(path: str) -> JobFn | None:
    module_name, _, attr = path.partition(":")
    try:
        module = __import__(module_name, fromlist=[attr])
    except ImportError:
        return None
    return getattr(module, attr, None)


def run_due_jobs(core: Core, now: datetime | None = None, only: set[str] | None = None,
                 on_commit: Callable[[], None] | None = None) -> list[tuple[str, str, str]]:
    """Run every due (job, team, slot) once. Returns (job, slot, status) for what happened.

    ``on_commit`` is called (from this thread) after each committed batch of a batched job, so the
    sender can start on the first briefs while the rest are still being built."""
    now = now or core.clock.now()
    done: list[tuple[str, str, str]] = []
    grace = timedelta(minutes=core.config.schedule.misfire_grace_minutes)
    teams = core.db.call(lambda s: list(s.exec(select(Team))))
    # Each team's job times and workdays come from the playbook version it runs (the console's editor).
    from services.playbook import config_for
    configs = core.db.call(lambda s: {t.id: config_for(s, core, t.id) for t in teams})
    for spec in JOBS:
        if only and spec.key not in only:
            continue
        fn = _resolve(spec.fn_path)
        if fn is None:
            continue
        for team in teams:
            tz = ZoneInfo(team.timezone or core.config.team.timezone)
            slot = latest_slot(spec, configs.get(team.id, core.config), tz, now)
            if slot is None:
                continue
            slot_key = f"{team.id}:{to_local(slot, tz):%Y-%m-%dT%H:%M}"
            status = _run_slot(core, spec, fn, team, slot, slot_key, now, grace, on_commit)
            if status:
                done.append((spec.key, slot_key, status))
    return done


def _run_slot(core: Core, spec: JobSpec, fn: JobFn, team: Team, slot: datetime, slot_key: str,
              now: datetime, grace: timedelta, on_commit: Callable[[], None] | None = None) -> str | None:
    from core.logctx import reset_context, set_context
    token = set_context(job=f"{spec.key}:{slot_key}")
    try:
        if getattr(fn, "batches", None) is not None:
            return _run_batched(core, spec, fn, team, slot, slot_key, now, grace, on_commit)
        return _run_slot_inner(core, spec, fn, team, slot, slot_key, now, grace)
    finally:
        reset_context(token)


class _ClaimedElsewhere(Exception):
    """Another instance inserted this slot's JobRun first."""


def _run_slot_inner(core: Core, spec: JobSpec, fn: JobFn, team: Team, slot: datetime, slot_key: str,
                    now: datetime, grace: timedelta) -> str | None:
    late = now - slot

    def work(session: Session) -> tuple[str, int] | None:
        if session.exec(select(JobRun.id).where(JobRun.job_key == spec.key, JobRun.slot == slot_key)).first():
            return None
        skipped = late > grace
        try:
            with session.begin_nested():
                session.add(JobRun(job_key=spec.key, slot=slot_key, status="skipped" if skipped else "done", at=now,
                                   detail=f"missed by {late}, grace {grace}" if skipped else ""))
                session.flush()  # claim the slot first: a concurrent instance fails here, before any work
        except IntegrityError:
            raise _ClaimedElsewhere from None
        if skipped:
            return "skipped", 0
        return "done", fn(session, core, team, slot) or 0

    try:
        result = core.db.call(work)
    except _ClaimedElsewhere:
        return None
    except Exception:  # one broken job (or the database away) must not stop the others; retried next tick
        log.exception("job %s slot %s failed; it is retried on the next tick (within its grace period)",
                      spec.key, slot_key)
        return None
    if result is None:
        return None
    status, count = result
    if status == "skipped":
        log.warning("job %s slot %s skipped: missed by %s (grace %s)", spec.key, slot_key, late, grace)
    else:
        log.info("job %s slot %s done%s: %s message(s) queued", spec.key, slot_key,
                 f" late by {late}" if late > timedelta(minutes=1) else "", count)
    return status


RUNNING = "running"
STALE_S = 120.0  # a "running" slot whose last batch committed this long ago (database clock) was abandoned


def _heartbeat(session: Session) -> str:
    from scheduler.leader import db_now
    return f"heartbeat {db_now(session).isoformat()}"


def _run_batched(core: Core, spec: JobSpec, fn, team: Team, slot: datetime, slot_key: str, now: datetime,
                 grace: timedelta, on_commit: Callable[[], None] | None) -> str | None:
    """A job whose messages are committed batch by batch (the morning briefs).

    The slot's JobRun row is claimed as "running" in the first transaction, with the first batch;
    every later batch is its own transaction that also renews the row's heartbeat, and the last one
    marks it "done".  Each message keeps its unique dedupe key, so a run abandoned half-way (a
    crash, a restart) is finished by whichever instance finds the heartbeat stale: the batches
    already committed are not queued twice, and the rest are queued once."""
    late = now - slot

    def claim(session: Session) -> tuple[str, list[list[int]], int] | None:
        from scheduler.leader import db_now
        run = session.exec(select(JobRun).where(JobRun.job_key == spec.key, JobRun.slot == slot_key)).first()
        if run is not None:
            if run.status != RUNNING:
                return None
            beat = run.detail.removeprefix("heartbeat ")
            try:
                stale = (db_now(session) - datetime.fromisoformat(beat)).total_seconds() > STALE_S
            except ValueError:
                stale = True
            if not stale:
                return None  # another instance (or an earlier tick) is still running it
            taken = session.execute(update(JobRun).where(JobRun.id == run.id, JobRun.detail == run.detail)
                                    .values(detail=_heartbeat(session)))
            if taken.rowcount != 1:
                return None
            log.warning("job %s slot %s: taking over a run abandoned half-way", spec.key, slot_key)
        else:
            skipped = late > grace
            try:
                with session.begin_nested():
                    session.add(JobRun(job_key=spec.key, slot=slot_key, status="skipped" if skipped else RUNNING, at=now,
                                       detail=f"missed by {late}, grace {grace}" if skipped else _heartbeat(session)))
                    session.flush()  # a concurrent instance fails here, before any work
            except IntegrityError:
                raise _ClaimedElsewhere from None
            if skipped:
                return "skipped", [], 0
        batches = fn.batches(session, core, team, slot)
        first = fn.batch(session, core, team, slot, batches[0]) if batches else 0
        return "running", batches[1:], first

    try:
        claimed = core.db.call(claim)
    except _ClaimedElsewhere:
        return None
    except Exception:
        log.exception("job %s slot %s failed; it is retried on the next tick (within its grace period)", spec.key, slot_key)
        return None
    if claimed is None:
        return None
    status, rest, count = claimed
    if status == "skipped":
        log.warning("job %s slot %s skipped: missed by %s (grace %s)", spec.key, slot_key, late, grace)
        return status
    if on_commit is not None:
        on_commit()

    def batch(session: Session, ids: list[int], last: bool) -> int:
        n = fn.batch(session, core, team, slot, ids)
        values = {"status": "done", "detail": ""} if last else {"detail": _heartbeat(session)}
        session.execute(update(JobRun).where(JobRun.job_key == spec.key, JobRun.slot == slot_key).values(**values))
        return n

    try:
        for i, ids in enumerate(rest):
            count += core.db.call(batch, ids, False)
            if on_commit is not None:
                on_commit()
        core.db.call(batch, [], True)
    except Exception:  # the heartbeat goes stale and the next tick after STALE_S finishes the run
        log.exception("job %s slot %s failed after %s message(s); the rest is queued once the run is found abandoned",
                      spec.key, slot_key, count)
        return None
    log.info("job %s slot %s done%s: %s message(s) queued", spec.key, slot_key,
             f" late by {late}" if late > timedelta(minutes=1) else "", count)
    return "done"


async def tick(core: Core, sender=None) -> list[tuple[str, str, str]]:
    """One scheduler pass (leader only), off the event loop."""
    leader = getattr(core, "leader", None)
    if leader is not None and not await leader.refresh_if_due(core):
        return []
    import asyncio
    loop = asyncio.get_running_loop()
    try:
        wake = (lambda: loop.call_soon_threadsafe(sender.wake)) if sender is not None else None
        done = await loop.run_in_executor(None, lambda: run_due_jobs(core, on_commit=wake))
    except Exception as exc:  # e.g. the database briefly unavailable: the next tick tries again
        log.warning("scheduler tick failed (%s: %s); retrying on the next tick", exc.__class__.__name__, exc)
        return []
    from scheduler.reminders import fire_reminders
    try:
        fired = await core.db.run(fire_reminders, core, core.clock.now())
    except Exception:
        log.exception("reminders failed; retried on the next tick")
        fired = 0
    if (done or fired) and sender is not None:
        sender.wake()
    return done
