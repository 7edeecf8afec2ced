"""Telegram text formatting: HTML, MarkdownV2 and Markdown into plain text plus entities.

Why: Telegram measures the 4096/1024 limits *after* markup is removed and rejects malformed
markup with ``Bad Request: can't parse entities: <detail>``. The fake does both, so a bot's
escaping bugs (an unescaped customer name, ``<br>``, a stray ``.`` in MarkdownV2) fail in tests
the way they would in production. The error details follow TDLib's wording and byte offsets.

Entity offsets and lengths are in UTF-16 code units, as in ``MessageEntity``.

One deliberate difference: with ``strict_amp=True`` (the server default) a bare ``&`` that does
not start ``&lt; &gt; &amp; &quot;`` or ``&#...;`` is rejected. Real Telegram passes it through,
but it always means the text was not HTML-escaped, which is the bug tests should catch.
"""

from __future__ import annotations

import re
from typing import Any

from tgfake.markdown import parse_markdown, parse_markdown_v2
from tgfake.textbase import (WHITESPACE, EntityParseError, TextBuilder, byte_offset,
                             link_entity, utf16_len)

__all__ = ["EntityParseError", "auto_entities", "clean_entities", "format_text", "parse_html",
           "parse_markdown", "parse_markdown_v2", "trim", "utf16_len"]

# --------------------------------------------------------------------------- HTML

_HTML_TAGS = {"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler",
              "tg-emoji", "span", "pre", "code", "blockquote"}
_HTML_SIMPLE = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
                "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
                "del": "strikethrough", "tg-spoiler": "spoiler", "span": "spoiler",
                "code": "code"}
_HTML_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_SPECIAL = re.compile(r"[<&]")


def _decode_entity(text: str, i: int) -> tuple[str | None, int]:
    match = _HTML_ENTITY.match(text, i)
    if not match:
        return None, i
    name = match.group(1)
    if name in _NAMED:
        return _NAMED[name], match.end()
    code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None, i
    return chr(code), match.end()


class _HtmlParser:
    """A TDLib-like HTML parser: one pass, a stack of open tags."""

    def __init__(self, text: str, strict_amp: bool) -> None:
        self.text, self.n, self.strict_amp = text, len(text), strict_amp
        self.out = TextBuilder()
        self.stack: list[list[Any]] = []  # [tag, argument, utf16 start]

    def error(self, message: str) -> EntityParseError:
        """A parse error with TDLib's wording."""
        return EntityParseError(message)

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        """Parses the whole text; returns (plain text, entities)."""
        i = 0
        while i < self.n:
            match = _HTML_SPECIAL.search(self.text, i)
            if match is None:
                self.out.add(self.text[i:])
                break
            if match.start() > i:
                self.out.add(self.text[i:match.start()])
            i = match.start()
            i = self._amp(i) if self.text[i] == "&" else self._tag(i)
        if self.stack:
            tag = self.stack[-1][0]
            raise self.error(f'Can\'t find end tag corresponding to start tag "{tag}"')
        return self.out.result()

    def _amp(self, i: int) -> int:
        char, end = _decode_entity(self.text, i)
        if char is not None:
            self.out.add(char)
            return end
        if self.strict_amp:
            raise self.error(f'Unescaped "&" at byte offset {byte_offset(self.text, i)}: '
                             'use "&amp;"')
        self.out.add("&")
        return i + 1

    def _tag(self, begin: int) -> int:
        if begin + 1 < self.n and self.text[begin + 1] == "/":
            return self._end_tag(begin)
        return self._start_tag(begin)

    def _start_tag(self, begin: int) -> int:
        text, offset = self.text, byte_offset(self.text, begin)
        i = begin + 1
        while i < self.n and text[i] not in WHITESPACE and text[i] != ">":
            i += 1
        if i >= self.n:
            raise self.error(f"Unclosed start tag at byte offset {offset}")
        tag = text[begin + 1:i].lower()
        if tag not in _HTML_TAGS:
            raise self.error(f'Unsupported start tag "{tag}" at byte offset {offset}')
        argument, i = self._attributes(tag, i, offset)
        if tag == "span" and argument != "spoiler":
            raise self.error(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        self.stack.append([tag, argument, self.out.pos])
        return i + 1

    def _attributes(self, tag: str, i: int, offset: int) -> tuple[str, int]:
        """Parses attributes up to '>' (returns its index) and keeps the one the tag uses."""
        text, argument = self.text, ""
        while True:
            while i < self.n and text[i] in WHITESPACE:
                i += 1
            if i >= self.n:
                raise self.error(f'Unclosed start tag "{tag}" at byte offset {offset}')
            if text[i] == ">":
                return argument, i
            start = i
            while i < self.n and text[i] not in WHITESPACE and text[i] not in "=>":
                i += 1
            name = text[start:i].lower()
            while i < self.n and text[i] in WHITESPACE:
                i += 1
            if i < self.n and text[i] != "=" and tag == "blockquote" and name == "expandable":
                argument = "expandable"
                continue
            if i >= self.n or text[i] != "=":
                raise self.error('Expected equal sign in declaration of an attribute of the tag '
                                 f'"{tag}" at byte offset {offset}')
            value, i = self._attribute_value(tag, i + 1, offset)
            argument = _tag_argument(tag, name, value, argument)

    def _attribute_value(self, tag: str, i: int, offset: int) -> tuple[str, int]:
        text = self.text
        while i < self.n and text[i] in WHITESPACE:
            i += 1
        if i >= self.n:
            raise self.error(f'Unclosed start tag "{tag}" at byte offset {offset}')
        if text[i] not in "'\"":
            start = i
            while i < self.n and (text[i].isalnum() or text[i] in ".-"):
                i += 1
            if i >= self.n or (text[i] not in WHITESPACE and text[i] != ">"):
                raise self.error("Unexpected end of name token at byte offset "
                                 f"{byte_offset(text, start)}")
            return text[start:i].lower(), i
        quote, value = text[i], []
        i += 1
        while i < self.n and text[i] != quote:
            char, end = _decode_entity(text, i) if text[i] == "&" else (None, i)
            value.append(char if char is not None else text[i])
            i = end if char is not None else i + 1
        if i >= self.n:
            raise self.error(f"Unclosed start tag at byte offset {offset}")
        return "".join(value), i + 1

    def _end_tag(self, begin: int) -> int:
        text, offset = self.text, byte_offset(self.text, begin)
        if not self.stack:
            raise self.error(f"Unexpected end tag at byte offset {offset}")
        i = begin + 2
        while i < self.n and text[i] not in WHITESPACE and text[i] != ">":
            i += 1
        name = text[begin + 2:i].lower()
        while i < self.n and text[i] in WHITESPACE:
            i += 1
        if i >= self.n or text[i] != ">":
            raise self.error(f"Unclosed end tag at byte offset {offset}")
        tag, argument, start = self.stack.pop()
        if name and name != tag:
            raise self.error(f'Unmatched end tag at byte offset {offset}, expected "</{tag}>", '
                             f'found "</{name}>"')
        self._emit(tag, argument, start)
        return i + 1

    def _emit(self, tag: str, argument: str, start: int) -> None:
        out = self.out
        if tag == "code" and self.stack and self.stack[-1][0] == "pre":
            if argument:  # <pre><code class="language-x"> is one pre entity with a language
                self.stack[-1][1] = argument
            return
        if tag in _HTML_SIMPLE:
            out.entity(_HTML_SIMPLE[tag], start)
        elif tag == "pre":
            out.entity("pre", start, **({"language": argument} if argument else {}))
        elif tag == "blockquote":
            out.entity("expandable_blockquote" if argument else "blockquote", start)
        elif tag == "tg-emoji":
            out.entity("custom_emoji", start, custom_emoji_id=argument)
        elif tag == "a":
            _emit_link(out, argument, start)


def _tag_argument(tag: str, name: str, value: str, current: str) -> str:
    if tag == "a" and name == "href":
        return value
    if tag in ("code", "pre") and name == "class" and value.startswith("language-"):
        return value[len("language-"):]
    if tag == "span" and name == "class" and value.startswith("tg-"):
        return value[len("tg-"):]
    if tag == "tg-emoji" and name == "emoji-id":
        return value
    return current


def _emit_link(out: TextBuilder, url: str, start: int) -> None:
    if url:
        kind, extra = link_entity(url)
        out.entity(kind, start, **extra)


def parse_html(text: str, strict_amp: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Parses Telegram HTML; returns (plain text, entities) or raises EntityParseError."""
    return _HtmlParser(text, strict_amp).run()


# --------------------------------------------------------------------------- helpers

PARSERS = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}

_AUTO_PATTERNS = (
    ("bot_command", re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?"
                               r"(?![\w/])")),
    ("url", re.compile(r"(?<![\w@])https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'】。，]")),
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
)
_NO_AUTO_INSIDE = {"code", "pre", "text_link", "text_mention", "custom_emoji", "url", "email",
                   "mention", "bot_command", "hashtag"}


def _u16_offsets(text: str) -> list[int] | None:
    """Prefix UTF-16 offsets per character index, or None when they equal the indexes."""
    if all(ord(ch) <= 0xFFFF for ch in text):
        return None
    offsets, pos = [], 0
    for ch in text:
        offsets.append(pos)
        pos += 2 if ord(ch) > 0xFFFF else 1
    offsets.append(pos)
    return offsets


def auto_entities(text: str, existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entities Telegram detects by itself (commands, URLs, e-mails, mentions, hashtags)."""
    offsets = _u16_offsets(text)
    taken = [(e["offset"], e["offset"] + e["length"]) for e in existing
             if e["type"] in _NO_AUTO_INSIDE]
    found: list[dict[str, Any]] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.start(), match.end()
            if offsets:
                start, end = offsets[start], offsets[end]
            if any(start < b and a < end for a, b in taken):
                continue
            taken.append((start, end))
            found.append({"type": kind, "offset": start, "length": end - start})
    return found


def trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strips leading/trailing whitespace like Telegram and shifts/clips entities to match."""
    stripped = text.strip(WHITESPACE)
    if stripped == text:
        return text, entities
    left = utf16_len(text[: len(text) - len(text.lstrip(WHITESPACE))])
    size = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - left, 0)
        end = min(entity["offset"] + entity["length"] - left, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def clean_entities(raw: Any, text: str) -> list[dict[str, Any]]:
    """Keeps well-formed explicit entities and clips them to the text, as Telegram does."""
    if not isinstance(raw, list):
        return []
    size, kept = utf16_len(text), []
    for entity in raw:
        if not isinstance(entity, dict) or not isinstance(entity.get("type"), str):
            continue
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or length <= 0:
            continue
        end = min(offset + length, size)
        if 0 <= offset < end:
            kept.append({**entity, "offset": offset, "length": end - offset})
    return kept


def format_text(text: str, parse_mode: str | None, entities: Any = None,
                strict_amp: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Applies parse_mode (or explicit entities), trims, adds auto-detected entities.

    Raises EntityParseError for bad markup and KeyError for an unsupported parse_mode.
    """
    if parse_mode:
        mode = parse_mode.lower()
        if mode not in PARSERS:
            raise KeyError(parse_mode)
        plain, found = parse_html(text, strict_amp) if mode == "html" else PARSERS[mode](text)
    else:
        plain, found = text, clean_entities(entities, text)
    plain, found = trim(plain, found)
    found = found + auto_entities(plain, found)
    found.sort(key=lambda e: (e["offset"], -e["length"]))
    return plain, found
