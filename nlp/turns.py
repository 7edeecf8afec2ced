"""The parsed chat's types: turns with speaker, time, text and role, and the transcript."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

ROLE_REP, ROLE_CUSTOMER, ROLE_UNKNOWN = "rep", "customer", "unknown"


def norm_name(name: str | None) -> str:
    """A name compared without case or spaces."""
    return "".join((name or "").lower().split())


@dataclass
class Turn:
    speaker: str | None
    text: str
    time: datetime | None = None
    role: str = ROLE_UNKNOWN          # "rep" | "customer" | "unknown"


@dataclass
class Transcript:
    turns: list[Turn]
    format: str
    speakers: list[str] = field(default_factory=list)
    customer: str | None = None
    rep: str | None = None
    needs_customer_choice: bool = False
    origin: str | None = None         # the customer as named by a forward (not guessed)

    def with_customer(self, name: str) -> "Transcript":
        """The rep answered "who is the customer?": everyone else is on the rep's side."""
        turns = [replace(t, role=_role_for_choice(t.speaker, name)) for t in self.turns]
        reps = [s for s in self.speakers if s != name]
        return replace(self, turns=turns, customer=name, rep=reps[0] if reps else None,
                       needs_customer_choice=False)


def _role_for_choice(speaker: str | None, customer: str) -> str:
    if speaker is None:
        return ROLE_UNKNOWN
    return ROLE_CUSTOMER if speaker == customer else ROLE_REP
