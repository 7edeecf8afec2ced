"""A team's own reading of intent, learnt from its reps' 准 / 不准 labels (issue 13 item 6).

The shipped model (nlp/model.py) is trained on the project's corpus; a team whose trade or
habits differ corrects it on the cards. With little data (tens of labels), refitting the n-gram
model is hopeless, so the team gets a small multinomial logistic regression ON TOP of the
shipped reading, over three levels (high / medium / low), with inputs:

* the shipped model's calibrated P(high) as a clipped logit, the lexicon score and the number
  of objections the card showed;
* the shipped level (one-hot), so that with weak evidence the adjustment repeats the shipped
  level (the penalty pulls the other weights to zero, not the level's);
* a few structured features of the text (nlp.model.featurize: questions, complaint/service
  turns, lexicon hits by id, negated hits) — only those seen in at least MIN_FEATURE_LABELS of
  the team's labels, at most MAX_NAMED, with a stronger L2 penalty.

Fitting and inference are numpy only (the refit runs in the bot's scheduler, where the
training-only scikit-learn is not installed). A team's fit is used only when it has enough
labels (MIN_LABELS, both 准 and 不准, at least two levels) and its cross-validated accuracy on
the team's labels beats the shipped model's accuracy on the same labels.

Objections: one the team marks ✗ in at least DROP_WRONG_SHARE of at least MIN_OBJECTION_VERDICTS
verdicts is no longer shown on that team's cards (objection_drops).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

LEVELS = ("high", "medium", "low")
LEVEL_ZH = {"high": "高", "medium": "中", "low": "低"}
MIN_LABELS = 30           # labels with a level before a team's model may be used
MIN_OBJECTION_VERDICTS = 5   # ✓/✗ on one objection before the team's verdict counts
DROP_WRONG_SHARE = 0.7       # an objection the team marks ✗ this often is no longer shown to it
MIN_FEATURE_LABELS = 3    # a structured feature enters the fit when this many labels have it
MAX_NAMED = 24
L2_CORE = 0.05            # per-label penalty of the core weights (logit, lexicon, shipped level)
L2_NAMED = 0.5            # per-label penalty of the structured features' weights
FOLDS = 5
_CORE = ("z", "lex", "ship_high", "ship_medium", "ship_low", "objections")
# The structured features worth carrying: they transfer across wording (no n-grams).
_KEEP_PREFIX = ("hit_", "neg_", "kind_")
_KEEP = ("questions", "complaint_turns", "service_turns", "customer_share", "customer_turns_log", "turns_log",
         "no_customer", "speakers_one")


def shipped_version() -> str:
    """A short id of the shipped model (its calibration and size): a label remembers which model's
    reading it corrected, so a refit after a new shipped model can prefer labels of that model."""
    from nlp import model as shipped

    m = shipped.load()
    if m is None:
        return "lexicon"
    key = id(m)
    if _VERSION.get("key") != key:
        import hashlib
        digest = hashlib.sha1(repr((tuple(m.platt), sorted(m.info.items()), len(m.vocab))).encode()).hexdigest()
        _VERSION.update(key=key, version=digest[:10])
    return _VERSION["version"]


_VERSION: dict[str, Any] = {}


def features_of(analysis, structured: dict[str, float] | None) -> dict[str, float]:
    """What is stored with a card (and labelled): the shipped reading plus structured features."""
    out: dict[str, Any] = {
        "mv": shipped_version(),
        "p": round(float(getattr(analysis, "probability", analysis.score / 100.0)), 6),
        "lex": round(float(getattr(analysis, "lexicon_score", analysis.score)) / 100.0, 4),
        "ship": analysis.level,
        "objections": len(analysis.objections),
    }
    for name, value in (structured or {}).items():
        if value and (name in _KEEP or name.startswith(_KEEP_PREFIX)):
            out["s:" + name] = round(float(value), 4)
    return out


def _core_row(f: dict[str, Any]) -> list[float]:
    p = min(max(float(f.get("p", 0.5)), 1e-4), 1 - 1e-4)
    z = max(-4.0, min(4.0, math.log(p / (1 - p)))) / 2.0
    ship = f.get("ship")
    return [z, float(f.get("lex", 0.5)) - 0.5, float(ship == "high"), float(ship == "medium"), float(ship == "low"),
            min(3.0, float(f.get("objections", 0))) / 3.0]


@dataclass
class TeamModel:
    names: list[str]          # structured feature names after the core ones
    W: list[list[float]]      # (1 + len(_CORE) + len(names)) × 3
    active: bool = True

    def probs(self, f: dict[str, Any]) -> list[float]:
        import numpy as np

        x = np.asarray([1.0] + _core_row(f) + [float(f.get("s:" + n, 0.0)) for n in self.names])
        z = x @ np.asarray(self.W)
        e = np.exp(z - z.max())
        return (e / e.sum()).tolist()

    def level(self, f: dict[str, Any]) -> str:
        p = self.probs(f)
        return LEVELS[max(range(3), key=lambda k: p[k])]

    def to_json(self) -> dict:
        return {"names": self.names, "W": [[round(v, 6) for v in row] for row in self.W], "version": 1}

    @classmethod
    def from_json(cls, data: dict | None) -> "TeamModel | None":
        if not data or data.get("version") != 1:
            return None
        return cls(list(data["names"]), [list(map(float, row)) for row in data["W"]])


def _design(rows: Sequence[dict], names: list[str]):
    import numpy as np

    return np.asarray([[1.0] + _core_row(f) + [float(f.get("s:" + n, 0.0)) for n in names] for f in rows])


def fit(rows: Sequence[dict], targets: Sequence[str], iterations: int = 600) -> TeamModel:
    """Multinomial logistic regression, L2-penalised, by full-batch Newton-free gradient descent
    with a fixed step (the problem is tiny and convex). Starts from "repeat the shipped level"."""
    import numpy as np

    seen: dict[str, int] = {}
    for f in rows:
        for key in f:
            if key.startswith("s:"):
                seen[key[2:]] = seen.get(key[2:], 0) + 1
    names = sorted(n for n, c in sorted(seen.items(), key=lambda kv: -kv[1])[:MAX_NAMED] if c >= MIN_FEATURE_LABELS)
    X = _design(rows, names)
    Y = np.zeros((len(rows), 3))
    for i, level in enumerate(targets):
        Y[i, LEVELS.index(level)] = 1.0
    d = X.shape[1]
    W = np.zeros((d, 3))
    for k in range(3):            # the shipped level's one-hot → its own class
        W[3 + k, k] = 2.0
    penalty = np.full((d, 1), L2_NAMED)
    penalty[0] = 0.0              # intercepts free
    penalty[1:1 + len(_CORE)] = L2_CORE
    n = len(rows)
    # the start is the prior: penalise the distance from it, so little data changes little
    W0 = W.copy()
    step = 0.5
    for _ in range(iterations):
        Z = X @ W
        Z -= Z.max(axis=1, keepdims=True)
        P = np.exp(Z)
        P /= P.sum(axis=1, keepdims=True)
        grad = X.T @ (P - Y) / n + penalty * (W - W0)
        W -= step * grad
    return TeamModel(names, W.tolist())


def accuracy(model: TeamModel, rows: Sequence[dict], targets: Sequence[str]) -> float:
    return sum(model.level(f) == y for f, y in zip(rows, targets)) / max(1, len(rows))


def shipped_accuracy(rows: Sequence[dict], targets: Sequence[str]) -> float:
    return sum(f.get("ship") == y for f, y in zip(rows, targets)) / max(1, len(rows))


def log_loss(model: TeamModel | None, rows: Sequence[dict], targets: Sequence[str]) -> float:
    """Mean negative log-likelihood; None = the shipped model's own three-level probabilities."""
    total = 0.0
    for f, y in zip(rows, targets):
        probs = model.probs(f) if model is not None else shipped_probs(f)
        total -= math.log(max(1e-6, probs[LEVELS.index(y)]))
    return total / max(1, len(rows))


def shipped_probs(f: dict) -> list[float]:
    """The shipped reading as three-level probabilities: its P(high), the rest split by its level."""
    p = min(max(float(f.get("p", 0.5)), 0.02), 0.98)
    rest = 1 - p
    return [p, rest * 0.7, rest * 0.3] if f.get("ship") != "low" else [p, rest * 0.3, rest * 0.7]


def cross_validated_accuracy(rows: Sequence[dict], targets: Sequence[str], folds: int = FOLDS) -> float:
    """Contiguous folds in label order (time): each fold scored by a fit on the others."""
    n = len(rows)
    right = 0
    for k in range(folds):
        lo, hi = n * k // folds, n * (k + 1) // folds
        if lo == hi:
            continue
        model = fit(list(rows[:lo]) + list(rows[hi:]), list(targets[:lo]) + list(targets[hi:]))
        right += sum(model.level(f) == y for f, y in zip(rows[lo:hi], targets[lo:hi]))
    return right / max(1, n)


@dataclass
class Refit:
    model: TeamModel | None
    active: bool
    labels: int
    shipped_acc: float
    team_acc: float
    reason: str


def refit(rows: Sequence[dict], targets: Sequence[str], agreed: Sequence[bool]) -> Refit:
    """The daily refit: fit on all labels, use it only when it beats the shipped model out of sample."""
    n = len(rows)
    ship = shipped_accuracy(rows, targets)
    if n < MIN_LABELS:
        return Refit(None, False, n, ship, 0.0, "few_labels")
    if all(agreed) or not any(agreed) or len(set(targets)) < 2:
        return Refit(None, False, n, ship, 0.0, "one_class")
    cv = cross_validated_accuracy(rows, targets)
    model = fit(rows, targets)
    active = cv > ship
    return Refit(model, active, n, ship, cv, "better" if active else "not_better")


def objection_drops(verdicts: dict[str, list[bool]]) -> list[str]:
    """Objections the team keeps marking ✗ (True = ✓ right, False = ✗ wrong): no longer shown to it."""
    return sorted(oid for oid, marks in verdicts.items()
                  if len(marks) >= MIN_OBJECTION_VERDICTS and marks.count(False) / len(marks) >= DROP_WRONG_SHARE)


def drop_objections(analysis, drops: Sequence[str]) -> None:
    if drops:
        analysis.objections = [o for o in analysis.objections if o.id not in drops]


def adjust(analysis, model: TeamModel, features: dict[str, Any]) -> None:
    """Replace the card's level and score by the team's reading (sales conversations only)."""
    if getattr(analysis, "kind", "sales") != "sales":
        return
    probs = model.probs(features)
    level = LEVELS[max(range(3), key=lambda k: probs[k])]
    raw = 100.0 * probs[0]
    score = {"high": max(50.0, raw), "medium": min(49.0, max(35.0, raw)), "low": min(34.0, raw)}[level]
    analysis.score = int(round(score))
    analysis.level = level
    analysis.level_zh = LEVEL_ZH[level]
    analysis.probability = round(probs[0], 6)
