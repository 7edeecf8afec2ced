"""The outbox: scheduled and fan-out messages are rows first, Telegram calls second.

``enqueue`` runs inside the caller's transaction, so a brief exists exactly when the state it
reports was committed.  A unique ``dedupe_key`` (e.g. ``brief:<user>:<local date>``) makes a
second enqueue of the same message a no-op — the basis of "never twice".
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.models import Outbox

CLAIM_SECONDS = 60  # a claimed row whose sender died is retried after this long


def enqueue(session: Session, chat_id: int, kind: str, payload: dict[str, Any], dedupe_key: str,
            now: datetime, not_before: datetime | None = None) -> Outbox | None:
    """Add a message unless one with the same dedupe key exists. Returns the row or None."""
    existing = session.exec(select(Outbox.id).where(Outbox.dedupe_key == dedupe_key)).first()
    if existing is not None:
        return None
    row = Outbox(dedupe_key=dedupe_key[:250], chat_id=chat_id, kind=kind, payload=payload,
                 next_attempt_at=not_before or now, created_at=now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return None  # a concurrent writer enqueued the same key first
    return row


def claim_due(session: Session, worker: str, now: datetime, limit: int = 50) -> list[Outbox]:
    """Claim due rows for this worker.

    On PostgreSQL, ``FOR UPDATE SKIP LOCKED`` lets several instances claim disjoint batches;
    on SQLite the single writer lock serialises claims.  A claim expires, so a crashed
    sender's rows are picked up again (the row is then re-sent: see docs on exactly-once).
    """
    query = (select(Outbox).where(
        Outbox.status.in_(("pending", "sending")), Outbox.next_attempt_at <= now,
        (Outbox.claimed_until == None) | (Outbox.claimed_until < now))  # noqa: E711
        .order_by(Outbox.next_attempt_at, Outbox.id).limit(limit))
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.exec(query))
    until = now + timedelta(seconds=CLAIM_SECONDS)
    for row in rows:
        row.claimed_by = worker
        row.claimed_until = until
        session.add(row)
    session.flush()
    return rows


def mark_sending(session: Session, row_id: int) -> None:
    session.execute(update(Outbox).where(Outbox.id == row_id).values(status="sending"))


def mark_sent(session: Session, row_id: int, message_id: int | None, now: datetime) -> None:
    session.execute(update(Outbox).where(Outbox.id == row_id).values(
        status="sent", telegram_message_id=message_id, sent_at=now, claimed_until=None, last_error=""))


def mark_retry(session: Session, row_id: int, when: datetime, error: str) -> None:
    session.execute(update(Outbox).where(Outbox.id == row_id).values(
        status="pending", next_attempt_at=when, claimed_until=None, attempts=Outbox.attempts + 1,
        last_error=error[:300]))


def mark_failed(session: Session, row_id: int, error: str, status: str = "failed") -> None:
    session.execute(update(Outbox).where(Outbox.id == row_id).values(
        status=status, claimed_until=None, attempts=Outbox.attempts + 1, last_error=error[:300]))


def retarget_chat(session: Session, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: every pending row for it goes to the new id."""
    session.execute(update(Outbox).where(Outbox.chat_id == old_chat_id, Outbox.status.in_(("pending", "sending")))
                    .values(chat_id=new_chat_id))


def skip_chat(session: Session, chat_id: int, reason: str) -> None:
    session.execute(update(Outbox).where(Outbox.chat_id == chat_id, Outbox.status.in_(("pending", "sending")))
                    .values(status="skipped", last_error=reason[:300], claimed_until=None))


def pending_count(session: Session) -> int:
    from sqlalchemy import func
    return session.exec(select(func.count()).select_from(Outbox).where(Outbox.status.in_(("pending", "sending")))).one()
