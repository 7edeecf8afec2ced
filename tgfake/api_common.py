"""Shared plumbing for Bot API method handlers: the call context, registry and checks.

Why: every message-producing method runs the same checks in the same order — parameters,
text/markup validation, target chat (unknown, blocked, never started, kicked, migrated), flood
limit — and only then has an effect. Keeping those steps here makes each handler a short,
readable list of them, and guarantees a rejected call never changes state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from tgfake import media
from tgfake.entities import EntityParseError, format_text, utf16_len
from tgfake.errors import (bad_request, chat_error, forbidden, invalid, too_many_requests)
from tgfake.markup import parse_reply_markup
from tgfake.params import Upload
from tgfake.world import BotState, StoredFile, StoredMessage, World, now_ts

if TYPE_CHECKING:
    from tgfake.server import FakeTelegram

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
# Methods that put a message into a chat: the ones the flood limits count.
MESSAGE_METHODS = frozenset(name.lower() for name in (
    "sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "copyMessage",
    "forwardMessage", "sendAnimation", "sendVideo", "sendAudio", "sendVoice", "sendSticker",
    "sendLocation", "sendContact", "sendPoll", "sendDice", "sendVideoNote", "sendVenue",
    "sendInvoice", "sendGame", "sendPaidMedia", "sendChecklist", "copyMessages",
    "forwardMessages"))
_FOLDERS = {"photo": "photos", "document": "documents", "video": "videos", "audio": "music",
            "animation": "animations", "voice": "voice", "video_note": "video_notes",
            "sticker": "stickers"}


@dataclass
class Call:
    """One API request being handled: who, what, with which (typed) parameters."""

    tg: "FakeTelegram"
    bot: BotState
    method: str
    params: dict[str, Any]
    uploads: dict[str, Upload]
    description: str | None = None  # optional top-level "description" of an ok answer

    @property
    def world(self) -> World:
        """The shared world."""
        return self.tg.world

    def get(self, name: str, default: Any = None) -> Any:
        """A parameter, treating an empty string as absent (like Telegram)."""
        value = self.params.get(name)
        return default if value is None or value == "" else value


Handler = Callable[[Call], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {}


def api_method(*names: str) -> Callable[[Handler], Handler]:
    """Registers a handler under one or more (case-insensitive) method names."""
    def register(handler: Handler) -> Handler:
        for name in names:
            HANDLERS[name.lower()] = handler
        return handler
    return register


# --------------------------------------------------------------------------- chats

def resolve_chat_id(call: Call, key: str = "chat_id") -> int:
    """chat_id parameter -> numeric id (``@username`` works for public groups)."""
    raw = call.params.get(key)
    if raw is None or raw == "":
        raise invalid("chat_id is empty")
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    text = str(raw).strip()
    if text.startswith("@"):
        group = call.world.group_by_username(text)
        if group is None:
            raise chat_error("chat not found")
        return group.id
    try:
        return int(text)
    except ValueError:
        raise chat_error("chat not found") from None


def target_chat(call: Call, key: str = "chat_id", *, sending: bool = True) -> dict[str, Any]:
    """The Chat object a call is aimed at, after Telegram's reachability checks."""
    chat_id = resolve_chat_id(call, key)
    if chat_id > 0:
        return _private_target(call, chat_id, sending)
    group = call.world.groups.get(chat_id)
    if group is None:
        raise chat_error("chat not found")
    if group.migrated_to:
        raise chat_error("group chat was upgraded to a supergroup chat",
                         migrate_to_chat_id=group.migrated_to)
    if sending:
        status, kind = group.status_of(call.bot.id), group.type
        if status == "kicked":
            raise forbidden(f"bot was kicked from the {kind} chat")
        if status == "left":
            raise forbidden(f"bot is not a member of the {kind} chat")
    return group.to_api()


def _private_target(call: Call, chat_id: int, sending: bool) -> dict[str, Any]:
    user = call.world.users.get(chat_id)
    if user is None:
        raise chat_error("chat not found")
    if sending:
        if user.is_bot:
            raise forbidden("bot can't send messages to bots")
        if call.get("business_connection_id"):
            business_connection(call)
        elif chat_id in call.bot.blocked:
            raise forbidden("bot was blocked by the user")
        elif chat_id not in call.bot.started:
            raise forbidden("bot can't initiate conversation with a user")
    return user.private_chat()


def business_connection(call: Call) -> dict[str, Any]:
    """The business connection a call acts through; it must exist, be enabled, allow replies."""
    connection = call.bot.business.get(str(call.get("business_connection_id")))
    if connection is None:
        raise invalid("BUSINESS_CONNECTION_INVALID")
    if not connection["is_enabled"]:
        raise bad_request("BUSINESS_CONNECTION_INVALID")
    if not connection.get("rights", {}).get("can_reply"):
        raise forbidden("BOT_BUSINESS_MISSING")
    return connection


# --------------------------------------------------------------------------- content checks

def formatted(call: Call, field: str, *, mode_field: str = "parse_mode",
              entities_field: str = "entities", limit: int = TEXT_LIMIT,
              too_long: str = "message is too long",
              required: bool = True) -> tuple[str | None, list[dict[str, Any]]]:
    """Text after parse_mode/entities, trimmed, checked against empty/too long."""
    raw = call.params.get(field)
    if raw is None or raw == "":
        if required:
            raise invalid("message text is empty")
        return None, []
    try:
        text, entities = format_text(str(raw), call.get(mode_field),
                                     call.params.get(entities_field),
                                     strict_amp=call.tg.strict_html_amp)
    except KeyError:
        raise invalid("unsupported parse_mode") from None
    except EntityParseError as exc:
        raise invalid(f"can't parse entities: {exc}") from None
    if not text:
        if required:
            raise invalid("message text is empty")
        return None, []
    if utf16_len(text) > limit:
        raise invalid(too_long)
    return text, entities


def caption(call: Call) -> dict[str, Any]:
    """caption/caption_entities content fields (empty dict when there is no caption)."""
    text, entities = formatted(call, "caption", entities_field="caption_entities",
                               limit=CAPTION_LIMIT, too_long="message caption is too long",
                               required=False)
    content: dict[str, Any] = {}
    if text:
        content["caption"] = text
        if entities:
            content["caption_entities"] = entities
    return content


def reply_markup(call: Call, inline_only: bool = False) -> dict[str, Any] | None:
    """The validated reply_markup parameter."""
    return parse_reply_markup(call.params.get("reply_markup"), inline_only)


def reply_to(call: Call, chat_id: int) -> dict[str, Any] | None:
    """reply_parameters / reply_to_message_id -> the replied Message (shallow)."""
    params = call.params.get("reply_parameters")
    if isinstance(params, dict):
        message_id, allow = params.get("message_id"), params.get("allow_sending_without_reply")
        chat_id = params.get("chat_id", chat_id) if isinstance(params.get("chat_id"), int) \
            else chat_id
    elif call.get("reply_to_message_id"):
        message_id, allow = call.get("reply_to_message_id"), call.get(
            "allow_sending_without_reply")
    else:
        return None
    target = call.bot.find(chat_id, int(message_id or 0))
    if target is None:
        if allow:
            return None
        raise bad_request("message to be replied not found")
    return {k: v for k, v in target.api.items() if k != "reply_to_message"}


def input_file(call: Call, name: str) -> StoredFile:
    """Resolves an InputFile-or-String parameter: upload, attach://, file_id or URL."""
    value = call.params.get(name)
    upload = call.uploads.get(name)
    if isinstance(value, str) and value.startswith("attach://"):
        upload = call.uploads.get(value[len("attach://"):])
    if upload is not None:
        return store_upload(call.world, upload, name)
    return file_reference(call.world, value, name)


def store_upload(world: World, upload: Upload, kind: str) -> StoredFile:
    """Validates and stores uploaded bytes (photos are decoded like Telegram does)."""
    if kind == "photo":
        return media.store_photo(world, upload.content)
    media.check_upload_size(upload.content)
    return world.store_file(upload.content, _FOLDERS.get(kind, "documents"),
                            mime_type=media.guess_mime(upload.filename, upload.mime_type),
                            file_name=upload.filename,
                            extension=PurePosixPath(upload.filename).suffix)


def file_reference(world: World, value: Any, kind: str) -> StoredFile:
    """A file given as file_id or HTTP URL (URLs are not fetched: the fake is offline)."""
    if not isinstance(value, str) or not value:
        raise invalid(f"there is no {kind.replace('_', ' ')} in the request")
    stored = world.files.get(value)
    if stored is not None:
        return stored
    if value.startswith(("http://", "https://")):
        name = value.rsplit("/", 1)[-1] or kind
        return world.store_file(None, _FOLDERS.get(kind, "documents"), file_name=name,
                                mime_type=media.guess_mime(name), width=800, height=600)
    raise invalid("wrong file identifier/HTTP URL specified")


# --------------------------------------------------------------------------- effects

def check_flood(call: Call, chat_id: int, n: int = 1) -> None:
    """Takes ``n`` sends from the flood buckets or raises 429 (nothing is taken then)."""
    wait = call.bot.flood.acquire(chat_id, n, paid=bool(call.get("allow_paid_broadcast")))
    if wait > 0:
        call.tg.counters.rate_limited_429 += 1
        raise too_many_requests(call.tg.clock.retry_after(wait))


def new_message(call: Call, chat: dict[str, Any], content: dict[str, Any], *, kind: str,
                markup: dict[str, Any] | None = None, reply: dict[str, Any] | None = None,
                file_id: str | None = None) -> StoredMessage:
    """Creates, stores and counts one bot message; returns it."""
    bot = call.bot
    message: dict[str, Any] = {"message_id": bot.next_message_id(chat["id"]),
                               "from": bot.user(), "chat": chat, "date": now_ts()}
    connection_id = call.get("business_connection_id")
    if connection_id:
        connection = bot.business[str(connection_id)]
        message.update({"from": connection["user"], "sender_business_bot": bot.user(),
                        "business_connection_id": connection_id})
    if reply:
        message["reply_to_message"] = reply
    message.update(content)
    if call.get("protect_content"):
        message["has_protected_content"] = True
    if markup and markup.get("inline_keyboard"):
        message["reply_markup"] = markup
    stored = StoredMessage(chat["id"], message["message_id"], message, True, kind,
                           parse_mode=call.get("parse_mode"), markup=markup, file_id=file_id)
    bot.store(stored)
    call.tg.counters.record_send(stored)
    return stored
