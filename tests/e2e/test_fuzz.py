"""Bad input everywhere, property-based: random text, commands with random arguments, random and
forged button presses, oversized and odd messages, forwarded pastes and random files — sent as a
rep, another rep, a manager, an admin and a stranger, through the real bot and the local Bot
API server.

Properties, checked after every example (so hypothesis shrinks a failure to its cause):
- no unhandled exception reached the error handler;
- the local Bot API server rejected nothing for length, parse or markup errors;
- nothing sent to rep B or the stranger ever carries rep A's secret customer (name, company,
  phone) — not a message, an edit, a caption, a callback answer or a plain-text file.
"""
from __future__ import annotations

import asyncio
import os
import base64
import uuid
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.callbacks import _REGISTRY
from tests.harness import Harness

ROLES = ("rep_a", "rep_b", "manager", "admin", "stranger")
COMMANDS = ("start", "help", "today", "customers", "new", "log", "stage", "owner", "pool", "me", "board", "shop",
            "invite", "digest", "cancel", "export", "import", "bind", "unbind", "modules", "meeting", "business",
            "查重", "nonexistent")
# A 1×1 PNG: Telegram (and the local server) only take real images as photos.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
                       "AAAABJRU5ErkJggg==")

texts = st.one_of(
    st.text(min_size=1, max_size=200),
    st.text(alphabet="张王李总公司有限已报价万下周二回访客户电话微信 0123456789-+@#<>&;*_`[]()", min_size=1, max_size=300),
    st.builds(lambda ch, n: ch * n, st.sampled_from(["我", "a", "<", "&", "😀", " x"]), st.integers(1000, 4096)),
    st.sampled_from(["<b>bold</b>", "&amp;", "<script>alert(1)</script>", "a&b<c>d", "/", " ", "\u200b", "💥" * 50,
                     "%s %d {} {0}", "\\n\\t", "' OR 1=1 --", "13800138000", "张总 已报价5万 下周二回访"]),
)
args = st.one_of(st.just(""), st.text(max_size=60), st.integers(-10 ** 12, 10 ** 12).map(str),
                 st.sampled_from(["manager", "rep", "admin", "@someone", "-1", "0", "99999999999999999999"]))


def forged_callbacks(secret_ids: list[int]) -> st.SearchStrategy[str]:
    ids = st.one_of(st.sampled_from(secret_ids), st.integers(-5, 10 ** 6), st.just(2 ** 63))
    field = st.one_of(ids.map(str), st.text(alphabet="abcxyz-_.0123456789", max_size=8), st.just(""))
    forged = st.builds(lambda p, fs: ":".join([p, *fs])[:64], st.sampled_from(sorted(_REGISTRY)),
                       st.lists(field, min_size=0, max_size=5))
    junk = st.text(min_size=1, max_size=64).filter(lambda s: 1 <= len(s.encode()) <= 64)
    return st.one_of(forged, junk)


def actions(secret_ids: list[int]) -> st.SearchStrategy[list[tuple]]:
    role = st.sampled_from(ROLES)
    action = st.one_of(
        st.tuples(st.just("text"), role, texts),
        st.tuples(st.just("command"), role, st.sampled_from(COMMANDS), args),
        st.tuples(st.just("press"), role, forged_callbacks(secret_ids)),
        st.tuples(st.just("press_own"), role, st.integers(0, 5)),
        st.tuples(st.just("forward"), role, texts, st.text(min_size=1, max_size=20)),
        st.tuples(st.just("document"), role, st.sampled_from(["a.xlsx", "b.csv", "c.txt", "d.pdf", "客户.xlsx", "x"]),
                  st.binary(min_size=1, max_size=2000)),
        st.tuples(st.just("photo"), role, st.one_of(st.none(), texts.map(lambda t: t[:1000]))),
    )
    return st.lists(action, min_size=1, max_size=4)


class World:
    def __init__(self, h: Harness) -> None:
        self.h = h
        self.errors: list[str] = []
        self.people: dict[str, dict] = {}
        self.markers: list[str] = []
        self.secret_ids: list[int] = []

    async def setup(self) -> None:
        h = self.h

        async def record_error(update, context) -> None:
            self.errors.append(f"{type(context.error).__name__}: {context.error}")
        h.app.add_error_handler(record_error)
        admin, manager, (rep_a, rep_b) = await h.team(reps=2)
        self.people = {"admin": admin, "manager": manager, "rep_a": rep_a, "rep_b": rep_b,
                       "stranger": h.user("路人甲")}
        tag = uuid.uuid4().hex[:6]
        phone = "139" + str(int(tag, 16) % 10 ** 8).zfill(8)
        company, name = f"绝密机床{tag}有限公司", f"秘总{tag}"
        await h.send(rep_a, "/new")
        for value in (name, company, phone):
            await h.send(rep_a, value)
        done = await h.send(rep_a, "官网表单")
        assert done and "已创建" in done[-1]["text"], done
        from sqlmodel import select

        from storage.models import Customer
        self.secret_ids = h.core.db.call(
            lambda s: [c.id for c in s.exec(select(Customer).where(Customer.name == name))])
        assert self.secret_ids
        self.markers = [name, company, phone, phone[:3] + " " + phone[3:7]]

    async def play(self, steps: list[tuple]) -> None:
        h, tg = self.h, self.h.tg
        errors_before, requests_before = len(self.errors), len(tg.requests)
        for step in steps:
            kind, role = step[0], step[1]
            user = self.people[role]
            if kind == "text":
                await h.send(user, step[2]) if step[2].strip() else None
            elif kind == "command":
                await h.send(user, f"/{step[2]} {step[3]}".strip())
            elif kind == "press":
                last = tg.last_sent(user["id"])
                target = last or {"message_id": 1, "chat_id": user["id"]}
                await h.press(user, target, data=step[2], validate=False)
            elif kind == "press_own":
                mine = [m for m in tg.sent(user["id"]) if (m.get("reply_markup") or {}).get("inline_keyboard")]
                if mine:
                    message = mine[-1]
                    buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row
                               if b.get("callback_data")]
                    if buttons:
                        await h.press(user, message, data=buttons[step[2] % len(buttons)]["callback_data"])
            elif kind == "forward":
                if step[2].strip():
                    await h.forward(user, step[2], origin_name=step[3])
            elif kind == "document":
                await h.send_document(user, step[2], step[3])
            elif kind == "photo":
                await h._exchange(user["id"], lambda: _maybe(tg.send_photo(user["id"], PNG, caption=step[2] or None)))
        await tg.wait_idle(quiet=0.03)
        assert self.errors[errors_before:] == [], self.errors[errors_before:]
        rejected = [r for r in tg.requests[requests_before:] if r["status"] == 400 and r["category"] == "invalid"]
        assert rejected == [], rejected
        self.assert_no_leak(tg.requests[requests_before:])

    def assert_no_leak(self, requests: list[dict]) -> None:
        tg = self.h.tg
        forbidden = {self.people["rep_b"]["id"], self.people["stranger"]["id"]}
        callbacks = tg._bot().callbacks
        for request in requests:
            params = request.get("params") or {}
            chat = params.get("chat_id")
            chat = int(chat) if isinstance(chat, (int, str)) and str(chat).lstrip("-").isdigit() else None
            if request["method"].lower() == "answercallbackquery":
                record = callbacks.get(str(params.get("callback_query_id")))
                chat = record.user_id if record else None
            if chat not in forbidden:
                continue
            blob = " ".join(str(v) for v in params.values())
            assert not any(marker in blob for marker in self.markers), (request["method"], blob[:500])
        for chat in forbidden:
            for message in tg.sent(chat):
                shown = f"{message.get('text') or ''} {message.get('caption') or ''}"
                assert not any(marker in shown for marker in self.markers), shown[:500]
                if message.get("kind") == "document":
                    try:
                        data = tg.file_bytes(message).decode("utf-8", "ignore")
                    except Exception:
                        continue
                    assert not any(marker in data for marker in self.markers)


async def _maybe(value):
    if asyncio.iscoroutine(value):
        return await value
    return value


def test_random_input_as_every_role_breaks_nothing_and_leaks_nothing(tmp_path, monkeypatch):
    from handlers import paste
    monkeypatch.setattr(paste, "FORWARD_GATHER_S", 0.05)  # how long a forwarded batch is gathered: not under test
    loop = asyncio.new_event_loop()
    h = Harness(tmp_path, now=datetime(2026, 11, 26, 2, 0))
    world = World(h)
    loop.run_until_complete(h.start())
    # The harness knows when an update was handled (and waits for pastes in flight); the server's
    # "did the bot react at all?" grace only slows down the many inputs that rightly get no answer.
    h.tg.idle_grace_s = 0.1
    try:
        loop.run_until_complete(world.setup())

        @settings(max_examples=int(os.environ.get("SALESBOT_FUZZ_EXAMPLES", "60")), deadline=None, database=None,
                  derandomize=not os.environ.get("SALESBOT_FUZZ_EXAMPLES"),
                  suppress_health_check=list(HealthCheck))
        @given(actions(world.secret_ids))
        def check(steps):
            loop.run_until_complete(world.play(steps))

        check()
    finally:
        loop.run_until_complete(h.stop())
        loop.close()
