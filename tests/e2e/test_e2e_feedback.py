"""Card feedback (issue 13 item 6) and long pastes split by Telegram, through the local Bot API server."""
from sqlmodel import select

from storage.models_feedback import AnalysisSample, FeedbackLabel
from tests.e2e.test_e2e_navigation import add_customer
from tests.e2e.test_e2e_stale import answers
from tests.e2e.test_e2e_team import two_teams
from tests.harness import buttons

CHAT = ("销售1 2026-11-25 10:05\n张总您好，我们的系统两周免费试用，现在签还有优惠。\n"
        "张总 2026-11-25 10:09\n价格有点贵，我得跟老板汇报一下。\n"
        "销售1 2026-11-25 10:10\n明白，我把报价单发您。\n"
        "张总 2026-11-25 10:11\n今年预算比较紧，等明年再看看吧。")


def fb_data(card: dict, action: str) -> str:
    for b in buttons(card):
        if b.get("callback_data", "").startswith("fb:") and b["callback_data"].endswith(":" + action):
            return b["callback_data"]
    raise AssertionError(f"no feedback button {action!r} in {[b.get('text') for b in buttons(card)]}")


async def labels(h) -> list[FeedbackLabel]:
    return await h.core.db.run(lambda s: list(s.exec(select(FeedbackLabel).order_by(FeedbackLabel.id))))


async def test_paste_card_gets_feedback_and_another_teams_rep_cannot_label_it(harness):
    h = harness
    _, _, rep_a, _, rep_b = await two_teams(h)
    await add_customer(h, rep_a, "张总", "华东精密机械有限公司", "13800138000")
    replies = await h.send(rep_a, CHAT)
    card = [m for m in replies if "购买意向" in (m.get("text") or "")][-1]
    texts = [b["text"] for b in buttons(card)]
    assert any("不准" in x for x in texts) and any("准" == x.split()[-1] for x in texts), texts
    sample = (await h.core.db.run(lambda s: list(s.exec(select(AnalysisSample)))))[-1]
    assert sample.features.get("p") is not None and "ship" in sample.features  # enough to refit
    assert sample.objections, "this chat has objections, each with its ✓/✗ row"
    assert any(b["callback_data"] == fb_data(card, "o0n") for b in buttons(card))

    # 不准 → the three levels are offered on the same card; the card's text stays.
    edited = await h.press(rep_a, card, data=fb_data(card, "no"))
    card = [m for m in edited if m["message_id"] == card["message_id"]][-1]
    assert "购买意向" in card["text"]
    # The rep knows better: this customer is about to buy (高).
    assert sample.level != "high", sample.level
    wrong = "high"
    assert await labels(h) == [], "不准 alone stores nothing until the level is picked"
    edited = await h.press(rep_a, card, text="高")
    card = [m for m in edited if m["message_id"] == card["message_id"]][-1]
    (label,) = await labels(h)
    assert (label.agreed, label.correct_level, label.team_id, label.customer_id) == (False, wrong, sample.team_id,
                                                                                     sample.customer_id)
    assert any(b["text"] == "✅ 不准 → 应为高" for b in buttons(card))
    # The first objection marked wrong: stored on the same label.
    card = (await h.press(rep_a, card, data=fb_data(card, "o0n")))[-1]
    assert any(b["text"].startswith("✅ ✗") for b in buttons(card))
    (label,) = await labels(h)
    assert label.objection_verdicts == {sample.objections[0]: False}
    # Pressing 准 changes the label (one per analysis and person), it does not add one.
    card = (await h.press(rep_a, card, data=fb_data(card, "ok")))[-1]
    assert any(b["text"].startswith("✅ 准") for b in buttons(card))
    (label,) = await labels(h)
    assert (label.agreed, label.correct_level) == (True, sample.level)
    assert label.objection_verdicts == {sample.objections[0]: False}

    # A rep of another team pressing the same button (a forwarded card, a guessed id): the stale popup.
    own = (await h.send(rep_b, "/help"))[-1]
    assert await h.press(rep_b, own, data=f"fb:{sample.id}:high", validate=False) == []
    assert answers(h)[-1]["show_alert"] is True and "失效" in answers(h)[-1]["text"]
    # Tampered data: an objection the card does not have, an unknown action, a malformed id.
    for data in (f"fb:{sample.id}:o7y", f"fb:{sample.id}:zz", "fb:x:ok", f"fb:{sample.id + 99}:ok"):
        assert await h.press(rep_a, card, data=data, validate=False) == []
        assert answers(h)[-1]["show_alert"] is True
    (label,) = await labels(h)
    assert label.user_id != (await _user_id(h, rep_b)) and label.correct_level == sample.level
    assert h.tg.errors() == [], [e["description"] for e in h.tg.errors()]


async def _user_id(h, tg_user) -> int:
    from services import users as users_svc
    return (await h.core.db.run(users_svc.get_user, tg_user["id"])).id


def long_chat(chars: int) -> str:
    """A real-looking conversation: the customer's interest grows towards the end (the second part)."""
    early = ("张总 2026-11-20 09:{m:02d}\n你们的系统我们先了解一下，现在还没定，回头再说吧。\n"
             "销售1 2026-11-20 09:{m:02d}\n好的张总，我先把资料发您，有问题随时找我。\n")
    late = ("张总 2026-11-25 10:{m:02d}\n合同发过来吧，我们法务看一下，没问题这周就签，首付款月底前打过去。\n"
            "销售1 2026-11-25 10:{m:02d}\n好的张总，合同下午发您邮箱。\n")
    text, m = "", 0
    while len(text) < chars * 0.6:
        text += early.format(m=m % 60)
        m += 1
    while len(text) < chars:
        text += late.format(m=m % 60)
        m += 1
    return text[:text.rindex("\n", 0, chars) + 1]


async def test_a_long_paste_split_by_telegram_is_analysed_once_as_a_whole(harness):
    import asyncio
    h = harness
    _, _, (rep,) = await h.team(reps=1)
    await add_customer(h, rep, "张总", "华东精密机械有限公司", "13800138000")
    chat = long_chat(6000)
    assert len(chat) > 5800
    cut = chat.rindex("\n", 0, 4000) + 1          # where a client cuts: at a line end before 4,096
    first, second = chat[:cut], chat[cut:]
    assert 3500 <= len(first) <= 4096 and len(second) > 1500
    # The two parts arrive back to back, as Telegram delivers a split message.
    for part in (first, second):
        result = h.tg.send_text(rep["id"], part)
        if asyncio.iscoroutine(result):
            await result
    await h.settle(None)
    await asyncio.sleep(0.3)
    await h.settle(None)
    cards = [m for m in h.chat_messages(rep) if "购买意向" in (m.get("text") or "")]
    assert len(cards) == 1, [c["text"][:40] for c in cards]
    assert "合同" in cards[0]["text"], "the second part (the signing talk) was read with the first"
    records = await h.core.db.run(lambda s: list(s.exec(select(AnalysisSample))))
    assert len(records) == 1
    # The same text pasted whole (one message, longer than a client sends) gives the same reading.
    await h.send(rep, chat)
    records = await h.core.db.run(lambda s: list(s.exec(select(AnalysisSample).order_by(AnalysisSample.id))))
    assert len(records) == 2 and records[0].score == records[1].score and records[0].level == records[1].level
    assert h.tg.errors() == [], [e["description"] for e in h.tg.errors()]


async def test_a_business_chat_update_carries_the_same_feedback(harness):
    from tests.e2e.test_e2e_business import call
    h = harness
    _, _, (rep,) = await h.team(reps=1)
    await add_customer(h, rep, "张总", "华东精密机械有限公司", "13800138000")
    customer_user = h.user("张总")
    conn = await call(h.tg.business_connect(rep["id"]))
    await h.settle(conn["update_id"])
    await h.press(rep, h.chat_messages(rep)[-1], text="允许")
    for text in ("你们的报价多少？合同怎么签？", "价格有点贵，我得跟老板汇报一下"):
        await h.settle((await call(h.tg.business_message(conn["business_connection"]["id"], customer_user, text)))["update_id"])
    note = [m for m in h.chat_messages(rep) if "Business 聊天" in (m.get("text") or "")][-1]
    card = (await h.press(rep, note, data=fb_data(note, "ok")))[-1]
    assert any(b["text"].startswith("✅ 准") for b in buttons(card))
    (label,) = await labels(h)
    assert label.agreed is True and label.user_id == await _user_id(h, rep)
