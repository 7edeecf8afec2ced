"""Out-of-fold objection errors under leave-one-writer-out, for people tuning the lexicon.

    python -m nlp.objection_errors [--objection=ID] [--errors=fp|fn] [--writers=wa,wc] [--limit=N]

Every hand-written chat (written.jsonl by writer, the dev set) is scored through analyze() by a
model trained without its writer (the shipped λ, δ, slope and kind thresholds, as
`nlp eval --cv --fixed-blend`); printed: per writer and objection P/R/F1, served and lexicon
alone, then with --objection the false positives (with the customer's clause that fired) or
the false negatives (with what the lexicon found). Look at some writers only and keep the others
aside: a lexicon change inspired by a writer's chats is only honestly measured on the others.
Never pass the blind sets (tests/data/nlp_blind*.jsonl) here.
"""
from __future__ import annotations

import sys

from nlp.lexicon import OBJECTION_IDS
from nlp.metrics import f1, label_counts


def table(gold: list[set], said: list[set]) -> str:
    """One line: macro-F1 and, per objection, F1 (tp/fp/fn)."""
    parts, f1s = [], []
    for oid in OBJECTION_IDS:
        tp, fp, fn = label_counts(said, gold, oid)
        if tp + fp + fn:
            f1s.append(f1(tp, fp, fn))
            parts.append(f"{oid}={f1s[-1]:.2f}({tp}/{fp}/{fn})")
    macro = sum(f1s) / len(f1s) if f1s else 0.0
    return f"macro={macro:.3f} " + " ".join(parts)


def out_of_fold() -> tuple[list[dict], list[dict], list[dict]]:
    """(records, served predictions, lexicon-alone objections with quotes), hand-written only."""
    from nlp import model as served, train
    from nlp.analyze import analyze

    shipped = served.load()
    if shipped is not None:
        train.FIXED_BLEND = (shipped.lam, shipped.delta, shipped.slope)
        train.FIXED_KIND = (shipped.kind_not, shipped.kind_cap, shipped.kind_keep)
    records = train.load_corpus([])
    for r in records:
        r["writer"] = train.writer_of(r)
    feats = train.features_for(records)
    hand = [i for i, r in enumerate(records) if r["writer"] != "generator"]
    served.set_enabled(False)
    try:
        lexicon = {}
        for i in hand:
            a = analyze(records[i]["text"], **train.call_args(records[i]))
            lexicon[i] = {o.id: o.quote for o in a.objections}
    finally:
        served.set_enabled(True)
    predicted = train.cross_validate(records, feats, "writer", only={records[i]["writer"] for i in hand})
    return [records[i] for i in hand], [predicted[i] for i in hand], [lexicon[i] for i in hand]


def main(argv: list[str]) -> int:
    opts = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
    oid, kind, limit = opts.get("objection"), opts.get("errors", "fp"), int(opts.get("limit", "30"))
    if oid is not None and oid not in OBJECTION_IDS:
        print(f"objection_errors: unknown objection {oid!r} (one of {', '.join(OBJECTION_IDS)})", file=sys.stderr)
        return 2
    records, predicted, lexicon = out_of_fold()
    gold = [set(r.get("objections") or ()) for r in records]
    said = [p["objections"] for p in predicted]
    lex = [set(q) if p["kind"] in ("sales", "one_sided") else set() for q, p in zip(lexicon, predicted)]
    writers = opts["writers"].split(",") if "writers" in opts else sorted({r["writer"] for r in records})
    print(f"all served  {table(gold, said)}")
    print(f"all lexicon {table(gold, lex)}")
    for w in writers:
        idx = [i for i, r in enumerate(records) if r["writer"] == w]
        print(f"{w} served  {table([gold[i] for i in idx], [said[i] for i in idx])}")
    if oid is None:
        return 0
    shown = 0
    for i, r in enumerate(records):
        if r["writer"] not in writers or shown >= limit:
            continue
        wrong = (oid in said[i] and oid not in gold[i]) if kind == "fp" else (oid in gold[i] and oid not in said[i])
        if wrong:
            shown += 1
            fired = lexicon[i].get(oid) if kind == "fp" else sorted(lexicon[i])
            print(f"--- {kind.upper()} {r.get('id')} gold={sorted(gold[i])} lexicon={fired!r} note={r.get('note', '')[:120]}")
            print(r["text"][:600].replace("\n", " | "))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
