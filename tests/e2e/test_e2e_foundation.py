"""Foundation flow through the local Bot API server: invites, strangers, /new, lists, cards, bad input."""
from datetime import timedelta

from tests.harness import button_data, buttons


async def new_customer_then_today(harness, rep: dict) -> list[dict]:
    """张总 of 华东精密机械 added through /new, then /today (the list whose buttons open cards)."""
    await harness.send(rep, "/new")
    for value in ("张总", "华东精密机械有限公司", "13800138000", "官网表单"):
        await harness.send(rep, value)
    return await harness.send(rep, "/today")


async def test_invite_flow_and_strangers(harness):
    admin, manager, (rep,) = await harness.team(reps=1)
    stranger = harness.user("路人")
    first = await harness.send(stranger, "/today")
    assert len(first) == 1 and "邀请" in first[0]["text"]
    again = await harness.send(stranger, "给我看看客户")
    assert again == []  # one polite refusal, then silence and no data
    # A reused invite and an expired one are refused.
    code = await harness.invite(manager)
    await harness.join(code, "新人甲")
    late = harness.user("新人乙")
    reused = await harness.send(late, f"/start {code}")
    assert "无效或已被使用" in reused[-1]["text"]
    code2 = await harness.invite(manager)
    harness.clock.advance(timedelta(hours=harness.config.invites.ttl_hours + 1))
    expired = await harness.send(late, f"/start {code2}")
    assert "已过期" in expired[-1]["text"]
    # A rep cannot invite.
    denied = await harness.send(rep, "/invite")
    assert "仅限经理" in denied[-1]["text"]


async def test_new_customer_dialogue_escapes_html_and_cancels(harness):
    _, _, (rep,) = await harness.team(reps=1)
    await harness.send(rep, "/new")
    await harness.send(rep, "<b>Acme & Co</b>")
    await harness.send(rep, "<i>Acme</i> 有限公司")
    bad = await harness.send(rep, "111")
    assert "不是有效" in bad[-1]["text"]
    await harness.send(rep, "+86 138-0013-8000")
    done = await harness.send(rep, "官网表单")
    assert "&lt;b&gt;Acme" not in done[-1]["text"]  # the server stores the parsed text
    assert "<b>Acme & Co</b>" in done[-1]["text"] and "已创建" in done[-1]["text"]
    listing = await harness.send(rep, "/customers")
    assert "<b>Acme & Co</b>" in listing[-1]["text"]
    card = await harness.press(rep, listing[-1], text="Acme")
    assert "线索获取" in card[-1]["text"] and "推荐话术" in card[-1]["text"]
    # Cancel at any step.
    await harness.send(rep, "/new")
    await harness.send(rep, "半路客户")
    cancelled = await harness.send(rep, "/cancel")
    assert "已取消" in cancelled[-1]["text"]
    after = await harness.send(rep, "/customers")
    assert "半路客户" not in after[-1]["text"]
    assert harness.tg.rejected() == []


async def test_huge_message_and_tampered_callbacks(harness):
    _, _, (rep_a, rep_b) = await harness.team(reps=2)
    await harness.send(rep_a, "/new")
    for value in ("张总", "华东精密机械有限公司", "13800138000", "官网表单"):
        created = await harness.send(rep_a, value)
    cid_data = button_data(created[-1], "张总")
    customer_id = cid_data.split(":")[1]
    # Another rep forges the card callback and a card action: refused, nothing leaks.
    forged = await harness.press(rep_b, {"message_id": 1, "chat_id": rep_b["id"]}, data=f"c:{customer_id}", validate=False)
    assert all("华东" not in m["text"] for m in forged)
    forged2 = await harness.press(rep_b, {"message_id": 1, "chat_id": rep_b["id"]}, data=f"ca:{customer_id}:next:", validate=False)
    assert all("华东" not in (m.get("text") or "") for m in forged2)
    garbage = await harness.press(rep_b, {"message_id": 1, "chat_id": rep_b["id"]}, data="ca:<script>:x", validate=False)
    assert all("华东" not in (m.get("text") or "") for m in garbage)
    answers = [r for r in harness.tg.requests if r["method"].lower() == "answercallbackquery"]
    assert answers, "forged callbacks must still be answered"
    # 5,000 characters of text: answered, never rejected by Telegram for length.
    huge = await harness.send(rep_a, "我" * 5000)
    assert huge, "a huge message gets an answer"
    assert harness.tg.rejected() == []


async def test_today_card_buttons_edit_in_place(harness):
    _, _, (rep,) = await harness.team(reps=1)
    today = await new_customer_then_today(harness, rep)
    assert "今日任务" in today[-1]["text"] and "张总" in today[-1]["text"]
    card = await harness.press(rep, today[-1], text="张总")
    assert card[-1]["message_id"] == today[-1]["message_id"], "the card edits the brief in place"
    assert "核实联系人与电话" in card[-1]["text"]
    done = await harness.press(rep, card[-1], text="核实联系人与电话")
    assert "☐ 核实联系人与电话" not in done[-1]["text"]
    moved = await harness.press(rep, done[-1], text="下一阶段")
    assert "初次接触" in moved[-1]["text"]
    blocked = await harness.press(rep, moved[-1], text="下一阶段")
    assert "缺少必填项" in blocked[-1]["text"] and "联系人" in blocked[-1]["text"]
    fill = await harness.press(rep, blocked[-1], text="填写联系人")
    assert "请输入" in fill[-1]["text"]
    junk = await harness.send(rep, "无")
    assert "不是有效" in junk[-1]["text"]
    saved = await harness.send(rep, "张伟")
    assert "已保存" in saved[-1]["text"]
    assert harness.tg.rejected() == []


async def test_english_user_gets_english(harness):
    admin, manager, _ = await harness.team(reps=0)
    code = await harness.invite(manager)
    rep = await harness.join(code, "Alice", language_code="en")
    reply = await harness.send(rep, "/help")
    assert "Sales assistant" in reply[-1]["text"]
    await harness.send(rep, "/new")
    for value in ("Mr Zhang", "East Machinery Ltd", "+86 138 0013 8000", "website form"):
        created = await harness.send(rep, value)
    assert "created" in created[-1]["text"]
    card = await harness.press(rep, created[-1], text="Mr Zhang")
    text = card[-1]["text"]
    assert "Stage: Lead" in text and "Checklist" in text and "Verify contact person and phone" in text
    labels = [b["text"] for row in card[-1]["reply_markup"]["inline_keyboard"] for b in row]
    assert "⏭ Next stage" in labels and "⋯ More" in labels
    more = await harness.press(rep, card[-1], text="More")
    assert "⏰ Remind me later" in [b["text"] for row in more[-1]["reply_markup"]["inline_keyboard"] for b in row]
    menus = [r for r in harness.tg.requests if r["method"].lower() == "setmycommands"]
    assert {r["params"].get("language_code") for r in menus} >= {None, "en"}
    # Roles decide the menu: the manager's own chat has /invite and /digest; the reps' default has not.
    scoped = [r for r in menus if "chat_id" in str(r["params"].get("scope"))]
    assert any(str(manager["id"]) in str(r["params"]["scope"]) and "invite" in str(r["params"]["commands"]) for r in scoped)
    default = [r for r in menus if "all_private_chats" in str(r["params"].get("scope"))]
    assert default and all("invite" not in str(r["params"]["commands"]) for r in default)


async def test_a_card_on_a_message_that_can_no_longer_be_edited_arrives_as_a_new_message(harness):
    _, _, (rep,) = await harness.team(reps=1)
    today = await new_customer_then_today(harness, rep)
    harness.tg.fail_next("editMessageText", error_code=400, description="Bad Request: message can't be edited")
    card = await harness.press(rep, today[-1], text="张总")
    assert card[-1]["message_id"] != today[-1]["message_id"] and "核实联系人与电话" in card[-1]["text"]
    assert "今日任务" in harness.chat_messages(rep)[-2]["text"], "the old list stays as it was"
    again = await harness.press(rep, card[-1], text="核实联系人与电话")  # edits work again on the new card
    assert again[-1]["message_id"] == card[-1]["message_id"]


async def test_a_button_on_a_message_the_bot_can_no_longer_reach_answers_with_a_new_message(harness):
    """Telegram sends an inaccessible message (date 0) for very old messages: no edit is possible."""
    _, _, (rep,) = await harness.team(reps=1)
    today = await new_customer_then_today(harness, rep)
    data = button_data(today[-1], "张总")
    card = await harness.press(rep, {"message_id": 999_999}, data=data, validate=False)
    assert "核实联系人与电话" in card[-1]["text"] and card[-1]["message_id"] != 999_999
    assert harness.tg.rejected() == []
