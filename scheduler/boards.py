"""Scheduled leaderboards (daily and weekly) and the honors announced with them.

Daily (schedule.leaderboard_daily, working days): record each rep's data-quality check, award last
month's 专业顾问 / 最佳协同 once the month is over, post the board to every group bound to the
team (image + short caption: top N per comparable group and the most improved, never the bottom)
and send each rep their own rank privately.  Weekly (leaderboard_weekly_day/time): the
数据质量之星 of the week, then the weekly board.  Everything goes through the outbox, so the
group limit (20 messages a minute) is the sender's and rate limiter's business.
"""
from __future__ import annotations

import base64
from datetime import datetime, timedelta

from sqlmodel import Session, select

from core.clock import to_local
from core.texts import t
from services import boards
from services import incentives as inc
from services import outbox
from services.core import Core
from storage.models import GroupBinding, JobRun, Team, User
from storage.models_incentives import Honor


def daily_board_job(session: Session, core: Core, team: Team, slot: datetime) -> int:
    inc.quality_snapshot(session, core.config, team.id, slot)
    count = monthly_honors_if_due(session, core, team, slot)
    return count + post_board(session, core, team, "daily", slot)


def weekly_board_job(session: Session, core: Core, team: Team, slot: datetime) -> int:
    stars = inc.award_quality_stars(session, core.config, team.id, slot)
    count = announce_honors(session, core, team, stars, slot)
    return count + post_board(session, core, team, "weekly", slot)


def monthly_honors_if_due(session: Session, core: Core, team: Team, slot: datetime) -> int:
    """Last month's honors, once: on the first daily board of a new month."""
    config = core.config
    this_month_start, _ = inc.period_bounds(config, slot, "month")
    start, end = inc.period_bounds(config, this_month_start - timedelta(hours=1), "month")
    local = to_local(start + timedelta(hours=12), config.tz)
    period = f"{local.year}-{local.month:02d}"
    marker = f"{team.id}:{period}"
    if session.exec(select(JobRun.id).where(JobRun.job_key == "honors_monthly", JobRun.slot == marker)).first():
        return 0
    session.add(JobRun(job_key="honors_monthly", slot=marker, at=core.clock.now()))
    honors = inc.monthly_honors(session, config, team.id, start, end, period, slot)
    return announce_honors(session, core, team, honors, slot)


def bound_groups(session: Session, team_id: int) -> list[GroupBinding]:
    return list(session.exec(select(GroupBinding).where(GroupBinding.team_id == team_id)))


def announce_honors(session: Session, core: Core, team: Team, honors: list[Honor], slot: datetime) -> int:
    if not honors:
        return 0
    config = core.config
    count = 0
    users = {u.id: u for u in session.exec(select(User).where(User.id.in_([h.user_id for h in honors])))}
    if config.honors.announce:
        lines = [t("honor_group_title", "zh", team=team.name)]
        lines += [t("honor_group_line", "zh", label=h.label, period=h.period, name=users[h.user_id].name) for h in honors]
        text = "\n".join(lines)
        for group in bound_groups(session, team.id):
            key = f"honors:{group.chat_id}:" + ",".join(str(h.id) for h in honors)
            if outbox.enqueue(session, group.chat_id, "notice", {"text": text[:4000]}, key, core.clock.now()):
                count += 1
    for h in honors:
        user = users[h.user_id]
        if user.active:
            text = t("honor_private", user.language, label=inc.honor_label(config, h, user.language), period=h.period)
            if outbox.enqueue(session, user.tg_id, "notice", {"text": text}, f"honor:{h.id}", core.clock.now()):
                count += 1
    return count


def post_board(session: Session, core: Core, team: Team, kind: str, slot: datetime) -> int:
    config = core.config
    slot_key = f"{kind}:{to_local(slot, config.tz):%Y-%m-%dT%H:%M}"
    board = boards.compute(session, config, team.id, kind, slot, slot=slot_key)
    boards.save_snapshot(session, board, slot_key, slot)
    count = 0
    public = board.public_rows()
    groups = bound_groups(session, team.id)
    if public and groups:
        if boards.shows_team_total(config, board):
            photo = base64.b64encode(boards.team_png(config, team.name, board)).decode()
            caption = boards.team_caption(config, board, team.name, "zh")
        else:
            photo = base64.b64encode(boards.board_png(config, team.name, board, public)).decode()
            caption = boards.group_caption(config, board, team.name, "zh")
        for group in groups:
            payload = {"photo_b64": photo, "caption": caption}
            if outbox.enqueue(session, group.chat_id, "leaderboard", payload, f"board:{slot_key}:{group.chat_id}",
                              core.clock.now()):
                count += 1
    if config.leaderboard.private_rank in (kind, "both"):
        users = {u.id: u for u in inc.team_users(session, team.id, active_only=True)}
        for row in board.rows:
            user = users.get(row.user_id)
            if user is None:
                continue
            text = boards.private_rank_text(config, board, row, user.language)
            if outbox.enqueue(session, user.tg_id, "notice", {"text": text}, f"rank:{slot_key}:{user.id}", core.clock.now()):
                count += 1
    return count
