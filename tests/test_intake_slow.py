"""Slow and vanishing clients at the ingestion server and the webhook, over real sockets: headers and
bodies that never finish are cut off, unauthenticated clients never get to send a body, signed
bodies are read a bounded number at a time, and a client that hangs up is one INFO line."""
from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from tests.test_ingest_support import live_server, make_team, set_secrets, signed, sqlite_only

LEAD = {"name": "张伟", "phone": "13800138000"}
PATIENCE = 30  # seconds a test waits for the server to act; the configured limits are far shorter


@pytest.fixture(autouse=True)
def _secrets(monkeypatch):
    set_secrets(monkeypatch)


@pytest.fixture
def core(core):
    ingest = core.config.ingest.model_copy(update={"header_timeout_seconds": 0.5, "body_timeout_seconds": 0.5,
                                                   "max_unauthenticated_bodies": 3})
    core.config = core.config.model_copy(update={"ingest": ingest})
    return core


async def _open(base: str):
    host, port = base.removeprefix("http://").split(":")
    return await asyncio.open_connection(host, int(port))


def _head(path: str, headers: dict[str, str], length: int) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: test", f"Content-Length: {length}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _answer(reader: asyncio.StreamReader) -> tuple[int | None, bytes]:
    """The status and everything the server sent until it closed the connection (None: nothing)."""
    data = await asyncio.wait_for(reader.read(), PATIENCE)
    if not data:
        return None, b""
    return int(data.split(b" ", 2)[1]), data


async def _sent_and_stalled(base: str, raw: bytes) -> tuple[int | None, bytes]:
    """Send ``raw`` (a request cut short) and wait: what the server answered before it closed."""
    reader, writer = await _open(base)
    writer.write(raw)
    await writer.drain()
    try:
        return await _answer(reader)
    finally:
        writer.close()


def _no_errors(caplog) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert bad == [], [r.getMessage() for r in bad]


@sqlite_only
async def test_headers_that_never_finish_are_cut_off(core, caplog):
    caplog.set_level(logging.DEBUG)
    make_team(core)
    async with live_server(core) as (base, _client, _app):
        head = b"POST /api/leads HTTP/1.1\r\nHost: test\r\nX-Salesbot-Source: web"  # and then nothing
        status, _ = await _sent_and_stalled(base, head)
    assert status is None  # closed by the server without an answer
    _no_errors(caplog)


@sqlite_only
async def test_a_body_that_never_finishes_gets_408(core, caplog):
    caplog.set_level(logging.DEBUG)
    make_team(core)
    body, headers = signed(core, LEAD)
    async with live_server(core) as (base, _client, _app):
        status, data = await _sent_and_stalled(base, _head("/api/leads", headers, len(body)) + body[:10])
    assert status == 408 and b'"timeout"' in data
    _no_errors(caplog)


@sqlite_only
async def test_unauthenticated_clients_are_refused_before_their_body(core):
    make_team(core)
    now = signed(core, LEAD)[1]["X-Salesbot-Timestamp"]
    cases = [{"Content-Type": "application/json"},                                        # no credentials
             {"Authorization": "Bearer wrong-token-0123456789"},                           # bad token
             {"X-Salesbot-Source": "nosuch", "X-Salesbot-Timestamp": now, "X-Salesbot-Signature": "sha256=" + "0" * 64},
             {"X-Salesbot-Source": "website", "X-Salesbot-Timestamp": "1", "X-Salesbot-Signature": "sha256=" + "0" * 64},
             {"X-Salesbot-Source": "website", "X-Salesbot-Timestamp": now, "X-Salesbot-Signature": "md5=x"}]
    async with live_server(core) as (base, _client, _app):
        for headers in cases:
            reader, writer = await _open(base)
            writer.write(_head("/api/leads", headers, 60000))   # announces a body and never sends a byte of it
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), PATIENCE)
            writer.close()
            assert line.split(b" ")[1] == b"401", (headers, line)


@sqlite_only
async def test_signed_bodies_are_read_a_bounded_number_at_a_time(core):
    make_team(core)
    async with live_server(core) as (base, client, _app):
        slow = []
        for i in range(3):                               # the cap: 3 bodies still arriving
            body, headers = signed(core, {**LEAD, "phone": f"1380013800{i}"})
            reader, writer = await _open(base)
            writer.write(_head("/api/leads", headers, len(body)) + body[:5])
            await writer.drain()
            slow.append((reader, writer))
        await asyncio.sleep(0.1)                         # let the server start reading them
        body, headers = signed(core, {**LEAD, "phone": "13800138009"})
        busy = await client.post("/api/leads", content=body, headers=headers)
        answers = [await _answer(reader) for reader, _ in slow]
        for _, writer in slow:
            writer.close()
        body, headers = signed(core, {**LEAD, "phone": "13800138008"})
        after = await client.post("/api/leads", content=body, headers=headers)   # the slots are free again
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
    assert [status for status, _ in answers] == [408, 408, 408]
    assert after.status_code == 201, after.text


@sqlite_only
async def test_a_client_that_hangs_up_mid_body_is_one_info_line(core, caplog):
    caplog.set_level(logging.DEBUG)
    make_team(core)
    body, headers = signed(core, LEAD)
    async with live_server(core) as (base, client, _app):
        for _ in range(3):
            reader, writer = await _open(base)
            writer.write(_head("/api/leads", headers, len(body)) + body[:10])
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.close()
            await writer.wait_closed()
        await asyncio.sleep(0.3)
        ok = await client.post("/api/leads", content=body, headers=headers)   # the server is fine
    assert ok.status_code == 201
    gone = [r for r in caplog.records if "went away" in r.getMessage()]
    assert len(gone) == 3 and all(r.levelno == logging.INFO for r in gone)
    _no_errors(caplog)


async def test_the_webhook_cuts_off_slow_bodies_and_logs_hang_ups_as_info(tmp_path: Path, caplog):
    """The bot's own server in webhook mode (bot/run.py): same limits on Telegram's path."""
    from bot.run import webhook_secret
    from core.config import load_config
    from tests.botrun import free_port, running_bot, webhook_config
    from tests.e2e.test_webhook import TOKEN

    caplog.set_level(logging.DEBUG)
    port = free_port()
    base = load_config()
    config = webhook_config(port, base.model_copy(update={
        "ingest": base.ingest.model_copy(update={"header_timeout_seconds": 0.5, "body_timeout_seconds": 0.5})}))
    async with running_bot(tmp_path, config, TOKEN, "hook_bot", admin=False) as (tg, _core, _admin):
        await tg.wait_until(lambda: any(r["method"].lower() == "setwebhook" and r["status"] == 200 for r in tg.requests), 15)
        update = json.dumps({"update_id": 5, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"},
                                                         "text": "hi"}}).encode()
        headers = {"X-Telegram-Bot-Api-Secret-Token": webhook_secret(TOKEN), "Content-Type": "application/json"}
        base_url = f"http://127.0.0.1:{port}"
        slow_status, _ = await _sent_and_stalled(base_url, _head("/telegram", headers, len(update)) + update[:5])
        reader, writer = await _open(base_url)
        writer.write(_head("/telegram", headers, len(update)) + update[:5])
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        header_status, _ = await _sent_and_stalled(base_url, b"POST /telegram HTTP/1.1\r\nHost: x\r\n")
        await tg.wait_until(lambda: any("closed the connection" in r.getMessage() for r in caplog.records), PATIENCE)
    assert slow_status == 408 and header_status is None
    gone = [r for r in caplog.records if "closed the connection" in r.getMessage()]
    assert len(gone) == 1 and gone[0].levelno == logging.INFO
    _no_errors(caplog)
