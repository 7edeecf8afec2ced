"""The connector framework: paged pulls with a cursor, retries with backoff, and a run log.

A connector speaks a small JSON REST contract (docs/connectors.md)::

    GET {base_url}{path}?cursor=<opaque>&limit=<n>      Authorization: Bearer <token>
    → {"<items_key>": [...], "next_cursor": "<opaque>" | null, "has_more": true | false}

How a run stays correct when the vendor misbehaves:
- each page is fetched with retries (timeouts, connection errors, 5xx, 429, unparsable or
  malformed pages), exponential backoff with jitter, ``Retry-After`` honoured;
- each page is applied in ONE transaction together with the cursor that follows it and the
  run's counters: a crash or a failed page leaves the cursor at the last applied page, so the
  next run fetches it again — nothing is lost;
- every record is keyed by its external id (``ExternalRef``) with a digest of its content, so
  a page fetched twice, overlapping pages or repeated records change nothing — nothing is
  applied twice;
- a record that cannot be understood is counted as rejected and kept in the run log, and the
  run goes on.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

import httpx
from sqlmodel import Session, select

from core.config import ConnectorSettings
from services.core import Core
from services.inputs import safe_payload
from storage.models_ingest import ConnectorCursor, ConnectorRun, ExternalRef

log = logging.getLogger(__name__)
MAX_LOG_ENTRIES = 200
LEASE = timedelta(minutes=10)
Sleep = Callable[[float], Awaitable[None]]


class FetchError(Exception):
    """A page could not be fetched (after retries when ``retryable``)."""

    def __init__(self, message: str, retryable: bool = True, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class ItemError(Exception):
    """One record is malformed: rejected and logged, the run continues."""

    poison = False

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None
    has_more: bool


@dataclass
class PageResult:
    applied: int = 0
    skipped: int = 0
    rejected: int = 0
    pushed: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)


def guarded(fn: Callable[[], Any]) -> Any:
    """Run one record's work; a bug on one record rejects that record instead of blocking the feed.

    Database errors still fail the page (and the run), so nothing is skipped because the
    database was briefly away: the cursor stays and the next run fetches the page again.
    """
    from sqlalchemy.exc import SQLAlchemyError
    try:
        return fn()
    except (ItemError, SQLAlchemyError):
        raise
    except Exception as exc:  # noqa: BLE001 - a poison record, logged with its error
        log.exception("record could not be applied")
        error = ItemError("record", f"{type(exc).__name__}: {exc}"[:200])
        error.poison = True
        raise error from exc


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()[:32]


def get_ref(session: Session, connector: str, kind: str, external_id: str) -> ExternalRef | None:
    return session.exec(select(ExternalRef).where(ExternalRef.connector == connector, ExternalRef.kind == kind,
                                                  ExternalRef.external_id == external_id)).first()


class Connector:
    """Subclasses set ``name``, ``path``, ``items_key`` and implement ``apply_items``."""

    name: str = ""
    path: str = ""
    items_key: str = "items"

    def __init__(self, core: Core, settings: ConnectorSettings | None = None, *,
                 client: httpx.AsyncClient | None = None, sleep: Sleep | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.core = core
        self.settings = settings or core.config.connectors[self.name]
        self._client = client
        self._sleep = sleep or asyncio.sleep
        env = os.environ if env is None else env
        self.token = (env.get(self.settings.token_env) or "").strip() if self.settings.token_env else ""
        self.retries = 0

    # --- fetching ----------------------------------------------------------------------------
    async def fetch_page(self, client: httpx.AsyncClient, cursor: str | None) -> Page:
        params: dict[str, Any] = {"limit": self.settings.page_size}
        if cursor:
            params["cursor"] = cursor
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        url = self.settings.base_url + self.path
        try:
            response = await client.get(url, params=params, headers=headers, timeout=self.settings.timeout_seconds)
        except httpx.TimeoutException as exc:
            raise FetchError(f"timeout: {type(exc).__name__}") from None
        except httpx.TransportError as exc:
            raise FetchError(f"connection: {type(exc).__name__}: {exc}") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise FetchError(f"HTTP {response.status_code}", retry_after=_retry_after(response))
        if response.status_code >= 400:
            raise FetchError(f"HTTP {response.status_code}: {response.text[:200]}", retryable=False)
        try:
            # NUL, control characters and lone surrogates removed, text in NFKC; numbers are
            # judged per field (services.inputs.parse_number).
            body, _ = safe_payload(response.json())
        except (ValueError, RecursionError):
            raise FetchError("bad page: not JSON") from None
        return self.parse_page(body)

    def parse_page(self, body: Any) -> Page:
        if not isinstance(body, dict):
            raise FetchError("bad page: expected a JSON object")
        items = body.get(self.items_key)
        if not isinstance(items, list):
            raise FetchError(f"bad page: {self.items_key!r} is not a list")
        next_cursor = body.get("next_cursor")
        if next_cursor is not None and not isinstance(next_cursor, (str, int)):
            raise FetchError("bad page: next_cursor is not a string")
        has_more = body.get("has_more", False)
        if not isinstance(has_more, bool):
            raise FetchError("bad page: has_more is not a boolean")
        return Page(items, str(next_cursor) if next_cursor is not None else None, has_more)

    async def fetch_with_retries(self, client: httpx.AsyncClient, cursor: str | None,
                                 note: Callable[[str, str], None]) -> Page:
        attempts = self.settings.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return await self.fetch_page(client, cursor)
            except FetchError as exc:
                if not exc.retryable or attempt == attempts:
                    raise
                delay = self.settings.backoff_seconds * (2 ** (attempt - 1)) * (0.5 + random.random() / 2)
                if exc.retry_after is not None:
                    delay = max(delay, min(exc.retry_after, 60.0))
                self.retries += 1
                note("warning", f"attempt {attempt}/{attempts} failed ({exc}); retrying in {delay:.2f}s")
                await self._sleep(delay)
        raise FetchError("unreachable")  # pragma: no cover

    # --- applying ----------------------------------------------------------------------------
    def apply_items(self, session: Session, run: ConnectorRun, items: list[Any], now: datetime) -> PageResult:
        raise NotImplementedError

    def after_run(self, session: Session, run: ConnectorRun, now: datetime) -> PageResult:
        """Hook after the last page (e.g. retry records that were blocked)."""
        return PageResult()

    def _apply_page(self, session: Session, run_id: int, page: Page, cursor_before: str | None) -> PageResult:
        """One transaction: the page's records, the cursor after it, the run's counters."""
        now = self.core.clock.now()
        run = session.get(ConnectorRun, run_id)
        # Write first: pysqlite opens the transaction at the first write, and a SAVEPOINT opened
        # before it (apply_items isolates records with savepoints) would commit on release.
        run.lease_until = now + LEASE
        session.add(run)
        session.flush()
        result = self.apply_items(session, run, page.items, now)
        cursor_row = session.get(ConnectorCursor, self.name)
        if cursor_row is None:
            cursor_row = ConnectorCursor(connector=self.name, updated_at=now)
        if (cursor_row.cursor or None) != (cursor_before or None):
            raise RuntimeError("cursor moved during the run (another worker?)")
        if page.next_cursor is not None:
            cursor_row.cursor = page.next_cursor
        cursor_row.run_id = run_id
        cursor_row.updated_at = now
        session.add(cursor_row)
        run.pages += 1
        run.fetched += len(page.items)
        run.applied += result.applied
        run.skipped += result.skipped
        run.rejected += result.rejected
        run.cursor_after = cursor_row.cursor
        run.lease_until = now + LEASE
        _append_log(run, result.log)
        session.add(run)
        session.flush()
        return result

    def _after(self, session: Session, run_id: int) -> PageResult:
        now = self.core.clock.now()
        run = session.get(ConnectorRun, run_id)
        run.lease_until = now + LEASE  # write first (see _apply_page)
        session.add(run)
        session.flush()
        result = self.after_run(session, run, now)
        run.applied += result.applied
        _append_log(run, result.log)
        session.add(run)
        return result


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _append_log(run: ConnectorRun, entries: list[dict[str, Any]]) -> None:
    if not entries:
        return
    merged = list(run.log or []) + entries
    run.log = merged[-MAX_LOG_ENTRIES:]


def entry(now: datetime, level: str, msg: str, **data: Any) -> dict[str, Any]:
    item = {"at": now.isoformat(timespec="seconds"), "level": level, "msg": msg[:300]}
    item.update({k: v for k, v in data.items() if v is not None})
    return item
