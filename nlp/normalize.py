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
_trad_re: re.Pattern[str] | None = None


def _traditional_pattern() -> re.Pattern[str]:
    """A character class of the characters zhconv changes on their own (Traditional-only)."""
    global _trad_re
    if _trad_re is None:
        with _lock:
            if _trad_re is None:
                import zhconv.zhconv as z

                z.convert("測", "zh-cn")                  # loads the tables
                table = z.zhcdicts["zh2Hans"]
                chars = sorted({k for k, v in table.items() if len(k) == 1 and k != v})
                _trad_re = re.compile("[" + "".join(re.escape(c) for c in chars) + "]")
    return _trad_re


def to_simplified(text: str) -> str:
    pattern = _traditional_pattern()
    if not pattern.search(text):
        return text
    import zhconv

    lines = text.split("\n")
    return "\n".join(zhconv.convert(line, "zh-cn") if pattern.search(line) else line
                     for line in lines)


# U+FF01..U+FF5E are full-width forms of ASCII 0x21..0x7E. Chinese punctuation that is used as
# such (，！？：；（）) is in that block too; we keep those five as written and convert the rest.
_KEEP_FULL = "，！？：；（）"
_FULL = re.compile("[\uff01-\uff5e\u3000]")
_FULL_MAP = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F) if chr(c) not in _KEEP_FULL}
_FULL_MAP["\u3000"] = " "


def _half(m: re.Match) -> str:
    ch = m.group(0)
    return _FULL_MAP.get(ch, ch)


_REPEATS = [
    (re.compile(r"[?？]{2,}"), "？"),
    (re.compile(r"[!！]{2,}"), "！"),
    (re.compile(r"[?？!！]{2,}"), "？"),       # "?!?!" is a question
    (re.compile(r"。{2,}|\.{3,}|…{2,}"), "…"),
    (re.compile(r"[~～]{2,}"), "～"),
    (re.compile(r"[，,]{2,}"), "，"),
]
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
    text = _VARIATION.sub("", text)
    text = _EMOJI_RUN.sub(r"\1", text)
    for pattern, repl in _REPEATS:
        text = pattern.sub(repl, text)
    return text


def letters(text: str) -> int:
    """How many CJK characters and Latin letters a text holds (what makes it language)."""
    return len(_LETTER.findall(text))


_LETTER = re.compile(r"[\u4e00-\u9fffA-Za-z]")
