"""Typed callback data: a small dataclass ↔ short string codec, in one place.

Telegram allows 1–64 *bytes* of callback_data and the client controls it, so every handler
re-authorizes the object it names; ``decode`` returns None for anything malformed.
Format: ``<prefix>:<field>:<field>…`` with ASCII fields only (ids, short codes).
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, fields
from typing import ClassVar, TypeVar

MAX_BYTES = 64
_SAFE = re.compile(r"^[A-Za-z0-9_\-.]*$")
_REGISTRY: dict[str, type["CallbackData"]] = {}
C = TypeVar("C", bound="CallbackData")


class CallbackData:
    prefix: ClassVar[str]

    def __init_subclass__(cls, prefix: str, **kw: object) -> None:
        super().__init_subclass__(**kw)
        if prefix in _REGISTRY:
            raise ValueError(f"duplicate callback prefix {prefix!r}")
        cls.prefix = prefix
        _REGISTRY[prefix] = cls

    def encode(self) -> str:
        parts = [self.prefix]
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            text = "" if value is None else str(value)
            if not _SAFE.match(text):
                raise ValueError(f"callback field {f.name}={text!r} is not URL-safe ASCII")
            parts.append(text)
        data = ":".join(parts)
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data {data!r} exceeds {MAX_BYTES} bytes")
        return data

    @classmethod
    def pattern(cls) -> str:
        """Regex for CallbackQueryHandler(pattern=...)."""
        return f"^{re.escape(cls.prefix)}:"


def decode(data: str | None) -> "CallbackData | None":
    """Parse callback data; None if unknown, malformed or of the wrong types (tampered)."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    prefix, _, rest = data.partition(":")
    cls = _REGISTRY.get(prefix)
    if cls is None:
        return None
    values = rest.split(":") if rest else []
    cls_fields = fields(cls)  # type: ignore[arg-type]
    if len(values) != len(cls_fields):
        return None
    kwargs = {}
    for f, raw in zip(cls_fields, values):
        if not _SAFE.match(raw):
            return None
        try:
            kwargs[f.name] = _convert(f, raw)
        except ValueError:
            return None
    return cls(**kwargs)


def _convert(f: dataclasses.Field, raw: str) -> object:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    if kind in ("int", "int | None"):
        if raw == "" and "None" in kind:
            return None
        if not re.fullmatch(r"-?\d{1,18}", raw):
            raise ValueError(raw)
        return int(raw)
    return raw


# --- the callbacks the bot uses --------------------------------------------------

@dataclass(frozen=True)
class OpenCard(CallbackData, prefix="c"):
    customer_id: int


@dataclass(frozen=True)
class CardAction(CallbackData, prefix="ca"):
    """A button on a customer card: done|log|next|script|later|fill|back."""
    customer_id: int
    action: str
    arg: str = ""


@dataclass(frozen=True)
class ConfirmUpdate(CallbackData, prefix="cu"):
    """Confirm or cancel a parsed free-text update (the draft lives in user_data by token)."""
    token: str
    ok: int


@dataclass(frozen=True)
class PickCustomer(CallbackData, prefix="pk"):
    """Choose among ambiguous customers for a pending draft (update or paste)."""
    token: str
    customer_id: int


@dataclass(frozen=True)
class PickSpeaker(CallbackData, prefix="sp"):
    """Which speaker of a pasted chat is the customer (when the text cannot tell)."""
    token: str
    index: int


@dataclass(frozen=True)
class Page(CallbackData, prefix="pg"):
    view: str
    page: int


@dataclass(frozen=True)
class SpotCheckVote(CallbackData, prefix="sc"):
    check_id: int
    verdict: str  # ok | flag | r<reason-index>


@dataclass(frozen=True)
class DupDecision(CallbackData, prefix="dd"):
    """Manager decides about a duplicate attempt: keep owner, transfer to requester."""
    customer_id: int
    requester_id: int
    decision: str


@dataclass(frozen=True)
class Claim(CallbackData, prefix="cl"):
    customer_id: int


@dataclass(frozen=True)
class Approve(CallbackData, prefix="ap"):
    kind: str  # points | redeem | import
    item_id: int
    ok: int


@dataclass(frozen=True)
class Cancel(CallbackData, prefix="x"):
    scope: str = ""


# --- incentives (issue 5) -----------------------------------------------------------------

@dataclass(frozen=True)
class FlagDecision(CallbackData, prefix="af"):
    """Manager's verdict on an anti-cheating flag: clear | revoke (claw back the flagged points)."""
    flag_id: int
    action: str


@dataclass(frozen=True)
class Redeem(CallbackData, prefix="rw"):
    """A rep asks for a reward from /shop."""
    reward_id: str


@dataclass(frozen=True)
class ProfileView(CallbackData, prefix="pv"):
    """A manager opens one rep's ability profile."""
    user_id: int


@dataclass(frozen=True)
class BizConsent(CallbackData, prefix="bz"):
    """grant | decline | revoke salesbot's reading of a Telegram Business connection."""
    connection_id: str
    action: str


@dataclass(frozen=True)
class BizLinkChat(CallbackData, prefix="bl"):
    """Attach a business chat to one of the rep's customers."""
    chat_id: int
    customer_id: int


@dataclass(frozen=True)
class ImportDecision(CallbackData, prefix="im"):
    """Confirm (1) or cancel (0) a planned spreadsheet import (ingest/sheets.py)."""
    batch_id: int
    ok: int


# --- team boundaries and people's lifecycle (issue 11) ---------------------------------------

@dataclass(frozen=True)
class TeamView(CallbackData, prefix="tmv"):
    """/team: one team's members (admins pick among teams)."""
    team_id: int


@dataclass(frozen=True)
class TeamMember(CallbackData, prefix="tmm"):
    """/team: one member's panel."""
    user_id: int


@dataclass(frozen=True)
class TeamRole(CallbackData, prefix="tmr"):
    """Set a member's role (rep | manager): admins only."""
    user_id: int
    role: str


@dataclass(frozen=True)
class TeamMove(CallbackData, prefix="tmt"):
    """Move a member to another team: team_id 0 = choose the team; mode "" = choose what happens
    to their customers (keep | c = one colleague ``to`` | p = pool); ok 1 = confirmed."""
    user_id: int
    team_id: int
    mode: str
    to: int
    ok: int


@dataclass(frozen=True)
class TeamOff(CallbackData, prefix="tmo"):
    """Deactivate (离职) with a hand-over: mode "" = choose (c = colleague ``to`` | s = split across
    the team | p = pool); ok 1 = confirmed."""
    user_id: int
    mode: str
    to: int
    ok: int


@dataclass(frozen=True)
class TeamReactivate(CallbackData, prefix="tmx"):
    """An admin restores a deactivated member's access (customers are not given back)."""
    user_id: int


@dataclass(frozen=True)
class AuditPage(CallbackData, prefix="aud"):
    """/audit: a page of the trail, or (export 1) the whole trail as a CSV file."""
    page: int
    export: int

# --- voice notes and the assistant (issue 17) ----------------------------------------------------

@dataclass(frozen=True)
class VoiceAct(CallbackData, prefix="vo"):
    """On a transcript: ok (use it) | edit | retry (after a service failure)."""
    token: str
    action: str


@dataclass(frozen=True)
class AssistAsk(CallbackData, prefix="ai"):
    """On an analysis card: sum (five-line summary) | rep (three reply drafts)."""
    token: str
    kind: str

# --- coaching (issue 16) -------------------------------------------------------------------

@dataclass(frozen=True)
class LostWhy(CallbackData, prefix="lw"):
    """After a lost exit: r = reason (index into lost_reasons), c = competitor (index, -1 none), n = skip the note."""
    customer_id: int
    step: str
    index: int


@dataclass(frozen=True)
class SopFlag(CallbackData, prefix="sf"):
    """一线反馈 on a checklist item: kind o = open the menu, u = 没用, m = 缺一步, c = 说不清, s = skip the note."""
    customer_id: int
    kind: str
    item_id: str = ""


@dataclass(frozen=True)
class VisitAct(CallbackData, prefix="vs"):
    """plan (customer id) · ok = schedule it · went / miss (visit id)."""
    action: str
    ref: int


@dataclass(frozen=True)
class MatrixPick(CallbackData, prefix="mx"):
    """The competitor matrix: one competitor's detail (index), the image (-1) or the table again (-2)."""
    index: int

@dataclass(frozen=True)
class DraftFill(CallbackData, prefix="df"):
    """Fill a field the stage gate asks for, then come back to the pending quick update."""
    token: str
    field: str


@dataclass(frozen=True)
class UndoChange(CallbackData, prefix="ud"):
    """Undo a confirmed quick update or stage move (services/undo.py)."""
    undo_id: int


@dataclass(frozen=True)
class AnalysisFeedback(CallbackData, prefix="fb"):
    """A card's 准 / 不准 (services/feedback.py): action ok · no · high · medium · low · o<k>y / o<k>n."""
    sample_id: int
    action: str
