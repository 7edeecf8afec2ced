"""/team: members with role, status, customers held and last activity; change role, move, deactivate
with a hand-over (离职继承), reactivate.  Managers manage their team's reps; admins everyone.

Every step is a typed callback (core.callbacks Team*) that names the person again, so the service
re-authorizes each press; the decision happens only on the confirmation press.  The flow
(docs/team.md has the same diagram):

```mermaid
flowchart TD
    T["/team"] -->|admin, several teams| P[pick a team: TeamView]
    T --> L[members: role · status · customers · last activity]
    P --> L
    L -->|TeamMember| M[member panel]
    M -->|TeamRole, admins| R[role changed] --> M
    M -->|TeamOff mode=''| O[who receives: colleague / split / pool]
    O -->|TeamOff mode=c,s,p| OC[confirm]
    OC -->|ok=1| OD[deactivated; new owners notified] --> L
    M -->|TeamMove team=0| MT[pick a team]
    MT -->|TeamMove mode=''| MC[customers: keep / colleague / pool]
    MC -->|TeamMove mode| MK[confirm]
    MK -->|ok=1| MD[moved; audit] --> L
    M -->|TeamReactivate, admins| RA[access restored, customers stay] --> M
```
"""
from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from core.callbacks import TeamMember, TeamMove, TeamOff, TeamReactivate, TeamRole, TeamView, decode
from core.texts import role_name, t, tp
from handlers import views
from handlers.common import core_of, member_only, safe_answer, show
from handlers.menus import set_role_menu
from services import team as team_svc
from storage.models import Team, User


def _button(label: str, data) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(label, callback_data=data.encode())]


def _status(user: User, lang: str) -> str:
    key = "deactivated" if user.deactivated_at else ("active" if user.active else "blocked")
    return tp(f"team_status_{key}", lang)


@member_only("manager", "admin")
async def team(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    """Lists the team (an admin with several teams picks one first)."""
    core = core_of(context)
    teams = await core.db.read(team_svc.teams_for, user)
    if user.role == "admin" and len(teams) > 1:
        await show(update, t("team_pick", user.language),
                   InlineKeyboardMarkup([_button(views.short(x.name, 30), TeamView(x.id)) for x in teams[:30]]))
        return
    await show_members(update, context, user, user.team_id)


async def show_members(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, team_id: int | None) -> None:
    core = core_of(context)
    lang = user.language
    rows, team_row = await core.db.read(_members, user, team_id)
    if team_row is None:
        await show(update, t("team_error_not_found", lang))
        return
    lines = [t("team_header", lang, team=team_row.name, n=len(rows))]
    icons = {"admin": "🛡", "manager": "⭐", "rep": "•"}
    for row in rows[:60]:
        u = row.user
        lines.append(t("team_line", lang, icon=icons.get(u.role, "•"), name=u.name, role=role_name(u.role, lang),
                       status=_status(u, lang), customers=row.customers,
                       last=views.fmt_local(row.last_activity, core.config, lang, with_time=False)))
    buttons = [_button(f"{views.short(r.user.name, 20)} · {role_name(r.user.role, lang)}", TeamMember(r.user.id))
               for r in rows[:40] if r.user.id != user.id]
    await show(update, "\n".join(lines), InlineKeyboardMarkup(buttons) if buttons else None)


def _members(session, user: User, team_id: int | None):
    team_row = session.get(Team, team_id) if team_id else None
    if team_row is None:
        return [], None
    return team_svc.members(session, user, team_id), team_row


@member_only("manager", "admin")
async def on_team_view(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    data = decode(update.callback_query.data)
    await safe_answer(update.callback_query)
    if isinstance(data, TeamView):
        await show_members(update, context, user, data.team_id if user.role == "admin" else user.team_id)


@member_only("manager", "admin")
async def on_member(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    data = decode(update.callback_query.data)
    await safe_answer(update.callback_query)
    if isinstance(data, TeamMember):
        await show_member(update, context, user, data.user_id)


async def show_member(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, user_id: int,
                      notice: str = "") -> None:
    core = core_of(context)
    lang = user.language
    found = await core.db.read(_member_panel, user, user_id)
    if found is None:
        await show(update, t("team_error_forbidden", lang))
        return
    row, preview, team_name = found
    u = row.user
    text = t("team_member", lang, name=u.name, team=team_name, role=role_name(u.role, lang), status=_status(u, lang),
             customers=row.customers, tasks=preview.tasks if preview else 0,
             last=views.fmt_local(row.last_activity, core.config, lang, with_time=False))
    rows = []
    if preview is not None and u.deactivated_at is None:
        if user.role == "admin" and u.role in ("rep", "manager"):
            role = "manager" if u.role == "rep" else "rep"
            rows.append(_button(tp(f"btn_team_make_{role}", lang), TeamRole(u.id, role)))
        rows.append(_button(tp("btn_team_move", lang), TeamMove(u.id, 0, "", 0, 0)))
        rows.append(_button(tp("btn_team_off", lang), TeamOff(u.id, "", 0, 0)))
    if u.deactivated_at is not None and user.role == "admin":
        rows.append(_button(tp("btn_team_reactivate", lang), TeamReactivate(u.id)))
    rows.append(_button(tp("btn_team_back", lang), TeamView(u.team_id or 0)))
    await show(update, f"{notice}\n\n{text}" if notice else text, InlineKeyboardMarkup(rows))


def _member_panel(session, user: User, user_id: int):
    row = team_svc.member(session, user, user_id)
    if row is None:
        return None
    team_row = session.get(Team, row.user.team_id) if row.user.team_id else None
    return row, team_svc.preview(session, user, user_id), team_row.name if team_row else "—"


@member_only("manager", "admin")
async def on_role(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    data = decode(update.callback_query.data)
    if not isinstance(data, TeamRole):
        await safe_answer(update.callback_query, t("callback_invalid", user.language))
        return
    ok, target = await _run(update, core, user.language, team_svc.change_role, core, user, data.user_id, data.role)
    if not ok:
        return
    await safe_answer(update.callback_query)
    await set_role_menu(context.bot, target.tg_id, target.role, target.language)
    await show_member(update, context, user, target.id,
                      notice=t("team_role_done", user.language, name=target.name, role=role_name(target.role, user.language)))


@member_only("manager", "admin")
async def on_off(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    """Deactivate with a hand-over: choose the recipients, confirm, done."""
    core = core_of(context)
    lang = user.language
    data, preview = await _decode_with_preview(update, core, user, TeamOff, planned=("c", "s", "p"))
    if preview is None:
        return
    name = preview.target.name
    if not data.mode:
        await safe_answer(update.callback_query)
        rows = [_button(tp("btn_team_to", lang, name=views.short(c.name, 20)), TeamOff(data.user_id, "c", c.id, 0))
                for c in preview.colleagues[:20]]
        split = team_svc.split_among(preview.colleagues)
        if len(split) > 1:
            rows.append(_button(tp("btn_team_split", lang, n=len(split)), TeamOff(data.user_id, "s", 0, 0)))
        rows.append(_button(tp("btn_team_pool", lang), TeamOff(data.user_id, "p", 0, 0)))
        rows.append(_button(tp("btn_back", lang), TeamMember(data.user_id)))
        await show(update, t("team_off_choose", lang, name=name, customers=preview.customers, tasks=preview.tasks),
                   InlineKeyboardMarkup(rows))
        return
    if not data.ok:
        await safe_answer(update.callback_query)
        await show(update, t("team_off_confirm", lang, name=name, customers=preview.customers,
                             target=_target_text(data.mode, preview.recipients, lang)),
                   _confirm_keyboard(lang, TeamOff(data.user_id, data.mode, data.to, 1), data.user_id))
        return
    ok, report = await _run(update, core, lang, _deactivate, user, data.user_id, data.mode, data.to, core)
    if not ok:
        return
    await safe_answer(update.callback_query)
    _wake(context)
    summary = await core.db.read(_summary, report, lang)
    await show(update, t("team_off_done", lang, name=name, summary=summary),
               InlineKeyboardMarkup([_button(tp("btn_team_back", lang), TeamView(preview.target.team_id or 0))]))


async def _run(update: Update, core, lang: str, fn, *args):
    """(True, result) of a team service call; a refusal answers as a popup and gives (False, None)."""
    try:
        return True, await core.db.run(fn, *args)
    except team_svc.TeamError as exc:
        await safe_answer(update.callback_query, tp(f"team_error_{exc.reason}", lang), alert=True)
        return False, None


async def _decode_with_preview(update: Update, core, user: User, cls, planned: tuple[str, ...],
                               other: tuple[str, ...] = ()):
    """The pressed TeamOff/TeamMove and its hand-over preview (planned only for the ``planned``
    modes), or (data, None) after answering a tampered button or a member out of reach."""
    data = decode(update.callback_query.data)
    if not isinstance(data, cls) or data.mode not in ("", *planned, *other):
        await safe_answer(update.callback_query, t("callback_invalid", user.language))
        return data, None
    mode = data.mode if data.mode in planned else ""
    preview = await core.db.read(_preview, user, data.user_id, mode, data.to)
    if preview is None:
        await safe_answer(update.callback_query, tp("team_error_forbidden", user.language), alert=True)
    return data, preview


def _confirm_keyboard(lang: str, confirm_data, user_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([_button(tp("btn_team_confirm", lang), confirm_data),
                                 _button(tp("btn_back", lang), TeamMember(user_id))])


def _preview(session, user: User, user_id: int, mode: str, to: int):
    target = session.get(User, user_id)
    if target is None:
        return None
    return team_svc.preview(session, user, user_id, team_svc.plan_for(session, target, mode, to) if mode else None)


def _deactivate(session, user: User, user_id: int, mode: str, to: int, core):
    target = session.get(User, user_id)
    if target is None:
        raise team_svc.TeamError("not_found")
    return team_svc.deactivate(session, core, user, user_id, team_svc.plan_for(session, target, mode, to))


def _target_text(mode: str, recipients: list[User], lang: str) -> str:
    names = "、".join(u.name for u in recipients[:10]) or "—"
    if mode == "keep":
        return tp("team_target_keep", lang)
    if mode == "p":
        return tp("team_target_pool", lang)
    return tp("team_target_split" if mode == "s" else "team_target_to", lang, names=names)


def _summary(session, report: team_svc.HandoverReport, lang: str) -> str:
    """Plain text (``t`` escapes it once more when it goes into the message)."""
    parts = []
    for owner_id, ids in report.customers.items():
        if owner_id is None:
            parts.append(tp("team_summary_pool", lang, n=len(ids)))
        else:
            owner = session.get(User, owner_id)
            parts.append(tp("team_summary_to", lang, name=owner.name if owner else "—", n=len(ids)))
    if report.tasks:
        parts.append(tp("team_summary_tasks", lang, n=report.tasks))
    return "；".join(parts) if parts else tp("team_summary_none", lang)


@member_only("manager", "admin")
async def on_move(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    """Move to another team: pick the team, then what happens to the customers, confirm."""
    core = core_of(context)
    lang = user.language
    data, preview = await _decode_with_preview(update, core, user, TeamMove, planned=("c",), other=("keep", "p"))
    if preview is None:
        return
    name = preview.target.name
    if data.team_id == 0:
        teams = [x for x in await core.db.read(_all_teams) if x.id != preview.target.team_id]
        await safe_answer(update.callback_query)
        if not teams:
            await show(update, t("team_no_other_team", lang), InlineKeyboardMarkup([_button(tp("btn_back", lang), TeamMember(data.user_id))]))
            return
        rows = [_button(views.short(x.name, 30), TeamMove(data.user_id, x.id, "", 0, 0)) for x in teams[:20]]
        rows.append(_button(tp("btn_back", lang), TeamMember(data.user_id)))
        await show(update, t("team_move_choose", lang, name=name), InlineKeyboardMarkup(rows))
        return
    team_row = await core.db.read(lambda s: s.get(Team, data.team_id))
    if team_row is None:
        await safe_answer(update.callback_query, tp("team_error_not_found", lang), alert=True)
        return
    if not data.mode:
        await safe_answer(update.callback_query)
        rows = [_button(tp("btn_team_keep", lang), TeamMove(data.user_id, data.team_id, "keep", 0, 0))]
        rows += [_button(tp("btn_team_to", lang, name=views.short(c.name, 20)), TeamMove(data.user_id, data.team_id, "c", c.id, 0))
                 for c in preview.colleagues[:20]]
        rows.append(_button(tp("btn_team_pool", lang), TeamMove(data.user_id, data.team_id, "p", 0, 0)))
        rows.append(_button(tp("btn_back", lang), TeamMember(data.user_id)))
        await show(update, t("team_move_customers", lang, name=name, team=team_row.name, customers=preview.customers),
                   InlineKeyboardMarkup(rows))
        return
    if not data.ok:
        await safe_answer(update.callback_query)
        await show(update, t("team_move_confirm", lang, name=name, team=team_row.name,
                             target=_target_text(data.mode, preview.recipients, lang)),
                   _confirm_keyboard(lang, TeamMove(data.user_id, data.team_id, data.mode, data.to, 1), data.user_id))
        return
    customers = "keep" if data.mode == "keep" else (team_svc.Handover("colleague", [data.to]) if data.mode == "c"
                                                    else team_svc.Handover("pool"))
    ok, report = await _run(update, core, lang, team_svc.move_member, core, user, data.user_id, data.team_id, customers)
    if not ok:
        return
    await safe_answer(update.callback_query)
    _wake(context)
    summary = "" if data.mode == "keep" else await core.db.read(_summary, report, lang)
    await show(update, t("team_move_done", lang, name=name, team=team_row.name, summary=summary),
               InlineKeyboardMarkup([_button(tp("btn_team_back", lang), TeamView(user.team_id or 0))]))


def _all_teams(session) -> list[Team]:
    return team_svc.teams_for(session, None)


@member_only("admin")
async def on_reactivate(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    data = decode(update.callback_query.data)
    if not isinstance(data, TeamReactivate):
        await safe_answer(update.callback_query, t("callback_invalid", user.language))
        return
    ok, target = await _run(update, core, user.language, team_svc.reactivate, core, user, data.user_id)
    if not ok:
        return
    await safe_answer(update.callback_query)
    await show_member(update, context, user, target.id, notice=t("team_reactivated", user.language, name=target.name))


def _wake(context: ContextTypes.DEFAULT_TYPE) -> None:
    sender = context.application.bot_data.get("sender")
    if sender is not None:
        sender.wake()


HANDLERS = [
    CommandHandler("team", team),
    CallbackQueryHandler(on_team_view, pattern=TeamView.pattern()),
    CallbackQueryHandler(on_member, pattern=TeamMember.pattern()),
    CallbackQueryHandler(on_role, pattern=TeamRole.pattern()),
    CallbackQueryHandler(on_off, pattern=TeamOff.pattern()),
    CallbackQueryHandler(on_move, pattern=TeamMove.pattern()),
    CallbackQueryHandler(on_reactivate, pattern=TeamReactivate.pattern()),
]
