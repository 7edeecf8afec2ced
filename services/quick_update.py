"""Understand a rep's one-line update: 「张总 已报价5万 下周二回访」.

Finds the customer (exact mention, else fuzzy on the first word), an amount, the next
follow-up date and a stage hint from the playbook; nothing is saved until the rep confirms.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from core.clock import local_to_utc, to_local
from core.config import Config
from services.customers import find_by_name
from services.dates import parse_when
from services.inputs import safe_text
from services.cleaning import parse_amount
from services.spoken import normalize_spoken
from storage.models import Customer, User

_AMOUNT = re.compile(r"(\d+(?:\.\d+)?\s*(?:百万|万|亿|千|[wWkK])|\d+(?:\.\d+)?[eE]\d+"
                     r"|\d{1,3}(?:[,_]\d{3})+(?:\.\d+)?\s*(?:元|块)?|\d{4,}(?:\.\d+)?\s*(?:元|块)?)")


@dataclass
class Draft:
    text: str
    candidates: list[Customer] = field(default_factory=list)
    amount: float | None = None
    next_at: datetime | None = None  # naive UTC
    stage: str | None = None

    @property
    def understood(self) -> bool:
        return bool(self.candidates) and any((self.amount, self.next_at, self.stage, self.note))

    @property
    def note(self) -> str:
        return self.text.strip()


def parse_update(session: Session, config: Config, user: User, text: str, now: datetime) -> Draft:
    draft = Draft(text=text[:500])
    draft.candidates = find_by_name(session, user, text)
    spoken = normalize_spoken(safe_text(text))  # 五万 / 两千五 / 十二月五号; full-width digits read as digits
    match = _AMOUNT.search(spoken)
    if match:
        draft.amount = parse_amount(match.group(1))
    when = parse_when(spoken, to_local(now, config.tz).replace(tzinfo=None))
    if when:
        draft.next_at = local_to_utc(when.at, config.tz)
    draft.stage = stage_hint(config, text)
    return draft


def stage_hint(config: Config, text: str) -> str | None:
    """The furthest stage whose hint words appear (已签约 beats 报价 in one message)."""
    found = None
    for stage in config.stages:
        if any(h in text for h in stage.hints):
            found = stage.id
    return found


def looks_like_update(text: str) -> bool:
    """A short single line is an update; a long or multi-line text is likely a pasted chat."""
    return len(text) <= 200 and text.count("\n") <= 1


def stage_gate(config: Config, customer: Customer, draft: Draft) -> list[str]:
    """The required fields that would stop the move the draft asks for, before anything is saved.

    Walks the stages the move leaves (as ``advance_stage`` will, one at a time); what the draft
    itself brings (an amount, a follow-up date) counts as given.
    """
    from services.cleaning import missing_fields
    if not draft.stage or config.stage_index(draft.stage) <= config.stage_index(customer.stage):
        return []
    given = {"amount": draft.amount, "next_followup_at": draft.next_at}
    missing: list[str] = []
    for stage in config.stages[config.stage_index(customer.stage):config.stage_index(draft.stage)]:
        for name in missing_fields(customer, stage.id, config):
            if not given.get(name) and name not in missing:
                missing.append(name)
    return missing
