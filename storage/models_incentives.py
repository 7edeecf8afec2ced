"""Tables of the incentives area: honors, redemptions, anti-cheating flags, board and quality snapshots.

The points themselves live in the ledger (storage.models.PointsEntry); these tables only hold what
the ledger cannot: decisions waiting for a manager, the last leaderboard (for "movement since last
time"), each rep's daily data-quality check (for the weekly 数据质量之星) and the honors won.
"""
from __future__ import annotations

from typing import Optional

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class Honor(SQLModel, table=True):
    """An honor won: monthly 专业顾问 / 最佳协同, weekly 数据质量之星. Kept in the rep's profile."""
    __table_args__ = (UniqueConstraint("team_id", "kind", "period", "user_id"),
                      Index("ix_honor_user", "user_id"))
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    team_id: int = Field(foreign_key="team.id")
    kind: str  # advisor | collaboration | quality_star
    period: str  # 2026-11 (monthly) or 2026-W48 (weekly)
    label: str
    score: float = 0.0
    at: NaiveDatetime


class Redemption(SQLModel, table=True):
    """A rep asks for a reward; the manager approves (points deducted then) or declines."""
    __table_args__ = (Index("ix_redemption_team_status", "team_id", "status"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    team_id: int = Field(foreign_key="team.id")
    reward_id: str
    reward_name: str
    price: int
    status: str = "requested"  # requested | approved | declined
    requested_at: NaiveDatetime
    decided_at: Optional[NaiveDatetime] = None
    decided_by: Optional[int] = Field(default=None, foreign_key="user.id")
    entry_id: Optional[int] = Field(default=None, foreign_key="pointsentry.id")  # the deduction row


class AntiCheatFlag(SQLModel, table=True):
    """Activity that looks mechanical (bursts, copy-paste notes) or evidence that failed a rule."""
    __table_args__ = (Index("ix_acflag_team_at", "team_id", "at"), Index("ix_acflag_user_kind", "user_id", "kind"))
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    team_id: Optional[int] = Field(default=None, foreign_key="team.id")
    kind: str  # burst | copy_paste
    detail: str = ""
    fingerprint: str = ""  # what the flag is about (text hash, window) so one pattern is flagged once
    entry_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # ledger rows concerned
    status: str = "open"  # open | cleared | revoked
    at: NaiveDatetime
    decided_at: Optional[NaiveDatetime] = None
    decided_by: Optional[int] = Field(default=None, foreign_key="user.id")


class BoardSnapshot(SQLModel, table=True):
    """One row per rep per posted leaderboard: the next board shows movement against it."""
    __table_args__ = (Index("ix_board_team_kind_at", "team_id", "board", "at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    board: str  # daily | weekly
    slot: str
    user_id: int = Field(foreign_key="user.id")
    group_key: str = ""
    rank: int
    share: float  # % of the rep's own target for the period
    points: int
    at: NaiveDatetime


class QualityDay(SQLModel, table=True):
    """Each working day's data-quality check of a rep's open customers (missing required fields)."""
    __table_args__ = (UniqueConstraint("user_id", "day"), Index("ix_qualityday_team_day", "team_id", "day"))
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    team_id: int = Field(foreign_key="team.id")
    day: str  # local date, YYYY-MM-DD
    customers: int = 0
    missing: int = 0  # customers with at least one due required field missing
    at: NaiveDatetime


# Indexes on the core tables that the digest and leaderboard aggregates need (time-window scans
# by team or by rep); declared here so autogenerate keeps them, created in 0002_incentives.
from storage.models import ChecklistDone, Customer, PointsEntry, StageChange  # noqa: E402

# (Activity already has ix_activity_user_at_kind, on (user_id, at, kind, customer_id).)  The column lists make them covering: an aggregate reads
# the index only, never the wide rows.
_s = StageChange.__table__.c
Index("ix_stagechange_user_at", _s.by_user_id, _s.at, _s.customer_id, _s.from_stage, _s.to_stage, _s.complete_data)
_c = ChecklistDone.__table__.c
Index("ix_checklistdone_user_at", _c.user_id, _c.at, _c.customer_id, _c.within_expected, _c.item_id)
_k = Customer.__table__.c
Index("ix_customer_team_book", _k.team_id, _k.status, _k.owner_id, _k.invalid, _k.completeness, _k.next_followup_at)
Index("ix_customer_team_funnel", _k.team_id, _k.stage, _k.status, _k.invalid, _k.stage_entered_at)
# Covering for "earned points per rep in a period" and "pending approvals of a team".
_p = PointsEntry.__table__.c
Index("ix_points_team_status_at", _p.team_id, _p.status, _p.at, _p.user_id, _p.points)
