"""Close probability (prior, small-data model, time-split evaluation) on simulated histories."""
from datetime import datetime, timedelta

import pytest

from nlp.close_sim import generate_histories
from nlp.predict import (HORIZON_DAYS, NEUTRAL_INTENT, STAGES, CloseModel, StagePrior, evaluate_time_split,
                         features_from_history)

NOW = datetime(2024, 6, 1, 12, 0)


@pytest.fixture(scope="module")
def histories():
    return generate_histories(300, seed=7)


def test_generated_histories_are_reproducible(histories):
    again = generate_histories(300, seed=7)
    assert [(r["deal_id"], r["as_of"], r["won_14d"]) for r in again] == \
           [(r["deal_id"], r["as_of"], r["won_14d"]) for r in histories]
    assert 0.03 < sum(r["won_14d"] for r in histories) / len(histories) < 0.4
    assert any(r["intent_missing"] for r in histories) and any(not r["intent_missing"] for r in histories)
    assert any(r["completeness_missing"] for r in histories)


def test_time_split_has_no_leakage(histories):
    ordered = sorted(histories, key=lambda r: r["as_of"])
    cutoff = ordered[int(len(ordered) * 0.7)]["as_of"]
    result = evaluate_time_split(histories)
    train = [r for r in ordered if r["as_of"] + timedelta(days=HORIZON_DAYS) <= cutoff]
    assert result["n_train"] == len(train)


def test_prior_is_used_with_few_closed_deals(histories):
    deals = sorted({r["deal_id"] for r in histories})[:12]
    sample = [r for r in histories if r["deal_id"] in deals]
    model = CloseModel().fit(sample)
    assert model.uses_prior
    probability, reasons = model.predict(sample[0])
    assert probability == pytest.approx(StagePrior().probability(sample[0]))
    assert any("基准" in r for r in reasons)


def test_open_deals_count_as_neither_won_nor_lost():
    rows = [{"deal_id": i, "won_14d": 0, "outcome": "open"} for i in range(40)]
    model = CloseModel().fit(rows)
    assert (model.n_won, model.n_lost) == (0, 0) and model.uses_prior


def test_fitted_model_explains_itself(histories):
    model = CloseModel().fit(histories)
    assert not model.uses_prior and model.n_won >= 15 and model.n_lost >= 15
    probability, reasons = model.predict(histories[-1])
    assert 0 < probability < 1
    assert 1 <= len(reasons) <= 4 and all(isinstance(r, str) for r in reasons)


def test_stage_prior_shape():
    prior = StagePrior()
    base = {"days_in_stage": 3, "expected_days": 10, "days_since_last_followup": 2}
    chances = [prior.probability({**base, "stage": s}) for s in range(len(STAGES))]
    assert chances == sorted(chances)
    on_time = prior.probability({**base, "stage": 4})
    assert prior.probability({**base, "stage": 4, "days_in_stage": 30}) < on_time
    assert prior.probability({**base, "stage": 4, "days_since_last_followup": 20}) < on_time


def test_features_from_history_is_point_in_time():
    opened = NOW - timedelta(days=30)
    history = dict(
        stage="商务谈判", stage_entered_at=NOW - timedelta(days=9), opened_at=opened,
        followups=[NOW - timedelta(days=d) for d in (1, 5, 20)] + [NOW + timedelta(days=2)],
        intents=[(NOW - timedelta(days=d), s) for d, s in ((20, 40), (15, 50), (10, 60), (2, 80))] + [(NOW + timedelta(days=1), 10)],
        field_events=[(opened, "name", True), (opened, "phone", True), (NOW - timedelta(days=3), "phone", False),
                      (NOW - timedelta(days=1), "budget", True), (NOW + timedelta(days=3), "source", True)],
        wanted_fields=["name", "phone", "budget", "source"])
    features = features_from_history(now=NOW, **history)
    assert features["stage"] == 4 and features["days_in_stage"] == pytest.approx(9)
    assert features["followups_last_14d"] == 2 and features["days_since_last_followup"] == pytest.approx(1)
    assert features["intent_last"] == 80 and features["intent_trend"] == pytest.approx(30)
    assert features["intent_missing"] == 0
    assert features["completeness"] == 0.5 and features["completeness_missing"] == 0   # name, budget: 2 of 4
    assert features["expected_days"] == 10                                           # the shipped playbook's
    earlier = features_from_history(now=NOW - timedelta(days=12), **history)
    assert earlier["intent_last"] == 50 and earlier["completeness"] == 0.5           # name, phone then
    assert earlier["days_since_last_followup"] == pytest.approx(8)


def test_missing_intent_and_history_are_neutral_with_an_indicator():
    features = features_from_history(stage=0, stage_entered_at=NOW - timedelta(days=3), now=NOW)
    assert features["intent_last"] == NEUTRAL_INTENT and features["intent_missing"] == 1
    assert features["intent_trend"] == 0
    assert features["completeness_missing"] == 1
    assert features["days_since_last_followup"] == pytest.approx(3)    # never followed up: since opened


def test_team_stage_priors_and_stage_index_alias():
    from types import SimpleNamespace
    config = SimpleNamespace(stages=[SimpleNamespace(name=n, close_prior=p, expected_days=d)
                                     for n, p, d in (("新线索", 0.02, 5), ("报价", 0.2, 10), ("签约", 0.6, 7))])
    model = CloseModel.default(config)
    assert model.uses_prior
    probability, reasons = model.predict({"stage_index": 1, "days_in_stage": 2, "days_since_last_followup": 1})
    assert probability == pytest.approx(0.2)
    assert "报价" in reasons[0]
    assert CloseModel.default().predict({"stage": "签约"})[0] == pytest.approx(0.8)


def test_a_large_history_is_thinned_evenly(histories):
    full = CloseModel().fit(histories)
    thinned = CloseModel(max_rows=len(histories) // 3).fit(histories)
    assert not thinned.uses_prior and (thinned.n_won, thinned.n_lost) == (full.n_won, full.n_lost)
    p_full, _ = full.predict(histories[-1])
    p_thin, _ = thinned.predict(histories[-1])
    assert p_thin != p_full and abs(p_thin - p_full) < 0.15
