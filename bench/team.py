"""Benchmark: offboarding (离职继承) and the cross-team /查重 on a migrated SQLite file.

    python -m bench.team [--customers 10000] [--held 200,2000] [--lookups 200]

- ``offboard_s_<N>``: deactivating a rep who holds N customers (each with an open task), handing
  everything to two colleagues in turn: every row locked and re-read, a transfer activity per
  customer, tasks moved, the audit entries and one outbox notice per recipient — one transaction.
  Baseline in the same run, on the same rows: ``bare_update_s_<N>``, a single
  ``UPDATE customer SET owner_id = … WHERE owner_id = …`` (what a hand-over without history,
  locks or notices would cost).
- ``lookup_ms``: one /查重 by phone as a rep of another team (exact-key filtering, the per-person
  rate count and the audit entry); baseline ``check_duplicates_ms``: the duplicate guard's own
  query for the same phone, which the lookup wraps; ``audit_write_ms``: writing one audit row in
  its own transaction (the durable commit most of the difference is).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from bench.common import report

NOW = datetime(2026, 11, 26, 1, 0)


def seed(db, config, customers: int, held: list[int]):
    """Two teams; team A has a manager, two receiving reps, one leaver per entry of ``held``
    (each holding that many customers with a task each) and filler customers up to ``customers``."""
    from services import users as us
    from storage.models import Customer, Task, User

    def work(session):
        a = us.ensure_team(session, "A", "Asia/Shanghai", NOW)
        b = us.ensure_team(session, "B", "Asia/Shanghai", NOW)
        mk = lambda tg, name, role, team: User(tg_id=tg, name=name, role=role, team_id=team.id, joined_at=NOW)  # noqa: E731
        mgr, r1, r2, other = mk(1, "mgr", "manager", a), mk(2, "r1", "rep", a), mk(3, "r2", "rep", a), mk(4, "b", "rep", b)
        leavers = [mk(10 + i, f"leaver{i}", "rep", a) for i in range(len(held))]
        session.add_all([mgr, r1, r2, other, *leavers])
        session.flush()
        stage = config.stages[0].id
        n = 0
        rows, tasks = [], []
        for leaver, count in zip(leavers, held):
            for _ in range(count):
                rows.append(Customer(team_id=a.id, owner_id=leaver.id, name=f"客户{n}", company=f"公司{n}有限公司",
                                     company_norm=f"公司{n}", phone=f"138{n:08d}", phone_norm=f"138{n:08d}", stage=stage,
                                     stage_entered_at=NOW, created_at=NOW, updated_at=NOW, custom={},
                                     protected_until=NOW + timedelta(days=10)))
                n += 1
        while n < customers:
            rows.append(Customer(team_id=a.id, owner_id=r1.id, name=f"客户{n}", company=f"公司{n}有限公司",
                                 company_norm=f"公司{n}", phone=f"138{n:08d}", phone_norm=f"138{n:08d}", stage=stage,
                                 stage_entered_at=NOW, created_at=NOW, updated_at=NOW, custom={}))
            n += 1
        session.add_all(rows)
        session.flush()
        for c in rows:
            if c.owner_id not in (r1.id,):
                tasks.append(Task(customer_id=c.id, user_id=c.owner_id, text="回访", due_at=NOW + timedelta(days=1),
                                  created_at=NOW))
        session.add_all(tasks)
        return mgr.id, r1.id, r2.id, other.id, [u.id for u in leavers]
    return db.call(work)


def run(args) -> dict[str, float]:
    from sqlalchemy import text

    from core.clock import Clock
    from core.config import load_config
    from services import customers as cs
    from services import lookup
    from services import team as team_svc
    from services.core import Core
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models import User

    held = [int(x) for x in args.held.split(",")]
    config = load_config()
    out: dict[str, float] = {}
    work_dir = Path(tempfile.mkdtemp(prefix="bench-team-"))
    try:
        for mode in ("bare", "service"):
            url = f"sqlite:///{work_dir / f'{mode}.db'}"
            upgrade(url)
            db = Database(url)
            clock = Clock()
            clock.set(NOW)
            core = Core(db=db, config=config, clock=clock)
            mgr_id, r1, r2, other_id, leavers = seed(db, config, args.customers, held)
            for leaver, count in zip(leavers, held):
                start = time.perf_counter()
                if mode == "bare":
                    db.call(lambda s: s.execute(text("UPDATE customer SET owner_id = :to WHERE owner_id = :me"),
                                                {"to": r1, "me": leaver}))
                    out[f"bare_update_s_{count}"] = time.perf_counter() - start
                else:
                    mgr = db.call(lambda s: s.get(User, mgr_id))
                    db.call(team_svc.deactivate, core, mgr, leaver, team_svc.Handover("split", [r1, r2]))
                    out[f"offboard_s_{count}"] = time.perf_counter() - start
            if mode == "service":
                viewer = db.call(lambda s: s.get(User, other_id))
                config.duplicates.lookups_per_hour = args.lookups + 10
                phones = [f"138{i:08d}" for i in range(0, args.customers, max(1, args.customers // args.lookups))][:args.lookups]
                start = time.perf_counter()
                for phone in phones:
                    db.call(cs.check_duplicates, config, phone=phone)
                out["check_duplicates_ms"] = (time.perf_counter() - start) / len(phones) * 1000
                start = time.perf_counter()
                for phone in phones:
                    found = db.call(lookup.owner_lookup, config, viewer, phone, NOW)
                    assert found.hits and not found.hits[0].own_team
                out["lookup_ms"] = (time.perf_counter() - start) / len(phones) * 1000
                out["lookup_over_check_duplicates"] = out["lookup_ms"] / out["check_duplicates_ms"]
                from services import audit
                start = time.perf_counter()
                for phone in phones:
                    db.call(lambda s: audit.record(s, "lookup", NOW, actor=viewer, query=phone))
                out["audit_write_ms"] = (time.perf_counter() - start) / len(phones) * 1000
            db.close()
        for count in held:
            out[f"offboard_over_bare_update_{count}"] = out[f"offboard_s_{count}"] / out[f"bare_update_s_{count}"]
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--held", default="200,2000")
    parser.add_argument("--lookups", type=int, default=200)
    args = parser.parse_args(argv)
    for name, value in run(args).items():
        report(name, value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
