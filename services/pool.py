"""The team pool (公海): release, warnings, claims with a holding cap and a re-claim cooldown."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from core.config import Config
from storage.models import Activity, Customer, User
from storage.rows import locked


def warn_due(session: Session, config: Config, team_id: int, now: datetime) -> list[tuple[Customer, User]]:
    """Owners whose customers return to the pool within warn_before_days, warned once."""
    horizon = now + timedelta(days=config.pool.warn_before_days)
    rows = session.exec(select(Customer).where(
        Customer.team_id == team_id, Customer.owner_id != None, Customer.status == "open",  # noqa: E711
        Customer.protected_until != None, Customer.protected_until <= horizon,  # noqa: E711
        Customer.protected_until > now, Customer.pool_warned_at == None))  # noqa: E711
    out = []
    for customer in rows:
        owner = session.get(User, customer.owner_id)
        customer.pool_warned_at = now
        session.add(customer)
        if owner is not None and owner.active:
            out.append((customer, owner))
    session.flush()
    return out


def release_due(session: Session, config: Config, team_id: int, now: datetime) -> list[tuple[Customer, User | None]]:
    rows = list(session.exec(select(Customer).where(
        Customer.team_id == team_id, Customer.owner_id != None, Customer.status == "open",  # noqa: E711
        Customer.protected_until != None, Customer.protected_until <= now)))  # noqa: E711
    out = []
    for customer in rows:
        owner = session.get(User, customer.owner_id)
        customer.previous_owner_id = customer.owner_id
        customer.owner_id = None
        customer.released_at = now
        customer.protected_until = None
        customer.pool_warned_at = None
        session.add(customer)
        session.add(Activity(customer_id=customer.id, user_id=None, kind="release", text="pool", at=now,
                             data={"previous_owner": customer.previous_owner_id}))
        out.append((customer, owner))
    session.flush()
    return out


def pool_list(session: Session, user: User, limit: int = 10) -> list[Customer]:
    return list(session.exec(select(Customer).where(
        Customer.team_id == user.team_id, Customer.owner_id == None, Customer.status == "open",  # noqa: E711
        Customer.invalid == False).order_by(Customer.released_at.desc(), Customer.id.desc()).limit(limit)))  # noqa: E712


@dataclass
class ClaimResult:
    ok: bool
    reason_key: str = ""  # a core.texts key, filled with reason_values
    reason_values: dict = field(default_factory=dict)
    customer: Customer | None = None


def claim(session: Session, config: Config, user: User, customer_id: int, now: datetime) -> ClaimResult:
    # Two reps pressing "claim" at once: the second waits here, then sees the owner.
    customer = locked(session, Customer, Customer.id == customer_id)
    if customer is None or customer.team_id != user.team_id or customer.status != "open" or customer.invalid:
        return ClaimResult(False, "claim_not_in_pool")
    if customer.owner_id is not None:
        return ClaimResult(False, "claim_has_owner")
    holding = session.exec(select(func.count()).select_from(Customer).where(
        Customer.owner_id == user.id, Customer.status == "open")).one()
    if holding >= config.pool.max_holding:
        return ClaimResult(False, "claim_cap", {"holding": holding, "cap": config.pool.max_holding})
    if customer.previous_owner_id == user.id and customer.released_at and \
            now < customer.released_at + timedelta(days=config.pool.reclaim_cooldown_days):
        until = customer.released_at + timedelta(days=config.pool.reclaim_cooldown_days)
        return ClaimResult(False, "claim_cooldown", {"until": until})  # a datetime: the handler words it
    customer.owner_id = user.id
    customer.protected_until = now + timedelta(days=config.pool.protect_days)
    customer.updated_at = now
    session.add(customer)
    session.add(Activity(customer_id=customer.id, user_id=user.id, kind="claim", text="pool", at=now))
    session.flush()
    return ClaimResult(True, customer=customer)
