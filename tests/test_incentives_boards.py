"""Fair leaderboards: figures against an independent computation, comparable groups, top N without the
bottom, the most improved, movement, private ranks, and the scheduled group post."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from core.clock import to_local
from scheduler import boards as board_jobs
from services import boards
from storage.models import (ChecklistDone, Customer, GroupBinding, Outbox, PointsEntry, SpotCheck, StageChange, Team,
                            User)
from tests.conftest import pg_only
from tests.incentive_helpers import make_team, run_seeded_on_postgresql, seed_rows, sqlite_url


def load(core, model):
    return core.db.call(lambda s: list(s.exec(select(model))))


@pytest.fixture
def db_url(tmp_path):
    """SQLite here; test_boards_on_postgresql repeats the main checks on PostgreSQL once."""
    return sqlite_url(tmp_path)


@pytest.fixture
def team(core):
    return seed(core)


def seed(core):
    admin, mgr, reps = make_team(core, 7)
    # Three experienced reps (joined 200 days ago) and four newcomers: two comparable groups.
    def age(session):
        for u in reps[:3]:
            row = session.get(User, u.id)
            row.joined_at = core.clock.now() - timedelta(days=200)
            session.add(row)
    core.db.call(age)
    seed_rows(core, mgr.team_id, reps, seed=11)
    return mgr, reps


def expected_board(core, team_id):
    """Month-to-date earned points / monthly target, ranked within tenure groups; the other columns too."""
    now = core.clock.now()
    local_now = to_local(now, core.config.tz)

    def this_month(when):
        local = to_local(when, core.config.tz)
        return (local.year, local.month) == (local_now.year, local_now.month)

    users = [u for u in load(core, User) if u.team_id == team_id and u.role == "rep" and u.active]
    customers = {c.id: c for c in load(core, Customer) if c.team_id == team_id and not c.invalid}
    rows = {}
    for u in users:
        pts = sum(p.points for p in load(core, PointsEntry)
                  if p.user_id == u.id and p.status in ("awarded", "reversal") and this_month(p.at))
        moves = [m for m in load(core, StageChange) if m.by_user_id == u.id and m.customer_id in customers
                 and m.from_stage is not None and this_month(m.at)]
        items = [i for i in load(core, ChecklistDone) if i.user_id == u.id and i.customer_id in customers and this_month(i.at)]
        flags = [f for f in load(core, SpotCheck) if f.owner_id == u.id and f.result == "flagged" and this_month(f.decided_at)]
        good = sum(1 for m in moves if m.complete_data) + sum(1 for i in items if i.within_expected)
        total = len(moves) + len(items) + len(flags)
        book = [c for c in customers.values() if c.owner_id == u.id and c.status == "open"]
        group = "tenure:1" if (now - u.joined_at).days >= 90 else "tenure:0"
        rows[u.id] = {"points": pts, "share": round(100 * pts / u.target_points, 1), "group": group,
                      "deals": sum(1 for m in moves if m.to_stage == "won"),
                      "compliance": round(100 * good / total, 1) if total else None,
                      "quality": round(sum(c.completeness for c in book) / len(book), 1) if book else 0.0}
    for group in {r["group"] for r in rows.values()}:
        members = sorted((uid for uid in rows if rows[uid]["group"] == group),
                         key=lambda uid: (-rows[uid]["share"], -rows[uid]["points"], uid))
        for rank, uid in enumerate(members, 1):
            rows[uid]["rank"], rows[uid]["size"] = rank, len(members)
    return rows


def test_board_figures_match_an_independent_computation(core, team):
    mgr, reps = team
    board = core.db.call(boards.compute, core.config, mgr.team_id, "daily", core.clock.now())
    expected = expected_board(core, mgr.team_id)
    got = {r.user_id: {"points": r.points, "share": r.share, "group": r.group_key, "rank": r.rank, "size": r.size,
                       "deals": r.deals, "compliance": r.compliance, "quality": r.quality} for r in board.rows}
    assert got == expected
    assert {g.key for g in board.groups} == {"tenure:0", "tenure:1"}


def test_group_sees_top_n_never_the_bottom(core, team):
    mgr, reps = team
    board = core.db.call(boards.compute, core.config, mgr.team_id, "daily", core.clock.now())
    top_n = core.config.leaderboard.top_n
    for g in board.groups:
        n = len(g.rows)
        assert [r.rank for r in g.top] == list(range(1, min(top_n, n - 1) + 1))
        last = g.rows[-1]
        assert last not in g.top and last is not g.improved
    assert all(r.rank < r.size for r in board.public_rows())


def test_movement_and_most_improved_since_the_last_board(core, team):
    mgr, reps = team
    first = core.db.call(boards.compute, core.config, mgr.team_id, "daily", core.clock.now(), "daily:1")
    core.db.call(boards.save_snapshot, first, "daily:1", core.clock.now())
    newcomers = next(g for g in first.groups if g.key == "tenure:0")
    climber = newcomers.rows[-1]  # last place …
    gap = newcomers.rows[1].points - climber.points + 1  # … earns enough to pass everyone but the leader
    core.clock.advance(timedelta(hours=1))
    core.db.call(lambda s: s.add(PointsEntry(user_id=climber.user_id, team_id=mgr.team_id, action="followup_logged",
                                             points=gap, status="awarded", at=core.clock.now())))
    second = core.db.call(boards.compute, core.config, mgr.team_id, "daily", core.clock.now(), "daily:2")
    row = second.row(climber.user_id)
    assert row.rank == 2 and row.movement == climber.rank - 2
    others = [r for r in second.rows if r.user_id != climber.user_id and r.group_key == "tenure:0"]
    assert all(r.movement in (0, -1) for r in others)
    group = next(g for g in second.groups if g.key == "tenure:0")
    assert row in group.top  # made the top 3: shown as such, not as "most improved"
    caption = boards.group_caption(core.config, second, "销售一部")
    assert f"↑{climber.rank - 2}" in caption


def test_most_improved_outside_the_top(core):
    _, mgr, reps = make_team(core, 6)
    def points(user, n):
        core.db.call(lambda s: s.add(PointsEntry(user_id=user.id, team_id=mgr.team_id, action="x", points=n,
                                                 status="awarded", at=core.clock.now())))
    for i, rep in enumerate(reps):
        points(rep, 60 - 10 * i)  # ranks 1..6
    first = core.db.call(boards.compute, core.config, mgr.team_id, "daily", core.clock.now(), "d1")
    core.db.call(boards.save_snapshot, first, "d1", core.clock.now())
    points(reps[5], 25)  # 10 → 35: from 6th to 4th
    second = core.db.call(boards.compute, core.config, mgr.team_id, "daily", core.clock.now(), "d2")
    group = second.groups[0]
    assert [r.user_id for r in group.top] == [reps[0].id, reps[1].id, reps[2].id]
    assert group.improved is not None and group.improved.user_id == reps[5].id and group.improved.movement == 2
    assert "进步最快" in boards.group_caption(core.config, second, "销售一部")


def test_group_post_has_no_customer_names_or_phones(core, team):
    mgr, reps = team
    board = core.db.call(boards.compute, core.config, mgr.team_id, "weekly", core.clock.now())
    caption = boards.group_caption(core.config, board, "销售一部")
    rows = boards.chart_rows(core.config, board.public_rows(), "zh")
    customers = [c for c in load(core, Customer) if c.team_id == mgr.team_id]
    blob = caption + repr(rows)
    for c in customers:
        assert c.name not in blob and c.phone not in blob
    assert len(caption) <= 1024


def test_daily_board_job_posts_to_bound_groups_and_ranks_privately(core, team):
    mgr, reps = team
    group_id = -100123
    core.db.call(lambda s: s.add(GroupBinding(chat_id=group_id, team_id=mgr.team_id, title="销售群", bound_at=core.clock.now())))
    team_row = core.db.call(lambda s: s.get(Team, mgr.team_id))
    slot = datetime(2026, 11, 26, 10, 0)  # 18:00 in Shanghai
    n = core.db.call(board_jobs.daily_board_job, core, team_row, slot)
    rows = load(core, Outbox)
    posts = [o for o in rows if o.chat_id == group_id and o.kind == "leaderboard"]
    assert len(posts) == 1 and posts[0].kind == "leaderboard" and posts[0].payload["photo_b64"]
    ranks = [o for o in rows if o.dedupe_key.startswith("rank:")]
    assert {o.chat_id for o in ranks} == {r.tg_id for r in reps}
    assert n == len(posts) + len(ranks) + len([o for o in rows if o.dedupe_key.startswith(("honor", "honors"))])
    assert "第" in ranks[0].payload["text"] and "名" in ranks[0].payload["text"]
    # A second run of the same slot queues nothing new.
    core.db.call(board_jobs.post_board, core, team_row, "daily", slot)
    assert len(load(core, Outbox)) == len(rows)


def test_group_binding_follows_a_supergroup_migration_and_is_dropped_when_removed(core):
    from services import groups, outbox
    _, mgr, _ = make_team(core, 1)
    team = core.db.call(groups.bind, -42, "销售群", mgr, core.clock.now())
    assert team.id == mgr.team_id
    core.db.call(outbox.enqueue, -42, "leaderboard", {"text": "x"}, "k1", core.clock.now())
    assert core.db.call(groups.migrate, -42, -100042)
    assert core.db.call(groups.migrate, -42, -100042) is False  # the second service message changes nothing
    assert core.db.call(groups.get_binding, -42) is None
    assert core.db.call(groups.get_binding, -100042).team_id == mgr.team_id
    assert [o.chat_id for o in load(core, Outbox)] == [-100042]
    core.db.call(groups.forget, -100042)
    assert core.db.call(groups.get_binding, -100042) is None


def test_period_targets_are_prorated(core):
    _, _, (rep,) = make_team(core, 1)
    assert boards.period_target(core.config, rep, "month") == rep.target_points
    assert boards.period_target(core.config, rep, "week") == pytest.approx(rep.target_points * 12 / 52)
    assert boards.period_target(core.config, rep, "day") == pytest.approx(rep.target_points / (5 * 52 / 12))


@pg_only
def test_boards_on_postgresql(config):
    run_seeded_on_postgresql(config, seed, test_board_figures_match_an_independent_computation,
                             test_group_sees_top_n_never_the_bottom,
                             test_movement_and_most_improved_since_the_last_board,
                             test_daily_board_job_posts_to_bound_groups_and_ranks_privately)
