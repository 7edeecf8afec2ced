"""The team teaches the reader (issue 13 item 6): card feedback stored as labels, the team's daily
refit (nlp/team_model.py) and its use on the team's next analyses.

A label belongs to the team of the analysed customer; a rep labels only cards of customers they
can see (services.customers.can_see), one label per analysis and person (pressing again changes it).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from nlp import team_model
from services import customers as cust_svc
from storage.models import Customer, User
from storage.models_feedback import AnalysisSample, FeedbackLabel, TeamIntentModel

FEATURES_ATTR = "team_features"     # set on an Analysis by services.intel (the stored feature dict)
WINDOW_DAYS = 180                   # labels older than this no longer train
AGREEMENT_DAYS = 30                 # the 准 rate shown to managers
MAX_OBJECTIONS = 4                  # the card shows at most four objections


class Stale(Exception):
    """The button names an analysis that is gone, of another team, or not visible to the presser."""


def team_model_for(session: Session, team_id: int) -> team_model.TeamModel | None:
    """The team's intent model when its last refit switched it on."""
    row = session.get(TeamIntentModel, team_id)
    if row is None or not row.active:
        return None
    return team_model.TeamModel.from_json(row.params.get("intent"))


def _team_reading(session: Session, team_id: int) -> tuple[team_model.TeamModel | None, list[str]]:
    row = session.get(TeamIntentModel, team_id)
    if row is None:
        return None, []
    model = team_model.TeamModel.from_json(row.params.get("intent")) if row.active else None
    return model, list(row.params.get("drop_objections") or [])


def apply_and_sample(session: Session, user: User, customer: Customer, analysis, intent_id: int | None,
                     now: datetime) -> AnalysisSample | None:
    """Before the analysis is stored and shown: the team's model (if it has an active one) replaces the
    shipped level; the sample keeps both readings and the features, for the buttons and the refit."""
    features = getattr(analysis, FEATURES_ATTR, None)
    if features is None:
        features = team_model.features_of(analysis, None)
    # The shipped reading is kept on the analysis: a transaction retried by core.db.run reads it again.
    shipped = getattr(analysis, "shipped_reading", None)
    if shipped is None:
        shipped = analysis.shipped_reading = (analysis.level, analysis.level_zh, analysis.score, analysis.probability)
    analysis.level, analysis.level_zh, analysis.score, analysis.probability = shipped
    shipped_level, shipped_score = shipped[0], shipped[2]
    model, drops = _team_reading(session, customer.team_id)
    if model is not None:
        team_model.adjust(analysis, model, features)
    team_model.drop_objections(analysis, drops)
    sample = AnalysisSample(team_id=customer.team_id, customer_id=customer.id, user_id=user.id, intent_id=intent_id,
                            kind=getattr(analysis, "kind", "sales"), shipped_level=shipped_level,
                            shipped_score=shipped_score, level=analysis.level, score=analysis.score, features=features,
                            objections=[o.id for o in analysis.objections[:MAX_OBJECTIONS]], at=now)
    session.add(sample)
    session.flush()
    analysis.sample_id = sample.id
    return sample


def _sample_for(session: Session, user: User, sample_id: int) -> AnalysisSample:
    sample = session.get(AnalysisSample, sample_id)
    if sample is None or user.team_id != sample.team_id:
        raise Stale()
    customer = session.get(Customer, sample.customer_id)
    if customer is None or customer.team_id != sample.team_id or not cust_svc.can_see(user, customer):
        raise Stale()
    return sample


@dataclass
class LabelState:
    sample_id: int
    level: str                       # what the card showed
    objections: list[str]
    agreed: bool | None = None
    correct_level: str | None = None
    verdicts: dict[str, bool] | None = None
    asking_level: bool = False       # 不准 pressed: the three levels are offered


def state(session: Session, user: User, sample_id: int) -> LabelState:
    sample = _sample_for(session, user, sample_id)
    label = session.exec(select(FeedbackLabel).where(FeedbackLabel.sample_id == sample.id,
                                                     FeedbackLabel.user_id == user.id)).first()
    return LabelState(sample.id, sample.level, list(sample.objections),
                      label.agreed if label else None, label.correct_level if label else None,
                      dict(label.objection_verdicts or {}) if label else {})


def press(session: Session, user: User, sample_id: int, action: str, now: datetime) -> LabelState:
    """One button: ok (准) · no (不准: ask the level) · high/medium/low · o<k>y / o<k>n (objection k right/wrong)."""
    sample = _sample_for(session, user, sample_id)
    if action == "no":
        current = state(session, user, sample_id)
        current.asking_level = True
        return current
    verdict: tuple[int, bool] | None = None
    level: str | None = None
    if action == "ok":
        level = sample.level
    elif action in team_model.LEVELS:
        level = action
    elif len(action) == 3 and action[0] == "o" and action[1].isdigit() and action[2] in "yn":
        k = int(action[1])
        if k >= len(sample.objections):
            raise Stale()
        verdict = (k, action[2] == "y")
    else:
        raise Stale()
    label = session.exec(select(FeedbackLabel).where(FeedbackLabel.sample_id == sample.id,
                                                     FeedbackLabel.user_id == user.id)).first()
    if label is None:
        label = FeedbackLabel(sample_id=sample.id, team_id=sample.team_id, user_id=user.id,
                              customer_id=sample.customer_id, at=now)
    if level is not None:
        label.correct_level = level
        label.agreed = level == sample.level
    if verdict is not None:
        verdicts = dict(label.objection_verdicts or {})
        verdicts[sample.objections[verdict[0]]] = verdict[1]
        label.objection_verdicts = verdicts        # a new dict: JSON columns notice reassignment only
    label.at = now
    session.add(label)
    session.flush()
    return state(session, user, sample_id)


# --- the refit ------------------------------------------------------------------------------------

def training_set(session: Session, team_id: int, now: datetime) -> tuple[list[dict], list[str], list[bool]]:
    """The team's labels with a level, oldest first (sales conversations only)."""
    rows, targets, agreed = [], [], []
    query = (select(FeedbackLabel, AnalysisSample).join(AnalysisSample, AnalysisSample.id == FeedbackLabel.sample_id)
             .where(FeedbackLabel.team_id == team_id, FeedbackLabel.correct_level.is_not(None),
                    FeedbackLabel.at >= now - timedelta(days=WINDOW_DAYS), AnalysisSample.kind == "sales")
             .order_by(AnalysisSample.at, FeedbackLabel.id))
    for label, sample in session.exec(query):
        rows.append(sample.features)
        targets.append(label.correct_level)
        agreed.append(label.correct_level == sample.shipped_level)
    # After a new shipped model, its readings are what the team model adjusts: the labels of
    # cards it read are preferred as soon as there are enough of them.
    current = team_model.shipped_version()
    keep = [i for i, f in enumerate(rows) if f.get("mv") == current]
    if len(keep) >= team_model.MIN_LABELS and len(keep) < len(rows):
        rows, targets, agreed = [rows[i] for i in keep], [targets[i] for i in keep], [agreed[i] for i in keep]
    return rows, targets, agreed


def objection_verdicts(session: Session, team_id: int, now: datetime) -> dict[str, list[bool]]:
    out: dict[str, list[bool]] = {}
    for verdicts in session.exec(select(FeedbackLabel.objection_verdicts).where(
            FeedbackLabel.team_id == team_id, FeedbackLabel.at >= now - timedelta(days=WINDOW_DAYS))):
        for oid, right in (verdicts or {}).items():
            out.setdefault(oid, []).append(bool(right))
    return out


def refit_team(session: Session, team_id: int, now: datetime) -> team_model.Refit:
    rows, targets, agreed = training_set(session, team_id, now)
    result = team_model.refit(rows, targets, agreed)
    row = session.get(TeamIntentModel, team_id) or TeamIntentModel(team_id=team_id, fitted_at=now)
    row.params = {"intent": result.model.to_json() if result.model is not None else None,
                  "drop_objections": team_model.objection_drops(objection_verdicts(session, team_id, now))}
    row.active = result.active
    row.labels = result.labels
    row.shipped_acc = round(result.shipped_acc, 4)
    row.team_acc = round(result.team_acc, 4)
    row.fitted_at = now
    session.add(row)
    session.flush()
    return result


# --- how often the team agreed ----------------------------------------------------------------------

@dataclass
class Agreement:
    labels: int
    agreed: int
    days: int = AGREEMENT_DAYS

    @property
    def rate(self) -> float | None:
        return self.agreed / self.labels if self.labels else None


def agreement_many(session: Session, team_ids: list[int], now: datetime, days: int = AGREEMENT_DAYS) -> dict[int, Agreement]:
    out = {t: Agreement(0, 0, days) for t in team_ids}
    if not team_ids:
        return out
    for team_id, agreed, n in session.execute(
            select(FeedbackLabel.team_id, FeedbackLabel.agreed, func.count())
            .where(FeedbackLabel.team_id.in_(team_ids), FeedbackLabel.agreed.is_not(None),
                   FeedbackLabel.at >= now - timedelta(days=days))
            .group_by(FeedbackLabel.team_id, FeedbackLabel.agreed)):
        out[team_id].labels += n
        if agreed:
            out[team_id].agreed += n
    return out


def model_info_many(session: Session, team_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not team_ids:
        return {}
    return {row.team_id: {"active": row.active, "labels": row.labels, "shipped_acc": row.shipped_acc,
                          "team_acc": row.team_acc}
            for row in session.exec(select(TeamIntentModel).where(TeamIntentModel.team_id.in_(team_ids)))}


def press_in(core, user: User, sample_id: int, action: str) -> LabelState:
    """press() in its own transaction (scripts and tests)."""
    return core.db.call(press, user, sample_id, action, core.clock.now())
