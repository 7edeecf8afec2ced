"""bench.updates' workload and its timing instruments, shared by salesbot's run and the baselines.

What is sent (``MIX``: presses, follow-up lines, saves, pastes; ``workload``, ``cpu_workload``,
``push`` with the fixed ``NOW`` and ``PASTE``), how an update's end is seen (``Tracker``: a handler
group after every other, ``wait_done``), the collector's pauses (``GcPauses``) and, with
``--profile``, the DB threads' profiler hook (``DB_PROFILER``, ``_profile_db``).  Nothing here reads
the run's settings (``CPU_PER_KIND``, ``PROFILE`` stay in bench/updates.py, which sets them); moved
out of bench/updates.py without a change, and every name is still importable from there.
"""
from __future__ import annotations

import asyncio
import random
import time
from datetime import datetime
from typing import Any

from bench.common import ServerProcess

NOW = datetime(2026, 11, 26, 2, 0)  # Thursday 10:00 in Shanghai
PASTE = ("客户：你们这个价格能不能再便宜一点？我们预算有限\n我：这个已经是我们的最低价了，量大可以再谈\n"
         "客户：那交期呢？下周三之前能到吗\n我：可以安排，下周二发货\n客户：好的，我跟老板商量一下，明天给你答复")


class Tracker:
    """When each update finished: its last handler group ran (no handler runs with block=False:
    a paste is handled in its person's lane, bot/concurrency.py)."""

    def __init__(self) -> None:
        self.done: dict[int, float] = {}
        self.cpu_ms = 0.0  # process CPU per update in the throughput phase
        self.gc_ms = self.gc_max_ms = 0.0  # collector pauses in both phases: their sum and the longest
        self.p95_by_kind: dict[str, float] = {}
        self.cpu_by_kind: dict[str, float] = {}  # CPU ms per update by kind, one update at a time (cpu_by_kind)
        # Waiters are woken when the last awaited update finishes: polling the done-set would burn
        # CPU in the process under measurement.
        self._waiting: set[int] = set()
        self._all_done: asyncio.Event | None = None

    def finish(self, update_id: int) -> None:
        self.done[update_id] = time.monotonic()
        self._waiting.discard(update_id)
        if not self._waiting and self._all_done is not None:
            self._all_done.set()

    async def wait(self, ids: list[int], timeout: float) -> None:
        self._waiting = {i for i in ids if i not in self.done}
        self._all_done = asyncio.Event()
        if self._waiting:
            try:
                await asyncio.wait_for(self._all_done.wait(), timeout)
            except asyncio.TimeoutError:
                raise TimeoutError(f"{len(self._waiting)} updates not handled") from None

    def install(self, app) -> None:
        from telegram import Update
        from telegram.ext import TypeHandler

        async def mark(update: Update, _context) -> None:
            self.finish(update.update_id)
        app.add_handler(TypeHandler(Update, mark), group=10 ** 6)
        assert all(h.block is not False for hs in app.handlers.values() for h in hs), \
            "a block=False handler would finish after the mark: the figures would be wrong"


def _customer(rep: dict[str, Any], pick: float) -> tuple[int | None, str]:
    """The customer an update is about: one of the rep's ~200, the same for every bot in the run."""
    customers = rep.get("customers")
    if not customers:
        return None, rep["customer"]
    return customers[int(pick * len(customers))]


async def push(server: ServerProcess, token: str, kind: str, rep: dict[str, Any], pick: float = 0.0) -> int:
    cid, name = _customer(rep, pick)
    if kind == "save" and rep.get("saves"):  # salesbot: ✅ 确认保存 on a preview it sent earlier
        message_id, data = rep["saves"].pop()
        result = await server.control("press_button", user_id=rep["id"], message_id=message_id,
                                      callback_data=data, validate=False, token=token)
    elif kind in ("press", "save"):
        from core.callbacks import OpenCard
        data = OpenCard(cid).encode() if cid is not None else rep["data"]
        result = await server.control("press_button", user_id=rep["id"], message_id=rep["message_id"],
                                      callback_data=data, validate=False, token=token)
    elif kind == "log":
        result = await server.control("send_text", user_id=rep["id"], text=f"{name} 已报价5万 下周二回访",
                                      token=token)
    else:
        result = await server.control("send_text", user_id=rep["id"], text=PASTE, token=token)
    return result["update_id"]


# Button presses that open a card, follow-up lines ("王伟 已报价5万 下周二回访": a parsed preview),
# ✅ 确认保存 on such a preview (the save: amount, follow-up, task, points, then the card) and pastes.
MIX = {"press": 40, "log": 25, "save": 15, "paste": 20}


def workload(reps: list[dict], n: int, seed: int = 7) -> list[tuple[str, dict, float]]:
    rng = random.Random(seed)
    return [(rng.choices(tuple(MIX), tuple(MIX.values()))[0], reps[i % len(reps)], rng.random()) for i in range(n)]


async def wait_done(tracker: Tracker, ids: list[int], timeout: float = 300) -> float:
    await tracker.wait(ids, timeout)
    return max((tracker.done[i] for i in ids), default=time.monotonic())


class GcPauses:
    """The garbage collector's pauses while the block runs (a stop-the-world pause delays every update
    in flight: a candidate for the latency tail), in CPU time of the collecting thread (on a loaded
    machine the wall time of a pause also holds the time the process was not scheduled)."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._start = 0.0

    def _callback(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._start = time.thread_time()
        else:
            self.pauses.append((time.thread_time() - self._start) * 1000)

    def __enter__(self) -> "GcPauses":
        import gc
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        import gc
        gc.callbacks.remove(self._callback)


DB_PROFILER: list = [None]  # with --profile: the DB threads' transactions run under it (one update at a time)


def _profile_db(db) -> None:
    """With --profile: each transaction of ``db`` runs under DB_PROFILER[0] while it is set."""
    import threading
    lock = threading.Lock()

    def wrap(fn):
        def profiled(*args, **kwargs):
            profiler = DB_PROFILER[0]
            if profiler is None or not lock.acquire(blocking=False):
                return fn(*args, **kwargs)
            try:
                return profiler.runcall(fn, *args, **kwargs)
            finally:
                lock.release()
        return profiled
    db.call, db.call_read = wrap(db.call), wrap(db.call_read)


def cpu_workload(reps: list[dict], per_kind: int, seed: int = 13) -> list[tuple[str, dict, float]]:
    """The CPU phase's updates: ``per_kind`` of each kind in the mix, kind after kind."""
    rng = random.Random(seed)
    return [(kind, reps[rng.randrange(len(reps))], rng.random())
            for kind in MIX if MIX[kind] for _ in range(per_kind)]
