"""Coaching (issue 16): lost reasons, the card's stall flag and counter-scripts, SOP feedback,
the weekly review and pilots; visit plans (handlers/visits.py) and the competitor matrix
(handlers/matrix.py) register here too.

Two small hooks live in other modules: handlers/customers.py calls ``after_lost`` once a deal is
closed as lost and ``card_addendum``/``card_row`` when it renders a card; handlers/paste.py calls
``paste_competitors`` after an analysis is saved.
"""
from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from core.callbacks import LostWhy, MatrixPick, OpenCard, SopFlag, VisitAct
from core.texts import esc, t, tp
from handlers import matrix, views, visits
from handlers.common import core_of, member_only, pressed, pressed, reply, safe_answer, show
from handlers.matrix import business_competitors, paste_competitors  # noqa: F401  (hooks for paste.py, business.py)
from handlers.prompts import Prompt, clear_prompt, set_prompt, step
from services import competitors as comp_svc
from services import customers as cust_svc
from services import lost as lost_svc
from services import review as review_svc
from services import sop_feedback as fb_svc
from services import stalls as stall_svc
from storage.models import Customer, User

MAX_FEEDBACK_ITEMS = 8


def _back(cid: int, lang: str) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(tp("btn_back_card", lang), callback_data=OpenCard(cid).encode())]


# --- the card ----------------------------------------------------------------------------------

def card_extra(session, core, customer: Customer, steps=None):
    """What the card adds for coaching, read in the card's own transaction: the stall flag and the
    competitors seen on this deal.  ``steps``: services.customers.stage_steps, read once for the card."""
    return (stall_svc.for_customer(session, core.config, customer, core.clock.now(), steps),
            comp_svc.for_customer(session, core.config, customer.id))


def card_addendum(extra, lang: str) -> str:
    """Lines under a card: the stall flag and the counter-script for each competitor seen on this deal."""
    stall, competitors = extra
    lines = []
    if stall is not None:
        lines.append(t("card_stalled", lang, days=stall.idle_days, limit=stall.limit))
    for comp in competitors[:3]:
        script = comp.counter_scripts[0] if comp.counter_scripts else t("matrix_no_script", lang)
        lines.append(t("card_competitor", lang, name=comp.name, script=script))
    return ("\n\n" + "\n".join(lines)) if lines else ""


def card_row(markup: InlineKeyboardMarkup, customer_id: int, lang: str) -> InlineKeyboardMarkup:
    """The card's "more" keyboard plus one row, above « back: the visit plan and SOP feedback."""
    row = [InlineKeyboardButton(tp("btn_visit_plan", lang), callback_data=VisitAct("plan", customer_id).encode()),
           InlineKeyboardButton(tp("btn_sop_feedback", lang), callback_data=SopFlag(customer_id, "o").encode())]
    rows = list(markup.inline_keyboard)
    return InlineKeyboardMarkup([*rows[:-1], row, *rows[-1:]])


# --- lost reasons ----------------------------------------------------------------------------------

async def after_lost(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, customer: Customer) -> None:
    """The deal was just closed as lost: ask why (buttons from the playbook's lost_reasons)."""
    config = core_of(context).config
    lang = user.language
    buttons = [InlineKeyboardButton((r.label_en or r.label) if lang == "en" else r.label,
                                    callback_data=LostWhy(customer.id, "r", i).encode())
               for i, r in enumerate(config.lost_reasons)]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    await show(update, t("lost_ask_reason", lang, name=customer.name), InlineKeyboardMarkup(rows))


@member_only()
async def on_lost_why(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    config, lang = core.config, user.language
    query = update.callback_query
    data = await pressed(query, LostWhy, lang)
    if data is None:
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
    if not await _note_taken(update, context, user, text, lost_svc.MAX_NOTE):  # the loss stays recorded without it
        return
    cid = prompt.data["customer_id"]
    await core.db.run(lost_svc.set_note, core.config, user, cid, text, core.clock.now())
    await _lost_summary(update, context, user, cid, edit=False)


async def _note_taken(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, text: str, limit: int) -> bool:
    """Ends the note prompt; a note past ``limit`` (likely a paste meant for something else) is
    dropped with a word and False."""
    clear_prompt(context)
    if len(text) > limit:
        await reply(update, t("note_dropped", user.language, n=len(text), max=limit))
        return False
    return True


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
    data = await pressed(query, SopFlag, lang)
    if data is None:
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
    if not await _note_taken(update, context, user, text, fb_svc.MAX_NOTE):  # the flag stays recorded without it
        return
    await core.db.run(fb_svc.add_note, user, prompt.data["feedback_id"], text)
    await reply(update, t("sop_thanks", user.language), InlineKeyboardMarkup([_back(prompt.data["customer_id"], user.language)]))


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


HANDLERS = [
    CommandHandler("visit", visits.visit_command),
    CommandHandler("matrix", matrix.matrix_command),
    CommandHandler("review", review_command),
    CommandHandler("pilot", pilot_command),
    CallbackQueryHandler(on_lost_why, pattern=LostWhy.pattern()),
    CallbackQueryHandler(on_sop_flag, pattern=SopFlag.pattern()),
    CallbackQueryHandler(visits.on_visit, pattern=VisitAct.pattern()),
    CallbackQueryHandler(matrix.on_matrix, pattern=MatrixPick.pattern()),
]
