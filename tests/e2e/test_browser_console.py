"""The console in a real headless Chromium (Playwright, Debian's chromium-headless-shell).

The page is opened the way Telegram opens a Mini App — signed initData in the URL hash, read by the
vendored telegram-web-app.js — for a manager, a rep and a forged user.  Skipped, saying why, when no
Chromium is installed.
"""
from __future__ import annotations

from collections import Counter
from datetime import timezone

import pytest
from aiohttp import web

from console import auth
from console.browser import app_url, find_chromium, launch_args
from console.seed import seed
from console.server import build_app

CHROMIUM, WHY = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=WHY)
TOKEN = "123456789:TEST-console-token"


@pytest.fixture
def db_url(tmp_path):
    """SQLite only: the API tests cover PostgreSQL; the browser tests are about the page."""
    return f"sqlite:///{tmp_path / 'console.db'}"


@pytest.fixture
async def site(core):
    seeded = core.db.call(seed, core.config, core.clock.now(), teams=2, reps_per_team=3, customers_per_rep=10)
    runner = web.AppRunner(build_app(core, TOKEN))
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", seeded, core
    finally:
        await runner.cleanup()


@pytest.fixture
async def page():
    from playwright.async_api import async_playwright
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=launch_args(), headless=True)
        context = await browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=1,
                                            locale="zh-CN")
        pg = await context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        # The page runs under its Content-Security-Policy: a refused script or style would show here.
        pg.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
        pg.errors = errors
        try:
            yield pg
        finally:
            await browser.close()


def init_data(core, tg_id: int, token: str = TOKEN, lang: str = "zh-hans") -> str:
    ts = int(core.clock.now().replace(tzinfo=timezone.utc).timestamp())
    return auth.sign(token, {"id": tg_id, "first_name": "x", "language_code": lang}, auth_date=ts)


async def open_as(page, base: str, data: str) -> str:
    await page.goto(app_url(base, data))
    await page.wait_for_selector("body[data-state]", timeout=15000)
    return await page.get_attribute("body", "data-state")


async def funnel_numbers(page) -> dict[str, tuple[int, int]]:
    rows = await page.eval_on_selector_all(
        "[data-testid=funnel-table] tbody tr",
        "rows => rows.map(r => [r.dataset.stage, +r.querySelector('.reached').textContent, +r.querySelector('.current').textContent])")
    return {stage: (reached, current) for stage, reached, current in rows}


def expected(config, rows) -> dict[str, tuple[int, int]]:
    ids = [s.id for s in config.stages]
    furthest = Counter(len(ids) if status == "won" else ids.index(stage) for stage, status in rows)
    current = Counter(stage for stage, status in rows if status == "open")
    return {sid: (sum(n for i, n in furthest.items() if i >= k), current.get(sid, 0)) for k, sid in enumerate(ids)}


async def test_manager_sees_the_teams_funnel_and_drills_down(site, page):
    base, s, core = site
    a, _ = s.teams
    assert await open_as(page, base, init_data(core, a.manager_tg)) == "ready"
    want = expected(core.config, [(st, stat) for t, _, st, stat in s.customers if t == a.id])
    assert await funnel_numbers(page) == want
    # The chart was really drawn by Chart.js on the canvas.
    assert await page.evaluate("() => !!Chart.getChart('funnel-chart') && Chart.getChart('funnel-chart').data.datasets[0].data.length") == len(want)
    assert "瓶颈" in await page.text_content("[data-testid=bottleneck]") or "暂无瓶颈" in await page.text_content("[data-testid=bottleneck]")
    # Readable at 360 px: nothing wider than the screen (wide tables scroll inside their box).
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= 360
    # The leaderboard lists every rep of the team; tapping one opens their drill-down.
    rows = await page.eval_on_selector_all("[data-testid=board] tbody tr", "rs => rs.map(r => r.dataset.user)")
    assert sorted(int(r) for r in rows) == sorted(r[0] for r in a.reps)
    rep_id, _, rep_name = a.reps[0]
    await page.click(f"[data-testid=board] tr[data-user='{rep_id}']")
    await page.wait_for_selector("[data-testid=rep-name]")
    assert await page.text_content("[data-testid=rep-name]") == rep_name
    assert "null" not in await page.text_content("#app") and "undefined" not in await page.text_content("#app")
    assert "最需提升" in await page.text_content("[data-testid=weakest]")
    assert await page.evaluate("() => Chart.getChart('radar-chart').data.labels.length") == len(core.config.dimensions)
    opened = sum(1 for t, o, st, stat in s.customers if o == rep_id and stat == "open")
    assert await page.locator("[data-testid=rep-customers] li").count() == opened
    # A customer's timeline, then back to the rep and back to the dashboard.
    first = page.locator("[data-testid=rep-customers] li").first
    name = await first.locator("b").text_content()
    await first.click()
    await page.wait_for_selector("[data-testid=customer-name]")
    assert await page.text_content("[data-testid=customer-name]") == name
    assert await page.locator("[data-testid=timeline] li").count() >= 1
    await page.click("[data-testid=back]")
    await page.wait_for_selector("[data-testid=rep-name]")
    await page.click("[data-testid=back]")
    await page.wait_for_selector("[data-testid=funnel-table]")
    assert not page.errors


async def test_rep_sees_only_their_own_funnel_and_customers(site, page):
    base, s, core = site
    a, _ = s.teams
    rep_id, rep_tg, _ = a.reps[1]
    assert await open_as(page, base, init_data(core, rep_tg)) == "ready"
    assert await funnel_numbers(page) == expected(core.config, [(st, stat) for _, o, st, stat in s.customers if o == rep_id])
    assert await page.text_content("[data-testid=funnel] h2") == "我的漏斗"
    opened = sum(1 for _, o, _, stat in s.customers if o == rep_id and stat == "open")
    assert await page.locator("[data-testid=my-customers] li").count() == opened
    assert await page.locator("[data-testid=team]").count() == 0  # no team picker for a rep
    assert not page.errors


async def test_admin_switches_team_and_english_words(site, page):
    from sqlalchemy import text
    base, s, core = site
    a, b = s.teams
    core.db.call(lambda ses: ses.execute(text("UPDATE \"user\" SET language='en' WHERE tg_id=:t"), {"t": s.admin_tg}))
    assert await open_as(page, base, init_data(core, s.admin_tg, lang="en")) == "ready"
    assert await page.text_content("[data-testid=funnel] h2") == "Sales funnel"
    await page.select_option("[data-testid=team]", str(b.id))
    await page.wait_for_function(f"() => document.querySelector('h1').textContent.includes({b.name!r})")
    assert await funnel_numbers(page) == expected(core.config, [(st, stat) for t, _, st, stat in s.customers if t == b.id])


@pytest.mark.parametrize("how", ["forged", "other_bot", "stranger", "none"])
async def test_forged_or_missing_init_data_shows_an_error(site, page, how):
    base, s, core = site
    a, _ = s.teams
    good = init_data(core, a.manager_tg)
    data = {"forged": good.replace("%22id%22%3A1000", "%22id%22%3A1"),
            "other_bot": init_data(core, a.manager_tg, token="987:another-bot"),
            "stranger": init_data(core, 777777), "none": ""}[how]
    if how == "none":
        await page.goto(base + "/app/")
        await page.wait_for_selector("body[data-state]")
    else:
        assert await open_as(page, base, data) == "error"
    status = await page.get_attribute("[data-testid=error]", "data-status")
    assert status == ("403" if how == "stranger" else "401")
    assert ("成员" if how == "stranger" else "验证") in await page.text_content("[data-testid=error]")
    assert await page.locator("[data-testid=funnel-table]").count() == 0
    assert not page.errors
