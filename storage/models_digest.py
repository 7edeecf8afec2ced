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
from sqlmodel import Field, SQLModel


class OwnerLoad(SQLModel, table=True):
    __tablename__ = "ownerload"
    team_id: int = Field(primary_key=True)
    owner_id: int = Field(primary_key=True)
    open_n: int = 0
    completeness_sum: int = 0
    overdue_n: int = 0        # next follow-up before OwnerCut.cut


class OwnerCut(SQLModel, table=True):
    """One row (id 1): the instant the overdue counts are cut at, and the time zone it was a midnight in."""
    __tablename__ = "ownercut"
    id: int = Field(default=1, primary_key=True)
    cut: Optional[NaiveDatetime] = None
    tz: str = ""


class StageCount(SQLModel, table=True):
    """Valid customers per (team, stage, status), kept by triggers on customer: the funnel's counts."""
    __tablename__ = "stagecount"
    team_id: int = Field(primary_key=True)
    stage: str = Field(primary_key=True)
    status: str = Field(primary_key=True)
    n: int = 0
