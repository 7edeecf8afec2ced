"""Points in and out: an award passes the evidence rule, lands in the ledger (services.points) and is
screened; a meeting releases withheld points; a lead found invalid gives its points back."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from core.config import Config
from core.texts import t
from services import points as points_svc
from services.incentives.anticheat import evidence_ok, request_approval, screen_burst, screen_copy_paste
from services.incentives.common import SYSTEM_ACTIONS, checklist_item, notify
from services.incentives.honors import check_milestones
from services.incentives.meetings import is_cross_department
from storage.models import Activity, ChecklistDone, Customer, PointsEntry, User
from storage.rows import locked


def award(session: Session, user: User, action: str, points: int, config: Config, now: datetime, *,
          evidence_type: str = "", evidence_id: int | None = None, note: str = "") -> PointsEntry | None:
    """Award points for an action: only for evidence that meets its rule, once per evidence, within the
    daily cap (services.points.record); awards at or above the approval threshold wait for a manager,
    and every award is screened for bursts and copy-pasted notes."""
    if points <= 0:
        return None
    if not points_svc.may_record(session, user, action, config, now, evidence_type, evidence_id):
        return None
    if not evidence_ok(session, config, user, action, evidence_type, evidence_id, now):
        return None
    entry = points_svc.record(session, user, action, points, config, now, evidence_type=evidence_type,
                              evidence_id=evidence_id, note=note, checked=True)
    if entry is not None:
        after_award(session, config, user, entry, now)
    return entry


def after_award(session: Session, config: Config, user: User, entry: PointsEntry, now: datetime) -> None:
    if entry.action.startswith(SYSTEM_ACTIONS):
        if entry.status == "pending":
            request_approval(session, config, user, entry, now)
        return
    if entry.status == "pending":
        request_approval(session, config, user, entry, now)
    screen_burst(session, config, user, now)
    if entry.evidence_type == "activity" and entry.evidence_id is not None:
        screen_copy_paste(session, config, user, entry.evidence_id, now)
    check_milestones(session, config, user, entry, now)


@dataclass
class MeetingResult:
    activity: Activity
    cross_department: bool
    points: int = 0


def record_meeting(session: Session, config: Config, user: User, customer: Customer, attendees: list[dict[str, str]],
                   now: datetime, note: str = "") -> MeetingResult:
    """Record a meeting and its attendees; a cross-department one releases the withheld checklist points."""
    customer = locked(session, Customer, Customer.id == customer.id)  # two people recording at once release the withheld points once
    activity = Activity(customer_id=customer.id, user_id=user.id, kind="meeting", text=note[:500], at=now,
                        data={"attendees": attendees})
    session.add(activity)
    customer.updated_at = now
    session.add(customer)
    session.flush()
    result = MeetingResult(activity, is_cross_department(config, attendees))
    if not result.cross_department:
        return result
    done_rows = session.exec(select(ChecklistDone).where(
        ChecklistDone.customer_id == customer.id,
        ChecklistDone.item_id.in_(config.anticheat.cross_department_items)))
    for done in done_rows:
        item = checklist_item(config, done.item_id)
        doer = session.get(User, done.user_id) if done.user_id else None
        if item is None or doer is None:
            continue
        entry = award(session, doer, f"item:{item.id}", item.points, config, now,
                                 evidence_type="checklist", evidence_id=done.id, note="meeting evidence")
        if entry is not None and doer.id == user.id:
            result.points += entry.points
    return result


def evidence_of_customer(session: Session, customer_id: int) -> dict[str, list[int]]:
    return {
        "customer": [customer_id],
        "activity": list(session.exec(select(Activity.id).where(Activity.customer_id == customer_id))),
        "checklist": list(session.exec(select(ChecklistDone.id).where(ChecklistDone.customer_id == customer_id))),
    }


def revoke_for_customer(session: Session, customer: Customer, now: datetime, note: str) -> list[PointsEntry]:
    """Claw back every award the record earned (its own, its activities', its checklist items')."""
    reversals: list[PointsEntry] = []
    for evidence_type, ids in evidence_of_customer(session, customer.id).items():
        reversals += points_svc.reverse_for_evidence(session, evidence_type, ids, now, note)
    return reversals


def revoke_lead(session: Session, config: Config, customer: Customer, now: datetime, reason: str,
                actor: User | None = None, notify_owner: bool = True) -> list[PointsEntry]:
    """A lead later found duplicate or invalid: it leaves every list and its points are revoked."""
    customer.invalid = True
    customer.updated_at = now
    session.add(customer)
    session.add(Activity(customer_id=customer.id, user_id=actor.id if actor else None, kind="invalid", text=reason[:200],
                         at=now, data={"reason": reason}))
    session.flush()
    reversals = revoke_for_customer(session, customer, now, f"lead invalid: {reason}")
    owner = session.get(User, customer.owner_id) if customer.owner_id else None
    if owner is not None and notify_owner:
        lost = -sum(r.points for r in reversals)
        notify(session, owner, t("lead_revoked_rep", owner.language, name=customer.name, reason=reason, points=lost),
               f"leadrev:{customer.id}", now)
    return reversals
