"""What one lead costs on the single-lead path: statements, transactions, CPU, time waiting on the server.

Run: python -m bench.ingest_profile [--pg|--sqlite] [--leads N] [--profile PATH]

Two parts, each on a fresh migrated database set up as bench.ingest sets it up (8 reps, the
round-robin row):

* in process, one lead at a time (``prepare_or_problems`` + the request's transaction as
  ingest/server.py runs it: the nonce, then ``process_lead``): statements per lead (counted with
  SQLAlchemy's ``before_cursor_execute``; an executemany counts once), CPU per lead
  (``time.process_time``), wall per lead, and their difference — the time spent waiting on the
  database server; ``--profile`` writes cProfile of that loop;
* over HTTP as bench.ingest posts (16 at a time, grouped commits): statements and transactions
  per lead, this process's CPU per lead, for the pipeline and for bench.ingest's Core baseline.
"""
from __future__ import annotations

import asyncio
import collections
import cProfile
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

from bench import ingest as bi


class Counter:
    def __init__(self, engine) -> None:
        self.statements = 0
        self.commits = 0
        self.kinds: collections.Counter = collections.Counter()
        self.spent: collections.Counter = collections.Counter()  # wall seconds per statement text
        self.engine = engine
        self._started = 0.0
        event.listen(engine, "before_cursor_execute", self._stmt)
        event.listen(engine, "after_cursor_execute", self._done)
        event.listen(engine, "commit", self._commit)

    def _stmt(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements += 1
        self.kinds[" ".join(statement.split())[:90]] += 1
        self._started = time.perf_counter()

    def _done(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.spent[" ".join(statement.split())[:90]] += time.perf_counter() - self._started

    def _commit(self, conn) -> None:
        self.commits += 1

    def reset(self) -> None:
        self.statements = self.commits = 0
        self.kinds.clear()


def _setup(kind: str, tmp: Path, pg: str | None, name: str):
    core, _, cleanup, rep = bi.new_team_core(kind, tmp, pg, name)
    return core, cleanup, rep


def in_process(kind: str, tmp: Path, pg: str | None, leads: int, profile: str | None) -> dict[str, float]:
    from ingest import auth
    from ingest.auth import signed_headers
    from ingest.leads import prepare_or_problems, process_lead
    core, cleanup, _ = _setup(kind, tmp, pg, "inproc")
    try:
        def one(i: int) -> None:
            body = json.dumps(bi._lead(i), ensure_ascii=False).encode()
            headers = signed_headers("website", bi.SECRET, body, int(time.time()))
            now = core.clock.now()
            caller = auth.authenticate(headers, body, core.config, now.timestamp())
            lead = prepare_or_problems(core, caller, json.loads(body), now)

            def work(session):  # as ingest/server.py runs a single lead
                nonce = auth.nonce_row(caller, core.config, now) if not core.db.is_sqlite and hasattr(auth, "nonce_row") \
                    else None
                if nonce is None:
                    auth.claim_signature(session, caller, core.config, now)
                    return process_lead(session, core, caller, lead, ref=f"sig:{caller.signature[:16]}", now=now)
                return process_lead(session, core, caller, lead, ref=f"sig:{caller.signature[:16]}", now=now,
                                    nonce=nonce)
            outcome = core.db.call(work)
            assert outcome.status == 201, outcome.body

        for i in range(80_000_000, 80_000_030):  # warm-up
            one(i)
        counter = Counter(core.db.engine)
        prof = cProfile.Profile() if profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if prof:
            prof.enable()
        for i in range(leads):
            one(i)
        if prof:
            prof.disable()
            prof.dump_stats(profile)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        sfx = "" if kind == "sqlite" else "_pg"
        print(f"# statements in one lead's transaction ({kind}):", file=sys.stderr)
        for sql, n in counter.kinds.most_common():
            print(f"#   {n / leads:5.2f}  {counter.spent[sql] / leads * 1000:6.2f} ms  {sql}", file=sys.stderr)
        return {f"inproc_statements_per_lead{sfx}": counter.statements / leads,
                f"inproc_cpu_ms_per_lead{sfx}": cpu / leads * 1000,
                f"inproc_wall_ms_per_lead{sfx}": wall / leads * 1000,
                f"inproc_wait_ms_per_lead{sfx}": (wall - cpu) / leads * 1000}
    finally:
        core.db.close()
        cleanup()


async def over_http(kind: str, tmp: Path, pg: str | None, leads: int) -> dict[str, float]:
    import aiohttp

    from ingest.auth import signed_headers
    from ingest.server import build_app
    core, c1, _ = _setup(kind, tmp, pg, "http")
    base_core, c2, (rep_id, rep_tg) = _setup(kind, tmp, pg, "httpcore")
    sfx = "" if kind == "sqlite" else "_pg"
    out: dict[str, float] = {}

    def requests(start: int, count: int):
        items = []
        for i in range(start, start + count):
            body = json.dumps(bi._lead(i), ensure_ascii=False).encode()
            headers = signed_headers("website", bi.SECRET, body, int(time.time()))
            headers["Content-Type"] = "application/json"
            items.append((body, headers))
        return items

    runners = []
    try:
        r1, u1 = await bi._serve(build_app(core))
        r2, u2 = await bi._serve(bi._core_baseline_app(base_core, bi._baseline_rows(rep_id, rep_tg)))
        runners += [r1, r2]
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=bi.CONCURRENCY)) as session:
            for name, c, url, start in (("pipeline", core, u1, 0), ("core", base_core, u2, 50_000_000)):
                await bi._blast(session, url + "/api/leads", requests(start + 90_000_000, 30), (201,))
                counter = Counter(c.db.engine)
                bodies = requests(start, leads)
                cpu, wall = time.process_time(), time.perf_counter()
                await bi._blast(session, url + "/api/leads", bodies, (201,))
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                out[f"http_{name}_statements_per_lead{sfx}"] = counter.statements / leads
                out[f"http_{name}_commits_per_lead{sfx}"] = counter.commits / leads
                out[f"http_{name}_cpu_ms_per_lead{sfx}"] = cpu / leads * 1000
                out[f"http_{name}_per_s{sfx}"] = leads / wall
        out[f"http_ratio_to_core{sfx}"] = out[f"http_pipeline_per_s{sfx}"] / out[f"http_core_per_s{sfx}"]
    finally:
        for r in runners:
            await r.cleanup()
        for c, cl in ((core, c1), (base_core, c2)):
            c.db.close()
            cl()
    return out


def main() -> None:
    args = sys.argv[1:]
    os.environ["SALESBOT_SOURCE_WEBSITE_SECRET"] = bi.SECRET
    leads = int(args[args.index("--leads") + 1]) if "--leads" in args else 300
    profile = args[args.index("--profile") + 1] if "--profile" in args else None
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-profile-"))
    kinds = ["sqlite"] if "--sqlite" in args else ["postgresql"] if "--pg" in args else ["sqlite", "postgresql"]
    for kind in kinds:
        pg = bi._pg_url() if kind == "postgresql" else None
        if kind == "postgresql" and pg is None:
            continue
        figures = in_process(kind, tmp, pg, leads, profile and f"{profile}.{kind}")
        if "--no-http" not in args:
            figures.update(asyncio.run(over_http(kind, tmp, pg, leads)))
        for name, value in figures.items():
            print(f"{name}: {value:.3f}" if "ratio" in name or "per_lead" in name else f"{name}: {value:.1f}", flush=True)


if __name__ == "__main__":
    main()
