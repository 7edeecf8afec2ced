"""One date/time convention per language, used by every message, card, digest and export.

Chinese: ``12月1日 周二 10:00`` (the year only when it is not this year: ``2027年1月5日 周二``).
English: ``Tue 1 Dec 10:00`` (``Tue 5 Jan 2027``).
Relative where it helps, when the caller knows today: 今天/明天/后天/昨天, this week's 周二, next
week's 下周二 — ``today 10:00``, ``tomorrow``, ``Tue``, ``next Tue``. Headers stay absolute.
Spreadsheet cells keep real dates shown as ``2026年12月1日 10:00`` (EXCEL_FORMAT).
"""
from __future__ import annotations

from datetime import date, datetime

WEEKDAY_ZH = "一二三四五六日"
WEEKDAY_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
EXCEL_FORMAT = 'yyyy"年"m"月"d"日" hh:mm'
EXCEL_DATE_FORMAT = 'yyyy"年"m"月"d"日"'

_RELATIVE_ZH = {-1: "昨天", 0: "今天", 1: "明天", 2: "后天"}
_RELATIVE_EN = {-1: "yesterday", 0: "today", 1: "tomorrow"}


def day_text(day: date, lang: str, today: date | None = None, weekday: bool = True, relative: bool = True) -> str:
    """A calendar day; relative to ``today`` when given and near (``relative=False``: absolute, the year
    shown only when it is not ``today``'s)."""
    if today is not None and relative:
        delta = (day - today).days
        near = (_RELATIVE_EN if lang == "en" else _RELATIVE_ZH).get(delta)
        if near:
            return near
        week = (day.isocalendar()[:2], today.isocalendar()[:2])
        same_week = week[0] == week[1]
        next_week = (day - today).days > 0 and (day.toordinal() - day.weekday()) - (today.toordinal() - today.weekday()) == 7
        if delta > 0 and (same_week or next_week):
            if lang == "en":
                return ("next " if next_week else "") + WEEKDAY_EN[day.weekday()]
            return ("下" if next_week else "") + "周" + WEEKDAY_ZH[day.weekday()]
    this_year = today.year if today is not None else day.year
    if lang == "en":
        text = f"{day.day} {MONTH_EN[day.month - 1]}" + ("" if day.year == this_year else f" {day.year}")
        return f"{WEEKDAY_EN[day.weekday()]} {text}" if weekday else text
    text = ("" if day.year == this_year else f"{day.year}年") + f"{day.month}月{day.day}日"
    return f"{text} 周{WEEKDAY_ZH[day.weekday()]}" if weekday else text


def when_text(local: datetime, lang: str, today: date | None = None, with_time: bool = True,
              weekday: bool = True, relative: bool = True) -> str:
    """A local date and time: ``明天 10:00`` / ``12月1日 周二 10:00`` / ``tomorrow 10:00``."""
    text = day_text(local.date(), lang, today, weekday, relative)
    return f"{text} {local:%H:%M}" if with_time else text
