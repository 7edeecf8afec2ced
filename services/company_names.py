"""Which company a name means: the group-level core of a company name and how two cores match.

The duplicate guard (``services.customers.check_duplicates``), the intake's batch pre-check, the
names index and the lookup compare companies through ``company_core`` (legal suffixes, branches,
regions and punctuation stripped, look-alike letters folded) and ``company_match``.
Cleaning (``services/cleaning.py``) keeps the name as written; this module says which party it is.
"""
from __future__ import annotations

import functools
import re
import unicodedata

# Legal suffixes and branch markers stripped to recognise one company / one group.
_COMPANY_SUFFIXES = (
    "股份有限公司", "有限责任公司", "有限公司", "集团有限公司", "集团股份有限公司", "集团公司", "集团",
    "控股", "股份公司", "公司", "co.,ltd.", "co., ltd.", "co.,ltd", "co. ltd", "co ltd", "ltd.", "ltd",
    "inc.", "inc", "corp.", "corp", "llc", "gmbh", "limited", "group", "company",
)
_BRANCH = re.compile(r"(分公司|子公司|分部|办事处|分厂|事业部|分店|分院|\sbranch(\soffice)?|\srepresentative office|\ssubsidiary)$")
# Latin legal forms, as whole words at the end (so "Costco" keeps its "co"), and the usual short forms.
_LATIN_LEGAL = re.compile(r"\s(co\.?,?\s*ltd\.?|ltd\.?|limited|inc\.?|incorporated|corp\.?|corporation|llc|gmbh|co\.?|company)$")
_LATIN_SHORT = {"international": "intl", "technologies": "tech", "technology": "tech", "manufacturing": "mfg",
                "industries": "industrial", "and": "&"}
_REGIONS = "北京|上海|天津|重庆|深圳|广州|杭州|南京|苏州|成都|武汉|西安|宁波|无锡|青岛|厦门|长沙|郑州|合肥|济南|东莞|佛山|浙江|江苏|广东|山东|福建|四川|湖北|湖南|河南|河北|安徽"
_REGION_SUFFIX = re.compile(rf"({_REGIONS})(市|省|区)?$")
_PUNCT = re.compile(r"[\s·•.,，。、()（）\[\]【】\-_/\\&+'\"“”]+")

_FOLD: dict[str, str] | None = None


def _fold_table() -> dict[str, str]:
    """Look-alike letters → the ASCII letter they imitate (Cyrillic а/с/е/о/р, Greek ο/ν, …), from the
    Unicode confusables data (TR39) shipped by ``confusable-homoglyphs``.  Only letters outside ASCII
    and outside CJK are folded: digits stay digits (they tell 一厂 from 二厂, A01 from A02)."""
    global _FOLD
    if _FOLD is None:
        import json
        from pathlib import Path

        import confusable_homoglyphs
        data = json.loads((Path(confusable_homoglyphs.__file__).parent / "confusables.json").read_text(encoding="utf-8"))
        table: dict[str, str] = {}
        for char, glyphs in data.items():
            if len(char) != 1 or char.isascii() or not char.isalpha() or _CJK_CHAR.match(char):
                continue
            letters = [g["c"] for g in glyphs if len(g["c"]) == 1 and g["c"].isascii() and g["c"].isalpha()]
            if letters:
                table[char] = letters[0].lower()
        _FOLD = table
    return _FOLD


_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


def skeleton(text: str) -> str:
    """``text`` lower-cased with look-alike letters folded to the ASCII letter they imitate."""
    table = _fold_table()
    return "".join(table.get(ch, ch) for ch in text).lower()  # before lower(): М is listed, м is not


# Codes that tell sister companies apart: ASCII numbers and letter-number codes (A01, 3M), Chinese
# numerals before a unit (一厂, 二分店, 三期, 十号), and 甲乙丙丁 before one.
_CODES = re.compile(r"[a-z]*\d+[a-z\d]*|[一二三四五六七八九十〇零两百千第]+(?=[厂号店期部区队组所院站场车间栋楼分])"
                    r"|[甲乙丙丁](?=[厂号店期部区队组所院站场车间栋楼分])")


def company_codes(core: str) -> list[str]:
    return sorted(m.group(0).lstrip("第") or m.group(0) for m in _CODES.finditer(core))


def codes_conflict(a: str, b: str) -> bool:
    """Both names carry a code the other lacks (XX机械一厂 vs XX机械二厂, 门店A01 vs 门店A02): two
    companies, however similar the rest.  A code on one side only (XX机械 vs XX机械一厂) is a branch."""
    ca, cb = company_codes(a), company_codes(b)
    if not ca or not cb:
        return False
    only_a = [c for c in ca if c not in cb]
    only_b = [c for c in cb if c not in ca]
    return bool(only_a) and bool(only_b)


def company_match(core: str | None, other: str | None, threshold: float) -> tuple[str, float] | None:
    """How two company cores are one party: ("same" | "group" | "fuzzy", score), or None.

    Equal cores are the same company (or group); otherwise a similarity at the threshold, unless
    the names carry conflicting codes."""
    if not core or not other:
        return None
    if core == other:
        return "same", 0.99
    if len(core) < 3 or codes_conflict(core, other):
        return None
    if " " in core or " " in other:
        return _latin_match(core, other, threshold)
    score = similarity(core, other)
    if score < threshold:
        return None
    return ("group" if core in other or other in core else "fuzzy"), score


def _latin_match(core: str, other: str, threshold: float) -> tuple[str, float] | None:
    """Latin names, word by word: the shorter's words as a run inside the longer (Acme Trading ⊂
    Acme Trading Intl) is the group; else the same words but one, and that one a near spelling
    (Acme Tradng), is a fuzzy match.  Swapped or different brand words (Orion Evergreen / Pioneer
    Evergreen) are other companies, however many letters they share."""
    a, b = core.split(), other.split()
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    n = len(short)
    if any(long_[i:i + n] == short for i in range(len(long_) - n + 1)):
        return "group", 0.9 + 0.1 * len(" ".join(short)) / len(" ".join(long_))
    if len(a) != len(b):
        return None
    differing = [(x, y) for x, y in zip(a, b) if x != y]
    if len(differing) != 1 or similarity(*differing[0]) < 0.5:
        return None
    score = similarity(core.replace(" ", ""), other.replace(" ", ""))
    return ("fuzzy", score) if score >= threshold else None


_CHINA_NOTE = re.compile(r"[(（]中国[)）]")


def _simplified(text: str) -> str:
    """Traditional characters as simplified (華東精密機械 → 华东精密机械), for names only."""
    if text.isascii():
        return text
    import zhconv
    return zhconv.convert(text, "zh-cn")


def company_core(raw: str | None) -> str | None:
    """See ``_company_core``; cached (a pure function of the text, asked several times a lead)."""
    return _company_core(raw) if raw else None


@functools.lru_cache(maxsize=8192)
def _company_core(raw: str) -> str | None:
    """The group-level name: legal suffixes, branches, regions and punctuation stripped, look-alike
    letters folded (``skeleton``).

    华东精密机械集团有限公司 / 华东精密机械(苏州)分公司 / 华东精密机械子公司 → 华东精密机械;
    АСМЕ Trading Co., Ltd. (Cyrillic А, С, М, Е) → "acme trading", as ACME Trading Ltd
    """
    if not raw:
        return None
    name = skeleton(_simplified(unicodedata.normalize("NFKC", raw).strip()))
    name = _CHINA_NOTE.sub("", name)
    for _ in range(3):
        before = name
        name = _BRANCH.sub("", name).strip()
        # a trailing place note (苏州) goes; one with a number (3号园区) is part of the name
        name = re.sub(r"[\(（][^()（）0-9]{1,8}[\)）]$", "", name).strip()
        if len(name) > 4:
            name = _REGION_SUFFIX.sub("", name).strip()
        for suffix in _COMPANY_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix) + 1:
                name = name[: -len(suffix)].strip()
        name = _LATIN_LEGAL.sub("", name.rstrip(" .,;，。、")).rstrip(" .,;，。、")
        if name == before:
            break
    if name.isascii():  # Latin names keep their words: they are compared word by word (company_match)
        words = (_PUNCT.sub("", _LATIN_SHORT.get(word, word)) for word in _PUNCT.sub(" ", name).split())
        return " ".join(w for w in words if w) or None
    # A leading city (苏州华东精密) is left in place: fuzzy containment in ``similarity`` matches it,
    # while stripping it would merge 上海电气 with 电气.
    name = _PUNCT.sub("", name)
    return name or None


def similarity(a: str, b: str) -> float:
    """Similarity of two normalized names (character bigram Dice; robust for short CJK names)."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    if len(a) >= 3 and len(b) >= 3 and (a in b or b in a):
        return 0.9 + 0.1 * min(len(a), len(b)) / max(len(a), len(b))
    grams_a = {a[i:i + 2] for i in range(len(a) - 1)} or {a}
    grams_b = {b[i:i + 2] for i in range(len(b) - 1)} or {b}
    return 2 * len(grams_a & grams_b) / (len(grams_a) + len(grams_b))
