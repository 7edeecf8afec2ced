"""The trainer's building blocks below the full fit: the design matrix and the objection heads.

``_design`` picks the n-gram vocabulary (``MAX_VOCAB``, ``MIN_DF``) and the structured columns
and builds the sparse matrix (``_matrix``); ``_objection_heads`` / ``_clause_heads`` fit one
binary regression per objection id (per chat, or over the clause head's units), ``_heads_only``
packs them into a model, and ``_choose_objection_thresholds`` picks each id's add / drop
threshold on ``OBJ_ADD_GRID`` x ``OBJ_DROP_GRID``, leaving one hand-written writer out at a time
(``writer_of``).  Split out of nlp/train.py without a change of behaviour; nlp.train re-exports
every name here, and the full fit, the blend and cross-validation stay there.
"""
from __future__ import annotations

from collections import Counter

from nlp import clause_head
from nlp import model as served
from nlp.lexicon import OBJECTION_IDS
from nlp.metrics import counts, f1
from nlp.model import CLASSES, Features

# Capacity kept low on purpose: with 20,000 n-grams and C = 4 the model learnt the generator's
# ~150 sentences by heart and was over-sure (P ≈ 1.00) on chats written in another hand.
MAX_VOCAB = 4_000
MIN_DF = 3
C_OBJECTION = 1.0


def _matrix(feats: list[Features], vocab: dict[str, int], structured: dict[str, int]):
    import numpy as np
    from scipy.sparse import csr_matrix

    rows, cols, vals = [], [], []
    holder = served.Model(vocab, structured, None, None, [], None, None, (1.0, 0.0), 0, 0, 0, {})
    for i, f in enumerate(feats):
        c, v = holder.vector(f)
        rows += [i] * len(c)
        cols += c.tolist()
        vals += v.tolist()
    return csr_matrix((np.asarray(vals), (np.asarray(rows), np.asarray(cols))),
                      shape=(len(feats), len(vocab) + len(structured)))


def _no_heads(n_features: int):
    import numpy as np

    return np.zeros((n_features, len(OBJECTION_IDS))), np.full(len(OBJECTION_IDS), -30.0)


def _objection_heads(X, records: list[dict], owner=None):
    """One binary regression per objection id (bias −30, never fires, for an id nobody labelled).
    With `owner` (the chat of each row) the rows are the clause head's units, each labelled as its
    chat is (nlp/clause_head.py; liblinear, its intercept regularised like a weight: what was
    measured)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    obj_w, obj_b = _no_heads(X.shape[1])
    for k, oid in enumerate(OBJECTION_IDS):
        target = np.asarray([oid in (r.get("objections") or ()) for r in records])
        if owner is not None:
            target = target[owner]
        if target.all() or not target.any():
            continue
        clf = (LogisticRegression(C=C_OBJECTION, max_iter=4000) if owner is None else
               LogisticRegression(C=clause_head.C_CLAUSE, solver="liblinear")).fit(X, target)
        obj_w[:, k] = clf.coef_[0]
        obj_b[k] = clf.intercept_[0]
    return obj_w, obj_b


def _clause_heads(feats: list[Features], records: list[dict], vocab: dict[str, int]):
    """The clause head's regressions: the objection heads over each chat's units."""
    X, owner = clause_head.design(feats, vocab)
    return _objection_heads(X, records, owner)


# The grid of per-objection thresholds: add one the lexicon missed when p ≥ add; drop the
# lexicon's when p < drop (ADD 1.01: the model never adds that id).
OBJ_ADD_GRID = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8, 1.01)
# The heads may add an objection the lexicon missed; they do not silence one the customer said in a
# clause the lexicon read (a silenced objection leaves the rep without its scripted answer — the seed
# article's "价格有点贵，我得跟老板汇报一下" lost both price and need_approval at drop 0.2 —, a wrong one
# costs a glance). Resolved objections are the clause reader's job (nlp/clauses.py).
OBJ_DROP_GRID = (0.0,)


def _choose_objection_thresholds(records: list[dict], feats: list[Features]) -> tuple[dict, dict]:
    """Per objection id, (add, drop) maximising the mean F1 over the hand-written writers, each
    scored by heads trained without it (the generated chats always train). Without two
    hand-written writers nothing is chosen (the model's add_above / drop_below hold)."""
    import numpy as np

    hands = sorted({writer_of(r) for r in records if r.get("trade") == "handwritten"})
    if len(hands) < 2:
        return {}, {}
    groups = [writer_of(r) if r.get("trade") == "handwritten" else "" for r in records]
    probs = np.zeros((len(records), len(OBJECTION_IDS)))
    for hand in hands:
        train = [i for i, g in enumerate(groups) if g != hand]
        test = [i for i, g in enumerate(groups) if g == hand]
        m = _heads_only([records[i] for i in train], [feats[i] for i in train])
        for i in test:
            probs[i] = list(m.predict_all(feats[i])[1].values())
    sales = np.asarray([bool(f.structured.get("kind_sales") or f.structured.get("kind_one_sided")) for f in feats])
    add, drop = {}, {}
    selections = [np.asarray([g == hand for g in groups]) for hand in hands]
    for k, oid in enumerate(OBJECTION_IDS):
        lex = np.asarray([f.structured.get("hit_" + oid, 0.0) > 0 for f in feats])
        gold = np.asarray([oid in (r.get("objections") or ()) for r in records])
        best = None
        for a in OBJ_ADD_GRID:
            for d in OBJ_DROP_GRID:
                said = sales & ((lex & (probs[:, k] >= d)) | (probs[:, k] >= a))
                score = float(np.mean([f1(*counts(said[sel], gold[sel]), empty=1.0) for sel in selections]))
                if best is None or score > best[0] + 1e-9:
                    best = (score, a, d)
        add[oid], drop[oid] = best[1], best[2]
    return add, drop


def _design(feats: list[Features]):
    """(n-gram vocabulary, structured feature columns, the matrix): the most frequent n-grams
    (at least MIN_DF chats, at most MAX_VOCAB), then every structured feature seen."""
    df: Counter = Counter()
    for f in feats:
        df.update(f.ngrams.keys())
    grams = [g for g, n in df.most_common(MAX_VOCAB) if n >= MIN_DF]
    vocab = {g: i for i, g in enumerate(sorted(grams))}
    names = sorted({k for f in feats for k in f.structured})
    structured = {name: len(vocab) + i for i, name in enumerate(names)}
    return vocab, structured, _matrix(feats, vocab, structured)


def _heads_only(records: list[dict], feats: list[Features]) -> served.Model:
    """The objection heads alone (for choosing their thresholds)."""
    vocab, structured, X = _design(feats)
    obj_w, obj_b = _objection_heads(X, records)
    clause_w, clause_b = _clause_heads(feats, records, vocab)
    import numpy as np

    zeros = np.zeros((X.shape[1], len(CLASSES)))
    return served.Model(vocab, structured, zeros, np.zeros(len(CLASSES)), list(OBJECTION_IDS), obj_w, obj_b,
                        (1.5, 0.0, 0.0), 0.6, 0.0, 1.01, {}, clause_w=clause_w, clause_b=clause_b)


def writer_of(record: dict) -> str:
    """Who wrote the chat: a writer of written.jsonl, the project's dev set, or the generator."""
    if record.get("writer"):
        return str(record["writer"])
    return "dev" if record.get("trade") == "handwritten" else "generator"
