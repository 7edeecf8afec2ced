"""Customers: creation through the quality gates and the duplicate guard, updates, checklist and
stages (visibility: services/visibility.py; name search: customer_search.py; duplicate guard:
duplicate_guard.py).

Every change writes an Activity (who and when) and, for fields, a FieldHistory row (from where).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from core.config import BUILTIN_FIELDS, Config
from services import competitors
from services import incentives
from services.cleaning import (FieldProblem, FieldRejected, clean_field, completeness, missing_fields,
                               normalize_phone)
from services.company_names import company_core
# Visibility, the name search and the duplicate guard have their own modules; callers still find
# them here.
from services.customer_search import find_by_name, name_candidates, name_scorer  # noqa: F401
from services.duplicate_guard import (Match, check_duplicates, index_company, name_grams,  # noqa: F401
                                      reason_text)
from services.visibility import (NotVisible, can_see, get_for, get_locked_for, get_with_team_for,  # noqa: F401
                                 list_visible, lock, visible_query)
from storage.models import Activity, ChecklistDone, Customer, FieldHistory, StageChange, Task, Team, User
from storage.rows import run_core


EDITABLE_BUILTINS = ("name", "company", "contact", "phone", "industry", "size", "source", "amount")

# --- creation --------------------------------------------------------------------------------

@dataclass
class CreateResult:
    customer: Customer | None
    duplicates: list[Match] = field(default_factory=list)
    problems: list[FieldProblem] = field(default_factory=list)


def clean_record(data: dict[str, Any], config: Config, now: datetime) -> tuple[dict[str, Any], list[FieldProblem]]:
    """Run every provided field through the gates; collect all problems instead of stopping at one."""
    cleaned: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for key, raw in data.items():
        if raw is None or (isinstance(raw, str) and raw.strip() in ("", "-")):
            continue
        if key not in BUILTIN_FIELDS and key not in config.fields and key != "tags":
            problems.append(FieldProblem.of(key, "q_unknown_field"))
            continue
        if key == "tags":
            cleaned["tags"] = [str(t)[:30] for t in (raw if isinstance(raw, list) else str(raw).split(",")) if str(t).strip()][:20]
            continue
        try:
            cleaned[key] = clean_field(key, raw, config, now)
        except FieldRejected as exc:
            problems.append(exc.problem)
    if "name" not in cleaned and not any(p.field == "name" for p in problems):
        problems.append(FieldProblem.of("name", "q_name_required"))
    return cleaned, problems


def create_customer(session: Session, config: Config, team_id: int, data: dict[str, Any], now: datetime, *,
                    actor: User | None, owner_id: int | None, source: str = "user", source_ref: str | None = None,
                    stage: str | None = None) -> CreateResult:
    """Create a customer if it passes the gates and is not a duplicate; otherwise say why."""
    cleaned, problems = clean_record(data, config, now)
    if problems:
        return CreateResult(None, problems=problems)
    dups = check_duplicates(session, config, phone=cleaned.get("phone"), company=cleaned.get("company"))
    if dups:
        return CreateResult(None, duplicates=dups)
    customer = Customer(team_id=team_id, owner_id=owner_id, name=cleaned["name"], stage=stage or config.stages[0].id,
                        stage_entered_at=now, created_at=now, updated_at=now,
                        created_by=actor.id if actor else None, custom={})
    _apply(customer, cleaned, config)
    customer.completeness = completeness(customer, config)
    if owner_id is not None:
        customer.protected_until = now + timedelta(days=config.pool.protect_days)
    session.add(customer)
    session.flush()
    index_company(session, customer)
    session.add(StageChange(customer_id=customer.id, from_stage=None, to_stage=customer.stage,
                            by_user_id=actor.id if actor else None, at=now, complete_data=True))
    session.add(Activity(customer_id=customer.id, user_id=actor.id if actor else None, kind="create",
                         text=source, at=now, data={"source": source, "ref": source_ref}))
    for key, value in cleaned.items():
        session.add(FieldHistory(customer_id=customer.id, field=key, value=_as_text(value), source=source,
                                 source_ref=source_ref, by_user_id=actor.id if actor else None, at=now))
    session.flush()
    return CreateResult(customer)


def _apply(customer: Customer, cleaned: dict[str, Any], config: Config) -> None:
    custom = dict(customer.custom or {})
    for key, value in cleaned.items():
        if key in config.fields:
            custom[key] = value.isoformat() if isinstance(value, datetime) else value
        elif key == "next_followup_at":
            customer.next_followup_at = value
        else:
            setattr(customer, key, value)
        if key == "phone":
            customer.phone_norm = normalize_phone(value)
        if key == "company":
            customer.company_norm = company_core(value)
    customer.custom = custom


def _as_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


# --- updates ------------------------------------------------------------------------------------

def set_field(session: Session, config: Config, actor: User, customer: Customer, name: str, raw: Any,
              now: datetime, source: str = "user", source_ref: str | None = None) -> Customer:
    """Validate and store one field; duplicates by phone/company owned by others are refused."""
    if name not in EDITABLE_BUILTINS and name not in config.fields and name != "next_followup_at":
        raise FieldRejected(FieldProblem.of(name, "q_unknown_field"))
    value = clean_field(name, raw, config, now)
    customer = lock(session, customer, actor)  # custom is rewritten whole, completeness awards once
    if name in ("phone", "company"):
        dups = check_duplicates(session, config, **{name: value}, exclude_id=customer.id)
        other = [m for m in dups if m.customer.owner_id not in (None, customer.owner_id)]
        if other:
            owner = session.get(User, other[0].customer.owner_id)
            raise FieldRejected(FieldProblem.of(name, "q_duplicate_of", owner=owner.name if owner else "—"))
    _apply(customer, {name: value}, config)
    if name == "company":
        index_company(session, customer)
    before = customer.completeness
    customer.completeness = completeness(customer, config)
    customer.updated_at = now
    session.add(customer)
    session.add(FieldHistory(customer_id=customer.id, field=name, value=_as_text(value), source=source,
                             source_ref=source_ref, by_user_id=actor.id, at=now))
    session.add(Activity(customer_id=customer.id, user_id=actor.id, kind="field", text=name, at=now,
                         data={"field": name, "value": _as_text(value)}))
    session.flush()
    if before < 100 <= customer.completeness and customer.owner_id:
        owner = session.get(User, customer.owner_id)
        if owner:
            incentives.award(session, owner, "complete_data", config.points.complete_data, config, now,
                             evidence_type="customer", evidence_id=customer.id)
    return customer


def log_followup(session: Session, config: Config, actor: User, customer: Customer, text: str, now: datetime,
                 next_at: datetime | None = None, kind: str = "followup") -> Activity:
    customer = lock(session, customer, actor)  # protection extends from the latest follow-up's
    activity = Activity(customer_id=customer.id, user_id=actor.id, kind=kind, text=text[:2000], at=now,
                        data={"next_at": next_at.isoformat() if next_at else None})
    session.add(activity)
    customer.last_followup_at = now
    customer.updated_at = now
    customer.pool_warned_at = None
    if customer.owner_id:
        customer.protected_until = extend_protection(customer, config, now)
    if next_at is not None:
        customer.next_followup_at = next_at
        session.add(Task(customer_id=customer.id, user_id=customer.owner_id or actor.id, kind="followup",
                         text=text[:200], due_at=next_at, created_at=now))
    session.add(customer)
    session.flush()
    incentives.award(session, actor, "followup_logged", config.points.followup_logged, config, now,
                     evidence_type="activity", evidence_id=activity.id)
    competitors.record_mentions(session, config, customer, text, "followup", now, user_id=actor.id)  # issue 16
    return activity


def extend_protection(customer: Customer, config: Config, now: datetime) -> datetime:
    """+N days per follow-up, capped at max_protect_days from now (公海 rule)."""
    current = customer.protected_until or now
    extended = max(current, now) + timedelta(days=config.pool.extend_per_followup_days)
    return min(extended, now + timedelta(days=config.pool.max_protect_days))


# --- checklist and stages -----------------------------------------------------------------------

def enabled_modules(team: Team | None, config: Config) -> set[str]:
    if team is not None and team.modules is not None:
        return set(team.modules) | {"core"}
    return set(config.modules_enabled) | {"core"}


_CD = ChecklistDone.__table__.c
_STAGE_STEPS = core_select(_CD.item_id, _CD.at).where(_CD.customer_id == bindparam("cid"), _CD.stage == bindparam("stage"))


def stage_steps(session: Session, customer: Customer) -> tuple[set[str], datetime | None]:
    """The checklist steps done in the customer's current stage, and when the latest was done: one
    read for the card's open items and its stall flag (services.stalls.last_progress)."""
    rows = run_core(session, _STAGE_STEPS, {"cid": customer.id, "stage": customer.stage}).all()
    return {item for item, _ in rows}, max((at for _, at in rows if at is not None), default=None)


def open_items(session: Session, config: Config, customer: Customer, team: Team | None,
               done: set[str] | None = None) -> list:
    """``done``: the item ids from ``stage_steps`` when the caller has read them already."""
    stage = config.stage(customer.stage)
    if stage is None:
        return []
    if done is None:
        done = stage_steps(session, customer)[0]
    modules = enabled_modules(team, config)
    return [item for item in stage.checklist if item.id not in done and item.module in modules]


def open_items_many(session: Session, config: Config, customers: list[Customer], team: Team | None) -> dict[int, list]:
    """``open_items`` for many customers with one query (the brief lists up to 15 per rep)."""
    if not customers:
        return {}
    done: set[tuple[int, str, str]] = set(session.execute(
        select(ChecklistDone.customer_id, ChecklistDone.stage, ChecklistDone.item_id)
        .where(ChecklistDone.customer_id.in_([c.id for c in customers]))).tuples())
    modules = enabled_modules(team, config)
    out = {}
    for c in customers:
        stage = config.stage(c.stage)
        out[c.id] = [item for item in (stage.checklist if stage else [])
                     if (c.id, c.stage, item.id) not in done and item.module in modules]
    return out


@dataclass
class ItemResult:
    status: str  # done | already | missing_fields | unknown
    points: int = 0
    missing: list[str] = field(default_factory=list)


def complete_item(session: Session, config: Config, actor: User, customer: Customer, item_id: str,
                  now: datetime) -> ItemResult:
    customer = lock(session, customer, actor)  # one completion (and one award) per item, never an IntegrityError
    stage = config.stage(customer.stage)
    team = session.get(Team, customer.team_id)
    item = next((i for i in (stage.checklist if stage else []) if i.id == item_id), None)
    if item is None or item.module not in enabled_modules(team, config):
        return ItemResult("unknown")
    exists = session.exec(select(ChecklistDone.id).where(
        ChecklistDone.customer_id == customer.id, ChecklistDone.stage == customer.stage,
        ChecklistDone.item_id == item_id)).first()
    if exists:
        return ItemResult("already")
    from services.cleaning import field_value
    missing = [f for f in item.requires_fields if field_value(customer, f) in (None, "", [])]
    if missing:
        return ItemResult("missing_fields", missing=missing)
    within = now <= customer.stage_entered_at + timedelta(days=stage.expected_days)
    done = ChecklistDone(customer_id=customer.id, stage=customer.stage, item_id=item_id, user_id=actor.id,
                         at=now, within_expected=within)
    session.add(done)
    from services.playbook import version_tag
    made_under = version_tag(config)  # the playbook version the item belongs to (console's editor)
    session.add(Activity(customer_id=customer.id, user_id=actor.id, kind="checklist", text=item.text, at=now,
                         data={"item": item_id, "stage": customer.stage, **made_under}))
    customer.updated_at = now
    session.add(customer)
    session.flush()
    entry = incentives.award(session, actor, f"item:{item_id}", item.points, config, now,
                             evidence_type="checklist", evidence_id=done.id,
                             note=f"playbook v{made_under['playbook_version']}" if made_under else "")
    return ItemResult("done", points=entry.points if entry and entry.status == "awarded" else 0)


@dataclass
class AdvanceResult:
    status: str  # moved | won | blocked | closed
    missing: list[str] = field(default_factory=list)
    new_stage: str | None = None


def advance_stage(session: Session, config: Config, actor: User, customer: Customer, now: datetime,
                  target: str | None = None) -> AdvanceResult:
    """Move to the next (or a later) stage; refused while the current stage's required fields are missing."""
    customer = lock(session, customer, actor)  # two people advancing at once move it (and earn for it) once
    if customer.status != "open":
        return AdvanceResult("closed")
    missing = missing_fields(customer, customer.stage, config)
    if missing:
        return AdvanceResult("blocked", missing=missing)
    nxt = config.stage(target) if target else config.next_stage(customer.stage)
    if target and (nxt is None or config.stage_index(target) <= config.stage_index(customer.stage)):
        return AdvanceResult("closed")
    session.add(StageChange(customer_id=customer.id, from_stage=customer.stage,
                            to_stage=nxt.id if nxt else "won", by_user_id=actor.id, at=now, complete_data=True))
    session.add(Activity(customer_id=customer.id, user_id=actor.id, kind="stage", at=now,
                         text=nxt.id if nxt else "won", data={"from": customer.stage}))
    if nxt is None:
        customer.status = "won"
        result = AdvanceResult("won")
        incentives.award(session, actor, "payment_collected", config.points.payment_collected, config, now,
                         evidence_type="customer", evidence_id=customer.id)
    else:
        customer.stage = nxt.id
        customer.stage_entered_at = now
        result = AdvanceResult("moved", new_stage=nxt.id)
        if nxt.advance_points:
            incentives.award(session, actor, f"stage:{nxt.id}", nxt.advance_points, config, now,
                             evidence_type="customer", evidence_id=customer.id)
        if config.stage_index(nxt.id) == len(config.stages) - 2:  # entered the signing stage
            incentives.award(session, actor, "contract_signed", config.points.contract_signed, config, now,
                             evidence_type="customer", evidence_id=customer.id)
    customer.updated_at = now
    session.add(customer)
    session.flush()
    return result


def decide_duplicate(session: Session, config: Config, manager: User, customer_id: int, requester_id: int,
                     transfer: bool, now: datetime) -> tuple[Customer, User | None] | None:
    """Keep the current owner, or hand the customer to the rep who also went after it."""
    customer = get_for(session, manager, customer_id)
    if customer is not None:
        customer = lock(session, customer)  # two managers deciding at once: the second sees the first's
        customer = customer if can_see(manager, customer) else None
    requester = session.get(User, requester_id)
    if customer is None or requester is None or (manager.role != "admin" and requester.team_id != manager.team_id):
        return None
    if transfer and customer.owner_id != requester.id:
        session.add(Activity(customer_id=customer.id, user_id=manager.id, kind="transfer", at=now,
                             text=f"{customer.owner_id}->{requester.id}",
                             data={"from": customer.owner_id, "to": requester.id, "reason": "duplicate"}))
        customer.previous_owner_id = customer.owner_id
        customer.owner_id = requester.id
        customer.team_id = requester.team_id or customer.team_id
        customer.protected_until = now + timedelta(days=config.pool.protect_days)
        customer.updated_at = now
        session.add(customer)
        session.flush()
    owner = session.get(User, customer.owner_id) if customer.owner_id else None
    return customer, owner


def set_team_modules(session: Session, manager: User, modules: list[str]) -> Team | None:
    team = session.get(Team, manager.team_id) if manager.team_id else None
    if team is None:
        return None
    team.modules = sorted(set(modules) | {"core"})
    session.add(team)
    session.flush()
    return team


def close_lost(session: Session, actor: User, customer: Customer, now: datetime, reason: str = "") -> None:
    """The lost exit: recorded like a stage move, so funnel and model history see it."""
    customer = lock(session, customer, actor)
    if customer.status != "open":
        return
    session.add(StageChange(customer_id=customer.id, from_stage=customer.stage, to_stage="lost",
                            by_user_id=actor.id, at=now, complete_data=True))
    session.add(Activity(customer_id=customer.id, user_id=actor.id, kind="stage", text="lost", at=now,
                         data={"from": customer.stage, "reason": reason}))
    customer.status = "lost"
    customer.updated_at = now
    session.add(customer)
    session.flush()
