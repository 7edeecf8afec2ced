"""People's lifecycle in a team (issue 11): roles, moves between teams, offboarding (离职继承).

Roles and teams change only here, as explicit decisions by a manager (their own team's reps) or an
admin (anyone); ``actor=None`` is the operator's CLI.  Every change is on the audit trail.

Offboarding ends access at once (``User.deactivated_at``: the bot treats the person as gone and
writing to it does not re-activate) and hands every customer, open task, reminder and draft to
one colleague, several in turn, or the team pool (which restarts protection by the pool rules).
Points, activities and history keep their author.  Each new owner gets one message listing what
they received.  Every customer row is locked while it changes hands, so a follow-up racing the
hand-over either lands before it or finds the customer gone (services.customers.lock).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, update
from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from services import audit, outbox
from storage.models import Activity, Customer, Outbox, Task, Team, User
from storage.models_business import BusinessLink
from storage.rows import locked

MODES = ("colleague", "split", "pool")


class TeamError(Exception):
    """Refused: forbidden | not_found | bad_target | same | last_admin | not_deactivated | deactivated."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Handover:
    """Where a person's customers go: one colleague, several in turn (``split``), or the pool."""
    mode: str
    to: list[int] = field(default_factory=list)


@dataclass
class HandoverReport:
    customers: dict[int | None, list[int]] = field(default_factory=dict)  # new owner (None: pool) → ids
    tasks: int = 0
    drafts: int = 0

    @property
    def customer_count(self) -> int:
        return sum(len(ids) for ids in self.customers.values())


@dataclass
class MemberRow:
    user: User
    customers: int
    last_activity: datetime | None


# --- who may do what -----------------------------------------------------------------------------

def can_manage(actor: User | None, target: User) -> bool:
    """The CLI and admins manage anyone; a manager manages the reps of their own team."""
    if actor is None or actor.role == "admin":
        return True
    return actor.role == "manager" and target.role == "rep" and target.team_id == actor.team_id


def _target(session: Session, actor: User | None, user_id: int) -> User:
    # Not locked here: customers are locked before people everywhere (a follow-up locks the
    # customer, then its points lock the rep), so callers lock the person after the customers.
    target = session.get(User, user_id)
    if target is None:
        raise TeamError("not_found")
    if not can_manage(actor, target) or (actor is not None and actor.id == target.id):
        raise TeamError("forbidden")
    return target


def _relock(target: User) -> User:
    """The person's row locked and re-read, after any customers (see ``_target``)."""
    return locked(object_session(target), User, User.id == target.id)


def teams_for(session: Session, actor: User | None) -> list[Team]:
    """Teams whose members this actor sees in /team: an admin (or the CLI) all, a manager theirs."""
    query = select(Team).order_by(Team.id)
    if actor is not None and actor.role != "admin":
        query = query.where(Team.id == actor.team_id)
    return list(session.exec(query))


def members(session: Session, actor: User | None, team_id: int) -> list[MemberRow]:
    """A team's members with role, status, customers held and last activity (three queries)."""
    if actor is not None and actor.role != "admin" and team_id != actor.team_id:
        return []
    people = list(session.exec(select(User).where(User.team_id == team_id).order_by(User.deactivated_at.is_not(None), User.role, User.id)))
    ids = [u.id for u in people]
    if not ids:
        return []
    held = dict(session.execute(select(Customer.owner_id, func.count()).where(
        Customer.owner_id.in_(ids), Customer.status == "open", Customer.invalid == False)  # noqa: E712
        .group_by(Customer.owner_id)).all())
    last = dict(session.execute(select(Activity.user_id, func.max(Activity.at)).where(Activity.user_id.in_(ids))
                                .group_by(Activity.user_id)).all())
    return [MemberRow(u, held.get(u.id, 0), last.get(u.id)) for u in people]


def member(session: Session, actor: User | None, user_id: int) -> MemberRow | None:
    user = session.get(User, user_id)
    if user is None or (actor is not None and actor.role != "admin" and user.team_id != actor.team_id):
        return None
    return next((row for row in members(session, actor, user.team_id) if row.user.id == user_id), None)


def colleagues(session: Session, target: User) -> list[User]:
    """Who can receive this person's customers: active members of the same team."""
    return list(session.exec(select(User).where(
        User.team_id == target.team_id, User.id != target.id, User.deactivated_at.is_(None),
        User.role.in_(("rep", "manager"))).order_by(User.role.desc(), User.id)))


# --- role and team ---------------------------------------------------------------------------------

def change_role(session: Session, core: Any, actor: User | None, user_id: int, role: str) -> User:
    """Only an admin (or the CLI) makes or unmakes a manager; admins come from `salesbot admin add`."""
    if role not in ("rep", "manager") or (actor is not None and actor.role != "admin"):
        raise TeamError("forbidden")
    target = _relock(_target(session, actor, user_id))
    if target.role == role:
        raise TeamError("same")
    if target.role == "admin":
        raise TeamError("forbidden")
    before, target.role = target.role, role
    session.add(target)
    audit.record(session, "role_changed", core.clock.now(), actor=actor, subject=target, team_id=target.team_id,
                 before=before, after=role)
    return target


def move_member(session: Session, core: Any, actor: User | None, user_id: int, team_id: int,
                customers: str | Handover) -> HandoverReport:
    """Move a person to another team; ``customers`` is ``"keep"`` (they go along, into the new
    team) or a Handover within the old team (to colleagues or the pool)."""
    now = core.clock.now()
    target = _target(session, actor, user_id)
    team = session.get(Team, team_id)
    if team is None:
        raise TeamError("not_found")
    if team.id == target.team_id:
        raise TeamError("same")
    if target.deactivated_at is not None:
        raise TeamError("deactivated")
    if target.role != "rep" and actor is not None and actor.role != "admin":
        raise TeamError("forbidden")
    old_team = target.team_id
    if customers == "keep":
        ids = [cid for cid, _ in _held(session, target)]
        report = HandoverReport(customers={target.id: ids} if ids else {})
        for chunk in _chunks(ids):
            session.execute(update(Customer).where(Customer.id.in_(chunk), Customer.owner_id == target.id)
                            .values(team_id=team.id, updated_at=now).execution_options(synchronize_session=False))
        if ids:
            session.execute(insert(Activity), [
                {"customer_id": cid, "user_id": actor.id if actor else None, "kind": "transfer", "at": now,
                 "text": f"team {old_team}->{team.id}", "data": {"from_team": old_team, "to_team": team.id, "reason": "move"}}
                for cid in ids])
        session.expire_all()
    else:
        report = _hand_over(session, core, actor, target, customers, reason="move")
    target = _relock(target)
    if target.team_id != old_team:
        raise TeamError("same")
    target.team_id = team.id
    session.add(target)
    from core.texts import t
    outbox.enqueue(session, target.tg_id, "notice", {"text": t("moved_to_team", target.language, team=team.name)},
                   f"moved:{target.id}:{team.id}:{now:%Y%m%d%H%M%S}", now)
    audit.record(session, "team_changed", now, actor=actor, subject=target, team_id=old_team, other_team_id=team.id,
                 customers="keep" if customers == "keep" else customers.mode, moved=report.customer_count)
    session.flush()
    return report


# --- offboarding ----------------------------------------------------------------------------------

def deactivate(session: Session, core: Any, actor: User | None, user_id: int, plan: Handover) -> HandoverReport:
    """End a person's access now and hand everything they hold over according to ``plan``."""
    now = core.clock.now()
    target = _target(session, actor, user_id)
    if target.deactivated_at is not None:
        raise TeamError("deactivated")
    if target.role == "admin" and not session.exec(select(User.id).where(
            User.role == "admin", User.id != target.id, User.deactivated_at.is_(None))).first():
        raise TeamError("last_admin")
    report = _hand_over(session, core, actor, target, plan, reason="offboarding")
    target = _relock(target)  # two managers offboarding one person at once: the second stops here
    if target.deactivated_at is not None:
        raise TeamError("deactivated")
    target.deactivated_at = now
    target.active = False
    session.add(target)
    # Nothing more reaches them: queued briefs and cards are dropped (the sender skips inactive
    # people too), Business chats are no longer read.  They hear that access ended when they write.
    for row in session.exec(select(Outbox).where(Outbox.chat_id == target.tg_id, Outbox.status == "pending")):
        row.status = "skipped"
        row.last_error = "deactivated"
        session.add(row)
    for link in session.exec(select(BusinessLink).where(BusinessLink.user_id == target.id, BusinessLink.consent == "granted")):
        link.consent = "revoked"
        session.add(link)
    audit.record(session, "deactivated", now, actor=actor, subject=target, team_id=target.team_id, mode=plan.mode,
                 customers=report.customer_count, tasks=report.tasks, drafts=report.drafts)
    session.flush()
    return report


def reactivate(session: Session, core: Any, actor: User | None, user_id: int) -> User:
    """An admin (or the CLI) restores access; the customers handed over stay where they went."""
    if actor is not None and actor.role != "admin":
        raise TeamError("forbidden")
    target = _relock(_target(session, actor, user_id))
    if target.deactivated_at is None:
        raise TeamError("not_deactivated")
    target.deactivated_at = None
    target.active = True
    target.blocked_at = None
    session.add(target)
    audit.record(session, "reactivated", core.clock.now(), actor=actor, subject=target, team_id=target.team_id)
    return target


def hand_over_customers(session: Session, core: Any, actor: User | None, from_user_id: int,
                        customer_ids: list[int], to_user_id: int | None) -> HandoverReport:
    """Hand some of a person's customers (and their open tasks) to one colleague or the pool."""
    target = _target(session, actor, from_user_id)
    plan = Handover("pool") if to_user_id is None else Handover("colleague", [to_user_id])
    return _hand_over(session, core, actor, target, plan, reason="handover", only=set(customer_ids))


def _held(session: Session, user: User, only: set[int] | None = None) -> list[tuple[int, str]]:
    """(id, name) of the person's customers, locked in one statement in id order (two hand-overs
    never deadlock) and read under the lock: a row handed away meanwhile is not taken again."""
    query = select(Customer.id, Customer.name).where(Customer.owner_id == user.id)
    if only is not None:
        query = query.where(Customer.id.in_(only or {-1}))
    return [(cid, name) for cid, name in session.execute(query.order_by(Customer.id).with_for_update())]


def _recipients(session: Session, target: User, plan: Handover) -> list[User]:
    if plan.mode not in MODES:
        raise TeamError("bad_target")
    if plan.mode == "pool":
        return []
    allowed = {u.id: u for u in colleagues(session, target)}
    chosen = [allowed[i] for i in dict.fromkeys(plan.to) if i in allowed]
    if not chosen or len(chosen) != len(set(plan.to)) or (plan.mode == "colleague" and len(chosen) != 1):
        raise TeamError("bad_target")
    return chosen


def _hand_over(session: Session, core: Any, actor: User | None, target: User, plan: Handover, *, reason: str,
               only: set[int] | None = None) -> HandoverReport:
    """Set-based: one UPDATE per recipient, the transfer activities in one INSERT, tasks in one
    UPDATE per recipient — a leaver with thousands of customers holds the writer briefly."""
    now = core.clock.now()
    recipients = _recipients(session, target, plan)
    held = _held(session, target, only)
    report = HandoverReport()
    names = dict(held)
    for i, (cid, _) in enumerate(held):
        to = recipients[i % len(recipients)].id if recipients else None
        report.customers.setdefault(to, []).append(cid)
    for to, ids in report.customers.items():
        values: dict[str, Any] = {"previous_owner_id": target.id, "owner_id": to, "pool_warned_at": None, "updated_at": now}
        if to is None:  # the pool's rules: released now, unprotected until someone claims it
            values.update(released_at=now, protected_until=None)
        else:  # a fresh protection period for the new owner
            values.update(protected_until=now + timedelta(days=core.config.pool.protect_days))
        for chunk in _chunks(ids):
            session.execute(update(Customer).where(Customer.id.in_(chunk), Customer.owner_id == target.id)
                            .values(**values).execution_options(synchronize_session=False))
    if held:
        session.execute(insert(Activity), [
            {"customer_id": cid, "user_id": actor.id if actor else None, "kind": "transfer", "at": now,
             "text": f"{target.id}->{to if to else 'pool'}", "data": {"from": target.id, "to": to, "reason": reason}}
            for to, ids in report.customers.items() for cid in ids])
    new_owner = {cid: to for to, ids in report.customers.items() for cid in ids}
    report.tasks = _move_tasks(session, target, new_owner, recipients, actor, only is None)
    if only is None:
        report.drafts = _move_drafts(session, target, recipients, actor)
    session.expire_all()  # the ORM's copies of these rows are stale after the set-based statements
    for owner_id, ids in report.customers.items():
        audit.record(session, "handover", now, actor=actor, subject=target, team_id=target.team_id,
                     to=owner_id, customers=ids, reason=reason)
    _notify(session, core, target, report, recipients, names, now)
    return report


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def _move_tasks(session: Session, target: User, new_owner: dict[int, int | None], recipients: list[User],
                actor: User | None, everything: bool) -> int:
    """Open tasks follow their customer; tasks without one (or of pooled customers) go to the first
    recipient, else to the manager who decided, else they are folded."""
    fallback = recipients[0].id if recipients else (actor.id if actor is not None and actor.role != "admin" else None)
    moves: dict[int | None, list[int]] = {}
    for task_id, customer_id in session.execute(select(Task.id, Task.customer_id).where(
            Task.user_id == target.id, Task.status == "open")):
        if customer_id in new_owner:
            to = new_owner[customer_id] or fallback
        elif everything:
            to = fallback
        else:
            continue
        moves.setdefault(to, []).append(task_id)
    for to, ids in moves.items():
        values = {"status": "folded"} if to is None else {"user_id": to}
        for chunk in _chunks(ids):
            session.execute(update(Task).where(Task.id.in_(chunk)).values(**values)
                            .execution_options(synchronize_session=False))
    return sum(len(ids) for ids in moves.values())


def _move_drafts(session: Session, target: User, recipients: list[User], actor: User | None) -> int:
    """Drafts kept in the database are planned spreadsheet imports; unsaved update previews live in
    the leaver's chat only and end with their access."""
    try:
        from storage.models_ingest import ImportBatch
    except ImportError:  # pragma: no cover - the ingest area is part of every build
        return 0
    to = recipients[0].id if recipients else (actor.id if actor is not None else None)
    moved = 0
    for batch in session.exec(select(ImportBatch).where(ImportBatch.user_id == target.id, ImportBatch.status == "planned")):
        if to is None:
            batch.status = "cancelled"
        else:
            batch.user_id = to
        session.add(batch)
        moved += 1
    return moved


def _notify(session: Session, core: Any, target: User, report: HandoverReport, recipients: list[User],
            names: dict[int, str], now: datetime) -> None:
    """One message per new owner listing every customer they received."""
    from core.texts import t
    by_user = {u.id: u for u in recipients}
    for owner_id, ids in report.customers.items():
        user = by_user.get(owner_id) if owner_id else None
        if user is None:
            continue
        listing = "\n".join(f"• {names.get(i, i)}" for i in ids[:60]) + (f"\n… +{len(ids) - 60}" if len(ids) > 60 else "")
        text = t("handover_received", user.language, n=len(ids), leaver=target.name, list=listing)
        outbox.enqueue(session, user.tg_id, "notice", {"text": text},
                       f"handover:{target.id}:{user.id}:{now:%Y%m%d%H%M%S}:{ids[0]}", now)


# --- what a decision would do (the confirmation step of /team) -------------------------------------

def plan_for(session: Session, target: User, mode: str, to: int) -> Handover:
    """The Handover for a /team choice: c = one colleague, s = split across every active colleague, p = pool."""
    if mode == "c":
        return Handover("colleague", [to])
    if mode == "s":
        return Handover("split", [u.id for u in split_among(colleagues(session, target))])
    return Handover("pool")


def split_among(mates: list[User]) -> list[User]:
    """Split across the team: its reps (the managers too only when no rep is left)."""
    return [u for u in mates if u.role == "rep"] or mates


@dataclass
class Preview:
    target: User
    customers: int
    tasks: int
    recipients: list[User]
    colleagues: list[User]


def preview(session: Session, actor: User | None, user_id: int, plan: Handover | None = None) -> Preview | None:
    """What a hand-over of this person would move, to whom (None if the actor may not manage them)."""
    target = session.get(User, user_id)
    if target is None or not can_manage(actor, target) or (actor is not None and actor.id == target.id):
        return None
    held = session.exec(select(func.count()).select_from(Customer).where(Customer.owner_id == target.id)).one()
    tasks = session.exec(select(func.count()).select_from(Task).where(Task.user_id == target.id, Task.status == "open")).one()
    mates = colleagues(session, target)
    by_id = {u.id: u for u in mates}
    chosen = [by_id[i] for i in (plan.to if plan else []) if i in by_id]
    return Preview(target, held, tasks, chosen, mates)


def people_changes(session: Session, team_ids: list[int], start: datetime, end: datetime, lang: str = "zh"
                   ) -> dict[int, list[tuple[str, str, int, str]]]:
    """For the digest: who left (``left``: customers handed over, and to whom) or moved
    (``moved_out``/``moved_in``: the other team) between ``start`` and ``end``, per team, from the
    audit trail (three queries)."""
    from core.texts import tp
    from storage.models_team import AuditEvent
    events = list(session.exec(select(AuditEvent).where(
        AuditEvent.kind.in_(("deactivated", "team_changed", "handover")), AuditEvent.at >= start, AuditEvent.at < end,
        AuditEvent.team_id.in_(team_ids) | AuditEvent.other_team_id.in_(team_ids)).order_by(AuditEvent.at, AuditEvent.id)))
    ids = {e.subject_id for e in events} | {e.detail.get("to") for e in events if e.kind == "handover"}
    people = {u.id: u.name for u in session.exec(select(User).where(User.id.in_({i for i in ids if i} or {-1})))}
    teams = {x.id: x.name for x in session.exec(select(Team))} if events else {}
    went: dict[tuple[int | None, datetime], list[str]] = {}
    for e in events:
        if e.kind == "handover":
            to = people.get(e.detail.get("to"), "—") if e.detail.get("to") else tp("digest_people_pool", lang)
            went.setdefault((e.subject_id, e.at), []).append(f"{to} {len(e.detail.get('customers', []))}")
    out: dict[int, list[tuple[str, str, int, str]]] = {}
    for e in events:
        name = people.get(e.subject_id, "—")
        if e.kind == "deactivated":
            out.setdefault(e.team_id, []).append(("left", name, int(e.detail.get("customers", 0)),
                                                  "、".join(went.get((e.subject_id, e.at), [])) or "—"))
        elif e.kind == "team_changed":
            moved = int(e.detail.get("moved", 0))
            out.setdefault(e.team_id, []).append(("moved_out", name, moved, teams.get(e.other_team_id, "—")))
            out.setdefault(e.other_team_id, []).append(("moved_in", name, moved if e.detail.get("customers") == "keep" else 0,
                                                        teams.get(e.team_id, "—")))
    return out
