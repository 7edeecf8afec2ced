"""Reading Bot API request parameters the way Telegram's server does.

Why: Telegram accepts a query string, JSON, urlencoded and multipart bodies. PTB sends
urlencoded (or multipart when uploading), with every non-string value JSON-encoded, so
``chat_id`` arrives as ``"123"`` and ``reply_markup`` as a JSON string. The server flattens all
inputs to strings first (JSON bodies included, as telegram-bot-api does) and then converts each
one by the type the spec gives for that parameter, so every transport validates identically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tgfake.errors import invalid
from tgfake.spec import Method

_MEDIA_PARAMS = ("photo", "document", "video", "audio", "animation", "voice", "video_note",
                 "sticker")
# Telegram's own wording for some missing parameters; the rest use the generic form.
_MISSING = {
    "chat_id": "chat_id is empty",
    "text": "message text is empty",
    "message_id": "message identifier is not specified",
    **{name: f"there is no {name.replace('_', ' ')} in the request" for name in _MEDIA_PARAMS},
}
_JSON_ERRORS = {
    "reply_markup": "can't parse reply keyboard markup JSON object",
    "entities": "can't parse entities JSON object",
    "caption_entities": "can't parse entities JSON object",
}
_SCALARS = {"String", "Integer", "Float", "Boolean", "InputFile"}


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str
    content: bytes
    mime_type: str | None

    def describe(self) -> dict[str, Any]:
        """What the request log keeps instead of the bytes."""
        return {"filename": self.filename, "size": len(self.content),
                "mime_type": self.mime_type}


def _flatten(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


async def read_raw(request: web.Request) -> tuple[dict[str, str], dict[str, Upload]]:
    """Returns (string parameters, uploaded files) from query string and body."""
    raw: dict[str, str] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.method != "POST" or not request.can_read_body:
        return raw, uploads
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            raw.update({k: _flatten(v) for k, v in body.items() if v is not None})
        return raw, uploads
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            uploads[key] = Upload(value.filename or key, value.file.read(), value.content_type)
        else:
            raw[key] = value
    return raw, uploads


def _to_int(text: str) -> int:
    """Lenient like telegram-bot-api: an unparsable integer becomes 0."""
    try:
        return int(text.strip())
    except ValueError:
        return 0


def _convert(name: str, types: tuple[str, ...], text: str) -> Any:
    if "Integer" in types and "String" in types:  # chat_id: number or @username
        try:
            return int(text)
        except ValueError:
            return text
    kind = types[0] if types else "String"
    if kind == "String" or kind == "InputFile":
        return text
    if kind == "Integer":
        return _to_int(text)
    if kind == "Float":
        try:
            return float(text)
        except ValueError:
            return 0.0
    if kind == "Boolean":
        return text.strip().lower() in ("true", "1", "yes")
    try:
        return json.loads(text)
    except ValueError:
        raise invalid(_JSON_ERRORS.get(name, f"can't parse {name} JSON object")) from None


def coerce(method: Method | None, raw: dict[str, str]) -> dict[str, Any]:
    """Converts string parameters to typed values using the spec; unknown ones stay strings."""
    params: dict[str, Any] = {}
    for name, text in raw.items():
        field = method.fields.get(name) if method else None
        if field is None or text == "":
            params[name] = text
            continue
        params[name] = _convert(name, field.types, text)
    return params


def check_required(method: Method, params: dict[str, Any], uploads: dict[str, Upload],
                   skip: tuple[str, ...] = ()) -> None:
    """Raises Telegram's error for the first missing required parameter (in spec order)."""
    for name in method.required:
        if name in skip or name in uploads:
            continue
        value = params.get(name)
        if value is None or value == "":
            raise invalid(_MISSING.get(name, f'parameter "{name}" is required'))


def loggable(params: dict[str, Any], uploads: dict[str, Upload]) -> dict[str, Any]:
    """Parameters for the request log: typed values plus file descriptions, no bytes."""
    if not uploads:
        return params
    out = dict(params)
    out.update({name: up.describe() for name, up in uploads.items()})
    return out
