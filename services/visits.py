"""Visit plans (拜访计划): what to achieve, whom to meet, what to bring, what to ask and answer,
when to go; the calendar file; the reminder before and the check-in after.

The plan is built from what salesbot already knows about the customer: the stage's open
checklist steps (the goal), the contact and decision-maker fields, the stage's materials, the
required fields still missing (questions), the objections seen in analysed chats with the
playbook's answers, competitors mentioned with their counter-scripts, and the hour the customer
usually replies at.  The slot avoids the rep's other planned visits, quiet hours and days off.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta, timezone

from sqlmodel import Session, select

from core.clock import local_to_utc, to_local
from core.config import WEEKDAYS, Config, parse_hhmm
from services import competitors as comp_svc
from services import customers as cust_svc
from services.cleaning import field_value, missing_fields
from storage.models import Customer, IntentRecord, Team, User
from storage.models_coaching import Visit

DEFAULT_HOUR = 10
WORK_START, WORK_END = 9, 18   # a visit starts within these local hours unless [schedule] work_start/work_end say


def visit_hours(config: Config) -> tuple[int, int]:
    """[first, last) local hour a visit may start: the team's working hours, whole hours inside them
    (a window over midnight falls back to the day shift)."""
    start, end = parse_hhmm(config.schedule.work_start), parse_hhmm(config.schedule.work_end)
    first = start.hour + (1 if start.minute else 0)
    last = end.hour
    return (first, last) if first < last else (WORK_START, WORK_END)


@dataclass
class VisitPlan:
    customer_id: int
    name: str
    company: str
    stage: str
    goal: list[str] = field(default_factory=list)
    meet: list[str] = field(default_factory=list)
    bring: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)            # field ids still missing
    answers: list[tuple[str, str]] = field(default_factory=list)  # (objection id, playbook answer)
    counters: list[tuple[str, str]] = field(default_factory=list)  # (competitor name, counter-script)
    start: datetime | None = None   # naive UTC
    end: datetime | None = None
    hour_from: str = "default"      # best_hour | default

    def to_dict(self) -> dict:
        data = asdict(self)
        data["start"] = self.start.isoformat() if self.start else None
        data["end"] = self.end.isoformat() if self.end else None
        return data


def objections_seen(session: Session, customer_id: int, limit: int = 10) -> list[str]:
    """Objection ids from the customer's analysed chats, most recent first, without repeats."""
    seen: list[str] = []
    for row in session.exec(select(IntentRecord.objections).where(IntentRecord.customer_id == customer_id)
                            .order_by(IntentRecord.at.desc(), IntentRecord.id.desc()).limit(limit)):
        for objection in row or []:
            if objection not in seen:
                seen.append(objection)
    return seen


def build_plan(session: Session, config: Config, user: User, customer: Customer, now: datetime, lang: str = "zh") -> VisitPlan:
    from services.intel import best_hour
    team = session.get(Team, customer.team_id)
    stage = config.stage(customer.stage)
    plan = VisitPlan(customer.id, customer.name, customer.company or "",
                     ((stage.name_en or stage.name) if lang == "en" else stage.name) if stage else customer.stage)
    plan.goal = [(i.text_en or i.text) if lang == "en" else i.text for i in cust_svc.open_items(session, config, customer, team)]
    for name in ("contact", "decision_maker"):
        if name in ("contact",) or name in config.fields:
            value = field_value(customer, name)
            if value:
                plan.meet.append(f"{config.field_label(name, lang)}：{value}")
    plan.bring = list(stage.materials) if stage else []
    plan.questions = missing_fields(customer, customer.stage, config)
    scripts = config.objection_scripts()
    plan.answers = [(o, scripts[o]) for o in objections_seen(session, customer.id) if o in scripts]
    plan.counters = [(c.name, c.counter_scripts[0]) for c in comp_svc.for_customer(session, config, customer.id)
                     if c.counter_scripts]
    hour = best_hour(session, config, customer, now)
    plan.hour_from = "best_hour" if hour is not None else "default"
    plan.start = propose_slot(session, config, user, now, DEFAULT_HOUR if hour is None else hour)
    plan.end = plan.start + timedelta(minutes=config.coaching.visit_minutes)
    return plan


def propose_slot(session: Session, config: Config, user: User, now: datetime, hour: int) -> datetime:
    """The first workday from tomorrow at ``hour`` (moved into working hours) free of the rep's other visits."""
    work_start, work_end = visit_hours(config)
    hour = min(max(hour, work_start), work_end - 1)
    length = timedelta(minutes=config.coaching.visit_minutes)
    busy = [(v.start_at, v.end_at) for v in session.exec(select(Visit).where(
        Visit.user_id == user.id, Visit.status == "planned", Visit.end_at > now))]
    local_today = to_local(now, config.tz).date()
    for days in range(1, 31):
        day = local_today + timedelta(days=days)
        if WEEKDAYS[day.weekday()] not in config.schedule.workdays:
            continue
        for h in sorted(range(work_start, work_end), key=lambda x: (abs(x - hour), x)):  # nearest hour first
            start = local_to_utc(datetime.combine(day, time(h)), config.tz)
            if all(start >= b_end or start + length <= b_start for b_start, b_end in busy):
                return start
    return local_to_utc(datetime.combine(local_today + timedelta(days=1), time(hour)), config.tz)


def schedule(session: Session, config: Config, user: User, customer_id: int, plan: VisitPlan, now: datetime) -> Visit | None:
    """Save the visit (the plan's slot); None when the customer is not the user's to see."""
    customer = cust_svc.get_for(session, user, customer_id)
    if customer is None or plan.start is None:
        return None
    visit = Visit(customer_id=customer.id, user_id=user.id, start_at=plan.start, end_at=plan.end,
                  goal="；".join(plan.goal)[:500], plan=plan.to_dict(), created_at=now)
    session.add(visit)
    session.flush()
    return visit


def upcoming(session: Session, user: User, now: datetime, days: int = 7) -> list[tuple[Visit, str]]:
    """The rep's planned visits from now on for ``days`` days, with the customer's name."""
    return [(v, name) for v, name in session.execute(
        select(Visit, Customer.name).join(Customer, Customer.id == Visit.customer_id)
        .where(Visit.user_id == user.id, Visit.status == "planned", Visit.start_at >= now,
               Visit.start_at < now + timedelta(days=days)).order_by(Visit.start_at, Visit.id)).all()]


def visit_for(session: Session, user: User, visit_id: int) -> Visit | None:
    visit = session.get(Visit, visit_id)
    if visit is None or visit.user_id != user.id:
        return None
    return visit


def check_in(session: Session, config: Config, user: User, visit_id: int, went: bool, outcome: str, now: datetime,
             next_at: datetime | None = None) -> tuple[Visit, Customer] | None:
    """Record how the visit went; a visit that happened is logged as a follow-up with its next step."""
    visit = visit_for(session, user, visit_id)
    if visit is None or visit.status != "planned":
        return None
    customer = cust_svc.get_for(session, user, visit.customer_id)
    if customer is None:
        return None
    visit.status = "done" if went else "missed"
    visit.outcome = outcome[:1000]
    visit.checked_at = now
    session.add(visit)
    if went:
        cust_svc.log_followup(session, config, user, customer, f"拜访：{outcome}" if outcome else "拜访", now,
                              next_at, kind="visit")
    session.flush()
    return visit, customer


def ics(config: Config, visit: Visit, plan: VisitPlan, summary: str, description: str, alarm_text: str) -> bytes:
    """An iCalendar file with one event (and a reminder alarm) that phone calendars import."""
    from icalendar import Alarm, Calendar, Event
    cal = Calendar()
    cal.add("prodid", "-//salesbot//visit plan//ZH")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"visit-{visit.id}-{visit.customer_id}@salesbot")
    event.add("dtstamp", visit.created_at.replace(tzinfo=timezone.utc))
    event.add("dtstart", visit.start_at.replace(tzinfo=timezone.utc))
    event.add("dtend", visit.end_at.replace(tzinfo=timezone.utc))
    event.add("summary", summary)
    event.add("description", description)
    if plan.company:
        event.add("location", plan.company)
    if config.coaching.visit_remind_minutes:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", alarm_text)
        alarm.add("trigger", timedelta(minutes=-config.coaching.visit_remind_minutes))
        event.add_component(alarm)
    cal.add_component(event)
    return cal.to_ical()


def reminder_times(config: Config, visit: Visit) -> tuple[datetime, datetime]:
    """When the reminder before and the check-in after are due (naive UTC)."""
    return (visit.start_at - timedelta(minutes=config.coaching.visit_remind_minutes),
            visit.end_at + timedelta(minutes=config.coaching.checkin_after_minutes))


