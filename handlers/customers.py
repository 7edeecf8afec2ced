"""Customers: guided /new, /customers, the customer card and its buttons, /log, /stage, fill-in-place."""
from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from core.callbacks import CardAction, DupDecision, OpenCard, Page, decode
from core.clock import local_to_utc, to_local
from core.texts import Raw, esc, t, tp
from handlers import coaching, views
from handlers.card import render_card
from handlers.pick import one_customer
from handlers.common import MAX_INPUT_CHARS, core_of, member_only, plain_text, reply, safe_answer, show, stale
from handlers.prompts import Prompt, clear_prompt, set_prompt, step
from handlers.updates import resume_draft
from services import brief as brief_svc
from services import outbox
from services import playbook
from services import customers as cust_svc
from services import duplicates as dup_svc
from services import lookup as lookup_svc
from services import undo as undo_svc
from services import users as users_svc
from services.dates import parse_when
from services.undo import UNDO_MINUTES
from services.cleaning import FieldRejected, clean_field
from services.company_names import company_core
from storage.models import Customer, Task, User

NEW_STEPS = ("name", "company", "phone", "source")


# --- /new: a short guided dialogue ---------------------------------------------------------

@member_only()
async def new(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    set_prompt(context, "new", index=0, values={})
    await reply(update, t("new_ask_name", user.language))


@step("new")
async def new_step(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, prompt: Prompt, text: str) -> None:
    core = core_of(context)
    index: int = prompt.data["index"]
    name = NEW_STEPS[index]
    value = text.strip()
    if value != "-" or name in ("name", "phone"):
        try:
            # Each answer passes the same gate as every other entry (imports, API, connectors),
            # so the rep hears about junk at the step, not at the end.
            clean_field(name, value, core.config, core.clock.now())
        except FieldRejected as exc:
            await reply(update, t("field_invalid", user.language, field=core.config.field_label(name, user.language),
                                  reason=exc.problem.reason(user.language)))
            return
        prompt.data["values"][name] = value
    index += 1
    if index < len(NEW_STEPS):
        prompt.data["index"] = index
        await reply(update, t(f"new_ask_{NEW_STEPS[index]}", user.language))
        return
    clear_prompt(context)
    result = await core.db.run(cust_svc.create_customer, core.config, user.team_id, prompt.data["values"],
                               core.clock.now(), actor=user, owner_id=user.id)
    await report_create(update, context, user, result, prompt.data["values"])


async def report_create(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User,
                        result: cust_svc.CreateResult, values: dict) -> None:
    core = core_of(context)
    lang = user.language
    if result.customer is not None:
        c = result.customer
        await reply(update, t("new_created", lang, name=c.name, stage=views.stage_name(core.config, c.stage, lang),
                              completeness=c.completeness),
                    InlineKeyboardMarkup([[InlineKeyboardButton(views.short(c.name, 28), callback_data=OpenCard(c.id).encode())]]))
        return
    if result.problems:
        p = result.problems[0]
        await reply(update, t("field_invalid", lang, field=core.config.field_label(p.field, lang), reason=p.reason(lang)))
        return
    await report_duplicate(update, context, user, result.duplicates[0], values)


async def report_duplicate(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, match: cust_svc.Match,
                           values: dict) -> None:
    """Tell the rep who owns it; tell the managers; never create a second record."""
    core = core_of(context)
    lang = user.language
    c = match.customer
    reason = cust_svc.reason_text(match.reason, lang)
    if c.owner_id == user.id:
        await reply(update, t("dup_owned_self", lang, name=c.name, reason=reason))
        return
    if c.owner_id is None and (c.team_id == user.team_id or user.role == "admin"):
        await reply(update, t("dup_in_pool", lang, name=c.name, reason=reason), views.claim_keyboard([c], lang))
        return
    if c.owner_id is None:
        await reply(update, t("dup_other_team_vague", lang))
        return
    owner, managers, team = await core.db.run(_owner_and_managers, c)
    until = views.fmt_local(c.protected_until, core.config, lang, with_time=False, now=core.clock.now())
    if c.team_id != user.team_id and user.role != "admin":
        # Another team's customer: as little as /查重 tells across teams (services/lookup.py).
        exact = lookup_svc.exact_key(c, lookup_svc.is_phone_query(values.get("phone") or ""),
                                     company_core(values.get("company")))
        await reply(update, t("owner_other_team", lang, team=team.name if team else "—", owner=owner.name if owner else "—",
                              until=until, reason=reason) if exact else t("dup_other_team_vague", lang))
    else:
        await core.db.run(dup_svc.record_attempt, c.id, user, values, core.clock.now())
        await reply(update, t("dup_owned_other", lang, name=c.name, company=c.company or "—",
                              owner=owner.name if owner else "—", until=until, reason=reason))
    for manager in managers:
        text = t("dup_manager_notice", manager.language, requester=user.name, name=values.get("name") or c.name,
                 company=values.get("company") or c.company or "—", owner=owner.name if owner else "—",
                 reason=cust_svc.reason_text(match.reason, manager.language))
        markup = InlineKeyboardMarkup([[
            InlineKeyboardButton(tp("btn_dup_keep", manager.language), callback_data=DupDecision(c.id, user.id, "keep").encode()),
            InlineKeyboardButton(tp("btn_dup_transfer", manager.language, name=views.short(user.name, 10)),
                                 callback_data=DupDecision(c.id, user.id, "move").encode()),
            InlineKeyboardButton(tp("btn_dup_merge", manager.language), callback_data=DupDecision(c.id, user.id, "merge").encode())]])
        await core.db.run(outbox.enqueue, manager.tg_id, "notice", {"text": text, "reply_markup": markup.to_dict()},
                          f"dup:{c.id}:{user.id}:{manager.id}:{core.clock.now():%Y%m%d}", core.clock.now())
    sender = context.application.bot_data.get("sender")
    if sender is not None:
        sender.wake()


@member_only("manager", "admin")
async def on_dup_decision(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    """The manager decides who works a customer two reps went after."""
    core = core_of(context)
    data = decode(update.callback_query.data)
    if not isinstance(data, DupDecision) or data.decision not in ("keep", "move", "merge"):
        await safe_answer(update.callback_query, t("callback_invalid", user.language))
        return
    if data.decision == "merge":
        merged = await core.db.run(dup_svc.merge_attempt, core.config, user, data.customer_id, data.requester_id,
                                   core.clock.now())
        if merged is None:
            await stale(update, t("not_yours", user.language))
            return
        await safe_answer(update.callback_query)
        customer, owner, filled = merged
        fields = "、".join(core.config.field_label(f, user.language) for f in filled)
        await show(update, t("dup_merged" if filled else "dup_merged_note", user.language, name=customer.name,
                             owner=owner.name if owner else "—", fields=fields))
        return
    result = await core.db.run(cust_svc.decide_duplicate, core.config, user, data.customer_id, data.requester_id,
                               data.decision == "move", core.clock.now())
    if result is None:
        await stale(update, t("not_yours", user.language))
        return
    await safe_answer(update.callback_query)
    customer, owner = result
    await show(update, t("dup_decided", user.language, name=customer.name, owner=owner.name if owner else "—"))


def _owner_and_managers(session, c: Customer):
    owner = session.get(User, c.owner_id) if c.owner_id else None
    return owner, users_svc.managers_of(session, c.team_id), users_svc.get_team(session, c.team_id)


# --- lists ------------------------------------------------------------------------------------

@member_only()
async def customers(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    await show_list(update, context, user, 0)


async def show_list(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, page: int) -> None:
    core = core_of(context)
    rows, total = await core.db.read(cust_svc.list_visible, user, limit=views.PAGE_SIZE, offset=page * views.PAGE_SIZE)
    if not rows and update.callback_query is not None:  # a page button of a list that has since shrunk
        await stale(update, t("callback_invalid", user.language))
        return
    if update.callback_query is not None:
        await safe_answer(update.callback_query)
    if total == 0:
        await show(update, t("customers_empty", user.language))
        return
    header = "customers_header" if user.role == "rep" else "customers_header_team"
    text, markup = views.customer_list(rows, total, page, "list", core.config, user.language, header)
    await show(update, text, markup)


# --- the card ------------------------------------------------------------------------------------

@member_only()
async def on_open_card(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    data = decode(update.callback_query.data)
    if not isinstance(data, OpenCard):
        await safe_answer(update.callback_query, t("callback_invalid", user.language))
        return
    await render_card(update, context, user, data.customer_id, answer=True)


@member_only()
async def on_card_action(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    query = update.callback_query
    data = decode(query.data)
    if not isinstance(data, CardAction):
        await safe_answer(query, t("callback_invalid", user.language))
        return
    lang = user.language
    customer = await core.db.read(cust_svc.get_for, user, data.customer_id)
    if customer is None:
        await safe_answer(query, t("not_yours", lang), alert=True)
        return
    action = data.action
    if action == "done":
        result = await core.db.run(_complete_item, user, data.customer_id, data.arg, core)
        if result.status == "done":
            stage = playbook.config_cached(core, customer.team_id).stage(customer.stage)
            item = next((i for i in (stage.checklist if stage else []) if i.id == data.arg), None)
            label = views.item_text(item, lang) if item else data.arg
            msg = t("item_done_points", lang, item=label, points=result.points) if result.points else t("item_done", lang, item=label)
            await safe_answer(query, plain_text(msg))
        elif result.status == "gone":
            await safe_answer(query, t("not_yours", lang), alert=True)
            return
        elif result.status == "already":
            await safe_answer(query, t("item_already", lang))
        elif result.status == "missing_fields":
            fields = "、".join(core.config.field_label(f, lang) for f in result.missing)
            await safe_answer(query, plain_text(t("item_needs_fields", lang, fields=fields)), alert=True)
            await show(update, t("item_needs_fields", lang, fields=fields),
                       views.fill_keyboard(customer.id, result.missing, core.config, lang))
            return
        else:
            await safe_answer(query, t("callback_invalid", lang))
        await render_card(update, context, user, customer.id)
    elif action == "next":
        await safe_answer(query)
        await advance(update, context, user, customer.id)
    elif action == "log":
        await safe_answer(query)
        set_prompt(context, "log", customer_id=customer.id)
        await reply(update, t("log_ask", lang))
    elif action == "script":
        await safe_answer(query)
        stage = core.config.stage(customer.stage)
        scripts = "\n\n".join(f"📄 {esc(brief_svc.render_script(s, customer, user.name, core.config.team.name))}"
                            for s in (stage.scripts if stage else [])) or esc(t("card_no_script", lang))
        await show(update, f"<b>{esc(customer.name)}</b> · {esc(views.stage_name(core.config, customer.stage, lang))}\n\n{scripts}",
                   InlineKeyboardMarkup([[InlineKeyboardButton(tp("btn_back", lang), callback_data=OpenCard(customer.id).encode())]]))
    elif action == "more":
        await safe_answer(query)
        await render_card(update, context, user, customer.id, more=True)
    elif action == "later":
        await safe_answer(query)
        await show(update, t("later_options", lang), views.later_keyboard(customer.id, lang))
    elif action == "at":
        now_local = to_local(core.clock.now(), core.config.tz).replace(tzinfo=None)
        when_local = views.later_time(data.arg, now_local)
        if when_local is None:
            await safe_answer(query, t("callback_invalid", lang))
            return
        when = local_to_utc(when_local, core.config.tz)
        await core.db.run(_add_reminder, user, customer.id, when, core)
        await safe_answer(query, plain_text(t("later_set", lang, when=views.fmt_local(when, core.config, lang, now=core.clock.now()), name=customer.name)))
        await render_card(update, context, user, customer.id,
                          notice=t("later_set", lang, when=views.fmt_local(when, core.config, lang, now=core.clock.now()), name=customer.name))
    elif action == "lost":
        if data.arg != "y":
            await safe_answer(query)
            await show(update, t("lost_confirm", lang, name=customer.name), InlineKeyboardMarkup([[
                InlineKeyboardButton(tp("btn_lost_yes", lang), callback_data=CardAction(customer.id, "lost", "y").encode()),
                InlineKeyboardButton(tp("btn_back", lang), callback_data=OpenCard(customer.id).encode())]]))
            return
        if not await core.db.run(_mark_lost, user, customer.id, core):
            await safe_answer(query, t("not_yours", lang), alert=True)
            return
        await safe_answer(query)
        await coaching.after_lost(update, context, user, customer)  # asks for the reason (issue 16)
    elif action == "fill":
        await safe_answer(query)
        field = data.arg
        if field not in cust_svc.EDITABLE_BUILTINS and field not in core.config.fields:
            return
        set_prompt(context, "fill", customer_id=customer.id, field=field)
        await reply(update, t("fill_ask", lang, name=customer.name, field=core.config.field_label(field, lang)))
    else:
        await safe_answer(query, t("callback_invalid", lang))


def _complete_item(session, user: User, customer_id: int, item_id: str, core):
    customer = cust_svc.get_for(session, user, customer_id)
    if customer is None:
        return cust_svc.ItemResult("gone")
    try:
        return cust_svc.complete_item(session, playbook.config_for(session, core, customer.team_id), user, customer,
                                      item_id, core.clock.now())
    except cust_svc.NotVisible:
        return cust_svc.ItemResult("gone")


def _mark_lost(session, user: User, customer_id: int, core) -> bool:
    customer = cust_svc.get_for(session, user, customer_id)
    if customer is None:
        return False
    try:
        cust_svc.close_lost(session, user, customer, core.clock.now())
    except cust_svc.NotVisible:
        return False
    return True


def _add_reminder(session, user: User, customer_id: int, when, core) -> None:
    customer = cust_svc.get_for(session, user, customer_id)
    if customer is None:
        return
    try:
        cust_svc.lock(session, customer, user)  # not onto a customer handed over meanwhile
    except cust_svc.NotVisible:
        return
    session.add(Task(customer_id=customer.id, user_id=user.id, kind="reminder", text="", due_at=when,
                     created_at=core.clock.now()))


async def advance(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, customer_id: int) -> None:
    core = core_of(context)
    lang = user.language
    result, customer, undo_id = await core.db.run(_advance, user, customer_id, core)
    if customer is None:
        await show(update, t("not_yours", lang))
        return
    if result.status == "blocked":
        missing = "、".join(core.config.field_label(f, lang) for f in result.missing)
        await show(update, t("stage_blocked", lang, name=customer.name, missing=missing),
                   views.fill_keyboard(customer.id, result.missing, core.config, lang))
        return
    if result.status == "won":
        await show(update, t("stage_won", lang, name=customer.name))
        return
    notice = t("stage_moved", lang, name=customer.name, stage=views.stage_name(core.config, customer.stage, lang)) \
        if result.status == "moved" else ""
    if notice and undo_id is not None:
        notice += t("undo_hint", lang, minutes=UNDO_MINUTES)
    await render_card(update, context, user, customer.id, notice=notice, undo_id=undo_id)


def _advance(session, user: User, customer_id: int, core):
    customer = cust_svc.get_for(session, user, customer_id)
    if customer is None:
        return None, None, None
    config = playbook.config_for(session, core, customer.team_id)
    now = core.clock.now()
    try:
        result, undo_id = undo_svc.recorded(session, user, customer, "stage", now,
                                            lambda: cust_svc.advance_stage(session, config, user, customer, now))
    except cust_svc.NotVisible:
        return None, None, None
    return result, customer, (undo_id if result.status == "moved" else None)


@step("fill")
async def fill_value(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, prompt: Prompt, text: str) -> None:
    core = core_of(context)
    field = prompt.data["field"]
    raw: object = text.strip()
    if field == "next_followup_at":
        when = parse_when(text, to_local(core.clock.now(), core.config.tz).replace(tzinfo=None))
        raw = local_to_utc(when.at, core.config.tz) if when else text
    try:
        customer = await core.db.run(_set_field, user, prompt.data["customer_id"], field, raw, core)
    except FieldRejected as exc:
        await reply(update, t("field_invalid", user.language, field=core.config.field_label(field, user.language),
                              reason=exc.problem.reason(user.language)))
        return
    clear_prompt(context)
    if customer is None:
        await reply(update, t("not_yours", user.language))
        return
    if prompt.data.get("draft"):  # asked for by a quick update's stage gate: back to that update
        await reply(update, t("fill_back_to_draft", user.language, field=core.config.field_label(field, user.language)))
        if await resume_draft(update, context, user, prompt.data["draft"]):
            return
    await reply(update, t("fill_saved", user.language, field=core.config.field_label(field, user.language),
                          completeness=customer.completeness),
                InlineKeyboardMarkup([[InlineKeyboardButton(views.short(customer.name, 28), callback_data=OpenCard(customer.id).encode())]]))


def _set_field(session, user: User, customer_id: int, field: str, raw, core):
    customer = cust_svc.get_for(session, user, customer_id)
    if customer is None:
        return None
    try:
        return cust_svc.set_field(session, core.config, user, customer, field, raw, core.clock.now())
    except cust_svc.NotVisible:
        return None


@step("log")
async def log_text(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, prompt: Prompt, text: str) -> None:
    clear_prompt(context)
    await save_followup(update, context, user, prompt.data["customer_id"], text)


async def save_followup(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, customer_id: int, text: str) -> None:
    core = core_of(context)
    lang = user.language
    now = core.clock.now()
    when = parse_when(text, to_local(now, core.config.tz).replace(tzinfo=None))
    next_at = local_to_utc(when.at, core.config.tz) if when else None
    if next_at is not None:
        try:
            clean_field("next_followup_at", next_at, core.config, now)
        except FieldRejected as exc:
            await reply(update, t("field_invalid", lang, field=core.config.field_label("next_followup_at", lang),
                                  reason=exc.problem.reason(lang)))
            return
    customer = await core.db.run(_log, user, customer_id, text[:MAX_INPUT_CHARS], next_at, core)
    if customer is None:
        await reply(update, t("not_yours", lang))
        return
    nxt = t("log_next", lang, when=views.fmt_local(next_at, core.config, lang, now=core.clock.now())) if next_at else ""
    await reply(update, t("log_saved", lang, name=customer.name, next=Raw(nxt)),
                InlineKeyboardMarkup([[InlineKeyboardButton(views.short(customer.name, 28), callback_data=OpenCard(customer.id).encode())]]))


def _log(session, user: User, customer_id: int, text: str, next_at, core):
    customer = cust_svc.get_for(session, user, customer_id)
    if customer is None:
        return None
    try:
        cust_svc.log_followup(session, core.config, user, customer, text, core.clock.now(), next_at)
    except cust_svc.NotVisible:  # handed over while this follow-up waited for the row
        return None
    return customer


# --- /log and /stage for those who prefer commands --------------------------------------------

@member_only()
async def log_command(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    customer_id, text = await one_customer(update, context, user, "usage_log")
    if customer_id is not None:
        await save_followup(update, context, user, customer_id, text)


@member_only()
async def stage_command(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    customer_id, _ = await one_customer(update, context, user, "usage_stage")
    if customer_id is not None:
        await advance(update, context, user, customer_id)


@member_only()
async def on_page(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    data = decode(update.callback_query.data)
    if not isinstance(data, Page) or data.page < 0 or data.page > 10000:
        await safe_answer(update.callback_query, t("callback_invalid", user.language))
        return
    if data.view == "today":
        from handlers.today import show_today
        await safe_answer(update.callback_query)
        await show_today(update, context, user)
    elif data.view == "list":
        await show_list(update, context, user, data.page)
    else:
        await safe_answer(update.callback_query, t("callback_invalid", user.language))


HANDLERS = [
    CommandHandler("new", new),
    CommandHandler("customers", customers),
    CommandHandler("log", log_command),
    CommandHandler("stage", stage_command),
    CallbackQueryHandler(on_open_card, pattern=OpenCard.pattern()),
    CallbackQueryHandler(on_card_action, pattern=CardAction.pattern()),
    CallbackQueryHandler(on_page, pattern=Page.pattern()),
    CallbackQueryHandler(on_dup_decision, pattern=DupDecision.pattern()),
]
