"""Building blocks shared by the markup parsers: UTF-16 lengths, offsets, the error type.

Why: Telegram's MessageEntity offsets are UTF-16 code units while its parse errors quote UTF-8
byte offsets; keeping both conversions in one place keeps every parser consistent.
"""

from __future__ import annotations

import re
from typing import Any

WHITESPACE = " \t\r\n\v\f"


class EntityParseError(ValueError):
    """Markup Telegram would refuse; str(error) is the text after "can't parse entities: "."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (astral characters count twice)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


class TextBuilder:
    """Plain-text accumulator that tracks the UTF-16 position for entity offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.entities: list[dict[str, Any]] = []

    def add(self, chunk: str) -> None:
        """Appends plain text."""
        self.parts.append(chunk)
        self.pos += utf16_len(chunk)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        """Adds an entity from ``start`` to the current position (skipped when empty)."""
        if self.pos > start:
            self.entities.append({"type": kind, "offset": start, "length": self.pos - start,
                                  **extra})

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        """(plain text, entities sorted like Telegram's)."""
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), self.entities


_USER_LINK = re.compile(r"tg://user\?id=(\d+)")


def link_entity(url: str) -> tuple[str, dict[str, Any]]:
    """A link's entity: text_mention for ``tg://user?id=N``, else text_link."""
    match = _USER_LINK.fullmatch(url)
    if match:
        return "text_mention", {"user": {"id": int(match.group(1)), "is_bot": False,
                                         "first_name": ""}}
    return "text_link", {"url": url}
