"""Naming one customer in a command's arguments (/log 王总 …, /stage, /visit): the match, or a short answer."""
from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from core.callbacks import OpenCard
from core.texts import t
from handlers import views
from handlers.common import core_of, reply
from services import customers as cust_svc
from storage.models import Customer, User


async def one_customer(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, usage_key: str) -> tuple[int | None, str]:
    """The single customer named in a command's arguments; otherwise answer (usage, none, pick one)."""
    core = core_of(context)
    text = " ".join(context.args or [])
    if not text:
        await reply(update, t(usage_key, user.language))
        return None, text
    matches = await core.db.read(cust_svc.find_by_name, user, text)
    if len(matches) != 1:
        key = "no_match" if not matches else "pick_customer"
        await reply(update, t(key, user.language, q=views.short(text, 30)), _pick(matches) if matches else None)
        return None, text
    return matches[0].id, text


def _pick(matches: list[Customer]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        f"{views.short(c.name, 16)} · {views.short(c.company, 14)}" if c.company else views.short(c.name, 28),
        callback_data=OpenCard(c.id).encode())] for c in matches[:6]])
