"""Per-owner open-customer counts for the digests, boards and KPI windows (migration 0009_digest).

``OwnerLoad``: one row per (team, owner) — owner 0: the team's pool — with the owner's open, valid customers — how many, their
completeness summed, and how many were due for a follow-up before ``OwnerCut.cut`` (a local
midnight: the start of "today" when it was set).  Database triggers on customer (insert, delete,
a change of team, owner, status, validity, completeness or next follow-up) keep every row exact in
the same transaction as the write, whatever code path wrote it.  When the day changes, the counts
are recomputed for the new cut (services/owner_load.py: the nightly job, else the first reader).
"""
from __future__ import annotations

from typing import Optional

from pydantic import NaiveDatetime
from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class OwnerLoad(SQLModel, table=True):
    """Append-only deltas (the triggers INSERT, never UPDATE: no hot rows): a figure is the SUM per key."""
    __tablename__ = "ownerload"
    id: Optional[int] = Field(default=None, primary_key=True)
    __table_args__ = (Index("ix_ownerload_team_owner", "team_id", "owner_id"),)
    team_id: int
    owner_id: int
    open_n: int = 0
    completeness_sum: int = 0
    overdue_n: int = 0        # next follow-up before OwnerCut.cut


class OwnerCut(SQLModel, table=True):
    """One row (id 1): the instant the overdue counts are cut at, and the time zone it was a midnight in."""
    __tablename__ = "ownercut"
    id: int = Field(default=1, primary_key=True)
    cut: Optional[NaiveDatetime] = None
    tz: str = ""
    load_folded: int = 0      # the highest ownerload id at its last fold (services/counters.py)
    stage_folded: int = 0     # the same for stagecount


class StageCount(SQLModel, table=True):
    """Valid customers per (team, stage, status), kept by triggers on customer: the funnel's counts."""
    __tablename__ = "stagecount"
    __table_args__ = (Index("ix_stagecount_team_stage", "team_id", "stage", "status"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: int
    stage: str
    status: str
    n: int = 0
