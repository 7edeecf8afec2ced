"""A pilot's impact, measured (小步快跑): a playbook module switched on for some teams (/modules)
compared with the teams without it — median days spent in each stage the module touches and the
stage's conversion, with n per group, and "too early to tell" below ``[coaching] pilot_min_sample``.

Cycle time of a stage: from entering it to leaving it forward, for deals that left it forward
within the window.  Conversion of a stage: of the deals that left it within the window, the share
that moved forward rather than being lost there (deals still in the stage are undecided and not
counted).  This is a comparison between groups, not an experiment: the teams may differ in other
ways, and the message says "pilot vs the others", never "caused by".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from sqlmodel import Session, select

from core.config import Config
from services.customers import enabled_modules
from storage.models import Customer, StageChange, Team

WINDOW_DAYS = 90


@dataclass
class Group:
    days: list[float] = field(default_factory=list)   # days in the stage, deals that advanced
    advanced: int = 0
    lost: int = 0

    @property
    def median_days(self) -> float | None:
        return median(self.days) if self.days else None

    @property
    def decided(self) -> int:
        return self.advanced + self.lost

    @property
    def conversion(self) -> float | None:
        return None if not self.decided else self.advanced / self.decided


@dataclass
class StageImpact:
    stage: str
    pilot: Group
    others: Group

    def early(self, min_sample: int) -> bool:
        return min(self.pilot.decided, self.others.decided) < min_sample

    @property
    def days_effect(self) -> float | None:
        a, b = self.pilot.median_days, self.others.median_days
        return None if a is None or b is None else a - b

    @property
    def conversion_effect(self) -> float | None:
        a, b = self.pilot.conversion, self.others.conversion
        return None if a is None or b is None else a - b


@dataclass
class PilotImpact:
    module: str
    pilot_teams: list[str]
    other_teams: list[str]
    stages: list[StageImpact]
    min_sample: int
    pilot_on: bool = True   # the pilot teams have the module switched on (False: they switched it off)


def modules_of(config: Config) -> list[str]:
    found: list[str] = []
    for stage in config.stages:
        for item in stage.checklist:
            if item.module != "core" and item.module not in found:
                found.append(item.module)
    return found


def impacts(session: Session, config: Config, now: datetime, window_days: int = WINDOW_DAYS) -> list[PilotImpact]:
    """One comparison per module that some teams have and others do not.  The pilot is the side
    that differs from the playbook's default (modules_enabled): teams that switched the module on,
    or teams that switched a default module off."""
    teams = list(session.exec(select(Team).order_by(Team.id)))
    out = []
    for module in modules_of(config):
        with_m = [t for t in teams if module in enabled_modules(t, config)]
        without = [t for t in teams if module not in enabled_modules(t, config)]
        if not with_m or not without:
            continue
        stages = [s.id for s in config.stages if any(i.module == module for i in s.checklist)]
        on_by_default = module in config.modules_enabled
        pilot, others = (without, with_m) if on_by_default else (with_m, without)
        impact = compare(session, config, module, pilot, others, stages, now, window_days)
        impact.pilot_on = not on_by_default
        out.append(impact)
    return out


def compare(session: Session, config: Config, module: str, pilot: list[Team], others: list[Team], stages: list[str],
            now: datetime, window_days: int = WINDOW_DAYS) -> PilotImpact:
    start = now - timedelta(days=window_days)
    pilot_ids = {t.id for t in pilot}
    # Only deals that left one of these stages within the window matter; their whole path gives the entry times.
    relevant = (select(StageChange.customer_id).join(Customer, Customer.id == StageChange.customer_id)
                .where(Customer.team_id.in_([t.id for t in pilot + others]), StageChange.from_stage.in_(stages),
                       StageChange.at >= start, StageChange.at < now))
    team_of, created = {}, {}
    for cid, team_id, created_at in session.execute(select(Customer.id, Customer.team_id, Customer.created_at)
                                                    .where(Customer.id.in_(relevant))):
        team_of[cid], created[cid] = team_id, created_at
    changes = session.execute(select(StageChange.customer_id, StageChange.from_stage, StageChange.to_stage, StageChange.at)
                              .where(StageChange.customer_id.in_(relevant), StageChange.at < now)
                              .order_by(StageChange.customer_id, StageChange.at, StageChange.id)).all()
    groups = {s: (Group(), Group()) for s in stages}
    entered: dict[tuple[int, str], datetime] = {}
    for cid, from_stage, to_stage, at in changes:
        if from_stage in groups and at >= start:
            group = groups[from_stage][0 if team_of[cid] in pilot_ids else 1]
            if to_stage == "lost":
                group.lost += 1
            else:
                group.advanced += 1
                began = entered.get((cid, from_stage)) or created.get(cid)
                if began is not None and began <= at:  # an inconsistent history (exit before entry) is not a duration
                    group.days.append((at - began).total_seconds() / 86400)
        if to_stage not in ("won", "lost"):
            entered[(cid, to_stage)] = at
    return PilotImpact(module, [t.name for t in pilot], [t.name for t in others],
                       [StageImpact(s, *groups[s]) for s in stages], config.coaching.pilot_min_sample)
