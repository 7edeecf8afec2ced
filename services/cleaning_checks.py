"""Cleaning's checks: field problems, phone validity, the quality gates and a record's completeness.

The part of services/cleaning.py that judges a value rather than maps or normalizes it:
``FieldProblem`` / ``FieldRejected`` (a reason in both languages, worded by core.texts ``q_*``),
``normalize_phone`` / ``is_valid_phone``, the quality gates ``clean_field`` applies to every field
(junk values, phone, amounts, dates, choices) with ``is_junk`` and ``parse_amount``, and which of a
stage's required fields a record still lacks (``completeness``, ``missing_fields``, ``field_value``).
Pure (no database).  Split out of services/cleaning.py without a change of behaviour; every name
here is still importable as ``services.cleaning.X``.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.config import Config
from services.inputs import NumberRejected, parse_number, safe_text

PHONE_DIGITS = re.compile(r"\d")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")


@dataclass(frozen=True)
class FieldProblem:
    field: str
    reason_zh: str
    reason_en: str

    def reason(self, lang: str) -> str:
        return self.reason_en if lang == "en" else self.reason_zh

    @classmethod
    def of(cls, field: str, key: str, **values: object) -> "FieldProblem":
        """A problem worded by core.texts (key ``q_*``), in both languages."""
        from core.texts import tp
        return cls(field, tp(key, "zh", **values), tp(key, "en", **values))


class FieldRejected(ValueError):
    def __init__(self, problem: FieldProblem) -> None:
        super().__init__(problem.reason_en)
        self.problem = problem


def normalize_phone(raw: str | None) -> str | None:
    """Digits only, without +86/0086 country prefix; None when it cannot be a phone number."""
    if not raw:
        return None
    digits = "".join(PHONE_DIGITS.findall(unicodedata.normalize("NFKC", raw)))
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) in (11, 10, 12):
            candidate = digits[len(prefix):]
            if _MOBILE.match(candidate) or len(candidate) >= 10:
                digits = candidate
                break
    return digits or None


def is_valid_phone(norm: str | None) -> bool:
    if not norm:
        return False
    if _MOBILE.match(norm) or _LANDLINE.match(norm):
        return True
    # Foreign or extension numbers: accept 7-15 digits that are not one repeated digit.
    return 7 <= len(norm) <= 15 and len(set(norm)) > 2


# --- the quality gates ------------------------------------------------------------------------

_JUNK: dict[tuple[str, ...], frozenset[str]] = {}


def _junk_values(config: Config) -> frozenset[str]:
    """The playbook's junk values, lower-cased once per list (not once per field checked)."""
    key = tuple(config.quality.junk_values)
    found = _JUNK.get(key)
    if found is None:
        if len(_JUNK) > 64:
            _JUNK.clear()
        found = _JUNK[key] = frozenset(j.lower() for j in key)
    return found


def is_junk(value: str, config: Config) -> bool:
    text = safe_text(value).strip().lower()
    if text in _junk_values(config):
        return True
    compact = re.sub(r"\s+", "", text)
    if not compact:
        return True
    # One character repeated (111, aaaa, ……) or punctuation only.
    if len(compact) >= 2 and len(set(compact)) == 1:
        return True
    if all(not ch.isalnum() for ch in compact):
        return True
    return False


def _problem(field: str, key: str, **values: object) -> FieldRejected:
    return FieldRejected(FieldProblem.of(field, key, **values))


def clean_field(name: str, raw: Any, config: Config, now: datetime) -> Any:
    """Validate and normalize one field value; raise FieldRejected with a reason for junk."""
    if isinstance(raw, datetime):
        value: Any = raw
    elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
        value = raw
    else:
        value = safe_text(str(raw if raw is not None else "")).strip()
        if len(value) > 200:
            raise _problem(name, "q_too_long", max=200)
        if is_junk(value, config):
            raise _problem(name, "q_junk", value=value[:20])
    if name == "phone":
        norm = normalize_phone(value)
        if not is_valid_phone(norm):
            raise _problem(name, "q_phone")
        return value
    if name in ("amount",) or config.fields.get(name, None) is not None and config.fields[name].type == "number":
        try:
            number = parse_number(value, name)
        except NumberRejected as exc:
            raise FieldRejected(FieldProblem(name, exc.reason_zh, exc.reason_en)) from None
        if number is None or number <= 0:
            raise _problem(name, "q_amount")
        return number
    if name == "next_followup_at":
        if not isinstance(value, datetime):
            raise _problem(name, "q_date")
        if value < now - timedelta(days=1):
            raise _problem(name, "q_date_past")
        if value > now + timedelta(days=config.quality.max_followup_days_ahead):
            raise _problem(name, "q_date_far", days=config.quality.max_followup_days_ahead)
        return value
    custom = config.fields.get(name)
    if custom and custom.type == "choice" and custom.choices and value not in custom.choices:
        raise _problem(name, "q_choice", choices="/".join(custom.choices))
    if name == "name" and len(value) < 2 and not re.search(r"[\u4e00-\u9fff]", value):
        raise _problem(name, "q_name_short")
    return value


def parse_amount(text: str) -> float | None:
    """'5万' → 50000, '12.5w' → 125000, '50,000元' → 50000, '3k' → 3000, '1e5' → 100000;
    None for no number or an unacceptable one (negative, absurd) — services.inputs.parse_number."""
    try:
        return parse_number(text, "amount")
    except NumberRejected:
        return None


def completeness(customer: Any, config: Config) -> int:
    """Share (0–100) of the playbook's fields that hold a value: every stage's required fields."""
    wanted: list[str] = []
    for stage in config.stages:
        for name in stage.required_fields:
            if name not in wanted:
                wanted.append(name)
    if not wanted:
        return 100
    filled = sum(1 for name in wanted if field_value(customer, name) not in (None, "", []))
    return round(100 * filled / len(wanted))


def field_value(customer: Any, name: str) -> Any:
    if hasattr(customer, name) and name not in ("custom",):
        return getattr(customer, name)
    return (customer.custom or {}).get(name)


def missing_fields(customer: Any, stage_id: str, config: Config) -> list[str]:
    stage = config.stage(stage_id)
    if stage is None:
        return []
    return [name for name in stage.required_fields if field_value(customer, name) in (None, "", [])]
