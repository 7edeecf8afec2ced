"""Leader election with a lease row, so jobs and sending happen once across instances.

Why a lease row and not APScheduler's job store or advisory locks: APScheduler 3 cannot share
a job store between processes (both would fire), and PostgreSQL session advisory locks break
behind transaction-pooling PgBouncer.  A row with ``expires_at`` renewed by the holder works on
SQLite and PostgreSQL alike; a dead leader is replaced once its lease expires (``ttl``).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.models import Lease


def try_acquire(session: Session, name: str, holder: str, now: datetime, ttl_s: float) -> bool:
    expires = now + timedelta(seconds=ttl_s)
    result = session.execute(update(Lease).where(
        Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now)).values(holder=holder, expires_at=expires))
    if result.rowcount:
        return True
    if session.get(Lease, name) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Lease(name=name, holder=holder, expires_at=expires))
            session.flush()
        return True
    except IntegrityError:
        return False


def release(session: Session, name: str, holder: str) -> None:
    session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder).values(
        expires_at=datetime(1970, 1, 1)))


class Leadership:
    """Tracks whether this instance currently holds the scheduler lease."""

    def __init__(self, holder: str, ttl_s: float = 30.0) -> None:
        self.holder = holder
        self.ttl_s = ttl_s
        self.is_leader = False

    async def refresh(self, core) -> bool:
        self.is_leader = await core.db.run(try_acquire, "scheduler", self.holder, core.clock.now(), self.ttl_s)
        return self.is_leader
