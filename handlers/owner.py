"""/dup, /owner and 查重 …: who owns a customer before anyone starts work; /pool and claiming."""
from __future__ import annotations

from datetime import datetime

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from core.callbacks import Claim, decode
from core.texts import t, tp
from handlers import views
from handlers.common import core_of, member_only, reply, safe_answer, show
from services import customers as cust_svc
from services import lookup as lookup_svc
from services import pool as pool_svc
from storage.models import User


@member_only()
async def owner(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    text = update.effective_message.text or ""
    query = text.split(maxsplit=1)[1].strip() if len(text.split(maxsplit=1)) > 1 else ""
    lang = user.language
    if not query or len(query) > 100:
        await reply(update, t("usage_owner", lang))
        return
    found = await core.db.run(lookup_svc.owner_lookup, core.config, user, query, core.clock.now())
    if found.limited:
        await reply(update, t("lookup_limited", lang, n=core.config.duplicates.lookups_per_hour))
        return
    if not found.hits:
        hint = "" if user.role == "admin" else "\n" + t("owner_cross_team_hint", lang)
        await reply(update, t("owner_free", lang, q=query) + hint)
        return
    lines, claimable = [], []
    for hit in found.hits:
        c = hit.match.customer
        reason = cust_svc.reason_text(hit.match.reason, lang)
        until = views.fmt_local(c.protected_until, core.config, lang, with_time=False, now=core.clock.now())
        owner_name = hit.owner.name if hit.owner else "—"
        if not hit.own_team:
            # Another team's customer: that it is held, by whom, until when — nothing else.
            team = hit.team.name if hit.team else "—"
            lines.append(t("owner_other_team", lang, team=team, owner=owner_name, until=until, reason=reason)
                         if c.owner_id else t("owner_other_team_pool", lang, team=team, reason=reason))
        elif c.owner_id is None:
            lines.append(t("owner_pool", lang, name=c.name, company=c.company or "—", reason=reason))
            if c.team_id == user.team_id:
                claimable.append(c)
        else:
            # The owner's name is shown, never the customer's phone or notes.
            lines.append(t("owner_taken", lang, name=c.name, company=c.company or "—", owner=owner_name,
                           until=until, reason=reason))
    await reply(update, "\n\n".join(lines), views.claim_keyboard(claimable, lang))


@member_only()
async def pool(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    rows = await core.db.run(pool_svc.pool_list, user)
    lang = user.language
    if not rows:
        await reply(update, t("pool_empty", lang))
        return
    lines = [t("pool_header", lang, n=len(rows))]
    for c in rows:
        lines.append(f"• <b>{views.esc(views.short(c.name, views.TEXT_NAME))}</b> · {views.esc(views.short(c.industry or c.company or '', views.TEXT_NAME))}")
    await reply(update, "\n".join(lines), views.claim_keyboard(rows, lang))


@member_only()
async def on_claim(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    data = decode(update.callback_query.data)
    if not isinstance(data, Claim):
        await safe_answer(update.callback_query, t("callback_invalid", user.language))
        return
    result = await core.db.run(pool_svc.claim, core.config, user, data.customer_id, core.clock.now())
    lang = user.language
    if not result.ok:
        values = {k: views.fmt_local(v, core.config, lang, with_time=False, now=core.clock.now())
                  if isinstance(v, datetime) else v for k, v in result.reason_values.items()}
        reason = tp(result.reason_key, lang, **values)
        await safe_answer(update.callback_query, t("claim_refused", lang, reason=reason), alert=True)
        return
    await safe_answer(update.callback_query)
    c = result.customer
    await show(update, t("claimed", lang, name=c.name, until=views.fmt_local(c.protected_until, core.config, lang, with_time=False,
                                                                             now=core.clock.now())))


HANDLERS = [
    CommandHandler(["owner", "dup"], owner),
    # Telegram commands are Latin-only: 「/查重 …」 and 「查重 …」 arrive as plain text (/dup is the menu's alias).
    MessageHandler(filters.ChatType.PRIVATE & filters.Regex(r"^/?查重(\s|$)"), owner),
    CommandHandler("pool", pool),
    CallbackQueryHandler(on_claim, pattern=Claim.pattern()),
]
