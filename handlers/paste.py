"""Pasted or forwarded conversations: attach to the right customer, analyse, answer with scripts.

jieba work runs in a worker thread (``run_in_executor``); other reps are answered while a long
paste is read because different people's updates run side by side (bot/concurrency.py), while
the same rep's next message waits for this one (it may answer a prompt this paste raised).
Forwards arrive one update per message; they are buffered briefly and analysed together. So do
the parts of a long paste that Telegram split (its clients cut text at 4,096 characters): a message
of PART_MIN_CHARS..TELEGRAM_MAX_CHARS opens a buffer, and the same rep's next message within
PART_GAP_S is its continuation (a short one is the last part); one analysis reads the whole text.
"""
from __future__ import annotations

import asyncio
import secrets
import time
from datetime import timezone

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters

from core.callbacks import PickCustomer, PickSpeaker, decode
from core.texts import Raw, esc, t, tp
from handlers import coaching, views
from handlers import feedback as fb_buttons
from handlers.assist import assist_row
from handlers.common import core_of, in_flight, member_only, reply, safe_answer, show
from handlers.prompts import dispatch_prompt
from services import customers as cust_svc
from services import intel
from services.quick_update import looks_like_update
from storage.models import User

MAX_PASTE_CHARS = 50_000
FORWARD_GATHER_S = 1.2
TELEGRAM_MAX_CHARS = 4096      # a longer text did not come from a client's split
PART_MIN_CHARS = 3500          # a split part is at least this long (clients cut near the limit)
PART_GAP_S = 2.0               # the next part arrives within this

# user id → monotonic deadline while a split paste waits for its next part: that part is read as
# paste text even when it looks like a one-line update (the tail of a long paste often does).
_OPEN_PARTS: dict[int, float] = {}


def _continuing(user_id: int | None) -> bool:
    return user_id is not None and _OPEN_PARTS.get(user_id, 0.0) >= time.monotonic()


class _PasteFilter(filters.MessageFilter):
    """A forward, a part of a split long paste, or text too long / multi-line to be a one-line update."""

    def filter(self, message) -> bool:
        text = message.text or message.caption or ""
        return (message.forward_origin is not None or _continuing(getattr(message.from_user, "id", None))
                or not looks_like_update(text))


@member_only()
async def _paste(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    text = update.effective_message.text or update.effective_message.caption or ""
    if (update.effective_message.forward_origin is None and not _continuing(update.effective_user.id)
            and await dispatch_prompt(update, context, user, text[:4000])):
        return
    await handle_paste(update, context, user, text)


async def on_paste(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Counted as in-flight from its first instant, so shutdown (and tests) can wait for it."""
    with in_flight(context):
        await _paste(update, context)


async def handle_paste(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, text: str) -> None:
    if len(text) > MAX_PASTE_CHARS:
        await reply(update, t("paste_too_long", user.language, n=len(text), max=MAX_PASTE_CHARS))
        return
    message = update.effective_message
    if message.forward_origin is not None:
        await _buffer_forward(update, context, user, message)
        return
    parts = context.user_data.get("parts")
    if parts is not None and _continuing(update.effective_user.id):
        _add_part(update, parts, text)
        return
    if PART_MIN_CHARS <= len(text) <= TELEGRAM_MAX_CHARS:
        parts = context.user_data["parts"] = {"texts": [], "last": asyncio.Event(), "task": None}
        _add_part(update, parts, text)
        parts["task"] = asyncio.create_task(_flush_parts(update, context, user, parts))
        return
    await start_analysis(update, context, user, text, forward_origin=None)


def _add_part(update: Update, parts: dict, text: str) -> None:
    parts["texts"].append(text)
    parts["moved"] = time.monotonic()
    if len(text) >= PART_MIN_CHARS:           # a full part: another may follow
        _OPEN_PARTS[update.effective_user.id] = parts["moved"] + PART_GAP_S
    else:                                     # a short part ends the split text
        _OPEN_PARTS.pop(update.effective_user.id, None)
        parts["last"].set()


def _join_parts(texts: list[str]) -> str:
    """Clients cut at whitespace near the limit and may drop it: a line break where none is left
    (a header glued to the previous line would be lost; a sentence broken in two still reads)."""
    out = texts[0]
    for part in texts[1:]:
        out += part if out[-1:].isspace() or part[:1].isspace() else "\n" + part
    return out


async def _flush_parts(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, parts: dict) -> None:
    """Wait for the last part (a short one, or PART_GAP_S without another), then read the whole text."""
    with in_flight(context):
        while not parts["last"].is_set():
            wait = parts["moved"] + PART_GAP_S - time.monotonic()
            if wait <= 0:
                break
            try:
                await asyncio.wait_for(parts["last"].wait(), timeout=wait)
            except asyncio.TimeoutError:
                continue
        if context.user_data.get("parts") is parts:
            context.user_data.pop("parts", None)
        if _OPEN_PARTS.get(update.effective_user.id, 0.0) <= parts["moved"] + PART_GAP_S:
            _OPEN_PARTS.pop(update.effective_user.id, None)
        text = _join_parts(parts["texts"])
        try:
            if len(text) > MAX_PASTE_CHARS:
                await reply(update, t("paste_too_long", user.language, n=len(text), max=MAX_PASTE_CHARS))
                return
            await start_analysis(update, context, user, text, forward_origin=None)
        except Exception as exc:  # surfaced like any handler error, not lost in a background task
            await context.application.process_error(update, exc)


async def _buffer_forward(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, message) -> None:
    origin = message.forward_origin
    sender = getattr(origin, "sender_user_name", None) or (
        origin.sender_user.full_name if getattr(origin, "sender_user", None) else None) or tp("forward_unknown_sender", user.language)
    date = origin.date if origin.date.tzinfo else origin.date.replace(tzinfo=timezone.utc)
    sent = date.astimezone(core_of(context).config.tz)  # the team's wall clock, as pasted chats are
    line = f"{sender} {sent:%Y-%m-%d %H:%M}\n{message.text or message.caption or ''}"
    buffer = context.user_data.setdefault("forwards", {"lines": [], "origin": None, "task": None})
    buffer["lines"].append(line)
    # The customer is the first forwarded sender who is not the rep (reps forward their own words too).
    if buffer["origin"] is None and sender not in _rep_names(user):
        buffer["origin"] = sender
    if buffer["task"] is None:
        buffer["task"] = asyncio.create_task(_flush_forwards(update, context, user))


async def _flush_forwards(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    with in_flight(context):
        await asyncio.sleep(FORWARD_GATHER_S)
        buffer = context.user_data.pop("forwards", None)
        if not buffer:
            return
        try:
            await start_analysis(update, context, user, "\n\n".join(buffer["lines"]), forward_origin=buffer["origin"])
        except Exception as exc:  # surfaced like any handler error, not lost in a background task
            await context.application.process_error(update, exc)


def _new_draft(context: ContextTypes.DEFAULT_TYPE, entry: dict) -> str:
    drafts = context.user_data.setdefault("drafts", {})
    token = secrets.token_hex(4)
    drafts[token] = entry
    while len(drafts) > 20:
        drafts.pop(next(iter(drafts)))
    return token


async def start_analysis(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, text: str,
                         forward_origin: str | None) -> None:
    """Read the paste once; ask who the customer is when the text cannot tell; then which record."""
    core = core_of(context)
    loop = asyncio.get_running_loop()
    scripts = core.config.objection_scripts()
    analysis, transcript = await loop.run_in_executor(None, intel.read, text, _rep_names(user), scripts, forward_origin)
    if analysis is None:
        await reply(update, t("paste_garbage", user.language))
        return
    entry = {"kind": "paste", "text": text, "origin": forward_origin, "analysis": analysis, "transcript": transcript}
    token = _new_draft(context, entry)
    speakers = [s for s in transcript.speakers if s][:6]
    if transcript.needs_customer_choice and len(speakers) >= 2:
        buttons = [[InlineKeyboardButton(views.short(name, 28), callback_data=PickSpeaker(token, i).encode())]
                   for i, name in enumerate(speakers)]
        entry["speakers"] = speakers
        await reply(update, t("paste_who", user.language), InlineKeyboardMarkup(buttons))
        return
    await ask_customer_record(update, context, user, token, entry, analysis.customer or transcript.customer)


async def ask_customer_record(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, token: str,
                              entry: dict, customer_name: str | None) -> None:
    core = core_of(context)
    candidates = await core.db.read(_candidates, user, customer_name, entry["text"])
    if len(candidates) == 1:
        await analyse_for(update, context, user, token, candidates[0].id)
        return
    if not candidates:
        candidates, _ = await core.db.read(cust_svc.list_visible, user, limit=6, mine_only=True)
        if not candidates:
            await reply(update, t("paste_no_customers", user.language))
            return
    buttons = [[InlineKeyboardButton(f"{views.short(c.name, 16)} · {views.short(c.company or '', 12)}",
                                     callback_data=PickCustomer(token, c.id).encode())] for c in candidates[:6]]
    await show(update, t("paste_pick", user.language), InlineKeyboardMarkup(buttons))


@member_only()
async def on_pick_speaker(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    data = decode(update.callback_query.data)
    await safe_answer(update.callback_query)
    entry = context.user_data.get("drafts", {}).get(getattr(data, "token", None))
    if not isinstance(data, PickSpeaker) or entry is None or not 0 <= data.index < len(entry.get("speakers", [])):
        await show(update, t("update_expired", user.language))
        return
    name = entry["speakers"][data.index]
    scripts = core.config.objection_scripts()
    loop = asyncio.get_running_loop()
    entry["analysis"] = await loop.run_in_executor(None, intel.reanalyse, entry["transcript"], name, _rep_names(user), scripts)
    await ask_customer_record(update, context, user, data.token, entry, name)


def _rep_names(user: User) -> list[str]:
    return [n for n in (user.name, user.username, (user.name or "").split(" ")[0]) if n]


def _candidates(session, user: User, customer_name: str | None, text: str):
    if customer_name:
        found = cust_svc.find_by_name(session, user, customer_name)
        if found:
            return found
    return cust_svc.find_by_name(session, user, text[:300]) if len(text) < 300 else []


async def analyse_for(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, token: str, customer_id: int) -> None:
    core = core_of(context)
    entry = context.user_data.get("drafts", {}).pop(token, None)
    if entry is None or "analysis" not in entry:
        await show(update, t("update_expired", user.language))
        return
    analysis = entry["analysis"]
    customer = await core.db.run(intel.record_analysis, core, user, customer_id, analysis, entry.get("transcript"))
    if customer is None:
        await show(update, t("not_yours", user.language))
        return
    extra = await coaching.paste_competitors(core, user, customer.id, entry["text"], analysis)  # issue 16
    rows = fb_buttons.card_rows(analysis, user.language)  # 准 / 不准 (issue 13 item 6)
    rows += [row for row in (assist_row(context, user, token, entry["text"], analysis, customer.name),) if row]
    await show(update, render_analysis(analysis, customer.name, user.language) + extra,
               InlineKeyboardMarkup(rows) if rows else None)


def render_analysis(analysis, name: str, lang: str) -> str:
    level = analysis.level_zh if lang != "en" else analysis.level
    reasons = "\n".join(f"• {'+' if r.effect > 0 else ''}{r.effect} {esc(r.phrase)}：「{esc(views.short(r.quote, 60))}」"
                        for r in analysis.reasons[:5])
    objections = "\n".join(
        f"• <b>{esc(o.label_en if lang == 'en' else o.label_zh)}</b>：「{esc(views.short(o.quote, 50))}」\n  💬 {esc(o.script)}"
        for o in analysis.objections[:4])
    kind = getattr(analysis, "kind", "sales")
    note = t(f"nlp_kind_{kind}", lang) if kind not in ("sales", "junk") else ""
    return t("analysis", lang, name=name, level=level, score=analysis.score,
             reasons=Raw(t("analysis_reasons", lang, lines=Raw(reasons)) if reasons else ""),
             objections=Raw(t("analysis_objections", lang, lines=Raw(objections)) if objections else ""),
             keywords=Raw(t("analysis_keywords", lang, words="、".join(analysis.keywords[:8])) if analysis.keywords else "")) + note


HANDLERS = [
    MessageHandler(filters.ChatType.PRIVATE & (filters.TEXT | filters.CAPTION) & ~filters.COMMAND & _PasteFilter(),
                   on_paste),
    CallbackQueryHandler(on_pick_speaker, pattern=PickSpeaker.pattern()),
]
