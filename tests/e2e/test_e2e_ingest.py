"""Ingestion end to end: a lead posted to the bot's own aiohttp server reaches the owner through
the local Bot API server; /import of a messy workbook through the chat (report → confirm); /export."""
from __future__ import annotations

import io
import time

import httpx
from openpyxl import load_workbook
from sqlmodel import select

from storage.models import Customer, User
from tests.data.sheets.make_sheets import make_sheets
from tests.harness import button_data, buttons
from tests.test_ingest_support import set_secrets, signed

LEAD = {"your_name": "张伟", "mobile": "+86 138-0013-8000", "company_name": "华东精密机械有限公司",
        "product": "数控机床，想要报价", "message": "<b>急</b> 下周要 & 今天回电"}


async def _db_user(harness, tg_id):
    return await harness.core.db.run(lambda s: s.exec(select(User).where(User.tg_id == tg_id)).one())


async def test_a_posted_lead_is_assigned_and_pushed_to_the_owner_within_seconds(harness, monkeypatch):
    set_secrets(monkeypatch)
    _, manager, (rep1, rep2) = await harness.team(reps=2)
    runner, base = await harness.serve_web()
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            body, headers = signed(harness.core, LEAD)
            before1, before2 = len(harness.chat_messages(rep1)), len(harness.chat_messages(rep2))
            started = time.monotonic()
            r = await client.post("/api/leads", content=body, headers=headers)
            assert r.status_code == 201, r.text
            owner = await _db_user(harness, rep1["id"])
            assert r.json()["owner_id"] == owner.id
            messages = await harness.tg.wait_for_sent(rep1["id"], count=before1 + 1, timeout=10)
            elapsed = time.monotonic() - started
            card = messages[-1]
            # a second lead goes to the next rep (round robin)
            second = await client.post("/api/leads", json={"姓名": "李娜", "手机": "13912345678"},
                                       headers={"Authorization": "Bearer website-token-0123456789"})
            assert second.status_code == 201
            await harness.tg.wait_for_sent(rep2["id"], count=before2 + 1, timeout=10)
            health = await client.get("/healthz")
    finally:
        await runner.cleanup()
    assert elapsed < 10.0, f"the card took {elapsed:.2f}s"  # "within seconds"; speed itself is in bench.ingest
    text = card["text"]
    assert "线上渠道-主动咨询" in text and "华东精密机械有限公司" in text and "数控机床" in text
    assert "<b>急</b> 下周要 & 今天回电" in text          # the customer's words arrive as text, never as markup
    assert "优先级" in text and "30 分钟" in text
    # the card's buttons work for the owner
    done = await harness.press(rep1, card, text="核实联系人与电话")
    assert done and "☐ 核实联系人与电话" not in done[-1]["text"]
    assert not any("华东" in (m.get("text") or "") for m in harness.chat_messages(rep2))
    assert health.json() == {"ok": True, "db": True}
    assert harness.tg.rejected() == []


async def test_import_a_messy_workbook_through_the_chat(harness, tmp_path):
    _, manager, (rep1, rep2) = await harness.team(reps=2)
    paths = make_sheets(tmp_path / "sheets")
    help_text = await harness.send(manager, "/import")
    assert "CSV" in help_text[-1]["text"] and "预检" in help_text[-1]["text"]
    # a rep may not import
    refused = await harness.send_document(rep1, paths[0].name, paths[0].read_bytes())
    assert "仅限经理" in refused[-1]["text"]
    replies = await harness.send_document(manager, paths[2].name, paths[2].read_bytes())  # 展会名片: two worksheets
    report = replies[-1]
    text = report["text"]
    assert "导入预检" in text and "共 5 行：✅ 新客户 3 · 🔁 重复 1 · ❌ 无效 1" in text
    assert "第二天 第2行 周杰：与 展会名片.xlsx!第一天 第2行 重复（电话号码相同）" in text
    assert "电话和公司至少填写一项" in text
    assert [b["text"] for b in buttons(report)] == ["✅ 确认导入 3 个", "取消"]
    assert await harness.core.db.run(lambda s: len(s.exec(select(Customer)).all())) == 0   # dry run only
    done = await harness.press(manager, report, text="确认导入")
    assert "已导入 3 个新客户" in done[-1]["text"]
    names = await harness.core.db.run(lambda s: sorted(c.name for c in s.exec(select(Customer))))
    assert names == ["冯雪", "周杰", "郑和"]
    await harness.drain()
    assert any("导入了" in (m.get("text") or "") for m in harness.chat_messages(rep1))
    # the buttons are gone; a replayed (stale) confirm imports nothing twice
    again = await harness.press(manager, report, data=button_data(report, "确认导入"), validate=False)
    assert "已过期或已处理" in again[-1]["text"]
    # the same file again: everything is a duplicate, no confirm button
    replay = await harness.send_document(manager, paths[2].name, paths[2].read_bytes())
    assert "新客户 0" in replay[-1]["text"] and not buttons(replay[-1])
    # cancel leaves nothing
    other = await harness.send_document(manager, paths[0].name, paths[0].read_bytes())
    cancelled = await harness.press(manager, other[-1], text="取消")
    assert "没有写入任何数据" in cancelled[-1]["text"]
    assert await harness.core.db.run(lambda s: len(s.exec(select(Customer)).all())) == 3
    # a file that is not a spreadsheet
    broken = await harness.send_document(manager, "坏文件.xlsx", b"not a workbook")
    assert "无法读取" in broken[-1]["text"]
    # /export sends the team's workbook
    exported = await harness.send(manager, "/export")
    document = exported[-1]
    assert "3 个客户" in (document.get("caption") or "")
    book = load_workbook(io.BytesIO(harness.tg.file_bytes(document)))
    assert book["客户"].max_row == 4 and book.sheetnames == ["客户", "跟进记录"]
    assert harness.tg.rejected() == []
