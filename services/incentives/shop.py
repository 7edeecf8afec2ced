"""The rewards shop: what a rep can afford, a request, and the manager's decision (the deduction is a ledger row)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from core.callbacks import Approve
from core.config import Config
from core.texts import t, tp
from services import points as points_svc
from services.incentives.common import Decision, _may_decide, button, managers_of, notify
from storage.models import PointsEntry, User
from storage.models_incentives import Redemption
from storage.rows import locked, transition

@dataclass
class ShopView:
    balance: int
    reserved: int  # points in requests waiting for the manager
    rewards: list
    requests: list[Redemption]

    @property
    def available(self) -> int:
        return self.balance - self.reserved


def shop_view(session: Session, config: Config, user: User) -> ShopView:
    requests = list(session.exec(select(Redemption).where(Redemption.user_id == user.id)
                                 .order_by(Redemption.requested_at.desc(), Redemption.id.desc()).limit(5)))
    reserved = session.exec(select(func.coalesce(func.sum(Redemption.price), 0)).where(
        Redemption.user_id == user.id, Redemption.status == "requested")).one()
    return ShopView(points_svc.balance(session, user.id), int(reserved), list(config.rewards), requests)


def request_redemption(session: Session, config: Config, user: User, reward_id: str, now: datetime) -> Decision:
    reward = next((r for r in config.rewards if r.id == reward_id), None)
    if reward is None or user.team_id is None:
        return Decision("missing")
    view = shop_view(session, config, user)
    if view.available < reward.price:
        return Decision("insufficient", view)
    redemption = Redemption(user_id=user.id, team_id=user.team_id, reward_id=reward.id, reward_name=reward.name,
                            price=reward.price, requested_at=now)
    session.add(redemption)
    session.flush()
    for manager in managers_of(session, user.team_id):
        lang = manager.language
        text = t("redeem_request", lang, rep=user.name, reward=(reward.name_en or reward.name) if lang == "en" else reward.name,
                 price=reward.price, balance=view.balance)
        buttons = [[button(tp("btn_approve", lang), Approve("redeem", redemption.id, 1).encode()),
                    button(tp("btn_decline", lang), Approve("redeem", redemption.id, 0).encode())]]
        notify(session, manager, text, f"approve:redeem:{redemption.id}:{manager.id}", now, buttons)
    return Decision("done", redemption, user)


def decide_redemption(session: Session, config: Config, manager: User, redemption_id: int, approve: bool,
                      now: datetime) -> Decision:
    redemption = session.get(Redemption, redemption_id)
    if redemption is None:
        return Decision("missing")
    if not _may_decide(manager, redemption.team_id):
        return Decision("forbidden")
    # The rep's row is locked: two managers approving two of one rep's requests at once would both
    # pass the balance check; the second now waits and sees the first's deduction.
    owner = locked(session, User, User.id == redemption.user_id)
    if redemption.status != "requested":
        return Decision("already", redemption, owner)
    if approve and points_svc.balance(session, redemption.user_id) < redemption.price:
        return Decision("insufficient", redemption, owner)
    if not transition(session, redemption, "status", "requested", status="approved" if approve else "declined",
                      decided_at=now, decided_by=manager.id):
        return Decision("already", redemption, owner)  # decided by a concurrent tap: never deduct twice
    if approve:
        entry = PointsEntry(user_id=redemption.user_id, team_id=redemption.team_id, action=f"redeem:{redemption.reward_id}",
                            points=-redemption.price, status="redeemed", evidence_type="redemption",
                            evidence_id=redemption.id, note=redemption.reward_name, at=now)
        session.add(entry)
        session.flush()
        redemption.entry_id = entry.id
    session.add(redemption)
    session.flush()
    if owner:
        key = "redeem_approved_rep" if approve else "redeem_declined_rep"
        notify(session, owner, t(key, owner.language, reward=redemption.reward_name, price=redemption.price,
                                 balance=points_svc.balance(session, owner.id)), f"redeemed:{redemption.id}", now)
    return Decision("done", redemption, owner)
