"""Bot API methods about the bot itself, chats, files, callbacks, plus the generic fallback.

Why: PTB calls ``getMe`` on start, bots set commands per scope and language, answer callback
queries within a time window, and fetch uploaded files. Every other method of the spec gets a
generic answer after its required parameters are checked, so a bot never sees a 404 for a real
method and PTB can still deserialise the result.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from tgfake.api_common import (HANDLERS, MESSAGE_METHODS, Call, api_method, resolve_chat_id,
                               target_chat)
from tgfake.api_messages import generic_send
from tgfake.errors import bad_request, invalid
from tgfake.media import MAX_GETFILE_BYTES
from tgfake.world import Group, now_ts

CHAT_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice",
                "upload_voice", "upload_document", "choose_sticker", "find_location",
                "record_video_note", "upload_video_note"}
SCOPE_TYPES = {"default", "all_private_chats", "all_group_chats", "all_chat_administrators",
               "chat", "chat_administrators", "chat_member"}
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_TEXT_LIMITS = {"description": 512, "short_description": 120, "name": 64}
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


@api_method("getMe")
async def get_me(call: Call) -> dict[str, Any]:
    """The bot's User object with the bot-only capability flags."""
    return {**call.bot.user(), "can_join_groups": True,
            "can_read_all_group_messages": not call.bot.privacy_mode,
            "supports_inline_queries": False, "can_connect_to_business": True,
            "has_main_web_app": False}


@api_method("logOut", "close")
async def log_out(call: Call) -> bool:
    """Accepted; the fake keeps serving the token afterwards."""
    return True


@api_method("getChat")
async def get_chat(call: Call) -> dict[str, Any]:
    """ChatFullInfo: the Chat object plus the fields ChatFullInfo requires."""
    chat = target_chat(call, sending=False)
    info = {**call.tg.spec.minimal("ChatFullInfo"), **chat}
    info["max_reaction_count"] = 11
    group = call.world.groups.get(chat["id"])
    if group and group.migrated_from:
        info["migrated_from_chat_id"] = group.migrated_from
    return info


def _member(call: Call, group: Group | None, user_id: int) -> dict[str, Any]:
    if user_id == call.bot.id:
        status = group.status_of(call.bot.id) if group else "member"
        return {"status": status, "user": call.bot.user(),
                **({"until_date": 0} if status == "kicked" else {})}
    user = call.world.users.get(user_id)
    if user is None:
        raise bad_request("user not found")
    if group is None:
        status = "member"
    elif group.members and group.members[0] == user_id:
        return {"status": "creator", "user": user.to_api(), "is_anonymous": False}
    else:
        status = "member" if user_id in group.members else "left"
    return {"status": status, "user": user.to_api()}


@api_method("getChatMember")
async def get_chat_member(call: Call) -> dict[str, Any]:
    """Minimal ChatMember: creator (first member), member, left or the bot's own status."""
    chat = target_chat(call, sending=False)
    return _member(call, call.world.groups.get(chat["id"]), int(call.get("user_id", 0)))


@api_method("getChatMemberCount")
async def get_chat_member_count(call: Call) -> int:
    """Members of the group plus the bot (2 for a private chat)."""
    chat = target_chat(call, sending=False)
    group = call.world.groups.get(chat["id"])
    return len(group.members) + 1 if group else 2


@api_method("getFile")
async def get_file(call: Call) -> dict[str, Any]:
    """File object whose file_path is served under /file/bot<token>/."""
    stored = call.world.files.get(str(call.get("file_id", "")))
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.size > MAX_GETFILE_BYTES:
        raise bad_request("file is too big")
    return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
            "file_size": stored.size, "file_path": stored.file_path}


@api_method("sendChatAction")
async def send_chat_action(call: Call) -> bool:
    """'typing' & co; the chat must be reachable, no flood limit."""
    action = call.get("action")
    if action not in CHAT_ACTIONS:
        raise invalid("wrong parameter action in request")
    chat = target_chat(call)
    call.bot.chat_actions.append({"chat_id": chat["id"], "action": action})
    return True


@api_method("answerCallbackQuery")
async def answer_callback_query(call: Call) -> bool:
    """Answers a callback query once, within the answer window (real seconds)."""
    text = call.get("text")
    if text is not None and len(str(text)) > 200:
        raise invalid("MESSAGE_TOO_LONG")
    record = call.bot.callbacks.get(str(call.get("callback_query_id")))
    age = time.monotonic() - record.created if record else 0.0
    if record is None or record.answered or age > call.tg.callback_answer_window_s:
        raise bad_request(QUERY_TOO_OLD)
    record.answered = True
    record.answer = {"query_id": record.query_id, "user_id": record.user_id, "text": text,
                     "show_alert": bool(call.get("show_alert")), "url": call.get("url"),
                     "cache_time": call.get("cache_time")}
    return True


# --------------------------------------------------------------------------- commands

def _scope_key(call: Call) -> str:
    scope = call.params.get("scope") or {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in SCOPE_TYPES:
        raise invalid("can't parse BotCommandScope: unsupported scope type")
    if scope["type"].startswith("chat"):
        sub = Call(call.tg, call.bot, call.method, scope, {})
        scope = {**scope, "chat_id": resolve_chat_id(sub)}
        target_chat(sub, sending=False)
    return json.dumps(scope, sort_keys=True)


def _command_key(call: Call) -> tuple[str, str]:
    language = call.get("language_code", "")
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise invalid("LANG_CODE_INVALID")
    return _scope_key(call), language


def _check_commands(commands: Any) -> list[dict[str, Any]]:
    if not isinstance(commands, list):
        raise invalid("can't parse commands JSON object")
    if len(commands) > 100:
        raise invalid("too many commands specified")
    for item in commands:
        if not isinstance(item, dict) or not _COMMAND.fullmatch(str(item.get("command", ""))):
            raise invalid("BOT_COMMAND_INVALID")
        if not 1 <= len(str(item.get("description", "")).strip()) <= 256:
            raise invalid("BOT_COMMAND_DESCRIPTION_INVALID")
    return [{"command": c["command"], "description": c["description"]} for c in commands]


@api_method("setMyCommands")
async def set_my_commands(call: Call) -> bool:
    """Stores the list for exactly this scope + language_code."""
    commands = _check_commands(call.params.get("commands"))
    call.bot.commands[_command_key(call)] = commands
    return True


@api_method("getMyCommands")
async def get_my_commands(call: Call) -> list[dict[str, Any]]:
    """The list stored for exactly this scope + language_code (empty if none)."""
    return call.bot.commands.get(_command_key(call), [])


@api_method("deleteMyCommands")
async def delete_my_commands(call: Call) -> bool:
    """Removes the list for this scope + language_code."""
    call.bot.commands.pop(_command_key(call), None)
    return True


# --------------------------------------------------------------------------- profile texts

@api_method("setMyDescription", "setMyShortDescription", "setMyName")
async def set_my_text(call: Call) -> bool:
    """Stores description / short description / name per language."""
    field = {"setmydescription": "description", "setmyshortdescription": "short_description",
             "setmyname": "name"}[call.method.lower()]
    value = str(call.get(field, ""))
    if len(value) > _TEXT_LIMITS[field]:
        raise invalid(f"{field.replace('_', ' ')} is too long")
    call.bot.texts[(field, call.get("language_code", ""))] = value
    return True


@api_method("getMyDescription", "getMyShortDescription", "getMyName")
async def get_my_text(call: Call) -> dict[str, str]:
    """BotDescription / BotShortDescription / BotName."""
    field = {"getmydescription": "description", "getmyshortdescription": "short_description",
             "getmyname": "name"}[call.method.lower()]
    language = call.get("language_code", "")
    default = call.bot.first_name if field == "name" else ""
    return {field: call.bot.texts.get((field, language), default)}


@api_method("getBusinessConnection")
async def get_business_connection(call: Call) -> dict[str, Any]:
    """A connection created with the control API's business_connect()."""
    connection = call.bot.business.get(str(call.get("business_connection_id")))
    if connection is None:
        raise invalid("BUSINESS_CONNECTION_INVALID")
    return connection


# --------------------------------------------------------------------------- fallback

async def generic_method(call: Call) -> Any:
    """Any spec method without a dedicated handler: checks the chat, returns a minimal result."""
    method = call.tg.spec.method(call.method)
    returns = method.returns if method else ("Boolean",)
    if "Message" in returns and call.method.lower() in MESSAGE_METHODS:
        return await generic_send(call)
    if call.get("chat_id") is not None:
        target_chat(call, sending=False)
    if "Message" in returns and "Boolean" in returns:  # edit-like: Message, or True if inline
        return _edited_message(call)
    if "Boolean" in returns or not returns:
        return True
    first = returns[0]
    if first == "String":
        return f"https://t.me/+{call.world.token('', 16)}"
    if first == "Integer":
        return 0
    return call.tg.spec.minimal(first)


def _edited_message(call: Call) -> dict[str, Any] | bool:
    if call.get("inline_message_id") or not call.get("chat_id"):
        return True
    message = call.bot.find(resolve_chat_id(call), int(call.get("message_id", 0)))
    if message is None:
        raise bad_request("message to edit not found")
    message.api["edit_date"] = now_ts()
    message.edits += 1
    return message.api


def handler_for(name: str) -> Any:
    """The handler of a method: a dedicated one, else the generic one for spec methods."""
    return HANDLERS.get(name.lower())
