"""Messages the ingestion area queues in the outbox (same transaction as the data they report).

Rendering reuses the customer card of handlers/views.py, as the scheduler does; only plain
dicts are stored (the outbox payload), the sender turns them into Telegram calls.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from core.texts import Raw, t
from handlers import views
from handlers.common import clip
from services import brief as brief_svc
from services import outbox
from services.core import Core
from services.users import managers_of
from storage.models import Customer, User


def level_text(level: str, lang: str) -> str:
    return t(f"lead_level_{level}", lang)


def lead_extras(extras: dict[str, str], lang: str) -> dict[str, Raw]:
    interest = extras.get("interest")
    note = extras.get("note")
    return {"interest": Raw(t("lead_interest", lang, text=views.short(interest, 120)) if interest else ""),
            "note": Raw(t("lead_note", lang, text=views.short(note, 300)) if note else "")}


def card_payload(session: Session, core: Core, customer: Customer, lang: str, header: str) -> dict[str, Any]:
    view = brief_svc.card_view(session, core.config, customer, core.clock.now())
    text = header + "\n\n" + views.card_text(view, core.config, lang, now=core.clock.now())
    return {"text": clip(text), "reply_markup": views.card_keyboard(view, lang).to_dict()}


def push_lead_card(session: Session, core: Core, customer: Customer, owner: User, *, source_label: str,
                   level: str, extras: dict[str, str], now: datetime) -> bool:
    lang = owner.language
    header = t("lead_card_header", lang, source=source_label, level=level_text(level, lang), priority=customer.priority,
               minutes=core.config.assignment.first_contact_minutes or 30, **lead_extras(extras, lang))
    payload = card_payload(session, core, customer, lang, header)
    return outbox.enqueue(session, owner.tg_id, "card", payload, f"lead:{customer.id}", now) is not None


def notify_pool_lead(session: Session, core: Core, customer: Customer, *, source_label: str, level: str,
                     now: datetime) -> int:
    count = 0
    for manager in managers_of(session, customer.team_id):
        text = t("lead_pool", manager.language, name=customer.name, source=source_label,
                 level=level_text(level, manager.language))
        if outbox.enqueue(session, manager.tg_id, "notice", {"text": text}, f"leadpool:{customer.id}:{manager.id}", now):
            count += 1
    return count


def notify_owner(session: Session, customer: Customer, key: str, text_key: str, now: datetime, **values: Any) -> int:
    """A notice to the customer's owner (or the team's managers when it sits in the pool)."""
    owner = session.get(User, customer.owner_id) if customer.owner_id else None
    targets = [owner] if owner is not None and owner.active else managers_of(session, customer.team_id)
    count = 0
    for user in targets:
        values_for = {k: (v(user.language) if callable(v) else v) for k, v in values.items()}
        text = t(text_key, user.language, **values_for)
        if outbox.enqueue(session, user.tg_id, "notice", {"text": clip(text)}, f"{key}:{user.id}", now):
            count += 1
    return count


def wake_sender(ptb_app: Any) -> None:
    """Interactive pushes go out now, not at the sender's next poll."""
    if ptb_app is None:
        return
    sender = ptb_app.bot_data.get("sender") if hasattr(ptb_app, "bot_data") else None
    if sender is not None and hasattr(sender, "wake"):
        sender.wake()


# --- the intake's hot path: no ORM objects, no query for a card of a customer just created -----

def new_lead_card(core: Core, customer: Customer, team: Any, lang: str, *, source_label: str, level: str,
                  extras: dict[str, str], now: datetime) -> dict[str, Any]:
    """``push_lead_card``'s payload for a customer created in this transaction: its card view
    needs no query (no checklist item done yet, the team is at hand)."""
    from services.customers import enabled_modules
    header = t("lead_card_header", lang, source=source_label, level=level_text(level, lang), priority=customer.priority,
               minutes=core.config.assignment.first_contact_minutes or 30, **lead_extras(extras, lang))
    config = core.config
    stage = config.stage(customer.stage)
    modules = enabled_modules(team, config)
    items = [item for item in stage.checklist if item.module in modules] if stage else []
    eta = brief_svc.expected_conversion(config, customer, now)
    days = max(0, (now - customer.stage_entered_at).days)
    view = brief_svc.CardView(customer, stage, days, bool(stage and days > stage.expected_days), items,
                              brief_svc.to_local(eta, config.tz) if eta else None)
    text = header + "\n\n" + views.card_text(view, config, lang, now=core.clock.now())
    return {"text": clip(text), "reply_markup": views.card_keyboard(view, lang).to_dict()}


def pool_recipients(session: Session, team_id: int) -> list[tuple[int, int, str]]:
    """Who hears of a lead left in the pool: the team's active managers, else its admins
    (id, tg_id, language)."""
    u = User.__table__.c
    for roles in (("manager",), ("admin",)):
        found = session.connection().execute(
            select(u.id, u.tg_id, u.language).where(u.team_id == team_id, u.role.in_(roles),
                                                     u.active == True).order_by(u.id)).all()  # noqa: E712
        if found:
            return [tuple(r) for r in found]
    return []


def pool_lead_messages(recipients: list[tuple[int, int, str]], customer: Any, *, source_label: str,
                       level: str) -> list[tuple[int, str, dict[str, Any], str]]:
    """``notify_pool_lead``'s notices for a customer created in this transaction, as
    (chat_id, kind, payload, dedupe_key) for ``rows.enqueue_many``."""
    return [(tg_id, "notice", {"text": t("lead_pool", language, name=customer.name, source=source_label,
                                         level=level_text(level, language))}, f"leadpool:{customer.id}:{uid}")
            for uid, tg_id, language in recipients]

