"""Did an unanswered send arrive after all?  Settled with the next send's message id.

The case: the sender's request for a row timed out or lost its connection, so it cannot know
whether Telegram delivered it (``may_have_arrived`` below).  It sends the row
again — never losing it — and this module then decides, from what Telegram can prove, whether
that second copy is a repeat:

1. **The id gap.**  Message ids only grow.  ``floor`` is an id this process saw in the chat
   before the first attempt started; the resend got ``top``.  A copy of the first attempt
   would have an id strictly between them, so ``top == floor + 1`` proves there is none.  This
   holds however Telegram numbers messages (per chat, or per account across chats); it is
   merely more often decisive when the numbering is per chat and the chat was quiet.
2. **A look at the ids in between**, only with a probe chat (``SALESBOT_PROBE_CHAT_ID``: a
   private channel or group nobody but the bot reads).  Each candidate id, newest first, is
   forwarded there and the forwarded copy deleted again at once.  A forward shows who sent the
   original, when and with what text, without touching the rep's chat.  A candidate is the lost
   copy only when all three match: sent by this bot, not before the first attempt started, with
   the resend's exact text/caption and media kind.  Then the resend (the later copy) is deleted
   and the earliest copy's id recorded.  The walk stops at the first message older than the
   first attempt, after ``MAX_WALK`` ids, or on any answer it cannot read — and in every such
   case the resend stays: a possible repeat, never a loss.

Nothing here edits or deletes a message it has not positively identified as a second copy of
the same row; ``stats`` counts each outcome (``bench.fanout`` reports them).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any

from telegram import Bot, Message, MessageOriginUser
from telegram.error import BadRequest, NetworkError, TelegramError, TimedOut
from telegram.ext import ExtBot

log = logging.getLogger(__name__)
MAX_WALK = 3          # candidate ids looked at below the resend (forwards to the probe chat)
SCAN = 5_000          # ids below the resend considered at all (the ledger rules most of them out)
CLOCK_MARGIN_S = 5.0  # Telegram's clock vs ours: a copy dated this much before the first attempt still counts
PROBES_PER_MINUTE = 20  # Telegram allows a bot about 20 messages a minute into one group or channel
RATE_ARGS = {"max_retries": 0}
TRIES = 3             # a probe or a delete whose answer was lost is asked again (both are safe to repeat)


def _shared_scope(chat_id: int) -> bool:
    """Private chats and basic groups: where Telegram may number messages per account, not per chat."""
    return not str(chat_id).startswith("-100")


class IdLedger:
    """Message ids this sender got back, to tell which ids between two sends can be a lost copy.

    Telegram's Bot API promises only that ids are unique inside a chat.  Private chats may be
    numbered per chat (the local test server's default) or from one counter per account (as
    user accounts' are); the ledger finds out: the same id coming back for two private chats
    means per chat.  Under one counter, ids the bot got back for *other* chats are not in
    this chat either, so they need no look — which is what keeps the walk short in a fan-out.
    """

    def __init__(self, keep: int = 50_000) -> None:
        self.per_chat = False
        self.newest: dict[int, int] = {}      # chat -> newest id seen there
        self.newest_shared = 0                # newest id seen in any private chat / basic group
        self._owner: dict[int, int] = {}      # shared-scope id -> chat (to spot per-chat numbering)
        self._known: set[tuple[int, int]] = set()
        self._order: deque[tuple[int, int]] = deque()
        self._started: deque[tuple[float, int]] = deque()  # shared-scope sends: (start, id)
        self._keep = keep

    def note(self, chat_id: int, message_id: int, started: float | None = None) -> None:
        """``message_id`` came back for a send to ``chat_id`` that left at ``started`` (monotonic)."""
        self.newest[chat_id] = max(message_id, self.newest.get(chat_id, 0))
        self._known.add((chat_id, message_id))
        self._order.append((chat_id, message_id))
        if started is not None and _shared_scope(chat_id):
            self._started.append((started, message_id))
            if len(self._started) > self._keep:
                self._started.popleft()
        if _shared_scope(chat_id):
            self.newest_shared = max(self.newest_shared, message_id)
            owner = self._owner.setdefault(message_id, chat_id)
            if owner != chat_id:
                self.per_chat = True
        while len(self._order) > self._keep:
            old = self._order.popleft()
            self._known.discard(old)
            if self._owner.get(old[1]) == old[0]:
                del self._owner[old[1]]

    def floors(self, chat_id: int) -> tuple[int, int]:
        """Taken before an attempt: ids that already existed (in this chat; in the shared counter)."""
        return self.newest.get(chat_id, 0), self.newest_shared if _shared_scope(chat_id) else 0

    def low(self, chat_id: int, floors: tuple[int, int]) -> int:
        """Every copy of the attempt has an id above this."""
        if self.per_chat or not _shared_scope(chat_id):
            return floors[0]
        return max(floors)  # one counter: anything that existed anywhere before is older

    def ceiling(self, chat_id: int, top: int, after: float | None) -> int:
        """Every copy of the attempt has an id below this: the resend's, or under one counter the
        smallest id of any send that left after the attempt had failed (``after``, monotonic)."""
        if after is None or self.per_chat or not _shared_scope(chat_id):
            return top
        later = [message_id for started, message_id in self._started if started > after]
        return min([top, *later])

    def unknown(self, chat_id: int, message_id: int) -> bool:
        """Not an id this sender got back for another message of this chat (or, under one counter, of any chat)."""
        if (chat_id, message_id) in self._known:
            return False
        if self.per_chat or not _shared_scope(chat_id):
            return True
        owner = self._owner.get(message_id)
        return owner is None


class DeliveryProbe:
    def __init__(self, probe_chat_id: int | None, *, time_scale: float = 1.0, max_walk: int = MAX_WALK,
                 per_minute: int = PROBES_PER_MINUTE, read_timeout: float | None = None) -> None:
        self.probe_chat_id = probe_chat_id or None
        self.call_args: dict[str, Any] = {}
        if read_timeout is not None:
            self.call_args["read_timeout"] = read_timeout
        self.time_scale = time_scale
        self.max_walk = max_walk
        self.per_minute = per_minute
        self._recent: deque[float] = deque()    # forwards that arrived in the probe chat
        self._tries: deque[float] = deque()     # every forward asked for (most find nothing)
        self.stats = {"proven_absent": 0, "repeats_removed": 0, "unresolved": 0, "probes": 0}
        self._one_at_a_time = asyncio.Lock()

    async def settle(self, bot: Bot, chat_id: int, sent: Message, since: float, floors: tuple[int, int],
                     ledger: IdLedger, failed_at: float | None = None) -> int:
        """The message id to record for a row resent after an unknown outcome (see the module doc).

        ``since``: wall-clock time the first unanswered attempt started; ``floors``: the ledger's
        floors taken just before it; ``failed_at``: when the last unanswered attempt gave up
        (monotonic), so that sends which left later bound the ids from above.
        """
        async with self._one_at_a_time:  # each copy found is noted before the next check picks its candidates
            return await self._settle(bot, chat_id, sent, since, floors, ledger, failed_at)

    async def _settle(self, bot: Bot, chat_id: int, sent: Message, since: float, floors: tuple[int, int],
                      ledger: IdLedger, failed_at: float | None) -> int:
        top = sent.message_id
        low, high = ledger.low(chat_id, floors), ledger.ceiling(chat_id, top, failed_at)
        candidates = [i for i in range(high - 1, max(low, high - 1 - SCAN), -1) if ledger.unknown(chat_id, i)]
        if high - 1 <= low or (not candidates and high - 1 - SCAN <= low):
            self.stats["proven_absent"] += 1  # no id in between that could be a copy
            return top
        copies = await self._copies(bot, chat_id, sent, since, candidates) if self.probe_chat_id else []
        if not copies:
            self.stats["unresolved"] += 1
            log.log(logging.WARNING if self.probe_chat_id else logging.INFO,
                    "outbox: chat %s message %s may repeat an earlier attempt whose answer was lost", chat_id, top)
            return top
        # Only the resend goes: it is known to be ours and a copy.  (Several earlier copies — more
        # than one unanswered attempt — stay: each is a repeat we are not certain enough to remove.)
        keep = min(copies)
        try:
            await self._call(bot.delete_message, chat_id, top, gone_ok=True)
        except TelegramError as exc:
            log.warning("outbox: could not delete repeat %s in chat %s (%s); it stays", top, chat_id, exc)
            self.stats["unresolved"] += 1
            return top
        self.stats["repeats_removed"] += 1
        # earlier copies beyond the first stay in the chat: each is a repeat left unsettled
        self.stats["unresolved"] += len(copies) - 1
        ledger.note(chat_id, keep)  # no longer a candidate for other chats' checks
        log.info("outbox: chat %s: the lost answer's message %s had arrived; the repeat %s is removed",
                 chat_id, keep, top)
        return keep

    async def _copies(self, bot: Bot, chat_id: int, sent: Message, since: float, candidates: list[int]) -> list[int]:
        copies = []
        for candidate in candidates[:self.max_walk]:
            if not self._budget():
                break
            self.stats["probes"] += 1
            self._tries.append(time.monotonic())
            try:
                seen = await self._call(bot.forward_message, self.probe_chat_id, chat_id, candidate,
                                        disable_notification=True)
            except BadRequest as exc:
                if "not found" in str(exc).lower():
                    continue  # deleted, or an id used elsewhere
                break
            except TelegramError:
                break  # an answer we cannot read: stop, keep the resend
            self._recent.append(time.monotonic())  # only a forward that arrived counts against the chat's limit
            await self._discard(bot, seen)
            origin = seen.forward_origin
            if origin is None or origin.date.timestamp() < since - CLOCK_MARGIN_S:
                break  # older than the first attempt: nothing further down can be its copy
            if _same(bot, origin, seen, sent):
                copies.append(candidate)
        return copies

    async def _call(self, method: Any, *args: Any, gone_ok: bool = False, **kwargs: Any) -> Any:
        """``method`` again when its answer was lost; ``gone_ok``: a delete that finds nothing
        after a lost answer had worked the first time."""
        extra = dict(self.call_args)
        if isinstance(getattr(method, "__self__", None), ExtBot):  # the outbox's own pacing (bot/ratelimit.py)
            extra["rate_limit_args"] = RATE_ARGS
        for attempt in range(1, TRIES + 1):
            try:
                return await method(*args, **kwargs, **extra)
            except BadRequest as exc:  # (a NetworkError subclass in PTB: first)
                if gone_ok and attempt > 1 and "not found" in str(exc).lower():
                    return True
                raise
            except (TimedOut, NetworkError):
                if attempt == TRIES:
                    raise
        raise AssertionError("unreachable")

    def _budget(self) -> bool:
        now, window = time.monotonic(), 60.0 / self.time_scale
        for recent in (self._recent, self._tries):
            while recent and now - recent[0] > window:
                recent.popleft()
        return len(self._recent) < self.per_minute and len(self._tries) < 3 * self.per_minute

    async def _discard(self, bot: Bot, seen: Message) -> None:
        try:
            await self._call(bot.delete_message, self.probe_chat_id, seen.message_id, gone_ok=True)
        except TelegramError as exc:
            log.info("probe chat: could not delete forwarded copy %s (%s)", seen.message_id, exc)


def _same(bot: Bot, origin: Any, seen: Message, sent: Message) -> bool:
    """The forwarded original is this bot's message with the resend's exact content."""
    if not isinstance(origin, MessageOriginUser) or origin.sender_user.id != bot.id:
        return False
    if (seen.text, seen.caption) != (sent.text, sent.caption):
        return False
    if bool(seen.photo) != bool(sent.photo) or bool(seen.document) != bool(sent.document):
        return False
    if sent.document is not None and seen.document is not None:
        return (seen.document.file_name, seen.document.file_size) == (sent.document.file_name, sent.document.file_size)
    return True


def may_have_arrived(exc: BaseException) -> bool:
    """Whether a failed call may still have reached Telegram (its outcome is unknown).

    Not when nothing left this process (no connection could be had or opened) or when Telegram
    answered (a 5xx is an answer: the call was not carried out).  A read timeout, a connection
    dropped after the request went out, a broken answer: unknown.
    """
    if "pool timeout" in str(exc).lower():
        return False
    cause = exc.__cause__
    if cause is None or isinstance(cause, TelegramError):  # a 5xx answer (parsed or not)
        return cause is None and isinstance(exc, TimedOut)
    return type(cause).__name__ not in NOT_SENT


# transport errors raised before any byte of the request was sent (aiohttp, httpx)
NOT_SENT = frozenset({"ClientConnectorError", "ClientConnectorCertificateError", "ClientConnectorSSLError",
                      "ClientConnectorDNSError", "ClientProxyConnectionError", "ConnectionTimeoutError",
                      "ConnectError", "ConnectTimeout", "PoolTimeout", "UnsupportedProtocol", "InvalidURL"})
