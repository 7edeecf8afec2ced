"""Customers: creation through the quality gates and the duplicate guard, visibility, updates.

Every change writes an Activity (who and when) and, for fields, a FieldHistory row (from where).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import bindparam, delete, func, inspect, or_
from sqlalchemy import select as core_select
from sqlalchemy import text as sql_text
from sqlmodel import Session, select

from core.config import BUILTIN_FIELDS, Config
from services import competitors
from services import incentives
from services.cleaning import FieldProblem, FieldRejected, clean_field, completeness, missing_fields, normalize_phone
from services.company_names import company_core, company_match, similarity
from storage.models import Activity, ChecklistDone, CompanyGram, Customer, FieldHistory, StageChange, Task, Team, User
from storage.rows import locked, run_core

EDITABLE_BUILTINS = ("name", "company", "contact", "phone", "industry", "size", "source", "amount")


# --- visibility ---------------------------------------------------------------------------

def can_see(user: User, customer: Customer) -> bool:
    """A rep sees only their own customers of their own team; a manager their team's; an admin
    everything; a deactivated member nothing."""
    if getattr(user, "deactivated_at", None) is not None:
        return False
    if user.role == "admin":
        return True
    if user.role == "manager":
        return customer.team_id == user.team_id
    return customer.owner_id == user.id and customer.team_id == user.team_id


class NotVisible(Exception):
    """The customer changed hands (or team) while this change waited for its row lock."""


def lock(session: Session, customer: Customer, actor: User | None = None) -> Customer:
    """The customer's row locked for the rest of the transaction and reloaded (same object): a rep
    and their manager (or two managers) changing one customer at once take turns (storage/rows.py).

    With an ``actor``, visibility is checked again on the locked row: whoever waited here may find
    the customer handed over to someone else meanwhile, and then writes nothing (NotVisible).
    The system actor (imports, connectors) has role ``system`` and is not a person to check.
    """
    held = _held_locks(session)
    row = held.get(customer.id)
    if row is None or row is not customer or inspect(row).expired_attributes or row not in session:
        row = locked(session, Customer, Customer.id == customer.id)
        if row is not None:
            held[row.id] = row
    # Locked already in this transaction (a save locks once, then sets a field, logs the follow-up
    # and records the undo): the row lock is still held and the object is the locked row as this
    # transaction left it, so it is not read again — but visibility is checked on it every time.
    if actor is not None and getattr(actor, "role", None) in ("rep", "manager", "admin") \
            and (row is None or not can_see(actor, row)):
        raise NotVisible(customer.id)
    return row


def _held_locks(session: Session) -> dict[int, Customer]:
    """The customers this session's current transaction has locked (``lock``), by id."""
    transaction = session.get_transaction()
    entry = session.info.get("customer_locks")
    if entry is None or entry[0] is not transaction:
        entry = session.info["customer_locks"] = (transaction, {})
    return entry[1]


def get_locked_for(session: Session, user: User, customer_id: int) -> Customer | None:
    """``get_for`` with the row locked first and visibility checked on the locked row (a write's
    first read: the rest of the transaction's ``lock`` calls find it held)."""
    row = locked(session, Customer, Customer.id == customer_id)
    if row is None or not can_see(user, row):
        return None
    _held_locks(session)[row.id] = row
    return row


def get_for(session: Session, user: User, customer_id: int) -> Customer | None:
    customer = session.get(Customer, customer_id)
    if customer is None or not can_see(user, customer):
        return None
    return customer


_WITH_TEAM = select(Customer, Team).outerjoin(Team, Team.id == Customer.team_id).where(Customer.id == bindparam("id"))


def get_with_team_for(session: Session, user: User, customer_id: int) -> tuple[Customer, Team | None] | None:
    """``get_for`` that reads the customer's team in the same statement (the card needs both)."""
    row = session.execute(_WITH_TEAM, {"id": customer_id}).first()
    if row is None or not can_see(user, row[0]):
        return None
    return row[0], row[1]


def visible_query(user: User):
    query = select(Customer).where(Customer.invalid == False)  # noqa: E712
    if user.role == "admin":
        return query
    if user.role == "manager":
        return query.where(Customer.team_id == user.team_id)
    return query.where(Customer.owner_id == user.id, Customer.team_id == user.team_id)


def list_visible(session: Session, user: User, *, open_only: bool = True, limit: int = 50, offset: int = 0,
                 mine_only: bool = False) -> tuple[list[Customer], int]:
    query = visible_query(user)
    if mine_only:
        query = query.where(Customer.owner_id == user.id)
    if open_only:
        query = query.where(Customer.status == "open")
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = list(session.exec(query.order_by(Customer.updated_at.desc(), Customer.id.desc()).offset(offset).limit(limit)))
    return rows, total


def find_by_name(session: Session, user: User, text: str, limit: int = 5) -> list[Customer]:
    """Customers of this user whose name or company appears in ``text`` (fuzzy on the first word).

    Runs on every free-text line and paste, so the database picks the candidates
    (``name_candidates``: no cap on how many customers a user has, and only possible hits come
    back) and full records are loaded only for the hits.
    """
    scorer = name_scorer(text)
    hits: list[tuple[float, int]] = []
    for cid, name, company, company_norm in name_candidates(session, user, text):
        score = scorer(name, company, company_norm)
        if score >= 0.6:
            hits.append((score, cid))
    hits.sort(key=lambda pair: (-pair[0], pair[1]))
    if hits and hits[0][0] >= 1.0:
        top = hits[0][0]
        # Ambiguity only among equally long exact mentions (张总 vs 张总 at two companies).
        chosen = [cid for score, cid in hits if score >= top][:limit]
    else:
        chosen = [cid for _, cid in hits[:limit]]
    by_id = {c.id: c for c in session.exec(select(Customer).where(Customer.id.in_(chosen)))} if chosen else {}
    return [by_id[cid] for cid in chosen if cid in by_id]


def name_scorer(text: str):
    """How well a customer (name, company, company core) matches ``text``: 1.0+ when the name or
    company is in the text (longer is better), else the similarity of the first word; ≥ 0.6 is a hit."""
    first_word = text.strip().split()[0] if text.strip() else ""
    first_lower = first_word.lower()
    first_core = company_core(first_word) or "" if first_word else ""

    def score(name: str, company: str | None, company_norm: str | None) -> float:
        best = 0.0
        for label in (name, company or ""):
            if label and len(label) >= 2 and label in text:
                best = max(best, 1.0 + len(label) / 100)
        if best == 0.0 and first_word:
            best = max(similarity(first_lower, name.lower()), similarity(first_core, company_norm or "") * 0.95)
        return best
    return score


# Bigram Dice ≥ 0.6 between the first word (a bigrams) and a name (b ≤ len - 1 bigrams) needs a
# shared bigram and b ≥ 0.6·a / 1.4 (since shared ≤ b); 0.42 keeps a margin for float rounding.
_MIN_NAME_SHARE = 0.42
# Who sees what (visible_query), as SQL over the customer table.
_VISIBLE_SQL = {"admin": "1 = 1", "manager": "team_id = :team_id", "rep": "owner_id = :user_id AND team_id = :team_id"}  # as visible_query
# Any of the first word's two-character pieces in the column: up to _GRAM_SLOTS as plain instr/strpos
# terms (cheap per row), more through json_each / unnest (a first word longer than nine characters).
_GRAM_SLOTS = 8
_ANY_GRAM = {"sqlite": "EXISTS (SELECT 1 FROM json_each(:{grams}) WHERE instr({col}, value) > 0)",
             "postgresql": "EXISTS (SELECT 1 FROM unnest(CAST(:{grams} AS text[])) AS g(v) WHERE strpos({col}, g.v) > 0)"}
_CANDIDATES: dict[tuple[str, str, int, int], Any] = {}


def _candidates_sql(dialect: str, role: str, word_grams: int, core_grams: int):
    """One prepared statement per (dialect, role, pieces of the first word and of its core; -1 =
    many): built once, so a lookup costs its execution only."""
    key = (dialect, role, word_grams, core_grams)
    if key not in _CANDIDATES:
        pos = "strpos" if dialect == "postgresql" else "instr"

        def any_gram(name: str, col: str, n: int) -> str:
            if n < 0:
                return _ANY_GRAM["postgresql" if dialect == "postgresql" else "sqlite"].format(grams=f"{name}_grams", col=col)
            return "(" + " OR ".join(f"{pos}({col}, :{name}_g{i}) > 0" for i in range(n)) + ")" if n else "1 = 0"
        indexed = ""
        if role != "admin":  # a team's customers: only those sharing a piece with the message (storage/models_names.py)
            pieces = ("gram IN (SELECT value FROM json_each(:{kind}_grams))" if dialect != "postgresql"
                      else "gram = ANY(CAST(:{kind}_grams AS text[]))")
            # CROSS JOIN: SQLite reads the index first and then only those customers by id.
            indexed = "(" + " UNION ".join(
                f"SELECT customer_id FROM namegram WHERE team_id = :team_id AND kind = '{kind}' AND {pieces.format(kind=kind)}"
                for kind in ("p", "s")) + ") AS hit CROSS JOIN "
        sql = f"""SELECT id, name, company, company_norm FROM {indexed}customer
            WHERE {"id = hit.customer_id AND " if indexed else ""}{_VISIBLE_SQL.get(role, _VISIBLE_SQL['rep'])} AND NOT invalid AND status = 'open' AND (
              (length(name) >= 2 AND {pos}(:text, name) > 0)
              OR (company IS NOT NULL AND length(company) >= 2 AND {pos}(:text, company) > 0)
              OR lower(name) = :word OR (length(name) >= 3 AND {pos}(:word, lower(name)) > 0)
              OR (length(name) >= :word_min AND {any_gram('word', 'lower(name)', word_grams)})
              OR company_norm = :core OR (length(company_norm) >= 3 AND {pos}(:core, company_norm) > 0)
              OR (length(company_norm) >= :core_min AND {any_gram('core', 'company_norm', core_grams)}))"""
        _CANDIDATES[key] = sql_text(sql)
    return _CANDIDATES[key]


def name_candidates(session: Session, user: User, text: str) -> list[tuple[int, str, str | None, str | None]]:
    """(id, name, company, company_norm) of the user's open customers that ``find_by_name`` could
    score: a name or company (≥ 2 characters) contained in ``text``; a name / company core equal to
    the first word (its core), containing it or contained in it; or one sharing a two-character
    piece with it and long enough for the Dice threshold (``similarity``).

    One statement; the tests run in the database, so a user with 100,000 visible customers costs a
    scan in SQL, not 100,000 rows in Python.  A superset of the hits (except that SQLite's
    ``lower`` folds ASCII letters only): the caller scores exactly.
    """
    if not text.strip():
        return []
    dialect = session.get_bind().dialect.name
    first_word = text.strip().split()[0]
    word, core = first_word.lower(), company_core(first_word) or ""
    params: dict[str, Any] = {"text": text, "word": word, "core": core, "team_id": user.team_id, "user_id": user.id}
    counts = []
    for name, value in (("word", word), ("core", core)):
        pieces = sorted({value[i:i + 2] for i in range(len(value) - 1)})
        params[f"{name}_min"] = max(2, int(_MIN_NAME_SHARE * len(pieces)) + 1)
        if len(pieces) > _GRAM_SLOTS:
            counts.append(-1)
            params[f"{name}_grams"] = pieces if dialect == "postgresql" else json.dumps(pieces, ensure_ascii=False)
        else:
            counts.append(len(pieces))
            params.update({f"{name}_g{i}": piece for i, piece in enumerate(pieces)})
    if user.role != "admin":
        # The index's pieces (storage/models_names.py): a name or company in the text starts with
        # one of its two-character pieces (or of the first word's lower case: a name equal to or
        # inside it); a fuzzy match shares a piece with the first word or its core.
        starts = _pieces(text) | _pieces(word)
        shared = _pieces(word, single=True) | _pieces(core, single=True)
        for kind, grams in (("p_grams", starts), ("s_grams", shared)):
            grams_list = sorted(grams)
            params[kind] = grams_list if dialect == "postgresql" else json.dumps(grams_list, ensure_ascii=False)
    return [tuple(row) for row in session.execute(_candidates_sql(dialect, user.role, *counts), params)]


def _pieces(value: str, single: bool = False) -> set[str]:
    """Two-character pieces of ``value``; with ``single``, a one-character value is its own piece."""
    grams = {value[i:i + 2] for i in range(len(value) - 1)}
    return grams or ({value} if single and value else set())


# --- duplicates ------------------------------------------------------------------------------

@dataclass
class Match:
    customer: Customer
    reason: str  # phone | company | group | fuzzy
    score: float


def reason_text(reason: str, lang: str) -> str:
    """Why two records are one customer: phone | company | group | fuzzy (texts ``match_*``)."""
    from core.texts import TEXTS, tp
    key = f"match_{reason}"
    return tp(key, lang) if key in TEXTS else reason


def check_duplicates(session: Session, config: Config, *, phone: str | None = None, company: str | None = None,
                     name: str | None = None, exclude_id: int | None = None) -> list[Match]:
    """Existing customers that are the same party: phone, company group, or a fuzzy company match.

    Checked across all teams: one customer has one owner in the whole company.
    """
    matches: dict[int, Match] = {}
    phone_norm = normalize_phone(phone) if phone else None
    if phone_norm:
        for c in session.exec(select(Customer).where(Customer.phone_norm == phone_norm, Customer.invalid == False)):  # noqa: E712
            matches[c.id] = Match(c, "phone", 1.0)
    core = company_core(company) if company else None
    if core:
        for c in session.exec(select(Customer).where(Customer.company_norm == core, Customer.invalid == False)):  # noqa: E712
            if c.id not in matches:
                same_text = (c.company or "").strip() == (company or "").strip()
                matches[c.id] = Match(c, "company" if same_text else "group", 0.99)
        if len(core) >= 3:
            for c in _fuzzy_candidates(session, core):
                if c.id in matches or not c.company_norm:
                    continue
                found = company_match(core, c.company_norm, config.duplicates.fuzzy_threshold)
                if found is not None:  # names that differ in a code (一厂/二厂, A01/A02) are two companies
                    matches[c.id] = Match(c, found[0], found[1])
    result = [m for m in matches.values() if m.customer.id != exclude_id]
    return sorted(result, key=lambda m: -m.score)


def name_grams(core: str) -> set[str]:
    return {core[i:i + 2] for i in range(len(core) - 1)} or ({core} if core else set())


def _fuzzy_candidates(session: Session, core: str, limit: int = 50) -> Iterable[Customer]:
    """Customers whose company shares most two-character pieces with ``core`` (indexed lookup).

    A Dice similarity ≥ 0.88 implies sharing ≥ 78% of this name's pieces; a shorter name wholly
    contained in this one shares all of *its* pieces — both are kept, best first.
    """
    grams = name_grams(core)
    if not grams:
        return []
    shared = func.count(CompanyGram.gram)
    need = max(2, int(len(grams) * 0.75))
    rows = session.exec(
        select(CompanyGram.customer_id).where(CompanyGram.gram.in_(grams))
        .group_by(CompanyGram.customer_id)
        .having(or_(shared >= need, shared == func.max(CompanyGram.total)))
        .order_by(shared.desc()).limit(limit)).all()
    if not rows:
        return []
    return session.exec(select(Customer).where(Customer.id.in_(rows), Customer.invalid == False))  # noqa: E712


def index_company(session: Session, customer: Customer) -> None:
    """Keep the duplicate guard's gram index in step with the customer's company name."""
    session.execute(delete(CompanyGram).where(CompanyGram.customer_id == customer.id))
    grams = name_grams(customer.company_norm or "")
    for gram in grams:
        session.add(CompanyGram(customer_id=customer.id, gram=gram, total=len(grams)))


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
