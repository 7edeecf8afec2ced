"""Database tables (SQLModel).

Telegram ids use BIGINT: they exceed 32 bits (supergroups are -100…), and sqlmodel maps a
plain ``int`` to INTEGER, which overflows on PostgreSQL.  Timestamps are stored as naive UTC.
"""
from __future__ import annotations

from pydantic import NaiveDatetime
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


def _json_dict() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Team(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    timezone: str = "Asia/Shanghai"
    # None = the config's modules_enabled; a list = the modules this team pilots.
    modules: Optional[list[str]] = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: NaiveDatetime


class User(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    tg_id: int = Field(sa_type=BigInteger, unique=True, index=True)
    name: str
    username: Optional[str] = None
    role: str = "rep"  # rep | manager | admin
    team_id: Optional[int] = Field(default=None, foreign_key="team.id", index=True)
    language: str = "zh"
    active: bool = True  # False once the user blocked the bot (403); skipped by fan-outs
    blocked_at: Optional[NaiveDatetime] = None
    # Set when a manager or admin ends this person's access (离职); only an admin clears it.
    deactivated_at: Optional[NaiveDatetime] = None
    cohort: str = "default"  # comparable group for fair leaderboards (role or tenure)
    target_points: int = 100
    joined_at: NaiveDatetime


class Invite(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)
    team_id: int = Field(foreign_key="team.id")
    created_by: int = Field(foreign_key="user.id")
    role: str = "rep"
    created_at: NaiveDatetime
    expires_at: NaiveDatetime
    used_by: Optional[int] = Field(default=None, foreign_key="user.id")
    used_at: Optional[NaiveDatetime] = None


class Stranger(SQLModel, table=True):
    """Unknown Telegram users who were told once that this is a private team bot."""
    tg_id: int = Field(sa_type=BigInteger, primary_key=True)
    refused_at: NaiveDatetime


class Customer(SQLModel, table=True):
    __table_args__ = (Index("ix_customer_team_owner", "team_id", "owner_id"),
                      # migration 0006_perf:
                      Index("ix_customer_owner_status", "owner_id", "status"),
                      Index("ix_customer_team_due", "team_id", "status", "next_followup_at"),
                      Index("ix_customer_team_hot", "team_id", "status", "intent_score"),
                      # migration 0009_digest (the stalled-deal escalations):
                      Index("ix_customer_team_progress", "team_id", "status", "invalid", "stage", "progress_at"))
    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    owner_id: Optional[int] = Field(default=None, foreign_key="user.id")  # None = team pool (公海)
    name: str
    company: Optional[str] = None
    contact: Optional[str] = None
    phone: Optional[str] = None
    phone_norm: Optional[str] = Field(default=None, index=True)
    company_norm: Optional[str] = Field(default=None, index=True)
    industry: Optional[str] = None
    size: Optional[str] = None
    source: Optional[str] = None
    tags: list[str] = _json_list()
    amount: Optional[float] = None
    custom: dict[str, Any] = _json_dict()
    stage: str
    status: str = "open"  # open | won | lost
    stage_entered_at: NaiveDatetime
    created_at: NaiveDatetime
    updated_at: NaiveDatetime
    created_by: Optional[int] = Field(default=None, foreign_key="user.id")
    last_followup_at: Optional[NaiveDatetime] = None
    next_followup_at: Optional[NaiveDatetime] = Field(default=None, index=True)
    protected_until: Optional[NaiveDatetime] = None
    pool_warned_at: Optional[NaiveDatetime] = None
    previous_owner_id: Optional[int] = Field(default=None, foreign_key="user.id")
    released_at: Optional[NaiveDatetime] = None
    completeness: int = 0
    intent_score: Optional[int] = None
    intent_level: Optional[str] = None
    priority: int = 0
    invalid: bool = False
    # The later of entering the current stage and the latest checklist step done in it: written by the
    # database's triggers (migration 0009_digest) on every insert, stage change and step done, undone or
    # edited, whatever code path wrote it; the ORM never sets it (services/stalls.py reads it).
    progress_at: Optional[NaiveDatetime] = None


class StageChange(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    from_stage: Optional[str] = None
    to_stage: str
    by_user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    at: NaiveDatetime
    complete_data: bool = True


class Activity(SQLModel, table=True):
    """Anything that happened to a customer: follow-ups, notes, pastes, field edits, claims."""
    __table_args__ = (Index("ix_activity_user_at_kind", "user_id", "at", "kind", "customer_id"),)  # 0009_digest
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    kind: str  # followup | note | paste | checklist | stage | field | create | claim | release | import
    text: str = ""
    at: NaiveDatetime
    data: dict[str, Any] = _json_dict()


class ChecklistDone(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("customer_id", "stage", "item_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    stage: str
    item_id: str
    user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    at: NaiveDatetime
    within_expected: bool = True


class Task(SQLModel, table=True):
    """A reminder the rep set, or one the system made (after-sales, upsell)."""
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: Optional[int] = Field(default=None, foreign_key="customer.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    kind: str = "reminder"  # reminder | followup | aftersales | upsell
    text: str = ""
    due_at: NaiveDatetime = Field(index=True)
    status: str = "open"  # open | fired | folded | done
    created_at: NaiveDatetime


class PointsEntry(SQLModel, table=True):
    """The points ledger: balances are sums of rows, never edited; reversals are rows too."""
    __table_args__ = (Index("ix_points_user_at", "user_id", "at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    team_id: Optional[int] = Field(default=None, foreign_key="team.id")
    action: str
    points: int
    status: str = "awarded"  # awarded | pending | rejected | reversal
    evidence_type: str = ""
    evidence_id: Optional[int] = None
    reverses_id: Optional[int] = Field(default=None, foreign_key="pointsentry.id")
    note: str = ""
    at: NaiveDatetime


class IntentRecord(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    score: int
    level: str
    objections: list[str] = _json_list()
    reply_hours: list[int] = _json_list()
    at: NaiveDatetime


class SpotCheck(SQLModel, table=True):
    # migration 0009_digest: the digest's flags of the last day by their own range, not every team customer probed
    __table_args__ = (Index("ix_spotcheck_result_decided", "result", "decided_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    manager_id: int = Field(foreign_key="user.id")
    owner_id: Optional[int] = Field(default=None, foreign_key="user.id")
    result: str = "pending"  # pending | ok | flagged
    reason: str = ""
    drawn_at: NaiveDatetime
    decided_at: Optional[NaiveDatetime] = None


class GroupBinding(SQLModel, table=True):
    chat_id: int = Field(sa_type=BigInteger, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    title: str = ""
    bound_by: Optional[int] = Field(default=None, foreign_key="user.id")
    bound_at: NaiveDatetime


class FieldHistory(SQLModel, table=True):
    """Where each customer field came from and when (user, import, connector run)."""
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    field: str
    value: Optional[str] = None
    source: str  # user | import | api | connector:<name> | system
    source_ref: Optional[str] = None
    by_user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    at: NaiveDatetime


class Outbox(SQLModel, table=True):
    """Every scheduled or fan-out message, written in the same transaction as the state it reports."""
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True)
    chat_id: int = Field(sa_type=BigInteger, index=True)
    kind: str  # brief | card | reminder | digest | leaderboard | notice
    payload: dict[str, Any] = _json_dict()
    status: str = "pending"  # pending | sending | sent | failed | skipped
    attempts: int = 0
    next_attempt_at: NaiveDatetime
    claimed_by: Optional[str] = None
    claimed_until: Optional[NaiveDatetime] = None
    telegram_message_id: Optional[int] = Field(default=None, sa_type=BigInteger)
    last_error: str = ""
    created_at: NaiveDatetime
    sent_at: Optional[NaiveDatetime] = None


class JobRun(SQLModel, table=True):
    """One row per (job, slot): a scheduled job runs once per slot, across restarts and instances."""
    __table_args__ = (UniqueConstraint("job_key", "slot"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    job_key: str
    slot: str
    status: str = "done"  # done | skipped
    at: NaiveDatetime
    detail: str = ""


class ProcessedUpdate(SQLModel, table=True):
    """Telegram update ids already handled: a redelivered update is processed once."""
    update_id: int = Field(sa_type=BigInteger, primary_key=True)
    at: NaiveDatetime


class Lease(SQLModel, table=True):
    """Leader lease for scheduled jobs when several instances share one database."""
    name: str = Field(primary_key=True)
    holder: str
    expires_at: NaiveDatetime


class CompanyGram(SQLModel, table=True):
    """Two-character pieces of each customer's normalized company name: the duplicate guard's index.

    A fuzzy match needs most of the pieces in common, so candidates come from an indexed lookup
    instead of scanning every company name with LIKE.
    """
    customer_id: int = Field(foreign_key="customer.id", primary_key=True)
    gram: str = Field(primary_key=True, index=True)
    total: int  # how many pieces the name has (to recognise a shorter name contained in a longer one)
