"""What the incentive modules share: who to tell, how to tell them, what an award's evidence is about,
and the outcome of a manager's decision. No Telegram types: notifications go to the outbox as plain payloads."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.config import Config
from core.texts import t
from services import outbox
from sqlmodel import Session
from storage.models import Activity, ChecklistDone, Customer, User
from storage.models_incentives import Honor

SYSTEM_ACTIONS = ("milestone:", "redeem:")


def managers_of(session: Session, team_id: int | None) -> list[User]:
    from services.users import managers_of as _managers
    return _managers(session, team_id) if team_id else []


def button(text: str, data: str) -> dict[str, str]:
    return {"text": text, "callback_data": data}


def notify(session: Session, user: User, text: str, key: str, now: datetime, buttons: list[list[dict]] | None = None,
           kind: str = "notice") -> None:
    """Queue a private message (HTML ``text``) for ``user``; ``key`` makes it idempotent."""
    if not user.active:
        return
    payload: dict[str, Any] = {"text": text}
    if buttons:
        payload["reply_markup"] = {"inline_keyboard": buttons}
    outbox.enqueue(session, user.tg_id, kind, payload, key, now)


def customer_of_evidence(session: Session, evidence_type: str, evidence_id: int | None) -> Customer | None:
    if evidence_id is None:
        return None
    if evidence_type == "customer":
        return session.get(Customer, evidence_id)
    if evidence_type == "activity":
        row = session.get(Activity, evidence_id)
        return session.get(Customer, row.customer_id) if row else None
    if evidence_type == "checklist":
        row = session.get(ChecklistDone, evidence_id)
        return session.get(Customer, row.customer_id) if row else None
    return None


def checklist_item(config: Config, item_id: str):
    return next((i for s in config.stages for i in s.checklist if i.id == item_id), None)


def action_label(config: Config, action: str, lang: str) -> str:
    kind, _, arg = action.partition(":")
    if kind == "item":
        item = checklist_item(config, arg)
        if item:
            return (item.text_en or item.text) if lang == "en" else item.text
    if kind == "stage":
        stage = config.stage(arg)
        if stage:
            return t("action_stage", lang, stage=(stage.name_en or stage.name) if lang == "en" else stage.name)
    if kind == "milestone":
        m = next((m for m in config.milestones if m.id == arg), None)
        if m:
            return (m.label_en or m.label) if lang == "en" else m.label
    if kind == "redeem":
        r = next((r for r in config.rewards if r.id == arg), None)
        if r:
            return (r.name_en or r.name) if lang == "en" else r.name
    key = f"action_{action}"
    from core.texts import TEXTS
    return t(key, lang) if key in TEXTS else action


@dataclass
class Decision:
    status: str  # done | already | forbidden | missing | insufficient
    subject: Any = None
    owner: User | None = None


def _may_decide(manager: User, team_id: int | None) -> bool:
    return manager.role == "admin" or (manager.role == "manager" and manager.team_id == team_id)


def honor_label(config: Config, honor: Honor, lang: str) -> str:
    if lang == "en":
        if honor.kind == "quality_star":
            return config.honors.quality_star_label_en or honor.label
        formula = getattr(config.honors, honor.kind, None)
        if formula is not None and formula.label_en:
            return formula.label_en
    return honor.label
