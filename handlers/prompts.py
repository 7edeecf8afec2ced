"""Multi-step input (guided /new, filling a field in place, logging a follow-up).

The step waiting for the rep's next text lives in ``user_data["prompt"]``; the text router
gives that text to the registered step first.  /cancel clears it at any step.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from telegram import Update
from telegram.ext import ContextTypes

from storage.models import User

Step = Callable[[Update, ContextTypes.DEFAULT_TYPE, User, "Prompt", str], Awaitable[None]]
_STEPS: dict[str, Step] = {}


@dataclass
class Prompt:
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def step(kind: str) -> Callable[[Step], Step]:
    def register(fn: Step) -> Step:
        _STEPS[kind] = fn
        return fn
    return register


def set_prompt(context: ContextTypes.DEFAULT_TYPE, kind: str, **data: Any) -> None:
    context.user_data["prompt"] = Prompt(kind, data)


def clear_prompt(context: ContextTypes.DEFAULT_TYPE) -> None:
    context.user_data.pop("prompt", None)


async def dispatch_prompt(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, text: str) -> bool:
    """Feed text to the waiting step; False when nothing waits."""
    prompt = context.user_data.get("prompt")
    if not isinstance(prompt, Prompt) or prompt.kind not in _STEPS:
        return False
    await _STEPS[prompt.kind](update, context, user, prompt, text)
    return True
