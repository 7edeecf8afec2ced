"""Long polling binds no port unless something needs the HTTP server; a taken port is one clear line (issue 14)."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

from bot.run import http_reasons
from core.clock import Clock
from core.config import Settings, load_config
from services.core import Core
from services.users import add_admin
from storage.db import Database
from storage.migrate import upgrade

REPO = Path(__file__).resolve().parents[1]
TOKEN = "778:POLLING-test"
SECRET_VARS = [k for k in os.environ if k.startswith("SALESBOT_SOURCE_") or k == "SALESBOT_METRICS_TOKEN"]


def _config_with_port(port: int):
    base = load_config()
    return base.model_copy(update={"telegram": base.telegram.model_copy(update={"listen_port": port})})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_what_needs_the_http_server():
    config = load_config()
    assert http_reasons(config, {}) == []
    assert http_reasons(config, {"SALESBOT_SOURCE_WEBSITE_SECRET": "short"}) == []  # not a usable secret
    assert http_reasons(config, {"SALESBOT_SOURCE_WEBSITE_SECRET": "s" * 32}) == ["ingestion API (website)"]
    hooked = config.model_copy(update={"telegram": config.telegram.model_copy(update={"webhook_url": "https://x.example/t"})})
    assert http_reasons(hooked, {}) == ["webhook"]


async def test_polling_binds_no_port(tmp_path: Path, monkeypatch):
    from tgfake.server import FakeTelegram

    from bot.app import build_application
    from bot.run import run
    for name in SECRET_VARS:
        monkeypatch.delenv(name)
    port = _free_port()
    config = _config_with_port(port)
    tg = FakeTelegram()
    await tg.start()
    tg.register_bot(TOKEN, username="poll_bot")
    url = f"sqlite:///{tmp_path / 'poll.db'}"
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
        result = tg.send_text(admin["id"], "/help")
        if asyncio.iscoroutine(result):
            await result
        await tg.wait_for_sent(admin["id"], count=1, timeout=15)  # the bot is up and answering by polling
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, "long polling bound listen_port"
        # ...so a second bot on the same machine (or anything else on 8080) is no conflict.
        with socket.socket() as other:
            other.bind(("127.0.0.1", port))
    finally:
        stop.set()
        await asyncio.wait_for(runner, 30)
        await tg.stop()
        core.db.close()


def test_taken_port_is_one_clear_line(tmp_path: Path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    config = (REPO / "config.toml").read_text(encoding="utf-8").replace("listen_port = 8080", f"listen_port = {port}")
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env.update({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SALESBOT_CONFIG": str(tmp_path / "config.toml"),
                "SALESBOT_SOURCE_WEBSITE_SECRET": "s" * 32, "SALESBOT_ADMIN_IDS": ""})
    try:
        done = subprocess.run([sys.executable, "-m", "cli.main", "run"], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=60)
    finally:
        taken.close()
    assert done.returncode == 2
    err = done.stderr.strip().splitlines()
    assert len(err) == 1, done.stderr
    assert "listen_port" in err[0] and str(port) in err[0]
    assert "Traceback" not in done.stderr + done.stdout and "Unclosed" not in done.stderr + done.stdout
