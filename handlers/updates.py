"""Free text from a rep: a waiting prompt, a one-line update to confirm, or a pasted chat."""
from __future__ import annotations

import secrets

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters

from core.callbacks import ConfirmUpdate, DraftFill, PickCustomer, decode
from core.texts import Raw, t, tp
from handlers import views
from handlers.common import MAX_INPUT_CHARS, core_of, member_only, reply, safe_answer, show
from handlers.card import card_view_of, render_card
from handlers.prompts import dispatch_prompt, set_prompt
from services import customers as cust_svc
from services import undo as undo_svc
from services.quick_update import Draft, parse_update, stage_gate
from services.undo import UNDO_MINUTES
from services.cleaning import FieldRejected, clean_field
from storage.models import Team, User

MAX_DRAFTS = 20


@member_only()
async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    message = update.effective_message
    text = message.text or message.caption or ""
    if not text.strip():
        await reply(update, t("not_understood", user.language))
        return
    if await dispatch_prompt(update, context, user, text[:MAX_INPUT_CHARS]):
        return
    await handle_quick_update(update, context, user, text)


async def handle_quick_update(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, text: str) -> None:
    core = core_of(context)
    draft: Draft = await core.db.read(parse_update, core.config, user, text, core.clock.now())
    if not draft.candidates:
        await reply(update, t("not_understood", user.language))
        return
    token = _store_draft(context, draft)
    if len(draft.candidates) > 1:
        buttons = [[InlineKeyboardButton(
            f"{views.short(c.name, 14)} · {views.short(c.company or c.industry or '', 14)}",
            callback_data=PickCustomer(token, c.id).encode())] for c in draft.candidates[:6]]
        await reply(update, t("pick_customer", user.language, q=views.short(draft.candidates[0].name, 20)),
                    InlineKeyboardMarkup(buttons))
        return
    # The candidate was read (visible, open) by parse_update in this update: no second read.
    await preview(update, context, user, token, draft, draft.candidates[0].id, loaded=draft.candidates[0])


def _store_draft(context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> str:
    drafts: dict = context.user_data.setdefault("drafts", {})
    while len(drafts) >= MAX_DRAFTS:
        drafts.pop(next(iter(drafts)))
    token = secrets.token_hex(4)
    drafts[token] = {"draft": draft, "customer_id": None}
    return token


async def preview(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, token: str, draft: Draft,
                  customer_id: int, *, as_new: bool = False, loaded=None) -> None:
    """What would be saved, with the stage gate checked first: missing fields are offered right here.
    ``loaded``: the customer as this same update just read it."""
    core = core_of(context)
    lang = user.language
    context.user_data["drafts"][token]["customer_id"] = customer_id
    if loaded is not None and loaded.id == customer_id:
        customer = loaded
    else:
        customer = await core.db.read(cust_svc.get_for, user, customer_id) \
            if any(c.id == customer_id for c in draft.candidates) else None
    if customer is None:
        await show(update, t("not_yours", lang))
        return
    lines = []
    if draft.amount:
        lines.append(t("update_line_amount", lang, amount=f"{draft.amount:,.0f}"))
    if draft.next_at:
        lines.append(t("update_line_next", lang, when=views.fmt_local(draft.next_at, core.config, lang, now=core.clock.now())))
    missing = stage_gate(core.config, customer, draft)
    moves = draft.stage and core.config.stage_index(draft.stage) > core.config.stage_index(customer.stage)
    if moves and missing:
        labels = "、".join(core.config.field_label(f, lang) for f in missing)
        lines.append(t("update_line_gate", lang, stage=views.stage_name(core.config, draft.stage, lang), missing=labels))
    elif moves:
        lines.append(t("update_line_stage", lang, stage=views.stage_name(core.config, draft.stage, lang)))
    lines.append(t("update_line_note", lang, note=views.short(draft.note, 120)))
    if moves and missing:
        fills = [InlineKeyboardButton(tp("btn_fill", lang, field=core.config.field_label(f, lang)),
                                      callback_data=DraftFill(token, f).encode()) for f in missing[:6]]
        rows = [fills[i:i + 3] for i in range(0, len(fills), 3)]
        rows.append([InlineKeyboardButton(tp("btn_save_without_stage", lang), callback_data=ConfirmUpdate(token, 2).encode()),
                     InlineKeyboardButton(tp("btn_cancel", lang), callback_data=ConfirmUpdate(token, 0).encode())])
    else:
        rows = [[InlineKeyboardButton(tp("btn_confirm", lang), callback_data=ConfirmUpdate(token, 1).encode()),
                 InlineKeyboardButton(tp("btn_cancel", lang), callback_data=ConfirmUpdate(token, 0).encode())]]
    text = t("update_preview", lang, name=customer.name, lines=Raw("\n".join(lines)))
    if as_new:
        await reply(update, text, InlineKeyboardMarkup(rows))
    else:
        await show(update, text, InlineKeyboardMarkup(rows))


async def resume_draft(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, token: str) -> bool:
    """After a field asked for by the gate was filled: the same update's preview again (False: it expired)."""
    entry = context.user_data.get("drafts", {}).get(token)
    if entry is None or entry.get("customer_id") is None:
        return False
    await preview(update, context, user, token, entry["draft"], entry["customer_id"], as_new=True)
    return True


@member_only()
async def on_draft_fill(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    data = decode(update.callback_query.data)
    entry = context.user_data.get("drafts", {}).get(getattr(data, "token", None)) if isinstance(data, DraftFill) else None
    if entry is None or entry.get("customer_id") is None:
        await safe_answer(update.callback_query)
        await show(update, t("update_expired", user.language))
        return
    if data.field not in cust_svc.EDITABLE_BUILTINS and data.field not in core.config.fields:
        await safe_answer(update.callback_query, t("callback_invalid", user.language))
        return
    customer = await core.db.read(cust_svc.get_for, user, entry["customer_id"])
    await safe_answer(update.callback_query)
    if customer is None:
        await show(update, t("not_yours", user.language))
        return
    set_prompt(context, "fill", customer_id=customer.id, field=data.field, draft=data.token)
    await reply(update, t("fill_ask", user.language, name=customer.name, field=core.config.field_label(data.field, user.language)))


@member_only()
async def on_pick(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    data = decode(update.callback_query.data)
    await safe_answer(update.callback_query)
    entry = context.user_data.get("drafts", {}).get(getattr(data, "token", None))
    if not isinstance(data, PickCustomer) or entry is None:
        await show(update, t("update_expired", user.language))
        return
    if entry.get("kind") == "paste":
        from handlers.paste import analyse_for
        await analyse_for(update, context, user, data.token, data.customer_id)
        return
    await preview(update, context, user, data.token, entry["draft"], data.customer_id)


@member_only()
async def on_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    lang = user.language
    data = decode(update.callback_query.data)
    drafts = context.user_data.get("drafts", {})
    entry = drafts.pop(getattr(data, "token", None), None) if isinstance(data, ConfirmUpdate) else None
    await safe_answer(update.callback_query)
    if entry is None or entry.get("customer_id") is None:
        await show(update, t("update_expired", lang))
        return
    if not data.ok:
        await show(update, t("cancelled", lang))
        return
    draft: Draft = entry["draft"]
    try:
        result = await core.db.run(_apply_with_card, core, user, entry["customer_id"], draft, data.ok != 2)
    except FieldRejected as exc:
        await show(update, t("field_invalid", lang, field=core.config.field_label(exc.problem.field, lang),
                             reason=exc.problem.reason(lang)))
        return
    if result is None:
        await show(update, t("not_yours", lang))
        return
    customer, advance, undo_id, view = result
    parts = []
    if draft.amount:
        parts.append(t("saved_amount", lang, amount=f"{draft.amount:,.0f}"))
    if draft.next_at:
        parts.append(t("saved_next", lang, when=views.fmt_local(draft.next_at, core.config, lang, now=core.clock.now())))
    if advance is not None and advance.status == "blocked":
        parts.append(t("saved_stage_held", lang, missing="、".join(core.config.field_label(f, lang) for f in advance.missing)))
    elif advance is not None and advance.status in ("moved", "won"):
        parts.append(t("saved_stage", lang, stage=views.stage_name(core.config, customer.stage if advance.status == "moved"
                                                                   else "won", lang)))
    parts.append(t("saved_note", lang))
    text = t("update_saved_what", lang, name=customer.name, parts=Raw(" · ".join(parts)))
    if undo_id is not None:
        text += t("undo_hint", lang, minutes=UNDO_MINUTES)
    await render_card(update, context, user, customer.id, notice=text, undo_id=undo_id, view=view)


def _apply_with_card(session, core, user: User, customer_id: int, draft: Draft, move: bool = True):
    """``apply_draft`` and then, in the same transaction, the card shown after it (the customer is
    at hand, locked: no second transaction reading it again)."""
    result = apply_draft(session, core, user, customer_id, draft, move)
    if result is None:
        return None
    customer = result[0]
    team = session.get(Team, customer.team_id) if customer.team_id else None
    return (*result, card_view_of(session, core, customer, team))


def apply_draft(session, core, user: User, customer_id: int, draft: Draft, move: bool = True):
    """Save a confirmed update in one transaction: amount, follow-up, stage, history — undoable for a while.
    The customer's row is locked once, by the first read (visibility checked on the locked row)."""
    customer = cust_svc.get_locked_for(session, user, customer_id)
    if customer is None:
        return None
    try:
        return _apply_draft(session, core, user, customer, draft, move)
    except cust_svc.NotVisible:  # handed over while this update waited for the row: nothing written
        return None


def _apply_draft(session, core, user: User, customer, draft: Draft, move: bool):
    now = core.clock.now()
    if draft.next_at is not None:
        clean_field("next_followup_at", draft.next_at, core.config, now)

    def change():
        if draft.amount:
            cust_svc.set_field(session, core.config, user, customer, "amount", draft.amount, now)
        cust_svc.log_followup(session, core.config, user, customer, draft.note, now, draft.next_at)
        advance = None
        if move and draft.stage and core.config.stage_index(draft.stage) > core.config.stage_index(customer.stage):
            # One step at a time, each through the data-quality gate.
            while customer.stage != draft.stage:
                advance = cust_svc.advance_stage(session, core.config, user, customer, now)
                if advance.status != "moved":
                    break
        return advance
    advance, undo_id = undo_svc.recorded(session, user, customer, "update", now, change)
    return customer, advance, undo_id


HANDLERS = [
    MessageHandler(filters.ChatType.PRIVATE & (filters.TEXT | filters.CAPTION) & ~filters.COMMAND, on_text),
    CallbackQueryHandler(on_pick, pattern=PickCustomer.pattern()),
    CallbackQueryHandler(on_confirm, pattern=ConfirmUpdate.pattern()),
    CallbackQueryHandler(on_draft_fill, pattern=DraftFill.pattern()),
]
