"""Keywords by TF-IDF over tokens we already have, with an IDF table that fits sales talk.

Why not `jieba.analyse.extract_tags`: it would segment the whole paste a second time (the
analysis must cost about one segmentation pass) and it scores user-dictionary terms with
jieba's generic IDF, which does not know them. Here term frequencies come from the tokens of
the single cut, and IDF comes from nlp/data/idf.txt first, then jieba's table, then its median.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

# Tokens shorter than this are never keywords (single characters are mostly function words).
MIN_KEYWORD_CHARS = 2


@dataclass(frozen=True)
class IdfTable:
    overrides: dict[str, float]   # ours; 0 marks a stop word
    base: object                  # jieba's: .get(word, default) (a dict, or segment.FloatTable)
    median: float

    @classmethod
    def load(cls, path: Path, base: tuple[dict[str, float], float]) -> "IdfTable":
        overrides: dict[str, float] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) < 2:
                continue
            word = " ".join(parts[:-1]).lower()
            overrides[word] = float(parts[-1])
        base_freq, median = base
        return cls(overrides, base_freq, median)

    def idf(self, word: str) -> float:
        value = self.overrides.get(word)
        if value is not None:
            return value
        return self.base.get(word, self.median)


def top_keywords(counts: Counter, idf: IdfTable, k: int = 8,
                 exclude: Iterable[str] = ()) -> list[str]:
    """The k tokens with the highest tf·idf, skipping stop words, numbers and names."""
    names = [w.lower() for w in exclude if len(w) >= MIN_KEYWORD_CHARS]
    scored = []
    for word, count in counts.items():
        if len(word) < MIN_KEYWORD_CHARS or not _is_wordlike(word):
            continue
        if any(name in word or word in name for name in names):     # speaker names
            continue
        weight = idf.idf(word)
        if weight <= 0:
            continue
        scored.append((count * weight, word))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [word for _, word in scored[:k]]


def _is_wordlike(word: str) -> bool:
    """Has a letter or a CJK character, and is not a number or a time like 10:21."""
    has_letter = False
    for ch in word:
        if ch.isdigit() or ch in ".:%-_/#&+":
            continue
        if ch.isalpha():
            has_letter = True
        else:
            return False
    # English tokens need two letters ("a", "x1" are noise); CJK words are fine as they are.
    return has_letter and (not word.isascii() or sum(c.isalpha() for c in word) >= 2)
