"""Telegram Business: consent asked and recorded, chats attached to customers, analysed, revocable."""
import asyncio

from sqlmodel import select

from storage.models import Customer, IntentRecord
from storage.models_business import BusinessMessage
from tests.harness import buttons


async def call(value):
    return await value if asyncio.iscoroutine(value) else value


async def test_business_connection_consent_analysis_and_revoke(harness):
    h = harness
    _, _, (rep,) = await h.team(reps=1)
    await h.send(rep, "/new")
    for value in ("张总", "华东精密机械有限公司", "13800138000", "官网表单"):
        await h.send(rep, value)
    customer_user = h.user("张总")
    conn = await call(h.tg.business_connect(rep["id"]))
    await h.settle(conn["update_id"])
    ask = h.chat_messages(rep)[-1]
    assert "Telegram Business" in ask["text"] and len(buttons(ask)) == 2
    conn_id = conn["business_connection"]["id"]
    # Before consent nothing is stored.
    await h.settle((await call(h.tg.business_message(conn_id, customer_user, "报价多少？")))["update_id"])
    assert await h.core.db.run(lambda s: s.exec(select(BusinessMessage)).all()) == []
    granted = await h.press(rep, ask, text="允许")
    assert "已授权" in granted[-1]["text"]
    before = len(h.chat_messages(rep))
    for text in ("你们的报价多少？合同怎么签？", "价格有点贵，我得跟老板汇报一下"):
        await h.settle((await call(h.tg.business_message(conn_id, customer_user, text)))["update_id"])
    notes = [m for m in h.chat_messages(rep)[before:] if "Business 聊天" in (m.get("text") or "")]
    assert notes and "张总" in notes[-1]["text"] and "购买意向" in notes[-1]["text"]
    records = await h.core.db.run(lambda s: s.exec(select(IntentRecord)).all())
    assert records and records[-1].customer_id == (await h.core.db.run(lambda s: s.exec(select(Customer)).one())).id
    # Revocable: /business → revoke deletes stored chat content.
    status = await h.send(rep, "/business")
    revoked = await h.press(rep, status[-1], text="撤销")
    assert "已撤销" in revoked[-1]["text"]
    assert await h.core.db.run(lambda s: s.exec(select(BusinessMessage)).all()) == []
    await h.settle((await call(h.tg.business_message(conn_id, customer_user, "还在吗")))["update_id"])
    assert await h.core.db.run(lambda s: s.exec(select(BusinessMessage)).all()) == []
    assert h.tg.rejected() == []
