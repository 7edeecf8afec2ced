"""A pilot's measured impact (issue 16) on seeded histories whose true effect is known:
the pilot team spends a median 3 days in the quote stage and converts 80 %, the other team 6 days
and 50 %.  Runs on SQLite and on PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest

from services import customers as cs
from services import pilot as pilot_svc
from services import review_text
from services import users as us
from storage.models import Customer, Team
from tests.test_services import team_with

PILOT_DAYS = [2, 3, 3, 3, 4] * 4 * 1   # 20 values, median 3
OTHER_DAYS = [5, 6, 6, 6, 7] * 2       # 10 values, median 6


@pytest.fixture
def pilot_config(core):
    # pre_quote is off by default here and switched on (/modules) for one team only.
    core.config = core.config.model_copy(update={"modules_enabled": ["core", "first_visit"]})
    return core.config


def seed(core, actor, team_id: int, tag: str, durations: list[float], lost: int, open_: int, early_exit: int = 0):
    config = core.config
    now = core.clock.now()
    n = 0

    def new(entered):
        nonlocal n
        n += 1
        result = core.db.call(cs.create_customer, config, team_id,
                              {"name": f"{tag}客户{n:03d}", "phone": f"13{len(tag)}{team_id}{n:07d}", "source": "官网表单",
                               "amount": 50000, "decision_maker": "王总"}, entered, actor=actor, owner_id=actor.id,
                              stage="quote")
        assert result.customer is not None, result
        return result.customer.id

    def move(cid, at, to_lost=False):
        def work(s):
            c = s.get(Customer, cid)
            if to_lost:
                cs.close_lost(s, actor, c, at)
            else:
                assert cs.advance_stage(s, config, actor, c, at).status == "moved"
        core.db.call(work)

    for i, days in enumerate(durations):
        entered = now - timedelta(days=40, hours=i)
        move(new(entered), entered + timedelta(days=days))
    for i in range(lost):
        entered = now - timedelta(days=30, hours=i)
        move(new(entered), entered + timedelta(days=2), to_lost=True)
    for i in range(open_):
        new(now - timedelta(days=1, hours=i))
    for i in range(early_exit):  # left the stage long before the window: not counted
        entered = now - timedelta(days=130, hours=i)
        move(new(entered), entered + timedelta(days=30))


def two_teams(core):
    admin, mgr, rep = team_with(core, reps=1)
    other = core.db.call(us.add_admin, 900, "Bo", "销售二部", core.config.team.timezone, core.clock.now())

    def pilot_on(s):
        team = s.get(Team, rep.team_id)
        team.modules = ["core", "first_visit", "pre_quote"]
        s.add(team)
    core.db.call(pilot_on)
    return rep, other


def test_pilot_vs_others_recovers_the_seeded_effect(core, pilot_config):
    rep, other = two_teams(core)
    assert rep.team_id != other.team_id
    seed(core, rep, rep.team_id, "甲", PILOT_DAYS[:16], lost=4, open_=3, early_exit=2)
    seed(core, other, other.team_id, "乙", OTHER_DAYS, lost=10, open_=3)
    impacts = core.db.call(pilot_svc.impacts, core.config, core.clock.now())
    assert [p.module for p in impacts] == ["pre_quote"]
    p = impacts[0]
    assert p.pilot_teams == [core.config.team.name] and p.other_teams == ["销售二部"]
    (quote,) = p.stages
    assert quote.stage == "quote"
    assert quote.pilot.median_days == pytest.approx(3.0) and quote.others.median_days == pytest.approx(6.0)
    assert quote.days_effect == pytest.approx(-3.0)
    assert (len(quote.pilot.days), len(quote.others.days)) == (16, 10)
    assert quote.pilot.conversion == pytest.approx(0.8) and quote.others.conversion == pytest.approx(0.5)
    assert quote.conversion_effect == pytest.approx(0.3)
    assert (quote.pilot.decided, quote.others.decided) == (20, 20)
    assert not quote.early(core.config.coaching.pilot_min_sample)
    text = "\n".join(review_text.pilot_lines(core.config, impacts, "zh"))
    assert "方案报价：停留中位数 3.0 天 vs 6.0 天（-3.0 天，n=16/10）；转化 80% vs 50%（+30 个百分点，n=20/20）" in text


def test_below_the_minimum_sample_it_is_too_early_to_tell(core, pilot_config):
    rep, other = two_teams(core)
    seed(core, rep, rep.team_id, "甲", [2, 3, 3], lost=0, open_=0)
    seed(core, other, other.team_id, "乙", OTHER_DAYS, lost=10, open_=0)
    (p,) = core.db.call(pilot_svc.impacts, core.config, core.clock.now())
    assert p.stages[0].early(core.config.coaching.pilot_min_sample)
    text = "\n".join(review_text.pilot_lines(core.config, [p], "zh"))
    assert "方案报价：太早，无法判断（n=3/20，每组至少 8 个）" in text and "停留中位数" not in text


def test_no_pilot_when_every_team_has_the_same_modules(core):
    two_teams(core)
    core.config = core.config.model_copy(update={"modules_enabled": ["core", "first_visit", "pre_quote"]})
    assert core.db.call(pilot_svc.impacts, core.config, core.clock.now()) == []
