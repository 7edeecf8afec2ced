"""Group chats: /bind (a manager binds the group to their team's leaderboards), /unbind,
a basic group upgraded to a supergroup (the binding follows the new id), and the bot being
added to or removed from a group (my_chat_member)."""
from __future__ import annotations

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import ChatMemberHandler, CommandHandler, ContextTypes, MessageHandler, filters

from core.texts import t
from handlers.common import core_of, member_only, reply
from services import groups as groups_svc
from services import users as users_svc
from storage.models import User

GROUP_TYPES = (ChatType.GROUP, ChatType.SUPERGROUP)


@member_only("manager", "admin")
async def bind(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    chat = update.effective_chat
    if chat.type not in GROUP_TYPES:
        await reply(update, t("bind_private", user.language))
        return
    team = await core.db.run(groups_svc.bind, chat.id, chat.title or "", user, core.clock.now())
    await reply(update, t("bind_done", "zh", team=team.name if team else "—"))


@member_only("manager", "admin")
async def unbind(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    chat = update.effective_chat
    if chat.type not in GROUP_TYPES:
        await reply(update, t("bind_private", user.language))
        return
    await core.db.run(groups_svc.unbind, chat.id, user)
    await reply(update, t("unbind_done", "zh"))


async def on_migrate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sent in the old group (migrate_to_chat_id) and in the new supergroup (migrate_from_chat_id)."""
    message = update.effective_message
    if message is None:
        return
    core = core_of(context)
    if message.migrate_to_chat_id:
        await core.db.run(groups_svc.migrate, message.chat_id, message.migrate_to_chat_id)
    elif message.migrate_from_chat_id:
        await core.db.run(groups_svc.migrate, message.migrate_from_chat_id, message.chat_id)


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    change = update.my_chat_member
    if change is None:
        return
    core = core_of(context)
    new_status = change.new_chat_member.status
    gone = new_status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)
    if change.chat.type in GROUP_TYPES:
        if gone:
            await core.db.run(groups_svc.forget, change.chat.id)
        elif change.old_chat_member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
            bound = await core.db.run(groups_svc.get_binding, change.chat.id)
            if bound is None:
                await context.bot.send_message(change.chat.id, t("group_hello", "zh"))
        return
    # A private chat: the user blocked (or unblocked) the bot.
    if gone:
        await core.db.run(users_svc.mark_blocked, change.chat.id, core.clock.now())


HANDLERS = [
    CommandHandler("bind", bind),
    CommandHandler("unbind", unbind),
    MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate),
    ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
]
