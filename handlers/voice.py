"""Voice notes, audio files, video notes and uploaded call recordings → text the rep confirms.

The audio goes to the speech service (services/speech.py) only when the team's playbook allows it;
the transcript comes back to the rep first (✅ use · ✏️ edit), and only then takes the roads typed
text takes: a short note → the one-line update parser and its confirmation; a call → the
conversation analysis. A failure leaves the audio where it is (the message stays in the chat and
its file id in the rep's session) with a 🔁 button; a transcript is used once, however often its
button is pressed.
"""
from __future__ import annotations

import logging
import secrets
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters

from core.callbacks import VoiceAct, decode
from core.clock import to_local
from core.texts import t, tp
from handlers.background import in_background
from handlers.common import MAX_INPUT_CHARS, clip, core_of, in_flight, member_only, reply, safe_answer, show
from handlers.prompts import Prompt, clear_prompt, dispatch_prompt, set_prompt, step
from services import audio
from services.resilience import ServiceError
from services.speech import SpeechService
from storage.models import User

log = logging.getLogger(__name__)
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # Bot API getFile limit
MAX_JOBS = 10
SHOWN_CHARS = 3000
RETRYABLE = ("timeout", "unavailable", "rate_limited", "circuit_open", "bad_response", "download")
_MISSING = object()


def speech_of(context: ContextTypes.DEFAULT_TYPE) -> SpeechService | None:
    """The speech service from the environment, built once per application (None: not configured)."""
    data = context.application.bot_data
    service = data.get("speech", _MISSING)
    if service is _MISSING:
        service = SpeechService.from_env(core_of(context).config, db=core_of(context).db)
        data["speech"] = service
        if service is not None:
            data.setdefault("closers", []).append(service.close)
    return service


def _attachment(message: Message) -> tuple[Any, str] | None:
    """(the Telegram file object, kind) — kind is note for voice/video notes, call for uploads."""
    if message.voice:
        return message.voice, "note"
    if message.video_note:
        return message.video_note, "note"
    if message.audio:
        return message.audio, "call"
    if message.document:
        return message.document, "call"
    return None


@member_only()
async def on_audio(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    with in_flight(context):
        await _on_audio(update, context, user)


async def _on_audio(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    found = _attachment(update.effective_message)
    if found is None:
        return
    media, kind = found
    lang = user.language
    size = media.file_size or 0
    if size > MAX_DOWNLOAD_BYTES:
        await reply(update, t("voice_too_large", lang, mb=f"{size / 1024 / 1024:.1f}"))
        return
    service = speech_of(context)
    if service is None:
        await reply(update, t("voice_not_configured", lang))
        return
    if not core.config.privacy.audio_may_leave:
        await reply(update, t("voice_not_allowed", lang))
        return
    duration = int(getattr(media, "duration", 0) or 0)
    if duration > core.config.speech.note_max_seconds:
        kind = "call"
    job = {"file_id": media.file_id, "kind": kind, "duration": duration}
    token = _store_job(context, job)
    status = await reply(update, t("voice_working", lang, seconds=duration or "…"))
    in_background(update, context, _transcribe(update, context, user, token, job, status), "voice")


def _store_job(context: ContextTypes.DEFAULT_TYPE, job: dict) -> str:
    jobs: dict = context.user_data.setdefault("voice", {})
    while len(jobs) >= MAX_JOBS:
        jobs.pop(next(iter(jobs)))
    token = secrets.token_hex(4)
    jobs[token] = job
    return token


async def _say(update: Update, status: Message | None, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the "transcribing…" line (or the card whose button was pressed) with the outcome."""
    if status is not None:
        try:
            await status.edit_text(clip(text), parse_mode="HTML", reply_markup=markup, disable_web_page_preview=True)
            return
        except BadRequest as exc:
            log.info("status message not editable (%s); sending a new one", exc)
    await show(update, text, markup)


async def _transcribe(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, token: str, job: dict,
                      status: Message | None) -> None:
    try:
        await _transcribe_once(update, context, user, token, job, status)
    finally:
        job.pop("retrying", None)


async def _transcribe_once(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, token: str, job: dict,
                           status: Message | None) -> None:
    core = core_of(context)
    lang = user.language
    service = speech_of(context)
    retry = InlineKeyboardMarkup([[InlineKeyboardButton(tp("btn_voice_retry", lang),
                                                        callback_data=VoiceAct(token, "retry").encode())]])
    if service is None or not core.config.privacy.audio_may_leave:
        context.user_data.get("voice", {}).pop(token, None)
        await _say(update, status, t("voice_not_configured" if service is None else "voice_not_allowed", lang))
        return
    try:
        file = await context.bot.get_file(job["file_id"])
        data = bytes(await file.download_as_bytearray())
    except BadRequest as exc:
        if "too big" in str(exc).lower():
            context.user_data.get("voice", {}).pop(token, None)
            await _say(update, status, t("voice_too_large", lang, mb="> 20"))
            return
        log.warning("voice download refused: %s", exc)
        await _say(update, status, t("voice_download_failed", lang), retry)
        return
    except TelegramError as exc:
        log.warning("voice download failed: %s", exc)
        await _say(update, status, t("voice_download_failed", lang), retry)
        return
    day = to_local(core.clock.now(), core.config.tz).strftime("%Y-%m-%d")
    try:
        result = await service.transcribe(data, day, language="en" if lang == "en" else "zh")
    except audio.AudioError as exc:
        context.user_data.get("voice", {}).pop(token, None)
        if exc.kind == "too_long":
            await _say(update, status, t("voice_too_long", lang, minutes=round(exc.seconds / 60),
                                         max=core.config.speech.max_audio_seconds // 60))
        else:
            await _say(update, status, t("voice_bad_audio", lang))
        return
    except ServiceError as exc:
        log.warning("speech service failed for update %s: %s", update.update_id, exc)
        keep = exc.kind in RETRYABLE
        if not keep:
            context.user_data.get("voice", {}).pop(token, None)
        wait = round(exc.retry_after) if exc.retry_after else 30
        await _say(update, status, t(f"voice_err_{exc.kind}", lang, seconds=max(1, wait)), retry if keep else None)
        return
    if not result.text:
        context.user_data.get("voice", {}).pop(token, None)
        await _say(update, status, t("voice_empty", lang))
        return
    job["text"] = result.text
    job["seconds"] = result.seconds
    await _say(update, status, transcript_card(job, lang), _transcript_keyboard(token, job, lang))


def transcript_card(job: dict, lang: str) -> str:
    text = job["text"]
    shown = text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"
    if job["kind"] == "call":
        return t("voice_call_transcript", lang, text=shown, minutes=f"{job['seconds'] / 60:.1f}")
    return t("voice_note_transcript", lang, text=shown, seconds=round(job["seconds"]))


def _transcript_keyboard(token: str, job: dict, lang: str) -> InlineKeyboardMarkup:
    use = "btn_voice_analyse" if job["kind"] == "call" else "btn_voice_use"
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(tp(use, lang), callback_data=VoiceAct(token, "ok").encode()),
        InlineKeyboardButton(tp("btn_voice_edit", lang), callback_data=VoiceAct(token, "edit").encode())]])


@member_only()
async def on_act(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    data = decode(update.callback_query.data)
    await safe_answer(update.callback_query)
    jobs: dict = context.user_data.setdefault("voice", {})
    token = getattr(data, "token", None)
    job = jobs.get(token) if isinstance(data, VoiceAct) else None
    if job is None or data.action not in ("ok", "edit", "retry") or (data.action != "retry") != ("text" in job) \
            or (data.action == "retry" and job.get("retrying")):
        await show(update, t("update_expired", user.language))
        return
    with in_flight(context):
        if data.action == "retry":
            job["retrying"] = True
            await show(update, t("voice_working", user.language, seconds=job.get("duration") or "…"))
            in_background(update, context, _transcribe(update, context, user, token, job, None), "voice")
        elif data.action == "edit":
            set_prompt(context, "voice_edit", token=token)
            await show(update, t("voice_edit_prompt", user.language, text=job["text"][:SHOWN_CHARS]))
        else:
            jobs.pop(token, None)  # used once: a second press finds nothing
            await use_text(update, context, user, job["kind"], job["text"])


@step("voice_edit")
async def _edited(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, prompt: Prompt, text: str) -> None:
    clear_prompt(context)
    job = context.user_data.get("voice", {}).pop(prompt.data.get("token"), None)
    if job is None or not text.strip():
        await reply(update, t("update_expired", user.language))
        return
    await use_text(update, context, user, job["kind"], text.strip())


async def use_text(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, kind: str, text: str) -> None:
    """The confirmed transcript takes the road typed text takes: the question the bot is waiting
    on (a /new step, a follow-up log, a field), else an update or a conversation to analyse."""
    from handlers.paste import start_analysis
    from handlers.updates import handle_quick_update
    from services.quick_update import looks_like_update
    waiting = context.user_data.get("prompt")
    if kind == "note" and isinstance(waiting, Prompt) and waiting.kind != "voice_edit" \
            and await dispatch_prompt(update, context, user, text[:MAX_INPUT_CHARS]):
        return
    if kind == "note" and looks_like_update(text):
        await handle_quick_update(update, context, user, text)
    else:
        await start_analysis(update, context, user, text, forward_origin=None)


HANDLERS = [
    MessageHandler(filters.ChatType.PRIVATE & (filters.VOICE | filters.AUDIO | filters.VIDEO_NOTE
                                               | filters.Document.AUDIO | filters.Document.VIDEO), on_audio),
    CallbackQueryHandler(on_act, pattern=VoiceAct.pattern()),
]
