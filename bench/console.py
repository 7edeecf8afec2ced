"""Benchmark: the console's API and page on a large organisation.

    python -m bench.console [--teams 50] [--reps 20] [--customers 100] [--rounds 40] [--db-url URL] [--no-browser] [--keep]

Seeds console.seed's realistic data scaled to 1,000 reps (50 teams of 20) and 100,000 customers with
their stage moves, follow-ups, checklist items, points and analyses (≈ 0.5 M rows), serves the console
(console.server) on a local port and times, over HTTP with signed initData, the calls the page makes:
the first screen (funnel + board), a funnel with a period filter, the board, customers at risk, a rep's
drill-down and a customer's timeline — for managers of random teams.  Baseline in the same run:
``GET /api/app/me`` (signature check + one user lookup: the floor under every console call).
Target: console_api_p95_ms ≤ 300.

With a Chromium (console.browser.find_chromium), it also opens the page as a manager and reports the
time from navigation start to the first chart drawn (median of 5 loads), and as baseline the time to
the page's first screen without any API data (no initData: scripts loaded, error shown).
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.common import run_and_report

NOW = datetime(2026, 11, 27, 0, 15)
TOKEN = "123456789:TEST-console-bench"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


async def run(args) -> dict:
    import aiohttp
    from aiohttp import web
    from sqlalchemy import text

    from console import auth
    from console.seed import seed
    from console.server import build_app
    from core.clock import Clock
    from core.config import load_config
    from services.core import Core
    from storage.db import Database
    from storage.migrate import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="bench-console-"))
    url = args.db_url or f"sqlite:///{tmp / 'console.db'}"
    upgrade(url)
    clock = Clock()
    clock.set(NOW)
    core = Core(db=Database(url), config=load_config(), clock=clock)
    started = time.perf_counter()
    seeded = core.db.call(seed, core.config, NOW, teams=args.teams, reps_per_team=args.reps,
                          customers_per_rep=args.customers, activities_per_customer=3, rng_seed=11)
    if args.keep:
        print(f"# database: {url}", file=sys.stderr)
    figures: dict = {"console_seed_s": time.perf_counter() - started,
                     "console_reps": args.teams * args.reps, "console_customers": len(seeded.customers)}
    ids = core.db.call(lambda s: list(s.execute(text("SELECT id, team_id FROM customer WHERE status = 'open' ORDER BY id"))))
    by_team: dict[int, list[int]] = {}
    for cid, team_id in ids:
        by_team.setdefault(team_id, []).append(cid)

    runner = web.AppRunner(build_app(core, TOKEN))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    ts = int(NOW.replace(tzinfo=timezone.utc).timestamp())
    rng = random.Random(5)

    def headers(tg_id: int) -> dict[str, str]:
        return {"Authorization": "tma " + auth.sign(TOKEN, {"id": tg_id, "first_name": "m"}, auth_date=ts)}

    timings: dict[str, list[float]] = {}
    try:
        async with aiohttp.ClientSession() as http:
            async def timed(name: str, path: str, hdr: dict) -> None:
                t0 = time.perf_counter()
                async with http.get(base + path, headers=hdr) as resp:
                    await resp.read()
                    assert resp.status == 200, (path, resp.status)
                timings.setdefault(name, []).append((time.perf_counter() - t0) * 1000)

            warm = seeded.teams[0]
            await timed("warmup", "/api/app/dashboard", headers(warm.manager_tg))
            for _ in range(args.rounds):
                team = rng.choice(seeded.teams)
                h = headers(team.manager_tg)
                await timed("me", "/api/app/me", h)
                await timed("dashboard", "/api/app/dashboard", h)
                await timed("funnel_month", "/api/app/funnel?period=month", h)
                await timed("board", "/api/app/board?kind=weekly", h)
                await timed("customers_overdue", "/api/app/customers?risk=overdue", h)
                await timed("rep", f"/api/app/reps/{rng.choice(team.reps)[0]}", h)
                await timed("customer", f"/api/app/customers/{rng.choice(by_team[team.id])}", h)
        calls = [v for k, v in timings.items() if k not in ("me", "warmup") for v in v]
        figures["console_api_p95_ms"] = p95(calls)
        figures["console_api_p50_ms"] = statistics.median(calls)
        figures["baseline_me_p95_ms"] = p95(timings["me"])
        for name in ("dashboard", "funnel_month", "board", "customers_overdue", "rep", "customer"):
            figures[f"console_{name}_p95_ms"] = p95(timings[name])
        figures["console_api_calls"] = len(calls)
        if not args.no_browser:
            figures.update(await browser_figures(base, seeded.teams[0].manager_tg, ts))
    finally:
        await runner.cleanup()
        core.db.close()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return figures


async def browser_figures(base: str, manager_tg: int, ts: int) -> dict:
    from console import auth
    from console.browser import app_url, find_chromium, launch_args
    path, why = find_chromium()
    if path is None:
        print(f"# {why}", file=sys.stderr)
        return {}
    from playwright.async_api import async_playwright
    first, blank = [], []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=path, args=launch_args())
        context = await browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
        data = auth.sign(TOKEN, {"id": manager_tg, "first_name": "m"}, auth_date=ts)
        for _ in range(5):
            page = await context.new_page()
            await page.goto(app_url(base, data))
            await page.wait_for_function("() => window.__firstChartMs !== undefined", timeout=30000)
            first.append(await page.evaluate("() => window.__firstChartMs"))
            await page.close()
            page = await context.new_page()
            await page.goto(base + "/app/")
            await page.wait_for_function("() => window.__stateMs !== undefined", timeout=30000)
            blank.append(await page.evaluate("() => window.__stateMs"))
            await page.close()
        await browser.close()
    return {"console_first_chart_ms": statistics.median(first), "baseline_page_no_data_ms": statistics.median(blank)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument("--reps", type=int, default=20, help="reps per team")
    parser.add_argument("--customers", type=int, default=100, help="customers per rep")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--db-url", help="default: a fresh SQLite file")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database (its path is printed)")
    return run_and_report(run, parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
