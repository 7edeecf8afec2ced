"""A sandbox: the real PTB Application over HTTP against the local Bot API server (tgfake).

Used by `make demo`, the end-to-end tests and the benchmarks: a fresh fake Telegram, a real
database (a SQLite file by default; ``db_url`` may name PostgreSQL — tests use ``harness_pg``)
and a clock the caller controls.  Scheduled jobs run when the caller says
``run_schedule(at)`` — time is set, never slept.
"""
from __future__ import annotations

import asyncio
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import TypeHandler

from core.clock import Clock
from core.config import Config, Settings, load_config
from services.core import Core
from storage.db import Database
from storage.migrate import upgrade

TOKEN = "123456789:TEST-token_for_salesbot"
BOT_USERNAME = "salesbot_test_bot"
# A Thursday, 09:00 in Shanghai.
DEFAULT_NOW = datetime(2026, 11, 26, 1, 0)


class Sandbox:
    def __init__(self, tmp_path: Path, config: Config | None = None, db_url: str | None = None,
                 now: datetime = DEFAULT_NOW, time_scale: float = 10.0) -> None:
        self.tmp_path = tmp_path
        self.config = config or load_config()
        self.db_url = db_url or f"sqlite:///{tmp_path / 'salesbot.db'}"
        self.clock = Clock()
        self.clock.set(now)
        self.time_scale = time_scale
        self.tg: Any = None
        self.app: Any = None
        self.core: Core | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> "Sandbox":
        from tgfake.server import FakeTelegram

        from bot.app import build_application, startup
        self.tg = FakeTelegram(time_scale=self.time_scale)
        await self.tg.start()
        self.tg.register_bot(TOKEN, username=BOT_USERNAME)
        settings = Settings(token=TOKEN, api_base_url=self.tg.base_url, api_file_url=self.tg.base_file_url,
                            database_url=self.db_url, config_path=Path("config.toml"), admin_ids=())
        upgrade(self.db_url)
        self.core = Core(db=Database(self.db_url), config=self.config, clock=self.clock)
        # The local server's clock runs time_scale× faster, and so do the bot's own limiters.
        self.app = build_application(settings, self.config, core=self.core, tick_seconds=None,
                                     time_scale=self.time_scale)
        self.processed: set[int] = set()
        self.app.add_handler(TypeHandler(Update, self._mark_processed), group=10_000)
        await self.app.initialize()
        await startup(self.app)
        await self.app.updater.start_polling(poll_interval=0.0, timeout=1)
        await self.app.start()
        await self.app.bot_data["nlp_ready"]  # jieba loaded off the loop before the first paste
        return self

    async def _mark_processed(self, update: Update, _context: Any) -> None:
        self.processed.add(update.update_id)

    async def settle(self, update_id: int | None, timeout: float = 15.0) -> None:
        """Wait until the bot finished the update (its last handler group ran) and went quiet."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if update_id is not None:
            while update_id not in self.processed and loop.time() < deadline:
                await asyncio.sleep(0.005)
        in_flight = self.app.bot_data.get("in_flight")
        if in_flight is not None:
            await asyncio.sleep(0)  # let a task the handler spawned (buffered forwards) start
            await in_flight.wait_idle(max(0.1, deadline - loop.time()))
        await self.tg.wait_idle(quiet=0.03 if update_id in self.processed else None)

    async def serve_web(self):
        """The web app bot/run.py serves (webhook, ingestion API, console) on a free local port:
        (runner, base URL); the caller cleans the runner up."""
        from aiohttp import web

        from bot.run import make_web_app
        runner = web.AppRunner(make_web_app(self.app, self.config, self.app.bot_data["settings"]))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"

    def console_login(self, tg_id: int, first_name: str) -> str:
        """Signed Mini App init data for a member, as Telegram would hand it to the console now."""
        from datetime import timezone

        from console import auth
        ts = int(self.clock.now().replace(tzinfo=timezone.utc).timestamp())
        return auth.sign(TOKEN, {"id": tg_id, "first_name": first_name}, auth_date=ts)

    async def stop(self) -> None:
        from bot.app import shutdown
        if self.app is not None:
            if self.app.updater.running:
                await self.app.updater.stop()
            await shutdown(self.app)
            if self.app.running:
                await self.app.stop()
            await self.app.shutdown()
        if self.tg is not None:
            await self.tg.stop()
        if self.core is not None:
            self.core.db.close()

    # --- people ------------------------------------------------------------------------------
    def user(self, first_name: str, language_code: str = "zh-hans", **kw: Any) -> dict:
        return self.tg.add_user(first_name=first_name, language_code=language_code, **kw)

    async def make_admin(self, first_name: str = "Ada") -> dict:
        from services.users import add_admin
        user = self.user(first_name)
        await self.core.db.run(add_admin, user["id"], first_name, self.config.team.name, self.config.team.timezone,
                               self.clock.now())
        return user

    async def invite(self, inviter: dict, role: str = "") -> str:
        replies = await self.send(inviter, f"/invite {role}".strip())
        match = re.search(r"start=([\w-]+)", replies[-1]["text"])
        assert match, replies
        return match.group(1)

    async def join(self, code: str, first_name: str, language_code: str = "zh-hans") -> dict:
        user = self.user(first_name, language_code)
        replies = await self.send(user, f"/start {code}")
        assert replies and ("欢迎" in replies[-1]["text"] or "Welcome" in replies[-1]["text"]), replies
        return user

    async def team(self, reps: int = 2) -> tuple[dict, dict, list[dict]]:
        """An admin, a manager invited by the admin, and reps invited by the manager."""
        admin = await self.make_admin()
        manager = await self.join(await self.invite(admin, "manager"), "王经理")
        rep_list = [await self.join(await self.invite(manager), f"销售{i + 1}") for i in range(reps)]
        return admin, manager, rep_list

    # --- talking -----------------------------------------------------------------------------
    def chat_messages(self, user_or_chat: dict | int) -> list[dict]:
        chat_id = user_or_chat["id"] if isinstance(user_or_chat, dict) else user_or_chat
        return self.tg.sent(chat_id)

    async def _exchange(self, chat_id: int, action) -> list[dict]:
        before = {m["message_id"]: m.get("edits", 0) for m in self.tg.sent(chat_id)}
        update = await action()
        await self.settle(update.get("update_id") if isinstance(update, dict) else None)
        after = self.tg.sent(chat_id)
        return [m for m in after if m["message_id"] not in before or m.get("edits", 0) != before[m["message_id"]]]

    async def send(self, user: dict, text: str, chat_id: int | None = None) -> list[dict]:
        """Send text as ``user``; returns the messages the bot sent or edited in that chat."""
        target = chat_id or user["id"]
        return await self._exchange(target, lambda: _maybe_await(self.tg.send_text(user["id"], text, chat_id=chat_id)))

    async def forward(self, user: dict, text: str, origin_name: str, **kw: Any) -> list[dict]:
        return await self._exchange(user["id"], lambda: _maybe_await(
            self.tg.send_forward(user["id"], text, origin_name=origin_name, **kw)))

    async def press(self, user: dict, message: dict, *, text: str | None = None, data: str | None = None,
                    validate: bool = True) -> list[dict]:
        """Press a button (by its visible text or callback data) on a bot message."""
        chat_id = message.get("chat_id", user["id"])
        if text is not None and data is None:
            data = button_data(message, text)
        return await self._exchange(chat_id, lambda: _maybe_await(self.tg.press_button(
            user["id"], message["message_id"], callback_data=data, chat_id=chat_id, validate=validate)))

    async def send_document(self, user: dict, filename: str, content: bytes, **kw: Any) -> list[dict]:
        return await self._exchange(user["id"], lambda: _maybe_await(
            self.tg.send_document(user["id"], filename, content, **kw)))

    async def send_audio(self, user: dict, kind: str, content: bytes, duration: int, **kw: Any) -> list[dict]:
        """A voice note, audio file or video note (``kind``) from ``user``."""
        return await self._exchange(user["id"], lambda: _maybe_await(
            self.tg.send_audio_message(user["id"], kind, content, duration, **kw)))

    # --- time ------------------------------------------------------------------------------------
    async def run_schedule(self, at: datetime) -> list[tuple[str, str, str]]:
        """Set the clock to ``at`` (naive UTC or aware), run due jobs, deliver the outbox."""
        from scheduler.jobs import tick
        self.clock.set(at)
        done = await tick(self.core, self.app.bot_data["sender"])
        await self.drain()
        return done

    async def drain(self, timeout: float = 20.0) -> None:
        """Wait until the outbox has nothing due (the sender runs in the background)."""
        from services.outbox import pending_count
        sender = self.app.bot_data["sender"]
        sender.wake()
        deadline = asyncio.get_running_loop().time() + timeout
        while await self.core.db.run(pending_count, self.clock.now()) > 0:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("outbox not drained")
            await asyncio.sleep(0.05)
        await self.tg.wait_idle()


async def _maybe_await(value: Any) -> Any:
    if asyncio.iscoroutine(value):
        return await value
    return value


def buttons(message: dict) -> list[dict]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def button_data(message: dict, text: str) -> str:
    for button in buttons(message):
        if text in button.get("text", ""):
            return button["callback_data"]
    raise AssertionError(f"no button containing {text!r} in {[b.get('text') for b in buttons(message)]}")
