""""📝 总结" and "💬 帮我回复" on an analysis card, through the optional AI assistant.

The buttons appear only when a model is configured (SALESBOT_LLM_URL) and the playbook lets text
leave ([privacy] text_may_leave). The answer is a new message under the card, for the rep only;
a failing model gives the offline analysis instead, with a short note. The model is called beside
the rep's update lane (handlers/background.py); the same button pressed again shows the same answer
without calling the model again.
"""
from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, Message, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, ContextTypes

from core.callbacks import AssistAsk, decode
from core.clock import to_local
from core.texts import Raw, esc, t, tp
from handlers.background import in_background
from handlers.common import clip, core_of, member_only, reply, safe_answer
from services import assistant as ai
from services.resilience import ServiceError
from storage.models import User

log = logging.getLogger(__name__)
MAX_CARDS = 10
_MISSING = object()


def assistant_of(context: ContextTypes.DEFAULT_TYPE) -> ai.Assistant | None:
    """The assistant from the environment, built once (None: not configured or not allowed)."""
    data = context.application.bot_data
    found = data.get("assistant", _MISSING)
    if found is _MISSING:
        found = ai.Assistant.from_env(core_of(context).config, db=core_of(context).db)
        data["assistant"] = found
        if found is not None:
            data.setdefault("closers", []).append(found.close)
    if found is None or not core_of(context).config.privacy.text_may_leave:
        return None
    return found


def assist_row(context: ContextTypes.DEFAULT_TYPE, user: User, token: str, text: str, analysis,
               customer_name: str) -> list[InlineKeyboardButton]:
    """The two buttons for an analysis card (none when the assistant is off); remembers the
    conversation for them under the card's token."""
    if assistant_of(context) is None:
        return []
    cards: dict = context.user_data.setdefault("assist", {})
    while len(cards) >= MAX_CARDS:
        cards.pop(next(iter(cards)))
    cards[token] = {"text": text, "analysis": analysis, "name": customer_name, "done": {}, "busy": set()}
    lang = user.language
    return [InlineKeyboardButton(tp("btn_assist_summary", lang), callback_data=AssistAsk(token, "sum").encode()),
            InlineKeyboardButton(tp("btn_assist_reply", lang), callback_data=AssistAsk(token, "rep").encode())]


@member_only()
async def on_ask(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    data = decode(update.callback_query.data)
    await safe_answer(update.callback_query)
    lang = user.language
    card = context.user_data.get("assist", {}).get(getattr(data, "token", None))
    if not isinstance(data, AssistAsk) or data.kind not in ("sum", "rep"):
        return
    assistant = assistant_of(context)
    if assistant is None:
        await reply(update, t("assist_off", lang))
        return
    if card is None:
        await reply(update, t("assist_expired", lang))
        return
    if data.kind in card["done"]:
        await reply(update, card["done"][data.kind])
        return
    if data.kind in card["busy"]:
        return  # the same button pressed while its answer is being written: one call, one answer
    card["busy"].add(data.kind)
    status = await reply(update, t("assist_working", lang))
    in_background(update, context, _answer_and_show(update, context, user, assistant, card, data.kind, status), "assist")


async def _answer_and_show(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, assistant: ai.Assistant,
                           card: dict, kind: str, status: Message | None) -> None:
    try:
        text = await _answer(context, user, assistant, card, kind)
        card["done"][kind] = text
        await _edit(update, status, text)
    finally:
        card["busy"].discard(kind)


async def _answer(context: ContextTypes.DEFAULT_TYPE, user: User, assistant: ai.Assistant, card: dict, kind: str) -> str:
    core = core_of(context)
    lang = user.language
    day = to_local(core.clock.now(), core.config.tz).strftime("%Y-%m-%d")
    analysis = card["analysis"]
    scripts = ai.objection_scripts(analysis, core.config)
    try:
        if kind == "sum":
            answer = await assistant.summary(card["text"], day)
            return t("assist_summary", lang, name=card["name"], text=Raw("\n".join(esc(x) for x in answer.lines)))
        answer = await assistant.replies(card["text"], scripts, day)
        return t("assist_replies", lang, text=Raw("\n".join(esc(x) for x in answer.lines)))
    except ServiceError as exc:
        log.warning("assistant %s failed: %s", kind, exc)
        reason = {"budget": "assist_reason_budget", "timeout": "assist_reason_timeout"}.get(exc.kind, "assist_reason_other")
        note = t("assist_fallback", lang, reason=t(reason, lang))
        return note + "\n" + _offline(core.config, analysis, card["name"], scripts, kind, lang)


def _offline(config, analysis, name: str, scripts: list[str], kind: str, lang: str) -> str:
    none = t("offline_none", lang)
    if kind == "sum":
        values = ai.offline_summary(analysis, lang)
        return t("offline_summary", lang, name=name, needs=values["needs"] or none,
                 objections=values["objections"] or none, level=values["level"], score=values["score"],
                 keywords=values["keywords"] or none, next=values["next"] or t("offline_next_default", lang))
    drafts = (scripts or [])[:ai.REPLY_DRAFTS] or [t("offline_reply_default", lang)]
    return t("offline_replies", lang, text=Raw("\n".join(f"{i}. {esc(d)}" for i, d in enumerate(drafts, 1))))


async def _edit(update: Update, status: Message | None, text: str) -> None:
    if status is not None:
        try:
            await status.edit_text(clip(text), parse_mode="HTML", disable_web_page_preview=True)
            return
        except BadRequest as exc:
            log.info("assistant status not editable (%s)", exc)
    await reply(update, text)


HANDLERS = [CallbackQueryHandler(on_ask, pattern=AssistAsk.pattern())]
