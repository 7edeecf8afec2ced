"""Who gets a new lead, and how urgent it is.

Strategies (``[assignment] strategy``):
- ``round_robin``: the next active rep after the one who got the last lead (per team);
- ``territory`` / ``industry``: the reps named by the first ``[[assignment.rules]]`` entry whose
  values match the lead's region (region field, else a region in the company name) or industry;
  among them the least loaded; no matching rule → round robin;
- ``load``: the rep with the fewest open customers.
Reps at ``[pool] max_holding`` are skipped; with no rep available the lead goes to the team
pool (owner None) and the managers are told.

Priority (0-100, ``Customer.priority``): the source's ``priority`` plus every matching
``[[assignment.priority_rules]]`` entry (words in a field, or a number at least ``min``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import bindparam, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from core.config import Config, SourceSettings
from services.cleaning import norm_text
from services.inputs import NumberRejected, parse_number
from services.users import ensure_team, team_members
from storage.models import Customer, Team, User
from storage.models_ingest import AssignmentCursor

_REGIONS = re.compile(r"(北京|上海|天津|重庆|深圳|广州|杭州|南京|苏州|成都|武汉|西安|宁波|无锡|青岛|厦门|长沙|郑州|合肥|济南|东莞|佛山|"
                      r"浙江|江苏|广东|山东|福建|四川|湖北|湖南|河南|河北|安徽|江西|辽宁|吉林|黑龙江|山西|陕西|云南|贵州|广西|海南)")


@dataclass
class Assignment:
    team: Team
    owner: User | Rep | None  # a Rep from choose_owner_light
    strategy: str
    reason: str  # rule | round_robin | load | no_reps | owner_column


def lead_team(session: Session, config: Config, now) -> Team:
    return ensure_team(session, config.assignment.team or config.team.name, config.team.timezone, now)


def open_load(session: Session, user_ids: list[int]) -> dict[int, int]:
    if not user_ids:
        return {}
    rows = session.exec(select(Customer.owner_id, func.count()).where(
        Customer.owner_id.in_(user_ids), Customer.status == "open", Customer.invalid == False)  # noqa: E712
        .group_by(Customer.owner_id)).all()
    load = {uid: 0 for uid in user_ids}
    load.update({uid: n for uid, n in rows})
    return load


def region_of(data: Mapping[str, Any], extras: Mapping[str, str]) -> str:
    if extras.get("region"):
        return extras["region"]
    match = _REGIONS.search(str(data.get("company") or ""))
    return match.group(1) if match else ""


def _matches_rep(user: User, ref: str | int) -> bool:
    if isinstance(ref, int):
        return user.tg_id == ref
    ref = ref.strip()
    if ref.startswith("@"):
        return (user.username or "").lower() == ref[1:].lower()
    return user.name == ref or str(user.tg_id) == ref


def choose_owner(session: Session, config: Config, team: Team, data: Mapping[str, Any],
                 extras: Mapping[str, str], *, pending: Mapping[int, int] | None = None,
                 after: int | None = None) -> Assignment:
    """Pick the owner (reads only; ``record_choice`` moves the round-robin position).

    ``pending`` adds not-yet-stored leads per rep (a spreadsheet planned row by row);
    ``after`` overrides the stored round-robin position for the same reason.
    """
    reps = team_members(session, team.id, roles=("rep",))
    load = open_load(session, [r.id for r in reps]) if reps else {}
    return pick(session, config, team, reps, load, data, extras, pending=pending, after=after)


@dataclass(frozen=True)
class Rep:
    """What the intake needs of a rep (no ORM object): see ``choose_owner_light``."""
    id: int
    tg_id: int
    name: str
    username: str | None
    language: str


_U, _CC = User.__table__.c, Customer.__table__.c
_LOAD = (sa_select(func.count()).select_from(Customer.__table__)
         .where(_CC.owner_id == _U.id, _CC.status == "open", _CC.invalid == False)  # noqa: E712
         .correlate(User.__table__).scalar_subquery())
_REPS = (sa_select(_U.id, _U.tg_id, _U.name, _U.username, _U.language, _LOAD)
         .where(_U.team_id == bindparam("team_id"), _U.role == "rep", _U.active == True).order_by(_U.id))  # noqa: E712


def choose_owner_light(session: Session, config: Config, team: Team, data: Mapping[str, Any],
                       extras: Mapping[str, str]) -> Assignment:
    """``choose_owner`` with the active reps and their open load read in ONE statement; the owner
    is a ``Rep`` (id, tg_id, name, username, language), not a User."""
    reps, load = reps_with_load(session, team.id)
    return pick(session, config, team, reps, load, data, extras)


def reps_with_load(session: Session, team_id: int) -> tuple[list[Rep], dict[int, int]]:
    """The team's active reps (Rep) and how many open customers each holds: one statement."""
    found = session.connection().execute(_REPS, {"team_id": team_id}).all()
    return [Rep(r[0], r[1], r[2], r[3], r[4]) for r in found], {r[0]: int(r[5]) for r in found}


def pick(session: Session, config: Config, team: Team, reps: list, load: dict[int, int], data: Mapping[str, Any],
          extras: Mapping[str, str], *, pending: Mapping[int, int] | None = None, after: int | None = None,
          known_last: bool = False) -> Assignment:
    """The owner among ``reps`` with their ``load``; the round-robin position is ``after``, read
    here unless given (``known_last``: ``after`` is the stored position, even None)."""
    strategy = config.assignment.strategy
    if not reps:
        return Assignment(team, None, strategy, "no_reps")
    load = dict(load)
    for uid, extra in (pending or {}).items():
        if uid in load:
            load[uid] += extra
    available = [r for r in reps if load[r.id] < config.pool.max_holding]
    if not available:
        return Assignment(team, None, strategy, "no_reps")
    if strategy in ("territory", "industry"):
        field = "region" if strategy == "territory" else "industry"
        value = region_of(data, extras) if field == "region" else norm_text(data.get("industry") or "")
        for rule in config.assignment.rules:
            if rule.field not in (field, "source"):
                continue
            target = value if rule.field == field else norm_text(data.get("source") or "")
            if target and any(v and v in target for v in rule.values):
                candidates = [r for r in available if any(_matches_rep(r, ref) for ref in rule.reps)]
                if candidates:
                    best = min(candidates, key=lambda r: (load[r.id], r.id))
                    return Assignment(team, best, strategy, "rule")
    if strategy == "load":
        best = min(available, key=lambda r: (load[r.id], r.id))
        return Assignment(team, best, strategy, "load")
    last = after if after is not None or known_last else last_assigned(session, team.id)
    ordered = sorted(available, key=lambda r: r.id)
    nxt = next((r for r in ordered if last is None or r.id > last), ordered[0])
    return Assignment(team, nxt, strategy, "round_robin")


def last_assigned(session: Session, team_id: int) -> int | None:
    # PostgreSQL: FOR UPDATE, concurrent leads take turns, not the same rep
    query = _CURSOR_PG if session.get_bind().dialect.name == "postgresql" else _CURSOR
    return session.connection().execute(query, {"team_id": team_id}).scalar()


_last_assigned = last_assigned  # the name ingest/sheets.py uses
_CURSOR = sa_select(AssignmentCursor.__table__.c.last_user_id).where(AssignmentCursor.__table__.c.team_id == bindparam("team_id"))
_CURSOR_PG = _CURSOR.with_for_update()


def record_choice(session: Session, team: Team, owner: User | None, now) -> None:
    if owner is None:
        return
    row = session.get(AssignmentCursor, team.id)
    if row is None:
        row = AssignmentCursor(team_id=team.id, last_user_id=owner.id, updated_at=now)
    else:
        row.last_user_id = owner.id
        row.updated_at = now
    session.add(row)


def priority_of(config: Config, source: SourceSettings | None, data: Mapping[str, Any],
                extras: Mapping[str, str]) -> int:
    score = source.priority if source else 0
    values = {k: v for k, v in data.items() if k != "tags"}
    values.update(extras)
    for rule in config.assignment.priority_rules:
        raw = values.get(rule.field)
        if raw in (None, ""):
            continue
        text = norm_text(raw)
        hit = bool(rule.contains) and any(w and w in text for w in rule.contains)
        if rule.min is not None:
            number = _number(raw, rule.field)
            hit = hit or (number is not None and number >= rule.min)
        if hit:
            score += rule.points
    return max(0, min(100, score))


def _number(raw: Any, field: str) -> float | None:
    try:
        return parse_number(raw, field)
    except NumberRejected:
        return None


def priority_level(config: Config, priority: int) -> str:
    if priority >= config.assignment.high_priority:
        return "high"
    if priority >= config.assignment.high_priority // 2:
        return "medium"
    return "low"
