"""Benchmark of the ingestion API. Run: python -m bench.ingest [--quick]

Prints one `figure_name: value` a line, for SQLite and (suffix ``_pg``) PostgreSQL when
SALESBOT_BENCH_PG_URL / the test database at 127.0.0.1:5432 answers (BENCH_NO_PG=1 / BENCH_NO_SQLITE=1 skip one):

* ingest_leads_per_s          — signed POST /api/leads over HTTP until the answer: cleaned, checked
  for duplicates, assigned, stored with its history and the owner's task card queued in the
  outbox (the real pipeline, grouped commits); a drainer marks cards sent as the sender does
* ingest_core_baseline_per_s  — same run, same client: aiohttp + the same signature check + the
  same rows (nonce, customer, grams, stage, activities, history, task, cursor, card) written with
  SQLAlchemy Core in one transaction per request (no cleaning, no duplicate check, no card text)
* ingest_ratio_to_core        — the two above divided (target >= 0.5)
* ingest_leads_per_s_batch    — BENCH_BULK_ROWS leads (100k; 5k with --quick) posted to
  POST /api/leads/batch, 500 a request, 2 requests at a time
* ingest_copy_baseline_per_s  — the very rows that run stored, read back and written into an
  empty copy of the schema with executemany (SQLite) / COPY (PostgreSQL): leads per second
* ingest_batch_ratio          — the two above divided (target >= 0.3)
* ingest_batch_cpu_ms_per_lead / ingest_copy_cpu_ms_per_lead — this process's CPU time per lead
  (time.process_time) for the batch run (server and client in this process) and for the copy:
  steadier than the rates on a loaded machine (the database server's own time is not in it)
* ingest_p50_ms / ingest_p99_ms — per-lead latency of the single-lead run
"""
from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timezone
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.common import drop_pg_schema, pg_schema

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
SECRET = "bench-website-secret-0123456789"


_POOL = "东南西北中华新盛恒泰鑫源隆昌达宏远腾飞创联合众信诚安康宁瑞祥和美佳丰汇通金银山水天地星月光明海川江河湖林森"


def _company(i: int) -> str:
    """Distinct names that the fuzzy duplicate check does not merge (4 characters from a pool)."""
    import random
    rnd = random.Random(i)
    return "".join(rnd.sample(_POOL, 4)) + "有限公司"


def _lead(i: int) -> dict:
    return {"your_name": f"客户{i}", "mobile": f"139{i % 10**8:08d}", "company_name": _company(i),
            "product": "想要报价" if i % 3 == 0 else "了解产品", "行业": ["机械加工", "软件", "教育"][i % 3],
            "规模": f"{(i % 7) * 100}人", "message": "请尽快联系"}


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"


async def _blast(session: aiohttp.ClientSession, url: str, bodies: list[tuple[bytes, dict]],
                 expect: tuple[int, ...], workers: int | None = None) -> tuple[float, list[float]]:
    queue: asyncio.Queue = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    latencies: list[float] = []

    async def worker() -> None:
        while not queue.empty():
            body, headers = queue.get_nowait()
            if callable(headers):  # signed when sent (a long run outlives the replay window)
                headers = headers(body)
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status not in expect:
                    raise RuntimeError(f"unexpected {response.status}: {await response.text()}")
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers or CONCURRENCY)))
    return time.perf_counter() - started, latencies


BATCH = 500
TABLES = ("customer", "companygram", "stagechange", "activity", "fieldhistory", "task", "outbox", "ingestnonce")


def _pg_url() -> str | None:
    url = os.environ.get("SALESBOT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        import psycopg
        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), connect_timeout=2):
            return url
    except Exception:
        return None


def _database(kind: str, tmp: Path, pg_base: str | None, name: str) -> tuple[str, Any]:
    """A migrated empty database; returns (url, cleanup)."""
    from storage.migrate import upgrade
    if kind == "sqlite":
        url = f"sqlite:///{tmp / (name + '.db')}"
        upgrade(url)
        return url, lambda: None
    url, schema = pg_schema(pg_base)
    upgrade(url)
    return url, lambda: drop_pg_schema(pg_base, schema)


def new_team_core(kind: str, tmp: Path, pg_base: str | None, name: str):
    """A migrated database with one team (an admin, a manager, 8 reps) and its round-robin row:
    (core, url, cleanup, (first rep's id, its Telegram id))."""
    from core.clock import Clock
    from core.config import load_config
    from services import users as us
    from services.core import Core
    from storage.db import Database
    from storage.models_ingest import AssignmentCursor
    url, cleanup = _database(kind, tmp, pg_base, name)
    core = Core(db=Database(url), config=load_config(), clock=Clock())

    def team(session):
        now = core.clock.now()
        admin = us.add_admin(session, 1, "Ada", core.config.team.name, core.config.team.timezone, now)
        mgr = us.redeem_invite(session, us.create_invite(session, admin, now, 72, "manager").code, 2, "经理", None, "zh", now).user
        reps = [us.redeem_invite(session, us.create_invite(session, mgr, now, 72).code, 100 + i, f"销售{i}", None, "zh", now).user
                for i in range(8)]
        # the round-robin row exists (as after the first lead): the baseline's UPDATE locks it too
        session.add(AssignmentCursor(team_id=reps[0].team_id, last_user_id=None, updated_at=now))
        return reps[0].id, reps[0].tg_id
    return core, url, cleanup, core.db.call(team)


def _core_baseline_app(core, rows_of) -> web.Application:
    """aiohttp + the same signature check + the same rows with Core, one transaction per request."""
    from sqlalchemy import insert, update

    from ingest import auth
    from storage.models import Activity, CompanyGram, Customer, FieldHistory, Outbox, StageChange, Task
    from storage.models_ingest import AssignmentCursor, IngestNonce
    t = {m: m.__table__ for m in (Activity, CompanyGram, Customer, FieldHistory, Outbox, StageChange, Task,
                                   AssignmentCursor, IngestNonce)}
    ins = {m: insert(tbl) for m, tbl in t.items()}
    move = update(t[AssignmentCursor]).where(t[AssignmentCursor].c.team_id == 1)

    def write(session, caller, data):
        conn = session.connection()
        now = core.clock.now()
        conn.execute(ins[IngestNonce], {"source": caller.source, "signature": caller.signature, "expires_at": now})
        r = rows_of(data, now)
        cid = conn.execute(ins[Customer], r["customer"]).inserted_primary_key[0]
        conn.execute(ins[CompanyGram], [{"customer_id": cid, **g} for g in r["grams"]])
        conn.execute(ins[StageChange], {"customer_id": cid, **r["stage"]})
        conn.execute(ins[Activity], [{"customer_id": cid, **a} for a in r["activities"]])
        conn.execute(ins[FieldHistory], [{"customer_id": cid, **h} for h in r["history"]])
        conn.execute(ins[Task], {"customer_id": cid, **r["task"]})
        conn.execute(move, {"last_user_id": r["task"]["user_id"], "updated_at": now})
        conn.execute(ins[Outbox], {**r["outbox"], "dedupe_key": f"lead:{cid}"})
        return cid

    async def handler(request: web.Request) -> web.Response:
        body = await request.read()
        now_ts = core.clock.now().replace(tzinfo=timezone.utc).timestamp()
        caller = auth.authenticate(request.headers, body, core.config, now_ts)
        data = json.loads(body)
        cid = await core.db.run(write, caller, data)
        return web.json_response({"status": "created", "customer_id": cid}, status=201)

    app = web.Application()
    app.router.add_post("/api/leads", handler)
    return app


def _baseline_rows(owner_id: int, tg_id: int):
    """The rows the pipeline writes for a lead, straight from the JSON (no cleaning, no checks)."""
    def rows_of(data: dict, now) -> dict:
        company = data["company_name"]
        core_name = company.replace("有限公司", "")
        grams = {core_name[i:i + 2] for i in range(len(core_name) - 1)}
        src = {"source": "api:website", "source_ref": "req:x", "by_user_id": None, "at": now}
        history = [{"field": k, "value": str(v), **src} for k, v in (
            ("name", data["your_name"]), ("contact", data["your_name"]), ("phone", data["mobile"]),
            ("company", company), ("industry", data["行业"]), ("size", data["规模"]), ("source", "线上渠道-主动咨询"),
            ("tags", "行业:x,规模:y"), ("interest", data["product"]), ("priority", "30"))]
        return {"customer": {"team_id": 1, "owner_id": owner_id, "name": data["your_name"], "company": company,
                             "contact": data["your_name"], "phone": data["mobile"], "phone_norm": data["mobile"],
                             "company_norm": core_name, "industry": data["行业"], "size": data["规模"],
                             "source": "线上渠道-主动咨询", "tags": ["行业:x", "规模:y"], "custom": {}, "stage": "lead",
                             "status": "open", "stage_entered_at": now, "created_at": now, "updated_at": now,
                             "completeness": 80, "priority": 30, "invalid": False, "protected_until": now},
                "grams": [{"gram": g, "total": len(grams)} for g in grams],
                "stage": {"from_stage": None, "to_stage": "lead", "by_user_id": None, "at": now, "complete_data": True},
                "activities": [{"user_id": None, "kind": k, "text": x, "at": now, "data": {"source": "api:website"}}
                               for k, x in (("create", "api:website"), ("note", data["message"]))],
                "history": history,
                "task": {"user_id": owner_id, "kind": "followup", "text": "请在 30 分钟内联系", "due_at": now,
                         "status": "open", "created_at": now},
                "outbox": {"chat_id": tg_id, "kind": "card", "payload": {"text": "x" * 600, "reply_markup": {}},
                           "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
                           "last_error": ""}}
    return rows_of


def _copy_baseline(kind: str, src_url: str, tmp: Path, pg_base: str | None) -> tuple[float, int, float]:
    """The rows the batch run stored, written again into an empty schema: executemany / COPY."""
    from sqlalchemy import MetaData, create_engine, insert, select, text

    from storage.db import normalize_url
    src = create_engine(normalize_url(src_url))
    meta = MetaData()
    meta.reflect(src, only=list(TABLES))
    data = {}
    with src.connect() as conn:
        for name in TABLES:
            table = meta.tables[name]
            data[name] = [dict(r._mapping) for r in conn.execute(select(table).order_by(*table.primary_key.columns))]
    leads = len(data["customer"])
    src.dispose()
    url, cleanup = _database(kind, tmp, pg_base, "copy")
    dst = create_engine(normalize_url(url))
    try:
        dmeta = MetaData()
        dmeta.reflect(dst, only=list(TABLES) + ["team", "user"])
        with create_engine(normalize_url(src_url)).connect() as s, dst.begin() as d:  # outside the timing
            for name in ("team", "user"):
                d.execute(insert(dmeta.tables[name]), [dict(r._mapping) for r in s.execute(select(dmeta.tables[name]))])
        started, cpu = time.perf_counter(), time.process_time()
        if kind == "sqlite":
            with dst.begin() as conn:
                for name in TABLES:
                    if data[name]:
                        conn.execute(insert(dmeta.tables[name]), data[name])
        else:
            raw = dst.raw_connection()
            try:
                cur = raw.cursor()
                for name in TABLES:
                    rows = data[name]
                    if not rows:
                        continue
                    cols = list(rows[0])
                    table = dmeta.tables[name]
                    json_cols = {c.name for c in table.columns if c.type.__class__.__name__ in ("JSON", "JSONB")}
                    with cur.copy(f'COPY "{name}" ({", ".join(chr(34) + c + chr(34) for c in cols)}) FROM STDIN') as copy:
                        for row in rows:
                            copy.write_row([json.dumps(row[c], ensure_ascii=False) if c in json_cols and row[c] is not None
                                            else row[c] for c in cols])
                raw.commit()
            finally:
                raw.close()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        with dst.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM customer")).scalar() == leads
    finally:
        dst.dispose()
        cleanup()
    return elapsed, leads, cpu


async def _run(kind: str, quick: bool, tmp: Path, pg_base: str | None) -> dict[str, float]:
    from ingest.auth import signed_headers
    from ingest.server import build_app
    from services import outbox

    n = 150 if quick else 600
    bulk = int(os.environ.get("BENCH_BULK_ROWS_PG" if kind != "sqlite" else "BENCH_BULK_ROWS", "")
               or os.environ.get("BENCH_BULK_ROWS", "5000" if quick else "100000"))
    dbs = []

    def new_core(name: str):
        core, url, cleanup, rep = new_team_core(kind, tmp, pg_base, name)
        dbs.append((core, cleanup))
        return core, url, rep

    def sign(body: bytes) -> dict:
        headers = signed_headers("website", SECRET, body, int(time.time()))
        headers["Content-Type"] = "application/json"
        return headers

    def requests(start: int, count: int) -> list[tuple[bytes, dict]]:
        out = []
        for i in range(start, start + count):
            body = json.dumps(_lead(i), ensure_ascii=False).encode()
            out.append((body, sign(body)))
        return out

    def batches(start: int, count: int) -> list[tuple[bytes, dict]]:
        out = []
        for b in range(start, start + count, BATCH):
            body = json.dumps({"leads": [_lead(i) for i in range(b, min(b + BATCH, start + count))]},
                              ensure_ascii=False).encode()
            out.append((body, sign))
        return out

    core, _, _ = new_core("single")
    base_core, _, (rep_id, rep_tg) = new_core("core")
    bulk_core, bulk_url, _ = new_core("bulk")
    stop = asyncio.Event()

    async def drainer(c) -> None:
        """Plays the outbox sender: claims due cards and marks them sent."""
        def drain(session):
            rows = outbox.claim_due(session, "bench", c.clock.now(), 200)
            for row in rows:
                outbox.mark_sent(session, row.id, 1, c.clock.now())
            return len(rows)
        while not stop.is_set():
            if not await c.db.run(drain):
                await asyncio.sleep(0.02)

    ingest_runner, ingest_url = await _serve(build_app(core))
    base_runner, base_url = await _serve(_core_baseline_app(base_core, _baseline_rows(rep_id, rep_tg)))
    bulk_runner, bulk_base = await _serve(build_app(bulk_core))
    drain_task = asyncio.create_task(drainer(core))
    try:
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        async with aiohttp.ClientSession(connector=connector) as session:
            await _blast(session, ingest_url + "/api/leads", requests(90_000_000, 30), (201,))   # warm-up
            await _blast(session, base_url + "/api/leads", requests(91_000_000, 30), (201,))
            # alternate halves so load from other processes hits both sides alike
            lead_s = base_s = 0.0
            latencies: list[float] = []
            for half in range(2):
                s, lat = await _blast(session, ingest_url + "/api/leads", requests(half * n, n // 2), (201,))
                lead_s += s
                latencies += lat
                base_s += (await _blast(session, base_url + "/api/leads",
                                        requests(92_000_000 + half * n, n // 2), (201,)))[0]
            bodies = batches(0, bulk)
            cpu = time.process_time()
            bulk_s, _ = await _blast(session, bulk_base + "/api/leads/batch", bodies, (200,), workers=2)
            bulk_cpu = time.process_time() - cpu
    finally:
        stop.set()
        await drain_task
        for runner in (ingest_runner, base_runner, bulk_runner):
            await runner.cleanup()
    cards = core.db.call(lambda s: outbox.pending_count(s))
    stored = bulk_core.db.call(lambda s: s.execute(__import__("sqlalchemy").text("SELECT count(*) FROM customer")).scalar())
    for c, _ in dbs:
        c.db.close()
    copy_s, copied, copy_cpu = _copy_baseline(kind, bulk_url, tmp, pg_base)
    for _, cleanup in dbs:
        cleanup()
    if copied != stored:
        print(f"warning: {copied} of {stored} stored leads copied", file=sys.stderr)
    if cards > 2 * CONCURRENCY:
        print(f"warning: {cards} cards still queued", file=sys.stderr)
    latencies.sort()
    half_n = 2 * (n // 2)
    sfx = "" if kind == "sqlite" else "_pg"
    return {
        f"ingest_leads_per_s{sfx}": half_n / lead_s,
        f"ingest_core_baseline_per_s{sfx}": half_n / base_s,
        f"ingest_ratio_to_core{sfx}": base_s / lead_s,
        f"ingest_leads_per_s_batch{sfx}": bulk / bulk_s,
        f"ingest_copy_baseline_per_s{sfx}": copied / copy_s,
        f"ingest_batch_ratio{sfx}": (bulk / bulk_s) / (copied / copy_s),
        f"ingest_batch_cpu_ms_per_lead{sfx}": bulk_cpu / bulk * 1000,
        f"ingest_copy_cpu_ms_per_lead{sfx}": copy_cpu / copied * 1000,
        f"ingest_p50_ms{sfx}": statistics.median(latencies) * 1000,
        f"ingest_p99_ms{sfx}": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def _print(figures: dict[str, float]) -> None:
    for name, value in figures.items():
        print(f"{name}: {value:.3f}" if "ratio" in name else f"{name}: {value:.1f}", flush=True)


async def main(quick: bool = False, show: bool = False) -> dict[str, float]:
    """The figures for SQLite, then PostgreSQL; ``show`` prints each backend's as soon as it is done."""
    os.environ["SALESBOT_SOURCE_WEBSITE_SECRET"] = SECRET
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    figures = {} if os.environ.get("BENCH_NO_SQLITE") else await _run("sqlite", quick, tmp, None)
    if show:
        _print(figures)
    pg = None if os.environ.get("BENCH_NO_PG") else _pg_url()
    if pg:
        more = await _run("postgresql", quick, tmp, pg)
        if show:
            _print(more)
        figures.update(more)
    return figures


if __name__ == "__main__":
    asyncio.run(main(quick="--quick" in sys.argv, show=True))
