"""A lead or an event from another system, from cleaned fields to a stored, assigned, pushed customer.

Everything a request causes happens inside the caller's one transaction (``core.db.run``):
the customer (through ``services.customers.create_customer``: quality gates + duplicate
check, no side door), its history rows, the assignment position, the first-contact task and
the owner's task card in the outbox.  A validation problem raises ``ValidationFailed`` and
the transaction rolls back: nothing partial is stored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlmodel import Session, select

from core.texts import t
from ingest import assignment as assign
from ingest import cleaning
from ingest import notify
from ingest import rows
from ingest.auth import Caller
from ingest.system import SYSTEM
from services import customers as cust_svc
from services.core import Core
from services.quality import FieldProblem, FieldRejected, company_core, completeness, normalize_phone
from storage.models import Activity, Customer, FieldHistory, StageChange, Task, User
from storage.models_ingest import ExternalRef

EVENT_TYPES = ("lead", "activity", "field_update", "order")
MAX_TEXT = 2000


class ValidationFailed(Exception):
    """422: one entry per field with its reason (both languages)."""

    def __init__(self, problems: list[FieldProblem], status: int = 422) -> None:
        super().__init__("; ".join(f"{p.field}: {p.reason_en}" for p in problems))
        self.problems = problems
        self.status = status

    def as_json(self) -> dict[str, Any]:
        return {"error": "validation", "errors": [{"field": p.field, "reason": p.reason_en, "reason_zh": p.reason_zh}
                                                  for p in self.problems]}


def problem(field_name: str, zh: str, en: str) -> FieldProblem:
    return FieldProblem(field_name, zh, en)


@dataclass
class Outcome:
    status: int
    body: dict[str, Any]
    pushed: int = 0
    created: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


# --- leads --------------------------------------------------------------------------------------

@dataclass
class PreparedLead:
    """A lead after the pure steps (cleaning, the quality gates, priority): no database yet, so
    this runs before the transaction — outside SQLite's single writer lock."""
    cleaned: cleaning.Cleaned
    record: dict[str, Any]  # the values create_customer stores (cleaned by the quality gates)
    origin: str
    label: str
    priority: int


def prepare_lead(core: Core, caller: Caller, raw: Mapping[str, Any], now: datetime) -> PreparedLead:
    """Cleaning and the quality gates; ``ValidationFailed`` (422) with every problem."""
    config = core.config
    source = caller.settings
    cleaned = cleaning.clean(raw, config, source, required=source.required)
    if cleaned.problems:
        raise ValidationFailed(cleaned.problems)
    record, problems = cust_svc.clean_record(cleaned.data, config, now)
    if problems:
        raise ValidationFailed(problems)
    return PreparedLead(cleaned, record, f"api:{caller.source}", cleaned.data.get("source") or source.label,
                        assign.priority_of(config, source, cleaned.data, cleaned.extras))


def process_lead(session: Session, core: Core, caller: Caller, raw: Mapping[str, Any] | PreparedLead, *, ref: str,
                 now: datetime) -> Outcome:
    """One lead, every effect in the caller's transaction (see the module docstring).

    ``raw`` may already be prepared (``prepare_lead``, done outside the transaction)."""
    lead = raw if isinstance(raw, PreparedLead) else prepare_lead(core, caller, raw, now)
    config = core.config
    cleaned, origin, label = lead.cleaned, lead.origin, lead.label
    team = rows.team_row(session, config.assignment.team or config.team.name) or assign.lead_team(session, config, now)
    # The duplicate check first (a known customer → no record, no owner choice), then the owner.
    phone, company = lead.record.get("phone"), lead.record.get("company")
    dups = cust_svc.check_duplicates(session, config, phone=phone, company=company) \
        if rows.may_have_duplicates(session, phone, company) else []
    if dups:
        return _repeat_inquiry(session, core, dups[0], cleaned, origin, ref, now)
    choice = assign.choose_owner_light(session, config, team, cleaned.data, cleaned.extras)
    owner = choice.owner
    customer = _new_customer(session, config, team.id, owner.id if owner else None, lead, ref, now)
    level = assign.priority_level(config, customer.priority)
    pushed = 0
    if owner is not None:
        rows.move_cursor(session, team.id, owner.id, now)
        minutes = config.assignment.first_contact_minutes
        if minutes:
            rows.insert_many(session, Task, [rows.task_row(customer.id, owner.id, "followup",
                                                           t("lead_first_contact", owner.language, source=label)[:200],
                                                           now + timedelta(minutes=minutes), now)])
        payload = notify.new_lead_card(core, customer, team, owner.language, source_label=label, level=level,
                                       extras=cleaned.extras, now=now)
        pushed += rows.enqueue(session, owner.tg_id, "card", payload, f"lead:{customer.id}", now)
    else:
        pushed += notify.pool_lead_notices(session, core, customer, source_label=label, level=level, now=now)
    body = {"status": "created", "customer_id": customer.id, "owner_id": owner.id if owner else None,
            "priority": customer.priority, "priority_level": level, "source_label": label,
            "tags": list(customer.tags or []), "ignored_fields": cleaned.ignored}
    return Outcome(201, body, pushed=pushed, created=True)


def process_leads(session: Session, core: Core, caller: Caller, leads: list[PreparedLead | ValidationFailed], *,
                  ref: str, now: datetime) -> Outcome:
    """A batch (POST /api/leads/batch, bulk imports): every valid lead through ``process_lead`` in
    the caller's one transaction, in order (a later row meets an earlier one in the duplicate
    guard); an invalid row is reported with its problems and stores nothing.  Per-row results."""
    results: list[dict[str, Any]] = []
    pushed = 0
    counts = {"created": 0, "duplicate": 0, "invalid": 0}
    for index, lead in enumerate(leads):
        if isinstance(lead, ValidationFailed):
            results.append({"index": index, "code": lead.status, "status": "invalid", **lead.as_json()})
            counts["invalid"] += 1
            continue
        outcome = process_lead(session, core, caller, lead, ref=f"{ref}#{index}", now=now)
        pushed += outcome.pushed
        counts[outcome.body["status"]] = counts.get(outcome.body["status"], 0) + 1
        results.append({"index": index, "code": outcome.status, **outcome.body})
    return Outcome(200, {"status": "processed", **counts, "results": results}, pushed=pushed,
                   created=counts["created"] > 0)


def _new_customer(session: Session, config, team_id: int, owner_id: int | None, lead: PreparedLead, ref: str,
                  now: datetime) -> Any:
    """The rows ``create_customer`` + ``record_extras`` write, as Core statements (ingest/rows.py):
    the customer, its company grams, its stage entry, the create (and note) activities and every
    history row in one executemany.  The Customer returned is transient (not in the session)."""
    record, extras, origin = lead.record, lead.cleaned.extras, lead.origin
    customer = rows.draft_customer(team_id=team_id, owner_id=owner_id, name=record["name"], stage=config.stages[0].id,
                                   stage_entered_at=now, created_at=now, updated_at=now, created_by=None, custom={})
    cust_svc._apply(customer, record, config)
    customer.completeness = completeness(customer, config)
    if owner_id is not None:
        customer.protected_until = now + timedelta(days=config.pool.protect_days)
    customer.priority = lead.priority
    cid = rows.insert_customer(session, customer)
    rows.insert_grams(session, cid, customer.company_norm)
    rows.insert_many(session, StageChange, [rows.stage_row(cid, customer.stage, now)])
    activities = [rows.activity_row(cid, "create", origin, now, {"source": origin, "ref": ref})]
    if extras.get("interest") or extras.get("note"):
        activities.append(rows.activity_row(cid, "note", (extras.get("note") or extras.get("interest") or "")[:MAX_TEXT],
                                            now, {"source": origin, "ref": ref, "interest": extras.get("interest")}))
    rows.insert_many(session, Activity, activities)
    pairs = [(key, cust_svc._as_text(value)) for key, value in record.items()]
    pairs += extras_pairs(extras, {"priority": str(lead.priority)})
    rows.insert_many(session, FieldHistory, rows.history_rows(cid, pairs, origin, ref, now))
    return customer


def extras_pairs(extras: Mapping[str, str], derived: Mapping[str, str]) -> list[tuple[str, str]]:
    """(field, value) of the history rows for values that are not customer columns."""
    pairs = [(key, extras[key][:500]) for key in ("purchase_frequency", "region", "interest", "external_id")
             if extras.get(key)]
    return pairs + list(derived.items())


def record_extras(session: Session, customer: Customer, extras: Mapping[str, str], derived: Mapping[str, str],
                  origin: str, ref: str | None, now: datetime, by_user_id: int | None = None) -> None:
    """History for values that are not customer columns (purchase frequency, region, interest, priority)."""
    for key, value in extras_pairs(extras, derived):
        session.add(FieldHistory(customer_id=customer.id, field=key, value=value, source=origin, source_ref=ref,
                                 by_user_id=by_user_id, at=now))


def _repeat_inquiry(session: Session, core: Core, match: cust_svc.Match, cleaned: cleaning.Cleaned, origin: str,
                    ref: str, now: datetime) -> Outcome:
    """A lead we already have: log the new enquiry on it and tell its owner; never a second record."""
    existing = match.customer
    session.add(Activity(customer_id=existing.id, kind="note", at=now,
                         text=(cleaned.extras.get("note") or cleaned.extras.get("interest") or "repeat enquiry")[:MAX_TEXT],
                         data={"source": origin, "ref": ref, "repeat": True, "matched_by": match.reason,
                               "interest": cleaned.extras.get("interest")}))
    label = cleaned.data.get("source") or origin
    pushed = notify.notify_owner(session, existing, f"repeat:{existing.id}:{ref}"[:200], "lead_repeat", now,
                                 name=existing.name, source=label,
                                 interest=lambda lang: notify.lead_extras(cleaned.extras, lang)["interest"],
                                 note=lambda lang: notify.lead_extras(cleaned.extras, lang)["note"])
    session.flush()
    body = {"status": "duplicate", "customer_id": existing.id, "matched_by": match.reason,
            "ignored_fields": cleaned.ignored}
    return Outcome(200, body, pushed=pushed)


# --- events ---------------------------------------------------------------------------------

def validate_event(event: Any) -> tuple[str, str, dict[str, Any]]:
    if not isinstance(event, dict):
        raise ValidationFailed([problem("body", "应为 JSON 对象", "expected a JSON object")])
    problems = []
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id.strip() or len(event_id) > 100:
        problems.append(problem("id", "需要事件编号（1-100 个字符）", "an event id of 1-100 characters is required"))
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        problems.append(problem("type", f"应为 {' / '.join(EVENT_TYPES)}", f"expected one of {', '.join(EVENT_TYPES)}"))
    data = event.get("data")
    if not isinstance(data, dict):
        problems.append(problem("data", "应为 JSON 对象", "expected a JSON object"))
    unknown = sorted(set(event) - {"id", "type", "data", "occurred_at"})
    if unknown:
        problems.append(problem(unknown[0], "未知字段", "unknown field"))
    if problems:
        raise ValidationFailed(problems)
    return event_id.strip(), kind, data


def process_event(session: Session, core: Core, caller: Caller, event: Any, *, ref: str, now: datetime) -> Outcome:
    event_id, kind, data = validate_event(event)
    origin = f"api:{caller.source}"
    seen = session.exec(select(ExternalRef).where(ExternalRef.connector == origin, ExternalRef.kind == "event",
                                                  ExternalRef.external_id == event_id)).first()
    if seen is not None:
        return Outcome(200, {"status": "already_processed", "event_id": event_id, "customer_id": seen.customer_id})
    if kind == "lead":
        outcome = process_lead(session, core, caller, data, ref=f"event:{event_id}", now=now)
        customer_id = outcome.body.get("customer_id")
    elif kind == "activity":
        customer = resolve_customer(session, core, data.get("customer"), origin)
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValidationFailed([problem("data.text", "需要活动内容", "the activity text is required")])
        sub = data.get("kind", "note")
        if not isinstance(sub, str) or len(sub) > 30:
            raise ValidationFailed([problem("data.kind", "应为不超过 30 字的文本", "expected text of at most 30 characters")])
        session.add(Activity(customer_id=customer.id, kind="external", text=text.strip()[:MAX_TEXT], at=now,
                             data={"source": origin, "ref": event_id, "kind": sub}))
        customer_id = customer.id
        outcome = Outcome(200, {"status": "recorded", "customer_id": customer.id})
    elif kind == "field_update":
        customer = resolve_customer(session, core, data.get("customer"), origin)
        fields = data.get("fields")
        if not isinstance(fields, dict) or not fields:
            raise ValidationFailed([problem("data.fields", "需要要更新的字段", "the fields to update are required")])
        problems = []
        for name, value in fields.items():
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                problems.append(problem(f"data.fields.{name}", "应为文本或数字", "expected text or a number"))
                continue
            try:
                cust_svc.set_field(session, core.config, SYSTEM, customer, str(name), value, now, source=origin,
                                   source_ref=f"event:{event_id}")
            except FieldRejected as exc:
                problems.append(problem(f"data.fields.{exc.problem.field}", exc.problem.reason_zh, exc.problem.reason_en))
        if problems:
            raise ValidationFailed(problems)
        customer_id = customer.id
        outcome = Outcome(200, {"status": "updated", "customer_id": customer.id, "fields": sorted(map(str, fields))})
    else:  # order
        from ingest.connectors.erp import OrderError, apply_order, parse_order
        try:
            order = parse_order(data)
        except OrderError as exc:
            raise ValidationFailed([problem(f"data.{exc.field}", exc.reason, exc.reason)]) from None
        result = apply_order(session, core, order, connector=origin, run_id=None, now=now)
        customer_id = result.customer_id
        outcome = Outcome(200, {"status": result.status, "customer_id": result.customer_id, "effects": result.effects},
                          pushed=result.pushed)
    session.add(ExternalRef(connector=origin, kind="event", external_id=event_id, customer_id=customer_id,
                            digest=kind, status="applied", data={"type": kind}, created_at=now, updated_at=now))
    session.flush()
    outcome.body["event_id"] = event_id
    return outcome


def resolve_customer(session: Session, core: Core, ref: Any, origin: str) -> Customer:
    """A customer named by id, external_id (from this source), phone or company; 422 if none."""
    if not isinstance(ref, dict) or not ref:
        raise ValidationFailed([problem("data.customer", "需要客户标识：id / external_id / phone / company",
                                        "a customer reference is required: id, external_id, phone or company")])
    customer: Customer | None = None
    if isinstance(ref.get("id"), int) and not isinstance(ref.get("id"), bool):
        customer = session.get(Customer, ref["id"])
    if customer is None and isinstance(ref.get("external_id"), str) and ref["external_id"]:
        found = session.exec(select(ExternalRef.customer_id).where(
            ExternalRef.connector == origin, ExternalRef.kind == "customer",
            ExternalRef.external_id == ref["external_id"])).first()
        customer = session.get(Customer, found) if found else None
    if customer is None and isinstance(ref.get("phone"), str):
        norm = normalize_phone(cleaning.norm_phone(ref["phone"]))
        if norm:
            customer = session.exec(select(Customer).where(Customer.phone_norm == norm, Customer.invalid == False)  # noqa: E712
                                    .order_by(Customer.id)).first()
    if customer is None and isinstance(ref.get("company"), str):
        core_name = company_core(cleaning.norm_company(ref["company"]))
        if core_name:
            customer = session.exec(select(Customer).where(Customer.company_norm == core_name,
                                                           Customer.invalid == False).order_by(Customer.id)).first()  # noqa: E712
    if customer is None or customer.invalid:
        raise ValidationFailed([problem("data.customer", "找不到这个客户", "no such customer")])
    return customer


def owner_of(session: Session, customer: Customer) -> User | None:
    return session.get(User, customer.owner_id) if customer.owner_id else None
