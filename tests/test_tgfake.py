"""tgfake against the real PTB client over HTTP: it must answer (and fail) like Telegram.

Here: the basics, validation, chats, flood limits, edits, callbacks and files; updates, faults, the
real Application, spec coverage, the control API and the CLI are in tests/test_tgfake_updates.py."""
from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import telegram
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter

from tgfake import FakeTelegram
from tgfake.entities import format_text, parse_html, parse_markdown_v2
from tests.tgfake_support import TOKEN, bot, keyboard, make_bot, png, started_user, tg  # noqa: F401 (fixtures)


# --------------------------------------------------------------------------- basics

async def test_get_me_and_send_message(tg, bot):
    me = await bot.get_me()
    assert me.id == 123456 and me.is_bot and me.username == "salesbot_demo_bot"
    uid = started_user(tg)
    msg = await bot.send_message(uid, "<b>你好</b> Ann", parse_mode="HTML", reply_markup=keyboard("a:1"))
    assert msg.text == "你好 Ann" and msg.from_user.id == me.id and msg.chat.id == uid
    assert msg.entities[0].type == "bold" and msg.entities[0].length == 2
    assert msg.reply_markup.inline_keyboard[0][0].callback_data == "a:1"
    record = tg.last_sent(uid)
    assert record["text"] == "你好 Ann" and record["parse_mode"] == "HTML" and record["kind"] == "text"
    assert record["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a:1"


async def test_unknown_token_method_and_case_insensitive_names(tg):
    async with httpx.AsyncClient() as http:
        unauthorized = await http.post(f"{tg.base_url}999:nope/getMe")
        assert unauthorized.status_code == 401
        assert unauthorized.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        missing = await http.post(f"{tg.base_url}{TOKEN}/noSuchMethod")
        assert missing.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        lower = await http.get(f"{tg.base_url}{TOKEN}/getme")
        assert lower.json()["result"]["id"] == 123456
        uid = started_user(tg)
        as_json = await http.post(f"{tg.base_url}{TOKEN}/SENDMESSAGE", json={"chat_id": uid, "text": "json body"})
        assert as_json.json()["result"]["text"] == "json body"
        query = await http.get(f"{tg.base_url}{TOKEN}/sendMessage", params={"chat_id": uid, "text": "query"})
        assert query.json()["ok"] is True
        no_text = await http.post(f"{tg.base_url}{TOKEN}/sendMessage", data={"chat_id": uid})
        assert no_text.json()["description"] == "Bad Request: message text is empty"
        no_query_id = await http.post(f"{tg.base_url}{TOKEN}/answerCallbackQuery")
        assert no_query_id.json()["description"] == 'Bad Request: parameter "callback_query_id" is required'


# --------------------------------------------------------------------------- validation

async def test_text_length_counts_utf16_after_entity_parsing(tg, bot):
    uid = started_user(tg)
    assert (await bot.send_message(uid, "x" * 4096)).text == "x" * 4096
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(uid, "x" * 4097)
    # Markup does not count, but emoji are two UTF-16 units each.
    await bot.send_message(uid, "<b>" + "y" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(uid, "😀" * 2049)
    with pytest.raises(BadRequest, match="(?i)message caption is too long"):
        await bot.send_photo(uid, png(), caption="c" * 1025)
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(uid, "   ")
    assert [r["description"] for r in tg.rejected()] == [
        "Bad Request: message is too long", "Bad Request: message is too long",
        "Bad Request: message caption is too long", "Bad Request: message text is empty"]


@pytest.mark.parametrize("bad", ["<b>unclosed", "a < b", "line<br>break", "<b><i>x</b></i>", "Acme & Co",
                                 "<span>x</span>", "<font color=red>x</font>", "</b>"])
async def test_bad_html_is_rejected(tg, bot, bad):
    uid = started_user(tg)
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(uid, bad, parse_mode="HTML")
    assert tg.sent(uid) == [] and len(tg.rejected()) == 1


async def test_escaped_and_rich_html_is_accepted(tg, bot):
    uid = started_user(tg)
    msg = await bot.send_message(uid, "&lt;b&gt;Acme &amp; Co&lt;/b&gt; &#128512; &quot;q&quot;", parse_mode="HTML")
    assert msg.text == '<b>Acme & Co</b> 😀 "q"'
    rich = ('<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike>'
            '<del>d</del><span class="tg-spoiler">p</span><tg-spoiler>q</tg-spoiler>'
            '<a href="https://example.com/?a=1&amp;b=2">link</a><code>c</code>'
            '<pre><code class="language-python">print(1)</code></pre>'
            '<blockquote expandable>quote</blockquote><tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>')
    msg = await bot.send_message(uid, rich, parse_mode="HTML")
    types = [e.type for e in msg.entities]
    assert types == ["bold", "bold", "italic", "italic", "underline", "underline", "strikethrough",
                     "strikethrough", "strikethrough", "spoiler", "spoiler", "text_link", "code", "pre",
                     "expandable_blockquote", "custom_emoji"]
    pre = next(e for e in msg.entities if e.type == "pre")
    assert pre.language == "python" and msg.entities[11].url == "https://example.com/?a=1&b=2"
    assert tg.rejected() == []


async def test_markdown_v2_reserved_characters(tg, bot):
    uid = started_user(tg)
    with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved and must be escaped with the preceding '\\'"):
        await bot.send_message(uid, "Price: 5.00", parse_mode="MarkdownV2")
    msg = await bot.send_message(uid, r"*Price:* 5\.00 \- _ok_ [site](https://x.io/a\)b)", parse_mode="MarkdownV2")
    assert msg.text == "Price: 5.00 - ok site"
    assert [(e.type, e.offset, e.length) for e in msg.entities] == [("bold", 0, 6), ("italic", 14, 2),
                                                                     ("text_link", 17, 4)]
    assert msg.entities[2].url == "https://x.io/a)b"
    with pytest.raises(BadRequest, match="(?i)unsupported parse_mode"):
        await bot.send_message(uid, "x", parse_mode="BBCode")


def test_parsers_directly():
    assert parse_html("<b>a<i>b</i></b>") == ("ab", [{"type": "bold", "offset": 0, "length": 2},
                                                     {"type": "italic", "offset": 1, "length": 1}])
    assert parse_html("Acme & Co", strict_amp=False)[0] == "Acme & Co"
    assert parse_markdown_v2("||s|| __u__ ~x~ `a.b`")[0] == "s u x a.b"
    text, entities = format_text("  😀 /start@bot https://a.b/c #tag  ", None)
    assert text == "😀 /start@bot https://a.b/c #tag"
    assert [(e["type"], e["offset"]) for e in entities] == [("bot_command", 3), ("url", 14), ("hashtag", 28)]


async def test_callback_data_is_limited_to_64_bytes(tg, bot):
    uid = started_user(tg)
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(uid, "x", reply_markup=keyboard("a" * 65))
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(uid, "x", reply_markup=keyboard("客" * 22))  # 66 bytes
    await bot.send_message(uid, "ascii", reply_markup=keyboard("a" * 64))
    await bot.send_message(uid, "cjk", reply_markup=keyboard("客" * 21 + "a"))  # 64 bytes
    assert len(tg.sent(uid)) == 2 and len(tg.rejected()) == 2
    async with httpx.AsyncClient() as http:
        url = f"{tg.base_url}{TOKEN}/sendMessage"
        for markup, error in [({"inline_keyboard": [{"text": "x", "callback_data": "y"}]}, "Array of Arrays"),
                              ({"inline_keyboard": [[{"text": "no action"}]]}, "Text buttons are unallowed"),
                              ({"inline_keyboard": [[{"text": "x", "callback_data": "y", "url": "https://a"}]]},
                               "exactly one"),
                              ("{not json", "can't parse reply keyboard markup JSON object")]:
            body = {"chat_id": uid, "text": "x", "reply_markup": markup if isinstance(markup, str) else json.dumps(markup)}
            answer = (await http.post(url, data=body)).json()
            assert answer["error_code"] == 400 and error in answer["description"]


# --------------------------------------------------------------------------- chats

async def test_chat_reachability_errors(tg, bot):
    stranger = tg.add_user(first_name="Never")["id"]
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(stranger, "hi")
    uid = started_user(tg)
    update = tg.block_bot(uid)
    assert update["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(uid, "hi")
    tg.unblock_bot(uid)
    await bot.send_message(uid, "welcome back")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(987654321, "hi")
    group = tg.add_group("销售一组", member_ids=[uid])
    await bot.send_message(group["id"], "before")
    new_id = tg.migrate_group(group["id"])
    assert new_id < -1000000000000
    with pytest.raises(ChatMigrated) as info:
        await bot.send_message(group["id"], "after")
    assert info.value.new_chat_id == new_id
    await bot.send_message(new_id, "after")
    async with httpx.AsyncClient() as http:
        raw = (await http.post(f"{tg.base_url}{TOKEN}/sendMessage", data={"chat_id": group["id"], "text": "x"})).json()
    assert raw == {"ok": False, "error_code": 400, "description": "Bad Request: group chat was upgraded to a "
                   "supergroup chat", "parameters": {"migrate_to_chat_id": new_id}}
    tg.remove_bot_from_group(new_id, uid)
    with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
        await bot.send_message(new_id, "x")


# --------------------------------------------------------------------------- flood limits

async def test_private_chat_limit_and_retry_after(tg, bot):
    uid = started_user(tg)
    for i in range(3):  # per_chat_burst
        await bot.send_message(uid, f"m{i}")
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(uid, "m3")
    assert info.value.retry_after == 1
    assert tg.stats()["rate_limited_429"] == 1 and tg.stats()["sends"] == 3
    assert [m["text"] for m in tg.sent(uid)] == ["m0", "m1", "m2"]
    other = started_user(tg, "Bob")
    await bot.send_message(other, "another chat is not limited")


async def test_global_limit_of_30_per_second():
    async with FakeTelegram(time_scale=0.01) as slow:  # a slow clock: no refill during the test
        slow.register_bot(TOKEN)
        async with make_bot(slow) as client:
            users = [started_user(slow, f"u{i}") for i in range(45)]
            results = await asyncio.gather(*(client.send_message(u, "broadcast") for u in users),
                                           return_exceptions=True)
    limited = [r for r in results if isinstance(r, RetryAfter)]
    accepted = [r for r in results if isinstance(r, telegram.Message)]
    assert len(accepted) == 30 and len(limited) == 15
    assert all(r.retry_after >= 1 for r in limited)  # real seconds: ceil(server wait / 0.01)
    assert slow.stats()["rate_limited_429"] == 15 and slow.stats()["sends"] == 30


async def test_group_limit_of_20_per_minute(tg, bot):
    group = tg.add_group("大群")
    for i in range(20):
        await bot.send_message(group["id"], f"g{i}")
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(group["id"], "g20")
    assert 1 <= info.value.retry_after <= 3
    assert tg.deliveries()[group["id"]] == 20


async def test_time_scale_refills_limits_faster():
    async with FakeTelegram(time_scale=20, per_chat_burst=2) as fast:
        fast.register_bot(TOKEN)
        async with make_bot(fast) as client:
            uid = started_user(fast)
            await client.send_message(uid, "1")
            await client.send_message(uid, "2")
            with pytest.raises(RetryAfter) as info:
                await client.send_message(uid, "3")
            assert info.value.retry_after == 1  # real seconds, rounded up
            await asyncio.sleep(0.12)  # 2.4 server seconds
            await client.send_message(uid, "3")
            await client.send_message(uid, "4")
    async with FakeTelegram(time_scale=1, per_chat_burst=2) as slow:
        slow.register_bot(TOKEN)
        async with make_bot(slow) as client:
            uid = started_user(slow)
            await client.send_message(uid, "1")
            await client.send_message(uid, "2")
            await asyncio.sleep(0.12)
            with pytest.raises(RetryAfter):
                await client.send_message(uid, "3")


# --------------------------------------------------------------------------- edits, callbacks, files

async def test_edits_and_callback_queries(tg, bot):
    uid = started_user(tg)
    card = await bot.send_message(uid, "card", reply_markup=keyboard("done:1"))
    update = tg.press_button(uid, card.message_id, button_text="按钮")
    query = update["callback_query"]
    assert query["data"] == "done:1" and query["message"]["message_id"] == card.message_id
    with pytest.raises(BadRequest, match="(?i)message_too_long"):
        await bot.answer_callback_query(query["id"], "x" * 201)
    assert await bot.answer_callback_query(query["id"], "已完成")
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query["id"], "again")
    assert tg.callback_answers()[0]["text"] == "已完成"
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("card", uid, card.message_id, reply_markup=keyboard("done:1"))
    edited = await bot.edit_message_text("card ✅", uid, card.message_id)  # no markup: keyboard removed
    assert edited.edit_date and edited.reply_markup is None
    record = tg.last_sent(uid)
    assert record["text"] == "card ✅" and record["edits"] == 1 and record["reply_markup"] is None
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", uid, 9999)
    with pytest.raises(LookupError):
        tg.press_button(uid, card.message_id, callback_data="done:1")  # keyboard is gone
    forged = tg.press_button(uid, card.message_id, callback_data="admin:drop", validate=False)
    assert forged["callback_query"]["data"] == "admin:drop"
    await bot.edit_message_reply_markup(uid, card.message_id, reply_markup=keyboard("undo:1"))
    assert tg.last_sent(uid)["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "undo:1"
    assert await bot.delete_message(uid, card.message_id)
    assert tg.sent(uid) == [] and tg.sent(uid, include_deleted=True)[0]["deleted"]
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(uid, card.message_id)


async def test_uploads_files_and_user_documents(tg, bot):
    uid = started_user(tg)
    photo = await bot.send_photo(uid, png(300, 150), caption="<i>chart</i>", parse_mode="HTML")
    assert photo.caption == "chart" and photo.photo[-1].width == 300
    assert tg.file_bytes(tg.last_sent(uid)).startswith(b"\x89PNG")
    downloaded = await (await bot.get_file(photo.photo[-1].file_id)).download_as_bytearray()
    assert bytes(downloaded) == png(300, 150)
    with pytest.raises(BadRequest, match="(?i)image_process_failed"):
        await bot.send_photo(uid, b"not an image at all")
    doc = await bot.send_document(uid, "名单,电话\n".encode(), filename="export.csv")
    assert doc.document.file_name == "export.csv" and doc.document.mime_type == "text/csv"
    record = tg.last_sent(uid)
    assert record["kind"] == "document" and record["filename"] == "export.csv" and record["file_size"] == 14
    update = tg.send_document(uid, "leads.xlsx", b"PK\x03\x04data", caption="客户表")
    file_id = update["message"]["document"]["file_id"]
    data = await (await bot.get_file(file_id)).download_as_bytearray()
    assert bytes(data) == b"PK\x03\x04data"
    with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
        await bot.send_document(uid, "no-such-file-id")
    assert await bot.send_chat_action(uid, "typing") and tg.chat_actions(uid)[0]["action"] == "typing"


async def test_commands_per_scope_and_language(tg, bot):
    from telegram import BotCommand, BotCommandScopeAllPrivateChats
    await bot.set_my_commands([BotCommand("today", "今日任务")], language_code="zh")
    await bot.set_my_commands([BotCommand("today", "Today")], scope=BotCommandScopeAllPrivateChats())
    assert [c.description for c in await bot.get_my_commands(language_code="zh")] == ["今日任务"]
    assert [c.description for c in await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())] == ["Today"]
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    await bot.delete_my_commands(language_code="zh")
    assert await bot.get_my_commands(language_code="zh") == ()
    assert await bot.set_my_description("销售助手") and (await bot.get_my_description()).description == "销售助手"
    assert await bot.set_my_short_description("short")
    assert await bot.log_out() and await bot.close()
