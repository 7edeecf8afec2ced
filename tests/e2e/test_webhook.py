"""Webhook mode: the bot's own aiohttp server receives updates, checking Telegram's secret token."""
import asyncio
import socket
from pathlib import Path

import httpx

from core.clock import Clock
from core.config import Settings, load_config
from services.core import Core
from services.users import add_admin
from storage.db import Database
from storage.migrate import upgrade

TOKEN = "777:WEBHOOK-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_delivery_with_secret_token(tmp_path: Path):
    from tgfake.server import FakeTelegram

    from bot.app import build_application
    from bot.run import run
    tg = FakeTelegram()
    await tg.start()
    tg.register_bot(TOKEN, username="hook_bot")
    port = free_port()
    base = load_config()
    config = base.model_copy(update={"telegram": base.telegram.model_copy(update={
        "webhook_url": f"http://127.0.0.1:{port}/telegram", "listen_port": port})})
    url = f"sqlite:///{tmp_path / 'hook.db'}"
    upgrade(url)
    core = Core(db=Database(url), config=config, clock=Clock())
    admin = tg.add_user(first_name="Ada")
    core.db.call(add_admin, admin["id"], "Ada", config.team.name, config.team.timezone, core.clock.now())
    settings = Settings(token=TOKEN, api_base_url=tg.base_url, api_file_url=tg.base_file_url, database_url=url,
                        config_path=Path("config.toml"), admin_ids=())
    app = build_application(settings, config, core=core, tick_seconds=None)
    stop = asyncio.Event()
    runner = asyncio.create_task(run(app, config, settings, stop))
    try:
        await tg.wait_until(lambda: any(r["method"].lower() == "setwebhook" and r["status"] == 200 for r in tg.requests), 15)
        hook = next(r for r in tg.requests if r["method"].lower() == "setwebhook")
        assert hook["params"]["url"] == f"http://127.0.0.1:{port}/telegram" and hook["params"].get("secret_token")
        result = tg.send_text(admin["id"], "/help")
        if asyncio.iscoroutine(result):
            await result
        await tg.wait_for_sent(admin["id"], count=1, timeout=15)
        assert "销售助手" in tg.sent(admin["id"])[-1]["text"]
        # Without the secret, or with a wrong one, the server refuses the update.
        async with httpx.AsyncClient() as client:
            bare = await client.post(f"http://127.0.0.1:{port}/telegram", json={"update_id": 1})
            wrong = await client.post(f"http://127.0.0.1:{port}/telegram", json={"update_id": 2},
                                      headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})
        assert bare.status_code == 403 and wrong.status_code == 403
        # getUpdates is refused while the webhook is active — polling is really off.
        assert not any(r["method"].lower() == "getupdates" and r["status"] == 200 for r in tg.requests)
    finally:
        stop.set()
        await asyncio.wait_for(runner, 30)
        await tg.stop()
        core.db.close()
