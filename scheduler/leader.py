"""Leader election with a lease row, so jobs and sending happen once across instances.

Why a lease row and not APScheduler's job store or advisory locks: APScheduler 3 cannot share
a job store between processes (both would fire), and PostgreSQL session advisory locks break
behind transaction-pooling PgBouncer (and silently vanish with the pooled connection that held
them).  A row with ``expires_at`` renewed by the holder works on SQLite and PostgreSQL alike,
through any pooler; a dead leader is replaced once its lease expires (``[cluster]
lease_ttl_seconds``).  The lease only avoids waste and keeps the 30 msg/s pacing in one place:
the JobRun row per slot and the outbox's unique dedupe keys are what make a double run
impossible even if two instances ever believed they led at once.

Time: the lease is compared against the *database's* clock on PostgreSQL (``clock_timestamp()``),
so instances on hosts with skewed clocks agree on who holds it; SQLite is one host anyway.

Fencing: the holder stops acting (``is_leader`` turns False) after ``SAFETY`` × TTL without a
successful renewal — measured on its own monotonic clock from *before* the renewal query — so a
leader cut off from the database stops sending before anybody else can take over.
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta

from sqlalchemy import or_, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from core.clock import utcnow
from storage.models import Lease

log = logging.getLogger(__name__)
LEASE_NAME = "scheduler"
SAFETY = 0.7  # act for at most this share of the TTL after the last successful renewal began
EPOCH = datetime(1970, 1, 1)
FOLLOWER_POLL_S = 1.0  # a follower tries to take over this often


def db_now(session: Session) -> datetime:
    """Naive UTC 'now' from the database on PostgreSQL (one clock for every instance), else local."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return session.execute(text("SELECT clock_timestamp() AT TIME ZONE 'UTC'")).scalar_one()
    return utcnow()


def try_acquire(session: Session, name: str, holder: str, ttl_s: float, now: datetime | None = None) -> bool:
    """Take or renew the lease; True when ``holder`` holds it until now + ttl."""
    now = now or db_now(session)
    expires = now + timedelta(seconds=ttl_s)
    result = session.execute(update(Lease).where(
        Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
        .values(holder=holder, expires_at=expires))
    if result.rowcount:
        return True
    if session.get(Lease, name) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Lease(name=name, holder=holder, expires_at=expires))
            session.flush()
        return True
    except IntegrityError:
        return False


def release(session: Session, name: str, holder: str) -> None:
    """Give the lease up (graceful shutdown): a successor takes over at once, not after the TTL."""
    session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder).values(expires_at=EPOCH))


def holder_of(session: Session, name: str = LEASE_NAME) -> str | None:
    lease = session.get(Lease, name)
    if lease is None or lease.expires_at < db_now(session):
        return None
    return lease.holder


class Leadership:
    """Whether this instance currently holds the scheduler lease, kept fresh by ``run``."""

    def __init__(self, holder: str, ttl_s: float = 30.0, name: str = LEASE_NAME) -> None:
        self.holder = holder
        self.ttl_s = float(ttl_s)
        self.name = name
        self._valid_until = 0.0  # monotonic
        self._last_attempt = -1e18
        self._task: asyncio.Task | None = None
        self._stop = asyncio.Event()

    @property
    def renew_every(self) -> float:
        return self.ttl_s / 3

    @property
    def is_leader(self) -> bool:
        return time.monotonic() < self._valid_until

    async def refresh(self, core) -> bool:
        """Take or renew the lease now. A database error keeps the current (expiring) validity."""
        started = time.monotonic()
        self._last_attempt = started
        was = self.is_leader
        try:
            held = await core.db.run(try_acquire, self.name, self.holder, self.ttl_s)
        except Exception as exc:  # database briefly unavailable: the validity runs out by itself
            log.warning("lease renewal failed (%s); leader for %.1fs more at most", exc.__class__.__name__,
                        max(0.0, self._valid_until - time.monotonic()))
            return self.is_leader
        if held:
            self._valid_until = started + self.ttl_s * SAFETY
            if not was:
                log.info("instance %s is now the leader (scheduler and outbox)", self.holder)
        else:
            self._valid_until = 0.0
            if was:
                log.warning("instance %s lost the lease; another instance leads", self.holder)
        return held

    async def refresh_if_due(self, core) -> bool:
        """Renew every TTL/3 as leader; as a follower, try every second (or TTL/3 if shorter)."""
        interval = self.renew_every if self.is_leader else min(self.renew_every, FOLLOWER_POLL_S)
        if time.monotonic() - self._last_attempt >= interval:
            await self.refresh(core)
        return self.is_leader

    def start(self, core) -> None:
        """Keep the lease fresh in the background (every TTL/3)."""
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self._run(core), name="leader-lease")

    async def _run(self, core) -> None:
        while not self._stop.is_set():
            await self.refresh_if_due(core)
            interval = self.renew_every if self.is_leader else min(self.renew_every, FOLLOWER_POLL_S)
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=interval)
            except asyncio.TimeoutError:
                pass

    async def stop(self, core, release_lease: bool = True) -> None:
        """Stop renewing; give the lease up so a successor starts at once."""
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None
        if release_lease and self._valid_until > 0:
            self._valid_until = 0.0
            try:
                await core.db.run(release, self.name, self.holder)
            except Exception:
                log.warning("could not release the lease; it expires in %.0fs", self.ttl_s)
