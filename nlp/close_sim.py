"""Simulated deal histories for checking the close model — generated WITHOUT its features.

The model (nlp.predict) reads stage, days in stage, follow-ups, intent scores and completeness.
If the simulator produced those numbers from a formula in the same terms, a fitted model would
only rediscover the formula. Here they are noisy *consequences* of something the model never
sees:

* every deal has a latent health h(t), a daily AR(1) process (h0 ~ N(0, 1), persistence 0.97,
  shocks N(0, 0.25)) — the customer's real appetite, budget and politics;
* each day it may advance a stage (hazard = 1 / expected_days · e^(0.9·h)) or be lost (hazard per
  stage · e^(−1.1·h)); leaving the last stage is a win; deals that neither advance nor die stay
  open until the simulation ends;
* follow-ups arrive as a Poisson process whose rate grows with h and with the rep's diligence
  (a per-deal factor independent of h — busy reps chase good deals less);
* some reps paste chats, some never do (intent missing); a pasted chat's score is
  50 + 18·h + N(0, 15), clipped to 0-100 — what nlp.analyze would read, with its errors;
* fields get filled now and then (at creation, a few; afterwards at a rate that grows a little
  with h), and when a deal is WON the remaining fields (contract, payment) are filled that day:
  the record's final completeness therefore tells the outcome — exactly the leak the honest
  features must avoid. One deal in ten has no recorded field history.

What comes out is raw, time-stamped history (stage changes, follow-ups, (at, score) intents,
(at, field, filled) field events), turned into rows by the same `features_from_history` the
database path uses.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from nlp.predict import DEFAULT_STAGES, HORIZON_DAYS, features_from_history

FIELDS = ("name", "phone", "source", "company", "industry", "budget", "decision_maker", "contract_no", "payment_terms")
# Per-stage daily hazard of losing a deal of average health (early leads die most).
_LOSS = (0.07, 0.06, 0.04, 0.03, 0.02, 0.012, 0.006)


@dataclass
class Deal:
    deal_id: int
    opened_at: datetime
    stages: list[tuple[datetime, int]] = field(default_factory=list)
    followups: list[datetime] = field(default_factory=list)
    intents: list[tuple[datetime, float]] = field(default_factory=list)
    field_events: list[tuple[datetime, str, bool]] | None = field(default_factory=list)
    outcome: str = "open"
    closed_at: datetime | None = None


def simulate_deals(n: int, seed: int = 0, start: datetime = datetime(2023, 1, 2), span_days: int = 540,
                   stages=DEFAULT_STAGES, fields: tuple[str, ...] = FIELDS) -> list[Deal]:
    """`fields`: the record's fields; the first five are the ones a new lead may come with."""
    rng = random.Random(seed)
    end = start + timedelta(days=span_days)
    return [_deal(i, start + timedelta(days=rng.uniform(0, span_days - 30)), end, stages, fields, rng)
            for i in range(n)]


def _deal(deal_id: int, opened: datetime, end: datetime, stages, fields: tuple[str, ...], rng: random.Random) -> Deal:
    deal = Deal(deal_id, opened, stages=[(opened, 0)])
    health = rng.gauss(0, 1)
    diligence = math.exp(rng.gauss(0, 0.5))
    pastes_chats = rng.random() < 0.6
    filled = set(rng.sample(fields[:5], rng.randint(2, 4)))
    deal.field_events = [(opened, name, True) for name in sorted(filled)]
    stage, day = 0, opened
    while day < end:
        day += timedelta(days=1)
        health = 0.97 * health + rng.gauss(0, 0.25)
        moment = day + timedelta(hours=rng.uniform(9, 19))
        if rng.random() < 0.15 * diligence * math.exp(0.5 * health):
            deal.followups.append(moment)
        if pastes_chats and rng.random() < 0.06 * math.exp(0.4 * health):
            deal.intents.append((moment, max(0.0, min(100.0, round(50 + 18 * health + rng.gauss(0, 15))))))
        if rng.random() < 0.03 * math.exp(0.3 * health):
            missing = [f for f in fields if f not in filled]
            if missing:
                name = rng.choice(missing)
                filled.add(name)
                deal.field_events.append((moment, name, True))
        expected = stages[stage][1]
        if rng.random() < 1 - math.exp(-math.exp(0.9 * health) / expected):
            if stage == len(stages) - 1:
                deal.outcome, deal.closed_at = "won", moment
                deal.field_events.extend((moment, name, True) for name in fields if name not in filled)
                break
            stage += 1
            deal.stages.append((moment, stage))
        elif rng.random() < _LOSS[min(stage, len(_LOSS) - 1)] * math.exp(-1.1 * health):
            deal.outcome, deal.closed_at = "lost", moment
            break
    if rng.random() < 0.1:
        deal.field_events = None              # this record's field history was never kept
    return deal


def snapshot_rows(deals: list[Deal], end: datetime, step_days: int = 7, leak_final_completeness: bool = False,
                  stages=DEFAULT_STAGES, seed: int = 0) -> list[dict]:
    """Weekly snapshots of each deal while open, labelled "won within 14 days" (only days whose
    14 days have passed by `end`). `leak_final_completeness`: the leak — completeness as it was
    when the deal's history ended, not as it was that day."""
    rng = random.Random(seed)
    names = tuple(name for name, _, _ in stages)
    rows: list[dict] = []
    for deal in deals:
        final = features_from_history(stage=0, stage_entered_at=deal.opened_at, now=end,
                                      field_events=deal.field_events, wanted_fields=FIELDS, names=names)
        t = deal.opened_at + timedelta(days=rng.uniform(1, step_days))
        stop = min(deal.closed_at or end, end - timedelta(days=HORIZON_DAYS))
        while t < stop:
            entered, stage = [s for s in deal.stages if s[0] <= t][-1]
            row = features_from_history(stage=stage, stage_entered_at=entered, now=t, opened_at=deal.opened_at,
                                        followups=deal.followups, intents=deal.intents,
                                        field_events=deal.field_events, wanted_fields=FIELDS,
                                        expected_days=stages[stage][1], names=names)
            if leak_final_completeness:
                row["completeness"], row["completeness_missing"] = final["completeness"], final["completeness_missing"]
            won = deal.outcome == "won" and t < deal.closed_at <= t + timedelta(days=HORIZON_DAYS)
            rows.append({"deal_id": deal.deal_id, "as_of": t, **row, "won_14d": int(won),
                         "outcome": deal.outcome})
            t += timedelta(days=step_days)
    rows.sort(key=lambda r: (r["as_of"], r["deal_id"]))
    return rows


def generate_histories(n: int, seed: int = 0, start: datetime = datetime(2023, 1, 2), span_days: int = 540,
                       leak_final_completeness: bool = False) -> list[dict]:
    """Rows of `n` simulated deals (see module docstring), sorted by snapshot day."""
    deals = simulate_deals(n, seed, start, span_days)
    return snapshot_rows(deals, start + timedelta(days=span_days), leak_final_completeness=leak_final_completeness,
                         seed=seed)
