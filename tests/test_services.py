"""Service layer on a real database (SQLite file, and PostgreSQL when it answers)."""
from datetime import datetime, timedelta

import pytest

from sqlalchemy import inspect, text
from sqlmodel import select

from scheduler.jobs import run_due_jobs
from services import customers as cs
from services import pool as pool_svc
from services import users as us
from services.points import balance
from storage.migrate import current_revision, head_revision
from storage.models import Activity, FieldHistory, JobRun, Outbox, StageChange, User


def team_with(core, reps=2):
    def setup(session):
        now = core.clock.now()
        admin = us.add_admin(session, 1, "Ada", core.config.team.name, core.config.team.timezone, now)
        inv = us.create_invite(session, admin, now, 72, "manager")
        mgr = us.redeem_invite(session, inv.code, 2, "经理王", None, "zh", now).user
        out = [admin, mgr]
        for i in range(reps):
            code = us.create_invite(session, mgr, now, 72).code
            out.append(us.redeem_invite(session, code, 100 + i, f"销售{i}", None, "zh", now).user)
        return out
    return core.db.call(setup)


def create(core, actor, **data):
    return core.db.call(cs.create_customer, core.config, actor.team_id, data, core.clock.now(), actor=actor, owner_id=actor.id)


def test_schema_is_migrated_and_ids_are_64_bit(db):
    assert current_revision(db) == head_revision()
    cols = {c["name"]: c for c in inspect(db.engine).get_columns("user")}
    assert "BIGINT" in str(cols["tg_id"]["type"]).upper() or db.is_sqlite
    big = 2**40 + 7
    db.call(lambda s: s.add(User(tg_id=big, name="big", joined_at=datetime(2026, 1, 1))))
    assert db.call(lambda s: s.exec(select(User).where(User.tg_id == big)).one().tg_id) == big


def test_sqlite_wal_and_foreign_keys(tmp_path):
    from storage.db import Database
    from storage.migrate import upgrade
    url = f"sqlite:///{tmp_path/'x.db'}"
    upgrade(url)
    db = Database(url)
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_reads_see_committed_data_and_never_wait_for_a_writer(tmp_path):
    """A read transaction takes no write lock: it runs while another transaction holds it, sees
    only committed rows, and SQLite refuses a write slipped into it."""
    import threading

    from sqlalchemy.exc import OperationalError

    from storage.db import Database
    from storage.migrate import upgrade
    url = f"sqlite:///{tmp_path/'x.db'}"
    upgrade(url)
    db = Database(url)
    db.call(lambda s: s.add(User(tg_id=1, name="a", joined_at=datetime(2026, 1, 1))))
    holding, release = threading.Event(), threading.Event()

    def slow_writer(session):
        session.add(User(tg_id=2, name="b", joined_at=datetime(2026, 1, 1)))
        session.flush()
        holding.set()
        assert release.wait(10)

    writer = threading.Thread(target=db.call, args=(slow_writer,))
    writer.start()
    try:
        assert holding.wait(10)
        # The writer holds the lock: a read still answers, from the last committed state.
        assert db.call_read(lambda s: sorted(u.tg_id for u in s.exec(select(User)))) == [1]
        with pytest.raises(OperationalError, match="readonly"):
            db.call_read(lambda s: s.add(User(tg_id=3, name="c", joined_at=datetime(2026, 1, 1))))
    finally:
        release.set()
        writer.join()
    assert db.call_read(lambda s: sorted(u.tg_id for u in s.exec(select(User)))) == [1, 2]
    db.close()


def test_an_in_memory_database_reads_what_it_wrote():
    """No second engine for :memory: (it would be a different, empty database)."""
    from storage.db import Database
    db = Database("sqlite://")
    db.call(lambda s: s.connection().exec_driver_sql("CREATE TABLE t (a INTEGER)"))
    db.call(lambda s: s.connection().exec_driver_sql("INSERT INTO t VALUES (1)"))
    assert db.call_read(lambda s: s.connection().exec_driver_sql("SELECT count(*) FROM t").scalar()) == 1
    db.close()

async def test_writers_of_one_process_queue_in_order_without_losing_any(tmp_path):
    """Many concurrent read-modify-write transactions on the DB threads: none fails with
    'database is locked' and none overwrites another's increment."""
    import asyncio

    from storage.db import Database
    from storage.migrate import upgrade
    url = f"sqlite:///{tmp_path/'x.db'}"
    upgrade(url)
    db = Database(url)
    db.call(lambda s: s.add(User(tg_id=7, name="0", joined_at=datetime(2026, 1, 1))))

    def increment(session):
        user = session.exec(select(User).where(User.tg_id == 7)).one()
        user.name = str(int(user.name) + 1)
        session.add(user)

    await asyncio.gather(*(db.run(increment) for _ in range(60)), *(db.read(lambda s: s.exec(select(User)).all())
                                                                   for _ in range(60)))
    assert db.call_read(lambda s: s.exec(select(User).where(User.tg_id == 7)).one().name) == "60"
    db.close()


def test_invite_is_single_use_and_expires(core):
    admin, mgr, rep, _ = team_with(core)
    code = core.db.call(us.create_invite, mgr, core.clock.now(), 1).code
    core.db.call(us.redeem_invite, code, 555, "新人", None, "zh", core.clock.now())
    try:
        core.db.call(us.redeem_invite, code, 556, "又一个", None, "zh", core.clock.now())
        raise AssertionError("reused invite accepted")
    except us.InviteError as exc:
        assert exc.reason == "used"
    code2 = core.db.call(us.create_invite, mgr, core.clock.now(), 1).code
    try:
        core.db.call(us.redeem_invite, code2, 557, "迟到", None, "zh", core.clock.now() + timedelta(hours=2))
        raise AssertionError("expired invite accepted")
    except us.InviteError as exc:
        assert exc.reason == "expired"


def test_duplicates_by_phone_and_subsidiary(core):
    _, mgr, rep_a, rep_b = team_with(core)
    first = create(core, rep_a, name="张总", company="华东精密机械集团有限公司", phone="13800138000", source="官网表单")
    assert first.customer is not None
    by_phone = create(core, rep_b, name="张经理", company="别的公司", phone="+86 138-0013-8000", source="外呼")
    assert by_phone.customer is None and by_phone.duplicates[0].reason == "phone"
    by_group = create(core, rep_b, name="李总", company="华东精密机械(苏州)分公司", phone="13900139000", source="外呼")
    assert by_group.customer is None and by_group.duplicates[0].reason == "group"
    assert by_group.duplicates[0].customer.owner_id == rep_a.id
    different = create(core, rep_b, name="王总", company="华南精密机械有限公司", phone="13700137000", source="外呼")
    assert different.customer is not None


def test_gate_blocks_stage_move_until_fields_filled(core):
    _, _, rep, _ = team_with(core)
    c = create(core, rep, name="张总", phone="13800138000", source="官网表单").customer

    def advance(session):
        cust = session.get(cs.Customer, c.id)
        return cs.advance_stage(session, core.config, rep, cust, core.clock.now())
    assert core.db.call(advance).status == "moved"  # lead → contact (name, phone, source present)
    blocked = core.db.call(advance)
    assert blocked.status == "blocked" and set(blocked.missing) == {"company", "contact", "industry"}
    for field, value in [("company", "华东精密"), ("contact", "张伟"), ("industry", "机械制造")]:
        core.db.call(lambda s, f=field, v=value: cs.set_field(s, core.config, rep, s.get(cs.Customer, c.id), f, v, core.clock.now()))
    assert core.db.call(advance).status == "moved"
    history = core.db.call(lambda s: s.exec(select(FieldHistory).where(FieldHistory.customer_id == c.id)).all())
    assert {h.field for h in history} >= {"company", "contact", "industry", "phone"}
    moves = core.db.call(lambda s: s.exec(select(StageChange).where(StageChange.customer_id == c.id)).all())
    assert [m.to_stage for m in moves] == ["lead", "contact", "needs"]


def test_rep_cannot_see_other_reps_customer(core):
    _, mgr, rep_a, rep_b = team_with(core)
    c = create(core, rep_a, name="张总", phone="13800138000", source="官网表单").customer
    assert core.db.call(cs.get_for, rep_b, c.id) is None
    assert core.db.call(cs.get_for, rep_a, c.id) is not None
    assert core.db.call(cs.get_for, mgr, c.id) is not None
    assert core.db.call(cs.list_visible, rep_b)[1] == 0


def test_checklist_points_and_evidence(core):
    _, _, rep, _ = team_with(core)
    c = create(core, rep, name="张总", phone="13800138000", source="官网表单").customer
    done = core.db.call(lambda s: cs.complete_item(s, core.config, rep, s.get(cs.Customer, c.id), "verify_contact", core.clock.now()))
    assert done.status == "done" and done.points == 2
    again = core.db.call(lambda s: cs.complete_item(s, core.config, rep, s.get(cs.Customer, c.id), "verify_contact", core.clock.now()))
    assert again.status == "already"
    assert core.db.call(balance, rep.id) == 2


def test_pool_warning_release_claim_and_cooldown(core):
    _, _, rep_a, rep_b = team_with(core)
    c = create(core, rep_a, name="张总", phone="13800138000", source="官网表单").customer
    team_id = rep_a.team_id
    now = core.clock.now()
    warned = core.db.call(pool_svc.warn_due, core.config, team_id, now + timedelta(days=8, hours=1))
    assert [x[0].id for x in warned] == [c.id]
    assert core.db.call(pool_svc.warn_due, core.config, team_id, now + timedelta(days=8, hours=2)) == []
    released = core.db.call(pool_svc.release_due, core.config, team_id, now + timedelta(days=10, hours=1))
    assert [x[0].id for x in released] == [c.id]
    later = now + timedelta(days=10, hours=2)
    refused = core.db.call(pool_svc.claim, core.config, rep_a, c.id, later)
    assert not refused.ok and refused.reason_key == "claim_cooldown"
    ok = core.db.call(pool_svc.claim, core.config, rep_b, c.id, later)
    assert ok.ok and ok.customer.owner_id == rep_b.id


def test_reps_claiming_one_pool_customer_at_once_get_it_once(core):
    """Updates from different reps run side by side now: on PostgreSQL two claims may interleave."""
    from concurrent.futures import ThreadPoolExecutor
    _, _, *reps = team_with(core, reps=6)
    c = create(core, reps[0], name="张总", phone="13800138000", source="官网表单").customer
    now = core.clock.now()
    core.db.call(pool_svc.release_due, core.config, reps[0].team_id, now + timedelta(days=10, hours=1))
    later = now + timedelta(days=10, hours=2)
    with ThreadPoolExecutor(max_workers=5) as pool:
        results = list(pool.map(lambda rep: core.db.call(pool_svc.claim, core.config, rep, c.id, later), reps[1:]))
    winners = [r for r in results if r.ok]
    assert len(winners) == 1 and sorted(r.reason_key for r in results if not r.ok) == ["claim_has_owner"] * 4
    owner = core.db.call(lambda s: s.get(cs.Customer, c.id)).owner_id
    assert owner == winners[0].customer.owner_id
    claims = core.db.call(lambda s: s.exec(select(Activity).where(Activity.kind == "claim")).all())
    assert [a.user_id for a in claims] == [owner]


def test_followups_extend_protection_up_to_the_cap(core):
    _, _, rep, _ = team_with(core)
    c = create(core, rep, name="张总", phone="13800138000", source="官网表单").customer
    now = core.clock.now()
    for _ in range(10):
        core.db.call(lambda s: cs.log_followup(s, core.config, rep, s.get(cs.Customer, c.id), "电话沟通", now))
    cust = core.db.call(lambda s: s.get(cs.Customer, c.id))
    assert cust.protected_until == now + timedelta(days=20)


def test_brief_job_runs_once_per_slot_and_skips_when_missed(core):
    _, _, rep, _ = team_with(core)
    create(core, rep, name="张总", phone="13800138000", source="官网表单")
    slot = datetime(2026, 11, 26, 0, 30)  # 08:30 Shanghai
    core.clock.set(slot + timedelta(minutes=1))
    first = run_due_jobs(core, only={"brief"})
    assert [s for _, _, s in first] == ["done"]
    assert run_due_jobs(core, only={"brief"}) == []
    rows = core.db.call(lambda s: s.exec(select(Outbox).where(Outbox.kind == "brief")).all())
    assert [r.chat_id for r in rows] == [rep.tg_id]  # the manager has no customers: no empty brief
    core.clock.set(datetime(2026, 11, 27, 0, 30) + timedelta(hours=3))  # next day, bot was down 3 h
    late = run_due_jobs(core, only={"brief"})
    assert [s for _, _, s in late] == ["skipped"]
    runs = core.db.call(lambda s: s.exec(select(JobRun)).all())
    assert sorted(r.status for r in runs) == ["done", "skipped"]


def test_a_failed_transaction_leaves_nothing_even_after_a_savepoint(db):
    """A savepoint released before the first write must not commit on its own (pysqlite trap)."""
    from sqlalchemy.exc import IntegrityError

    def work(session):
        try:
            with session.begin_nested():
                session.add(User(tg_id=1, name="a", joined_at=datetime(2026, 1, 1)))
                session.flush()
        except IntegrityError:
            pass
        session.add(User(tg_id=2, name="b", joined_at=datetime(2026, 1, 1)))
        session.flush()
        raise RuntimeError("the job failed after its claim")
    try:
        db.call(work)
    except RuntimeError:
        pass
    assert db.call(lambda s: s.exec(select(User)).all()) == []


def test_fuzzy_duplicate_found_among_many_similar_names(core):
    """600 machinery companies share the piece 机械; the real duplicate must still be found."""
    _, _, rep_a, rep_b = team_with(core)
    for i in range(600):
        create(core, rep_a, name=f"客户{i}", company=f"第{i}号机械有限公司", phone=f"139{i:08d}", source="导入")
    create(core, rep_a, name="周总", company="瑞丰精工机械制造有限公司", phone="13611112222", source="官网表单")
    attempt = create(core, rep_b, name="周经理", company="瑞丰精工机械制造厂", phone="13633334444", source="外呼")
    assert attempt.customer is None and attempt.duplicates[0].customer.name == "周总"


def test_gram_index_is_backfilled_by_the_migration(db_url):
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models import CompanyGram
    upgrade(db_url, "0004_business")
    upgrade(db_url, "0002_incentives")
    upgrade(db_url, "0003_ingest")
    db = Database(db_url)
    now = datetime(2026, 1, 1)
    db.engine.dispose()
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO team (name, timezone, created_at) VALUES ('t', 'Asia/Shanghai', :n)"), {"n": now})
        conn.execute(text("INSERT INTO customer (team_id, name, company_norm, stage, status, stage_entered_at, created_at, "
                          "updated_at, tags, custom, completeness, priority, invalid) VALUES "
                          "(1, '张总', '华东精密', 'lead', 'open', :n, :n, :n, '[]', '{}', 0, 0, false)"), {"n": now})
    upgrade(db_url)
    grams = db.call(lambda s: sorted(g.gram for g in s.exec(select(CompanyGram))))
    assert grams == ["东精", "华东", "精密"]
    db.close()


def test_close_model_uses_the_teams_own_closed_deals_once_it_has_enough(core):
    from nlp.predict import MIN_LOST, MIN_WON
    from services import intel
    from storage.models import Customer, StageChange
    _, _, rep, _ = team_with(core)
    start = datetime(2026, 6, 1)

    def deal(session, index: int, won: bool):
        c = Customer(team_id=rep.team_id, owner_id=rep.id, name=f"d{index}", stage="quote", status="won" if won else "lost",
                     stage_entered_at=start, created_at=start, updated_at=start, completeness=80 if won else 30, custom={})
        session.add(c)
        session.flush()
        session.add(StageChange(customer_id=c.id, to_stage="lead", at=start))
        session.add(StageChange(customer_id=c.id, from_stage="lead", to_stage="quote", at=start + timedelta(days=3)))
        session.add(StageChange(customer_id=c.id, from_stage="quote", to_stage="won" if won else "lost",
                                at=start + timedelta(days=20)))

    core.db.call(lambda s: [deal(s, i, won=True) for i in range(MIN_WON - 1)] and None)
    core.db.call(lambda s: [deal(s, 100 + i, won=False) for i in range(MIN_LOST)] and None)
    rows = core.db.call(intel.training_rows, core.config, rep.team_id)
    # Snapshots on days 0, 7, 14: a won deal closing on day 20 is "won within 14 days" from day 7 on.
    won_rows = [r for r in rows if r["outcome"] == "won"]
    assert [r["won_14d"] for r in won_rows[:3]] == [0, 1, 1]
    assert all(r["won_14d"] == 0 for r in rows if r["outcome"] == "lost")
    now = datetime(2026, 11, 26)
    assert core.db.call(intel.team_model, core.config, rep.team_id, now).uses_prior  # one won deal short
    core.db.call(lambda s: deal(s, 99, won=True))
    tomorrow = now + timedelta(days=1)  # the model is refitted once a day
    assert not core.db.call(intel.team_model, core.config, rep.team_id, tomorrow).uses_prior
