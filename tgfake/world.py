"""The simulated Telegram world: users, groups, files, and each bot's own state.

Why: Telegram's answers depend on state a test must be able to set up and inspect — whether a
user ever started the bot, blocked it, which group was migrated, which messages the bot sent
and how they look after edits. Keeping that state in plain dataclasses (no I/O) lets the HTTP
layer, the control API and the tests share one source of truth.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, field
from typing import Any

from tgfake.limits import Clock, FloodControl
from tgfake.updates import UpdateQueue, Webhook, WebhookDeliverer

FIRST_USER_ID = 100001
FIRST_GROUP_ID = -4000000001  # basic groups: "-4..." like recent Telegram ids (> 32 bits)
FIRST_SUPERGROUP_ID = -1001000000001  # supergroups: "-100" + 10 digits


def _drop_none(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v is not None}


@dataclass
class User:
    """A Telegram account (human unless is_bot)."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        """User object."""
        return _drop_none({"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name,
                           "last_name": self.last_name, "username": self.username,
                           "language_code": self.language_code})

    def private_chat(self) -> dict[str, Any]:
        """Chat object of the private chat with this user (chat id = user id)."""
        return _drop_none({"id": self.id, "type": "private", "first_name": self.first_name,
                           "last_name": self.last_name, "username": self.username})


@dataclass
class Group:
    """A basic group or supergroup; ``bot_status`` is per bot id (default_bot_status else)."""

    id: int
    title: str
    type: str = "group"
    username: str | None = None
    members: list[int] = field(default_factory=list)
    migrated_to: int | None = None
    migrated_from: int | None = None
    default_bot_status: str = "member"
    bot_status: dict[int, str] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        """Chat object."""
        return _drop_none({"id": self.id, "type": self.type, "title": self.title,
                           "username": self.username})

    def status_of(self, bot_id: int) -> str:
        """'member', 'administrator', 'left' or 'kicked'."""
        return self.bot_status.get(bot_id, self.default_bot_status)


@dataclass
class StoredFile:
    """An uploaded (or user-sent) file that getFile and the download route serve."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes | None
    mime_type: str | None = None
    file_name: str | None = None
    width: int = 0
    height: int = 0

    @property
    def size(self) -> int:
        """Size in bytes (0 for files only known by URL)."""
        return len(self.data or b"")


@dataclass
class StoredMessage:
    """A message in a chat as the bot knows it (current state after edits)."""

    chat_id: int
    message_id: int
    api: dict[str, Any]
    outgoing: bool
    kind: str
    parse_mode: str | None = None
    markup: dict[str, Any] | None = None
    file_id: str | None = None
    edits: int = 0
    deleted: bool = False

    def record(self, world: "World") -> dict[str, Any]:
        """The dict returned by FakeTelegram.sent(): what a test asserts on."""
        stored = world.files.get(self.file_id) if self.file_id else None
        return {
            "message_id": self.message_id, "chat_id": self.chat_id, "kind": self.kind,
            "text": self.api.get("text"), "caption": self.api.get("caption"),
            "parse_mode": self.parse_mode,
            "entities": self.api.get("entities") or self.api.get("caption_entities") or [],
            "reply_markup": self.markup, "edits": self.edits, "deleted": self.deleted,
            "file_id": self.file_id, "file_size": stored.size if stored else None,
            "filename": stored.file_name if stored else None, "date": self.api.get("date"),
            "business_connection_id": self.api.get("business_connection_id"),
            "message": self.api,
        }


@dataclass
class CallbackRecord:
    """A callback query the bot may answer once, within the answer window."""

    query_id: str
    user_id: int
    created: float  # time.monotonic(): the answer window is real time (the user's spinner)
    answered: bool = False
    answer: dict[str, Any] | None = None


class BotState:
    """Everything Telegram keeps per bot token."""

    def __init__(self, token: str, bot_id: int, username: str, first_name: str,
                 clock: Clock, per_chat_burst: int, privacy_mode: bool,
                 on_change: Any) -> None:
        self.token, self.id, self.username, self.first_name = token, bot_id, username, first_name
        self.privacy_mode = privacy_mode
        self.started: set[int] = set()
        self.blocked: set[int] = set()
        self.messages: dict[tuple[int, int], StoredMessage] = {}
        self.outbox: list[StoredMessage] = []
        self._message_ids: dict[int, int] = {}
        self.id_scheme = "chat"  # or "account": see ControlMixin.set_message_ids
        self.updates = UpdateQueue(on_change)
        self.webhook: Webhook | None = None
        self.deliverer: WebhookDeliverer | None = None
        self.poll_generation = 0
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.texts: dict[tuple[str, str], str] = {}  # (kind, language) -> description/name
        self.callbacks: dict[str, CallbackRecord] = {}
        self.business: dict[str, dict[str, Any]] = {}
        self.chat_actions: list[dict[str, Any]] = []
        self.flood = FloodControl(clock, per_chat_burst)

    def user(self) -> dict[str, Any]:
        """The bot's User object (as in Message.from)."""
        return {"id": self.id, "is_bot": True, "first_name": self.first_name,
                "username": self.username}

    def next_message_id(self, chat_id: int) -> int:
        """Message ids increase per chat, shared by incoming and outgoing messages."""
        key = chat_id
        if self.id_scheme == "account" and not str(chat_id).startswith("-100"):
            key = 0  # one counter for every private chat and basic group
        value = self._message_ids.get(key, 0) + 1
        self._message_ids[key] = value
        return value

    def store(self, message: StoredMessage) -> StoredMessage:
        """Remembers a message; outgoing ones also go to the outbox (sent())."""
        self.messages[(message.chat_id, message.message_id)] = message
        if message.outgoing:
            self.outbox.append(message)
        return message

    def find(self, chat_id: int, message_id: int) -> StoredMessage | None:
        """A live (not deleted) message."""
        message = self.messages.get((chat_id, message_id))
        return None if message is None or message.deleted else message


class World:
    """Users, groups and files shared by all bots, plus seeded id generation."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.users: dict[int, User] = {}
        self.groups: dict[int, Group] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self._next_user = FIRST_USER_ID
        self._next_group = FIRST_GROUP_ID
        self._next_supergroup = FIRST_SUPERGROUP_ID
        self._file_seq = 0

    def add_user(self, user_id: int | None, first_name: str, **fields: Any) -> User:
        """Creates (or replaces) a user; ids are allocated from 100001."""
        if user_id is None:
            while self._next_user in self.users:
                self._next_user += 1
            user_id = self._next_user
            self._next_user += 1
        user = User(user_id, first_name or f"User{user_id}", **fields)
        self.users[user_id] = user
        return user

    def new_group_id(self, supergroup: bool) -> int:
        """Allocates a negative chat id in the basic-group or supergroup range."""
        if supergroup:
            value, self._next_supergroup = self._next_supergroup, self._next_supergroup - 1
        else:
            value, self._next_group = self._next_group, self._next_group - 1
        return value if value not in self.groups else self.new_group_id(supergroup)

    def chat(self, chat_id: int) -> dict[str, Any] | None:
        """Chat object for any known chat id."""
        if chat_id > 0:
            user = self.users.get(chat_id)
            return user.private_chat() if user else None
        group = self.groups.get(chat_id)
        return group.to_api() if group else None

    def group_by_username(self, username: str) -> Group | None:
        """Resolves '@name' for public groups."""
        name = username.lstrip("@").lower()
        for group in self.groups.values():
            if group.username and group.username.lower() == name:
                return group
        return None

    def token(self, prefix: str, size: int = 24) -> str:
        """A seeded, Telegram-looking identifier."""
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        return prefix + "".join(self.rng.choice(alphabet) for _ in range(size))

    def store_file(self, data: bytes | None, folder: str, *, mime_type: str | None = None,
                   file_name: str | None = None, width: int = 0, height: int = 0,
                   extension: str = "") -> StoredFile:
        """Stores bytes under a new file_id and a file_path like Telegram's."""
        self._file_seq += 1
        digest = hashlib.sha256(data or str(self._file_seq).encode()).hexdigest()[:16]
        stored = StoredFile(self.token("BQACAgIAAxkBAA"), "AgAD" + digest,
                            f"{folder}/file_{self._file_seq}{extension}", data, mime_type,
                            file_name, width, height)
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored


def now_ts() -> int:
    """Unix time for Message.date and friends (real wall clock)."""
    return int(time.time())
