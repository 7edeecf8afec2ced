"""A save (✅ 确认保存) as handlers/updates.py runs it, in process on SQLite, without Telegram.

Run: python -m bench.updates_save [N]   (N saves a side, default 150; add "prof" for a cProfile listing)

Prints, per side and round (alternating): CPU per save and statements per save (BEGIN/COMMIT
included) for ``apply_draft`` followed by the card read in a second transaction (``two``: the code
before issue #18) and for ``_apply_with_card`` (``one``: the card built in the save's transaction)."""
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

for rnd, (name, fn) in enumerate((("warm", old), ("two", old), ("one", new), ("two", old), ("one", new))):
    count[0] = 0
    cpu = time.process_time()
    for i in range(N):
        user, cid = jobs[(i * 7 + rnd) % len(jobs)]
        assert fn(user, cid, i) is not None
    cpu = time.process_time() - cpu
    if name != "warm":
        print(f"save_{name}_cpu_ms_round{(rnd + 1) // 2}: {cpu / N * 1000:.2f}")
        print(f"save_{name}_statements_round{(rnd + 1) // 2}: {count[0] / N:.1f}")
if len(sys.argv) > 2:
    import cProfile, pstats
    pr = cProfile.Profile(time.process_time)
    pr.enable()
    for i in range(N):
        user, cid = jobs[(i * 11 + 3) % len(jobs)]
        new(user, cid, i)
    pr.disable()
    pstats.Stats(pr).sort_stats("cumulative").print_stats(f"{Path(__file__).resolve().parents[1]}/(services|handlers|storage)", 45)
