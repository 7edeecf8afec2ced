"""The digest's counter tables (``ownerload``, ``stagecount``, migration 0009_digest) have no hot rows on
PostgreSQL: two transactions, on two connections, that hand customers over and move them between stages
in opposite order (A→B and B→A) neither wait for each other nor deadlock, and afterwards every count equals
the raw one.  With counter rows UPDATEd in place, the second statement of each transaction waits for the
other's row (the lock timeout below turns that wait into a failure) and the pair is a deadlock.
Real PostgreSQL only (skipped when it does not answer)."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from tests.conftest import PG_URL, drop_pg_schema, fresh_pg_schema_url, pg_only

pytestmark = pg_only


@pytest.fixture
def pg_schema():
    from storage.migrate import upgrade
    url, schema = fresh_pg_schema_url()
    upgrade(url)
    yield schema
    drop_pg_schema(schema)


def _connect(schema: str):
    import psycopg
    conn = psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"), options=f"-csearch_path={schema}")
    conn.execute("SET lock_timeout = '3s'")  # a wait on another transaction's row fails instead of hanging
    return conn


def _setup(schema: str) -> dict[str, int]:
    """One team, reps A and B, two customers each (A's in lead, B's in needs), through the ORM."""
    from storage.db import Database
    from storage.models import Customer, Team, User
    now = datetime(2026, 11, 26, 1, 0)
    db = Database(f"{PG_URL}?options=-csearch_path%3D{schema}")

    def setup(session):
        team = Team(name="T", created_at=now)
        session.add(team)
        session.flush()
        ids = {"team": team.id}
        for tg, name in ((1, "A"), (2, "B")):
            user = User(tg_id=tg, name=name, role="rep", team_id=team.id, joined_at=now)
            session.add(user)
            session.flush()
            ids[name] = user.id
        for key, owner, stage in (("a1", "A", "lead"), ("a2", "A", "lead"), ("b1", "B", "needs"), ("b2", "B", "needs")):
            c = Customer(team_id=team.id, owner_id=ids[owner], name=key, stage=stage, stage_entered_at=now - timedelta(days=3),
                         created_at=now, updated_at=now, next_followup_at=now + timedelta(days=1))
            session.add(c)
            session.flush()
            ids[key] = c.id
        return ids
    try:
        return db.call(setup)
    finally:
        db.close()


def _counts(conn) -> tuple[dict, dict, dict, dict]:
    load = {(t, o): int(n) for t, o, n in conn.execute(
        "SELECT team_id, owner_id, sum(open_n) FROM ownerload GROUP BY 1, 2 HAVING sum(open_n) <> 0")}
    raw_load = {(t, o): n for t, o, n in conn.execute(
        "SELECT team_id, coalesce(owner_id, 0), count(*) FROM customer WHERE status = 'open' AND NOT invalid GROUP BY 1, 2")}
    stages = {(t, s, st): int(n) for t, s, st, n in conn.execute(
        "SELECT team_id, stage, status, sum(n) FROM stagecount GROUP BY 1, 2, 3 HAVING sum(n) <> 0")}
    raw_stages = {(t, s, st): n for t, s, st, n in conn.execute(
        "SELECT team_id, stage, status, count(*) FROM customer WHERE NOT invalid GROUP BY 1, 2, 3")}
    return load, raw_load, stages, raw_stages


def test_opposite_order_handovers_and_stage_moves_neither_wait_nor_deadlock(pg_schema):
    one, two = _connect(pg_schema), _connect(pg_schema)
    try:
        ids = _setup(pg_schema)
        errors: list[BaseException] = []
        # First statements: each transaction takes "its" keys — (team, A) and (team, lead) for one,
        # (team, B) and (team, needs) for the other.
        one.execute("UPDATE customer SET completeness = 50, stage = 'contact' WHERE id = %s", (ids["a1"],))
        two.execute("UPDATE customer SET completeness = 50, stage = 'quote' WHERE id = %s", (ids["b1"],))

        def second(conn, customer: int, owner: int, stage: str) -> None:
            try:  # a handover and a stage move onto the other transaction's keys
                conn.execute("UPDATE customer SET owner_id = %s, stage = %s WHERE id = %s", (owner, stage, customer))
                conn.commit()
            except BaseException as exc:  # noqa: BLE001 — reported below
                errors.append(exc)
                conn.rollback()

        threads = [threading.Thread(target=second, args=(one, ids["a2"], ids["B"], "needs")),
                   threading.Thread(target=second, args=(two, ids["b2"], ids["A"], "lead"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in threads)
        assert errors == [], f"a save failed: {[type(e).__name__ + ': ' + str(e) for e in errors]}"
        load, raw_load, stages, raw_stages = _counts(one)
        one.commit()
        assert load == raw_load == {(ids["team"], ids["A"]): 2, (ids["team"], ids["B"]): 2}
        assert stages == raw_stages
        assert stages == {(ids["team"], s, "open"): 1 for s in ("contact", "needs", "quote", "lead")}
    finally:
        one.close()
        two.close()


def test_a_fold_does_not_wait_for_or_lose_an_uncommitted_delta(pg_schema):
    """The nightly fold runs while a save is open: it neither waits for it nor drops its delta."""
    from sqlalchemy import create_engine
    from sqlmodel import Session

    from services import counters
    one = _connect(pg_schema)
    try:
        ids = _setup(pg_schema)
        one.execute("UPDATE customer SET owner_id = %s, stage = 'quote' WHERE id = %s", (ids["B"], ids["a1"]))
        engine = create_engine(f"{PG_URL}?options=-csearch_path%3D{pg_schema}")
        with Session(engine) as session:
            session.execute(__import__("sqlalchemy").text("SET lock_timeout = '3s'"))
            counters.fold_all(session)
            session.commit()
        engine.dispose()
        one.commit()
        load, raw_load, stages, raw_stages = _counts(one)
        assert load == raw_load == {(ids["team"], ids["A"]): 1, (ids["team"], ids["B"]): 3}
        assert stages == raw_stages
        # the fold left one row per key it saw, the save's deltas came after it
        rows = one.execute("SELECT count(*) FROM stagecount").fetchone()[0]
        assert rows == 2 + 2  # (lead, needs) folded + the move's -1 (lead) and +1 (quote)
    finally:
        one.close()


