"""KPI, compliance and the ability profile (dimension scores against the team), with its caption and radar."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from core.config import Config, Dimension
from core.texts import t, tp
from services import points as points_svc
from services.incentives.common import honor_label
from services.rep_stats import RepStats, _ComplianceFigures, day_bounds, rep_stats, team_users
from storage.models import Activity, ChecklistDone, Customer, PointsEntry, StageChange, User
from storage.models_incentives import Honor


def kpi_window(config: Config, now: datetime) -> tuple[datetime, datetime]:
    _, end = day_bounds(config, now)
    return end - timedelta(days=config.kpi.window_days), end


def kpi_components(config: Config, s: RepStats) -> dict[str, float]:
    """Each KPI metric 0-100; a metric with nothing to measure yet counts 0."""
    return {
        "data_completeness": s.completeness,
        "compliance": s.compliance or 0.0,
        "target": s.target_pct(),
        "followup": s.followup_pct or 0.0,
    }


def kpi_score(config: Config, s: RepStats) -> float:
    parts = kpi_components(config, s)
    return round(sum(w * parts[m] for m, w in config.kpi.weights.items()), 1)


@dataclass
class TeamCompliance(_ComplianceFigures):
    items: int
    items_on_time: int
    moves: int
    moves_complete: int
    flags: int


def team_compliance(stats: dict[int, RepStats]) -> TeamCompliance:
    rows = stats.values()
    return TeamCompliance(sum(s.items for s in rows), sum(s.items_on_time for s in rows), sum(s.moves for s in rows),
                          sum(s.moves_complete for s in rows), sum(s.flags for s in rows))


def dimension_counts(session: Session, config: Config, team_id: int, start: datetime, end: datetime,
                     user_ids: list[int]) -> dict[int, dict[str, int]]:
    """Raw action counts per rep and count-dimension in the window (three GROUP BY queries)."""
    counts: dict[int, dict[str, int]] = {uid: {d.id: 0 for d in config.dimensions} for uid in user_ids}
    dims = [d for d in config.dimensions if d.metric == "count"]
    by_item = {i: [d.id for d in dims if i in d.items] for d in dims for i in d.items}
    by_stage = {s: [d.id for d in dims if s in d.stages] for d in dims for s in d.stages}
    by_kind = {k: [d.id for d in dims if k in d.activities] for d in dims for k in d.activities}
    if by_item:
        q = (select(ChecklistDone.user_id, ChecklistDone.item_id, func.count())
             .join(Customer, Customer.id == ChecklistDone.customer_id)
             .where(Customer.team_id == team_id, Customer.invalid == False, ChecklistDone.item_id.in_(list(by_item)),  # noqa: E712
                    ChecklistDone.user_id.in_(user_ids), ChecklistDone.at >= start, ChecklistDone.at < end)
             .group_by(ChecklistDone.user_id, ChecklistDone.item_id))
        for uid, item, n in session.execute(q):
            for dim in by_item.get(item, []):
                if uid in counts:
                    counts[uid][dim] += int(n)
    if by_stage:
        q = (select(StageChange.by_user_id, StageChange.to_stage, func.count())
             .join(Customer, Customer.id == StageChange.customer_id)
             .where(Customer.team_id == team_id, Customer.invalid == False, StageChange.to_stage.in_(list(by_stage)),  # noqa: E712
                    StageChange.by_user_id.in_(user_ids), StageChange.from_stage.is_not(None),
                    StageChange.at >= start, StageChange.at < end)
             .group_by(StageChange.by_user_id, StageChange.to_stage))
        for uid, stage, n in session.execute(q):
            for dim in by_stage.get(stage, []):
                if uid in counts:
                    counts[uid][dim] += int(n)
    if by_kind:
        q = (select(Activity.user_id, Activity.kind, func.count())
             .where(Activity.user_id.in_(user_ids), Activity.kind.in_(list(by_kind)), Activity.at >= start, Activity.at < end)
             .group_by(Activity.user_id, Activity.kind))
        for uid, kind, n in session.execute(q):
            for dim in by_kind.get(kind, []):
                if uid in counts:
                    counts[uid][dim] += int(n)
    return counts


def dimension_scores(config: Config, counts: dict[int, dict[str, int]], stats: dict[int, RepStats]) -> dict[int, dict[str, float]]:
    """0-100 per dimension: a count relative to the best rep of the team; completeness/compliance as is."""
    best = {d.id: max((c.get(d.id, 0) for c in counts.values()), default=0) for d in config.dimensions}
    scores: dict[int, dict[str, float]] = {}
    for uid, c in counts.items():
        s = stats.get(uid)
        row: dict[str, float] = {}
        for d in config.dimensions:
            if d.metric == "completeness":
                row[d.id] = s.completeness if s else 0.0
            elif d.metric == "compliance":
                row[d.id] = (s.compliance or 0.0) if s else 0.0
            else:
                row[d.id] = round(100.0 * c.get(d.id, 0) / best[d.id], 1) if best[d.id] else 0.0
        scores[uid] = row
    return scores


def weakest(config: Config, scores: dict[str, float]) -> Dimension:
    return min(config.dimensions, key=lambda d: (scores.get(d.id, 0.0), config.dimensions.index(d)))


@dataclass
class Profile:
    user: User
    balance: int
    stats: RepStats
    kpi: float
    kpi_parts: dict[str, float]
    scores: dict[str, float]
    team_avg: dict[str, float]
    weakest: Dimension
    honors: list[Honor]
    rank: Any = None  # services.boards.RankInfo
    pending_points: int = 0


def profile(session: Session, config: Config, user: User, now: datetime, with_rank: bool = True) -> Profile:
    """``with_rank=False`` skips computing the team's whole leaderboard (the console shows the board beside it)."""
    start, end = kpi_window(config, now)
    users = team_users(session, user.team_id)
    if user.id not in {u.id for u in users}:
        users.append(user)
    stats = rep_stats(session, config, user.team_id, start, end, now, users=users)
    counts = dimension_counts(session, config, user.team_id, start, end, list(stats))
    scores = dimension_scores(config, counts, stats)
    mine = scores[user.id]
    team_avg = {d.id: round(sum(s[d.id] for s in scores.values()) / len(scores), 1) for d in config.dimensions}
    honors = list(session.exec(select(Honor).where(Honor.user_id == user.id).order_by(Honor.at.desc()).limit(10)))
    pending = session.exec(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
        PointsEntry.user_id == user.id, PointsEntry.status == "pending")).one()
    from services import boards
    rank = boards.rank_of(session, config, user, now) if with_rank else None
    s = stats[user.id]
    return Profile(user=user, balance=points_svc.balance(session, user.id), stats=s, kpi=kpi_score(config, s),
                   kpi_parts=kpi_components(config, s), scores=mine, team_avg=team_avg, weakest=weakest(config, mine),
                   honors=honors, rank=rank, pending_points=int(pending))


def profile_caption(config: Config, p: Profile, lang: str) -> str:
    s = p.stats
    dims = " · ".join(f"{(d.name_en or d.name) if lang == 'en' else d.name} {p.scores.get(d.id, 0):.0f}" for d in config.dimensions)
    parts = " · ".join(f"{t('kpi_' + m, lang)} {p.kpi_parts[m]:.0f}" for m in config.kpi.weights)
    rank = ""
    if p.rank is not None:
        from services.boards import movement_text
        rank = t("me_rank", lang, group=p.rank.group, rank=p.rank.rank, size=p.rank.size, share=f"{p.rank.share:.0f}",
                 move=movement_text(p.rank.movement, lang))
    honors = ""
    if p.honors:
        honors = t("me_honors", lang, items="、".join(f"{honor_label(config, h, lang)}（{h.period}）" for h in p.honors[:5]))
    weak = p.weakest
    hint = (weak.hint_en or weak.hint) if lang == "en" else weak.hint
    from core.texts import Raw
    return t("me_caption", lang, name=p.user.name, balance=p.balance,
             pending=Raw(t("me_pending", lang, n=p.pending_points)) if p.pending_points else "",
             days=s.window_days, earned=s.points, rank=Raw(rank), kpi=f"{p.kpi:.0f}", kpi_parts=parts,
             compliance="—" if s.compliance is None else f"{s.compliance:.0f}%",
             items="—" if s.items_pct is None else f"{s.items_pct:.0f}%",
             moves="—" if s.moves_pct is None else f"{s.moves_pct:.0f}%",
             flags=Raw(t("me_flags", lang, n=s.flags)) if s.flags else "", dims=dims, honors=Raw(honors),
             weak=(weak.name_en or weak.name) if lang == "en" else weak.name, hint=hint)


def profile_radar(config: Config, p: Profile, lang: str) -> bytes:
    from services import charts
    labels = [(d.name_en or d.name) if lang == "en" else d.name for d in config.dimensions]
    return charts.radar_png(tp("radar_title", lang, name=p.user.name), labels,
                            [p.scores.get(d.id, 0.0) for d in config.dimensions],
                            [p.team_avg.get(d.id, 0.0) for d in config.dimensions],
                            (tp("radar_me", lang), tp("radar_team", lang)),
                            highlight=config.dimensions.index(p.weakest))
