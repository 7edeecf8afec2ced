"""Daily spot-check round: each manager gets 3-5 risk-weighted customer records with one-tap verdicts."""
from __future__ import annotations

import random
from datetime import datetime

from sqlmodel import Session

from services import incentives as inc
from services import outbox
from services import spotcheck as spot
from services.core import Core
from storage.models import Team


def spot_check_job(session: Session, core: Core, team: Team, slot: datetime) -> int:
    config = core.config
    day = inc.local_date(config, slot).isoformat()
    count = 0
    for manager in inc.managers_of(session, team.id):
        # Seeded per manager and day: a re-run of the same slot draws the same records.
        rng = random.Random(f"{team.id}:{manager.id}:{day}")
        drawn = spot.draw(session, config, team.id, manager, slot, rng)
        for index, (check, cand) in enumerate(drawn, 1):
            text = spot.card_text(session, config, check, cand.customer, cand.risks, manager.language, index, len(drawn), slot)
            payload = {"text": text, "reply_markup": {"inline_keyboard": spot.card_buttons(check.id, manager.language)}}
            if outbox.enqueue(session, manager.tg_id, "spotcheck", payload, f"spot:{check.id}", core.clock.now()):
                count += 1
    return count
