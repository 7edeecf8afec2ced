"""The lexicon's data types: an entry (signal or objection category), a near rule, a hit."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

# Longest phrase, in tokens, that the matcher tries to assemble.
MAX_PHRASE_TOKENS = 6

OBJECTION_IDS = ("price", "budget", "has_supplier", "need_approval", "timing", "trust_quality",
                 "competitor", "no_need")


@dataclass(frozen=True)
class Entry:
    """One signal or objection category from the lexicon."""
    id: str
    label_zh: str
    label_en: str
    kind: str            # buy | engage | negative | neutral | objection
    weight: float        # effect on the intent score
    negated: str         # "drop" or the id of the entry a negated hit becomes
    priority: str = ""   # "refusal" → refusal-priority rule
    is_objection: bool = False
    also: tuple[str, ...] = ()   # other entries every hit also fires ("不需要了" → no_need)
    scope: str = "customer"      # "any": also counts in the rep's own text (call-note facts)
    after_modal: str = ""        # entry a hit becomes after 要/得/需要 ("要老板同意" → approval)


@dataclass(frozen=True)
class NearRule:
    entries: tuple[Entry, ...]
    a: frozenset[str]
    b: frozenset[str]
    window: int
    ordered: bool                 # True: a must come before b
    unless: frozenset[str]        # any of these between a and b cancels the match


class Hit(NamedTuple):
    """A lexicon match in one token list: tokens[start:end]. (A tuple: cheap to create.)"""
    entry: Entry
    start: int
    end: int
    negated: bool = False


def normalize_term(term: str) -> str:
    """Lexicon keys are lower-case without spaces: tokens are matched the same way."""
    return "".join(term.lower().split())
