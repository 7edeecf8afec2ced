"""The manager's console on the bot's own aiohttp server: the page at /app/, its JSON API at /api/app/.

Every API call carries ``Authorization: tma <initData>`` (console/auth.py): missing, tampered or
expired → 401; a genuine Telegram user who is not a member → 403; then the user is loaded and
the bot's own scoping applies to every object (console/dashboard.py): another team's → 404.
Errors are JSON ``{"error", "reason"}``; nothing else leaks.
"""
from __future__ import annotations

import json
import logging
from datetime import timezone
from pathlib import Path
from typing import Any, Awaitable, Callable

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from console import auth, dashboard
from services import playbook
from services.core import Core
from services.users import get_user
from storage.models import User

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"
API = "/api/app"
# The page loads only its own files; Telegram's clients embed it (web.telegram.org in an iframe).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'")


class ConsoleState:
    def __init__(self, core: Core, bot_token: str) -> None:
        self.core = core
        self.bot_token = bot_token


CONSOLE = web.AppKey("salesbot_console", ConsoleState)


class ApiError(Exception):
    def __init__(self, status: int, error: str, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status, self.error, self.reason, self.headers = status, error, reason, headers or {}


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers={"Cache-Control": "no-store", **(headers or {})},
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


Handler = Callable[[web.Request, ConsoleState, User], Awaitable[Any]]


def endpoint(fn: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Authenticate, load the member, run ``fn``; map refusals to 400/401/403/404 and anything else to 500."""
    async def handle(request: web.Request) -> web.Response:
        state = request.app[CONSOLE]
        try:
            viewer = await authenticate(request, state)
            result = await fn(request, state, viewer)
            return result if isinstance(result, web.Response) else _json(200, result)
        except ApiError as exc:
            return _json(exc.status, {"error": exc.error, "reason": exc.reason}, exc.headers)
        except dashboard.NotFound:
            return _json(404, {"error": "not_found", "reason": "no such object, or not yours to see"})
        except playbook.PlaybookError as exc:
            return _json(exc.status, exc.body)
        except IntegrityError:  # e.g. the very first version seeded by two requests at once
            return _json(409, {"error": "conflict", "reason": "changed by someone else at the same moment; retry"})
        except dashboard.BadParam as exc:
            return _json(400, {"error": "bad_parameter", "reason": str(exc), "field": exc.name})
        except Exception:
            log.exception("console request %s %s failed", request.method, request.path)
            return _json(500, {"error": "internal", "reason": "internal error"})
    handle.__name__ = fn.__name__
    return handle


async def authenticate(request: web.Request, state: ConsoleState) -> User:
    core = state.core
    init_data = auth.from_header(request.headers.get("Authorization"))
    now_ts = core.clock.now().replace(tzinfo=timezone.utc).timestamp()
    try:
        tg = auth.validate(init_data, state.bot_token, now_ts, core.config.console.auth_max_age_seconds)
    except auth.InitDataError as exc:
        raise ApiError(401, "unauthorized", f"initData refused: {exc.reason}",
                       {"WWW-Authenticate": 'tma realm="salesbot"'}) from None
    user = await core.db.read(get_user, tg.tg_id)
    if user is None or (user.team_id is None and user.role != "admin"):
        raise ApiError(403, "not_a_member", "this Telegram account is not a member of a team")
    return user


# --- the API -----------------------------------------------------------------------------------

def _q(request: web.Request, name: str) -> str | None:
    value = request.query.get(name)
    return value[:64] if value is not None else None


def _int(request: web.Request, name: str) -> int:
    return dashboard.parse_id(request.match_info[name], name)


@endpoint
async def get_me(request: web.Request, state: ConsoleState, viewer: User) -> Any:
    return await state.core.db.read(_viewer_config(dashboard.me), state.core, viewer)


def _with_team(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``fn(session, config, viewer, team_id, …)`` after resolving ?team= in the same transaction."""
    def work(session, core, viewer, team_param, *args, **kwargs):
        team_id = dashboard.resolve_team(session, viewer, team_param)
        return fn(session, playbook.config_for(session, core, team_id), viewer, team_id, *args, **kwargs)
    return work


def _viewer_config(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``fn(session, config, viewer, …)`` with the playbook the viewer's team runs."""
    def work(session, core, viewer, *args, **kwargs):
        return fn(session, playbook.config_for(session, core, viewer.team_id), viewer, *args, **kwargs)
    return work


@endpoint
async def get_dashboard(request: web.Request, state: ConsoleState, viewer: User) -> Any:
    core = state.core
    return await core.db.read(_with_team(dashboard.dashboard), core, viewer, _q(request, "team"),
                              _q(request, "period"), core.clock.now())


@endpoint
async def get_funnel(request: web.Request, state: ConsoleState, viewer: User) -> Any:
    core = state.core
    return await core.db.read(_with_team(dashboard.funnel), core, viewer, _q(request, "team"),
                              _q(request, "period"), core.clock.now())


@endpoint
async def get_board(request: web.Request, state: ConsoleState, viewer: User) -> Any:
    core = state.core
    return await core.db.read(_with_team(dashboard.board), core, viewer, _q(request, "team"),
                              _q(request, "kind") or "weekly", core.clock.now())


@endpoint
async def get_customers(request: web.Request, state: ConsoleState, viewer: User) -> Any:
    core = state.core
    return await core.db.read(_with_team(dashboard.customers), core, viewer, _q(request, "team"),
                              core.clock.now(), stage=_q(request, "stage"), risk=_q(request, "risk"),
                              owner=_q(request, "owner"))


@endpoint
async def get_customer(request: web.Request, state: ConsoleState, viewer: User) -> Any:
    core = state.core
    return await core.db.read(_viewer_config(dashboard.customer), core, viewer, _int(request, "id"), core.clock.now())


@endpoint
async def get_rep(request: web.Request, state: ConsoleState, viewer: User) -> Any:
    core = state.core
    return await core.db.read(_viewer_config(dashboard.rep), core, viewer, _int(request, "id"), core.clock.now())


# --- the playbook editor -------------------------------------------------------------------------

MAX_BODY = 256 * 1024


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send application/json")
    too_large = ApiError(413, "too_large", f"the body is over {MAX_BODY} bytes")
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY:
            raise too_large
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "malformed", "the body is not JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "malformed", "expected a JSON object")
    return body


def _mapping(body: dict[str, Any]) -> dict[str, Any]:
    mapping = body.get("mapping") or {}
    ok = isinstance(mapping, dict) and all(
        isinstance(mapping.get(k, {}), dict) and all(isinstance(a, str) and isinstance(b, str) for a, b in mapping.get(k, {}).items())
        for k in ("stages", "fields")) and set(mapping) <= {"stages", "fields"}
    if not ok:
        raise dashboard.BadParam("mapping", '{"stages": {"old": "new"}, "fields": {"old": "new or empty"}}')
    return mapping


@endpoint
async def get_playbook(request: web.Request, state: ConsoleState, viewer: User) -> Any:
    core = state.core
    return await core.db.run(playbook.overview, core, viewer, core.clock.now())


@endpoint
async def put_draft(request: web.Request, state: ConsoleState, viewer: User) -> Any:
    core = state.core
    body = await _body(request)
    text, data = body.get("toml"), body.get("data")
    if not (isinstance(text, str) or isinstance(data, dict)):
        raise dashboard.BadParam("toml", "the playbook as TOML text (toml) or as an object (data)")
    return await core.db.run(playbook.save_draft, core, viewer, core.clock.now(),
                             text=text if isinstance(text, str) else None, data=data if isinstance(data, dict) else None)


@endpoint
async def delete_draft(request: web.Request, state: ConsoleState, viewer: User) -> Any:
    core = state.core
    await core.db.run(playbook.discard_draft, viewer, _int(request, "id"), core.clock.now())
    return {"ok": True}


@endpoint
async def post_publish(request: web.Request, state: ConsoleState, viewer: User) -> Any:
    core = state.core
    body = await _body(request)
    draft_id, scope = _id_and_scope(body, "draft_id", "a draft id")
    return await core.db.run(playbook.publish, core, viewer, draft_id, scope, core.clock.now(), _mapping(body),
                             str(body.get("note") or "")[:200])


@endpoint
async def post_rollback(request: web.Request, state: ConsoleState, viewer: User) -> Any:
    core = state.core
    body = await _body(request)
    number, scope = _id_and_scope(body, "number", "a version number")
    _playbook_editor(viewer)
    return await core.db.run(playbook.rollback, core, viewer, number, scope, core.clock.now(), _mapping(body))


def _id_and_scope(body: dict[str, Any], key: str, what: str) -> tuple[int, str]:
    """The id under ``key`` and the scope of a publish or rollback body, or BadParam."""
    value, scope = body.get(key), body.get("scope")
    if not isinstance(value, int) or isinstance(value, bool) or not isinstance(scope, str):
        raise dashboard.BadParam(key, f'{what} and a scope ("team:<id>" or "all")')
    return dashboard.parse_id(str(value), key), scope[:40]


def _playbook_editor(viewer: User) -> None:
    if viewer.role not in ("manager", "admin"):
        raise ApiError(403, "forbidden", "only managers and admins edit the playbook")


@endpoint
async def get_version_toml(request: web.Request, state: ConsoleState, viewer: User) -> Any:
    """A version as a TOML file (the same text `salesbot playbook export` writes)."""
    _playbook_editor(viewer)
    text = await state.core.db.run(playbook.export, state.core, _int(request, "number"), state.core.clock.now())
    return web.Response(text=text, content_type="application/toml", charset="utf-8",
                        headers={"Cache-Control": "no-store",
                                 "Content-Disposition": f'attachment; filename="playbook-v{request.match_info["number"]}.toml"'})


# --- the page --------------------------------------------------------------------------------------

@web.middleware
async def _headers(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
    response = await handler(request)
    if request.path.startswith("/app"):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


async def page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache",
                                                                "Content-Type": "text/html; charset=utf-8"})


async def to_page(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/app/")


def add_routes(web_app: web.Application, core: Core, bot_token: str) -> ConsoleState:
    """Mount the console on ``web_app`` (the bot's server, next to the webhook and the ingestion API)."""
    state = ConsoleState(core, bot_token)
    web_app[CONSOLE] = state
    web_app.middlewares.append(_headers)
    web_app.router.add_get("/app", to_page)
    web_app.router.add_get("/app/", page)
    web_app.router.add_static("/app/static/", STATIC_DIR, show_index=False, follow_symlinks=False)
    web_app.router.add_get(f"{API}/me", get_me)
    web_app.router.add_get(f"{API}/dashboard", get_dashboard)
    web_app.router.add_get(f"{API}/funnel", get_funnel)
    web_app.router.add_get(f"{API}/board", get_board)
    web_app.router.add_get(f"{API}/customers", get_customers)
    web_app.router.add_get(f"{API}/customers/{{id}}", get_customer)
    web_app.router.add_get(f"{API}/reps/{{id}}", get_rep)
    web_app.router.add_get(f"{API}/playbook", get_playbook)
    web_app.router.add_put(f"{API}/playbook/draft", put_draft)
    web_app.router.add_delete(f"{API}/playbook/draft/{{id}}", delete_draft)
    web_app.router.add_post(f"{API}/playbook/publish", post_publish)
    web_app.router.add_post(f"{API}/playbook/rollback", post_rollback)
    web_app.router.add_get(f"{API}/playbook/versions/{{number}}.toml", get_version_toml)
    return state


def build_app(core: Core, bot_token: str) -> web.Application:
    """The console alone (tests, the bench): the same routes the bot's server mounts."""
    web_app = web.Application(client_max_size=256 * 1024)
    add_routes(web_app, core, bot_token)
    return web_app
