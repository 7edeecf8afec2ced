"""Telegram's MarkdownV2 and legacy Markdown parse modes.

Why: MarkdownV2 rejects any unescaped reserved character (``_*[]()~`>#+-=|{}.!``) with
``can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'``
— the most common formatting failure of bots that build text from user data. The parsers follow
TDLib's rules and error wording closely enough for tests to fail where Telegram would.
"""

from __future__ import annotations

import re
from typing import Any

from tgfake.textbase import EntityParseError, TextBuilder, byte_offset, link_entity

# --------------------------------------------------------------------------- MarkdownV2

MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {"bold": "Bold", "italic": "Italic", "underline": "Underline",
               "strikethrough": "Strikethrough", "spoiler": "Spoiler", "code": "Code",
               "pre": "Pre", "link": "TextUrl", "emoji": "CustomEmoji"}
_MDV2_TOKENS = (("||", "spoiler"), ("__", "underline"), ("*", "bold"), ("_", "italic"),
                ("~", "strikethrough"))


class _MarkdownV2Parser:
    """TDLib-like MarkdownV2 parser with its escaping rules and error messages."""

    def __init__(self, text: str) -> None:
        self.text, self.n = text, len(text)
        self.out = TextBuilder()
        self.stack: list[list[Any]] = []  # [kind, utf16 start, byte offset, token/extra]
        self.quote_start: int | None = None

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        """Parses the whole text; returns (plain text, entities)."""
        i = 0
        while i < self.n:
            i = self._step(i)
        self._close_quote()
        if self.stack:
            kind, _, offset, _ = self.stack[-1]
            raise EntityParseError(f"Can't find end of {_MDV2_NAMES[kind]} entity at byte "
                                   f"offset {offset}")
        return self.out.result()

    def _step(self, i: int) -> int:
        text, c = self.text, self.text[i]
        if c == "\\" and i + 1 < self.n and 0 < ord(text[i + 1]) <= 126:
            self.out.add(text[i + 1])
            return i + 2
        top = self.stack[-1][0] if self.stack else None
        if top in ("code", "pre"):
            return self._in_code(i, top)
        if c == "\n":
            return self._newline(i)
        if c == ">" and (i == 0 or text[i - 1] == "\n"):
            if self.quote_start is None:
                self.quote_start = self.out.pos
            return i + 1
        if c not in MDV2_RESERVED:
            self.out.add(c)
            return i + 1
        return self._reserved(i, c)

    def _newline(self, i: int) -> int:
        if self.quote_start is not None and not self.text.startswith(">", i + 1):
            self._close_quote()
        self.out.add("\n")
        return i + 1

    def _close_quote(self) -> None:
        if self.quote_start is not None:
            self.out.entity("blockquote", self.quote_start)
            self.quote_start = None

    def _in_code(self, i: int, top: str) -> int:
        if self.text[i] != "`":
            self.out.add(self.text[i])
            return i + 1
        if top == "code":
            self._close()
            return i + 1
        if self.text.startswith("```", i):
            self._close()
            return i + 3
        raise self._reserved_error("`")

    def _reserved(self, i: int, c: str) -> int:
        for token, kind in _MDV2_TOKENS:
            if self.text.startswith(token, i):
                if self.stack and self.stack[-1][0] == kind:
                    self._close()
                else:
                    self._open(kind, i, token)
                return i + len(token)
        if c == "`":
            return self._open_code(i)
        if c == "[" or (c == "!" and self.text.startswith("![", i)):
            kind = "emoji" if c == "!" else "link"
            self._open(kind, i, "")
            return i + (2 if c == "!" else 1)
        if c == "]" and self.stack and self.stack[-1][0] in ("link", "emoji"):
            return self._close_link(i)
        raise self._reserved_error(c)

    def _open(self, kind: str, i: int, token: str) -> None:
        self.stack.append([kind, self.out.pos, byte_offset(self.text, i), token])

    def _open_code(self, i: int) -> int:
        if not self.text.startswith("```", i):
            self._open("code", i, "`")
            return i + 1
        end = self.text.find("\n", i + 3)
        language = self.text[i + 3:end] if end != -1 else ""
        if language and re.fullmatch(r"[\w+#-]+", language):
            self._open("pre", i, language)
            return end + 1
        self._open("pre", i, "")
        return i + 3

    def _close(self, **extra: Any) -> None:
        kind, start, _, token = self.stack.pop()
        if kind == "pre" and token:
            extra["language"] = token
        self.out.entity(kind, start, **extra)

    def _close_link(self, i: int) -> int:
        text, j = self.text, i + 1
        url = ""
        if text.startswith("(", j):
            j, url = self._read_url(j + 1)
        kind = self.stack[-1][0]
        if kind == "emoji":
            match = re.match(r"tg://emoji\?id=(\d+)", url)
            self._close_as("custom_emoji", custom_emoji_id=match.group(1) if match else "")
        elif url:
            kind, extra = link_entity(url)
            self._close_as(kind, **extra)
        else:
            self.stack.pop()
        return j

    def _close_as(self, entity_type: str, **extra: Any) -> None:
        _, start, _, _ = self.stack.pop()
        self.out.entity(entity_type, start, **extra)

    def _read_url(self, j: int) -> tuple[int, str]:
        chars = []
        while j < self.n and self.text[j] != ")":
            if self.text[j] == "\\" and j + 1 < self.n:
                j += 1
            chars.append(self.text[j])
            j += 1
        if j >= self.n:
            raise EntityParseError("Can't find end of a URL at byte offset "
                                   f"{byte_offset(self.text, j)}")
        return j + 1, "".join(chars)

    def _reserved_error(self, c: str) -> EntityParseError:
        return EntityParseError(f"Character '{c}' is reserved and must be escaped with the "
                                "preceding '\\'")


def parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parses MarkdownV2; returns (plain text, entities) or raises EntityParseError."""
    return _MarkdownV2Parser(text).run()


# --------------------------------------------------------------------------- legacy Markdown

_MD1_KINDS = {"*": "bold", "_": "italic", "`": "code"}


def parse_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parses legacy Markdown (no nesting); raises EntityParseError on an unclosed entity."""
    out, i, n = TextBuilder(), 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if c not in "_*`[":
            out.add(c)
            i += 1
            continue
        i = _md1_entity(text, i, out)
    return out.result()


def _md1_entity(text: str, i: int, out: TextBuilder) -> int:
    token = "```" if text.startswith("```", i) else text[i]
    closer = "]" if token == "[" else token
    end = text.find(closer, i + len(token))
    if end == -1:
        raise EntityParseError("Can't find end of the entity starting at byte offset "
                               f"{byte_offset(text, i)}")
    start = out.pos
    out.add(text[i + len(token):end])
    if token == "```":
        out.entity("pre", start)
        return end + 3
    if token != "[":
        out.entity(_MD1_KINDS[token], start)
        return end + 1
    if text.startswith("(", end + 1) and text.find(")", end + 2) != -1:
        close = text.find(")", end + 2)
        out.entity("text_link", start, url=text[end + 2:close])
        return close + 1
    return end + 1
