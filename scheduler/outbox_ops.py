"""The outbox sender's results, written in one transaction per batch (scheduler/sender.py's recorder).

Each op is a tuple: ("sent", row, message id, at, attempts), ("failed", row, error, status,
attempts), ("skip_chat", chat, reason), ("message_id", row, id), ("blocked", chat, reason, at),
("migrate", old chat, new chat).
"""
from __future__ import annotations

from services import outbox
from storage.models import GroupBinding


def apply_ops(session, ops: list[tuple]) -> None:
    """Write the outcomes the sender collected (one transaction for a batch)."""
    outbox.mark_sent_many(session, [(op[1], op[2], op[3], op[4] + 1) for op in ops if op[0] == "sent"])
    for op in ops:
        kind = op[0]
        if kind == "sent":
            continue
        elif kind == "failed":
            _, row_id, error, status, attempts = op
            outbox.mark_failed(session, row_id, error, status)
        elif kind == "skip_chat":
            outbox.skip_chat(session, op[1], op[2])
        elif kind == "message_id":
            outbox.set_message_id(session, op[1], op[2])
        elif kind == "blocked":
            with session.begin_nested():
                _blocked(session, op[1], op[2], op[3])
        elif kind == "migrate":
            with session.begin_nested():
                _migrate(session, op[1], op[2])
        else:
            raise ValueError(f"unknown outbox op {kind!r}")


def _migrate(session, old_chat_id: int, new_chat_id: int) -> None:
    try:
        from services.groups import migrate
    except ImportError:
        migrate = None
    if migrate is not None:
        migrate(session, old_chat_id, new_chat_id)
        return
    binding = session.get(GroupBinding, old_chat_id)
    if binding is not None:
        if session.get(GroupBinding, new_chat_id) is None:
            session.add(GroupBinding(chat_id=new_chat_id, team_id=binding.team_id, title=binding.title,
                                     bound_by=binding.bound_by, bound_at=binding.bound_at))
        session.delete(binding)
    outbox.retarget_chat(session, old_chat_id, new_chat_id)


def _blocked(session, chat_id: int, reason: str, now) -> None:
    from services.users import mark_blocked
    if chat_id > 0:
        mark_blocked(session, chat_id, now)
    else:
        session.query(GroupBinding).filter(GroupBinding.chat_id == chat_id).delete()
    outbox.skip_chat(session, chat_id, reason)
