"""The team teaches the reader (issue 13 item 6): each analysis card's features, the reps'
labels on it, and the team's refitted adjustment of the shipped intent model."""
from __future__ import annotations

from typing import Any, Optional

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


class AnalysisSample(SQLModel, table=True):
    """One analysis shown on a card: what the shipped model read (enough to refit without the text)."""
    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    intent_id: Optional[int] = Field(default=None, foreign_key="intentrecord.id")
    kind: str = "sales"
    shipped_level: str                       # the shipped reader's level
    shipped_score: int
    level: str                               # the level the card showed (the team's model, once it has one)
    score: int
    features: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    objections: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    at: NaiveDatetime


class FeedbackLabel(SQLModel, table=True):
    """One rep's verdict on one analysis (pressing again changes it)."""
    __table_args__ = (UniqueConstraint("sample_id", "user_id", name="uq_feedbacklabel_sample_user"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    sample_id: int = Field(foreign_key="analysissample.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    customer_id: int = Field(foreign_key="customer.id")
    agreed: Optional[bool] = None            # 准 / 不准 (None: only objections were judged)
    correct_level: Optional[str] = None      # high | medium | low
    objection_verdicts: dict[str, bool] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: NaiveDatetime


class TeamIntentModel(SQLModel, table=True):
    """The team's fitted adjustment (nlp/team_model.py parameters) and how it did when fitted."""
    team_id: int = Field(foreign_key="team.id", primary_key=True)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    active: bool = False
    labels: int = 0
    shipped_acc: float = 0.0                 # on the team's labels
    team_acc: float = 0.0                    # cross-validated on the team's labels
    fitted_at: NaiveDatetime
