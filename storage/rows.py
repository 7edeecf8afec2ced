"""Two ways to keep a row right when two people change it at the same moment (their updates run
side by side; on PostgreSQL their transactions interleave at READ COMMITTED).

- ``locked``: read the row FOR UPDATE and decide from it; whoever comes second waits here and then
  sees the first one's committed state.  SQLite has no FOR UPDATE and needs none: its write
  transactions never overlap (storage/db.py).
- ``transition``: a guarded UPDATE that moves a row out of one state exactly once (a decision, an
  approval); the caller learns whether it was the one that moved it.
"""
from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import update
from sqlmodel import Session, select

M = TypeVar("M")


def locked(session: Session, model: type[M], *where: Any) -> M | None:
    """The row matching ``where``, locked for the rest of the transaction and reloaded (the session
    autoflushes first, so changes made so far are written, not lost by the reload)."""
    return session.exec(select(model).where(*where).with_for_update()
                        .execution_options(populate_existing=True)).first()


def transition(session: Session, row: Any, column: str, expected: Any, **values: Any) -> bool:
    """Set ``values`` on ``row`` only if ``column`` still holds ``expected``; True if this call did it."""
    model = type(row)
    moved = session.execute(update(model).where(model.id == row.id, getattr(model, column) == expected)
                            .values(**values)).rowcount == 1
    if moved:
        session.refresh(row)
    return moved


def run_core(session: Session, statement: Any, params: dict[str, Any]):
    """A Core statement built once (bind parameters, no ORM entities) on the session's own connection
    and transaction: rows as tuples, none of the ORM's per-statement work.  Changes still pending in
    the session are flushed first, as the ORM's autoflush would."""
    if session.autoflush:
        session.flush()  # returns at once when nothing is pending
    return session.connection().execute(statement, params)
