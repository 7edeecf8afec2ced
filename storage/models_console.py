"""The playbook editor's tables: immutable versions, drafts, which version each team runs, the change log."""
from __future__ import annotations

from typing import Any, Optional

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel


class PlaybookVersion(SQLModel, table=True):
    """A published playbook (config.toml text). Never updated: a rollback publishes a copy as a new version."""
    id: Optional[int] = Field(default=None, primary_key=True)
    number: int = Field(unique=True, index=True)
    toml: str = Field(sa_column=Column(Text, nullable=False))
    source: str = "publish"  # seed | publish | rollback
    based_on: Optional[int] = Field(default=None, foreign_key="playbookversion.id")
    created_by: Optional[int] = Field(default=None, foreign_key="user.id")
    created_at: NaiveDatetime
    note: str = ""


class PlaybookDraft(SQLModel, table=True):
    """One author's work in progress (or an imported file): validated and diffed, published or discarded."""
    id: Optional[int] = Field(default=None, primary_key=True)
    toml: str = Field(sa_column=Column(Text, nullable=False))
    base_version_id: Optional[int] = Field(default=None, foreign_key="playbookversion.id")
    created_by: Optional[int] = Field(default=None, foreign_key="user.id", index=True)
    status: str = "open"  # open | published | discarded
    created_at: NaiveDatetime
    updated_at: NaiveDatetime


class PlaybookActive(SQLModel, table=True):
    """Which version a scope runs: ``team:<id>`` for a pilot team, ``default`` for every other team."""
    scope: str = Field(primary_key=True)
    version_id: int = Field(foreign_key="playbookversion.id")
    since: NaiveDatetime


class PlaybookChange(SQLModel, table=True):
    """Who changed what, when. Its highest id is the generation every instance compares to reload."""
    id: Optional[int] = Field(default=None, primary_key=True)
    at: NaiveDatetime
    user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    action: str  # seed | draft | publish | rollback | import | discard
    scope: str = ""
    version_id: Optional[int] = Field(default=None, foreign_key="playbookversion.id")
    draft_id: Optional[int] = Field(default=None, foreign_key="playbookdraft.id")
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
