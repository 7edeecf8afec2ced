"""Events from other systems (POST /api/events): a lead, an activity, a field update or an order,
each applied once per event id (``ExternalRef``) in the caller's transaction."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from ingest.auth import Caller
from ingest.leads import MAX_TEXT, Outcome, ValidationFailed, problem, process_lead
from ingest.system import SYSTEM
from services import cleaning
from services import customers as cust_svc
from services.cleaning import FieldRejected, normalize_phone
from services.company_names import company_core
from services.core import Core
from storage.models import Activity, Customer
from storage.models_ingest import ExternalRef

EVENT_TYPES = ("lead", "activity", "field_update", "order")


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

