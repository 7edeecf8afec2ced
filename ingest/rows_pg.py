"""PostgreSQL: a new lead's writes in ONE statement (data-modifying CTEs), not eight.

On PostgreSQL every statement is a round trip to the server, and while a single lead's
transaction runs it holds the round-robin row (``assignment.last_assigned`` FOR UPDATE): the
leads of all lanes take turns there, so the round trips of one lead are the intake's critical
path.  The customer (its id taken first with ``nextval``, so the card can name it), its company
grams, stage entry, activities, history, first-contact task, the round-robin position (an upsert)
and the owner's card (``ON CONFLICT (dedupe_key) DO NOTHING``) go in as one ``WITH … INSERT``
statement.  The same rows and values as ``ingest.leads.write_new`` + ``rows.move_cursor`` +
``rows.insert_many(Task)`` + ``rows.enqueue_many`` (foreign keys are checked at the end of the
statement, when every row is there).

Each table's rows travel as one JSON array (``json_populate_recordset``): the statement's text
and its few parameters are the same for every lead, so psycopg converts it once and prepares
it on the server, and SQLAlchemy compiles nothing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection

from storage.models import Activity, CompanyGram, Customer, FieldHistory, Outbox, StageChange, Task
from storage.models_ingest import AssignmentCursor

# (parameter, model, with its id?) — every column but an id the database assigns; a column a
# row leaves out gets its scalar default, as an INSERT of the row would.
_TABLES = (("c", Customer, True), ("g", CompanyGram, False), ("s", StageChange, False), ("a", Activity, False),
           ("h", FieldHistory, False), ("t", Task, False), ("cur", AssignmentCursor, True), ("o", Outbox, False))
_PLANS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {}
_SQL: list[str] = []


def _plan() -> None:
    parts = []
    for key, model, with_id in _TABLES:
        table = model.__table__
        columns = tuple(c.name for c in table.columns if with_id or c.name != "id")
        defaults = {c.name: c.default.arg for c in table.columns
                    if c.name in columns and c.default is not None and c.default.is_scalar}
        _PLANS[key] = (columns, defaults)
        names = ", ".join(f'"{c}"' for c in columns)
        source = f"SELECT {names} FROM json_populate_recordset(NULL::\"{table.name}\", %({key})s::json)"
        if key == "cur":
            source += (' ON CONFLICT (team_id) DO UPDATE SET last_user_id = excluded.last_user_id,'
                       ' updated_at = excluded.updated_at')
        elif key == "o":
            source += " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
        parts.append(f'w_{key} AS (INSERT INTO "{table.name}" ({names}) {source})')
    _SQL.append("WITH " + ",\n".join(parts) + "\nSELECT count(*) FROM w_o")


def _value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def write_lead(conn: Connection, customer: dict[str, Any], parts: dict[str, list[dict[str, Any]]],
               cursor: dict[str, Any], card: dict[str, Any]) -> int:
    """Write one new customer (``customer`` has its id) with ``parts`` (key → rows: "g" grams,
    "s" stage changes, "a" activities, "h" history, "t" tasks), move the round-robin position
    (``cursor``: team_id, last_user_id, updated_at) and queue ``card`` (an outbox row); 1 when
    the card was new (its dedupe key not seen before)."""
    if not _SQL:
        _plan()
    given = {"c": [customer], **parts, "cur": [cursor], "o": [card]}
    params = {}
    for key, _, _ in _TABLES:
        columns, defaults = _PLANS[key]
        params[key] = json.dumps([{c: row[c] if c in row else defaults.get(c) for c in columns}
                                  for row in given.get(key) or ()], ensure_ascii=False, default=_value)
    return int(conn.exec_driver_sql(_SQL[0], params).scalar())


# --- the reads of one lead in one statement -------------------------------------------------------

@dataclass
class LeadReads:
    """What a single lead reads before its owner is chosen, from ONE statement: whether the
    duplicate guard must run (``rows.may_have_duplicates``), the active reps with their open load
    (``assignment.reps_with_load``), the round-robin position locked FOR UPDATE
    (``assignment.last_assigned``; not read for the "load" strategy, which never uses it) and,
    when no duplicate is possible, the new customer's id (``nextval``)."""
    may: bool
    reps: list
    load: dict[int, int]
    last: int | None
    customer_id: int | None
    fresh: bool = True  # the signature's nonce was inserted (False: seen before → a replay)


_READS: dict[tuple[bool, bool], Any] = {}


def _reads_statement(lock: bool, nonce: bool) -> Any:
    stmt = _READS.get((lock, nonce))
    if stmt is not None:
        return stmt
    from sqlalchemy import and_, case, func, literal, null, select

    from ingest.assignment import _LOAD
    from ingest.rows import _ANY_DUPLICATE
    from storage.models import User
    u, ac = User.__table__.c, AssignmentCursor.__table__.c
    dup = _ANY_DUPLICATE.scalar_subquery()
    last = (select(ac.last_user_id).where(ac.team_id == bindparam("team_id")).with_for_update().scalar_subquery()
            if lock else null())
    # nextval only when no duplicate is possible (CASE evaluates it lazily), in a one-row
    # subquery: PostgreSQL does not flatten a subquery with a volatile function, so it runs once
    first = select(dup.label("dup"), last.label("last")).subquery("d0")
    one = select(first.c.dup, first.c.last,
                 case((first.c.dup, null()), else_=func.nextval(func.pg_get_serial_sequence("customer", "id"))).label("nid")).subquery("d")
    fresh = literal(True)
    if nonce:  # auth.claim_signature's INSERT … ON CONFLICT DO NOTHING, as a data-modifying CTE
        from storage.models_ingest import IngestNonce
        n = IngestNonce.__table__
        claimed = (pg_insert(n).values(source=bindparam("n_source"), signature=bindparam("n_signature"),
                                       expires_at=bindparam("n_expires_at"))
                   .on_conflict_do_nothing(index_elements=["source", "signature"]).returning(n.c.source).cte("claimed"))
        fresh = select(func.count()).select_from(claimed).scalar_subquery() > 0
    stmt = (select(one.c.dup, one.c.last, one.c.nid, u.id, u.tg_id, u.name, u.username, u.language, _LOAD,
                   fresh.label("fresh"))
            .select_from(one.outerjoin(User.__table__, and_(u.team_id == bindparam("team_id"), u.role == "rep",
                                                            u.active == True)))  # noqa: E712
            .order_by(u.id))
    _READS[(lock, nonce)] = stmt
    return stmt


def lead_reads(conn: Connection, team_id: int, phone_norm: str | None, core: str | None, *, lock: bool,
               nonce: dict[str, Any] | None = None) -> LeadReads:
    """``LeadReads`` in one statement; with ``nonce`` (``auth.nonce_row``) the signature is
    claimed in the same statement (``fresh`` False: it was used before)."""
    from ingest.assignment import Rep
    from services.customers import name_grams
    grams = sorted(name_grams(core)) if core and len(core) >= 3 else []
    params = {"team_id": team_id, "phone": phone_norm, "core": core, "grams": grams,
              "need": max(2, int(len(grams) * 0.75))}
    if nonce is not None:
        params.update({f"n_{k}": v for k, v in nonce.items()})
    found = conn.execute(_reads_statement(lock, nonce is not None), params).all()
    head = found[0]
    may = bool(head[0]) if (phone_norm or core) else False
    reps = [Rep(r[3], r[4], r[5], r[6], r[7]) for r in found if r[3] is not None]
    return LeadReads(may, reps, {r[3]: int(r[8]) for r in found if r[3] is not None}, head[1],
                     int(head[2]) if head[2] is not None else None, bool(head[9]))
