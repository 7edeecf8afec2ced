"""Spreadsheet import (CSV/XLSX, dry run first, then one transaction); the export is ingest/sheet_export.py.

Reading (ingest/sheet_read.py) is forgiving: UTF-8 or GB18030 CSV with any common delimiter; every visible worksheet
of a workbook; the header row is found among the first rows (title rows above it, notes in
headers like 电话（必填）, English or Chinese synonyms); blank rows, repeated header rows and
合计/总计 rows are skipped.

The plan (dry run) classifies every row: ``new`` (with the owner it will get), ``duplicate``
(of an existing customer — with its owner — or of an earlier row of the same import) or
``invalid`` (every reason).  Applying re-plans inside the transaction and refuses when the
result differs from what the manager confirmed (someone added one of these customers in the
meantime): the import is all-or-nothing.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Callable

from sqlmodel import Session

from core.config import Config
from core.texts import t
from ingest import assignment as assign
from ingest.leads import NewCustomer, draft_customer, extras_pairs, guard_names, write_new
from ingest.rows import StoredGuard
from ingest.sheet_read import SheetError, SheetRow, read_file, rows_from_json, rows_to_json  # noqa: F401 (the import's API)
from services import cleaning
from services import customers as cust_svc
from services.company_names import company_match
from services.users import team_members
from storage.models import Customer, Team, User
from storage.models_ingest import ImportBatch

Progress = Callable[[int, int], None]


class PlanChanged(Exception):
    """The data changed since the dry run: nothing was imported."""


@dataclass
class PlannedRow:
    where: str
    status: str  # new | duplicate | invalid
    name: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, str] = field(default_factory=dict)
    owner_id: int | None = None
    owner_name: str = ""
    reasons: list[str] = field(default_factory=list)
    duplicate_of: dict[str, Any] = field(default_factory=dict)
    assigned_by: str = ""  # column | round_robin | rule | load | no_reps
    record: dict[str, Any] = field(default_factory=dict)  # the values clean_record kept (not in the digest)


@dataclass
class Plan:
    rows: list[PlannedRow]

    def of(self, status: str) -> list[PlannedRow]:
        return [r for r in self.rows if r.status == status]

    @property
    def counts(self) -> dict[str, int]:
        return {"total": len(self.rows), "new": len(self.of("new")), "duplicate": len(self.of("duplicate")),
                "invalid": len(self.of("invalid"))}

    @property
    def digest(self) -> str:
        """What the manager confirmed: each row's outcome. Owners are not part of it — the planned
        owners are kept in the batch, so leads arriving meanwhile (moving the round robin) do not
        void a confirmation."""
        keep = ("where", "status", "name", "data", "extras", "reasons", "duplicate_of")
        return hashlib.sha256(json.dumps([{k: v for k, v in asdict(r).items() if k in keep} for r in self.rows],
                                         sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()

    def summary(self) -> list[tuple[str, str, str, str]]:
        """(where, status, name, detail) per row: what the report shows, comparable in tests."""
        out = []
        for r in self.rows:
            if r.status == "new":
                detail = r.owner_name or "pool"
            elif r.status == "duplicate":
                d = r.duplicate_of
                detail = (f"row {d['row']} ({d['reason']})" if "row" in d
                          else f"#{d['customer_id']} {d['name']} owner {d['owner'] or 'pool'} ({d['reason']})")
            else:
                detail = "; ".join(r.reasons)
            out.append((r.where, r.status, r.name, detail))
        return out


def _member_by_name(members: list[User], text: str) -> User | None:
    text = text.strip().lstrip("@")
    for user in members:
        if user.name == text or (user.username or "").lower() == text.lower() or str(user.tg_id) == text:
            return user
    return None


def plan_import(session: Session, config: Config, team: Team, rows: list[SheetRow], now: datetime, *,
                progress: Progress | None = None) -> Plan:
    """Every row cleaned first (pure), then the duplicate guard's pre-check for the whole sheet
    against the stored customers (``StoredGuard``: a few statements, the intake's batch
    pipeline), then row by row in order: earlier rows of the import, the full duplicate check
    where the pre-check says it can report one, the owner."""
    members = team_members(session, team.id, roles=("rep", "manager", "admin"))
    names = {u.id: u.name for u in members}
    planned: list[PlannedRow] = []
    accepted: list[tuple[str | None, str | None, PlannedRow]] = []  # (phone_norm, company core, row)
    pending: dict[int, int] = {}
    last_rr: int | None = assign._last_assigned(session, team.id)
    label = (config.sources["import"].label if "import" in config.sources else "表格导入")
    cleaned_rows = [_clean_row(config, row, now, label) for row in rows]
    guard = StoredGuard(session, config.duplicates.fuzzy_threshold,
                        [guard_names(record) for _, record, _ in cleaned_rows])
    for index, (row, cleaned) in enumerate(zip(rows, cleaned_rows), 1):
        item = _plan_row(session, config, team, row, cleaned, guard, members, names, accepted, pending, last_rr)
        if item.status == "new" and item.owner_id is not None:
            pending[item.owner_id] = pending.get(item.owner_id, 0) + 1
            if item.assigned_by == "round_robin":
                last_rr = item.owner_id
        planned.append(item)
        if progress:
            progress(index, len(rows))
    return Plan(planned)


def _clean_row(config: Config, row: SheetRow, now: datetime, label: str) -> tuple[Any, dict[str, Any], list]:
    """The pure steps: cleaning (services/cleaning.py) and the quality gates."""
    cleaned = cleaning.clean(row.values, config, None, default_label=label, required=("name", "phone_or_company"))
    record, problems = cust_svc.clean_record(cleaned.data, config, now)
    return cleaned, record, problems


def _plan_row(session: Session, config: Config, team: Team, row: SheetRow, prepared: tuple, guard: StoredGuard,
              members: list[User], names: dict[int, str], accepted: list, pending: dict[int, int],
              last_rr: int | None) -> PlannedRow:
    cleaned, cleaned_data, problems = prepared
    name = str(cleaned.data.get("name") or "")
    item = PlannedRow(row.where, "invalid", name=name)
    reasons = [f"{config.field_label(p.field, 'zh')}：{p.reason_zh}" for p in cleaned.problems]
    reasons += [f"{config.field_label(p.field, 'zh')}：{p.reason_zh}" for p in problems
                if not any(p.field == q.field for q in cleaned.problems)]
    owner: User | None = None
    if cleaned.extras.get("owner"):
        owner = _member_by_name(members, cleaned.extras["owner"])
        if owner is None:
            reasons.append(f"负责人：「{cleaned.extras['owner']}」不在团队中")
    if reasons:
        item.reasons = reasons
        return item
    item.data = cleaned.data
    item.record = cleaned_data
    item.extras = {k: v for k, v in cleaned.extras.items() if k != "owner"}
    phone_norm, core_name = guard_names(cleaned_data)
    for other_phone, other_core, other in accepted:
        reason = None
        if phone_norm and phone_norm == other_phone:
            reason = cust_svc.reason_text("phone", "zh")
        elif (found := company_match(core_name, other_core, config.duplicates.fuzzy_threshold)) is not None:
            same_text = (cleaned_data.get("company") or "") == (other.data.get("company") or "")
            reason = cust_svc.reason_text("company" if same_text else "group" if found[0] == "same" else "fuzzy", "zh")
        if reason:
            item.status = "duplicate"
            item.duplicate_of = {"row": other.where, "name": other.name, "reason": reason}
            return item
    dups = (cust_svc.check_duplicates(session, config, phone=cleaned_data.get("phone"), company=cleaned_data.get("company"))
            if guard.may(phone_norm, core_name) else [])
    if dups:
        match = dups[0]
        owner_name = names.get(match.customer.owner_id) if match.customer.owner_id else None
        if match.customer.owner_id and owner_name is None:
            other_user = session.get(User, match.customer.owner_id)
            owner_name = other_user.name if other_user else "?"
        item.status = "duplicate"
        item.duplicate_of = {"customer_id": match.customer.id, "name": match.customer.name, "owner": owner_name or "",
                             "reason": cust_svc.reason_text(match.reason, "zh")}
        return item
    if owner is None:
        choice = assign.choose_owner(session, config, team, cleaned.data, cleaned.extras, pending=pending, after=last_rr)
        owner = choice.owner
        item.assigned_by = choice.reason
    else:
        item.assigned_by = "column"
    item.status = "new"
    item.owner_id = owner.id if owner else None
    item.owner_name = owner.name if owner else ""
    accepted.append((phone_norm, core_name, item))
    return item


# --- batches and applying ----------------------------------------------------------------------------

def create_batch(session: Session, config: Config, team: Team, user: User | None, rows: list[SheetRow],
                 filenames: list[str], sha: str, now: datetime, progress: Progress | None = None) -> tuple[ImportBatch, Plan]:
    plan = plan_import(session, config, team, rows, now, progress=progress)
    owners = {item.where: item.owner_id for item in plan.of("new")}
    stored = rows_to_json(rows)
    for entry in stored:
        entry["planned_owner"] = owners.get(SheetRow(entry["file"], entry["sheet"], entry["row"], {}).where)
    batch = ImportBatch(team_id=team.id, user_id=user.id if user else None, filenames=", ".join(filenames)[:500],
                        sha256=sha, status="planned", digest=plan.digest, rows=stored,
                        counts=plan.counts, created_at=now)
    session.add(batch)
    session.flush()
    return batch, plan


@dataclass
class ApplyResult:
    batch: ImportBatch
    created: list[Customer]
    by_owner: dict[int, list[str]]


def apply_batch(session: Session, core: Any, batch_id: int, user: User | None, now: datetime, *,
                progress: Progress | None = None) -> ApplyResult:
    """Import the confirmed batch in the caller's one transaction; PlanChanged if the data moved."""
    config = core.config
    batch = session.get(ImportBatch, batch_id)
    if batch is None or batch.status != "planned" or (user is not None and batch.user_id not in (None, user.id)):
        raise LookupError("no such planned import")
    if (now - batch.created_at).total_seconds() > config.ingest.import_confirm_minutes * 60:
        batch.status = "expired"
        session.add(batch)
        raise LookupError("expired")
    team = session.get(Team, batch.team_id)
    plan = plan_import(session, config, team, rows_from_json(batch.rows), now)
    if plan.digest != batch.digest:
        raise PlanChanged()
    created: list[Customer] = []
    by_owner: dict[int, list[str]] = {}
    new_rows = plan.of("new")
    planned = {SheetRow(e["file"], e["sheet"], e["row"], {}).where: e.get("planned_owner") for e in batch.rows}
    members = {u.id for u in team_members(session, team.id, roles=("rep", "manager", "admin"))}
    actor = user.id if user else None
    new: list[NewCustomer] = []
    for index, item in enumerate(new_rows, 1):
        if planned.get(item.where) in members:  # the owner shown in the confirmed report
            item.owner_id = planned[item.where]
        ref = f"import:{batch.id}:{item.where}"[:200]
        priority = assign.priority_of(config, None, item.data, item.extras)
        customer = draft_customer(config, team.id, item.owner_id, item.record, priority, now, created_by=actor)
        new.append(NewCustomer(customer, item.record, extras_pairs(item.extras, {"priority": str(priority)}), "import",
                               ref, actor, [("import", (item.extras.get("note") or batch.filenames)[:2000],
                                             {"batch": batch.id, "row": item.where})]))
        if item.owner_id is not None:
            by_owner.setdefault(item.owner_id, []).append(customer.name)
        created.append(customer)
        if progress:
            progress(index, len(new_rows))
    # the intake's writer: one statement per table (the re-plan above, in this transaction, is
    # the duplicate check: the rows it calls new are new)
    write_new(session, new, now)
    rr = [item.owner_id for item in new_rows if item.assigned_by == "round_robin" and item.owner_id is not None]
    if rr:
        assign.record_choice(session, team, session.get(User, rr[-1]), now)
    batch.status = "applied"
    batch.decided_at = now
    batch.counts = {**plan.counts, "created": len(created)}
    session.add(batch)
    _notify_owners(session, batch, by_owner, user, now)
    session.flush()
    return ApplyResult(batch, created, by_owner)


def _notify_owners(session: Session, batch: ImportBatch, by_owner: dict[int, list[str]], user: User | None,
                   now: datetime) -> None:
    from services import outbox
    for owner_id, names in by_owner.items():
        if user is not None and owner_id == user.id:
            continue
        owner = session.get(User, owner_id)
        if owner is None or not owner.active:
            continue
        shown = "、".join(names[:10]) + ("…" if len(names) > 10 else "")
        text = t("import_assigned", owner.language, n=len(names), names=shown)
        outbox.enqueue(session, owner.tg_id, "notice", {"text": text}, f"import:{batch.id}:{owner.id}", now)


def cancel_batch(session: Session, batch_id: int, user: User | None, now: datetime) -> bool:
    batch = session.get(ImportBatch, batch_id)
    if batch is None or batch.status != "planned" or (user is not None and batch.user_id not in (None, user.id)):
        return False
    batch.status = "cancelled"
    batch.decided_at = now
    session.add(batch)
    return True


# --- the report ---------------------------------------------------------------------------------

def report_text(plan: Plan, filenames: str, lang: str, limit: int = 12) -> str:
    """The dry-run report (HTML, escaped by t()); long sections are cut with a count."""
    counts = plan.counts
    lines = [t("import_report", lang, file=filenames, total=counts["total"], new=counts["new"],
               dup=counts["duplicate"], invalid=counts["invalid"])]
    sections = (("new", "import_section_new"), ("duplicate", "import_section_dup"), ("invalid", "import_section_invalid"))
    for status, key in sections:
        items = plan.of(status)
        if not items:
            continue
        lines.append(t(key, lang))
        for item in items[:limit]:
            where = _where_label(item.where, lang)
            if status == "new":
                lines.append(t("import_line_new", lang, where=where, name=item.name,
                               owner=item.owner_name or t("import_pool", lang)))
            elif status == "invalid":
                lines.append(t("import_line_invalid", lang, where=where, reasons="；".join(item.reasons)))
            elif "row" in item.duplicate_of:
                d = item.duplicate_of
                lines.append(t("import_line_dup_file", lang, where=where, name=item.name,
                               other=_where_label(d["row"], lang), reason=d["reason"]))
            else:
                d = item.duplicate_of
                lines.append(t("import_line_dup_db", lang, where=where, name=item.name, existing=d["name"],
                               owner=d["owner"] or t("import_pool", lang), reason=d["reason"]))
        if len(items) > limit:
            lines.append(t("import_more", lang, n=len(items) - limit))
    lines.append(t("import_ask", lang, n=counts["new"]) if counts["new"] else t("import_nothing", lang))
    return "\n".join(lines)


def _where_label(where: str, lang: str) -> str:
    head, _, row = where.rpartition("#")
    return f"{head} 第{row}行" if lang != "en" else f"{head} row {row}"
