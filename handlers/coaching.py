"""Coaching (issue 16): lost reasons, the card's stall flag and counter-scripts, SOP feedback,
visit plans with their calendar file and check-in, the competitor matrix and the weekly review.

Two small hooks live in other modules: handlers/customers.py calls ``after_lost`` once a deal is
closed as lost and ``card_addendum``/``card_row`` when it renders a card; handlers/paste.py calls
``paste_competitors`` after an analysis is saved.
"""
from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from core.callbacks import LostWhy, MatrixPick, OpenCard, SopFlag, VisitAct, decode
from core.clock import local_to_utc, to_local
from core.texts import Raw, esc, t, tp
from handlers import views
from handlers.common import core_of, member_only, reply, safe_answer, show
from handlers.prompts import Prompt, clear_prompt, set_prompt, step
from services import competitors as comp_svc
from services import customers as cust_svc
from services import lost as lost_svc
from services import review as review_svc
from services import sop_feedback as fb_svc
from services import stalls as stall_svc
from services import visits as visit_svc
from services import outbox
from services.dates import parse_when
from storage.models import Customer, User

MAX_NAME_QUERY = 40
MAX_FEEDBACK_ITEMS = 8


def _back(cid: int, lang: str) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(tp("btn_back_card", lang), callback_data=OpenCard(cid).encode())]


# --- the card ----------------------------------------------------------------------------------

def _card_extra(session, core, user: User, customer_id: int):
    customer = cust_svc.get_for(session, user, customer_id)
    if customer is None:
        return None, []
    return (stall_svc.for_customer(session, core.config, customer, core.clock.now()),
            comp_svc.for_customer(session, core.config, customer.id))


async def card_addendum(core, user: User, customer_id: int) -> str:
    """Lines under a card: the stall flag and the counter-script for each competitor seen on this deal."""
    stall, competitors = await core.db.read(_card_extra, core, user, customer_id)
    lang = user.language
    lines = []
    if stall is not None:
        lines.append(t("card_stalled", lang, days=stall.idle_days, limit=stall.limit))
    for comp in competitors[:3]:
        script = comp.counter_scripts[0] if comp.counter_scripts else t("matrix_no_script", lang)
        lines.append(t("card_competitor", lang, name=comp.name, script=script))
    return ("\n\n" + "\n".join(lines)) if lines else ""


def card_row(markup: InlineKeyboardMarkup, customer_id: int, lang: str) -> InlineKeyboardMarkup:
    """The card's keyboard plus one row: the visit plan and SOP feedback."""
    row = [InlineKeyboardButton(tp("btn_visit_plan", lang), callback_data=VisitAct("plan", customer_id).encode()),
           InlineKeyboardButton(tp("btn_sop_feedback", lang), callback_data=SopFlag(customer_id, "o").encode())]
    return InlineKeyboardMarkup([*markup.inline_keyboard, row])


# --- lost reasons ----------------------------------------------------------------------------------

async def after_lost(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, customer: Customer) -> None:
    """The deal was just closed as lost: ask why (buttons from the playbook's lost_reasons)."""
    config = core_of(context).config
    lang = user.language
    buttons = [InlineKeyboardButton(r.label_en or r.label if lang == "en" else r.label,
                                    callback_data=LostWhy(customer.id, "r", i).encode())
               for i, r in enumerate(config.lost_reasons)]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    await show(update, t("lost_ask_reason", lang, name=customer.name), InlineKeyboardMarkup(rows))


@member_only()
async def on_lost_why(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    config, lang = core.config, user.language
    query = update.callback_query
    data = decode(query.data)
    if not isinstance(data, LostWhy):
        await safe_answer(query, t("callback_invalid", lang))
        return
    now = core.clock.now()
    cid = data.customer_id
    if data.step == "r":
        if not 0 <= data.index < len(config.lost_reasons):
            await safe_answer(query, t("callback_invalid", lang))
            return
        loss = await core.db.run(lost_svc.set_reason, config, user, cid, config.lost_reasons[data.index].id, now)
        if loss is None:
            await safe_answer(query, t("not_yours", lang))
            return
        await safe_answer(query)
        if config.competitors:
            buttons = [InlineKeyboardButton(views.short(c.name, 20), callback_data=LostWhy(cid, "c", i).encode())
                       for i, c in enumerate(config.competitors[:10])]
            rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
            rows.append([InlineKeyboardButton(tp("btn_lost_no_competitor", lang), callback_data=LostWhy(cid, "c", -1).encode())])
            await show(update, t("lost_ask_competitor", lang), InlineKeyboardMarkup(rows))
            return
        await _ask_note(update, context, user, cid)
    elif data.step == "c":
        if not -1 <= data.index < len(config.competitors):
            await safe_answer(query, t("callback_invalid", lang))
            return
        comp_id = config.competitors[data.index].id if data.index >= 0 else ""
        loss = await core.db.run(lost_svc.set_competitor, config, user, cid, comp_id, now)
        if loss is None:
            await safe_answer(query, t("not_yours", lang))
            return
        await safe_answer(query)
        await _ask_note(update, context, user, cid)
    elif data.step == "n":
        await safe_answer(query)
        clear_prompt(context)
        await _lost_summary(update, context, user, cid, edit=True)
    else:
        await safe_answer(query, t("callback_invalid", lang))


async def _ask_note(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, cid: int) -> None:
    set_prompt(context, "lost_note", customer_id=cid)
    await show(update, t("lost_ask_note", user.language), InlineKeyboardMarkup([[
        InlineKeyboardButton(tp("btn_skip", user.language), callback_data=LostWhy(cid, "n", 0).encode())]]))


@step("lost_note")
async def lost_note(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, prompt: Prompt, text: str) -> None:
    core = core_of(context)
    if len(text) > lost_svc.MAX_NOTE:
        await reply(update, t("too_long", user.language, n=len(text), max=lost_svc.MAX_NOTE))
        return
    clear_prompt(context)
    cid = prompt.data["customer_id"]
    await core.db.run(lost_svc.set_note, core.config, user, cid, text, core.clock.now())
    await _lost_summary(update, context, user, cid, edit=False)


def _loss_view(session, user: User, cid: int):
    from storage.models_coaching import DealLoss
    customer = cust_svc.get_for(session, user, cid)
    return (customer, session.get(DealLoss, cid)) if customer else (None, None)


async def _lost_summary(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, cid: int, edit: bool) -> None:
    core = core_of(context)
    config, lang = core.config, user.language
    customer, loss = await core.db.read(_loss_view, user, cid)
    if customer is None or loss is None:
        await (show if edit else reply)(update, t("not_yours", lang))
        return
    reason = config.lost_reason(loss.reason)
    comp = config.competitor(loss.competitor) if loss.competitor else None
    text = t("lost_saved", lang, name=customer.name,
             reason=((reason.label_en or reason.label) if lang == "en" else reason.label) if reason else "—",
             competitor=comp.name if comp else "—", note=loss.note or "—")
    await (show if edit else reply)(update, text)


# --- SOP feedback (一线反馈) -------------------------------------------------------------------------

def _stage_items(session, core, user: User, cid: int):
    customer = cust_svc.get_for(session, user, cid)
    if customer is None:
        return None, []
    stage = core.config.stage(customer.stage)
    return customer, (stage.checklist[:MAX_FEEDBACK_ITEMS] if stage else [])


@member_only()
async def on_sop_flag(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    lang = user.language
    query = update.callback_query
    data = decode(query.data)
    if not isinstance(data, SopFlag):
        await safe_answer(query, t("callback_invalid", lang))
        return
    cid = data.customer_id
    if data.kind == "o":
        customer, items = await core.db.read(_stage_items, core, user, cid)
        await safe_answer(query)
        if customer is None:
            await show(update, t("not_yours", lang))
            return
        if not items:
            await show(update, t("sop_no_items", lang), InlineKeyboardMarkup([_back(cid, lang)]))
            return
        lines = [t("sop_menu", lang, name=customer.name)]
        rows = []
        for n, item in enumerate(items, 1):
            lines.append(f"{n}. {esc(views.item_text(item, lang))}")
            rows.append([InlineKeyboardButton(tp(f"btn_sop_{k}", lang, n=n), callback_data=SopFlag(cid, k, item.id).encode())
                         for k in ("u", "m", "c")])
        rows.append(_back(cid, lang))
        await show(update, "\n".join(lines), InlineKeyboardMarkup(rows))
    elif data.kind in fb_svc.KINDS:
        fb = await core.db.run(fb_svc.record, core.config, user, cid, data.item_id, data.kind, core.clock.now())
        if fb is None:
            await safe_answer(query, t("callback_invalid", lang))
            return
        await safe_answer(query, tp("sop_saved_short", lang))
        set_prompt(context, "sop_note", feedback_id=fb.id, customer_id=cid)
        item = next((i for i in core.config.stage(fb.stage).checklist if i.id == fb.item_id), None)
        await show(update, t("sop_saved", lang, item=views.item_text(item, lang) if item else fb.item_id,
                             kind=tp(f"sop_kind_{fb.kind}", lang)),
                   InlineKeyboardMarkup([[InlineKeyboardButton(tp("btn_skip", lang), callback_data=SopFlag(cid, "s").encode())],
                                         _back(cid, lang)]))
    elif data.kind == "s":
        clear_prompt(context)
        await safe_answer(query)
        await show(update, t("sop_thanks", lang), InlineKeyboardMarkup([_back(cid, lang)]))
    else:
        await safe_answer(query, t("callback_invalid", lang))


@step("sop_note")
async def sop_note(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, prompt: Prompt, text: str) -> None:
    core = core_of(context)
    if len(text) > fb_svc.MAX_NOTE:
        await reply(update, t("too_long", user.language, n=len(text), max=fb_svc.MAX_NOTE))
        return
    clear_prompt(context)
    await core.db.run(fb_svc.add_note, user, prompt.data["feedback_id"], text)
    await reply(update, t("sop_thanks", user.language), InlineKeyboardMarkup([_back(prompt.data["customer_id"], user.language)]))


# --- visit plans ----------------------------------------------------------------------------------

def _plan(session, core, user: User, cid: int):
    customer = cust_svc.get_for(session, user, cid)
    if customer is None:
        return None
    return visit_svc.build_plan(session, core.config, user, customer, core.clock.now(), user.language)


def plan_text(core, plan: visit_svc.VisitPlan, lang: str) -> str:
    config = core.config
    none = esc(t("visit_none", lang))

    def bullets(items: list[str]) -> Raw:
        return Raw("\n".join(f"• {esc(i)}" for i in items) if items else none)

    scripts = config.objections
    answers = "\n".join(
        f"• <b>{esc(scripts[o].label)}</b>\n  💬 {esc(s)}" for o, s in plan.answers[:4]) if plan.answers else none
    counters = "\n".join(f"• <b>{esc(n)}</b>\n  💬 {esc(s)}" for n, s in plan.counters[:3])
    when = views.fmt_local(plan.start, config, lang)
    return t("visit_plan", lang, name=plan.name, company=plan.company or "—", stage=plan.stage,
             goal=bullets(plan.goal[:5]), meet=bullets(plan.meet) if plan.meet else Raw(esc(t("visit_meet_unknown", lang))),
             bring=bullets(plan.bring),
             questions=bullets([t("visit_question", lang, field=config.field_label(f, lang)) for f in plan.questions[:5]]),
             answers=Raw(answers), counters=Raw(t("visit_counters", lang, lines=Raw(counters)) if counters else ""),
             when=when, why=t(f"visit_slot_{plan.hour_from}", lang))


async def show_plan(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, cid: int) -> None:
    core = core_of(context)
    plan = await core.db.read(_plan, core, user, cid)
    if plan is None:
        await show(update, t("not_yours", user.language))
        return
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(tp("btn_visit_ok", user.language),
                                                         callback_data=VisitAct("ok", cid).encode())], _back(cid, user.language)])
    await show(update, plan_text(core, plan, user.language), markup)


@member_only()
async def visit_command(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    from handlers.customers import _one_customer
    cid, _ = await _one_customer(update, context, user, "usage_visit")
    if cid is not None:
        await show_plan(update, context, user, cid)


def _schedule(session, core, user: User, cid: int):
    """Plan, save the visit, and queue its reminder and check-in in the same transaction."""
    customer = cust_svc.get_for(session, user, cid)
    if customer is None:
        return None
    now = core.clock.now()
    lang = user.language
    plan = visit_svc.build_plan(session, core.config, user, customer, now, lang)
    visit = visit_svc.schedule(session, core.config, user, cid, plan, now)
    remind_at, checkin_at = visit_svc.reminder_times(core.config, visit)
    when = views.fmt_local(visit.start_at, core.config, lang)
    card = {"inline_keyboard": [[{"text": views.short(customer.name, 28), "callback_data": OpenCard(customer.id).encode()}]]}
    if core.config.coaching.visit_remind_minutes:
        outbox.enqueue(session, user.tg_id, "reminder",
                       {"text": t("visit_reminder", lang, name=customer.name, when=when,
                                  goal=views.short(visit.goal, 200) or "—"), "reply_markup": card},
                       f"visit-remind:{visit.id}", now, not_before=remind_at)
    outbox.enqueue(session, user.tg_id, "reminder",
                   {"text": t("visit_checkin", lang, name=customer.name, when=when),
                    "reply_markup": {"inline_keyboard": [[
                        {"text": tp("btn_visit_went", lang), "callback_data": VisitAct("went", visit.id).encode()},
                        {"text": tp("btn_visit_miss", lang), "callback_data": VisitAct("miss", visit.id).encode()}]]}},
                   f"visit-checkin:{visit.id}", now, not_before=checkin_at)
    description = plan_text(core, plan, lang)
    from handlers.common import plain_text
    data = visit_svc.ics(core.config, visit, plan, tp("visit_summary", lang, name=customer.name),
                         plain_text(description), tp("visit_alarm", lang, name=customer.name))
    return visit, customer, data


@member_only()
async def on_visit(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    lang = user.language
    query = update.callback_query
    data = decode(query.data)
    if not isinstance(data, VisitAct):
        await safe_answer(query, t("callback_invalid", lang))
        return
    if data.action == "plan":
        await safe_answer(query)
        await show_plan(update, context, user, data.ref)
    elif data.action == "ok":
        result = await core.db.run(_schedule, core, user, data.ref)
        await safe_answer(query)
        if result is None:
            await show(update, t("not_yours", lang))
            return
        visit, customer, ics_bytes = result
        sender = context.application.bot_data.get("sender")
        if sender is not None:
            sender.wake()
        when = views.fmt_local(visit.start_at, core.config, lang)
        await show(update, t("visit_scheduled", lang, name=customer.name, when=when), InlineKeyboardMarkup([_back(customer.id, lang)]))
        await context.bot.send_document(update.effective_chat.id, ics_bytes, filename=f"visit-{visit.id}.ics",
                                        caption=t("visit_ics_caption", lang, name=customer.name, when=when),
                                        parse_mode=ParseMode.HTML)
    elif data.action in ("went", "miss"):
        visit = await core.db.read(visit_svc.visit_for, user, data.ref)
        if visit is None or visit.status != "planned":
            await safe_answer(query, t("visit_already", lang))
            return
        await safe_answer(query)
        if data.action == "went":
            set_prompt(context, "visit_result", visit_id=visit.id)
            await show(update, t("visit_ask_result", lang))
            return
        result = await core.db.run(visit_svc.check_in, core.config, user, visit.id, False, "", core.clock.now())
        if result is None:
            await show(update, t("visit_already", lang))
            return
        _, customer = result
        await show(update, t("visit_missed", lang, name=customer.name), InlineKeyboardMarkup([[
            InlineKeyboardButton(tp("btn_visit_replan", lang), callback_data=VisitAct("plan", customer.id).encode())]]))
    else:
        await safe_answer(query, t("callback_invalid", lang))


@step("visit_result")
async def visit_result(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, prompt: Prompt, text: str) -> None:
    core = core_of(context)
    lang = user.language
    if len(text) > 1000:
        await reply(update, t("too_long", lang, n=len(text), max=1000))
        return
    now = core.clock.now()
    when = parse_when(text, to_local(now, core.config.tz).replace(tzinfo=None))
    next_at = local_to_utc(when.at, core.config.tz) if when and when.at else None
    if next_at is not None and next_at <= now:
        next_at = None
    clear_prompt(context)
    result = await core.db.run(visit_svc.check_in, core.config, user, prompt.data["visit_id"], True, text.strip(), now, next_at)
    if result is None:
        await reply(update, t("visit_already", lang))
        return
    _, customer = result
    nxt = t("log_next", lang, when=views.fmt_local(next_at, core.config, lang)) if next_at else t("visit_no_next", lang)
    await reply(update, t("visit_logged", lang, name=customer.name, next=Raw(nxt)),
                InlineKeyboardMarkup([[InlineKeyboardButton(views.short(customer.name, 28), callback_data=OpenCard(customer.id).encode())]]))


# --- the competitor matrix ------------------------------------------------------------------------

def _matrix(session, core, user: User):
    return comp_svc.matrix(session, core.config, user.team_id) if user.team_id else []


def matrix_text(rows: list[comp_svc.MatrixRow], config, lang: str) -> str:
    header = tp("matrix_columns", lang)
    lines = [header]
    for r in rows:
        rate = "—" if r.win_rate is None else f"{r.win_rate:.0f}%"
        top = ",".join(_objection_label(config, o, lang) for o, _ in r.objections.most_common(2)) or "—"
        lines.append(f"{views.short(r.competitor.name, 8):<8} {r.deals:>3} {r.won:>2} {r.lost:>2} {rate:>4} {views.short(top, 14)}")
    table = esc("\n".join(lines))
    return t("matrix_header", lang, n=len(rows)) + f"\n<pre>{table}</pre>\n" + t("matrix_footer", lang)


def _objection_label(config, objection_id: str, lang: str) -> str:
    o = config.objections.get(objection_id)
    return o.label if o else objection_id


def detail_text(row: comp_svc.MatrixRow, config, lang: str) -> str:
    c = row.competitor
    none = t("visit_none", lang)
    objections = "、".join(f"{esc(_objection_label(config, o, lang))}×{n}" for o, n in row.objections.most_common(4)) or none
    return t("matrix_detail", lang, name=c.name, positioning=c.positioning or "—", price=tp(f"price_{c.price_level}", lang),
             strengths=Raw("\n".join(f"• {esc(s)}" for s in c.strengths) or none),
             weaknesses=Raw("\n".join(f"• {esc(s)}" for s in c.weaknesses) or none),
             scripts=Raw("\n".join(f"💬 {esc(s)}" for s in c.counter_scripts) or none),
             deals=row.deals, won=row.won, lost=row.lost, open=row.open, lost_to=row.lost_to,
             rate="—" if row.win_rate is None else f"{row.win_rate:.0f}%", objections=Raw(objections))


def matrix_keyboard(rows: list[comp_svc.MatrixRow], lang: str) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(views.short(r.competitor.name, 14), callback_data=MatrixPick(i).encode())
               for i, r in enumerate(rows[:12])]
    grid = [buttons[i:i + 3] for i in range(0, len(buttons), 3)]
    grid.append([InlineKeyboardButton(tp("btn_matrix_image", lang), callback_data=MatrixPick(-1).encode())])
    return InlineKeyboardMarkup(grid)


@member_only()
async def matrix_command(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    lang = user.language
    config = core.config
    if not config.competitors:
        await reply(update, t("matrix_empty", lang))
        return
    query = " ".join(context.args or []).strip()
    if len(query) > MAX_NAME_QUERY:
        await reply(update, t("matrix_name_too_long", lang, n=len(query), max=MAX_NAME_QUERY))
        return
    rows = await core.db.read(_matrix, core, user)
    if query:
        key = comp_svc.normalize(query)
        row = next((r for r in rows if any(comp_svc.normalize(n) == key for n in r.competitor.names())), None)
        if row is None:
            await reply(update, t("matrix_unknown", lang, q=query, names="、".join(c.name for c in config.competitors)))
            return
        await reply(update, detail_text(row, config, lang))
        return
    await reply(update, matrix_text(rows, config, lang), matrix_keyboard(rows, lang))


@member_only()
async def on_matrix(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    lang = user.language
    data = decode(update.callback_query.data)
    rows = await core.db.read(_matrix, core, user)
    if not isinstance(data, MatrixPick) or not -2 <= data.index < len(rows):
        await safe_answer(update.callback_query, t("callback_invalid", lang))
        return
    await safe_answer(update.callback_query)
    if data.index == -1:
        from services import coaching_charts
        png = coaching_charts.matrix_png(tp("matrix_chart_title", lang), rows,
                                         {k: tp(f"matrix_chart_{k}", lang) for k in ("won", "lost", "open")})
        await context.bot.send_photo(update.effective_chat.id, png, caption=t("matrix_chart_caption", lang, n=len(rows)),
                                     parse_mode=ParseMode.HTML)
        return
    if data.index == -2:
        await show(update, matrix_text(rows, core.config, lang), matrix_keyboard(rows, lang))
        return
    await show(update, detail_text(rows[data.index], core.config, lang), InlineKeyboardMarkup([[
        InlineKeyboardButton(tp("btn_matrix_back", lang), callback_data=MatrixPick(-2).encode())]]))


# --- the weekly review ------------------------------------------------------------------------------

@member_only("manager", "admin")
async def review_command(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    from services import review_text
    core = core_of(context)
    if user.team_id is None:
        await reply(update, t("no_team", user.language))
        return
    review = await core.db.read(review_svc.build, core.config, user.team_id, core.clock.now())
    await reply(update, review_text.render(core.config, review, user.language))


@member_only("manager", "admin")
async def pilot_command(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    from services import pilot as pilot_svc
    from services.review_text import pilot_lines
    core = core_of(context)
    pilots = await core.db.read(pilot_svc.impacts, core.config, core.clock.now())
    if not pilots:
        await reply(update, t("pilot_none", user.language))
        return
    await reply(update, "\n".join(pilot_lines(core.config, pilots, user.language)).strip())


# --- a paste that names a competitor ---------------------------------------------------------------

def _paste_competitors(session, core, user: User, customer_id: int, text: str, objections: list[str]):
    customer = cust_svc.get_for(session, user, customer_id)
    if customer is None:
        return []
    found = comp_svc.record_mentions(session, core.config, customer, text, "paste", core.clock.now(),
                                     user_id=user.id, objections=objections)
    return [core.config.competitor(c) for c in found]


async def paste_competitors(core, user: User, customer_id: int, text: str, analysis) -> str:
    """Record the competitors a pasted chat names; the lines to add under its analysis."""
    if not core.config.competitors:
        return ""
    found = await core.db.run(_paste_competitors, core, user, customer_id, text,
                              [o.id for o in getattr(analysis, "objections", [])])
    lines = [t("analysis_competitor", user.language, name=c.name,
               script=c.counter_scripts[0] if c.counter_scripts else t("matrix_no_script", user.language))
             for c in found if c is not None]
    return ("\n" + "\n".join(lines)) if lines else ""


HANDLERS = [
    CommandHandler("visit", visit_command),
    CommandHandler("matrix", matrix_command),
    CommandHandler("review", review_command),
    CommandHandler("pilot", pilot_command),
    CallbackQueryHandler(on_lost_why, pattern=LostWhy.pattern()),
    CallbackQueryHandler(on_sop_flag, pattern=SopFlag.pattern()),
    CallbackQueryHandler(on_visit, pattern=VisitAct.pattern()),
    CallbackQueryHandler(on_matrix, pattern=MatrixPick.pattern()),
]
