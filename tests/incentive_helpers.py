"""Shared set-up for the incentives, digest and leaderboard tests (not a test module)."""
from __future__ import annotations

from datetime import datetime, timedelta

from services import customers as cs
from services import users as us
from storage.models import User


def make_team(core, reps: int = 3, names: list[str] | None = None) -> tuple[User, User, list[User]]:
    """An admin, a manager and ``reps`` reps (joined through invites, like real users)."""
    def setup(session):
        now = core.clock.now()
        admin = us.add_admin(session, 1, "Ada", core.config.team.name, core.config.team.timezone, now)
        inv = us.create_invite(session, admin, now, 72, "manager")
        mgr = us.redeem_invite(session, inv.code, 2, "王经理", None, "zh", now).user
        out = []
        for i in range(reps):
            code = us.create_invite(session, mgr, now, 72).code
            name = names[i] if names else f"销售{i + 1}"
            out.append(us.redeem_invite(session, code, 100 + i, name, None, "zh", now).user)
        return admin, mgr, out
    return core.db.call(setup)


POOL = "甲乙丙丁戊己庚辛壬癸金木水火土日月星云山川河海江湖松竹梅兰菊桃李杏柳"


def company_name(n: int) -> str:
    """Distinct enough that the fuzzy duplicate guard never fires between test customers."""
    k = len(POOL)
    return POOL[n % k] + POOL[(n * 7 + 3) % k] + POOL[(n * 11 + 5) % k] + POOL[(n // k + 9) % k] + "有限公司"


def new_customer(core, rep: User, n: int, **extra):
    data = {"name": f"客户{n}", "company": company_name(n), "phone": f"139{n:08d}", "source": "官网表单"}
    data.update(extra)
    result = core.db.call(cs.create_customer, core.config, rep.team_id, data, core.clock.now(), actor=rep, owner_id=rep.id)
    assert result.customer is not None, result
    return result.customer


def fill(core, rep: User, customer_id: int, **fields) -> None:
    def work(session):
        c = cs.get_for(session, rep, customer_id)
        for name, value in fields.items():
            cs.set_field(session, core.config, rep, c, name, value, core.clock.now())
    core.db.call(work)


def advance(core, rep: User, customer_id: int):
    def work(session):
        c = cs.get_for(session, rep, customer_id)
        return cs.advance_stage(session, core.config, rep, c, core.clock.now())
    return core.db.call(work)


def complete(core, rep: User, customer_id: int, item_id: str):
    def work(session):
        c = cs.get_for(session, rep, customer_id)
        return cs.complete_item(session, core.config, rep, c, item_id, core.clock.now())
    return core.db.call(work)


def followup(core, rep: User, customer_id: int, text: str, next_at: datetime | None = None):
    def work(session):
        c = cs.get_for(session, rep, customer_id)
        return cs.log_followup(session, core.config, rep, c, text, core.clock.now(), next_at=next_at)
    return core.db.call(work)


def to_stage(core, rep: User, customer_id: int, stage_id: str) -> None:
    """Fill what each stage requires and advance until the customer is in ``stage_id``."""
    values = {"contact": "张伟", "industry": "机械", "main_product": "数控机床",
              "size": "200人", "budget": "50万", "amount": "48万", "decision_maker": "李总", "contract_no": "HT-001"}
    while True:
        c = core.db.call(lambda s: s.get(__import__("storage.models", fromlist=["Customer"]).Customer, customer_id))
        if c.stage == stage_id:
            return
        stage = core.config.stage(c.stage)
        needed = {f: values[f] for f in stage.required_fields if f in values}
        if needed:
            fill(core, rep, customer_id, **needed)
        assert advance(core, rep, customer_id).status in ("moved", "won")


def later(core, **delta) -> None:
    core.clock.advance(timedelta(**delta))


# --- bulk seeding for the digest and leaderboard tests --------------------------------------------

def seed_rows(core, team_id: int, reps: list[User], seed: int = 7, customers: int = 80) -> None:
    """A month of plausible, random (but seeded) activity written straight into the tables."""
    import random

    from storage.models import Activity, ChecklistDone, Customer, PointsEntry, SpotCheck, StageChange

    rng = random.Random(seed)
    now = core.clock.now()
    config = core.config
    stage_ids = [s.id for s in config.stages]
    items = [(s.id, i.id) for s in config.stages for i in s.checklist]

    def work(session):
        rows = []
        for n in range(customers):
            owner = rng.choice(reps)
            status = rng.choices(["open", "won", "lost"], [8, 1, 1])[0]
            entered = now - timedelta(days=rng.uniform(0, 25))
            c = Customer(team_id=team_id, owner_id=owner.id, name=f"种子客户{n}", company=f"种子公司{n}",
                         phone=f"1380000{n:04d}", stage=rng.choice(stage_ids), status=status, stage_entered_at=entered,
                         created_at=entered - timedelta(days=3), updated_at=now - timedelta(days=rng.uniform(0, 5)),
                         completeness=rng.choice([20, 40, 60, 80, 100]),
                         next_followup_at=now + timedelta(days=rng.uniform(-6, 6)) if rng.random() < 0.8 else None,
                         intent_score=rng.randint(0, 100), intent_level=None, invalid=rng.random() < 0.05,
                         custom={}, tags=[])
            c.intent_level = "high" if c.intent_score >= 80 else "medium"
            session.add(c)
            rows.append(c)
        session.flush()
        kinds = ["followup", "followup", "followup", "checklist", "stage", "create", "field", "paste"]
        for _ in range(400):
            c = rng.choice(rows)
            user = rng.choice(reps)
            session.add(Activity(customer_id=c.id, user_id=user.id, kind=rng.choice(kinds), text="种子记录",
                                 at=now - timedelta(hours=rng.uniform(0, 72)), data={}))
        used = set()
        for _ in range(150):
            c = rng.choice(rows)
            stage, item = rng.choice(items)
            if (c.id, stage, item) in used:
                continue
            used.add((c.id, stage, item))
            session.add(ChecklistDone(customer_id=c.id, stage=stage, item_id=item, user_id=rng.choice(reps).id,
                                      at=now - timedelta(days=rng.uniform(0, 40)), within_expected=rng.random() < 0.7))
        for _ in range(150):
            c = rng.choice(rows)
            to = rng.choice(stage_ids[1:] + ["won"])
            session.add(StageChange(customer_id=c.id, from_stage=rng.choice(stage_ids), to_stage=to,
                                    by_user_id=rng.choice(reps).id, at=now - timedelta(days=rng.uniform(0, 40)),
                                    complete_data=rng.random() < 0.8))
        for _ in range(300):
            user = rng.choice(reps)
            status = rng.choices(["awarded", "pending", "rejected", "reversal", "redeemed"], [10, 1, 1, 1, 1])[0]
            pts = rng.randint(1, 20) * (-1 if status in ("reversal", "redeemed") else 1)
            session.add(PointsEntry(user_id=user.id, team_id=team_id, action="followup_logged", points=pts, status=status,
                                    at=now - timedelta(days=rng.uniform(0, 45))))
        for c in rng.sample(rows, 6):
            session.add(SpotCheck(customer_id=c.id, manager_id=reps[0].id, owner_id=c.owner_id,
                                  result=rng.choice(["flagged", "ok"]), reason="bad_data",
                                  drawn_at=now - timedelta(days=1), decided_at=now - timedelta(hours=rng.uniform(1, 30))))
        session.flush()
    core.db.call(work)


# --- database choice ------------------------------------------------------------------------------
# The incentives tests run on SQLite; PostgreSQL gets one combined pass per module (pg_core), which
# keeps the suite fast while still exercising the dialect (window functions, CASE sums, JSON).

def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'salesbot.db'}"


class pg_core:
    """``with pg_core(config) as core:`` — a migrated private PostgreSQL schema and a Core on it."""

    def __init__(self, config) -> None:
        self.config = config

    def __enter__(self):
        from core.clock import Clock
        from services.core import Core
        from storage.db import Database
        from storage.migrate import upgrade
        from tests.conftest import fresh_pg_schema_url
        self.url, self.schema = fresh_pg_schema_url()
        upgrade(self.url)
        clock = Clock()
        clock.set(datetime(2026, 11, 26, 1, 0))
        self.core = Core(db=Database(self.url), config=self.config, clock=clock)
        return self.core

    def __exit__(self, *exc) -> None:
        from tests.conftest import drop_pg_schema
        self.core.db.close()
        drop_pg_schema(self.schema)


def run_seeded_on_postgresql(config, seed, *checks) -> None:
    """Seed one private PostgreSQL schema and run each ``check(core, data)`` on it (the seeded
    SQLite tests, repeated on the other dialect)."""
    with pg_core(config) as core:
        data = seed(core)
        for check in checks:
            check(core, data)
