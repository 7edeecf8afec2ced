"""The team's customers and activities as an XLSX file (/export, the console's download)."""
from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from core.clock import to_local
from core.config import Config
from storage.models import Activity, Customer, User


CUSTOMER_COLUMNS = [("id", "编号"), ("name", "客户名称"), ("company", "公司"), ("contact", "联系人"), ("phone", "电话"),
                    ("industry", "行业"), ("size", "规模"), ("source", "线索来源"), ("tags", "标签"), ("stage", "阶段"),
                    ("status", "状态"), ("owner", "负责人"), ("amount", "金额"), ("completeness", "资料完整度"),
                    ("priority", "优先级"), ("intent", "意向"), ("created_at", "创建时间"),
                    ("last_followup_at", "最近跟进"), ("next_followup_at", "下次跟进")]
ACTIVITY_COLUMNS = ["时间", "客户编号", "客户", "销售", "类型", "内容"]
_FORMULA = re.compile(r"^[=+\-@\t\r]")


def _cell(value: Any) -> Any:
    """Spreadsheet-safe: text that Excel would run as a formula gets a leading apostrophe."""
    if isinstance(value, str):
        value = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", value)
        if _FORMULA.match(value):
            return "'" + value
    return value


def export_xlsx(session: Session, config: Config, team_id: int | None, now: datetime) -> tuple[bytes, int, int]:
    """The team's customers and activities as an XLSX file. Returns (bytes, customers, activities)."""
    from openpyxl import Workbook
    tz = config.tz
    query = select(Customer).where(Customer.invalid == False)  # noqa: E712
    if team_id is not None:
        query = query.where(Customer.team_id == team_id)
    customers = list(session.exec(query.order_by(Customer.id)))
    users = {u.id: u.name for u in session.exec(select(User))}
    custom = list(config.fields.items())

    def local(value: datetime | None) -> Any:
        return to_local(value, tz).replace(tzinfo=None) if value else None

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("客户")

    def dated(target, values: list[Any]) -> list[Any]:
        """Real date cells (they sort and filter), shown in the bot's Chinese convention (core/when.py)."""
        from openpyxl.cell import WriteOnlyCell

        from core.when import EXCEL_FORMAT
        out = []
        for v in values:
            v = _cell(v)
            if isinstance(v, datetime):
                v = WriteOnlyCell(target, value=v)
                v.number_format = EXCEL_FORMAT
            out.append(v)
        return out
    sheet.append([label for _, label in CUSTOMER_COLUMNS] + [f.label for _, f in custom])
    for c in customers:
        stage = config.stage(c.stage)
        row = [c.id, c.name, c.company, c.contact, c.phone, c.industry, c.size, c.source, "、".join(c.tags or []),
               stage.name if stage else c.stage, {"open": "跟进中", "won": "成交", "lost": "丢单"}.get(c.status, c.status),
               users.get(c.owner_id, "公海") if c.owner_id else "公海", c.amount, c.completeness, c.priority,
               f"{c.intent_level} {c.intent_score}" if c.intent_score is not None else None,
               local(c.created_at), local(c.last_followup_at), local(c.next_followup_at)]
        row += [(c.custom or {}).get(name) for name, _ in custom]
        sheet.append(dated(sheet, row))
    names = {c.id: c.name for c in customers}
    activities = 0
    log = workbook.create_sheet("跟进记录")
    log.append(ACTIVITY_COLUMNS)
    query = select(Activity).join(Customer, Customer.id == Activity.customer_id).where(Customer.invalid == False)  # noqa: E712
    if team_id is not None:
        query = query.where(Customer.team_id == team_id)
    for a in session.exec(query.order_by(Activity.at, Activity.id)):
        log.append(dated(log, [local(a.at), a.customer_id, names.get(a.customer_id),
                               users.get(a.user_id, "系统") if a.user_id else "系统", a.kind, a.text]))
        activities += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), len(customers), activities
