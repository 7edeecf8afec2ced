"""Ability profile, KPI weights, data-quality star, monthly honors, spot-checks and the new config sections."""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from core.config import ConfigError, load_config
from scheduler import boards as board_jobs
from scheduler.spotcheck import spot_check_job
from services import incentives as inc
from services import spotcheck as spot
from storage.models import Customer, Outbox, PointsEntry, SpotCheck, Team
from storage.models_incentives import Honor, QualityDay
from tests.conftest import pg_only
from tests.incentive_helpers import complete, fill, followup, later, make_team, new_customer, to_stage, pg_core, sqlite_url

DEFAULT = Path(__file__).resolve().parents[1] / "config.toml"


@pytest.fixture
def db_url(tmp_path):
    """SQLite here; PostgreSQL runs the same scenarios once, in the pg test at the end of the module."""
    return sqlite_url(tmp_path)


def test_profile_dimensions_weakest_and_radar(core):
    _, _, (a, b) = make_team(core, 2)
    for n in range(3):
        c = new_customer(core, a, n)
        to_stage(core, a, c.id, "needs")
        complete(core, a, c.id, "pain_points")
        complete(core, a, c.id, "decision_chain")
    c = new_customer(core, b, 10)
    to_stage(core, b, c.id, "needs")
    complete(core, b, c.id, "pain_points")
    later(core, minutes=5)
    followup(core, b, c.id, "客户问了交付周期")
    p = core.db.call(inc.profile, core.config, a, core.clock.now())
    # Counts relative to the team's best: a did 6 needs items, b 1 → 100 and 17; b alone followed up.
    assert p.scores["needs"] == 100.0
    assert p.scores["care"] == 0.0
    pb = core.db.call(inc.profile, core.config, b, core.clock.now())
    assert pb.scores["needs"] == pytest.approx(round(100 * 1 / 6, 1))
    assert pb.scores["care"] == 100.0
    assert p.weakest.id in ("proposal", "closing", "care", "collab")
    assert p.scores[p.weakest.id] == min(p.scores.values())
    caption = inc.profile_caption(core.config, p, "zh")
    assert p.weakest.name in caption and p.weakest.hint in caption and "KPI" in caption and "流程合规" in caption
    assert len(caption) <= 1024
    png = inc.profile_radar(core.config, p, "zh")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_kpi_is_the_configured_weighted_sum(core):
    _, _, (rep,) = make_team(core, 1)
    s = inc.RepStats(user=rep, points=60, items=4, items_on_time=3, moves=4, moves_complete=4, flags=2,
                     open_customers=5, completeness_sum=400, overdue=1, window_days=30)
    parts = inc.kpi_components(core.config, s)
    assert parts == {"data_completeness": 80.0, "compliance": 70.0, "target": 60.0, "followup": 80.0}
    assert inc.kpi_score(core.config, s) == pytest.approx(0.3 * 80 + 0.3 * 60 + 0.2 * 70 + 0.2 * 80)
    assert core.config.kpi.weights["data_completeness"] == 0.3  # the article's 30%


def test_data_quality_star_for_five_clean_working_days(core):
    _, mgr, (clean, sloppy) = make_team(core, 2)
    for n, rep in ((1, clean), (2, sloppy)):
        new_customer(core, rep, n)
    bad = new_customer(core, sloppy, 3)
    start = datetime(2026, 11, 23, 10, 0)  # Monday 18:00 Shanghai
    for day in range(5):
        now = start + timedelta(days=day)
        core.clock.set(now)
        if day == 2:  # Wednesday: the sloppy rep's record sits in 初次接触 past its time without contact/industry
            core.db.call(lambda s: _stale_contact(s, bad.id, now))
        core.db.call(inc.quality_snapshot, core.config, mgr.team_id, now)
    days = core.db.call(lambda s: list(s.exec(select(QualityDay).order_by(QualityDay.day, QualityDay.user_id))))
    assert len(days) == 10
    assert [d.missing for d in days if d.user_id == sloppy.id] == [0, 0, 1, 1, 1]
    stars = core.db.call(inc.award_quality_stars, core.config, mgr.team_id, core.clock.now())
    assert [h.user_id for h in stars] == [clean.id]
    assert stars[0].period == "2026-W48" and stars[0].label == "数据质量之星"
    assert core.db.call(inc.award_quality_stars, core.config, mgr.team_id, core.clock.now()) == []


def _stale_contact(session, customer_id, now):
    c = session.get(Customer, customer_id)
    c.stage, c.stage_entered_at = "contact", now - timedelta(days=5)
    session.add(c)


def test_weekly_job_announces_the_star_in_the_group(core):
    _, mgr, (rep,) = make_team(core, 1)
    new_customer(core, rep, 1)
    from storage.models import GroupBinding
    core.db.call(lambda s: s.add(GroupBinding(chat_id=-555, team_id=mgr.team_id, title="群", bound_at=core.clock.now())))
    team = core.db.call(lambda s: s.get(Team, mgr.team_id))
    for day in range(5):
        slot = datetime(2026, 11, 23, 10, 0) + timedelta(days=day)
        core.clock.set(slot)
        core.db.call(board_jobs.daily_board_job, core, team, slot)
    core.db.call(board_jobs.weekly_board_job, core, team, datetime(2026, 11, 27, 10, 5))
    group = core.db.call(lambda s: list(s.exec(select(Outbox).where(Outbox.chat_id == -555))))
    assert any("数据质量之星" in (o.payload.get("text") or "") and rep.name in o.payload["text"] for o in group)
    assert any(o.kind == "leaderboard" for o in group)
    honors = core.db.call(lambda s: list(s.exec(select(Honor).where(Honor.user_id == rep.id))))
    assert [h.kind for h in honors] == ["quality_star"]
    p = core.db.call(inc.profile, core.config, rep, core.clock.now())
    assert "数据质量之星" in inc.profile_caption(core.config, p, "zh")


def test_monthly_honors_by_formula(core):
    _, mgr, (advisor, helper, idle) = make_team(core, 3)
    core.clock.set(datetime(2026, 10, 12, 2, 0))
    for n in range(3):
        c = new_customer(core, advisor, n)
        to_stage(core, advisor, c.id, "needs")
        fill(core, advisor, c.id, main_product="机床", budget="20万")
        complete(core, advisor, c.id, "needs_analysis")
        complete(core, advisor, c.id, "pain_points")
        later(core, minutes=10)
    c = new_customer(core, helper, 20)
    to_stage(core, helper, c.id, "quote")
    complete(core, helper, c.id, "tech_meeting")
    customer = core.db.call(lambda s: s.get(Customer, c.id))
    core.db.call(inc.record_meeting, core.config, helper, customer, inc.parse_attendees("张工/技术部"), core.clock.now())
    team = core.db.call(lambda s: s.get(Team, mgr.team_id))
    slot = datetime(2026, 11, 2, 10, 0)  # the first daily board of November
    core.clock.set(slot)
    core.db.call(board_jobs.daily_board_job, core, team, slot)
    honors = core.db.call(lambda s: {h.kind: h for h in s.exec(select(Honor))})
    assert honors["advisor"].user_id == advisor.id and honors["advisor"].period == "2026-10"
    assert honors["collaboration"].user_id == helper.id
    assert idle.id not in {h.user_id for h in honors.values()}
    # Only once, however many boards follow.
    core.db.call(board_jobs.daily_board_job, core, team, slot + timedelta(days=1))
    assert len(core.db.call(lambda s: list(s.exec(select(Honor))))) == 2


def test_spot_check_draw_is_weighted_toward_risk():
    rng = random.Random(5)
    risky = spot.Candidate(customer=None, risks=["recent", "big"])  # weight 5
    calm = [spot.Candidate(customer=None, risks=[]) for _ in range(5)]  # weight 1 each
    hits = sum(1 for _ in range(4000) if spot.weighted_sample([risky] + calm, 1, rng)[0] is risky)
    assert 0.42 < hits / 4000 < 0.58  # 5 / (5 + 5) = 0.5


def test_spot_check_round_and_verdicts(core):
    _, mgr, (rep, other) = make_team(core, 2)
    customers = [new_customer(core, rep, n) for n in range(8)]
    for c in customers[:3]:
        later(core, minutes=3)
        complete(core, rep, c.id, "verify_contact")
    team = core.db.call(lambda s: s.get(Team, mgr.team_id))
    queued = core.db.call(spot_check_job, core, team, core.clock.now())
    assert 3 <= queued <= 5
    cards = core.db.call(lambda s: list(s.exec(select(Outbox).where(Outbox.kind == "spotcheck"))))
    assert all(o.chat_id == mgr.tg_id for o in cards)
    assert all("****" in o.payload["text"] for o in cards)  # phones masked even for the manager
    checks = core.db.call(lambda s: list(s.exec(select(SpotCheck))))
    # Another manager's tap (or a rep's) is refused; the menu and "ok" work once.
    assert core.db.call(spot.vote, core.config, other, checks[0].id, "ok", core.clock.now()).status == "forbidden"
    assert core.db.call(spot.vote, core.config, mgr, checks[0].id, "flag", core.clock.now()).status == "menu"
    assert core.db.call(spot.vote, core.config, mgr, checks[0].id, "ok", core.clock.now()).status == "ok"
    assert core.db.call(spot.vote, core.config, mgr, checks[0].id, "r0", core.clock.now()).status == "already"
    # Flag a record that earned points with a revoking reason: clawed back, owner told, compliance hit.
    earned_by = {}
    for p in core.db.call(lambda s: list(s.exec(select(PointsEntry).where(PointsEntry.user_id == rep.id)))):
        c = core.db.call(inc.customer_of_evidence, p.evidence_type, p.evidence_id)
        if c is not None and p.status == "awarded":
            earned_by[c.id] = earned_by.get(c.id, 0) + p.points
    target = max(checks[1:], key=lambda ch: earned_by.get(ch.customer_id, 0))
    earned = earned_by.get(target.customer_id, 0)
    assert earned > 0
    result = core.db.call(spot.vote, core.config, mgr, target.id, "r0", core.clock.now())
    assert result.status == "flagged" and result.revoked == earned
    notes = core.db.call(lambda s: list(s.exec(select(Outbox).where(Outbox.chat_id == rep.tg_id, Outbox.dedupe_key == f"spotflag:{target.id}"))))
    assert notes and "跟进记录不实" in notes[0].payload["text"]
    start, end = inc.kpi_window(core.config, core.clock.now())
    stats = core.db.call(inc.rep_stats, core.config, mgr.team_id, start, end, core.clock.now())
    assert stats[rep.id].flags == 1
    # "Duplicate customer" marks the lead invalid.
    dup = checks[2] if checks[2].id != target.id else checks[3]
    reason_index = [r.id for r in core.config.spotcheck.reasons].index("duplicate")
    core.db.call(spot.vote, core.config, mgr, dup.id, f"r{reason_index}", core.clock.now())
    assert core.db.call(lambda s: s.get(Customer, dup.customer_id)).invalid


def test_spot_check_round_is_repeatable_per_day(core):
    _, mgr, (rep,) = make_team(core, 1)
    for n in range(10):
        new_customer(core, rep, n)
    team = core.db.call(lambda s: s.get(Team, mgr.team_id))
    core.db.call(spot_check_job, core, team, core.clock.now())
    first = core.db.call(lambda s: [c.customer_id for c in s.exec(select(SpotCheck).order_by(SpotCheck.id))])
    # The same records are not drawn again for recheck_after_days.
    core.db.call(spot_check_job, core, team, core.clock.now() + timedelta(days=1))
    second = core.db.call(lambda s: [c.customer_id for c in s.exec(select(SpotCheck).order_by(SpotCheck.id))])[len(first):]
    assert not set(first) & set(second)


@pytest.mark.parametrize("old,new,key,expect", [
    ("weights = { data_completeness = 0.3, target = 0.3, compliance = 0.2, followup = 0.2 }",
     "weights = { data_completeness = 0.5, target = 0.3, compliance = 0.2, followup = 0.2 }", "kpi.weights", "add up to 1"),
    ("weights = { data_completeness = 0.3, target = 0.3, compliance = 0.2, followup = 0.2 }",
     "weights = { completeness = 0.3, target = 0.5, compliance = 0.2 }", "kpi.weights", "unknown KPI metric"),
    ('items = ["needs_analysis", "decision_chain", "pain_points"]', 'items = ["needs_analysys"]', "dimensions", "needs_analysys"),
    ('group_by = "tenure"', 'group_by = "age"', "leaderboard.group_by", "tenure"),
    ("daily_caps = { followup_logged = 15 }", "daily_caps = { follow_up = 15 }", "daily_caps", "unknown action"),
    ("weights = { collab = 0.8, compliance = 0.2 }", "weights = { teamwork = 1.0 }", "honors.collaboration", "teamwork"),
    ("price = 300", "price = 0", "rewards.0.price", "greater than or equal to 1"),
])
def test_incentive_config_is_validated(tmp_path, old, new, key, expect):
    text = DEFAULT.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "config.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert key in str(info.value) and expect in str(info.value), str(info.value)


def test_old_config_without_incentive_sections_still_loads(tmp_path):
    text = DEFAULT.read_text(encoding="utf-8")
    cut = text.index("# ---- Incentives")
    path = tmp_path / "config.toml"
    path.write_text(text[:cut], encoding="utf-8")
    config = load_config(path)
    assert config.kpi.weights["data_completeness"] == 0.3 and len(config.dimensions) == 6 and config.rewards


@pg_only
def test_profile_honors_and_spot_checks_on_postgresql(config):
    for scenario in (test_monthly_honors_by_formula, test_spot_check_round_and_verdicts):
        with pg_core(config) as core:
            scenario(core)
