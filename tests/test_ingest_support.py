"""Shared helpers for the ingestion tests (no tests here): a team, a live server, signed requests."""
from __future__ import annotations

import json
from contextlib import asynccontextmanager
from typing import Any

import httpx
from aiohttp import web
from sqlalchemy import func
from sqlmodel import select

from ingest.auth import signed_headers
from ingest.server import build_app, make_runner
from services import users as us

SECRETS = {
    "SALESBOT_SOURCE_WEBSITE_SECRET": "website-secret-0123456789",
    "SALESBOT_SOURCE_WEBSITE_TOKEN": "website-token-0123456789",
    "SALESBOT_SOURCE_OUTBOUND_SECRET": "outbound-secret-0123456789",
    "SALESBOT_SOURCE_OUTBOUND_TOKEN": "outbound-token-0123456789",
    "SALESBOT_SOURCE_SYSTEMS_SECRET": "systems-secret-0123456789",
}


def set_secrets(monkeypatch) -> None:
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)


def make_team(core, reps: int = 2, names: tuple[str, ...] = ()) -> list:
    """[admin, manager, rep0, rep1, …] in the playbook's team."""
    def setup(session):
        now = core.clock.now()
        admin = us.add_admin(session, 1, "Ada", core.config.team.name, core.config.team.timezone, now)
        inv = us.create_invite(session, admin, now, 72, "manager")
        mgr = us.redeem_invite(session, inv.code, 2, "经理王", None, "zh", now).user
        out = [admin, mgr]
        for i in range(reps):
            code = us.create_invite(session, mgr, now, 72).code
            name = names[i] if i < len(names) else f"销售{i}"
            out.append(us.redeem_invite(session, code, 100 + i, name, f"rep{i}", "zh", now).user)
        return out
    return core.db.call(setup)


def count(core, model, *where) -> int:
    return core.db.call(lambda s: s.exec(select(func.count()).select_from(model).where(*where)).one())


def rows(core, model, *where, order=None) -> list:
    def q(s):
        query = select(model).where(*where)
        return list(s.exec(query.order_by(order) if order is not None else query))
    return core.db.call(q)


def now_ts(core) -> int:
    from datetime import timezone
    return int(core.clock.now().replace(tzinfo=timezone.utc).timestamp())


def signed(core, body: Any, source: str = "website", *, ts: int | None = None, secret: str | None = None,
           extra: dict[str, str] | None = None) -> tuple[bytes, dict[str, str]]:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    secret = secret or SECRETS[f"SALESBOT_SOURCE_{source.upper()}_SECRET"]
    headers = signed_headers(source, secret, raw, ts if ts is not None else now_ts(core))
    headers["Content-Type"] = "application/json"
    headers.update(extra or {})
    return raw, headers


def bearer(source: str = "website") -> dict[str, str]:
    return {"Authorization": f"Bearer {SECRETS[f'SALESBOT_SOURCE_{source.upper()}_TOKEN']}"}


@asynccontextmanager
async def live_server(core, ptb_app=None, **kwargs):
    """The ingestion app on 127.0.0.1:<free port>; yields (base_url, httpx client, web app)."""
    app = build_app(core, ptb_app, **kwargs)
    runner = make_runner(app, core.config)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            yield base, client, app
    finally:
        await runner.cleanup()


# Tests whose subject is HTTP handling or rendering, not the database, run on SQLite only
# (the transactional ones keep both databases): overrides conftest's db_url parameters.
import pytest  # noqa: E402

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
