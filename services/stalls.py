"""Stalled deals: no progress for a stage's ``stall_days`` (flag on the rep's card), then
``[coaching] escalate_after_days`` more (a line in the manager's digest).

Progress is what moves a deal along the SOP: entering the stage or completing one of its
checklist steps.  A follow-up alone is not progress ("called again, no answer" seven times
is exactly the deal this is meant to catch).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, and_, case, func, or_, type_coerce, union_all
from sqlmodel import Session, select

from core.config import Config
from services import rollups
from services.top_lists import top_customers_per_team
from storage.models import ChecklistDone, Customer


@dataclass
class Stall:
    customer: Customer
    idle_days: int        # whole days since the last progress
    limit: int            # the stage's stall_days
    escalated: bool       # idle past limit + escalate_after_days: the manager sees it

    @property
    def over_by(self) -> int:
        return self.idle_days - self.limit


def last_progress(session: Session, customers: list[Customer]) -> dict[int, datetime]:
    """Customer id → the later of entering the current stage and the latest checklist step done in it."""
    out = {c.id: c.stage_entered_at for c in customers}
    if not customers:
        return out
    stage_of = {c.id: c.stage for c in customers}
    rows = session.execute(select(ChecklistDone.customer_id, ChecklistDone.stage, func.max(ChecklistDone.at))
                           .where(ChecklistDone.customer_id.in_(list(out)))
                           .group_by(ChecklistDone.customer_id, ChecklistDone.stage))
    for cid, stage, at in rows:
        if stage == stage_of[cid] and at is not None and at > out[cid]:
            out[cid] = at
    return out


def classify(config: Config, customer: Customer, progress: datetime, now: datetime) -> Stall | None:
    limit = config.stall_limit(customer.stage)
    if limit is None or customer.status != "open":
        return None
    idle = (now - progress).days
    if idle < limit:
        return None
    return Stall(customer, idle, limit, idle >= limit + config.coaching.escalate_after_days)


def for_customer(session: Session, config: Config, customer: Customer, now: datetime,
                 steps: tuple[set[str], datetime | None] | None = None) -> Stall | None:
    """``steps``: services.customers.stage_steps of this customer when the caller has read them."""
    if steps is None:
        return classify(config, customer, last_progress(session, [customer])[customer.id], now)
    latest = steps[1]
    progress = latest if latest is not None and latest > customer.stage_entered_at else customer.stage_entered_at
    return classify(config, customer, progress, now)


def team_stalls(session: Session, config: Config, team_ids: list[int], now: datetime) -> dict[int, list[Stall]]:
    """Every open deal of these teams that is stalled now, longest idle first.

    Two queries for all the teams: the deals whose stage entry is past their stage's limit (progress
    can only make a deal less stalled, so this is a superset), then the latest step done in the
    current stage of exactly those deals (a join, not a list of ids).
    """
    out: dict[int, list[Stall]] = {t: [] for t in team_ids}
    past_limit = or_(*[and_(Customer.stage == s.id, Customer.stage_entered_at <= now - timedelta(days=config.stall_limit(s.id)))
                       for s in config.stages])
    where = [Customer.team_id.in_(team_ids), Customer.status == "open", Customer.invalid == False, past_limit]  # noqa: E712
    candidates = list(session.exec(select(Customer).where(*where)))
    if not candidates:
        return out
    progress = {c.id: c.stage_entered_at for c in candidates}
    for cid, at in session.execute(select(ChecklistDone.customer_id, func.max(ChecklistDone.at))
                                   .join(Customer, and_(Customer.id == ChecklistDone.customer_id,
                                                        Customer.stage == ChecklistDone.stage))
                                   .where(*where).group_by(ChecklistDone.customer_id)):
        if at is not None and at > progress[cid]:
            progress[cid] = at
    for c in candidates:
        stall = classify(config, c, progress[c.id], now)
        if stall is not None:
            out[c.team_id].append(stall)
    for stalls in out.values():
        stalls.sort(key=lambda s: (-s.over_by, s.customer.id))
    return out


@dataclass
class Escalated:
    """A deal in the manager's digest: stalled past its limit plus [coaching] escalate_after_days."""
    customer_id: int
    name: str
    owner_id: int | None
    stage: str
    idle_days: int


def escalations(session: Session, config: Config, team_ids: list[int], now: datetime,
                limit: int = 5) -> dict[int, tuple[int, list[Escalated]]]:
    """Per team: how many deals are escalated and the ``limit`` longest idle, in set-based SQL
    (the digest runs this for every team each morning: no customer objects are loaded).

    Progress is the later of entering the current stage and the latest step done in it.  It is read
    from ``customer.progress_at`` (kept by the database's triggers, migration 0009_digest): per stage,
    a range of the index on (team, status, invalid, stage, progress) holds exactly the escalated deals,
    so only those are read — counted per team, and the ``limit`` oldest of each stage per team walked
    in index order.  ``rollups.disabled()`` (the benches' and tests' baseline): computed from the raw
    checklist rows instead."""
    extra = config.coaching.escalate_after_days
    cutoffs = {s.id: now - timedelta(days=config.stall_limit(s.id) + extra) for s in config.stages}
    out: dict[int, tuple[int, list[Escalated]]] = {t: (0, []) for t in team_ids}
    if not team_ids:
        return out
    if not rollups.enabled():
        return _escalations_raw(session, config, team_ids, now, cutoffs, limit, out)

    def escalated(c, stage_id: str) -> list:
        return [c.status == "open", c.invalid == False, c.stage == stage_id, c.progress_at <= cutoffs[stage_id]]  # noqa: E712

    counts = union_all(*[select(Customer.team_id, func.count()).where(Customer.team_id.in_(team_ids),
                                                                      *escalated(Customer, sid))
                         .group_by(Customer.team_id) for sid in cutoffs])
    totals: dict[int, int] = {}
    for team_id, n in session.execute(counts):
        totals[team_id] = totals.get(team_id, 0) + n
    if not totals:
        return out
    teams = sorted(totals)
    rows: dict[int, list] = {t: [] for t in teams}
    for sid in cutoffs:  # each stage's few oldest per team; the team's oldest overall are among them
        for team_id, cid, name, owner_id, stage, at in top_customers_per_team(
                session, teams, lambda c: [c.id, c.name, c.owner_id, c.stage, c.progress_at],
                lambda c, sid=sid: escalated(c, sid), lambda c: [c.progress_at, c.id], limit):
            rows[team_id].append((at, cid, name, owner_id, stage))
    for team_id, found in rows.items():
        found.sort(key=lambda r: (r[0], r[1]))
        out[team_id] = (totals[team_id], [Escalated(cid, name, owner_id, stage, (now - at).days)
                                          for at, cid, name, owner_id, stage in found[:limit]])
    return out


def _escalations_raw(session: Session, config: Config, team_ids: list[int], now: datetime, cutoffs: dict,
                     limit: int, out: dict) -> dict[int, tuple[int, list[Escalated]]]:
    """The same from the raw rows: every open deal that entered its stage before the cutoff, its latest step probed."""
    last_step = (select(func.max(ChecklistDone.at)).where(ChecklistDone.customer_id == Customer.id,
                                                          ChecklistDone.stage == Customer.stage)
                 .correlate(Customer).scalar_subquery())
    cutoff = case(*[(Customer.stage == sid, cut) for sid, cut in cutoffs.items()], else_=None)
    entered_long_ago = or_(*[and_(Customer.stage == sid, Customer.stage_entered_at <= cut) for sid, cut in cutoffs.items()])
    # The latest step is probed once per candidate (innermost query), then compared and ranked.
    steps = (select(Customer.team_id, Customer.id, Customer.name, Customer.owner_id, Customer.stage,
                    cutoff.label("cutoff"), Customer.stage_entered_at.label("entered"), last_step.label("step"))
             .where(Customer.team_id.in_(team_ids), Customer.status == "open", Customer.invalid == False,  # noqa: E712
                    entered_long_ago).subquery())
    progress = type_coerce(case((and_(steps.c.step.is_not(None), steps.c.step > steps.c.entered), steps.c.step),
                                else_=steps.c.entered), DateTime).label("progress")
    base = select(steps.c.team_id, steps.c.id, steps.c.name, steps.c.owner_id, steps.c.stage, steps.c.cutoff,
                  progress).subquery()
    rank = func.row_number().over(partition_by=base.c.team_id, order_by=[base.c.progress, base.c.id]).label("rn")
    total = func.count().over(partition_by=base.c.team_id).label("n")
    inner = (select(base.c.team_id, base.c.id, base.c.name, base.c.owner_id, base.c.stage, base.c.progress, rank, total)
             .where(base.c.progress <= base.c.cutoff).subquery())
    for team_id, cid, name, owner_id, stage, at, _rn, n in session.execute(
            select(inner).where(inner.c.rn <= limit).order_by(inner.c.team_id, inner.c.rn)):
        count, rows = out[team_id]
        rows.append(Escalated(cid, name, owner_id, stage, (now - at).days))
        out[team_id] = (n, rows)
    return out
