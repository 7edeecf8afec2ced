"""The third answer to a duplicate alert (issue 14): merge what the second rep typed into the existing
record. The owner stays; empty fields are filled from the attempt, everything else is kept as a note."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from core.config import Config
from services.customers import can_see, get_for, lock, set_field
from services.cleaning import FieldRejected
from storage.models import Activity, Customer, User

MERGED_FIELDS = ("contact", "phone", "company", "industry", "size", "source")


def record_attempt(session: Session, customer_id: int, requester: User, values: dict, now: datetime) -> None:
    """What the rep typed when the guard stopped them (the merge button reads it back)."""
    session.add(Activity(customer_id=customer_id, user_id=requester.id, kind="dup_attempt", at=now,
                         text=str(values.get("name") or "")[:200],
                         data={k: str(v)[:200] for k, v in values.items() if v not in (None, "", "-")}))


def merge_attempt(session: Session, config: Config, manager: User, customer_id: int, requester_id: int,
                  now: datetime) -> tuple[Customer, User | None, list[str]] | None:
    """Fill the customer's empty fields from the requester's latest attempt; the rest becomes a note."""
    customer = get_for(session, manager, customer_id)
    requester = session.get(User, requester_id)
    if customer is None or requester is None or (manager.role != "admin" and requester.team_id != manager.team_id):
        return None
    customer = lock(session, customer)
    if not can_see(manager, customer):
        return None
    attempt = session.exec(select(Activity).where(Activity.customer_id == customer.id, Activity.user_id == requester.id,
                                                  Activity.kind == "dup_attempt")
                           .order_by(Activity.at.desc(), Activity.id.desc())).first()
    owner = session.get(User, customer.owner_id) if customer.owner_id else None
    if attempt is None:
        return customer, owner, []
    values = dict(attempt.data or {})
    if values.get("name") and values["name"] != customer.name:
        values.setdefault("contact", values["name"])  # /new asks 「客户称呼或名称」: often the person
    filled, kept = [], []
    for name in MERGED_FIELDS:
        value = values.get(name)
        if not value:
            continue
        if getattr(customer, name) in (None, ""):
            try:
                set_field(session, config, manager, customer, name, value, now, source="merge")
                filled.append(name)
                continue
            except FieldRejected:
                pass
        if str(getattr(customer, name) or "") != value:
            kept.append(f"{config.field_label(name, 'zh')}：{value}")
    note = f"合并 {requester.name} 的录入" + ("：" + "；".join(kept) if kept else "")
    session.add(Activity(customer_id=customer.id, user_id=manager.id, kind="note", at=now, text=note[:2000],
                         data={"merged_from": requester.id, "attempt": attempt.id}))
    customer.updated_at = now
    session.add(customer)
    session.flush()
    return customer, owner, filled
