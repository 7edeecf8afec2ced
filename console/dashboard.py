"""The console's numbers: funnel, leaderboard, a rep's drill-down, customers by stage and risk.

Plain functions on a Session returning JSON-ready dicts; no HTTP and no Telegram types.  Every
number comes from the services the bot already uses — the digest's funnel (services.funnel), the
group post's fair ranking (services.boards), the ability profile (services.incentives) — and every
object is looked up through the bot's visibility rules (services.customers): a rep sees only their
own customers, a manager their team's, an admin everything.  Anything outside that is NotFound.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, select

from core.config import Config
from core.texts import TEXTS, role_name
from services import boards
from services import customers as cust_svc
from services import funnel as funnel_svc
from services import incentives as inc
from services import points as points_svc
from storage.models import Activity, Customer, FieldHistory, IntentRecord, StageChange, Team, User

PERIODS = ("all", "week", "month", "quarter")
RISKS = ("overdue", "pool_soon", "stalled")
OWNER_KINDS = ("create", "import", "claim", "release", "transfer")
TIMELINE_LIMIT = 50
CUSTOMER_LIMIT = 200


class NotFound(Exception):
    """The object does not exist or is outside what this user may see (both answer 404)."""


MAX_ID = 2**31 - 1  # ids past INTEGER would be a database error on PostgreSQL, not a 404


def parse_id(value: str, name: str) -> int:
    """A row id from the URL: not a number → 400; out of range → no such row (404)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadParam(name, "a number") from None
    if not 0 < number <= MAX_ID:
        raise NotFound()
    return number


class BadParam(Exception):
    def __init__(self, name: str, expected: str) -> None:
        super().__init__(f"{name}: expected {expected}")
        self.name = name
        self.expected = expected


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.replace(microsecond=0).isoformat() + "Z"


def _lang(user: User) -> str:
    return "en" if user.language == "en" else "zh"


def texts(lang: str) -> dict[str, str]:
    """The page's own words (core/texts_console.py), in the user's language."""
    return {key[len("console_"):]: value.get(lang) or value["zh"] for key, value in TEXTS.items()
            if key.startswith("console_")}


# --- who is asking, which team --------------------------------------------------------------------

def visible_teams(session: Session, viewer: User) -> list[Team]:
    if viewer.role == "admin":
        return list(session.exec(select(Team).order_by(Team.id)))
    team = session.get(Team, viewer.team_id) if viewer.team_id else None
    return [team] if team else []


def resolve_team(session: Session, viewer: User, team_param: str | None) -> int:
    """The team a request is about: a rep's and a manager's own; an admin's choice (default: own)."""
    if team_param in (None, ""):
        if viewer.team_id is None:
            raise NotFound()
        return viewer.team_id
    team_id = parse_id(team_param, "team")
    if viewer.role != "admin" and team_id != viewer.team_id:
        raise NotFound()
    if session.get(Team, team_id) is None:
        raise NotFound()
    return team_id


def me(session: Session, config: Config, viewer: User) -> dict[str, Any]:
    lang = _lang(viewer)
    team = session.get(Team, viewer.team_id) if viewer.team_id else None
    return {"id": viewer.id, "tg_id": viewer.tg_id, "name": viewer.name, "role": viewer.role,
            "role_label": role_name(viewer.role, lang), "language": lang,
            "team": {"id": team.id, "name": team.name} if team else None,
            "teams": [{"id": t.id, "name": t.name} for t in visible_teams(session, viewer)] if viewer.role != "rep" else [],
            "periods": list(PERIODS), "texts": texts(lang)}


# --- funnel -----------------------------------------------------------------------------------------

def period_start(config: Config, now: datetime, period: str | None) -> datetime | None:
    if period in (None, "", "all"):
        return None
    if period in ("week", "month"):
        return inc.period_bounds(config, now, period)[0]
    if period == "quarter":
        return inc.day_bounds(config, now)[0] - timedelta(days=90)
    raise BadParam("period", "one of " + ", ".join(PERIODS))


def _scope(viewer: User, period_from: datetime | None) -> tuple:
    where: tuple = ()
    if viewer.role == "rep":
        where += (Customer.owner_id == viewer.id,)
    if period_from is not None:
        where += (Customer.created_at >= period_from,)
    return where


def funnel(session: Session, config: Config, viewer: User, team_id: int, period: str | None, now: datetime) -> dict:
    """The digest's funnel (same counts, conversion, bottleneck) plus each stage's median days against
    its expected days; a rep's is their own customers only; ``period`` = customers created since."""
    lang = _lang(viewer)
    where = _scope(viewer, period_start(config, now, period))
    f = funnel_svc.funnels(session, config, [team_id], now, lang, where=where)[team_id]
    ages: dict[str, list[float]] = {}
    rows = session.execute(select(Customer.stage, Customer.stage_entered_at).where(
        Customer.team_id == team_id, Customer.status == "open", Customer.invalid == False, *where))  # noqa: E712
    for stage_id, entered in rows:
        ages.setdefault(stage_id, []).append((now - entered).total_seconds() / 86400)
    lost = session.exec(select(func.count()).select_from(Customer).where(
        Customer.team_id == team_id, Customer.status == "lost", Customer.invalid == False, *where)).one()  # noqa: E712
    stages = []
    for s, fs in zip(config.stages, f.stages):
        days = ages.get(s.id)
        stages.append({"id": s.id, "label": fs.label, "reached": fs.reached, "current": fs.current,
                       "stalled": fs.stalled, "conversion": fs.conversion, "expected_days": s.expected_days,
                       "median_days": round(median(days), 1) if days else None})
    b = f.bottleneck_stage
    return {"team_id": team_id, "period": period or "all", "scope": "mine" if viewer.role == "rep" else "team",
            "stages": stages, "won": f.won, "lost": int(lost),
            "bottleneck": None if b is None else {"id": b.id, "label": b.label, "stalled": b.stalled, "current": b.current}}


# --- leaderboard ------------------------------------------------------------------------------------

def _board_row(config: Config, r: boards.BoardRow, lang: str) -> dict:
    return {"user_id": r.user_id, "name": r.name, "rank": r.rank, "size": r.size,
            "group": boards.group_label(config, r.group_key, lang), "share": r.share, "points": r.points,
            "target": r.target, "deals": r.deals, "compliance": r.compliance, "quality": r.quality,
            "movement": r.movement}


def board(session: Session, config: Config, viewer: User, team_id: int, kind: str, now: datetime) -> dict:
    """The group post's ranking (share of own target within comparable groups).  Managers see every row;
    a rep sees what the group sees (top N, most improved) plus their own row — never the bottom of a list."""
    if kind not in ("daily", "weekly"):
        raise BadParam("kind", "daily or weekly")
    lang = _lang(viewer)
    b = boards.compute(session, config, team_id, kind, now)
    if viewer.role == "rep":
        shown = b.public_rows()
        own = b.row(viewer.id)
        if own is not None and own not in shown:
            shown.append(own)
    else:
        shown = [r for g in b.groups for r in g.rows]
    return {"team_id": team_id, "kind": kind, "period": b.period, "period_label": TEXTS[f"period_{b.period}"][lang],
            "rows": [_board_row(config, r, lang) for r in shown], "full": viewer.role != "rep",
            "improved": [g.improved.user_id for g in b.groups if g.improved]}


# --- a rep ------------------------------------------------------------------------------------------

def _rep_for(session: Session, viewer: User, rep_id: int) -> User:
    rep = session.get(User, rep_id)
    if rep is None:
        raise NotFound()
    if viewer.role == "admin" or (viewer.role == "manager" and rep.team_id == viewer.team_id) or rep.id == viewer.id:
        return rep
    raise NotFound()


def risk_flags(config: Config, c: Customer, now: datetime, today_start: datetime) -> list[str]:
    flags = []
    if c.next_followup_at is not None and c.next_followup_at < today_start:
        flags.append("overdue")
    if c.owner_id is not None and c.protected_until is not None and \
            c.protected_until <= now + timedelta(days=config.pool.warn_before_days):
        flags.append("pool_soon")
    stage = config.stage(c.stage)
    if stage is not None and c.stage_entered_at < now - timedelta(days=stage.expected_days):
        flags.append("stalled")
    return flags


def _customer_row(config: Config, c: Customer, now: datetime, today_start: datetime, lang: str,
                  owners: dict[int, str]) -> dict:
    stage = config.stage(c.stage)
    label = ((stage.name_en or stage.name) if lang == "en" else stage.name) if stage else c.stage
    return {"id": c.id, "name": c.name, "company": c.company, "stage": c.stage, "stage_label": label,
            "status": c.status, "owner": owners.get(c.owner_id) if c.owner_id else None, "owner_id": c.owner_id,
            "days_in_stage": max(0, (now - c.stage_entered_at).days), "amount": c.amount,
            "next_followup_at": _iso(c.next_followup_at), "protected_until": _iso(c.protected_until),
            "intent_score": c.intent_score, "completeness": c.completeness,
            "risks": risk_flags(config, c, now, today_start) if c.status == "open" else []}


def rep(session: Session, config: Config, viewer: User, rep_id: int, now: datetime) -> dict:
    """A rep's drill-down: radar scores against the team, the weakest dimension and its coaching hint,
    KPI, points, recent activity, and their open customers by stage with risk flags."""
    person = _rep_for(session, viewer, rep_id)
    if person.team_id is None:
        raise NotFound()
    lang = _lang(viewer)
    p = inc.profile(session, config, person, now, with_rank=False)  # the board is its own call
    dims = [{"id": d.id, "label": (d.name_en or d.name) if lang == "en" else d.name,
             "score": p.scores.get(d.id, 0.0), "team_avg": p.team_avg.get(d.id, 0.0)} for d in config.dimensions]
    w = p.weakest
    timeline = []
    rows = session.execute(select(Activity.id, Activity.kind, Activity.text, Activity.at, Customer.id, Customer.name)
                           .join(Customer, Customer.id == Activity.customer_id)
                           .where(Activity.user_id == person.id).order_by(Activity.at.desc(), Activity.id.desc())
                           .limit(TIMELINE_LIMIT))
    for aid, kind, text, at, cid, cname in rows:
        timeline.append({"id": aid, "kind": kind, "kind_label": _kind_label(kind, lang), "text": _act_text(config, kind, text, lang),
                         "at": _iso(at), "customer_id": cid, "customer": cname})
    listed = customers(session, config, viewer, person.team_id, now, owner=str(person.id))
    return {"id": person.id, "name": person.name, "role": person.role, "team_id": person.team_id,
            "dimensions": dims, "weakest": {"id": w.id, "label": (w.name_en or w.name) if lang == "en" else w.name,
                                            "hint": (w.hint_en or w.hint) if lang == "en" else w.hint},
            "kpi": p.kpi, "balance": p.balance, "pending_points": p.pending_points,
            "points_window": p.stats.points, "compliance": p.stats.compliance, "quality": p.stats.completeness,
            "timeline": timeline, "customers": listed["customers"], "by_stage": listed["by_stage"],
            "risk_counts": listed["risk_counts"]}


def _act_text(config: Config, kind: str, text: str, lang: str) -> str:
    """A stage move's text is the stage id it went to: shown as the stage's name."""
    if kind == "stage":
        stage = config.stage(text)
        if stage is not None:
            return (stage.name_en or stage.name) if lang == "en" else stage.name
        if text in ("won", "lost"):
            entry = TEXTS.get(f"console_{text}")
            return entry.get(lang) or entry["zh"]
    return text[:300]


def _kind_label(kind: str, lang: str) -> str:
    entry = TEXTS.get(f"kind_{kind}") or TEXTS.get(f"act_{kind}")
    return (entry.get(lang) or entry["zh"]) if entry else kind


# --- customers ------------------------------------------------------------------------------------

def customers(session: Session, config: Config, viewer: User, team_id: int, now: datetime, *, stage: str | None = None,
              risk: str | None = None, owner: str | None = None, limit: int = CUSTOMER_LIMIT) -> dict:
    """Open customers the viewer may see in ``team_id``, riskiest first, with counts by stage and risk."""
    lang = _lang(viewer)
    if stage and config.stage(stage) is None:
        raise BadParam("stage", "a stage id of the playbook")
    if risk and risk not in RISKS:
        raise BadParam("risk", "one of " + ", ".join(RISKS))
    query = cust_svc.visible_query(viewer).where(Customer.team_id == team_id, Customer.status == "open")
    if owner:
        owner_id = parse_id(owner, "owner")
        query = query.where(Customer.owner_id == owner_id)
    today_start, _ = inc.day_bounds(config, now)
    warn = now + timedelta(days=config.pool.warn_before_days)
    conditions = {
        "overdue": (Customer.next_followup_at.is_not(None)) & (Customer.next_followup_at < today_start),
        "pool_soon": (Customer.owner_id.is_not(None)) & (Customer.protected_until.is_not(None)) & (Customer.protected_until <= warn),
        "stalled": or_(*[(Customer.stage == s.id) & (Customer.stage_entered_at < now - timedelta(days=s.expected_days))
                         for s in config.stages]),
    }
    sub = query.subquery()
    by_stage = dict(session.execute(select(sub.c.stage, func.count()).group_by(sub.c.stage)).all())
    risk_counts = {}
    for name, cond in conditions.items():
        q = query.where(cond).subquery()
        risk_counts[name] = int(session.execute(select(func.count()).select_from(q)).scalar() or 0)
    if stage:
        query = query.where(Customer.stage == stage)
    if risk:
        query = query.where(conditions[risk])
    rows = list(session.exec(query.order_by(Customer.next_followup_at.is_(None), Customer.next_followup_at,
                                            Customer.id).limit(max(1, min(limit, CUSTOMER_LIMIT)))))
    owner_ids = {c.owner_id for c in rows if c.owner_id}
    owners = dict(session.execute(select(User.id, User.name).where(User.id.in_(owner_ids))).all()) if owner_ids else {}
    out = [_customer_row(config, c, now, today_start, lang, owners) for c in rows]
    out.sort(key=lambda r: (-len(r["risks"]), r["id"]))
    return {"team_id": team_id, "customers": out,
            "by_stage": [{"id": s.id, "label": (s.name_en or s.name) if lang == "en" else s.name,
                          "count": int(by_stage.get(s.id, 0))} for s in config.stages],
            "risk_counts": risk_counts}


def customer(session: Session, config: Config, viewer: User, customer_id: int, now: datetime) -> dict:
    """One customer's story: activities, analyses, stage moves, field history and owner history."""
    c = cust_svc.get_for(session, viewer, customer_id)
    if c is None or c.invalid:
        raise NotFound()
    lang = _lang(viewer)
    today_start, _ = inc.day_bounds(config, now)
    acts = list(session.exec(select(Activity).where(Activity.customer_id == c.id)
                             .order_by(Activity.at.desc(), Activity.id.desc()).limit(100)))
    people = {uid for uid in [c.owner_id, c.previous_owner_id] + [a.user_id for a in acts] if uid}
    moves = list(session.exec(select(StageChange).where(StageChange.customer_id == c.id).order_by(StageChange.at, StageChange.id)))
    people |= {m.by_user_id for m in moves if m.by_user_id}
    fields = list(session.exec(select(FieldHistory).where(FieldHistory.customer_id == c.id)
                               .order_by(FieldHistory.at.desc(), FieldHistory.id.desc()).limit(100)))
    people |= {f.by_user_id for f in fields if f.by_user_id}
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(people))).all()) if people else {}
    analyses = list(session.exec(select(IntentRecord).where(IntentRecord.customer_id == c.id)
                                 .order_by(IntentRecord.at.desc()).limit(20)))
    objection_labels = {k: o.label for k, o in config.objections.items()}

    def stage_label(stage_id: str | None) -> str | None:
        s = config.stage(stage_id) if stage_id else None
        return None if stage_id is None else (((s.name_en or s.name) if lang == "en" else s.name) if s else stage_id)

    return {
        **_customer_row(config, c, now, today_start, lang, names),
        "contact": c.contact, "phone": c.phone, "industry": c.industry, "source": c.source,
        "previous_owner": names.get(c.previous_owner_id) if c.previous_owner_id else None,
        "activities": [{"id": a.id, "kind": a.kind, "kind_label": _kind_label(a.kind, lang), "text": _act_text(config, a.kind, a.text, lang),
                        "at": _iso(a.at), "by": names.get(a.user_id)} for a in acts],
        "analyses": [{"at": _iso(r.at), "score": r.score, "level": r.level,
                      "objections": [objection_labels.get(o, o) for o in r.objections or []]} for r in analyses],
        "stage_moves": [{"from": stage_label(m.from_stage), "to": stage_label(m.to_stage) if m.to_stage != "won" else "won",
                         "at": _iso(m.at), "by": names.get(m.by_user_id)} for m in moves],
        "field_history": [{"field": config.field_label(f.field, lang), "value": f.value, "source": f.source,
                           "at": _iso(f.at), "by": names.get(f.by_user_id)} for f in fields],
        "owner_history": [{"kind": a.kind, "kind_label": _kind_label(a.kind, lang), "at": _iso(a.at), "by": names.get(a.user_id),
                           "text": a.text[:200]} for a in reversed(acts) if a.kind in OWNER_KINDS],
    }


# --- one call for the first screen -----------------------------------------------------------------

def dashboard(session: Session, config: Config, viewer: User, team_id: int, period: str | None, now: datetime) -> dict:
    """What the page draws first: the funnel and the board; a rep also gets their points and customers."""
    out = {"funnel": funnel(session, config, viewer, team_id, period, now),
           "board": board(session, config, viewer, team_id, "weekly", now)}
    if viewer.role == "rep":
        out["mine"] = {"balance": points_svc.balance(session, viewer.id),
                       **customers(session, config, viewer, team_id, now)}
    return out
