"""Alembic migrations, driven from code so no alembic.ini is needed in the working directory."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage.db import Database, normalize_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    """All heads, joined: feature areas may add migrations on parallel branches."""
    heads = sorted(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
    return ",".join(heads) or None


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        heads = sorted(MigrationContext.configure(conn).get_current_heads())
    return ",".join(heads) or None


def ensure_schema(db: Database) -> str:
    """Upgrade an empty database; refuse to run on an outdated one (say how to upgrade)."""
    current = current_revision(db)
    head = head_revision()
    if current == head:
        return "up to date"
    if current is None and db.is_empty():
        upgrade(db.url)
        return "created"
    raise RuntimeError(
        f"database schema is at revision {current}, the code needs {head}: run `salesbot db upgrade` first")
