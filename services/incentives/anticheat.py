"""Anti-cheating: the evidence rule checked before an award, the screens run after it (bursts,
copy-pasted notes), the flags a manager decides, and the approval of large awards."""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from core.callbacks import Approve, FlagDecision
from core.config import Config
from core.texts import t, tp
from services import points as points_svc
from services.incentives.common import (SYSTEM_ACTIONS, Decision, _may_decide, action_label, button, checklist_item,
                                        customer_of_evidence, managers_of, notify)
from services.incentives.meetings import has_cross_department_meeting
from storage.models import Activity, PointsEntry, User
from storage.models_incentives import AntiCheatFlag, Redemption
from storage.rows import run_core, transition


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
    item = checklist_item(config, item_id)
    if item is None:
        return True
    from services.cleaning import field_value, is_junk
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


_P, _A = PointsEntry.__table__.c, Activity.__table__.c
# The screens' reads, built once (they run after every award).
_BURST = core_select(_P.id).where(_P.user_id == bindparam("uid"), _P.at >= bindparam("since"), _P.at <= bindparam("now"),
                                  _P.status.in_(("awarded", "pending")), _P.points > 0,
                                  ~_P.action.startswith("milestone:"))
_RECENT_NOTES = core_select(_A.id, _A.customer_id, _A.text).where(
    _A.user_id == bindparam("uid"), _A.at >= bindparam("since"), _A.kind.in_(("followup", "note")))


def screen_burst(session: Session, config: Config, user: User, now: datetime) -> AntiCheatFlag | None:
    """Many point-earning actions within a few seconds look mechanical: flag them for the manager."""
    ac = config.anticheat
    since = now - timedelta(seconds=ac.burst_window_seconds)
    ids = list(run_core(session, _BURST, {"uid": user.id, "since": since, "now": now}).scalars())
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
    rows = list(run_core(session, _RECENT_NOTES, {"uid": user.id, "since": since}))
    same = [(aid, cid) for aid, cid, other in rows if _norm_text(other) == text]
    if len({cid for _, cid in same}) < ac.copy_paste_repeats:
        return None
    entry_ids = list(session.exec(select(PointsEntry.id).where(
        PointsEntry.evidence_type == "activity", PointsEntry.evidence_id.in_([aid for aid, _ in same]),
        PointsEntry.status.in_(("awarded", "pending")))))
    fingerprint = hashlib.sha1(text.encode()).hexdigest()[:16]
    return _raise_flag(session, config, user, "copy_paste", fingerprint, entry_ids, text[:60], since, now)


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
