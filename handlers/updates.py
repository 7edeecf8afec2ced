"""Free text from a rep: a waiting prompt, a one-line update to confirm, or a pasted chat."""
from __future__ import annotations

import secrets

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters

from core.callbacks import ConfirmUpdate, PickCustomer, decode
from core.texts import Raw, t, tp
from handlers import views
from handlers.common import MAX_INPUT_CHARS, core_of, member_only, reply, safe_answer, show
from handlers.prompts import dispatch_prompt
from services import customers as cust_svc
from services.quick_update import Draft, parse_update
from services.quality import FieldRejected, clean_field
from storage.models import User

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
    await preview(update, context, user, token, draft, draft.candidates[0].id)


def _store_draft(context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> str:
    drafts: dict = context.user_data.setdefault("drafts", {})
    while len(drafts) >= MAX_DRAFTS:
        drafts.pop(next(iter(drafts)))
    token = secrets.token_hex(4)
    drafts[token] = {"draft": draft, "customer_id": None}
    return token


async def preview(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, token: str, draft: Draft,
                  customer_id: int) -> None:
    core = core_of(context)
    lang = user.language
    context.user_data["drafts"][token]["customer_id"] = customer_id
    customer = next((c for c in draft.candidates if c.id == customer_id), None)
    if customer is None:
        await show(update, t("not_yours", lang))
        return
    lines = []
    if draft.amount:
        lines.append(t("update_line_amount", lang, amount=f"{draft.amount:,.0f}"))
    if draft.next_at:
        lines.append(t("update_line_next", lang, when=views.fmt_local(draft.next_at, core.config, lang, now=core.clock.now())))
    if draft.stage and core.config.stage_index(draft.stage) > core.config.stage_index(customer.stage):
        lines.append(t("update_line_stage", lang, stage=views.stage_name(core.config, draft.stage, lang)))
    lines.append(t("update_line_note", lang, note=views.short(draft.note, 120)))
    markup = InlineKeyboardMarkup([[
        InlineKeyboardButton(tp("btn_confirm", lang), callback_data=ConfirmUpdate(token, 1).encode()),
        InlineKeyboardButton(tp("btn_cancel", lang), callback_data=ConfirmUpdate(token, 0).encode())]])
    await show(update, t("update_preview", lang, name=customer.name, lines=Raw("\n".join(lines))), markup)


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
    data = decode(update.callback_query.data)
    drafts = context.user_data.get("drafts", {})
    entry = drafts.pop(getattr(data, "token", None), None) if isinstance(data, ConfirmUpdate) else None
    await safe_answer(update.callback_query)
    if entry is None or entry.get("customer_id") is None:
        await show(update, t("update_expired", user.language))
        return
    if not data.ok:
        await show(update, t("cancelled", user.language))
        return
    try:
        result = await core.db.run(apply_draft, core, user, entry["customer_id"], entry["draft"])
    except FieldRejected as exc:
        await show(update, t("field_invalid", user.language, field=core.config.field_label(exc.problem.field, user.language),
                             reason=exc.problem.reason(user.language)))
        return
    if result is None:
        await show(update, t("not_yours", user.language))
        return
    customer, advance = result
    text = t("update_saved", user.language)
    if advance is not None and advance.status == "blocked":
        missing = "、".join(core.config.field_label(f, user.language) for f in advance.missing)
        await show(update, text + "\n" + t("stage_blocked", user.language, name=customer.name, missing=missing),
                   views.fill_keyboard(customer.id, advance.missing, core.config, user.language))
        return
    from handlers.customers import render_card
    await render_card(update, context, user, customer.id, notice=text)


def apply_draft(session, core, user: User, customer_id: int, draft: Draft):
    """Save a confirmed update in one transaction: amount, follow-up, stage, history."""
    customer = cust_svc.get_for(session, user, customer_id)
    if customer is None:
        return None
    now = core.clock.now()
    if draft.next_at is not None:
        clean_field("next_followup_at", draft.next_at, core.config, now)
    if draft.amount:
        cust_svc.set_field(session, core.config, user, customer, "amount", draft.amount, now)
    cust_svc.log_followup(session, core.config, user, customer, draft.note, now, draft.next_at)
    advance = None
    if draft.stage and core.config.stage_index(draft.stage) > core.config.stage_index(customer.stage):
        # One step at a time, each through the data-quality gate.
        while customer.stage != draft.stage:
            advance = cust_svc.advance_stage(session, core.config, user, customer, now)
            if advance.status != "moved":
                break
    return customer, advance


HANDLERS = [
    MessageHandler(filters.ChatType.PRIVATE & (filters.TEXT | filters.CAPTION) & ~filters.COMMAND, on_text),
    CallbackQueryHandler(on_pick, pattern=PickCustomer.pattern()),
    CallbackQueryHandler(on_confirm, pattern=ConfirmUpdate.pattern()),
]
