"""Bad input at the ingestion server, the importer and the connectors: cleaned or a 4xx naming the field,
never a 500; numbers read by one parser; database errors logged without the customer's values."""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid

import pytest
from sqlalchemy.exc import DBAPIError

from ingest.connectors.erp import OrderError, parse_order
from ingest.sheets import read_file
from services import cleaning
from services.cleaning import clean_field, parse_amount
from services.core import Core
from services.inputs import NumberRejected, parse_number, safe_text
from storage.db import Database
from storage.models import Customer
from tests.test_ingest_support import bearer, count, live_server, make_team, rows, set_secrets, signed, sqlite_only

LEAD = {"name": "张伟", "phone": "13800138000", "company": "华东精密机械有限公司"}


@pytest.fixture(autouse=True)
def _secrets(monkeypatch):
    set_secrets(monkeypatch)


# --- the shared number parser ------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("1e5", 100000), ("1_000", 1000), ("1,000", 1000), ("5万", 50000), ("5k", 5000), ("１２万", 120000),
    ("１,０００元", 1000), ("12.5w", 125000), ("约5万元", 50000), ("50,000元", 50000), (3, 3), (2.5, 2.5),
    ("1.2亿", 1.2e8), ("¥ 3,500", 3500),
])
def test_numbers_are_read_one_way(raw, expected):
    assert parse_number(raw, "amount") == expected


@pytest.mark.parametrize("raw, reason", [
    ("-5", "negative"), (-5, "negative"), ("−3万", "negative"), ("1e400", "plausible"), (float("inf"), "plausible"),
    (float("nan"), "plausible"), (10 ** 401, "plausible"), ("9" * 401, "plausible"), ("2e11", "plausible"),
])
def test_unacceptable_numbers_are_refused_naming_the_field(raw, reason):
    with pytest.raises(NumberRejected) as info:
        parse_number(raw, "amount")
    assert info.value.field == "amount" and reason in info.value.reason_en and "amount" in info.value.reason_zh


def test_the_quality_gate_and_the_quick_update_use_the_parser(config):
    from datetime import datetime
    now = datetime(2026, 11, 26, 1, 0)
    assert clean_field("amount", "1e5", config, now) == 100000
    assert clean_field("amount", "1_000", config, now) == 1000
    for bad in ("-5", 10 ** 401, "1e400"):
        with pytest.raises(Exception) as info:
            clean_field("amount", bad, config, now)
        assert info.value.problem.field == "amount"
    assert parse_amount("-5") is None and parse_amount("已报价１２万") == 120000


def test_size_bands_refuse_infinite_and_negative_and_tag_nothing(config):
    for raw in (float("inf"), "1e400", -5, "-20人"):
        out = cleaning.clean({"name": "王五", "phone": "13800000001", "规模": raw}, config)
        assert [p.field for p in out.problems] == ["size"], raw
        assert not any("inf" in tag or "规模" in tag for tag in out.tags), out.tags
    assert cleaning.clean({"name": "王五", "规模": "1e3"}, config).data["size"] == "大型"
    assert cleaning.clean({"name": "王五", "规模": "50-199人"}, config).data["size"] == "中型"


def test_safe_text_removes_nul_controls_and_lone_surrogates():
    assert safe_text("张\x00伟\ud800\x07 ＡＢＣ１２３") == "张伟 ABC123"


def test_erp_orders_use_the_parser(config):
    base = {"order_id": "SO-1", "customer": {"name": "华东精密", "phone": "13800138000"}}
    assert parse_order({**base, "amount": "1,000"}).amount == 1000
    for bad in (float("nan"), float("inf"), -1, 10 ** 401, "1e400"):
        with pytest.raises(OrderError) as info:
            parse_order({**base, "amount": bad})
        assert info.value.field == "amount"


# --- the ingestion server ------------------------------------------------------------------------

def _body(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=True).encode()   # "\ud800" travels as a JSON escape


async def test_nul_bytes_are_removed_and_the_lead_is_stored(core):
    make_team(core)
    async with live_server(core) as (_, client, _app):
        body, headers = signed(core, _body({**LEAD, "name": "张\u0000伟", "company": "华东\u0000精密机械有限公司",
                                            "note\u0000": "请\u0000回电"}))
        r = await client.post("/api/leads", content=body, headers=headers)
    assert r.status_code == 201, r.text
    [c] = rows(core, Customer)
    assert (c.name, c.company) == ("张伟", "华东精密机械有限公司")


async def test_lone_surrogates_get_an_encodable_answer(core):
    make_team(core)
    async with live_server(core) as (_, client, _app):
        junk, headers = signed(core, _body({"name": "\ud800", "phone": "13800138000", "\udfff": "x"}))
        r1 = await client.post("/api/leads", content=junk, headers=headers)
        ok, headers = signed(core, _body({**LEAD, "name": "张\ud800伟"}))
        r2 = await client.post("/api/leads", content=ok, headers=headers)
    assert r1.status_code == 422 and [e["field"] for e in r1.json()["errors"]] == ["name"]
    assert r2.status_code == 201 and rows(core, Customer)[0].name == "张伟"


@sqlite_only
async def test_absurd_and_negative_numbers_get_422_naming_the_field(core):
    make_team(core)
    cases = [
        (b'{"name": "\xe5\xbc\xa0\xe4\xbc\x9f", "phone": "13800138000", "amount": ' + b"9" * 401 + b"}", "amount"),
        (_body({**LEAD, "amount": "9" * 401}), "amount"),
        (_body({**LEAD, "amount": "-5"}), "amount"),
        (b'{"name": "\xe5\xbc\xa0\xe4\xbc\x9f", "phone": "13800138000", "employees": 1e400}', "employees"),
        (_body({**LEAD, "规模": "1e400"}), "size"),
        (_body({**LEAD, "规模": "-5"}), "size"),
    ]
    async with live_server(core) as (_, client, _app):
        for raw, field in cases:
            body, headers = signed(core, raw)
            r = await client.post("/api/leads", content=body, headers=headers)
            assert r.status_code == 422, (raw[:80], r.status_code, r.text)
            assert [e["field"] for e in r.json()["errors"]] == [field], r.text
        good, headers = signed(core, _body({**LEAD, "amount": "1e5", "规模": "1_000人"}))
        r = await client.post("/api/leads", content=good, headers=headers)
    assert r.status_code == 201, r.text
    [c] = rows(core, Customer)
    assert c.amount == 100000 and c.size == "大型" and "规模:inf" not in (c.tags or [])


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
async def test_one_idempotency_key_with_two_bodies_at_two_instances_at_once(db_url, core, config, monkeypatch):
    """Two servers on one database (two processes in production), the same key, different bodies, at once."""
    if db_url.startswith("postgresql"):
        from tests.conftest import PG_OK
        if not PG_OK:
            pytest.skip("PostgreSQL not reachable")
        # Both transactions pass the "key already stored?" check before either commits: the
        # interleaving that makes the second insert of the key fail in the database.
        import ingest.server as server
        barrier = threading.Barrier(2, timeout=10)
        real = server.process_lead

        def both_inside(*args, **kwargs):
            barrier.wait()
            return real(*args, **kwargs)
        monkeypatch.setattr(server, "process_lead", both_inside)
    make_team(core)
    other = Core(db=Database(db_url), config=config, clock=core.clock)
    try:
        async with live_server(core) as (_, c1, _app1), live_server(other) as (_, c2, _app2):
            headers = {**bearer(), "Idempotency-Key": "same-key-1"}
            r1, r2 = await asyncio.gather(
                c1.post("/api/leads", json=LEAD, headers=headers),
                c2.post("/api/leads", json={**LEAD, "name": "李四", "phone": "13900139000"}, headers=headers))
    finally:
        other.db.close()
    statuses = sorted([r1.status_code, r2.status_code])
    assert statuses in ([201, 409], [201, 422]), (r1.text, r2.text)
    loser = r1 if r1.status_code != 201 else r2
    assert loser.json()["error"] in ("validation", "conflict")
    assert count(core, Customer) == 1


# --- logs ------------------------------------------------------------------------------------------

SECRET_NAME, SECRET_PHONE = "机密客户甲", "13912345678"


def test_database_errors_carry_no_parameter_values(core):
    """A foreign-key violation with a customer's name and phone in the INSERT: the error text has neither."""
    def insert(session):
        session.add(Customer(team_id=999_999, name=SECRET_NAME, phone=SECRET_PHONE, stage="lead"))
        session.flush()
    with pytest.raises(DBAPIError) as info:
        core.db.call(insert)
    assert SECRET_NAME not in str(info.value) and SECRET_PHONE not in str(info.value)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_database_error_during_ingestion_logs_no_customer_values(db_url, core, caplog):
    """A data error raised by the database itself (a trigger) while storing a lead: 500, logged
    as one line with the error class, without the SQL parameters (name, phone)."""
    from tests.conftest import PG_OK
    if not PG_OK:
        pytest.skip("PostgreSQL not reachable")
    name = f"refuse_{uuid.uuid4().hex[:8]}"
    with core.db.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                             f"RAISE EXCEPTION USING MESSAGE = 'refused', ERRCODE = 'data_exception'; END $$")
        conn.exec_driver_sql(f"CREATE TRIGGER {name} BEFORE INSERT ON customer FOR EACH ROW EXECUTE FUNCTION {name}()")
    make_team(core)
    caplog.set_level(logging.DEBUG)
    async with live_server(core) as (_, client, _app):
        r = await client.post("/api/leads", json={**LEAD, "name": SECRET_NAME, "phone": SECRET_PHONE}, headers=bearer())
    assert r.status_code == 500 and SECRET_NAME not in r.text
    logged = caplog.text
    assert "database error" in logged
    assert SECRET_NAME not in logged and SECRET_PHONE not in logged


# --- the spreadsheet importer --------------------------------------------------------------------

def test_sheet_cells_with_nul_and_surrogates_are_cleaned(config):
    content = "姓名,电话,公司,金额\n张\x07伟,13800138000,华东\u200b精密,１,０００\n".encode("utf-8")
    [row] = read_file(content, "lead\ud800s.csv", config)
    assert row.values["姓名"] == "张伟" and row.values["公司"] == "华东精密" and row.file == "leads.csv"
    cleaned = cleaning.clean(row.values, config)
    assert cleaned.data["name"] == "张伟" and not cleaned.problems


# --- connectors ------------------------------------------------------------------------------------

async def test_a_vendor_page_with_nul_surrogates_and_odd_numbers_is_cleaned(core, monkeypatch):
    """An ERP page carrying NUL, a lone surrogate, "1,000" and NaN (all legal in its JSON): the order is
    stored cleaned with the amount read by the shared parser; the NaN order is refused alone."""
    from ingest.connectors.runs import run_connector
    from tests.fakevendor import FakeVendor
    from tests.test_connectors import TOKEN, configure, no_sleep, order
    monkeypatch.setenv("SALESBOT_ERP_TOKEN", TOKEN)
    make_team(core)
    async with FakeVendor(TOKEN) as vendor:
        configure(core, vendor)
        vendor.add_order(order("SO-1", phone="13700000000", company="远航\u0000物流\ud800有限公司", contract_status="signed",
                               amount="1,000"))
        vendor.add_order(order("SO-2", phone="13700000001", company="宏达物流有限公司", amount=float("nan")))
        run = await run_connector(core, "erp", sleep=no_sleep)
    assert run.status in ("ok", "partial"), run.log
    [c] = rows(core, Customer)
    assert c.company == "远航物流有限公司" and c.amount == 1000
    assert any("amount" in str(e) for e in run.log), run.log
