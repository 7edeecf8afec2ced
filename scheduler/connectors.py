"""Scheduled connector pulls: the job queues a run, the worker runs it off the scheduler's transaction.

``scheduler/jobs.py`` has one JobSpec per connector and hour (``days_of`` is empty for hours a
connector does not run: ERP daily at ``schedule = "02:00"``, the chat archive hourly at
``"hourly:05"``).  A due slot runs ``erp_job`` / ``chat_archive_job`` inside the slot's
JobRun transaction; it only inserts a ``ConnectorRun`` row (status ``queued``, unique per
connector and slot), so the slot is claimed exactly once and no HTTP call holds a database
transaction open.  The ``ConnectorWorker`` (started with the aiohttp server by
``ingest.server.add_routes``) picks queued runs — and runs whose worker died, once their
lease expired — and executes them (ingest/connectors/runs.py: one transaction per page).
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, or_, select

from ingest.notify import wake_sender
from services.core import Core
from storage.models import Team
from storage.models_ingest import ConnectorRun

log = logging.getLogger(__name__)


def queue_run(session: Session, core: Core, name: str, slot: datetime, trigger: str = "schedule") -> ConnectorRun | None:
    """Queue one run for (connector, slot); a second call for the same slot is a no-op."""
    settings = core.config.connectors.get(name)
    if settings is None or not settings.enabled:
        return None
    slot_key = slot.strftime("%Y-%m-%dT%H:%M") if trigger == "schedule" else None
    if slot_key and session.exec(select(ConnectorRun.id).where(ConnectorRun.connector == name,
                                                               ConnectorRun.slot == slot_key)).first():
        return None
    run = ConnectorRun(connector=name, trigger=trigger, slot=slot_key, status="queued", created_at=core.clock.now())
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        return None
    return run


def erp_job(session: Session, core: Core, team: Team, slot: datetime) -> int:
    queue_run(session, core, "erp", slot)
    return 0  # no messages queued by the job itself


def chat_archive_job(session: Session, core: Core, team: Team, slot: datetime) -> int:
    queue_run(session, core, "chat_archive", slot)
    return 0


def claimable(session: Session, now: datetime, limit: int = 5) -> list[tuple[int, str, str]]:
    rows = session.exec(select(ConnectorRun).where(or_(
        ConnectorRun.status == "queued",
        (ConnectorRun.status == "running") & (ConnectorRun.lease_until < now)))
        .order_by(ConnectorRun.created_at, ConnectorRun.id).limit(limit)).all()
    return [(r.id, r.connector, r.trigger) for r in rows]


class ConnectorWorker:
    """Runs queued connector runs, one at a time, on the event loop (HTTP) and the DB pool (applies)."""

    def __init__(self, core: Core, ptb_app: Any = None, *, metrics: Any = None, poll_seconds: float | None = None,
                 **run_kwargs: Any) -> None:
        self.core = core
        self.ptb_app = ptb_app
        self.metrics = metrics
        self.poll = poll_seconds if poll_seconds is not None else core.config.ingest.connector_poll_seconds
        self.run_kwargs = run_kwargs
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="connector-worker")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=30)
            except asyncio.TimeoutError:
                self._task.cancel()
            self._task = None

    async def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("connector worker pass failed")
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.poll)
            except asyncio.TimeoutError:
                pass

    async def run_once(self) -> list[ConnectorRun]:
        leader = getattr(self.core, "leader", None)
        if leader is not None and not leader.is_leader:
            return []
        from ingest.connectors.runs import run_connector
        done = []
        for run_id, name, trigger in await self.core.db.run(claimable, self.core.clock.now()):
            if self._stop.is_set():
                break
            run = await run_connector(self.core, name, trigger=trigger, run_id=run_id,
                                      on_pushed=lambda: wake_sender(self.ptb_app), **self.run_kwargs)
            if run is None:
                continue
            done.append(run)
            if self.metrics is not None:
                self.metrics.inc("salesbot_connector_runs_total", {"connector": name, "status": run.status})
            log.info("connector %s run %s: %s (%s pages, %s applied, %s skipped, %s rejected, %s retries)",
                     name, run.id, run.status, run.pages, run.applied, run.skipped, run.rejected, run.retries)
        return done
