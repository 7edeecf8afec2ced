"""The competitor matrix (竞品对比分析矩阵) and competitors named in pasted chats (issue 16).
Registered through handlers/coaching.py."""
from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from core.callbacks import MatrixPick, decode
from core.texts import Raw, esc, t, tp
from handlers import views
from handlers.common import core_of, member_only, reply, safe_answer, show
from services import competitors as comp_svc
from services import customers as cust_svc
from storage.models import User

MAX_NAME_QUERY = 40


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


def _business_competitors(session, core, user: User, customer_id: int, text: str, objections: list[str]):
    customer = cust_svc.get_for(session, user, customer_id)
    if customer is None:
        return []
    return comp_svc.record_mentions(session, core.config, customer, text, "business", core.clock.now(),
                                    user_id=user.id, objections=objections, once=True)


async def business_competitors(core, user: User, customer_id: int, transcript: str, analysis) -> None:
    """A Telegram Business chat is re-read on every message: each competitor it names is recorded once."""
    if core.config.competitors:
        await core.db.run(_business_competitors, core, user, customer_id, transcript,
                          [o.id for o in getattr(analysis, "objections", [])])
