"""Buttons for things that changed: a popup says so and the message stays exactly as it is.

A list, brief, pool or approval message lives on in the chat after what it shows has moved on
(a customer transferred, returned to the pool, deleted; a request decided elsewhere).  Pressing
one of its buttons must not replace the message, and no edit may go out that would leave the
text and keyboard unchanged (Telegram answers those with 400 "message is not modified").
"""
from datetime import datetime

from sqlmodel import select

from storage.models import Customer, User
from tests.e2e.test_e2e_navigation import add_customer
from tests.harness import buttons


def edits(h, chat_id: int) -> list[dict]:
    return [r for r in h.tg.calls() if r["method"].lower().startswith("editmessage")
            and str(r["params"].get("chat_id")) == str(chat_id)]


def answers(h) -> list[dict]:
    return h.tg.callback_answers()


def snapshot(h, chat_id: int, message_id: int) -> dict:
    message = next(m for m in h.tg.sent(chat_id) if m["message_id"] == message_id)
    return {k: message.get(k) for k in ("text", "reply_markup", "edits")}


async def set_owner(h, name: str, tg_id: int | None) -> int:
    def change(session):
        customer = session.exec(select(Customer).where(Customer.name == name)).one()
        owner = session.exec(select(User).where(User.tg_id == tg_id)).one() if tg_id else None
        customer.owner_id = owner.id if owner else None
        session.add(customer)
        return customer.id
    return await h.core.db.run(change)


async def test_card_button_for_a_transferred_or_pooled_customer_answers_with_a_popup(harness):
    h = harness
    _, _, (li, chen) = await h.team(reps=2)
    await add_customer(h, li, "张总", "华东精密机械有限公司", "13800138000")
    await add_customer(h, li, "王总", "蓝海物流有限公司", "13700137000")
    listing = (await h.send(li, "/customers"))[-1]
    assert "张总" in listing["text"] and "王总" in listing["text"]
    await set_owner(h, "张总", chen["id"])  # transferred to another rep
    before, edits_before = snapshot(h, li["id"], listing["message_id"]), len(edits(h, li["id"]))
    for _ in range(2):  # the second press, too, sends nothing Telegram would refuse
        changed = await h.press(li, listing, text="张总")
        assert changed == []
        assert answers(h)[-1]["show_alert"] is True and "找不到这个客户" in answers(h)[-1]["text"]
    assert snapshot(h, li["id"], listing["message_id"]) == before
    assert len(edits(h, li["id"])) == edits_before
    # The other button on the same list still works, and a customer back in the pool is stale too.
    card = await h.press(li, listing, text="王总")
    assert card[-1]["message_id"] == listing["message_id"] and "推荐话术" in card[-1]["text"]
    back = (await h.send(li, "/customers"))[-1]
    await set_owner(h, "王总", None)
    assert await h.press(li, back, text="王总") == []
    assert answers(h)[-1]["show_alert"] is True
    assert h.tg.errors() == [] and h.tg.rejected() == []


async def test_brief_button_for_a_deleted_customer_and_a_page_that_is_gone(harness):
    h = harness
    _, _, (li,) = await h.team(reps=1)
    await add_customer(h, li, "张总", "华东精密机械有限公司", "13800138000")
    await h.run_schedule(datetime(2026, 11, 27, 0, 30))
    brief = [m for m in h.chat_messages(li) if "今日任务" in (m.get("text") or "")][-1]
    before = snapshot(h, li["id"], brief["message_id"])
    # A card button whose customer no longer exists (same data a deleted row would leave behind).
    assert await h.press(li, brief, data="c:999999", validate=False) == []
    assert answers(h)[-1]["show_alert"] is True
    # A list page beyond the end of today's list.
    assert await h.press(li, brief, data="pg:list:7", validate=False) == []
    assert answers(h)[-1]["show_alert"] is True and "失效" in answers(h)[-1]["text"]
    assert snapshot(h, li["id"], brief["message_id"]) == before
    assert edits(h, li["id"]) == [] and h.tg.errors() == []


async def test_pressing_what_is_already_shown_sends_no_edit(harness):
    h = harness
    _, _, (li,) = await h.team(reps=1)
    await add_customer(h, li, "张总", "华东精密机械有限公司", "13800138000")
    listing = (await h.send(li, "/customers"))[-1]
    card = (await h.press(li, listing, text="张总"))[-1]
    n = len(edits(h, li["id"]))
    # The card is on screen; its customer's button pressed again (a double tap) changes nothing.
    data = next(b["callback_data"] for b in buttons(listing) if "张总" in b["text"])
    assert await h.press(li, card, data=data, validate=False) == []
    assert len(edits(h, li["id"])) == n
    # The card's "back" button turns it into today's list; a second tap of it changes nothing.
    back = next(b["callback_data"] for b in buttons(card) if b["callback_data"].startswith("pg:"))
    listed = await h.press(li, card, data=back)
    assert listed and listed[-1]["message_id"] == card["message_id"]
    assert await h.press(li, card, data=back, validate=False) == []
    assert len(edits(h, li["id"])) == n + 1
    assert h.tg.errors() == [], [e["description"] for e in h.tg.errors()]


async def test_decided_approval_button_leaves_the_request_as_it_is(harness):
    from tests.e2e.test_e2e_incentives import big_deal_in_negotiation, db_user
    h = harness
    manager, rep, _ = await big_deal_in_negotiation(h)
    await h.send(rep, "/stage 大单客户")
    await h.drain()
    request = [m for m in h.tg.sent(manager["id"]) if "待审批积分" in (m["text"] or "")][-1]
    approve = next(b["callback_data"] for b in buttons(request) if "批准" in b["text"])
    # Decided elsewhere (e.g. from the digest): this request message still has its buttons.
    from services import incentives as inc
    mgr = await db_user(h, manager)
    entry_id = int(approve.split(":")[2])
    await h.core.db.run(inc.decide_award, h.config, mgr, entry_id, True, h.clock.now())
    before = snapshot(h, manager["id"], request["message_id"])
    assert await h.press(manager, request, data=approve) == []
    assert answers(h)[-1]["show_alert"] is True and "处理过" in answers(h)[-1]["text"]
    assert snapshot(h, manager["id"], request["message_id"]) == before


async def test_pool_button_for_a_customer_someone_else_claimed(harness):
    h = harness
    _, _, (li, chen) = await h.team(reps=2)
    await add_customer(h, li, "张总", "华东精密机械有限公司", "13800138000")
    await set_owner(h, "张总", None)  # back in the pool
    pool = (await h.send(chen, "/pool"))[-1]
    assert "认领" in str(pool["reply_markup"])
    await set_owner(h, "张总", li["id"])  # claimed by li meanwhile
    before = snapshot(h, chen["id"], pool["message_id"])
    assert await h.press(chen, pool, text="认领") == []
    assert answers(h)[-1]["show_alert"] is True
    assert snapshot(h, chen["id"], pool["message_id"]) == before
    assert edits(h, chen["id"]) == [] and h.tg.errors() == []


def test_unchanged_compares_text_formatting_and_keyboard():
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
    from handlers.common import unchanged
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("张总", callback_data="c:1")]])
    shown = Message.de_json({"message_id": 5, "date": 0, "chat": {"id": 1, "type": "private"},
                             "text": "张总 · A&B", "entities": [{"type": "bold", "offset": 0, "length": 2}],
                             "reply_markup": keyboard.to_dict()}, None)
    assert unchanged(shown, "<b>张总</b> · A&amp;B", keyboard)
    assert not unchanged(shown, "张总 · A&amp;B", keyboard)                 # formatting differs
    assert not unchanged(shown, "<b>张总</b> · A&amp;C", keyboard)          # text differs
    assert not unchanged(shown, "<b>张总</b> · A&amp;B", None)              # keyboard differs
    other = InlineKeyboardMarkup([[InlineKeyboardButton("张总", callback_data="c:2")]])
    assert not unchanged(shown, "<b>张总</b> · A&amp;B", other)
