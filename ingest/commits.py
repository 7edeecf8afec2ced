"""Grouped commits: requests that arrive while a transaction runs share the next one.

Each request's work is a function of the session (as for ``Database.run``).  A lane takes every
work waiting (up to ``max_group``), runs them one after the other in ONE transaction, commits, and
only then answers each request: an answer still means "committed" (durability holds), but a
commit (and on PostgreSQL its WAL flush, on SQLite the writer lock and a thread hop) is paid once
per group instead of once per request.

If any work in a group raises, the whole group is rolled back and every work runs again in its
own transaction, as it would have without grouping, so one request's failure (a validation
problem, a replayed signature, a unique-key race) never touches another's rows and needs no
savepoint.
"""
from __future__ import annotations

import asyncio
import weakref
from typing import Any, Callable

from sqlmodel import Session

Work = Callable[[Session], Any]


class _GroupFailed(Exception):
    pass


class GroupCommitter:
    def __init__(self, db: Any, *, max_group: int = 64, lanes: int | None = None) -> None:
        self.db = db
        self.max_group = max_group
        # SQLite has one writer: one lane. PostgreSQL: a few groups side by side.
        self.lanes = lanes or (1 if db.is_sqlite else 4)
        self._queues: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # loop -> [queue, running lanes]
        self.groups = 0
        self.works = 0

    async def run(self, work: Work) -> Any:
        loop = asyncio.get_running_loop()
        state = self._queues.get(loop)
        if state is None:
            state = self._queues[loop] = [[], 0]
        future = loop.create_future()
        state[0].append((work, future))
        if state[1] < self.lanes:
            state[1] += 1
            loop.create_task(self._lane(state))
        return await future

    async def _lane(self, state: list) -> None:
        try:
            while state[0]:
                group, state[0][:] = state[0][:self.max_group], state[0][self.max_group:]
                await self._commit(group)
        finally:
            state[1] -= 1

    async def _commit(self, group: list) -> None:
        self.groups += 1
        self.works += len(group)
        if len(group) == 1:
            work, future = group[0]
            await self._single(work, future)
            return
        try:
            results = await self.db.run(_run_all, [work for work, _ in group])
        except _GroupFailed:
            for work, future in group:  # each on its own, as without grouping
                await self._single(work, future)
            return
        except BaseException as exc:  # the commit itself failed: nothing of the group is stored
            for _, future in group:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(group, results):
            if not future.done():
                future.set_result(result)

    async def _single(self, work: Work, future: asyncio.Future) -> None:
        try:
            result = await self.db.run(work)
        except BaseException as exc:
            if not future.done():
                future.set_exception(exc)
        else:
            if not future.done():
                future.set_result(result)


def _run_all(session: Session, works: list[Work]) -> list[Any]:
    results = []
    for work in works:
        try:
            results.append(work(session))
        except Exception as exc:
            raise _GroupFailed() from exc  # rolls the group back (Database.session)
    return results
