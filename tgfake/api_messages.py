"""Bot API methods that create, change or delete messages.

Why: these are the calls a sales bot makes all day (cards, buttons, edits on click, charts,
exports). Each one validates, checks the target chat and the flood limits, and only then
stores the message, so ``FakeTelegram.sent()`` shows exactly what a user would see.
"""

from __future__ import annotations

from typing import Any

from tgfake import media
from tgfake.api_common import (Call, api_method, caption, check_flood, file_reference,
                               formatted, input_file, new_message, reply_markup, reply_to,
                               store_upload, target_chat)
from tgfake.errors import bad_request, invalid
from tgfake.params import Upload
from tgfake.world import StoredMessage, now_ts

_MEDIA_TYPES = {"animation": "Animation", "video": "Video", "audio": "Audio", "voice": "Voice",
                "video_note": "VideoNote", "sticker": "Sticker"}
NOT_MODIFIED = ("message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message")


@api_method("sendMessage")
async def send_message(call: Call) -> dict[str, Any]:
    """Sends a text message."""
    text, entities = formatted(call, "text")
    markup = reply_markup(call)
    chat = target_chat(call)
    reply = reply_to(call, chat["id"])
    check_flood(call, chat["id"])
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    return new_message(call, chat, content, kind="text", markup=markup, reply=reply).api


@api_method("sendPhoto")
async def send_photo(call: Call) -> dict[str, Any]:
    """Sends a photo; the bytes must be a decodable image."""
    content, markup = caption(call), reply_markup(call)
    stored = input_file(call, "photo")
    chat = target_chat(call)
    reply = reply_to(call, chat["id"])
    check_flood(call, chat["id"])
    content["photo"] = media.photo_sizes(call.world, stored)
    return new_message(call, chat, content, kind="photo", markup=markup, reply=reply,
                       file_id=stored.file_id).api


@api_method("sendDocument")
async def send_document(call: Call) -> dict[str, Any]:
    """Sends a general file."""
    return await _send_file(call, "document", lambda stored: media.file_object(stored))


@api_method("sendAnimation", "sendVideo", "sendAudio", "sendVoice", "sendVideoNote",
            "sendSticker")
async def send_media(call: Call) -> dict[str, Any]:
    """Sends other media; the object is the spec's minimal one plus the real file fields."""
    field = next(name for name in _MEDIA_TYPES if name.replace("_", "") ==
                 call.method.lower()[len("send"):])
    base = call.tg.spec.minimal(_MEDIA_TYPES[field])
    return await _send_file(call, field, lambda stored: media.file_object(stored, **{
        k: v for k, v in base.items() if k not in ("file_id", "file_unique_id")}))


async def _send_file(call: Call, field: str, make: Any) -> dict[str, Any]:
    content = caption(call) if field not in ("sticker", "video_note") else {}
    markup = reply_markup(call)
    stored = input_file(call, field)
    chat = target_chat(call)
    reply = reply_to(call, chat["id"])
    check_flood(call, chat["id"])
    content[field] = make(stored)
    return new_message(call, chat, content, kind=field, markup=markup, reply=reply,
                       file_id=stored.file_id).api


@api_method("sendMediaGroup")
async def send_media_group(call: Call) -> list[dict[str, Any]]:
    """Sends an album of 2-10 items; each item is a message counted by the flood limits."""
    items = call.params.get("media")
    if not isinstance(items, list) or not 2 <= len(items) <= 10:
        raise invalid("wrong number of media items specified: must be 2-10")
    resolved = [_album_item(call, item) for item in items]
    chat = target_chat(call)
    reply = reply_to(call, chat["id"])
    check_flood(call, chat["id"], n=len(resolved))
    group_id = call.world.token("", 18)
    messages = []
    for kind, stored, content in resolved:
        content = {**content, "media_group_id": group_id}
        content[kind] = media.photo_sizes(call.world, stored) if kind == "photo" \
            else media.file_object(stored)
        messages.append(new_message(call, chat, content, kind=kind, reply=reply,
                                    file_id=stored.file_id).api)
    return messages


def _album_item(call: Call, item: Any) -> tuple[str, Any, dict[str, Any]]:
    if not isinstance(item, dict) or item.get("type") not in ("photo", "video", "audio",
                                                              "document"):
        raise invalid("can't parse InputMedia: Media type must be one of photo, video, audio, "
                      "document")
    kind, ref = item["type"], item.get("media")
    if isinstance(ref, str) and ref.startswith("attach://"):
        upload: Upload | None = call.uploads.get(ref[len("attach://"):])
        if upload is None:
            raise invalid(f"there is no {kind} in the request")
        stored = store_upload(call.world, upload, kind)
    else:
        stored = file_reference(call.world, ref, kind)
    sub = Call(call.tg, call.bot, call.method, item, {})
    return kind, stored, caption(sub)


def _content_of(message: StoredMessage) -> dict[str, Any]:
    keep = ("text", "entities", "caption", "caption_entities", "photo", "document", "video",
            "audio", "animation", "voice", "video_note", "sticker", "location", "contact",
            "venue", "poll", "dice")
    return {k: v for k, v in message.api.items() if k in keep}


def _source_message(call: Call, missing: str) -> StoredMessage:
    from_chat = target_chat(call, "from_chat_id", sending=False)
    source = call.bot.find(from_chat["id"], int(call.get("message_id", 0)))
    if source is None:
        raise bad_request(missing)
    return source


@api_method("copyMessage")
async def copy_message(call: Call) -> dict[str, Any]:
    """Copies a known message without a link to the original; returns its MessageId."""
    source = _source_message(call, "message to copy not found")
    markup = reply_markup(call)
    content = _content_of(source)
    if call.params.get("caption") is not None:
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update(caption(call))
    chat = target_chat(call)
    check_flood(call, chat["id"])
    copy = new_message(call, chat, content, kind=source.kind, markup=markup,
                       reply=reply_to(call, chat["id"]), file_id=source.file_id)
    return {"message_id": copy.message_id}


@api_method("forwardMessage")
async def forward_message(call: Call) -> dict[str, Any]:
    """Forwards a known message; the copy carries forward_origin."""
    source = _source_message(call, "message to forward not found")
    chat = target_chat(call)
    check_flood(call, chat["id"])
    sender = source.api.get("from") or call.bot.user()
    content = _content_of(source)
    content["forward_origin"] = {"type": "user", "date": source.api["date"],
                                 "sender_user": sender}
    return new_message(call, chat, content, kind=source.kind, file_id=source.file_id).api


def _simple_content(call: Call) -> dict[str, Any]:
    """Content of sendLocation/sendVenue/sendContact/sendDice/sendPoll (others: none)."""
    method, get, spec = call.method, call.get, call.tg.spec
    location = {"latitude": float(get("latitude", 0.0)), "longitude": float(get("longitude",
                                                                                 0.0))}
    if method == "sendLocation":
        return {"location": location}
    if method == "sendVenue":
        return {"location": location, "venue": {"location": location, "title": get("title"),
                                                "address": get("address")}}
    if method == "sendContact":
        contact = {"phone_number": get("phone_number"), "first_name": get("first_name")}
        return {"contact": {**contact, **({"last_name": get("last_name")}
                                          if get("last_name") else {})}}
    if method == "sendDice":
        emoji = get("emoji", "\N{GAME DIE}")
        return {"dice": {"emoji": emoji, "value": call.world.rng.randint(1, 6)}}
    if method == "sendPoll":
        return {"poll": _poll(call, spec.minimal("Poll"))}
    return {}


def _poll(call: Call, base: dict[str, Any]) -> dict[str, Any]:
    options = [{"persistent_id": str(i), "text": o.get("text") if isinstance(o, dict) else str(o),
                "voter_count": 0} for i, o in enumerate(call.params.get("options") or [])]
    return {**base, "id": call.world.token("", 19), "question": call.get("question"),
            "options": options, "is_anonymous": bool(call.params.get("is_anonymous", True)),
            "type": call.get("type", "regular")}


async def generic_send(call: Call) -> dict[str, Any]:
    """Any other Message-returning send method: checks, limits and a plausible message."""
    markup = reply_markup(call)
    chat = target_chat(call)
    check_flood(call, chat["id"])
    kind = call.method[len("send"):].lower() if call.method.startswith("send") else "other"
    return new_message(call, chat, _simple_content(call), kind=kind, markup=markup,
                       reply=reply_to(call, chat["id"])).api


api_method("sendLocation", "sendVenue", "sendContact", "sendDice", "sendPoll")(generic_send)


# --------------------------------------------------------------------------- edits


def edit_target(call: Call) -> StoredMessage | None:
    """The bot message an edit refers to; None for inline messages (answered with True)."""
    if call.get("inline_message_id"):
        return None
    if not call.get("chat_id"):
        raise invalid("chat_id is empty")
    if not call.get("message_id"):
        raise invalid("message identifier is not specified")
    chat = target_chat(call, sending=False)
    message = call.bot.find(chat["id"], int(call.get("message_id")))
    if message is None:
        raise bad_request("message to edit not found")
    if not message.outgoing:
        raise bad_request("message can't be edited")
    return message


def _apply_edit(message: StoredMessage, content: dict[str, Any],
                markup: dict[str, Any] | None) -> dict[str, Any]:
    """Telegram: omitting reply_markup in an edit removes the inline keyboard."""
    unchanged = all((message.api.get(k) or None) == (v or None) for k, v in content.items()) and \
        (message.markup or None) == (markup or None)
    if unchanged:
        raise bad_request(NOT_MODIFIED)
    for key, value in content.items():
        if value:
            message.api[key] = value
        else:
            message.api.pop(key, None)
    message.markup = markup
    if markup and markup.get("inline_keyboard"):
        message.api["reply_markup"] = markup
    else:
        message.api.pop("reply_markup", None)
    message.api["edit_date"] = now_ts()
    message.edits += 1
    return message.api


@api_method("editMessageText")
async def edit_message_text(call: Call) -> dict[str, Any] | bool:
    """Replaces the text (and the inline keyboard: absent reply_markup removes it)."""
    text, entities = formatted(call, "text")
    markup = reply_markup(call, inline_only=True)
    message = edit_target(call)
    if message is None:
        return True
    if message.kind != "text":
        raise bad_request("there is no text in the message to edit")
    message.parse_mode = call.get("parse_mode")
    return _apply_edit(message, {"text": text, "entities": entities}, markup)


@api_method("editMessageCaption")
async def edit_message_caption(call: Call) -> dict[str, Any] | bool:
    """Replaces the caption of a media message."""
    content = caption(call)
    markup = reply_markup(call, inline_only=True)
    message = edit_target(call)
    if message is None:
        return True
    if message.kind == "text":
        raise bad_request("there is no caption in the message to edit")
    content = {"caption": content.get("caption"),
               "caption_entities": content.get("caption_entities")}
    return _apply_edit(message, content, markup)


@api_method("editMessageReplyMarkup")
async def edit_message_reply_markup(call: Call) -> dict[str, Any] | bool:
    """Replaces only the inline keyboard."""
    markup = reply_markup(call, inline_only=True)
    message = edit_target(call)
    if message is None:
        return True
    return _apply_edit(message, {}, markup)


@api_method("deleteMessage")
async def delete_message(call: Call) -> bool:
    """Deletes a message (the bot's own, or any in a private chat)."""
    chat = target_chat(call, sending=False)
    message = call.bot.find(chat["id"], int(call.get("message_id", 0)))
    if message is None:
        raise bad_request("message to delete not found")
    message.deleted = True
    return True


@api_method("deleteMessages")
async def delete_messages(call: Call) -> bool:
    """Deletes the known messages among 1-100 ids; unknown ones are skipped, like Telegram."""
    chat = target_chat(call, sending=False)
    ids = call.params.get("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise invalid("message_ids must be a non-empty list of at most 100 identifiers")
    for message_id in ids:
        message = call.bot.find(chat["id"], int(message_id))
        if message is not None:
            message.deleted = True
    return True
