"""Shared by the tgfake tests (tests/test_tgfake.py, tests/test_tgfake_updates.py): the bot token,
a fake server and a PTB bot on it (the ``tg`` and ``bot`` fixtures), a started user, a PNG header
and a one-button keyboard.  Moved out of tests/test_tgfake.py unchanged when it was split in two."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.request import HTTPXRequest

from tgfake import FakeTelegram

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
