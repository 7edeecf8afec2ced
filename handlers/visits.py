"""Visit plans (拜访计划): the plan, scheduling it with its .ics file, the reminder before and
the check-in after (issue 16).  Registered through handlers/coaching.py."""
from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from core.callbacks import OpenCard, VisitAct
from core.clock import local_to_utc, to_local
from core.texts import Raw, esc, t, tp
from handlers import views
from handlers.common import core_of, member_only, pressed, plain_text, reply, safe_answer, show
from handlers.pick import one_customer
from handlers.prompts import Prompt, clear_prompt, set_prompt, step
from services import customers as cust_svc
from services import outbox
from services import visits as visit_svc
from services.dates import parse_when
from storage.models import User


def _back(cid: int, lang: str) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(tp("btn_back_card", lang), callback_data=OpenCard(cid).encode())]


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
    """/visit CUSTOMER: the plan for one customer; /visit alone: the rep's visits of the coming week."""
    if not context.args:
        await show_week(update, context, user)
        return
    cid, _ = await one_customer(update, context, user, "usage_visit")
    if cid is not None:
        await show_plan(update, context, user, cid)


async def show_week(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    lang = user.language
    rows = await core.db.read(visit_svc.upcoming, user, core.clock.now())
    if not rows:
        await reply(update, t("visit_week_empty", lang))
        return
    lines = [t("visit_week_header", lang, n=len(rows))]
    for visit, name in rows:
        goal = views.short(visit.goal, 40)
        lines.append(t("visit_week_line", lang, when=views.fmt_local(visit.start_at, core.config, lang), name=name,
                       goal=goal or "—"))
    buttons = [[InlineKeyboardButton(views.short(name, 28), callback_data=OpenCard(visit.customer_id).encode())]
               for visit, name in rows[:8]]
    await reply(update, "\n".join(lines), InlineKeyboardMarkup(buttons))


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
    data = visit_svc.ics(core.config, visit, plan, tp("visit_summary", lang, name=customer.name),
                         plain_text(description), tp("visit_alarm", lang, name=customer.name))
    return visit, customer, data


@member_only()
async def on_visit(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    lang = user.language
    query = update.callback_query
    data = await pressed(query, VisitAct, lang)
    if data is None:
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
