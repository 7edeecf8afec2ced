"""The kind head, leave-one-writer-out, cheaper than the full `nlp eval --cv --by=writer` (no
objection heads, no blend search: 10–25 min on a loaded 2-core machine, a few on a quiet one): for
iterating on nlp/kinds.py features. A research tool, not a figure bench.

    python -m bench.kind_oof [--errors=wa,wc,...] [--save F.json]

Each writer (the generator, the dev set and each writer of written.jsonl) is held out once; the
intent and kind heads are trained on the rest (no objection heads, the shipped λ, δ, slope: the
blend is not chosen again), and the held-out chats scored from their features as analyze()
finishes (blend, kind thresholds, not-sales chats low, one-sided at most medium). The kind
thresholds are chosen once on these out-of-fold predictions of the hand-written chats (slightly
optimistic against the full CV, which chooses them inside each fold). Prints the figures of
the hand-written chats (those of cv_by_writer_written_*) and, with --errors, the non-sales chats
called "high" of the writers named (keep the writers set aside out of it). The blend and P(high)
are the served model's own (Model.blended, Model.p_high); the service-on-existing cap
(nlp/service.py) reads the turns, not the features, so it is not applied here: the figures are the
kind head's alone.
"""
from __future__ import annotations

import json
import sys


def oof(records, feats, lam, delta):
    import numpy as np

    from nlp import train

    writers = [train.writer_of(r) for r in records]
    n = len(records)
    s, p_not, kind_best = np.zeros(n), np.zeros(n), [""] * n
    for w in sorted(set(writers)):
        tr = [i for i in range(n) if writers[i] != w]
        m = train.fit([records[i] for i in tr], [feats[i] for i in tr], calibrate=False)
        m.lam, m.delta = lam, delta                 # the shipped blend, applied by the model itself
        print(f"# fold {w} fitted", file=sys.stderr, flush=True)
        for i in (i for i in range(n) if writers[i] == w):
            probs, _, kinds = m.predict_all(feats[i])
            p_not[i] = 1.0 - kinds["sales"]
            kind_best[i] = max((k for k in kinds if k != "sales"), key=kinds.get)
            s[i] = m.blended(probs, feats[i].structured.get("lex_score", 0.0) * 100)
    return np.asarray(writers), s, p_not, kind_best


def main(argv: list[str]) -> int:
    import numpy as np

    from nlp import engine, kind_train, train
    from nlp import model as served
    from nlp.metrics import auc

    errors = next((a.split("=", 1)[1].split(",") for a in argv if a.startswith("--errors=")), [])
    shipped = served.load()
    lam, delta = shipped.lam, shipped.delta
    engine.warm_up()
    records = train.load_corpus([])
    feats = train.features_for(records)
    writers, s, p_not, kind_best = oof(records, feats, lam, delta)
    rule_not = np.asarray([not f.structured.get("kind_sales") for f in feats])
    one_sided = np.asarray([bool(f.structured.get("speakers_one")) and not f.structured.get("format_call_notes")
                            for f in feats])
    gold = np.asarray([{"high": 2, "medium": 1}.get(r["intent"], 0) for r in records])
    none = np.asarray([r["intent"] == "none" for r in records])
    hand = writers != "generator"
    th, info = kind_train.choose(s, p_not, rule_not, one_sided, gold, none, hand)
    level, pred_not = kind_train.outcome(s, p_not, rule_not, one_sided, th)
    capped = ~pred_not & (p_not >= th[1])
    sc = np.where(capped, np.minimum(s, served.HIGH_MIN - 0.5), s)
    prob = np.asarray([shipped.p_high(float(x)) for x in sc])
    prob = np.where(pred_not, np.minimum(prob, 0.10), prob)
    prob = np.where(one_sided & ~pred_not, np.minimum(prob, 0.49), prob)
    h = hand
    out = {"thresholds": list(th),
           "auc_high": round(auc(prob[h].tolist(), (gold[h] == 2).tolist()), 4),
           "accuracy_3class": round(float((level[h] == gold[h]).mean()), 4),
           "non_sales_called_high": f"{int((level[h & none] == 2).sum())} of {int((h & none).sum())}",
           "sales_called_not": f"{int(pred_not[h & ~none].sum())} of {int((h & ~none).sum())}",
           "high_recall": round(float((level[h & (gold == 2)] == 2).mean()), 4),
           "non_sales_named": round(float(pred_not[h & none].mean()), 4)}
    for kind in ("complaint", "service", "job", "spam", "chitchat"):
        sel = h & none & np.asarray([r.get("kind") == kind for r in records])
        out[f"non_sales_called_high_{kind}"] = f"{int((level[sel] == 2).sum())} of {int(sel.sum())}"
    for w in sorted(set(writers[h].tolist())):
        sel = writers == w
        out[f"writer_{w}"] = (f"acc {float((level[sel] == gold[sel]).mean()):.3f} "
                              f"auc {auc(prob[sel].tolist(), (gold[sel] == 2).tolist()):.3f} "
                              f"ns_high {int((level[sel & none] == 2).sum())}/{int((sel & none).sum())}")
    for k, v in out.items():
        print(f"{k}: {v}")
    for i in np.flatnonzero(np.isin(writers, errors) & none & (level == 2)):
        r = records[i]
        print(f"\n## {r.get('id')} {writers[i]} gold={r.get('kind')} s={s[i]:.0f} p_not={p_not[i]:.2f} "
              f"head={kind_best[i]} rule_not={bool(rule_not[i])}")
        print(r["text"][:600])
    save = next((a.split("=", 1)[1] for a in argv if a.startswith("--save=")), None)
    if save:
        with open(save, "w", encoding="utf-8") as fh:
            json.dump({"ids": [str(r.get("id")) for r in records], "s": s.tolist(), "p_not": p_not.tolist(),
                       "level": level.tolist()}, fh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
