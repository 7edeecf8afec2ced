"""The outbox: scheduled and fan-out messages are rows first, Telegram calls second.

``enqueue`` runs inside the caller's transaction, so a brief exists exactly when the state it
reports was committed.  A unique ``dedupe_key`` (e.g. ``brief:<user>:<local date>``) makes a
second enqueue of the same message a no-op — the basis of "never twice".

Delivery (scheduler/sender.py) claims due rows for a while (``claimed_by``/``claimed_until``,
renewed while the sender holds them), sends them and records the outcome with Telegram's
message id.  Claims are timed on the database's clock (scheduler.leader.db_now) so several
instances agree on when a dead sender's claim has expired; ``next_attempt_at`` is business
time (core.clock), like ``created_at``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.models import Outbox, User

CLAIM_SECONDS = 60  # default claim; the sender passes the lease TTL
OPEN = ("pending", "sending")  # "sending": left by older versions, treated like pending


def enqueue(session: Session, chat_id: int, kind: str, payload: dict[str, Any], dedupe_key: str,
            now: datetime, not_before: datetime | None = None) -> Outbox | None:
    """Add a message unless one with the same dedupe key exists. Returns the row or None."""
    dedupe_key = dedupe_key[:250]
    existing = session.exec(select(Outbox.id).where(Outbox.dedupe_key == dedupe_key)).first()
    if existing is not None:
        return None
    row = Outbox(dedupe_key=dedupe_key, chat_id=chat_id, kind=kind, payload=payload,
                 next_attempt_at=not_before or now, created_at=now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return None  # a concurrent writer enqueued the same key first
    return row


@dataclass
class Item:
    """A claimed row, detached from any session: what the sender needs to deliver it."""

    id: int
    chat_id: int
    kind: str
    payload: dict[str, Any]
    dedupe_key: str
    attempts: int
    previous_holder: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def claim_due(session: Session, worker: str, now: datetime, limit: int = 50,
              ttl_s: float = CLAIM_SECONDS) -> list[Item]:
    """Claim up to ``limit`` due rows nobody else holds, oldest first.

    On PostgreSQL, ``FOR UPDATE SKIP LOCKED`` lets several instances claim disjoint batches;
    on SQLite the single writer lock serialises claims.  A claim expires ``ttl_s`` after it was
    taken or last renewed, so a crashed sender's rows are picked up again (re-sent: see
    docs/deployment.md on the at-least-once window).  Rows for a user who blocked the bot are
    skipped here instead of being tried again.
    """
    from scheduler.leader import db_now
    infra_now = db_now(session)
    query = (select(Outbox).where(
        Outbox.status.in_(OPEN), Outbox.next_attempt_at <= now,
        or_(Outbox.claimed_until == None, Outbox.claimed_until < infra_now))  # noqa: E711
        .order_by(Outbox.next_attempt_at, Outbox.id).limit(limit))
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.exec(query))
    if not rows:
        return []
    chat_ids = {r.chat_id for r in rows if r.chat_id > 0}
    inactive = set(session.exec(select(User.tg_id).where(User.tg_id.in_(chat_ids), User.active == False))) \
        if chat_ids else set()  # noqa: E712
    until = infra_now + timedelta(seconds=ttl_s)
    items, skipped = [], []
    for row in rows:
        if row.chat_id in inactive:
            skipped.append(row.id)
            continue
        items.append(Item(row.id, row.chat_id, row.kind, dict(row.payload or {}), row.dedupe_key, row.attempts,
                          previous_holder=row.claimed_by if row.claimed_by not in (None, worker) else None))
    taken = {item.chat_id for item in items if item.previous_holder}
    if taken:  # another sender may have sent these: what the chat held before (scheduler/probe.py)
        newest = dict(session.exec(select(Outbox.chat_id, func.max(Outbox.telegram_message_id)).where(
            Outbox.chat_id.in_(taken), Outbox.status == "sent").group_by(Outbox.chat_id)).all())
        created = {row.id: row.created_at for row in rows}
        for item in items:
            if item.previous_holder:
                item.extra.update(newest_sent=newest.get(item.chat_id) or 0, created_at=created[item.id])
    session.expunge_all()  # plain statements below; the loaded objects must not be flushed back
    if skipped:
        session.execute(update(Outbox).where(Outbox.id.in_(skipped)).values(
            status="skipped", claimed_until=None, last_error="user blocked the bot"))
    if items:
        session.execute(update(Outbox).where(Outbox.id.in_([i.id for i in items])).values(
            claimed_by=worker, claimed_until=until))
    return items


def mark_sent_many(session: Session, results: list[tuple[int, int | None, datetime, int]]) -> None:
    """(row id, Telegram message id, sent at, attempts) for many rows: one executemany."""
    if results:
        session.execute(update(Outbox), [
            {"id": row_id, "status": "sent", "telegram_message_id": message_id, "sent_at": at, "claimed_until": None,
             "last_error": "", "attempts": attempts} for row_id, message_id, at, attempts in results])


def renew_claims(session: Session, worker: str, ttl_s: float) -> int:
    """Extend every open claim this worker holds (called every ttl/3)."""
    from scheduler.leader import db_now
    until = db_now(session) + timedelta(seconds=ttl_s)
    return session.execute(update(Outbox).where(Outbox.claimed_by == worker, Outbox.status.in_(OPEN),
                                                Outbox.claimed_until != None)  # noqa: E711
                           .values(claimed_until=until)).rowcount


def release_claims(session: Session, worker: str, ids: list[int] | None = None,
                   next_attempt_at: datetime | None = None) -> int:
    """Hand claimed rows back (shutdown, lost leadership, long wait) so anyone may take them now."""
    query = update(Outbox).where(Outbox.claimed_by == worker, Outbox.status.in_(OPEN))
    if ids is not None:
        if not ids:
            return 0
        query = query.where(Outbox.id.in_(ids))
    values: dict[str, Any] = {"claimed_until": None}
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    return session.execute(query.values(**values)).rowcount


def mark_sending(session: Session, row_id: int) -> None:
    session.execute(update(Outbox).where(Outbox.id == row_id).values(status="sending"))


def mark_sent(session: Session, row_id: int, message_id: int | None, now: datetime,
              attempts: int | None = None) -> None:
    values: dict[str, Any] = dict(status="sent", telegram_message_id=message_id, sent_at=now, claimed_until=None,
                                  last_error="")
    values["attempts"] = attempts + 1 if attempts is not None else Outbox.attempts + 1
    session.execute(update(Outbox).where(Outbox.id == row_id).values(**values))


def set_message_id(session: Session, row_id: int, message_id: int) -> None:
    """A sent row's message turned out to be an earlier copy (scheduler/probe.py): record that one."""
    session.execute(update(Outbox).where(Outbox.id == row_id, Outbox.status == "sent")
                    .values(telegram_message_id=message_id))


def mark_retry(session: Session, row_id: int, when: datetime, error: str) -> None:
    session.execute(update(Outbox).where(Outbox.id == row_id).values(
        status="pending", next_attempt_at=when, claimed_until=None, attempts=Outbox.attempts + 1,
        last_error=error[:300]))


def mark_failed(session: Session, row_id: int, error: str, status: str = "failed") -> None:
    session.execute(update(Outbox).where(Outbox.id == row_id).values(
        status=status, claimed_until=None, attempts=Outbox.attempts + 1, last_error=error[:300]))


def retarget_chat(session: Session, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: every pending row for it goes to the new id."""
    session.execute(update(Outbox).where(Outbox.chat_id == old_chat_id, Outbox.status.in_(OPEN))
                    .values(chat_id=new_chat_id))


def skip_chat(session: Session, chat_id: int, reason: str) -> None:
    session.execute(update(Outbox).where(Outbox.chat_id == chat_id, Outbox.status.in_(OPEN))
                    .values(status="skipped", last_error=reason[:300], claimed_until=None))


def pending_count(session: Session, due_by: datetime | None = None) -> int:
    """Rows still to send; with ``due_by``, only those due by then (not_before in the future is not pending yet)."""
    query = select(func.count()).select_from(Outbox).where(Outbox.status.in_(OPEN))
    if due_by is not None:
        query = query.where(Outbox.next_attempt_at <= due_by)
    return session.exec(query).one()


def status_counts(session: Session) -> dict[str, int]:
    return dict(session.exec(select(Outbox.status, func.count()).group_by(Outbox.status)).all())
