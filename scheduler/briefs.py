"""Morning briefs (each rep, one message) and the managers' digest, queued in the outbox."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, select

from core.clock import to_local
from handlers import views
from services import digest as digest_svc
from services import outbox
from services.brief import brief_for
from services.core import Core
from services.users import team_members
from storage.models import Task, Team, User


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


def brief_job(session: Session, core: Core, team: Team, slot: datetime) -> int:
    count = 0
    day = to_local(slot, core.config.tz).date().isoformat()
    members = team_members(session, team.id, roles=("rep", "manager"))
    lines = digest_svc.rep_lines(session, core.config, team.id, members, slot)
    for user in members:
        payload = brief_payload(session, core, user, slot, line=lines.get(user.id, ""))
        if payload is None:
            continue
        if outbox.enqueue(session, user.tg_id, "brief", payload, f"brief:{user.id}:{day}", core.clock.now()):
            count += 1
        # Reminders folded into this brief are now delivered with it.
        session.execute(update(Task).where(Task.user_id == user.id, Task.status == "folded").values(status="fired"))
    return count


def digest_job(session: Session, core: Core, team: Team, slot: datetime) -> int:
    return digest_svc.queue_digests(session, core, team, slot)
