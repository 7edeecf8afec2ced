"""Core statements for the intake's hot path: the rows a new lead writes, without ORM objects.

The ORM's unit of work costs ~0.1 ms per object and one INSERT per history row; a lead writes
about 20 rows.  Here each table gets at most one statement (history rows and company grams as
one ``executemany``), and the owner's card goes in with ``INSERT … ON CONFLICT DO NOTHING``
(no savepoint).  Same rows, same values as ``services.customers.create_customer`` +
the extras history (``ingest.leads.write_new``) + ``services.outbox.enqueue``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping

from sqlalchemy import bindparam, exists, func, insert, or_, select, update
from sqlmodel import Session

from services.customers import name_grams
from services.cleaning import normalize_phone
from services.company_names import company_core, company_match
from storage.models import CompanyGram, Customer, Outbox, Team
from storage.models_ingest import AssignmentCursor

_CUSTOMER = Customer.__table__
_NEXT_IDS = "SELECT nextval(pg_get_serial_sequence('customer', 'id')) FROM generate_series(1, %s)"
_COLUMNS = [c.name for c in _CUSTOMER.columns if c.name != "id"]
CUSTOMER_COLUMNS = tuple(_COLUMNS)  # every column but the id, as insert_customer writes them
# Statements built once: SQLAlchemy then reuses their compiled form (parameters vary, not the SQL).
_INSERT_CUSTOMER = insert(_CUSTOMER)
_INSERTS: dict[Any, Any] = {}
_ENQUEUE: dict[str, Any] = {}
_OUTBOX_DEFAULTS: dict[str, Any] = {}


class Draft:
    """A customer's attributes (every column, with the model's defaults) without an ORM instance:
    building a SQLModel table object validates and instruments every field (~0.5 ms)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(_defaults())
        self.__dict__.update(values)


_DEFAULTS: dict[str, Any] = {}


def _defaults() -> dict[str, Any]:
    if not _DEFAULTS:
        from datetime import datetime as _dt
        sample = Customer(team_id=0, name="", stage="", stage_entered_at=_dt(2000, 1, 1), created_at=_dt(2000, 1, 1),
                          updated_at=_dt(2000, 1, 1))
        _DEFAULTS.update({name: getattr(sample, name) for name in [c.name for c in _CUSTOMER.columns]})
    return {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v) for k, v in _DEFAULTS.items()}


def draft_customer(**values: Any) -> Draft:
    return Draft(**values)


def insert_customer(session: Session, customer: Any) -> int:
    """Insert a draft (or transient) customer, all its column values, and give it its id."""
    row = {name: getattr(customer, name) for name in _COLUMNS}
    if getattr(customer, "id", None) is not None:  # its id taken already (PostgreSQL: ingest/rows_pg.py)
        row["id"] = customer.id
    result = session.connection().execute(_INSERT_CUSTOMER, row)
    customer.id = int(result.inserted_primary_key[0])
    return customer.id


def insert_customers(session: Session, customers: list[Any]) -> list[int]:
    """Several draft customers in one executemany; their ids in the same order.

    The ids are taken first (SQLite: after the largest, as it would pick them itself — the
    transaction holds the writer lock; PostgreSQL: from the column's sequence), so the rows go
    in as one plain executemany: ``RETURNING`` in parameter order makes SQLAlchemy send one
    INSERT a row."""
    if len(customers) == 1:
        return [insert_customer(session, customers[0])]
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        ids = next_customer_ids(conn, len(customers))
    else:
        top = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM customer").scalar()
        ids = list(range(int(top) + 1, int(top) + 1 + len(customers)))
    values = [{"id": cid, **{n: getattr(c, n) for n in _COLUMNS}} for cid, c in zip(ids, customers)]
    if conn.dialect.name == "postgresql" and len(values) >= COPY_FROM:
        copy_rows(conn, _CUSTOMER, values)
    else:
        conn.execute(_INSERT_CUSTOMER, values)
    return ids


def next_customer_ids(conn: Any, count: int) -> list[int]:
    """PostgreSQL: ``count`` new customer ids from the column's sequence, in order (one statement)."""
    return [int(i) for i in conn.exec_driver_sql(_NEXT_IDS, (count,)).scalars()]


def gram_rows(customer_id: int, company_norm: str | None) -> list[dict[str, Any]]:
    """The duplicate guard's gram index for a NEW customer (nothing to delete first)."""
    grams = name_grams(company_norm or "")
    return [{"customer_id": customer_id, "gram": g, "total": len(grams)} for g in sorted(grams)]


COPY_FROM = 64  # PostgreSQL: this many rows or more go in with COPY (a batch; one lead's ~10 rows: executemany)


def insert_many(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """The rows in one statement: an executemany, or on PostgreSQL from ``COPY_FROM`` rows a
    ``COPY … FROM STDIN`` (psycopg's copy, in the session's transaction) with the same values
    the INSERT would store (the columns' scalar defaults, JSON as SQLAlchemy serializes it)."""
    if not rows:
        return
    conn = session.connection()
    if len(rows) >= COPY_FROM and conn.dialect.name == "postgresql":
        copy_rows(conn, model.__table__, rows)
    else:
        conn.execute(_insert(model), rows)


_COPY_PLANS: dict[tuple[Any, tuple[str, ...]], tuple[list[str], list[Any], set[str]]] = {}


def copy_rows(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    import json
    keys = tuple(rows[0])
    plan = _COPY_PLANS.get((table, keys))
    if plan is None:
        columns = [c for c in table.columns if c.name in keys or (c.default is not None and c.default.is_scalar)]
        names = [c.name for c in columns]
        defaults = [None if c.name in keys else c.default.arg for c in columns]
        json_cols = {c.name for c in columns if type(c.type).__name__ in ("JSON", "JSONB")}
        plan = _COPY_PLANS[(table, keys)] = (names, defaults, json_cols)
    names, defaults, json_cols = plan
    dumps = json.dumps
    from sqlalchemy import exc
    dbapi = conn.dialect.loaded_dbapi
    sql = f'COPY "{table.name}" ({", ".join(chr(34) + n + chr(34) for n in names)}) FROM STDIN'
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row([dumps(row.get(n, d)) if n in json_cols else row.get(n, d) if n in row else d
                                for n, d in zip(names, defaults)])
    except dbapi.Error as err:  # as an INSERT would fail: sqlalchemy.exc.IntegrityError and kin
        raise exc.DBAPIError.instance(sql, None, err, dbapi.Error, dialect=conn.dialect) from err
    finally:
        cursor.close()


def _insert(model: Any) -> Any:
    stmt = _INSERTS.get(model)
    if stmt is None:
        stmt = _INSERTS[model] = insert(model.__table__)
    return stmt


def history_rows(customer_id: int, pairs: Iterable[tuple[str, str]], source: str, ref: str | None,
                 now: datetime, by_user_id: int | None = None) -> list[dict[str, Any]]:
    return [{"customer_id": customer_id, "field": key, "value": value, "source": source, "source_ref": ref,
             "by_user_id": by_user_id, "at": now} for key, value in pairs]


def activity_row(customer_id: int, kind: str, text: str, now: datetime, data: Mapping[str, Any],
                 user_id: int | None = None) -> dict[str, Any]:
    return {"customer_id": customer_id, "user_id": user_id, "kind": kind, "text": text, "at": now, "data": dict(data)}


def stage_row(customer_id: int, stage: str, now: datetime, by_user_id: int | None = None) -> dict[str, Any]:
    return {"customer_id": customer_id, "from_stage": None, "to_stage": stage, "by_user_id": by_user_id, "at": now,
            "complete_data": True}


def task_row(customer_id: int, user_id: int, kind: str, text: str, due_at: datetime, now: datetime) -> dict[str, Any]:
    return {"customer_id": customer_id, "user_id": user_id, "kind": kind, "text": text, "due_at": due_at,
            "status": "open", "created_at": now}


def enqueue(session: Session, chat_id: int, kind: str, payload: dict[str, Any], dedupe_key: str,
            now: datetime) -> bool:
    """``services.outbox.enqueue`` in one statement: skipped when the dedupe key exists."""
    return enqueue_many(session, [(chat_id, kind, payload, dedupe_key)], now) > 0


def insert_new(session: Session, model: Any, row: dict[str, Any], key: list[str]) -> bool:
    """INSERT … ON CONFLICT (key) DO NOTHING; False when the row existed (no savepoint needed)."""
    dialect = session.get_bind().dialect.name
    stmt = _ENQUEUE.get((dialect, model))
    if stmt is None:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        table = model.__table__
        stmt = _ENQUEUE[(dialect, model)] = (dialect_insert(table).on_conflict_do_nothing(index_elements=key)
                                             .returning(*table.primary_key.columns))
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT whose primary key SQLAlchemy fetches
    return session.connection().execute(stmt, row).first() is not None


def enqueue_many(session: Session, messages: list[tuple[int, str, dict[str, Any], str]], now: datetime) -> int:
    """Several (chat_id, kind, payload, dedupe_key) at once; how many were new (counted for one)."""
    if not messages:
        return 0
    dialect = session.get_bind().dialect.name
    stmt = _ENQUEUE.get(dialect)
    if stmt is None:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        stmt = _ENQUEUE[dialect] = dialect_insert(Outbox.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"])
    batch = [outbox_row(chat_id, kind, payload, dedupe_key, now) for chat_id, kind, payload, dedupe_key in messages]
    if len(batch) == 1:  # whether it was new (a dedupe key of an older message: skipped)
        return int(insert_new(session, Outbox, batch[0], ["dedupe_key"]))
    session.connection().execute(stmt, batch)
    return len(batch)  # several: the cards of customers created in this transaction, all new keys


def outbox_row(chat_id: int, kind: str, payload: dict[str, Any], dedupe_key: str, now: datetime) -> dict[str, Any]:
    """An outbox row as ``services.outbox.enqueue`` makes it (every column but the id)."""
    if not _OUTBOX_DEFAULTS:
        defaults = Outbox(dedupe_key="", chat_id=0, kind="", next_attempt_at=now, created_at=now)
        _OUTBOX_DEFAULTS.update({c.name: getattr(defaults, c.name) for c in Outbox.__table__.columns if c.name != "id"})
    row = dict(_OUTBOX_DEFAULTS)
    row.update(dedupe_key=dedupe_key[:250], chat_id=chat_id, kind=kind, payload=payload, next_attempt_at=now,
               created_at=now)
    return row


def move_cursor(session: Session, team_id: int, owner_id: int, now: datetime) -> None:
    """``assignment.record_choice``: the round-robin position, updated or created."""
    conn = session.connection()
    params = {"tid": team_id, "last_user_id": owner_id, "updated_at": now}
    if not conn.execute(_MOVE, params).rowcount:
        conn.execute(_insert(AssignmentCursor), {"team_id": team_id, "last_user_id": owner_id, "updated_at": now})


_MOVE = update(AssignmentCursor.__table__).where(AssignmentCursor.__table__.c.team_id == bindparam("tid"))




# --- reads on the hot path (statements built once, parameters bound per call) -------------------

_C = Customer.__table__.c
_G = CompanyGram.__table__.c
_SHARED = func.count(_G.gram)


# Counted, not EXISTS: under EXISTS (or LIMIT) PostgreSQL picks a "first row fast" plan that walks
# the whole gram table in customer order (24 ms at 17k customers, growing); a count uses the
# gram index.
_GRAM_HITS = (select(_G.customer_id).where(_G.gram.in_(bindparam("grams", expanding=True)))
              .group_by(_G.customer_id)
              .having(or_(_SHARED >= bindparam("need"), _SHARED == func.max(_G.total))).subquery())
_ANY_DUPLICATE = select(or_(
    exists(select(_C.id).where(_C.phone_norm == bindparam("phone"), _C.invalid == False)),  # noqa: E712
    exists(select(_C.id).where(_C.company_norm == bindparam("core"), _C.invalid == False)),  # noqa: E712
    select(func.count()).select_from(_GRAM_HITS).scalar_subquery() > 0))


def may_have_duplicates(session: Session, phone: str | None, company: str | None) -> bool:
    """False only when ``services.customers.check_duplicates`` surely finds nothing: no valid
    customer with this phone or company core and no company sharing enough name pieces to be a
    fuzzy candidate.  (True → the full check runs; it alone decides.)  One statement."""
    phone_norm = normalize_phone(phone) if phone else None
    core = company_core(company) if company else None
    if not phone_norm and not core:
        return False
    grams = sorted(name_grams(core)) if core and len(core) >= 3 else []
    return bool(session.connection().execute(_ANY_DUPLICATE, {
        "phone": phone_norm, "core": core, "grams": grams,
        "need": max(2, int(len(grams) * 0.75))}).scalar())


_T = Team.__table__.c
_TEAM = select(_T.id, _T.name, _T.timezone, _T.modules).where(_T.name == bindparam("name"))


def team_row(session: Session, name: str) -> Any | None:
    """The team's id and modules (what the intake reads of it), or None.  Read once per
    transaction: the leads of a grouped commit (ingest/commits.py) share it."""
    cache = session.info.setdefault("intake_teams", {})
    row = cache.get(name)
    if row is None:
        row = session.connection().execute(_TEAM, {"name": name}).first()
        if row is not None:
            cache[name] = row
    return row


_PHONES = select(_C.phone_norm).where(_C.phone_norm.in_(bindparam("v", expanding=True)), _C.invalid == False)  # noqa: E712
_COMPANIES = select(_C.company_norm).where(_C.company_norm.in_(bindparam("v", expanding=True)),
                                           _C.invalid == False)  # noqa: E712


class KnownNames:
    """Phones, company cores and company grams, to tell when ``check_duplicates`` may match:
    the stored phones and cores among a batch's (two statements; their grams:
    ``gram_candidates``), or the customers a batch wrote itself (``add``, ``may_find``)."""

    def __init__(self) -> None:
        self.phones: set[str] = set()
        self.cores: set[str] = set()
        self.by_gram: dict[str, list[tuple[Any, int]]] = {}
        self.core_of: dict[Any, str] = {}

    @classmethod
    def stored(cls, session: Session, phones: set[str], cores: set[str]) -> "KnownNames":
        known = cls()
        conn = session.connection()
        if phones:
            known.phones = {r[0] for r in conn.execute(_PHONES, {"v": sorted(phones)})}
        if cores:
            known.cores = {r[0] for r in conn.execute(_COMPANIES, {"v": sorted(cores)})}
        return known

    def add(self, key: Any, phone_norm: str | None, core: str | None) -> None:
        """A customer written (or about to be) by this batch."""
        if phone_norm:
            self.phones.add(phone_norm)
        if core:
            self.cores.add(core)
            self.core_of[key] = core
            grams = name_grams(core)
            for gram in grams:
                self.by_gram.setdefault(gram, []).append((key, len(grams)))

    def may_find(self, phone_norm: str | None, core: str | None, grams: set[str], threshold: float) -> bool:
        """What ``check_duplicates`` can report of these names: an equal phone or core,
        or a gram candidate whose name ``company_match`` accepts (names added with ``add``)."""
        if phone_norm and phone_norm in self.phones:
            return True
        if not core:
            return False
        if core in self.cores:
            return True
        if len(core) < 3 or not grams:
            return False
        shared: dict[Any, int] = {}
        totals: dict[Any, int] = {}
        for gram in grams:
            for key, total in self.by_gram.get(gram, ()):
                shared[key] = shared.get(key, 0) + 1
                totals[key] = total
        need = max(2, int(len(grams) * 0.75))
        return any((n >= need or n == totals[key]) and company_match(core, self.core_of[key], threshold) is not None
                   for key, n in shared.items())

    def has(self, phone_norm: str | None, core: str | None) -> bool:
        """An equal phone or company core among these names."""
        return bool(phone_norm and phone_norm in self.phones) or bool(core and core in self.cores)


# --- the duplicate guard's gram pre-check for a whole batch: one statement a few hundred names ---

_CHUNK = 2000  # (name, gram) pairs a statement: 3 parameters each, well under SQLite's 32766


def gram_candidates(session: Session, cores: Iterable[str]) -> dict[str, list[tuple[int, str]]]:
    """For each company core (≥ 3 characters), the valid customers ``_fuzzy_candidates`` would
    consider — sharing at least ``need`` of its grams, or all of their own — as (id, company_norm).

    Counted in the database for every name at once (a ``VALUES`` list of (name, gram, need)
    joined with the gram index), not one statement a name."""
    names = sorted({c for c in cores if c and len(c) >= 3})
    found: dict[str, list[tuple[int, str]]] = {}
    pairs: list[tuple[int, str, int]] = []
    for index, core in enumerate(names):
        grams = sorted(name_grams(core))
        need = max(2, int(len(grams) * 0.75))
        pairs += [(index, gram, need) for gram in grams]
    conn = session.connection()
    start = 0
    while start < len(pairs):
        # whole names per statement (a name's grams are counted together)
        end = min(len(pairs), start + _CHUNK)
        while end < len(pairs) and pairs[end][0] == pairs[end - 1][0]:
            end += 1
        chunk = pairs[start:end]
        mark = "%s" if conn.dialect.paramstyle in ("format", "pyformat") else "?"
        sql = (f"WITH q(idx, gram, need) AS (VALUES {', '.join([f'({mark}, {mark}, {mark})'] * len(chunk))}) "
               "SELECT h.idx, c.id, c.company_norm FROM ("
               # CROSS JOIN: SQLite keeps q as the outer loop (a gram-index lookup per pair)
               "SELECT q.idx AS idx, g.customer_id AS cid FROM q CROSS JOIN companygram g WHERE g.gram = q.gram "
               "GROUP BY q.idx, g.customer_id HAVING count(*) >= max(q.need) OR count(*) = max(g.total)) h "
               "JOIN customer c ON c.id = h.cid WHERE c.invalid = false")
        # a driver-level statement: a text() with thousands of bind names costs more to build and
        # cache-key than the query takes to run
        for index, cid, company_norm in conn.exec_driver_sql(sql, tuple(v for row in chunk for v in row)):
            found.setdefault(names[index], []).append((cid, company_norm))
        start = end
    return found


class StoredGuard:
    """The duplicate guard's pre-check for a whole batch against the stored customers, in three
    statements: the stored phones and company cores among the batch's, and every name's gram
    candidates (``gram_candidates``) whose name ``company_match`` accepts.  ``may`` is False only
    when ``services.customers.check_duplicates`` surely reports nothing: an equal phone or core,
    or a fuzzy match among the candidates it reads, is needed for it to report one."""

    def __init__(self, session: Session, threshold: float, names: Iterable[tuple[str | None, str | None]]) -> None:
        phones: set[str] = set()
        cores: set[str] = set()
        for phone_norm, core in names:
            if phone_norm:
                phones.add(phone_norm)
            if core:
                cores.add(core)
        self.known = KnownNames.stored(session, phones, cores)
        self.fuzzy = {core for core, found in gram_candidates(session, cores).items()
                      if any(norm and company_match(core, norm, threshold) is not None for _, norm in found)}

    def may(self, phone_norm: str | None, core: str | None) -> bool:
        return self.known.has(phone_norm, core) or (core is not None and core in self.fuzzy)
