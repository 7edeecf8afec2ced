"""Why a deal was lost: a reason from the playbook's dictionary, the competitor, a note.

The lost exit itself is services.customers.close_lost; this records its reason afterwards (the
rep answers with buttons), so a closed deal without an answer still counts as "reason not given".
"""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from core.config import Config
from services import competitors as comp_svc
from services.customers import get_for
from storage.models import StageChange, User
from storage.models_coaching import DealLoss

MAX_NOTE = 500


def _loss(session: Session, user: User, customer_id: int, now: datetime) -> DealLoss | None:
    """The loss record of a lost customer the user may see (made on first use)."""
    customer = get_for(session, user, customer_id)
    if customer is None or customer.status != "lost":
        return None
    loss = session.get(DealLoss, customer.id)
    if loss is None:
        change = session.exec(select(StageChange).where(StageChange.customer_id == customer.id,
                                                         StageChange.to_stage == "lost")
                              .order_by(StageChange.at.desc())).first()
        loss = DealLoss(customer_id=customer.id, team_id=customer.team_id,
                        stage=change.from_stage if change and change.from_stage else customer.stage,
                        by_user_id=user.id, at=change.at if change else now)
        session.add(loss)
        session.flush()
    return loss


def set_reason(session: Session, config: Config, user: User, customer_id: int, reason_id: str, now: datetime) -> DealLoss | None:
    if config.lost_reason(reason_id) is None:
        return None
    return _set(session, user, customer_id, now, reason=reason_id)


def set_competitor(session: Session, config: Config, user: User, customer_id: int, competitor_id: str,
                   now: datetime) -> DealLoss | None:
    if competitor_id and config.competitor(competitor_id) is None:
        return None
    return _set(session, user, customer_id, now, competitor=competitor_id)


def _set(session: Session, user: User, customer_id: int, now: datetime, **fields) -> DealLoss | None:
    """The customer's loss record (made if missing) with ``fields`` set; None when out of reach."""
    loss = _loss(session, user, customer_id, now)
    if loss is not None:
        for name, value in fields.items():
            setattr(loss, name, value)
        session.add(loss)
    return loss


def set_note(session: Session, config: Config, user: User, customer_id: int, note: str, now: datetime) -> DealLoss | None:
    loss = _loss(session, user, customer_id, now)
    if loss is None:
        return None
    loss.note = note.strip()[:MAX_NOTE]
    session.add(loss)
    customer = get_for(session, user, customer_id)
    comp_svc.record_mentions(session, config, customer, note, "lost", now, user_id=user.id)
    return loss
