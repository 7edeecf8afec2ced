"""Probability that an open deal closes (is marked won) within the next 14 days, and the best
hour to contact the customer.

Small teams have tens of closed deals, not hundreds, so:

* `StagePrior` — a documented, stage-based prior that needs no data at all. It is what a team
  gets until it has enough history, and it is the starting point of the fitted model.
* `CloseModel` — L2-regularised logistic regression, fitted by Newton's method in pure Python.
  The prior's log-odds is one of its inputs and the penalty pulls that weight toward 1 and all
  other weights toward 0: with little data the model *is* the prior, and each extra deal moves
  it only as far as the evidence supports. Below `MIN_WON` won and `MIN_LOST` lost deals the
  model is not fitted at all and predicts the prior.

Features (see `features_from_history`): stage index 0..6 (线索获取 初次接触 需求挖掘 方案报价 商务谈判
签约 回款), days_in_stage, expected_days, followups_last_14d, days_since_last_followup,
intent_last (0-100, from nlp.analyze), intent_trend (points), completeness (0..1).

Evaluation: `generate_histories` simulates deals; `evaluate_time_split` trains on the earlier
part and scores the later part (Brier score, model vs prior, plus a calibration table).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Mapping, Sequence

STAGES = ("线索获取", "初次接触", "需求挖掘", "方案报价", "商务谈判", "签约", "回款")
HORIZON_DAYS = 14
# Typical days a deal spends in each stage when things go normally (a team can override).
DEFAULT_EXPECTED_DAYS = (7, 7, 14, 10, 14, 7, 30)
# A team needs at least this many won and lost deals before its own model replaces the prior.
MIN_WON = 15
MIN_LOST = 15

FEATURES = ("stage", "days_in_stage", "expected_days", "followups_last_14d",
            "days_since_last_followup", "intent_last", "intent_trend", "completeness")
NEUTRAL_INTENT = 40


# ------------------------------------------------------------------------------ prior
@dataclass(frozen=True)
class StagePrior:
    """Stage-based prior for "won within 14 days".

    base[k] is the chance for a deal that sits in stage k *on schedule* and was followed up in
    the last two weeks. Numbers follow the usual funnel shape (each stage roughly doubles the
    odds; most leads never close, a deal in 签约 usually signs within two weeks) and are
    deliberately conservative; a team replaces them with its own history via CloseModel.

    Two adjustments, both multiplicative on the odds:
    * overdue — every `expected_days` spent beyond the expected time in the stage multiplies
      the odds by `overdue_factor` (stalled deals rarely close soon);
    * silence — no follow-up for more than `silence_days` multiplies the odds by
      `silence_factor`.
    """
    base: tuple[float, ...] = (0.01, 0.03, 0.06, 0.12, 0.25, 0.55, 0.70)
    overdue_factor: float = 0.5
    silence_days: float = 14
    silence_factor: float = 0.5
    names: tuple[str, ...] = STAGES
    expected: tuple[float, ...] = DEFAULT_EXPECTED_DAYS

    @classmethod
    def from_config(cls, config) -> "StagePrior":
        """A team's own funnel: each configured stage's `close_prior`, `expected_days`, `name`."""
        stages = list(getattr(config, "stages", []) or [])
        if not stages:
            return cls()
        return cls(base=tuple(float(getattr(s, "close_prior", 0.1)) for s in stages),
                   names=tuple(str(getattr(s, "name", i)) for i, s in enumerate(stages)),
                   expected=tuple(float(getattr(s, "expected_days", 7)) for s in stages))

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
                          followups: Iterable[datetime] = (),
                          intent_scores: Sequence[int | float] = (),
                          completeness: float = 0.0,
                          expected_days: float | None = None) -> dict[str, float]:
    """Feature dict for one open deal as of `now`.

    followups: when the rep followed up (calls, visits, messages logged);
    intent_scores: nlp.analyze scores of the customer's chats, oldest first;
    completeness: share of the stage's required fields filled in (0..1).
    """
    index = _stage_index(stage)
    dates = sorted(d for d in followups if d <= now)
    recent = [d for d in dates if (now - d).days < HORIZON_DAYS]
    last_contact = dates[-1] if dates else stage_entered_at
    scores = [float(s) for s in intent_scores]
    return {
        "stage": float(index),
        "days_in_stage": max(0.0, (now - stage_entered_at).total_seconds() / 86400),
        "expected_days": float(expected_days or DEFAULT_EXPECTED_DAYS[index]),
        "followups_last_14d": float(len(recent)),
        "days_since_last_followup": max(0.0, (now - last_contact).total_seconds() / 86400),
        "intent_last": scores[-1] if scores else float(NEUTRAL_INTENT),
        "intent_trend": _trend(scores),
        "completeness": min(1.0, max(0.0, float(completeness))),
    }


def _trend(scores: list[float]) -> float:
    """Last score minus the average of the ones before it (0 with fewer than two)."""
    if len(scores) < 2:
        return 0.0
    earlier = scores[-4:-1]
    return scores[-1] - sum(earlier) / len(earlier)


# -------------------------------------------------------------------------- model
# Model inputs: the prior's log-odds first, then the features scaled to comparable ranges.
_INPUT_NAMES = ("prior", "stage", "overdue", "followups", "silence", "intent", "trend", "completeness")


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
        max(-50.0, min(50.0, float(features.get("intent_trend", 0)))) / 50,
        float(features.get("completeness", 0)),
    ]


@dataclass
class CloseModel:
    """Regularised logistic regression on top of the stage prior (see module docstring)."""
    prior: StagePrior = field(default_factory=StagePrior)
    l2: float = 3.0
    min_won: int = MIN_WON
    min_lost: int = MIN_LOST
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
        matrix = [_inputs(r, self.prior) for r in labelled]
        labels = [1.0 if r["won_14d"] else 0.0 for r in labelled]
        self._standardize(matrix)
        scaled = [self._scale(x) for x in matrix]
        self.bias, self.weights = _newton_logistic(scaled, labels, self._targets(), self.l2)
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
        "trend": f"意向变化 {f.get('intent_trend', 0):+.0f} 分",
        "completeness": f"资料完整度 {f.get('completeness', 0):.0%}",
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


def _newton_logistic(x: list[list[float]], y: list[float], targets: list[float],
                     l2: float, iterations: int = 25) -> tuple[float, list[float]]:
    """Minimise log-loss + l2/2 · ||w − targets||² (bias unpenalised) by Newton's method."""
    d = len(x[0])
    w = [0.0] + list(targets)            # parameter 0 is the bias
    rows = [[1.0] + row for row in x]
    for _ in range(iterations):
        grad = [0.0] * (d + 1)
        hess = [[0.0] * (d + 1) for _ in range(d + 1)]
        for row, label in zip(rows, y):
            p = _sigmoid(sum(a * b for a, b in zip(w, row)))
            err, curv = p - label, max(p * (1 - p), 1e-9)
            for i in range(d + 1):
                grad[i] += err * row[i]
                ci = curv * row[i]
                hess_i = hess[i]
                for j in range(i + 1):
                    hess_i[j] += ci * row[j]
        for i in range(d + 1):
            for j in range(i):
                hess[j][i] = hess[i][j]
        for i in range(1, d + 1):
            grad[i] += l2 * (w[i] - targets[i - 1])
            hess[i][i] += l2
        step = _solve(hess, grad)
        w = [a - b for a, b in zip(w, step)]
        if max(abs(s) for s in step) < 1e-6:
            break
    return w[0], w[1:]


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (the systems here are 9×9)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        if abs(m[col][col]) < 1e-12:
            continue
        for r in range(col + 1, n):
            factor = m[r][col] / m[col][col]
            if factor:
                for c in range(col, n + 1):
                    m[r][c] -= factor * m[col][c]
    out = [0.0] * n
    for r in range(n - 1, -1, -1):
        if abs(m[r][r]) < 1e-12:
            continue
        out[r] = (m[r][n] - sum(m[r][c] * out[c] for c in range(r + 1, n))) / m[r][r]
    return out


# --------------------------------------------------------------------- best hour
def best_contact_hour(reply_times: Iterable[datetime | int], min_replies: int = 3,
                      half_life_days: float = 30.0) -> int | None:
    """The hour (0-23) the customer most often replies at, recent replies weighing more.

    Neighbouring hours share half their weight (a 10:55 and an 11:05 reply are the same
    habit). None with fewer than `min_replies` replies: too little to tell.
    """
    stamps = [t for t in reply_times if t is not None]
    if len(stamps) < min_replies:
        return None
    datetimes = [t for t in stamps if isinstance(t, datetime)]
    latest = max(datetimes) if datetimes else None
    weights = [0.0] * 24
    for t in stamps:
        hour = t.hour if isinstance(t, datetime) else int(t) % 24
        age = (latest - t).total_seconds() / 86400 if isinstance(t, datetime) and latest else 0.0
        weight = 0.5 ** (age / half_life_days)
        weights[hour] += weight
        weights[(hour - 1) % 24] += weight / 2
        weights[(hour + 1) % 24] += weight / 2
    return max(range(24), key=lambda h: (weights[h], -h))


# ------------------------------------------------------------ synthetic histories
def generate_histories(n: int, seed: int = 0, start: datetime = datetime(2023, 1, 2),
                       span_days: int = 540) -> list[dict]:
    """Weekly snapshots of `n` simulated deals, with the label known (won within 14 days).

    Each deal has a hidden quality. Better deals move through stages faster, get more
    follow-ups, higher and rising intent scores and more complete records; at every stage a
    deal may be lost or stall. This is the structure the model is meant to pick up, with noise.
    """
    rng = random.Random(seed)
    rows: list[dict] = []
    end = start + timedelta(days=span_days)
    for deal_id in range(n):
        opened = start + timedelta(days=rng.uniform(0, span_days - 60))
        rows.extend(_simulate_deal(deal_id, opened, end, rng))
    rows.sort(key=lambda r: r["as_of"])
    return rows


def _simulate_deal(deal_id: int, opened: datetime, end: datetime, rng: random.Random) -> list[dict]:
    quality = rng.gauss(0, 1)
    path = _stage_path(quality, opened, rng)      # [(stage, entered, left)], plus outcome
    outcome, closed_at = path[-1][3], path[-1][2]
    followups = _followup_dates(quality, opened, min(closed_at, end), rng)
    rows = []
    day = opened + timedelta(days=rng.uniform(1, 7))
    intents: list[float] = []
    while day < min(closed_at, end - timedelta(days=HORIZON_DAYS)):
        stage, entered = next((s, e) for s, e, left, _ in path if e <= day < left)
        intents.append(_intent_at(quality, stage, rng))
        features = features_from_history(
            stage=stage, stage_entered_at=entered, now=day,
            followups=[f for f in followups if f <= day], intent_scores=intents,
            completeness=_completeness(quality, stage, rng))
        won_soon = outcome == "won" and day < closed_at <= day + timedelta(days=HORIZON_DAYS)
        rows.append({"deal_id": deal_id, "as_of": day, **features,
                     "won_14d": int(won_soon), "outcome": outcome})
        day += timedelta(days=7)
    return rows


def _stage_path(quality: float, opened: datetime, rng: random.Random):
    """Stages visited with entry/exit times; the last item carries the outcome."""
    path = []
    entered = opened
    for stage in range(5 + 1):                     # 线索获取 … 签约; winning = leaving 签约
        expected = DEFAULT_EXPECTED_DAYS[stage]
        days = expected * math.exp(rng.gauss(-0.25 * quality, 0.5))
        left = entered + timedelta(days=days)
        advance = _sigmoid(1.0 + 0.35 * stage + 1.3 * quality + rng.gauss(0, 0.3))
        if rng.random() > advance:
            stall = timedelta(days=rng.uniform(0, 3 * expected))
            path.append((stage, entered, left + stall, "lost"))
            return path
        outcome = "won" if stage == 5 else "open"
        path.append((stage, entered, left, outcome))
        entered = left
    return path


def _followup_dates(quality: float, opened: datetime, until: datetime, rng: random.Random):
    rate = 0.25 * math.exp(0.45 * quality)          # follow-ups per day
    dates, day = [], opened
    while True:
        day += timedelta(days=rng.expovariate(rate))
        if day >= until:
            return dates
        dates.append(day)


def _intent_at(quality: float, stage: int, rng: random.Random) -> float:
    return max(0.0, min(100.0, 42 + 14 * quality + 5 * stage + rng.gauss(0, 12)))


def _completeness(quality: float, stage: int, rng: random.Random) -> float:
    return max(0.0, min(1.0, 0.35 + 0.08 * stage + 0.08 * quality + rng.gauss(0, 0.1)))


# ---------------------------------------------------------------------- evaluation
def evaluate_time_split(rows: Sequence[Mapping], train_fraction: float = 0.7,
                        model: CloseModel | None = None) -> dict:
    """Train on the earliest snapshots, test on the latest; Brier score vs the prior.

    A training snapshot is used only if its 14-day label was already known at the cut-off, so
    no information from the test period leaks into training.
    """
    ordered = sorted(rows, key=lambda r: r["as_of"])
    cutoff = ordered[int(len(ordered) * train_fraction)]["as_of"]
    train = [r for r in ordered if r["as_of"] + timedelta(days=HORIZON_DAYS) <= cutoff]
    test = [r for r in ordered if r["as_of"] >= cutoff]
    model = (model or CloseModel()).fit(train)
    predicted = [model.predict(r)[0] for r in test]
    prior = [model.prior.probability(r) for r in test]
    labels = [float(r["won_14d"]) for r in test]
    return {
        "brier": round(brier(predicted, labels), 4),
        "brier_prior": round(brier(prior, labels), 4),
        "base_rate": round(sum(labels) / len(labels), 4) if labels else 0.0,
        "n_train": len(train),
        "n_test": len(test),
        "uses_prior": model.uses_prior,
        "calibration": calibration_table(predicted, labels),
    }


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


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))
