"""The console through the real bot: its menu button, the digest's "打开看板" button, and the API
mounted on the bot's own aiohttp server next to the webhook and the ingestion API."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from aiohttp.test_utils import TestClient, TestServer

from cli.sandbox import TOKEN, Sandbox
from console import auth
from core.config import load_config
from tests.harness import buttons

URL = "https://bot.example.com/app/"
FRI_0815 = datetime(2026, 11, 27, 0, 15)


@pytest.fixture
async def console_harness(tmp_path):
    config = load_config()
    config.console.public_url = URL
    h = Sandbox(tmp_path, config=config)
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


def signed(h, tg: dict) -> dict[str, str]:
    ts = int(h.clock.now().replace(tzinfo=timezone.utc).timestamp())
    return {"Authorization": "tma " + auth.sign(TOKEN, {"id": tg["id"], "first_name": tg["first_name"]}, auth_date=ts)}


async def test_menu_button_and_digest_button_open_the_console(console_harness):
    h = console_harness
    _, manager, (rep,) = await h.team(reps=1)
    menus = {int(c["params"]["chat_id"]): json.loads(c["params"]["menu_button"]) if isinstance(c["params"]["menu_button"], str)
             else c["params"]["menu_button"] for c in h.tg.calls("setChatMenuButton") if c["status"] == 200}
    for person in (manager, rep):
        assert menus[person["id"]] == {"type": "web_app", "text": "看板", "web_app": {"url": URL}}
    await h.run_schedule(FRI_0815)
    digests = [m for m in h.tg.sent(manager["id"]) if "团队日报" in (m["text"] or "")]
    assert digests
    web = [b for b in buttons(digests[-1]) if "web_app" in b]
    assert web == [{"text": "📊 打开看板", "web_app": {"url": URL}}]


async def test_without_a_public_url_there_is_no_button(harness):
    h = harness
    _, manager, _ = await h.team(reps=1)
    assert not h.tg.calls("setChatMenuButton")
    await h.run_schedule(FRI_0815 + timedelta(days=7))
    digest = [m for m in h.tg.sent(manager["id"]) if "团队日报" in (m["text"] or "")][-1]
    assert not any("web_app" in b for b in buttons(digest))


async def test_console_is_served_by_the_bots_own_server(console_harness):
    from bot.run import make_web_app
    h = console_harness
    _, manager, (rep,) = await h.team(reps=1)
    web_app = make_web_app(h.app, h.config, h.app.bot_data["settings"])
    client = TestClient(TestServer(web_app))
    await client.start_server()
    try:
        resp = await client.get("/api/app/me", headers=signed(h, manager))
        body = await resp.json()
        assert resp.status == 200 and body["role"] == "manager" and body["name"] == "王经理"
        resp = await client.get("/api/app/me", headers=signed(h, rep))
        assert (await resp.json())["role"] == "rep"
        assert (await client.get("/api/app/me")).status == 401
        assert (await client.get("/app/")).status == 200
        assert (await client.get("/healthz")).status == 200  # the ingestion API is still there
        unknown = await client.get("/api/app/nothing", headers=signed(h, manager))
        assert unknown.status == 404 and (await unknown.json())["error"] == "not_found"
    finally:
        await client.close()


async def test_existing_reps_get_the_button_at_start_up(console_harness):
    from bot.app import _set_menus
    h = console_harness
    admin, manager, reps = await h.team(reps=2)
    before = len(h.tg.calls("setChatMenuButton"))
    await _set_menus(h.app)  # what a restart does
    await h.app.bot_data["console_buttons"]
    chats = [int(c["params"]["chat_id"]) for c in h.tg.calls("setChatMenuButton")[before:]]
    assert sorted(chats) == sorted([admin["id"], manager["id"]] + [r["id"] for r in reps])
