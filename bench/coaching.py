"""Benchmark: what the coaching features (issue 16) add to the morning digest, and the weekly review.

    python -m bench.coaching [--scale 0.1] [--dir DIR] [--keep]

Seeds the same database as bench.digest (at 1.0: 50 teams, 100,000 customers, 200,000 checklist
steps, 200,000 stage moves over 90 days) and, in the same run and on the same file, times:
all teams' digests (``digest.build_many``) with the stalled-deal escalations and without them (the
baseline: the same call with the escalation query replaced by an empty answer), the escalation
query alone, one team's weekly review, and the pilot comparison (one team pilots ``pre_quote``).
"""
from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import report
from bench.digest import NOW, seed


def best_of(fn, n: int = 3) -> float:
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure(path: Path) -> dict[str, float]:
    from sqlmodel import select

    from core.config import load_config
    from services import digest, pilot, review
    from services import stalls as stall_svc
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models import Team

    url = f"sqlite:///{path}"
    upgrade(url)  # a no-op when the seed already ran at this head
    config = load_config().model_copy(update={"modules_enabled": ["core", "first_visit"]})
    db = Database(url)
    try:
        teams = db.call(lambda s: [t.id for t in s.exec(select(Team).order_by(Team.id))])

        def pilot_team(s):
            team = s.get(Team, teams[0])
            team.modules = ["core", "first_visit", "pre_quote"]
            s.add(team)
        db.call(pilot_team)
        out: dict[str, float] = {}
        out["escalated_deals"] = sum(n for n, _ in db.call(stall_svc.escalations, config, teams, NOW).values())
        out["digest_s"] = best_of(lambda: db.call(digest.build_many, config, teams, NOW))
        original = stall_svc.escalations
        stall_svc.escalations = lambda session, config, team_ids, now, limit=5: {t: (0, []) for t in team_ids}
        try:
            out["digest_without_escalations_s"] = best_of(lambda: db.call(digest.build_many, config, teams, NOW))
        finally:
            stall_svc.escalations = original
        out["escalations_s"] = best_of(lambda: db.call(stall_svc.escalations, config, teams, NOW))
        out["review_one_team_s"] = best_of(lambda: db.call(review.build, config, teams[1], NOW, []))
        out["pilot_compare_s"] = best_of(lambda: db.call(pilot.impacts, config, NOW), n=2)
        out["digest_overhead_ratio"] = out["digest_s"] / out["digest_without_escalations_s"]
        return out
    finally:
        db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    import logging
    logging.disable(logging.WARNING)
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="bench-coaching-"))
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"coaching_{int(args.scale * 100)}.db"
    path.unlink(missing_ok=True)
    try:
        seed(path, args.scale, random.Random(42))
        for name, value in measure(path).items():
            report(name, value)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
