"""/import (a manager sends a CSV/XLSX: dry-run report → confirm → one transaction) and /export.

The logic is in ingest/sheets.py; here: download, call the service on the DB pool, render.
"""
from __future__ import annotations

import asyncio
import hashlib

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from core.callbacks import ImportDecision, decode
from core.texts import t, tp
from handlers import views
from handlers.common import clip, core_of, member_only, reply, safe_answer, show
from ingest import sheet_export
from ingest import sheets as sh
from ingest.notify import wake_sender
from services import audit
from services.users import get_team
from storage.models import User

SHEET_FILES = (filters.Document.FileExtension("csv") | filters.Document.FileExtension("xlsx")
               | filters.Document.FileExtension("xlsm"))


@member_only("manager", "admin")
async def import_command(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    await reply(update, t("import_help", user.language, mb=core.config.ingest.max_import_bytes // (1024 * 1024)))


def _plan(session, core, user: User, rows, filename: str, sha: str):
    team = get_team(session, user.team_id)
    if team is None:
        raise LookupError("no team")
    return sh.create_batch(session, core.config, team, user, rows, [filename], sha, core.clock.now())


@member_only("manager", "admin")
async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    lang = user.language
    document = update.effective_message.document
    limit = core.config.ingest.max_import_bytes
    if document.file_size and document.file_size > limit:
        await reply(update, t("import_too_big", lang, size=round(document.file_size / 1048576, 1),
                              max=round(limit / 1048576, 1)))
        return
    filename = document.file_name or "import.xlsx"
    telegram_file = await context.bot.get_file(document.file_id)
    content = bytes(await telegram_file.download_as_bytearray())
    if len(content) > limit:
        await reply(update, t("import_too_big", lang, size=round(len(content) / 1048576, 1), max=round(limit / 1048576, 1)))
        return
    loop = asyncio.get_running_loop()
    try:
        rows = await loop.run_in_executor(None, sh.read_file, content, filename, core.config)
    except sh.SheetError as exc:
        await reply(update, t("import_bad_file", lang, reason=str(exc)))
        return
    batch, plan = await core.db.run(_plan, core, user, rows, filename, hashlib.sha256(content).hexdigest())
    text = sh.report_text(plan, filename, lang)
    markup = None
    if plan.counts["new"]:
        markup = InlineKeyboardMarkup([[
            InlineKeyboardButton(tp("btn_import_ok", lang, n=plan.counts["new"]),
                                 callback_data=ImportDecision(batch.id, 1).encode()),
            InlineKeyboardButton(tp("btn_import_cancel", lang), callback_data=ImportDecision(batch.id, 0).encode())]])
    else:
        await core.db.run(sh.cancel_batch, batch.id, user, core.clock.now())
    await reply(update, clip(text), markup)


def _apply(session, core, batch_id: int, user: User):
    result = sh.apply_batch(session, core, batch_id, user, core.clock.now())
    owners = {}
    for owner_id, names in result.by_owner.items():
        owner = session.get(User, owner_id)
        owners[owner.name if owner else str(owner_id)] = len(names)
    return result.batch.id, len(result.created), owners


@member_only("manager", "admin")
async def on_decision(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    lang = user.language
    query = update.callback_query
    data = decode(query.data)
    await safe_answer(query)
    if not isinstance(data, ImportDecision):
        return
    if not data.ok:
        cancelled = await core.db.run(sh.cancel_batch, data.batch_id, user, core.clock.now())
        await show(update, t("import_cancelled" if cancelled else "import_expired", lang))
        return
    try:
        batch_id, created, owners = await core.db.run(_apply, core, data.batch_id, user)
    except LookupError:
        await show(update, t("import_expired", lang))
        return
    except sh.PlanChanged:
        await core.db.run(sh.cancel_batch, data.batch_id, user, core.clock.now())
        await show(update, t("import_changed", lang))
        return
    summary = "，".join(f"{name} {n}" for name, n in owners.items()) if lang != "en" else \
        ", ".join(f"{name}: {n}" for name, n in owners.items())
    await show(update, t("import_done", lang, n=created, batch=batch_id, owners=summary))
    wake_sender(context.application)


@member_only("manager", "admin")
async def export_command(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    lang = user.language
    now = core.clock.now()

    def build(session):
        team = get_team(session, user.team_id)
        data, customers, activities = sheet_export.export_xlsx(session, core.config, user.team_id, now)
        audit.record(session, "export", now, actor=user, what="customers", customers=customers, activities=activities)
        return data, customers, activities, team.name if team else "team"

    data, customers, activities, team_name = await core.db.run(build)
    from core.clock import to_local
    day = to_local(now, core.config.tz).strftime("%Y-%m-%d")  # the file name sorts; the caption reads
    caption = t("export_caption", lang, team=team_name, customers=customers, activities=activities,
                date=views.fmt_local(now, core.config, lang, with_time=False, now=now, relative=False))
    await update.effective_message.reply_document(InputFile(data, filename=f"customers-{day}.xlsx"),
                                                  caption=caption[:1024], parse_mode=ParseMode.HTML)


HANDLERS = [
    CommandHandler("import", import_command),
    CommandHandler("export", export_command),
    MessageHandler(filters.ChatType.PRIVATE & SHEET_FILES, on_document),
    CallbackQueryHandler(on_decision, pattern=ImportDecision.pattern()),
]
