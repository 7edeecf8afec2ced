"""reply_markup validation and button lookup.

Why: an inline keyboard is where bots most often break Telegram's rules — ``callback_data``
over 64 *bytes* (about 21 CJK characters), a button with no action, rows that are not lists.
Telegram rejects the whole message; so does the fake, with Telegram's descriptions. The
control API's ``press_button`` uses the same lookup to find the button a user taps.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tgfake.errors import invalid

INLINE_ACTIONS = ("url", "callback_data", "web_app", "login_url", "switch_inline_query",
                  "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
                  "copy_text", "callback_game", "pay")
MAX_BUTTONS = 100
MAX_CALLBACK_BYTES = 64
_BUTTON_ERROR = "can't parse inline keyboard button: "
_URL_SCHEMES = ("http://", "https://", "tg://")


def parse_reply_markup(value: Any, inline_only: bool = False) -> dict[str, Any] | None:
    """Validates a (JSON-decoded) reply_markup; returns it or None when absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, dict):
        raise invalid("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in value:
        _check_inline(value["inline_keyboard"])
        return value
    if inline_only:
        raise invalid("inline keyboard expected")
    if "keyboard" in value:
        _check_reply_keyboard(value["keyboard"])
        return value
    if value.get("remove_keyboard") or value.get("force_reply"):
        return value
    raise invalid("can't parse reply keyboard markup JSON object")


def _rows(rows: Any, field: str, owner: str) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise invalid(f'field "{field}" of the {owner} must be an Array of Arrays')
    return rows


def _check_inline(rows: Any) -> None:
    count = 0
    for row in _rows(rows, "inline_keyboard", "InlineKeyboardMarkup"):
        for button in row:
            _check_inline_button(button)
            count += 1
    if count > MAX_BUTTONS:
        raise invalid("reply markup is too long")


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise invalid(_BUTTON_ERROR + "InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise invalid(_BUTTON_ERROR + 'Field "text" must be of type String')
    if not button["text"].strip():
        raise invalid("BUTTON_TEXT_INVALID")
    actions = [name for name in INLINE_ACTIONS if button.get(name) is not None]
    if not actions:
        raise invalid(_BUTTON_ERROR + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise invalid(_BUTTON_ERROR + "exactly one of the optional fields must be used")
    if "callback_data" in actions:
        data = button["callback_data"]
        size = len(data.encode("utf-8")) if isinstance(data, str) else 0
        if not 1 <= size <= MAX_CALLBACK_BYTES:
            raise invalid("BUTTON_DATA_INVALID")
    if "url" in actions:
        url = button["url"]
        if not isinstance(url, str) or not url.lower().startswith(_URL_SCHEMES):
            raise invalid("BUTTON_URL_INVALID")


def _check_reply_keyboard(rows: Any) -> None:
    for row in _rows(rows, "keyboard", "ReplyKeyboardMarkup"):
        for button in row:
            text = button if isinstance(button, str) else (
                button.get("text") if isinstance(button, dict) else None)
            if not isinstance(text, str):
                raise invalid("can't parse keyboard button: Field \"text\" must be of type "
                              "String")


def inline_buttons(markup: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
    """All inline buttons of a markup, row by row."""
    if not markup:
        return
    for row in markup.get("inline_keyboard") or []:
        yield from row


def find_button(markup: dict[str, Any] | None, callback_data: str | None = None,
                text: str | None = None) -> dict[str, Any] | None:
    """The inline button with this callback_data and/or label, if any."""
    for button in inline_buttons(markup):
        if callback_data is not None and button.get("callback_data") != callback_data:
            continue
        if text is not None and button.get("text") != text:
            continue
        return button
    return None
