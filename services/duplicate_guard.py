"""The duplicate guard: a new or edited customer checked against the team's customers by phone and
by company (exact, group-level and fuzzy), and the company-name index it reads."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import delete, func, or_
from sqlmodel import Session, select

from core.config import Config
from services.cleaning import normalize_phone
from services.company_names import company_core, company_match
from storage.models import CompanyGram, Customer


# --- duplicates ------------------------------------------------------------------------------

@dataclass
class Match:
    customer: Customer
    reason: str  # phone | company | group | fuzzy
    score: float


def reason_text(reason: str, lang: str) -> str:
    """Why two records are one customer: phone | company | group | fuzzy (texts ``match_*``)."""
    from core.texts import TEXTS, tp
    key = f"match_{reason}"
    return tp(key, lang) if key in TEXTS else reason


def check_duplicates(session: Session, config: Config, *, phone: str | None = None, company: str | None = None,
                     name: str | None = None, exclude_id: int | None = None) -> list[Match]:
    """Existing customers that are the same party: phone, company group, or a fuzzy company match.

    Checked across all teams: one customer has one owner in the whole company.
    """
    matches: dict[int, Match] = {}
    phone_norm = normalize_phone(phone) if phone else None
    if phone_norm:
        for c in session.exec(select(Customer).where(Customer.phone_norm == phone_norm, Customer.invalid == False)):  # noqa: E712
            matches[c.id] = Match(c, "phone", 1.0)
    core = company_core(company) if company else None
    if core:
        for c in session.exec(select(Customer).where(Customer.company_norm == core, Customer.invalid == False)):  # noqa: E712
            if c.id not in matches:
                same_text = (c.company or "").strip() == (company or "").strip()
                matches[c.id] = Match(c, "company" if same_text else "group", 0.99)
        if len(core) >= 3:
            for c in _fuzzy_candidates(session, core):
                if c.id in matches or not c.company_norm:
                    continue
                found = company_match(core, c.company_norm, config.duplicates.fuzzy_threshold)
                if found is not None:  # names that differ in a code (一厂/二厂, A01/A02) are two companies
                    matches[c.id] = Match(c, found[0], found[1])
    result = [m for m in matches.values() if m.customer.id != exclude_id]
    return sorted(result, key=lambda m: -m.score)


def name_grams(core: str) -> set[str]:
    return {core[i:i + 2] for i in range(len(core) - 1)} or ({core} if core else set())


def _fuzzy_candidates(session: Session, core: str, limit: int = 50) -> Iterable[Customer]:
    """Customers whose company shares most two-character pieces with ``core`` (indexed lookup).

    A Dice similarity ≥ 0.88 implies sharing ≥ 78% of this name's pieces; a shorter name wholly
    contained in this one shares all of *its* pieces — both are kept, best first.
    """
    grams = name_grams(core)
    if not grams:
        return []
    shared = func.count(CompanyGram.gram)
    need = max(2, int(len(grams) * 0.75))
    rows = session.exec(
        select(CompanyGram.customer_id).where(CompanyGram.gram.in_(grams))
        .group_by(CompanyGram.customer_id)
        .having(or_(shared >= need, shared == func.max(CompanyGram.total)))
        .order_by(shared.desc()).limit(limit)).all()
    if not rows:
        return []
    return session.exec(select(Customer).where(Customer.id.in_(rows), Customer.invalid == False))  # noqa: E712


def index_company(session: Session, customer: Customer) -> None:
    """Keep the duplicate guard's gram index in step with the customer's company name."""
    session.execute(delete(CompanyGram).where(CompanyGram.customer_id == customer.id))
    grams = name_grams(customer.company_norm or "")
    for gram in grams:
        session.add(CompanyGram(customer_id=customer.id, gram=gram, total=len(grams)))
