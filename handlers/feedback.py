"""准 / 不准 on analysis cards (issue 13 item 6): the buttons, and a press stored as the rep's label.

The card's other buttons stay; only the feedback rows are redrawn. Logic and checks (team,
visibility, one label per analysis and person) live in services/feedback.py.
"""
from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, ContextTypes

from core.callbacks import AnalysisFeedback, decode
from core.texts import t, tp
from handlers import views
from handlers.common import core_of, member_only, safe_answer, stale
from services import feedback as fb_svc
from storage.models import User

LEVELS = ("high", "medium", "low")


def _objection_label(oid: str, lang: str) -> str:
    try:
        from nlp import engine
        entry = engine.resources().lexicon.entries.get(oid)
    except Exception:  # the reader's resources are no reason to lose the buttons
        entry = None
    if entry is None:
        return oid
    return entry.label_en if lang == "en" else entry.label_zh


def rows_for(state: fb_svc.LabelState, lang: str) -> list[list[InlineKeyboardButton]]:
    """The feedback rows for one analysis as this person last labelled it."""
    def button(text: str, action: str, chosen: bool = False) -> InlineKeyboardButton:
        return InlineKeyboardButton(("✅ " if chosen else "") + text,
                                    callback_data=AnalysisFeedback(state.sample_id, action).encode())

    rows: list[list[InlineKeyboardButton]] = []
    if state.asking_level:
        rows.append([button(tp(f"fb_level_{lv}", lang), lv, state.correct_level == lv) for lv in LEVELS])
    elif state.agreed is True:
        rows.append([InlineKeyboardButton(tp("fb_ok_done", lang), callback_data=AnalysisFeedback(state.sample_id, "ok").encode()),
                     button(tp("fb_no", lang), "no")])
    elif state.agreed is False and state.correct_level:
        rows.append([button(tp("fb_ok", lang), "ok"),
                     InlineKeyboardButton(tp("fb_no_done", lang, level=tp(f"fb_level_{state.correct_level}", lang)),
                                          callback_data=AnalysisFeedback(state.sample_id, "no").encode())])
    else:
        rows.append([button(tp("fb_ok", lang), "ok"), button(tp("fb_no", lang), "no")])
    verdicts = state.verdicts or {}
    for k, oid in enumerate(state.objections[:fb_svc.MAX_OBJECTIONS]):
        label = views.short(_objection_label(oid, lang), 12 if lang != "en" else 20)
        rows.append([button(tp("fb_obj_right", lang, label=label), f"o{k}y", verdicts.get(oid) is True),
                     button(tp("fb_obj_wrong", lang, label=label), f"o{k}n", verdicts.get(oid) is False)])
    return rows


def card_rows(analysis, lang: str) -> list[list[InlineKeyboardButton]]:
    """The rows under a fresh card (nothing labelled yet); none when the analysis was not stored."""
    sample_id = getattr(analysis, "sample_id", None)
    if sample_id is None:
        return []
    return rows_for(fb_svc.LabelState(sample_id, analysis.level,
                                      [o.id for o in analysis.objections[:fb_svc.MAX_OBJECTIONS]]), lang)


@member_only()
async def on_feedback(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    query = update.callback_query
    data = decode(query.data)
    if not isinstance(data, AnalysisFeedback):
        await stale(update, t("fb_stale", user.language))
        return
    try:
        state = await core.db.run(fb_svc.press, user, data.sample_id, data.action, core.clock.now())
    except fb_svc.Stale:
        await stale(update, t("fb_stale", user.language))
        return
    await safe_answer(query, tp("fb_pick_level" if state.asking_level else "fb_saved", user.language))
    if query.message is None or not query.message.is_accessible:
        return
    kept = [list(row) for row in (query.message.reply_markup.inline_keyboard if query.message.reply_markup else ())
            if not any(isinstance(b.callback_data, str) and b.callback_data.startswith(AnalysisFeedback.prefix + ":")
                       for b in row)]
    try:
        await query.edit_message_reply_markup(InlineKeyboardMarkup(rows_for(state, user.language) + kept))
    except BadRequest:  # "message is not modified": the same press twice
        pass


HANDLERS = [CallbackQueryHandler(on_feedback, pattern=AnalysisFeedback.pattern())]
