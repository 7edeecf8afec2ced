"""The daily refit of each team's intent adjustment from its card labels (services/feedback.py)."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from services import feedback
from services.core import Core
from storage.models import Team

log = logging.getLogger(__name__)


def refit_job(session: Session, core: Core, team: Team, slot: datetime) -> int:
    result = feedback.refit_team(session, team.id, core.clock.now())
    if result.labels:
        log.info("team %s intent refit: %s labels, shipped %.2f, team cv %.2f, %s", team.id, result.labels,
                 result.shipped_acc, result.team_acc, result.reason)
    return 0
