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
"""
from __future__ import annotations

import argparse
import sys
import time

from bench.common import report
from nlp.close_sim import generate_histories
from nlp.predict import evaluate_time_split


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=400)
    parser.add_argument("--seeds", default="1,2,3,4,5")
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
    report("close_bench_seconds", time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
