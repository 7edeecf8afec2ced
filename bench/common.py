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


def pg_schema(base: str) -> tuple[str, str]:
    """A new empty schema on the PostgreSQL server of ``base`` (a URL without a query): (its URL, its name)."""
    import uuid

    import psycopg
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{base}?options=-csearch_path%3D{schema}", schema


def drop_pg_schema(base: str, schema: str) -> None:
    import psycopg
    with psycopg.connect(base.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


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


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌辉鹏飞玲萍宇浩凯"
CITIES = ("上海", "苏州", "杭州", "南京", "无锡", "宁波", "深圳", "广州", "成都", "武汉", "天津", "青岛")
TRADES = ("精密机械", "智能装备", "电子科技", "新材料", "医疗器械", "物流", "食品", "包装", "环保科技", "软件")
SUFFIXES = ("有限公司", "股份有限公司", "集团有限公司", "科技有限公司")


def customer_names(n: int, rng) -> list[tuple[str, str]]:
    """``n`` distinct realistic (name, company) pairs: 王伟 / 苏州精密机械有限公司 (names repeat across reps,
    as in life; a rep's own list has each name once)."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        if name not in seen:
            seen.add(name)
            names.append(name)
    return [(name, f"{rng.choice(CITIES)}{rng.choice(GIVEN)}{rng.choice(TRADES)}{rng.choice(SUFFIXES)}") for name in names]


def seed_customers(db, config, team_id: int, per_rep: int, now: datetime, seed: int = 3) -> dict[int, list[tuple[int, str]]]:
    """``per_rep`` more open customers for every rep of the team (bulk Core inserts, spread over the
    funnel, a third with a follow-up due around today): {user id: [(customer id, name)]}."""
    import random
    from datetime import timedelta

    from sqlalchemy import insert
    from sqlmodel import select

    from services.company_names import company_core
    from storage.models import Customer, User

    rng = random.Random(seed)
    stages = [s.id for s in config.stages[:-1]]

    def work(session) -> dict[int, list[tuple[int, str]]]:
        reps = list(session.exec(select(User.id).where(User.team_id == team_id, User.role == "rep").order_by(User.id)))
        rows = []
        for rep in reps:
            for name, company in customer_names(per_rep, rng):
                entered = now - timedelta(days=rng.uniform(0, 40))
                rows.append(dict(team_id=team_id, owner_id=rep, name=name, company=company,
                                 company_norm=company_core(company), stage=rng.choice(stages), status="open",
                                 stage_entered_at=entered, created_at=entered, updated_at=entered, tags=[], custom={},
                                 next_followup_at=now + timedelta(days=rng.uniform(-5, 10)) if rng.random() < 0.33 else None,
                                 protected_until=now + timedelta(days=rng.uniform(0, 20)), completeness=40,
                                 intent_score=rng.randint(0, 100), priority=0, invalid=False))
        for start in range(0, len(rows), 5000):
            session.execute(insert(Customer), rows[start:start + 5000])
        out: dict[int, list[tuple[int, str]]] = {rep: [] for rep in reps}
        for cid, owner, name in session.execute(select(Customer.id, Customer.owner_id, Customer.name)
                                                .where(Customer.team_id == team_id).order_by(Customer.id)):
            out.setdefault(owner, []).append((cid, name))
        return out
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
