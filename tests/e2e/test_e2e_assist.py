"""The optional AI assistant on an analysis card, against a local fake chat model: off, on, failing."""
from __future__ import annotations

import pytest

from core.callbacks import AssistAsk
from core.config import load_config
from tests.fakeai import FakeAI, messages_text
from tests.harness import Harness, buttons

CHAT = ("张总 2026-11-25 10:02\n你们这个系统报价多少？能不能先试用一下？\n"
        "李明 2026-11-25 10:05\n可以的张总，我们有两周免费试用，现在签还有优惠。\n"
        "张总 2026-11-25 10:09\n价格有点贵，我得跟老板汇报一下。预算五万以内，我手机13912345678。\n"
        "张总 2026-11-25 10:11\n如果合同能分期付款，下个月可以签。")


def playbook(text: bool = True, mask: bool = True):
    config = load_config()
    return config.model_copy(update={"privacy": config.privacy.model_copy(
        update={"text_may_leave": text, "mask_numbers": mask})})


@pytest.fixture
async def fake_ai():
    fake = await FakeAI().start()
    yield fake
    await fake.stop()


async def start_bot(tmp_path, monkeypatch, url: str | None, config=None) -> Harness:
    for name in ("SALESBOT_LLM_URL", "SALESBOT_LLM_MODEL", "SALESBOT_LLM_KEY", "SALESBOT_LLM_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    if url:
        monkeypatch.setenv("SALESBOT_LLM_URL", url + "/v1")
        monkeypatch.setenv("SALESBOT_LLM_MODEL", "qwen-test")
        monkeypatch.setenv("SALESBOT_LLM_KEY", "sk-llm")
        monkeypatch.setenv("SALESBOT_LLM_TIMEOUT", "1")
    h = Harness(tmp_path, config=config or playbook())
    await h.start()
    return h


def assist_buttons(card: dict) -> list[dict]:
    """The card's buttons other than its 准 / 不准 feedback (issue 13 item 6), which every card has."""
    return [b for b in buttons(card) if not b.get("callback_data", "").startswith("fb:")]


async def analysis_card(h) -> tuple[dict, dict]:
    _, _, (rep, _) = await h.team(reps=2)
    await h.send(rep, "/new")
    for value in ("张总", "华东精密机械有限公司", "13800138000", "官网表单"):
        await h.send(rep, value)
    replies = await h.send(rep, CHAT)
    if "谁是客户" in replies[-1]["text"]:
        replies = await h.press(rep, replies[-1], text="张总")
    card = replies[-1]
    assert "购买意向" in card["text"], card["text"]
    return rep, card


async def test_assistant_off_card_unchanged_and_stale_button_answered(tmp_path, monkeypatch):
    h = await start_bot(tmp_path, monkeypatch, None)
    try:
        rep, card = await analysis_card(h)
        assert assist_buttons(card) == []
        answer = await h.press(rep, card, data=AssistAsk("deadbeef", "sum").encode(), validate=False)
        assert "没有启用 AI 助手" in answer[-1]["text"]
    finally:
        await h.stop()


async def test_privacy_switch_off_hides_the_buttons(tmp_path, monkeypatch, fake_ai):
    h = await start_bot(tmp_path, monkeypatch, fake_ai.url, config=playbook(text=False))
    try:
        rep, card = await analysis_card(h)
        assert assist_buttons(card) == [] and fake_ai.chat_calls == []
    finally:
        await h.stop()


async def test_summary_and_replies_masked_grounded_and_not_repeated(tmp_path, monkeypatch, fake_ai):
    h = await start_bot(tmp_path, monkeypatch, fake_ai.url)
    try:
        rep, card = await analysis_card(h)
        before = len(h.tg.sent())
        summary = await h.press(rep, card, text="总结")
        text = summary[-1]["text"]
        assert "对话总结" in text and "仅您可见" in text and "下一步：下周二回访" in text
        assert text.count("\n") == 5, text
        call = fake_ai.chat_calls[-1]
        sent = messages_text(call)
        assert call["body"]["model"] == "qwen-test" and call["auth"] == "Bearer sk-llm"
        assert call["body"]["messages"][0]["content"] == h.config.assistant.summary_prompt
        assert "13912345678" not in sent and "五万" not in sent and "[电话]" in sent and "[金额]" in sent
        fake_ai.reply = "1. 张总您好，分期没问题。\n2. 我给您准备汇报材料。\n3. 下周二我来拜访。\n4. 多余的一行"
        drafts = await h.press(rep, card, text="帮我回复")
        text = drafts[-1]["text"]
        assert "回复草稿" in text and "不会发给客户" in text and "3. 下周二" in text and "多余" not in text
        system = fake_ai.chat_calls[-1]["body"]["messages"][0]["content"]
        assert h.config.objections["need_approval"].script in system, "drafts are grounded in the playbook's scripts"
        calls = len(fake_ai.chat_calls)
        again = await h.press(rep, card, text="总结")
        assert "对话总结" in again[-1]["text"] and len(fake_ai.chat_calls) == calls, "no second call for the same answer"
        stale = await h.press(rep, card, data=AssistAsk("deadbeef", "sum").encode(), validate=False)
        assert "已过期" in stale[-1]["text"] and len(fake_ai.chat_calls) == calls
        # Four answers (one per call, the repeat re-sent, the stale card's notice), all in the rep's own chat; the card is unchanged.
        new = h.tg.sent()[before:]
        assert len(new) == 4 and {m["chat_id"] for m in new} == {rep["id"]}
        now = next(m for m in h.tg.sent(rep["id"]) if m["message_id"] == card["message_id"])
        assert now["text"] == card["text"] and buttons(now) == buttons(card)
        assert h.tg.rejected() == []
    finally:
        await h.stop()


async def test_mask_switch_off_sends_numbers(tmp_path, monkeypatch, fake_ai):
    h = await start_bot(tmp_path, monkeypatch, fake_ai.url, config=playbook(mask=False))
    try:
        rep, card = await analysis_card(h)
        await h.press(rep, card, text="总结")
        assert "13912345678" in messages_text(fake_ai.chat_calls[-1])
    finally:
        await h.stop()


@pytest.mark.parametrize("plan, calls", [(["500", "500"], 2), (["badjson"], 1), (["slow"], 1), (["notext"], 1)])
async def test_failing_model_falls_back_to_the_offline_analysis(tmp_path, monkeypatch, fake_ai, plan, calls):
    h = await start_bot(tmp_path, monkeypatch, fake_ai.url)
    try:
        rep, card = await analysis_card(h)
        fake_ai.chat_plan = list(plan)
        fake_ai.slow_s = 2.5
        summary = await h.press(rep, card, text="总结")
        text = summary[-1]["text"]
        assert "AI 助手暂时不可用" in text and "离线分析" in text and "客户顾虑：" in text and "下一步：" in text, text
        assert "需要领导" in text or "价格" in text
        assert len(fake_ai.chat_calls) == calls
        fake_ai.chat_plan = ["500", "500"]
        drafts = await h.press(rep, card, text="帮我回复")
        assert "团队话术" in drafts[-1]["text"] and h.config.objections["need_approval"].script[:10] in drafts[-1]["text"]
    finally:
        await h.stop()
