"""A Telegram update delivered twice (webhook retry, polling overlap) is processed once."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from core.logctx import set_context
from storage.models import ProcessedUpdate


def _remember(session, update_id: int, now) -> bool:
    if session.get(ProcessedUpdate, update_id) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(ProcessedUpdate(update_id=update_id, at=now))
            session.flush()
    except IntegrityError:
        return False
    return True


async def drop_duplicate_updates(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    # Runs first for every update (group -1): tag this update's log lines with its ids.
    set_context(update=update.update_id, user=update.effective_user.id if update.effective_user else None)
    core = context.application.bot_data["core"]
    if not await core.db.run(_remember, update.update_id, core.clock.now()):
        raise ApplicationHandlerStop
