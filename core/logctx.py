"""Structured logs: every line carries the update id or job id it belongs to.

A contextvar holds the current context; a logging filter copies it onto each record, so
``%(ctx)s`` in the format shows e.g. ``update=1234 user=5678`` or ``job=brief:1:2026-11-27T08:30``.
"""
from __future__ import annotations

import contextvars
import json
import logging

_CTX: contextvars.ContextVar[str] = contextvars.ContextVar("salesbot_log_ctx", default="-")


def set_context(**fields: object) -> contextvars.Token:
    text = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None) or "-"
    return _CTX.set(text)


def reset_context(token: contextvars.Token) -> None:
    _CTX.reset(token)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.ctx = _CTX.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers (SALESBOT_LOG_FORMAT=json)."""

    def format(self, record: logging.LogRecord) -> str:
        data = {"ts": self.formatTime(record), "level": record.levelname, "logger": record.name,
                "ctx": getattr(record, "ctx", "-"), "msg": record.getMessage()}
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(ctx)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # httpx logs every request URL at INFO, and the URL contains the bot token.
    for noisy in ("httpx", "httpcore", "apscheduler", "telegram.ext.ExtBot", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
