"""A single lead's round trips to the database (PostgreSQL: ingest/rows_pg.py), and that the
shortcut changes nothing a caller sees: the replay check, the duplicate guard, consecutive ids."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from storage.models import Customer, FieldHistory, Outbox, Task
from storage.models_ingest import AssignmentCursor
from tests.test_ingest_support import count, live_server, make_team, rows, set_secrets, signed


@pytest.fixture(autouse=True)
def _secrets(monkeypatch):
    set_secrets(monkeypatch)


def _lead(i: int) -> dict:
    return {"your_name": f"客户{i}", "mobile": f"1390000{i:04d}", "company_name": ["东海重工集团有限公司",
            "南方软件有限公司", "北辰教育科技有限公司"][i % 3], "product": "想要报价", "行业": "软件"}


async def test_a_signed_lead_costs_few_statements_and_stores_everything(core):
    team = make_team(core, reps=2)
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    async with live_server(core) as (_, client, _app):
        body, headers = signed(core, _lead(0))
        event.listen(core.db.engine, "before_cursor_execute", seen)
        try:
            first = await client.post("/api/leads", content=body, headers=headers)
        finally:
            event.remove(core.db.engine, "before_cursor_execute", seen)
        replay = await client.post("/api/leads", content=body, headers=headers)
        second = await client.post("/api/leads", content=(b := signed(core, _lead(1)))[0], headers=b[1])
        again = await client.post("/api/leads", content=(b := signed(core, _lead(3)))[0], headers=b[1])
    assert first.status_code == 201, first.text
    assert replay.status_code == 401 and "replay" in replay.json()["reason"]
    assert second.status_code == 201 and again.status_code == 200 and again.json()["status"] == "duplicate"
    one, two = first.json(), second.json()
    if not core.db.is_sqlite:  # the team, the reads with the signature's nonce, every write (SQLite: in process)
        assert len(statements) == 3, statements
    assert two["customer_id"] == one["customer_id"] + 1  # the id taken with the reads is the one stored
    assert {one["owner_id"], two["owner_id"]} == {team[2].id, team[3].id}  # round robin: one each
    assert count(core, Customer) == 2
    assert count(core, Task, Task.customer_id == one["customer_id"]) == 1
    assert count(core, Outbox, Outbox.dedupe_key == f"lead:{one['customer_id']}") == 1
    fields = {h.field: h.value for h in rows(core, FieldHistory, FieldHistory.customer_id == one["customer_id"])}
    assert fields["phone"] == "13900000000" and fields["industry"] == "信息技术" and fields["priority"]
    assert rows(core, AssignmentCursor)[0].last_user_id == two["owner_id"]
