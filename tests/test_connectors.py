"""Connectors against a local fake vendor that misbehaves: ERP orders, chat archive, scheduling, history."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from ingest.connectors.base import ItemError, guarded
from ingest.connectors.runs import run_connector
from ingest.history import field_origin, repurchase_by
from scheduler.connectors import ConnectorWorker
from scheduler.jobs import run_due_jobs
from services import customers as cs
from storage.models import Activity, Customer, FieldHistory, IntentRecord, Outbox, PointsEntry, StageChange, Task
from storage.models_ingest import ConnectorCursor, ConnectorRun, ExternalRef
from tests.dbfaults import lift, poison_inserts
from tests.fakevendor import FakeVendor
from tests.test_ingest_support import sqlite_only, count, make_team, rows

TOKEN = "vendor-token-0123456789"


async def no_sleep(_seconds: float) -> None:
    return None


@pytest.fixture
def vendor_env(monkeypatch):
    monkeypatch.setenv("SALESBOT_ERP_TOKEN", TOKEN)
    monkeypatch.setenv("SALESBOT_CHAT_ARCHIVE_TOKEN", TOKEN)


def configure(core, vendor, name="erp", **changes):
    settings = core.config.connectors[name].model_copy(update={
        "enabled": True, "base_url": vendor.base_url, "timeout_seconds": 0.3, "backoff_seconds": 0.01,
        "max_attempts": 4, "page_size": 2, **changes})
    core.config.connectors[name] = settings
    return settings


def customer_at(core, rep, stage, **data):
    values = {"name": "华东精密", "company": "华东精密机械有限公司", "phone": "13800138000", **data}
    return core.db.call(cs.create_customer, core.config, rep.team_id, values, core.clock.now(), actor=rep,
                        owner_id=rep.id, stage=stage).customer


def order(oid, phone="13800138000", company="华东精密机械有限公司", **kw):
    return {"order_id": oid, "customer": {"external_id": f"C-{phone[-4:]}", "name": company[:4], "company": company,
                                          "phone": phone}, **kw}


def get(core, model, ident):
    return core.db.call(lambda s: s.get(model, ident))


async def test_erp_run_moves_to_payment_and_creates_upsell_and_aftersales(core, vendor_env):
    _, mgr, rep, _ = make_team(core)
    c = customer_at(core, rep, "negotiation")
    paid_at = datetime(2026, 11, 25, 8, 0)
    async with FakeVendor(TOKEN) as vendor:
        configure(core, vendor)
        vendor.add_order(order("SO-1", amount=120000, contract_no="HT-2026-001", contract_status="signed",
                               payment_status="paid", paid_amount=120000, paid_at="2026-11-25T08:00:00Z",
                               delivery_status="delivered", delivered_at="2026-11-24T00:00:00Z"))
        run = await run_connector(core, "erp", sleep=no_sleep)
        assert run.status == "ok" and run.applied == 1 and run.pages == 1
        c = get(core, Customer, c.id)
        # 签约 then 回款 (the final stage), and the deal is won
        assert c.stage == "payment" and c.status == "won"
        assert c.custom["contract_no"] == "HT-2026-001" and c.amount == 120000
        moves = [(m.from_stage, m.to_stage) for m in rows(core, StageChange, StageChange.customer_id == c.id,
                                                          order=StageChange.id)]
        assert moves == [(None, "negotiation"), ("negotiation", "contract"), ("contract", "payment"), ("payment", "won")]
        # the owner earns the stage points, pending a manager (≥ approval threshold)
        points = {p.action: p.status for p in rows(core, PointsEntry, PointsEntry.user_id == rep.id)}
        assert points["contract_signed"] == "pending" and points["payment_collected"] == "pending"
        # reminders for the owner: upsell after the payment, after-sales after the delivery
        tasks = {t.kind: t for t in rows(core, Task, Task.customer_id == c.id)}
        assert tasks["upsell"].due_at == paid_at + timedelta(days=90) and tasks["upsell"].user_id == rep.id
        assert tasks["aftersales"].due_at == datetime(2026, 11, 24) + timedelta(days=7)
        assert "SO-1" in tasks["upsell"].text
        # history names the connector run
        stage_history = core.db.call(field_origin, c.id, "stage")
        assert [(h.value, h.source, h.source_ref) for h in stage_history] == [
            ("contract", "connector:erp", f"run:{run.id}/order:SO-1"), ("payment", "connector:erp", f"run:{run.id}/order:SO-1")]
        assert [h.value for h in core.db.call(field_origin, c.id, "order")] == ["SO-1"]
        notices = [o.payload["text"] for o in rows(core, Outbox, Outbox.chat_id == rep.tg_id)]
        assert any("已签约" in n for n in notices) and any("已回款" in n for n in notices)
        # a second run finds nothing new and changes nothing
        run2 = await run_connector(core, "erp", sleep=no_sleep)
        assert run2.status == "ok" and run2.applied == 0
        assert count(core, Task) == 2 and count(core, StageChange) == 4
        assert vendor.requests[-1]["query"]["cursor"] == "1"


@sqlite_only
async def test_unknown_customer_is_created_assigned_and_partial_payment_moves_stage(core, vendor_env):
    _, mgr, rep0, rep1 = make_team(core)
    async with FakeVendor(TOKEN) as vendor:
        configure(core, vendor)
        vendor.add_order(order("SO-9", phone="13700000000", company="远航物流有限公司", contract_status="signed",
                               amount=50000, payment_status="partial", paid_amount=20000))
        run = await run_connector(core, "erp", sleep=no_sleep)
        assert run.status == "ok"
        [c] = rows(core, Customer)
        assert c.owner_id == rep0.id and c.source == "ERP订单" and c.stage == "payment" and c.status == "open"
        assert [h.source for h in core.db.call(field_origin, c.id, "phone")] == ["connector:erp"]
        ref = core.db.call(lambda s: s.exec(select(ExternalRef).where(ExternalRef.kind == "customer")).one())
        assert ref.external_id == "C-0000" and ref.customer_id == c.id
        assert count(core, Task, Task.kind == "upsell") == 0          # not fully paid yet
        vendor.update_order("SO-9", payment_status="paid", paid_amount=50000)
        run = await run_connector(core, "erp", sleep=no_sleep)
        assert run.applied == 1
        c = get(core, Customer, c.id)
        assert c.status == "won" and count(core, Task, Task.kind == "upsell") == 1
        assert count(core, Customer) == 1                             # the same ERP customer, found again


async def test_connector_survives_vendor_failures_without_losing_or_duplicating(core, vendor_env):
    _, _, rep, _ = make_team(core)
    async with FakeVendor(TOKEN, slow_seconds=1.0) as vendor:
        configure(core, vendor)
        for i in range(7):
            vendor.add_order(order(f"SO-{i}", phone=f"1390000000{i}", company=f"客户{i}号有限公司",
                                   contract_status="signed", amount=10000 * (i + 1),
                                   payment_status="paid", paid_amount=10000 * (i + 1)))
        vendor.add_raw("orders", {"order_id": "", "customer": {}})           # malformed: rejected, logged
        vendor.add_raw("orders", {"order_id": "SO-x", "customer": {"phone": "13900000009"},
                                  "payment_status": "maybe"})
        # page 1: three failures, then served; page 2: two; page 3 repeats page 2; page 4: two; page 5 repeats
        vendor.fail("timeout", "500", "bad_json", "ok", "503", "bad_page", "ok", "duplicate", "reset", "429", "ok",
                    "duplicate")
        run = await run_connector(core, "erp", sleep=no_sleep)
    assert run.status == "ok", run.error
    assert run.retries == 7 and run.rejected == 4       # two malformed records, each delivered twice
    assert run.fetched > 9 and run.skipped > 0                         # duplicates were fetched and skipped
    refs = rows(core, ExternalRef, ExternalRef.kind == "order")
    assert sorted(r.external_id for r in refs) == [f"SO-{i}" for i in range(7)]
    assert count(core, Customer) == 7 and count(core, Task, Task.kind == "upsell") == 7
    assert count(core, FieldHistory, FieldHistory.field == "order") == 7
    assert count(core, StageChange, StageChange.to_stage == "won") == 7
    log = get(core, ConnectorRun, run.id).log
    messages = " | ".join(e["msg"] for e in log)
    assert "timeout" in messages and "HTTP 500" in messages and "not JSON" in messages and "rejected order" in messages
    assert vendor.served.count("ok") >= 3


async def test_a_failed_page_keeps_the_cursor_and_the_next_run_resumes(core, vendor_env):
    make_team(core)
    async with FakeVendor(TOKEN) as vendor:
        configure(core, vendor, max_attempts=2)
        for i in range(5):
            vendor.add_order(order(f"SO-{i}", phone=f"1360000000{i}", company=f"甲{i}公司", contract_status="signed",
                                   payment_status="paid", paid_amount=1000))
        vendor.fail("ok", "500", "500")                                  # page 2 fails twice: give up
        first = await run_connector(core, "erp", sleep=no_sleep)
        assert first.status == "partial" and first.pages == 1 and "HTTP 500" in first.error
        assert core.db.call(lambda s: s.get(ConnectorCursor, "erp")).cursor == "2"
        assert count(core, ExternalRef, ExternalRef.kind == "order") == 2
        second = await run_connector(core, "erp", sleep=no_sleep)
        assert second.status == "ok" and second.cursor_before == "2" and second.pages == 2
    assert count(core, ExternalRef, ExternalRef.kind == "order") == 5 and count(core, Task) == 5
    # a vendor refusing our token is not retried
    async with FakeVendor("another-token-xxxxxxxxxx") as vendor:
        configure(core, vendor)
        refused = await run_connector(core, "erp", sleep=no_sleep)
    assert refused.status == "failed" and refused.retries == 0 and "401" in refused.error


async def test_a_crash_mid_run_is_resumed_by_the_worker_after_the_lease(core, vendor_env):
    make_team(core)
    async with FakeVendor(TOKEN) as vendor:
        configure(core, vendor)
        for i in range(6):
            vendor.add_order(order(f"SO-{i}", phone=f"1350000000{i}", company=f"乙{i}公司", contract_status="signed",
                                   payment_status="paid", paid_amount=1000))
        with pytest.raises(RuntimeError):
            await run_connector(core, "erp", sleep=no_sleep, crash_after_pages=1)
        [crashed] = rows(core, ConnectorRun)
        assert crashed.status == "running" and crashed.pages == 1
        worker = ConnectorWorker(core, sleep=no_sleep)
        assert await worker.run_once() == []                           # the lease still holds
        core.clock.advance(timedelta(minutes=11))
        [resumed] = await worker.run_once()
        assert resumed.id == crashed.id and resumed.status == "ok" and resumed.pages == 3
    assert count(core, ExternalRef, ExternalRef.kind == "order") == 6
    assert count(core, Task) == 6 and count(core, FieldHistory, FieldHistory.field == "order") == 6


def test_a_bug_on_one_record_rejects_that_record_and_a_database_error_fails_the_page():
    def bug():
        return 1 / 0

    def refused():
        raise IntegrityError("INSERT", {}, Exception("refused"))

    with pytest.raises(ItemError) as caught:
        guarded(bug)
    assert caught.value.poison and "ZeroDivisionError" in str(caught.value)
    with pytest.raises(IntegrityError):                       # not a poison record: the page must fail
        guarded(refused)


async def test_a_database_error_fails_the_page_the_next_run_resumes_and_a_disabled_connector_does_nothing(
        core, vendor_env):
    make_team(core)
    fault = poison_inserts(core.db, "externalref", "external_id", "SO-2", "poisoned order SO-2")
    async with FakeVendor(TOKEN) as vendor:
        configure(core, vendor)                                          # two orders a page
        for i in range(4):
            vendor.add_order(order(f"SO-{i}", phone=f"1370000000{i}", company=f"丙{i}公司", contract_status="signed"))
        run = await run_connector(core, "erp", sleep=no_sleep)
        # the database refused SO-2: its whole page (SO-2, SO-3) is rolled back and the cursor stays
        assert run.status == "failed" and run.pages == 1 and run.applied == 2 and run.rejected == 0
        assert "IntegrityError" in run.error and "poisoned order SO-2" in run.error
        assert any("poisoned order SO-2" in e["msg"] for e in run.log)
        assert sorted(r.external_id for r in rows(core, ExternalRef, ExternalRef.kind == "order")) == ["SO-0", "SO-1"]
        assert count(core, Customer) == 2
        assert core.db.call(lambda s: s.get(ConnectorCursor, "erp")).cursor == "2"
        lift(core.db, "externalref", fault)                              # the database is well again
        again = await run_connector(core, "erp", sleep=no_sleep)
    assert again.status == "ok" and again.cursor_before == "2" and again.applied == 2 and again.rejected == 0
    assert sorted(r.external_id for r in rows(core, ExternalRef, ExternalRef.kind == "order")) == [
        "SO-0", "SO-1", "SO-2", "SO-3"]
    core.config.connectors["erp"] = core.config.connectors["erp"].model_copy(update={"enabled": False})
    off = await run_connector(core, "erp", sleep=no_sleep)
    assert off.status == "failed" and "disabled" in off.error and off.pages == 0


async def test_a_blocked_stage_move_tells_the_owner_and_goes_through_later(core, vendor_env):
    _, _, rep, _ = make_team(core)
    c = customer_at(core, rep, "quote")                                 # quote needs amount + decision maker
    async with FakeVendor(TOKEN) as vendor:
        configure(core, vendor)
        vendor.add_order(order("SO-7", contract_status="signed", amount=88000, contract_no="HT-7"))
        run = await run_connector(core, "erp", sleep=no_sleep)
        assert run.status == "ok"
        assert get(core, Customer, c.id).stage == "quote"
        [ref] = rows(core, ExternalRef, ExternalRef.kind == "order")
        assert ref.status == "blocked" and ref.data["blocked"] == ["decision_maker"]
        [notice] = rows(core, Outbox, Outbox.kind == "notice")
        assert "决策人" in notice.payload["text"] and notice.chat_id == rep.tg_id
        again = await run_connector(core, "erp", sleep=no_sleep)       # still blocked: told once only
        assert count(core, Outbox, Outbox.kind == "notice") == 1 and again.applied == 0
        core.db.call(lambda s: cs.set_field(s, core.config, rep, s.get(Customer, c.id), "decision_maker", "王总",
                                            core.clock.now()))
        third = await run_connector(core, "erp", sleep=no_sleep)
    assert third.applied == 1
    assert get(core, Customer, c.id).stage == "contract"
    assert rows(core, ExternalRef, ExternalRef.kind == "order")[0].status == "applied"


@sqlite_only
async def test_chat_archive_turns_messages_into_activities_and_intent(core, vendor_env):
    _, _, rep, _ = make_team(core)
    c = customer_at(core, rep, "contact")
    conv = [("customer", "张总", "你们这个系统报价多少？能不能先试用一下？"),
            ("rep", "李明", "可以的张总，我们有两周免费试用。"),
            ("customer", "张总", "价格有点贵，我得跟老板汇报一下。"),
            ("customer", "张总", "如果合同能分期付款，下个月可以签。")]
    async with FakeVendor(TOKEN) as vendor:
        configure(core, vendor, name="chat_archive", page_size=3)
        for i, (role, name, text) in enumerate(conv):
            vendor.add_message({"msg_id": f"m{i}", "conversation_id": "conv-1", "from": {"name": name, "role": role},
                                "customer": {"phone": "+86 13800138000", "external_id": "wx-zhang"},
                                "time": f"2026-11-25T02:{i:02d}:00Z", "text": text})
        vendor.add_message({"msg_id": "m9", "conversation_id": "conv-1", "from": {"name": "张总", "role": "customer"},
                            "customer": {"external_id": "wx-zhang"}, "time": "2026-11-25T03:00:00Z",
                            "type": "file", "file_name": "需求清单.xlsx"})
        vendor.add_message({"msg_id": "u1", "conversation_id": "conv-2", "from": {"name": "陌生人", "role": "customer"},
                            "customer": {"phone": "13111111111"}, "time": "2026-11-25T04:00:00Z", "text": "你好"})
        vendor.add_raw("messages", {"msg_id": "bad", "conversation_id": "conv-1", "from": {"role": "bot"},
                                    "time": "2026-11-25T04:00:00Z"})
        vendor.fail("duplicate", "duplicate")
        run = await run_connector(core, "chat_archive", sleep=no_sleep)
        assert run.status == "ok" and run.rejected == 1
        again = await run_connector(core, "chat_archive", sleep=no_sleep)
        assert again.applied == 0
    chats = rows(core, Activity, Activity.kind == "chat", order=Activity.id)
    assert sum(a.data["messages"] for a in chats) == 5
    assert any("需求清单.xlsx" in a.data["files"] for a in chats)
    # The customer's own message times, local (Asia/Shanghai): the card's best contact time reads them.
    assert sorted(t for a in chats for t in a.data["reply_times"]) == \
        ["2026-11-25T10:00", "2026-11-25T10:02", "2026-11-25T10:03", "2026-11-25T11:00"]
    intents = rows(core, IntentRecord, IntentRecord.customer_id == c.id)
    assert intents and intents[0].user_id == rep.id
    c = get(core, Customer, c.id)
    assert c.intent_score is not None and c.intent_level in ("high", "medium", "low")
    assert [h.source for h in core.db.call(field_origin, c.id, "intent_score")][0] == "connector:chat_archive"
    messages = rows(core, ExternalRef, ExternalRef.kind == "message")
    assert len(messages) == 6 and {m.status for m in messages if m.external_id == "u1"} == {"unmatched"}
    assert "price" in intents[0].objections or "need_approval" in intents[0].objections


@sqlite_only
async def test_scheduled_slots_queue_one_run_that_the_worker_executes(core, vendor_env):
    make_team(core)
    async with FakeVendor(TOKEN) as vendor:
        configure(core, vendor, schedule="02:00")
        configure(core, vendor, name="chat_archive", schedule="hourly:05")
        vendor.add_order(order("SO-1", contract_status="signed", payment_status="paid", paid_amount=1))
        at = datetime(2026, 11, 26, 18, 5)                               # 02:05 in Shanghai
        done = run_due_jobs(core, at, only={"connector_erp_02", "connector_chat_archive_02", "connector_erp_03"})
        assert sorted(k for k, _, s in done if s == "done") == ["connector_chat_archive_02", "connector_erp_02"]
        assert run_due_jobs(core, at, only={"connector_erp_02"}) == []     # the slot ran once
        queued = rows(core, ConnectorRun, order=ConnectorRun.id)
        assert [(r.connector, r.status, r.slot) for r in queued] == [
            ("erp", "queued", "2026-11-26T18:00"), ("chat_archive", "queued", "2026-11-26T18:05")]
        core.clock.set(at)
        runs = await ConnectorWorker(core, sleep=no_sleep).run_once()
        assert [r.status for r in runs] == ["ok", "ok"]
    assert count(core, ExternalRef, ExternalRef.kind == "order") == 1
    # disabled connectors never come due
    core.config.connectors["erp"] = core.config.connectors["erp"].model_copy(update={"enabled": False})
    assert run_due_jobs(core, datetime(2026, 11, 27, 18, 1), only={"connector_erp_02"}) == []


def test_schedule_specs_follow_the_playbook(config):
    from scheduler.jobs import JOBS
    erp = config.connectors["erp"].model_copy(update={"enabled": True})
    chat = config.connectors["chat_archive"].model_copy(update={"enabled": True})
    assert [h for h in range(24) if erp.runs_at_hour(h)] == [2] and erp.slot_time(2) == "02:00"
    assert [h for h in range(24) if chat.runs_at_hour(h)] == list(range(24)) and chat.slot_time(13) == "13:05"
    keys = [j.key for j in JOBS if j.key.startswith("connector_")]
    assert len(keys) == 48 and len(set(keys)) == 48


@sqlite_only
async def test_order_event_moves_stage_through_the_api(core, vendor_env, monkeypatch):
    from tests.test_ingest_support import live_server, set_secrets, signed
    set_secrets(monkeypatch)
    _, _, rep, _ = make_team(core)
    c = customer_at(core, rep, "contract")
    async with live_server(core) as (_, client, _app):
        body, headers = signed(core, {"id": "ord-1", "type": "order", "data": order(
            "SO-API", payment_status="paid", contract_status="signed", paid_amount=5)}, "systems")
        r = await client.post("/api/events", content=body, headers=headers)
        bad_body, bad_headers = signed(core, {"id": "ord-2", "type": "order", "data": {"order_id": "x"}}, "systems")
        bad = await client.post("/api/events", content=bad_body, headers=bad_headers)
    assert r.status_code == 200 and r.json()["status"] == "applied"
    assert r.json()["effects"] == ["order", "contract", "payment", "paid", "upsell"]
    assert get(core, Customer, c.id).stage == "payment"
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "data.customer"
    assert [h.source for h in core.db.call(field_origin, c.id, "order")] == ["api:systems"]


def test_which_kind_of_customer_rebuys_most_from_one_table(core):
    """FieldHistory alone answers the article's question."""
    _, _, rep, _ = make_team(core)
    now = core.clock.now()
    people = [("制造业", 3), ("制造业", 1), ("制造业", 2), ("教育", 1), ("教育", 1), ("零售", 2), ("金融", 0)]

    def seed(session):
        for i, (industry, n_orders) in enumerate(people):
            c = cs.create_customer(session, core.config, rep.team_id,
                                   {"name": f"客户{i}", "phone": f"1380000{i:04d}", "industry": industry}, now,
                                   actor=rep, owner_id=rep.id, source="import").customer
            for k in range(n_orders):
                session.add(FieldHistory(customer_id=c.id, field="order", value=f"SO-{i}-{k}",
                                         source="connector:erp", source_ref=f"run:1/order:SO-{i}-{k}", at=now))
            # the same order reported twice (another run) is still one purchase
            if n_orders:
                session.add(FieldHistory(customer_id=c.id, field="order", value=f"SO-{i}-0", source="connector:erp",
                                         source_ref="run:2", at=now))
        # industry corrected later: the latest value counts
        c0 = session.exec(select(Customer).where(Customer.name == "客户3")).one()
        session.add(FieldHistory(customer_id=c0.id, field="industry", value="零售", source="user", at=now))

    core.db.call(seed)
    result = core.db.call(repurchase_by, "industry")
    assert [(r.value, r.buyers, r.rebuyers, round(r.rate, 2)) for r in result] == [
        ("制造业", 3, 2, 0.67), ("零售", 2, 1, 0.5), ("教育", 1, 0, 0.0)]
