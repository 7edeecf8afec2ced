"""The first week as a rep and a manager live it (issue 14), through the real bot and the local Bot API server."""
from __future__ import annotations

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
