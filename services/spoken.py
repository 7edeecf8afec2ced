"""Numbers as people say them (and as speech services write them): 五万, 两千五, 一点五万, 十二月五号.

``normalize_spoken`` rewrites spoken amounts and calendar days in digits, so the one-line update
parser's amount and date rules read a voice note the way they read typed text
("已经报价五万，下周二回访" → "已经报价50000，下周二回访"). Hours ("下午三点") are read by
services.dates itself. Only numerals joined to a money magnitude (万/千/亿, or 百 before 元/块) or to
月/号/日 are rewritten: "星期五", "三一重工" and "三天后" stay as they are.
"""
from __future__ import annotations

import re

_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}
_NUM = "零〇一二两三四五六七八九十百千万亿"
_CANDIDATE = re.compile(rf"(?<![{_NUM}\d.])[{_NUM}]+(?:点[零一二三四五六七八九]+[万千亿]*)?")
_DAY = re.compile(r"(?<![零一二两三四五六七八九十\d])([一二三四五六七八九十]{1,3})(?=月|号|日(?!子))")


def cn_number(text: str) -> float | None:
    """一 → 1, 十二 → 12, 两千五 → 2500, 三万五 → 35000, 一百零五 → 105, 一点五万 → 15000."""
    if not text:
        return None
    if "点" in text:
        head, _, tail = text.partition("点")
        frac_digits = "".join(str(_DIGIT[c]) for c in tail if c in _DIGIT)
        digits_end = len(frac_digits)
        rest = tail[digits_end:]
        whole = cn_number(head) if head else 0
        if whole is None or not frac_digits:
            return None
        value = float(f"{int(whole)}.{frac_digits}")
        for ch in rest:
            if ch not in _BIG and ch not in _SMALL:
                return None
            value *= _BIG.get(ch) or _SMALL[ch]
        return value
    total = 0
    section = 0
    digit: int | None = None
    last_unit: int | None = None
    for ch in text:
        if ch in _DIGIT:
            if ch in "零〇":
                last_unit = None
                digit = None
                continue
            digit = _DIGIT[ch] if digit is None else digit * 10 + _DIGIT[ch]
        elif ch in _SMALL:
            section += (1 if digit is None else digit) * _SMALL[ch]
            digit, last_unit = None, _SMALL[ch]
        elif ch in _BIG:
            amount = section + (digit or 0)
            if ch == "亿":
                total = (total + amount) * _BIG[ch]
            else:
                total += (amount or 1) * _BIG[ch]
            section, digit, last_unit = 0, None, _BIG[ch]
        else:
            return None
    if digit is not None:
        # 两千五 = 2500, 三万五 = 35000: a last digit right after a unit is the next unit down.
        section += digit * (last_unit // 10 if last_unit and last_unit >= 10 else 1)
    return float(total + section)


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _trim(run: str) -> str:
    """Cut a run of numerals where a second number starts: 两千五一台 → 两千五 (then 一台)."""
    if "点" in run:
        return run
    for i in range(1, len(run)):
        if run[i] in _DIGIT and run[i - 1] in _DIGIT and run[i - 1] not in "零〇":
            return run[:i]
    return run


def normalize_spoken(text: str, amount_as: str | None = None) -> str:
    """Spoken amounts and calendar days in digits (amounts as ``amount_as`` when given, e.g. a mask);
    everything else unchanged."""
    out: list[str] = []
    pos = 0
    for match in _CANDIDATE.finditer(text):
        run = _trim(match.group(0))
        end = match.start() + len(run)
        money = any(u in run for u in "万千亿") or ("百" in run and text[end:end + 1] in ("元", "块"))
        value = cn_number(run) if money else None
        if value:
            out.append(text[pos:match.start()])
            out.append(amount_as if amount_as is not None else _fmt(value))
            pos = end
    out.append(text[pos:])
    text = "".join(out)

    def day(match: re.Match[str]) -> str:
        value = cn_number(match.group(1))
        return _fmt(value) if value and value <= 31 else match.group(0)

    return _DAY.sub(day, text)
