"""What every entry path does to a raw value before any rule looks at it: text made safe, numbers read one way.

- ``safe_text``: NUL and other control characters (except tab/newline) and unpaired UTF-16
  surrogates (``"\\ud800"`` from a JSON escape) removed, zero-width marks dropped, Unicode NFKC
  (full-width digits and letters become ASCII).  PostgreSQL refuses NUL in text; a surrogate cannot
  be encoded as UTF-8 — both would otherwise surface as a 500 far from where they came in.
- ``parse_number``: the one number reader of the ingestion API, spreadsheets, connectors, the quality
  gate and the quick-update parser.  ``1e5``, ``1_000``, ``1,000``, ``5万``, ``12.5w``, ``5k``,
  ``１２万`` are understood; a negative, infinite, NaN or absurd value (past the field's limit, a
  401-digit amount) raises ``NumberRejected`` naming the field.  No number at all → None.

Pure functions, no database and no Telegram types.
"""
from __future__ import annotations

import math
import re
import unicodedata
from typing import Any


# C0 controls except \t \n \r, DEL, C1 controls; unpaired surrogates; zero-width marks.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\ud800-\udfff\u200b\u200c\u200d\u2060\ufeff]")
# The largest value a field may hold; anything above is a typo or an attack, not a deal.
LIMITS: dict[str, float] = {"amount": 1e11, "size": 1e7, "employees": 1e7, "paid_amount": 1e12}
DEFAULT_LIMIT = 1e12
_MAX_DIGITS = 40  # longer digit runs are refused before any float conversion
_UNITS = {"千万": 1e7, "百万": 1e6, "万": 1e4, "亿": 1e8, "千": 1e3, "w": 1e4, "k": 1e3, "m": 1e6}
_NUMBER = re.compile(
    r"(?P<sign>[-−﹣])?\s*"
    r"(?P<num>\d+(?:[_,]\d+)*(?:\.\d+)?(?:e[-+]?\d+)?)"
    r"\s*(?P<unit>千万|百万|万|亿|千|w|k|m(?![a-z]))?", re.IGNORECASE)


def safe_text(value: str) -> str:
    """``value`` without NUL/control characters or lone surrogates, in Unicode NFKC."""
    return unicodedata.normalize("NFKC", _UNSAFE.sub("", value))


def has_unsafe(value: str) -> bool:
    return _UNSAFE.search(value) is not None


class NumberRejected(ValueError):
    """A value that is a number but not an acceptable one (negative, infinite, absurd).

    ``field`` names it; ``reason_zh``/``reason_en`` are the texts ``num_*`` (core/texts_intake.py).
    """

    def __init__(self, field: str, key: str, **values: Any) -> None:
        from core.texts import tp
        self.field = field
        self.reason_zh = tp(key, "zh", field=field, **values)
        self.reason_en = tp(key, "en", field=field, **values)
        super().__init__(f"{field}: {self.reason_en}")


def _reject(field: str, key: str, **values: Any) -> NumberRejected:
    return NumberRejected(field, key, **values)


def limit_of(field: str) -> float:
    return LIMITS.get(field.rsplit(".", 1)[-1], DEFAULT_LIMIT)


def parse_number(raw: Any, field: str, *, limit: float | None = None, search: bool = True) -> float | None:
    """The number in ``raw`` (int, float or text) for ``field``; None when there is none.

    ``search``: text may hold words around the number (「约5万元」, 「50-199人」 → 50, the lower bound
    of a range); otherwise the whole text must be the number and its unit.
    """
    top = limit if limit is not None else limit_of(field)
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        if raw < 0:
            raise _reject(field, "num_negative")
        if raw > top:  # compared as int: a 401-digit int never becomes a float
            raise _reject(field, "num_absurd", max=_fmt(top))
        return float(raw)
    if isinstance(raw, float):
        return _checked(raw, field, top)
    text = safe_text(str(raw)).strip().lower().replace("，", ",")
    if not text:
        return None
    match = _NUMBER.search(text) if search else _NUMBER.fullmatch(_strip_currency(text))
    if match is None:
        return None
    digits = match.group("num")
    if sum(ch.isdigit() for ch in digits) > _MAX_DIGITS:
        raise _reject(field, "num_absurd", max=_fmt(top))
    if match.group("sign") and (not search or _is_sign(text, match.start("sign"))):
        raise _reject(field, "num_negative")
    if "," in digits:
        grouped = re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?(e[-+]?\d+)?", digits)
        # 1,000 → 1000; a lone "1,5" is a decimal comma (as before).
        digits = digits.replace(",", "") if grouped else digits.replace(",", ".", 1).replace(",", "")
    try:
        number = float(digits)  # understands 1_000 and 1e5
    except ValueError:
        return None
    number *= _UNITS.get((match.group("unit") or "").lower(), 1.0)
    return _checked(number, field, top)


def _is_sign(text: str, at: int) -> bool:
    """A minus before a number is a sign, not a range dash, when nothing number-like precedes it."""
    before = text[:at].rstrip()
    return not before or not (before[-1].isdigit() or before[-1] in "万千百亿wkm")


def _strip_currency(text: str) -> str:
    text = re.sub(r"^(¥|￥|rmb|cny|\$)\s*", "", text)
    return re.sub(r"\s*(元|块|块钱|人民币|rmb|cny|人|名|位)$", "", text).strip()


def _checked(number: float, field: str, top: float) -> float:
    if math.isnan(number) or math.isinf(number):
        raise _reject(field, "num_absurd", max=_fmt(top))
    if number < 0:
        raise _reject(field, "num_negative")
    if number > top:
        raise _reject(field, "num_absurd", max=_fmt(top))
    return number


def _fmt(value: float) -> str:
    return f"{value:,.0f}"


def safe_payload(value: Any, path: str = "") -> tuple[Any, list[NumberRejected]]:
    """A parsed JSON/form payload with every string made safe (keys too), and the numbers no field
    can hold (infinite, NaN, or over 40 digits) reported by their path (``data.amount``)."""
    problems: list[NumberRejected] = []

    def walk(node: Any, where: str) -> Any:
        if isinstance(node, str):
            return safe_text(node)
        if isinstance(node, bool) or node is None:
            return node
        if isinstance(node, float):
            if math.isnan(node) or math.isinf(node):
                problems.append(_reject(where or "body", "num_absurd", max=_fmt(DEFAULT_LIMIT)))
            return node
        if isinstance(node, int):
            if node.bit_length() > 133:  # > 40 decimal digits
                problems.append(_reject(where or "body", "num_absurd", max=_fmt(DEFAULT_LIMIT)))
            return node
        if isinstance(node, dict):
            out = {}
            for key, item in node.items():
                clean_key = safe_text(str(key))
                out.setdefault(clean_key, walk(item, f"{where}.{clean_key}" if where else clean_key))
            return out
        if isinstance(node, list):
            return [walk(item, where) for item in node]
        return node

    return walk(value, path), problems
