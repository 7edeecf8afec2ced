"""Sales intelligence glue between nlp/ (pure text analysis) and the database."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from core.config import Config
from services import customers as cust_svc
from storage.models import Activity, Customer, IntentRecord, StageChange, User

MIN_TEXT = 6


def _analyse_with_features(transcript, rep_names: list[str], scripts: dict[str, str]):
    """The analysis, carrying the features a team's model reads and a card's label stores
    (services/feedback.py; the model is applied by record_analysis, which knows the team)."""
    from nlp.analyze import analyze
    from nlp.team_model import features_of
    from services.feedback import FEATURES_ATTR
    out: list = []
    try:
        analysis = analyze(transcript, rep_names=rep_names, scripts=scripts, _features_out=out)
    except TypeError:  # a reader without the training hook: the shipped reading alone is stored
        analysis = analyze(transcript, rep_names=rep_names, scripts=scripts)
    setattr(analysis, FEATURES_ATTR, features_of(analysis, out[0].structured if out else None))
    return analysis


def _parse_and_analyse(text: str, rep_names: list[str], scripts: dict[str, str], forward_origin: str | None):
    from nlp.parse import parse_transcript
    transcript = parse_transcript(text, rep_names=rep_names, forward_origin=forward_origin)
    return _analyse_with_features(transcript, rep_names, scripts), transcript


def read(text: str, rep_names: list[str], scripts: dict[str, str], forward_origin: str | None = None):
    """A rep's paste: (Analysis, Transcript), or (None, None) when it is no conversation."""
    if len(text.strip()) < MIN_TEXT:
        return None, None
    analysis, transcript = _parse_and_analyse(text, rep_names, scripts, forward_origin)
    if not analysis.is_conversation or not transcript.turns:
        return None, None
    return analysis, transcript


def reanalyse(transcript, customer_name: str, rep_names: list[str], scripts: dict[str, str]):
    """The rep said who the customer is: everyone else speaks for the rep's side."""
    return _analyse_with_features(transcript.with_customer(customer_name), rep_names, scripts)


def analyse(text: str, rep_names: list[str], scripts: dict[str, str], forward_origin: str | None = None):
    """A conversation known to be one (Telegram Business chats, chat archives): its Analysis."""
    return _parse_and_analyse(text, rep_names, scripts, forward_origin)[0]


def record_analysis(session: Session, core: Any, user: User, customer_id: int, analysis) -> Customer | None:
    """Keep the intent history; the activity stores the analysis, never the rep's own words."""
    customer = cust_svc.get_for(session, user, customer_id)
    if customer is None:
        return None
    try:
        customer = cust_svc.lock(session, customer, user)  # not onto a customer handed over meanwhile
    except cust_svc.NotVisible:
        return None
    now = core.clock.now()
    from services import feedback
    sample = feedback.apply_and_sample(session, user, customer, analysis, None, now)  # the team's model, if any
    record = IntentRecord(customer_id=customer.id, user_id=user.id, score=analysis.score, level=analysis.level,
                          objections=[o.id for o in analysis.objections], reply_hours=list(analysis.reply_hours), at=now)
    session.add(record)
    customer.intent_score = analysis.score
    customer.intent_level = analysis.level
    customer.updated_at = now
    session.add(customer)
    session.add(Activity(customer_id=customer.id, user_id=user.id, kind="paste", at=now,
                         text=f"intent {analysis.level} {analysis.score}",
                         data={"score": analysis.score, "objections": [o.id for o in analysis.objections],
                               "keywords": analysis.keywords[:10]}))
    session.flush()
    sample.intent_id = record.id
    session.add(sample)
    return customer


_MODELS: dict[tuple[int, str], Any] = {}
_MODELS_LOCK = threading.Lock()


def close_probability(session: Session, config: Config, customer: Customer, now: datetime) -> tuple[float | None, list[str]]:
    """14-day close probability from the customer's history (nlp.predict), with its main reasons."""
    features = customer_features(session, config, customer, now)
    try:
        return team_model(session, config, customer.team_id, now).predict(features)
    except Exception:  # a model problem must never break the card
        return None, []


def team_model(session: Session, config: Config, team_id: int, now: datetime):
    """The team's own model, refitted once a day; the documented stage prior until it has enough
    closed deals (nlp.predict.MIN_WON / MIN_LOST)."""
    from nlp import predict
    key = (team_id, now.strftime("%Y-%m-%d"))
    model = _MODELS.get(key)
    if model is not None:
        return model
    # Cards open on several DB threads at once: the first of the day fits, the others wait for it
    # instead of all fitting the same model; only .get runs outside the lock.
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is None:
            model = predict.CloseModel.default(config).fit(training_rows(session, config, team_id))
            for stale in [k for k in _MODELS if k[1] != key[1]]:  # yesterday's fits; other teams' stay
                del _MODELS[stale]
            _MODELS[key] = model
    return model


def training_rows(session: Session, config: Config, team_id: int, step_days: int = 7) -> list[dict]:
    """Weekly snapshots of the team's closed deals, labelled "won within the next 14 days".

    Three queries for the whole team (not three per deal): this runs on the first card of the day.
    """
    from collections import defaultdict

    from nlp import predict
    closed = list(session.exec(select(Customer).where(Customer.team_id == team_id, Customer.status.in_(("won", "lost")))))
    if not closed:
        return []
    ids = [c.id for c in closed]
    changes: dict[int, list[StageChange]] = defaultdict(list)
    for change in session.exec(select(StageChange).where(StageChange.customer_id.in_(ids)).order_by(StageChange.at)):
        changes[change.customer_id].append(change)
    followups: dict[int, list[datetime]] = defaultdict(list)
    for cid, at in session.exec(select(Activity.customer_id, Activity.at).where(
            Activity.customer_id.in_(ids), Activity.kind == "followup")):
        followups[cid].append(at)
    intents: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for cid, at, score in session.exec(select(IntentRecord.customer_id, IntentRecord.at, IntentRecord.score)
                                       .where(IntentRecord.customer_id.in_(ids)).order_by(IntentRecord.at)):
        intents[cid].append((at, score))
    rows: list[dict] = []
    for customer in closed:
        history = changes[customer.id]
        if not history:
            continue
        closed_at = history[-1].at
        t = customer.created_at
        while t < closed_at:
            current = [c for c in history if c.at <= t and config.stage(c.to_stage)]
            if current:
                stage = current[-1]
                row = predict.features_from_history(
                    stage=config.stage_index(stage.to_stage), stage_entered_at=stage.at, now=t,
                    followups=[f for f in followups[customer.id] if f <= t],
                    intent_scores=[sc for at, sc in intents[customer.id] if at <= t],
                    completeness=customer.completeness / 100,
                    expected_days=config.stage(stage.to_stage).expected_days)
                row.update(won_14d=int(customer.status == "won" and (closed_at - t).days < 14),
                           deal_id=customer.id, outcome=customer.status)
                rows.append(row)
            t += timedelta(days=step_days)
    return rows


def best_hour(session: Session, config: Config, customer: Customer) -> int | None:
    """The local hour the customer actually replies at, from analysed conversations."""
    from nlp.predict import best_contact_hour
    if customer.intent_score is None:
        return None  # no conversation analysed yet (record_analysis always sets the score)
    hours: list[int] = []
    for row in session.exec(select(IntentRecord.reply_hours).where(IntentRecord.customer_id == customer.id)
                            .order_by(IntentRecord.at.desc()).limit(20)):
        hours.extend(row or [])
    return best_contact_hour(hours)


def customer_features(session: Session, config: Config, customer: Customer, now: datetime) -> dict[str, float]:
    stage = config.stage(customer.stage)
    last = customer.last_followup_at
    # The customer row already says when there is nothing to look up (no follow-up in 14 days, no
    # analysed conversation): skip those queries on the card's hot path.
    recent = session.exec(select(Activity.at).where(
        Activity.customer_id == customer.id, Activity.kind == "followup", Activity.at >= now - timedelta(days=14))).all() \
        if last is not None and last >= now - timedelta(days=14) else []
    intents = session.exec(select(IntentRecord.score).where(IntentRecord.customer_id == customer.id)
                           .order_by(IntentRecord.at.desc()).limit(2)).all() if customer.intent_score is not None else []
    return {
        "stage_index": config.stage_index(customer.stage),
        "days_in_stage": max(0, (now - customer.stage_entered_at).days),
        "expected_days": stage.expected_days if stage else 7,
        "followups_last_14d": len(recent),
        "days_since_last_followup": (now - last).days if last else 30,
        "intent_last": intents[0] if intents else 50,
        "intent_trend": (intents[0] - intents[1]) if len(intents) == 2 else 0,
        "completeness": customer.completeness / 100,
    }
