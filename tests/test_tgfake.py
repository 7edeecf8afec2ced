"""tgfake against the real PTB client over HTTP: it must answer (and fail) like Telegram."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import telegram
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from tgfake import FakeTelegram
from tgfake.entities import format_text, parse_html, parse_markdown_v2
from tgfake.spec import BUNDLED_SPEC, SHARED_SPEC

TOKEN = "123456:TEST-fake_token"
ROOT = Path(__file__).resolve().parents[1]


def png(width: int = 200, height: int = 100) -> bytes:
    """A PNG header is all the server decodes."""
    ihdr = struct.pack(">II", width, height) + b"\x08\x02\x00\x00\x00"
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\0\0\0\0"


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("按钮", callback_data=data)]])


@pytest.fixture
async def tg():
    async with FakeTelegram() as server:
        server.register_bot(TOKEN)
        yield server


def make_bot(server: FakeTelegram, **request_kw) -> telegram.Bot:
    request = HTTPXRequest(**request_kw) if request_kw else None
    return telegram.Bot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url, request=request)


@pytest.fixture
async def bot(tg):
    async with make_bot(tg) as client:
        yield client


def started_user(server: FakeTelegram, name: str = "Ann") -> int:
    user = server.add_user(first_name=name)
    server.send_text(user["id"], "/start")
    return user["id"]


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


# --------------------------------------------------------------------------- updates

async def test_get_updates_offset_limit_and_long_poll(tg, bot):
    uid = started_user(tg)  # update 1
    for i in range(3):
        tg.send_text(uid, f"msg {i}")  # updates 2..4
    first = await bot.get_updates(limit=2, timeout=0)
    assert [u.update_id for u in first] == [1, 2]
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [1, 2, 3, 4]  # nothing confirmed yet
    rest = await bot.get_updates(offset=3, timeout=0)
    assert [u.message.text for u in rest] == ["msg 1", "msg 2"]
    last = await bot.get_updates(offset=-1, timeout=0)
    assert [u.update_id for u in last] == [4]
    assert tg.pending_updates() == 1
    assert await bot.get_updates(offset=5, timeout=0) == ()
    start = time.monotonic()
    assert await bot.get_updates(offset=5, timeout=1) == ()
    assert 0.9 <= time.monotonic() - start < 5.0  # held for the long-poll timeout, then answered

    async def later():
        await asyncio.sleep(0.2)
        tg.send_text(uid, "wake up")

    start = time.monotonic()
    task = asyncio.create_task(later())
    woke = await bot.get_updates(offset=5, timeout=5)
    await task
    assert [u.message.text for u in woke] == ["wake up"] and time.monotonic() - start < 1.5


async def test_allowed_updates_and_competing_pollers(tg, bot):
    uid = started_user(tg)
    await bot.get_updates(offset=2, timeout=0, allowed_updates=["callback_query"])
    assert tg.send_text(uid, "filtered")["update_id"] is None
    card = await bot.send_message(uid, "x", reply_markup=keyboard("k"))
    assert tg.press_button(uid, card.message_id, callback_data="k")["update_id"] == 2
    await bot.get_updates(offset=3, timeout=0, allowed_updates=[])
    async with make_bot(tg) as second:
        first_poll = asyncio.create_task(bot.get_updates(offset=3, timeout=3))
        await asyncio.sleep(0.1)
        await second.get_updates(offset=3, timeout=0)
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await first_poll


async def test_webhook_delivery_secret_retries_and_409(tg, bot):
    received: list[tuple[str | None, dict]] = []
    failures = [500]

    async def hook(request: web.Request) -> web.Response:
        if failures:
            return web.Response(status=failures.pop())
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    tg.webhook_retry_base_s = 0.05
    try:
        uid = tg.add_user(first_name="Hook")["id"]
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret_token-1")
        with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
            await bot.get_updates()
        tg.send_text(uid, "/start")
        await tg.wait_until(lambda: received, timeout=5)
        secret, update = received[0]
        assert secret == "s3cret_token-1" and update["message"]["text"] == "/start"
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook") and info.pending_update_count == 0
        assert "500" in info.last_error_message
        with pytest.raises(BadRequest, match="(?i)secret token contains unallowed characters"):
            await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="bad token!")
        assert await bot.delete_webhook()
        tg.send_text(uid, "polled")
        assert [u.message.text for u in await bot.get_updates(timeout=0)] == ["polled"]
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------- faults

async def test_fault_injection_has_no_effect_and_is_counted():
    async with FakeTelegram(per_chat_burst=100, seed=7) as server:
        server.register_bot(TOKEN)
        async with make_bot(server) as client:
            uid = started_user(server)
            server.set_faults(0.5, kinds=("429", "500", "502", "drop"), methods=["sendMessage"])
            outcomes = []
            for i in range(24):
                try:
                    await client.send_message(uid, f"n{i}")
                    outcomes.append("ok")
                except (RetryAfter, NetworkError) as exc:
                    outcomes.append(type(exc).__name__)
            stats = server.stats()
            assert 0 < stats["faults_injected"] == outcomes.count("RetryAfter") + outcomes.count("NetworkError")
            assert stats["sends"] == outcomes.count("ok") == len(server.sent(uid))
            assert set(stats["faults_by_kind"]) <= {"429", "500", "502", "drop"}
            assert await client.get_me()  # lifecycle methods are not faulted
            server.set_faults(0.0)


async def test_latency_delays_api_calls_but_not_the_long_poll(tg):
    uid = started_user(tg)
    tg.set_latency(120)
    async with make_bot(tg) as client:
        started = time.monotonic()
        await client.send_message(uid, "slow network")
        assert time.monotonic() - started >= 0.12  # a lower bound: the server waited before answering
        tg.set_latency(5000)
        await asyncio.wait_for(client.get_updates(timeout=0), 2.5)  # would take 5 s if it were delayed
        tg.set_latency(0)
    with pytest.raises(ValueError):
        tg.set_latency(-1)


async def test_timeout_and_lost_ack_faults(tg):
    uid = started_user(tg)
    async with make_bot(tg, read_timeout=0.2) as client:
        tg.fail_next("sendMessage", "timeout")
        tg.timeout_hold_s = 0.5
        with pytest.raises(TimedOut):
            await client.send_message(uid, "slow")
        assert tg.sent(uid) == []
        tg.fail_next("sendMessage", "lost_ack")
        with pytest.raises(NetworkError):
            await client.send_message(uid, "at least once")
        await client.send_message(uid, "at least once")  # the client's retry
        assert [m["text"] for m in tg.sent(uid)] == ["at least once", "at least once"]
        assert tg.duplicates() == [{"chat_id": uid, "text": "at least once", "count": 2, "message_ids": [2, 3]}]
        tg.fail_next("editMessageText", error_code=400, description="Bad Request: message can't be edited")
        with pytest.raises(BadRequest, match="(?i)can't be edited"):
            await client.edit_message_text("x", uid, 2)
        assert tg.stats()["faults_injected"] == 3 and tg.stats()["duplicates"] == 1


# --------------------------------------------------------------------------- the real Application

async def test_application_polls_and_replies_to_a_command(tg):
    async def start(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_html(f"<b>欢迎</b> {' '.join(context.args)}")

    app = ApplicationBuilder().token(TOKEN).base_url(tg.base_url).base_file_url(tg.base_file_url).build()
    app.add_handler(CommandHandler("start", start))
    uid = tg.add_user(first_name="Rep")["id"]
    group = tg.add_group("组", member_ids=[uid])
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        tg.send_command(uid, "start", "deal42")
        replies = await tg.wait_for_sent(uid, 1, timeout=5)
        assert replies[-1]["text"] == "欢迎 deal42"
        tg.send_text(uid, "/start@salesbot_demo_bot g", chat_id=group["id"])
        assert tg.send_text(uid, "chatter", chat_id=group["id"])["update_id"] is None  # privacy mode
        assert (await tg.wait_for_sent(group["id"], 1, timeout=5))[-1]["text"] == "欢迎 g"
        await tg.wait_idle(timeout=5)
        assert tg.pending_updates() == 0
        await app.updater.stop()
        await app.stop()
    assert tg.rejected() == []


async def test_business_connection_and_forwards(tg, bot):
    owner = tg.add_user(first_name="Boss")["id"]
    connected = tg.business_connect(owner)
    connection_id = connected["business_connection"]["id"]
    update = tg.business_message(connection_id, {"id": 555001, "first_name": "客户"}, "价格多少？")
    assert update["business_message"]["business_connection_id"] == connection_id
    updates = await bot.get_updates(timeout=0)
    assert updates[0].business_connection.user.id == owner
    assert updates[1].business_message.text == "价格多少？"
    reply = await bot.send_message(555001, "您好", business_connection_id=connection_id)
    assert reply.business_connection_id == connection_id
    tg.business_disconnect(connection_id)
    with pytest.raises(BadRequest, match="(?i)business_connection_invalid"):
        await bot.send_message(555001, "again", business_connection_id=connection_id)
    rep = started_user(tg)
    forward = tg.send_forward(rep, "客户：下周签", origin_name="王总")
    assert forward["message"]["forward_origin"] == {"type": "hidden_user", "date": forward["message"]["forward_date"],
                                                    "sender_user_name": "王总"}
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert updates[-1].message.forward_origin.sender_user_name == "王总"


# --------------------------------------------------------------------------- spec coverage, control API, CLI

def _dummy(field_name: str, types: tuple[str, ...], ids: dict[str, int]) -> str:
    if field_name in ids:
        return str(ids[field_name])
    kind = types[0]
    if kind == "Integer":
        return "1"
    if kind == "Boolean":
        return "true"
    if kind == "Float":
        return "1.5"
    if kind.startswith("Array of"):
        return "[]"
    if kind in ("String", "InputFile"):
        return "x"
    return "{}"


async def test_every_spec_method_answers_without_404_or_crash(tg):
    uid = started_user(tg)
    async with httpx.AsyncClient() as http:
        sent = (await http.post(f"{tg.base_url}{TOKEN}/sendMessage", data={"chat_id": uid, "text": "t"})).json()
        ids = {"chat_id": uid, "user_id": uid, "from_chat_id": uid, "message_id": sent["result"]["message_id"]}
        statuses = {}
        for method in tg.spec.methods.values():
            if method.name in ("getUpdates", "logOut", "close", "setWebhook"):
                continue
            data = {f.name: _dummy(f.name, f.types, ids) for f in method.fields.values() if f.required}
            answer = await http.post(f"{tg.base_url}{TOKEN}/{method.name}", data=data)
            body = answer.json()
            statuses[method.name] = answer.status_code
            assert answer.status_code in (200, 400, 403, 429), (method.name, answer.status_code, body)
            assert body["ok"] is (answer.status_code == 200)
            returns = method.returns[0]
            cls = getattr(telegram, returns, None)
            if answer.status_code == 200 and isinstance(body["result"], dict) and hasattr(cls, "de_json"):
                cls.de_json(body["result"], None)
    assert sum(1 for s in statuses.values() if s == 200) > 120


async def test_control_api_over_http(tg, bot):
    async with httpx.AsyncClient(base_url=tg.url) as http:
        async def control(name: str, **kwargs):
            answer = (await http.post(f"/control/{name}", json=kwargs)).json()
            assert answer["ok"], answer
            return answer["result"]

        user = await control("add_user", first_name="Remote", username="remote_rep")
        await control("send_text", user_id=user["id"], text="/start")
        msg = await bot.send_message(user["id"], "hi", reply_markup=keyboard("x:1"))
        assert (await control("sent", chat_id=user["id"]))[0]["text"] == "hi"
        await control("press_button", user_id=user["id"], message_id=msg.message_id, button_text="按钮")
        await control("send_document", user_id=user["id"], filename="a.txt", content_b64="aGVsbG8=")
        assert (await control("stats"))["sends"] == 1
        assert await control("requests")
        bad = (await http.post("/control/press_button", json={"user_id": user["id"], "message_id": 99})).json()
        assert bad["ok"] is False and "LookupError" in bad["error"]
        assert (await http.post("/control/__init__", json={})).status_code == 404


def test_spec_is_bundled_and_identical():
    assert BUNDLED_SPEC.is_file()
    if SHARED_SPEC.is_file():
        assert BUNDLED_SPEC.read_bytes() == SHARED_SPEC.read_bytes()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_standalone_cli_serves_the_api():
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tgfake", "--port", str(port), "--token", TOKEN,
                             "--time-scale", "5"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(100):
                try:
                    answer = await http.get(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
            assert answer.json()["result"]["username"] == "salesbot_demo_bot"
    finally:
        proc.terminate()
        output = proc.communicate(timeout=5)[0].decode()
    assert "listening on" in output and TOKEN not in output
