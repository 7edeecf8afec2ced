"""Team boundaries and people's lifecycle: the audit trail of access-relevant actions (issue 11)."""
from __future__ import annotations

from typing import Any, Optional

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel


class AuditEvent(SQLModel, table=True):
    """One access-relevant action: who did what to whom, in which team, when.

    kind: invite_created | invite_redeemed | invite_refused | role_changed | team_changed |
    deactivated | reactivated | handover | lookup | export.  ``team_id`` is the actor's team,
    ``other_team_id`` the team on the other side (a move's target, a cross-team lookup's owner).
    """
    __table_args__ = (Index("ix_audit_team_at", "team_id", "at"), Index("ix_audit_actor_kind_at", "actor_id", "kind", "at"))
    id: Optional[int] = Field(default=None, primary_key=True)
    at: NaiveDatetime
    kind: str
    actor_id: Optional[int] = Field(default=None, foreign_key="user.id")  # None: the CLI / the system
    subject_id: Optional[int] = Field(default=None, foreign_key="user.id")
    team_id: Optional[int] = Field(default=None, foreign_key="team.id")
    other_team_id: Optional[int] = Field(default=None, foreign_key="team.id")
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
