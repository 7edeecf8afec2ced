"""The one precision/recall/F1 count (nlp/metrics.py) that eval, train and objection_errors share."""
from __future__ import annotations

import numpy as np

from nlp.metrics import counts, f1, label_counts, prf


def test_counts_of_lists_and_of_boolean_arrays_agree():
    said = [True, True, False, False, True]
    gold = [True, False, True, False, True]
    assert counts(said, gold) == (2, 1, 1)
    assert counts(np.asarray(said), np.asarray(gold)) == (2, 1, 1)


def test_label_counts_read_label_sets():
    said = [{"price"}, {"budget"}, {"price"}, set()]
    gold = [{"price"}, {"price", "budget"}, set(), {"price"}]
    assert label_counts(said, gold, "price") == (1, 1, 2)
    assert label_counts(said, gold, "timing") == (0, 0, 0)


def test_f1_and_prf():
    assert f1(1, 1, 2) == 2 / 5
    assert f1(0, 0, 0) is None and f1(0, 0, 0, empty=1.0) == 1.0
    assert prf(1, 1, 2) == (0.5, 1 / 3, 0.4)
    assert prf(0, 0, 3) == (0.0, 0.0, 0.0)
