"""A lead from another system, from cleaned fields to a stored, assigned, pushed customer
(events: ingest/events.py).

Two steps.  ``prepare_lead`` is pure (cleaning, the quality gates of
``services.customers.clean_record``, the priority): callers run it before the transaction, so
it costs no time under SQLite's single writer lock.  Then everything the lead causes happens
inside the caller's one transaction: the duplicate guard (``services.customers.check_duplicates``,
after a pre-check that says when it surely finds nothing: one statement for a lead, three for a
batch, ``rows.StoredGuard``), the owner, the customer with its history rows, company grams,
stage entry and activities (the rows ``create_customer`` writes plus the extras history, as
Core statements: ``write_new``, ingest/rows.py), the assignment position, the first-contact
task and the owner's task card in the outbox.  ``process_lead`` (one) and ``process_leads`` (a
batch) share that writer; the spreadsheet import (ingest/sheets.py) plans with the same
pre-check and writes with ``write_new``.  On PostgreSQL a single lead costs three statements
(ingest/rows_pg.py): the team (once per transaction), its reads with the signature's nonce, and
its writes.  A validation problem raises ``ValidationFailed`` and the transaction rolls back:
nothing partial is stored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlmodel import Session

from core.texts import t
from ingest import assignment as assign
from ingest import notify
from ingest import rows
from ingest import rows_pg
from ingest.auth import Caller
from services import cleaning
from services import customers as cust_svc
from services.cleaning import FieldProblem, completeness, normalize_phone
from services.company_names import company_core
from services.core import Core
from storage.models import Activity, CompanyGram, FieldHistory, StageChange, Task

MAX_FIELDS = 100
MAX_TEXT = 2000


class ValidationFailed(Exception):
    """422: one entry per field with its reason (both languages)."""

    def __init__(self, problems: list[FieldProblem], status: int = 422) -> None:
        super().__init__("; ".join(f"{p.field}: {p.reason_en}" for p in problems))
        self.problems = problems
        self.status = status

    def as_json(self) -> dict[str, Any]:
        return {"error": "validation", "errors": [{"field": p.field, "reason": p.reason_en, "reason_zh": p.reason_zh}
                                                  for p in self.problems]}


def problem(field_name: str, zh: str, en: str) -> FieldProblem:
    return FieldProblem(field_name, zh, en)


@dataclass
class Outcome:
    status: int
    body: dict[str, Any]
    pushed: int = 0
    created: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


# --- leads --------------------------------------------------------------------------------------

@dataclass
class PreparedLead:
    """A lead after the pure steps (cleaning, the quality gates, priority): no database yet, so
    this runs before the transaction — outside SQLite's single writer lock."""
    cleaned: cleaning.Cleaned
    record: dict[str, Any]  # the values create_customer stores (cleaned by the quality gates)
    origin: str
    label: str
    priority: int


def prepare_lead(core: Core, caller: Caller, raw: Mapping[str, Any], now: datetime) -> PreparedLead:
    """Cleaning and the quality gates; ``ValidationFailed`` (422) with every problem."""
    config = core.config
    source = caller.settings
    cleaned = cleaning.clean(raw, config, source, required=source.required)
    if cleaned.problems:
        raise ValidationFailed(cleaned.problems)
    record, problems = cust_svc.clean_record(cleaned.data, config, now)
    if problems:
        raise ValidationFailed(problems)
    return PreparedLead(cleaned, record, f"api:{caller.source}", cleaned.data.get("source") or source.label,
                        assign.priority_of(config, source, cleaned.data, cleaned.extras))


def prepare_or_problems(core: Core, caller: Caller, raw: Any, now: datetime) -> PreparedLead | ValidationFailed:
    """A lead cleaned and checked, or its problems (raised in its place inside the transaction,
    after the key and signature checks, as before)."""
    try:
        if not isinstance(raw, dict):
            raise ValidationFailed([problem("body", "应为 JSON 对象", "expected a JSON object")])
        if len(raw) > MAX_FIELDS:
            raise ValidationFailed([problem("body", f"字段过多（最多 {MAX_FIELDS} 个）", f"too many fields (at most {MAX_FIELDS})")])
        return prepare_lead(core, caller, raw, now)
    except ValidationFailed as exc:
        return exc


def check_batch(payload: dict[str, Any], max_rows: int) -> None:
    items = payload.get("leads")
    if not isinstance(items, list) or not items:
        raise ValidationFailed([problem("leads", "需要线索数组", "expected a non-empty array of leads")])
    if len(items) > max_rows:
        raise ValidationFailed([problem("leads", f"线索过多（最多 {max_rows} 条）",
                                        f"too many leads (at most {max_rows})")])
    unknown = sorted(set(payload) - {"leads"})
    if unknown:
        raise ValidationFailed([problem(unknown[0], "未知字段", "unknown field")])


def process_lead(session: Session, core: Core, caller: Caller, raw: Mapping[str, Any] | PreparedLead, *, ref: str,
                 now: datetime, nonce: dict[str, Any] | None = None) -> Outcome:
    """One lead, every effect in the caller's transaction (see the module docstring).

    ``raw`` may already be prepared (``prepare_lead``, done outside the transaction).  ``nonce``
    (PostgreSQL): the signature's IngestNonce row (``auth.nonce_row``), claimed here with the
    lead's reads instead of by ``auth.claim_signature`` — ``auth.Replayed`` if it was used."""
    lead = raw if isinstance(raw, PreparedLead) else prepare_lead(core, caller, raw, now)
    writer = _Writer(session, core, now, batch=False)
    writer.nonce = nonce
    outcome = writer.lead(lead, ref)
    writer.flush()
    outcome.pushed = writer.pushed
    return outcome


def process_leads(session: Session, core: Core, caller: Caller, leads: list[PreparedLead | ValidationFailed], *,
                  ref: str, now: datetime) -> Outcome:
    """A batch (POST /api/leads/batch, bulk imports): every valid lead through the same steps as
    ``process_lead``, in order, in the caller's one transaction; an invalid row is reported with
    its problems and stores nothing.  Per-row results.

    The reps and their load are read once and the round-robin position kept in memory for the
    batch; new customers are written together (one executemany per table) unless a row may be a
    duplicate of one not yet written, in which case those are written first, so the duplicate
    guard sees every earlier row exactly as one request at a time would."""
    writer = _Writer(session, core, now, batch=True)
    writer.prefetch([lead for lead in leads if isinstance(lead, PreparedLead)])
    results: list[dict[str, Any]] = []
    counts = {"created": 0, "duplicate": 0, "invalid": 0}
    for index, lead in enumerate(leads):
        if isinstance(lead, ValidationFailed):
            results.append({"index": index, "code": lead.status, "status": "invalid", **lead.as_json()})
            counts["invalid"] += 1
            continue
        outcome = writer.lead(lead, f"{ref}#{index}")
        counts[outcome.body["status"]] = counts.get(outcome.body["status"], 0) + 1
        results.append(outcome.body)  # filled in by flush for new customers
        outcome.body.update({"index": index, "code": outcome.status})
    writer.flush()
    results = [_ordered(body) for body in results]  # index and code first, as on invalid rows
    return Outcome(200, {"status": "processed", **counts, "results": results}, pushed=writer.pushed,
                   created=counts["created"] > 0)


@dataclass
class _Planned:
    lead: PreparedLead
    customer: Any  # rows.Draft
    owner: Any
    ref: str
    level: str
    body: dict[str, Any]


class _Writer:
    """New customers planned one by one and written together: one statement per table."""

    def __init__(self, session: Session, core: Core, now: datetime, *, batch: bool) -> None:
        self.session, self.core, self.config, self.now, self.batch = session, core, core.config, now, batch
        config = core.config
        self.team = rows.team_row(session, config.assignment.team or config.team.name) \
            or assign.lead_team(session, config, now)
        self.pending: list[_Planned] = []
        self.pushed = 0
        self.reps: list | None = None
        self.load: dict[int, int] = {}
        self.last: int | None = None
        self.stored: rows.StoredGuard | None = None  # a batch: the pre-check against stored customers
        self.mine = rows.KnownNames()  # a batch: the customers it created
        self.managers: list | None = None  # a batch: who hears of a lead left in the pool
        self.seq = 0
        self.pg = session.get_bind().dialect.name == "postgresql"
        self.reads: rows_pg.LeadReads | None = None  # a single lead on PostgreSQL: its reads in one statement
        self.nonce: dict[str, Any] | None = None  # and the signature it claims with them

    def prefetch(self, leads: list[PreparedLead]) -> None:
        """The duplicate guard's pre-check for the whole batch (``rows.StoredGuard``, three
        statements): a lead then runs the full ``check_duplicates`` only when it can report one —
        the same decisions as one request at a time, without a statement per new lead."""
        self.stored = rows.StoredGuard(self.session, self.config.duplicates.fuzzy_threshold,
                                       [guard_names(lead.record) for lead in leads])

    def lead(self, lead: PreparedLead, ref: str) -> Outcome:
        session, config = self.session, self.config
        phone, company = lead.record.get("phone"), lead.record.get("company")
        phone_norm, core_name = guard_names(lead.record)
        grams = cust_svc.name_grams(core_name) if core_name else set()
        self.reads = None
        if self.stored is None and self.pg:  # one statement: the guard's pre-check, reps, position, id
            self.reads = rows_pg.lead_reads(session.connection(), self.team.id, phone_norm, core_name,
                                            lock=config.assignment.strategy != "load", nonce=self.nonce)
            if not self.reads.fresh:
                from ingest.auth import Replayed
                raise Replayed()
            may = self.reads.may
        elif self.stored is None:
            may = rows.may_have_duplicates(session, phone, company)
        elif self.mine.may_find(phone_norm, core_name, grams, config.duplicates.fuzzy_threshold):
            self.flush()  # the duplicate guard must see the earlier rows of this batch
            may = True
        else:
            may = self.stored.may(phone_norm, core_name)
        # The duplicate check first (a known customer → no record, no owner choice), then the owner.
        dups = cust_svc.check_duplicates(session, config, phone=phone, company=company) if may else []
        if dups:
            outcome = _repeat_inquiry(session, self.core, dups[0], lead.cleaned, lead.origin, ref, self.now)
            self.pushed += outcome.pushed
            return outcome
        owner = self._owner(lead)
        customer = _draft(config, self.team.id, owner.id if owner else None, lead, self.now)
        level = assign.priority_level(config, customer.priority)
        body = {"status": "created", "customer_id": None, "owner_id": owner.id if owner else None,
                "priority": customer.priority, "priority_level": level, "source_label": lead.label,
                "tags": list(customer.tags or []), "ignored_fields": lead.cleaned.ignored}
        self.pending.append(_Planned(lead, customer, owner, ref, level, body))
        if self.stored is not None:
            self.seq += 1
            self.mine.add(self.seq, customer.phone_norm, customer.company_norm)
        return Outcome(201, body, created=True)

    def _owner(self, lead: PreparedLead) -> Any:
        cleaned = lead.cleaned
        if self.reads is not None:
            r = self.reads
            return assign.pick(self.session, self.config, self.team, r.reps, r.load, cleaned.data, cleaned.extras,
                               after=r.last, known_last=True).owner
        if not self.batch:
            return assign.choose_owner_light(self.session, self.config, self.team, cleaned.data, cleaned.extras).owner
        if self.reps is None:
            self.reps, self.load = assign.reps_with_load(self.session, self.team.id)
            self.last = assign.last_assigned(self.session, self.team.id)
        choice = assign.pick(self.session, self.config, self.team, self.reps, self.load, cleaned.data, cleaned.extras,
                             after=self.last)
        if choice.owner is not None:
            self.load[choice.owner.id] += 1
            self.last = choice.owner.id
        return choice.owner

    def flush(self) -> None:
        """Write every planned customer with its rows, cards and notices."""
        planned, self.pending = self.pending, []
        if not planned:
            return
        session, now = self.session, self.now
        new = [_new_customer(p) for p in planned]
        if len(planned) == 1 and planned[0].owner is not None and self.pg:
            self._write_one_pg(planned[0], new[0])
            return
        if len(planned) == 1 and self.reads is not None and self.reads.customer_id:
            planned[0].customer.id = self.reads.customer_id  # the id the reads took (a lead left in the pool)
        ids = write_new(session, new, now)
        tasks, cards = [], []
        last_owner = None
        for p, cid in zip(planned, ids):
            p.body["customer_id"] = cid
            owner = p.owner
            if owner is not None:
                last_owner = owner
                task, card = self._owner_rows(p, cid)
                tasks += task
                cards.append(card)
        if last_owner is not None:
            rows.move_cursor(session, self.team.id, last_owner.id, now)
        rows.insert_many(session, Task, tasks)
        pool = [p for p in planned if p.owner is None]
        if pool:
            if self.managers is None:
                self.managers = notify.pool_recipients(session, self.team.id)
            cards += [message for p in pool for message in notify.pool_lead_messages(
                self.managers, p.customer, source_label=p.lead.label, level=p.level)]
        self.pushed += rows.enqueue_many(session, cards, now)

    def _write_one_pg(self, p: _Planned, new: NewCustomer) -> None:
        """PostgreSQL, one new lead with an owner: the rows ``flush`` writes for it, in one
        statement (ingest/rows_pg.py); the customer's id is taken first for its card."""
        conn, now, owner, customer = self.session.connection(), self.now, p.owner, p.customer
        cid = self.reads.customer_id if self.reads is not None and self.reads.customer_id else None
        cid = cid or rows.next_customer_ids(conn, 1)[0]  # taken by the reads unless a duplicate was possible
        customer.id = cid
        p.body["customer_id"] = cid
        parts = new_rows([new], [cid], now)
        parts["t"], (chat_id, kind, payload, key) = self._owner_rows(p, cid)
        values = {"id": cid, **{name: getattr(customer, name) for name in rows.CUSTOMER_COLUMNS}}
        self.pushed += rows_pg.write_lead(conn, values, parts,
                                          {"team_id": self.team.id, "last_user_id": owner.id, "updated_at": now},
                                          rows.outbox_row(chat_id, kind, payload, key, now))

    def _owner_rows(self, p: _Planned, cid: int) -> tuple[list[dict[str, Any]], tuple[int, str, dict[str, Any], str]]:
        """What a new customer with an owner brings that owner: the first-contact task (none when
        ``first_contact_minutes`` is 0) and the task card (chat, kind, payload, dedupe key)."""
        owner, lead, now = p.owner, p.lead, self.now
        minutes = self.config.assignment.first_contact_minutes
        tasks = [rows.task_row(cid, owner.id, "followup", t("lead_first_contact", owner.language, source=lead.label)[:200],
                               now + timedelta(minutes=minutes), now)] if minutes else []
        payload = notify.new_lead_card(self.core, p.customer, self.team, owner.language, source_label=lead.label,
                                       level=p.level, extras=lead.cleaned.extras, now=now)
        return tasks, (owner.tg_id, "card", payload, f"lead:{cid}")


def _new_customer(p: _Planned) -> NewCustomer:
    extras, origin, ref = p.lead.cleaned.extras, p.lead.origin, p.ref
    notes = []
    if extras.get("interest") or extras.get("note"):
        notes.append(("note", (extras.get("note") or extras.get("interest") or "")[:MAX_TEXT],
                      {"source": origin, "ref": ref, "interest": extras.get("interest")}))
    return NewCustomer(p.customer, p.lead.record, extras_pairs(extras, {"priority": str(p.lead.priority)}),
                       origin, ref, None, notes)


def guard_names(record: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(phone_norm, company core) of a cleaned record: what the duplicate guard compares."""
    phone, company = record.get("phone"), record.get("company")
    return (normalize_phone(phone) if phone else None), (company_core(company) if company else None)


@dataclass
class NewCustomer:
    """A customer to write with the rows ``create_customer`` writes for it, plus the extras history."""
    customer: Any  # rows.Draft
    record: Mapping[str, Any]  # the values clean_record kept
    extras: list[tuple[str, str]]  # extras_pairs: history for values that are not columns
    origin: str
    ref: str
    actor_id: int | None
    activities: list[tuple[str, str, dict[str, Any]]]  # (kind, text, data) after the "create" one


def write_new(session: Session, new: list[NewCustomer], now: datetime) -> list[int]:
    """New customers with their company grams, stage entry, activities and history: one
    statement per table (COPY on PostgreSQL for the many-row ones).  The ids, in order."""
    if not new:
        return []
    ids = rows.insert_customers(session, [n.customer for n in new])
    parts = new_rows(new, ids, now)
    rows.insert_many(session, CompanyGram, parts["g"])
    rows.insert_many(session, StageChange, parts["s"])
    rows.insert_many(session, Activity, parts["a"])
    rows.insert_many(session, FieldHistory, parts["h"])
    return ids


def new_rows(new: list[NewCustomer], ids: list[int], now: datetime) -> dict[str, list[dict[str, Any]]]:
    """The rows ``write_new`` stores with customers ``new`` (ids given): "g" company grams,
    "s" stage entries, "a" activities, "h" history."""
    grams, stages, activities, history = [], [], [], []
    for n, cid in zip(new, ids):
        customer, actor = n.customer, n.actor_id
        customer.id = cid
        grams += rows.gram_rows(cid, customer.company_norm)
        stages.append(rows.stage_row(cid, customer.stage, now, by_user_id=actor))
        activities.append(rows.activity_row(cid, "create", n.origin, now, {"source": n.origin, "ref": n.ref},
                                            user_id=actor))
        activities += [rows.activity_row(cid, kind, text, now, data, user_id=actor) for kind, text, data in n.activities]
        pairs = [(key, cust_svc._as_text(value)) for key, value in n.record.items()] + n.extras
        history += rows.history_rows(cid, pairs, n.origin, n.ref, now, by_user_id=actor)
    return {"g": grams, "s": stages, "a": activities, "h": history}


def _ordered(body: dict[str, Any]) -> dict[str, Any]:
    return {"index": body.get("index"), "code": body.get("code"),
            **{k: v for k, v in body.items() if k not in ("index", "code")}}


def _draft(config, team_id: int, owner_id: int | None, lead: PreparedLead, now: datetime) -> Any:
    return draft_customer(config, team_id, owner_id, lead.record, lead.priority, now)


def draft_customer(config, team_id: int, owner_id: int | None, record: Mapping[str, Any], priority: int,
                   now: datetime, created_by: int | None = None) -> Any:
    """The customer ``create_customer`` would make (rows.Draft: its attributes, no ORM instance)."""
    customer = rows.draft_customer(team_id=team_id, owner_id=owner_id, name=record["name"], stage=config.stages[0].id,
                                   stage_entered_at=now, created_at=now, updated_at=now, created_by=created_by,
                                   custom={})
    cust_svc._apply(customer, dict(record), config)
    customer.completeness = completeness(customer, config)
    if owner_id is not None:
        customer.protected_until = now + timedelta(days=config.pool.protect_days)
    customer.priority = priority
    return customer


def extras_pairs(extras: Mapping[str, str], derived: Mapping[str, str]) -> list[tuple[str, str]]:
    """(field, value) of the history rows for values that are not customer columns."""
    pairs = [(key, extras[key][:500]) for key in ("purchase_frequency", "region", "interest", "external_id")
             if extras.get(key)]
    return pairs + list(derived.items())


def _repeat_inquiry(session: Session, core: Core, match: cust_svc.Match, cleaned: cleaning.Cleaned, origin: str,
                    ref: str, now: datetime) -> Outcome:
    """A lead we already have: log the new enquiry on it and tell its owner; never a second record."""
    existing = match.customer
    session.add(Activity(customer_id=existing.id, kind="note", at=now,
                         text=(cleaned.extras.get("note") or cleaned.extras.get("interest") or "repeat enquiry")[:MAX_TEXT],
                         data={"source": origin, "ref": ref, "repeat": True, "matched_by": match.reason,
                               "interest": cleaned.extras.get("interest")}))
    label = cleaned.data.get("source") or origin
    pushed = notify.notify_owner(session, existing, f"repeat:{existing.id}:{ref}"[:200], "lead_repeat", now,
                                 name=existing.name, source=label,
                                 interest=lambda lang: notify.lead_extras(cleaned.extras, lang)["interest"],
                                 note=lambda lang: notify.lead_extras(cleaned.extras, lang)["note"])
    session.flush()
    body = {"status": "duplicate", "customer_id": existing.id, "matched_by": match.reason,
            "ignored_fields": cleaned.ignored}
    return Outcome(200, body, pushed=pushed)
