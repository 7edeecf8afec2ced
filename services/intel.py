"""Sales intelligence glue between nlp/ (pure text analysis) and the database."""
from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from core.clock import to_local
from core.config import Config
from services import customers as cust_svc
from storage.models import Activity, Customer, FieldHistory, IntentRecord, StageChange, User
from storage.rows import run_core

log = logging.getLogger(__name__)
MIN_TEXT = 6
FOLLOWUP_KINDS = ("followup",)    # the activities that count as the rep following up (training and card)


def _analyse_with_features(transcript, rep_names: list[str], scripts: dict[str, str]):
    """The analysis, carrying the features a team's model reads and a card's label stores
    (services/feedback.py; the model is applied by record_analysis, which knows the team)."""
    from nlp.analyze import analyze
    from nlp.team_model import features_of
    from services.feedback import FEATURES_ATTR
    out: list = []
    analysis = analyze(transcript, rep_names=rep_names, scripts=scripts, _features_out=out)
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


def record_analysis(session: Session, core: Any, user: User, customer_id: int, analysis,
                    transcript=None) -> Customer | None:
    """Keep the intent history; the activity stores the analysis, never the rep's own words — and,
    for a chat (not a call note), when the customer's messages were sent (best contact time)."""
    customer = cust_svc.get_for(session, user, customer_id)
    if customer is None:
        return None
    try:
        customer = cust_svc.lock(session, customer, user)  # not onto a customer handed over meanwhile
    except cust_svc.NotVisible:
        return None
    now = core.clock.now()
    chat = getattr(analysis, "format", "") != "call_notes"  # a time in a call note is an appointment
    from services import feedback
    sample = feedback.apply_and_sample(session, user, customer, analysis, None, now)  # the team's model, if any
    record = IntentRecord(customer_id=customer.id, user_id=user.id, score=analysis.score, level=analysis.level,
                          objections=[o.id for o in analysis.objections],
                          reply_hours=list(analysis.reply_hours) if chat else [], at=now)
    session.add(record)
    customer.intent_score = analysis.score
    customer.intent_level = analysis.level
    customer.updated_at = now
    session.add(customer)
    session.add(Activity(customer_id=customer.id, user_id=user.id, kind="paste", at=now,
                         text=f"intent {analysis.level} {analysis.score}",
                         data={"score": analysis.score, "objections": [o.id for o in analysis.objections],
                               "keywords": analysis.keywords[:10],
                               "reply_times": chat_reply_times(transcript, analysis)}))
    session.flush()
    sample.intent_id = record.id
    session.add(sample)
    return customer


def chat_reply_times(transcript, analysis) -> list[str]:
    """The customer's message times in a pasted or forwarded chat (local wall-clock, ISO minutes).
    Call notes give none: "约了周三下午3点" is when the rep will call, not when the customer wrote."""
    from nlp.parse import ROLE_CUSTOMER
    if transcript is None or getattr(transcript, "format", "") == "call_notes" \
            or getattr(analysis, "format", "") == "call_notes":
        return []
    customer = getattr(analysis, "customer", None) or transcript.customer
    stamps = {t.time.replace(second=0, microsecond=0) for t in transcript.turns
              if t.time is not None and (t.speaker == customer if customer else t.role == ROLE_CUSTOMER)}
    return [t.isoformat(timespec="minutes") for t in sorted(stamps)[-200:]]


_MODELS: dict[tuple, Any] = {}
_MODELS_LOCK = threading.Lock()


@dataclass
class CloseEstimate:
    """What the card says about closing: the probability, and what it rests on."""
    probability: float
    basis: str                       # "prior" (stage rule of thumb) | "team" (fitted on the team's deals)
    won: int = 0                     # closed deals the team model was fitted on
    lost: int = 0
    reasons: list[str] = field(default_factory=list)
    need: int = 0                    # won and lost deals each needed before the team's own model is used


def close_probability(session: Session, config: Config, customer: Customer, now: datetime) -> CloseEstimate | None:
    """14-day close probability from the customer's history (nlp.predict), with what it rests on.
    `config` is the team's playbook (services.playbook.config_for): its stages are the prior's."""
    features = customer_features(session, config, customer, now)
    try:
        model = team_model(session, config, customer.team_id, now)
        probability, reasons = model.predict(features)
    except Exception:  # a model problem must never break the card
        log.exception("close probability failed for customer %s", customer.id)
        return None
    return CloseEstimate(probability, "prior" if model.uses_prior else "team", model.n_won, model.n_lost, reasons,
                         need=max(model.min_won, model.min_lost))


def team_model(session: Session, config: Config, team_id: int, now: datetime):
    """The team's own model, refitted once a day; the documented stage prior until it has enough
    closed deals (nlp.predict.MIN_WON / MIN_LOST)."""
    from nlp import predict
    prior = predict.StagePrior.from_config(config)
    # One fit per database, team, day and playbook version (a new version gets its own fit).
    key = (str(session.get_bind().url), team_id, now.strftime("%Y-%m-%d"), prior)
    model = _MODELS.get(key)
    if model is not None:
        return model
    # Cards open on several DB threads at once: the first of the day fits, the others wait for it
    # instead of all fitting the same model; only .get runs outside the lock.
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is None:
            model = predict.CloseModel(prior=prior).fit(training_rows(session, config, team_id, now))
            for stale in [k for k in _MODELS if k[2] != key[2]]:  # yesterday's fits; other teams' stay
                del _MODELS[stale]
            _MODELS[key] = model
    return model


def wanted_fields(config: Config) -> list[str]:
    """The fields completeness is measured on: every stage's required fields (services.cleaning)."""
    wanted: list[str] = []
    for stage in config.stages:
        wanted.extend(name for name in stage.required_fields if name not in wanted)
    return wanted


def _filled(value: str | None) -> bool:
    return value not in (None, "", "[]")


def training_rows(session: Session, config: Config, team_id: int, now: datetime | None = None,
                  step_days: int = 7) -> list[dict]:
    """Weekly snapshots of the team's deals, labelled "won within the next 14 days".

    Point in time: the snapshot of day t is built by nlp.predict.features_from_history from the
    deal's history with `at <= t` — stage changes, follow-ups, analysed chats and the FieldHistory
    of the required fields (completeness as it was that day, never the record's final one). Closed
    deals give snapshots until they closed; open ones until 14 days ago (their label is known:
    not won in time). A handful of queries for the whole team: this runs on the first card of the day.
    """
    from collections import defaultdict

    from nlp import predict
    customers = list(session.exec(select(Customer).where(
        Customer.team_id == team_id, Customer.invalid == False)))  # noqa: E712
    if not any(c.status in ("won", "lost") for c in customers):
        return []
    in_team = (Customer.team_id == team_id)
    changes: dict[int, list[StageChange]] = defaultdict(list)
    for change in session.exec(select(StageChange).join(Customer, Customer.id == StageChange.customer_id)
                               .where(in_team).order_by(StageChange.at, StageChange.id)):
        changes[change.customer_id].append(change)
    followups: dict[int, list[datetime]] = defaultdict(list)
    for cid, at in session.exec(select(Activity.customer_id, Activity.at).join(Customer, Customer.id == Activity.customer_id)
                                .where(in_team, Activity.kind.in_(FOLLOWUP_KINDS))):
        followups[cid].append(at)
    intents: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for cid, at, score in session.exec(select(IntentRecord.customer_id, IntentRecord.at, IntentRecord.score)
                                       .join(Customer, Customer.id == IntentRecord.customer_id).where(in_team)):
        intents[cid].append((at, score))
    wanted = wanted_fields(config)
    fields: dict[int, list[tuple[datetime, str, bool]]] = defaultdict(list)
    if wanted:
        for cid, at, name, value in session.exec(
                select(FieldHistory.customer_id, FieldHistory.at, FieldHistory.field, FieldHistory.value)
                .join(Customer, Customer.id == FieldHistory.customer_id).where(in_team, FieldHistory.field.in_(wanted))):
            fields[cid].append((at, name, _filled(value)))
    names = tuple(s.name for s in config.stages)
    latest = max((c.at for history in changes.values() for c in history), default=None)
    now = now or latest
    rows: list[dict] = []
    for customer in customers:
        history = [c for c in changes[customer.id]]
        if not history or now is None:
            continue
        ends = [c.at for c in history if c.to_stage in ("won", "lost")]
        closed_at = ends[-1] if customer.status in ("won", "lost") and ends else None
        if customer.status in ("won", "lost") and closed_at is None:
            closed_at = history[-1].at
        stop = closed_at if closed_at is not None else now - timedelta(days=predict.HORIZON_DAYS)
        t = customer.created_at
        while t < stop:
            current = [c for c in history if c.at <= t and config.stage(c.to_stage)]
            if current:
                stage = current[-1]
                row = predict.features_from_history(
                    stage=config.stage_index(stage.to_stage), stage_entered_at=stage.at, now=t,
                    opened_at=customer.created_at, followups=followups[customer.id], intents=intents[customer.id],
                    field_events=fields.get(customer.id), wanted_fields=wanted,
                    expected_days=config.stage(stage.to_stage).expected_days, names=names)
                horizon = t + timedelta(days=predict.HORIZON_DAYS)
                won = customer.status == "won" and closed_at is not None and t < closed_at <= horizon
                row.update(won_14d=int(won), deal_id=customer.id, outcome=customer.status, as_of=t)
                rows.append(row)
            t += timedelta(days=step_days)
    return rows


# The card's reads, built once (no statement construction or cache-key walk per card) and run as
# Core statements on the session's connection (rows as tuples, no ORM result processing).
_A, _I, _F = Activity.__table__.c, IntentRecord.__table__.c, FieldHistory.__table__.c
_RECENT_FOLLOWUPS = core_select(_A.at).where(_A.customer_id == bindparam("cid"), _A.kind.in_(FOLLOWUP_KINDS),
                                             _A.at >= bindparam("since"), _A.at <= bindparam("now"))
_LATEST_INTENTS = core_select(_I.at, _I.score).where(_I.customer_id == bindparam("cid"), _I.at <= bindparam("now")) \
    .order_by(_I.at.desc()).limit(4)
_FIELD_EVENTS = core_select(_F.at, _F.field, _F.value).where(
    _F.customer_id == bindparam("cid"), _F.field.in_(bindparam("wanted", expanding=True)))
_CHAT_DATA = core_select(_A.data).where(_A.customer_id == bindparam("cid"), _A.kind.in_(("paste", "chat"))) \
    .order_by(_A.at.desc()).limit(50)


def _business_replies():
    """Built on first use (storage.models_business is imported lazily, as before)."""
    global _BUSINESS_REPLIES
    if _BUSINESS_REPLIES is None:
        from storage.models_business import BusinessChat, BusinessMessage
        chat, message = BusinessChat.__table__.c, BusinessMessage.__table__.c
        same_chat = (chat.connection_id == message.connection_id) & (chat.chat_id == message.chat_id)
        _BUSINESS_REPLIES = core_select(message.at).select_from(BusinessMessage.__table__.join(BusinessChat.__table__, same_chat)) \
            .where(chat.customer_id == bindparam("cid"), message.from_rep == False) \
            .order_by(message.at.desc()).limit(bindparam("limit"))  # noqa: E712
    return _BUSINESS_REPLIES


_BUSINESS_REPLIES = None


def customer_features(session: Session, config: Config, customer: Customer, now: datetime) -> dict[str, float]:
    """The live card's features: the same nlp.predict.features_from_history as the training rows,
    on this customer's history up to `now`."""
    from nlp import predict
    stage = config.stage(customer.stage)
    last = customer.last_followup_at
    # The customer row already says when there is nothing to look up (no follow-up in 14 days, no
    # analysed conversation): skip those queries on the card's hot path. The latest follow-up is the
    # row's own last_followup_at; the 14-day count needs the activities.
    window = now - timedelta(days=predict.HORIZON_DAYS)
    run = functools.partial(run_core, session)
    followups = list(run(_RECENT_FOLLOWUPS, {"cid": customer.id, "since": window, "now": now}).scalars()) \
        if last is not None and last >= window else []
    if last is not None:
        followups.append(last)
    intents = [tuple(row) for row in run(_LATEST_INTENTS, {"cid": customer.id, "now": now})] \
        if customer.intent_score is not None else []
    wanted = wanted_fields(config)
    field_events = [(at, name, _filled(value)) for at, name, value in run(
        _FIELD_EVENTS, {"cid": customer.id, "wanted": wanted})] if wanted else []
    return predict.features_from_history(
        stage=max(0, config.stage_index(customer.stage)), stage_entered_at=customer.stage_entered_at, now=now,
        opened_at=customer.created_at, followups=followups, intents=intents,
        field_events=field_events or None, wanted_fields=wanted,
        expected_days=stage.expected_days if stage else None, names=tuple(s.name for s in config.stages))


# ------------------------------------------------------------------------------ contact time
def reply_times(session: Session, config: Config, customer: Customer, limit: int = 300) -> list[datetime]:
    """When the customer wrote (local wall-clock): Telegram Business messages, and the message
    times of pasted/forwarded chats and chat archives. Never call notes (see chat_reply_times)."""
    if customer.intent_score is None:
        return []  # no conversation recorded yet (every source above also sets the intent): no queries
    stamps: set[datetime] = set()
    run = functools.partial(run_core, session)
    for data in run(_CHAT_DATA, {"cid": customer.id}).scalars():
        for value in (data or {}).get("reply_times", [])[-limit:]:
            try:
                stamps.add(datetime.fromisoformat(value))
            except (TypeError, ValueError):
                continue
    for at in run(_business_replies(), {"cid": customer.id, "limit": limit}).scalars():
        stamps.add(to_local(at, config.tz).replace(tzinfo=None, second=0, microsecond=0))
    return sorted(stamps)


def best_time(session: Session, config: Config, customer: Customer, now: datetime):
    """nlp.contact_time.best_contact_time on the customer's replies, in the team's working hours."""
    from core.config import parse_hhmm
    from nlp.contact_time import best_contact_time
    local_now = to_local(now, config.tz).replace(tzinfo=None)
    return best_contact_time(reply_times(session, config, customer), local_now,
                             work_start=parse_hhmm(config.schedule.work_start),
                             work_end=parse_hhmm(config.schedule.work_end))


def best_hour(session: Session, config: Config, customer: Customer, now: datetime) -> int | None:
    """The hour of best_time (visit planning works in hours)."""
    found = best_time(session, config, customer, now)
    return None if found is None else found.hour
