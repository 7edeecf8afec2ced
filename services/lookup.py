"""/查重 (/owner): who holds a customer, across teams without a data leak (issue 11).

Inside one's own team the lookup is as helpful as it can be (phone, company group, fuzzy company
name, exact customer name).  Another team's customer is found only by an exact key — the same
phone number, or the same company at group level (the exact name, or a subsidiary/branch of the
same group by the duplicate guard's normalization) — and the answer says only that it is held, by
which team and owner, until when: never the customer's name, contact, phone, amounts or notes.
Every lookup is recorded on the audit trail and limited per person and hour.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, select

from core.config import Config
from services import audit
from services.customers import Match, check_duplicates
from services.cleaning import normalize_phone
from services.company_names import company_core
from storage.models import Customer, Team, User

WINDOW = timedelta(hours=1)


@dataclass
class Hit:
    match: Match
    owner: User | None
    team: Team | None
    own_team: bool  # False: show only team, owner and protection date


@dataclass
class Lookup:
    hits: list[Hit] = field(default_factory=list)
    limited: bool = False


def is_phone_query(query: str) -> str | None:
    digits = normalize_phone(query)
    compact = query.replace(" ", "")
    return digits if digits and len(digits) >= 7 and len(digits) >= len(compact) * 0.6 else None


def exact_key(customer: Customer, phone: str | None, core: str | None) -> bool:
    """Same phone, or the same company at group level: what another team may learn about."""
    if phone:
        return customer.phone_norm == phone
    return bool(core) and customer.company_norm == core


def owner_lookup(session: Session, config: Config, viewer: User, query: str, now: datetime) -> Lookup:
    limit = config.duplicates.lookups_per_hour
    if audit.count_recent(session, viewer.id, "lookup", now, WINDOW) >= limit:
        audit.record(session, "lookup", now, actor=viewer, query=query[:100], limited=True)
        return Lookup(limited=True)
    phone = is_phone_query(query)
    core = None if phone else company_core(query)
    matches = check_duplicates(session, config, phone=query if phone else None, company=None if phone else query)
    everywhere = viewer.role == "admin"
    kept = [m for m in matches if everywhere or m.customer.team_id == viewer.team_id
            or exact_key(m.customer, phone, core)]
    if not kept and not phone:
        by_name = select(Customer).where(Customer.name == query.strip(), Customer.invalid == False)  # noqa: E712
        if not everywhere:  # a customer's name is often its contact person: never across teams
            by_name = by_name.where(Customer.team_id == viewer.team_id)
        kept = [Match(c, "company", 0.9) for c in session.exec(by_name.limit(5))]
    hits = []
    for m in kept[:5]:
        c = m.customer
        hits.append(Hit(m, session.get(User, c.owner_id) if c.owner_id else None, session.get(Team, c.team_id),
                        own_team=everywhere or c.team_id == viewer.team_id))
    cross = sorted({h.match.customer.team_id for h in hits if h.match.customer.team_id != viewer.team_id})
    audit.record(session, "lookup", now, actor=viewer, other_team_id=cross[0] if cross else None,
                 query=query[:100], hits=len(hits), teams=cross)
    return Lookup(hits=hits)
