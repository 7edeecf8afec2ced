"""Shared bits of the benchmarks (and the delivery tests): seeding reps, a local Bot API server in
its own process, and the one-line-per-figure output format."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[1]
TOKEN = "123456789:TEST-token_for_salesbot"
ECHO_TOKEN = "987654321:TEST-token_for_echo"
TELEGRAM_CAP_PER_S = 30.0


def report(name: str, value: Any) -> None:
    """Benchmarks print one ``name: value`` line per figure."""
    if isinstance(value, float):
        value = f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"
    print(f"{name}: {value}", flush=True)


def run_and_report(run, args) -> int:
    """Run a bench's ``async run(args) -> {figure: value}`` and print its figures."""
    import logging
    logging.basicConfig(level=logging.ERROR)
    for name, value in asyncio.run(run(args)).items():
        report(name, value)
    return 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed_reps(db, config, tg_ids: list[int], now: datetime, team_name: str | None = None,
              marker: str = "客户") -> int:
    """One team, a rep per Telegram id, each owning one fresh customer (so each gets a brief)."""
    from services.users import ensure_team
    from storage.models import Customer, User

    def work(session) -> int:
        team = ensure_team(session, team_name or config.team.name, config.team.timezone, now)
        users = [User(tg_id=tg_id, name=f"rep{i}", role="rep", team_id=team.id, language="zh", joined_at=now)
                 for i, tg_id in enumerate(tg_ids)]
        session.add_all(users)
        session.flush()
        stage = config.stages[0].id
        session.add_all([Customer(team_id=team.id, owner_id=u.id, name=f"{marker}{i}", company=f"{marker}公司{i}",
                                  stage=stage, stage_entered_at=now, created_at=now, updated_at=now, custom={})
                         for i, u in enumerate(users)])
        session.flush()
        return team.id
    return db.call(work)


class ServerProcess:
    """``python -m tgfake`` in its own process (so the bot under test has a core to itself)."""

    def __init__(self, time_scale: float = 10.0, port: int | None = None, tokens: tuple[str, ...] = (TOKEN,),
                 latency_ms: float = 0.0) -> None:
        self.time_scale = time_scale
        self.latency_ms = latency_ms
        self.tokens = tokens
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    async def start(self) -> "ServerProcess":
        tokens = [arg for token in self.tokens for arg in ("--token", token)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tgfake", "--port", str(self.port), *tokens,
             "--time-scale", str(self.time_scale), "--username", "salesbot_bench_bot",
             "--latency-ms", str(self.latency_ms)],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.session = aiohttp.ClientSession()
        deadline = time.monotonic() + 20
        while True:
            try:
                await self.control("stats")
                return self
            except (aiohttp.ClientError, OSError):
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("local Bot API server did not start")
                await asyncio.sleep(0.1)

    async def control(self, name: str, **kwargs: Any) -> Any:
        assert self.session is not None
        async with self.session.post(f"{self.url}/control/{name}", json=kwargs) as resp:
            body = await resp.json(content_type=None)
        if not body.get("ok"):
            raise RuntimeError(f"control {name}: {body.get('error')}")
        return body["result"]

    async def api(self, method: str, token: str = TOKEN, **params: Any) -> Any:
        assert self.session is not None
        async with self.session.post(f"{self.base_url}{token}/{method}", json=params) as resp:
            return json.loads(await resp.text())

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def env_for_bot(server: ServerProcess, db_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": server.base_url,
                "DATABASE_URL": db_url, "SALESBOT_TELEGRAM_TIME_SCALE": str(server.time_scale)})
    env.update(extra)
    return env
