"""The clause head: each customer clause, read with the clause before it, scored per objection;
a chat's clause score is its best clause's.

The chat-level heads (nlp/model.py) read the n-grams of ALL the customer's words, so one "太贵了"
in a long chat is diluted by everything else said. Here the unit is a clause (with its
predecessor, which often carries the subject: "报价收到了，就是有点超出我们的预期"): the same
vocabulary's character 1-3-grams, sublinear and L2-normalised per unit. Trained as multiple-
instance learning in its plainest form: every unit of a chat labelled with the objection is a
positive, every unit of a chat without it a negative; the words common to both kinds of chat get
no weight, the words that only come with the objection do, and the max over a chat's units finds
the clause that carries it. Out-of-fold by writer (nlp.objection_errors, the fast harness of the
session) the mean of this and the chat head added ≈ +0.03 objection macro-F1 over the chat head
alone (the clause head alone: no gain; its max with the chat head: none either).

Serving stays one numpy pass over all units at once (the units joined by a separator no n-gram
crosses)."""
from __future__ import annotations

from nlp.grams import lookup, sublinear, text_keys, vocab_keys

SEP = "\x00"
# the regularisation of the clause regressions (0.3 and 3 did worse out-of-fold by writer)
C_CLAUSE = 1.0


def units(clauses: list[str]) -> list[str]:
    """The scored units: each clause with the one before it."""
    return [(clauses[j - 1] + " " + c) if j else c for j, c in enumerate(clauses)]


def unit_vectors(unit_texts: list[str], vkeys, vcols):
    """(unit index, vocabulary column, value) of the known n-grams of each unit: counts made
    sublinear (1 + log n) and L2-normalised per unit — the chat head's vector, per unit."""
    import numpy as np

    empty = (np.zeros(0, dtype=np.int64),) * 2 + (np.zeros(0),)
    if not unit_texts or not len(vkeys):
        return empty
    text = SEP.join(" ".join(u.replace(SEP, " ").lower().split()) for u in unit_texts)
    keys, starts = text_keys(text, starts=True)
    n = len(text)
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    sep = codes == 0
    size = np.concatenate((np.ones(n, dtype=np.int64), np.full(max(0, n - 1), 2), np.full(max(0, n - 2), 3)))
    # an n-gram crossing (or holding) a separator belongs to no unit
    crossing = np.concatenate(([0], np.cumsum(sep)))
    inside = crossing[starts + size] == crossing[starts]
    keys, starts = keys[inside], starts[inside]
    at = lookup(keys, vkeys)
    ok = at >= 0
    if not ok.any():
        return empty
    unit = crossing[starts[ok]]
    col = vcols[at[ok]]
    width = int(vcols.max()) + 1
    pair, counts = np.unique(unit * width + col, return_counts=True)
    unit, col = pair // width, pair % width
    vals = sublinear(counts)
    norms = np.sqrt(np.bincount(unit, weights=vals * vals))
    return unit, col, vals / norms[unit]


def unit_logits(unit_texts: list[str], vkeys, vcols, w, b):
    """(units × objections) logits of the clause head (w: vocabulary × objections, b: per objection)."""
    import numpy as np

    unit, col, vals = unit_vectors(unit_texts, vkeys, vcols)
    out = np.zeros((len(unit_texts), len(b)))
    if len(unit):
        # unit is sorted (unit_vectors counts by unit, then column): one sum per run of a unit
        first = np.flatnonzero(np.concatenate(([True], unit[1:] != unit[:-1])))
        out[unit[first]] = np.add.reduceat(vals[:, None] * w[col], first, axis=0)
    return out + b


def best_clause_probs(unit_texts: list[str], vkeys, vcols, w, b):
    """Per objection, the probability of the chat's best unit and that unit's index (−1 without units)."""
    import numpy as np

    k = len(b)
    if not unit_texts:
        return np.zeros(k), np.full(k, -1)
    z = unit_logits(unit_texts, vkeys, vcols, w, b)
    best = z.argmax(axis=0)
    top = z[best, np.arange(k)]
    return 1.0 / (1.0 + np.exp(-np.clip(top, -30, 30))), best


def design(feats: list, vocab: dict[str, int]):
    """Training's input (nlp/train.py fits one binary regression per objection on it, each unit
    labelled as its chat is: multiple-instance learning in its plainest form; re-labelling only
    each positive chat's top units did worse): (units × vocabulary matrix, the chat of each unit)."""
    import numpy as np
    from scipy.sparse import csr_matrix

    vkeys, vcols = vocab_keys(vocab)
    rows, cols, vals, owner = [], [], [], []
    n_units = 0
    for i, f in enumerate(feats):
        texts = units(f.clauses)
        unit, col, val = unit_vectors(texts, vkeys, vcols)
        rows.append(unit + n_units)
        cols.append(col)
        vals.append(val)
        owner += [i] * len(texts)
        n_units += len(texts)
    X = csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                   shape=(n_units, len(vocab)))
    return X, np.asarray(owner, dtype=np.int64)
