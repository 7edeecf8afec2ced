"""The ingestion API on the bot's aiohttp server: /api/leads, /api/leads/batch, /api/events, /healthz, /metrics.

Request path (both POST routes):
0. slow clients: the request line and headers must arrive within ``header_timeout_seconds`` (the
   server's keep-alive timer, see ``make_runner``), the body within ``body_timeout_seconds`` → 408;
   a client that goes away is one INFO line, not an error;
1. auth before the body (ingest/auth.py ``precheck``): no credentials, a bad bearer token, an unknown
   source, a stale timestamp → 401 without reading the body; a bearer caller is identified here;
   a signed request's body is read (at most ``max_unauthenticated_bodies`` at once → else 503) and
2. size: a body over ``[ingest] max_body_bytes`` → 413 (checked on Content-Length and while reading);
   then its HMAC signature is checked → else 401;
3. parse: JSON (both routes) or form-encoded (/api/leads) → 400 if unparsable, 415 otherwise;
4. Idempotency-Key: a retry with the same key and body gets the first answer again
   (``Idempotent-Replayed: true``); the same key with another body → 422;
5. a lead is cleaned and checked before the transaction (ingest/leads.py ``prepare_lead``); then
   one transaction on the DB thread pool: the signature's nonce (a replayed signature → 401),
   the lead/event with all its effects, the stored answer for the key.  A validation problem
   → 422 with every field and reason, and the transaction is rolled back: nothing partial.
   Requests arriving together share a transaction (ingest/commits.py, grouped commits); each is
   answered after that commit, and a group with a failing request is redone one by one;
6. after commit, the outbox sender is woken so the owner's task card goes out now.

The OpenAPI document (ingest/openapi.yaml, served at /api/openapi.json) describes exactly this.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
import time
import uuid
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl

from aiohttp import web
from sqlalchemy import func, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, select

from ingest import auth
from ingest.commits import GroupCommitter
from ingest.events import process_event
from ingest.leads import (MAX_FIELDS, Outcome, PreparedLead, ValidationFailed, check_batch, prepare_or_problems,
                          problem, process_lead, process_leads)
from ingest.metrics import Metrics
from ingest.notify import wake_sender
from services.core import Core
from services.inputs import safe_payload
from storage.models import Outbox
from storage.models_ingest import ConnectorRun, IdempotencyKey

log = logging.getLogger(__name__)
OPENAPI_PATH = Path(__file__).resolve().parent / "openapi.yaml"
MAX_BATCH_ROWS = 500  # POST /api/leads/batch: rows per request (one transaction)
BATCH_BODY_FACTOR = 16  # its body may be this many times [ingest] max_body_bytes
_IDEM = re.compile(r"^[\x21-\x7e]{1,200}$")
PURGE_EVERY_S = 600


class IngestState:
    def __init__(self, core: Core, ptb_app: Any = None) -> None:
        self.core = core
        self.ptb_app = ptb_app
        self.metrics = Metrics()
        self.locks: dict[tuple[str, str], asyncio.Lock] = {}
        self.worker: Any = None
        self.committer = GroupCommitter(core.db)  # requests arriving together share a commit
        # Prometheus scrapes with this bearer token when it is set (the counts are business data).
        self.metrics_token = os.environ.get("SALESBOT_METRICS_TOKEN") or None
        self.last_purge = time.monotonic()
        self.unauthenticated_reads = 0  # signed bodies being read before their signature is checked
        m = self.metrics
        m.describe("salesbot_ingest_requests_total", "counter", "HTTP requests to the ingestion server by route and status")
        m.describe("salesbot_ingest_request_seconds", "histogram", "Time to answer an ingestion request")
        m.describe("salesbot_ingest_leads_total", "counter", "Leads received by source and result")
        m.describe("salesbot_ingest_events_total", "counter", "Events received by source, type and result")
        m.describe("salesbot_ingest_auth_failures_total", "counter", "Refused credentials by reason")
        m.describe("salesbot_ingest_idempotent_replays_total", "counter", "Retries answered from the idempotency store")
        m.describe("salesbot_connector_runs_total", "counter", "Connector runs by connector and final status")
        m.describe("salesbot_outbox_pending", "gauge", "Messages waiting in the outbox")
        m.describe("salesbot_connector_last_run_timestamp_seconds", "gauge", "When each connector last finished a run")
        m.describe("salesbot_connector_last_run_ok", "gauge", "1 when the connector's last run ended ok")


INGEST = web.AppKey("salesbot_ingest", IngestState)


class _Problem(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(body.get("error", ""))
        self.status = status
        self.body = body
        self.headers = headers or {}


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    # Encoded here with "replace": an answer can always be sent, even if a lone surrogate slipped
    # into it (inputs are cleaned by safe_payload, so none should).
    data = json.dumps(body, ensure_ascii=False).encode("utf-8", "replace")
    return web.Response(body=data, status=status, headers=headers, content_type="application/json", charset="utf-8")


# --- middleware: metrics and errors as JSON -------------------------------------------------------

@web.middleware
async def _middleware(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
    state = request.app[INGEST]
    started = time.perf_counter()
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "other"
    is_api = request.path.startswith("/api/")
    try:
        response = await handler(request)
    except _Problem as exc:
        response = _json(exc.status, exc.body, exc.headers)
    except _ClientGone:
        # Logged once at INFO where it happened; the answer is never delivered (499, as nginx counts it).
        state.metrics.inc("salesbot_ingest_requests_total", {"route": route, "status": "499"})
        return _json(499, {"error": "client_closed_request", "reason": "the client closed the connection"})
    except web.HTTPException as exc:
        if not is_api:
            raise
        response = _json(exc.status, {"error": exc.reason.lower().replace(" ", "_"), "reason": exc.reason},
                         {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None)
    except DBAPIError as exc:
        # No traceback text and no parameters: a driver's message can quote the values (names, phones).
        log.error("ingestion request %s %s failed: database error %s (sqlstate %s)", request.method, request.path,
                  type(exc.orig).__name__, getattr(exc.orig, "sqlstate", None) or "-")
        state.metrics.inc("salesbot_ingest_requests_total", {"route": route, "status": "500"})
        if not is_api:
            raise
        return _json(500, {"error": "internal", "reason": "internal error; nothing was stored"})
    except Exception:
        log.exception("ingestion request %s %s failed", request.method, request.path)
        state.metrics.inc("salesbot_ingest_requests_total", {"route": route, "status": "500"})
        if not is_api:
            raise
        return _json(500, {"error": "internal", "reason": "internal error; nothing was stored"})
    state.metrics.inc("salesbot_ingest_requests_total", {"route": route, "status": str(response.status)})
    state.metrics.observe("salesbot_ingest_request_seconds", time.perf_counter() - started, {"route": route})
    return response


# --- request plumbing ------------------------------------------------------------------------------

class _ClientGone(Exception):
    """The client closed the connection before its request was read: nobody is left to answer."""


async def _read_body(request: web.Request, limit: int, timeout: float) -> bytes:
    too_large = _Problem(413, {"error": "too_large", "reason": f"the body is over {limit} bytes"})
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise too_large
                chunks.append(chunk)
    except TimeoutError:
        log.info("ingestion request %s %s: body not received within %g s (%d bytes); answered 408",
                 request.method, request.path, timeout, size)
        raise _Problem(408, {"error": "timeout", "reason": f"the body did not arrive within {timeout:g} s"},
                       {"Connection": "close"}) from None
    except (ConnectionError, web.RequestPayloadError, asyncio.IncompleteReadError) as exc:
        log.info("ingestion request %s %s: the client went away while sending the body (%d bytes; %s)",
                 request.method, request.path, size, type(exc).__name__)
        raise _ClientGone() from None
    return b"".join(chunks)


def _reject_constant(value: str) -> Any:
    raise ValueError(f"{value} is not allowed")


def _parse(request: web.Request, body: bytes, allow_form: bool) -> Any:
    ctype = request.content_type.lower()
    try:
        if ctype == "application/json" or ctype.endswith("+json"):
            return _safe(json.loads(body.decode("utf-8"), parse_constant=_reject_constant))
        if allow_form and ctype == "application/x-www-form-urlencoded":
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            data: dict[str, str] = {}
            for key, value in pairs:
                data.setdefault(key, value)
            return _safe(data)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = f"the body could not be parsed: {str(exc)[:120]}".encode("utf-8", "replace").decode("utf-8")
        raise _Problem(400, {"error": "malformed", "reason": reason}) from None
    accepted = "application/json" + (", application/x-www-form-urlencoded" if allow_form else "")
    raise _Problem(415, {"error": "unsupported_media_type", "reason": f"send {accepted}"})


def _safe(payload: Any) -> Any:
    """Every string without NUL/control characters or lone surrogates, in NFKC; numbers no field can
    hold (1e400 → inf, a 50-digit integer) → 422 naming the field."""
    cleaned, problems = safe_payload(payload)
    if problems:
        raise ValidationFailed([problem(p.field, p.reason_zh, p.reason_en) for p in problems])
    return cleaned


def _authenticate(request: web.Request, state: IngestState, body: bytes | None) -> auth.Caller | None:
    """``body`` None: the checks possible from the headers alone (``auth.precheck``)."""
    try:
        now_ts = state.core.clock.now().replace(tzinfo=timezone.utc).timestamp()
        if body is None:
            return auth.precheck(request.headers, state.core.config, now_ts)
        return auth.authenticate(request.headers, body, state.core.config, now_ts)
    except auth.AuthError as exc:
        state.metrics.inc("salesbot_ingest_auth_failures_total", {"reason": exc.reason.split(":")[0][:40]})
        raise _Problem(401, {"error": "unauthorized", "reason": exc.reason},
                       {"WWW-Authenticate": 'Bearer realm="salesbot", HMAC-SHA256 realm="salesbot"'}) from None


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not _IDEM.match(key):
        raise ValidationFailed([problem("Idempotency-Key", "应为 1-200 个可见 ASCII 字符",
                                        "expected 1-200 visible ASCII characters")])
    return key


def _stored(session: Session, source: str, key: str) -> IdempotencyKey | None:
    return session.exec(select(IdempotencyKey).where(IdempotencyKey.source == source, IdempotencyKey.key == key)).first()


def _replay(row: IdempotencyKey, request_hash: str, state: IngestState, source: str) -> web.Response:
    if row.request_hash != request_hash:
        raise ValidationFailed([problem("Idempotency-Key", "该幂等键已用于另一个请求内容",
                                        "this key was already used with a different request")])
    state.metrics.inc("salesbot_ingest_idempotent_replays_total", {"source": source})
    return _json(row.status_code, row.response, {"Idempotent-Replayed": "true"})


async def _handle(request: web.Request, kind: str) -> web.Response:
    state = request.app[INGEST]
    core = state.core
    settings = core.config.ingest
    caller = _authenticate(request, state, None)  # bearer: known now; signed: headers checked, body needed
    limit = settings.max_body_bytes * (BATCH_BODY_FACTOR if kind == "batch" else 1)
    if caller is not None:
        body = await _read_body(request, limit, settings.body_timeout_seconds)
    else:
        if state.unauthenticated_reads >= settings.max_unauthenticated_bodies:
            raise _Problem(503, {"error": "busy", "reason": "too many requests being received; retry"},
                           {"Retry-After": "1", "Connection": "close"})
        state.unauthenticated_reads += 1
        try:
            body = await _read_body(request, limit, settings.body_timeout_seconds)
        finally:
            state.unauthenticated_reads -= 1
        caller = _authenticate(request, state, body)
    try:
        idem = _idempotency_key(request)
        payload = _parse(request, body, allow_form=(kind == "lead"))
        if not isinstance(payload, dict):
            raise ValidationFailed([problem("body", "应为 JSON 对象", "expected a JSON object")])
        if len(payload) > MAX_FIELDS:
            raise ValidationFailed([problem("body", f"字段过多（最多 {MAX_FIELDS} 个）", f"too many fields (at most {MAX_FIELDS})")])
        if kind == "batch":
            check_batch(payload, MAX_BATCH_ROWS)
    except ValidationFailed as exc:
        _count(state, kind, caller.source, "invalid", payload=None)
        return _json(422, exc.as_json())
    request_hash = hashlib.sha256(f"{request.method} {request.path}\n".encode() + body).hexdigest()
    ref = f"req:{idem}" if idem else (f"sig:{caller.signature[:16]}" if caller.signature else f"req:{uuid.uuid4().hex[:16]}")
    lock = state.locks.setdefault((caller.source, idem), asyncio.Lock()) if idem else None
    try:
        if lock is not None:
            async with lock:
                return await _process(request, state, caller, kind, payload, idem, request_hash, ref)
        return await _process(request, state, caller, kind, payload, idem, request_hash, ref)
    finally:
        if lock is not None and not lock.locked():
            state.locks.pop((caller.source, idem), None)
        _maybe_purge(state)


async def _process(request: web.Request, state: IngestState, caller: auth.Caller, kind: str, payload: Any,
                   idem: str | None, request_hash: str, ref: str) -> web.Response:
    core = state.core
    now = core.clock.now()
    lead: PreparedLead | ValidationFailed | None = None
    if kind == "lead":  # cleaning and the quality gates: pure, so before the transaction
        lead = prepare_or_problems(core, caller, payload, now)
    batch = [prepare_or_problems(core, caller, row, now) for row in payload["leads"]] if kind == "batch" else None

    def work(session: Session) -> tuple[IdempotencyKey | None, Outcome | None]:
        if idem:
            row = _stored(session, caller.source, idem)
            if row is not None and row.expires_at >= now:
                return row, None
            if row is not None:
                session.delete(row)
                session.flush()
        # A single lead on PostgreSQL claims the signature with its reads (one round trip less).
        nonce = auth.nonce_row(caller, core.config, now) if isinstance(lead, PreparedLead) and not core.db.is_sqlite \
            else None
        if nonce is None:
            auth.claim_signature(session, caller, core.config, now)
        if isinstance(lead, ValidationFailed):
            raise lead
        if lead is not None:
            outcome = process_lead(session, core, caller, lead, ref=ref, now=now, nonce=nonce)
        elif batch is not None:
            outcome = process_leads(session, core, caller, batch, ref=ref, now=now)
        else:
            outcome = process_event(session, core, caller, payload, ref=ref, now=now)
        if idem:  # a concurrent twin fails the whole transaction here (IntegrityError → its answer)
            session.add(IdempotencyKey(source=caller.source, key=idem, request_hash=request_hash,
                                       status_code=outcome.status, response=outcome.body, created_at=now,
                                       expires_at=now + timedelta(hours=core.config.ingest.idempotency_ttl_hours)))
            session.flush()
        return None, outcome

    try:
        stored, outcome = await state.committer.run(work)  # one transaction, maybe shared with others
    except ValidationFailed as exc:
        _count(state, kind, caller.source, "invalid", payload)
        return _json(exc.status, exc.as_json())
    except auth.Replayed as exc:
        state.metrics.inc("salesbot_ingest_auth_failures_total", {"reason": "replay"})
        return _json(401, {"error": "unauthorized", "reason": exc.reason})
    except IntegrityError:
        # A concurrent request with the same key (another instance) committed first: answer as it did.
        if idem:
            row = await core.db.run(_stored, caller.source, idem)
            if row is not None:
                try:
                    return _replay(row, request_hash, state, caller.source)
                except ValidationFailed as exc:  # the twin carried another body: 422, as on one instance
                    return _json(422, exc.as_json())
        return _json(409, {"error": "conflict", "reason": "a concurrent request is being processed; retry"})
    if stored is not None:
        try:
            return _replay(stored, request_hash, state, caller.source)
        except ValidationFailed as exc:
            return _json(422, exc.as_json())
    assert outcome is not None
    if kind == "batch":
        for result in ("created", "duplicate", "invalid"):
            for _ in range(outcome.body.get(result, 0)):
                state.metrics.inc("salesbot_ingest_leads_total", {"source": caller.source, "result": result})
    else:
        _count(state, kind, caller.source, outcome.body.get("status", "ok"), payload)
    if outcome.pushed:
        wake_sender(state.ptb_app)
    return _json(outcome.status, outcome.body)


def _count(state: IngestState, kind: str, source: str, result: str, payload: Any) -> None:
    if kind in ("lead", "batch"):
        state.metrics.inc("salesbot_ingest_leads_total", {"source": source, "result": result})
    else:
        etype = payload.get("type") if isinstance(payload, dict) and isinstance(payload.get("type"), str) else ""
        etype = etype if etype in ("lead", "activity", "field_update", "order") else "unknown"
        state.metrics.inc("salesbot_ingest_events_total", {"source": source, "type": etype, "result": result})


def _maybe_purge(state: IngestState) -> None:
    now = time.monotonic()
    if now - state.last_purge < PURGE_EVERY_S:
        return
    state.last_purge = now
    task = asyncio.get_running_loop().create_task(state.core.db.run(auth.purge_expired, state.core.clock.now()))
    task.add_done_callback(lambda t: None if t.cancelled() or t.exception() is None
                           else log.warning("purge failed: %s", t.exception()))


# --- routes -------------------------------------------------------------------------------------

async def post_lead(request: web.Request) -> web.Response:
    return await _handle(request, "lead")


async def post_lead_batch(request: web.Request) -> web.Response:
    return await _handle(request, "batch")


async def post_event(request: web.Request) -> web.Response:
    return await _handle(request, "event")


async def healthz(request: web.Request) -> web.Response:
    state = request.app[INGEST]
    try:
        await state.core.db.run(lambda s: s.execute(text("SELECT 1")).scalar())
        db_ok = True
    except Exception:
        db_ok = False
    return _json(200 if db_ok else 503, {"ok": db_ok, "db": db_ok})


def _gauges(session: Session) -> dict[str, list[tuple[dict[str, str], float]]]:
    pending = session.exec(select(func.count()).select_from(Outbox).where(Outbox.status.in_(("pending", "sending")))).one()
    gauges: dict[str, list[tuple[dict[str, str], float]]] = {"salesbot_outbox_pending": [({}, float(pending))]}
    last_ts, last_ok = [], []
    for name in ("erp", "chat_archive"):
        run = session.exec(select(ConnectorRun).where(ConnectorRun.connector == name, ConnectorRun.finished_at != None)  # noqa: E711
                           .order_by(ConnectorRun.finished_at.desc()).limit(1)).first()
        if run is not None:
            last_ts.append(({"connector": name}, run.finished_at.replace(tzinfo=timezone.utc).timestamp()))
            last_ok.append(({"connector": name}, 1.0 if run.status == "ok" else 0.0))
    if last_ts:
        gauges["salesbot_connector_last_run_timestamp_seconds"] = last_ts
        gauges["salesbot_connector_last_run_ok"] = last_ok
    return gauges


async def metrics(request: web.Request) -> web.Response:
    state = request.app[INGEST]
    if state.metrics_token is not None:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {state.metrics_token}".encode()):
            return _json(401, {"error": "unauthorized", "reason": "GET /metrics needs the SALESBOT_METRICS_TOKEN bearer token"},
                         {"WWW-Authenticate": 'Bearer realm="salesbot-metrics"'})
    try:
        gauges = await state.core.db.run(_gauges)
    except Exception:
        gauges = {}
    return web.Response(body=state.metrics.render(gauges).encode(),
                        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8",
                                 "X-Content-Type-Options": "nosniff"})


_OPENAPI_CACHE: dict[str, Any] = {}


def openapi_document() -> dict[str, Any]:
    if "doc" not in _OPENAPI_CACHE:
        import yaml
        _OPENAPI_CACHE["doc"] = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    return _OPENAPI_CACHE["doc"]


async def openapi(request: web.Request) -> web.Response:
    return _json(200, openapi_document())


def add_routes(web_app: web.Application, core: Core, ptb_app: Any = None, *, connectors: bool = True) -> IngestState:
    """Mount the ingestion API on ``web_app`` (the bot's server); start the connector worker with it."""
    state = IngestState(core, ptb_app)
    web_app[INGEST] = state
    web_app.middlewares.append(_middleware)
    web_app.router.add_post("/api/leads", post_lead)
    web_app.router.add_post("/api/leads/batch", post_lead_batch)
    web_app.router.add_post("/api/events", post_event)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    web_app.router.add_get("/api/openapi.json", openapi)
    if connectors:
        async def start_worker(_app: web.Application) -> None:
            from scheduler.connectors import ConnectorWorker
            state.worker = ConnectorWorker(core, ptb_app, metrics=state.metrics)
            state.worker.start()

        async def stop_worker(_app: web.Application) -> None:
            if state.worker is not None:
                await state.worker.stop()

        web_app.on_startup.append(start_worker)
        web_app.on_cleanup.append(stop_worker)
    return state


def make_runner(web_app: web.Application, config: Any) -> web.AppRunner:
    """The runner for the bot's server (webhook + ingestion) with the slow-client limits:
    aiohttp closes a connection whose request line and headers have not arrived within its
    keep-alive timer (also the idle keep-alive); after an early answer (401, 408, 413) it reads and
    discards the rest of a body for at most ``lingering_time``; client disconnects stay at DEBUG."""
    ingest = config.ingest
    return web.AppRunner(web_app, keepalive_timeout=ingest.header_timeout_seconds,
                         lingering_time=min(2.0, ingest.body_timeout_seconds), handler_cancellation=False)


def build_app(core: Core, ptb_app: Any = None, *, connectors: bool = False) -> web.Application:
    """A standalone ingestion server (tests, the benchmark): the same routes without the webhook."""
    web_app = web.Application(client_max_size=core.config.ingest.max_body_bytes + 1024)
    add_routes(web_app, core, ptb_app, connectors=connectors)
    return web_app
