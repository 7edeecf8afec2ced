"""Slow work (a speech service, a language model) that runs beside the rep's update lane.

bot/concurrency.py runs one person's updates in order; a call that takes a minute would hold their
next button press for that minute. Work started here is counted in flight from the start (shutdown
and the tests wait for it) and its errors go to the application's error handler like a handler's.
"""
from __future__ import annotations

import asyncio
from typing import Any, Coroutine

from telegram import Update
from telegram.ext import ContextTypes

from handlers.common import in_flight

_TASKS: set[asyncio.Task] = set()  # keeps the running tasks referenced


def in_background(update: Update, context: ContextTypes.DEFAULT_TYPE, work: Coroutine[Any, Any, None],
                  name: str = "work") -> None:
    flight = in_flight(context)
    flight.__enter__()

    async def run() -> None:
        try:
            await work
        except Exception as exc:  # noqa: BLE001 - surfaced through the application's error handler
            await context.application.process_error(update, exc)
        finally:
            flight.__exit__(None, None, None)
            _TASKS.discard(task)

    task = asyncio.get_running_loop().create_task(run(), name=f"{name}-{update.update_id}")
    _TASKS.add(task)
