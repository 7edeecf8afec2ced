"""The ingestion server over real HTTP: auth, replay, idempotency, limits, validation, assignment, push."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ingest.assignment import priority_of
from storage.models import Activity, Customer, FieldHistory, Outbox, Task
from storage.models_ingest import IdempotencyKey, IngestNonce
from tests.test_ingest_support import sqlite_only, bearer, count, live_server, make_team, now_ts, rows, set_secrets, signed

LEAD = {"your_name": "张伟", "mobile": "+86 138-0013-8000", "company_name": "华东精密机械(苏州)有限公司",
        "product": "数控机床，想要报价", "行业": "机械加工", "规模": "200人", "utm_source": "baidu"}


@pytest.fixture(autouse=True)
def _secrets(monkeypatch):
    set_secrets(monkeypatch)


def nothing_stored(core) -> bool:
    return count(core, Customer) == 0 and count(core, Outbox) == 0 and count(core, IngestNonce) == 0 \
        and count(core, IdempotencyKey) == 0 and count(core, FieldHistory) == 0


async def test_signed_lead_is_cleaned_assigned_and_pushed(core):
    _, mgr, rep0, rep1 = make_team(core)
    async with live_server(core) as (_, client, _app):
        body, headers = signed(core, LEAD)
        r = await client.post("/api/leads", content=body, headers=headers)
    assert r.status_code == 201, r.text
    data = r.json()
    assert data["status"] == "created" and data["owner_id"] == rep0.id
    assert data["source_label"] == "线上渠道-主动咨询"
    assert data["priority"] == 30 + 20 and data["priority_level"] == "medium"   # website + 报价 in the interest
    assert data["tags"] == ["行业:制造业", "规模:中型"]
    assert data["ignored_fields"] == ["utm_source"]
    c = rows(core, Customer)[0]
    assert (c.name, c.contact, c.phone, c.company, c.industry, c.size, c.source) == (
        "张伟", "张伟", "13800138000", "华东精密机械(苏州)有限公司", "制造业", "中型", "线上渠道-主动咨询")
    assert c.owner_id == rep0.id and c.priority == 50 and c.protected_until is not None
    # where each field came from
    history = {h.field: h for h in rows(core, FieldHistory, FieldHistory.customer_id == c.id)}
    assert history["phone"].source == "api:website" and history["phone"].source_ref.startswith("sig:")
    assert history["interest"].value == "数控机床,想要报价" and history["priority"].value == "50"
    # the owner's task card is in the outbox (same transaction), with the card's buttons
    [card] = rows(core, Outbox)
    assert card.chat_id == rep0.tg_id and card.kind == "card" and card.dedupe_key == f"lead:{c.id}"
    assert "新线索" in card.payload["text"] and "华东精密机械(苏州)有限公司" in card.payload["text"]
    assert "数控机床" in card.payload["text"] and card.payload["reply_markup"]["inline_keyboard"]
    # and a first-contact reminder
    [task] = rows(core, Task)
    assert task.user_id == rep0.id and task.kind == "followup"
    assert task.due_at == core.clock.now() + timedelta(minutes=30)
    assert count(core, Activity, Activity.kind == "note") == 1


@sqlite_only
async def test_form_encoded_lead_with_bearer_token_round_robins(core):
    _, _, rep0, rep1 = make_team(core)
    async with live_server(core) as (_, client, _app):
        owners = []
        for i in range(3):
            r = await client.post("/api/leads", data={"姓名": f"客户{i}", "电话": f"1390000000{i}", "公司": f"公司{i}号"},
                                  headers=bearer("outbound"))
            assert r.status_code == 201, r.text
            assert r.json()["source_label"] == "外呼-被动响应"
            owners.append(r.json()["owner_id"])
    assert owners == [rep0.id, rep1.id, rep0.id]


AUTH_CASES = ["none", "bad_signature", "wrong_secret", "stale", "future", "unknown_source", "bad_token",
              "token_of_other_source", "no_timestamp", "signed_with_bearer_only_source"]


def auth_case(core, case):
    body, headers = signed(core, LEAD)
    if case == "none":
        headers = {"Content-Type": "application/json"}
    elif case == "bad_signature":
        headers["X-Salesbot-Signature"] = "sha256=" + "0" * 64
    elif case == "wrong_secret":
        body, headers = signed(core, LEAD, secret="another-secret-0123456789")
    elif case == "stale":
        body, headers = signed(core, LEAD, ts=now_ts(core) - 301)
    elif case == "future":
        body, headers = signed(core, LEAD, ts=now_ts(core) + 301)
    elif case == "unknown_source":
        headers["X-Salesbot-Source"] = "nosuchsource"
    elif case == "bad_token":
        headers = {"Content-Type": "application/json", "Authorization": "Bearer nope-nope-nope-nope"}
    elif case == "token_of_other_source":
        headers = {"Content-Type": "application/json", "X-Salesbot-Source": "website", **bearer("outbound")}
    elif case == "no_timestamp":
        del headers["X-Salesbot-Timestamp"]
    elif case == "signed_with_bearer_only_source":   # systems accepts HMAC only: its secret as a token fails
        headers = {"Content-Type": "application/json", "Authorization": "Bearer systems-secret-0123456789"}
    return body, headers


@sqlite_only
async def test_unauthenticated_requests_are_refused_and_store_nothing(core):
    make_team(core)
    async with live_server(core) as (_, client, _app):
        for case in AUTH_CASES:
            body, headers = auth_case(core, case)
            r = await client.post("/api/leads", content=body, headers=headers)
            assert r.status_code == 401, (case, r.text)
            assert r.json()["error"] == "unauthorized" and r.json()["reason"], case
            assert "WWW-Authenticate" in r.headers
    assert nothing_stored(core)


@sqlite_only
async def test_signed_request_within_window_is_accepted(core):
    make_team(core)
    async with live_server(core) as (_, client, _app):
        body, headers = signed(core, LEAD, ts=now_ts(core) - 299)
        r = await client.post("/api/leads", content=body, headers=headers)
    assert r.status_code == 201


async def test_a_replayed_signed_request_is_refused(core):
    make_team(core)
    async with live_server(core) as (_, client, _app):
        body, headers = signed(core, LEAD)
        first = await client.post("/api/leads", content=body, headers=headers)
        again = await client.post("/api/leads", content=body, headers=headers)
        # even after the window the stale timestamp refuses it
        core.clock.advance(timedelta(minutes=10))
        late = await client.post("/api/leads", content=body, headers=headers)
    assert first.status_code == 201
    assert again.status_code == 401 and "replay" in again.json()["reason"]
    assert late.status_code == 401 and "window" in late.json()["reason"]
    assert count(core, Customer) == 1 and count(core, Outbox) == 1


async def test_idempotent_retry_returns_the_first_answer_once(core):
    make_team(core)
    async with live_server(core) as (_, client, _app):
        key = {"Idempotency-Key": "lead-7f3a"}
        body, headers = signed(core, LEAD, extra=key)
        first = await client.post("/api/leads", content=body, headers=headers)
        # a retry re-signed a second later (new signature, same key and body)
        core.clock.advance(timedelta(seconds=1))
        body2, headers2 = signed(core, LEAD, extra=key)
        retry = await client.post("/api/leads", content=body2, headers=headers2)
        # the exact same bytes again (the client's HTTP library retried): still the first answer
        same = await client.post("/api/leads", content=body, headers=headers)
        # the same key with another body is a client bug
        other_body, other_headers = signed(core, {**LEAD, "mobile": "13900000000"}, extra=key)
        other = await client.post("/api/leads", content=other_body, headers=other_headers)
        # bearer retries work the same way
        b1 = await client.post("/api/leads", json={"name": "李四", "phone": "13700000000"},
                               headers={**bearer(), "Idempotency-Key": "b-1"})
        b2 = await client.post("/api/leads", json={"name": "李四", "phone": "13700000000"},
                               headers={**bearer(), "Idempotency-Key": "b-1"})
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert retry.status_code == 201 and retry.json() == first.json() and retry.headers["Idempotent-Replayed"] == "true"
    assert same.status_code == 201 and same.json() == first.json()
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert b1.status_code == 201 and b2.json() == b1.json()
    assert count(core, Customer) == 2 and count(core, Outbox) == 2 and count(core, Task) == 2


async def test_concurrent_retries_with_one_key_create_one_customer(core):
    import asyncio
    make_team(core)
    async with live_server(core) as (_, client, _app):
        headers = {**bearer(), "Idempotency-Key": "burst-1"}
        results = await asyncio.gather(*(client.post("/api/leads", json=LEAD, headers=headers) for _ in range(8)))
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["customer_id"] for r in results}) == 1
    assert count(core, Customer) == 1 and count(core, Outbox) == 1


@sqlite_only
async def test_oversized_bodies_get_413_and_store_nothing(core):
    make_team(core)
    limit = core.config.ingest.max_body_bytes
    big = {**LEAD, "message": "长" * limit}
    async with live_server(core) as (base, client, _app):
        body, headers = signed(core, big)
        r1 = await client.post("/api/leads", content=body, headers=headers)

        async def chunks():  # no Content-Length: the limit holds while reading
            for _ in range(limit // 1024 + 2):
                yield b"x" * 1024
        r2 = await client.post("/api/leads", content=chunks(), headers=bearer() | {"Content-Type": "application/json"})
        r3 = await client.post("/api/events", content=b"{" + b" " * (limit + 10) + b"}",
                               headers=bearer() | {"Content-Type": "application/json"})
    assert [r1.status_code, r2.status_code, r3.status_code] == [413, 413, 413]
    assert r1.json()["error"] == "too_large"
    assert nothing_stored(core)


BAD_BODIES = [
    (b'{"name": "x", "phone": ', "application/json", 400, None),          # truncated JSON
    (b"\xff\xfe{}", "application/json", 400, None),                       # not UTF-8
    (b'{"name": NaN}', "application/json", 400, None),
    (b"%ff%fe=%ff", "application/x-www-form-urlencoded", 422, "phone"),  # form: undecodable → replaced, then invalid
    (b'["a", "b"]', "application/json", 422, "body"),                    # valid JSON, not an object
    (b"name=x", "text/plain", 415, None),
    ('{"name": "王五", "phone": "12345"}', "application/json", 422, "phone"),
    ('{"name": "王五"}', "application/json", 422, "phone"),               # required by the website source
    ('{"name": "测试", "phone": "13800000001"}', "application/json", 422, "name"),   # junk value
    ('{"name": "王五", "phone": "13800000001", "amount": "lots"}', "application/json", 422, "amount"),
    (b'{"name": {"a": 1}, "phone": "13800000001"}', "application/json", 422, "name"),
    (("{" + ",".join(f'"k{i}": 1' for i in range(101)) + "}"), "application/json", 422, "body"),
]


@sqlite_only
async def test_malformed_and_invalid_bodies(core):
    make_team(core)
    async with live_server(core) as (_, client, _app):
        for content, ctype, status, field in BAD_BODIES:
            body, headers = signed(core, content.encode() if isinstance(content, str) else content)
            headers["Content-Type"] = ctype
            r = await client.post("/api/leads", content=body, headers=headers)
            assert r.status_code == status, (content, r.text)
            if field:
                errors = r.json()["errors"]
                assert field in [e["field"] for e in errors], (content, errors)
                assert all(e["reason"] and e["reason_zh"] for e in errors)
            else:
                assert r.json()["reason"]
    assert nothing_stored(core)


async def test_a_known_customer_is_not_created_twice_and_its_owner_is_told(core):
    _, _, rep0, rep1 = make_team(core)
    async with live_server(core) as (_, client, _app):
        first = await client.post("/api/leads", json=LEAD, headers=bearer())
        again = await client.post("/api/leads", json={"姓名": "张伟", "手机": "13800138000", "留言": "再问一下价格"},
                                  headers=bearer("outbound"))
        group = await client.post("/api/leads", json={"姓名": "刘总", "电话": "13600000000",
                                                      "公司": "华东精密机械集团有限公司"}, headers=bearer())
    assert first.status_code == 201
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert again.json()["customer_id"] == first.json()["customer_id"] and again.json()["matched_by"] == "phone"
    assert group.status_code == 200 and group.json()["matched_by"] == "group"
    assert count(core, Customer) == 1
    notes = rows(core, Activity, Activity.kind == "note", order=Activity.id)
    assert notes[1].text == "再问一下价格" and notes[1].data["repeat"] is True
    notices = rows(core, Outbox, Outbox.kind == "notice")
    assert len(notices) == 2 and {n.chat_id for n in notices} == {rep0.tg_id}
    assert "再次" in notices[0].payload["text"]


@sqlite_only
async def test_no_rep_means_team_pool_and_managers_are_told(core):
    _, mgr = make_team(core, reps=0)
    async with live_server(core) as (_, client, _app):
        r = await client.post("/api/leads", json=LEAD, headers=bearer())
    assert r.status_code == 201 and r.json()["owner_id"] is None
    [notice] = rows(core, Outbox)
    assert notice.chat_id == mgr.tg_id and "公海" in notice.payload["text"]


async def test_assignment_strategies(core):
    from ingest import assignment as assign
    _, _, rep0, rep1, rep2 = make_team(core, reps=3, names=("华东张", "华南李", "销售王"))
    config = core.config

    def choose(strategy, data, extras=None, rules=()):
        cfg = config.model_copy(deep=True)
        cfg.assignment.strategy = strategy
        cfg.assignment.rules = list(rules)
        return core.db.call(lambda s: assign.choose_owner(s, cfg, assign.lead_team(s, cfg, core.clock.now()), data,
                                                          extras or {}).owner.id)

    from core.config import AssignmentRule
    rules = [AssignmentRule(field="region", values=["上海", "江苏", "浙江"], reps=["华东张"]),
             AssignmentRule(field="region", values=["广东", "深圳"], reps=["@rep1"]),
             AssignmentRule(field="industry", values=["制造业"], reps=[102])]
    assert choose("territory", {"company": "苏州某某"}, {"region": "江苏苏州"}, rules) == rep0.id
    assert choose("territory", {"company": "深圳光电有限公司"}, {}, rules) == rep1.id     # region from the company
    assert choose("industry", {"industry": "制造业"}, {}, rules) == rep2.id
    # load: give rep0 and rep2 customers; rep1 is least loaded
    from services.customers import create_customer
    for i, rep in enumerate([rep0, rep0, rep2]):
        core.db.call(create_customer, config, rep.team_id, {"name": f"负载{i}", "phone": f"1350000000{i}"},
                     core.clock.now(), actor=rep, owner_id=rep.id)
    assert choose("load", {"name": "x"}) == rep1.id
    assert choose("territory", {"company": "成都"}, {}, rules) == rep0.id   # no rule: round robin from the start


@pytest.mark.parametrize("source,data,extras,expected", [
    ("website", {}, {}, 30),
    ("website", {}, {"interest": "想要报价"}, 50),
    ("website", {"size": "大型", "amount": "20万"}, {"interest": "试用"}, 80),
    ("outbound", {"amount": 50000}, {}, 10),
    ("outbound", {"amount": 150000}, {}, 25),
    (None, {"size": "大型"}, {"interest": "采购合同报价"}, 35),
])
def test_priority_table(config, source, data, extras, expected):
    assert priority_of(config, config.sources.get(source) if source else None, data, extras) == expected


async def test_events_activity_field_update_order_and_repeat(core):
    _, _, rep0, _ = make_team(core)

    def event(body):
        return signed(core, body, "systems")

    async with live_server(core) as (_, client, _app):
        lead = await client.post("/api/leads", json=LEAD, headers=bearer())
        cid = lead.json()["customer_id"]
        r1 = await client.post("/api/events", content=(e := event({"id": "e1", "type": "activity", "data": {
            "customer": {"phone": "138 0013 8000"}, "kind": "email", "text": "客户回复了方案邮件"}}))[0], headers=e[1])
        r2 = await client.post("/api/events", content=(e := event({"id": "e2", "type": "field_update", "data": {
            "customer": {"id": cid}, "fields": {"main_product": "精密轴承", "budget": "30万"}}}))[0], headers=e[1])
        bad = await client.post("/api/events", content=(e := event({"id": "e3", "type": "field_update", "data": {
            "customer": {"id": cid}, "fields": {"industry": "教育", "budget": "很多"}}}))[0], headers=e[1])
        unknown = await client.post("/api/events", content=(e := event({"id": "e4", "type": "activity", "data": {
            "customer": {"phone": "13111111111"}, "text": "x"}}))[0], headers=e[1])
        core.clock.advance(timedelta(seconds=1))
        repeat = await client.post("/api/events", content=(e := event({"id": "e1", "type": "activity", "data": {
            "customer": {"id": cid}, "text": "again"}}))[0], headers=e[1])
        wrong = await client.post("/api/events", content=(e := event({"id": "", "type": "party", "data": []}))[0],
                                  headers=e[1])
        lead_event = await client.post("/api/events", content=(e := event({"id": "e5", "type": "lead", "data": {
            "name": "孙七", "phone": "13500000009"}}))[0], headers=e[1])
        form = await client.post("/api/events", data={"id": "x"}, headers=bearer())
    assert r1.status_code == 200 and r1.json() == {"status": "recorded", "customer_id": cid, "event_id": "e1"}
    assert r2.status_code == 200 and r2.json()["fields"] == ["budget", "main_product"]
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["data.fields.budget"]
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "data.customer"
    assert repeat.status_code == 200 and repeat.json()["status"] == "already_processed"
    assert wrong.status_code == 422 and {e["field"] for e in wrong.json()["errors"]} == {"id", "type", "data"}
    assert lead_event.status_code == 201 and lead_event.json()["status"] == "created"
    assert form.status_code == 415
    c = core.db.call(lambda s: s.get(Customer, cid))
    assert c.custom["main_product"] == "精密轴承" and c.custom["budget"] == 300000
    assert c.industry == "制造业"                               # the refused event changed nothing
    history = rows(core, FieldHistory, FieldHistory.customer_id == cid, FieldHistory.field == "budget")
    assert [(h.source, h.source_ref, h.by_user_id) for h in history] == [("api:systems", "event:e2", None)]
    assert count(core, Activity, Activity.kind == "external") == 1


async def test_metrics_can_require_a_bearer_token(core, monkeypatch):
    monkeypatch.setenv("SALESBOT_METRICS_TOKEN", "scrape-secret")
    make_team(core)
    async with live_server(core) as (_, client, _app):
        anonymous = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer guess"})
        scraper = await client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
        health = await client.get("/healthz")
    assert anonymous.status_code == wrong.status_code == 401
    assert "salesbot_ingest_requests_total" not in anonymous.text
    assert scraper.status_code == 200 and "salesbot_outbox_pending" in scraper.text
    assert health.status_code == 200  # load balancers keep probing without a token


@sqlite_only
async def test_healthz_metrics_and_openapi(core):
    make_team(core)
    async with live_server(core) as (_, client, _app):
        await client.post("/api/leads", json=LEAD, headers=bearer())
        await client.post("/api/leads", json=LEAD, headers={"Content-Type": "application/json"})
        health = await client.get("/healthz")
        metrics = await client.get("/metrics")
        doc = await client.get("/api/openapi.json")
        missing = await client.get("/api/nothing")
        method = await client.get("/api/leads")
    assert health.status_code == 200 and health.json() == {"ok": True, "db": True}
    text = metrics.text
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'salesbot_ingest_leads_total{result="created",source="website"} 1' in text
    assert 'salesbot_ingest_requests_total{route="/api/leads",status="401"} 1' in text
    assert 'salesbot_ingest_auth_failures_total{reason="missing credentials"} 1' in text
    assert "salesbot_outbox_pending 1" in text
    assert "salesbot_ingest_request_seconds_bucket" in text
    assert doc.json()["paths"]["/api/leads"]["post"]["operationId"] == "postLead"
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert method.status_code == 405


def test_openapi_document_is_valid_and_matches_the_routes(config):
    from types import SimpleNamespace

    from ingest.server import build_app, openapi_document
    doc = openapi_document()
    assert doc["openapi"].startswith("3.")
    app = build_app(SimpleNamespace(config=config, db=SimpleNamespace(is_sqlite=True)))
    routes = {(r.method, r.resource.canonical) for r in app.router.routes() if r.method != "HEAD"}
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert routes == documented


@sqlite_only
async def test_lead_push_wakes_the_sender(core):
    class Sender:
        woken = 0

        def wake(self):
            Sender.woken += 1

    class App:
        bot_data = {"sender": Sender()}

    make_team(core)
    async with live_server(core, App()) as (_, client, _app):
        r = await client.post("/api/leads", json=LEAD, headers=bearer())
        bad = await client.post("/api/leads", json={"name": "x"}, headers=bearer())
    assert r.status_code == 201 and bad.status_code == 422
    assert Sender.woken == 1


def test_json_dumps_chinese_unescaped():
    assert json.dumps({"a": "中"}, ensure_ascii=False) == '{"a": "中"}'
