"""The duplicate guard's precision through the real service and database: look-alike letters are one
company, names that differ in a number or code are two, a branch is still its group; the migration
re-folds stored company cores."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import select

from services import customers as cust_svc
from services.company_names import company_core, company_match
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Customer
from tests.test_ingest_support import make_team


def _create(core, team_id, name, company, phone):
    return core.db.call(lambda s: cust_svc.create_customer(s, core.config, team_id, {"name": name, "company": company,
                                                                                      "phone": phone},
                                                           core.clock.now(), actor=None, owner_id=None))


def _team(core):
    admin = make_team(core, reps=1)[0]
    return admin.team_id


@pytest.mark.parametrize("first, second", [
    ("ACME Trading Co., Ltd.", "АСМЕ Trading"),                 # Cyrillic А, С, М, Е
    ("Acme Electronics Ltd", "Aсme Electrоnics Co., Ltd."),     # Cyrillic с, о
    ("华东精密机械有限公司", "华东精密机械一厂"),                  # a numbered plant of the group: its branch
    ("Pacific Redwood Industrial Co., Ltd", "Pacific Redwood Industrial (Suzhou) Branch"),
])
def test_one_party_under_another_spelling_is_caught(core, first, second):
    team_id = _team(core)
    assert _create(core, team_id, "客户甲", first, "13800000001").customer is not None
    again = _create(core, team_id, "客户乙", second, "13900000002")
    assert again.customer is None and again.duplicates, second
    assert again.duplicates[0].customer.company == first


@pytest.mark.parametrize("first, second", [
    ("郑州通宏信息技术B20有限责任公司", "郑州通宏信息技术B29有限责任公司"),
    ("Liberty Nova 2 Materials Limited", "Liberty Nova 22 Materials Limited"),
    ("XX精密机械一厂", "XX精密机械二厂"),
    ("Orion Evergreen Electronics Co., Ltd", "Pioneer Evergreen Electronics Ltd."),
    ("Summit Granite Trading Ltd.", "Granite Summit Trading Inc."),
])
def test_near_names_with_other_codes_or_brands_are_two_companies(core, first, second):
    team_id = _team(core)
    assert _create(core, team_id, "客户甲", first, "13800000001").customer is not None
    other = _create(core, team_id, "客户乙", second, "13900000002")
    assert other.customer is not None, [m.customer.company for m in other.duplicates]
    # the same phone is still the same customer, whatever the name says
    assert _create(core, team_id, "客户丙", second + "X", "+86 139-0000-0002").duplicates


def test_codes_decide_only_when_both_names_carry_one():
    assert company_match(company_core("三一重工"), company_core("三一重工二厂"), 0.88) is not None
    assert company_match(company_core("宏达精密机械3号店"), company_core("宏达精密机械13号店"), 0.88) is None


def test_the_migration_refolds_stored_company_cores(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url, "0005_company_grams")
    db = Database(url)
    try:
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO team (name, timezone, created_at) VALUES ('t', 'Asia/Shanghai', '2026-11-26')"))
            conn.execute(text(
                "INSERT INTO customer (team_id, name, company, company_norm, tags, custom, stage, status, stage_entered_at,"
                " created_at, updated_at, completeness, priority, invalid) VALUES (1, 'n', 'АСМЕ Trading', 'асмеtrading',"
                " '[]', '{}', 'lead', 'open', '2026-11-26', '2026-11-26', '2026-11-26', 0, 0, 0)"))
            conn.execute(text("INSERT INTO companygram (customer_id, gram, total) VALUES (1, 'ас', 1)"))
        upgrade(url)
        customer = db.call(lambda s: s.exec(select(Customer)).one())
        grams = db.call(lambda s: [g for (g,) in s.execute(text("SELECT gram FROM companygram ORDER BY gram"))])
    finally:
        db.close()
    assert customer.company_norm == "acme trading" == company_core("ACME Trading Ltd")
    assert "ac" in grams and "ас" not in grams
