"""Handler modules, one per conversation area; each exports HANDLERS for bot/ to register.

Order matters: commands first, free text last (it is the catch-all for private chats).
"""
from __future__ import annotations

import importlib

from telegram.ext import BaseHandler

# Modules in registration order; optional areas are skipped until they exist.
MODULES = ["start", "customers", "today", "owner", "playbook", "spotcheck", "incentives", "groups", "imports", "undo",
           "business", "team", "audit", "voice", "assist", "coaching", "feedback", "paste", "updates"]


def all_handlers() -> list[BaseHandler]:
    handlers: list[BaseHandler] = []
    for name in MODULES:
        try:
            module = importlib.import_module(f"handlers.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"handlers.{name}":
                continue
            raise
        handlers.extend(module.HANDLERS)
    return handlers
