"""Bot API error answers, shaped exactly like Telegram's.

Why: PTB maps the HTTP status, ``description`` and ``parameters`` of an error body to its
exception classes (``BadRequest``, ``Forbidden``, ``RetryAfter``, ``ChatMigrated``...). Raising one
``ApiError`` from anywhere in a handler keeps every error answer in that one shape.

Each error also carries a ``category`` that Telegram does not send; the request log uses it so
that a test can ask only for the calls the bot *built wrongly* (``category == "invalid"``: missing
parameter, text too long, unparsable markup, bad button) as opposed to calls that failed
because of chat state (blocked user, message not modified, ...).
"""

from __future__ import annotations

from typing import Any

INVALID = "invalid"  # the request itself is malformed: a bug in the bot
STATE = "state"  # valid request, refused because of the current state of a message/query
CHAT = "chat"  # the target chat is unknown, blocked, left or migrated
FLOOD = "flood"  # flood limit (429)
CONFLICT = "conflict"  # getUpdates vs webhook / a second poller
AUTH = "auth"  # unknown token or method


class ApiError(Exception):
    """An error answer: HTTP status = ``error_code``, JSON body like Telegram's."""

    def __init__(
        self,
        code: int,
        description: str,
        parameters: dict[str, Any] | None = None,
        category: str = STATE,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters
        self.category = category

    def body(self) -> dict[str, Any]:
        """Returns the JSON body Telegram would send."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str, category: str = STATE, **parameters: Any) -> ApiError:
    """400 ``Bad Request: <detail>`` caused by state (message not found, not modified...)."""
    return ApiError(400, f"Bad Request: {detail}", parameters or None, category)


def invalid(detail: str) -> ApiError:
    """400 ``Bad Request: <detail>`` for a request the bot built wrongly."""
    return ApiError(400, f"Bad Request: {detail}", None, INVALID)


def chat_error(detail: str, **parameters: Any) -> ApiError:
    """400 about the target chat (``chat not found``, migration)."""
    return ApiError(400, f"Bad Request: {detail}", parameters or None, CHAT)


def forbidden(detail: str) -> ApiError:
    """403 ``Forbidden: <detail>`` (blocked, never started, kicked)."""
    return ApiError(403, f"Forbidden: {detail}", None, CHAT)


def too_many_requests(retry_after: int) -> ApiError:
    """429 with ``parameters.retry_after`` (seconds, at least 1, see ``tgfake.limits``)."""
    return ApiError(
        429,
        f"Too Many Requests: retry after {retry_after}",
        {"retry_after": retry_after},
        FLOOD,
    )


def conflict(detail: str) -> ApiError:
    """409 ``Conflict: <detail>``."""
    return ApiError(409, f"Conflict: {detail}", None, CONFLICT)


UNAUTHORIZED = ApiError(401, "Unauthorized", None, AUTH)
NOT_FOUND = ApiError(404, "Not Found", None, AUTH)
