"""Benchmark of the ingestion API. Run: python -m bench.ingest [--quick]

Prints one `figure_name: value` a line:

* ingest_leads_per_s     — signed POST /api/leads over HTTP until the answer: cleaned, checked for
  duplicates, assigned, stored with its history and the owner's task card queued in the outbox
  (one transaction each, SQLite file, the real thread pool); a background drainer marks the
  cards sent the way the outbox sender does, so the queue does not grow during the run
* ingest_bare_per_s      — a bare aiohttp handler that only parses the same JSON, same run, same client
* ingest_ratio_to_bare   — the two above divided
* ingest_p50_ms / ingest_p99_ms — per-lead latency at that concurrency
"""
from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

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
                 expect: tuple[int, ...]) -> tuple[float, list[float]]:
    queue: asyncio.Queue = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    latencies: list[float] = []

    async def worker() -> None:
        while not queue.empty():
            body, headers = queue.get_nowait()
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status not in expect:
                    raise RuntimeError(f"unexpected {response.status}: {await response.text()}")
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.perf_counter() - started, latencies


async def main(quick: bool = False) -> dict[str, float]:
    from core.clock import Clock
    from core.config import load_config
    from ingest.auth import signed_headers
    from ingest.server import build_app
    from services import outbox
    from services import users as us
    from services.core import Core
    from storage.db import Database
    from storage.migrate import upgrade

    os.environ["SALESBOT_SOURCE_WEBSITE_SECRET"] = SECRET
    n = 150 if quick else 600
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    core = Core(db=Database(url), config=load_config(), clock=Clock())

    def team(session):
        now = core.clock.now()
        admin = us.add_admin(session, 1, "Ada", core.config.team.name, core.config.team.timezone, now)
        mgr = us.redeem_invite(session, us.create_invite(session, admin, now, 72, "manager").code, 2, "经理", None, "zh", now).user
        for i in range(8):
            us.redeem_invite(session, us.create_invite(session, mgr, now, 72).code, 100 + i, f"销售{i}", None, "zh", now)
    core.db.call(team)

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

    async def bare_handler(request: web.Request) -> web.Response:
        data = json.loads(await request.read())
        return web.json_response({"ok": bool(data)})

    bare_app = web.Application()
    bare_app.router.add_post("/api/leads", bare_handler)
    stop = asyncio.Event()

    async def drainer() -> None:
        """Plays the outbox sender: claims due cards and marks them sent."""
        def drain(session):
            rows = outbox.claim_due(session, "bench", core.clock.now(), 200)
            for row in rows:
                outbox.mark_sent(session, row.id, 1, core.clock.now())
            return len(rows)
        while not stop.is_set():
            if not await core.db.run(drain):
                await asyncio.sleep(0.02)

    ingest_runner, ingest_url = await _serve(build_app(core))
    bare_runner, bare_url = await _serve(bare_app)
    drain_task = asyncio.create_task(drainer())
    try:
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        async with aiohttp.ClientSession(connector=connector) as session:
            await _blast(session, ingest_url + "/api/leads", requests(90_000_000, 30), (201,))   # warm-up
            await _blast(session, bare_url + "/api/leads", requests(91_000_000, 30), (200,))
            lead_s, latencies = await _blast(session, ingest_url + "/api/leads", requests(0, n), (201,))
            bare_s, _ = await _blast(session, bare_url + "/api/leads", requests(92_000_000, n), (200,))
    finally:
        stop.set()
        await drain_task
        await ingest_runner.cleanup()
        await bare_runner.cleanup()
    cards = core.db.call(lambda s: outbox.pending_count(s))
    core.db.close()
    latencies.sort()
    figures = {
        "ingest_leads_per_s": n / lead_s,
        "ingest_bare_per_s": n / bare_s,
        "ingest_ratio_to_bare": (n / lead_s) / (n / bare_s),
        "ingest_p50_ms": statistics.median(latencies) * 1000,
        "ingest_p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }
    if cards > 2 * CONCURRENCY:
        print(f"warning: {cards} cards still queued", file=sys.stderr)
    return figures


if __name__ == "__main__":
    results = asyncio.run(main(quick="--quick" in sys.argv))
    for name, value in results.items():
        print(f"{name}: {value:.3f}" if "ratio" in name else f"{name}: {value:.1f}")
