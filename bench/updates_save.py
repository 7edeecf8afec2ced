"""A save (✅ 确认保存) as handlers/updates.py runs it, in process on SQLite, without Telegram.

Run: python -m bench.updates_save [N]   (N saves a side, default 150; add "prof" for a cProfile listing)

Prints, per side and round: CPU per save and statements per save (BEGIN/COMMIT included) for
``apply_draft`` followed by the card read in a second transaction (``two``: the code before issue #18)
and for ``_apply_with_card`` (``one``: the card built in the save's transaction), and each side's mean.
Both sides of a round save the same customers, and which side goes first alternates by round."""
import sys, time, tempfile
from datetime import datetime, timedelta
from pathlib import Path
from sqlalchemy import event
from core.clock import Clock
from core.config import load_config
from services.core import Core
from storage.db import Database
from storage.migrate import upgrade
from storage.models import User
from sqlmodel import select
from bench.common import seed_reps, seed_customers
from handlers import updates as hu
from handlers.card import _card_for
from services.quick_update import Draft

N = int(sys.argv[1]) if len(sys.argv) > 1 else 150
ROUNDS = 4  # pairs (two, one): an even number, so each side goes first as often as second
tmp = Path(tempfile.mkdtemp())
url = f"sqlite:///{tmp/'s.db'}"
upgrade(url)
config = load_config()
now = datetime(2026, 11, 26, 1, 0)
clock = Clock(); clock.set(now)
core = Core(db=Database(url), config=config, clock=clock)
team_id = seed_reps(core.db, config, [1000 + i for i in range(10)], now)
owned = seed_customers(core.db, config, team_id, 40, now)
users = {u.id: u for u in core.db.call(lambda s: list(s.exec(select(User))))}
jobs = [(users[uid], cid) for uid, cs in owned.items() for cid, _ in cs]
count = [0]
def seen(*a):
    count[0] += 1
for eng in {core.db.engine, core.db.read_engine}:
    event.listen(eng, "before_cursor_execute", seen)

def old(user, cid, i):
    draft = Draft(text=f"已报价{i}万 下周二回访", amount=10000 + i, next_at=now + timedelta(days=2))
    core.db.call(hu.apply_draft, core, user, cid, draft, True)
    return core.db.call_read(_card_for, user, cid, core)

def new(user, cid, i):
    draft = Draft(text=f"已报价{i}万 下周二回访", amount=10000 + i, next_at=now + timedelta(days=2))
    return core.db.call(hu._apply_with_card, core, user, cid, draft, True)[3]

def side(fn, offset):
    """N saves on the customers of ``offset``: (CPU ms, statements) per save."""
    count[0] = 0
    cpu = time.process_time()
    for i in range(N):
        user, cid = jobs[(i * 7 + offset) % len(jobs)]
        assert fn(user, cid, i) is not None
    return (time.process_time() - cpu) / N * 1000, count[0] / N

side(old, 0), side(new, 0)  # warm both paths
totals = {"two": [0.0, 0.0], "one": [0.0, 0.0]}
for rnd in range(1, ROUNDS + 1):  # a pair per round on the same customers, its order alternating
    order = (("two", old), ("one", new)) if rnd % 2 else (("one", new), ("two", old))
    for name, fn in order:
        cpu_ms, statements = side(fn, rnd)
        totals[name][0] += cpu_ms
        totals[name][1] += statements
        print(f"save_{name}_cpu_ms_round{rnd}: {cpu_ms:.2f}")
        print(f"save_{name}_statements_round{rnd}: {statements:.1f}")
for name, (cpu_ms, statements) in totals.items():
    print(f"save_{name}_cpu_ms_mean: {cpu_ms / ROUNDS:.2f}")
    print(f"save_{name}_statements_mean: {statements / ROUNDS:.1f}")
if len(sys.argv) > 2:
    import cProfile, pstats
    pr = cProfile.Profile(time.process_time)
    pr.enable()
    for i in range(N):
        user, cid = jobs[(i * 11 + 3) % len(jobs)]
        new(user, cid, i)
    pr.disable()
    pstats.Stats(pr).sort_stats("cumulative").print_stats(f"{Path(__file__).resolve().parents[1]}/(services|handlers|storage)", 45)
