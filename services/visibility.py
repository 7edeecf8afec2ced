"""Who sees which customer (team boundaries, the owner, managers), and reading a customer under its row
lock with visibility checked after the lock is taken."""
from __future__ import annotations

from sqlalchemy import bindparam, func, inspect
from sqlmodel import Session, select

from storage.models import Customer, Team, User
from storage.rows import locked


# --- visibility ---------------------------------------------------------------------------

def can_see(user: User, customer: Customer) -> bool:
    """A rep sees only their own customers of their own team; a manager their team's; an admin
    everything; a deactivated member nothing."""
    if getattr(user, "deactivated_at", None) is not None:
        return False
    if user.role == "admin":
        return True
    if user.role == "manager":
        return customer.team_id == user.team_id
    return customer.owner_id == user.id and customer.team_id == user.team_id


class NotVisible(Exception):
    """The customer changed hands (or team) while this change waited for its row lock."""


def lock(session: Session, customer: Customer, actor: User | None = None) -> Customer:
    """The customer's row locked for the rest of the transaction and reloaded (same object): a rep
    and their manager (or two managers) changing one customer at once take turns (storage/rows.py).

    With an ``actor``, visibility is checked again on the locked row: whoever waited here may find
    the customer handed over to someone else meanwhile, and then writes nothing (NotVisible).
    The system actor (imports, connectors) has role ``system`` and is not a person to check.
    """
    held = _held_locks(session)
    row = held.get(customer.id)
    if row is None or row is not customer or inspect(row).expired_attributes or row not in session:
        row = locked(session, Customer, Customer.id == customer.id)
        if row is not None:
            held[row.id] = row
    # Locked already in this transaction (a save locks once, then sets a field, logs the follow-up
    # and records the undo): the row lock is still held and the object is the locked row as this
    # transaction left it, so it is not read again — but visibility is checked on it every time.
    if actor is not None and getattr(actor, "role", None) in ("rep", "manager", "admin") \
            and (row is None or not can_see(actor, row)):
        raise NotVisible(customer.id)
    return row


def _held_locks(session: Session) -> dict[int, Customer]:
    """The customers this session's current transaction has locked (``lock``), by id."""
    transaction = session.get_transaction()
    entry = session.info.get("customer_locks")
    if entry is None or entry[0] is not transaction:
        entry = session.info["customer_locks"] = (transaction, {})
    return entry[1]


def get_locked_for(session: Session, user: User, customer_id: int) -> Customer | None:
    """``get_for`` with the row locked first and visibility checked on the locked row (a write's
    first read: the rest of the transaction's ``lock`` calls find it held)."""
    row = locked(session, Customer, Customer.id == customer_id)
    if row is None or not can_see(user, row):
        return None
    _held_locks(session)[row.id] = row
    return row


def get_for(session: Session, user: User, customer_id: int) -> Customer | None:
    customer = session.get(Customer, customer_id)
    if customer is None or not can_see(user, customer):
        return None
    return customer


_WITH_TEAM = select(Customer, Team).outerjoin(Team, Team.id == Customer.team_id).where(Customer.id == bindparam("id"))


def get_with_team_for(session: Session, user: User, customer_id: int) -> tuple[Customer, Team | None] | None:
    """``get_for`` that reads the customer's team in the same statement (the card needs both)."""
    row = session.execute(_WITH_TEAM, {"id": customer_id}).first()
    if row is None or not can_see(user, row[0]):
        return None
    return row[0], row[1]


def visible_query(user: User):
    query = select(Customer).where(Customer.invalid == False)  # noqa: E712
    if user.role == "admin":
        return query
    if user.role == "manager":
        return query.where(Customer.team_id == user.team_id)
    return query.where(Customer.owner_id == user.id, Customer.team_id == user.team_id)


def list_visible(session: Session, user: User, *, open_only: bool = True, limit: int = 50, offset: int = 0,
                 mine_only: bool = False) -> tuple[list[Customer], int]:
    query = visible_query(user)
    if mine_only:
        query = query.where(Customer.owner_id == user.id)
    if open_only:
        query = query.where(Customer.status == "open")
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = list(session.exec(query.order_by(Customer.updated_at.desc(), Customer.id.desc()).offset(offset).limit(limit)))
    return rows, total
