"""Running the Application: long polling by default, or webhook on our aiohttp server.

In webhook mode the same aiohttp server also serves the ingestion API (/api/*), /healthz and
/metrics; Telegram's POSTs are accepted only with the secret token we registered.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import signal

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from core.config import Config, Settings

log = logging.getLogger("salesbot")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_secret(token: str) -> str:
    """Derived from the bot token, so it is stable across restarts and never stored in config."""
    return hashlib.sha256(f"salesbot-webhook:{token}".encode()).hexdigest()[:48]


def make_web_app(app: Application, config: Config, settings: Settings) -> web.Application:
    web_app = web.Application(client_max_size=2 * 1024 * 1024)
    secret = webhook_secret(settings.token)

    async def telegram_webhook(request: web.Request) -> web.Response:
        if request.headers.get(SECRET_HEADER) != secret:  # checked before any of the body is read
            return web.Response(status=403, text="forbidden")
        timeout = config.ingest.body_timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                raw = await request.read()
        except TimeoutError:
            log.info("webhook: the update's body did not arrive within %g s; answered 408", timeout)
            return web.Response(status=408, text="timeout", headers={"Connection": "close"})
        except (ConnectionError, web.RequestPayloadError, asyncio.IncompleteReadError) as exc:
            log.info("webhook: Telegram closed the connection while sending an update (%s)", type(exc).__name__)
            return web.Response(status=499, text="client closed request")
        try:
            update = Update.de_json(json.loads(raw), app.bot)
        except Exception:
            return web.Response(status=400, text="bad update")
        await app.update_queue.put(update)
        return web.Response(text="ok")

    web_app.router.add_post(config.telegram.webhook_path, telegram_webhook)
    try:
        from ingest.server import add_routes
    except ImportError:
        async def healthz(_request: web.Request) -> web.Response:
            return web.json_response({"ok": True})
        web_app.router.add_get("/healthz", healthz)
    else:
        add_routes(web_app, app.bot_data["core"], app)
    from console.server import add_routes as add_console
    add_console(web_app, app.bot_data["core"], settings.token)  # the Mini App at /app/, its API at /api/app/
    return web_app


async def run(app: Application, config: Config, settings: Settings, stop_event: asyncio.Event | None = None,
              receive_updates: bool = True) -> None:
    """Run until SIGINT/SIGTERM (or ``stop_event``); shutdown finishes in-flight work first.

    ``receive_updates=False`` (``salesbot run --worker``): neither poll nor touch the webhook —
    another instance receives Telegram's updates; this one takes part in leader election (jobs,
    outbox) and serves the ingestion API. See docs/deployment.md.
    """
    stop_event = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop_event.set)
        except (NotImplementedError, RuntimeError):
            pass
    from bot.app import shutdown, startup
    runner: web.AppRunner | None = None
    async with app:
        await startup(app)
        webhook = bool(config.telegram.webhook_url)
        web_app = make_web_app(app, config, settings)
        from ingest.server import make_runner
        runner = make_runner(web_app, config)  # header/body read timeouts for slow clients
        await runner.setup()
        site = web.TCPSite(runner, config.telegram.listen_host, config.telegram.listen_port)
        await site.start()
        if not receive_updates:
            log.info("worker mode: not receiving Telegram updates")
        elif webhook:
            url = config.telegram.webhook_url.rstrip("/")
            await app.bot.set_webhook(url, secret_token=webhook_secret(settings.token),
                                      allowed_updates=Update.ALL_TYPES)
            log.info("webhook mode: %s", url)
        else:
            await app.bot.delete_webhook(drop_pending_updates=False)
            await app.updater.start_polling(allowed_updates=Update.ALL_TYPES, poll_interval=0.0, timeout=10)
            log.info("long polling")
        await app.start()
        await stop_event.wait()
        log.info("shutting down: finishing in-flight work")
        if app.updater.running:
            await app.updater.stop()  # no new updates; the offset of handled ones is confirmed
        in_flight = app.bot_data.get("in_flight")
        if in_flight is not None:
            await in_flight.wait_idle(timeout=30)  # pastes being analysed finish and answer
        await shutdown(app)
        await app.stop()
        await runner.cleanup()
