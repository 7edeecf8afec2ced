"""ERP orders: contract, payment and delivery changes move the funnel and create reminders.

Contract (docs/connectors.md): ``GET {base_url}/orders?cursor=&limit=`` →
``{"orders": [Order…], "next_cursor": "...", "has_more": false}``.

Per order (idempotent: ``ExternalRef(erp, order, order_id)`` keeps a digest and the effects done):
- the customer: by the ERP customer id seen before, else phone/company (the duplicate check),
  else created through ``create_customer`` and assigned like a lead;
- contract signed → stage 签约 (``advance_stage``: history, points to the owner);
- payment partial/paid → stage 回款; paid in full → won, and an upsell reminder
  (Task kind ``upsell``) ``upsell_after_days`` after the payment;
- delivered → an after-sales reminder (Task kind ``aftersales``);
- every purchase is a FieldHistory row (field ``order``) with the connector run as its source,
  so "which kind of customer re-buys most" is one query (ingest/history.py).
A stage move refused because the record lacks required fields is kept as ``blocked``, the
owner is told what is missing, and it is retried at every run until it goes through.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from core.clock import to_naive_utc
from core.texts import t
from ingest import assignment as assign
from ingest import notify
from ingest.connectors.base import Connector, ItemError, PageResult, digest, entry, get_ref, guarded
from ingest.system import SYSTEM
from services import cleaning
from services import customers as cust_svc
from services.core import Core
from services.inputs import NumberRejected, parse_number
from storage.models import Customer, FieldHistory, Task, User
from storage.models_ingest import ConnectorRun, ExternalRef

CONTRACT = ("none", "draft", "signed", "cancelled")
PAYMENT = ("unpaid", "partial", "paid", "refunded")
DELIVERY = ("pending", "shipped", "delivered")


class OrderError(ItemError):
    pass


@dataclass
class Order:
    order_id: str
    version: int
    customer: dict[str, str]
    amount: float | None
    contract_no: str | None
    contract_status: str
    payment_status: str
    paid_amount: float | None
    paid_at: datetime | None
    delivery_status: str
    delivered_at: datetime | None
    products: list[str]
    updated_at: datetime | None

    def state(self) -> dict[str, Any]:
        return {"v": self.version, "c": self.contract_status, "p": self.payment_status, "pa": self.paid_amount,
                "d": self.delivery_status, "a": self.amount, "no": self.contract_no}


@dataclass
class OrderResult:
    status: str  # applied | unchanged | blocked
    customer_id: int | None
    effects: list[str] = field(default_factory=list)
    pushed: int = 0
    note: str = ""


def _text(data: dict, key: str, required: bool = False, limit: int = 200) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise OrderError(key, "required")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise OrderError(key, "expected text")
    text = cleaning.norm_text(value)
    if len(text) > limit:
        raise OrderError(key, f"longer than {limit} characters")
    return text


def _number(data: dict, key: str) -> float | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise OrderError(key, "expected a non-negative number")
    try:  # the shared reader: "1,000", "5万", 1e5; NaN, inf, negative and absurd values refused
        number = parse_number(value, key, limit=1e12, search=False)
    except NumberRejected as exc:
        raise OrderError(key, exc.reason_en) from None
    if number is None:
        raise OrderError(key, "expected a non-negative number")
    return number


def _when(data: dict, key: str) -> datetime | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise OrderError(key, "expected an ISO 8601 date-time")
    try:
        return to_naive_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise OrderError(key, "expected an ISO 8601 date-time") from None


def _choice(data: dict, key: str, allowed: tuple[str, ...], default: str) -> str:
    value = data.get(key, default)
    if value is None:
        return default
    if value not in allowed:
        raise OrderError(key, f"expected one of {', '.join(allowed)}")
    return value


def parse_order(data: Any) -> Order:
    if not isinstance(data, dict):
        raise OrderError("order", "expected an object")
    order_id = _text(data, "order_id", required=True, limit=100)
    version = data.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise OrderError("version", "expected a non-negative integer")
    customer = data.get("customer")
    if not isinstance(customer, dict):
        raise OrderError("customer", "expected an object")
    cust = {k: v for k in ("external_id", "name", "company", "phone", "contact")
            if (v := _text(customer, k, limit=100)) is not None}
    if not any(cust.get(k) for k in ("external_id", "phone", "company", "name")):
        raise OrderError("customer", "needs external_id, phone, company or name")
    products = data.get("products", [])
    if not isinstance(products, list) or not all(isinstance(p, str) for p in products):
        raise OrderError("products", "expected a list of strings")
    return Order(order_id=order_id, version=version, customer=cust, amount=_number(data, "amount"),
                 contract_no=_text(data, "contract_no", limit=60),
                 contract_status=_choice(data, "contract_status", CONTRACT, "none"),
                 payment_status=_choice(data, "payment_status", PAYMENT, "unpaid"),
                 paid_amount=_number(data, "paid_amount"), paid_at=_when(data, "paid_at"),
                 delivery_status=_choice(data, "delivery_status", DELIVERY, "pending"),
                 delivered_at=_when(data, "delivered_at"), products=[p[:60] for p in products[:20]],
                 updated_at=_when(data, "updated_at"))


def _money(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 10000:g}万" if value >= 10000 else f"{value:g}"


def _origin(connector: str) -> str:
    """The source recorded on what a record changes: ``api:<source>`` as is, else ``connector:<name>``."""
    return connector if connector.startswith("api:") else f"connector:{connector}"


def find_or_create_customer(session: Session, core: Core, order: Order, connector: str, ref_text: str,
                            now: datetime) -> Customer:
    config = core.config
    ext = order.customer.get("external_id")
    if ext:
        known = get_ref(session, connector, "customer", ext)
        if known is not None and known.customer_id:
            customer = session.get(Customer, known.customer_id)
            if customer is not None and not customer.invalid:
                return customer
    phone = cleaning.norm_phone(order.customer["phone"]) if order.customer.get("phone") else None
    company = cleaning.norm_company(order.customer["company"]) if order.customer.get("company") else None
    matches = cust_svc.check_duplicates(session, config, phone=phone, company=company)
    if matches:
        customer = matches[0].customer
    else:
        label = config.connectors["erp"].label or "ERP"
        raw = {k: v for k, v in order.customer.items() if k != "external_id"}
        cleaned = cleaning.clean(raw, config, None, default_label=label, required=("name",))
        if cleaned.problems:
            p = cleaned.problems[0]
            raise OrderError(f"customer.{p.field}", p.reason_en)
        team = assign.lead_team(session, config, now)
        choice = assign.choose_owner(session, config, team, cleaned.data, cleaned.extras)
        result = cust_svc.create_customer(session, config, team.id, cleaned.data, now, actor=None,
                                          owner_id=choice.owner.id if choice.owner else None,
                                          source=_origin(connector), source_ref=ref_text)
        if result.customer is None:
            if result.problems:
                p = result.problems[0]
                raise OrderError(f"customer.{p.field}", p.reason_en)
            customer = result.duplicates[0].customer
        else:
            customer = result.customer
            assign.record_choice(session, team, choice.owner, now)
    if ext:
        known = get_ref(session, connector, "customer", ext)
        if known is None:
            session.add(ExternalRef(connector=connector, kind="customer", external_id=ext, customer_id=customer.id,
                                    created_at=now, updated_at=now))
            session.flush()
    return customer


def apply_order(session: Session, core: Core, order: Order, *, connector: str, run_id: int | None,
                now: datetime, force: bool = False) -> OrderResult:
    """Bring the CRM in line with one ERP order; safe to call any number of times."""
    config = core.config
    ref = get_ref(session, connector, "order", order.order_id)
    state_digest = digest(order.state())
    if ref is not None and ref.digest == state_digest and ref.status == "applied" and not force:
        return OrderResult("unchanged", ref.customer_id)
    ref_text = f"run:{run_id}/order:{order.order_id}" if run_id else f"order:{order.order_id}"
    customer = session.get(Customer, ref.customer_id) if ref is not None and ref.customer_id else None
    if customer is None or customer.invalid:
        customer = find_or_create_customer(session, core, order, connector, ref_text, now)
    if ref is None:
        ref = ExternalRef(connector=connector, kind="order", external_id=order.order_id, customer_id=customer.id,
                          first_run_id=run_id, created_at=now, updated_at=now, data={"effects": []})
    done: list[str] = list((ref.data or {}).get("effects", []))
    effects: list[str] = []
    origin = _origin(connector)
    owner = session.get(User, customer.owner_id) if customer.owner_id else None
    actor = owner or (session.get(User, customer.previous_owner_id) if customer.previous_owner_id else None)
    pushed = 0
    blocked: list[str] = []

    def history(name: str, value: str) -> None:
        session.add(FieldHistory(customer_id=customer.id, field=name, value=value, source=origin,
                                 source_ref=ref_text, at=now))

    def fill(name: str, value: Any) -> None:
        current = customer.custom.get(name) if name in config.fields else getattr(customer, name, None)
        if value is not None and current in (None, "", []):
            try:
                cust_svc.set_field(session, config, SYSTEM, customer, name, value, now, source=origin, source_ref=ref_text)
            except Exception:  # a value the gate refuses is not worth failing the order for
                pass

    def move(target: str) -> bool:
        nonlocal pushed
        if config.stage(target) is None or config.stage_index(customer.stage) >= config.stage_index(target):
            return True
        if customer.status != "open":
            return True
        if actor is None:
            blocked.append("owner")
            return False
        result = cust_svc.advance_stage(session, config, actor, customer, now, target=target)
        if result.status == "blocked":
            blocked.extend(result.missing)
            return False
        if result.status == "moved":
            history("stage", target)
        return True

    if order.contract_status == "signed":
        if "order" not in done:
            history("order", order.order_id)
            if order.amount is not None:
                history("order_amount", f"{order.amount:g}")
            effects.append("order")
        fill("amount", order.amount)
        if "contract_no" in config.fields:
            fill("contract_no", order.contract_no)
        if "contract" not in done and move("contract"):
            effects.append("contract")
            if customer.stage == "contract":
                pushed += notify.notify_owner(session, customer, f"erp:{order.order_id}:contract", "erp_contract", now,
                                              name=customer.name, order=order.order_id, amount=_money(order.amount))
    if order.payment_status in ("partial", "paid") and order.contract_status != "cancelled":
        if "payment" not in done and move("payment"):
            effects.append("payment")
            pushed += notify.notify_owner(session, customer, f"erp:{order.order_id}:payment", "erp_payment", now,
                                          name=customer.name, order=order.order_id,
                                          paid=_money(order.paid_amount or order.amount))
        if order.payment_status == "paid" and "paid" not in done and ("payment" in done or "payment" in effects):
            if customer.status == "open" and customer.stage == config.stages[-1].id and actor is not None:
                cust_svc.advance_stage(session, config, actor, customer, now)  # the last stage → won
                history("status", customer.status)
            effects.append("paid")
            if owner is not None:
                days = config.connectors["erp"].upsell_after_days
                session.add(Task(customer_id=customer.id, user_id=owner.id, kind="upsell",
                                 text=t("task_upsell", owner.language, order=order.order_id, days=days)[:200],
                                 due_at=(order.paid_at or now) + timedelta(days=days), created_at=now))
                effects.append("upsell")
    if order.delivery_status == "delivered" and "aftersales" not in done and owner is not None:
        days = config.connectors["erp"].aftersales_after_days
        session.add(Task(customer_id=customer.id, user_id=owner.id, kind="aftersales",
                         text=t("task_aftersales", owner.language, order=order.order_id)[:200],
                         due_at=(order.delivered_at or now) + timedelta(days=days), created_at=now))
        effects.append("aftersales")
    status = "applied"
    if blocked:
        status = "blocked"
        stage_target = "payment" if order.payment_status in ("partial", "paid") else "contract"
        missing = [config.field_label(f, "zh") for f in blocked if f != "owner"]
        if missing and f"blocked:{','.join(blocked)}" not in done:
            pushed += notify.notify_owner(session, customer, f"erp:{order.order_id}:blocked:{','.join(blocked)}",
                                          "erp_blocked", now, name=customer.name,
                                          stage=config.stage(stage_target).name, missing="、".join(missing))
            effects.append(f"blocked:{','.join(blocked)}")
    ref.customer_id = customer.id
    ref.digest = state_digest if status == "applied" else ""
    ref.status = status
    ref.last_run_id = run_id
    ref.updated_at = now
    ref.data = {"effects": done + effects, "order": _order_json(order), "blocked": blocked}
    session.add(ref)
    customer.updated_at = now
    session.add(customer)
    session.flush()
    return OrderResult(status, customer.id, effects, pushed)


def _order_json(order: Order) -> dict[str, Any]:
    return {"order_id": order.order_id, "version": order.version, "customer": order.customer, "amount": order.amount,
            "contract_no": order.contract_no, "contract_status": order.contract_status,
            "payment_status": order.payment_status, "paid_amount": order.paid_amount,
            "paid_at": order.paid_at.isoformat() if order.paid_at else None,
            "delivery_status": order.delivery_status,
            "delivered_at": order.delivered_at.isoformat() if order.delivered_at else None,
            "products": order.products}


class ErpConnector(Connector):
    name = "erp"
    path = "/orders"
    items_key = "orders"

    def apply_items(self, session: Session, run: ConnectorRun, items: list[Any], now: datetime) -> PageResult:
        result = PageResult()
        for raw in items:
            try:
                order = parse_order(raw)
            except ItemError as exc:
                result.rejected += 1
                oid = raw.get("order_id") if isinstance(raw, dict) else None
                result.log.append(entry(now, "warning", f"rejected order: {exc}", order=str(oid)[:100] if oid else None))
                continue
            try:
                with session.begin_nested():
                    outcome = guarded(lambda: apply_order(session, self.core, order, connector=self.name,
                                                          run_id=run.id, now=now))
            except ItemError as exc:
                result.rejected += 1
                result.log.append(entry(now, "warning", f"rejected order: {exc}", order=order.order_id))
                continue
            result.pushed += outcome.pushed
            if outcome.status == "unchanged":
                result.skipped += 1
            else:
                result.applied += 1
                if outcome.status == "blocked":
                    result.log.append(entry(now, "warning", "stage move blocked", order=order.order_id,
                                            customer=outcome.customer_id))
        return result

    def after_run(self, session: Session, run: ConnectorRun, now: datetime) -> PageResult:
        """Orders whose stage move was blocked: try again (the missing fields may be filled now)."""
        result = PageResult()
        blocked = list(session.exec(select(ExternalRef).where(ExternalRef.connector == self.name,
                                                              ExternalRef.kind == "order",
                                                              ExternalRef.status == "blocked").limit(200)))
        for ref in blocked:
            try:
                order = parse_order((ref.data or {}).get("order"))
                with session.begin_nested():
                    outcome = apply_order(session, self.core, order, connector=self.name, run_id=run.id, now=now,
                                          force=True)
            except ItemError:
                continue
            result.pushed += outcome.pushed
            if outcome.status == "applied":
                result.applied += 1
                result.log.append(entry(now, "info", "blocked stage move went through", order=order.order_id))
        return result
