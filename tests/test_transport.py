"""bot/transport.py: the aiohttp transport behaves like PTB's httpx one against the local Bot API server.

Each test runs on both transports, so any difference in what reaches PTB (results, uploads, which
exception a fault becomes) fails here rather than in production's rate limiter or outbox.
"""
from __future__ import annotations

import struct

import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bot.transport import AiohttpRequest, make_request
from tgfake import FakeTelegram

TOKEN = "123456:TEST-fake_token"


def png(width: int = 120, height: int = 60) -> bytes:
    ihdr = struct.pack(">II", width, height) + b"\x08\x02\x00\x00\x00"
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\0\0\0\0"


@pytest.fixture(params=["aiohttp", "httpx"])
def transport(request):
    return request.param


@pytest.fixture
async def tg():
    async with FakeTelegram() as server:
        server.register_bot(TOKEN)
        yield server


def bot_for(server: FakeTelegram, transport: str, **timeouts) -> telegram.Bot:
    request = AiohttpRequest(**timeouts) if transport == "aiohttp" else HTTPXRequest(**timeouts)
    return telegram.Bot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url, request=request)


def started_user(server: FakeTelegram) -> int:
    uid = server.add_user(first_name="张三", language_code="zh-hans")["id"]
    server.send_text(uid, "/start")
    return uid


async def test_calls_keyboards_and_chinese_html_round_trip(tg, transport):
    uid = started_user(tg)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("✅ 确认预算", callback_data="cd:12:done:3")]])
    async with bot_for(tg, transport) as bot:
        me = await bot.get_me()
        sent = await bot.send_message(uid, "<b>客户 &lt;A&gt;</b> 已报价 5万 🎉", parse_mode=ParseMode.HTML,
                                      reply_markup=markup)
        edited = await bot.edit_message_text("第二版", chat_id=uid, message_id=sent.message_id, reply_markup=markup)
    assert me.is_bot
    assert sent.text == "客户 <A> 已报价 5万 🎉" and sent.reply_markup == markup
    assert edited.text == "第二版"
    assert [m["text"] for m in tg.sent(uid)] == ["第二版"]  # edited in place, as Telegram keeps it
    assert tg.rejected() == []


async def test_files_go_as_multipart_with_their_caption(tg, transport):
    uid = started_user(tg)
    async with bot_for(tg, transport) as bot:
        photo = await bot.send_photo(uid, InputFile(png(), filename="board.png"), caption="<b>本周排行</b>",
                                     parse_mode=ParseMode.HTML)
        doc = await bot.send_document(uid, InputFile("名字,电话\n张三,138\n".encode(), filename="客户.csv"))
        odd = await bot.send_document(uid, InputFile(b"x", filename='报表"终版".csv'))  # a quote in the header
    assert photo.caption == "本周排行" and photo.photo
    assert doc.document.file_name == "客户.csv"
    assert odd.document.file_name.startswith("报表") and odd.document.file_name.endswith(".csv")
    assert tg.rejected() == []


async def test_telegram_errors_keep_their_types(tg, transport):
    uid = started_user(tg)
    async with bot_for(tg, transport) as bot:
        with pytest.raises(BadRequest):
            await bot.send_message(uid, "x" * 4097)
        tg.fail_next("sendMessage", "429")
        with pytest.raises(RetryAfter):
            await bot.send_message(uid, "flood")
        stranger = tg.add_user(first_name="Stranger")["id"]
        with pytest.raises(Forbidden):
            await bot.send_message(stranger, "hello")


async def test_a_timeout_is_timed_out_and_a_dropped_connection_a_network_error(tg, transport):
    """The rate limiter keeps a timed-out request's slot (it may have been sent) and refunds others."""
    uid = started_user(tg)
    async with bot_for(tg, transport, read_timeout=0.2) as bot:
        tg.timeout_hold_s = 0.6
        tg.fail_next("sendMessage", "timeout")
        with pytest.raises(TimedOut):
            await bot.send_message(uid, "slow")
        tg.fail_next("sendMessage", "drop")
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(uid, "dropped")
        assert not isinstance(caught.value, TimedOut)
        assert (await bot.send_message(uid, "after")).text == "after"  # the session survives both


async def test_not_initialized_is_an_error_and_shutdown_is_idempotent(tg):
    request = AiohttpRequest()
    with pytest.raises(RuntimeError):
        await request.do_request(f"{tg.base_url}{TOKEN}/getMe", "POST")
    await request.initialize()
    await request.shutdown()
    await request.shutdown()


def test_the_environment_picks_the_transport(monkeypatch):
    monkeypatch.delenv("SALESBOT_BOT_HTTP", raising=False)
    assert isinstance(make_request(4), AiohttpRequest)
    monkeypatch.setenv("SALESBOT_BOT_HTTP", "httpx")
    assert isinstance(make_request(4), HTTPXRequest)


def test_proxies_come_from_the_environment_once_per_origin(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.local:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    request = AiohttpRequest()
    assert request._proxy_for("https://api.telegram.org/bot1:x/getMe") == "http://proxy.local:3128"
    assert request._proxy_for("http://127.0.0.1:8081/bot1:x/getMe") is None
    monkeypatch.setenv("HTTPS_PROXY", "http://other:1")
    assert request._proxy_for("https://api.telegram.org/bot1:x/sendMessage") == "http://proxy.local:3128"  # cached


def test_all_proxy_is_honoured_and_socks_is_refused_clearly(monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALL_PROXY", "http://corp-proxy:8080")
    assert AiohttpRequest()._proxy_for("https://api.telegram.org/bot1:x/getMe") == "http://corp-proxy:8080"
    monkeypatch.setenv("ALL_PROXY", "socks5://corp-proxy:1080")
    with pytest.raises(NetworkError, match="SALESBOT_BOT_HTTP=httpx"):
        AiohttpRequest()._proxy_for("https://api.telegram.org/bot1:x/getMe")


async def test_a_file_handle_upload_survives_a_retry(tg, transport):
    """The rate limiter resends after a 429: the second send must carry the whole file again."""
    import io
    uid = started_user(tg)
    handle = io.BytesIO("名字,电话\n张三,138\n".encode())
    async with bot_for(tg, transport) as bot:
        document = InputFile(handle, filename="客户.csv", read_file_handle=False)
        tg.fail_next("sendDocument", "500")
        with pytest.raises(NetworkError):
            await bot.send_document(uid, document)
        sent = await bot.send_document(uid, document)
    assert sent.document.file_size == len("名字,电话\n张三,138\n".encode())


async def test_redirects_are_not_followed(transport):
    """A POST answered with a redirect must not silently become a GET elsewhere."""
    from aiohttp import web

    async def moved(_request):
        raise web.HTTPTemporaryRedirect("/elsewhere")

    async def elsewhere(_request):  # a valid getMe answer: following the redirect would "work"
        return web.json_response({"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "x",
                                                         "username": "x_bot"}})
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", moved)
    app.router.add_route("*", "/elsewhere", elsewhere)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    request = AiohttpRequest() if transport == "aiohttp" else HTTPXRequest()
    try:
        with pytest.raises(telegram.error.TelegramError):  # initialize() calls getMe
            async with telegram.Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=request):
                pass
    finally:
        await runner.cleanup()
