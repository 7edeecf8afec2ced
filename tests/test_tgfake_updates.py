"""tgfake against the real PTB client over HTTP, continued (tests/test_tgfake.py has the basics,
validation, chats, flood limits, edits and files): updates (getUpdates, webhooks, competing
pollers), fault injection, a real PTB Application, the Bot API spec coverage, the control API and
the standalone CLI.  Split out of tests/test_tgfake.py unchanged."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
import telegram
from aiohttp import web
from telegram.error import BadRequest, Conflict, NetworkError, RetryAfter, TimedOut
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from tgfake import FakeTelegram
from tgfake.spec import BUNDLED_SPEC, SHARED_SPEC
from tests.tgfake_support import ROOT, TOKEN, bot, keyboard, make_bot, started_user, tg  # noqa: F401 (fixtures)


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
