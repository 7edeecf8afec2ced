"""Telegram Business: consent (asked, recorded, revocable) and business messages analysed like a paste."""
from __future__ import annotations

import asyncio

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BusinessConnectionHandler, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from core.callbacks import BizConsent, BizLinkChat, decode
from core.texts import Raw, t, tp
from handlers import coaching, views
from handlers import feedback as fb_buttons
from handlers.common import core_of, in_flight, member_only, reply, safe_answer, show
from services import business as biz
from services import intel
from storage.models import Customer, User


def consent_keyboard(connection_id: str, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(tp("btn_biz_grant", lang), callback_data=BizConsent(connection_id, "grant").encode()),
        InlineKeyboardButton(tp("btn_biz_decline", lang), callback_data=BizConsent(connection_id, "decline").encode())]])


async def on_connection(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    core = core_of(context)
    conn = update.business_connection
    user, action = await core.db.run(biz.on_connection, conn.id, conn.user.id, conn.is_enabled, core.clock.now())
    if user is None or action == "ignore":
        return
    if action == "disconnected":
        await context.bot.send_message(user.tg_id, t("biz_disconnected", user.language))
        return
    await context.bot.send_message(user.tg_id, t("biz_consent_ask", user.language),
                                   reply_markup=consent_keyboard(conn.id, user.language))


@member_only()
async def on_consent(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    data = decode(update.callback_query.data)
    if not isinstance(data, BizConsent):
        await safe_answer(update.callback_query, t("callback_invalid", user.language))
        return
    state = await core.db.run(biz.set_consent, user, data.connection_id, data.action, core.clock.now())
    await safe_answer(update.callback_query)
    if state is None:
        await show(update, t("callback_invalid", user.language))
        return
    key = {"granted": "biz_granted", "declined": "biz_declined", "revoked": "biz_revoked"}[state]
    await show(update, t(key, user.language))


@member_only()
async def business_command(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    links = await core.db.run(biz.links_of, user)
    if not links:
        await reply(update, t("biz_status_none", user.language))
        return
    link = links[0]
    granted = link.consent == "granted"
    state = t("biz_state_granted" if granted else "biz_state_other", user.language)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(
        tp("btn_biz_revoke", user.language), callback_data=BizConsent(link.connection_id, "revoke").encode())]]) \
        if granted else consent_keyboard(link.connection_id, user.language)
    await reply(update, t("biz_status", user.language, state=state), markup)


async def on_business_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Counted as in-flight, so shutdown waits for the analysis to be stored."""
    with in_flight(context):
        await _business_message(update, context)


async def _business_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    core = core_of(context)
    message = update.business_message
    sender = message.from_user
    title = message.chat.full_name or message.chat.title or ""
    incoming = await core.db.run(biz.record_message, message.business_connection_id, message.chat.id, title,
                                 sender.id if sender else None, sender.full_name if sender else "", message.text or message.caption or "",
                                 core.clock.now())
    if incoming is None or incoming.transcript is None:
        return
    user = incoming.user
    if incoming.chat.customer_id is None:
        if incoming.needs_link:
            buttons = [[InlineKeyboardButton(views.short(c.name, 28), callback_data=BizLinkChat(message.chat.id, c.id).encode())]
                       for c in incoming.needs_link]
            await context.bot.send_message(user.tg_id, t("biz_pick", user.language, title=title),
                                           parse_mode="HTML", reply_markup=InlineKeyboardMarkup(buttons))
        return
    await analyse_chat(context, user, incoming.chat, incoming.transcript)


async def analyse_chat(context: ContextTypes.DEFAULT_TYPE, user: User, chat, transcript: str) -> None:
    core = core_of(context)
    scripts = core.config.objection_scripts()
    loop = asyncio.get_running_loop()
    analysis = await loop.run_in_executor(None, intel.analyse, transcript, [user.name], scripts, None)
    customer = await core.db.run(intel.record_analysis, core, user, chat.customer_id, analysis)
    if customer is None:
        return
    await coaching.business_competitors(core, user, customer.id, transcript, analysis)  # issue 16
    changed = await core.db.run(biz.note_result, chat, analysis.level, [o.id for o in analysis.objections])
    if not changed:
        return
    lang = user.language
    objections = "".join(t("biz_objection_line", lang, label=o.label_en if lang == "en" else o.label_zh, script=o.script)
                         for o in analysis.objections[:3])
    await context.bot.send_message(user.tg_id, t("biz_update", lang, name=customer.name,
                                                  level=analysis.level if lang == "en" else analysis.level_zh,
                                                  score=analysis.score, objections=Raw(objections)), parse_mode="HTML",
                                   reply_markup=InlineKeyboardMarkup(rows) if (rows := fb_buttons.card_rows(analysis, lang)) else None)


@member_only()
async def on_link_chat(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    data = decode(update.callback_query.data)
    await safe_answer(update.callback_query)
    if not isinstance(data, BizLinkChat):
        return
    chat = await core.db.run(biz.link_chat, user, data.chat_id, data.customer_id)
    if chat is None:
        await show(update, t("not_yours", user.language))
        return
    customer = await core.db.run(lambda session: session.get(Customer, chat.customer_id))
    await show(update, t("biz_linked", user.language, name=customer.name))
    transcript = await core.db.run(biz.transcript, chat.connection_id, chat.chat_id)
    with in_flight(context):
        await analyse_chat(context, user, chat, transcript)


HANDLERS = [
    BusinessConnectionHandler(on_connection),
    MessageHandler(filters.UpdateType.BUSINESS_MESSAGE, on_business_message),
    CommandHandler("business", business_command),
    CallbackQueryHandler(on_consent, pattern=BizConsent.pattern()),
    CallbackQueryHandler(on_link_chat, pattern=BizLinkChat.pattern()),
]
