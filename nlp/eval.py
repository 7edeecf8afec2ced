"""Evaluate intent and objection detection on a labeled JSONL file.

    salesbot nlp eval tests/data/nlp_dev.jsonl          (the CLI calls main())
    python -m nlp.eval FILE [--details]

One JSON object a line: {"id", "format", "rep", "customer", "text", "intent": "high"|"medium"|"low",
"objections": [ids]}; extra keys are ignored. Prints one `figure: value` a line.

Labeling guide (so that a set written by someone else means the same thing):
* high   — the customer takes a concrete step toward buying: asks for the contract, quote,
           invoice/payment terms, delivery or start date, a trial slot, or says the decision
           is made; objections may be present but are being worked through.
* medium — interested and engaged (asks questions, wants material, compares) but hedging,
           waiting for approval or for a later time, with no concrete step yet.
* low    — refuses, says there is no need or money, or does not engage (one-word answers,
           the rep chasing without reply).
* objections — only those the customer raises; what the rep anticipates does not count.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from nlp.metrics import auc, counts, f1, label_counts, load_rows  # noqa: F401  (callers use nlp.eval.*)
from nlp.analyze import analyze
from nlp.lexicon import OBJECTION_IDS

LEVELS = ("high", "medium", "low")


@dataclass
class _Row:
    id: str
    gold_intent: str
    gold_objections: set[str]
    score: int
    probability: float
    level: str
    objections: set[str]
    gold_format: str | None
    format: str
    gold_kind: str = "sales"             # the record's kind ("none" intent without a kind: "other")
    kind: str = "sales"


def _predict(record: dict) -> _Row:
    rep = record.get("rep")
    # A Telegram forward tells the bot who the original sender was; nothing else is used.
    origin = record.get("customer") if record.get("format") == "telegram_forward" and not rep else None
    result = analyze(record["text"], rep_names=[rep] if rep else (), forward_origin=origin)
    return _Row(
        id=str(record.get("id", "")),
        gold_intent="low" if record["intent"] == "none" else record["intent"],   # not sales: low
        gold_objections=set(record.get("objections") or ()),
        score=result.score,
        probability=result.probability,
        level=result.level,
        objections={o.id for o in result.objections},
        gold_format="telegram_forward" if record.get("format") == "forward_inline" else record.get("format"),
        format=result.format,
        gold_kind=(record.get("kind") or "other") if record["intent"] == "none" else "sales",
        kind=result.kind,
    )


def evaluate(path: str | Path) -> dict:
    """All figures for one file, as a dict (the keys main() prints, in order)."""
    rows = [_predict(r) for r in load_rows(path)]
    return _figures(rows)


def _figures(rows: list[_Row]) -> dict:
    figures: dict[str, float | int] = {"n": len(rows)}
    # ranked by the unrounded P(high) behind the score (the integer score has ties)
    figures["intent_auc_high"] = auc([r.probability for r in rows], [r.gold_intent == "high" for r in rows])
    figures["intent_accuracy"] = _ratio(sum(r.level == r.gold_intent for r in rows), len(rows))
    for level in LEVELS:
        tp, fp, fn = counts([r.level == level for r in rows], [r.gold_intent == level for r in rows])
        figures[f"intent_precision_{level}"] = _ratio(tp, tp + fp)
        figures[f"intent_recall_{level}"] = _ratio(tp, tp + fn)
    said, gold = [r.objections for r in rows], [r.gold_objections for r in rows]
    per_id = {oid: label_counts(said, gold, oid) for oid in OBJECTION_IDS}
    per_category = {oid: _rounded(f1(*c)) for oid, c in per_id.items()}
    defined = [f for f in per_category.values() if f is not None]
    figures["objection_macro_f1"] = round(sum(defined) / len(defined), 3) if defined else 0.0
    for oid, value in per_category.items():
        figures[f"objection_f1_{oid}"] = value if value is not None else "n/a"
    for oid, (tp, fp, fn) in per_id.items():
        figures[f"objection_precision_{oid}"] = _ratio(tp, tp + fp)
        figures[f"objection_recall_{oid}"] = _ratio(tp, tp + fn)
    figures["low_scored_high"] = sum(r.gold_intent == "low" and r.level == "high" for r in rows)
    # item 5 of issue 13: chats that are not sales are never "high", and are said to be what they are
    none = [r for r in rows if r.gold_kind != "sales"]
    figures["non_sales_called_high"] = sum(r.level == "high" for r in none)
    figures["non_sales_n"] = len(none)
    figures["non_sales_named"] = _ratio(sum(r.kind not in ("sales", "one_sided") for r in none), len(none))
    for kind in sorted({r.gold_kind for r in none}):
        figures[f"non_sales_called_high_{kind}"] = sum(r.level == "high" for r in none if r.gold_kind == kind)
    sales = [r for r in rows if r.gold_kind == "sales"]
    figures["sales_called_not_sales"] = sum(r.kind not in ("sales", "one_sided") for r in sales)
    figures["low_intent_called_high"] = sum(r.gold_intent == "low" and r.level == "high" for r in sales)
    labelled = [r for r in rows if r.gold_format]
    figures["format_accuracy"] = _ratio(sum(r.format == r.gold_format for r in labelled), len(labelled))
    return figures


def _rounded(value: float | None) -> float | None:
    """An F1 to three places; None (neither labeled nor predicted anywhere) stays None."""
    return None if value is None else round(value, 3)


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 0.0


def details(path: str | Path) -> list[str]:
    """One line per conversation the system got wrong (for people tuning the lexicon)."""
    lines = []
    for record in load_rows(path):
        row = _predict(record)
        if row.level != row.gold_intent or row.objections != row.gold_objections:
            lines.append(f"{row.id}: intent {row.gold_intent}→{row.level} ({row.score}); "
                         f"missed {sorted(row.gold_objections - row.objections)} "
                         f"extra {sorted(row.objections - row.gold_objections)}")
    return lines


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    if "--cv" in argv:
        from nlp.train import cv_main      # scikit-learn (dev extra)
        by = [a.split("=", 1)[1] for a in argv if a.startswith("--by=")]   # one split only
        return cv_main(args, tuple(by) if by else ("trade", "format", "writer"), fixed_blend="--fixed-blend" in argv)
    if len(args) != 1:
        print("usage: salesbot nlp eval FILE.jsonl [--details] | salesbot nlp eval --cv [--by=trade|format|writer] [CORPUS.jsonl]",
              file=sys.stderr)
        return 2
    try:
        figures = evaluate(args[0])
    except (OSError, ValueError, KeyError) as exc:
        print(f"nlp eval: {exc}", file=sys.stderr)
        return 2
    for name, value in figures.items():
        print(f"{name}: {value}")
    # The baseline in the same run: the lexicon alone (the trained model switched off).
    from nlp import model as trained

    if trained.load() is not None:
        trained.set_enabled(False)
        try:
            baseline = evaluate(args[0])
        finally:
            trained.set_enabled(True)
        for name in ("intent_auc_high", "intent_accuracy", "objection_macro_f1", "low_scored_high",
                     "non_sales_called_high", "low_intent_called_high"):
            print(f"lexicon_{name}: {baseline[name]}")
    if "--details" in argv:
        for line in details(args[0]):
            print(f"# {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
