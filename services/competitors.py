"""Competitors from the playbook: who is mentioned where, and the matrix per competitor.

A mention is the competitor's name or an alias in a pasted chat, a logged follow-up or a lost
deal's record.  Matching is plain substring search on a normalized text (case-folded, spaces
removed, full-width folded), bounded: texts are cut at MAX_SCAN characters and names are at most
40 characters (core.config.Competitor), so a paste costs at most names × MAX_SCAN work.
"""
from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, union_all
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from core.config import Competitor, Config
from storage.models import Customer
from storage.models_coaching import CompetitorMention, DealLoss
from storage.rows import run_core

MAX_SCAN = 20_000


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text[:MAX_SCAN]).casefold().replace(" ", "").replace("\u3000", "")


def mentioned(config: Config, text: str) -> list[str]:
    """Ids of the competitors named in ``text`` (playbook order)."""
    if not config.competitors or not text:
        return []
    haystack = normalize(text)
    return [c.id for c in config.competitors if any(normalize(n) in haystack for n in c.names())]


def record_mentions(session: Session, config: Config, customer: Customer, text: str, source: str, now: datetime,
                    user_id: int | None = None, objections: list[str] | None = None, once: bool = False) -> list[str]:
    """Store one mention per competitor named in ``text``; returns their ids.  ``once``: skip competitors
    already recorded for this customer from this source (a chat re-read on every new message)."""
    found = mentioned(config, text)
    if once and found:
        seen = set(session.exec(select(CompetitorMention.competitor).where(
            CompetitorMention.customer_id == customer.id, CompetitorMention.source == source)))
        found = [c for c in found if c not in seen]
    for comp_id in found:
        session.add(CompetitorMention(customer_id=customer.id, team_id=customer.team_id, competitor=comp_id,
                                      source=source, objections=list(objections or [])[:10], user_id=user_id, at=now))
    if found:
        session.flush()
    return found


_M, _L = CompetitorMention.__table__.c, DealLoss.__table__.c
# Built once: the mentions and the loss record's competitor in one statement.
_SEEN_WITH = union_all(core_select(_M.competitor).where(_M.customer_id == bindparam("cid")),
                       core_select(_L.competitor).where(_L.customer_id == bindparam("cid"), _L.competitor != ""))


def for_customer(session: Session, config: Config, customer_id: int) -> list[Competitor]:
    """Competitors seen with this customer (mentions or the loss record), playbook order."""
    if not config.competitors:
        return []
    ids = set(run_core(session, _SEEN_WITH, {"cid": customer_id}).scalars())
    return [c for c in config.competitors if c.id in ids]


@dataclass
class MatrixRow:
    competitor: Competitor
    deals: int = 0
    won: int = 0
    lost: int = 0
    open: int = 0
    lost_to: int = 0                    # lost deals whose loss record names this competitor
    objections: Counter = field(default_factory=Counter)

    @property
    def win_rate(self) -> float | None:
        closed = self.won + self.lost
        return None if not closed else 100.0 * self.won / closed


def matrix(session: Session, config: Config, team_id: int) -> list[MatrixRow]:
    """Per competitor: the deals where they appear, won/lost/open among them, the objections seen with them."""
    rows = {c.id: MatrixRow(c) for c in config.competitors}
    deals: dict[str, set[int]] = {c.id: set() for c in config.competitors}
    for cid, comp, objections in session.execute(
            select(CompetitorMention.customer_id, CompetitorMention.competitor, CompetitorMention.objections)
            .where(CompetitorMention.team_id == team_id)):
        if comp in rows:
            deals[comp].add(cid)
            rows[comp].objections.update(objections or [])
    lost_to: dict[str, set[int]] = {c.id: set() for c in config.competitors}
    for cid, comp in session.execute(select(DealLoss.customer_id, DealLoss.competitor)
                                     .where(DealLoss.team_id == team_id, DealLoss.competitor != "")):
        if comp in rows:
            deals[comp].add(cid)
            lost_to[comp].add(cid)
    every = set().union(*deals.values()) if deals else set()
    status = dict(session.execute(select(Customer.id, Customer.status).where(Customer.id.in_(list(every)))).all()) if every else {}
    for comp, ids in deals.items():
        row = rows[comp]
        row.deals = len(ids)
        row.won = sum(1 for i in ids if status.get(i) == "won")
        row.lost = sum(1 for i in ids if status.get(i) == "lost")
        row.open = sum(1 for i in ids if status.get(i) == "open")
        row.lost_to = len(lost_to[comp])
    return list(rows.values())
