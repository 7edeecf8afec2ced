"""What tests, the demo and benchmarks read back: sent messages, the call log, counters, waits.

Why: an end-to-end test asserts on what a user would see (``sent()``: messages in their
current state after edits), on what Telegram refused (``rejected()`` should be empty), and on
delivery quality (429s, duplicates). The ``wait_*`` helpers replace ``sleep()`` in tests: they
return as soon as the condition holds.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tgfake.errors import INVALID

if TYPE_CHECKING:
    from tgfake.world import BotState, StoredMessage, World


def _content_key(kind: str, api: dict[str, Any]) -> str:
    """What makes two sends 'the same message' for duplicate detection."""
    if api.get("text") is not None:
        return "text:" + api["text"]
    content = api.get(kind)
    if isinstance(content, list):  # photo sizes: the largest one
        content = content[-1] if content else None
    if isinstance(content, dict) and "file_unique_id" in content:
        return f"{kind}:{content['file_unique_id']}:{api.get('caption', '')}"
    return f"{kind}:{json.dumps(content, sort_keys=True, ensure_ascii=False)}"


@dataclass
class Counters:
    """Delivery statistics since the last reset."""

    sends: int = 0
    rate_limited_429: int = 0
    faults_injected: int = 0
    faults_by_kind: Counter[str] = field(default_factory=Counter)
    deliveries: Counter[int] = field(default_factory=Counter)
    contents: dict[tuple[int, str], list[int]] = field(default_factory=dict)

    def record_send(self, stored: "StoredMessage") -> None:
        """Counts one accepted bot message."""
        self.sends += 1
        self.deliveries[stored.chat_id] += 1
        key = (stored.chat_id, _content_key(stored.kind, stored.api))
        self.contents.setdefault(key, []).append(stored.message_id)

    def duplicates(self) -> list[dict[str, Any]]:
        """Identical content sent more than once into the same chat."""
        found = []
        for (chat_id, key), ids in self.contents.items():
            if len(ids) > 1:
                text = key[len("text:"):] if key.startswith("text:") else None
                found.append({"chat_id": chat_id, "text": text, "count": len(ids),
                              "message_ids": list(ids)})
        return found


class ObserveMixin:
    """Inspection and waiting helpers of FakeTelegram (host attributes documented there)."""

    world: "World"
    counters: Counters
    idle_quiet_s: float

    def _bot(self, token: str | None = None) -> "BotState":  # provided by the host
        raise NotImplementedError

    def _changed_wait(self, timeout: float) -> Any:  # provided by the host
        raise NotImplementedError

    # ----------------------------------------------------------------- messages

    def sent(self, chat_id: int | None = None, *, token: str | None = None,
             include_deleted: bool = False) -> list[dict[str, Any]]:
        """Bot-produced messages in send order, in their current state (after edits)."""
        records = []
        for message in self._bot(token).outbox:
            if chat_id is not None and message.chat_id != chat_id:
                continue
            if message.deleted and not include_deleted:
                continue
            records.append(message.record(self.world))
        return records

    def last_sent(self, chat_id: int | None = None, *,
                  token: str | None = None) -> dict[str, Any] | None:
        """The latest bot message (in that chat), or None."""
        records = self.sent(chat_id, token=token)
        return records[-1] if records else None

    def file_bytes(self, message: dict[str, Any] | str) -> bytes:
        """Bytes of an uploaded photo/document: pass a sent() record, a Message or a file_id."""
        file_id = message if isinstance(message, str) else message.get("file_id")
        if not file_id and isinstance(message, dict):
            api = message.get("message", message)
            media = api.get("photo", [None])[-1] if api.get("photo") else api.get("document")
            file_id = media.get("file_id") if isinstance(media, dict) else None
        stored = self.world.files.get(file_id or "")
        if stored is None:
            raise KeyError(f"no stored file for {file_id!r}")
        return stored.data or b""

    def callback_answers(self, *, token: str | None = None) -> list[dict[str, Any]]:
        """answerCallbackQuery calls accepted so far (text, show_alert, url...)."""
        return [r.answer for r in self._bot(token).callbacks.values() if r.answer]

    def chat_actions(self, chat_id: int | None = None, *,
                     token: str | None = None) -> list[dict[str, Any]]:
        """sendChatAction calls accepted so far."""
        return [a for a in self._bot(token).chat_actions
                if chat_id is None or a["chat_id"] == chat_id]

    def pending_updates(self, *, token: str | None = None) -> int:
        """Updates the bot has not confirmed yet."""
        return len(self._bot(token).updates)

    # ----------------------------------------------------------------- call log

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every API call: method, params (no file bytes), status, description, time..."""
        return list(self._log)  # type: ignore[attr-defined]

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """The call log, optionally for one method (case-insensitive)."""
        name = method.lower() if method else None
        return [r for r in self.requests if name is None or r["method"].lower() == name]

    def rejected(self) -> list[dict[str, Any]]:
        """Calls refused with 400 because the bot built them wrongly (length/parse/button/...)."""
        return [r for r in self.requests if r["status"] == 400 and r["category"] == INVALID]

    def errors(self) -> list[dict[str, Any]]:
        """All calls not answered with 200 (including injected faults)."""
        return [r for r in self.requests if r["status"] != 200]

    # ----------------------------------------------------------------- counters

    def stats(self) -> dict[str, Any]:
        """sends, rate_limited_429, faults_injected, duplicates (+ a few extras)."""
        c = self.counters
        return {"sends": c.sends, "rate_limited_429": c.rate_limited_429,
                "faults_injected": c.faults_injected,
                "duplicates": sum(d["count"] - 1 for d in c.duplicates()),
                "faults_by_kind": dict(c.faults_by_kind), "rejected": len(self.rejected()),
                "requests": len(self._log)}  # type: ignore[attr-defined]

    def deliveries(self) -> dict[int, int]:
        """Accepted bot messages per chat id."""
        return dict(self.counters.deliveries)

    def duplicates(self, live: bool = False, *, token: str | None = None) -> list[dict[str, Any]]:
        """Same chat, identical text (or identical media + caption) sent more than once.

        live=True: only copies still in the chat (a repeat the bot deleted again was still
        delivered — and possibly notified — so the default counts it)."""
        found = self.counters.duplicates()
        if not live:
            return found
        bot, kept = self._bot(token), []
        for entry in found:
            ids = [i for i in entry["message_ids"] if bot.find(entry["chat_id"], i) is not None]
            if len(ids) > 1:
                kept.append({**entry, "count": len(ids), "message_ids": ids})
        return kept

    def reset_counters(self) -> None:
        """Zeroes the counters and clears the call log (chats and messages stay)."""
        self.counters = Counters()
        self._log.clear()  # type: ignore[attr-defined]

    # ----------------------------------------------------------------- waiting

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Returns predicate()'s first truthy value; raises TimeoutError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s")
            await self._changed_wait(min(remaining, 0.05))

    async def wait_for_sent(self, chat_id: int, count: int = 1, timeout: float = 10.0, *,
                            token: str | None = None) -> list[dict[str, Any]]:
        """Waits until ``chat_id`` holds at least ``count`` bot messages (in total, not new).

        Returns all of them; ``[-1]`` is the latest.
        """
        try:
            return await self.wait_until(
                lambda: (lambda s: s if len(s) >= count else None)(self.sent(chat_id,
                                                                             token=token)),
                timeout)
        except TimeoutError:
            have = [m["text"] or m["caption"] or m["kind"] for m in self.sent(chat_id,
                                                                              token=token)]
            raise TimeoutError(f"chat {chat_id}: {len(have)} of {count} messages after "
                               f"{timeout}s: {have!r}; rejected: {self.rejected()!r}") from None

    async def wait_idle(self, timeout: float = 10.0, quiet: float | None = None) -> None:
        """Returns once the bot has taken every update and gone quiet.

        Idle = no unconfirmed update, no call in flight, no activity for ``quiet`` seconds
        (``idle_quiet_s``), and the bot has made a call since updates were last delivered — or
        ``idle_grace_s`` passed without one (an update the bot ignores). Work inside the bot that
        makes no API call for longer than ``quiet`` after its first reaction is invisible here.
        """
        quiet = self.idle_quiet_s if quiet is None else quiet
        host: Any = self

        def idle() -> bool:
            now = time.monotonic()
            reacted = host.last_request >= host.last_delivery or \
                now - host.last_delivery >= host.idle_grace_s
            return host.pending_total() == 0 and host.inflight == 0 and reacted and \
                now - host.last_activity >= quiet

        await self.wait_until(idle, timeout)
