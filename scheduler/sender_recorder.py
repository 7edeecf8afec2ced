"""The outbox sender's recorder: results written by group commit, one transaction per batch.

``RecorderMixin`` holds the part of ``scheduler.sender.OutboxSender`` that queues each outcome
(sent, failed, blocked, migrated, ...) and commits whatever finished meanwhile in one transaction
through scheduler/outbox_ops.py; a worker's ``_record`` returns only once its ops are committed,
and a database outage is retried with backoff instead of losing results.  ``_short`` trims a
database error for the log.  Split out of scheduler/sender.py without a change of behaviour.
"""
from __future__ import annotations

import asyncio
import logging

from scheduler.outbox_ops import apply_ops

log = logging.getLogger("scheduler.sender")  # the sender's logger, as before the split


class RecorderMixin:
    """Group-committed results (a part of ``OutboxSender``; uses its ``core``, ``_ops``, ``_flusher``)."""

    async def _record(self, *ops: tuple) -> None:
        """Commit ``ops`` (batched with whatever else finished meanwhile); returns once committed."""
        future = asyncio.get_running_loop().create_future()
        self._ops.append((list(ops), future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await asyncio.shield(future)

    async def _flush(self) -> None:
        delay = 0.2
        while self._ops:
            batch, self._ops = self._ops, []
            try:
                await self.core.db.run(apply_ops, [op for ops, _ in batch for op in ops])
            except Exception as exc:  # the database is away: keep the results, try again
                log.warning("outbox: recording %d result(s) failed (%s: %s); retrying in %.1fs", len(batch),
                            exc.__class__.__name__, _short(exc), delay)
                self._ops = batch + self._ops
                await asyncio.sleep(delay)
                delay = min(5.0, delay * 2)
                continue
            delay = 0.2
            for _, future in batch:
                if not future.done():
                    future.set_result(None)

    async def _flush_all(self) -> None:
        while self._flusher is not None and not self._flusher.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._flusher), timeout=30)
            except asyncio.TimeoutError:
                log.error("outbox: %d result(s) could not be recorded before shutdown", len(self._ops))
                return


def _short(exc: BaseException) -> str:
    """First line of a database error (not the whole SQL statement)."""
    return (str(exc).splitlines() or [""])[0][:200]
