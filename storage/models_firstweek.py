"""Undo (issue 14): a confirmed quick update or stage move can be taken back for a few minutes."""
from __future__ import annotations

from typing import Any, Optional

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class UndoRecord(SQLModel, table=True):
    """What one confirmed change did: the customer's columns before it, and the rows it created."""
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    kind: str = "update"  # update | stage
    status: str = "open"  # open | undone
    before: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    rows: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # [[table, id], …]
    after_updated_at: Optional[NaiveDatetime] = None  # the customer's updated_at right after the change
    created_at: NaiveDatetime
    expires_at: NaiveDatetime
