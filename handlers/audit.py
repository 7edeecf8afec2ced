"""/audit: the trail of access-relevant actions (admins: every team; managers: entries touching
their team), a page at a time, and the whole trail as a CSV file."""
from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from core.callbacks import AuditPage, decode
from core.texts import t, tp
from handlers import views
from handlers.common import core_of, member_only, safe_answer, show
from services import audit as audit_svc
from storage.models import User

PAGE = 15


@member_only("manager", "admin")
async def audit_command(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    await show_page(update, context, user, 0)


async def show_page(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, page: int) -> None:
    core = core_of(context)
    lang = user.language
    rows, total, people, teams = await core.db.read(_page, user, page)
    if not total:
        await show(update, t("audit_empty", lang))
        return
    lines = [t("audit_header", lang, total=total, page=page + 1, pages=(total + PAGE - 1) // PAGE)]
    for e in rows:
        lines.append(t("audit_line", lang, at=views.fmt_local(e.at, core.config, lang), kind=tp(f"audit_kind_{e.kind}", lang),
                       actor=people.get(e.actor_id, tp("audit_operator", lang)),
                       subject=f" → {people[e.subject_id]}" if e.subject_id in people and e.subject_id != e.actor_id else "",
                       detail=_detail(e, teams, people, lang)))
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton("«", callback_data=AuditPage(page - 1, 0).encode()))
    if (page + 1) * PAGE < total:
        nav.append(InlineKeyboardButton("»", callback_data=AuditPage(page + 1, 0).encode()))
    markup = InlineKeyboardMarkup([nav, [InlineKeyboardButton(tp("btn_audit_export", lang), callback_data=AuditPage(0, 1).encode())]]
                                  if nav else [[InlineKeyboardButton(tp("btn_audit_export", lang), callback_data=AuditPage(0, 1).encode())]])
    await show(update, "\n".join(lines), markup)


def _page(session, user: User, page: int):
    rows, total = audit_svc.events(session, user, limit=PAGE, offset=page * PAGE)
    people, teams = audit_svc.names(session, rows)
    return rows, total, people, teams


def _detail(e, teams: dict, people: dict, lang: str) -> str:
    """A short plain-text summary of an entry's details (``t`` escapes it)."""
    d = e.detail or {}
    other = teams.get(e.other_team_id, "")
    if e.kind == "lookup":
        text = f"「{views.short(str(d.get('query', '')), 30)}」 {d.get('hits', 0)}"
        return text + (f" · {other}" if other else "") + (" · ⛔" if d.get("limited") else "")
    if e.kind in ("invite_created", "invite_redeemed"):
        return f"{d.get('role', '')} · {teams.get(e.team_id, '')}"
    if e.kind == "invite_refused":
        return f"{d.get('reason', '')} · {other}"
    if e.kind == "role_changed":
        return f"{d.get('before')} → {d.get('after')}"
    if e.kind == "team_changed":
        return f"{teams.get(e.team_id, '')} → {other} · {d.get('customers')} · {d.get('moved', 0)}"
    if e.kind == "handover":
        return f"{len(d.get('customers', []))} → {people.get(d.get('to'), tp('team_target_pool', lang))}"
    if e.kind == "deactivated":
        return f"{d.get('mode')} · {d.get('customers', 0)} / {d.get('tasks', 0)}"
    if e.kind == "export":
        return f"{d.get('what', '')} · {d.get('rows', d.get('customers', ''))}"
    return ""


@member_only("manager", "admin")
async def on_audit_page(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    data = decode(update.callback_query.data)
    await safe_answer(update.callback_query)
    if not isinstance(data, AuditPage) or not 0 <= data.page <= 100_000:
        return
    if not data.export:
        await show_page(update, context, user, data.page)
        return
    now = core.clock.now()
    content = await core.db.run(audit_svc.export_csv, user, now)
    day = views.fmt_local(now, core.config, "en", with_time=False).replace(" ", "")
    await update.effective_message.reply_document(InputFile(content, filename=f"audit-{now:%Y%m%d}.csv"),
                                                  caption=t("audit_exported", user.language, day=day)[:1024])


HANDLERS = [
    CommandHandler("audit", audit_command),
    CallbackQueryHandler(on_audit_page, pattern=AuditPage.pattern()),
]
