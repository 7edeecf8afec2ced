"""The weekly 复盘 for managers: what the SOP's steps have to do with deals that advance, what
the front line says about the steps, why deals were lost, which deals stall — and what to change
in config.toml.

Every figure is a count of deals over the review window, computed from the records themselves
(stage changes, checklist steps, feedback, loss reasons); where a group has fewer deals than
``[coaching] min_sample`` the figure is shown with a caution, never as a finding.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, select

from core.config import Config
from services import stalls as stall_svc
from storage.models import ChecklistDone, Customer, StageChange
from storage.models_coaching import DealLoss, SopFeedback

FEEDBACK_KINDS = ("useless", "missing", "unclear")
UNSPECIFIED = "_unspecified"


@dataclass
class StepStat:
    stage: str
    item: str
    adv_done: int
    adv_n: int
    other_done: int
    other_n: int

    def small(self, min_sample: int) -> bool:
        return self.adv_n < min_sample or self.other_n < min_sample

    @property
    def adv_rate(self) -> float | None:
        return None if not self.adv_n else self.adv_done / self.adv_n

    @property
    def other_rate(self) -> float | None:
        return None if not self.other_n else self.other_done / self.other_n


@dataclass
class FlagStat:
    stage: str
    item: str
    kinds: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.kinds.values())


@dataclass
class Suggestion:
    key: str            # the config.toml place to edit
    kind: str           # text key suffix: flagged | separates | unused | lost_stage | stalls | competitor
    values: dict


@dataclass
class Review:
    start: datetime
    end: datetime
    steps: list[StepStat]
    flags: list[FlagStat]
    lost_by_stage: Counter          # (stage, reason) → deals
    lost_by_competitor: Counter     # (competitor, reason) → deals
    lost_total: int
    stalls: list[stall_svc.Stall]
    suggestions: list[Suggestion]
    min_sample: int
    pilots: list = field(default_factory=list)   # services.pilot.PilotImpact


def step_key(config: Config, stage_id: str, item_id: str = "") -> str:
    key = f'[[stages]] id="{stage_id}"'
    return key + (f' › [[stages.checklist]] id="{item_id}"' if item_id else "")


def build(session: Session, config: Config, team_id: int, now: datetime, pilots: list | None = None) -> Review:
    """The team's review; ``pilots`` (services.pilot.impacts) is the same for every team and may be passed in."""
    start = now - timedelta(days=config.coaching.review_window_days)
    min_sample = config.coaching.min_sample
    moves = list(session.exec(select(StageChange).join(Customer, Customer.id == StageChange.customer_id).where(
        Customer.team_id == team_id, StageChange.at >= start, StageChange.at < now)))
    stalls = stall_svc.team_stalls(session, config, [team_id], now)[team_id]
    advanced: dict[str, set[int]] = defaultdict(set)
    not_advanced: dict[str, set[int]] = defaultdict(set)
    lost_changes: dict[int, str] = {}
    for m in moves:
        if m.from_stage is None:
            continue
        if m.to_stage == "lost":
            not_advanced[m.from_stage].add(m.customer_id)
            lost_changes[m.customer_id] = m.from_stage
        else:
            advanced[m.from_stage].add(m.customer_id)
    for s in stalls:
        not_advanced[s.customer.stage].add(s.customer.id)
    # A deal counted as advancing out of a stage is not also "not advancing" there.
    for stage_id in not_advanced:
        not_advanced[stage_id] -= advanced.get(stage_id, set())
    involved = set().union(*advanced.values(), *not_advanced.values()) if (advanced or not_advanced) else set()
    done: set[tuple[int, str, str]] = set()
    if involved:
        for cid, stage_id, item in session.execute(select(ChecklistDone.customer_id, ChecklistDone.stage,
                                                          ChecklistDone.item_id)
                                                   .where(ChecklistDone.customer_id.in_(list(involved)))):
            done.add((cid, stage_id, item))
    steps = []
    for stage in config.stages:
        adv, other = advanced.get(stage.id, set()), not_advanced.get(stage.id, set())
        if not adv and not other:
            continue
        for item in stage.checklist:
            steps.append(StepStat(stage.id, item.id,
                                  sum(1 for c in adv if (c, stage.id, item.id) in done), len(adv),
                                  sum(1 for c in other if (c, stage.id, item.id) in done), len(other)))
    flags: dict[tuple[str, str], FlagStat] = {}
    for fb in session.exec(select(SopFeedback).where(SopFeedback.team_id == team_id, SopFeedback.at >= start,
                                                     SopFeedback.at < now).order_by(SopFeedback.at.desc())):
        stat = flags.setdefault((fb.stage, fb.item_id), FlagStat(fb.stage, fb.item_id))
        stat.kinds[fb.kind] += 1
        if fb.note and len(stat.notes) < 3:
            stat.notes.append(fb.note)
    flag_list = sorted(flags.values(), key=lambda f: (-f.total, config.stage_index(f.stage), f.item))
    losses = {loss.customer_id: loss for loss in session.exec(select(DealLoss).where(
        DealLoss.customer_id.in_(list(lost_changes)))) } if lost_changes else {}
    by_stage: Counter = Counter()
    by_comp: Counter = Counter()
    for cid, stage_id in lost_changes.items():
        loss = losses.get(cid)
        reason = loss.reason if loss and loss.reason else UNSPECIFIED
        by_stage[(stage_id, reason)] += 1
        if loss and loss.competitor:
            by_comp[(loss.competitor, reason)] += 1
    review = Review(start, now, steps, flag_list, by_stage, by_comp, len(lost_changes), stalls, [], min_sample)
    review.suggestions = suggest(config, review)
    if pilots is None:
        from services import pilot as pilot_svc
        pilots = pilot_svc.impacts(session, config, now)
    review.pilots = pilots
    return review


def suggest(config: Config, r: Review) -> list[Suggestion]:
    """Rules that turn the figures into edits of the playbook, each naming the key to change."""
    out: list[Suggestion] = []
    for f in r.flags:
        kind, n = f.kinds.most_common(1)[0]
        if n >= 2:  # one kind of complaint at least twice: a mixed bag says nothing clear
            field_name = {"unclear": "text", "missing": "text", "useless": "points"}.get(kind, "text")
            out.append(Suggestion(step_key(config, f.stage, f.item) + f" › {field_name}", f"flagged_{kind}",
                                  {"n": n, "item": f.item}))
    for s in r.steps:
        if s.small(r.min_sample):
            continue
        gap = (s.adv_rate or 0) - (s.other_rate or 0)
        if gap >= 0.3:
            out.append(Suggestion(step_key(config, s.stage, s.item) + " › points", "separates",
                                  {"item": s.item, "adv": round(100 * (s.adv_rate or 0)), "other": round(100 * (s.other_rate or 0))}))
        elif (s.adv_rate or 0) < 0.2 and (s.other_rate or 0) < 0.2:
            out.append(Suggestion(step_key(config, s.stage, s.item) + " › module", "unused", {"item": s.item}))
    stage_lost: Counter = Counter()
    for (stage_id, reason), n in r.lost_by_stage.items():
        if reason not in (UNSPECIFIED, "other"):  # "other" names nothing to answer
            stage_lost[(stage_id, reason)] += n
    for (stage_id, reason), n in stage_lost.most_common(2):
        if n >= 2:
            out.append(Suggestion(step_key(config, stage_id) + " › scripts", "lost_stage",
                                  {"stage": stage_id, "reason": reason, "n": n}))
    stalled_by_stage = Counter(s.customer.stage for s in r.stalls)
    for stage_id, n in stalled_by_stage.most_common(2):
        if n >= 3:
            out.append(Suggestion(step_key(config, stage_id) + " › stall_days", "stalls",
                                  {"stage": stage_id, "n": n, "days": config.stall_limit(stage_id)}))
    comp_lost: Counter = Counter()
    for (comp, _reason), n in r.lost_by_competitor.items():
        comp_lost[comp] += n
    for comp, n in comp_lost.most_common(2):
        if n >= 2:
            out.append(Suggestion(f'[[competitors]] id="{comp}" › counter_scripts', "competitor", {"competitor": comp, "n": n}))
    return out[:8]
