"""/modules: a manager pilots SOP modules team by team ("小步快跑")."""
from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from core.callbacks import CallbackData, decode
from core.texts import t
from handlers.common import core_of, member_only, reply, safe_answer, show
from services import customers as cust_svc
from services import users as users_svc
from storage.models import User


@dataclass(frozen=True)
class ToggleModule(CallbackData, prefix="md"):
    module: str


def all_modules(config) -> list[str]:
    found = []
    for stage in config.stages:
        for item in stage.checklist:
            if item.module != "core" and item.module not in found:
                found.append(item.module)
    return found


def keyboard(config, enabled: set[str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(("✅ " if m in enabled else "⬜ ") + m,
                                                       callback_data=ToggleModule(m).encode())] for m in all_modules(config)])


@member_only("manager", "admin")
async def modules(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    team = await core.db.run(users_svc.get_team, user.team_id)
    enabled = cust_svc.enabled_modules(team, core.config)
    await reply(update, t("modules_header", user.language), keyboard(core.config, enabled))


@member_only("manager", "admin")
async def on_toggle(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    data = decode(update.callback_query.data)
    await safe_answer(update.callback_query)
    if not isinstance(data, ToggleModule) or data.module not in all_modules(core.config):
        return
    team = await core.db.run(users_svc.get_team, user.team_id)
    enabled = cust_svc.enabled_modules(team, core.config)
    enabled ^= {data.module}
    team = await core.db.run(cust_svc.set_team_modules, user, sorted(enabled))
    await show(update, t("modules_header", user.language), keyboard(core.config, cust_svc.enabled_modules(team, core.config)))


HANDLERS = [CommandHandler("modules", modules), CallbackQueryHandler(on_toggle, pattern=ToggleModule.pattern())]
