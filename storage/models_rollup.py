"""Per-rep daily rollups (migration 0008_rollup): services.rollups computes and reads them.

One ``RepDay`` row per (team, rep, local day) and one ``RepKind`` row per (rep, day, activity kind) with what the digests, boards and KPI windows count
for closed days; today's rows are always read raw.  ``RollupDay`` lists the days computed so far
(with the time zone they were cut in).  ``RollupDirty`` holds (user, time) marks written by
database triggers whenever a counted row is inserted, changed or deleted — activities, stage
moves, checklist items, ledger entries, and a customer's team or ``invalid`` flag (its moves and
items) — so any write, by any code path (the ORM, bulk Core statements, raw SQL), leaves the days it
touched marked; the reader recomputes those (rep, day) rows from the raw tables before it reads.
"""
from __future__ import annotations

from datetime import date
from typing import Optional

from pydantic import NaiveDatetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class RepDay(SQLModel, table=True):
    """A rep's counts for one local day, per team.

    ``team_id`` is the counted row's team: the customer's for stage moves and checklist items, the
    ledger entry's for points (the raw queries filter on those)."""
    __tablename__ = "repday"
    __table_args__ = (Index("ix_repday_user_day", "user_id", "day"),)
    team_id: int = Field(primary_key=True)
    day: date = Field(primary_key=True)
    user_id: int = Field(primary_key=True)
    points: int = 0           # awarded + reversal ledger rows (services.points.EARNED)
    moves: int = 0            # stage moves (from a stage) of valid customers
    moves_complete: int = 0
    deals: int = 0            # … to "won"
    items: int = 0            # checklist items of valid customers
    items_on_time: int = 0


class RepKind(SQLModel, table=True):
    """A rep's activities of one kind on one local day (the digest's "yesterday" and brief lines)."""
    __tablename__ = "repkind"
    day: date = Field(primary_key=True)
    user_id: int = Field(primary_key=True)
    kind: str = Field(primary_key=True)
    n: int = 0


class RollupDay(SQLModel, table=True):
    __tablename__ = "rollupday"
    day: date = Field(primary_key=True)
    tz: str
    computed_at: NaiveDatetime


class RollupDirty(SQLModel, table=True):
    """A counted row of ``user_id`` at ``at`` changed: its (rep, local day) rows are recomputed."""
    __tablename__ = "rollupdirty"
    __table_args__ = (Index("ix_rollupdirty_at", "at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: Optional[int] = None
    at: NaiveDatetime
