"""The real bot running the way `salesbot run` runs it (bot/run.py: polling or webhook, as the config
says) against the local Bot API server, on a fresh SQLite database — shared by the run-mode tests."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from pathlib import Path

from bench.common import free_port  # noqa: F401  (the run-mode tests take it from here)
from core.clock import Clock
from core.config import Config, Settings, load_config
from services.core import Core
from services.users import add_admin
from storage.db import Database
from storage.migrate import upgrade


def webhook_config(port: int, config: Config | None = None) -> Config:
    """The playbook (default: config.toml's) in webhook mode on 127.0.0.1:port."""
    base = config or load_config()
    return base.model_copy(update={"telegram": base.telegram.model_copy(update={
        "webhook_url": f"http://127.0.0.1:{port}/telegram", "listen_port": port})})


@asynccontextmanager
async def running_bot(tmp_path: Path, config: Config, token: str, username: str, *, admin: bool = True):
    """Yields (tg, core, admin) with `run` going; ``admin`` is the fake Telegram user "Ada", made the
    team's admin (None when admin=False). Stops the bot, the server and the database afterwards."""
    from tgfake.server import FakeTelegram

    from bot.app import build_application
    from bot.run import run
    tg = FakeTelegram()
    await tg.start()
    tg.register_bot(token, username=username)
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    core = Core(db=Database(url), config=config, clock=Clock())
    ada = None
    if admin:
        ada = tg.add_user(first_name="Ada")
        core.db.call(add_admin, ada["id"], "Ada", config.team.name, config.team.timezone, core.clock.now())
    settings = Settings(token=token, api_base_url=tg.base_url, api_file_url=tg.base_file_url, database_url=url,
                        config_path=Path("config.toml"), admin_ids=())
    app = build_application(settings, config, core=core, tick_seconds=None)
    stop = asyncio.Event()
    runner = asyncio.create_task(run(app, config, settings, stop))
    try:
        yield tg, core, ada
    finally:
        stop.set()
        await asyncio.wait_for(runner, 30)
        await tg.stop()
        core.db.close()


async def send_text(tg, user_id: int, text: str) -> None:
    """A user's message to the bot (the fake server's send_text may or may not be a coroutine)."""
    result = tg.send_text(user_id, text)
    if asyncio.iscoroutine(result):
        await result
