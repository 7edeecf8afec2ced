"""Identity and roles: admins from the environment or the CLI, managers' single-use invites."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from storage.models import Invite, Stranger, Team, User
from services import audit
from storage.rows import locked

ROLES = ("rep", "manager", "admin")


class InviteError(Exception):
    def __init__(self, reason: str) -> None:  # reason: invalid | expired | used
        super().__init__(reason)
        self.reason = reason


def get_user(session: Session, tg_id: int) -> User | None:
    return session.exec(select(User).where(User.tg_id == tg_id)).first()


def get_team(session: Session, team_id: int | None) -> Team | None:
    return session.get(Team, team_id) if team_id else None


def find_team(session: Session, name: str) -> Team | None:
    return session.exec(select(Team).where(Team.name == name)).first()


def ensure_team(session: Session, name: str, timezone: str, now: datetime) -> Team:
    team = session.exec(select(Team).where(Team.name == name)).first()
    if team is None:
        team = Team(name=name, timezone=timezone, created_at=now)
        session.add(team)
        session.flush()
    return team


def add_admin(session: Session, tg_id: int, name: str, team_name: str, timezone: str, now: datetime,
              language: str = "zh") -> User:
    """Create or promote an admin; admins belong to the default team so they can manage it."""
    team = ensure_team(session, team_name, timezone, now)
    user = get_user(session, tg_id)
    if user is None:
        user = User(tg_id=tg_id, name=name or f"admin{tg_id}", role="admin", team_id=team.id,
                    language=language, joined_at=now)
        session.add(user)
    else:
        user.role = "admin"
        user.team_id = user.team_id or team.id
        if name:
            user.name = name
    session.flush()
    return user


def create_invite(session: Session, creator: User, now: datetime, ttl_hours: int, role: str = "rep",
                  team_id: int | None = None) -> Invite:
    if creator.role not in ("manager", "admin"):
        raise PermissionError("only managers and admins invite")
    if role not in ("rep", "manager") or (role == "manager" and creator.role != "admin"):
        raise PermissionError("role not allowed")
    team_id = team_id or creator.team_id
    if team_id is None:
        raise PermissionError("creator has no team")
    if creator.role != "admin" and team_id != creator.team_id:
        raise PermissionError("managers invite into their own team")
    invite = Invite(code=secrets.token_urlsafe(12), team_id=team_id, created_by=creator.id, role=role,
                    created_at=now, expires_at=now + timedelta(hours=ttl_hours))
    session.add(invite)
    session.flush()
    audit.record(session, "invite_created", now, actor=creator, team_id=team_id, role=role, invite_id=invite.id)
    return invite


@dataclass
class JoinResult:
    user: User
    team: Team | None
    created: bool
    refused: str | None = None  # member | deactivated: nothing changed, the invite stays unused


def redeem_invite(session: Session, code: str, tg_id: int, name: str, username: str | None,
                  language: str, now: datetime) -> JoinResult:
    """Join the invite's team with the invite's role. Single use: the invite's row is locked while it
    is checked and used.

    An invite is for someone who is not in a team yet: it never raises a role and never moves a
    member of one team into another (that is a manager's or admin's decision in /team, with an
    answer for the person's customers).  A refusal does not use the invite up.
    """
    # Two people redeeming one code at once: the second waits here, then sees used_at.
    invite = locked(session, Invite, Invite.code == code[:64])
    if invite is None:
        raise InviteError("invalid")
    if invite.used_at is not None:
        raise InviteError("used")
    if invite.expires_at < now:
        raise InviteError("expired")
    team = session.get(Team, invite.team_id)
    user = get_user(session, tg_id)
    created = user is None
    if user is not None and (user.deactivated_at is not None or user.team_id is not None or user.role == "admin"):
        reason = "deactivated" if user.deactivated_at is not None else "member"
        # Returned, not raised: the refusal is recorded (a raise would roll the record back).
        audit.record(session, "invite_refused", now, actor=user, other_team_id=invite.team_id, reason=reason,
                     invite_id=invite.id, invite_role=invite.role)
        return JoinResult(user=user, team=get_team(session, user.team_id), created=False, refused=reason)
    if user is None:
        user = User(tg_id=tg_id, name=name or str(tg_id), username=username, role=invite.role,
                    team_id=invite.team_id, language=language, joined_at=now)
        session.add(user)
    else:  # known but in no team (a team that was removed): joins with the invite's role
        user.team_id = invite.team_id
        user.role = invite.role
        user.active = True
    session.flush()
    invite.used_by = user.id
    invite.used_at = now
    session.add(invite)
    session.flush()
    audit.record(session, "invite_redeemed", now, actor=user, subject=user, team_id=invite.team_id,
                 role=invite.role, invite_id=invite.id, created_by=invite.created_by)
    return JoinResult(user=user, team=team, created=created)


def refusal_for(session: Session, tg_id: int, now: datetime, once: bool = True) -> str | None:
    """How to answer someone who is not an active member: ``deactivated`` (every time, politely),
    ``stranger`` (the first time when ``once``; button presses are always answered) or None (stay silent)."""
    user = get_user(session, tg_id)
    if user is not None and user.deactivated_at is not None:
        return "deactivated"
    return "stranger" if not once or refuse_stranger_once(session, tg_id, now) else None


def refuse_stranger_once(session: Session, tg_id: int, now: datetime) -> bool:
    """True the first time an unknown user writes (answer once), False afterwards (stay silent)."""
    if session.get(Stranger, tg_id) is not None:
        return False
    session.add(Stranger(tg_id=tg_id, refused_at=now))
    session.flush()
    return True


def touch_profile(session: Session, user: User, name: str, username: str | None, language: str) -> User:
    """Keep name/language fresh and re-activate a user who unblocked the bot by writing to it."""
    changed = False
    for attr, value in (("name", name), ("username", username), ("language", language)):
        if value and getattr(user, attr) != value:
            setattr(user, attr, value)
            changed = True
    if not user.active:
        user.active = True
        user.blocked_at = None
        changed = True
    if changed:
        session.add(user)
        session.flush()
    return user


def mark_blocked(session: Session, chat_id: int, now: datetime) -> None:
    user = get_user(session, chat_id)
    if user and user.active:
        user.active = False
        user.blocked_at = now
        session.add(user)


def team_members(session: Session, team_id: int, roles: tuple[str, ...] = ROLES, active_only: bool = True) -> list[User]:
    query = select(User).where(User.team_id == team_id, User.role.in_(roles))
    if active_only:
        query = query.where(User.active == True)  # noqa: E712
    return list(session.exec(query.order_by(User.id)))


def managers_of(session: Session, team_id: int) -> list[User]:
    return team_members(session, team_id, roles=("manager",)) or team_members(session, team_id, roles=("admin",))


def staff(session: Session) -> list[User]:
    """Managers and admins who can receive a bot message (for their chat-scoped menu)."""
    return list(session.exec(select(User).where(User.role.in_(("manager", "admin")), User.active == True)))  # noqa: E712


def active_reps(session: Session) -> list[User]:
    """Reps who can receive a bot message (the console's menu button is set for them at start-up)."""
    return list(session.exec(select(User).where(User.role == "rep", User.active == True, User.team_id.is_not(None))))  # noqa: E712


def member_for_update(session: Session, tg_id: int, name: str, username: str | None, language: str,
                      refresh_profile: bool, *, user: User | None | bool = False) -> User | None:
    """The registered member behind an update (None for strangers), with a fresh profile.
    ``user``: the row for ``tg_id`` already read (None: there is none)."""
    if user is False:
        user = get_user(session, tg_id)
    if user is None or user.deactivated_at is not None or (user.team_id is None and user.role != "admin"):
        return None  # a deactivated member is not re-activated by writing (see refusal_for)
    return touch_profile(session, user, name, username, language) if refresh_profile else user


def members_for_updates(session: Session, args_list: list[tuple]) -> list[User | None]:
    """``member_for_update`` for several updates' senders (its arguments each), reading their rows
    with one query."""
    tg_ids = sorted({args[0] for args in args_list})
    rows = {u.tg_id: u for u in session.exec(select(User).where(User.tg_id.in_(tg_ids)))} if tg_ids else {}
    return [member_for_update(session, *args, user=rows.get(args[0])) for args in args_list]
