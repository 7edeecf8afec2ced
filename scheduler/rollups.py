"""The nightly rollup job: yesterday (and any missing closed day of the last month) counted once per
rep, with the day's late changes applied (services/rollups.py), and the open customers per owner counted
against the new day's overdue cut (services/owner_load.py).  A per-team slot like every job;
the rollups are company-wide, so the first team's run does the work and the others find it done (the time: scheduler.jobs.ROLLUP_TIME)."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from services import counters, owner_load
from services import rep_stats, rollups
from services.core import Core
from storage.models import Team



def rollup_job(session: Session, core: Core, team: Team, slot: datetime) -> int:
    rollups.nightly(session, core.config, slot)
    owner_load.ensure(session, core.config, rep_stats.day_bounds(core.config, slot)[0])  # today's overdue cut
    counters.fold_all(session)  # the counters' deltas folded into one row per key
    return 0
