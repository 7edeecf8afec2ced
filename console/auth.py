"""Telegram Mini App initData: validation exactly as the Bot API documents it, and signing for tests.

"Validating data received via the Mini App": the page sends ``Telegram.WebApp.initData`` (a query
string) as ``Authorization: tma <initData>``.  The server drops ``hash``, sorts the remaining
``key=value`` pairs by key, joins them with ``\\n`` (``signature`` stays in), and compares
``hex(HMAC_SHA256(key=HMAC_SHA256(key="WebAppData", msg=bot_token), msg=data_check_string))``
with ``hash`` in constant time.  ``auth_date`` freshness is ours to check.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

MAX_INIT_DATA = 4096
FUTURE_SKEW_S = 60  # a client clock slightly ahead is tolerated; a date far in the future is not


class InitDataError(Exception):
    """Why initData was refused (missing | malformed | bad_hash | expired | no_user)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class WebAppUser:
    tg_id: int
    first_name: str
    language_code: str | None
    auth_date: int


def secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def data_check_string(pairs: dict[str, str]) -> str:
    return "\n".join(f"{k}={pairs[k]}" for k in sorted(pairs) if k != "hash")


def _parse(init_data: str) -> dict[str, str]:
    if not init_data:
        raise InitDataError("missing")
    if len(init_data) > MAX_INIT_DATA:
        raise InitDataError("malformed")
    try:
        items = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise InitDataError("malformed") from None
    pairs: dict[str, str] = {}
    for key, value in items:
        if key in pairs:  # a repeated key would let two readers see two different values
            raise InitDataError("malformed")
        pairs[key] = value
    return pairs


def validate(init_data: str, bot_token: str, now_ts: float, max_age_s: int) -> WebAppUser:
    """The signed user behind ``init_data``; raises InitDataError when it is not genuine or too old."""
    pairs = _parse(init_data)
    given = pairs.get("hash", "")
    expected = hmac.new(secret_key(bot_token), data_check_string(pairs).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise InitDataError("bad_hash")
    try:
        auth_date = int(pairs.get("auth_date", ""))
    except ValueError:
        raise InitDataError("malformed") from None
    if now_ts - auth_date > max_age_s or auth_date - now_ts > FUTURE_SKEW_S:
        raise InitDataError("expired")
    try:
        user = json.loads(pairs.get("user", ""))
        tg_id = int(user["id"])
    except (ValueError, TypeError, KeyError):
        raise InitDataError("no_user") from None
    return WebAppUser(tg_id=tg_id, first_name=str(user.get("first_name", ""))[:64],
                      language_code=user.get("language_code") if isinstance(user.get("language_code"), str) else None,
                      auth_date=auth_date)


def from_header(value: str | None) -> str:
    """``Authorization: tma <initData>`` → initData ('' when absent or another scheme)."""
    if not value:
        return ""
    scheme, _, rest = value.strip().partition(" ")
    return rest.strip() if scheme.lower() == "tma" else ""


def sign(bot_token: str, user: dict[str, Any], auth_date: int | None = None, **extra: str) -> str:
    """initData as Telegram would build it for ``user`` (tests, the demo and the bench sign their own)."""
    pairs = {"auth_date": str(int(auth_date if auth_date is not None else time.time())),
             "query_id": extra.pop("query_id", "AAH-console"),
             "user": json.dumps(user, ensure_ascii=False, separators=(",", ":")), **extra}
    pairs["hash"] = hmac.new(secret_key(bot_token), data_check_string(pairs).encode(), hashlib.sha256).hexdigest()
    return urlencode(pairs)
