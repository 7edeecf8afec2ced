"""Per-rep daily rollups (storage/models_rollup.py): closed local days are counted once, today is read raw.

The digests, boards and KPI windows count a rep's ledger points, stage moves and checklist items
over a window of days, and yesterday's activities by kind.  For closed days those counts come from
``RepDay`` / ``RepKind`` rows: computed per day (the nightly job, or on demand for a missing day),
and kept exact by construction — database triggers (migration 0008_rollup) write a (rep, time) mark
for every insert, change or delete of a counted row (an activity undone, a pending ledger entry
approved or rejected, a customer marked invalid or moved to another team, …), and ``ensure`` first
recomputes every marked (rep, day) of a computed day from the raw tables before anything is read.

Only local days in ``config.tz`` are rolled up; a day computed under another time zone counts as
missing.  ``disabled()`` makes every reader count raw (the benchmark's baseline, the tests' oracle).
"""
from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Iterable, Iterator

from sqlalchemy import case, delete, func, insert, select
from sqlmodel import Session

from core.clock import local_date, local_to_utc
from core.config import Config
from services import points as points_svc
from storage.db import is_read_only
from storage.models import Activity, ChecklistDone, Customer, PointsEntry, StageChange, User
from storage.models_rollup import RepDay, RepKind, RollupDay, RollupDirty

log = logging.getLogger(__name__)
COUNTS = ("points", "moves", "moves_complete", "deals", "items", "items_on_time")
_CHUNK = 500
_enabled = True


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Every reader counts from the raw tables inside this block."""
    global _enabled
    before, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = before


def enabled() -> bool:
    return _enabled


def tz_name(config: Config) -> str:
    return getattr(config.tz, "key", None) or str(config.tz)


def day_start(config: Config, day: date) -> datetime:
    return local_to_utc(datetime.combine(day, time.min), config.tz)


def _chunks(items: list, size: int = _CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# --- computing ------------------------------------------------------------------------------------

def _counts(session: Session, config: Config, day: date, user_ids: list[int] | None) -> tuple[dict, dict]:
    """One day's raw counts: {(team, user): {column: n}} and {(user, kind): n}, for ``user_ids`` or everyone."""
    start, end = day_start(config, day), day_start(config, day + timedelta(days=1))

    def reps(column):  # the (rep, at) indexes: one range per rep, the day's rows only
        return column.in_(user_ids) if user_ids is not None else column.in_(select(User.id))

    rows: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    for uid, team, total in session.execute(
            select(PointsEntry.user_id, PointsEntry.team_id, func.sum(PointsEntry.points))
            .where(reps(PointsEntry.user_id), PointsEntry.at >= start, PointsEntry.at < end,
                   PointsEntry.status.in_(points_svc.EARNED), PointsEntry.team_id.is_not(None))
            .group_by(PointsEntry.user_id, PointsEntry.team_id)):
        rows[(team, uid)]["points"] = int(total or 0)
    won = case((StageChange.to_stage == "won", 1), else_=0)
    complete = case((StageChange.complete_data == True, 1), else_=0)  # noqa: E712
    for uid, team, n, ok, deals in session.execute(
            select(StageChange.by_user_id, Customer.team_id, func.count(), func.sum(complete), func.sum(won))
            .join(Customer, Customer.id == StageChange.customer_id)
            .where(reps(StageChange.by_user_id), StageChange.at >= start, StageChange.at < end,
                   StageChange.from_stage.is_not(None), Customer.invalid == False)  # noqa: E712
            .group_by(StageChange.by_user_id, Customer.team_id)):
        r = rows[(team, uid)]
        r["moves"], r["moves_complete"], r["deals"] = int(n), int(ok or 0), int(deals or 0)
    on_time = case((ChecklistDone.within_expected == True, 1), else_=0)  # noqa: E712
    for uid, team, n, ok in session.execute(
            select(ChecklistDone.user_id, Customer.team_id, func.count(), func.sum(on_time))
            .join(Customer, Customer.id == ChecklistDone.customer_id)
            .where(reps(ChecklistDone.user_id), ChecklistDone.at >= start, ChecklistDone.at < end,
                   Customer.invalid == False)  # noqa: E712
            .group_by(ChecklistDone.user_id, Customer.team_id)):
        r = rows[(team, uid)]
        r["items"], r["items_on_time"] = int(n), int(ok or 0)
    kinds = {(uid, kind): int(n) for uid, kind, n in session.execute(
        select(Activity.user_id, Activity.kind, func.count())
        .where(reps(Activity.user_id), Activity.at >= start, Activity.at < end)
        .group_by(Activity.user_id, Activity.kind))}
    return rows, kinds


def _write(session: Session, day: date, rows: dict, kinds: dict) -> None:
    session.info.pop(_WINDOW, None)  # every rollup write comes here: a window read earlier in this session is stale now
    conn = session.connection()  # Core executemany: the ORM's per-row bulk bookkeeping was most of a day's cost
    values = [{"team_id": team, "day": day, "user_id": uid, **r} for (team, uid), r in rows.items() if any(r.values())]
    for chunk in _chunks(values, 5000):
        conn.execute(insert(RepDay.__table__), chunk)
    values = [{"day": day, "user_id": uid, "kind": kind, "n": n} for (uid, kind), n in kinds.items() if n]
    for chunk in _chunks(values, 5000):
        conn.execute(insert(RepKind.__table__), chunk)


def compute_day(session: Session, config: Config, day: date, now: datetime) -> None:
    """(Re)count one closed local day for every rep; its pending marks are dropped first (a write
    that lands after this reads the raw rows marks the day again)."""
    start, end = day_start(config, day), day_start(config, day + timedelta(days=1))
    session.execute(delete(RollupDirty).where(RollupDirty.at >= start, RollupDirty.at < end))
    session.execute(delete(RepDay).where(RepDay.day == day))
    session.execute(delete(RepKind).where(RepKind.day == day))
    session.execute(delete(RollupDay).where(RollupDay.day == day))
    rows, kinds = _counts(session, config, day, None)
    _write(session, day, rows, kinds)
    session.execute(insert(RollupDay).values(day=day, tz=tz_name(config), computed_at=now))


def recompute(session: Session, config: Config, day: date, user_ids: list[int]) -> None:
    """Recount the given reps' rows of one computed day."""
    for chunk in _chunks(sorted(set(user_ids))):
        session.execute(delete(RepDay).where(RepDay.user_id.in_(chunk), RepDay.day == day))
        session.execute(delete(RepKind).where(RepKind.day == day, RepKind.user_id.in_(chunk)))
        rows, kinds = _counts(session, config, day, chunk)
        _write(session, day, rows, kinds)


def computed_days(session: Session, config: Config) -> set[date]:
    tz = tz_name(config)
    return {d for d, z in session.execute(select(RollupDay.day, RollupDay.tz)) if z == tz}


def apply_marks(session: Session, config: Config, before: datetime, done: set[date] | None = None) -> int:
    """Recount every marked (rep, day) of a computed day before ``before`` (a local midnight); returns
    the marks consumed.  The marks are deleted before the raw rows are read, so a write that commits
    meanwhile keeps its own mark and is counted again next time.  ``done``: ``computed_days`` when
    the caller has read it."""
    marks = session.execute(select(RollupDirty.id, RollupDirty.user_id, RollupDirty.at)
                            .where(RollupDirty.at < before)).all()
    if not marks:
        return 0
    for chunk in _chunks([m[0] for m in marks]):
        session.execute(delete(RollupDirty).where(RollupDirty.id.in_(chunk)))
    done = computed_days(session, config) if done is None else done
    touched: dict[date, set[int]] = defaultdict(set)
    for _id, uid, at in marks:
        day = local_date(config, at)
        if uid is not None and day in done:
            touched[day].add(uid)
    for day, users in sorted(touched.items()):
        recompute(session, config, day, list(users))
    return len(marks)


def ensure(session: Session, config: Config, first: date, last: date, now: datetime) -> None:
    """Make the rollups of days ``first``…``last`` (closed days) exact: pending marks applied, missing days computed."""
    if last < first:
        return
    done = computed_days(session, config)  # applying marks recounts computed days, adds none
    apply_marks(session, config, day_start(config, last + timedelta(days=1)), done)
    day = first
    while day <= last:
        if day not in done:
            compute_day(session, config, day, now)
        day += timedelta(days=1)


MAX_MISSING = 2  # days a reader computes itself (yesterday before the nightly job ran); more: it counts raw


def _missing(session: Session, config: Config, first: date, last: date) -> int:
    done = session.execute(select(func.count()).select_from(RollupDay).where(
        RollupDay.day >= first, RollupDay.day <= last, RollupDay.tz == tz_name(config))).scalar()
    return (last - first).days + 1 - done


def _marked(session: Session, config: Config, last: date) -> bool:
    """A pending mark before the end of ``last``."""
    end = day_start(config, last + timedelta(days=1))
    return session.execute(select(RollupDirty.id).where(RollupDirty.at < end).limit(1)).first() is not None


def is_current(session: Session, config: Config, first: date, last: date) -> bool:
    """No pending mark before the end of ``last`` and every day ``first``…``last`` computed (two small reads)."""
    return last < first or (not _marked(session, config, last) and _missing(session, config, first, last) == 0)


def try_ensure(session: Session, config: Config, first: date, last: date, now: datetime) -> bool:
    """``ensure`` in a savepoint; False when the rollups cannot be brought current here (more than
    MAX_MISSING days never rolled up, a read-only connection, a concurrent refresh that won the
    race): the caller counts raw instead."""
    if not _enabled:
        return False
    if last < first:
        return True
    # is_current, keeping the count of missing days for below when it was read
    missing = None if _marked(session, config, last) else _missing(session, config, first, last)
    if missing == 0:                                # the usual case after the nightly job: reads only
        return True
    if is_read_only(session):
        return False                                # a reader cannot write the rollups: count raw
    if missing is None:
        missing = _missing(session, config, first, last)
    if missing > MAX_MISSING:
        # Days the nightly job does not keep (an old month, a fresh database): one team's raw count is
        # cheaper than rolling up every rep's days inside this request.
        return False
    try:
        with session.begin_nested():
            ensure(session, config, first, last, now)
        return True
    except Exception as exc:  # noqa: BLE001 — any failure falls back to the raw count, which is always exact
        log.warning("rollups not brought current (%s: %s): counting raw", type(exc).__name__, exc)
        return False


def closed_span(config: Config, start: datetime, end: datetime, now: datetime) -> tuple[date, date, datetime] | None:
    """For a window [start, end): the closed local days it covers from its start (first, last) and
    where the raw part begins; None when the window does not start on a past local midnight."""
    today = local_date(config, now)
    first = local_date(config, start)
    if day_start(config, first) != start or first >= today:
        return None
    split = min(end, day_start(config, today))
    last = local_date(config, split) - timedelta(days=1)
    if day_start(config, last + timedelta(days=1)) != split or last < first:
        return None
    return first, last, split


# --- reading ----------------------------------------------------------------------------------------

_WINDOW = "rollups.window"  # session.info: the widest window read for many reps — (teams, reps), first, last, its sums
_REUSED = "rollups.window_reused"  # session.info: how many windows were derived from it


def _window_query(session: Session, team_ids: list[int], first: date, last: date,
                  user_ids: list[int] | None) -> dict[int, dict[str, int]]:
    query = (select(RepDay.user_id, *[func.coalesce(func.sum(getattr(RepDay, c)), 0) for c in COUNTS])
             .where(RepDay.team_id.in_(team_ids), RepDay.day >= first, RepDay.day <= last))
    if user_ids is not None:
        query = query.where(RepDay.user_id.in_(user_ids))
    return {row[0]: dict(zip(COUNTS, map(int, row[1:]))) for row in session.execute(query.group_by(RepDay.user_id))}


def window_counts(session: Session, team_ids: list[int], first: date, last: date,
                  user_ids: list[int] | None = None) -> dict[int, dict[str, int]]:
    """Per rep: the COUNTS summed over days ``first``…``last`` for rows of ``team_ids`` (a rep whose sums
    are all 0 may be left out).

    A window read earlier in the same session for the same teams and reps (the digest's 30-day KPI window,
    then the board's month) is reused: when it covers this one, only the days outside this one are read
    and subtracted (the board's month: 4 days read instead of 26).  Any rollup write in the session
    (compute_day, recompute) drops it, so the sums stay those of the rows."""
    key = (tuple(team_ids), None if user_ids is None else tuple(user_ids))
    cached = session.info.get(_WINDOW)
    if cached is not None and cached[0] == key and cached[1] <= first and last <= cached[2] \
            and (first - cached[1]).days + (cached[2] - last).days < (last - first).days + 1:
        out = {uid: dict(counts) for uid, counts in cached[3].items()}
        for lo, hi in ((cached[1], first - timedelta(days=1)), (last + timedelta(days=1), cached[2])):
            if lo <= hi:
                for uid, counts in _window_query(session, team_ids, lo, hi, user_ids).items():
                    row = out[uid]  # a rep with rows in a part of the window has them in the whole
                    for c, v in counts.items():
                        row[c] -= v
        session.info[_REUSED] = session.info.get(_REUSED, 0) + 1
        return {uid: counts for uid, counts in out.items() if any(counts.values())}
    out = _window_query(session, team_ids, first, last, user_ids)
    if user_ids is None and (cached is None or (last - first) > (cached[2] - cached[1])):  # the widest kept
        session.info[_WINDOW] = (key, first, last, out)
    return out


def day_kinds(session: Session, day: date, user_ids) -> dict[int, dict[str, int]]:
    """Rep → kind → activities of ``day``; ``user_ids``: a list, or a SELECT of ids (one statement)."""
    out: dict[int, dict[str, int]] = {}
    for chunk in _chunks(list(user_ids), 10_000) if isinstance(user_ids, (list, tuple, set)) else [user_ids]:
        for uid, kind, n in session.execute(select(RepKind.user_id, RepKind.kind, RepKind.n)
                                            .where(RepKind.day == day, RepKind.user_id.in_(chunk))):
            out.setdefault(uid, {})[kind] = int(n)
    return out


def nightly(session: Session, config: Config, now: datetime, days: int = 31) -> None:
    """The scheduler's job: the last ``days`` closed days computed and current."""
    today = local_date(config, now)
    ensure(session, config, today - timedelta(days=days), today - timedelta(days=1), now)
