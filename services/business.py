"""Telegram Business: consent, chat ↔ customer links, and analysis of business messages like a paste.

Nothing from a business chat is stored unless the rep granted consent; revoking deletes it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, select

from services import customers as cust_svc
from storage.models import User
from storage.models_business import BusinessChat, BusinessLink, BusinessMessage

WINDOW = 40  # the most recent messages of a chat that one analysis reads


def on_connection(session: Session, connection_id: str, tg_user_id: int, enabled: bool, now: datetime) -> tuple[User | None, str]:
    """Record a (dis)connection. Returns the rep and what to do: ask | disconnected | ignore."""
    user = session.exec(select(User).where(User.tg_id == tg_user_id)).first()
    if user is None or user.deactivated_at is not None or (user.team_id is None and user.role != "admin"):
        return None, "ignore"
    link = session.get(BusinessLink, connection_id)
    if not enabled:
        if link is not None:
            link.enabled = False
            link.consent = "revoked"
            session.add(link)
            _forget(session, connection_id)
        return user, "disconnected"
    if link is None:
        link = BusinessLink(connection_id=connection_id, user_id=user.id, created_at=now)
    link.enabled = True
    if link.consent != "granted":
        link.consent = "pending"
    session.add(link)
    session.flush()
    return user, "ask" if link.consent == "pending" else "ignore"


def set_consent(session: Session, user: User, connection_id: str, action: str, now: datetime) -> str | None:
    link = session.get(BusinessLink, connection_id)
    if link is None or link.user_id != user.id:
        return None
    link.consent = {"grant": "granted", "decline": "declined", "revoke": "revoked"}.get(action, link.consent)
    link.consent_at = now
    session.add(link)
    if link.consent != "granted":
        _forget(session, connection_id)
    return link.consent


def _forget(session: Session, connection_id: str) -> None:
    session.execute(delete(BusinessMessage).where(BusinessMessage.connection_id == connection_id))


def links_of(session: Session, user: User) -> list[BusinessLink]:
    return list(session.exec(select(BusinessLink).where(BusinessLink.user_id == user.id, BusinessLink.enabled == True)))  # noqa: E712


@dataclass
class Incoming:
    user: User
    chat: BusinessChat
    transcript: str | None  # None when only the rep spoke (nothing new to analyse)
    needs_link: list


def record_message(session: Session, connection_id: str, chat_id: int, chat_title: str, from_tg_id: int | None,
                   sender_name: str, text: str, now: datetime) -> Incoming | None:
    link = session.get(BusinessLink, connection_id)
    if link is None or not link.enabled or link.consent != "granted" or not text.strip():
        return None
    user = session.get(User, link.user_id)
    from_rep = from_tg_id == user.tg_id
    session.add(BusinessMessage(connection_id=connection_id, chat_id=chat_id, from_rep=from_rep,
                                sender=user.name if from_rep else (sender_name or chat_title), text=text[:4000], at=now))
    chat = session.get(BusinessChat, (connection_id, chat_id))
    if chat is None:
        chat = BusinessChat(connection_id=connection_id, chat_id=chat_id, title=chat_title[:100])
        matches = cust_svc.find_by_name(session, user, chat_title) if chat_title else []
        if len(matches) == 1:
            chat.customer_id = matches[0].id
        session.add(chat)
    session.flush()
    needs = [] if chat.customer_id else cust_svc.list_visible(session, user, limit=6, mine_only=True)[0]
    if from_rep:
        return Incoming(user, chat, None, needs)
    return Incoming(user, chat, transcript(session, connection_id, chat_id), needs)


def transcript(session: Session, connection_id: str, chat_id: int) -> str:
    rows = list(session.exec(select(BusinessMessage).where(
        BusinessMessage.connection_id == connection_id, BusinessMessage.chat_id == chat_id)
        .order_by(BusinessMessage.id.desc()).limit(WINDOW)))
    return "\n".join(f"{m.sender}: {m.text}" for m in reversed(rows))


def link_chat(session: Session, user: User, chat_id: int, customer_id: int) -> BusinessChat | None:
    customer = cust_svc.get_for(session, user, customer_id)
    if customer is None:
        return None
    for link in links_of(session, user):
        chat = session.get(BusinessChat, (link.connection_id, chat_id))
        if chat is not None:
            chat.customer_id = customer.id
            session.add(chat)
            return chat
    return None


def note_result(session: Session, chat: BusinessChat, level: str, objections: list[str]) -> bool:
    """Remember the last result; True when it changed enough to tell the rep (no ping per message)."""
    stored = session.get(BusinessChat, (chat.connection_id, chat.chat_id))
    key = ",".join(sorted(objections))
    changed = stored.last_level != level or (key and key != stored.last_objections)
    stored.last_level = level
    stored.last_objections = key
    session.add(stored)
    return bool(changed)
