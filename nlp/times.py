"""Timestamps as they appear in pasted chats.

WeChat / WeCom copies: "2024/3/5 10:21", "2024-03-05 10:21:33", "3月5日 下午2:05", "昨天 10:21",
"星期二 10:21", or just "10:21". Telegram Desktop: "05.03.2024 10:21" (day first) or
"3/5/2024 10:21 AM" (US locale). A time without a date takes the date of the previous
timestamp in the paste, or of `ref` (the analysis time).
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

DATE_PART = (r"(?:\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?"
             r"|\d{1,2}[./]\d{1,2}[./]\d{2,4}"
             r"|\d{1,2}月\d{1,2}日"
             r"|\d{1,2}-\d{1,2}"
             r"|昨天|前天|今天|星期[一二三四五六日天]|周[一二三四五六日天])")
TIME_PART = (r"(?:(?:上午|下午|中午|晚上|凌晨|早上)\s*)?\d{1,2}:\d{2}(?::\d{2})?"
             r"(?:\s*[AaPp]\.?[Mm]\.?)?")
# A full stamp: optional date, then a time. Used inside the header regexes of nlp.parse.
STAMP = rf"(?:{DATE_PART}[\sT,]*)?{TIME_PART}"

_YMD = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})")
_DMY_OR_MDY = re.compile(r"(\d{1,2})([./])(\d{1,2})\2(\d{2,4})")
_MD_ZH = re.compile(r"(\d{1,2})月(\d{1,2})日")
_MD_DASH = re.compile(r"(?<![\d:])(\d{1,2})-(\d{1,2})(?![\d:])")
_TIME = re.compile(r"(上午|下午|中午|晚上|凌晨|早上)?\s*(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp])\.?[Mm]\.?)?")
_WEEKDAYS = "一二三四五六日"


def parse_stamp(stamp: str, ref: datetime) -> datetime | None:
    """Parse one timestamp; `ref` supplies the missing date (and "yesterday")."""
    clock = _TIME.search(stamp)
    if not clock:
        return None
    day = _parse_date(stamp[:clock.start()], ref) or ref.date()
    hour, minute = int(clock.group(2)), int(clock.group(3))
    second = int(clock.group(4) or 0)
    hour = _apply_half_day(hour, clock.group(1), clock.group(5))
    if hour > 23 or minute > 59 or second > 59:
        return None
    return datetime(day.year, day.month, day.day, hour, minute, second)


def _parse_date(text: str, ref: datetime) -> date | None:
    text = text.strip()
    if not text:
        return None
    if m := _YMD.search(text):
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _DMY_OR_MDY.search(text):
        first, second, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
        year = year + 2000 if year < 100 else year
        if m.group(2) == ".":          # Telegram (ru/eu locales): day.month.year
            return _safe_date(year, second, first)
        if first > 12:                 # 25/3/2024 can only be day first
            return _safe_date(year, second, first)
        return _safe_date(year, first, second)   # US: month/day/year
    if m := _MD_ZH.search(text):
        return _safe_date(ref.year, int(m.group(1)), int(m.group(2)))
    if m := _MD_DASH.search(text):
        return _safe_date(ref.year, int(m.group(1)), int(m.group(2)))
    return _relative_date(text, ref)


def _relative_date(text: str, ref: datetime) -> date | None:
    if "前天" in text:
        return (ref - timedelta(days=2)).date()
    if "昨天" in text:
        return (ref - timedelta(days=1)).date()
    if "今天" in text:
        return ref.date()
    for marker in ("星期", "周"):
        idx = text.find(marker)
        if idx >= 0 and idx + len(marker) < len(text):
            ch = text[idx + len(marker)]
            weekday = 6 if ch in "日天" else _WEEKDAYS.find(ch)
            if weekday >= 0:
                back = (ref.weekday() - weekday) % 7
                return (ref - timedelta(days=back)).date()
    return None


def _apply_half_day(hour: int, zh_part: str | None, ampm: str | None) -> int:
    if ampm:
        if ampm.lower() == "p" and hour < 12:
            return hour + 12
        if ampm.lower() == "a" and hour == 12:
            return 0
        return hour
    if zh_part in ("下午", "晚上") and hour < 12:
        return hour + 12
    if zh_part == "中午" and hour < 6:
        return hour + 12
    return hour


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
