"""Long polling binds no port unless something needs the HTTP server; a taken port is one clear line (issue 14)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from bot.run import http_reasons
from core.config import load_config
from tests.botrun import free_port, running_bot, send_text

REPO = Path(__file__).resolve().parents[1]
TOKEN = "778:POLLING-test"
SECRET_VARS = [k for k in os.environ if k.startswith("SALESBOT_SOURCE_") or k == "SALESBOT_METRICS_TOKEN"]


def _config_with_port(port: int):
    base = load_config()
    return base.model_copy(update={"telegram": base.telegram.model_copy(update={"listen_port": port})})


def test_what_needs_the_http_server():
    config = load_config()
    assert http_reasons(config, {}) == []
    assert http_reasons(config, {"SALESBOT_SOURCE_WEBSITE_SECRET": "short"}) == []  # not a usable secret
    assert http_reasons(config, {"SALESBOT_SOURCE_WEBSITE_SECRET": "s" * 32}) == ["ingestion API (website)"]
    hooked = config.model_copy(update={"telegram": config.telegram.model_copy(update={"webhook_url": "https://x.example/t"})})
    assert http_reasons(hooked, {}) == ["webhook"]


async def test_polling_binds_no_port(tmp_path: Path, monkeypatch):
    for name in SECRET_VARS:
        monkeypatch.delenv(name)
    port = free_port()
    config = _config_with_port(port)
    async with running_bot(tmp_path, config, TOKEN, "poll_bot") as (tg, _core, admin):
        await send_text(tg, admin["id"], "/help")
        await tg.wait_for_sent(admin["id"], count=1, timeout=15)  # the bot is up and answering by polling
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, "long polling bound listen_port"
        # ...so a second bot on the same machine (or anything else on 8080) is no conflict.
        with socket.socket() as other:
            other.bind(("127.0.0.1", port))


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
