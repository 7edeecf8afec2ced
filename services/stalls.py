"""Stalled deals: no progress for a stage's ``stall_days`` (flag on the rep's card), then
``[coaching] escalate_after_days`` more (a line in the manager's digest).

Progress is what moves a deal along the SOP: entering the stage or completing one of its
checklist steps.  A follow-up alone is not progress ("called again, no answer" seven times
is exactly the deal this is meant to catch).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from core.config import Config
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


def for_customer(session: Session, config: Config, customer: Customer, now: datetime) -> Stall | None:
    return classify(config, customer, last_progress(session, [customer])[customer.id], now)


def team_stalls(session: Session, config: Config, team_ids: list[int], now: datetime) -> dict[int, list[Stall]]:
    """Every open deal of these teams that is stalled now, longest idle first (one pass per team set)."""
    out: dict[int, list[Stall]] = {t: [] for t in team_ids}
    # Only deals whose stage entry is older than the shortest limit can be stalled: a cheap first cut.
    shortest = min((config.stall_limit(s.id) or 10**6) for s in config.stages)
    candidates = list(session.exec(select(Customer).where(
        Customer.team_id.in_(team_ids), Customer.status == "open", Customer.invalid == False,  # noqa: E712
        Customer.stage_entered_at <= now - timedelta(days=shortest))))
    progress = last_progress(session, candidates)
    for c in candidates:
        stall = classify(config, c, progress[c.id], now)
        if stall is not None:
            out[c.team_id].append(stall)
    for stalls in out.values():
        stalls.sort(key=lambda s: (-s.over_by, s.customer.id))
    return out
