"""The points ledger: every award is a row tied to its evidence; reversals are rows too.

Balances are derived (SUM of rows with status awarded/reversal/redeemed), never edited.
The ledger knows only its own rules (once per evidence, per-action daily caps, approval above a
threshold); services.incentives.award adds the evidence rules and the anti-cheating screens on top,
so this module imports nothing of the incentives.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, func
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from core.config import Config
from storage.models import PointsEntry, User
from storage.rows import run_core

COUNTED = ("awarded", "reversal", "redeemed")  # the balance; "redeemed" rows are reward deductions
EARNED = ("awarded", "reversal")  # what leaderboards and targets count (spending never lowers a rank)


_P = PointsEntry.__table__.c
_LIVE = _P.status.in_(("awarded", "pending"))
# Both of the ledger's rules in one statement built once: has this evidence earned the action, and how
# many times was the action awarded in the last 24 hours.
_MAY_RECORD = core_select(
    core_select(_P.id).where(_P.user_id == bindparam("uid"), _P.action == bindparam("action"),
                             _P.evidence_type == bindparam("etype"), _P.evidence_id == bindparam("eid"), _LIVE)
    .limit(1).scalar_subquery(),
    core_select(func.count()).select_from(PointsEntry.__table__)
    .where(_P.user_id == bindparam("uid"), _P.action == bindparam("action"), _LIVE, _P.at >= bindparam("start"))
    .scalar_subquery())


def may_record(session: Session, user: User, action: str, config: Config, now: datetime,
               evidence_type: str = "", evidence_id: int | None = None) -> bool:
    """The ledger's own rules: the same evidence earns an action once, and each action has a daily cap."""
    already, today = run_core(session, _MAY_RECORD, {
        "uid": user.id, "action": action, "etype": evidence_type, "eid": evidence_id,
        "start": now - timedelta(hours=24)}).one()
    if evidence_id is not None and already is not None:
        return False
    return today < daily_cap(config, action)


def record(session: Session, user: User, action: str, points: int, config: Config, now: datetime, *,
           evidence_type: str = "", evidence_id: int | None = None, note: str = "",
           checked: bool = False) -> PointsEntry | None:
    """Write an award row unless the evidence already earned it or today's cap is reached (``checked``:
    the caller has just asked ``may_record``). Awards at or above the approval threshold are stored as
    ``pending`` and count only once a manager approves them.

    This is the ledger only: awards for a rep's work go through ``services.incentives.award``, which
    adds the evidence rule and the anti-cheating screens.
    """
    if points <= 0:
        return None
    if not checked and not may_record(session, user, action, config, now, evidence_type, evidence_id):
        return None
    needs_approval = points >= config.points.approval_threshold or action in config.anticheat.approval_actions
    status = "pending" if needs_approval else "awarded"
    entry = PointsEntry(user_id=user.id, team_id=user.team_id, action=action, points=points, status=status,
                        evidence_type=evidence_type, evidence_id=evidence_id, note=note, at=now)
    session.add(entry)
    session.flush()
    return entry


def daily_cap(config: Config, action: str) -> int:
    return config.anticheat.daily_caps.get(action, config.points.daily_cap_per_action)


def balance(session: Session, user_id: int) -> int:
    total = session.exec(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
        PointsEntry.user_id == user_id, PointsEntry.status.in_(COUNTED))).one()
    return int(total)


def reverse_for_evidence(session: Session, evidence_type: str, evidence_ids: list[int], now: datetime,
                         note: str) -> list[PointsEntry]:
    """Claw back awards tied to evidence later found duplicate/invalid/flagged: add reversal rows."""
    if not evidence_ids:
        return []
    return _reverse(session, select(PointsEntry).where(
        PointsEntry.evidence_type == evidence_type, PointsEntry.evidence_id.in_(evidence_ids)), now, note)


def reverse_entries(session: Session, entry_ids: list[int], now: datetime, note: str) -> list[PointsEntry]:
    """Claw back specific ledger rows (e.g. those in a flagged burst): pending → rejected, awarded → reversal row."""
    if not entry_ids:
        return []
    return _reverse(session, select(PointsEntry).where(PointsEntry.id.in_(entry_ids)), now, note)


def _reverse(session: Session, query, now: datetime, note: str) -> list[PointsEntry]:
    """Pending awards become rejected; awarded ones get one reversal row each (never two)."""
    entries = list(session.exec(query.where(PointsEntry.status.in_(("awarded", "pending")))))
    reversals = []
    for entry in entries:
        if entry.status == "pending":
            entry.status = "rejected"
            session.add(entry)
            continue
        if session.exec(select(PointsEntry.id).where(PointsEntry.reverses_id == entry.id)).first():
            continue
        rev = PointsEntry(user_id=entry.user_id, team_id=entry.team_id, action=entry.action, points=-entry.points,
                          status="reversal", evidence_type=entry.evidence_type, evidence_id=entry.evidence_id,
                          reverses_id=entry.id, note=note, at=now)
        session.add(rev)
        reversals.append(rev)
    session.flush()
    return reversals
