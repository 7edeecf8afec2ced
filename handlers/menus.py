"""The command menu (setMyCommands): what each role sees, in Chinese and English.

Every private chat gets the rep menu; managers and admins get their own menu scoped to their
chat when they join (and at start-up for existing ones).
"""
from __future__ import annotations

from telegram import (Bot, BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats, BotCommandScopeChat,
                      MenuButtonWebApp, WebAppInfo)
from telegram.error import TelegramError

from core.texts import COMMANDS, tp

REP_MENU = ["today", "customers", "new", "log", "stage", "dup", "visit", "owner", "pool", "meeting", "matrix", "me", "board",
            "shop", "business", "help", "cancel"]
MANAGER_MENU = ["today", "customers", "new", "log", "stage", "dup", "owner", "pool", "digest", "review", "matrix", "pilot",
                "invite", "team", "audit", "modules", "import", "export", "board", "me", "shop", "meeting", "business",
                "help", "cancel"]
# Commands that work in a group chat (leaderboards).
GROUP_MENU = ["board", "bind", "unbind"]


def menu_for(role: str, lang: str) -> list[BotCommand]:
    names = GROUP_MENU if role == "group" else MANAGER_MENU if role in ("manager", "admin") else REP_MENU
    return [BotCommand(name, COMMANDS[name][1 if lang == "en" else 0]) for name in names if name in COMMANDS]


async def set_default_menus(bot: Bot) -> None:
    for lang in ("zh", "en"):
        await bot.set_my_commands(menu_for("rep", lang), scope=BotCommandScopeAllPrivateChats(),
                                  language_code=None if lang == "zh" else "en")
        await bot.set_my_commands(menu_for("group", lang), scope=BotCommandScopeAllGroupChats(),
                                  language_code=None if lang == "zh" else "en")


async def set_role_menu(bot: Bot, tg_id: int, role: str, lang: str) -> None:
    """A chat-scoped menu for managers/admins (a rep keeps the default one)."""
    if role not in ("manager", "admin"):
        return
    try:
        await bot.set_my_commands(menu_for(role, lang), scope=BotCommandScopeChat(tg_id))
    except TelegramError:
        pass  # a menu is a convenience; never fail a join over it


async def set_console_button(bot: Bot, tg_id: int, lang: str, url: str) -> None:
    """The chat's menu button opens the console (a Mini App) when ``[console] public_url`` is set."""
    if not url:
        return
    try:
        await bot.set_chat_menu_button(chat_id=tg_id, menu_button=MenuButtonWebApp(tp("menu_console", lang), WebAppInfo(url)))
    except TelegramError:
        pass  # a convenience, like the command menu
