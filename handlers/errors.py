"""The error handler: log with context, answer the user politely, never leak details."""
from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError
from telegram.ext import ContextTypes

from core.texts import lang_of, t
from handlers.common import safe_answer

log = logging.getLogger("salesbot.errors")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    if isinstance(update, Update):
        log.error("update %s failed (user=%s chat=%s): %r", update.update_id,
                  update.effective_user.id if update.effective_user else None,
                  update.effective_chat.id if update.effective_chat else None, error, exc_info=error)
    else:
        log.error("job/background error: %r", error, exc_info=error)
    if isinstance(error, (Forbidden, NetworkError)) or not isinstance(update, Update):
        return
    text = t("error_generic", lang_of(update.effective_user.language_code if update.effective_user else None))
    try:
        if update.callback_query:
            await safe_answer(update.callback_query, text, alert=True)
        elif update.effective_message and update.effective_chat and update.effective_chat.type == "private":
            await update.effective_message.reply_text(text)
    except Exception:  # the apology itself failing must not loop
        log.exception("could not tell the user about the error")


async def on_stray_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any button we do not recognise (tampered, or from an old version): a short note, no data."""
    if update.callback_query:
        code = update.effective_user.language_code if update.effective_user else None
        await safe_answer(update.callback_query, t("callback_invalid", lang_of(code)))
