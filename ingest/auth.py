"""Who is calling the ingestion API: HMAC-signed requests or bearer tokens, per source.

Signed requests (preferred for server-to-server calls)::

    X-Salesbot-Source:    website
    X-Salesbot-Timestamp: 1764118800                 (unix seconds)
    X-Salesbot-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>

The timestamp must be within ``[ingest] replay_window_seconds`` of our clock, and a signature
is accepted once (``IngestNonce``, written in the same transaction as the request's effects).

Bearer tokens (``Authorization: Bearer <token>``) identify the source by the token itself.
Secrets and tokens come from the environment variables named in config.toml
(``secret_env`` / ``token_env``), read at request time, compared in constant time.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

from sqlalchemy import delete
from sqlmodel import Session

from core.config import Config, SourceSettings
from ingest.rows import insert_new
from storage.models_ingest import IngestNonce

SOURCE_HEADER = "X-Salesbot-Source"
TIMESTAMP_HEADER = "X-Salesbot-Timestamp"
SIGNATURE_HEADER = "X-Salesbot-Signature"
MIN_SECRET_CHARS = 16


class AuthError(Exception):
    """401: the reason is safe to show (it never contains a secret)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Replayed(AuthError):
    def __init__(self) -> None:
        super().__init__("signature already used (replay)")


@dataclass(frozen=True)
class Caller:
    source: str
    settings: SourceSettings
    method: str  # hmac | bearer
    signature: str | None = None
    timestamp: int | None = None


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (what a client computes)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(source: str, secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {SOURCE_HEADER: source, TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)}


def _env_value(name: str, env: Mapping[str, str]) -> str:
    return (env.get(name) or "").strip() if name else ""


def authenticate(headers: Mapping[str, str], body: bytes, config: Config, now_ts: float,
                 env: Mapping[str, str] | None = None) -> Caller:
    """Identify the source or raise AuthError. Does not check replays (see ``claim_signature``)."""
    env = os.environ if env is None else env
    named = (headers.get(SOURCE_HEADER) or "").strip()
    authorization = headers.get("Authorization") or ""
    signature = headers.get(SIGNATURE_HEADER)
    if signature is not None:
        return _check_signature(named, signature, headers.get(TIMESTAMP_HEADER), body, config, now_ts, env)
    if authorization.lower().startswith("bearer "):
        return _check_bearer(named, authorization[7:].strip(), config, env)
    raise AuthError("missing credentials: sign the request or send a bearer token")


def precheck(headers: Mapping[str, str], config: Config, now_ts: float,
             env: Mapping[str, str] | None = None) -> Caller | None:
    """Everything that can be checked before the body is read: a bearer caller is identified
    (returned); a signed request is checked up to the HMAC itself (None: read the body, then
    ``authenticate``); anything else raises AuthError — so an unknown client never gets to send a body."""
    env = os.environ if env is None else env
    named = (headers.get(SOURCE_HEADER) or "").strip()
    authorization = headers.get("Authorization") or ""
    signature = headers.get(SIGNATURE_HEADER)
    if signature is not None:
        _signed_source(named, headers.get(TIMESTAMP_HEADER), config, now_ts, env)
        if not _SIGNATURE.match(signature.strip()):
            raise AuthError("bad signature")
        return None
    if authorization.lower().startswith("bearer "):
        return _check_bearer(named, authorization[7:].strip(), config, env)
    raise AuthError("missing credentials: sign the request or send a bearer token")


_SIGNATURE = re.compile(r"^sha256=[0-9a-f]{64}$")


def _signed_source(named: str, timestamp: str | None, config: Config, now_ts: float,
                   env: Mapping[str, str]) -> tuple[SourceSettings, str, int]:
    source = config.sources.get(named)
    if not named or source is None:
        raise AuthError(f"unknown source in {SOURCE_HEADER}")
    if source.auth not in ("hmac", "either"):
        raise AuthError("this source does not accept signed requests")
    secret = _env_value(source.secret_env, env)
    if len(secret) < MIN_SECRET_CHARS:
        raise AuthError("this source has no signing secret configured")
    try:
        ts = int((timestamp or "").strip())
    except ValueError:
        raise AuthError(f"missing or malformed {TIMESTAMP_HEADER}") from None
    if abs(now_ts - ts) > config.ingest.replay_window_seconds:
        raise AuthError("timestamp outside the replay window")
    return source, secret, ts


def _check_signature(named: str, signature: str, timestamp: str | None, body: bytes, config: Config,
                     now_ts: float, env: Mapping[str, str]) -> Caller:
    source, secret, ts = _signed_source(named, timestamp, config, now_ts, env)
    expected = sign(secret, ts, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise AuthError("bad signature")
    return Caller(named, source, "hmac", signature=expected[7:], timestamp=ts)


def _check_bearer(named: str, token: str, config: Config, env: Mapping[str, str]) -> Caller:
    if not token:
        raise AuthError("empty bearer token")
    match: tuple[str, SourceSettings] | None = None
    for name, source in config.sources.items():
        if source.auth not in ("bearer", "either"):
            continue
        expected = _env_value(source.token_env, env)
        if len(expected) >= MIN_SECRET_CHARS and hmac.compare_digest(expected.encode(), token.encode()):
            match = (name, source)
    if match is None or (named and named != match[0]):
        raise AuthError("bad bearer token")
    return Caller(match[0], match[1], "bearer")


def claim_signature(session: Session, caller: Caller, config: Config, now: datetime) -> None:
    """Record a signed request's signature; a second use raises Replayed (rolls back the caller)."""
    row = nonce_row(caller, config, now)
    # One statement, no savepoint: INSERT … ON CONFLICT DO NOTHING; no row inserted = seen before.
    if row is not None and not insert_new(session, IngestNonce, row, ["source", "signature"]):
        raise Replayed()


def nonce_row(caller: Caller, config: Config, now: datetime) -> dict | None:
    """The IngestNonce row ``claim_signature`` inserts for a signed request (None: not signed).
    A single lead on PostgreSQL inserts it with its reads (ingest/rows_pg.py ``lead_reads``)."""
    if caller.method != "hmac" or not caller.signature:
        return None
    window = timedelta(seconds=config.ingest.replay_window_seconds)
    return {"source": caller.source, "signature": caller.signature, "expires_at": now + 2 * window}


def purge_expired(session: Session, now: datetime) -> int:
    from storage.models_ingest import IdempotencyKey
    gone = session.execute(delete(IngestNonce).where(IngestNonce.expires_at < now)).rowcount or 0
    gone += session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at < now)).rowcount or 0
    return gone
