"""Training side of the kind head (nlp/model.py KIND_HEAD): is the text a sales conversation at
all, and if not, what is it. scikit-learn, dev extra only.

The head is one multinomial regression over sales / complaint / service / job / spam / chitchat on
the model's own input (n-grams of the customer's words, the lexicon's structured reading and the
kind features of nlp/kinds.py: existing-order references, anger, the rep servicing vs offering,
forward-looking purchase steps). Its three thresholds are chosen on out-of-fold predictions (the
same folds as the blend, each writer a fold of its own):

* ``not``  — P(not sales) from which a chat the rules read as sales is called not sales;
* ``cap``  — from which it stays a sales chat but is never "high";
* ``keep`` — below which a chat the rules read as not sales is a sales chat after all.

Chosen so that non-sales chats called "high" stay at most MAX_NON_SALES_HIGH of the hand-written
non-sales chats; then so that sales recall barely moves (the share of high chats called high and
of sales chats called not-sales within MAX_SALES_LOSS of the rules alone); then for the best
3-class accuracy there; then the least intervention. Without the recall condition accuracy alone
chose the most eager thresholds: every non-sales chat named is one more right "low", and a few
high sales chats lost to it weigh no more.
"""
from __future__ import annotations

from nlp.model import HIGH_MIN, KIND_HEAD, MEDIUM_MIN

C_KIND = 0.3
MAX_NON_SALES_HIGH = 0.005
MAX_SALES_LOSS = 0.01
NOT_GRID = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.01)
CAP_GRID = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)
KEEP_GRID = (-1.0, 0.05, 0.1, 0.2, 0.3)
DISABLED = (1.01, 1.01, -1.0)


def label(record: dict) -> str:
    kind = record.get("kind")
    if kind in KIND_HEAD:
        return kind
    return "sales" if record.get("intent") != "none" else "chitchat"


def fit_head(X, records: list[dict]):
    """(weights (n_features, len(KIND_HEAD)), biases) of the kind regression."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    y = np.asarray([KIND_HEAD.index(label(r)) for r in records])
    W = np.zeros((X.shape[1], len(KIND_HEAD)))
    B = np.full(len(KIND_HEAD), -30.0)
    present = sorted(set(y.tolist()))
    if len(present) < 2:
        B[present] = 0.0
        return W, B
    clf = LogisticRegression(C=C_KIND, max_iter=4000).fit(X, y)
    coef = clf.coef_ if len(present) > 2 else np.vstack([-clf.coef_[0] / 2, clf.coef_[0] / 2])
    icpt = clf.intercept_ if len(present) > 2 else np.asarray([-clf.intercept_[0] / 2, clf.intercept_[0] / 2])
    W[:, clf.classes_] = coef.T
    B[clf.classes_] = icpt
    return W, B


def outcome(s, p_not, rule_not, one_sided, thresholds):
    """Final level (0 low, 1 medium, 2 high) and predicted not-sales, as analyze() finishes."""
    import numpy as np

    not_t, cap_t, keep_t = thresholds
    pred_not = np.where(rule_not, p_not >= keep_t, p_not >= not_t)
    capped = ~pred_not & (p_not >= cap_t)
    s = np.where(capped, np.minimum(s, HIGH_MIN - 0.5), s)
    return final_level(s, pred_not, one_sided), pred_not


def final_level(s, not_sales, one_sided):
    """Level 0 low, 1 medium, 2 high from blended scores; not-sales chats 0, one-sided at most 1."""
    import numpy as np

    level = np.where(s >= HIGH_MIN, 2, np.where(s >= MEDIUM_MIN, 1, 0))
    level = np.where(not_sales, 0, level)
    return np.where(one_sided, np.minimum(level, 1), level)


def rates(level, pred_not, gold, none) -> dict:
    """Figures of one threshold choice on a subset."""
    sales = ~none
    high = gold == 2
    return {
        "non_sales_high": float((level[none] == 2).mean()) if none.any() else 0.0,
        "non_sales_named": float(pred_not[none].mean()) if none.any() else 0.0,
        "sales_called_not": float(pred_not[sales].mean()) if sales.any() else 0.0,
        "high_recall": float((level[high] == 2).mean()) if high.any() else 0.0,
        "accuracy": float((level == gold).mean()) if len(gold) else 0.0,
    }


def choose(s, p_not, rule_not, one_sided, gold, none, hand) -> tuple[tuple[float, float, float], dict]:
    """The thresholds (see the module doc) and the trade-off curve on the out-of-fold chats."""
    import numpy as np

    part = hand if hand.any() else np.ones(len(gold), dtype=bool)
    level, pred_not = outcome(s, p_not, rule_not, one_sided, DISABLED)
    alone = rates(level[part], pred_not[part], gold[part], none[part])
    best = None
    for not_t in NOT_GRID:
        for cap_t in CAP_GRID:
            if cap_t > not_t:
                continue
            for keep_t in KEEP_GRID:
                th = (not_t, cap_t, keep_t)
                level, pred_not = outcome(s, p_not, rule_not, one_sided, th)
                r = rates(level[part], pred_not[part], gold[part], none[part])
                feasible = r["non_sales_high"] <= MAX_NON_SALES_HIGH
                kept = (r["high_recall"] >= alone["high_recall"] - MAX_SALES_LOSS
                        and r["sales_called_not"] <= alone["sales_called_not"] + MAX_SALES_LOSS)
                key = (feasible, kept, round(r["accuracy"], 4) if feasible else -r["non_sales_high"],
                       round(r["accuracy"], 4), not_t + cap_t - keep_t)
                if best is None or key > best[0]:
                    best = (key, th)
    chosen = best[1]
    curve = []
    for cap_t in CAP_GRID:                   # the trade-off with the chosen not/keep thresholds
        th = (max(chosen[0], cap_t), cap_t, chosen[2])
        level, pred_not = outcome(s, p_not, rule_not, one_sided, th)
        r = rates(level[part], pred_not[part], gold[part], none[part])
        curve.append({"not": th[0], "cap": cap_t, "keep": th[2], **{k: round(v, 4) for k, v in r.items()}})
    before = {k: round(v, 4) for k, v in alone.items()}
    return chosen, {"kind_thresholds": list(chosen), "kind_curve": curve, "kind_rules_alone": before}
