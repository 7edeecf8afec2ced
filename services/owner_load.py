"""Open customers per owner — how many, their completeness summed, how many are overdue for a
follow-up — and the overdue per team (the pool's included) from ``ownerload`` (storage/models_digest.py, migration 0009_digest), kept exact by
database triggers on customer (append-only deltas summed here, folded by services/counters.py), instead of reading every open customer of the teams (the KPI window
and the board each did: 0.05 s CPU per read at 1×, ten times that at 10×).

"Overdue" is time-dependent (next follow-up before the start of today), so the table is counted
against a cut (``ownercut``): the triggers compare with it, and when the day changes the counts are
recounted once for the new cut — by the nightly job, else by the first reader that can write.
A read-only session whose cut is not today's, or ``rollups.disabled()``, counts raw (None here)."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import and_, case, delete, func, insert, select, text, update
from sqlmodel import Session

from core.config import Config
from services import counters, rollups
from storage.db import is_postgres, is_read_only
from storage.models import Customer
from storage.models_digest import OwnerCut, OwnerLoad

log = logging.getLogger(__name__)


POOL = 0  # the owner_id of a team's customers without an owner (公海)


def _counted():
    return [Customer.status == "open", Customer.invalid == False]  # noqa: E712


def recount(session: Session, config: Config, cut: datetime) -> None:
    """Every (team, owner) counted again against ``cut``.  PostgreSQL: customer writes wait meanwhile
    (their triggers read the cut), so no write is counted against the old cut after this."""
    if is_postgres(session):
        session.execute(text("LOCK TABLE customer IN SHARE ROW EXCLUSIVE MODE"))
        session.execute(text("LOCK TABLE ownerload IN SHARE UPDATE EXCLUSIVE MODE"))  # no fold meanwhile
    session.execute(delete(OwnerLoad))
    due = case((and_(Customer.next_followup_at.is_not(None), Customer.next_followup_at < cut), 1), else_=0)
    owner = func.coalesce(Customer.owner_id, POOL)
    session.execute(insert(OwnerLoad).from_select(
        ["team_id", "owner_id", "open_n", "completeness_sum", "overdue_n"],
        select(Customer.team_id, owner, func.count(), func.sum(func.coalesce(Customer.completeness, 0)),
               func.sum(due)).where(*_counted()).group_by(Customer.team_id, owner)))
    session.execute(update(OwnerCut).where(OwnerCut.id == 1).values(cut=cut, tz=rollups.tz_name(config)))
    counters.set_watermark(session, "ownerload")


def _current(session: Session, config: Config, cut: datetime) -> bool:
    row = session.execute(select(OwnerCut.cut, OwnerCut.tz).where(OwnerCut.id == 1)).first()
    return row is not None and row[0] == cut and row[1] == rollups.tz_name(config)


def ensure(session: Session, config: Config, cut: datetime) -> bool:
    """The counts cut at ``cut`` (the start of today); False when they cannot be made so here."""
    if _current(session, config, cut):
        counters.fold_if_needed(session, "ownerload")
        return True
    if is_read_only(session):
        return False
    try:
        with session.begin_nested():
            recount(session, config, cut)
        return True
    except Exception as exc:  # noqa: BLE001 — the raw count is always exact
        log.warning("owner counts not recounted (%s: %s): counting raw", type(exc).__name__, exc)
        return False


def counts(session: Session, config: Config, team_ids: list[int], cut: datetime,
           owner_ids: list[int] | None = None) -> dict[int, tuple[int, int, int]] | None:
    """Owner → (open customers, completeness summed, due before ``cut``, the start of today) over
    ``team_ids``; None: count raw."""
    if not rollups.enabled() or not ensure(session, config, cut):
        return None
    query = (select(OwnerLoad.owner_id, func.sum(OwnerLoad.open_n), func.sum(OwnerLoad.completeness_sum),
                    func.sum(OwnerLoad.overdue_n))
             .where(OwnerLoad.team_id.in_(team_ids), OwnerLoad.owner_id != POOL)
             .group_by(OwnerLoad.owner_id).having(func.sum(OwnerLoad.open_n) > 0))
    if owner_ids is not None:
        query = query.where(OwnerLoad.owner_id.in_(owner_ids))
    return {uid: (int(n), int(comp or 0), int(late or 0)) for uid, n, comp, late in session.execute(query)}


def overdue_per_team(session: Session, config: Config, team_ids: list[int], cut: datetime) -> dict[int, int] | None:
    """Team → open customers (owned or in the pool) due before ``cut``, the start of today; None: count raw."""
    if not rollups.enabled() or not ensure(session, config, cut):
        return None
    return {team_id: int(n) for team_id, n in session.execute(
        select(OwnerLoad.team_id, func.sum(OwnerLoad.overdue_n)).where(OwnerLoad.team_id.in_(team_ids))
        .group_by(OwnerLoad.team_id)) if n}
