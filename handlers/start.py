"""/start (with invite deep links), /invite, /help, /cancel."""
from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import CommandHandler, ContextTypes

from core.texts import lang_of, role_name, t
from handlers.menus import set_console_button, set_role_menu
from handlers.common import core_of, load_member, member_only, refuse_stranger, reply
from services import users as users_svc
from storage.models import User


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_chat is None or update.effective_chat.type != ChatType.PRIVATE:
        return
    core = core_of(context)
    tg = update.effective_user
    code = context.args[0] if context.args else None
    if code:
        now = core.clock.now()
        try:
            joined = await core.db.run(users_svc.redeem_invite, code, tg.id, tg.full_name, tg.username,
                                       lang_of(tg.language_code), now)
        except users_svc.InviteError as exc:
            key = "invite_expired" if exc.reason == "expired" else "invite_invalid"
            await reply(update, t(key, lang_of(tg.language_code)))
            return
        if joined.refused == "member":  # an invite never moves a member nor raises a role
            lang = joined.user.language
            await reply(update, t("invite_refused_member", lang, team=joined.team.name if joined.team else "—",
                                  role=role_name(joined.user.role, lang)))
            return
        if joined.refused == "deactivated":
            await reply(update, t("invite_refused_deactivated", joined.user.language))
            return
        key = "welcome_joined_manager" if joined.user.role in ("manager", "admin") else "welcome_joined"
        await reply(update, t(key, joined.user.language, team=joined.team.name, name=joined.user.name,
                              digest=core.config.schedule.digest_time))
        await set_role_menu(context.bot, tg.id, joined.user.role, joined.user.language)
        await set_console_button(context.bot, tg.id, joined.user.language, core.config.console.public_url)
        return
    user = await load_member(update, context)
    if user is None:
        await refuse_stranger(update, context)
        return
    team = await core.db.run(users_svc.get_team, user.team_id)
    await reply(update, t("welcome_back", user.language, name=user.name, role=role_name(user.role, user.language),
                          team=team.name if team else "—"))


@member_only("manager", "admin")
async def invite(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    """An invite carries a role and a team: managers invite reps to their team; an admin may name
    any team (``/invite manager 华南团队``, created if new)."""
    core = core_of(context)
    role = (context.args[0].lower() if context.args else "rep")
    team_name = " ".join(context.args[1:]).strip()[:40] if context.args and len(context.args) > 1 else ""
    if role not in ("rep", "manager") or (role == "manager" and user.role != "admin") or (team_name and user.role != "admin"):
        await reply(update, t("invite_role_invalid", user.language))
        return
    created, team, new_team = await core.db.run(_invite, user, role, team_name, core)
    link = f"https://t.me/{core.bot_username}?start={created.code}"
    key = "invite_created_manager" if role == "manager" else "invite_created"
    text = t(key, user.language, hours=core.config.invites.ttl_hours, link=link, team=team.name)
    await reply(update, text + ("\n" + t("invite_team_created", user.language, team=team.name) if new_team else ""))


def _invite(session, user: User, role: str, team_name: str, core):
    now = core.clock.now()
    team, new_team = users_svc.get_team(session, user.team_id), False
    if team_name:
        new_team = users_svc.find_team(session, team_name) is None
        team = users_svc.ensure_team(session, team_name, core.config.team.timezone, now)
    created = users_svc.create_invite(session, user, now, core.config.invites.ttl_hours, role, team.id)
    return created, team, new_team


@member_only()
async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    text = t("help_rep", user.language)
    if user.role in ("manager", "admin"):
        text += t("help_manager_extra", user.language)
    await reply(update, text)


@member_only()
async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    context.user_data.pop("prompt", None)
    await reply(update, t("cancelled", user.language))


HANDLERS = [
    CommandHandler("start", start),
    CommandHandler("invite", invite),
    CommandHandler("help", help_command),
    CommandHandler("cancel", cancel),
]
