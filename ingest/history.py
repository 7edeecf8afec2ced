"""Questions answered from FieldHistory alone (one table: every value, where it came from, when).

The article's "哪类客户复购率最高" (which kind of customer re-buys most): each purchase the
ERP reports is a FieldHistory row ``field = "order"`` (value = the order id, source = the
connector run), and every customer attribute (industry, size, source, purchase frequency,
region…) is a FieldHistory row too.  So: per customer, the latest value of the attribute
and the number of distinct orders; per value, buyers, re-buyers (2+ orders) and the rate.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from storage.models import FieldHistory


@dataclass(frozen=True)
class RebuyRow:
    value: str
    buyers: int
    rebuyers: int

    @property
    def rate(self) -> float:
        return self.rebuyers / self.buyers if self.buyers else 0.0


def repurchase_by(session: Session, dimension: str = "industry", min_buyers: int = 1) -> list[RebuyRow]:
    """Re-purchase rate per value of ``dimension`` (a field name as stored in FieldHistory).

    Highest rate first (then most buyers). Customers without a value are grouped under "".
    """
    fh = FieldHistory.__table__
    orders = (select(fh.c.customer_id, func.count(func.distinct(fh.c.value)).label("n"))
              .where(fh.c.field == "order").group_by(fh.c.customer_id).subquery("orders"))
    latest_id = (select(fh.c.customer_id, func.max(fh.c.id).label("id"))
                 .where(fh.c.field == dimension).group_by(fh.c.customer_id).subquery("latest"))
    attr = aliased(fh, name="attr")
    value = func.coalesce(attr.c.value, "")
    query = (select(value.label("value"), func.count().label("buyers"),
                    func.sum(case((orders.c.n >= 2, 1), else_=0)).label("rebuyers"))
             .select_from(orders)
             .outerjoin(latest_id, latest_id.c.customer_id == orders.c.customer_id)
             .outerjoin(attr, attr.c.id == latest_id.c.id)
             .group_by(value)
             .having(func.count() >= min_buyers))
    rows = [RebuyRow(r.value, int(r.buyers), int(r.rebuyers or 0)) for r in session.execute(query)]
    return sorted(rows, key=lambda r: (-r.rate, -r.buyers, r.value))


def field_origin(session: Session, customer_id: int, field: str) -> list[FieldHistory]:
    """Every value a customer's field had, oldest first, with its source and reference."""
    from sqlmodel import select as sm_select
    return list(session.exec(sm_select(FieldHistory).where(FieldHistory.customer_id == customer_id,
                                                           FieldHistory.field == field).order_by(FieldHistory.id)))
