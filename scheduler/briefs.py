"""Morning briefs (each rep, one message) and the managers' digest, queued in the outbox."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.clock import to_local
from core.callbacks import OpenCard
from handlers import views
from core.textfit import shorten_width
from services import digest as digest_svc
from services import outbox
from services.brief import brief_for, briefs_for_many
from services.core import Core
from services.users import team_members
from storage.models import Outbox, Task, Team, User


def folded_reminders(session: Session, user: User) -> int:
    return session.exec(select(func.count()).select_from(Task).where(Task.user_id == user.id, Task.status == "folded")).one()


def brief_payload(session: Session, core: Core, user: User, now: datetime, line: str | None = None) -> dict | None:
    """The brief for one rep, or None when there is nothing to do (no empty briefs).

    ``line`` is the rep's own digest line when the brief job computed it for the whole team at
    once; /today computes it here.
    """
    from services.playbook import config_for
    items = brief_for(session, config_for(session, core, user.team_id), user, now)
    folded = folded_reminders(session, user)
    if not items and not folded:
        return None
    text = views.brief_text(items, core.config, user.language, now, folded)
    if line is None:
        line = digest_svc.rep_line(session, core.config, user, now)
    if line:
        text += "\n\n" + line
    markup = views.brief_keyboard(items)
    return {"text": text, "reply_markup": markup.to_dict() if markup else None}


def brief_keyboard_dict(items: list) -> dict | None:
    """``views.brief_keyboard(items).to_dict()`` without building PTB objects (the job builds thousands)."""
    if not items:
        return None
    buttons = [{"callback_data": OpenCard(item.customer.id).encode(),
                "text": f"{i}. {shorten_width(item.customer.name, 24)}"} for i, item in enumerate(items, 1)]
    return {"inline_keyboard": [buttons[i:i + 2] for i in range(0, len(buttons), 2)]}


FIRST_BATCH = 50   # reps in the first committed batch: the sender starts on these within a second
BATCH = 250        # reps per later batch (each one transaction, a handful of queries)


def brief_batches(session: Session, core: Core, team: Team, slot: datetime) -> list[list[int]]:
    """The members to brief, in id order, cut into batches (a small first one)."""
    ids = [u.id for u in team_members(session, team.id, roles=("rep", "manager"))]
    return [ids[:FIRST_BATCH]] + [ids[i:i + BATCH] for i in range(FIRST_BATCH, len(ids), BATCH)] if ids else []


def brief_batch(session: Session, core: Core, team: Team, slot: datetime, user_ids: list[int]) -> int:
    """Queue the briefs of one batch of reps with a fixed number of queries: the reps' customers with
    a reason, the checklists of those shown, the digest lines, the folded reminders, the outbox keys."""
    from services.playbook import config_for
    if not user_ids:
        return 0
    day = to_local(slot, core.config.tz).date().isoformat()
    members = list(session.exec(select(User).where(User.id.in_(user_ids), User.team_id == team.id).order_by(User.id)))
    lines = digest_svc.rep_lines(session, core.config, team.id, members, slot, narrow=True)
    items = briefs_for_many(session, config_for(session, core, team.id), session.get(Team, team.id),
                            [u.id for u in members], slot)
    folded = dict(session.execute(select(Task.user_id, func.count()).where(
        Task.user_id.in_(user_ids), Task.status == "folded").group_by(Task.user_id)).all())
    keys = {u.id: f"brief:{u.id}:{day}" for u in members}
    known = set(session.exec(select(Outbox.dedupe_key).where(Outbox.dedupe_key.in_(list(keys.values())))))
    now = core.clock.now()
    rows = []
    for user in members:
        mine, n_folded = items.get(user.id, []), folded.get(user.id, 0)
        if not mine and not n_folded:
            continue  # no empty briefs
        if keys[user.id] in known:
            continue
        text = views.brief_text(mine, core.config, user.language, slot, n_folded)
        if lines.get(user.id, ""):
            text += "\n\n" + lines[user.id]
        payload = {"text": text, "reply_markup": brief_keyboard_dict(mine)}
        rows.append((user.tg_id, payload, keys[user.id]))
    count = 0
    try:
        with session.begin_nested():
            session.add_all([Outbox(dedupe_key=key, chat_id=chat, kind="brief", payload=payload, next_attempt_at=now,
                                    created_at=now) for chat, payload, key in rows])
            session.flush()
        count = len(rows)
    except IntegrityError:  # another instance queued some of these first: one by one, skipping those
        count = sum(1 for chat, payload, key in rows if outbox.enqueue(session, chat, "brief", payload, key, now))
    # Reminders folded into these briefs are now delivered with them.
    if folded:
        session.execute(update(Task).where(Task.user_id.in_(list(folded)), Task.status == "folded").values(status="fired"))
    return count


def brief_job(session: Session, core: Core, team: Team, slot: datetime) -> int:
    """Every brief of the team in one transaction (the scheduler runs the batches below as their own
    transactions, so sending starts with the first batch: scheduler.jobs)."""
    return sum(brief_batch(session, core, team, slot, batch) for batch in brief_batches(session, core, team, slot))


brief_job.batches = brief_batches  # type: ignore[attr-defined]
brief_job.batch = brief_batch  # type: ignore[attr-defined]


def digest_job(session: Session, core: Core, team: Team, slot: datetime) -> int:
    return digest_svc.queue_digests(session, core, team, slot)
