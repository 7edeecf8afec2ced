"""The first few rows of each team in one query for all teams (the digest's overdue, hot and pending lists,
the stalled-deal escalations)."""
from __future__ import annotations

from sqlalchemy import func, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from storage.db import is_postgres
from storage.models import Customer, PointsEntry, Team


def top_per_team(session: Session, columns: list, where: list, order_by: list, limit: int) -> list:
    """The first ``limit`` rows of each team (ROW_NUMBER() OVER (PARTITION BY team_id …)): one query for all teams."""
    rank = func.row_number().over(partition_by=columns[0], order_by=order_by).label("rn")
    inner = select(*columns, rank).where(*where).subquery()
    return list(session.execute(select(*[inner.c[c.key] for c in columns]).where(inner.c.rn <= limit)
                                .order_by(inner.c[columns[0].key], inner.c.rn)))


def top_customers_per_team(session: Session, team_ids: list[int], columns, where, order_by, limit: int) -> list:
    """The first ``limit`` customers of each team in ``order_by`` order: a correlated ``IN (… LIMIT n)``
    per team row, so an index on (team_id, status, order column) is walked for n rows per team
    instead of numbering every matching customer (ROW_NUMBER() over all of them grows with the data).

    ``columns``, ``where`` and ``order_by`` are functions of the customer entity (an alias outside).

    PostgreSQL runs that ``IN`` as a sub-plan per customer row (100 s at 100,000 customers), so there
    each team's n rows come from a LATERAL subquery: the same index walk, n rows per team."""
    if is_postgres(session):
        wanted = {c.key: c for c in [Customer.id, Customer.name, Customer.owner_id, Customer.next_followup_at,
                                     Customer.intent_score, *columns(Customer)]}
        lat = (select(*wanted.values()).where(Customer.team_id == Team.id, *where(Customer))
               .order_by(*order_by(Customer)).limit(limit).lateral("top"))
        return list(session.execute(select(Team.id, *columns(lat.c)).select_from(Team).join(lat, true())
                                    .where(Team.id.in_(team_ids)).order_by(Team.id, *order_by(lat.c))))
    top = aliased(Customer)
    inner = (select(Customer.id).where(Customer.team_id == Team.id, *where(Customer))
             .order_by(*order_by(Customer)).limit(limit).correlate(Team))
    return list(session.execute(select(Team.id, *columns(top)).join(top, top.id.in_(inner))
                                .where(Team.id.in_(team_ids)).order_by(Team.id, *order_by(top))))


def oldest_pending_points(session: Session, team_ids: list[int], limit: int) -> list:
    """(team, entry id, user, points, action) of each team's ``limit`` oldest pending ledger entries,
    walking ix_points_team_status_at for n rows per team (the ROW_NUMBER() shape numbered every
    pending entry of every team); PostgreSQL: a LATERAL subquery per team, as above."""
    order = [PointsEntry.at, PointsEntry.id]
    if is_postgres(session):
        lat = (select(PointsEntry.id, PointsEntry.user_id, PointsEntry.points, PointsEntry.action, PointsEntry.at)
               .where(PointsEntry.team_id == Team.id, PointsEntry.status == "pending")
               .order_by(*order).limit(limit).lateral("top"))
        return list(session.execute(select(Team.id, lat.c.id, lat.c.user_id, lat.c.points, lat.c.action)
                                    .select_from(Team).join(lat, true()).where(Team.id.in_(team_ids))
                                    .order_by(Team.id, lat.c.at, lat.c.id)))
    top = aliased(PointsEntry)
    inner = (select(PointsEntry.id).where(PointsEntry.team_id == Team.id, PointsEntry.status == "pending")
             .order_by(*order).limit(limit).correlate(Team))
    return list(session.execute(select(Team.id, top.id, top.user_id, top.points, top.action)
                                .join(top, top.id.in_(inner)).where(Team.id.in_(team_ids))
                                .order_by(Team.id, top.at, top.id)))
