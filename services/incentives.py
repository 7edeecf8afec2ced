"""Incentives: anti-cheating, approvals, rewards, honors, milestones, compliance, KPI and the ability profile.

Points come only from evidence (services.points calls ``evidence_ok`` before and ``after_award``
after every award).  Per-rep numbers are computed for a whole team at once with GROUP BY
aggregates (``rep_stats``), never with one query per rep, so the digest and the leaderboard stay
fast on large teams.  No Telegram types here: notifications go to the outbox as plain payloads.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import func
from sqlmodel import Session, select

from core.callbacks import Approve, FlagDecision
from core.config import Config, Dimension, HonorFormula
from core.texts import t, tp
from services import outbox
from services import points as points_svc
from services.rep_stats import (RepStats, _ComplianceFigures, _pct, day_bounds, local_date,  # noqa: F401  (callers use inc.*)
                                period_bounds, rep_stats, rep_stats_many, team_users)
from storage.models import Activity, ChecklistDone, Customer, PointsEntry, StageChange, User
from storage.models_incentives import AntiCheatFlag, Honor, QualityDay, Redemption
from storage.rows import locked, transition

SYSTEM_ACTIONS = ("milestone:", "redeem:")


# --- small helpers ------------------------------------------------------------------------------

def managers_of(session: Session, team_id: int | None) -> list[User]:
    from services.users import managers_of as _managers
    return _managers(session, team_id) if team_id else []


def button(text: str, data: str) -> dict[str, str]:
    return {"text": text, "callback_data": data}


def notify(session: Session, user: User, text: str, key: str, now: datetime, buttons: list[list[dict]] | None = None,
           kind: str = "notice") -> None:
    """Queue a private message (HTML ``text``) for ``user``; ``key`` makes it idempotent."""
    if not user.active:
        return
    payload: dict[str, Any] = {"text": text}
    if buttons:
        payload["reply_markup"] = {"inline_keyboard": buttons}
    outbox.enqueue(session, user.tg_id, kind, payload, key, now)


# --- evidence rules (before an award) ----------------------------------------------------------

def customer_of_evidence(session: Session, evidence_type: str, evidence_id: int | None) -> Customer | None:
    if evidence_id is None:
        return None
    if evidence_type == "customer":
        return session.get(Customer, evidence_id)
    if evidence_type == "activity":
        row = session.get(Activity, evidence_id)
        return session.get(Customer, row.customer_id) if row else None
    if evidence_type == "checklist":
        row = session.get(ChecklistDone, evidence_id)
        return session.get(Customer, row.customer_id) if row else None
    return None


def _item(config: Config, item_id: str):
    return next((i for s in config.stages for i in s.checklist if i.id == item_id), None)


def evidence_ok(session: Session, config: Config, user: User, action: str, evidence_type: str,
                evidence_id: int | None, now: datetime) -> bool:
    """Points only for evidence that meets its rule; a failed rule explains itself to the rep."""
    if action.startswith(SYSTEM_ACTIONS):
        return True
    customer = customer_of_evidence(session, evidence_type, evidence_id)
    if customer is not None and customer.invalid:
        return False  # a fake or duplicate lead earns nothing
    if not action.startswith("item:") or customer is None:
        return True
    item_id = action.split(":", 1)[1]
    item = _item(config, item_id)
    if item is None:
        return True
    from services.quality import field_value, is_junk
    for name in item.requires_fields:
        value = field_value(customer, name)
        if value in (None, "", []) or (isinstance(value, str) and is_junk(value, config)):
            return False
    if item_id in config.anticheat.cross_department_items and not has_cross_department_meeting(session, config, customer.id):
        text = t("evidence_meeting_needed", user.language, item=item.text_en if user.language == "en" and item.text_en else item.text,
                 name=customer.name, dept=config.anticheat.own_department)
        notify(session, user, text, f"evidence:{action}:{evidence_type}:{evidence_id}", now)
        return False
    return True


# --- cross-department meetings (/meeting) -------------------------------------------------------

_ATTENDEE = re.compile(r"^\s*([^/（(]+?)\s*(?:[/（(]\s*([^)）]+?)\s*[)）]?)?\s*$")


def parse_attendees(text: str) -> list[dict[str, str]]:
    """'张工/技术部 李经理(财务部)' → [{'name': '张工', 'department': '技术部'}, …]."""
    people = []
    for chunk in re.split(r"[,，、;；\s]+", text.strip()):
        if not chunk:
            continue
        match = _ATTENDEE.match(chunk)
        if match:
            people.append({"name": match.group(1)[:30], "department": (match.group(2) or "")[:30]})
    return people[:20]


def is_cross_department(config: Config, attendees: Iterable[dict[str, str]]) -> bool:
    own = config.anticheat.own_department.strip()
    return any(a.get("department") and a["department"].strip() != own for a in attendees)


def has_cross_department_meeting(session: Session, config: Config, customer_id: int) -> bool:
    rows = session.exec(select(Activity.data).where(Activity.customer_id == customer_id, Activity.kind == "meeting"))
    return any(is_cross_department(config, (data or {}).get("attendees", [])) for data in rows)


@dataclass
class MeetingResult:
    activity: Activity
    cross_department: bool
    points: int = 0


def record_meeting(session: Session, config: Config, user: User, customer: Customer, attendees: list[dict[str, str]],
                   now: datetime, note: str = "") -> MeetingResult:
    """Record a meeting and its attendees; a cross-department one releases the withheld checklist points."""
    customer = locked(session, Customer, Customer.id == customer.id)  # two people recording at once release the withheld points once
    activity = Activity(customer_id=customer.id, user_id=user.id, kind="meeting", text=note[:500], at=now,
                        data={"attendees": attendees})
    session.add(activity)
    customer.updated_at = now
    session.add(customer)
    session.flush()
    result = MeetingResult(activity, is_cross_department(config, attendees))
    if not result.cross_department:
        return result
    done_rows = session.exec(select(ChecklistDone).where(
        ChecklistDone.customer_id == customer.id,
        ChecklistDone.item_id.in_(config.anticheat.cross_department_items)))
    for done in done_rows:
        item = _item(config, done.item_id)
        doer = session.get(User, done.user_id) if done.user_id else None
        if item is None or doer is None:
            continue
        entry = points_svc.award(session, doer, f"item:{item.id}", item.points, config, now,
                                 evidence_type="checklist", evidence_id=done.id, note="meeting evidence")
        if entry is not None and doer.id == user.id:
            result.points += entry.points
    return result


# --- screening (after an award) ------------------------------------------------------------------

def after_award(session: Session, config: Config, user: User, entry: PointsEntry, now: datetime) -> None:
    if entry.action.startswith(SYSTEM_ACTIONS):
        if entry.status == "pending":
            request_approval(session, config, user, entry, now)
        return
    if entry.status == "pending":
        request_approval(session, config, user, entry, now)
    screen_burst(session, config, user, now)
    if entry.evidence_type == "activity" and entry.evidence_id is not None:
        screen_copy_paste(session, config, user, entry.evidence_id, now)
    check_milestones(session, config, user, entry, now)


def action_label(config: Config, action: str, lang: str) -> str:
    kind, _, arg = action.partition(":")
    if kind == "item":
        item = _item(config, arg)
        if item:
            return (item.text_en or item.text) if lang == "en" else item.text
    if kind == "stage":
        stage = config.stage(arg)
        if stage:
            return t("action_stage", lang, stage=(stage.name_en or stage.name) if lang == "en" else stage.name)
    if kind == "milestone":
        m = next((m for m in config.milestones if m.id == arg), None)
        if m:
            return (m.label_en or m.label) if lang == "en" else m.label
    if kind == "redeem":
        r = next((r for r in config.rewards if r.id == arg), None)
        if r:
            return (r.name_en or r.name) if lang == "en" else r.name
    key = f"action_{action}"
    from core.texts import TEXTS
    return t(key, lang) if key in TEXTS else action


def request_approval(session: Session, config: Config, user: User, entry: PointsEntry, now: datetime) -> None:
    customer = customer_of_evidence(session, entry.evidence_type, entry.evidence_id)
    for manager in managers_of(session, user.team_id):
        lang = manager.language
        text = t("approval_request", lang, rep=user.name, points=entry.points, action=action_label(config, entry.action, lang),
                 customer=customer.name if customer else "—")
        buttons = [[button(tp("btn_approve", lang), Approve("points", entry.id, 1).encode()),
                    button(tp("btn_decline", lang), Approve("points", entry.id, 0).encode())]]
        notify(session, manager, text, f"approve:points:{entry.id}:{manager.id}", now, buttons)


def _raise_flag(session: Session, config: Config, user: User, kind: str, fingerprint: str, entry_ids: list[int],
                detail: str, since: datetime, now: datetime) -> AntiCheatFlag | None:
    """One flag per pattern: a later action in the same pattern joins the open flag instead of a new one."""
    existing = session.exec(select(AntiCheatFlag).where(
        AntiCheatFlag.user_id == user.id, AntiCheatFlag.kind == kind, AntiCheatFlag.fingerprint == fingerprint,
        AntiCheatFlag.at >= since)).first()
    if existing is None and kind == "burst":
        existing = session.exec(select(AntiCheatFlag).where(
            AntiCheatFlag.user_id == user.id, AntiCheatFlag.kind == "burst", AntiCheatFlag.status == "open",
            AntiCheatFlag.at >= since)).first()
    if existing is not None:
        merged = sorted(set(existing.entry_ids or []) | set(entry_ids))
        if merged != sorted(existing.entry_ids or []):
            existing.entry_ids = merged
            session.add(existing)
        return None
    flag = AntiCheatFlag(user_id=user.id, team_id=user.team_id, kind=kind, fingerprint=fingerprint,
                         entry_ids=sorted(set(entry_ids)), detail=detail[:300], at=now)
    session.add(flag)
    session.flush()
    for manager in managers_of(session, user.team_id):
        lang = manager.language
        text = t(f"flag_{kind}", lang, rep=user.name, n=len(flag.entry_ids), detail=detail[:120],
                 seconds=config.anticheat.burst_window_seconds)
        buttons = [[button(tp("btn_flag_clear", lang), FlagDecision(flag.id, "clear").encode()),
                    button(tp("btn_flag_revoke", lang), FlagDecision(flag.id, "revoke").encode())]]
        notify(session, manager, text, f"flag:{flag.id}:{manager.id}", now, buttons)
    return flag


def screen_burst(session: Session, config: Config, user: User, now: datetime) -> AntiCheatFlag | None:
    """Many point-earning actions within a few seconds look mechanical: flag them for the manager."""
    ac = config.anticheat
    since = now - timedelta(seconds=ac.burst_window_seconds)
    ids = list(session.exec(select(PointsEntry.id).where(
        PointsEntry.user_id == user.id, PointsEntry.at >= since, PointsEntry.at <= now,
        PointsEntry.status.in_(("awarded", "pending")), PointsEntry.points > 0,
        ~PointsEntry.action.startswith("milestone:"))))
    if len(ids) < ac.burst_max_actions:
        return None
    return _raise_flag(session, config, user, "burst", "burst", ids, f"{len(ids)}", since, now)


def _norm_text(text: str) -> str:
    return re.sub(r"\s+", " ", (text or "").strip())


def screen_copy_paste(session: Session, config: Config, user: User, activity_id: int, now: datetime) -> AntiCheatFlag | None:
    """The same note on several different customers within the window: flag it."""
    ac = config.anticheat
    activity = session.get(Activity, activity_id)
    if activity is None:
        return None
    text = _norm_text(activity.text)
    if len(text) < ac.copy_paste_min_chars:
        return None
    since = now - timedelta(hours=ac.copy_paste_window_hours)
    rows = list(session.exec(select(Activity.id, Activity.customer_id, Activity.text).where(
        Activity.user_id == user.id, Activity.at >= since, Activity.kind.in_(("followup", "note")))))
    same = [(aid, cid) for aid, cid, other in rows if _norm_text(other) == text]
    if len({cid for _, cid in same}) < ac.copy_paste_repeats:
        return None
    entry_ids = list(session.exec(select(PointsEntry.id).where(
        PointsEntry.evidence_type == "activity", PointsEntry.evidence_id.in_([aid for aid, _ in same]),
        PointsEntry.status.in_(("awarded", "pending")))))
    fingerprint = hashlib.sha1(text.encode()).hexdigest()[:16]
    return _raise_flag(session, config, user, "copy_paste", fingerprint, entry_ids, text[:60], since, now)


@dataclass
class Decision:
    status: str  # done | already | forbidden | missing | insufficient
    subject: Any = None
    owner: User | None = None


def _may_decide(manager: User, team_id: int | None) -> bool:
    return manager.role == "admin" or (manager.role == "manager" and manager.team_id == team_id)


def decide_flag(session: Session, config: Config, manager: User, flag_id: int, action: str, now: datetime) -> Decision:
    flag = session.get(AntiCheatFlag, flag_id)
    if flag is None:
        return Decision("missing")
    if not _may_decide(manager, flag.team_id):
        return Decision("forbidden")
    owner = session.get(User, flag.user_id)
    if flag.status != "open":
        return Decision("already", flag, owner)
    if not transition(session, flag, "status", "open", status="revoked" if action == "revoke" else "cleared",
                      decided_at=now, decided_by=manager.id):
        return Decision("already", flag, owner)
    if action == "revoke":
        points_svc.reverse_entries(session, list(flag.entry_ids or []), now, f"flag {flag.id} ({flag.kind})")
        if owner:
            notify(session, owner, t("flag_revoked_rep", owner.language, kind=t(f"flag_kind_{flag.kind}", owner.language)),
                   f"flagrev:{flag.id}", now)
    session.flush()
    return Decision("done", flag, owner)


# --- approvals ----------------------------------------------------------------------------------

def decide_award(session: Session, config: Config, manager: User, entry_id: int, approve: bool, now: datetime) -> Decision:
    entry = session.get(PointsEntry, entry_id)
    if entry is None:
        return Decision("missing")
    if not _may_decide(manager, entry.team_id):
        return Decision("forbidden")
    owner = session.get(User, entry.user_id)
    if entry.status != "pending":
        return Decision("already", entry, owner)
    # A guarded UPDATE: two taps (or two managers) at once decide it only once.
    note = (entry.note + f" {'approved' if approve else 'declined'} by {manager.id}").strip()[:300]
    if not transition(session, entry, "status", "pending", status="awarded" if approve else "rejected", note=note):
        return Decision("already", entry, owner)
    if owner:
        key = "award_approved_rep" if approve else "award_declined_rep"
        notify(session, owner, t(key, owner.language, points=entry.points, action=action_label(config, entry.action, owner.language)),
               f"approved:{entry.id}", now)
    return Decision("done", entry, owner)


def pending_awards(session: Session, team_id: int, limit: int | None = None) -> list[PointsEntry]:
    query = (select(PointsEntry).where(PointsEntry.team_id == team_id, PointsEntry.status == "pending")
             .order_by(PointsEntry.at, PointsEntry.id))
    return list(session.exec(query.limit(limit) if limit else query))


def pending_redemptions(session: Session, team_id: int, limit: int | None = None) -> list[Redemption]:
    query = (select(Redemption).where(Redemption.team_id == team_id, Redemption.status == "requested")
             .order_by(Redemption.requested_at, Redemption.id))
    return list(session.exec(query.limit(limit) if limit else query))


def pending_count(session: Session, team_id: int) -> int:
    awards = session.exec(select(func.count()).select_from(PointsEntry).where(
        PointsEntry.team_id == team_id, PointsEntry.status == "pending")).one()
    redemptions = session.exec(select(func.count()).select_from(Redemption).where(
        Redemption.team_id == team_id, Redemption.status == "requested")).one()
    return int(awards) + int(redemptions)


# --- rewards ------------------------------------------------------------------------------------

@dataclass
class ShopView:
    balance: int
    reserved: int  # points in requests waiting for the manager
    rewards: list
    requests: list[Redemption]

    @property
    def available(self) -> int:
        return self.balance - self.reserved


def shop_view(session: Session, config: Config, user: User) -> ShopView:
    requests = list(session.exec(select(Redemption).where(Redemption.user_id == user.id)
                                 .order_by(Redemption.requested_at.desc(), Redemption.id.desc()).limit(5)))
    reserved = session.exec(select(func.coalesce(func.sum(Redemption.price), 0)).where(
        Redemption.user_id == user.id, Redemption.status == "requested")).one()
    return ShopView(points_svc.balance(session, user.id), int(reserved), list(config.rewards), requests)


def request_redemption(session: Session, config: Config, user: User, reward_id: str, now: datetime) -> Decision:
    reward = next((r for r in config.rewards if r.id == reward_id), None)
    if reward is None or user.team_id is None:
        return Decision("missing")
    view = shop_view(session, config, user)
    if view.available < reward.price:
        return Decision("insufficient", view)
    redemption = Redemption(user_id=user.id, team_id=user.team_id, reward_id=reward.id, reward_name=reward.name,
                            price=reward.price, requested_at=now)
    session.add(redemption)
    session.flush()
    for manager in managers_of(session, user.team_id):
        lang = manager.language
        text = t("redeem_request", lang, rep=user.name, reward=(reward.name_en or reward.name) if lang == "en" else reward.name,
                 price=reward.price, balance=view.balance)
        buttons = [[button(tp("btn_approve", lang), Approve("redeem", redemption.id, 1).encode()),
                    button(tp("btn_decline", lang), Approve("redeem", redemption.id, 0).encode())]]
        notify(session, manager, text, f"approve:redeem:{redemption.id}:{manager.id}", now, buttons)
    return Decision("done", redemption, user)


def decide_redemption(session: Session, config: Config, manager: User, redemption_id: int, approve: bool,
                      now: datetime) -> Decision:
    redemption = session.get(Redemption, redemption_id)
    if redemption is None:
        return Decision("missing")
    if not _may_decide(manager, redemption.team_id):
        return Decision("forbidden")
    # The rep's row is locked: two managers approving two of one rep's requests at once would both
    # pass the balance check; the second now waits and sees the first's deduction.
    owner = locked(session, User, User.id == redemption.user_id)
    if redemption.status != "requested":
        return Decision("already", redemption, owner)
    if approve and points_svc.balance(session, redemption.user_id) < redemption.price:
        return Decision("insufficient", redemption, owner)
    if not transition(session, redemption, "status", "requested", status="approved" if approve else "declined",
                      decided_at=now, decided_by=manager.id):
        return Decision("already", redemption, owner)  # decided by a concurrent tap: never deduct twice
    if approve:
        entry = PointsEntry(user_id=redemption.user_id, team_id=redemption.team_id, action=f"redeem:{redemption.reward_id}",
                            points=-redemption.price, status="redeemed", evidence_type="redemption",
                            evidence_id=redemption.id, note=redemption.reward_name, at=now)
        session.add(entry)
        session.flush()
        redemption.entry_id = entry.id
    session.add(redemption)
    session.flush()
    if owner:
        key = "redeem_approved_rep" if approve else "redeem_declined_rep"
        notify(session, owner, t(key, owner.language, reward=redemption.reward_name, price=redemption.price,
                                 balance=points_svc.balance(session, owner.id)), f"redeemed:{redemption.id}", now)
    return Decision("done", redemption, owner)


# --- duplicate / invalid leads ------------------------------------------------------------------

def evidence_of_customer(session: Session, customer_id: int) -> dict[str, list[int]]:
    return {
        "customer": [customer_id],
        "activity": list(session.exec(select(Activity.id).where(Activity.customer_id == customer_id))),
        "checklist": list(session.exec(select(ChecklistDone.id).where(ChecklistDone.customer_id == customer_id))),
    }


def revoke_for_customer(session: Session, customer: Customer, now: datetime, note: str) -> list[PointsEntry]:
    """Claw back every award the record earned (its own, its activities', its checklist items')."""
    reversals: list[PointsEntry] = []
    for evidence_type, ids in evidence_of_customer(session, customer.id).items():
        reversals += points_svc.reverse_for_evidence(session, evidence_type, ids, now, note)
    return reversals


def revoke_lead(session: Session, config: Config, customer: Customer, now: datetime, reason: str,
                actor: User | None = None, notify_owner: bool = True) -> list[PointsEntry]:
    """A lead later found duplicate or invalid: it leaves every list and its points are revoked."""
    customer.invalid = True
    customer.updated_at = now
    session.add(customer)
    session.add(Activity(customer_id=customer.id, user_id=actor.id if actor else None, kind="invalid", text=reason[:200],
                         at=now, data={"reason": reason}))
    session.flush()
    reversals = revoke_for_customer(session, customer, now, f"lead invalid: {reason}")
    owner = session.get(User, customer.owner_id) if customer.owner_id else None
    if owner is not None and notify_owner:
        lost = -sum(r.points for r in reversals)
        notify(session, owner, t("lead_revoked_rep", owner.language, name=customer.name, reason=reason, points=lost),
               f"leadrev:{customer.id}", now)
    return reversals


# --- milestones ---------------------------------------------------------------------------------

def check_milestones(session: Session, config: Config, user: User, entry: PointsEntry, now: datetime) -> list[PointsEntry]:
    awarded: list[PointsEntry] = []
    wanted = {m.metric for m in config.milestones}
    if not wanted:
        return awarded
    # The rep's row is locked first: an award of their own and one given to them by someone else
    # may be checked at the same moment, and the milestone is paid once.
    locked(session, User, User.id == user.id)
    done = set(session.exec(select(PointsEntry.action).where(
        PointsEntry.user_id == user.id, PointsEntry.action.startswith("milestone:"))))
    todo = [m for m in config.milestones if f"milestone:{m.id}" not in done and m.points > 0]
    if not todo:
        return awarded
    values: dict[str, int] = {}
    for metric in {m.metric for m in todo}:
        if metric == "deals_won":
            values[metric] = session.exec(select(func.count()).select_from(StageChange).where(
                StageChange.by_user_id == user.id, StageChange.to_stage == "won")).one()
        elif metric == "followups":
            values[metric] = session.exec(select(func.count()).select_from(Activity).where(
                Activity.user_id == user.id, Activity.kind == "followup")).one()
        else:
            values[metric] = int(session.exec(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
                PointsEntry.user_id == user.id, PointsEntry.status.in_(points_svc.EARNED))).one())
    for m in todo:
        if values.get(m.metric, 0) >= m.threshold:
            row = points_svc.award(session, user, f"milestone:{m.id}", m.points, config, now,
                                   evidence_type="milestone", evidence_id=user.id, note=m.label)
            if row is not None:
                awarded.append(row)
                notify(session, user, t("milestone_reached", user.language,
                                        label=(m.label_en or m.label) if user.language == "en" else m.label,
                                        points=m.points), f"milestone:{m.id}:{user.id}", now)
    return awarded


def kpi_window(config: Config, now: datetime) -> tuple[datetime, datetime]:
    _, end = day_bounds(config, now)
    return end - timedelta(days=config.kpi.window_days), end


def kpi_components(config: Config, s: RepStats) -> dict[str, float]:
    """Each KPI metric 0-100; a metric with nothing to measure yet counts 0."""
    return {
        "data_completeness": s.completeness,
        "compliance": s.compliance or 0.0,
        "target": s.target_pct(),
        "followup": s.followup_pct or 0.0,
    }


def kpi_score(config: Config, s: RepStats) -> float:
    parts = kpi_components(config, s)
    return round(sum(w * parts[m] for m, w in config.kpi.weights.items()), 1)


@dataclass
class TeamCompliance(_ComplianceFigures):
    items: int
    items_on_time: int
    moves: int
    moves_complete: int
    flags: int


def team_compliance(stats: dict[int, RepStats]) -> TeamCompliance:
    rows = stats.values()
    return TeamCompliance(sum(s.items for s in rows), sum(s.items_on_time for s in rows), sum(s.moves for s in rows),
                          sum(s.moves_complete for s in rows), sum(s.flags for s in rows))


# --- ability profile ------------------------------------------------------------------------------

def dimension_counts(session: Session, config: Config, team_id: int, start: datetime, end: datetime,
                     user_ids: list[int]) -> dict[int, dict[str, int]]:
    """Raw action counts per rep and count-dimension in the window (three GROUP BY queries)."""
    counts: dict[int, dict[str, int]] = {uid: {d.id: 0 for d in config.dimensions} for uid in user_ids}
    dims = [d for d in config.dimensions if d.metric == "count"]
    by_item = {i: [d.id for d in dims if i in d.items] for d in dims for i in d.items}
    by_stage = {s: [d.id for d in dims if s in d.stages] for d in dims for s in d.stages}
    by_kind = {k: [d.id for d in dims if k in d.activities] for d in dims for k in d.activities}
    if by_item:
        q = (select(ChecklistDone.user_id, ChecklistDone.item_id, func.count())
             .join(Customer, Customer.id == ChecklistDone.customer_id)
             .where(Customer.team_id == team_id, Customer.invalid == False, ChecklistDone.item_id.in_(list(by_item)),  # noqa: E712
                    ChecklistDone.user_id.in_(user_ids), ChecklistDone.at >= start, ChecklistDone.at < end)
             .group_by(ChecklistDone.user_id, ChecklistDone.item_id))
        for uid, item, n in session.execute(q):
            for dim in by_item.get(item, []):
                if uid in counts:
                    counts[uid][dim] += int(n)
    if by_stage:
        q = (select(StageChange.by_user_id, StageChange.to_stage, func.count())
             .join(Customer, Customer.id == StageChange.customer_id)
             .where(Customer.team_id == team_id, Customer.invalid == False, StageChange.to_stage.in_(list(by_stage)),  # noqa: E712
                    StageChange.by_user_id.in_(user_ids), StageChange.from_stage.is_not(None),
                    StageChange.at >= start, StageChange.at < end)
             .group_by(StageChange.by_user_id, StageChange.to_stage))
        for uid, stage, n in session.execute(q):
            for dim in by_stage.get(stage, []):
                if uid in counts:
                    counts[uid][dim] += int(n)
    if by_kind:
        q = (select(Activity.user_id, Activity.kind, func.count())
             .where(Activity.user_id.in_(user_ids), Activity.kind.in_(list(by_kind)), Activity.at >= start, Activity.at < end)
             .group_by(Activity.user_id, Activity.kind))
        for uid, kind, n in session.execute(q):
            for dim in by_kind.get(kind, []):
                if uid in counts:
                    counts[uid][dim] += int(n)
    return counts


def dimension_scores(config: Config, counts: dict[int, dict[str, int]], stats: dict[int, RepStats]) -> dict[int, dict[str, float]]:
    """0-100 per dimension: a count relative to the best rep of the team; completeness/compliance as is."""
    best = {d.id: max((c.get(d.id, 0) for c in counts.values()), default=0) for d in config.dimensions}
    scores: dict[int, dict[str, float]] = {}
    for uid, c in counts.items():
        s = stats.get(uid)
        row: dict[str, float] = {}
        for d in config.dimensions:
            if d.metric == "completeness":
                row[d.id] = s.completeness if s else 0.0
            elif d.metric == "compliance":
                row[d.id] = (s.compliance or 0.0) if s else 0.0
            else:
                row[d.id] = round(100.0 * c.get(d.id, 0) / best[d.id], 1) if best[d.id] else 0.0
        scores[uid] = row
    return scores


def weakest(config: Config, scores: dict[str, float]) -> Dimension:
    return min(config.dimensions, key=lambda d: (scores.get(d.id, 0.0), config.dimensions.index(d)))


@dataclass
class Profile:
    user: User
    balance: int
    stats: RepStats
    kpi: float
    kpi_parts: dict[str, float]
    scores: dict[str, float]
    team_avg: dict[str, float]
    weakest: Dimension
    honors: list[Honor]
    rank: Any = None  # services.boards.RankInfo
    pending_points: int = 0


def profile(session: Session, config: Config, user: User, now: datetime, with_rank: bool = True) -> Profile:
    """``with_rank=False`` skips computing the team's whole leaderboard (the console shows the board beside it)."""
    start, end = kpi_window(config, now)
    users = team_users(session, user.team_id)
    if user.id not in {u.id for u in users}:
        users.append(user)
    stats = rep_stats(session, config, user.team_id, start, end, now, users=users)
    counts = dimension_counts(session, config, user.team_id, start, end, list(stats))
    scores = dimension_scores(config, counts, stats)
    mine = scores[user.id]
    team_avg = {d.id: round(sum(s[d.id] for s in scores.values()) / len(scores), 1) for d in config.dimensions}
    honors = list(session.exec(select(Honor).where(Honor.user_id == user.id).order_by(Honor.at.desc()).limit(10)))
    pending = session.exec(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
        PointsEntry.user_id == user.id, PointsEntry.status == "pending")).one()
    from services import boards
    rank = boards.rank_of(session, config, user, now) if with_rank else None
    s = stats[user.id]
    return Profile(user=user, balance=points_svc.balance(session, user.id), stats=s, kpi=kpi_score(config, s),
                   kpi_parts=kpi_components(config, s), scores=mine, team_avg=team_avg, weakest=weakest(config, mine),
                   honors=honors, rank=rank, pending_points=int(pending))


# --- data quality: daily check and the weekly star -----------------------------------------------

def due_missing(config: Config, customer: Any, now: datetime) -> list[str]:
    """Required fields that should be filled by now: the first stage's, every passed stage's, and the
    current stage's once its expected time has run out."""
    from services.quality import field_value
    index = config.stage_index(customer.stage)
    if customer.status == "won":
        index = len(config.stages)
    wanted: list[str] = list(config.stages[0].required_fields)
    for i, stage in enumerate(config.stages):
        passed = i < index
        overdue = i == index and now - customer.stage_entered_at > timedelta(days=stage.expected_days)
        if passed or overdue:
            wanted += [f for f in stage.required_fields if f not in wanted]
    return [f for f in wanted if field_value(customer, f) in (None, "", [])]


def quality_snapshot(session: Session, config: Config, team_id: int, now: datetime) -> int:
    """Record today's data-quality check for every rep of the team (one row per rep per local day)."""
    day = local_date(config, now).isoformat()
    reps = team_users(session, team_id)
    if not reps:
        return 0
    per: dict[int, list[int]] = {u.id: [0, 0] for u in reps}
    customers = session.exec(select(Customer).where(
        Customer.team_id == team_id, Customer.status == "open", Customer.invalid == False,  # noqa: E712
        Customer.owner_id.in_(list(per))))
    for c in customers:
        per[c.owner_id][0] += 1
        if due_missing(config, c, now):
            per[c.owner_id][1] += 1
    existing = {row.user_id: row for row in session.exec(select(QualityDay).where(
        QualityDay.team_id == team_id, QualityDay.day == day))}
    for uid, (n, missing) in per.items():
        row = existing.get(uid) or QualityDay(user_id=uid, team_id=team_id, day=day, at=now)
        row.customers, row.missing, row.at = n, missing, now
        session.add(row)
    session.flush()
    return len(per)


def workdays_back(config: Config, today: date, n: int) -> list[date]:
    """The last ``n`` working days up to and including ``today`` (newest first)."""
    from core.config import WEEKDAYS
    days, d = [], today
    while len(days) < n and (today - d).days < 60:
        if WEEKDAYS[d.weekday()] in config.schedule.workdays:
            days.append(d)
        d -= timedelta(days=1)
    return days


def award_quality_stars(session: Session, config: Config, team_id: int, now: datetime) -> list[Honor]:
    """Weekly 数据质量之星: every rep whose last N working-day checks all found nothing missing."""
    today = local_date(config, now)
    days = [d.isoformat() for d in workdays_back(config, today, config.honors.quality_star_days)]
    iso = today.isocalendar()
    period = f"{iso.year}-W{iso.week:02d}"
    rows = session.exec(select(QualityDay.user_id, func.count(), func.sum(QualityDay.missing), func.sum(QualityDay.customers))
                        .where(QualityDay.team_id == team_id, QualityDay.day.in_(days)).group_by(QualityDay.user_id))
    winners = [uid for uid, n, missing, customers in rows
               if n == len(days) and not (missing or 0) and (customers or 0) > 0]
    return _grant(session, config, team_id, "quality_star", period, config.honors.quality_star_label,
                  [(uid, 100.0) for uid in winners], now)


def _grant(session: Session, config: Config, team_id: int, kind: str, period: str, label: str,
           winners: list[tuple[int, float]], now: datetime) -> list[Honor]:
    granted = []
    for uid, score in winners:
        exists = session.exec(select(Honor.id).where(Honor.team_id == team_id, Honor.kind == kind,
                                                     Honor.period == period, Honor.user_id == uid)).first()
        if exists:
            continue
        honor = Honor(user_id=uid, team_id=team_id, kind=kind, period=period, label=label, score=score, at=now)
        session.add(honor)
        granted.append(honor)
    session.flush()
    return granted


def honor_score(formula: HonorFormula, scores: dict[str, float], s: RepStats, config: Config) -> float:
    values = dict(scores)
    values.update({"compliance": s.compliance or 0.0, "kpi": kpi_score(config, s), "target": s.target_pct(),
                   "data_completeness": s.completeness})
    total = sum(formula.weights.values())
    return round(sum(w * values.get(m, 0.0) for m, w in formula.weights.items()) / total, 1)


def monthly_honors(session: Session, config: Config, team_id: int, month_start: datetime, month_end: datetime,
                   period: str, now: datetime) -> list[Honor]:
    """专业顾问 and 最佳协同 for a month, by the playbook's formulas; at most one winner each."""
    if session.exec(select(Honor.id).where(Honor.team_id == team_id, Honor.period == period,
                                           Honor.kind.in_(("advisor", "collaboration")))).first():
        return []
    stats = rep_stats(session, config, team_id, month_start, month_end, now)
    if not stats:
        return []
    counts = dimension_counts(session, config, team_id, month_start, month_end, list(stats))
    scores = dimension_scores(config, counts, stats)
    granted: list[Honor] = []
    for kind in ("advisor", "collaboration"):
        formula: HonorFormula = getattr(config.honors, kind)
        ranked = sorted(((honor_score(formula, scores[uid], stats[uid], config), stats[uid].points, -uid, uid)
                         for uid in stats), reverse=True)
        if ranked and ranked[0][0] >= formula.min_score and ranked[0][0] > 0:
            granted += _grant(session, config, team_id, kind, period, formula.label, [(ranked[0][3], ranked[0][0])], now)
    return granted


def honor_label(config: Config, honor: Honor, lang: str) -> str:
    if lang == "en":
        if honor.kind == "quality_star":
            return config.honors.quality_star_label_en or honor.label
        formula = getattr(config.honors, honor.kind, None)
        if formula is not None and formula.label_en:
            return formula.label_en
    return honor.label


# --- presentation of the profile (plain HTML and PNG; the handler only sends them) ----------------

def profile_caption(config: Config, p: Profile, lang: str) -> str:
    s = p.stats
    dims = " · ".join(f"{(d.name_en or d.name) if lang == 'en' else d.name} {p.scores.get(d.id, 0):.0f}" for d in config.dimensions)
    parts = " · ".join(f"{t('kpi_' + m, lang)} {p.kpi_parts[m]:.0f}" for m in config.kpi.weights)
    rank = ""
    if p.rank is not None:
        from services.boards import movement_text
        rank = t("me_rank", lang, group=p.rank.group, rank=p.rank.rank, size=p.rank.size, share=f"{p.rank.share:.0f}",
                 move=movement_text(p.rank.movement, lang))
    honors = ""
    if p.honors:
        honors = t("me_honors", lang, items="、".join(f"{honor_label(config, h, lang)}（{h.period}）" for h in p.honors[:5]))
    weak = p.weakest
    hint = (weak.hint_en or weak.hint) if lang == "en" else weak.hint
    from core.texts import Raw
    return t("me_caption", lang, name=p.user.name, balance=p.balance,
             pending=Raw(t("me_pending", lang, n=p.pending_points)) if p.pending_points else "",
             days=s.window_days, earned=s.points, rank=Raw(rank), kpi=f"{p.kpi:.0f}", kpi_parts=parts,
             compliance="—" if s.compliance is None else f"{s.compliance:.0f}%",
             items="—" if s.items_pct is None else f"{s.items_pct:.0f}%",
             moves="—" if s.moves_pct is None else f"{s.moves_pct:.0f}%",
             flags=Raw(t("me_flags", lang, n=s.flags)) if s.flags else "", dims=dims, honors=Raw(honors),
             weak=(weak.name_en or weak.name) if lang == "en" else weak.name, hint=hint)


def profile_radar(config: Config, p: Profile, lang: str) -> bytes:
    from services import charts
    labels = [(d.name_en or d.name) if lang == "en" else d.name for d in config.dimensions]
    return charts.radar_png(tp("radar_title", lang, name=p.user.name), labels,
                            [p.scores.get(d.id, 0.0) for d in config.dimensions],
                            [p.team_avg.get(d.id, 0.0) for d in config.dimensions],
                            (tp("radar_me", lang), tp("radar_team", lang)),
                            highlight=config.dimensions.index(p.weakest))
