"""Coaching (issue 16): why deals were lost, competitor mentions, planned visits, SOP feedback."""
from __future__ import annotations

from typing import Any, Optional

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel


class DealLoss(SQLModel, table=True):
    """The reason a deal was closed as lost (one row per customer; the lost exit happens once)."""
    customer_id: int = Field(foreign_key="customer.id", primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    stage: str                      # the stage the deal was lost from
    reason: str = ""                # a lost_reasons id ("" until the rep picks one)
    competitor: str = ""            # a competitors id, or ""
    note: str = ""
    by_user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    at: NaiveDatetime


class CompetitorMention(SQLModel, table=True):
    """A competitor named in a pasted chat, a follow-up or a loss, with the objections seen alongside."""
    __table_args__ = (Index("ix_mention_team_comp", "team_id", "competitor"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    team_id: int = Field(foreign_key="team.id")
    competitor: str
    source: str                     # paste | followup | lost
    objections: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    at: NaiveDatetime


class Visit(SQLModel, table=True):
    """A planned customer visit (拜访): its slot, the plan's goal, and the check-in afterwards."""
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    start_at: NaiveDatetime
    end_at: NaiveDatetime
    goal: str = ""
    status: str = "planned"         # planned | done | missed
    outcome: str = ""
    plan: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: NaiveDatetime
    checked_at: Optional[NaiveDatetime] = None


class SopFeedback(SQLModel, table=True):
    """一线反馈: a rep's flag on a checklist item (useless | missing_step | unclear) with an optional note."""
    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    customer_id: Optional[int] = Field(default=None, foreign_key="customer.id")
    stage: str
    item_id: str
    kind: str
    note: str = ""
    at: NaiveDatetime
