"""Engine, sessions and the rule that keeps database work off the event loop.

How we keep the event loop free: every query runs in ``Database.run(fn, ...)``, which hands a
*synchronous* SQLModel session to ``fn`` inside a small thread pool (``loop.run_in_executor``).
Handlers and jobs ``await db.run(...)``; they never touch a session directly.  The same service
functions are called synchronously by the CLI and the tests, so business logic has one form.

SQLite runs in WAL mode (readers never block the writer) with foreign keys on and a busy
timeout, set on every new connection.  PostgreSQL uses psycopg 3 (``postgresql+psycopg://``).
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)
T = TypeVar("T")
WRITE_WAIT_S = 30.0  # SQLite: how long a writer waits for its turn (= the busy timeout below)


class _NoLock:
    """PostgreSQL: transactions run side by side; row locks are the database's business."""

    def acquire(self, timeout: float = -1) -> bool:
        return True

    def release(self) -> None:
        pass


def normalize_url(url: str) -> str:
    """Accept the common spellings of a PostgreSQL URL and pick the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://", "postgresql+asyncpg://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_file(url: str) -> str | None:
    """The file behind a SQLite URL; None for an in-memory database (or another engine)."""
    if not is_sqlite(url) or "///" not in url:
        return None
    path = url.split("///", 1)[1]
    return path if path and path != ":memory:" else None


# Engines whose connections cannot write (SQLite readers): code that would write opportunistically
# (rollups brought current on read) asks ``is_read_only`` first instead of failing and logging.
READ_ONLY_ENGINES: "weakref.WeakSet[Engine]" = weakref.WeakSet()


def is_read_only(session) -> bool:
    try:
        return session.get_bind() in READ_ONLY_ENGINES
    except Exception:  # noqa: BLE001 — an unbound session is not a reader
        return False


def is_postgres(session) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


def make_engine(url: str, read_only: bool = False) -> Engine:
    """The engine; for SQLite, ``read_only`` gives one whose connections cannot write (reads in WAL
    mode then never wait for the writer, and a write slipped into a read fails loudly).
    ``hide_parameters``: an error message (and so a log line) never carries the values (names, phones)."""
    url = normalize_url(url)
    if is_sqlite(url):
        path = sqlite_file(url)
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, hide_parameters=True, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_reader_pragmas if read_only else _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_read if read_only else _sqlite_begin)
        if read_only:
            READ_ONLY_ENGINES.add(engine)
        return engine
    engine = create_engine(url, hide_parameters=True, pool_size=10, max_overflow=10, pool_pre_ping=True)
    event.listen(engine, "handle_error", _without_detail)
    return engine


def _without_detail(context: Any) -> None:
    """PostgreSQL's DETAIL line quotes the row (``Failing row contains (…, 13912345678, …)``,
    ``Key (phone)=(…)``): keep only the primary message in the exception text (it is logged);
    the full diagnostics stay on ``exc.orig.diag`` for code that needs them."""
    for exc in (context.original_exception, context.sqlalchemy_exception):
        if exc is not None and exc.args and isinstance(exc.args[0], str) and "\nDETAIL:" in exc.args[0]:
            head, _, rest = exc.args[0].partition("\nDETAIL:")
            sql = rest.rfind("\n[SQL: ")  # the statement (no values) that SQLAlchemy appends
            exc.args = (head + (rest[sql:] if sql >= 0 else ""),) + tuple(exc.args[1:])


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite opens transactions lazily, at the first write: reads before it run outside the
    # transaction and a SAVEPOINT taken before any write is committed on release. We take
    # transaction control ourselves (SQLAlchemy's pysqlite recipe) so a session is one real
    # transaction; see _sqlite_begin.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_reader_pragmas(dbapi_conn: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_conn, record)
    dbapi_conn.execute("PRAGMA query_only=ON")


def _sqlite_begin_read(conn: Any) -> None:
    """A read transaction: one snapshot for all its queries, no write lock."""
    conn.exec_driver_sql("BEGIN")


def _sqlite_begin(conn: Any) -> None:
    """BEGIN IMMEDIATE: take the write lock at the start, so a transaction that reads and then
    writes never fails with SQLITE_BUSY_SNAPSHOT (busy_timeout cannot retry that one); writers
    queue on the busy timeout instead. Readers of other processes are not blocked (WAL)."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The engines plus the thread pool that runs all queries for async callers.

    ``run``/``call`` are read-write transactions; ``read`` is for the hot read paths (a card, a
    candidate lookup, a list).  With SQLite, a read never waits for the writer (WAL), and writers
    of this process queue on locks instead of on SQLite's busy handler, which polls with sleeps
    of 1, 2, 5 … 100 ms — with updates handled side by side that turned every collision into
    milliseconds of idle waiting: async callers on an asyncio lock (no DB thread is held while
    waiting), every caller on a thread lock around the transaction.  Other processes still meet
    the busy timeout.
    """

    def __init__(self, url: str, workers: int | None = None) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url)
        # A second engine only for a SQLite file (an in-memory database exists once per engine).
        self.read_engine = make_engine(self.url, read_only=True) if sqlite_file(self.url) else self.engine
        self._writer = threading.RLock() if is_sqlite(self.url) else _NoLock()
        self._write_queues: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # event loop -> lock
        # SQLite has one writer at a time: more threads only fight over the GIL. PostgreSQL runs
        # transactions side by side, and each waits on the network.
        workers = workers or (3 if is_sqlite(self.url) else 8)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="db")

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @contextmanager
    def session(self, read_only: bool = False) -> Iterator[Session]:
        """A transaction: commit on success, roll back on any exception (nothing half-written)."""
        with contextlib.nullcontext() if read_only else self._write_turn():
            with Session(self.read_engine if read_only else self.engine, expire_on_commit=False) as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise

    @contextmanager
    def _write_turn(self) -> Iterator[None]:
        """This process's turn to write (SQLite); as long a wait as SQLite's own busy timeout."""
        if not self._writer.acquire(timeout=WRITE_WAIT_S):
            raise TimeoutError(f"the database stayed busy for {WRITE_WAIT_S:.0f} s (another write transaction)")
        try:
            yield
        finally:
            self._writer.release()

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(session, *args)`` in one transaction, synchronously (CLI, tests, threads)."""
        with self.session() as session:
            return fn(session, *args, **kwargs)

    def call_read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``call`` for work that only reads."""
        with self.session(read_only=True) as session:
            return fn(session, *args, **kwargs)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(session, *args)`` in one transaction on the DB thread pool (never on the loop)."""
        loop = asyncio.get_running_loop()
        call = functools.partial(self.call, fn, *args, **kwargs)
        if not self.is_sqlite:
            return await loop.run_in_executor(self._pool, call)
        # SQLite writers queue here, holding no DB thread while they wait, so reads keep flowing.
        async with self._queue_for(loop):
            return await loop.run_in_executor(self._pool, call)

    @contextlib.asynccontextmanager
    async def write_turn(self):
        """This async caller's turn to write (SQLite: its place in the writers' queue; PostgreSQL: at
        once).  Inside it, ``run_in_turn`` runs a transaction without queueing again — for work that
        is gathered while waiting (bot/dedupe.py claims every update that arrived meanwhile)."""
        if not self.is_sqlite:
            yield
            return
        async with self._queue_for(asyncio.get_running_loop()):
            yield

    async def run_in_turn(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``run`` inside ``write_turn`` (which it does not take again)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(self.call, fn, *args, **kwargs))

    def _queue_for(self, loop: asyncio.AbstractEventLoop) -> asyncio.Lock:
        queue = self._write_queues.get(loop)
        if queue is None:
            queue = self._write_queues[loop] = asyncio.Lock()
        return queue

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``run`` for work that only reads (SQLite refuses a write in it)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(self.call_read, fn, *args, **kwargs))

    def is_empty(self) -> bool:
        return not inspect(self.engine).get_table_names()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.engine.dispose()
        self.read_engine.dispose()
