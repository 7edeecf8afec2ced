"""Group bindings: which team's leaderboards and honors a group chat receives."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from services import outbox
from storage.models import GroupBinding, Team, User


def get_binding(session: Session, chat_id: int) -> GroupBinding | None:
    return session.get(GroupBinding, chat_id)


def bind(session: Session, chat_id: int, title: str, manager: User, now: datetime) -> Team | None:
    """Bind (or re-bind) the group to the manager's team."""
    binding = session.get(GroupBinding, chat_id)
    if binding is None:
        binding = GroupBinding(chat_id=chat_id, team_id=manager.team_id, title=title[:100], bound_by=manager.id, bound_at=now)
    else:
        binding.team_id, binding.title, binding.bound_by, binding.bound_at = manager.team_id, title[:100], manager.id, now
    session.add(binding)
    session.flush()
    return session.get(Team, manager.team_id)


def unbind(session: Session, chat_id: int, manager: User) -> bool:
    binding = session.get(GroupBinding, chat_id)
    if binding is None or (manager.role != "admin" and binding.team_id != manager.team_id):
        return False
    session.delete(binding)
    return True


def migrate(session: Session, old_chat_id: int, new_chat_id: int) -> bool:
    """A basic group became a supergroup: the binding and any queued posts move to the new id (idempotent)."""
    old = session.get(GroupBinding, old_chat_id)
    moved = False
    if old is not None:
        if session.get(GroupBinding, new_chat_id) is None:
            session.add(GroupBinding(chat_id=new_chat_id, team_id=old.team_id, title=old.title, bound_by=old.bound_by,
                                     bound_at=old.bound_at))
        session.delete(old)
        moved = True
    outbox.retarget_chat(session, old_chat_id, new_chat_id)
    session.flush()
    return moved


def forget(session: Session, chat_id: int) -> None:
    """The bot left or was removed: stop posting there."""
    binding = session.get(GroupBinding, chat_id)
    if binding is not None:
        session.delete(binding)
    outbox.skip_chat(session, chat_id, "bot removed from the group")
