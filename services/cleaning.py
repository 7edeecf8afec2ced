"""Cleaning: every value that enters, from any input, goes through this one module.

From a raw record to values that may be stored — for the web form, an archive, the ERP, a
spreadsheet, a voice note and the console alike (callers: the intake pipeline ingest/leads.py,
the import ingest/sheets.py, the connectors, services/customers.py for chat and /new):

- field mapping: built-in header synonyms (姓名/联系人, 电话/手机, 公司/单位, …), the custom
  fields' labels, ``[ingest.cleaning.header_synonyms]`` and each source's ``fields`` table;
- normalization: phone (digits, +86 and separators dropped, the first of several numbers),
  company name (width, spaces, brackets), industry synonyms, size and purchase-frequency bands;
- tagging: the lead source label (website form → 线上渠道-主动咨询, outbound list →
  外呼-被动响应, or a 来源 column mapped by ``source_labels``) and customer tags from
  ``tag_rules`` (行业:…, 规模:…, 采购:…) plus the source's fixed tags;
- the quality gates (``clean_field``: junk, phone, amounts, dates, choices), which
  ``services.customers.clean_record`` / ``create_customer`` apply to every field: no side door;
- a record's completeness and missing fields.

Everything here is pure (no database).  The problems, phone validity, quality gates and
completeness are in services/cleaning_checks.py (re-exported here).  Which company a name means
(its core, look-alike letters, fuzzy matches) is ``services/company_names.py``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable, Mapping

from core.config import BUILTIN_FIELDS, INGEST_EXTRA_FIELDS, Band, Config, SourceSettings
from services.inputs import NumberRejected, parse_number, safe_text
# The problems, phone validity, quality gates and completeness live in services/cleaning_checks.py;
# callers still find them here.
from services.cleaning_checks import (PHONE_DIGITS, FieldProblem, FieldRejected, clean_field,  # noqa: F401
                                      completeness, field_value, is_junk, is_valid_phone, missing_fields,
                                      normalize_phone, parse_amount)


# --- field mapping, normalization, tagging ----------------------------------------------------

# Built-in header synonyms: field → spellings seen in real forms and spreadsheets.
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("客户名称", "客户", "客户名", "客户姓名", "name", "customer", "customer name", "customer_name"),
    "contact": ("姓名", "联系人", "联系人姓名", "称呼", "联系人名称", "contact", "contact name", "contact_name",
                "full name", "full_name"),
    "phone": ("电话", "手机", "手机号", "手机号码", "联系电话", "电话号码", "联系方式", "移动电话", "mobile", "phone",
              "phone number", "tel", "telephone", "cellphone"),
    "company": ("公司", "单位", "公司名称", "企业", "企业名称", "单位名称", "工作单位", "company", "company name",
                "company_name", "organization", "organisation"),
    "industry": ("行业", "所属行业", "行业类别", "industry", "sector"),
    "size": ("规模", "人数", "员工数", "员工人数", "公司规模", "企业规模", "人员规模", "size", "employees", "company size"),
    "source": ("来源", "线索来源", "渠道", "来源渠道", "获客渠道", "source", "channel", "lead source"),
    "amount": ("金额", "预计金额", "合同金额", "订单金额", "amount", "deal amount"),
    "interest": ("产品兴趣", "意向产品", "感兴趣的产品", "咨询产品", "产品", "需求", "interest", "product",
                 "product interest"),
    "note": ("备注", "留言", "说明", "咨询内容", "note", "notes", "message", "comment", "remark"),
    "region": ("地区", "城市", "省份", "区域", "所在地", "所在城市", "region", "city", "province", "area"),
    "purchase_frequency": ("采购频次", "采购频率", "年采购次数", "采购周期", "purchase frequency", "purchase_frequency"),
    "owner": ("负责人", "销售", "归属销售", "跟进人", "跟进销售", "客户经理", "owner", "sales", "sales rep"),
    "external_id": ("客户编号", "编号", "外部编号", "external id", "external_id", "id"),
}
EXTRA_MAX_CHARS = {"interest": 200, "note": 1000, "region": 40, "purchase_frequency": 40, "owner": 60, "external_id": 80}
_HEADER_NOISE = re.compile(r"[\s*:：_\-/\\]+")
_HEADER_NOTE = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_PHONE_SPLIT = re.compile(r"[/,，;；、|]|\s{2,}|或")


@dataclass
class Cleaned:
    """A cleaned record: ``data`` goes to create_customer; ``extras`` feed tags, notes and assignment."""
    data: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    problems: list[FieldProblem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


# --- field mapping ------------------------------------------------------------------------------

def header_key(text: Any) -> str:
    """A header as compared: width-folded, lower-case, without spaces, marks and (notes)."""
    value = safe_text(str(text if text is not None else ""))
    value = _HEADER_NOTE.sub("", value)
    return _HEADER_NOISE.sub("", value).strip().lower()


_SYNONYM_CACHE: dict[int, tuple[Config, dict[str, str]]] = {}


def synonyms(config: Config) -> dict[str, str]:
    """header_key → field, for every known spelling (built-in, custom field labels, config); cached per config."""
    cached = _SYNONYM_CACHE.get(id(config))
    if cached is not None and cached[0] is config:
        return cached[1]
    table = _build_synonyms(config)
    if len(_SYNONYM_CACHE) > 64:
        _SYNONYM_CACHE.clear()
    _SYNONYM_CACHE[id(config)] = (config, table)
    return table


def _build_synonyms(config: Config) -> dict[str, str]:
    table: dict[str, str] = {}

    def add(field_name: str, words: Iterable[str]) -> None:
        for word in words:
            key = header_key(word)
            if key and key not in table:
                table[key] = field_name

    for name, custom in config.fields.items():
        add(name, (custom.label, custom.label_en, name))
    for name, words in config.ingest.cleaning.header_synonyms.items():
        add(name, words)
    for name, words in HEADER_SYNONYMS.items():
        add(name, words)
    for name in BUILTIN_FIELDS:
        add(name, (name,))
    return table


_EXPLICIT_CACHE: dict[int, tuple[SourceSettings, dict[str, str]]] = {}


def _explicit(source: SourceSettings | None) -> dict[str, str]:
    if source is None or not source.fields:
        return {}
    cached = _EXPLICIT_CACHE.get(id(source))
    if cached is None or cached[0] is not source:
        cached = (source, {header_key(k): v for k, v in source.fields.items()})
        _EXPLICIT_CACHE[id(source)] = cached
    return cached[1]


def map_fields(raw: Mapping[str, Any], config: Config, source: SourceSettings | None = None,
               table: dict[str, str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Rename incoming keys to fields. Returns (mapped, ignored keys). The first non-empty value wins."""
    table = table if table is not None else synonyms(config)
    explicit = _explicit(source)
    mapped: dict[str, Any] = {}
    ignored: list[str] = []
    for key, value in raw.items():
        hk = header_key(key)
        target = explicit.get(hk) or table.get(hk)
        if target is None:
            ignored.append(str(key)[:60])
            continue
        if target in mapped and not is_blank(mapped[target]):
            continue
        mapped[target] = value
    return mapped, ignored


# --- normalization -----------------------------------------------------------------------------

def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not safe_text(value).strip()


def norm_text(value: Any) -> str:
    """Width-folded, zero-width characters removed, whitespace collapsed; 13800000000.0 → '13800000000'."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = safe_text(str(value))  # services/inputs.py: the one text cleaner (NUL, controls, zero-width, NFKC)
    return re.sub(r"\s+", " ", text).strip()


def norm_phone(value: Any) -> str:
    """The first valid number in the value, as digits (+86, spaces, dashes dropped); else the text."""
    text = norm_text(value)
    if not text:
        return ""
    parts = [p for p in _PHONE_SPLIT.split(text) if p.strip()] or [text]
    for part in parts:
        digits = normalize_phone(part)
        if digits and is_valid_phone(digits):
            return digits
    return text


def norm_company(value: Any) -> str:
    """Width-folded (（）→ (), like every stored value), trailing punctuation and spaces inside Chinese dropped."""
    text = norm_text(value).strip(" .,;，。；、")
    if _CJK.search(text):
        text = re.sub(r"\s*\(\s*", "(", text)
        text = re.sub(r"\s*\)\s*", ")", text)
        text = re.sub(r"(?<=[\u4e00-\u9fff)])\s+(?=[\u4e00-\u9fff(])", "", text)
    return text


def _word_in(word: str, text: str) -> bool:
    word = word.lower()
    if word.isascii() and word.isalnum():
        return re.search(rf"(?<![a-z0-9]){re.escape(word)}", text) is not None
    return word in text


def norm_industry(value: Any, industries: Mapping[str, list[str]]) -> str:
    """The canonical industry for a synonym (机械加工 → 制造业); unknown values stay as written."""
    text = norm_text(value)
    low = text.lower()
    if not low:
        return ""
    for canonical in industries:
        if low == canonical.lower():
            return canonical
    for canonical, words in industries.items():
        if any(_word_in(w, low) for w in words if w):
            return canonical
    return text


def band_of(value: Any, bands: list[Band], field: str = "size") -> str:
    """The band label for a value: its words first, else its first number against each band's min.

    '500人以上' → 大型; '50-199人' → 中型 (a range counts from its lower bound); '每季度' → 中频.
    A negative, infinite or absurd number raises NumberRejected naming ``field``.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        parse_number(value, field)  # 1e400 → inf is refused, never a tag 规模:inf
    text = norm_text(value)
    if not text or not bands:
        return text
    low = text.lower()
    for band in bands:
        if band.label.lower() == low or any(w and w.lower() in low for w in band.words):
            return band.label
    number = parse_number(text, field)
    if number is None:
        return text
    for band in bands:
        if band.min is not None and number >= band.min:
            return band.label
    return text


def source_label(value: Any, labels: Mapping[str, list[str]]) -> str | None:
    """The configured label a free-text source means (官网 → 线上渠道-主动咨询), or None."""
    text = norm_text(value)
    low = text.lower()
    if not low:
        return None
    for label, words in labels.items():
        if low == label.lower() or any(w and _word_in(w, low) for w in words):
            return label
    return None


# --- the rules engine -------------------------------------------------------------------------

def clean(raw: Mapping[str, Any], config: Config, source: SourceSettings | None = None, *,
          default_label: str | None = None, table: dict[str, str] | None = None,
          required: Iterable[str] = ("name",)) -> Cleaned:
    """Map, normalize and tag one incoming record.

    ``source`` is the configured source (its label, mapping, fixed tags, name_from); a
    spreadsheet passes None and ``default_label`` instead.  ``required`` fields that end up
    empty are reported as problems (the quality gates in create_customer check the rest).
    """
    rules = config.ingest.cleaning
    mapped, ignored = map_fields(raw, config, source, table)
    out = Cleaned(ignored=ignored)
    for key, value in mapped.items():
        if is_blank(value):
            continue
        if isinstance(value, (list, dict, tuple, set)):
            out.problems.append(FieldProblem(key, "应为文本或数字", "expected text or a number"))
            continue
        if key in INGEST_EXTRA_FIELDS:
            text = norm_text(value)[:EXTRA_MAX_CHARS.get(key, 200)]
            if text:
                out.extras[key] = text
            continue
        try:
            cleaned = _normalized(key, value, config)
        except NumberRejected as exc:
            out.problems.append(FieldProblem(key, exc.reason_zh, exc.reason_en))
            continue
        if cleaned == "" or cleaned is None:
            continue
        out.data[key] = cleaned
    if "purchase_frequency" in out.extras:
        try:
            out.extras["purchase_frequency"] = band_of(out.extras["purchase_frequency"], rules.frequency_bands,
                                                       "purchase_frequency")
        except NumberRejected as exc:
            out.problems.append(FieldProblem("purchase_frequency", exc.reason_zh, exc.reason_en))
            del out.extras["purchase_frequency"]
    # The customer name: sent, or the first of name_from that has a value.
    if "name" not in out.data:
        for candidate in (source.name_from if source else ("contact", "company")):
            value = out.data.get(candidate) or out.extras.get(candidate)
            if value:
                out.data["name"] = value
                break
    # The lead source label.
    sent = out.data.pop("source", None)
    label = source_label(sent, rules.source_labels) if sent else None
    if label is None:
        label = source.label if source else (norm_text(sent) if sent else default_label)
    if label:
        out.data["source"] = label
    out.tags = derive_tags(out, config, source)
    if out.tags:
        out.data["tags"] = list(out.tags)
    for name in required:
        if name == "phone_or_company":
            if not out.data.get("phone") and not out.data.get("company"):
                out.problems.append(FieldProblem("phone", "电话和公司至少填写一项", "a phone number or a company is required"))
        elif not out.data.get(name) and not any(p.field == name for p in out.problems):
            out.problems.append(_required_problem(name, config))
    return out


def _normalized(key: str, value: Any, config: Config) -> Any:
    rules = config.ingest.cleaning
    if key == "phone":
        return norm_phone(value)
    if key == "company":
        return norm_company(value)
    if key == "industry":
        return norm_industry(value, rules.industries)
    if key == "size":
        return band_of(value, rules.size_bands)
    if key == "amount" or (key in config.fields and config.fields[key].type == "number"):
        # Read (and refused when negative/absurd) by the quality gate's parse_number.
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else norm_text(value)
    if key == "next_followup_at":
        return value if isinstance(value, datetime) else norm_text(value)
    return norm_text(value)


def _required_problem(name: str, config: Config) -> FieldProblem:
    zh = config.field_label(name, "zh")
    en = config.field_label(name, "en")
    return FieldProblem(name, f"{zh}必填", f"{en} is required")


def derive_tags(record: Cleaned, config: Config, source: SourceSettings | None) -> list[str]:
    values: dict[str, str] = {k: norm_text(v) for k, v in record.data.items() if k != "tags"}
    values.update(record.extras)
    tags: list[str] = list(source.tags) if source else []
    for rule in config.ingest.cleaning.tag_rules:
        value = values.get(rule.field)
        if value and re.search(rule.pattern, value):
            tags.append(rule.tag.replace("{value}", value)[:30])
    seen: set[str] = set()
    unique = []
    for tag in tags:
        if tag and tag not in seen:
            seen.add(tag)
            unique.append(tag)
    return unique[:20]
