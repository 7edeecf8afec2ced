"""Folding the append-only counter tables of 0009_digest (``ownerload``, ``stagecount``).

The triggers on customer only INSERT delta rows (+1 / -1 per counted change), so concurrent writers of
the same (team, owner) or (team, stage, status) never wait for one shared row, and two transactions
touching two keys in opposite order cannot deadlock on them.  A figure is the SUM of its key's rows.
To keep those sums short, ``fold`` replaces the rows it sees by one row per key (the nightly job, and a
reader that can write when more than ``THRESHOLD`` deltas are pending); every figure stays exact:

- PostgreSQL: one statement, ``WITH gone AS (DELETE … RETURNING …) INSERT … SELECT sum(…) FROM gone`` —
  it deletes exactly the rows it sums (a delta committed meanwhile is neither deleted nor summed), and a
  ``SHARE UPDATE EXCLUSIVE`` lock on the table (which INSERTs do not wait for) keeps two folds or a fold
  and the overdue recount from interleaving;
- SQLite: writers are serialized, so summing and deleting the rows up to the highest id is exact.
"""
from __future__ import annotations

import logging

from sqlalchemy import text
from sqlmodel import Session

from storage.db import is_postgres, is_read_only

log = logging.getLogger(__name__)

THRESHOLD = 5000  # pending deltas (rows past the last fold) after which a reader folds

# table → (key columns, summed columns, its watermark in ownercut)
TABLES = {
    "ownerload": (("team_id", "owner_id"), ("open_n", "completeness_sum", "overdue_n"), "load_folded"),
    "stagecount": (("team_id", "stage", "status"), ("n",), "stage_folded"),
}


def fold(session: Session, table: str) -> None:
    """One row per key with its sum (keys whose sums are all 0 dropped), the watermark moved."""
    keys, sums, mark = TABLES[table]
    cols = ", ".join(keys + sums)
    summed = ", ".join(f"sum({c})" for c in sums)
    nonzero = " OR ".join(f"sum({c}) <> 0" for c in sums)
    group = ", ".join(keys)
    if is_postgres(session):
        session.execute(text(f"LOCK TABLE {table} IN SHARE UPDATE EXCLUSIVE MODE"))
        session.execute(text(f"WITH gone AS (DELETE FROM {table} RETURNING {cols}) "
                             f"INSERT INTO {table} ({cols}) SELECT {group}, {summed} FROM gone "
                             f"GROUP BY {group} HAVING {nonzero}"))
    else:
        top = session.execute(text(f"SELECT max(id) FROM {table}")).scalar()
        if top is None:
            return
        session.execute(text(f"INSERT INTO {table} ({cols}) SELECT {group}, {summed} FROM {table} WHERE id <= :top "
                             f"GROUP BY {group} HAVING {nonzero}"), {"top": top})
        session.execute(text(f"DELETE FROM {table} WHERE id <= :top"), {"top": top})
    set_watermark(session, table)


def set_watermark(session: Session, table: str) -> None:
    mark = TABLES[table][2]
    session.execute(text(f"UPDATE ownercut SET {mark} = coalesce((SELECT max(id) FROM {table}), 0) WHERE id = 1"))


def pending(session: Session, table: str) -> int:
    """Delta rows written since the last fold (an upper bound: PostgreSQL's ids may have gaps)."""
    mark = TABLES[table][2]
    top = session.execute(text(f"SELECT max(id) FROM {table}")).scalar() or 0
    return top - (session.execute(text(f"SELECT {mark} FROM ownercut WHERE id = 1")).scalar() or 0)


def fold_all(session: Session) -> None:
    """The nightly job's part: both tables folded (each team's slot runs it; nothing pending, nothing done)."""
    for table in TABLES:
        if pending(session, table) > 0:
            fold(session, table)


def fold_if_needed(session: Session, table: str, threshold: int = THRESHOLD) -> None:
    """A reader's part: folded when more than ``threshold`` deltas are pending and the session can write."""
    if is_read_only(session) or pending(session, table) <= threshold:
        return
    try:
        with session.begin_nested():
            fold(session, table)
    except Exception as exc:  # noqa: BLE001 — the sums stay exact unfolded
        log.warning("%s not folded (%s: %s)", table, type(exc).__name__, exc)
