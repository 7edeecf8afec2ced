"""FakeTelegram: a local Bot API server (aiohttp) for end-to-end tests, the demo and benchmarks.

Why: the real PTB Application should talk HTTP to something that answers like Telegram —
same URLs, same JSON, same errors, same limits — so a bot that would fail in production fails
in a test. Point PTB at it with::

    async with FakeTelegram() as tg:
        tg.register_bot(TOKEN)
        app = (ApplicationBuilder().token(TOKEN).base_url(tg.base_url)
               .base_file_url(tg.base_file_url).build())

Routes: ``/bot<token>/<method>`` (GET query, JSON, urlencoded or multipart; method names are
case-insensitive), ``/file/bot<token>/<file_path>`` (downloads) and ``POST /control/<name>``
(the control API, see ``tgfake.control``). A call goes through: token (401) -> method (404) ->
fault injection -> parameter typing and required checks (400) -> the handler, which validates
content, checks the chat and the flood limits, and only then has an effect.

Clock and 429: see ``tgfake.limits`` — ``retry_after`` is in real seconds,
``ceil(server_wait / time_scale)``, at least 1. Only the flood limits and the webhook retry
back-off run on the scaled clock; the long-poll ``timeout``, the callback-answer window, update
retention and message dates are real time.

Tunables (plain attributes, set after construction): ``timeout_hold_s`` (15.0: how long a
"timeout" fault holds the request before dropping it — make it longer than the client's read
timeout), ``strict_html_amp`` (True: reject a bare '&' in HTML, see ``tgfake.entities``),
``callback_answer_window_s`` (15.0 real seconds), ``webhook_retry_base_s`` (0.5 server
seconds, doubling), ``webhook_max_attempts`` (10), ``webhook_timeout_s`` (10.0),
``idle_quiet_s`` (0.25: quiet period of ``wait_idle``), ``api_latency_s`` (0.0: a round trip's
worth of real seconds added before every Bot API call but getUpdates — Telegram is 50–300 ms away), ``idle_grace_s`` (2.0: how long
``wait_idle`` waits for a first reaction to delivered updates). The request log keeps the
latest 200,000 calls.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from typing import Any

import aiohttp
from aiohttp import web

from tgfake import api_bot, api_messages, api_updates  # noqa: F401 - registers handlers
from tgfake.api_common import Call
from tgfake.control import ControlMixin, handle_control
from tgfake.errors import INVALID, NOT_FOUND, UNAUTHORIZED, ApiError
from tgfake.faults import Fault, FaultInjector
from tgfake.limits import Clock
from tgfake.observe import Counters, ObserveMixin
from tgfake.params import check_required, coerce, loggable, read_raw
from tgfake.spec import load_spec
from tgfake.updates import Notifier, Webhook
from tgfake.world import BotState, World

log = logging.getLogger("tgfake")
call_log = logging.getLogger("tgfake.calls")

_FAULT_ANSWERS = {
    "429": (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry "
                  "after 1", "parameters": {"retry_after": 1}}),
    "500": (500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}),
    "502": (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}),
}
_FIRST_AUTO_BOT_ID = 7000000001


def _mask(token: str) -> str:
    """Never log a whole token."""
    head, _, _ = token.partition(":")
    return f"{head}:***"


def _json_response(payload: dict[str, Any], status: int = 200) -> web.Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return web.Response(body=body, status=status, content_type="application/json")


class FakeTelegram(ControlMixin, ObserveMixin):
    """A fake Telegram Bot API server; see the module docstring."""

    def __init__(self, *, time_scale: float = 1.0, per_chat_burst: int = 3,
                 seed: int = 0) -> None:
        self.time_scale, self.per_chat_burst, self.seed = time_scale, per_chat_burst, seed
        self.clock = Clock(time_scale)
        self.world = World(seed)
        self.spec = load_spec()
        self.faults = FaultInjector(seed)
        self.counters = Counters()
        self.timeout_hold_s = 15.0
        self.api_latency_s = 0.0
        self.strict_html_amp = True
        self.callback_answer_window_s = 15.0
        self.webhook_retry_base_s = 0.5
        self.webhook_max_attempts = 10
        self.webhook_timeout_s = 10.0
        self.idle_quiet_s = 0.25
        self._log: deque[dict[str, Any]] = deque(maxlen=200_000)
        self._bots: dict[str, BotState] = {}
        self._changed = Notifier()
        self.idle_grace_s = 2.0
        self.inflight = 0
        self.last_activity = time.monotonic()
        self.last_delivery = 0.0  # updates last handed to a bot (getUpdates / webhook 2xx)
        self.last_request = 0.0  # a bot call other than getUpdates last completed
        self.stopping = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._host = "127.0.0.1"
        self._session: aiohttp.ClientSession | None = None
        self._held: set[asyncio.Task[Any]] = set()

    # ----------------------------------------------------------------- bots

    def register_bot(self, token: str, username: str = "salesbot_demo_bot",
                     first_name: str = "SalesBot", *,
                     can_read_all_group_messages: bool = False) -> int:
        """Makes ``token`` valid; returns the bot id (the number before ':' when numeric)."""
        if token in self._bots:
            return self._bots[token].id
        head = token.partition(":")[0]
        bot_id = int(head) if head.isdigit() else _FIRST_AUTO_BOT_ID + len(self._bots)
        self._bots[token] = BotState(token, bot_id, username, first_name, self.clock,
                                     self.per_chat_burst, not can_read_all_group_messages,
                                     self._on_change)
        log.info("registered bot %s (@%s, id %s)", _mask(token), username, bot_id)
        return bot_id

    def _bot(self, token: str | None = None) -> BotState:
        if token is not None:
            return self._bots[token]
        if not self._bots:
            raise LookupError("no bot registered; call register_bot(token) first")
        return next(iter(self._bots.values()))

    # ----------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        """The bound TCP port (after start())."""
        if self._port is None:
            raise RuntimeError("server not started")
        return self._port

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT (root of all routes)."""
        host = "127.0.0.1" if self._host in ("0.0.0.0", "") else self._host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For PTB's base_url: the token and '/method' are appended to it."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For PTB's base_file_url: the token and '/file_path' are appended to it."""
        return f"{self.url}/file/bot"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> "FakeTelegram":
        """Binds and serves; port 0 picks a free port."""
        self.stopping = False
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_post("/control/{name}", self._handle_control)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self._host = host
        self._port = self._runner.addresses[0][1]
        log.info("fake Telegram listening on %s", self.url)
        return self

    async def stop(self) -> None:
        """Stops webhooks, wakes long polls and held requests, closes the server."""
        self.stopping = True
        for bot in self._bots.values():
            await self.replace_webhook(bot, None, keep_config=True)
            bot.updates.changed.notify()
        for task in list(self._held):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> "FakeTelegram":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def http_session(self) -> aiohttp.ClientSession:
        """The client session used for webhook deliveries."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def replace_webhook(self, bot: BotState, hook: Webhook | None,
                              keep_config: bool = False) -> None:
        """Installs (or removes) a webhook and its delivery loop."""
        if bot.deliverer is not None:
            await bot.deliverer.stop()
            bot.deliverer = None
        if not keep_config:
            bot.webhook = hook
        if hook is not None and not self.stopping:
            bot.deliverer = api_updates.make_deliverer(self, bot, hook)
            bot.deliverer.start()

    # ----------------------------------------------------------------- change tracking

    def _on_change(self) -> None:
        self.last_activity = time.monotonic()
        self._changed.notify()

    def mark_delivered(self) -> None:
        """Updates were just handed to a bot: wait_idle expects it to react."""
        self.last_delivery = time.monotonic()
        self._on_change()

    async def _changed_wait(self, timeout: float) -> Any:
        return await self._changed.wait(timeout)

    def pending_total(self) -> int:
        """Unconfirmed updates over all bots."""
        return sum(len(bot.updates) for bot in self._bots.values())

    # ----------------------------------------------------------------- HTTP: Bot API

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        token, raw_method = request.match_info["token"], request.match_info["method"]
        bot = self._bots.get(token)
        spec_method = self.spec.method(raw_method)
        handler = api_bot.handler_for(raw_method)
        name = spec_method.name if spec_method else raw_method
        if bot is None or (handler is None and spec_method is None):
            error = UNAUTHORIZED if bot is None else NOT_FOUND
            self._record(bot, name, {}, error.code, error.description, error.category)
            return _json_response(error.body(), error.code)
        polling = name == "getUpdates"
        if not polling:
            self.inflight += 1
        try:
            if self.api_latency_s and not polling:  # the network between the bot and Telegram
                await asyncio.sleep(self.api_latency_s)
            return await self._dispatch(request, bot, name, handler or api_bot.generic_method)
        finally:
            if not polling:
                self.inflight -= 1
                self.last_request = time.monotonic()
                self._on_change()

    async def _dispatch(self, request: web.Request, bot: BotState, name: str,
                        handler: Any) -> web.StreamResponse:
        try:
            raw, uploads = await read_raw(request)
        except (ValueError, aiohttp.ClientError) as exc:  # malformed body
            self._record(bot, name, {}, 400, f"Bad Request: {exc}", INVALID)
            return _json_response(ApiError(400, "Bad Request: can't parse request body").body(),
                                  400)
        fault = self.faults.pick(name)
        if fault is not None and not fault.performs_effect:
            return await self._fault(request, bot, name, raw, fault)
        call = Call(self, bot, name, {}, uploads)
        try:
            call.params = coerce(self.spec.method(name), raw)
            self._check_required(call)
            result = await handler(call)
        except ApiError as error:
            self._record(bot, name, loggable(call.params or raw, uploads), error.code,
                         error.description, error.category)
            return _json_response(error.body(), error.code)
        except Exception:  # a bug in the fake: answer like Telegram's 500, keep the trace
            log.exception("tgfake failed on %s", name)
            body = _FAULT_ANSWERS["500"][1]
            self._record(bot, name, loggable(call.params or raw, uploads), 500,
                         body["description"], "crash")
            return _json_response(body, 500)
        self._record(bot, name, loggable(call.params, uploads), 200, call.description, None,
                     result, fault.kind if fault else None)
        if fault is not None:  # lost_ack: done, but the answer never arrives
            return await self._fault(request, bot, name, raw, fault, already_logged=True)
        payload: dict[str, Any] = {"ok": True, "result": result}
        if call.description:
            payload["description"] = call.description
        return _json_response(payload)

    def _check_required(self, call: Call) -> None:
        method = self.spec.method(call.method)
        if method is None:
            return
        skip = ("text",) if call.method == "editMessageText" else ()
        check_required(method, call.params, call.uploads, skip)

    async def _fault(self, request: web.Request, bot: BotState, name: str,
                     raw: dict[str, Any], fault: Fault,
                     already_logged: bool = False) -> web.StreamResponse:
        self.counters.faults_injected += 1
        self.counters.faults_by_kind[fault.kind] += 1
        if fault.error is not None or fault.kind in _FAULT_ANSWERS:
            status, body = (fault.error["error_code"], fault.error) if fault.error \
                else _FAULT_ANSWERS[fault.kind]
            self._record(bot, name, raw, status, body["description"], "fault", fault=fault.kind)
            return _json_response(body, status)
        if not already_logged:
            self._record(bot, name, raw, 0, f"fault: {fault.kind}", "fault", fault=fault.kind)
        if fault.kind == "timeout":
            await self._hold(request, self.timeout_hold_s)
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=499)

    async def _hold(self, request: web.Request, seconds: float) -> None:
        """Keeps a request unanswered; it no longer counts as in flight for wait_idle."""
        task = asyncio.current_task()
        if task is not None:
            self._held.add(task)
        self.inflight -= 1
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline and request.transport is not None and \
                    not request.transport.is_closing():
                await asyncio.sleep(min(0.05, max(deadline - time.monotonic(), 0)))
        except asyncio.CancelledError:
            pass  # server stopping: drop the connection below
        finally:
            self.inflight += 1
            if task is not None:
                self._held.discard(task)

    def _record(self, bot: BotState | None, method: str, params: dict[str, Any], status: int,
                description: str | None, category: str | None, result: Any = None,
                fault: str | None = None) -> None:
        entry = {"time": time.time(), "bot_id": bot.id if bot else None, "method": method,
                 "params": params, "status": status, "description": description,
                 "category": category, "fault": fault}
        if isinstance(result, dict) and "message_id" in result:
            entry["message_id"] = result["message_id"]
        self._log.append(entry)
        if status != 200 and category == INVALID:
            log.warning("rejected %s: %s", method, description)
        if call_log.isEnabledFor(logging.DEBUG):
            call_log.debug("%s %s -> %s %s", method, params, status, description or "")

    # ----------------------------------------------------------------- HTTP: files and control

    async def _handle_control(self, request: web.Request) -> web.StreamResponse:
        return await handle_control(self, request)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] not in self._bots:
            return _json_response(UNAUTHORIZED.body(), 401)
        stored = self.world.files_by_path.get(request.match_info["path"])
        if stored is None:
            return _json_response(NOT_FOUND.body(), 404)
        return web.Response(body=stored.data or b"",
                            content_type=stored.mime_type or "application/octet-stream")
