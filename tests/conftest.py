"""Shared fixtures: a real database file (SQLite, or PostgreSQL when SALESBOT_TEST_PG is set
by the pg-parametrised fixtures), the playbook, and a controllable clock."""
from __future__ import annotations

import os
import uuid
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import pytest

from core.clock import Clock
from core.config import load_config
from services.core import Core
from storage.db import Database
from storage.migrate import upgrade

PG_URL = os.environ.get("SALESBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_available() -> bool:
    try:
        import psycopg
        with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=2):
            return True
    except Exception:
        return False


PG_OK = postgres_available()
pg_only = pytest.mark.skipif(not PG_OK, reason=f"PostgreSQL not reachable at {PG_URL}: PostgreSQL tests skipped")
pg_e2e_only = pytest.mark.skipif(
    not PG_OK, reason=f"PostgreSQL not reachable at {PG_URL}: PostgreSQL end-to-end tests skipped")


@pytest.fixture
def config():
    return load_config()


def fresh_pg_schema_url() -> tuple[str, str]:
    """A private schema in the test database, so parallel runs never collide."""
    import psycopg
    schema = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{PG_URL}?options=-csearch_path%3D{schema}", schema


def drop_pg_schema(schema: str) -> None:
    import psycopg
    with psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pg_only)])
def db_url(request, tmp_path: Path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'salesbot.db'}"
        return
    url, schema = fresh_pg_schema_url()
    yield url
    drop_pg_schema(schema)


@pytest.fixture
def db(db_url):
    upgrade(db_url)
    database = Database(db_url)
    yield database
    database.close()


@pytest.fixture
def core(db, config):
    clock = Clock()
    clock.set(datetime(2026, 11, 26, 1, 0))  # 09:00 in Shanghai, a Thursday
    return Core(db=db, config=config, clock=clock)


@asynccontextmanager
async def started_harness(tmp_path, *, postgres: bool = False):
    """The end-to-end harness, started; on PostgreSQL in a private schema dropped afterwards."""
    from tests.harness import Harness
    url, schema = fresh_pg_schema_url() if postgres else (None, None)
    h = Harness(tmp_path, db_url=url)
    try:
        await h.start()
        yield h
    finally:
        await h.stop()
        if schema:
            drop_pg_schema(schema)


@pytest.fixture
async def harness(tmp_path):
    async with started_harness(tmp_path) as h:
        yield h


@pytest.fixture
async def harness_pg(tmp_path):
    """The end-to-end harness on PostgreSQL (a private schema), for the e2e tests that must pass on both."""
    if not PG_OK:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: PostgreSQL end-to-end tests skipped")
    async with started_harness(tmp_path, postgres=True) as h:
        yield h


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pg_e2e_only)])
async def harness_both(request, tmp_path):
    """The end-to-end harness once on SQLite and once on PostgreSQL."""
    async with started_harness(tmp_path, postgres=request.param == "postgresql") as h:
        yield h


# Files whose assertions depend on timing under injected faults (fan-out and the probe's settling,
# leases, races, restarts, delivery): `make test` runs them serially after the parallel part
# (-m serial), the rest on pytest-xdist workers (-m "not serial").
SERIAL_FILES = {"test_probe.py", "test_fanout_batches.py", "test_instances.py", "test_restart.py",
                "test_concurrency.py", "test_races.py", "test_team_races.py", "test_delivery.py"}


def pytest_configure(config):
    config.addinivalue_line("markers", "serial: run after the parallel part, one test at a time")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SERIAL_FILES:
            item.add_marker(pytest.mark.serial)
