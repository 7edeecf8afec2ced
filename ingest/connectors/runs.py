"""Connector runs: one connector pulled to the end of its feed under a lease, its run recorded.

Apart from base.py so that base (the contract every connector implements) never imports the
connectors built on it: this module knows them all, nothing imports it back."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Callable

import httpx
from sqlmodel import Session, select

from ingest.connectors.base import LEASE, Connector, FetchError, Sleep, _append_log, entry
from ingest.connectors.chat_archive import ChatArchiveConnector
from ingest.connectors.erp import ErpConnector
from services.core import Core
from storage.models_ingest import ConnectorCursor, ConnectorRun

log = logging.getLogger(__name__)

CONNECTORS: dict[str, type[Connector]] = {"erp": ErpConnector, "chat_archive": ChatArchiveConnector}


def connector_class(name: str) -> type[Connector]:
    try:
        return CONNECTORS[name]
    except KeyError:
        raise KeyError(f"unknown connector {name!r}") from None


def start_run(session: Session, name: str, trigger: str, now: datetime, worker: str,
              run_id: int | None = None) -> ConnectorRun | None:
    """Mark a queued run (or a new one) running with a lease. None if another worker holds it."""
    if run_id is not None:
        run = session.get(ConnectorRun, run_id)
        if run is None or (run.status == "running" and run.lease_until and run.lease_until > now) \
                or run.status not in ("queued", "running"):
            return None
    else:
        busy = session.exec(select(ConnectorRun.id).where(
            ConnectorRun.connector == name, ConnectorRun.status == "running", ConnectorRun.lease_until > now)).first()
        if busy is not None:
            return None
        run = ConnectorRun(connector=name, trigger=trigger, created_at=now)
    cursor = session.get(ConnectorCursor, name)
    run.status = "running"
    run.worker = worker
    run.started_at = now
    run.lease_until = now + LEASE
    run.cursor_before = cursor.cursor if cursor else None
    session.add(run)
    session.flush()
    return run


def finish_run(session: Session, run_id: int, status: str, error: str, now: datetime,
               log_entries: list[dict[str, Any]], retries: int) -> ConnectorRun:
    run = session.get(ConnectorRun, run_id)
    run.status = status
    run.error = error[:500]
    run.finished_at = now
    run.lease_until = None
    run.retries += retries
    _append_log(run, log_entries)
    session.add(run)
    session.flush()
    return run


async def run_connector(core: Core, name: str, *, trigger: str = "manual", run_id: int | None = None,
                        client: httpx.AsyncClient | None = None, sleep: Sleep | None = None,
                        env: dict[str, str] | None = None, on_pushed: Callable[[], None] | None = None,
                        crash_after_pages: int | None = None) -> ConnectorRun | None:
    """Run one connector to the end of its feed (or ``max_pages``). Returns the finished run.

    ``crash_after_pages`` is for tests: raise after applying that many pages, as if the
    process died mid-run (the run stays "running" until its lease expires).
    """
    cls = connector_class(name)
    connector = cls(core, client=client, sleep=sleep, env=env)
    run = await core.db.run(start_run, name, trigger, core.clock.now(), core.instance_id, run_id)
    if run is None:
        return None
    if not connector.settings.enabled or not connector.settings.base_url:
        return await core.db.run(finish_run, run.id, "failed", "connector disabled or without base_url",
                                 core.clock.now(), [], 0)
    notes: list[dict[str, Any]] = []

    def note(level: str, msg: str) -> None:
        notes.append(entry(core.clock.now(), level, msg))
        getattr(log, "warning" if level != "info" else "info")("connector %s run %s: %s", name, run.id, msg)

    own_client = client is None
    http = client or httpx.AsyncClient()
    cursor = run.cursor_before
    status, error, pages = "ok", "", 0
    try:
        for _ in range(connector.settings.max_pages):
            try:
                page = await connector.fetch_with_retries(http, cursor, note)
            except FetchError as exc:
                status, error = ("partial" if pages else "failed"), str(exc)
                note("error", f"giving up on page {pages + 1}: {exc}")
                break
            result = await core.db.run(connector._apply_page, run.id, page, cursor)
            pages += 1
            if result.pushed and on_pushed:
                on_pushed()
            if crash_after_pages is not None and pages >= crash_after_pages:
                raise RuntimeError("simulated crash")
            if not page.has_more:
                break
            if page.next_cursor is None or page.next_cursor == cursor:
                status, error = "partial", "vendor said has_more but the cursor did not advance"
                note("error", error)
                break
            cursor = page.next_cursor
        after = await core.db.run(connector._after, run.id)
        if after.pushed and on_pushed:
            on_pushed()
    except RuntimeError as exc:
        if str(exc) == "simulated crash":
            raise
        status, error = "failed", f"{type(exc).__name__}: {exc}"
        note("error", error)
    except Exception as exc:  # a bug or the database: the run is recorded as failed, the cursor is safe
        log.exception("connector %s run %s failed", name, run.id)
        status, error = "failed", f"{type(exc).__name__}: {exc}"
        note("error", error)
    finally:
        if own_client:
            await http.aclose()
    return await core.db.run(finish_run, run.id, status, error, core.clock.now(), notes, connector.retries)
