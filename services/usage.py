"""The daily budget of a paid service kept in the database (table serviceusage): every instance of
the bot draws on the same budget, and a restart does not refill it.

One conditional UPDATE reserves (``used + amount <= limit``), so two instances reserving at the
same moment cannot both pass the limit, on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.db import Database

_RESERVE = text("UPDATE serviceusage SET used = used + :amount "
                "WHERE service = :service AND day = :day AND used + :amount <= :limit")
_RELEASE = text("UPDATE serviceusage SET used = CASE WHEN used > :amount THEN used - :amount ELSE 0 END "
                "WHERE service = :service AND day = :day")
_USED = text("SELECT used FROM serviceusage WHERE service = :service AND day = :day")


def reserve(session: Session, service: str, day: str, amount: float, limit: float) -> bool:
    if session.execute(_USED, {"service": service, "day": day}).first() is None:
        try:
            with session.begin_nested():
                session.execute(text("INSERT INTO serviceusage (service, day, used) VALUES (:service, :day, 0)"),
                                {"service": service, "day": day})
        except IntegrityError:
            pass  # another instance created today's row first
    result = session.execute(_RESERVE, {"service": service, "day": day, "amount": amount, "limit": limit})
    return result.rowcount == 1


def release(session: Session, service: str, day: str, amount: float) -> None:
    session.execute(_RELEASE, {"service": service, "day": day, "amount": amount})


def used(session: Session, service: str, day: str) -> float:
    row = session.execute(_USED, {"service": service, "day": day}).first()
    return float(row[0]) if row else 0.0


class DbBudget:
    """The same interface as resilience.DailyBudget, kept in the database."""

    def __init__(self, db: Database, service: str, limit: float) -> None:
        self.db = db
        self.service = service
        self.limit = limit

    async def reserve(self, day: str, amount: float) -> bool:
        return await self.db.run(reserve, self.service, day, amount, self.limit)

    async def release(self, day: str, amount: float) -> None:
        await self.db.run(release, self.service, day, amount)

    async def used(self, day: str) -> float:
        return await self.db.read(used, self.service, day)
