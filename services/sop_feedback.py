"""一线反馈: a rep flags a checklist item (没用 / 缺一步 / 说不清) with an optional note.

Flags never ping anyone; they are folded into the manager's weekly review (services/review.py).
"""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from core.config import Config
from services.customers import get_for
from storage.models import User
from storage.models_coaching import SopFeedback

KINDS = {"u": "useless", "m": "missing", "c": "unclear"}
MAX_NOTE = 300


def record(session: Session, config: Config, user: User, customer_id: int, item_id: str, kind: str,
           now: datetime) -> SopFeedback | None:
    """Save a flag on an item of the customer's current stage; None if the customer or item is not valid."""
    customer = get_for(session, user, customer_id)
    stage = config.stage(customer.stage) if customer else None
    if stage is None or kind not in KINDS or not any(i.id == item_id for i in stage.checklist):
        return None
    fb = SopFeedback(team_id=customer.team_id, user_id=user.id, customer_id=customer.id, stage=stage.id,
                     item_id=item_id, kind=KINDS[kind], at=now)
    session.add(fb)
    session.flush()
    return fb


def add_note(session: Session, user: User, feedback_id: int, note: str) -> SopFeedback | None:
    fb = session.get(SopFeedback, feedback_id)
    if fb is None or fb.user_id != user.id:
        return None
    fb.note = note.strip()[:MAX_NOTE]
    session.add(fb)
    return fb
