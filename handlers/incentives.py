"""/me (points, rank, honors, KPI, radar), /board, /shop, /digest, /meeting and the approval buttons.

Thin: every number comes from services.incentives / boards / digest; this module only sends text
and PNGs and re-authorises every button (callback data is client-controlled).
"""
from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from core.callbacks import Approve, FlagDecision, ProfileView, Redeem, decode
from core.texts import Raw, t, tp
from handlers.common import clip, core_of, member_only, plain_text, reply, safe_answer
from services import boards as boards_svc
from services import customers as cust_svc
from services import digest as digest_svc
from services import incentives as inc
from storage.models import GroupBinding, Team, User

CAPTION_LIMIT = 1024


def _markup(rows: list[list[dict]] | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b["text"], callback_data=b["callback_data"]) for b in row]
                                 for row in rows])


async def send_photo(update: Update, context: ContextTypes.DEFAULT_TYPE, png: bytes, caption: str,
                     markup: InlineKeyboardMarkup | None = None) -> None:
    """A photo with its caption; a caption over Telegram's 1,024 goes as a text message after a short one."""
    chat_id = update.effective_chat.id
    if len(caption) <= CAPTION_LIMIT:
        await context.bot.send_photo(chat_id, png, caption=caption, parse_mode=ParseMode.HTML, reply_markup=markup)
        return
    first_line = caption.split("\n", 1)[0]
    await context.bot.send_photo(chat_id, png, caption=first_line[:CAPTION_LIMIT], parse_mode=ParseMode.HTML)
    await context.bot.send_message(chat_id, clip(caption), parse_mode=ParseMode.HTML, reply_markup=markup)


# --- /me ------------------------------------------------------------------------------------------

def _profile_bundle(session, core, viewer: User, target_id: int):
    target = session.get(User, target_id)
    if target is None or target.role != "rep":
        return None
    if viewer.id != target.id and not (viewer.role in ("manager", "admin") and target.team_id == viewer.team_id):
        return None
    p = inc.profile(session, core.config, target, core.clock.now())
    lang = viewer.language
    return inc.profile_caption(core.config, p, lang), inc.profile_radar(core.config, p, lang)


def _find_reps(session, viewer: User, query: str) -> list[User]:
    reps = inc.team_users(session, viewer.team_id)
    if not query:
        return reps
    exact = [u for u in reps if u.name == query or (u.username and u.username.lower() == query.lstrip("@").lower())]
    return exact or [u for u in reps if query in u.name]


@member_only()
async def me(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    lang = user.language
    if user.role == "rep":
        bundle = await core.db.run(_profile_bundle, core, user, user.id)
        if bundle:
            await send_photo(update, context, bundle[1], bundle[0])
        return
    query = " ".join(context.args or []).strip()[:50]
    reps = await core.db.run(_find_reps, user, query)
    if len(reps) == 1 and query:
        bundle = await core.db.run(_profile_bundle, core, user, reps[0].id)
        if bundle:
            await send_photo(update, context, bundle[1], bundle[0])
        return
    if not reps:
        await reply(update, t("me_no_reps", lang))
        return
    buttons = [[InlineKeyboardButton(u.name[:30], callback_data=ProfileView(u.id).encode())] for u in reps[:30]]
    await reply(update, t("me_pick_rep", lang), InlineKeyboardMarkup(buttons))


@member_only()
async def on_profile_view(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    data = decode(update.callback_query.data)
    if not isinstance(data, ProfileView):
        await safe_answer(update.callback_query, t("callback_invalid", user.language))
        return
    bundle = await core.db.run(_profile_bundle, core, user, data.user_id)
    if bundle is None:
        await safe_answer(update.callback_query, t("not_allowed", user.language), alert=True)
        return
    await safe_answer(update.callback_query)
    await send_photo(update, context, bundle[1], bundle[0])


# --- /board -----------------------------------------------------------------------------------------

def _board_bundle(session, core, user: User | None, team_id: int, public: bool, lang: str):
    team = session.get(Team, team_id)
    board = boards_svc.compute(session, core.config, team_id, "daily", core.clock.now())
    if not board.rows:
        return None
    if public and boards_svc.shows_team_total(core.config, board):
        return (boards_svc.team_caption(core.config, board, team.name, lang),
                boards_svc.team_png(core.config, team.name, board, lang))
    if public:
        rows = board.public_rows()
        caption = boards_svc.group_caption(core.config, board, team.name, lang)
        return caption, boards_svc.board_png(core.config, team.name, board, rows, lang)
    if user is not None and user.role in ("manager", "admin"):
        rows = [r for g in board.groups for r in g.rows][:30]
        text = boards_svc.full_board_text(core.config, board, lang, team.name)
        return text, boards_svc.board_png(core.config, team.name, board, rows, lang, "board_chart_subtitle_full")
    rows = board.public_rows()
    caption = boards_svc.group_caption(core.config, board, team.name, lang)
    own = board.row(user.id) if user else None
    if own is not None:
        caption = boards_svc.private_rank_text(core.config, board, own, lang) + "\n\n" + caption
    return caption, boards_svc.board_png(core.config, team.name, board, rows, lang)


def _binding(session, chat_id: int) -> GroupBinding | None:
    return session.get(GroupBinding, chat_id)


@member_only()
async def board(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    chat = update.effective_chat
    if chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
        binding = await core.db.run(_binding, chat.id)
        if binding is None:
            await reply(update, t("board_group_unbound", "zh"))
            return
        bundle = await core.db.run(_board_bundle, core, None, binding.team_id, True, "zh")
    else:
        bundle = await core.db.run(_board_bundle, core, user, user.team_id, False, user.language)
    if bundle is None:
        await reply(update, t("board_empty", user.language))
        return
    await send_photo(update, context, bundle[1], bundle[0])


# --- /shop ---------------------------------------------------------------------------------------------

def shop_text(core, user: User, view: inc.ShopView) -> tuple[str, InlineKeyboardMarkup | None]:
    lang = user.language
    name = (lambda r: (r.name_en or r.name) if lang == "en" else r.name)
    items = "\n".join(t("shop_item", lang, name=name(r), price=r.price) for r in view.rewards)
    requests = ""
    if view.requests:
        lines = "\n".join(t("shop_request_line", lang, name=r.reward_name, price=r.price,
                            status=tp(f"redeem_status_{r.status}", lang)) for r in view.requests)
        requests = t("shop_requests", lang, lines=Raw(lines))
    text = t("shop", lang, balance=view.balance, reserved=view.reserved, available=view.available, items=Raw(items),
             requests=Raw(requests))
    buttons = [[InlineKeyboardButton(tp("btn_redeem", lang, name=name(r)[:20], price=r.price),
                                     callback_data=Redeem(r.id).encode())] for r in view.rewards]
    return text, InlineKeyboardMarkup(buttons) if buttons else None


@member_only()
async def shop(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    view = await core.db.run(inc.shop_view, core.config, user)
    text, markup = shop_text(core, user, view)
    await reply(update, text, markup)


@member_only()
async def on_redeem(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    query = update.callback_query
    data = decode(query.data)
    lang = user.language
    if not isinstance(data, Redeem):
        await safe_answer(query, t("callback_invalid", lang))
        return
    result = await core.db.run(inc.request_redemption, core.config, user, data.reward_id, core.clock.now())
    reward = next((r for r in core.config.rewards if r.id == data.reward_id), None)
    label = ((reward.name_en or reward.name) if lang == "en" else reward.name) if reward else data.reward_id
    if result.status == "insufficient":
        await safe_answer(query, tp("redeem_insufficient", lang, name=label, price=reward.price,
                                    available=result.subject.available), alert=True)
        return
    if result.status != "done":
        await safe_answer(query, t("callback_invalid", lang))
        return
    await safe_answer(query, tp("redeem_requested", lang, name=label, price=reward.price))
    _wake(context)
    view = await core.db.run(inc.shop_view, core.config, user)
    text, markup = shop_text(core, user, view)
    await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


def _wake(context: ContextTypes.DEFAULT_TYPE) -> None:
    sender = context.application.bot_data.get("sender")
    if sender is not None:
        sender.wake()


# --- approvals and flags ----------------------------------------------------------------------------------

async def _mark_decided(update: Update, note: str) -> None:
    """Append the decision to the request message and drop its buttons."""
    query = update.callback_query
    message = query.message
    if message is None:
        return
    body = message.text_html if getattr(message, "text", None) else ""
    try:
        await query.edit_message_text(clip(f"{body}\n\n{note}" if body else note), parse_mode=ParseMode.HTML,
                                      reply_markup=None)
    except BadRequest:  # an edit that fails (too old, unchanged) must not hide the decision
        pass


@member_only("manager", "admin")
async def on_approve(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    query = update.callback_query
    data = decode(query.data)
    lang = user.language
    if not isinstance(data, Approve) or data.kind not in ("points", "redeem"):
        await safe_answer(query, t("callback_invalid", lang))
        return
    fn = inc.decide_award if data.kind == "points" else inc.decide_redemption
    result = await core.db.run(fn, core.config, user, data.item_id, bool(data.ok), core.clock.now())
    if result.status == "forbidden" or result.status == "missing":
        await safe_answer(query, t("not_allowed", lang), alert=True)
        return
    if result.status == "already":  # decided elsewhere (another manager, the digest): the message stays as it is
        await safe_answer(query, t("already_decided", lang), alert=True)
        return
    if result.status == "insufficient":
        await safe_answer(query, t("redeem_short_balance", lang), alert=True)
        return
    note = t("approved_note" if data.ok else "declined_note", lang, by=user.name)
    await safe_answer(query, plain_text(note))
    _wake(context)
    markup = query.message.reply_markup if query.message is not None else None
    if markup is not None and len(markup.inline_keyboard) == 1:
        await _mark_decided(update, note)  # a single request: record the decision on it
    # (several requests on one message — the digest — keep their buttons; a repeat tap says "already")


@member_only("manager", "admin")
async def on_flag(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    query = update.callback_query
    data = decode(query.data)
    lang = user.language
    if not isinstance(data, FlagDecision) or data.action not in ("clear", "revoke"):
        await safe_answer(query, t("callback_invalid", lang))
        return
    result = await core.db.run(inc.decide_flag, core.config, user, data.flag_id, data.action, core.clock.now())
    if result.status in ("forbidden", "missing"):
        await safe_answer(query, t("not_allowed", lang), alert=True)
        return
    if result.status == "already":
        await safe_answer(query, t("already_decided", lang))
        return
    note = t("flag_revoked_note" if data.action == "revoke" else "flag_cleared_note", lang, by=user.name)
    await safe_answer(query, plain_text(note))
    _wake(context)
    await _mark_decided(update, note)


# --- /digest on demand ---------------------------------------------------------------------------------------

def _digest_now(session, core, user: User):
    team = session.get(Team, user.team_id)
    d = digest_svc.build(session, core.config, user.team_id, core.clock.now(), user.language)
    text = digest_svc.digest_text(core.config, d, team.name, user.language)
    buttons = digest_svc.digest_buttons(d, user.language)
    png = None
    if not d.nothing_new:
        png = digest_svc.funnel_chart(core.config, d.funnel, tp("digest_chart_title", user.language, team=team.name), user.language)
    return text, buttons, png, digest_svc.funnel_caption(core.config, d, team.name, user.language)


@member_only("manager", "admin")
async def digest(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    text, buttons, png, caption = await core.db.run(_digest_now, core, user)
    await reply(update, text, _markup(buttons))
    if png is not None:
        await send_photo(update, context, png, caption)


# --- /meeting: evidence for cross-department meetings ----------------------------------------------------------

def _meeting(session, core, user: User, query: str, attendees: list[dict]):
    matches = cust_svc.find_by_name(session, user, query)
    if len(matches) != 1:
        return matches, None
    customer = matches[0]
    if customer.owner_id != user.id and user.role == "rep":
        return [], None
    try:
        cust_svc.lock(session, customer, user)  # not onto a customer handed over meanwhile
    except cust_svc.NotVisible:
        return [], None
    return matches, inc.record_meeting(session, core.config, user, customer, attendees, core.clock.now(), note=query)


@member_only()
async def meeting(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
    core = core_of(context)
    lang = user.language
    args = context.args or []
    attendees = inc.parse_attendees(" ".join(args[1:])) if len(args) > 1 else []
    if not args or not attendees:
        await reply(update, t("meeting_usage", lang))
        return
    matches, result = await core.db.run(_meeting, core, user, args[0][:50], attendees)
    if result is None:
        if not matches:
            await reply(update, t("no_match", lang, q=args[0][:50]))
        else:
            await reply(update, t("pick_more_specific", lang, q=args[0][:50], names="、".join(c.name for c in matches[:5])))
        return
    if result.cross_department:
        extra = t("meeting_points", lang, points=result.points) if result.points else t("meeting_cross", lang)
    else:
        extra = t("meeting_same_dept", lang, dept=core.config.anticheat.own_department)
    _wake(context)
    await reply(update, t("meeting_saved", lang, name=matches[0].name, n=len(attendees), extra=Raw(extra)))


HANDLERS = [
    CommandHandler("me", me),
    CommandHandler("board", board),
    CommandHandler("shop", shop),
    CommandHandler("digest", digest),
    CommandHandler("meeting", meeting),
    CallbackQueryHandler(on_profile_view, pattern=ProfileView.pattern()),
    CallbackQueryHandler(on_redeem, pattern=Redeem.pattern()),
    CallbackQueryHandler(on_approve, pattern=r"^ap:(points|redeem):"),
    CallbackQueryHandler(on_flag, pattern=FlagDecision.pattern()),
]

