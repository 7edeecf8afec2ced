"""The name lookup's index (storage/models_names.py, migration 0007_names) follows every way a
customer is written — the service, Core bulk inserts, renames, a company change, a move to another
team, deletion — because database triggers keep it, on SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import delete, insert, inspect, text, update
from sqlmodel import select

from services import customers as cs
from services.company_names import company_core
from storage.models import Customer, Team
from tests.test_services import create, team_with


def found(core, user, text_: str) -> list[int]:
    return [c.id for c in core.db.call_read(cs.find_by_name, user, text_)]


def test_the_index_follows_creation_renames_company_changes_team_moves_and_deletion(core):
    admin, manager, rep, _ = team_with(core)
    made = create(core, rep, name="周慧敏", company="宏达精密机械有限公司", phone="13800001111")
    cid = made.customer.id
    assert found(core, rep, "周慧敏 已报价5万") == [cid] and found(core, manager, "周慧敏 已报价5万") == [cid]
    assert found(core, manager, "宏达精密机械有限公司 来电") == [cid]

    def rename(session, field, value):
        customer = session.get(Customer, cid)
        cs.set_field(session, core.config, rep, customer, field, value, core.clock.now())
    core.db.call(rename, "name", "欧阳娜娜")
    assert found(core, manager, "周慧敏 已报价5万") == []
    assert found(core, manager, "欧阳娜娜 已报价5万") == [cid] and found(core, rep, "欧阳娜 明天回访") == [cid]
    core.db.call(rename, "company", "远洋物流集团")
    assert found(core, manager, "宏达精密机械有限公司 来电") == []
    assert found(core, manager, "远洋物流集团 来电") == [cid]

    # Core statements (imports, ingestion, bulk moves) bypass the ORM; the triggers still see them.
    now = core.clock.now()
    other = core.db.call(lambda s: s.execute(insert(Team).values(name="华南", timezone="Asia/Shanghai", created_at=now)
                                             .returning(Team.id)).scalar_one())
    core.db.call(lambda s: s.execute(update(Customer).where(Customer.id == cid).values(team_id=other)))
    assert found(core, manager, "欧阳娜娜 已报价5万") == []  # the team boundary holds
    assert core.db.call_read(lambda s: s.execute(text("SELECT DISTINCT team_id FROM namegram WHERE customer_id = :c"),
                                                 {"c": cid}).scalars().all()) == [other]
    core.db.call(lambda s: s.execute(update(Customer).where(Customer.id == cid).values(team_id=manager.team_id)))
    assert found(core, manager, "欧阳娜娜 已报价5万") == [cid]

    rows = [dict(team_id=rep.team_id, owner_id=rep.id, name=name, company=company, company_norm=company_core(company),
                 stage=core.config.stages[0].id, status="open", stage_entered_at=now, created_at=now, updated_at=now,
                 expires_at=now, tags=[], custom={}) for name, company in (("Tom Lee", "ACME Robotics Ltd"), ("李", None))]
    core.db.call(lambda s: s.execute(insert(Customer), rows))
    ids = core.db.call_read(lambda s: {c.name: c.id for c in s.exec(select(Customer).where(Customer.name.in_(["Tom Lee", "李"])))})
    assert found(core, rep, "tom lee 下周签") == [ids["Tom Lee"]] and found(core, rep, "acme 报价") == [ids["Tom Lee"]]
    assert found(core, manager, "李 明天回访") == [ids["李"]]

    core.db.call(lambda s: s.execute(delete(Customer).where(Customer.id == ids["李"])))
    assert core.db.call_read(lambda s: s.execute(text("SELECT count(*) FROM namegram WHERE customer_id = :c"),
                                                 {"c": ids["李"]}).scalar()) == 0


def test_upgrading_indexes_the_customers_already_there_and_downgrading_removes_the_index(db_url):
    from datetime import datetime

    from storage.db import Database
    from storage.migrate import downgrade, upgrade
    upgrade(db_url)
    downgrade(db_url, "0006_perf")
    db = Database(db_url)
    try:
        def add(session):
            day = datetime(2026, 1, 1)
            team = Team(name="华东", timezone="Asia/Shanghai", created_at=day)
            session.add(team)
            session.flush()
            # Core, with the columns of that schema only (the model has columns of later migrations).
            values = Customer(team_id=team.id, name="王伟", company="宏达科技有限公司", company_norm="宏达科技",
                              stage="lead", stage_entered_at=day, created_at=day, updated_at=day, expires_at=day)
            columns = {c["name"] for c in inspect(session.connection()).get_columns("customer")}
            session.execute(insert(Customer.__table__).values(
                {c.name: getattr(values, c.name) for c in Customer.__table__.columns
                 if c.name in columns and c.name != "id" and getattr(values, c.name, None) is not None}))
        db.call(add)
        names = db.call_read(lambda s: s.execute(text("SELECT count(*) FROM customer")).scalar())
        assert names == 1  # written without the index (and without its triggers)
    finally:
        db.close()
    upgrade(db_url)
    db = Database(db_url)
    try:
        grams = db.call_read(lambda s: sorted(tuple(r) for r in s.execute(text("SELECT kind, gram FROM namegram"))))
    finally:
        db.close()
    assert grams == [("p", "宏达"), ("p", "王伟"), ("s", "宏达"), ("s", "王伟"), ("s", "科技"), ("s", "达科")]
