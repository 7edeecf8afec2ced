"""/today: the same brief the rep gets every morning, on demand."""
from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from handlers import views
from handlers.common import core_of, member_only, show
from scheduler.briefs import brief_payload
from storage.models import User
from telegram import InlineKeyboardMarkup


async def show_today(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    now = core.clock.now()
    payload = await core.db.run(brief_payload, core, user, now)
    if payload is None:
        await show(update, views.brief_text([], core.config, user.language, now))
        return
    markup = InlineKeyboardMarkup.de_json(payload["reply_markup"], context.bot) if payload["reply_markup"] else None
    await show(update, payload["text"], markup)


@member_only()
async def today(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    await show_today(update, context, user)


HANDLERS = [CommandHandler("today", today)]
