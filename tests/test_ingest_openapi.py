"""The OpenAPI document against the running server: schemathesis' Python API over real HTTP.

Positive cases (data that fits the document) must get a documented status, content type,
headers and body; negative cases (data that breaks it) must never get a server error.
"""
from __future__ import annotations

import asyncio
import threading
from datetime import datetime

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from core.clock import Clock
from core.config import load_config
from ingest.server import build_app, openapi_document
from services.core import Core
from storage.db import Database
from storage.migrate import upgrade
from tests.test_ingest_support import SECRETS, make_team, set_secrets

CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
               response_headers_conformance]


class ServerThread:
    """The ingestion app on its own event loop in a thread (schemathesis' client is synchronous)."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.base_url = ""
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        runner = web.AppRunner(build_app(self.core))
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.base_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        self.runner = runner
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(runner.cleanup())

    def __enter__(self) -> "ServerThread":
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def sqlite_core(tmp_path, monkeypatch):
    set_secrets(monkeypatch)
    url = f"sqlite:///{tmp_path / 'openapi.db'}"
    upgrade(url)
    db = Database(url)
    clock = Clock()
    clock.set(datetime(2026, 11, 26, 1, 0))
    core = Core(db=db, config=load_config(), clock=clock)
    make_team(core)
    yield core
    db.close()


def test_schemathesis_finds_no_server_error_and_no_schema_violation(sqlite_core):
    schema = schemathesis.openapi.from_dict(openapi_document())
    auth = {"Authorization": f"Bearer {SECRETS['SALESBOT_SOURCE_WEBSITE_TOKEN']}"}
    seen: dict[str, set[int]] = {}

    def authorize(case):
        """Replace the credentials schemathesis generates from the security schemes with a real token."""
        headers = {k: v for k, v in (case.headers or {}).items()
                   if k.lower() not in ("authorization", "x-salesbot-signature", "x-salesbot-timestamp",
                                        "x-salesbot-source")}
        headers.update(auth)
        case.headers = headers

    with ServerThread(sqlite_core) as server:
        schema.config.update(base_url=server.base_url)

        @settings(max_examples=100, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=schema.as_strategy(GenerationMode.POSITIVE))
        def positive(case):
            authorize(case)
            response = case.call(base_url=server.base_url, timeout=10)
            seen.setdefault(f"{case.method} {case.path}", set()).add(response.status_code)
            case.validate_response(response, checks=CONFORMANCE)

        @settings(max_examples=50, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=schema.as_strategy(GenerationMode.NEGATIVE))
        def negative(case):
            authorize(case)
            response = case.call(base_url=server.base_url, timeout=10)
            case.validate_response(response, checks=[not_a_server_error])

        positive()
        negative()
    # every operation was exercised, and leads were both accepted and refused
    assert set(seen) == {"POST /api/leads", "POST /api/leads/batch", "POST /api/events", "GET /healthz", "GET /metrics", "GET /api/openapi.json"}
    assert seen["POST /api/leads"] & {200, 201} and 422 in seen["POST /api/leads"]
