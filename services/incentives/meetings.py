"""Cross-department meetings (/meeting): who attended, and whether a customer has had one."""
from __future__ import annotations

import re
from typing import Iterable

from sqlmodel import Session, select

from core.config import Config
from storage.models import Activity

_ATTENDEE = re.compile(r"^\s*([^/（(]+?)\s*(?:[/（(]\s*([^)）]+?)\s*[)）]?)?\s*$")


def parse_attendees(text: str) -> list[dict[str, str]]:
    """'张工/技术部 李经理(财务部)' → [{'name': '张工', 'department': '技术部'}, …]."""
    people = []
    for chunk in re.split(r"[,，、;；\s]+", text.strip()):
        if not chunk:
            continue
        match = _ATTENDEE.match(chunk)
        if match:
            people.append({"name": match.group(1)[:30], "department": (match.group(2) or "")[:30]})
    return people[:20]


def is_cross_department(config: Config, attendees: Iterable[dict[str, str]]) -> bool:
    own = config.anticheat.own_department.strip()
    return any(a.get("department") and a["department"].strip() != own for a in attendees)


def has_cross_department_meeting(session: Session, config: Config, customer_id: int) -> bool:
    rows = session.exec(select(Activity.data).where(Activity.customer_id == customer_id, Activity.kind == "meeting"))
    return any(is_cross_department(config, (data or {}).get("attendees", [])) for data in rows)
