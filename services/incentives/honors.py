"""Honors: milestones, the daily data-quality check and its weekly star, the monthly honors."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from core.clock import local_date
from core.config import Config, HonorFormula
from core.texts import t
from services import points as points_svc
from services.incentives.anticheat import request_approval
from services.incentives.common import notify
from services.incentives.profile import dimension_counts, dimension_scores, kpi_score
from services.rep_stats import RepStats, rep_stats, team_users
from storage.models import Activity, Customer, PointsEntry, StageChange, User
from storage.models_incentives import Honor, QualityDay
from storage.rows import locked, run_core


_PE, _AC, _SC = PointsEntry.__table__.c, Activity.__table__.c, StageChange.__table__.c
_MILESTONES_DONE = core_select(_PE.action).where(_PE.user_id == bindparam("uid"), _PE.action.startswith("milestone:"))
_METRIC = {  # a milestone metric's value for one rep (bind parameter uid), as a scalar subquery
    "deals_won": lambda: core_select(func.count()).select_from(StageChange.__table__)
    .where(_SC.by_user_id == bindparam("uid"), _SC.to_stage == "won").scalar_subquery(),
    "followups": lambda: core_select(func.count()).select_from(Activity.__table__)
    .where(_AC.user_id == bindparam("uid"), _AC.kind == "followup").scalar_subquery(),
    "points": lambda: core_select(func.coalesce(func.sum(_PE.points), 0))
    .where(_PE.user_id == bindparam("uid"), _PE.status.in_(points_svc.EARNED)).scalar_subquery(),
}
_METRIC_VALUES: dict[tuple[str, ...], Any] = {}


def _metric_values(metrics: tuple[str, ...]):
    """One statement (built once per set of metrics) selecting each metric's value; a metric that
    is neither deals_won nor followups counts earned points, as before."""
    statement = _METRIC_VALUES.get(metrics)
    if statement is None:
        statement = _METRIC_VALUES[metrics] = core_select(*[_METRIC.get(m, _METRIC["points"])() for m in metrics])
    return statement


def check_milestones(session: Session, config: Config, user: User, entry: PointsEntry, now: datetime) -> list[PointsEntry]:
    awarded: list[PointsEntry] = []
    wanted = {m.metric for m in config.milestones}
    if not wanted:
        return awarded
    # The rep's row is locked first: an award of their own and one given to them by someone else
    # may be checked at the same moment, and the milestone is paid once.
    locked(session, User, User.id == user.id)
    done = set(run_core(session, _MILESTONES_DONE, {"uid": user.id}).scalars())
    todo = [m for m in config.milestones if f"milestone:{m.id}" not in done and m.points > 0]
    if not todo:
        return awarded
    metrics = tuple(sorted({m.metric for m in todo}))
    counts = run_core(session, _metric_values(metrics), {"uid": user.id}).one()  # every metric in one statement
    values: dict[str, int] = {metric: int(value) for metric, value in zip(metrics, counts)}
    for m in todo:
        if values.get(m.metric, 0) >= m.threshold:
            # A system award: no evidence rule and no screens, only the approval a large award needs.
            row = points_svc.record(session, user, f"milestone:{m.id}", m.points, config, now,
                                    evidence_type="milestone", evidence_id=user.id, note=m.label)
            if row is not None:
                if row.status == "pending":
                    request_approval(session, config, user, row, now)
                awarded.append(row)
                notify(session, user, t("milestone_reached", user.language,
                                        label=(m.label_en or m.label) if user.language == "en" else m.label,
                                        points=m.points), f"milestone:{m.id}:{user.id}", now)
    return awarded


def due_missing(config: Config, customer: Any, now: datetime) -> list[str]:
    """Required fields that should be filled by now: the first stage's, every passed stage's, and the
    current stage's once its expected time has run out."""
    from services.cleaning import field_value
    index = config.stage_index(customer.stage)
    if customer.status == "won":
        index = len(config.stages)
    wanted: list[str] = list(config.stages[0].required_fields)
    for i, stage in enumerate(config.stages):
        passed = i < index
        overdue = i == index and now - customer.stage_entered_at > timedelta(days=stage.expected_days)
        if passed or overdue:
            wanted += [f for f in stage.required_fields if f not in wanted]
    return [f for f in wanted if field_value(customer, f) in (None, "", [])]


def quality_snapshot(session: Session, config: Config, team_id: int, now: datetime) -> int:
    """Record today's data-quality check for every rep of the team (one row per rep per local day)."""
    day = local_date(config, now).isoformat()
    reps = team_users(session, team_id)
    if not reps:
        return 0
    per: dict[int, list[int]] = {u.id: [0, 0] for u in reps}
    customers = session.exec(select(Customer).where(
        Customer.team_id == team_id, Customer.status == "open", Customer.invalid == False,  # noqa: E712
        Customer.owner_id.in_(list(per))))
    for c in customers:
        per[c.owner_id][0] += 1
        if due_missing(config, c, now):
            per[c.owner_id][1] += 1
    existing = {row.user_id: row for row in session.exec(select(QualityDay).where(
        QualityDay.team_id == team_id, QualityDay.day == day))}
    for uid, (n, missing) in per.items():
        row = existing.get(uid) or QualityDay(user_id=uid, team_id=team_id, day=day, at=now)
        row.customers, row.missing, row.at = n, missing, now
        session.add(row)
    session.flush()
    return len(per)


def workdays_back(config: Config, today: date, n: int) -> list[date]:
    """The last ``n`` working days up to and including ``today`` (newest first)."""
    from core.config import WEEKDAYS
    days, d = [], today
    while len(days) < n and (today - d).days < 60:
        if WEEKDAYS[d.weekday()] in config.schedule.workdays:
            days.append(d)
        d -= timedelta(days=1)
    return days


def award_quality_stars(session: Session, config: Config, team_id: int, now: datetime) -> list[Honor]:
    """Weekly 数据质量之星: every rep whose last N working-day checks all found nothing missing."""
    today = local_date(config, now)
    days = [d.isoformat() for d in workdays_back(config, today, config.honors.quality_star_days)]
    iso = today.isocalendar()
    period = f"{iso.year}-W{iso.week:02d}"
    rows = session.exec(select(QualityDay.user_id, func.count(), func.sum(QualityDay.missing), func.sum(QualityDay.customers))
                        .where(QualityDay.team_id == team_id, QualityDay.day.in_(days)).group_by(QualityDay.user_id))
    winners = [uid for uid, n, missing, customers in rows
               if n == len(days) and not (missing or 0) and (customers or 0) > 0]
    return _grant(session, config, team_id, "quality_star", period, config.honors.quality_star_label,
                  [(uid, 100.0) for uid in winners], now)


def _grant(session: Session, config: Config, team_id: int, kind: str, period: str, label: str,
           winners: list[tuple[int, float]], now: datetime) -> list[Honor]:
    granted = []
    for uid, score in winners:
        exists = session.exec(select(Honor.id).where(Honor.team_id == team_id, Honor.kind == kind,
                                                     Honor.period == period, Honor.user_id == uid)).first()
        if exists:
            continue
        honor = Honor(user_id=uid, team_id=team_id, kind=kind, period=period, label=label, score=score, at=now)
        session.add(honor)
        granted.append(honor)
    session.flush()
    return granted


def honor_score(formula: HonorFormula, scores: dict[str, float], s: RepStats, config: Config) -> float:
    values = dict(scores)
    values.update({"compliance": s.compliance or 0.0, "kpi": kpi_score(config, s), "target": s.target_pct(),
                   "data_completeness": s.completeness})
    total = sum(formula.weights.values())
    return round(sum(w * values.get(m, 0.0) for m, w in formula.weights.items()) / total, 1)


def monthly_honors(session: Session, config: Config, team_id: int, month_start: datetime, month_end: datetime,
                   period: str, now: datetime) -> list[Honor]:
    """专业顾问 and 最佳协同 for a month, by the playbook's formulas; at most one winner each."""
    if session.exec(select(Honor.id).where(Honor.team_id == team_id, Honor.period == period,
                                           Honor.kind.in_(("advisor", "collaboration")))).first():
        return []
    stats = rep_stats(session, config, team_id, month_start, month_end, now)
    if not stats:
        return []
    counts = dimension_counts(session, config, team_id, month_start, month_end, list(stats))
    scores = dimension_scores(config, counts, stats)
    granted: list[Honor] = []
    for kind in ("advisor", "collaboration"):
        formula: HonorFormula = getattr(config.honors, kind)
        ranked = sorted(((honor_score(formula, scores[uid], stats[uid], config), stats[uid].points, -uid, uid)
                         for uid in stats), reverse=True)
        if ranked and ranked[0][0] >= formula.min_score and ranked[0][0] > 0:
            granted += _grant(session, config, team_id, kind, period, formula.label, [(ranked[0][3], ranked[0][0])], now)
    return granted
