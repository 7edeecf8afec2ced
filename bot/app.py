"""Builds the PTB Application: handlers, rate limiter, error handler, jobs, command menus.

Only wiring lives here; behaviour is in handlers/, services/ and scheduler/.
"""
from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
import uuid

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, TypeHandler

from bot.concurrency import PerUserUpdateProcessor
from bot.ratelimit import TelegramRateLimiter
from bot.transport import make_request
from core.config import Config, Settings
from handlers import all_handlers
from handlers.errors import on_error, on_stray_callback
from scheduler import jobs
from scheduler.leader import Leadership
from scheduler.sender import OutboxSender
from services import users as users_svc
from services.core import Core
from storage.db import Database
from storage.migrate import ensure_schema

log = logging.getLogger("salesbot")
TICK_SECONDS = 5.0


def build_application(settings: Settings, config: Config, *, core: Core | None = None,
                      tick_seconds: float | None = TICK_SECONDS, time_scale: float = 1.0) -> Application:
    db = core.db if core else Database(settings.database_url)
    core = core or Core(db=db, config=config)
    core.instance_id = core.instance_id if core.instance_id != "main" else f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    core.leader = Leadership(core.instance_id, ttl_s=config.cluster.lease_ttl_seconds)  # type: ignore[attr-defined]
    builder = (ApplicationBuilder().token(settings.token)
               .request(make_request(256)).get_updates_request(make_request(1))
               .rate_limiter(TelegramRateLimiter(time_scale=time_scale))
               .concurrent_updates(PerUserUpdateProcessor()))
    if settings.api_base_url:
        builder = builder.base_url(settings.api_base_url).base_file_url(settings.api_file_url)
    app = builder.build()
    app.bot_data["core"] = core
    app.bot_data["settings"] = settings
    app.bot_data["tick_seconds"] = tick_seconds
    app.bot_data["time_scale"] = time_scale
    from bot.dedupe import drop_duplicate_updates
    app.add_handler(TypeHandler(Update, drop_duplicate_updates), group=-1)
    for handler in all_handlers():
        app.add_handler(handler)
    app.add_handler(CallbackQueryHandler(on_stray_callback))
    app.add_error_handler(on_error)
    return app


async def startup(app: Application) -> None:
    """After ``app.initialize()``: schema, admins, menus, NLP warm-up, outbox sender, scheduler tick.

    (PTB calls post_init only from run_polling/run_webhook; we run our own aiohttp server, so
    bot/run.py and the tests call this explicitly.)
    """
    core: Core = app.bot_data["core"]
    settings: Settings = app.bot_data["settings"]
    loop = asyncio.get_running_loop()
    status = await loop.run_in_executor(None, ensure_schema, core.db)
    log.info("database %s", status)
    await core.db.run(_bootstrap_admins, core, settings)
    me = await app.bot.get_me()
    core.bot_username = me.username or core.bot_username
    # jieba's dictionary loads once, before the first paste, off the event loop.
    app.bot_data["nlp_ready"] = loop.run_in_executor(None, _warm_up_nlp)
    app.bot_data["nlp_ready"].add_done_callback(lambda _: settle_heap())
    await _set_menus(app)
    core.leader.start(core)  # type: ignore[attr-defined]  # lease keeper: only the leader schedules and sends
    sender = OutboxSender(core, app.bot, worker=core.instance_id, leader=core.leader,  # type: ignore[attr-defined]
                          time_scale=app.bot_data.get("time_scale", 1.0), probe_chat_id=probe_chat_id())
    app.bot_data["sender"] = sender
    sender.start()
    if app.bot_data["tick_seconds"]:  # tests pass None and drive the scheduler with their own clock
        interval = app.bot_data["tick_seconds"]
        app.job_queue.run_repeating(_tick, interval=interval, first=interval, name="scheduler-tick",
                                    job_kwargs={"misfire_grace_time": 30, "coalesce": True, "max_instances": 1})
        # A job missed while the bot was down runs right away: APScheduler computes the first run of a job
        # added before the queue starts from the start time, which would put it a whole interval later.
        app.bot_data["first_tick"] = loop.create_task(_first_tick(app), name="scheduler-first-tick")


GC_THRESHOLDS = (10_000, 20, 50)


def settle_heap() -> None:
    """Once the long-lived objects are loaded (jieba's dictionary, the NLP model, config, PTB),
    move them out of the collector's sight (``gc.freeze``) and collect the young generation less
    often.  Measured in bench.updates: a full collection walked the whole start-up heap — single
    pauses of 0.1–0.4 s, the p99 of the update path — and the young collections (threshold 700)
    ran about three times per update (1.3 s of collections in a 10 s run; 0.13 s with this)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _warm_up_nlp() -> None:
    try:
        from nlp.engine import warm_up
    except ImportError:
        return
    warm_up()


async def _first_tick(app: Application) -> None:
    await asyncio.sleep(0.2)
    try:
        await jobs.tick(app.bot_data["core"], app.bot_data.get("sender"))
    except Exception:
        log.exception("first scheduler tick failed; the regular tick retries")


async def _tick(context) -> None:
    core: Core = context.application.bot_data["core"]
    await jobs.tick(core, context.application.bot_data.get("sender"))


async def shutdown(app: Application) -> None:
    """Before ``app.shutdown()``: the sender finishes the sends in flight and hands back the rest,
    then the lease is released so another instance (or the restarted one) takes over at once."""
    first_tick = app.bot_data.get("first_tick")
    if first_tick is not None and not first_tick.done():
        await asyncio.wait([first_tick], timeout=30)
    buttons = app.bot_data.get("console_buttons")
    if buttons is not None and not buttons.done():
        buttons.cancel()  # a convenience; the rest are set on the next start
    sender: OutboxSender | None = app.bot_data.get("sender")
    if sender is not None:
        await sender.stop()
    for close in app.bot_data.pop("closers", []):  # pooled clients of external services (handlers/voice.py)
        await close()
    core: Core = app.bot_data["core"]
    leader = getattr(core, "leader", None)
    if leader is not None:
        await leader.stop(core)


def _bootstrap_admins(session, core: Core, settings: Settings) -> None:
    for tg_id in settings.admin_ids:
        if users_svc.get_user(session, tg_id) is None:
            users_svc.add_admin(session, tg_id, "", core.config.team.name, core.config.team.timezone, core.clock.now())
    users_svc.ensure_team(session, core.config.team.name, core.config.team.timezone, core.clock.now())


async def _set_menus(app: Application) -> None:
    from handlers.menus import set_console_button, set_default_menus, set_role_menu
    core: Core = app.bot_data["core"]
    await set_default_menus(app.bot)
    for user in await core.db.run(users_svc.staff):
        await set_role_menu(app.bot, user.tg_id, user.role, user.language)
        await set_console_button(app.bot, user.tg_id, user.language, core.config.console.public_url)
    if core.config.console.public_url:  # reps' buttons in the background: a big team must not delay start-up
        app.bot_data["console_buttons"] = asyncio.get_running_loop().create_task(_rep_console_buttons(app),
                                                                                 name="console-buttons")


async def _rep_console_buttons(app: Application) -> None:
    """Every active rep's menu button opens the console (new members get theirs when they join)."""
    from handlers.menus import set_console_button
    core: Core = app.bot_data["core"]
    try:
        reps = await core.db.run(lambda s: [(u.tg_id, u.language) for u in users_svc.active_reps(s)])
        for tg_id, lang in reps:
            await set_console_button(app.bot, tg_id, lang, core.config.console.public_url)
    except Exception:
        log.exception("setting the reps' console buttons failed; they get one when they next join")


def probe_chat_id() -> int | None:
    """``SALESBOT_PROBE_CHAT_ID``: a private channel/group for checking unanswered sends (scheduler/probe.py)."""
    raw = os.environ.get("SALESBOT_PROBE_CHAT_ID", "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        log.error("SALESBOT_PROBE_CHAT_ID must be a chat id such as -1001234567890, not %r; probing is off", raw[:40])
        return None
