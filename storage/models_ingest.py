"""Tables of the ingestion area: API idempotency and replay protection, connector runs and
cursors, external ids, spreadsheet import batches and the round-robin position.

Timestamps are naive UTC, like everywhere else (storage/models.py).
"""
from __future__ import annotations

from typing import Any, Optional

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


def _json_dict() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class IdempotencyKey(SQLModel, table=True):
    """The first answer to a request carrying ``Idempotency-Key``: a retry gets it again."""
    __table_args__ = (UniqueConstraint("source", "key", name="uq_idempotency_source_key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    source: str
    key: str
    request_hash: str
    status_code: int
    response: dict[str, Any] = _json_dict()
    created_at: NaiveDatetime
    expires_at: NaiveDatetime = Field(index=True)


class IngestNonce(SQLModel, table=True):
    """Signatures already accepted within the replay window: a signed request counts once."""
    __table_args__ = (UniqueConstraint("source", "signature", name="uq_nonce_source_signature"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    source: str
    signature: str
    expires_at: NaiveDatetime = Field(index=True)


class ConnectorRun(SQLModel, table=True):
    """The run log: one row per connector run (scheduled, manual or CLI), with what happened."""
    __table_args__ = (UniqueConstraint("connector", "slot", name="uq_connector_run_slot"),
                      Index("ix_connectorrun_status", "connector", "status"))
    id: Optional[int] = Field(default=None, primary_key=True)
    connector: str
    trigger: str = "schedule"  # schedule | manual | cli | test
    slot: Optional[str] = None
    status: str = "queued"  # queued | running | ok | partial | failed
    worker: Optional[str] = None
    lease_until: Optional[NaiveDatetime] = None
    created_at: NaiveDatetime
    started_at: Optional[NaiveDatetime] = None
    finished_at: Optional[NaiveDatetime] = None
    pages: int = 0
    fetched: int = 0
    applied: int = 0
    skipped: int = 0  # duplicates / unchanged records
    rejected: int = 0  # malformed records (kept in ``log``)
    retries: int = 0
    cursor_before: Optional[str] = None
    cursor_after: Optional[str] = None
    error: str = ""
    log: list[Any] = _json_list()


class ConnectorCursor(SQLModel, table=True):
    """Where a connector continues: advanced in the same transaction as the page it applied."""
    connector: str = Field(primary_key=True)
    cursor: Optional[str] = None
    run_id: Optional[int] = None
    updated_at: NaiveDatetime


class ExternalRef(SQLModel, table=True):
    """An id in another system (ERP order, ERP customer, archived message) and what we did with it."""
    __table_args__ = (UniqueConstraint("connector", "kind", "external_id", name="uq_external_ref"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    connector: str
    kind: str  # customer | order | message | event
    external_id: str
    customer_id: Optional[int] = Field(default=None, foreign_key="customer.id", index=True)
    digest: str = ""
    status: str = "applied"  # applied | blocked | unmatched
    data: dict[str, Any] = _json_dict()
    first_run_id: Optional[int] = None
    last_run_id: Optional[int] = None
    created_at: NaiveDatetime
    updated_at: NaiveDatetime


class ImportBatch(SQLModel, table=True):
    """A spreadsheet import: planned (dry run shown), then applied in one transaction, or not."""
    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    filenames: str = ""
    sha256: str = ""
    status: str = "planned"  # planned | applied | cancelled | expired
    digest: str = ""
    rows: list[Any] = _json_list()
    counts: dict[str, Any] = _json_dict()
    created_at: NaiveDatetime
    decided_at: Optional[NaiveDatetime] = None


class AssignmentCursor(SQLModel, table=True):
    """The round-robin position per team (who got the last lead)."""
    team_id: int = Field(foreign_key="team.id", primary_key=True)
    last_user_id: Optional[int] = None
    updated_at: NaiveDatetime
