"""The manager digest and the rep line, checked figure by figure against plain-Python recomputation
over the rows (a different method from the service's GROUP BY queries)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from core.clock import local_date
from services import digest as digest_svc
from services import funnel as funnel_svc
from services import incentives as inc
from services import users as users_svc
from storage.models import Activity, ChecklistDone, Customer, Outbox, PointsEntry, SpotCheck, StageChange, Team, User
from tests.conftest import pg_only
from tests.incentive_helpers import make_team, run_seeded_on_postgresql, seed_rows, sqlite_url


def load(core, model):
    return core.db.call(lambda s: list(s.exec(select(model))))


@pytest.fixture
def db_url(tmp_path):
    """SQLite here; test_figures_on_postgresql repeats the figure checks on PostgreSQL once."""
    return sqlite_url(tmp_path)


def seed(core):
    admin, mgr, reps = make_team(core, 6)
    seed_rows(core, mgr.team_id, reps)
    core.db.call(lambda s: users_svc.mark_blocked(s, reps[-1].tg_id, core.clock.now() - timedelta(hours=30)))
    return mgr, reps


@pytest.fixture
def seeded(core):
    return seed(core)


def expected_funnel(core, team_id):
    """Reached / current / stalled / conversion / bottleneck, one customer at a time."""
    stages = core.config.stages
    now = core.clock.now()
    reached, current, stalled = [0] * len(stages), [0] * len(stages), [0] * len(stages)
    won = 0
    for c in load(core, Customer):
        if c.team_id != team_id or c.invalid:
            continue
        idx = len(stages) if c.status == "won" else [s.id for s in stages].index(c.stage)
        won += c.status == "won"
        for i in range(len(stages)):
            if idx >= i:
                reached[i] += 1
        if c.status == "open":
            current[idx] += 1
            if (now - c.stage_entered_at).total_seconds() > stages[idx].expected_days * 86400:
                stalled[idx] += 1
    after = reached[1:] + [won]
    conversion = [round(100 * a / r, 1) if r else None for a, r in zip(after, reached)]
    best = None
    for i in range(len(stages)):
        if stalled[i] == 0:
            continue
        if best is None or stalled[i] > stalled[best] or (
                stalled[i] == stalled[best] and stalled[i] / current[i] > stalled[best] / current[best]):
            best = i
    return reached, current, stalled, conversion, won, best


def test_funnel_and_bottleneck_match_an_independent_count(core, seeded):
    mgr, _ = seeded
    f = core.db.call(funnel_svc.funnel, core.config, mgr.team_id, core.clock.now())
    reached, current, stalled, conversion, won, best = expected_funnel(core, mgr.team_id)
    assert [s.reached for s in f.stages] == reached
    assert [s.current for s in f.stages] == current
    assert [s.stalled for s in f.stages] == stalled
    assert [s.conversion for s in f.stages] == conversion
    assert f.won == won and f.bottleneck == best and best is not None


def test_bottleneck_is_where_customers_stall_against_expected_time(core):
    _, mgr, (rep,) = make_team(core, 1)
    now = core.clock.now()

    def add(session, stage, days, n):
        for i in range(n):
            session.add(Customer(team_id=rep.team_id, owner_id=rep.id, name=f"{stage}{days}-{i}", stage=stage,
                                 stage_entered_at=now - timedelta(days=days), created_at=now, updated_at=now))
    # 10 fresh leads (not stalled), 4 needs customers 9 days in (expected 7), 3 quote customers 3 days in (expected 5).
    core.db.call(lambda s: (add(s, "lead", 1, 10), add(s, "needs", 9, 4), add(s, "quote", 3, 3)))
    f = core.db.call(funnel_svc.funnel, core.config, rep.team_id, now)
    assert f.bottleneck_stage.id == "needs" and f.bottleneck_stage.stalled == 4
    assert [s.reached for s in f.stages][:4] == [17, 7, 7, 3]


def test_digest_figures_match_independent_computation(core, seeded):
    mgr, reps = seeded
    now = core.clock.now()
    d = core.db.call(digest_svc.build, core.config, mgr.team_id, now)
    today = local_date(core.config, now)
    yesterday = today - timedelta(days=1)
    team_user_ids = {u.id for u in load(core, User) if u.team_id == mgr.team_id}
    # Yesterday's activity per rep (local calendar day).
    per_rep = {}
    for a in load(core, Activity):
        if a.user_id in team_user_ids and local_date(core.config, a.at) == yesterday:
            per_rep.setdefault(a.user_id, {}).setdefault(a.kind, 0)
            per_rep[a.user_id][a.kind] += 1
    assert {uid: r.kinds for uid, r in d.yesterday.items() if r.kinds} == per_rep
    assert d.activity_total == sum(sum(k.values()) for k in per_rep.values()) > 0
    # Overdue: open, valid, follow-up date before today (local).
    customers = [c for c in load(core, Customer) if c.team_id == mgr.team_id and not c.invalid and c.status == "open"]
    overdue = [c for c in customers if c.next_followup_at and local_date(core.config, c.next_followup_at) < today]
    assert d.overdue_total == len(overdue)
    assert [name for name, _, _ in d.overdue_top] == [c.name for c in sorted(overdue, key=lambda c: (c.next_followup_at, c.id))][:5]
    hot = sorted((c for c in customers if c.intent_level == "high" or (c.intent_score or 0) >= 70),
                 key=lambda c: (-(c.intent_score or 0), c.id))[:5]
    assert [name for name, _, _ in d.hot] == [c.name for c in hot]
    # KPI window numbers per rep, then the KPI itself.
    start = now - timedelta(days=core.config.kpi.window_days)
    window_start, window_end = inc.kpi_window(core.config, now)
    valid = {c.id: c for c in load(core, Customer) if c.team_id == mgr.team_id and not c.invalid}
    for rep in reps:
        s = d.stats[rep.id]
        pts = sum(p.points for p in load(core, PointsEntry) if p.user_id == rep.id and p.status in ("awarded", "reversal")
                  and window_start <= p.at < window_end)
        assert s.points == pts
        items = [x for x in load(core, ChecklistDone) if x.user_id == rep.id and x.customer_id in valid
                 and window_start <= x.at < window_end]
        moves = [m for m in load(core, StageChange) if m.by_user_id == rep.id and m.customer_id in valid
                 and m.from_stage is not None and window_start <= m.at < window_end]
        flags = [f for f in load(core, SpotCheck) if f.owner_id == rep.id and f.result == "flagged"
                 and window_start <= f.decided_at < window_end]
        assert (s.items, s.items_on_time) == (len(items), sum(1 for x in items if x.within_expected))
        assert (s.moves, s.moves_complete, s.deals) == (len(moves), sum(1 for m in moves if m.complete_data),
                                                        sum(1 for m in moves if m.to_stage == "won"))
        assert s.flags == len(flags)
        good, total = s.items_on_time + s.moves_complete, len(items) + len(moves) + len(flags)
        assert s.compliance == (round(100 * good / total, 1) if total else None)
        mine = [c for c in customers if c.owner_id == rep.id]
        completeness = round(sum(c.completeness for c in mine) / len(mine), 1) if mine else 0.0
        late = sum(1 for c in mine if c.next_followup_at and local_date(core.config, c.next_followup_at) < today)
        target = min(100.0, 100.0 * max(pts, 0) / (rep.target_points * core.config.kpi.window_days / 30))
        on_time = 100.0 * (len(mine) - late) / len(mine) if mine else 0.0
        w = core.config.kpi.weights
        expected_kpi = (w["data_completeness"] * completeness + w["target"] * round(target, 1)
                        + w["compliance"] * (s.compliance or 0) + w["followup"] * round(on_time, 1))
        assert d.kpis[rep.id] == pytest.approx(expected_kpi, abs=0.06)
    assert start <= window_end
    # Team compliance = the sum of the reps'.
    assert d.compliance.items == sum(d.stats[r.id].items for r in reps)
    # Pending approvals = pending ledger rows (the oldest few carry buttons).
    pending = sorted((p for p in load(core, PointsEntry) if p.team_id == mgr.team_id and p.status == "pending"),
                     key=lambda p: (p.at, p.id))
    assert d.pending_total == len(pending) > 0
    assert [p[1] for p in d.pending if p[0] == "points"] == [p.id for p in pending][:digest_svc.MAX_PENDING]
    # Spot-check flags decided since yesterday's start, and users who blocked the bot.
    y_start, _ = inc.day_bounds(core.config, now, days_back=1)
    names = {c.id: c.name for c in load(core, Customer) if c.team_id == mgr.team_id}
    flagged = [names[f.customer_id] for f in load(core, SpotCheck)
               if f.result == "flagged" and f.customer_id in names and y_start <= f.decided_at <= now]
    assert sorted(c for _, c, _ in d.spot_flags) == sorted(flagged) and flagged
    assert d.blocked == [u.name for u in load(core, User) if u.team_id == mgr.team_id and not u.active] == [reps[-1].name]
    text = digest_svc.digest_text(core.config, d, "销售一部", "zh")
    assert len(text) <= 4096
    assert "已停用机器人（1）" in text
    assert f"最卡的阶段是「{d.funnel.bottleneck_stage.label}」" in text  # a sentence first (issue 14)
    assert f"逾期客户 {len(overdue)} 个" in text


def test_nothing_new_is_one_line(core):
    _, mgr, (rep,) = make_team(core, 1)
    d = core.db.call(digest_svc.build, core.config, mgr.team_id, core.clock.now() + timedelta(days=1))
    assert d.nothing_new
    text = digest_svc.digest_text(core.config, d, "销售一部", "zh")
    assert "\n" not in text and "没有新动态" in text


def test_queue_digests_one_message_and_a_funnel_chart_per_manager(core, seeded):
    mgr, reps = seeded
    team = core.db.call(lambda s: s.get(Team, mgr.team_id))
    assert core.db.call(digest_svc.queue_digests, core, team, core.clock.now()) == 2
    rows = core.db.call(lambda s: list(s.exec(select(Outbox).where(Outbox.chat_id == mgr.tg_id, Outbox.kind == "digest"))))
    assert len(rows) == 2 and "text" in rows[0].payload and rows[1].payload["photo_b64"]
    assert len(rows[1].payload["caption"]) <= 1024
    # Queued once per day, whatever the retries.
    assert core.db.call(digest_svc.queue_digests, core, team, core.clock.now()) == 0


def test_rep_line_carries_the_reps_own_numbers(core, seeded):
    mgr, reps = seeded
    now = core.clock.now()
    d = core.db.call(digest_svc.build, core.config, mgr.team_id, now)
    for rep in reps:
        line = core.db.call(digest_svc.rep_line, core.config, rep, now)
        assert f"KPI {d.kpis[rep.id]:.0f}" in line
        assert f"逾期 {d.stats[rep.id].overdue}" in line
        followups = d.yesterday[rep.id].kinds.get("followup", 0)
        assert (f"跟进 {followups}" in line) if followups else ("跟进" not in line)
    assert core.db.call(digest_svc.rep_line, core.config, mgr, now) == ""


@pg_only
def test_figures_on_postgresql(config):
    run_seeded_on_postgresql(config, seed, test_funnel_and_bottleneck_match_an_independent_count,
                             test_digest_figures_match_independent_computation,
                             test_rep_line_carries_the_reps_own_numbers,
                             test_queue_digests_one_message_and_a_funnel_chart_per_manager)
