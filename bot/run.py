"""Running the Application: long polling by default, or webhook on our aiohttp server.

In webhook mode the same aiohttp server also serves the ingestion API (/api/*), /healthz and
/metrics; Telegram's POSTs are accepted only with the secret token we registered.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import signal
import socket

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


class PortInUse(Exception):
    """The HTTP server's port cannot be bound; the message names the setting to change (one line)."""


def http_reasons(config: Config, env: dict[str, str] | None = None) -> list[str]:
    """Why this process needs its HTTP server; empty = long polling binds no port.

    The webhook, an ingestion source whose secret or token is set in the environment, the metrics
    token, or a console (when a playbook enables one) each need it.
    """
    env = os.environ if env is None else env
    reasons = []
    if config.telegram.webhook_url:
        reasons.append("webhook")
    try:
        from ingest.auth import MIN_SECRET_CHARS
    except ImportError:  # pragma: no cover - the ingestion package is part of the project
        MIN_SECRET_CHARS = 1
    sources = [name for name, source in config.sources.items()
               if any(len((env.get(var) or "").strip()) >= MIN_SECRET_CHARS
                      for var in (source.secret_env, source.token_env) if var)]
    if sources:
        reasons.append("ingestion API (" + ", ".join(sorted(sources)) + ")")
    if (env.get("SALESBOT_METRICS_TOKEN") or "").strip():
        reasons.append("metrics")
    if config.console.public_url:
        reasons.append("console")
    return reasons


def bind_listen_socket(config: Config) -> socket.socket:
    """Bind [telegram] listen_host:listen_port now, before anything else starts, so a taken port is one
    clear line instead of a traceback with half-started clients."""
    host, port = config.telegram.listen_host, config.telegram.listen_port
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(128)
        except OSError:
            sock.close()
            raise
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise PortInUse(f"cannot listen on {host}:{port} ({reason}): change [telegram] listen_port "
                        f"(or listen_host) in the playbook, or stop the program using that port") from None
    sock.setblocking(False)
    return sock


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
    reasons = http_reasons(config)
    listen = bind_listen_socket(config) if reasons else None  # PortInUse before anything has started
    async with app:
        await startup(app)
        webhook = bool(config.telegram.webhook_url)
        if listen is not None:
            from ingest.server import make_runner
            runner = make_runner(make_web_app(app, config, settings), config)  # header/body read timeouts
            await runner.setup()
            await web.SockSite(runner, listen).start()
            log.info("HTTP server on %s:%s for %s", config.telegram.listen_host, config.telegram.listen_port,
                     ", ".join(reasons))
        else:
            log.info("no HTTP server: long polling needs no port (no webhook, ingestion source secret or console)")
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
        if runner is not None:
            await runner.cleanup()
