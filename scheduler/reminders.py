"""Follow-up reminders at the time the rep set, within the notification budget.

Quiet hours and non-working days defer a reminder into the next morning brief ("folded"), and
so does a day that already had ``max_reminders_per_day`` pings.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from core.clock import to_local
from core.config import WEEKDAYS, parse_hhmm
from core.texts import t
from handlers import views
from services import outbox
from services.core import Core
from storage.models import Customer, Outbox, Task, User


def in_quiet_hours(core: Core, now: datetime) -> bool:
    local = to_local(now, core.config.tz)
    if WEEKDAYS[local.weekday()] not in core.config.schedule.workdays:
        return True
    start, end = parse_hhmm(core.config.schedule.quiet_start), parse_hhmm(core.config.schedule.quiet_end)
    now_t = local.time().replace(tzinfo=None)
    if start <= end:
        return start <= now_t < end
    return now_t >= start or now_t < end


def reminders_sent_today(session: Session, chat_id: int, now: datetime) -> int:
    return session.exec(select(func.count()).select_from(Outbox).where(
        Outbox.chat_id == chat_id, Outbox.kind == "reminder", Outbox.created_at >= now - timedelta(hours=24))).one()


def fire_reminders(session: Session, core: Core, now: datetime) -> int:
    due = list(session.exec(select(Task).where(Task.status == "open", Task.due_at <= now).order_by(Task.due_at).limit(500)))
    fired = 0
    quiet = in_quiet_hours(core, now)
    for task in due:
        user = session.get(User, task.user_id)
        if user is None or not user.active:
            task.status = "done"
            session.add(task)
            continue
        over_budget = reminders_sent_today(session, user.tg_id, now) >= core.config.schedule.max_reminders_per_day
        if quiet or over_budget:
            task.status = "folded"
            session.add(task)
            continue
        customer = session.get(Customer, task.customer_id) if task.customer_id else None
        name = customer.name if customer else "—"
        text = t("reminder", user.language, name=name, note=views.short(task.text, 200))
        markup = None
        if customer is not None:
            from core.callbacks import OpenCard
            markup = {"inline_keyboard": [[{"text": views.short(customer.name, 28),
                                            "callback_data": OpenCard(customer.id).encode()}]]}
        outbox.enqueue(session, user.tg_id, "reminder", {"text": text, "reply_markup": markup},
                       f"reminder:{task.id}", now)
        task.status = "fired"
        session.add(task)
        fired += 1
    session.flush()
    return fired
