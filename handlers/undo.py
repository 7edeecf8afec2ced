"""↩️ Undo on a confirmation: a quick update or a stage move, for services.undo.UNDO_MINUTES."""
from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, ContextTypes

from core.callbacks import UndoChange, decode
from core.texts import t
from handlers.card import render_card
from handlers.common import core_of, member_only, safe_answer
from services import undo as undo_svc
from storage.models import User


@member_only()
async def on_undo(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    lang = user.language
    data = decode(update.callback_query.data)
    if not isinstance(data, UndoChange):
        await safe_answer(update.callback_query, t("callback_invalid", lang))
        return
    result = await core.db.run(undo_svc.undo, user, data.undo_id, core.clock.now())
    if result.status != "undone":
        key = {"expired": "undo_expired", "changed": "undo_changed"}.get(result.status, "undo_gone")
        await safe_answer(update.callback_query, t(key, lang, minutes=undo_svc.UNDO_MINUTES), alert=True)
        if result.customer is not None and result.status == "gone":
            await render_card(update, context, user, result.customer.id)
        return
    await safe_answer(update.callback_query)
    what = t("undo_what_stage" if result.kind == "stage" else "undo_what_update", lang)
    await render_card(update, context, user, result.customer.id,
                      notice=t("undo_done", lang, name=result.customer.name, what=what))


HANDLERS = [CallbackQueryHandler(on_undo, pattern=UndoChange.pattern())]
