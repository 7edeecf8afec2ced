"""Reading labelled chats, the one ranking figure and the one precision/recall/F1 count, shared by
`nlp eval` (nlp/eval.py), the trainer (nlp/train.py: its figures and the per-objection threshold
search) and nlp/objection_errors.py."""
from __future__ import annotations

import json
from pathlib import Path


def load_rows(path: str | Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from exc
    return rows


def auc(scores: list[float], positive: list[bool]) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    pos = [s for s, p in zip(scores, positive) if p]
    neg = [s for s, p in zip(scores, positive) if not p]
    if not pos or not neg:
        return 0.0
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return round(wins / (len(pos) * len(neg)), 3)


def counts(said, gold) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of two parallel yes/no sequences: what
    was said and what is true of each chat (lists of bools, or numpy boolean arrays)."""
    if hasattr(said, "dtype"):
        return int((said & gold).sum()), int((said & ~gold).sum()), int((~said & gold).sum())
    tp = fp = fn = 0
    for s, g in zip(said, gold):
        if s:
            if g:
                tp += 1
            else:
                fp += 1
        elif g:
            fn += 1
    return tp, fp, fn


def label_counts(said: list, gold: list, label: str) -> tuple[int, int, int]:
    """counts() of one label over parallel collections of labels (e.g. objection id sets)."""
    return counts([label in s for s in said], [label in g for g in gold])


def f1(tp: int, fp: int, fn: int, empty: float | None = None) -> float | None:
    """F1 from counts; `empty` when nothing was said nor true."""
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else empty


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """(precision, recall, F1) from counts, each 0.0 where its denominator is 0."""
    return (tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0, f1(tp, fp, fn, 0.0))
