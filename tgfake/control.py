"""The control API: act as Telegram users and set up the world.

Why: an end-to-end test needs someone on the other side of the chat — a rep who sends
``/start``, pastes a forwarded customer message, taps a button, blocks the bot, or a group that
gets migrated. These methods create the same update objects Telegram would and queue them for
the bot (getUpdates or webhook). They are plain Python methods on FakeTelegram and the same
names are served as ``POST /control/<name>`` with JSON keyword arguments (bytes as
``<name>_b64``), so a bot in another process (demo, benchmarks) can be driven too.

Updates are returned as dicts; ``update_id`` is None when the bot would not receive that update
(privacy mode in groups, allowed_updates).
"""

from __future__ import annotations

import base64
import inspect
import json
import time
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tgfake import media
from tgfake.entities import format_text
from tgfake.errors import ApiError
from tgfake.faults import DEFAULT_KINDS, Fault
from tgfake.markup import find_button, inline_buttons
from tgfake.world import BotState, CallbackRecord, Group, StoredMessage, User, now_ts

if TYPE_CHECKING:
    from tgfake.faults import FaultInjector
    from tgfake.world import World

CONTROL_METHODS = (
    "register_bot", "add_user", "add_group", "add_member", "add_bot_to_group",
    "remove_bot_from_group", "send_text", "send_command", "send_forward", "send_document",
    "send_photo", "press_button", "block_bot", "unblock_bot", "migrate_group",
    "business_connect", "business_message", "business_disconnect", "set_faults", "fail_next", "set_latency",
    "set_message_ids",
    "sent", "last_sent", "requests", "calls", "rejected", "errors", "stats", "deliveries",
    "duplicates", "reset_counters", "file_bytes", "callback_answers", "chat_actions",
    "pending_updates", "wait_for_sent", "wait_idle")


class ControlMixin:
    """User/world simulation methods of FakeTelegram."""

    world: "World"
    faults: "FaultInjector"
    timeout_hold_s: float
    api_latency_s: float
    _bots: dict[str, BotState]

    def _bot(self, token: str | None = None) -> BotState:  # provided by the host
        raise NotImplementedError

    # ----------------------------------------------------------------- people and chats

    def add_user(self, user_id: int | None = None, first_name: str = "",
                 last_name: str | None = None, username: str | None = None,
                 language_code: str | None = "zh-hans") -> dict[str, Any]:
        """Creates a user (ids from 100001). The user has not started any bot yet."""
        user = self.world.add_user(user_id, first_name, last_name=last_name,
                                   username=username, language_code=language_code)
        return user.to_api()

    def add_group(self, title: str, chat_id: int | None = None, supergroup: bool = False,
                  member_ids: tuple[int, ...] | list[int] = (), *, username: str | None = None,
                  bot_is_member: bool = True) -> dict[str, Any]:
        """Creates a group (negative id); the first member is its creator."""
        chat_id = chat_id if chat_id is not None else self.world.new_group_id(supergroup)
        group = Group(chat_id, title, "supergroup" if supergroup else "group", username,
                      list(member_ids), default_bot_status="member" if bot_is_member else "left")
        self.world.groups[chat_id] = group
        return group.to_api()

    def add_member(self, group_id: int, user_id: int, by_user_id: int | None = None, *,
                   token: str | None = None) -> dict[str, Any]:
        """A user joins a group: service message with new_chat_members."""
        group, user = self._group(group_id), self._user(user_id)
        if user_id not in group.members:
            group.members.append(user_id)
        actor = self._user(by_user_id) if by_user_id else user
        return self._incoming(self._bot(token), actor, group.to_api(), "service",
                              {"new_chat_members": [user.to_api()]})

    def add_bot_to_group(self, group_id: int, by_user_id: int, *,
                         token: str | None = None) -> dict[str, Any]:
        """The bot is added to a group: my_chat_member update (+ new_chat_members message)."""
        bot, group, actor = self._bot(token), self._group(group_id), self._user(by_user_id)
        old = group.status_of(bot.id)
        group.bot_status[bot.id] = "member"
        update = self._my_chat_member(bot, actor, group.to_api(), old, "member")
        self._incoming(bot, actor, group.to_api(), "service", {"new_chat_members": [bot.user()]})
        return update

    def remove_bot_from_group(self, group_id: int, by_user_id: int, *,
                              token: str | None = None) -> dict[str, Any]:
        """The bot is kicked: my_chat_member update; sends then answer 403."""
        bot, group, actor = self._bot(token), self._group(group_id), self._user(by_user_id)
        old = group.status_of(bot.id)
        group.bot_status[bot.id] = "kicked"
        return self._my_chat_member(bot, actor, group.to_api(), old, "kicked")

    def block_bot(self, user_id: int, *, token: str | None = None) -> dict[str, Any]:
        """The user blocks the bot: my_chat_member update; sends then answer 403."""
        bot, user = self._bot(token), self._user(user_id)
        bot.blocked.add(user_id)
        return self._my_chat_member(bot, user, user.private_chat(), "member", "kicked")

    def unblock_bot(self, user_id: int, *, token: str | None = None) -> dict[str, Any]:
        """The user unblocks (restarts) the bot."""
        bot, user = self._bot(token), self._user(user_id)
        bot.blocked.discard(user_id)
        bot.started.add(user_id)
        return self._my_chat_member(bot, user, user.private_chat(), "kicked", "member")

    def migrate_group(self, chat_id: int, *, token: str | None = None) -> int:
        """Upgrades a basic group to a supergroup; the old id then answers the migrate error."""
        group = self._group(chat_id)
        if group.type != "group" or group.migrated_to:
            raise ValueError(f"chat {chat_id} is not a basic group")
        new_id = self.world.new_group_id(True)
        self.world.groups[new_id] = Group(new_id, group.title, "supergroup", group.username,
                                          list(group.members), migrated_from=chat_id,
                                          default_bot_status=group.default_bot_status,
                                          bot_status=dict(group.bot_status))
        group.migrated_to = new_id
        actor = self.world.users.get(group.members[0]) if group.members else None
        for bot in self._bots.values():
            if group.status_of(bot.id) in ("member", "administrator"):
                self._migration_messages(bot, actor, group, new_id)
        return new_id

    def _migration_messages(self, bot: BotState, actor: User | None, group: Group,
                            new_id: int) -> None:
        new_chat = self.world.groups[new_id].to_api()
        for chat, content in ((group.to_api(), {"migrate_to_chat_id": new_id}),
                              (new_chat, {"migrate_from_chat_id": group.id})):
            self._incoming(bot, actor, chat, "service", content)

    # ----------------------------------------------------------------- messages from users

    def send_text(self, user_id: int, text: str, chat_id: int | None = None,
                  reply_to_message_id: int | None = None, *,
                  token: str | None = None) -> dict[str, Any]:
        """A user sends text (commands get a bot_command entity). Private = user started bot."""
        plain, entities = format_text(text, None)
        if not plain:
            raise ValueError("message text is empty")
        content: dict[str, Any] = {"text": plain}
        if entities:
            content["entities"] = entities
        return self._user_sends(user_id, chat_id, content, "text", reply_to_message_id, token)

    def send_command(self, user_id: int, command: str, args: str = "",
                     chat_id: int | None = None, *, token: str | None = None) -> dict[str, Any]:
        """Convenience: ``/command args``."""
        text = "/" + command.lstrip("/") + (f" {args}" if args else "")
        return self.send_text(user_id, text, chat_id, token=token)

    def send_forward(self, user_id: int, text: str, origin_name: str | None = None,
                     origin_user_id: int | None = None, date: int | None = None, *,
                     token: str | None = None) -> dict[str, Any]:
        """A user forwards someone's message (a customer chat) into the private chat."""
        plain, entities = format_text(text, None)
        date = date or now_ts() - 3600
        content: dict[str, Any] = {"text": plain, "forward_date": date}
        if entities:
            content["entities"] = entities
        if origin_user_id is not None:
            known = self.world.users.get(origin_user_id)
            sender = known.to_api() if known else {"id": origin_user_id, "is_bot": False,
                                                   "first_name": origin_name or "User"}
            content["forward_origin"] = {"type": "user", "date": date, "sender_user": sender}
            content["forward_from"] = sender
        else:
            name = origin_name or "Hidden User"
            content["forward_origin"] = {"type": "hidden_user", "date": date,
                                         "sender_user_name": name}
            content["forward_sender_name"] = name
        return self._user_sends(user_id, None, content, "text", None, token)

    def send_document(self, user_id: int, filename: str, content: bytes,
                      mime_type: str | None = None, caption: str | None = None,
                      chat_id: int | None = None, *, token: str | None = None) -> dict[str, Any]:
        """A user uploads a file; its file_id is downloadable via getFile."""
        stored = self.world.store_file(content, "documents",
                                       mime_type=media.guess_mime(filename, mime_type),
                                       file_name=filename,
                                       extension=PurePosixPath(filename).suffix)
        body = {"document": media.file_object(stored), **self._caption(caption)}
        return self._user_sends(user_id, chat_id, body, "document", None, token, stored.file_id)

    _AUDIO_KINDS = {"voice": ("voice", "audio/ogg", ".oga"), "audio": ("music", "audio/mpeg", ".mp3"),
                    "video_note": ("video_notes", "video/mp4", ".mp4")}

    def send_audio_message(self, user_id: int, kind: str, content: bytes, duration: int,
                           mime_type: str | None = None, file_name: str | None = None,
                           chat_id: int | None = None, *, token: str | None = None) -> dict[str, Any]:
        """A user sends a voice note, an audio file or a video note (kind); getFile serves the bytes."""
        folder, default_mime, extension = self._AUDIO_KINDS[kind]
        stored = self.world.store_file(content, folder, mime_type=mime_type or default_mime,
                                       file_name=file_name if kind == "audio" else None, extension=extension)
        extra: dict[str, Any] = {"duration": int(duration)}
        if kind == "video_note":
            extra["length"] = 240
            obj = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                   "file_size": stored.size, **extra}
        else:
            obj = media.file_object(stored, **extra)
        return self._user_sends(user_id, chat_id, {kind: obj}, kind, None, token, stored.file_id)

    def send_photo(self, user_id: int, content: bytes, caption: str | None = None,
                   chat_id: int | None = None, *, token: str | None = None) -> dict[str, Any]:
        """A user sends a photo (must be an image, like for bots)."""
        stored = media.store_photo(self.world, content)
        body = {"photo": media.photo_sizes(self.world, stored), **self._caption(caption)}
        return self._user_sends(user_id, chat_id, body, "photo", None, token, stored.file_id)

    @staticmethod
    def _caption(caption: str | None) -> dict[str, Any]:
        if not caption:
            return {}
        plain, entities = format_text(caption, None)
        return {"caption": plain, **({"caption_entities": entities} if entities else {})}

    def _user_sends(self, user_id: int, chat_id: int | None, content: dict[str, Any],
                    kind: str, reply_to: int | None, token: str | None,
                    file_id: str | None = None) -> dict[str, Any]:
        bot, user = self._bot(token), self._user(user_id)
        if chat_id is None or chat_id == user_id:
            chat = user.private_chat()
            if user_id in bot.blocked:
                self.unblock_bot(user_id, token=token)
            bot.started.add(user_id)
        else:
            group = self._group(chat_id)
            if user_id not in group.members:
                group.members.append(user_id)
            chat = group.to_api()
        if reply_to is not None:
            replied = bot.find(chat["id"], reply_to)
            if replied is None:
                raise LookupError(f"message {reply_to} not found in chat {chat['id']}")
            content = {**content, "reply_to_message": {k: v for k, v in replied.api.items()
                                                       if k != "reply_to_message"}}
        return self._incoming(bot, user, chat, kind, content, file_id)

    def _incoming(self, bot: BotState, user: User | None, chat: dict[str, Any], kind: str,
                  content: dict[str, Any], file_id: str | None = None,
                  update_kind: str = "message") -> dict[str, Any]:
        """Stores a message from a user and queues it for the bot."""
        message: dict[str, Any] = {"message_id": bot.next_message_id(chat["id"]),
                                   "date": now_ts(), "chat": chat}
        if user is not None:
            message["from"] = user.to_api()
        message.update(content)
        bot.store(StoredMessage(chat["id"], message["message_id"], message, False, kind,
                                file_id=file_id))
        visible = chat["type"] == "private" or update_kind != "message" or \
            _group_visible(bot, message, kind)
        update_id = bot.updates.push(update_kind, message) if visible else None
        return {"update_id": update_id, update_kind: message}

    def _my_chat_member(self, bot: BotState, actor: User, chat: dict[str, Any], old: str,
                        new: str) -> dict[str, Any]:
        def member(status: str) -> dict[str, Any]:
            return {"status": status, "user": bot.user(),
                    **({"until_date": 0} if status == "kicked" else {})}
        payload = {"chat": chat, "from": actor.to_api(), "date": now_ts(),
                   "old_chat_member": member(old), "new_chat_member": member(new)}
        return {"update_id": bot.updates.push("my_chat_member", payload),
                "my_chat_member": payload}

    # ----------------------------------------------------------------- buttons

    def press_button(self, user_id: int, message_id: int, callback_data: str | None = None,
                     button_text: str | None = None, chat_id: int | None = None,
                     validate: bool = True, *, token: str | None = None) -> dict[str, Any]:
        """A user taps an inline button of a bot message -> callback_query update.

        validate=True: the button (by data and/or label) must exist on that message.
        validate=False: send ``callback_data`` as is (a forged/tampered callback).
        """
        bot, user = self._bot(token), self._user(user_id)
        chat_id = chat_id if chat_id is not None else user_id
        message = bot.find(chat_id, message_id)
        data = self._pressed_data(message, message_id, callback_data, button_text) \
            if validate else callback_data
        query_id = str(self.world.rng.getrandbits(62))
        query: dict[str, Any] = {"id": query_id, "from": user.to_api(),
                                 "chat_instance": str(abs(hash((bot.id, chat_id)))),
                                 "data": data}
        if message is not None:
            query["message"] = dict(message.api)
        else:
            query["message"] = {"chat": self.world.chat(chat_id) or {"id": chat_id,
                                                                     "type": "private"},
                                "message_id": message_id, "date": 0}
        if data is None:
            query.pop("data")
        bot.callbacks[query_id] = CallbackRecord(query_id, user_id, time.monotonic())
        return {"update_id": bot.updates.push("callback_query", query), "callback_query": query}

    @staticmethod
    def _pressed_data(message: StoredMessage | None, message_id: int, data: str | None,
                      text: str | None) -> str:
        if message is None or not message.outgoing:
            raise LookupError(f"bot message {message_id} not found")
        if data is None and text is None:
            raise ValueError("give callback_data or button_text")
        button = find_button(message.markup, data, text)
        if button is None:
            labels = [(b.get("text"), b.get("callback_data")) for b in
                      inline_buttons(message.markup)]
            raise LookupError(f"no button data={data!r} text={text!r} on message "
                              f"{message_id}; buttons: {labels!r}")
        if "callback_data" not in button:
            raise ValueError(f"button {button.get('text')!r} has no callback_data")
        return button["callback_data"]

    # ----------------------------------------------------------------- Telegram Business

    def business_connect(self, user_id: int, can_reply: bool = True, enabled: bool = True, *,
                         token: str | None = None) -> dict[str, Any]:
        """A user connects the bot to their business account -> business_connection update."""
        bot, user = self._bot(token), self._user(user_id)
        connection = {"id": self.world.token("", 22), "user": user.to_api(),
                      "user_chat_id": user_id, "date": now_ts(),
                      "rights": {"can_reply": can_reply, "can_read_messages": True},
                      "is_enabled": enabled}
        bot.business[connection["id"]] = connection
        return {"update_id": bot.updates.push("business_connection", dict(connection)),
                "business_connection": dict(connection)}

    def business_disconnect(self, connection_id: str, *,
                            token: str | None = None) -> dict[str, Any]:
        """The user disconnects the bot: business_connection update with is_enabled false."""
        bot = self._bot(token)
        connection = bot.business[connection_id]
        connection["is_enabled"] = False
        return {"update_id": bot.updates.push("business_connection", dict(connection)),
                "business_connection": dict(connection)}

    def business_message(self, connection_id: str, from_user: dict[str, Any] | int | None,
                         text: str, chat_id: int | None = None, *,
                         token: str | None = None) -> dict[str, Any]:
        """A message in a chat of the connected business account -> business_message update.

        ``from_user`` is the customer (a User dict; unknown ids are registered) or None for the
        account owner; ``chat_id`` defaults to the customer's private chat.
        """
        bot = self._bot(token)
        connection = bot.business[connection_id]
        sender = self._customer(from_user) if from_user is not None else \
            self._user(connection["user_chat_id"])
        chat_id = chat_id if chat_id is not None else sender.id
        chat = self.world.chat(chat_id)
        if chat is None:
            raise LookupError(f"chat {chat_id} not found")
        plain, entities = format_text(text, None)
        content: dict[str, Any] = {"text": plain, "business_connection_id": connection_id}
        if entities:
            content["entities"] = entities
        return self._incoming(bot, sender, chat, "text", content,
                              update_kind="business_message")

    def _customer(self, value: dict[str, Any] | int) -> User:
        data = {"id": value} if isinstance(value, int) else dict(value)
        known = self.world.users.get(int(data["id"]))
        if known is not None:
            return known
        return self.world.add_user(int(data["id"]), data.get("first_name", ""),
                                   last_name=data.get("last_name"),
                                   username=data.get("username"),
                                   language_code=data.get("language_code"))

    # ----------------------------------------------------------------- faults

    def set_faults(self, rate: float, kinds: tuple[str, ...] | list[str] = DEFAULT_KINDS,
                   methods: tuple[str, ...] | list[str] | None = None,
                   timeout_hold_s: float | None = None) -> None:
        """Fails a seeded share of calls: kinds from 429/500/502/timeout/drop/lost_ack."""
        self.faults.configure(rate, tuple(kinds), methods)
        if timeout_hold_s is not None:
            self.timeout_hold_s = timeout_hold_s

    def set_message_ids(self, scheme: str, *, token: str | None = None) -> None:
        """How message ids are numbered: "chat" (each chat counts from 1, the default) or
        "account" (private chats and basic groups share one counter of the bot's, as user
        accounts' do; supergroups and channels keep their own).  The Bot API promises only
        "unique inside this chat", so code that reasons about ids must hold under both."""
        if scheme not in ("chat", "account"):
            raise ValueError('scheme must be "chat" or "account"')
        self._bot(token).id_scheme = scheme

    def set_latency(self, ms: float) -> None:
        """A network round trip (real milliseconds) added to every Bot API call but getUpdates."""
        if not 0 <= float(ms) <= 10_000:
            raise ValueError("latency must be 0..10000 ms")
        self.api_latency_s = float(ms) / 1000.0

    def fail_next(self, method: str, kind: str = "500", count: int = 1, *,
                  error_code: int | None = None, description: str | None = None,
                  parameters: dict[str, Any] | None = None) -> None:
        """Scripts the next ``count`` calls of ``method``: a fault kind or a custom error."""
        error = None
        if error_code is not None:
            error = ApiError(error_code, description or "Bad Request", parameters).body()
            kind = "error"
        self.faults.script(method, Fault(kind, error), count)

    # ----------------------------------------------------------------- lookups

    def _user(self, user_id: int | None) -> User:
        user = self.world.users.get(int(user_id or 0))
        if user is None:
            raise LookupError(f"unknown user {user_id}; call add_user() first")
        return user

    def _group(self, chat_id: int) -> Group:
        group = self.world.groups.get(chat_id)
        if group is None:
            raise LookupError(f"unknown group {chat_id}; call add_group() first")
        return group


def _group_visible(bot: BotState, message: dict[str, Any], kind: str) -> bool:
    """Privacy mode: commands, replies to the bot and service messages only."""
    if not bot.privacy_mode or kind == "service":
        return True
    replied = message.get("reply_to_message") or {}
    if replied.get("from", {}).get("id") == bot.id:
        return True
    text = message.get("text") or ""
    if not text.startswith("/"):
        return False
    command = text.split(maxsplit=1)[0]
    target = command.partition("@")[2]
    return not target or target.lower() == bot.username.lower()


# --------------------------------------------------------------------------- HTTP exposure

def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_encode(v) for v in value]
    return value


def _decode_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in kwargs.items():
        if key.endswith("_b64") and isinstance(value, str):
            out[key[:-len("_b64")]] = base64.b64decode(value)
        else:
            out[key] = value
    return out


def _json(payload: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(payload, ensure_ascii=False), status=status,
                        content_type="application/json")


async def handle_control(host: Any, request: web.Request) -> web.Response:
    """POST /control/<name> {kwargs} -> {"ok": true, "result": ...}."""
    name = request.match_info["name"]
    if name not in CONTROL_METHODS:
        return _json({"ok": False, "error": f"unknown control method {name!r}"}, 404)
    try:
        body = await request.json() if request.can_read_body else {}
        kwargs = _decode_kwargs(body or {})
        if name == "requests":
            result: Any = host.requests
        else:
            result = getattr(host, name)(**kwargs)
            if inspect.isawaitable(result):
                result = await result
    except (TypeError, ValueError, LookupError, TimeoutError, ApiError) as exc:
        return _json({"ok": False, "error": f"{type(exc).__name__}: {exc}"}, 400)
    return _json({"ok": True, "result": _encode(result)})
