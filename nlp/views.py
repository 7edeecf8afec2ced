"""A customer or rep turn as the analyser reads it (tokens segmented on demand, lexicon hits, the
kind marks searched once), a contribution to the intent score, and the quotes both give: the
matched words as written and the sentence around them."""
from __future__ import annotations

from dataclasses import dataclass

from nlp import engine
from nlp.lexicon import Hit
from nlp.reading import MAX_QUOTE_CHARS, short as _short
from nlp.turns import Turn


@dataclass
class TurnView:
    index: int
    turn: Turn
    text: str                 # cleaned, original case
    _tokens: list[str] | None  # None: not segmented yet (a rep's chat turn: nothing reads it)
    hits: list[Hit]
    service: str = ""         # "complaint" | "service" | "" (customer turns)
    # nlp/kinds.py's marks of the turn (cites an existing order's terms; anger), searched once
    # and shared by kind_of and kind_features: None until asked
    existing: bool | None = None
    anger: bool | None = None
    # objection ids the clause readers re-read as no such objection in this turn (nlp/clauses.refine)
    ruled_out: frozenset[str] = frozenset()

    @property
    def tokens(self) -> list[str]:
        """The turn's tokens; the rep's chat turns are segmented only if something asks."""
        if self._tokens is None:
            self._tokens = engine.cut(self.text)
        return self._tokens


@dataclass
class Contribution:
    key: str
    phrase: str
    label: str
    effect: float
    quote: str
    source: tuple["TurnView", Hit] | None = None   # quote computed lazily from here

    def resolve(self) -> None:
        """Finding the words in the text is the costly part: done for shown reasons only."""
        if self.source is not None:
            self.phrase, self.quote = phrase_and_quote(*self.source)
            self.source = None


_SENTENCE_END = "。！？!?\n；;"


def phrase_and_quote(view: TurnView, hit: Hit) -> tuple[str, str]:
    """The matched words as written, and the sentence around them (≤ 60 chars)."""
    text, tokens = view.text, view.tokens
    lowered = text.lower() if len(text.lower()) == len(text) else text
    approx = sum(len(t) for t in tokens[:hit.start])
    start = lowered.find(tokens[hit.start], min(approx, len(lowered)))
    if start < 0:
        start = max(0, lowered.find(tokens[hit.start]))
    last = tokens[hit.end - 1]
    end_at = lowered.find(last, start)
    end = end_at + len(last) if end_at >= 0 else start + len(tokens[hit.start])
    phrase = text[start:end].strip() or "".join(tokens[hit.start:hit.end])
    return phrase, _sentence_around(text, start, end)


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence holding text[start:end]; a long one is cut to a window around the hit."""
    left = max((text.rfind(ch, 0, start) for ch in _SENTENCE_END), default=-1) + 1
    right_candidates = [i for i in (text.find(ch, end) for ch in _SENTENCE_END) if i >= 0]
    right = min(right_candidates) + 1 if right_candidates else len(text)
    sentence = text[left:right].strip()
    if len(sentence) <= MAX_QUOTE_CHARS:
        return sentence
    room = MAX_QUOTE_CHARS - 2                      # two characters for the ellipses
    lo = max(left, min((start + end) // 2 - room // 2, right - room))
    hi = min(right, lo + room)
    return ("…" if lo > left else "") + text[lo:hi].strip() + ("…" if hi < right else "")





def last_quote(views: list[TurnView]) -> str:
    return _short(views[-1].text) if views else ""
