"""The manager's morning digest and each rep's line of the same numbers.

Before the stand-up each manager gets one message — the team funnel with stage-to-stage
conversion and the bottleneck stage, yesterday's activity per rep, overdue customers, hot
prospects, compliance and KPI, spot-check and anti-cheating flags, pending approvals and users
who blocked the bot — plus a funnel chart.  A day with nothing new is one line, not a page of
zeros.  Every number comes from a handful of GROUP BY queries per team (no per-rep queries).
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from core.callbacks import Approve
from core.config import Config
from core.texts import TEXTS, Raw, esc, t, tp
from services import incentives as inc
from services import outbox
from services import owner_load
from services import rollups
from services import team as team_svc
from services import stalls as stall_svc
from services.top_lists import top_customers_per_team as _top_customers_per_team
from services.funnel import Funnel, funnels
from services.rep_stats import remember_members
from services.top_lists import oldest_pending_points
from services.top_lists import top_per_team as _top_per_team
from storage.models import Activity, Customer, PointsEntry, SpotCheck, Team, User
from storage.models_incentives import AntiCheatFlag, Redemption

MAX_REP_LINES = 30
MAX_LIST = 5
MAX_PENDING = 10
HOT_SCORE = 70
# Activity kinds shown as their own column in "yesterday"; everything else is counted as "other".
SHOWN_KINDS = ("followup", "checklist", "stage", "create")


# --- the digest ----------------------------------------------------------------------------------

@dataclass
class RepDay:
    user: User
    kinds: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.kinds.values())


@dataclass
class TeamDigest:
    team_id: int
    day: date
    funnel: Funnel
    reps: list[User]
    yesterday: dict[int, RepDay]
    stats: dict[int, inc.RepStats]
    kpis: dict[int, float]
    compliance: inc.TeamCompliance
    overdue_total: int
    overdue_top: list[tuple[str, str, int]]   # customer, owner, days overdue
    hot: list[tuple[str, str, int]]           # customer, owner, intent score
    spot_flags: list[tuple[str, str, str]]    # owner, customer, reason
    cheat_flags: list[tuple[str, str, int]]   # rep, kind, actions concerned
    pending: list[tuple[str, int, str, int, str]]  # the oldest few: kind (points|redeem), id, rep, points, what
    blocked: list[str]
    pending_total: int = 0
    new_blocked: int = 0
    people: list[tuple[str, str, int, str]] = field(default_factory=list)  # kind, name, customers moved, team

    escalated: list = field(default_factory=list)  # services.stalls.Escalated, the longest idle (issue 16)
    escalated_total: int = 0
    story: "Story | None" = None
    agreement: "object | None" = None   # services.feedback.Agreement: how often the team said 准 (issue 13)
    team_model: dict | None = None      # services.feedback.model_info

    @property
    def activity_total(self) -> int:
        return sum(d.total for d in self.yesterday.values())

    @property
    def nothing_new(self) -> bool:
        return not (self.activity_total or self.spot_flags or self.cheat_flags or self.pending or self.new_blocked
                    or self.people or self.escalated)


def yesterday_activity(session: Session, user_ids, start: datetime, end: datetime,
                       config: Config | None = None, now: datetime | None = None) -> dict[int, dict[str, int]]:
    """Activities per rep and kind in [start, end); a closed local day (with ``config`` and ``now``)
    comes from the per-rep daily rollups (services.rollups).  ``user_ids``: a list, or a SELECT of ids."""
    if config is not None and now is not None:
        span = rollups.closed_span(config, start, end, now)
        if span is not None and span[0] == span[1] and span[2] == end \
                and rollups.try_ensure(session, config, span[0], span[1], now):
            return rollups.day_kinds(session, span[0], user_ids)
    rows = session.execute(select(Activity.user_id, Activity.kind, func.count())
                           .where(Activity.user_id.in_(user_ids), Activity.at >= start, Activity.at < end)
                           .group_by(Activity.user_id, Activity.kind))
    out: dict[int, dict[str, int]] = {}
    for uid, kind, n in rows:
        out.setdefault(uid, {})[kind] = int(n)
    return out


@dataclass
class Story:
    """Yesterday in a sentence: new leads, moves by target stage, wins, losses and their reasons."""
    new: int = 0
    moved: dict[str, int] = field(default_factory=dict)  # stage id → customers moved into it
    won: int = 0
    lost: int = 0
    lost_reasons: dict[str, int] = field(default_factory=dict)


def stories(session: Session, team_ids: list[int], user_ids, start: datetime, end: datetime) -> dict[int, Story]:
    """Yesterday's create/stage activities of the teams' customers, grouped: by the members' (user_id, at)
    index, plus the rows no user made (leads from the ingestion API, connectors) by the same index."""
    out = {t: Story() for t in team_ids}
    # No team_id filter in SQL: with one, SQLite walks every team customer's activities instead of the
    # (user_id, at) index (bench.digest: 10.6 s against 3.1 s); other teams' rows are dropped below.
    joined = [Customer.id == Activity.customer_id]
    window = [Activity.at >= start, Activity.at < end, Activity.kind.in_(("create", "stage"))]
    lost_ids: list[int] = []
    for who in (Activity.user_id.in_(user_ids), Activity.user_id.is_(None)):
        for team_id, kind, text, n in session.execute(
                select(Customer.team_id, Activity.kind, Activity.text, func.count())
                .where(who, *window, *joined).group_by(Customer.team_id, Activity.kind, Activity.text)):
            story = out.get(team_id)
            if story is None:
                continue
            if kind == "create":
                story.new += n
            elif text == "won":
                story.won += n
            elif text == "lost":
                story.lost += n
                lost_ids.append(team_id)
            elif text:  # a stage id (older or imported rows may carry anything: the renderer skips those)
                story.moved[text] = story.moved.get(text, 0) + n
    if lost_ids:  # the few lost rows' reasons
        for team_id, data in session.execute(
                select(Customer.team_id, Activity.data).where(
                    Activity.user_id.in_(user_ids), Activity.at >= start, Activity.at < end, Activity.kind == "stage",
                    Activity.text == "lost", *joined)):
            reason = str((data or {}).get("reason") or "").strip()
            if reason and team_id in out:
                out[team_id].lost_reasons[reason] = out[team_id].lost_reasons.get(reason, 0) + 1
    return out


def build(session: Session, config: Config, team_id: int, now: datetime, lang: str = "zh") -> TeamDigest:
    return build_many(session, config, [team_id], now, lang)[team_id]


def build_many(session: Session, config: Config, team_ids: list[int], now: datetime, lang: str = "zh") -> dict[int, TeamDigest]:
    """Every team's digest with a fixed number of set-based queries (GROUP BY / window functions)."""
    y_start, y_end = inc.day_bounds(config, now, days_back=1)
    today_start, _ = inc.day_bounds(config, now)
    k_start, k_end = inc.kpi_window(config, now)
    # Plain rows (read-only, attribute access like the model's): 10,000 ORM objects cost ≈ 0.15 s CPU at 10×.
    users = User.__table__
    members = list(session.execute(select(users).where(users.c.team_id.in_(team_ids)).order_by(users.c.id)))
    remember_members(session, team_ids, members)  # the board of the same run filters them
    owners = {u.id: u.name for u in members}
    reps = [u for u in members if u.role == "rep" and u.deactivated_at is None]
    rep_ids = {u.id for u in reps}
    stats = inc.rep_stats_many(session, config, team_ids, k_start, k_end, now, users=reps)
    # The members' ids as a subquery (the same rows as ``members``), not an IN list of 10,000 parameters.
    member_ids = select(User.id).where(User.team_id.in_(team_ids))
    kinds = yesterday_activity(session, member_ids, y_start, y_end, config, now)

    base = [Customer.team_id.in_(team_ids), Customer.status == "open", Customer.invalid == False]  # noqa: E712
    late = and_(Customer.next_followup_at.is_not(None), Customer.next_followup_at < today_start)
    overdue_total = owner_load.overdue_per_team(session, config, team_ids, today_start)  # trigger-kept counts
    if overdue_total is None:
        overdue_total = dict(session.execute(select(Customer.team_id, func.count()).where(*base, late)
                                             .group_by(Customer.team_id)).all())

    def open_customers(c) -> list:
        return [c.status == "open", c.invalid == False]  # noqa: E712

    overdue_top: dict[int, list] = {t: [] for t in team_ids}
    for team_id, name, owner_id, due in _top_customers_per_team(
            session, team_ids, lambda c: [c.name, c.owner_id, c.next_followup_at],
            lambda c: open_customers(c) + [c.next_followup_at.is_not(None), c.next_followup_at < today_start],
            lambda c: [c.next_followup_at, c.id], MAX_LIST):
        overdue_top[team_id].append((name, owners.get(owner_id, "—"), max(1, (today_start - due).days + 1)))
    hot: dict[int, list] = {t: [] for t in team_ids}
    for team_id, name, owner_id, score in _top_customers_per_team(
            session, team_ids, lambda c: [c.name, c.owner_id, c.intent_score],
            lambda c: open_customers(c) + [or_(c.intent_level == "high", c.intent_score >= HOT_SCORE)],
            lambda c: [c.intent_score.desc(), c.id], MAX_LIST):
        hot[team_id].append((name, owners.get(owner_id, "—"), score or 0))

    reasons = {r.id: r for r in config.spotcheck.reasons}

    def reason_label(rid: str) -> str:
        r = reasons.get(rid)
        return ((r.label_en or r.label) if lang == "en" else r.label) if r else rid

    spot_flags: dict[int, list] = {t: [] for t in team_ids}
    for team_id, uid, name, reason in session.execute(
            select(Customer.team_id, SpotCheck.owner_id, Customer.name, SpotCheck.reason)
            .join(Customer, Customer.id == SpotCheck.customer_id)
            .where(Customer.team_id.in_(team_ids), SpotCheck.result == "flagged",
                   SpotCheck.decided_at >= y_start, SpotCheck.decided_at <= now).order_by(SpotCheck.decided_at)):
        spot_flags[team_id].append((owners.get(uid, "—"), name, reason_label(reason)))
    cheat_flags: dict[int, list] = {t: [] for t in team_ids}
    for f in session.exec(select(AntiCheatFlag).where(AntiCheatFlag.team_id.in_(team_ids), AntiCheatFlag.status == "open")
                          .order_by(AntiCheatFlag.at)):
        cheat_flags[f.team_id].append((owners.get(f.user_id, "—"), f.kind, len(f.entry_ids or [])))
    pending: dict[int, list] = {t: [] for t in team_ids}
    for team_id, rid, uid, price, name in _top_per_team(
            session, [Redemption.team_id, Redemption.id, Redemption.user_id, Redemption.price, Redemption.reward_name],
            [Redemption.team_id.in_(team_ids), Redemption.status == "requested"],
            [Redemption.requested_at, Redemption.id], MAX_PENDING):
        pending[team_id].append(("redeem", rid, owners.get(uid, "—"), price, name))
    for team_id, eid, uid, points, action in oldest_pending_points(session, team_ids, MAX_PENDING):
        pending[team_id].append(("points", eid, owners.get(uid, "—"), points, inc.action_label(config, action, lang)))
    pending_total = dict(session.execute(select(PointsEntry.team_id, func.count()).where(
        PointsEntry.team_id.in_(team_ids), PointsEntry.status == "pending").group_by(PointsEntry.team_id)).all())
    for team_id, n in session.execute(select(Redemption.team_id, func.count()).where(
            Redemption.team_id.in_(team_ids), Redemption.status == "requested").group_by(Redemption.team_id)):
        pending_total[team_id] = pending_total.get(team_id, 0) + n
    all_funnels = funnels(session, config, team_ids, now, lang)
    people = team_svc.people_changes(session, team_ids, y_start, now, lang)
    escalated = stall_svc.escalations(session, config, team_ids, now, MAX_LIST)
    all_stories = stories(session, team_ids, member_ids, y_start, y_end)
    day = inc.local_date(config, now)
    from services import feedback as fb_svc
    agreement = fb_svc.agreement_many(session, team_ids, now)
    team_models = fb_svc.model_info_many(session, team_ids)
    out = {}
    reps_of: dict[int, list[User]] = {}
    blocked_of: dict[int, list[User]] = {}
    for u in members:  # once, not a pass over every member per team (500 teams × 10,000 reps at 10×)
        if u.id in rep_ids:
            reps_of.setdefault(u.team_id, []).append(u)
        if not u.active and u.deactivated_at is None:
            blocked_of.setdefault(u.team_id, []).append(u)
    for t in team_ids:
        team_reps = reps_of.get(t, [])
        team_stats = {u.id: stats[u.id] for u in team_reps}
        blocked = blocked_of.get(t, [])
        out[t] = TeamDigest(
            team_id=t, day=day, funnel=all_funnels[t], reps=team_reps,
            yesterday={u.id: RepDay(u, kinds.get(u.id, {})) for u in team_reps}, stats=team_stats,
            kpis={uid: inc.kpi_score(config, s) for uid, s in team_stats.items()},
            compliance=inc.team_compliance(team_stats), overdue_total=overdue_total.get(t, 0), overdue_top=overdue_top[t],
            hot=hot[t], spot_flags=spot_flags[t], cheat_flags=cheat_flags[t], pending=pending[t],
            pending_total=pending_total.get(t, 0), blocked=[u.name for u in blocked],
            new_blocked=sum(1 for u in blocked if u.blocked_at and u.blocked_at >= y_start),
            people=people.get(t, []), escalated=escalated[t][1], escalated_total=escalated[t][0], story=all_stories[t],
            agreement=agreement.get(t), team_model=team_models.get(t))
    return out


# --- rendering -------------------------------------------------------------------------------------

def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


def _date(d: date, lang: str) -> str:
    from core.when import day_text
    return day_text(d, lang, d, relative=False)


def kinds_text(kinds: dict[str, int], lang: str) -> str:
    parts = [f"{tp('kind_' + k, lang)} {kinds.get(k, 0)}" for k in SHOWN_KINDS if kinds.get(k)]
    other = sum(v for k, v in kinds.items() if k not in SHOWN_KINDS)
    if other:
        parts.append(f"{tp('kind_other', lang)} {other}")
    return " · ".join(parts)


def digest_text(config: Config, d: TeamDigest, team_name: str, lang: str) -> str:
    """Plain sentences first (what happened, what is late, where it sticks), the numbers after, and a
    legend that explains every label once."""
    if d.nothing_new:
        return t("digest_nothing_new", lang, team=team_name, date=_date(d.day, lang), overdue=d.overdue_total)
    out = [t("digest_title", lang, team=team_name, date=_date(d.day, lang))]
    out.append(story_text(config, d, lang))
    # The numbers: one funnel line per stage.
    out.append(t("digest_funnel_head", lang, won=d.funnel.won))
    for s in d.funnel.stages:
        conv = t("digest_funnel_conv", lang, pct=f"{s.conversion:.0f}") if s.conversion is not None else ""
        late = t("digest_funnel_late", lang, n=s.stalled) if s.stalled else ""
        out.append(t("digest_funnel_row", lang, stage=s.label, current=s.current, reached=s.reached,
                     conv=Raw(conv), late=Raw(late)))
    # Yesterday per rep.
    active = sorted((r for r in d.yesterday.values() if r.total), key=lambda r: (-r.total, r.user.id))
    idle = [r.user.name for r in d.yesterday.values() if not r.total and r.user.active]
    out.append(t("digest_yesterday", lang, total=d.activity_total))
    for r in active[:MAX_REP_LINES]:
        s = d.stats.get(r.user.id)
        out.append(t("digest_rep_line", lang, name=r.user.name, kinds=kinds_text(r.kinds, lang),
                     kpi=f"{d.kpis.get(r.user.id, 0):.0f}", compliance=_pct(s.compliance if s else None)))
    if len(active) > MAX_REP_LINES:
        out.append(t("digest_more", lang, n=len(active) - MAX_REP_LINES))
    if idle:
        out.append(t("digest_idle", lang, names="、".join(idle[:20]) + ("…" if len(idle) > 20 else ""), n=len(idle)))
    # Compliance and KPI: "behind" names only those clearly below the team's average, never everyone.
    kpis = list(d.kpis.values())
    avg_kpi = sum(kpis) / len(kpis) if kpis else 0
    behind = [u for u in sorted(d.reps, key=lambda u: (d.kpis.get(u.id, 0), u.id))
              if d.kpis.get(u.id, 0) <= avg_kpi - BEHIND_KPI_POINTS][:3] if len(d.reps) >= 3 else []
    low = "、".join(f"{u.name} {d.kpis.get(u.id, 0):.0f}" for u in behind) if behind else t("digest_nobody_behind", lang)
    out.append(t("digest_compliance", lang, days=config.kpi.window_days, items=_pct(d.compliance.items_pct),
                 moves=_pct(d.compliance.moves_pct), overall=_pct(d.compliance.compliance), kpi=f"{avg_kpi:.0f}",
                 low=low, gap=BEHIND_KPI_POINTS))
    # Overdue and hot.
    if d.overdue_total:
        items = "；".join(f"{esc(c)}（{esc(o)}，{n}{'d' if lang == 'en' else '天'}）" for c, o, n in d.overdue_top)
        out.append(t("digest_overdue", lang, n=d.overdue_total, items=Raw(items)))
    if d.hot:
        items = "；".join(f"{esc(c)}（{esc(o)}，{s}）" for c, o, s in d.hot)
        out.append(t("digest_hot", lang, items=Raw(items)))
    # Flags, approvals, blocked.
    if d.spot_flags:
        items = "；".join(f"{esc(o)}·{esc(c)}：{esc(r)}" for o, c, r in d.spot_flags[:MAX_LIST])
        out.append(t("digest_spot_flags", lang, n=len(d.spot_flags), items=Raw(items)))
    if d.cheat_flags:
        items = "；".join(f"{esc(name)}：{esc(tp('flag_kind_' + kind, lang))}（{n}）" for name, kind, n in d.cheat_flags[:MAX_LIST])
        out.append(t("digest_cheat_flags", lang, n=len(d.cheat_flags), items=Raw(items)))
    if d.pending:
        out.append(t("digest_pending", lang, n=d.pending_total))
    if d.people:
        items = "；".join(esc(tp(f"digest_people_{kind}", lang, name=name, n=n, team=team)) for kind, name, n, team in d.people[:MAX_LIST])
        out.append(t("digest_people", lang, items=Raw(items)))
    if d.blocked:
        out.append(t("digest_blocked", lang, names="、".join(d.blocked[:20]), n=len(d.blocked)))
    if d.escalated:
        owners = {u.id: u.name for u in d.reps}
        items = "；".join(f"{esc(s.name)}（{esc(owners.get(s.owner_id, '—'))}，{s.idle_days}"
                         f"{'d' if lang == 'en' else '天'}）" for s in d.escalated[:MAX_LIST])
        out.append(t("digest_stalled", lang, n=d.escalated_total, extra=config.coaching.escalate_after_days,
                     items=Raw(items)))
    if d.agreement is not None and d.agreement.labels:
        m = d.team_model or {}
        model = t("digest_feedback_model", lang, team=round(100 * m["team_acc"]), shipped=round(100 * m["shipped_acc"])) \
            if m.get("active") else ""
        out.append(t("digest_feedback", lang, days=d.agreement.days, n=d.agreement.labels,
                     pct=round(100 * d.agreement.rate), model=Raw(model)))
    parts = [tp("kpi_part", lang, label=tp(f"kpi_{m}", lang) if f"kpi_{m}" in TEXTS else m, pct=round(w * 100))
             for m, w in config.kpi.weights.items()]
    out.append(t("digest_legend", lang, kpi_parts=("、" if lang != "en" else ", ").join(parts)))
    return join_lines(out)


BEHIND_KPI_POINTS = 10  # "behind": at least this far below the team's average KPI


def story_text(config: Config, d: TeamDigest, lang: str) -> str:
    """「昨天 3 个新线索，2 个推进到方案报价，1 个丢单（价格）。」 and what is late, where it sticks."""
    story = d.story or Story()
    parts = []
    if story.new:
        parts.append(t("story_new", lang, n=story.new))
    moves = [(config.stage(k), n) for k, n in story.moved.items() if config.stage(k) is not None]
    for stage, n in sorted(moves, key=lambda sn: (-sn[1], config.stage_index(sn[0].id)))[:3]:
        parts.append(t("story_moved", lang, n=n, stage=(stage.name_en or stage.name) if lang == "en" else stage.name))
    if story.won:
        parts.append(t("story_won", lang, n=story.won))
    if story.lost:
        reasons = "、".join(lost_reason_label(config, r, lang) for r, _ in
                           sorted(story.lost_reasons.items(), key=lambda kv: -kv[1])[:3])
        parts.append(t("story_lost_why" if reasons else "story_lost", lang, n=story.lost, reasons=reasons))
    sep = ", " if lang == "en" else "，"
    lines = [t("story_yesterday", lang, parts=Raw(sep.join(parts))) if parts else t("story_quiet", lang)]
    if d.overdue_total and d.overdue_top:
        name, owner, days = d.overdue_top[0]
        lines.append(t("story_overdue", lang, n=d.overdue_total, name=name, owner=owner, days=days))
    b = d.funnel.bottleneck_stage
    if b:
        lines.append(t("story_bottleneck", lang, stage=b.label, stalled=b.stalled, current=b.current))
    active = sum(1 for r in d.yesterday.values() if r.total)
    if d.reps:
        lines.append(t("story_active", lang, active=active, total=len(d.reps)))
    return "\n" + "\n".join(lines)


def lost_reason_label(config: Config, reason: str, lang: str) -> str:
    """A lost reason as recorded; its label when the playbook lists reasons (``lost_reasons``)."""
    for item in getattr(config, "lost_reasons", None) or []:
        if getattr(item, "id", None) == reason:
            label = getattr(item, "label", reason)
            return (getattr(item, "label_en", None) or label) if lang == "en" else label
    return reason


def join_lines(lines: list[str], limit: int = 4000) -> str:
    """Whole lines up to Telegram's limit (each line's HTML is balanced, so cutting between lines is safe)."""
    kept, size = [], 0
    for line in lines:
        if size + len(line) + 1 > limit:
            kept.append("…")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def digest_buttons(d: TeamDigest, lang: str, limit: int = 3) -> list[list[dict]] | None:
    rows = []
    for kind, item_id, rep, points, what in d.pending[:limit]:
        from core.textfit import shorten
        label = shorten(f"{rep} {'+' if kind == 'points' else '-'}{points} {what}", 28)
        rows.append([inc.button(tp("btn_approve_short", lang, what=label), Approve(kind, item_id, 1).encode()),
                     inc.button(tp("btn_decline", lang), Approve(kind, item_id, 0).encode())])
    return rows or None


def funnel_chart(config: Config, f: Funnel, title: str, lang: str) -> bytes:
    from services import charts
    stages = [{"label": s.label, "reached": s.reached, "current": s.current, "stalled": s.stalled, "conversion": s.conversion}
              for s in f.stages]
    notes = {k: tp(f"funnel_{k}", lang) for k in ("reached", "current", "stalled", "bottleneck")}
    return charts.funnel_png(title, stages, f.bottleneck, notes)


def funnel_caption(config: Config, d: TeamDigest, team_name: str, lang: str) -> str:
    b = d.funnel.bottleneck_stage
    return t("digest_chart_caption", lang, team=team_name, date=_date(d.day, lang),
             bottleneck=t("digest_chart_bottleneck", lang, stage=b.label, stalled=b.stalled) if b else "")


def queue_digests(session: Session, core, team: Team, slot: datetime) -> int:
    """Queue each manager's digest (text + funnel chart) for the slot; returns messages queued."""
    config = core.config
    managers = inc.managers_of(session, team.id)
    if not managers:
        return 0
    count = 0
    built: dict[str, TeamDigest] = {}
    charts: dict[str, str] = {}
    day = inc.local_date(config, slot).isoformat()
    for manager in managers:
        lang = manager.language
        d = built.get(lang) or build(session, config, team.id, slot, lang)
        built[lang] = d
        payload: dict = {"text": digest_text(config, d, team.name, lang)}
        buttons = None if d.nothing_new else digest_buttons(d, lang)
        if config.console.public_url:  # "打开看板": the console as a Mini App
            buttons = (buttons or []) + [[{"text": tp("open_console", lang), "web_app": {"url": config.console.public_url}}]]
        if buttons:
            payload["reply_markup"] = {"inline_keyboard": buttons}
        if outbox.enqueue(session, manager.tg_id, "digest", payload, f"digest:{manager.id}:{day}", core.clock.now()):
            count += 1
        if d.nothing_new:
            continue
        if lang not in charts:
            png = funnel_chart(config, d.funnel, tp("digest_chart_title", lang, team=team.name), lang)
            charts[lang] = base64.b64encode(png).decode()
        chart = {"photo_b64": charts[lang], "caption": funnel_caption(config, d, team.name, lang)}
        if outbox.enqueue(session, manager.tg_id, "digest", chart, f"digest-chart:{manager.id}:{day}", core.clock.now()):
            count += 1
    return count


# --- the rep's own line in the morning brief --------------------------------------------------------

def rep_line(session: Session, config: Config, user: User, now: datetime) -> str:
    """The rep's own numbers from the digest, one line (managers get the full digest instead)."""
    if user.role != "rep" or user.team_id is None:
        return ""
    return rep_lines(session, config, user.team_id, [user], now).get(user.id, "")


def rep_lines(session: Session, config: Config, team_id: int, users: list[User], now: datetime,
              narrow: bool = False) -> dict[int, str]:
    """Every rep's brief line for one team in a few set-based queries (the brief fan-out calls this once
    per batch of reps, ``narrow``: each query reads only those reps' index ranges)."""
    reps = [u for u in users if u.role == "rep"]
    if not reps:
        return {}
    y_start, y_end = inc.day_bounds(config, now, days_back=1)
    k_start, k_end = inc.kpi_window(config, now)
    stats = inc.rep_stats(session, config, team_id, k_start, k_end, now, users=reps, narrow=narrow)
    ids = [u.id for u in reps]
    kinds_by_user: dict[int, dict[str, int]] = {uid: {} for uid in ids}
    kinds_by_user.update(yesterday_activity(session, ids, y_start, y_end, config, now))
    lines = {}
    for user in reps:
        s = stats[user.id]
        kpi = inc.kpi_score(config, s)
        kinds = kinds_by_user[user.id]
        if not kinds:
            lines[user.id] = t("rep_line_quiet", user.language, kpi=f"{kpi:.0f}", compliance=_pct(s.compliance), overdue=s.overdue)
        else:
            lines[user.id] = t("rep_line", user.language, kinds=kinds_text(kinds, user.language), kpi=f"{kpi:.0f}",
                               compliance=_pct(s.compliance), overdue=s.overdue)
    return lines