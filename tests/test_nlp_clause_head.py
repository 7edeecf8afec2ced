"""The clause head (nlp/clause_head.py): one objection said in one clause is not diluted by the rest
of a long chat, serving's one-pass vectors equal the chat head's vector per unit, and the head
is trained, saved, loaded and used for the quote."""
from __future__ import annotations

import numpy as np
import pytest

from nlp import clause_head, model
from nlp.grams import vocab_keys
from nlp.lexicon import OBJECTION_IDS
from nlp.model import Features, Model

CLAUSES = ["在吗", "报价我看了", "太贵了", "我们再看看吧"]
FILLER = ["好的", "收到", "明天再说", "我们开会讨论一下", "那个样品的包装挺好看的"]


def _toy(clause: bool) -> Model:
    """A model whose chat head and clause head both weigh "贵" for price."""
    grams = sorted({g for c in CLAUSES + FILLER for g in model.ngrams(c)})
    vocab = {g: i for i, g in enumerate(grams)}
    k = len(OBJECTION_IDS)
    w = np.zeros((len(vocab), k))
    w[vocab["贵"], OBJECTION_IDS.index("price")] = 20.0
    b = np.full(k, -3.0)
    return Model(vocab, {}, np.zeros((len(vocab), 4)), np.zeros(4), list(OBJECTION_IDS), w.copy(), b.copy(),
                 (1.5, 0.0, 0.0), 0.6, 0.0, 1.01, {},
                 clause_w=w.copy() if clause else None, clause_b=b.copy() if clause else None)


def _features(clauses: list[str]) -> Features:
    return Features(None, {}, list(clauses), "\n".join(clauses))


def test_an_objection_in_one_clause_is_not_diluted_by_a_long_chat():
    short, long = _features(CLAUSES), _features(CLAUSES + FILLER * 6)
    chat_only, with_clauses = _toy(False), _toy(True)
    p = lambda m, f: m.predict_all(f)[1]["price"]
    # the chat head alone loses the objection as the customer says more about other things …
    assert p(chat_only, long) < p(chat_only, short) - 0.2
    # … the best clause does not (its probability is the same in the short and the long chat)
    k = OBJECTION_IDS.index("price")
    best_short, _ = with_clauses._clause_best(short)
    best_long, best = with_clauses._clause_best(long)
    assert best_long[k] == pytest.approx(best_short[k]) and best_long[k] > 0.5
    assert p(with_clauses, long) == pytest.approx((p(chat_only, long) + best_long[k]) / 2)
    assert p(with_clauses, long) > p(chat_only, long) + 0.15
    assert long.clauses[int(best[k])] == "太贵了"
    assert with_clauses.quote_for("price", long) == "报价我看了，太贵了"


def test_unit_vectors_equal_the_chat_heads_vector_of_each_unit():
    m = _toy(True)
    keys, cols = vocab_keys(m.vocab)
    texts = clause_head.units(CLAUSES + ["Hi  THERE 贵 贵 贵"])
    unit, col, val = clause_head.unit_vectors(texts, keys, cols)
    for j, text in enumerate(texts):
        c, v = m.vector(Features(None, {}, None, text))
        mine = dict(zip(col[unit == j].tolist(), val[unit == j].tolist()))
        assert mine.keys() == set(c.tolist()) and all(abs(mine[a] - b) < 1e-12 for a, b in zip(c.tolist(), v))
    # no n-gram runs across two units
    assert clause_head.unit_vectors(["贵", "好"], keys, cols)[0].tolist() == [0, 1]


def test_clause_head_is_trained_saved_and_loaded(tmp_path):
    pytest.importorskip("sklearn")
    from nlp import train
    from nlp.corpus import generate

    rows = generate(80)
    feats = train.features_for(rows)
    fitted = train._heads_only(rows, feats)
    assert fitted.clause_w.shape == (len(fitted.vocab), len(OBJECTION_IDS))
    k = OBJECTION_IDS.index("price")
    assert fitted.clause_w[fitted.vocab["贵"], k] > 0
    fitted.kind_w = fitted.kind_b = None
    train.save(fitted, tmp_path)
    loaded = model.load(tmp_path)
    assert np.allclose(loaded.clause_w, fitted.clause_w, atol=1e-6)
    f = feats[0]
    assert loaded.predict_all(f)[1] == pytest.approx(fitted.predict_all(f)[1], abs=1e-5)
