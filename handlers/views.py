"""Rendering: customer cards, lists and keyboards, from service-layer views to HTML + buttons.

Every user-supplied string passes through ``core.texts.t``/``esc`` (HTML-escaped).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.callbacks import CardAction, Claim, OpenCard, Page, UndoChange
from core.clock import to_local
from core.config import Config
from core.texts import Raw, esc, format_local_date, t, tp
from core.texts_close import close_band_key
from core.textfit import shorten, shorten_width
from core.when import day_text
from services.brief import BriefItem, CardView, render_script
from storage.models import Customer

PAGE_SIZE = 8
TEXT_NAME = 40  # names inside a message wrap; only buttons need short labels


def short(text: str | None, limit: int = 24) -> str:
    """At most ``limit`` characters, cut between words (core/textfit.py)."""
    return shorten(text, limit)


def stage_name(config: Config, stage_id: str, lang: str) -> str:
    stage = config.stage(stage_id)
    if stage is None:
        return tp(f"exit_{stage_id}", lang) if stage_id in ("won", "lost") else stage_id
    return (stage.name_en or stage.name) if lang == "en" else stage.name


def fmt_local(when: datetime | None, config: Config, lang: str, with_time: bool = True,
              now: datetime | None = None, relative: bool = True) -> str:
    """The one date convention (core/when.py); relative (明天 10:00, 下周二) when ``now`` is given."""
    if when is None:
        return "—"
    today = to_local(now, config.tz).date() if now is not None else None
    return format_local_date(to_local(when, config.tz), lang, with_time, today, relative)


def reason_label(reason: str, lang: str) -> str:
    return t(f"reason_{reason}", lang)


def brief_text(items: list[BriefItem], config: Config, lang: str, now: datetime, folded: int = 0) -> str:
    if not items:
        return t("today_empty", lang)
    lines = [t("today_header", lang, date=fmt_local(now, config, lang, with_time=False, now=now, relative=False),
               n=len(items))]
    for index, item in enumerate(items, 1):
        c = item.customer
        reasons = "·".join(reason_label(r, lang) for r in item.reasons[:2])
        step = item.next_item.text_en if lang == "en" and item.next_item and item.next_item.text_en else (
            item.next_item.text if item.next_item else "")
        line = f"{index}. <b>{esc(short(c.name, TEXT_NAME))}</b> [{esc(stage_name(config, c.stage, lang))}] {esc(reasons)}"
        if step:
            line += f"\n   → {esc(step)}"
        lines.append(line)
    if folded:
        lines.append(t("today_folded", lang, n=folded))
    return "\n".join(lines)


def brief_keyboard(items: list[BriefItem]) -> InlineKeyboardMarkup | None:
    if not items:
        return None
    buttons = [InlineKeyboardButton(f"{i}. {shorten_width(item.customer.name, 24)}", callback_data=OpenCard(item.customer.id).encode())
               for i, item in enumerate(items, 1)]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    return InlineKeyboardMarkup(rows)


def item_text(item, lang: str) -> str:
    return (item.text_en or item.text) if lang == "en" else item.text


def card_text(view: CardView, config: Config, lang: str, rep_name: str = "", team_name: str = "",
              now: datetime | None = None) -> str:
    c = view.customer
    stage = view.stage
    checklist = "\n".join(f"☐ {esc(item_text(i, lang))}" + (f" (+{i.points})" if i.points else "") for i in view.items) \
        or esc(t("card_no_items", lang))
    script = esc(render_script(stage.scripts[0], c, rep_name, team_name)) if stage and stage.scripts \
        else esc(t("card_no_script", lang))
    materials = "、".join(stage.materials) if stage and stage.materials else "—"
    intent = Raw(t("card_intent", lang, level=_level(c.intent_level, lang), score=c.intent_score)) if c.intent_score is not None else Raw("")
    prob = Raw(close_text(view, lang))
    followup = Raw(t("card_followup", lang, when=fmt_local(c.next_followup_at, config, lang, now=now))) if c.next_followup_at else Raw("")
    # The phone as plain digits (no code entity, no button): Telegram clients make it tappable.
    phone = Raw(t("card_phone", lang, phone=phone_digits(c.phone))) if phone_digits(c.phone) else Raw("")
    return t("card", lang,
             name=c.name, company=Raw((f" · {esc(c.company)}" if c.company else "") + phone),
             stage=stage_name(config, c.stage, lang), days=view.days_in_stage,
             expected=stage.expected_days if stage else "—", late=Raw(t("card_late", lang) if view.late else ""),
             completeness=c.completeness, intent=intent,
             eta=day_text(view.eta.date(), lang, to_local(now, config.tz).date() if now else None, relative=False)
             if view.eta else "—", prob=prob, followup=followup,
             checklist=Raw(checklist), script=Raw(script), materials=materials)


def close_text(view: CardView, lang: str) -> str:
    """The 14-day close estimate with its basis (stage rule of thumb vs the team's own deals) and
    the best contact time; empty when there is none."""
    out = ""
    close = view.close
    if close is not None:
        if close.basis == "team":
            out = t("close_team", lang, p=round(close.probability * 100), won=close.won, lost=close.lost)
        else:
            key, values = close_band_key(close.probability)
            band = t(key, lang, **values)
            out = t("close_prior_some", lang, band=band, won=close.won, lost=close.lost, need=close.need) \
                if close.won or close.lost else t("close_prior", lang, band=band)
    if view.best_time is not None:
        out += t("close_best_time", lang, at=view.best_time.text(), n=view.best_time.replies, days=view.best_time.days)
    return out


def phone_digits(phone: str | None) -> str:
    """``+86 138-0013-8000`` → ``+8613800138000``: one run of digits a client recognises as a number."""
    if not phone:
        return ""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return ("+" + digits if phone.strip().startswith("+") else digits) if len(digits) >= 5 else ""


def _level(level: str | None, lang: str) -> str:
    return tp(f"level_{level}", lang) if level in ("high", "medium", "low") else "—"


PRIMARY_COLUMNS = 16  # a checklist label among three buttons in a row: 8 Chinese characters


def card_keyboard(view: CardView, lang: str, undo_id: int | None = None, more: bool = False) -> InlineKeyboardMarkup:
    """Two rows: ✅ the next item · 📝 log · ⏭ next stage, then (↩️ undo) · ⋯ more · « back.

    "More" opens the rest in place: the other checklist items, 📄 script, ⏰ later and ❌ lost (which
    asks for a confirmation before anything happens)."""
    cid = view.customer.id
    if more:
        rows = [[InlineKeyboardButton(tp("btn_done", lang, item=short(item_text(item, lang), 28)),
                                      callback_data=CardAction(cid, "done", item.id).encode())] for item in view.items[1:5]]
        rows.append([InlineKeyboardButton(tp("btn_script", lang), callback_data=CardAction(cid, "script").encode()),
                     InlineKeyboardButton(tp("btn_later", lang), callback_data=CardAction(cid, "later").encode()),
                     InlineKeyboardButton(tp("btn_lost", lang), callback_data=CardAction(cid, "lost").encode())])
        rows.append([InlineKeyboardButton(tp("btn_back", lang), callback_data=OpenCard(cid).encode())])
        return InlineKeyboardMarkup(rows)
    first = []
    if view.items:
        item = view.items[0]
        first.append(InlineKeyboardButton(tp("btn_done", lang, item=shorten_width(item_text(item, lang), PRIMARY_COLUMNS)),
                                          callback_data=CardAction(cid, "done", item.id).encode()))
    first += [InlineKeyboardButton(tp("btn_log", lang), callback_data=CardAction(cid, "log").encode()),
              InlineKeyboardButton(tp("btn_next", lang), callback_data=CardAction(cid, "next").encode())]
    second = [InlineKeyboardButton(tp("btn_undo", lang), callback_data=UndoChange(undo_id).encode())] if undo_id else []
    second += [InlineKeyboardButton(tp("btn_more", lang), callback_data=CardAction(cid, "more").encode()),
               InlineKeyboardButton(tp("btn_back", lang), callback_data=Page("today", 0).encode())]
    return InlineKeyboardMarkup([first, second])


def later_keyboard(cid: int, lang: str) -> InlineKeyboardMarkup:
    options = [(code, tp(f"later_{code}", lang)) for code in ("2h", "tm9", "tm14", "3d")]
    rows = [[InlineKeyboardButton(label, callback_data=CardAction(cid, "at", code).encode()) for code, label in options[:2]],
            [InlineKeyboardButton(label, callback_data=CardAction(cid, "at", code).encode()) for code, label in options[2:]],
            [InlineKeyboardButton(tp("btn_back", lang), callback_data=OpenCard(cid).encode())]]
    return InlineKeyboardMarkup(rows)


def later_time(code: str, now_local: datetime) -> datetime | None:
    tomorrow = (now_local + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    return {"2h": now_local + timedelta(hours=2), "tm9": tomorrow.replace(hour=9), "tm14": tomorrow.replace(hour=14),
            "3d": (now_local + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)}.get(code)


def fill_keyboard(cid: int, missing: list[str], config: Config, lang: str) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(tp("btn_fill", lang, field=config.field_label(f, lang)),
                                  callback_data=CardAction(cid, "fill", f).encode())] for f in missing[:6]]
    rows.append([InlineKeyboardButton(tp("btn_back", lang), callback_data=OpenCard(cid).encode())])
    return InlineKeyboardMarkup(rows)


def customer_list(customers: list[Customer], total: int, page: int, view: str, config: Config, lang: str,
                  header_key: str) -> tuple[str, InlineKeyboardMarkup | None]:
    lines = [t(header_key, lang, n=total)]
    for c in customers:
        company = f" · {esc(short(c.company, TEXT_NAME))}" if c.company else ""
        lines.append(f"• <b>{esc(short(c.name, TEXT_NAME))}</b>{company} [{esc(stage_name(config, c.stage, lang))}] {c.completeness}%")
    buttons = [[InlineKeyboardButton(short(c.name, 28), callback_data=OpenCard(c.id).encode())] for c in customers]
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(tp("btn_prev_page", lang), callback_data=Page(view, page - 1).encode()))
    if (page + 1) * PAGE_SIZE < total:
        nav.append(InlineKeyboardButton(tp("btn_next_page", lang), callback_data=Page(view, page + 1).encode()))
    if nav:
        buttons.append(nav)
    return "\n".join(lines), InlineKeyboardMarkup(buttons) if buttons else None


def claim_keyboard(customers: list[Customer], lang: str) -> InlineKeyboardMarkup | None:
    if not customers:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(tp("btn_claim", lang, name=short(c.name, 20)),
                                                       callback_data=Claim(c.id).encode())] for c in customers])
