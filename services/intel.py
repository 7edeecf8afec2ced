"""Sales intelligence glue between nlp/ (pure text analysis) and the database."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from core.config import Config
from services import customers as cust_svc
from storage.models import Activity, Customer, IntentRecord, User

MIN_TEXT = 6


def parse(text: str, rep_names: list[str], forward_origin: str | None):
    """A Transcript, or None when the text is not a conversation (garbage gets a polite answer)."""
    from nlp.parse import parse_transcript
    if len(text.strip()) < MIN_TEXT:
        return None
    transcript = parse_transcript(text, rep_names=rep_names, forward_origin=forward_origin)
    if not transcript.turns or not any(ch.isalnum() for ch in text):
        return None
    return transcript


def analyse(text: str, rep_names: list[str], scripts: dict[str, str], forward_origin: str | None = None):
    from nlp.analyze import analyze
    from nlp.parse import parse_transcript
    transcript = parse_transcript(text, rep_names=rep_names, forward_origin=forward_origin)
    return analyze(transcript, rep_names=rep_names, scripts=scripts)


def record_analysis(session: Session, core: Any, user: User, customer_id: int, analysis) -> Customer | None:
    """Keep the intent history; the activity stores the analysis, never the rep's own words."""
    customer = cust_svc.get_for(session, user, customer_id)
    if customer is None:
        return None
    now = core.clock.now()
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
    return customer


def close_probability(session: Session, config: Config, customer: Customer, now: datetime) -> tuple[float | None, list[str]]:
    """14-day close probability from the customer's history (nlp.predict), with its main reasons."""
    try:
        from nlp import predict
    except ImportError:
        return None, []
    features = customer_features(session, config, customer, now)
    model = predict.CloseModel.default(config) if hasattr(predict.CloseModel, "default") else predict.CloseModel()
    try:
        return model.predict(features)
    except Exception:  # a model problem must never break the card
        return None, []


def customer_features(session: Session, config: Config, customer: Customer, now: datetime) -> dict[str, float]:
    stage = config.stage(customer.stage)
    recent = session.exec(select(Activity.at).where(
        Activity.customer_id == customer.id, Activity.kind == "followup", Activity.at >= now - timedelta(days=14))).all()
    intents = session.exec(select(IntentRecord.score).where(IntentRecord.customer_id == customer.id)
                           .order_by(IntentRecord.at.desc()).limit(2)).all()
    last = customer.last_followup_at
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
