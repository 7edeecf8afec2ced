"""Close probability (prior, small-data model, time-split evaluation) and best contact hour."""
from datetime import datetime, timedelta

import pytest

from nlp.predict import (HORIZON_DAYS, STAGES, CloseModel, StagePrior, best_contact_hour,
                         evaluate_time_split, features_from_history, generate_histories)

NOW = datetime(2024, 6, 1, 12, 0)


@pytest.fixture(scope="module")
def histories():
    return generate_histories(300, seed=7)


def test_generated_histories_are_reproducible(histories):
    again = generate_histories(300, seed=7)
    assert [(r["deal_id"], r["as_of"], r["won_14d"]) for r in again] == \
           [(r["deal_id"], r["as_of"], r["won_14d"]) for r in histories]
    assert 0.03 < sum(r["won_14d"] for r in histories) / len(histories) < 0.4


@pytest.mark.parametrize("seed", [7, 11])
def test_model_beats_the_prior_on_a_time_split(seed):
    result = evaluate_time_split(generate_histories(300, seed=seed))
    assert not result["uses_prior"]
    assert result["n_train"] > 200 and result["n_test"] > 100
    assert result["brier"] < result["brier_prior"]
    assert result["calibration"] and all(0 <= b["observed"] <= 1 for b in result["calibration"])


def test_time_split_has_no_leakage(histories):
    ordered = sorted(histories, key=lambda r: r["as_of"])
    cutoff = ordered[int(len(ordered) * 0.7)]["as_of"]
    result = evaluate_time_split(histories)
    train = [r for r in ordered if r["as_of"] + timedelta(days=HORIZON_DAYS) <= cutoff]
    assert result["n_train"] == len(train)


def test_prior_is_used_with_few_closed_deals(histories):
    few_deals = {r["deal_id"] for r in histories[:2000]}
    sample = [r for r in histories if r["deal_id"] in sorted(few_deals)[:12]]
    model = CloseModel().fit(sample)
    assert model.uses_prior
    probability, reasons = model.predict(sample[0])
    assert probability == pytest.approx(StagePrior().probability(sample[0]))
    assert any("基准" in r for r in reasons)


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


def test_features_from_history():
    features = features_from_history(
        stage="商务谈判", stage_entered_at=NOW - timedelta(days=9), now=NOW,
        followups=[NOW - timedelta(days=d) for d in (1, 5, 20)], intent_scores=[40, 50, 60, 80],
        completeness=0.75)
    assert features["stage"] == 4 and features["days_in_stage"] == pytest.approx(9)
    assert features["followups_last_14d"] == 2 and features["days_since_last_followup"] == pytest.approx(1)
    assert features["intent_last"] == 80 and features["intent_trend"] == pytest.approx(30)
    assert features["completeness"] == 0.75 and features["expected_days"] == 14


def test_best_contact_hour():
    evenings = [datetime(2024, 5, d, 20, 15) for d in range(1, 6)] + [datetime(2024, 5, 6, 9, 0)]
    assert best_contact_hour(evenings) == 20
    assert best_contact_hour(evenings[:2]) is None
    recent_mornings = [datetime(2024, 1, d, 20) for d in range(1, 4)] + \
                      [datetime(2024, 6, d, 9) for d in range(1, 4)]
    assert best_contact_hour(recent_mornings) == 9
    assert best_contact_hour([21, 21, 22, 8]) == 21


def test_team_stage_priors_and_stage_index_alias():
    from types import SimpleNamespace
    config = SimpleNamespace(stages=[SimpleNamespace(name=n, close_prior=p, expected_days=d)
                                     for n, p, d in (("新线索", 0.02, 5), ("报价", 0.2, 10), ("签约", 0.6, 7))])
    model = CloseModel.default(config)
    assert model.uses_prior
    probability, reasons = model.predict({"stage_index": 1, "days_in_stage": 2, "days_since_last_followup": 1})
    assert probability == pytest.approx(0.2)
    assert "报价" in reasons[0]
    assert CloseModel.default().predict({"stage": "签约"})[0] == pytest.approx(0.55)
