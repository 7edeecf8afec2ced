"""Database-side faults for tests: make the database itself refuse a row (no fakes of our code).

``poison_inserts`` installs a BEFORE INSERT trigger that aborts the statement when a column
has a given value, on SQLite and on PostgreSQL. On both the error reaches SQLAlchemy as
``sqlalchemy.exc.IntegrityError`` (SQLite's RAISE(ABORT) is a constraint error; the PostgreSQL
trigger raises with SQLSTATE 23000, integrity_constraint_violation) and carries ``message``.
"""
from __future__ import annotations

import uuid

from storage.db import Database

# One generic trigger function for PostgreSQL; column, value and message come as trigger
# arguments, so nothing is spliced into the function body. Created unqualified, i.e. in the
# first schema of the session's search_path (the test's private schema, see conftest.py).
_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION salesbot_test_poison() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF to_jsonb(NEW) ->> TG_ARGV[0] = TG_ARGV[1] THEN
        RAISE EXCEPTION USING MESSAGE = TG_ARGV[2], ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$fn$
"""


def _sqlite_literal(value: str) -> str:
    """A SQLite string literal (DDL takes no bound parameters): quotes doubled, no NUL."""
    if "\x00" in value:
        raise ValueError("NUL in a SQL literal")
    return "'" + value.replace("'", "''") + "'"


def poison_inserts(db: Database, table: str, column: str, value: str, message: str) -> str:
    """Make every INSERT into ``table`` with ``column = value`` fail with ``message``.

    Returns the trigger's name (for ``lift``)."""
    trigger = f"poison_{table}_{column}_{uuid.uuid4().hex[:8]}"
    with db.engine.begin() as conn:
        if db.is_sqlite:
            quote = db.engine.dialect.identifier_preparer.quote
            conn.exec_driver_sql(
                f"CREATE TRIGGER {quote(trigger)} BEFORE INSERT ON {quote(table)} "
                f"WHEN NEW.{quote(column)} = {_sqlite_literal(value)} "
                f"BEGIN SELECT RAISE(ABORT, {_sqlite_literal(message)}); END")
        else:
            from psycopg import sql
            # psycopg quotes the literals itself; run on the driver connection, inside this
            # transaction, so no '%' or ':' in a value is taken for a placeholder.
            cur = conn.connection.driver_connection.cursor()
            cur.execute(_PG_FUNCTION)
            cur.execute(sql.SQL("CREATE TRIGGER {} BEFORE INSERT ON {} FOR EACH ROW "
                                "EXECUTE FUNCTION salesbot_test_poison({}, {}, {})").format(
                sql.Identifier(trigger), sql.Identifier(table), sql.Literal(column), sql.Literal(value),
                sql.Literal(message)))
    return trigger


def lift(db: Database, table: str, trigger: str) -> None:
    """Remove a trigger installed by ``poison_inserts``: the database accepts the row again."""
    quote = db.engine.dialect.identifier_preparer.quote
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.exec_driver_sql(f"DROP TRIGGER {quote(trigger)}")
        else:
            conn.exec_driver_sql(f"DROP TRIGGER {quote(trigger)} ON {quote(table)}")
