"""Restarts: SIGKILL in the middle of a fan-out, SIGTERM, a missed job within / beyond its grace.
(SIGTERM in the middle of a fan-out, in process: tests/test_delivery.py.)

The bot runs as a real subprocess (``python -m cli.main run``) against the local Bot API server
started in this test process.  ``test_sigkill_at_random_moments…`` kills at seeded random moments
on SQLite and PostgreSQL (``SALESBOT_KILL_SEED`` picks another seed).  The first test's kill lands
deterministically where Telegram has NOT accepted the message in flight (once a third of the
briefs are out, the server holds every further sendMessage and we wait until each accepted brief
is recorded): there, no repeat at all.  The random kills also land in the remaining window —
Telegram accepted, we died before the commit (docs/deployment.md) — where repeats are allowed
but never more than the sends left unrecorded.
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlmodel import select

from bench.common import REPO, TOKEN, free_port, seed_reps
from core.clock import utcnow
from core.config import load_config
from storage.db import Database
from storage.migrate import upgrade
from storage.models import JobRun, Lease, Outbox
from tests.conftest import drop_pg_schema, fresh_pg_schema_url, pg_only

N_REPS = 45


def write_config(tmp_path: Path, *, ttl: int = 2, brief_offset_min: int = -1) -> Path:
    """config.toml with a free listen port, a short lease and the brief slot just passed."""
    tz = ZoneInfo("Asia/Shanghai")
    now_local = datetime.now(tz)
    brief = (now_local + timedelta(minutes=brief_offset_min)).strftime("%H:%M")
    later = (now_local + timedelta(hours=6)).strftime("%H:%M")  # yesterday's slot: beyond grace, skipped
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    text = text.replace("listen_port = 8080", f"listen_port = {free_port()}")
    text = text.replace("lease_ttl_seconds = 30", f"lease_ttl_seconds = {ttl}")
    for key in ("brief_time", "digest_time", "spot_check_time", "leaderboard_daily", "leaderboard_weekly_time",
                "pool_recycle_time"):
        value = brief if key == "brief_time" else later
        text = re.sub(rf'^{key} = "\d\d:\d\d"', f'{key} = "{value}"', text, flags=re.M)
    text = re.sub(r"^workdays = \[.*\]", 'workdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]', text,
                  flags=re.M)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    load_config(path)  # still valid
    return path


class BotProcess:
    def __init__(self, tmp_path: Path, tg, db_url: str, config_path: Path, time_scale: float, name: str) -> None:
        self.log_path = tmp_path / f"{name}.log"
        env = dict(os.environ)
        env.update({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": tg.base_url,
                    "TELEGRAM_API_FILE_URL": tg.base_file_url, "DATABASE_URL": db_url,
                    "SALESBOT_CONFIG": str(config_path), "SALESBOT_TELEGRAM_TIME_SCALE": str(time_scale),
                    "SALESBOT_ADMIN_IDS": ""})
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "cli.main", "run"], cwd=REPO, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    async def started(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while "Application started" not in self.log():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"bot did not start:\n{self.log()[-3000:]}")
            await asyncio.sleep(0.05)

    async def wait(self, timeout: float) -> int:
        """Without blocking the loop: the local Bot API server lives on it and must keep answering."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"bot process still running after {timeout}s")
            await asyncio.sleep(0.05)
        self._log.close()
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def _briefs_received(tg, ids: list[int]) -> int:
    deliveries = tg.deliveries()
    return sum(1 for i in ids if deliveries.get(i))


def _db_sent(db: Database) -> int:
    return db.call(lambda s: s.exec(select(func.count()).select_from(Outbox).where(Outbox.status == "sent")).one())


@pytest.fixture
async def world(tmp_path):
    from tgfake.server import FakeTelegram
    tg = FakeTelegram(time_scale=1.0)
    await tg.start()
    tg.register_bot(TOKEN, username="salesbot_test_bot")
    db_url = f"sqlite:///{tmp_path / 'salesbot.db'}"
    upgrade(db_url)
    db = Database(db_url)
    procs: list[BotProcess] = []
    yield tg, db, db_url, procs
    for proc in procs:
        proc.kill()
    db.close()
    await tg.stop()


async def test_sigkill_mid_fanout_then_restart_delivers_each_brief_exactly_once(world, tmp_path):
    tg, db, db_url, procs = world
    config_path = write_config(tmp_path)
    ids = [tg.add_user(first_name=f"rep{i}")["id"] for i in range(N_REPS)]
    tg._bot().started.update(ids)
    seed_reps(db, load_config(config_path), ids, utcnow())

    def start(name: str) -> BotProcess:
        procs.append(BotProcess(tmp_path, tg, db_url, config_path, 1.0, name))
        return procs[-1]

    # 1. The brief slot passed a minute ago: the bot runs it on start (within grace) and fans out.
    first = start("first")
    try:
        await tg.wait_until(lambda: _briefs_received(tg, ids) >= N_REPS // 3, timeout=60)
    except TimeoutError:
        pytest.fail(f"no fan-out; bot log:\n{first.log()[-3000:]}")
    # Telegram stops answering: every further sendMessage is held, never accepted.
    tg.timeout_hold_s = 600.0
    tg.fail_next("sendMessage", "timeout", count=10 ** 6)
    await tg.wait_until(lambda: tg.stats()["faults_by_kind"].get("timeout", 0) >= 1
                        and _db_sent(db) == tg.stats()["sends"], timeout=30)
    accepted_before_kill = tg.stats()["sends"]
    first.proc.send_signal(signal.SIGKILL)
    await first.wait(10)
    assert 0 < accepted_before_kill < N_REPS
    tg.faults._scripted.clear()  # Telegram answers again
    tg.timeout_hold_s = 15.0

    # 2. Restart: the dead instance's lease and claims expire (2 s); the rest goes out.
    second = start("second")
    try:
        await tg.wait_until(lambda: _briefs_received(tg, ids) >= 2 * N_REPS // 3, timeout=60)
    except TimeoutError:
        pytest.fail(f"restart did not resume; bot log:\n{second.log()[-3000:]}")
    # 3. SIGTERM mid-fan-out: in-flight sends finish and are recorded, the rest is handed back.
    await second.started()
    second.proc.send_signal(signal.SIGTERM)
    assert await second.wait(30) == 0, second.log()[-3000:]
    assert _db_sent(db) == tg.stats()["sends"]
    leftovers = db.call(lambda s: s.exec(select(func.count()).select_from(Outbox).where(
        Outbox.status == "pending", Outbox.claimed_until != None)).one())  # noqa: E711
    assert leftovers == 0
    lease = db.call(lambda s: s.get(Lease, "scheduler"))
    assert lease.expires_at < utcnow()  # released: the next instance need not wait for the TTL

    # 4. Start again: it leads at once and finishes.
    third = start("third")
    try:
        await tg.wait_until(lambda: _briefs_received(tg, ids) == N_REPS and tg.inflight == 0
                            and _db_sent(db) == N_REPS, timeout=60)
    except TimeoutError:
        pytest.fail(f"third run did not finish; bot log:\n{third.log()[-3000:]}")
    await third.started()
    third.proc.send_signal(signal.SIGTERM)
    assert await third.wait(30) == 0

    deliveries = tg.deliveries()
    bad = {i: deliveries.get(i) for i in ids if deliveries.get(i) != 1}
    assert bad == {}, (tg.duplicates()[:3], first.log()[-1500:], second.log()[-2500:])
    assert tg.duplicates() == []
    assert tg.rejected() == []
    runs = db.call(lambda s: list(s.exec(select(JobRun).where(JobRun.job_key == "brief"))))
    assert [r.status for r in runs] == ["done"]  # the job ran once, across both processes
    logs = first.log() + second.log()
    assert len(re.findall(r"job brief slot \S+ done", logs)) == 1
    assert "job=brief:" in logs  # job log lines carry the job id
    assert "taken over from" in second.log()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pg_only)])
async def any_db_world(request, tmp_path):
    """The local Bot API server and a database (SQLite file, or a private PostgreSQL schema)."""
    from tgfake.server import FakeTelegram
    tg = FakeTelegram(time_scale=1.0)
    await tg.start()
    tg.register_bot(TOKEN, username="salesbot_test_bot")
    schema = None
    if request.param == "sqlite":
        db_url = f"sqlite:///{tmp_path / 'salesbot.db'}"
    else:
        db_url, schema = fresh_pg_schema_url()
    upgrade(db_url)
    db = Database(db_url)
    procs: list[BotProcess] = []
    yield tg, db, db_url, procs, request.param
    for proc in procs:
        proc.kill()
    db.close()
    await tg.stop()
    if schema:
        drop_pg_schema(schema)


RANDOM_KILL_REPS = 60
KILL_SEEDS = {"sqlite": 20261207, "postgresql": 7120626}  # SALESBOT_KILL_SEED overrides both


async def test_sigkill_at_random_moments_never_loses_and_repeats_at_most_the_unrecorded(any_db_world, tmp_path,
                                                                                      monkeypatch):
    """Two SIGKILLs at random moments of one fan-out, each wherever it lands (Telegram may have
    accepted sends whose answers the process never recorded), then a restart that finishes.

    Per kill, "unknown" = briefs Telegram accepted minus briefs the database recorded as sent:
    exactly the sends the dead process cannot vouch for.  Nothing may be lost, and repeats may
    not exceed the unknown ones (docs/deployment.md states this window).
    """
    tg, db, db_url, procs, kind = any_db_world
    seed = int(os.environ.get("SALESBOT_KILL_SEED") or KILL_SEEDS[kind])
    rng = random.Random(seed)
    config_path = write_config(tmp_path)
    ids = [tg.add_user(first_name=f"rep{i}")["id"] for i in range(RANDOM_KILL_REPS)]
    tg._bot().started.update(ids)
    seed_reps(db, load_config(config_path), ids, utcnow())
    if kind == "postgresql":  # this variant also checks taken-over rows against a probe chat (scheduler/probe.py)
        monkeypatch.setenv("SALESBOT_PROBE_CHAT_ID", str(tg.add_group("probe", supergroup=True)["id"]))
    unknown, kills = 0, []
    for n in range(3):
        proc = BotProcess(tmp_path, tg, db_url, config_path, 1.0, f"run{n}")
        procs.append(proc)
        received = _briefs_received(tg, ids)
        if n == 2 or received >= RANDOM_KILL_REPS - 2:
            break  # the last run finishes
        target = rng.randint(received + 1, RANDOM_KILL_REPS - 1)
        try:
            await tg.wait_until(lambda: _briefs_received(tg, ids) >= target, timeout=60)
        except TimeoutError:
            pytest.fail(f"fan-out stalled (seed {seed}); bot log:\n{proc.log()[-3000:]}")
        proc.proc.send_signal(signal.SIGKILL)
        await proc.wait(10)
        await tg.wait_idle()
        delivered = tg.deliveries()
        sent_rows = set(db.call(lambda s: list(s.exec(select(Outbox.chat_id).where(Outbox.status == "sent")))))
        unrecorded = [i for i in ids if delivered.get(i) and i not in sent_rows]
        assert sent_rows <= {i for i in ids if delivered.get(i)}  # recorded only what Telegram accepted
        unknown += len(unrecorded)
        kills.append((target, sum(1 for i in ids if delivered.get(i)), len(unrecorded)))
    try:
        await tg.wait_until(lambda: _briefs_received(tg, ids) == RANDOM_KILL_REPS and tg.inflight == 0
                            and _db_sent(db) == RANDOM_KILL_REPS, timeout=60)
    except TimeoutError:
        pytest.fail(f"the last run did not finish (seed {seed}); log:\n{procs[-1].log()[-3000:]}")
    procs[-1].proc.send_signal(signal.SIGTERM)
    assert await procs[-1].wait(30) == 0, procs[-1].log()[-3000:]
    deliveries = tg.deliveries()
    assert [i for i in ids if not deliveries.get(i)] == [], f"lost briefs (seed {seed}, kills {kills})"
    repeats = sum(deliveries[i] - 1 for i in ids)
    left = sum(len(tg.sent(i)) - 1 for i in ids)
    print(f"kill-test {kind} seed={seed} kills(target, delivered, unrecorded)={kills} "
          f"unknown={unknown} repeats={repeats} left={left}")  # shown with pytest -s
    assert repeats <= unknown, f"seed {seed}: {repeats} repeats > {unknown} unknown sends (kills {kills})"
    assert left <= repeats and all(tg.sent(i) for i in ids)
    assert tg.rejected() == []
    recorded = db.call(lambda s: list(s.exec(select(Outbox).where(Outbox.kind == "brief"))))
    assert all(r.status == "sent" for r in recorded) and len(recorded) == RANDOM_KILL_REPS
    # each row names a message of its own chat
    assert all(tg._bot().find(r.chat_id, r.telegram_message_id) is not None for r in recorded)


def _core(db, config, now):
    from core.clock import Clock
    from services.core import Core
    clock = Clock()
    clock.set(now)
    return Core(db=db, config=config, clock=clock)


@pytest.mark.parametrize("late_minutes, expected", [(90, "done"), (150, "skipped")])
def test_missed_brief_runs_once_within_grace_else_is_logged_as_skipped(db, config, late_minutes, expected, caplog):
    from scheduler.jobs import run_due_jobs
    seed_at = datetime(2026, 11, 26, 1, 0)
    seed_reps(db, config, [5001, 5002], seed_at)
    # The bot was down over Friday 08:30 and starts at 08:30 + late_minutes (grace: 120 min).
    core = _core(db, config, datetime(2026, 11, 27, 0, 30) + timedelta(minutes=late_minutes))
    with caplog.at_level(logging.INFO, logger="scheduler.jobs"):
        first = [d for d in run_due_jobs(core, only={"brief"})]
        again = run_due_jobs(core, only={"brief"})  # a second tick, or a second instance
    assert first == [("brief", "1:2026-11-27T08:30", expected)]
    assert again == []
    briefs = db.call(lambda s: list(s.exec(select(Outbox).where(Outbox.kind == "brief"))))
    assert len(briefs) == (2 if expected == "done" else 0)
    if expected == "skipped":
        assert "job brief slot 1:2026-11-27T08:30 skipped: missed by 2:30:00" in caplog.text
