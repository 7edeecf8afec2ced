"""Chinese and English relative dates in short rep messages: 明天, 下周二, 3天后, 12月5日, 周五下午3点."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "1": 0, "2": 1, "3": 2,
            "4": 3, "5": 4, "6": 5, "7": 6}
_EN_WEEKDAY = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_CN_NUM = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
DEFAULT_HOUR = 10  # a follow-up "next Tuesday" without a time means the morning


@dataclass(frozen=True)
class When:
    at: datetime  # local time
    span: tuple[int, int]


def _cn_int(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if len(text) == 2 and text[0] == "十":
        return 10 + _CN_NUM.get(text[1], 0)
    if len(text) == 2 and text[1] == "十":
        return _CN_NUM.get(text[0], 0) * 10
    if len(text) == 3 and text[1] == "十":
        return _CN_NUM.get(text[0], 0) * 10 + _CN_NUM.get(text[2], 0)
    return _CN_NUM.get(text)


_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})[日号]?"), "ymd"),
    (re.compile(r"(\d{1,2})月(\d{1,2})[日号]?"), "md"),
    (re.compile(r"(?<![\d.])(\d{1,2})/(\d{1,2})(?![\d/])"), "md"),
    (re.compile(r"(下下|下个?|这个?|本)?(?:周|星期|礼拜)([一二三四五六日天1-7])"), "weekday"),
    (re.compile(r"(大后天|后天|明天|明儿|今天|今晚|今儿)"), "relday"),
    (re.compile(r"([\d一二两三四五六七八九十]{1,3})\s*(天|周|个?星期|个?月)(?:以?后|之后)"), "after"),
    (re.compile(r"(下个?月)(?:初)?"), "nextmonth"),
    (re.compile(r"\b(tomorrow|today)\b", re.I), "en_rel"),
    (re.compile(r"\b(next\s+)?(mon|tue|wed|thu|fri|sat|sun)[a-z]*\b", re.I), "en_weekday"),
    (re.compile(r"\bin\s+(\d{1,3})\s+(day|week)s?\b", re.I), "en_after"),
]
_TIME = re.compile(r"(上午|早上|中午|下午|晚上)?\s*(\d{1,2}|[一二两三四五六七八九十]{1,3})\s*[点:：时](半|(\d{2})分?)?")


def parse_when(text: str, now_local: datetime) -> When | None:
    """The first date expression in ``text``, as a local datetime (default 10:00)."""
    best: tuple[int, datetime, tuple[int, int]] | None = None
    for pattern, kind in _PATTERNS:
        match = pattern.search(text)
        if not match:
            continue
        day = _resolve(kind, match, now_local)
        if day is None:
            continue
        if best is None or match.start() < best[0]:
            best = (match.start(), day, match.span())
    if best is None:
        return None
    _, day, span = best
    hour, minute, end = _time_after(text, span[1])
    if hour is None and day.date() == now_local.date():
        hour, minute = (now_local + timedelta(hours=2)).hour, 0
    when = datetime.combine(day.date(), time(hour if hour is not None else DEFAULT_HOUR, minute or 0))
    return When(at=when, span=(span[0], max(span[1], end)))


def _time_after(text: str, pos: int) -> tuple[int | None, int | None, int]:
    match = _TIME.match(text, pos) or _TIME.match(text, pos + 1)
    if not match:
        return None, None, pos
    hour = _cn_int(match.group(2))
    if hour is None or hour > 23:
        return None, None, pos
    if match.group(1) in ("下午", "晚上") and hour < 12:
        hour += 12
    minute = 30 if match.group(3) == "半" else int(match.group(4) or 0)
    return hour, min(minute, 59), match.end()


def _resolve(kind: str, m: re.Match[str], now: datetime) -> datetime | None:
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        if kind == "ymd":
            return today.replace(year=int(m.group(1)), month=int(m.group(2)), day=int(m.group(3)))
        if kind == "md":
            candidate = today.replace(month=int(m.group(1)), day=int(m.group(2)))
            return candidate if candidate >= today - timedelta(days=1) else candidate.replace(year=today.year + 1)
    except ValueError:
        return None
    if kind == "weekday":
        target = _WEEKDAY[m.group(2)]
        prefix = m.group(1) or ""
        monday = today - timedelta(days=today.weekday())
        if prefix.startswith("下下"):
            return monday + timedelta(days=14 + target)
        if prefix.startswith("下"):
            return monday + timedelta(days=7 + target)
        if prefix:  # 这周/本周
            return monday + timedelta(days=target)
        delta = (target - today.weekday()) % 7
        return today + timedelta(days=delta or 7)
    if kind == "relday":
        word = m.group(1)
        offset = {"今天": 0, "今晚": 0, "今儿": 0, "明天": 1, "明儿": 1, "后天": 2, "大后天": 3}[word]
        return today + timedelta(days=offset)
    if kind == "after":
        n = _cn_int(m.group(1))
        if n is None:
            return None
        unit = m.group(2)
        days = n if unit == "天" else n * 7 if "周" in unit or "星期" in unit else n * 30
        return today + timedelta(days=days)
    if kind == "nextmonth":
        first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        return first
    if kind == "en_rel":
        return today + timedelta(days=1 if m.group(1).lower() == "tomorrow" else 0)
    if kind == "en_weekday":
        target = _EN_WEEKDAY[m.group(2).lower()[:3]]
        delta = (target - today.weekday()) % 7
        if m.group(1):
            monday = today - timedelta(days=today.weekday())
            return monday + timedelta(days=7 + target)
        return today + timedelta(days=delta or 7)
    if kind == "en_after":
        n = int(m.group(1))
        return today + timedelta(days=n if m.group(2).lower() == "day" else 7 * n)
    return None
