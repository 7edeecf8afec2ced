"""The playbook as data (低代码): drafts, validation, diffs, immutable versions, pilots and rollback.

- ``config.toml`` stays the default and the seed of version 1.
- A draft is playbook TOML, validated with the same schema as config.toml (core.config.Config).
- Publishing creates an immutable version and makes it active for one pilot team (``team:<id>``) or
  for everyone (``all``: the default, replacing the pilots' pins).  A rollback publishes a copy of an
  older version as a new one.  A publish that would strand customers — a removed stage still holding
  customers, a removed custom field still holding data — is refused unless a mapping says where they go.
- Every instance reads the active version from the database: ``config_for`` compares the change log's
  highest id (one primary-key lookup) with what it loaded and reloads only when it moved.
- Sections that configure the process rather than the team's way of selling (PROCESS_SECTIONS) are read
  from config.toml at start; a draft that changes them is refused with the reason.
"""
from __future__ import annotations

import os
import time
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError
from sqlalchemy import delete, func
from sqlmodel import Session, select

from core.config import DEFAULT_CONFIG_PATH, Config, load_config
from storage.models import Activity, Customer, StageChange, Team, User
from storage.models_console import PlaybookActive, PlaybookChange, PlaybookDraft, PlaybookVersion
from storage.rows import locked

PROCESS_SECTIONS = ("team", "telegram", "cluster", "console", "ingest", "sources", "connectors")
# [schedule]: a version sets each team's job times and workdays (scheduler.jobs reads them per team);
# these keys act on the whole process and stay in config.toml.
PROCESS_SCHEDULE_KEYS = ("quiet_start", "quiet_end", "max_reminders_per_day", "misfire_grace_minutes")
MAX_TOML = 200_000
CHECK_INTERVAL_S = 1.0


class PlaybookError(Exception):
    """A refused operation: ``status`` 403/404/409/422 with a JSON-ready ``body``."""

    def __init__(self, status: int, error: str, reason: str, **extra: Any) -> None:
        super().__init__(reason)
        self.status = status
        self.body = {"error": error, "reason": reason, **extra}


# --- TOML <-> Config ---------------------------------------------------------------------------------

def to_toml(data: dict[str, Any]) -> str:
    return tomli_w.dumps(data)


def config_data(config: Config) -> dict[str, Any]:
    return config.model_dump(mode="json", exclude_none=True)


def _error_path(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def parse(text: str, base: Config | None = None) -> tuple[Config | None, dict[str, Any] | None, list[dict[str, str]]]:
    """(config, data, errors): errors name the field (``stages.2.checklist.0.id``) and the reason."""
    if len(text) > MAX_TOML:
        return None, None, [{"path": "", "message": f"the playbook is over {MAX_TOML} characters"}]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, None, [{"path": "", "message": f"not valid TOML: {exc}"}]
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        errors = []
        for item in exc.errors():
            path = _error_path(item["loc"])
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "extra_forbidden":
                message = "unknown key"
            if not path and ": " in message:  # a whole-playbook rule names its own key: "stages[2].x: …"
                path, _, message = message.partition(": ")
                path = path.replace("[", ".").replace("]", "")
            errors.append({"path": path, "message": message})
        return None, data, errors
    if base is not None:
        mine, theirs = config_data(config), config_data(base)
        errors = [{"path": name, "message": "set on the server in config.toml (read at start), not in the editor"}
                  for name in PROCESS_SECTIONS if mine.get(name) != theirs.get(name)]
        errors += [{"path": f"schedule.{key}", "message": "set on the server in config.toml (read at start), not in the editor"}
                   for key in PROCESS_SCHEDULE_KEYS if mine["schedule"].get(key) != theirs["schedule"].get(key)]
        if errors:
            return None, data, errors
    return config, data, []


def with_process(config: Config, base: Config) -> Config:
    """A version's playbook with this process's own settings (schedules, server, sources)."""
    for name in PROCESS_SECTIONS:
        object.__setattr__(config, name, getattr(base, name))
    for key in PROCESS_SCHEDULE_KEYS:
        object.__setattr__(config.schedule, key, getattr(base.schedule, key))
    return config


# --- diff ------------------------------------------------------------------------------------------

def _flatten(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{path}.{k}" if path else str(k), out)
    elif isinstance(value, list) and value and all(isinstance(v, dict) and "id" in v for v in value):
        for v in value:  # lists of tables keyed by their id: stages, checklist items, rewards…
            _flatten({k: x for k, x in v.items() if k != "id"}, f"{path}[{v['id']}]", out)
            out[f"{path}[{v['id']}]"] = "•"
    else:
        out[path] = value


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    a: dict[str, Any] = {}
    b: dict[str, Any] = {}
    _flatten(old, "", a)
    _flatten(new, "", b)
    out = []
    for path in sorted(set(a) | set(b)):
        if path not in b:
            out.append({"path": path, "kind": "removed", "old": a[path], "new": None})
        elif path not in a:
            out.append({"path": path, "kind": "added", "old": None, "new": b[path]})
        elif a[path] != b[path]:
            out.append({"path": path, "kind": "changed", "old": a[path], "new": b[path]})
    return out


# --- versions and the active one ---------------------------------------------------------------------

def seed_text(config: Config) -> str:
    """Version 1: the config.toml file itself when it is what this process runs, else the same settings."""
    path = Path(os.environ.get("SALESBOT_CONFIG") or DEFAULT_CONFIG_PATH)
    try:
        if load_config(path) == config:
            return path.read_text(encoding="utf-8")
    except Exception:
        pass
    return to_toml(config_data(config))


def ensure_seed(session: Session, base: Config, now: datetime) -> PlaybookVersion:
    first = session.exec(select(PlaybookVersion).order_by(PlaybookVersion.number).limit(1)).first()
    if first is not None:
        return first
    version = PlaybookVersion(number=1, toml=seed_text(base), source="seed", created_at=now, note="config.toml")
    session.add(version)
    session.flush()
    session.add(PlaybookActive(scope="default", version_id=version.id, since=now))
    session.add(PlaybookChange(at=now, action="seed", scope="all", version_id=version.id, detail={"number": 1}))
    session.flush()
    return version


def _scope_of(team_id: int | None) -> str:
    return f"team:{team_id}"


@dataclass
class _Cache:
    generation: int = -1
    checked_at: float = 0.0
    active: dict[str, int] = field(default_factory=dict)       # scope -> version id
    configs: dict[int, Config] = field(default_factory=dict)   # version id -> Config


def _cache(core: Any) -> _Cache:
    cache = getattr(core, "_playbooks", None)
    if cache is None:
        cache = _Cache()
        core._playbooks = cache
    return cache


def invalidate(core: Any) -> None:
    _cache(core).checked_at = 0.0


def config_for(session: Session, core: Any, team_id: int | None, check_interval: float = CHECK_INTERVAL_S) -> Config:
    """The playbook a team runs now.  At most once per ``check_interval`` per process: one primary-key
    lookup (the change log's highest id); the active versions are reloaded only when it moved."""
    cache = _cache(core)
    clock = time.monotonic()
    if clock - cache.checked_at >= check_interval:
        generation = session.execute(select(func.max(PlaybookChange.id))).scalar() or 0
        if generation != cache.generation:
            cache.active = {scope: vid for scope, vid in session.execute(select(PlaybookActive.scope, PlaybookActive.version_id))}
            cache.generation = generation
        cache.checked_at = clock
    vid = cache.active.get(_scope_of(team_id)) or cache.active.get("default")
    if vid is None:
        return core.config
    if vid not in cache.configs:
        row = session.get(PlaybookVersion, vid)
        config, _, errors = parse(row.toml) if row else (None, None, ["missing"])
        cache.configs[vid] = with_process(config, core.config) if config is not None else core.config
        if config is not None:
            _VERSION_OF[id(cache.configs[vid])] = row.number
    return cache.configs[vid]


_VERSION_OF: dict[int, int] = {}  # id(Config loaded from a version) -> its number (those Configs live in the cache)


def version_tag(config: Config) -> dict[str, int]:
    """``{"playbook_version": n}`` for a playbook loaded from version n; {} for config.toml itself."""
    number = _VERSION_OF.get(id(config))
    return {"playbook_version": number} if number else {}


def config_cached(core: Any, team_id: int | None) -> Config:
    """The team's playbook as last loaded by ``config_for`` in this process (no database trip)."""
    cache = _cache(core)
    vid = cache.active.get(_scope_of(team_id)) or cache.active.get("default")
    return cache.configs.get(vid, core.config) if vid else core.config


def active_version(session: Session, team_id: int | None) -> PlaybookVersion | None:
    row = session.get(PlaybookActive, _scope_of(team_id)) or session.get(PlaybookActive, "default")
    return session.get(PlaybookVersion, row.version_id) if row else None


# --- permissions -----------------------------------------------------------------------------------

def _check_scope(session: Session, user: User, scope: str) -> list[int]:
    """The teams a publish reaches; a manager may publish to their own team only, an admin anywhere."""
    if user.role not in ("manager", "admin"):
        raise PlaybookError(403, "forbidden", "only managers and admins edit the playbook")
    if scope == "all":
        if user.role != "admin":
            raise PlaybookError(403, "forbidden", "only an admin publishes to every team; publish to your team as a pilot")
        return [t for t in session.exec(select(Team.id))]
    kind, _, arg = scope.partition(":")
    if kind != "team" or not arg.isdigit() or not 0 < int(arg) < 2**31 or session.get(Team, int(arg)) is None:
        raise PlaybookError(404, "not_found", "no such team")
    team_id = int(arg)
    if user.role != "admin" and team_id != user.team_id:
        raise PlaybookError(404, "not_found", "no such team")
    return [team_id]


# --- drafts --------------------------------------------------------------------------------------

def _open_draft(session: Session, user: User | None) -> PlaybookDraft | None:
    query = select(PlaybookDraft).where(PlaybookDraft.status == "open")
    query = query.where(PlaybookDraft.created_by == user.id) if user else query.where(PlaybookDraft.created_by.is_(None))
    return session.exec(query.order_by(PlaybookDraft.id.desc()).limit(1)).first()


def draft_view(session: Session, core: Any, draft: PlaybookDraft, team_id: int | None) -> dict[str, Any]:
    base = active_version(session, team_id)
    config, data, errors = parse(draft.toml, core.config)
    base_data = tomllib.loads(base.toml) if base else config_data(core.config)
    return {"id": draft.id, "toml": draft.toml, "data": data, "errors": errors, "valid": not errors,
            "diff": diff(base_data, data) if data is not None else [], "against": base.number if base else None,
            "updated_at": draft.updated_at.isoformat() + "Z"}


def save_draft(session: Session, core: Any, user: User | None, now: datetime, *, text: str | None = None,
               data: dict[str, Any] | None = None, action: str = "draft") -> dict[str, Any]:
    """Create or update the author's open draft (an import has no author when run from the CLI)."""
    if user is not None and user.role not in ("manager", "admin"):
        raise PlaybookError(403, "forbidden", "only managers and admins edit the playbook")
    ensure_seed(session, core.config, now)
    if data is not None:
        try:
            text = to_toml(data)
        except (TypeError, ValueError) as exc:
            raise PlaybookError(422, "invalid", f"cannot be written as TOML: {exc}") from None
    if text is None or len(text) > MAX_TOML:
        raise PlaybookError(422, "invalid", "send the playbook as TOML text or as data")
    team_id = user.team_id if user else None
    draft = None if action == "import" else _open_draft(session, user)
    base = active_version(session, team_id)
    if draft is None:
        draft = PlaybookDraft(toml=text, base_version_id=base.id if base else None, created_by=user.id if user else None,
                              created_at=now, updated_at=now)
    draft.toml, draft.updated_at = text, now
    session.add(draft)
    session.flush()
    view = draft_view(session, core, draft, team_id)
    session.add(PlaybookChange(at=now, user_id=user.id if user else None, action=action, draft_id=draft.id,
                               detail={"changes": len(view["diff"]), "errors": len(view["errors"])}))
    session.flush()
    return view


def discard_draft(session: Session, user: User, draft_id: int, now: datetime) -> None:
    draft = session.get(PlaybookDraft, draft_id)
    if draft is None or draft.status != "open" or (draft.created_by not in (None, user.id) and user.role != "admin"):
        raise PlaybookError(404, "not_found", "no such open draft")
    draft.status = "discarded"
    session.add(draft)
    session.add(PlaybookChange(at=now, user_id=user.id, action="discard", draft_id=draft.id, detail={}))
    session.flush()


# --- stranded customers ----------------------------------------------------------------------------

def stranded(session: Session, core: Any, team_ids: list[int], new: Config, mapping: dict[str, Any]) -> list[dict[str, Any]]:
    """What the new playbook would leave behind, per removed stage / custom field, without a valid mapping."""
    stage_map = mapping.get("stages") or {}
    field_map = mapping.get("fields") or {}
    new_stages = {s.id for s in new.stages}
    problems: list[dict[str, Any]] = []
    for team_id in team_ids:
        old = config_for(session, core, team_id, check_interval=0)
        for stage in old.stages:
            if stage.id in new_stages:
                continue
            n = session.exec(select(func.count()).select_from(Customer).where(
                Customer.team_id == team_id, Customer.stage == stage.id, Customer.status == "open")).one()
            target = stage_map.get(stage.id)
            if n and target not in new_stages:
                problems.append({"kind": "stage", "id": stage.id, "team_id": team_id, "customers": int(n),
                                 "reason": f"{n} open customers are in the removed stage {stage.id!r}; map it to one of "
                                           f"{', '.join(s.id for s in new.stages)}"})
        for name in set(old.fields) - set(new.fields):
            rows = session.exec(select(Customer.custom).where(Customer.team_id == team_id))
            n = sum(1 for custom in rows if (custom or {}).get(name) not in (None, ""))
            target = field_map.get(name)
            if n and target is None:
                problems.append({"kind": "field", "id": name, "team_id": team_id, "customers": n,
                                 "reason": f"{n} customers hold data in the removed field {name!r}; map it to another "
                                           f"field or to \"\" to drop it"})
            elif n and target and target not in new.fields:
                problems.append({"kind": "field", "id": name, "team_id": team_id, "customers": n,
                                 "reason": f"the mapping target {target!r} is not a field of the new playbook"})
    return problems


def _apply_mapping(session: Session, user: User, team_ids: list[int], new: Config, mapping: dict[str, Any], number: int,
                   now: datetime) -> dict[str, int]:
    moved = {"stages": 0, "fields": 0}
    new_stages = {s.id for s in new.stages}
    for old_stage, target in (mapping.get("stages") or {}).items():
        if target not in new_stages or old_stage in new_stages:
            continue
        for c in session.exec(select(Customer).where(Customer.team_id.in_(team_ids), Customer.stage == old_stage)):
            session.add(StageChange(customer_id=c.id, from_stage=old_stage, to_stage=target, by_user_id=user.id, at=now,
                                    complete_data=True))
            session.add(Activity(customer_id=c.id, user_id=user.id, kind="stage", text=target, at=now,
                                 data={"from": old_stage, "playbook_version": number}))
            c.stage = target
            session.add(c)
            moved["stages"] += 1
    for old_field, target in (mapping.get("fields") or {}).items():
        if old_field in new.fields:
            continue
        for c in session.exec(select(Customer).where(Customer.team_id.in_(team_ids))):
            custom = dict(c.custom or {})
            if old_field not in custom:
                continue
            value = custom.pop(old_field)
            if target:
                custom.setdefault(target, value)
            c.custom = custom
            session.add(c)
            moved["fields"] += 1
    session.flush()
    return moved


# --- publish and rollback ------------------------------------------------------------------------------

def _activate(session: Session, scope: str, team_ids: list[int], version: PlaybookVersion, now: datetime) -> None:
    if scope == "all":
        session.execute(delete(PlaybookActive).where(PlaybookActive.scope != "default"))
        key = "default"
    else:
        key = scope
    row = session.get(PlaybookActive, key)
    if row is None:
        row = PlaybookActive(scope=key, version_id=version.id, since=now)
    row.version_id, row.since = version.id, now
    session.add(row)
    session.flush()


def _publish_text(session: Session, core: Any, user: User, text: str, scope: str, mapping: dict[str, Any], now: datetime,
                  *, source: str, based_on: int | None, draft_id: int | None, note: str) -> dict[str, Any]:
    team_ids = _check_scope(session, user, scope)
    ensure_seed(session, core.config, now)
    # Two publishes at once (PostgreSQL): the second waits here, then numbers its version after the first.
    locked(session, PlaybookActive, PlaybookActive.scope == "default")
    config, data, errors = parse(text, core.config)
    if errors:
        raise PlaybookError(422, "invalid", "the playbook has errors", errors=errors)
    problems = stranded(session, core, team_ids, config, mapping or {})
    if problems:
        raise PlaybookError(409, "stranded", "this would strand customers; give a mapping", stranded=problems)
    before = active_version(session, team_ids[0] if len(team_ids) == 1 else None)
    number = (session.execute(select(func.max(PlaybookVersion.number))).scalar() or 0) + 1
    version = PlaybookVersion(number=number, toml=text, source=source, based_on=based_on, created_by=user.id,
                              created_at=now, note=note[:200])
    session.add(version)
    session.flush()
    moved = _apply_mapping(session, user, team_ids, config, mapping or {}, number, now)
    _activate(session, scope, team_ids, version, now)
    changes = diff(tomllib.loads(before.toml), data) if before else []
    session.add(PlaybookChange(at=now, user_id=user.id, action=source, scope=scope, version_id=version.id, draft_id=draft_id,
                               detail={"number": number, "from": before.number if before else None, "teams": team_ids,
                                       "changes": changes[:200], "mapping": mapping or {}, "moved": moved}))
    session.flush()
    invalidate(core)
    return {"number": number, "scope": scope, "teams": team_ids, "changes": len(changes), "moved": moved}


def publish(session: Session, core: Any, user: User, draft_id: int, scope: str, now: datetime,
            mapping: dict[str, Any] | None = None, note: str = "") -> dict[str, Any]:
    draft = session.get(PlaybookDraft, draft_id)
    if draft is None or draft.status != "open" or (draft.created_by not in (None, user.id) and user.role != "admin"):
        raise PlaybookError(404, "not_found", "no such open draft")
    result = _publish_text(session, core, user, draft.toml, scope, mapping or {}, now, source="publish",
                           based_on=draft.base_version_id, draft_id=draft.id, note=note)
    draft.status = "published"
    session.add(draft)
    session.flush()
    return result


def rollback(session: Session, core: Any, user: User, number: int, scope: str, now: datetime,
             mapping: dict[str, Any] | None = None) -> dict[str, Any]:
    """Republish an older version's text as a new version (versions themselves never change)."""
    old = session.exec(select(PlaybookVersion).where(PlaybookVersion.number == number)).first()
    if old is None:
        raise PlaybookError(404, "not_found", f"no version {number}")
    return _publish_text(session, core, user, old.toml, scope, mapping or {}, now, source="rollback", based_on=old.id,
                         draft_id=None, note=f"rollback to v{number}")


# --- export / import, overview ---------------------------------------------------------------------

def export(session: Session, core: Any, number: int | None, now: datetime) -> str:
    ensure_seed(session, core.config, now)
    if number is None:
        version = active_version(session, None)
    else:
        version = session.exec(select(PlaybookVersion).where(PlaybookVersion.number == number)).first()
    if version is None:
        raise PlaybookError(404, "not_found", f"no version {number}")
    return version.toml


def import_text(session: Session, core: Any, text: str, now: datetime, user: User | None = None) -> dict[str, Any]:
    """An imported file becomes a new draft (never active by itself); its errors come back with it."""
    return save_draft(session, core, user, now, text=text, action="import")


def overview(session: Session, core: Any, viewer: User, now: datetime) -> dict[str, Any]:
    if viewer.role not in ("manager", "admin"):
        raise PlaybookError(403, "forbidden", "only managers and admins edit the playbook")
    ensure_seed(session, core.config, now)
    versions = list(session.exec(select(PlaybookVersion).order_by(PlaybookVersion.number.desc()).limit(50)))
    actives = {scope: vid for scope, vid in session.execute(select(PlaybookActive.scope, PlaybookActive.version_id))}
    by_id = {v.id: v.number for v in versions}
    teams = [{"id": t.id, "name": t.name} for t in session.exec(select(Team).order_by(Team.id))
             if viewer.role == "admin" or t.id == viewer.team_id]
    for t in teams:
        vid = actives.get(_scope_of(t["id"])) or actives.get("default")
        t["version"] = by_id.get(vid) or (session.get(PlaybookVersion, vid).number if vid else None)
        t["pilot"] = _scope_of(t["id"]) in actives
    names = dict(session.execute(select(User.id, User.name)).all())
    changes = list(session.exec(select(PlaybookChange).order_by(PlaybookChange.id.desc()).limit(30)))
    draft = _open_draft(session, viewer) or _open_draft(session, None)  # the author's own, else an imported file
    return {"teams": teams, "default_version": by_id.get(actives.get("default")),
            "versions": [{"number": v.number, "source": v.source, "at": v.created_at.isoformat() + "Z",
                          "by": names.get(v.created_by), "note": v.note} for v in versions],
            "changes": [{"id": c.id, "at": c.at.isoformat() + "Z", "by": names.get(c.user_id), "action": c.action,
                         "scope": c.scope, "number": (c.detail or {}).get("number"),
                         "summary": _summary(c)} for c in changes],
            "draft": draft_view(session, core, draft, viewer.team_id) if draft else None,
            "active": tomllib.loads(active_version(session, viewer.team_id).toml),
            "can_publish_all": viewer.role == "admin"}


def _summary(change: PlaybookChange) -> str:
    d = change.detail or {}
    if change.action in ("publish", "rollback", "seed"):
        lines = [f"{c['kind']} {c['path']}" for c in (d.get("changes") or [])[:5]]
        return "; ".join(lines) + (f" (+{len(d['changes']) - 5})" if len(d.get("changes") or []) > 5 else "")
    if change.action in ("draft", "import"):
        return f"{d.get('changes', 0)} changes, {d.get('errors', 0)} errors"
    return ""
