"""Undo a confirmed quick update or stage move for UNDO_MINUTES (issue 14).

``recorded`` runs the change and remembers what it did: the customer's columns it changed (their
values before) and the rows it inserted. ``undo`` puts the columns back, deletes the activity, task,
stage-change and field-history rows it added and reverses the points it earned (the ledger is never edited:
awarded rows get a reversal row, pending ones are rejected). Notices already sent stay sent.

It refuses when the time is up, when the customer changed again since (someone else's later work
is never thrown away), or when it was already undone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, TypeVar

from sqlalchemy import event
from sqlmodel import Session

from services import points as points_svc
from services.customers import get_for, lock
from storage.models import Activity, Customer, FieldHistory, PointsEntry, StageChange, Task, User
from storage.models_firstweek import UndoRecord
from storage.rows import transition

UNDO_MINUTES = 10
T = TypeVar("T")
_DELETED = {"activity": Activity, "task": Task, "stagechange": StageChange, "fieldhistory": FieldHistory}
_SKIP = {"id", "updated_at"}


def _columns(customer: Customer) -> dict[str, Any]:
    return {c.name: getattr(customer, c.name) for c in Customer.__table__.columns if c.name not in _SKIP}


def _json(value: Any) -> Any:
    return {"$dt": value.isoformat()} if isinstance(value, datetime) else value


def _unjson(value: Any) -> Any:
    return datetime.fromisoformat(value["$dt"]) if isinstance(value, dict) and set(value) == {"$dt"} else value


def recorded(session: Session, user: User, customer: Customer, kind: str, now: datetime,
             change: Callable[[], T]) -> tuple[T, int | None]:
    """Run ``change`` (which changes ``customer``); returns its result and the undo id (None: nothing changed)."""
    customer = lock(session, customer)  # the snapshot is the state the change starts from
    before = _columns(customer)
    created: list[Any] = []

    def collect(sess, _ctx) -> None:
        created.extend(sess.new)

    event.listen(session, "after_flush", collect)
    try:
        result = change()
        session.flush()
    finally:
        event.remove(session, "after_flush", collect)
    session.refresh(customer)
    after = _columns(customer)
    changed = {k: _json(v) for k, v in before.items() if after.get(k) != v}
    rows = [[type(o).__tablename__, o.id] for o in created
            if type(o).__tablename__ in (*_DELETED, "pointsentry") and getattr(o, "id", None) is not None]
    if not changed and not rows:
        return result, None
    record = UndoRecord(user_id=user.id, customer_id=customer.id, kind=kind, before=changed, rows=rows,
                        after_updated_at=customer.updated_at, created_at=now,
                        expires_at=now + timedelta(minutes=UNDO_MINUTES))
    session.add(record)
    session.flush()
    return result, record.id


@dataclass
class UndoResult:
    status: str  # undone | expired | changed | gone
    customer: Customer | None = None
    kind: str = ""


def undo(session: Session, user: User, undo_id: int, now: datetime) -> UndoResult:
    record = session.get(UndoRecord, undo_id)
    if record is None or record.user_id != user.id:
        return UndoResult("gone")
    customer = get_for(session, user, record.customer_id)
    if customer is None:
        return UndoResult("gone")
    if record.status != "open":
        return UndoResult("gone", customer, record.kind)
    if now > record.expires_at:
        return UndoResult("expired", customer, record.kind)
    customer = lock(session, customer)
    if customer.updated_at != record.after_updated_at:
        return UndoResult("changed", customer, record.kind)
    if not transition(session, record, "status", "open", status="undone"):  # two presses: one undo
        return UndoResult("gone", customer, record.kind)
    for name, value in record.before.items():
        setattr(customer, name, _unjson(value))
    customer.updated_at = now
    session.add(customer)
    points = [row_id for table, row_id in record.rows if table == "pointsentry"]
    points_svc.reverse_entries(session, points, now, f"undo #{record.id}")
    for table, row_id in reversed(record.rows):
        model = _DELETED.get(table)
        row = session.get(model, row_id) if model else None
        if row is not None:
            session.delete(row)
    session.flush()
    return UndoResult("undone", customer, record.kind)
