"""Pasted and forwarded conversations through the local Bot API server."""
import asyncio

from tests.harness import buttons

CHAT = ("张总 2026-11-25 10:02\n你们这个系统报价多少？能不能先试用一下？\n"
        "李明 2026-11-25 10:05\n可以的张总，我们有两周免费试用，现在签还有优惠。\n"
        "张总 2026-11-25 10:09\n价格有点贵，我得跟老板汇报一下。\n"
        "张总 2026-11-25 10:11\n如果合同能分期付款，下个月可以签。")


async def setup_rep(h):
    _, _, (rep, other) = await h.team(reps=2)
    await h.send(rep, "/new")
    for value in ("张总", "华东精密机械有限公司", "13800138000", "官网表单"):
        await h.send(rep, value)
    return rep, other


async def test_paste_is_analysed_with_level_reasons_objections_and_script(harness):
    rep, _ = await setup_rep(harness)
    replies = await harness.send(rep, CHAT)
    # The rep here is 销售1 and the chat names 李明: the bot cannot tell who is who, so it asks.
    assert "谁是客户" in replies[-1]["text"]
    replies = await harness.press(rep, replies[-1], text="张总")
    text = replies[-1]["text"]
    assert "购买意向" in text and "依据" in text
    assert "需要领导" in text or "价格" in text
    assert "💬" in text  # the playbook's scripted answer
    reasons = text.split("依据")[1].split("关键词")[0]
    assert "优惠" not in reasons and "免费" not in reasons, "the rep's own offer is never a customer signal"
    assert harness.tg.rejected() == []


async def test_forward_of_several_messages(harness):
    rep, _ = await setup_rep(harness)
    # Telegram delivers a multi-message forward as several updates within milliseconds.
    for line in ("报价单发我看看", "我们预算有限，今年没有这笔预算", "下个月再说吧"):
        result = harness.tg.send_forward(rep["id"], line, origin_name="张总")
        if asyncio.iscoroutine(result):
            await result
    await harness.settle(None)
    await asyncio.sleep(0.3)
    await harness.settle(None)
    analyses = [m for m in harness.chat_messages(rep) if "购买意向" in (m.get("text") or "")]
    assert len(analyses) == 1, "forwards are gathered into one analysis"
    assert "预算" in analyses[0]["text"]


async def test_garbage_paste_gets_a_polite_answer(harness):
    rep, _ = await setup_rep(harness)
    replies = await harness.send(rep, "？？？\n。。。\n!!!!")
    assert replies and ("不像" in replies[-1]["text"] or "没看懂" in replies[-1]["text"])
    huge = await harness.send(rep, "哈" * 60_000)
    assert replies and "太长" in huge[-1]["text"]
    assert harness.tg.rejected() == []


async def test_other_users_are_answered_while_a_long_paste_is_analysed(harness):
    rep, other = await setup_rep(harness)
    lines = (f"张总 2026-11-25 10:{i % 60:02d}\n这个方案的价格和交付时间能再确认一下吗？我们下个月要上线第{i}期" for i in range(900))
    long_chat = "\n".join(lines)[:45_000]
    assert len(long_chat) > 20_000
    before = len(harness.chat_messages(other))
    await _maybe(harness.tg.send_text(rep["id"], long_chat))
    await _maybe(harness.tg.send_text(other["id"], "/help"))
    await harness.tg.wait_for_sent(other["id"], count=before + 1, timeout=15)
    await harness.settle(None)
    analysis = [m for m in harness.chat_messages(rep) if "购买意向" in (m.get("text") or "")]
    assert analysis, "the long paste was analysed"
    # The /help sent after the paste was answered first: it did not queue behind the analysis.
    assert harness.chat_messages(other)[-1]["message_id"] < analysis[-1]["message_id"]


async def _maybe(value):
    return await value if asyncio.iscoroutine(value) else value


async def test_bot_asks_who_the_customer_is_when_the_text_cannot_tell(harness):
    rep, _ = await setup_rep(harness)
    chat = ("老周: 你们这个设备多少钱？交货期多久？\n小王: 报价单我下午发您。\n"
            "老周: 价格太贵了，我们已经有合作的供应商了。\n小王: 我们可以先免费试用。")
    ask = await harness.send(rep, chat)
    assert "谁是客户" in ask[-1]["text"]
    pick = await harness.press(rep, ask[-1], text="老周")
    if "哪个客户" in pick[-1]["text"]:
        pick = await harness.press(rep, pick[-1], text="张总")
    text = pick[-1]["text"]
    assert "购买意向" in text and ("价格" in text or "供应商" in text)
    assert "免费" not in text.split("依据")[1].split("关键词")[0]


async def test_after_sales_complaint_is_answered_as_what_it_is(harness):
    rep, _ = await setup_rep(harness)
    for line in ("我上周订的货到现在还没发货，怎么回事？", "再不处理我就去投诉了"):
        result = harness.tg.send_forward(rep["id"], line, origin_name="张总")
        if asyncio.iscoroutine(result):
            await result
    await harness.settle(None)
    await asyncio.sleep(0.3)
    await harness.settle(None)
    analyses = [m for m in harness.chat_messages(rep) if "购买意向" in (m.get("text") or "")]
    assert len(analyses) == 1 and "售后投诉" in analyses[0]["text"]
    assert "高</b>" not in analyses[0]["text"]
    assert harness.tg.rejected() == []
