"""The name lookup's index (migration 0007_names): services.customers.name_candidates reads it.

Kept by database triggers on ``customer`` (insert; update of name, company, company_norm or team;
delete), so every way a customer is written — the ORM, Core bulk inserts of imports and ingestion,
merges, transfers, raw SQL — keeps it current with no code to call.
"""
from __future__ import annotations

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class NameGram(SQLModel, table=True):
    """A piece of a customer's name or company, per team.

    ``kind`` ``p``: the first two characters of the name, of its lower case and of the company (a
    name or company written in a message starts with one of the message's two-character pieces);
    ``s``: every two-character piece of the lower-case name and of the company core (a fuzzy match
    of the message's first word shares at least one); a one-character name or core is its own piece.
    """
    __table_args__ = (Index("ix_namegram_team_kind_gram", "team_id", "kind", "gram"),)
    customer_id: int = Field(primary_key=True)
    kind: str = Field(primary_key=True)
    gram: str = Field(primary_key=True)
    team_id: int


class NameGramPos(SQLModel, table=True):
    """Positions 1…512: lets the triggers cut a name into pieces in plain SQL (SQLite triggers
    allow no recursive queries)."""
    n: int = Field(primary_key=True)
