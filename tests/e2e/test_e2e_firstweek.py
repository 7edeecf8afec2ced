"""The first week as a rep and a manager live it (issue 14), through the real bot and the local Bot API server."""
from __future__ import annotations

import re
from datetime import datetime

from telegram import BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.ext import CommandHandler

from tests.harness import button_data, buttons


async def add_customer(h, rep, name, company, phone, source="官网表单"):
    await h.send(rep, "/new")
    for value in (name, company, phone):
        await h.send(rep, value)
    return await h.send(rep, source)


async def _menu(h, scope, lang=None) -> list[str]:
    return [c.command for c in await h.app.bot.get_my_commands(scope=scope, language_code=lang)]


async def test_latin_aliases_and_menus_per_language_and_role(harness):
    h = harness
    admin, manager, (li, chen) = await h.team(reps=2)
    await add_customer(h, li, "张总", "华东精密机械集团有限公司", "13800138000")
    # The same lookup three ways: the menu's /dup, plain 「查重 …」 and the old 「/查重 …」.
    for text in ("/dup 华东精密机械子公司", "查重 华东精密机械子公司", "/查重 华东精密机械子公司"):
        answer = await h.send(chen, text)
        assert "销售1" in answer[-1]["text"] and "保护期至" in answer[-1]["text"], text
    usage = await h.send(chen, "/dup")
    assert "/dup" in usage[-1]["text"]
    # Every command the bot answers is in some menu; reps and managers get theirs in both languages.
    registered = {c for handler in h.app.handlers[0] if isinstance(handler, CommandHandler) for c in handler.commands}
    rep_zh = await _menu(h, BotCommandScopeAllPrivateChats())
    rep_en = await _menu(h, BotCommandScopeAllPrivateChats(), "en")
    mgr = await _menu(h, BotCommandScopeChat(manager["id"]))
    group = await _menu(h, BotCommandScopeAllGroupChats())
    assert rep_zh == rep_en and "dup" in rep_zh and "help" in rep_zh and "cancel" in rep_zh
    assert "invite" not in rep_zh and "invite" in mgr and "dup" in mgr
    assert {"bind", "unbind", "board"} <= set(group)
    assert registered - {"start"} <= set(rep_zh) | set(mgr) | set(group), registered - set(rep_zh) - set(mgr) - set(group)
    descriptions_en = {c.command: c.description for c in await h.app.bot.get_my_commands(
        scope=BotCommandScopeAllPrivateChats(), language_code="en")}
    assert all(ord(ch) < 0x3000 for d in descriptions_en.values() for ch in d), "English menu without Chinese"
    # /help lists /dup, /cancel and /help itself; the manager's part lists /unbind.
    helped = await h.send(li, "/help")
    assert all(c in helped[-1]["text"] for c in ("/dup", "/cancel", "/help")) and "/unbind" not in helped[-1]["text"]
    assert "/unbind" in (await h.send(manager, "/help"))[-1]["text"]
    assert h.tg.rejected() == []


async def test_manager_invite_says_it_is_for_a_manager(harness):
    h = harness
    admin = await h.make_admin()
    text = (await h.send(admin, "/invite manager"))[-1]["text"]
    assert "经理" in text and "的销售" not in text
    manager = await h.join(await h.invite(admin, "manager"), "王经理")
    rep_invite = (await h.send(manager, "/invite"))[-1]["text"]
    assert "的销售" in rep_invite


OLD_FORMATS = re.compile(r"\d{2}月\d{2}日\(|\b20\d\d-\d\d-\d\d\b|\b\d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")


async def test_one_date_convention_relative_where_it_helps_and_english_plurals(harness):
    h = harness
    _, manager, (li,) = await h.team(reps=1)
    alice = await h.join(await h.invite(manager), "Alice", language_code="en")
    await add_customer(h, li, "张总", "华东精密机械有限公司", "13800138000")
    await add_customer(h, alice, "Globex", "Globex Trading Company Ltd", "13900139000", "referral")
    # Thursday 26 Nov: "next Tuesday" is 下周二, with the time; tomorrow is 明天.
    preview = await h.send(li, "张总 已报价5万 下周二回访")
    assert "下次跟进：下周二 10:00" in preview[-1]["text"], preview[-1]["text"]
    await h.press(li, preview[-1], text="确认")
    tomorrow = await h.send(alice, "Globex revisit tomorrow")
    assert "Next follow-up: tomorrow 10:00" in tomorrow[-1]["text"], tomorrow[-1]["text"]
    # The morning brief: an absolute header date in each language, and "1 customer".
    await h.run_schedule(datetime(2026, 12, 1, 0, 31))  # Tuesday 1 Dec, 08:31
    brief_en = [m for m in h.chat_messages(alice) if "Today," in (m.get("text") or "")][-1]
    assert "Today, Tue 1 Dec (1 customer)" in brief_en["text"], brief_en["text"]
    brief_zh = [m for m in h.chat_messages(li) if "按优先级排序" in (m.get("text") or "")][-1]
    assert "12月1日 周二 今日任务" in brief_zh["text"], brief_zh["text"]
    card = await h.press(li, brief_zh, text="张总")
    assert "下次跟进：今天 10:00" in card[-1]["text"], card[-1]["text"]
    # /查重 answers the protection end in the same words.
    owned = await h.send(alice, "/dup 华东精密机械")
    assert re.search(r"protected until (next )?(Mon|Tue|Wed|Thu|Fri|Sat|Sun)( \d+ [A-Z][a-z]{2})?\.", owned[-1]["text"]), owned[-1]["text"]
    for chat in (li, alice, manager):
        for m in h.chat_messages(chat):
            body = m.get("text") or m.get("caption") or ""
            assert not OLD_FORMATS.search(body), body


def test_dates_and_labels_by_the_convention():
    from datetime import date

    from core.config import load_config
    from core.textfit import shorten, wrap_label
    from core.when import when_text
    thu = date(2026, 11, 26)
    cases = [(datetime(2026, 11, 26, 9, 5), "今天 09:05", "today 09:05"),
             (datetime(2026, 11, 27, 10), "明天 10:00", "tomorrow 10:00"),
             (datetime(2026, 11, 29, 10), "周日 10:00", "Sun 10:00"),
             (datetime(2026, 12, 1, 10), "下周二 10:00", "next Tue 10:00"),
             (datetime(2026, 12, 28, 10), "12月28日 周一 10:00", "Mon 28 Dec 10:00"),
             (datetime(2027, 1, 5, 10), "2027年1月5日 周二 10:00", "Tue 5 Jan 2027 10:00"),
             (datetime(2026, 11, 20, 10), "11月20日 周五 10:00", "Fri 20 Nov 10:00")]
    for when, zh, en in cases:
        assert when_text(when, "zh", thu) == zh and when_text(when, "en", thu) == en
    assert when_text(datetime(2026, 12, 1, 10), "zh", thu, relative=False) == "12月1日 周二 10:00"
    # Labels are shortened between words; the radar's English labels wrap instead of being cut.
    assert shorten("Globex Trading Company Ltd", 18) == "Globex Trading…"
    for d in load_config().dimensions:
        label = d.name_en or d.name
        assert wrap_label(label, 12).replace("\n", " ") == label and all(len(x) <= 13 for x in wrap_label(label, 12).split("\n"))
