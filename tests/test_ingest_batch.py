"""POST /api/leads/batch: the same pipeline as /api/leads, row by row, with per-row results."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import MetaData, select

from services.core import Core
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Customer, Outbox
from storage.models_ingest import IdempotencyKey
from tests.conftest import drop_pg_schema, fresh_pg_schema_url
from tests.test_ingest_support import bearer, count, live_server, make_team, set_secrets, signed

LEADS = [
    {"your_name": "张伟", "mobile": "13800138000", "company_name": "华东精密机械(苏州)有限公司",
     "product": "数控机床，想要报价", "行业": "机械加工", "规模": "200人", "utm_source": "x"},
    {"your_name": "李娜", "mobile": "13900139000", "company_name": "南方软件有限公司", "行业": "软件",
     "message": "请尽快联系"},
    {"your_name": "王强", "mobile": "13700137000", "company_name": "北辰教育科技有限公司", "规模": "50人"},
    {"your_name": "张伟", "mobile": "138-0013-8000", "product": "再问一次"},              # the first one again
    {"your_name": "赵六", "mobile": "12"},                                                # invalid phone
    {"your_name": "周七", "mobile": "13600136000", "company_name": "南方软件有限公司"},   # the company of #1
    {"your_name": "孙八", "mobile": "13500135000", "company_name": "东海重工集团有限公司", "地区": "上海"},
    {"your_name": "钱十", "mobile": "13200132000", "company_name": "杭州西湖龙井茶业股份有限公司"},  # like the stored one
]
STORED = {"your_name": "钱九", "mobile": "13300133000", "company_name": "西湖龙井茶业有限公司"}
TABLES = ("customer", "fieldhistory", "activity", "stagechange", "task", "outbox", "companygram", "assignmentcursor")
_REF = re.compile(r"req:[0-9a-f]{16}(#\d+)?")


@pytest.fixture(autouse=True)
def _secrets(monkeypatch):
    set_secrets(monkeypatch)


def _plain(value):
    if isinstance(value, str):
        return _REF.sub("REF", value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "ref"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def snapshot(core) -> dict[str, list]:
    """Every row the intake writes, without ids of its own table and request references."""
    meta = MetaData()
    meta.reflect(core.db.engine, only=list(TABLES))
    out = {}
    with core.db.engine.connect() as conn:
        for name in TABLES:
            table = meta.tables[name]
            rows = [{k: _plain(v) for k, v in r._mapping.items() if k not in ("id", "source_ref")}
                    for r in conn.execute(select(table))]
            out[name] = sorted(rows, key=repr)
    return out


@pytest.fixture
def twin(core, tmp_path):
    """A second, empty database with the same team (same ids) for the one-by-one run."""
    if core.db.is_sqlite:
        url, schema = f"sqlite:///{tmp_path / 'twin.db'}", None
    else:
        url, schema = fresh_pg_schema_url()
    upgrade(url)
    other = Core(db=Database(url), config=core.config, clock=core.clock)
    yield other
    other.db.close()
    if schema:
        drop_pg_schema(schema)


async def test_a_batch_stores_exactly_what_the_leads_one_by_one_store(core, twin):
    for c in (core, twin):
        make_team(c)
    async with live_server(twin) as (_, client, _app):
        assert (await client.post("/api/leads", json=STORED, headers=bearer())).status_code == 201
        singles = [await client.post("/api/leads", json=lead, headers=bearer()) for lead in LEADS]
    async with live_server(core) as (_, client, _app):
        assert (await client.post("/api/leads", json=STORED, headers=bearer())).status_code == 201
        r = await client.post("/api/leads/batch", json={"leads": LEADS}, headers=bearer())
    assert r.status_code == 200, r.text
    data = r.json()
    assert (data["created"], data["duplicate"], data["invalid"]) == (4, 3, 1)
    assert [row["index"] for row in data["results"]] == list(range(len(LEADS)))
    # the repeat (#3, phone) and the same company (#5) are duplicates of earlier rows of the batch
    assert [row["code"] for row in data["results"]] == [s.status_code for s in singles] == [201, 201, 201, 200, 422, 200, 201, 200]
    for row, single in zip(data["results"], singles):
        expected = dict(single.json())
        if single.status_code == 422:
            expected["status"] = "invalid"
        assert {k: v for k, v in row.items() if k not in ("index", "code")} == expected
    # the same rows: customers, history, activities, stage entries, tasks, cards and notices,
    # duplicate-guard grams and the round-robin position
    assert snapshot(core) == snapshot(twin)
    assert count(core, Outbox, Outbox.kind == "card") == 5  # the stored lead and four new ones


async def test_batch_idempotency_signature_and_limits(core):
    make_team(core)
    async with live_server(core) as (_, client, _app):
        body, headers = signed(core, {"leads": LEADS[:3]}, extra={"Idempotency-Key": "batch-1"})
        first = await client.post("/api/leads/batch", content=body, headers=headers)
        retry = await client.post("/api/leads/batch", content=body, headers=headers)      # a retry
        once, headers_once = signed(core, {"leads": LEADS[6:7]})                          # no key
        first_once = await client.post("/api/leads/batch", content=once, headers=headers_once)
        again = await client.post("/api/leads/batch", content=once, headers=headers_once)  # same signature
        other, headers3 = signed(core, {"leads": LEADS[3:4]}, extra={"Idempotency-Key": "batch-1"})
        clash = await client.post("/api/leads/batch", content=other, headers=headers3)
        empty = await client.post("/api/leads/batch", json={"leads": []}, headers=bearer())
        many = await client.post("/api/leads/batch", json={"leads": [LEADS[0]] * 501}, headers=bearer())
        extra = await client.post("/api/leads/batch", json={"leads": LEADS[:1], "x": 1}, headers=bearer())
        not_list = await client.post("/api/leads/batch", json={"leads": {"a": 1}}, headers=bearer())
        no_auth = await client.post("/api/leads/batch", json={"leads": LEADS[:1]})
    assert first.status_code == 200 and first.json()["created"] == 3
    assert first_once.status_code == 200 and again.status_code == 401, first_once.text  # a signature counts once
    assert retry.status_code == 200 and retry.headers.get("Idempotent-Replayed") == "true", retry.text
    assert retry.json() == first.json()
    assert clash.status_code == 422
    assert [r.status_code for r in (empty, many, extra, not_list)] == [422, 422, 422, 422]
    assert no_auth.status_code == 401
    assert count(core, Customer) == 4 and count(core, IdempotencyKey) == 1


async def test_concurrent_leads_share_commits_and_a_failing_one_touches_no_other(core):
    """Grouped commits: requests arriving together; an invalid lead, a replayed signature and a
    repeat of a lead in the same burst each get their own answer, the others are all stored."""
    import asyncio

    from ingest.server import INGEST
    make_team(core)
    leads = [{"your_name": f"客户{i}", "mobile": f"1390000{i:04d}", "company_name": f"第{i}号测试有限公司"}
             for i in range(12)]
    replayed = signed(core, {"your_name": "重放", "mobile": "13911112222"})
    async with live_server(core) as (_, client, app):
        first = await client.post("/api/leads", content=replayed[0], headers=replayed[1])
        posts = [client.post("/api/leads", json=lead, headers=bearer()) for lead in leads]
        posts.insert(3, client.post("/api/leads", json={"your_name": "坏", "mobile": "12"}, headers=bearer()))
        posts.insert(7, client.post("/api/leads", content=replayed[0], headers=replayed[1]))
        posts.append(client.post("/api/leads", json=leads[0], headers=bearer()))
        answers = await asyncio.gather(*posts)
        committer = app[INGEST].committer
    assert first.status_code == 201
    codes = [a.status_code for a in answers]
    assert codes[3] == 422 and codes[7] == 401
    # leads[0] and its repeat: whichever is processed first is created, the other is the duplicate
    assert sorted([codes[0], codes[-1]]) == [200, 201]
    assert codes[1:3] + codes[4:7] + codes[8:-1] == [201] * 11
    assert count(core, Customer) == 13 and count(core, Outbox, Outbox.kind == "card") == 13
    assert committer.works >= len(posts) + 1  # every request went through the group committer


STORED_MORE = [
    {"your_name": "钱九", "mobile": "13300133000", "company_name": "西湖龙井茶业有限公司"},
    {"your_name": "Ann", "mobile": "+86 131 0000 0001", "company_name": "ACME Trading Ltd"},
    {"your_name": "吴一", "mobile": "13100000002", "company_name": "华北机械一厂"},
]
MIXED = [
    # new, then the same phone in other spellings (+86, dashes, full-width digits, two numbers)
    {"your_name": "张伟", "mobile": "13800138000", "company_name": "华东精密机械(苏州)有限公司", "product": "想要报价"},
    {"your_name": "张伟2", "mobile": "+86 138-0013-8000", "product": "再问一次"},
    {"your_name": "张伟3", "mobile": "１３８００１３８０００"},
    {"your_name": "某人", "mobile": "021-5555 6666 / 13800138000"},
    # against stored customers: the group, a branch, look-alike letters, a code on one side only
    {"your_name": "钱十", "mobile": "13200132000", "company_name": "杭州西湖龙井茶业股份有限公司"},
    {"your_name": "Bob", "mobile": "13200132001", "company_name": "АСМЕ Trading Co., Ltd."},  # Cyrillic А С М Е
    {"your_name": "Carl", "mobile": "13200132002", "company_name": "Acme Tradng Ltd"},
    {"your_name": "郑二", "mobile": "13200132003", "company_name": "华北机械二厂"},  # another factory: new
    {"your_name": "郑三", "mobile": "13200132004", "company_name": "华北机械"},
    # inside the batch: a company of an earlier row, its branch, a near spelling, a different code
    {"your_name": "李娜", "mobile": "13900139000", "company_name": "南方软件有限公司", "行业": "软件"},
    {"your_name": "周七", "mobile": "13600136000", "company_name": "南方软件(广州)分公司"},
    {"your_name": "周八", "mobile": "13600136001", "company_name": "南方软件科技有限公司"},
    {"your_name": "冯一", "mobile": "13600136002", "company_name": "东方门店A01"},
    {"your_name": "冯二", "mobile": "13600136003", "company_name": "东方门店A02"},
    # bad rows
    {"your_name": "赵六", "mobile": "12"},
    {"your_name": "无", "mobile": "13600136004"},
    {"mobile": "13600136005"},
    {"your_name": "钱七", "mobile": "13600136006", "规模": "-5人"},
    "not an object",
    # plain new leads (enough for the multi-row writes, some left in the pool)
    *[{"your_name": f"客户{i}", "mobile": f"1370000{i:04d}", "company_name": f"{name}有限公司",
       "行业": ["机械加工", "软件", "教育"][i % 3], "规模": f"{(i % 5) * 100}人", "message": "请联系"}
      for i, name in enumerate(["星河光电", "青山水泥", "白云物流", "金石矿业", "银川化工", "蓝海渔业",
                                "红叶造纸", "绿洲农业", "紫金电子", "黄河船舶", "长城汽配", "泰山石材"])],
    {"your_name": "客户3b", "mobile": "13700009999", "company_name": "金石矿业集团"},  # group of an earlier row
]


async def test_a_mixed_batch_decides_and_stores_as_one_by_one(core, twin, monkeypatch):
    """Duplicates inside the batch and against stored customers, bad rows, look-alike letters and
    phone spellings, some leads left in the pool: the batch path (one pre-check for the batch,
    multi-row writes, COPY on PostgreSQL) stores exactly what the leads sent one at a time store."""
    from ingest import rows
    monkeypatch.setattr(rows, "COPY_FROM", 2)  # every multi-row write of the batch through COPY on PostgreSQL
    core.config.pool.max_holding = 3  # the eight reps fill up: later leads go to the pool
    for c in (core, twin):
        make_team(c)
    async with live_server(twin) as (_, client, _app):
        for lead in STORED_MORE:
            assert (await client.post("/api/leads", json=lead, headers=bearer())).status_code == 201
        singles = [await client.post("/api/leads", json=lead, headers=bearer()) for lead in MIXED]
    async with live_server(core) as (_, client, _app):
        for lead in STORED_MORE:
            assert (await client.post("/api/leads", json=lead, headers=bearer())).status_code == 201
        r = await client.post("/api/leads/batch", json={"leads": MIXED}, headers=bearer())
    assert r.status_code == 200, r.text
    data = r.json()
    codes = [s.status_code for s in singles]
    assert [row["code"] for row in data["results"]] == codes
    assert codes.count(200) >= 8 and codes.count(422) == 5 and codes.count(201) >= 14  # every kind is exercised
    for row, single in zip(data["results"], singles):
        expected = dict(single.json())
        if single.status_code == 422:
            expected["status"] = "invalid"
            expected.pop("error", None)
            row = {k: v for k, v in row.items() if k != "error"}
        assert {k: v for k, v in row.items() if k not in ("index", "code")} == expected
    assert snapshot(core) == snapshot(twin)
    assert count(core, Outbox, Outbox.kind == "notice") > 0  # pool notices went out too
