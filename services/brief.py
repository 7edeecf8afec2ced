"""The morning brief and the customer card: what each rep should do next, in priority order."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, select

from core.clock import local_to_utc, to_local
from core.config import ChecklistItem, Config, Stage
from services.customers import open_items, open_items_many
from storage.models import Customer, Team, User

# Why a customer is on today's list, most urgent first; weights order the list.
REASON_WEIGHTS = {"overdue": 100, "due": 80, "pool_warn": 70, "hot": 60, "stale": 40, "new": 30}


@dataclass
class BriefItem:
    customer: Customer
    reasons: list[str]
    next_item: ChecklistItem | None
    score: float


@dataclass
class CardView:
    customer: Customer
    stage: Stage | None
    days_in_stage: int
    late: bool
    items: list[ChecklistItem]
    eta: datetime | None  # expected conversion date (local)
    probability: float | None = None
    reasons: list[str] = field(default_factory=list)
    close: Any = None        # services.intel.CloseEstimate: the probability and what it rests on
    best_time: Any = None    # nlp.contact_time.ContactTime: when the customer replies (local)
    coaching: tuple = (None, ())  # (stall flag, competitors seen): handlers.coaching.card_extra


def local_day_bounds(now: datetime, tz) -> tuple[datetime, datetime]:
    """[start, end) of the team's local day containing ``now``, as naive UTC."""
    local = to_local(now, tz)
    start_local = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    start = local_to_utc(start_local, tz)
    return start, start + timedelta(days=1)


def brief_for(session: Session, config: Config, user: User, now: datetime, limit: int = 15) -> list[BriefItem]:
    """Today's list for one rep: two queries whatever the number of customers (the rows that can
    have a reason, then the checklists of the ``limit`` shown)."""
    team = session.get(Team, user.team_id) if user.team_id else None
    day_start, day_end = local_day_bounds(now, config.tz)
    customers = list(session.exec(select(Customer).where(
        Customer.owner_id == user.id, Customer.status == "open", Customer.invalid == False,  # noqa: E712
        may_have_reason(config, now, day_end))))
    scored: list[tuple[Customer, list[str], float]] = []
    for c in customers:
        reasons = reasons_for(c, config, now, day_start, day_end)
        if not reasons:
            continue
        score = sum(REASON_WEIGHTS[r] for r in reasons) + (c.intent_score or 0) / 10 + c.priority
        scored.append((c, reasons, score))
    scored.sort(key=lambda i: (-i[2], i[0].id))
    scored = scored[:limit]
    open_lists = open_items_many(session, config, [c for c, _, _ in scored], team)
    return [BriefItem(c, reasons, (open_lists[c.id] or [None])[0], score) for c, reasons, score in scored]


# The columns the brief reads (reasons, ranking, the text and its buttons): the job loads these as
# plain rows for a whole batch of reps, not as ORM objects one rep at a time.
BRIEF_COLUMNS = (Customer.id, Customer.owner_id, Customer.name, Customer.stage, Customer.status,
                 Customer.next_followup_at, Customer.protected_until, Customer.intent_level, Customer.intent_score,
                 Customer.priority, Customer.stage_entered_at, Customer.last_followup_at)


def briefs_for_many(session: Session, config: Config, team: Team | None, user_ids: list[int], now: datetime,
                    limit: int = 15) -> dict[int, list[BriefItem]]:
    """``brief_for`` for many reps of one team with two queries in all (the morning job's batches).

    The score (``REASON_WEIGHTS`` of ``reasons_for`` + intent / 10 + priority) is computed in SQL and
    each rep's first ``limit`` rows are picked there (ROW_NUMBER() per owner), so only the rows shown
    come back; ``reasons_for`` and the score are then computed in Python for those, exactly as
    ``brief_for`` does, and ``BriefItem.customer`` is a row of BRIEF_COLUMNS."""
    if not user_ids:
        return {}
    day_start, day_end = local_day_bounds(now, config.tz)
    score = _score_sql(config, now, day_start, day_end)
    rank = func.row_number().over(partition_by=Customer.owner_id, order_by=(score.desc(), Customer.id)).label("rn")
    inner = (select(*BRIEF_COLUMNS, score.label("score"), rank).where(
        Customer.owner_id.in_(user_ids), Customer.status == "open", Customer.invalid == False,  # noqa: E712
        may_have_reason(config, now, day_end)).subquery())
    rows = session.execute(select(*[inner.c[c.key] for c in BRIEF_COLUMNS])
                           .where(inner.c.rn <= limit, inner.c.score > 0))
    by_owner: dict[int, list] = {uid: [] for uid in user_ids}
    for c in rows:
        reasons = reasons_for(c, config, now, day_start, day_end)
        if reasons:
            by_owner[c.owner_id].append((c, reasons, sum(REASON_WEIGHTS[r] for r in reasons) + (c.intent_score or 0) / 10
                                         + c.priority))
    shown = []
    for scored in by_owner.values():
        scored.sort(key=lambda i: (-i[2], i[0].id))
        shown += [c for c, _, _ in scored]
    open_lists = open_items_many(session, config, shown, team)
    return {uid: [BriefItem(c, reasons, (open_lists[c.id] or [None])[0], score) for c, reasons, score in scored]
            for uid, scored in by_owner.items()}


def _score_sql(config: Config, now: datetime, day_start: datetime, day_end: datetime):
    """``reasons_for``'s weights + intent / 10 + priority as SQL; 0 weight = no reason (then never shown)."""
    w = REASON_WEIGHTS
    first = config.stages[0].id
    parts = [
        case((Customer.next_followup_at < day_start, w["overdue"]), (Customer.next_followup_at < day_end, w["due"]),
             else_=0),
        case((Customer.protected_until <= now + timedelta(days=config.pool.warn_before_days), w["pool_warn"]), else_=0),
        case((Customer.intent_level == "high", w["hot"]), else_=0),
        case(*[(and_(Customer.stage == s.id, Customer.stage_entered_at < now - timedelta(days=s.expected_days)),
                w["stale"]) for s in config.stages], else_=0),
        case((and_(Customer.stage == first, Customer.last_followup_at.is_(None)), w["new"]), else_=0),
    ]
    weights = parts[0] + parts[1] + parts[2] + parts[3] + parts[4]
    return case((weights > 0, weights + func.coalesce(Customer.intent_score, 0) / 10.0 + Customer.priority), else_=0)


def may_have_reason(config: Config, now: datetime, day_end: datetime):
    """SQL for "reasons_for could find a reason": the rows without one are not loaded."""
    first = config.stages[0].id
    return or_(Customer.next_followup_at < day_end,
               Customer.protected_until <= now + timedelta(days=config.pool.warn_before_days),
               Customer.intent_level == "high",
               *[and_(Customer.stage == s.id, Customer.stage_entered_at < now - timedelta(days=s.expected_days))
                 for s in config.stages],
               and_(Customer.stage == first, Customer.last_followup_at.is_(None)))


def reasons_for(c: Customer, config: Config, now: datetime, day_start: datetime, day_end: datetime) -> list[str]:
    reasons = []
    if c.next_followup_at is not None:
        if c.next_followup_at < day_start:
            reasons.append("overdue")
        elif c.next_followup_at < day_end:
            reasons.append("due")
    if c.protected_until and c.protected_until - now <= timedelta(days=config.pool.warn_before_days):
        reasons.append("pool_warn")
    if c.intent_level == "high":
        reasons.append("hot")
    stage = config.stage(c.stage)
    if stage and now - c.stage_entered_at > timedelta(days=stage.expected_days):
        reasons.append("stale")
    if c.stage == config.stages[0].id and c.last_followup_at is None:
        reasons.append("new")
    return reasons


def card_view(session: Session, config: Config, customer: Customer, now: datetime,
              done: set[str] | None = None, team: Team | None | bool = False) -> CardView:
    """``done``: the current stage's steps done (services.customers.stage_steps), ``team``: the
    customer's team (None: it has none) — each if the caller has read it already."""
    if team is False:
        team = session.get(Team, customer.team_id)
    stage = config.stage(customer.stage)
    days = max(0, (now - customer.stage_entered_at).days)
    late = bool(stage and days > stage.expected_days)
    eta = expected_conversion(config, customer, now)
    view = CardView(customer, stage, days, late, open_items(session, config, customer, team, done),
                    to_local(eta, config.tz) if eta else None)
    return view


def expected_conversion(config: Config, customer: Customer, now: datetime) -> datetime | None:
    """Now plus the remaining expected days of this stage and of every stage up to payment."""
    index = config.stage_index(customer.stage)
    if index < 0 or customer.status != "open":
        return None
    current = config.stages[index]
    remaining = max(0, current.expected_days - (now - customer.stage_entered_at).days)
    # The final stage (payment) is where conversion is recorded, so count up to entering it.
    for stage in config.stages[index + 1:-1]:
        remaining += stage.expected_days
    return now + timedelta(days=remaining)


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_script(template: str, customer: Customer, rep_name: str, team_name: str) -> str:
    """Fill a playbook script: {rep} {team} {customer} {company} {industry}; unknown names stay."""
    values = _Keep(rep=rep_name or "", team=team_name or "", customer=customer.name,
                   company=customer.company or "贵公司", industry=customer.industry or "同行业")
    try:
        return template.format_map(values)
    except (ValueError, IndexError):  # a stray brace in a manager's script must not break the card
        return template
