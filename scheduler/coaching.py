"""The managers' weekly 复盘 (issue 16): one message per manager at [coaching] review_day/review_time."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from core.clock import to_local
from services import outbox
from services import pilot as pilot_svc
from services import review as review_svc
from services import review_text
from services.core import Core
from services.users import managers_of
from storage.models import Team


_PILOTS: dict[str, list] = {}  # slot → services.pilot.impacts (the same for every team of that slot)


def _pilots(session: Session, core: Core, slot: datetime) -> list:
    key = slot.isoformat()
    if key not in _PILOTS:
        _PILOTS.clear()
        _PILOTS[key] = pilot_svc.impacts(session, core.config, slot)
    return _PILOTS[key]


def review_job(session: Session, core: Core, team: Team, slot: datetime) -> int:
    managers = managers_of(session, team.id)
    if not managers:
        return 0
    review = review_svc.build(session, core.config, team.id, slot, pilots=_pilots(session, core, slot))
    day = to_local(slot, core.config.tz).date().isoformat()
    count = 0
    for manager in managers:
        text = review_text.render(core.config, review, manager.language)
        if outbox.enqueue(session, manager.tg_id, "digest", {"text": text}, f"review:{manager.id}:{day}", core.clock.now()):
            count += 1
    return count
