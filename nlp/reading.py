"""What a reading is made of, shared by the lexicon reader (nlp/analyze.py) and the trained model
(nlp/model.py): a quoted reason, an objection, what counts as a question, how a quote is shortened."""
from __future__ import annotations

import re
from dataclasses import dataclass

MAX_QUOTE_CHARS = 60


@dataclass(frozen=True)
class Reason:
    phrase: str          # what was said (or the engagement fact)
    effect: int          # points it moved the score (+/-)
    quote: str           # short customer quote, ≤ 60 chars
    label: str = ""      # the signal's name, e.g. "要报价"


@dataclass(frozen=True)
class Objection:
    id: str
    label_zh: str
    label_en: str
    quote: str
    script: str


QUESTION = re.compile(
    r"[?？]|[吗呢么嘛][\s~～。.!！]*$|多少|怎么|哪[个些里家种]|几[个天号点台套年月周人]|是否|能否|能不能|"
    r"可不可以|有没有|什么时候|\bhow\b|\bwhat\b|\bwhen\b|\bcan you\b|\bdo you\b", re.IGNORECASE | re.MULTILINE)


def short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_QUOTE_CHARS else text[:MAX_QUOTE_CHARS - 1] + "…"
