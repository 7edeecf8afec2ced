"""公海: customers without follow-up return to the team pool; owners are warned first."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from core.texts import t
from handlers import views
from services import outbox
from services.core import Core
from services.pool import release_due, warn_due
from storage.models import Team


def recycle(session: Session, core: Core, team: Team, slot: datetime) -> int:
    now = core.clock.now()
    count = 0
    for customer, owner in warn_due(session, core.config, team.id, now):
        text = t("pool_warning", owner.language, name=customer.name,
                 when=views.fmt_local(customer.protected_until, core.config, owner.language, with_time=False, now=now),
                 days=max(1, (now - (customer.last_followup_at or customer.created_at)).days))
        if outbox.enqueue(session, owner.tg_id, "notice", {"text": text}, f"poolwarn:{customer.id}:{customer.protected_until:%Y%m%d}", now):
            count += 1
    for customer, owner in release_due(session, core.config, team.id, now):
        if owner is None or not owner.active:
            continue
        text = t("pool_released", owner.language, name=customer.name)
        if outbox.enqueue(session, owner.tg_id, "notice", {"text": text}, f"poolrel:{customer.id}:{now:%Y%m%d}", now):
            count += 1
    return count
