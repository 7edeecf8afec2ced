"""A Telegram update delivered twice (webhook retry, polling overlap, a second instance behind the
load balancer) is processed once.

The first handler group (-1) inserts the update id into ``processedupdate`` with "insert or do
nothing"; whoever inserts it first processes the update, everyone else stops it right there
(``ApplicationHandlerStop``).  The row is committed before the handlers run, so an update being
handled when the process is SIGKILLed is not handled again (at most once for that rare case;
SIGTERM lets it finish — bot/run.py).  Telegram keeps undelivered updates for 24 hours, so ids
older than a few days are pruned.
"""
from __future__ import annotations

import functools
import itertools
from datetime import timedelta

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from core.logctx import set_context
from storage.models import ProcessedUpdate

KEEP = timedelta(days=3)
PRUNE_EVERY = 1000
_counter = itertools.count(1)


@functools.cache
def _claim_statement(dialect: str):
    """INSERT … ON CONFLICT DO NOTHING RETURNING, built once per dialect (it runs for every update).

    RETURNING tells whether this insert won (rowcount is -1 for INSERTs on psycopg/SQLAlchemy 2.1).
    """
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = ProcessedUpdate.__table__
    return (insert(table).values(update_id=bindparam("update_id"), at=bindparam("at"))
            .on_conflict_do_nothing(index_elements=["update_id"]).returning(table.c.update_id))


def remember(session, update_id: int, now) -> bool:
    """True the first time ``update_id`` is seen (across instances sharing the database)."""
    statement = _claim_statement(session.bind.dialect.name)
    inserted = session.connection().execute(statement, {"update_id": update_id, "at": now}).first() is not None
    if next(_counter) % PRUNE_EVERY == 0:
        session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < now - KEEP))
    return inserted


def remember_and_load(session, update_id: int, now, member_args: tuple | None):
    """One database trip per update: claim the update id and, if new, load the member behind it."""
    if not remember(session, update_id, now):
        return False, None
    if member_args is None:
        return True, None
    from services.users import member_for_update
    return True, member_for_update(session, *member_args)


async def drop_duplicate_updates(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    # Runs first for every update (group -1): tag this update's log lines with its ids.
    set_context(update=update.update_id, user=update.effective_user.id if update.effective_user else None)
    core = context.application.bot_data["core"]
    from handlers.common import member_args, remember_member
    args = member_args(update)
    is_new, member = await core.db.run(remember_and_load, update.update_id, core.clock.now(), args)
    if not is_new:
        raise ApplicationHandlerStop
    if args is not None:
        remember_member(context, update, member)
