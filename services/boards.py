"""Fair leaderboards: ranked by share of each rep's own target, within comparable groups.

The group sees the top N of each comparable group and the most improved rep — never the bottom
of a list; every rep learns their own rank privately.  Movement is measured against the previous
posted board of the same kind (BoardSnapshot).  Group posts carry rep names and numbers only:
never a customer's name or phone number.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from core.config import Config
from core.texts import t, tp
from services import rep_stats as stats_svc
from storage.models import User
from storage.models_incentives import BoardSnapshot


@dataclass
class BoardRow:
    user_id: int
    name: str
    group_key: str
    points: int
    deals: int
    compliance: float | None
    quality: float
    share: float
    target: float
    rank: int = 0
    size: int = 0
    prev_rank: int | None = None

    @property
    def movement(self) -> int | None:
        """Places gained since the previous board (negative = lost); None for a newcomer."""
        return None if self.prev_rank is None else self.prev_rank - self.rank


@dataclass
class GroupView:
    key: str
    label: str
    rows: list[BoardRow]          # the whole group, ranked (private use only)
    top: list[BoardRow]           # what the group chat may see
    improved: BoardRow | None = None


@dataclass
class Board:
    team_id: int
    kind: str                     # daily | weekly
    period: str                   # day | week | month
    start: datetime
    end: datetime
    rows: list[BoardRow] = field(default_factory=list)
    groups: list[GroupView] = field(default_factory=list)
    previous_at: datetime | None = None

    def row(self, user_id: int) -> BoardRow | None:
        return next((r for r in self.rows if r.user_id == user_id), None)

    def public_rows(self) -> list[BoardRow]:
        out: list[BoardRow] = []
        for g in self.groups:
            out += g.top + ([g.improved] if g.improved else [])
        return out


# --- comparable groups --------------------------------------------------------------------------

def group_of(config: Config, user: User, now: datetime) -> str:
    lb = config.leaderboard
    if lb.group_by == "none":
        return "all"
    if lb.group_by == "role":
        return f"role:{user.role}"
    if lb.group_by == "cohort":
        return f"cohort:{user.cohort or 'default'}"
    days = (now - user.joined_at).days
    band = sum(1 for limit in lb.tenure_bands_days if days >= limit)
    return f"tenure:{band}"


def group_label(config: Config, key: str, lang: str) -> str:
    kind, _, arg = key.partition(":")
    if kind == "all":
        return t("group_all", lang)
    if kind == "role":
        from core.texts import role_name
        return role_name(arg, lang)
    if kind == "cohort":
        return arg
    bands = config.leaderboard.tenure_bands_days
    band = int(arg or 0)
    if band == 0:
        return t("group_tenure_first", lang, days=bands[0]) if bands else t("group_all", lang)
    if band >= len(bands):
        return t("group_tenure_last", lang, days=bands[-1])
    return t("group_tenure_mid", lang, low=bands[band - 1], high=bands[band])


def period_target(config: Config, user: User, period: str) -> float:
    """The rep's target_points is monthly; a week or a working day gets its pro-rated share."""
    monthly = max(1, user.target_points)
    if period == "month":
        return float(monthly)
    if period == "week":
        return monthly * 12 / 52
    workdays_per_month = max(1, len(config.schedule.workdays)) * 52 / 12
    return monthly / workdays_per_month


# --- computing a board --------------------------------------------------------------------------

def board_period(config: Config, kind: str) -> str:
    return config.leaderboard.daily_period if kind == "daily" else config.leaderboard.weekly_period


def previous_snapshots(session: Session, team_ids: list[int], kind: str, before: datetime,
                       exclude_slot: str | None = None) -> dict[int, tuple[datetime, dict[int, tuple[str, int]]]]:
    """Each team's latest posted board of this kind: {team: (at, {user: (group, rank)})}."""
    query = (select(BoardSnapshot.team_id, func.max(BoardSnapshot.at))
             .where(BoardSnapshot.team_id.in_(team_ids), BoardSnapshot.board == kind, BoardSnapshot.at <= before))
    if exclude_slot:
        query = query.where(BoardSnapshot.slot != exclude_slot)
    latest = dict(session.execute(query.group_by(BoardSnapshot.team_id)).all())
    out: dict[int, tuple[datetime, dict[int, tuple[str, int]]]] = {t: (at, {}) for t, at in latest.items()}
    if latest:
        rows = session.execute(select(BoardSnapshot.team_id, BoardSnapshot.at, BoardSnapshot.user_id, BoardSnapshot.group_key,
                                      BoardSnapshot.rank).where(BoardSnapshot.team_id.in_(list(latest)), BoardSnapshot.board == kind,
                                                                BoardSnapshot.at.in_(list(set(latest.values())))))
        for team_id, at, uid, key, rank in rows:
            if latest.get(team_id) == at:
                out[team_id][1][uid] = (key, rank)
    return out


def compute(session: Session, config: Config, team_id: int, kind: str, now: datetime,
            slot: str | None = None) -> Board:
    return compute_many(session, config, [team_id], kind, now, slot)[team_id]


def compute_many(session: Session, config: Config, team_ids: list[int], kind: str, now: datetime,
                 slot: str | None = None) -> dict[int, Board]:
    """Every team's board with the same handful of GROUP BY queries."""
    period = board_period(config, kind)
    start, end = stats_svc.period_bounds(config, now, period)
    reps = stats_svc.known_reps(session, list(team_ids), active_only=True)  # the digest's, in the same run
    if reps is None:
        reps = stats_svc.team_users(session, list(team_ids), active_only=True)
    stats = stats_svc.rep_stats_many(session, config, list(team_ids), start, end, now, users=reps)
    previous = previous_snapshots(session, list(team_ids), kind, now, exclude_slot=slot)
    boards = {}
    reps_of: dict[int, list] = {}
    for u in reps:  # once, not a pass over every team's reps per team (500 teams × 10,000 reps at 10×)
        reps_of.setdefault(u.team_id, []).append(u)
    for team_id in team_ids:
        previous_at, before_ranks = previous.get(team_id, (None, {}))
        board = Board(team_id=team_id, kind=kind, period=period, start=start, end=end, previous_at=previous_at)
        for user in reps_of.get(team_id, []):
            s = stats[user.id]
            target = period_target(config, user, period)
            board.rows.append(BoardRow(user_id=user.id, name=user.name, group_key=group_of(config, user, now),
                                       points=s.points, deals=s.deals, compliance=s.compliance, quality=s.completeness,
                                       share=round(100.0 * s.points / target, 1), target=round(target, 1)))
        for key in sorted({r.group_key for r in board.rows}):
            members = sorted((r for r in board.rows if r.group_key == key), key=lambda r: (-r.share, -r.points, r.user_id))
            for rank, row in enumerate(members, 1):
                row.rank, row.size = rank, len(members)
                before = before_ranks.get(row.user_id)
                row.prev_rank = before[1] if before and before[0] == key else None
            board.groups.append(_public_view(config, key, members))
        boards[team_id] = board
    return boards


def _public_view(config: Config, key: str, members: list[BoardRow]) -> GroupView:
    """Top N without ever the last place (unless the group has a single member) + the most improved."""
    n = len(members)
    visible = min(config.leaderboard.top_n, n - 1) if n > 1 else n
    top = members[:visible]
    improved = None
    if config.leaderboard.show_most_improved:
        candidates = [r for r in members[visible:] if r.rank < n and (r.movement or 0) > 0]
        if candidates:
            improved = max(candidates, key=lambda r: (r.movement, r.share, -r.user_id))
    return GroupView(key=key, label=group_label(config, key, "zh"), rows=members, top=top, improved=improved)


def save_snapshot(session: Session, board: Board, slot: str, now: datetime) -> None:
    for r in board.rows:
        session.add(BoardSnapshot(team_id=board.team_id, board=board.kind, slot=slot, user_id=r.user_id,
                                  group_key=r.group_key, rank=r.rank, share=r.share, points=r.points, at=now))
    session.flush()


@dataclass
class RankInfo:
    rank: int
    size: int
    group: str
    share: float
    points: int
    movement: int | None


def rank_of(session: Session, config: Config, user: User, now: datetime, kind: str = "daily") -> RankInfo | None:
    if user.role != "rep" or user.team_id is None:
        return None
    board = compute(session, config, user.team_id, kind, now)
    row = board.row(user.id)
    if row is None:
        return None
    return RankInfo(row.rank, row.size, group_label(config, row.group_key, user.language), row.share, row.points, row.movement)


# --- words for the posts ---------------------------------------------------------------------------

def movement_text(movement: int | None, lang: str) -> str:
    if movement is None:
        return t("move_new", lang)
    if movement > 0:
        return f"↑{movement}"
    if movement < 0:
        return f"↓{-movement}"
    return "—"


def period_text(config: Config, board: Board, lang: str) -> str:
    return t(f"period_{board.period}", lang)


def pct_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


def group_caption(config: Config, board: Board, team_name: str, lang: str = "zh") -> str:
    """The group post's caption (HTML, ≤1024): top N per comparable group and the most improved."""
    lines = [t("board_caption_title", lang, team=team_name, board=t(f"board_{board.kind}", lang),
               period=period_text(config, board, lang))]
    multi = len(board.groups) > 1
    for g in board.groups:
        if multi:
            lines.append(t("board_caption_group", lang, group=group_label(config, g.key, lang)))
        for r in g.top:
            lines.append(t("board_caption_row", lang, rank=r.rank, name=r.name, share=f"{r.share:.0f}", points=r.points,
                           move=movement_text(r.movement, lang)))
        if g.improved:
            lines.append(t("board_caption_improved", lang, name=g.improved.name, move=movement_text(g.improved.movement, lang)))
    lines.append(t("board_caption_footer", lang))
    text = "\n".join(lines)
    while len(text) > 1024 and len(lines) > 2:
        lines.pop(-2)
        text = "\n".join(lines)
    return text


def shows_team_total(config: Config, board: Board) -> bool:
    """Below ``min_team_ranked`` reps the group sees the team's total: a lone name looks like a broken board."""
    return 0 < len(board.rows) < config.leaderboard.min_team_ranked


def team_total(board: Board) -> BoardRow:
    """The whole team as one row: points against the sum of the reps' targets."""
    points = sum(r.points for r in board.rows)
    target = sum(r.target for r in board.rows)
    quality = [r.quality for r in board.rows if r.quality is not None]
    compliance = [r.compliance for r in board.rows if r.compliance is not None]
    return BoardRow(user_id=0, name="", group_key="", points=points, deals=sum(r.deals for r in board.rows),
                    compliance=sum(compliance) / len(compliance) if compliance else None,
                    quality=sum(quality) / len(quality) if quality else None,
                    share=round(100.0 * points / target, 1) if target else 0.0, target=round(target, 1))


def team_caption(config: Config, board: Board, team_name: str, lang: str = "zh") -> str:
    total = team_total(board)
    return "\n".join([
        t("board_caption_title", lang, team=team_name, board=t(f"board_{board.kind}", lang), period=period_text(config, board, lang)),
        t("board_team_total", lang, share=f"{total.share:.0f}", points=total.points, target=f"{total.target:.0f}",
          deals=total.deals, compliance=pct_text(total.compliance), n=len(board.rows)),
        t("board_team_total_why", lang, min=config.leaderboard.min_team_ranked)])


def team_png(config: Config, team_name: str, board: Board, lang: str = "zh") -> bytes:
    from services import charts
    total = team_total(board)
    data = [{"label": tp("board_team_label", lang, n=len(board.rows)), "group": "", "share": total.share,
             "points": total.points, "deals": total.deals, "compliance": pct_text(total.compliance),
             "quality": pct_text(total.quality), "move": ""}]
    headers = {k: tp(f"col_{k}", lang) for k in ("share", "points", "deals", "compliance", "quality", "move")}
    title = tp("board_chart_title", lang, team=team_name, board=tp(f"board_{board.kind}", lang),
               period=tp(f"period_{board.period}", lang))
    return charts.leaderboard_png(title, data, headers, tp("board_team_subtitle", lang))


def private_rank_text(config: Config, board: Board, row: BoardRow, lang: str) -> str:
    return t("board_private", lang, board=t(f"board_{board.kind}", lang), period=period_text(config, board, lang),
             group=group_label(config, row.group_key, lang), rank=row.rank, size=row.size, share=f"{row.share:.0f}",
             points=row.points, target=f"{row.target:.0f}", move=movement_text(row.movement, lang),
             compliance=pct_text(row.compliance), quality=pct_text(row.quality), deals=row.deals)


def full_board_text(config: Config, board: Board, lang: str, team_name: str) -> str:
    """The whole board, for a manager's private view only (the bottom of the list stays private)."""
    lines = [t("board_caption_title", lang, team=team_name, board=t(f"board_{board.kind}", lang),
               period=period_text(config, board, lang))]
    for g in board.groups:
        lines.append(t("board_caption_group", lang, group=group_label(config, g.key, lang)))
        for r in g.rows:
            lines.append(t("board_full_row", lang, rank=r.rank, name=r.name, share=f"{r.share:.0f}", points=r.points,
                           deals=r.deals, compliance=pct_text(r.compliance), quality=pct_text(r.quality),
                           move=movement_text(r.movement, lang)))
    return "\n".join(lines)


def chart_rows(config: Config, rows: list[BoardRow], lang: str) -> list[dict]:
    """Plain rows for services.charts.leaderboard_png (names and numbers only)."""
    return [{"label": f"{r.rank}. {r.name}", "group": group_label(config, r.group_key, lang), "share": r.share,
             "points": r.points, "deals": r.deals, "compliance": pct_text(r.compliance), "quality": pct_text(r.quality),
             "move": movement_text(r.movement, lang)} for r in rows]



def board_png(config: Config, team_name: str, board: Board, rows: list[BoardRow], lang: str = "zh",
              subtitle_key: str = "board_chart_subtitle") -> bytes:
    """The leaderboard image: only the ``rows`` given (the public rows for a group post)."""
    from services import charts
    data = chart_rows(config, rows, lang)
    if len(board.groups) > 1:
        for item in data:
            item["label"] = f"{item['group'][:4]} {item['label']}"
    headers = {k: tp(f"col_{k}", lang) for k in ("share", "points", "deals", "compliance", "quality", "move")}
    title = tp("board_chart_title", lang, team=team_name, board=tp(f"board_{board.kind}", lang),
               period=tp(f"period_{board.period}", lang))
    return charts.leaderboard_png(title, data, headers, tp(subtitle_key, lang))
