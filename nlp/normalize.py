"""Text normalization before parsing: one spelling for one word.

* Traditional → Simplified with zhconv (a maintained converter with phrase tables). Converting
  costs ~1 µs a character, so only lines holding a character that exists in Traditional
  spelling only are converted (a regex scan is ~50× cheaper).
* Full-width ASCII (ＡＢＣ１２３, full-width space) → half width. Chinese punctuation (，。？！：)
  stays as it is: the parsers and the matcher know both forms.
* Emoji: a run of the same emoji is one emoji ("👍👍👍" → "👍"); decorative symbols are kept,
  the matcher never sees them as words.
* Repeated punctuation: "？？？" → "？", "!!!!" → "!", "。。。" → "…", "～～～" → "～".

`normalize_text()` keeps line breaks (the parsers need them) and never lengthens the text.
"""
from __future__ import annotations

import re
import threading

_lock = threading.Lock()
_trad: frozenset[str] | None = None


def _traditional_chars() -> frozenset[str]:
    """The characters zhconv changes on their own (Traditional-only spellings). A set, not a
    regex character class: a 4,700-character class scans ~100× slower than set.isdisjoint."""
    global _trad
    if _trad is None:
        with _lock:
            if _trad is None:
                import zhconv.zhconv as z

                z.convert("測", "zh-cn")                  # loads the tables
                table = z.zhcdicts["zh2Hans"]
                _trad = frozenset(k for k, v in table.items() if len(k) == 1 and k != v)
    return _trad


def to_simplified(text: str) -> str:
    chars = _traditional_chars()
    if chars.isdisjoint(text):
        return text
    import zhconv

    return "\n".join(zhconv.convert(line, "zh-cn") if not chars.isdisjoint(line) else line
                     for line in text.split("\n"))


# U+FF01..U+FF5E are full-width forms of ASCII 0x21..0x7E. Chinese punctuation that is used as
# such (，！？：；（）) is in that block too; we keep those five as written and convert the rest.
_KEEP_FULL = "，！？：；（）"
_FULL = re.compile("[\uff01-\uff5e\u3000]")
_FULL_MAP = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F) if chr(c) not in _KEEP_FULL}
_FULL_MAP["\u3000"] = " "


def _half(m: re.Match) -> str:
    ch = m.group(0)
    return _FULL_MAP.get(ch, ch)


# One pass for all runs of repeated punctuation; the replacement depends on what repeats.
_REPEATS = re.compile(r"[?？!！]{2,}|。{2,}|\.{3,}|…{2,}|[~～]{2,}|[，,]{2,}")


_PAIRS = tuple(a + b for a in "?？!！" for b in "?？!！") + ("。。", "...", "……", "~~", "～～", "~～", "～~",
                                                            "，，", ",,", "，,", ",，")


def _one(m: re.Match) -> str:
    run = m.group(0)
    if run[0] in "?？!！":
        return "？" if ("?" in run or "？" in run) else "！"
    if run[0] in "。.…":
        return "…"
    return "～" if run[0] in "~～" else "，"


# A run of one symbol/emoji (not a letter, digit, CJK or punctuation used above).
_EMOJI_RUN = re.compile("([\U0001F000-\U0001FAFF\u2600-\u27BF])(?:\ufe0f?\\1)+")
_VARIATION = re.compile("[\ufe0e\ufe0f\U0001F3FB-\U0001F3FF]")   # selectors and skin tones

EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u3030\u303D\u3297\u3299]")


def normalize_text(text: str) -> str:
    if not text:
        return ""
    text = to_simplified(text)
    if _FULL.search(text):
        text = _FULL.sub(_half, text)
    if not text.isascii():
        text = _VARIATION.sub("", text)
        text = _EMOJI_RUN.sub(r"\1", text)
    # str.__contains__ is ~100× cheaper than the regex scan: run it only when a pair exists
    if any(pair in text for pair in _PAIRS):
        text = _REPEATS.sub(_one, text)
    return text


def letters(text: str) -> int:
    """How many CJK characters and Latin letters a text holds (what makes it language)."""
    return len(_LETTER.findall(text))


_LETTER = re.compile(r"[\u4e00-\u9fffA-Za-z]")
