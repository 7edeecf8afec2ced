"""Shared handler plumbing: who is talking, in which language, and safe replies.

Handlers stay thin: they parse the update, call a service with ``await core.db.run(...)``
(database work runs off the event loop) and render the answer with ``core.texts``.
"""
from __future__ import annotations

import functools
import html
import logging
import re
from typing import Any, Awaitable, Callable

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes, ConversationHandler

from core.callbacks import decode
from core.texts import lang_of, t
from services import users as users_svc
from services.core import Core
from storage.models import User

log = logging.getLogger(__name__)
MAX_INPUT_CHARS = 4000  # free-text fields; pastes have their own, larger limit
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE, User], Awaitable[Any]]


def core_of(context: ContextTypes.DEFAULT_TYPE) -> Core:
    return context.application.bot_data["core"]


def lang(user: User | None, update: Update | None = None) -> str:
    if user is not None:
        return user.language
    code = update.effective_user.language_code if update and update.effective_user else None
    return lang_of(code)


def member_args(update: Update) -> tuple | None:
    """Arguments of services.users.member_for_update for this update's sender (None: no sender)."""
    tg = update.effective_user
    if tg is None:
        return None
    private = bool(update.effective_chat and update.effective_chat.type == ChatType.PRIVATE)
    return tg.id, tg.full_name, tg.username, lang_of(tg.language_code), private


_PREFETCHED = "_member_for_update"


def remember_member(context: ContextTypes.DEFAULT_TYPE, update: Update, member: User | None) -> None:
    """Keep the member loaded together with the update-id claim (bot/dedupe.py) for this update only."""
    context.user_data[_PREFETCHED] = (update.update_id, member)


async def load_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> User | None:
    """The registered user behind this update, refreshed from Telegram's profile; None if unknown.

    Usually already loaded in the same transaction that claimed the update id (one database trip
    per update); loaded here when not (e.g. a handler called outside the normal update path).
    """
    args = member_args(update)
    if args is None:
        return None
    prefetched = context.user_data.get(_PREFETCHED) if context.user_data is not None else None
    if prefetched is not None and prefetched[0] == update.update_id:
        return prefetched[1]
    return await core_of(context).db.run(users_svc.member_for_update, *args)


async def refuse_stranger(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Anyone unknown gets one polite refusal and no data; later messages are ignored."""
    core = core_of(context)
    tg = update.effective_user
    if tg is None:
        return
    private = update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE
    if not update.callback_query and not private:
        return
    # A deactivated member hears that their access ended, every time; a stranger once.
    answer = await core.db.run(users_svc.refusal_for, tg.id, core.clock.now(), not update.callback_query)
    if update.callback_query:
        key = "access_ended_short" if answer == "deactivated" else "stranger"
        await safe_answer(update.callback_query, t(key, lang(None, update))[:190], alert=answer == "deactivated")
        return
    if answer and update.effective_message:
        key = "access_ended" if answer == "deactivated" else "stranger"
        await update.effective_message.reply_text(t(key, lang(None, update)))


def member_only(*roles: str) -> Callable[[Handler], Callable[..., Awaitable[Any]]]:
    """Decorator: run the handler with the registered ``User``; refuse strangers and wrong roles."""
    def decorate(fn: Handler) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(fn)
        async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Any:
            user = await load_member(update, context)
            if user is None:
                await refuse_stranger(update, context)
                return ConversationHandler.END
            if roles and user.role not in roles:
                if update.callback_query:
                    await safe_answer(update.callback_query, t("manager_only", user.language))
                elif update.effective_message:
                    await update.effective_message.reply_text(t("manager_only", user.language))
                return ConversationHandler.END
            return await fn(update, context, user)
        return wrapper
    return decorate


async def reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> Message | None:
    message = update.effective_message
    if message is None:
        return None
    return await message.reply_text(clip(text), parse_mode=ParseMode.HTML, reply_markup=markup,
                                    disable_web_page_preview=True)


async def show(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Edit the message the button was on (cards edit in place), or send a new one for commands."""
    query = update.callback_query
    if query is None or query.message is None:
        await reply(update, text, markup)
        return
    if query.message.is_accessible:
        if unchanged(query.message, text, markup):
            return  # Telegram would answer 400 "message is not modified": nothing to send
        try:
            await query.edit_message_text(clip(text), parse_mode=ParseMode.HTML, reply_markup=markup,
                                          disable_web_page_preview=True)
            return
        except BadRequest as exc:
            reason = str(exc).lower()
            if "not modified" in reason:  # the same button pressed twice
                return
            if not any(gone in reason for gone in UNEDITABLE):
                raise
    # The message is too old to reach, deleted, or can no longer be edited: the answer goes out as
    # a new message in that chat (not as a reply — the original may be gone).
    await query.get_bot().send_message(query.message.chat.id, clip(text), parse_mode=ParseMode.HTML,
                                       reply_markup=markup, disable_web_page_preview=True)


UNEDITABLE = ("can't be edited", "message to edit not found")


def unchanged(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    """Whether ``message`` (as the button press reported it) already shows ``text`` and ``markup``.

    Compared as Telegram stores it: the plain text, the formatting (the message's entities
    rendered back to HTML by PTB) and the keyboard.  A render that differs only in how the same
    formatting is spelled counts as changed: the edit is sent and "not modified" is ignored.
    """
    wanted = clip(text)
    if message.text is None or message.text.strip() != plain_text(wanted).strip():
        return False
    if html.unescape(message.text_html).strip() != html.unescape(wanted).strip():
        return False
    return _keyboard(message.reply_markup) == _keyboard(markup)


def _keyboard(markup: Any) -> list:
    rows = getattr(markup, "inline_keyboard", None) or ()
    return [[button.to_dict() for button in row] for row in rows if row]


async def stale(update: Update, text: str) -> None:
    """A button for something that changed or went away: say so in a popup, leave the message as it is."""
    if update.callback_query is not None:
        await safe_answer(update.callback_query, plain_text(text), alert=True)
    else:
        await reply(update, text)


async def safe_answer(query: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
    """Answer a button press; an old query id is not worth an error for the user."""
    try:
        await query.answer(text[:200] if text else None, show_alert=alert)
    except BadRequest as exc:
        log.info("callback answer failed: %s", exc)


async def pressed(query: CallbackQuery, cls: type, lang: str):
    """The button's data decoded as ``cls``, or None after answering a tampered or stale one."""
    data = decode(query.data)
    if not isinstance(data, cls):
        await safe_answer(query, t("callback_invalid", lang))
        return None
    return data


def clip(text: str, limit: int = 4096) -> str:
    """Keep a rendered HTML message under Telegram's limit without cutting a tag in half."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 2]
    last_open = cut.rfind("<")
    if last_open > cut.rfind(">"):
        cut = cut[:last_open]
    # Close any tags left open by the cut.
    stack: list[str] = []
    for match in re.finditer(r"<(/?)([a-z\-]+)[^>]*>", cut):
        closing, tag = match.group(1), match.group(2)
        if closing and stack and stack[-1] == tag:
            stack.pop()
        elif not closing:
            stack.append(tag)
    last_amp = cut.rfind("&")
    if last_amp > cut.rfind(";"):
        cut = cut[:last_amp]
    return cut + "…" + "".join(f"</{tag}>" for tag in reversed(stack))


class InFlight:
    """Counts work that may outlive its update (pastes, buffered forwards, business chats).

    Graceful shutdown waits for it to reach zero; tests wait on it instead of sleeping.
    """

    def __init__(self) -> None:
        import asyncio
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def __enter__(self) -> "InFlight":
        self.count += 1
        self._idle.clear()
        return self

    def __exit__(self, *exc: object) -> None:
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    async def wait_idle(self, timeout: float = 30.0) -> bool:
        import asyncio
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False


def in_flight(context: ContextTypes.DEFAULT_TYPE) -> InFlight:
    return context.application.bot_data.setdefault("in_flight", InFlight())


def plain_text(html_text: str) -> str:
    """An HTML message as plain text (for callback answers and alerts, which are not parsed)."""
    return html.unescape(_TAG.sub("", html_text))


_TAG = re.compile(r"<[^>]+>")
