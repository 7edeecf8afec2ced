"""Close model on simulated histories. Run: python -m bench.close [--deals N] [--seeds 1,2,3]

Histories come from nlp.close_sim: a latent deal-health process with per-stage hazards, where
follow-ups, intent scores and field filling are noisy consequences of the hidden health — not the
model's features. Each seed: weekly snapshots of N deals over 18 months, the model trained on the
earliest 70 % (labels known at the cut-off) and scored on the rest (nlp.predict.evaluate_time_split).

Figures (means over the seeds, same rows for every line):

* close_brier_model — the fitted model on the later snapshots;
* close_brier_prior — the playbook's stage prior (what a team without history gets);
* close_brier_base_rate — the training base rate for everyone;
* close_calibration_error_model / _prior — expected calibration error (10 bins);
* close_brier_in_sample_honest / close_brier_in_sample_leak — on the training rows themselves,
  for the honest model and for a variant trained on each deal's FINAL completeness;
* close_brier_leak_time_split — that variant scored on what the card sees each day: it looks
  better in-sample and is worse here.

Then the deployed path (`--db-deals`, default 400, 0 to skip): the first seed's deals written to a
SQLite file as customers, stage changes, follow-up activities, intent records and field history
(the shipped playbook's stages and required fields), read back by services.intel.training_rows and
fitted as services.intel.team_model does:

* close_db_rows, close_db_training_rows_seconds, close_db_fit_seconds — the first card of the day's work;
* close_db_brier_model / close_db_brier_prior / close_db_brier_base_rate — the same time split on
  the rows the database gives (they should tell the same story as the lines above).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from bench.common import report
from nlp.close_sim import generate_histories
from nlp.predict import evaluate_time_split


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=400)
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument("--db-deals", type=int, default=400)
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    keys = ("brier", "brier_prior", "brier_base_rate", "calibration_error", "calibration_error_prior",
            "brier_in_sample", "n_train", "n_test", "base_rate")
    honest_sum = dict.fromkeys(keys, 0.0)
    leak_sum = dict.fromkeys(("brier", "brier_in_sample"), 0.0)
    wins = 0
    started = time.perf_counter()
    for seed in seeds:
        honest_rows = generate_histories(args.deals, seed=seed)
        leak_rows = generate_histories(args.deals, seed=seed, leak_final_completeness=True)
        honest = evaluate_time_split(honest_rows)
        leak = evaluate_time_split(leak_rows, serving_rows=honest_rows)
        for k in keys:
            honest_sum[k] += honest[k]
        for k in leak_sum:
            leak_sum[k] += leak[k]
        wins += honest["brier"] < honest["brier_prior"] and honest["brier"] < honest["brier_base_rate"]
    n = len(seeds)
    report("close_seeds", n)
    report("close_deals_per_seed", args.deals)
    report("close_rows_train_mean", round(honest_sum["n_train"] / n))
    report("close_rows_test_mean", round(honest_sum["n_test"] / n))
    report("close_test_base_rate", honest_sum["base_rate"] / n)
    report("close_brier_model", honest_sum["brier"] / n)
    report("close_brier_prior", honest_sum["brier_prior"] / n)
    report("close_brier_base_rate", honest_sum["brier_base_rate"] / n)
    report("close_calibration_error_model", honest_sum["calibration_error"] / n)
    report("close_calibration_error_prior", honest_sum["calibration_error_prior"] / n)
    report("close_brier_in_sample_honest", honest_sum["brier_in_sample"] / n)
    report("close_brier_in_sample_leak", leak_sum["brier_in_sample"] / n)
    report("close_brier_leak_time_split", leak_sum["brier"] / n)
    report("close_seeds_model_beats_prior_and_base_rate", wins)
    if args.db_deals:
        for name, value in db_figures(args.db_deals, seeds[0]).items():
            report(name, value)
    report("close_bench_seconds", time.perf_counter() - started)
    return 0


def db_figures(n_deals: int, seed: int) -> dict:
    from core.config import load_config
    from nlp.close_sim import simulate_deals
    from nlp.predict import CloseModel, StagePrior
    from services import intel
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models import Activity, Customer, FieldHistory, IntentRecord, StageChange, Team

    config = load_config()
    stages = tuple((s.name, s.expected_days, s.close_prior) for s in config.stages)
    start, span = datetime(2023, 1, 2), 540
    end = start + timedelta(days=span)
    deals = simulate_deals(n_deals, seed, start, span, stages=stages, fields=tuple(intel.wanted_fields(config)))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'close.db'}"
        upgrade(url)
        db = Database(url)

        def load(session):
            team = Team(name="bench", created_at=start)
            session.add(team)
            session.flush()
            for deal in deals:
                entered, index = deal.stages[-1]
                c = Customer(team_id=team.id, name=f"客户{deal.deal_id}", stage=config.stages[index].id,
                             status=deal.outcome, stage_entered_at=entered, created_at=deal.opened_at,
                             updated_at=deal.closed_at or end, custom={})
                session.add(c)
                session.flush()
                previous = None
                for at, stage in deal.stages:
                    session.add(StageChange(customer_id=c.id, from_stage=previous, to_stage=config.stages[stage].id, at=at))
                    previous = config.stages[stage].id
                if deal.closed_at is not None:
                    session.add(StageChange(customer_id=c.id, from_stage=previous, to_stage=deal.outcome, at=deal.closed_at))
                session.add_all(Activity(customer_id=c.id, kind="followup", at=at) for at in deal.followups)
                session.add_all(IntentRecord(customer_id=c.id, score=int(score), level="medium", at=at)
                                for at, score in deal.intents)
                session.add_all(FieldHistory(customer_id=c.id, field=name, value="x" if filled else "", source="bench", at=at)
                                for at, name, filled in deal.field_events or [])
            return team.id
        team_id = db.call(load)
        began = time.perf_counter()
        rows = db.call(intel.training_rows, config, team_id, end)
        read_s = time.perf_counter() - began
        began = time.perf_counter()
        CloseModel(prior=StagePrior.from_config(config)).fit(rows)
        fit_s = time.perf_counter() - began
        result = evaluate_time_split(rows, model=CloseModel(prior=StagePrior.from_config(config)))
        db.close()
    return {"close_db_deals": n_deals, "close_db_rows": len(rows), "close_db_training_rows_seconds": read_s,
            "close_db_fit_seconds": fit_s, "close_db_brier_model": result["brier"],
            "close_db_brier_prior": result["brier_prior"], "close_db_brier_base_rate": result["brier_base_rate"],
            "close_db_calibration_error_model": result["calibration_error"],
            "close_db_calibration_error_prior": result["calibration_error_prior"]}


if __name__ == "__main__":
    sys.exit(main())
