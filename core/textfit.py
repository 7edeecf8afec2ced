"""Shortening labels without cutting a word in the middle (issue 14): ``Globex Trading Company`` at 16
becomes ``Globex Trading…``, never ``Globex Trading C…``; Chinese has no spaces and is cut by characters."""
from __future__ import annotations

import re

_WORD_CHAR = re.compile(r"[A-Za-z0-9'’\-]")


def width(text: str) -> int:
    """Display width: Chinese characters (and other wide ones) take two columns."""
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def shorten_width(text: str | None, columns: int) -> str:
    """Like ``shorten``, by display width (a button among three): 核实联系人与电话 fits 16 columns."""
    text = " ".join((text or "").split())
    if width(text) <= columns:
        return text
    chars, used = 0, 0
    for ch in text:
        used += width(ch)
        if used > columns - 1:
            break
        chars += 1
    return shorten(text, chars + 1)


def shorten(text: str | None, limit: int) -> str:
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    clause = max(cut.rfind(p) for p in "，、；：,;:")
    if clause >= max(2, limit // 3) and not _WORD_CHAR.match(text[limit - 1]):
        return cut[:clause].rstrip() + "…"  # Chinese: at the end of a clause rather than mid-phrase
    if _WORD_CHAR.match(text[limit - 1]) and _WORD_CHAR.match(cut[-1]):
        # Inside a Latin word: back off to the last boundary, if one is not too far back.
        boundary = max(cut.rfind(" "), cut.rfind("·"), cut.rfind("，"), cut.rfind(","), cut.rfind("/"))
        if boundary >= max(1, limit // 3):
            cut = cut[:boundary]
    return cut.rstrip(" ·,，/-") + "…"


def wrap_label(text: str, width: int = 12, lines: int = 2) -> str:
    """A chart label on up to ``lines`` lines of about ``width`` characters, broken between words."""
    words = " ".join(str(text).split()).split(" ")
    if len(words) == 1:
        return shorten(text, width if not text.isascii() else width * lines)
    out: list[str] = []
    for word in words:
        if out and len(out[-1]) + 1 + len(word) <= width:
            out[-1] += " " + word
        else:
            out.append(word)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = shorten(out[-1] + " …", width + 2)
    return "\n".join(out)
