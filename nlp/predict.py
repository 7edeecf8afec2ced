"""Probability that an open deal closes (is marked won) within the next 14 days.

Small teams have tens of closed deals, not hundreds, so:

* `StagePrior` — a documented, stage-based prior that needs no data at all. Its stages are the
  playbook's own (`StagePrior.from_config`): each stage's configured `close_prior`, or, where a
  stage leaves it unset, a value from the stage's place in that funnel (`funnel_priors`). The
  built-in default is the shipped playbook (config.toml) — a test keeps the two equal.
* `CloseModel` — L2-regularised logistic regression, fitted by Newton's method in pure Python.
  The prior's log-odds is one of its inputs and the penalty pulls that weight toward 1 and all
  other weights toward 0: with little data the model *is* the prior, and each extra deal moves
  it only as far as the evidence supports. Below `MIN_WON` won and `MIN_LOST` lost deals the
  model is not fitted at all and predicts the prior (the card then says so in words).

Features come from ONE function, `features_from_history`, used both for training snapshots and
for the live card. It takes the raw, time-stamped history of a deal and keeps only what had
happened at `now` (point in time), so a training row for a past day sees what the card would
have seen that day:

* stage (index in the playbook), days_in_stage, expected_days;
* followups_last_14d, days_since_last_followup (since the deal was opened when it never had one);
* intent_last — the latest analysed chat score (0-100, nlp.analyze) at `now`; with no chat yet it
  is `NEUTRAL_INTENT` (50, the middle of the scale) and `intent_missing` is 1, so the model learns
  what "no chat" means instead of reading 50 as a real score;
* intent_trend — latest score minus the mean of up to three before it (0 with fewer than two);
* completeness — share of the playbook's required fields filled at `now`, from the field history
  (value changes with their time); `NEUTRAL_COMPLETENESS` plus `completeness_missing` = 1 when
  the history was not recorded. Never the record's *current* completeness: fields filled when a
  deal is won would tell the model the outcome (see tests/test_close_honest.py).

Evaluation: `nlp.close_sim` simulates deals from a latent process that does not use these
features; `evaluate_time_split` trains on the earlier part and scores the later part (Brier score
of the model, the prior and the base rate, plus calibration). `python -m bench.close`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Mapping, Sequence

from nlp.logistic import newton_logistic
from nlp.logistic import sigmoid as _sigmoid

HORIZON_DAYS = 14
# The shipped playbook (config.toml [[stages]]): name, expected_days, close_prior. A team's own
# playbook replaces it through StagePrior.from_config; tests/test_close_honest.py checks equality.
DEFAULT_STAGES = (("线索获取", 2, 0.02), ("初次接触", 3, 0.04), ("需求挖掘", 7, 0.08), ("方案报价", 5, 0.18),
                  ("商务谈判", 10, 0.35), ("签约", 5, 0.8), ("回款", 30, 0.95))
STAGES = tuple(name for name, _, _ in DEFAULT_STAGES)
DEFAULT_EXPECTED_DAYS = tuple(days for _, days, _ in DEFAULT_STAGES)
# A team needs at least this many won and lost deals before its own model replaces the prior.
MIN_WON = 15
MIN_LOST = 15

FEATURES = ("stage", "days_in_stage", "expected_days", "followups_last_14d", "days_since_last_followup",
            "intent_last", "intent_missing", "intent_trend", "completeness", "completeness_missing")
NEUTRAL_INTENT = 50.0          # no analysed chat yet: the middle of the 0-100 scale (+ intent_missing = 1)
NEUTRAL_COMPLETENESS = 0.5     # field history not recorded (+ completeness_missing = 1)
MAX_SILENCE_DAYS = 90.0
# Funnel shape used for stages whose playbook leaves close_prior unset (first → last stage).
FUNNEL_FIRST, FUNNEL_LAST = 0.02, 0.9


# ------------------------------------------------------------------------------ prior
def funnel_priors(configured: Sequence[float | None]) -> tuple[float, ...]:
    """Each stage's prior: its configured value, or for an unset one a value interpolated in
    log-odds between the nearest configured neighbours — or, without any, on a straight log-odds
    line from FUNNEL_FIRST (first stage) to FUNNEL_LAST (last stage) over the playbook's own count."""
    n = len(configured)
    if n == 0:
        return ()
    default = [_logit(FUNNEL_FIRST) + (_logit(FUNNEL_LAST) - _logit(FUNNEL_FIRST)) * (i / max(1, n - 1))
               for i in range(n)]
    known = [(i, _logit(float(p))) for i, p in enumerate(configured) if p is not None]
    out = []
    for i, p in enumerate(configured):
        if p is not None:
            out.append(float(p))
            continue
        left = [(j, v) for j, v in known if j < i]
        right = [(j, v) for j, v in known if j > i]
        if left and right:
            (j0, v0), (j1, v1) = left[-1], right[0]
            z = v0 + (v1 - v0) * (i - j0) / (j1 - j0)
        else:
            z = default[i]
            if left:
                z = max(z, left[-1][1])
            if right:
                z = min(z, right[0][1])
        out.append(_sigmoid(z))
    return tuple(out)


@dataclass(frozen=True)
class StagePrior:
    """Stage-based prior for "won within 14 days".

    base[k] is the chance for a deal that sits in stage k *on schedule* and was followed up in
    the last two weeks: the playbook's close_prior for that stage (see `funnel_priors`).

    Two adjustments, both multiplicative on the odds:
    * overdue — every `expected_days` spent beyond the expected time in the stage multiplies
      the odds by `overdue_factor` (stalled deals rarely close soon);
    * silence — no follow-up for more than `silence_days` multiplies the odds by
      `silence_factor`.
    """
    base: tuple[float, ...] = tuple(p for _, _, p in DEFAULT_STAGES)
    overdue_factor: float = 0.5
    silence_days: float = 14
    silence_factor: float = 0.5
    names: tuple[str, ...] = STAGES
    expected: tuple[float, ...] = DEFAULT_EXPECTED_DAYS

    @classmethod
    def from_config(cls, config) -> "StagePrior":
        """A team's own funnel: its stages in order, each one's `close_prior` (or the funnel
        value where unset), `expected_days` and `name`."""
        stages = list(getattr(config, "stages", []) or [])
        if not stages:
            return cls()
        return cls(base=funnel_priors([getattr(s, "close_prior", None) for s in stages]),
                   names=tuple(str(getattr(s, "name", i)) for i, s in enumerate(stages)),
                   expected=tuple(float(getattr(s, "expected_days", 7) or 7) for s in stages))

    def stage(self, features: Mapping[str, float]) -> int:
        return _stage_index(_stage_value(features), self.names)

    def expected_days(self, features: Mapping[str, float]) -> float:
        return max(1.0, float(features.get("expected_days") or self.expected[self.stage(features)]))

    def probability(self, features: Mapping[str, float]) -> float:
        return _sigmoid(self.log_odds(features))

    def log_odds(self, features: Mapping[str, float]) -> float:
        stage = self.stage(features)
        logit = _logit(self.base[stage])
        expected = self.expected_days(features)
        overdue = max(0.0, float(features.get("days_in_stage", 0)) - expected) / expected
        logit += min(overdue, 4.0) * math.log(self.overdue_factor)
        if float(features.get("days_since_last_followup", 0)) > self.silence_days:
            logit += math.log(self.silence_factor)
        return logit

    def reasons(self, features: Mapping[str, float]) -> list[str]:
        stage = self.stage(features)
        reasons = [f"阶段「{self.names[stage]}」基准 {self.base[stage]:.0%}"]
        expected = self.expected_days(features)
        days = float(features.get("days_in_stage", 0))
        if days > expected:
            reasons.append(f"在本阶段已停留 {days:.0f} 天，超出预期 {days - expected:.0f} 天 ↓")
        silent = float(features.get("days_since_last_followup", 0))
        if silent > self.silence_days:
            reasons.append(f"已 {silent:.0f} 天没有跟进 ↓")
        return reasons


DEFAULT_PRIOR = StagePrior()


# ----------------------------------------------------------------------- features
def features_from_history(*, stage: int | str, stage_entered_at: datetime, now: datetime,
                          opened_at: datetime | None = None,
                          followups: Iterable[datetime] = (),
                          intents: Iterable[tuple[datetime, float]] = (),
                          field_events: Iterable[tuple[datetime, str, bool]] | None = None,
                          wanted_fields: Sequence[str] = (),
                          expected_days: float | None = None,
                          names: Sequence[str] = STAGES) -> dict[str, float]:
    """Feature dict for one deal as of `now` — THE definition, for training rows and the card.

    Everything is filtered to `at <= now` here, so callers may pass a deal's whole history:
    followups — when the rep followed up; intents — (at, score) of the customer's analysed chats;
    field_events — (at, field, filled) value changes of the customer's fields (None: no field
    history recorded → completeness missing); wanted_fields — the playbook's required fields.
    """
    index = _stage_index(stage, names)
    opened = opened_at or stage_entered_at
    dates = sorted(d for d in followups if d is not None and d <= now)
    recent = [d for d in dates if (now - d) < timedelta(days=HORIZON_DAYS)]
    last_contact = max(dates[-1], opened) if dates else opened
    scores = [float(score) for at, score in sorted((a, s) for a, s in intents if a is not None and a <= now)]
    complete = completeness_at(field_events, wanted_fields, now)
    return {
        "stage": float(index),
        "days_in_stage": max(0.0, (now - stage_entered_at).total_seconds() / 86400),
        "expected_days": float(expected_days or (DEFAULT_EXPECTED_DAYS[index] if index < len(DEFAULT_EXPECTED_DAYS) else 7)),
        "followups_last_14d": float(len(recent)),
        "days_since_last_followup": min(MAX_SILENCE_DAYS, max(0.0, (now - last_contact).total_seconds() / 86400)),
        "intent_last": scores[-1] if scores else NEUTRAL_INTENT,
        "intent_missing": 0.0 if scores else 1.0,
        "intent_trend": _trend(scores),
        "completeness": NEUTRAL_COMPLETENESS if complete is None else complete,
        "completeness_missing": 1.0 if complete is None else 0.0,
    }


def completeness_at(field_events: Iterable[tuple[datetime, str, bool]] | None, wanted: Sequence[str],
                    now: datetime) -> float | None:
    """Share of `wanted` fields whose latest value at `now` is filled; None without a history."""
    if field_events is None or not wanted:
        return None
    events = sorted((at, name, filled) for at, name, filled in field_events if at <= now)
    state: dict[str, bool] = {}
    for _, name, filled in events:
        state[name] = bool(filled)
    return sum(1 for name in wanted if state.get(name)) / len(wanted)


def _trend(scores: list[float]) -> float:
    """Last score minus the average of (up to three) before it (0 with fewer than two)."""
    if len(scores) < 2:
        return 0.0
    earlier = scores[-4:-1]
    return scores[-1] - sum(earlier) / len(earlier)


# -------------------------------------------------------------------------- model
# Model inputs: the prior's log-odds first, then the features scaled to comparable ranges.
_INPUT_NAMES = ("prior", "stage", "overdue", "followups", "silence", "intent", "intent_missing", "trend",
                "completeness", "completeness_missing")


def _inputs(features: Mapping[str, float], prior: StagePrior) -> list[float]:
    stage = prior.stage(features)
    expected = prior.expected_days(features)
    return [
        prior.log_odds(features),
        stage / max(1, len(prior.base) - 1),
        math.log1p(float(features.get("days_in_stage", 0)) / expected),
        min(float(features.get("followups_last_14d", 0)), 10.0) / 5,
        min(float(features.get("days_since_last_followup", 0)), 60.0) / 14,
        float(features.get("intent_last", NEUTRAL_INTENT)) / 100,
        float(features.get("intent_missing", 0.0)),
        max(-50.0, min(50.0, float(features.get("intent_trend", 0)))) / 50,
        float(features.get("completeness", NEUTRAL_COMPLETENESS)),
        float(features.get("completeness_missing", 0.0)),
    ]


@dataclass
class CloseModel:
    """Regularised logistic regression on top of the stage prior (see module docstring)."""
    prior: StagePrior = field(default_factory=StagePrior)
    l2: float = 3.0
    min_won: int = MIN_WON
    min_lost: int = MIN_LOST
    # Pure-Python Newton costs ≈ 0.2 s per 1,000 rows: a large team's snapshots are thinned evenly
    # (every k-th row, which keeps the base rate) so the first card of the day never waits long.
    max_rows: int = 20_000
    weights: list[float] = field(default_factory=list)
    bias: float = 0.0
    means: list[float] = field(default_factory=list)
    scales: list[float] = field(default_factory=list)
    uses_prior: bool = True
    n_won: int = 0
    n_lost: int = 0

    @classmethod
    def default(cls, config=None) -> "CloseModel":
        """Unfitted model on the team's configured stage priors (or the built-in ones)."""
        return cls(prior=StagePrior.from_config(config) if config is not None else StagePrior())

    # ------------------------------------------------------------------ fitting
    def fit(self, rows: Sequence[Mapping]) -> "CloseModel":
        """rows: feature dicts with `won_14d` (0/1); optional `deal_id` and `outcome`
        ("won"/"lost") let the model count closed deals rather than snapshots."""
        labelled = [r for r in rows if r.get("won_14d") is not None]
        self.n_won, self.n_lost = _closed_deal_counts(labelled)
        self.uses_prior = self.n_won < self.min_won or self.n_lost < self.min_lost
        if self.uses_prior:
            return self
        if len(labelled) > self.max_rows:
            labelled = labelled[::-(-len(labelled) // self.max_rows)]
        matrix = [_inputs(r, self.prior) for r in labelled]
        labels = [1.0 if r["won_14d"] else 0.0 for r in labelled]
        self._standardize(matrix)
        scaled = [self._scale(x) for x in matrix]
        self.bias, self.weights = newton_logistic(scaled, labels, self._targets(), self.l2)
        return self

    def _standardize(self, matrix: list[list[float]]) -> None:
        """Prior log-odds stays unscaled (its target weight is 1); the rest get z-scores."""
        n, d = len(matrix), len(matrix[0])
        self.means = [0.0] + [sum(row[j] for row in matrix) / n for j in range(1, d)]
        self.scales = [1.0]
        for j in range(1, d):
            var = sum((row[j] - self.means[j]) ** 2 for row in matrix) / n
            self.scales.append(math.sqrt(var) or 1.0)

    def _scale(self, x: list[float]) -> list[float]:
        return [(v - m) / s for v, m, s in zip(x, self.means, self.scales)]

    def _targets(self) -> list[float]:
        """Weights shrink toward these: 1 for the prior's log-odds, 0 for the rest."""
        return [1.0] + [0.0] * (len(_INPUT_NAMES) - 1)

    # --------------------------------------------------------------- predicting
    def predict(self, features: Mapping[str, float]) -> tuple[float, list[str]]:
        """(probability of winning within 14 days, main reasons in Chinese)."""
        if self.uses_prior:
            reasons = self.prior.reasons(features) + ["数据不足，使用阶段基准概率"]
            return self.prior.probability(features), reasons
        x = self._scale(_inputs(features, self.prior))
        z = self.bias + sum(w * v for w, v in zip(self.weights, x))
        return _sigmoid(z), self._reasons(features, x)

    def _reasons(self, features: Mapping[str, float], x: list[float]) -> list[str]:
        reasons = self.prior.reasons(features)[:1]
        contributions = sorted(((self.weights[j] * x[j], j) for j in range(1, len(x))),
                               key=lambda item: -abs(item[0]))
        for value, j in contributions[:3]:
            if abs(value) >= 0.15:
                reasons.append(_describe(_INPUT_NAMES[j], features, value > 0, self.prior))
        return reasons


def _describe(name: str, f: Mapping[str, float], up: bool, prior: StagePrior) -> str:
    arrow = "↑" if up else "↓"
    texts = {
        "stage": f"所处阶段 {prior.names[prior.stage(f)]}",
        "overdue": f"在本阶段 {f.get('days_in_stage', 0):.0f} 天（预期 {f.get('expected_days', 0):.0f} 天）",
        "followups": f"近 14 天跟进 {f.get('followups_last_14d', 0):.0f} 次",
        "silence": f"距上次跟进 {f.get('days_since_last_followup', 0):.0f} 天",
        "intent": f"最近一次意向 {f.get('intent_last', NEUTRAL_INTENT):.0f} 分",
        "intent_missing": "尚无聊天分析",
        "trend": f"意向变化 {f.get('intent_trend', 0):+.0f} 分",
        "completeness": f"资料完整度 {f.get('completeness', 0):.0%}",
        "completeness_missing": "资料记录不全",
    }
    return f"{texts[name]} {arrow}"


def _closed_deal_counts(rows: Sequence[Mapping]) -> tuple[int, int]:
    """Distinct won and lost deals. Without deal ids every row counts as its own deal."""
    won: set = set()
    lost: set = set()
    for index, row in enumerate(rows):
        deal = row.get("deal_id", index)
        outcome = row.get("outcome")
        if outcome == "won" or (outcome is None and row.get("won_14d")):
            won.add(deal)
        elif outcome == "lost" or (outcome is None and not row.get("won_14d")):
            lost.add(deal)
    return len(won), len(lost - won)


# ---------------------------------------------------------------------- evaluation
def evaluate_time_split(rows: Sequence[Mapping], train_fraction: float = 0.7,
                        model: CloseModel | None = None,
                        serving_rows: Sequence[Mapping] | None = None) -> dict:
    """Train on the earliest snapshots, test on the latest: Brier score of the model, the prior
    and the training base rate; calibration error; and the model's in-sample Brier on its own
    training rows.

    A training snapshot is used only if its 14-day label was already known at the cut-off, so
    no information from the test period leaks into training. `serving_rows` (same deals and
    days, in the same order) are what the card would see on those days; by default `rows`
    themselves. A variant that builds its training rows from facts known only later (the final
    completeness) passes the honest rows here: it is then scored as it would be used.
    """
    serving = list(serving_rows) if serving_rows is not None else list(rows)
    order = sorted(range(len(rows)), key=lambda i: rows[i]["as_of"])
    cutoff = rows[order[int(len(order) * train_fraction)]]["as_of"]
    train = [rows[i] for i in order if rows[i]["as_of"] + timedelta(days=HORIZON_DAYS) <= cutoff]
    test = [serving[i] for i in order if serving[i]["as_of"] >= cutoff]
    model = (model or CloseModel()).fit(train)
    predicted = [model.predict(r)[0] for r in test]
    prior = [model.prior.probability(r) for r in test]
    labels = [float(r["won_14d"]) for r in test]
    train_labels = [float(r["won_14d"]) for r in train]
    base = sum(train_labels) / len(train_labels) if train_labels else 0.0
    return {
        "brier": round(brier(predicted, labels), 4),
        "brier_prior": round(brier(prior, labels), 4),
        "brier_base_rate": round(brier([base] * len(labels), labels), 4),
        "brier_in_sample": round(brier([model.predict(r)[0] for r in train], train_labels), 4),
        "calibration_error": round(calibration_error(predicted, labels), 4),
        "calibration_error_prior": round(calibration_error(prior, labels), 4),
        "base_rate": round(sum(labels) / len(labels), 4) if labels else 0.0,
        "n_train": len(train),
        "n_test": len(test),
        "uses_prior": model.uses_prior,
        "calibration": calibration_table(predicted, labels),
    }


def calibration_error(probabilities: Sequence[float], labels: Sequence[float], bins: int = 10) -> float:
    """Expected calibration error: |mean predicted − observed rate| per equal-width bin, weighted
    by the bin's share of rows."""
    if not labels:
        return 0.0
    groups: dict[int, list[tuple[float, float]]] = {}
    for p, y in zip(probabilities, labels):
        groups.setdefault(min(bins - 1, int(p * bins)), []).append((p, y))
    return sum(abs(sum(p for p, _ in g) - sum(y for _, y in g)) for g in groups.values()) / len(labels)


def brier(probabilities: Sequence[float], labels: Sequence[float]) -> float:
    if not labels:
        return 0.0
    return sum((p - y) ** 2 for p, y in zip(probabilities, labels)) / len(labels)


def calibration_table(probabilities: Sequence[float], labels: Sequence[float],
                      edges: Sequence[float] = (0.05, 0.1, 0.2, 0.4, 1.01)) -> list[dict]:
    """Mean predicted vs observed rate per probability bin (bins with no rows are left out)."""
    table, low = [], 0.0
    for high in edges:
        members = [(p, y) for p, y in zip(probabilities, labels) if low <= p < high]
        if members:
            table.append({"bin": f"{low:.2f}-{min(high, 1.0):.2f}", "n": len(members),
                          "predicted": round(sum(p for p, _ in members) / len(members), 3),
                          "observed": round(sum(y for _, y in members) / len(members), 3)})
        low = high
    return table


# ---------------------------------------------------------------------------- utils
def _stage_value(features: Mapping[str, float]) -> int | float | str:
    """"stage" (index or name); "stage_index" is accepted too."""
    value = features.get("stage")
    return features.get("stage_index", 0) if value is None else value


def _stage_index(stage: int | float | str, names: Sequence[str] = STAGES) -> int:
    if isinstance(stage, str):
        if stage in names:
            return list(names).index(stage)
        stage = int(stage) if stage.strip().lstrip("-").isdigit() else 0
    return max(0, min(len(names) - 1, int(stage)))


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))
