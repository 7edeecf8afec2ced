"""The audit trail of access-relevant actions (issue 11): who did what to whom, when.

Written in the same transaction as the action it records, so a rolled-back action leaves no
entry and a committed one always has its entry.  Admins see every team's trail; a manager sees
the entries of their own team on either side (their members' actions, and other teams' lookups
that found their customers).
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, select

from storage.models import Team, User
from storage.models_team import AuditEvent

KINDS = ("invite_created", "invite_redeemed", "invite_refused", "role_changed", "team_changed", "deactivated",
         "reactivated", "handover", "lookup", "export")


def record(session: Session, kind: str, now: datetime, *, actor: Any = None, subject: Any = None,
           team_id: int | None = None, other_team_id: int | None = None, **detail: Any) -> AuditEvent:
    """Add one entry; ``actor``/``subject`` are users (or None for the CLI and the system)."""
    assert kind in KINDS, kind
    event = AuditEvent(at=now, kind=kind, actor_id=getattr(actor, "id", None), subject_id=getattr(subject, "id", None),
                       team_id=team_id if team_id is not None else getattr(actor, "team_id", None),
                       other_team_id=other_team_id, detail=detail)
    session.add(event)
    session.flush()
    return event


def count_recent(session: Session, actor_id: int, kind: str, now: datetime, window: timedelta) -> int:
    return session.exec(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.actor_id == actor_id, AuditEvent.kind == kind, AuditEvent.at > now - window)).one()


def _visible(query, viewer: User | None):
    if viewer is None or viewer.role == "admin":
        return query
    return query.where(or_(AuditEvent.team_id == viewer.team_id, AuditEvent.other_team_id == viewer.team_id))


def events(session: Session, viewer: User | None, *, limit: int = 20, offset: int = 0,
           kind: str | None = None) -> tuple[list[AuditEvent], int]:
    """The newest entries this viewer may see (None: the CLI, everything)."""
    query = _visible(select(AuditEvent), viewer)
    if kind:
        query = query.where(AuditEvent.kind == kind)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = list(session.exec(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).offset(offset).limit(limit)))
    return rows, total


def names(session: Session, rows: list[AuditEvent]) -> tuple[dict[int, str], dict[int, str]]:
    """People's and teams' names for these entries, in two queries."""
    user_ids = {i for e in rows for i in (e.actor_id, e.subject_id) if i}
    team_ids = {i for e in rows for i in (e.team_id, e.other_team_id) if i}
    people = {u.id: u.name for u in session.exec(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    teams = {t.id: t.name for t in session.exec(select(Team).where(Team.id.in_(team_ids)))} if team_ids else {}
    return people, teams


COLUMNS = ("id", "at_utc", "kind", "actor", "subject", "team", "other_team", "detail")


def export_csv(session: Session, viewer: User | None, now: datetime, limit: int = 100_000) -> bytes:
    """The trail as CSV (UTF-8 with BOM so spreadsheet programs read the Chinese names); the export
    itself is recorded."""
    import json
    rows, _ = events(session, viewer, limit=limit)
    people, teams = names(session, rows)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for e in rows:
        writer.writerow([e.id, e.at.isoformat(timespec="seconds"), e.kind, people.get(e.actor_id, ""),
                         people.get(e.subject_id, ""), teams.get(e.team_id, ""), teams.get(e.other_team_id, ""),
                         json.dumps(e.detail, ensure_ascii=False, sort_keys=True)])
    record(session, "export", now, actor=viewer, what="audit", rows=len(rows))
    return ("\ufeff" + out.getvalue()).encode("utf-8")
