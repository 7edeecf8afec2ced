"""Spot-check buttons: 👍 looks right / ⚠️ flag an issue → a preset reason; the card edits in place."""
from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, ContextTypes

from core.callbacks import SpotCheckVote, decode
from core.texts import t
from handlers.common import core_of, member_only, safe_answer, show
from services import spotcheck as spot
from storage.models import User


def _markup(rows: list[list[dict]] | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b["text"], callback_data=b["callback_data"]) for b in row]
                                 for row in rows])


@member_only("manager", "admin")
async def on_vote(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    query = update.callback_query
    data = decode(query.data)
    lang = user.language
    if not isinstance(data, SpotCheckVote):
        await safe_answer(query, t("callback_invalid", lang))
        return
    result = await core.db.run(spot.vote, core.config, user, data.check_id, data.verdict, core.clock.now())
    body = query.message.text_html if query.message is not None and query.message.text else ""
    # The card without the "pick a reason" line a ⚠️ tap added below it.
    base = body.rsplit("\n\n", 1)[0] if body.endswith(t("spot_pick_reason", lang)) else body
    if result.status in ("forbidden", "missing"):
        await safe_answer(query, t("callback_invalid", lang), alert=True)
        return
    if result.status == "already":
        await safe_answer(query, t("already_decided", lang))
        return
    if result.status == "menu":
        await safe_answer(query)
        await show(update, f"{body}\n\n{t('spot_pick_reason', lang)}", _markup(spot.reason_buttons(core.config, data.check_id, lang)))
        return
    if result.status == "card":
        await safe_answer(query)
        await show(update, base, _markup(spot.card_buttons(data.check_id, lang)))
        return
    if result.status == "ok":
        note = t("spot_ok_note", lang)
    else:
        reason = next((r for r in core.config.spotcheck.reasons if r.id == result.reason), None)
        label = ((reason.label_en or reason.label) if lang == "en" else reason.label) if reason else result.reason
        revoked = t("spot_revoked", lang, points=result.revoked) if result.revoked else ""
        note = t("spot_flag_note", lang, reason=label, revoked=revoked)
        sender = context.application.bot_data.get("sender")
        if sender is not None:
            sender.wake()
    await safe_answer(query)
    await show(update, f"{base}\n\n{note}", None)


HANDLERS = [CallbackQueryHandler(on_vote, pattern=SpotCheckVote.pattern())]
