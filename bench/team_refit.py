"""The team's own reading (issue 13 item 6) before and after its refit, on a simulated team.

Run: python -m bench.team_refit [--trade building,insurance] [--agree] [--holdout]

--holdout: the team's chats are the 110 hand-written holdout chats with their own labels (material
the shipped model is weakest on); no simulated rule.

A team sells in the given trades (the corpus' sales chats of those trades, in id order as time)
and labels by its own rule, which the shipped model does not share (team_label): lukewarm chats
are "low" for it, and a hot chat with an open objection is "medium" until the objection is
handled. The earlier 60 % of its chats are labelled and refitted on (nlp/team_model.refit, the
code the daily job runs); the later 40 % are read by the shipped model and by the team's model.

Prints one `figure: value` a line:
* team_refit_labels            — labels the refit used
* team_refit_acc_before/after  — level accuracy on the team's later chats (shipped / team model)
* team_refit_logloss_before/after — the same as log-loss (shipped three-level probabilities from
  its P(high), see nlp/team_model.shipped_probs)
* team_refit_active            — whether the refit's own check (cross-validated on the labels)
  switched the team's model on
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "nlp" / "data" / "corpus.jsonl"
DEFAULT_TRADES = ("building", "insurance")
SPLIT = 0.6


def team_label(record: dict) -> str:
    """The simulated team's rule: stricter than the corpus on what counts as interest."""
    intent = record["intent"] if record["intent"] in ("high", "medium", "low") else "low"
    if intent == "medium":
        return "low"
    if intent == "high" and record.get("objections"):
        return "medium"
    return intent


def holdout_chats() -> list[dict]:
    """The project's hand-written holdout chats (another hand than the corpus), in file order."""
    root = Path(__file__).resolve().parents[1] / "tests" / "data"
    return [json.loads(line) for name in ("nlp_holdout.jsonl", "nlp_holdout2.jsonl")
            for line in (root / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def team_chats(trades=DEFAULT_TRADES) -> list[dict]:
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return sorted((r for r in rows if r.get("trade") in trades and r.get("kind", "sales") == "sales"), key=lambda r: r["id"])


def read(record: dict):
    """The shipped analysis of one chat, as a card gets it (services.intel.read)."""
    from nlp.train import call_args
    from services import intel
    args = call_args(record)
    analysis, _ = intel.read(record["text"], list(args["rep_names"]), {}, args["forward_origin"])
    return analysis


def main(argv: list[str]) -> None:
    from bench.common import report
    from nlp import team_model
    from services.feedback import FEATURES_ATTR

    trades = tuple(argv[argv.index("--trade") + 1].split(",")) if "--trade" in argv else DEFAULT_TRADES
    # --agree: a team that labels like the corpus (the shipped model's own teacher): the refit's
    # check should leave the shipped model on, or at least not make the team's chats worse.
    label = (lambda r: r["intent"] if r["intent"] in ("high", "medium", "low") else "low") if "--agree" in argv else team_label
    if "--holdout" in argv:   # a team whose labels are the hand-written sets' own (true) labels
        chats = holdout_chats()
        label = lambda r: r["intent"] if r["intent"] in ("high", "medium", "low") else "low"  # noqa: E731
    else:
        chats = team_chats(trades)
    rows, targets = [], []
    for record in chats:
        analysis = read(record)
        if analysis is None or analysis.kind != "sales":
            continue
        rows.append(getattr(analysis, FEATURES_ATTR))
        targets.append(label(record))
    cut = int(len(rows) * SPLIT)
    train, test = (rows[:cut], targets[:cut]), (rows[cut:], targets[cut:])
    agreed = [f["ship"] == y for f, y in zip(*train)]
    result = team_model.refit(*train, agreed)
    report("team_refit_labels", len(train[0]))
    report("team_refit_test_chats", len(test[0]))
    report("team_refit_acc_before", team_model.shipped_accuracy(*test))
    report("team_refit_acc_after", team_model.accuracy(result.model, *test) if result.model else team_model.shipped_accuracy(*test))
    report("team_refit_logloss_before", team_model.log_loss(None, *test))
    report("team_refit_logloss_after", team_model.log_loss(result.model, *test) if result.model else team_model.log_loss(None, *test))
    report("team_refit_cv_acc_on_labels", result.team_acc)
    report("team_refit_shipped_acc_on_labels", result.shipped_acc)
    report("team_refit_active", int(result.active))


if __name__ == "__main__":
    main(sys.argv[1:])
