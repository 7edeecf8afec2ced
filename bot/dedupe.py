"""A Telegram update delivered twice (webhook retry, polling overlap, a second instance behind the
load balancer) is processed once.

The first handler group (-1) inserts the update id into ``processedupdate`` with "insert or do
nothing"; whoever inserts it first processes the update, everyone else stops it right there
(``ApplicationHandlerStop``).  The row is committed before the handlers run, so an update being
handled when the process is SIGKILLed is not handled again (at most once for that rare case;
SIGTERM lets it finish — bot/run.py).  Telegram keeps undelivered updates for 24 hours, so ids
older than a few days are pruned.

Claims are grouped (``UpdateClaims``), as a group commit: a claim waits for its turn to write
like any write, and whoever has the turn claims — and loads the members of — every update that
started meanwhile (a ``getUpdates`` batch of different people's updates, and those that arrived
while the writer was busy): one database trip, one turn of SQLite's single writer, per group
instead of per update, and no claim waits longer than it would have alone.  An update
queued behind its own person's earlier one (bot/concurrency.py) is claimed when it starts, as
before, so the member it runs with is read when it runs (a deactivation in between counts).
"""
from __future__ import annotations

import asyncio
import functools
import itertools
import logging
from datetime import timedelta

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from core.logctx import set_context
from storage.models import ProcessedUpdate

log = logging.getLogger(__name__)
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


def claim_batch(session, batch: list[tuple[int, tuple | None]], now) -> list[tuple[bool, object]]:
    """Claim a group of update ids and load the members behind the new ones, in one transaction:
    (is_new, member) for each (update id, member arguments) in order.  An id twice in the group is new the first time only;
    the members are read with one query (services.users.members_for_updates)."""
    claimed = [remember(session, update_id, now) for update_id, _ in batch]
    from services.users import members_for_updates
    wanted = [args for (_, args), new in zip(batch, claimed) if new and args is not None]
    members = iter(members_for_updates(session, wanted)) if wanted else iter(())
    return [(new, next(members) if new and args is not None else None) for (_, args), new in zip(batch, claimed)]


class UpdateClaims:
    """Group commit for update-id claims: one collector waits for the turn to write; when it gets it,
    it takes every claim made meanwhile."""

    def __init__(self, core) -> None:
        self.core = core
        self._pending: list[tuple[int, tuple | None, asyncio.Future]] = []
        self._collecting = False  # a collector is waiting for its turn and has not taken the claims yet
        self.stats = {"transactions": 0, "claims": 0}

    async def claim(self, update_id: int, member_args: tuple | None) -> tuple[bool, object]:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((update_id, member_args, future))
        if not self._collecting:
            self._collecting = True
            loop.create_task(self._write(), name="update-claims")
        return await future

    async def _write(self) -> None:
        batch: list[tuple[int, tuple | None, asyncio.Future]] = []
        try:
            async with self.core.db.write_turn():
                batch, self._pending, self._collecting = self._pending, [], False
                if not batch:
                    return
                results = await self.core.db.run_in_turn(claim_batch, [(i, a) for i, a, _ in batch],
                                                         self.core.clock.now())
        except BaseException as exc:  # every update of the group fails as its own claim would have
            if not batch:  # cancelled while waiting for the turn: the claims made so far fail with it
                batch, self._pending, self._collecting = self._pending, [], False
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("claim cancelled"))
            if not isinstance(exc, Exception):
                raise
        else:
            self.stats["transactions"] += 1
            self.stats["claims"] += len(batch)
            for (_, _, future), result in zip(batch, results):
                if not future.done():
                    future.set_result(result)


def claims_of(context: ContextTypes.DEFAULT_TYPE) -> UpdateClaims:
    claims = context.application.bot_data.get("update_claims")
    if claims is None:
        claims = context.application.bot_data["update_claims"] = UpdateClaims(context.application.bot_data["core"])
    return claims


async def drop_duplicate_updates(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    # Runs first for every update (group -1): tag this update's log lines with its ids.
    set_context(update=update.update_id, user=update.effective_user.id if update.effective_user else None)
    from handlers.common import member_args, remember_member
    args = member_args(update)
    is_new, member = await claims_of(context).claim(update.update_id, args)
    if not is_new:
        raise ApplicationHandlerStop
    if args is not None:
        remember_member(context, update, member)
