"""The team's funnel: open customers per stage, kept and dropped, with the conversion between stages
(read by the digest, the console and /funnel)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, union_all
from sqlmodel import Session, select

from core.config import Config
from services import counters
from services import rollups
from storage.models import Customer
from storage.models_digest import StageCount


# --- the funnel --------------------------------------------------------------------------------

@dataclass
class FunnelStage:
    id: str
    label: str
    reached: int          # customers that got at least this far (open, won or lost there)
    current: int          # open customers in this stage now
    stalled: int          # … of which longer than the stage's expected time
    conversion: float | None = None  # % of those who reached this stage that reached the next one


@dataclass
class Funnel:
    stages: list[FunnelStage]
    won: int
    bottleneck: int | None  # index into stages

    @property
    def bottleneck_stage(self) -> FunnelStage | None:
        return None if self.bottleneck is None else self.stages[self.bottleneck]


def funnel(session: Session, config: Config, team_id: int, now: datetime, lang: str = "zh") -> Funnel:
    return funnels(session, config, [team_id], now, lang)[team_id]


def funnels(session: Session, config: Config, team_ids: list[int], now: datetime, lang: str = "zh",
            where: tuple = ()) -> dict[int, Funnel]:
    """Customers per team, stage and status; "stalled" = open and in the stage past its expected days.
    Without ``where``: the trigger-kept counts and the stalled ones' index ranges (``_funnel_rows_kept``),
    else (and under ``rollups.disabled()``) one GROUP BY over the teams' customers.

    ``where``: extra conditions on Customer (the console narrows to one rep or to customers created in a period)."""
    if not where and rollups.enabled() and team_ids:
        rows = _funnel_rows_kept(session, config, team_ids, now)
    else:
        stalled_expr = case(*[(and_(Customer.stage == s.id, Customer.stage_entered_at < now - timedelta(days=s.expected_days)), 1)
                              for s in config.stages], else_=0)
        rows = session.execute(select(Customer.team_id, Customer.stage, Customer.status, func.count(), func.sum(stalled_expr))
                               .where(Customer.team_id.in_(team_ids), Customer.invalid == False, *where)  # noqa: E712
                               .group_by(Customer.team_id, Customer.stage, Customer.status))
    n = len(config.stages)
    at_index = {t: [0] * (n + 1) for t in team_ids}  # customers whose furthest stage is i (n = won)
    current = {t: [0] * n for t in team_ids}
    stalled = {t: [0] * n for t in team_ids}
    for team_id, stage_id, status, count, late in rows:
        index = config.stage_index(stage_id)
        if status == "won":
            at_index[team_id][n] += count
            continue
        if index < 0:
            continue
        at_index[team_id][index] += count
        if status == "open":
            current[team_id][index] += count
            stalled[team_id][index] += int(late or 0)
    out = {}
    for t in team_ids:
        reached = [sum(at_index[t][i:]) for i in range(n + 1)]
        stages = []
        for i, s in enumerate(config.stages):
            conversion = round(100.0 * reached[i + 1] / reached[i], 1) if reached[i] else None
            stages.append(FunnelStage(s.id, (s.name_en or s.name) if lang == "en" else s.name, reached[i], current[t][i],
                                      stalled[t][i], conversion))
        st, cur = stalled[t], current[t]
        worst = max(range(n), key=lambda i: (st[i], st[i] / cur[i] if cur[i] else 0, -i))
        out[t] = Funnel(stages, at_index[t][n], worst if st[worst] > 0 else None)
    return out


def _funnel_rows_kept(session: Session, config: Config, team_ids: list[int], now: datetime) -> list[tuple]:
    """(team, stage, status, customers, stalled) as the raw GROUP BY returns them: the counts from ``stagecount``
    (kept by triggers, migration 0009_digest), the open customers past each stage's expected days by a
    range of ix_customer_team_funnel per stage — the stalled ones' index entries only, not every customer."""
    counters.fold_if_needed(session, "stagecount")  # the deltas summed per key (append-only, 0009_digest)
    stalled: dict[tuple[int, str], int] = {}
    late = union_all(*[select(Customer.team_id, Customer.stage, func.count()).where(
        Customer.team_id.in_(team_ids), Customer.stage == s.id, Customer.status == "open", Customer.invalid == False,  # noqa: E712
        Customer.stage_entered_at < now - timedelta(days=s.expected_days)).group_by(Customer.team_id, Customer.stage)
        for s in config.stages])
    for team_id, stage, n in session.execute(late):
        stalled[(team_id, stage)] = int(n)
    return [(team_id, stage, status, int(n), stalled.get((team_id, stage), 0) if status == "open" else 0)
            for team_id, stage, status, n in session.execute(
                select(StageCount.team_id, StageCount.stage, StageCount.status, func.sum(StageCount.n))
                .where(StageCount.team_id.in_(team_ids))
                .group_by(StageCount.team_id, StageCount.stage, StageCount.status).having(func.sum(StageCount.n) > 0))]
