"""intake: company names compared with look-alike letters folded — recompute company_norm and its grams

Revision ID: 0006_intake
Revises: 0005_company_grams
Create Date: 2026-12-07 07:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0006_intake'
down_revision: Union[str, None] = '0005_company_grams'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """company_norm is services.company_names.company_core(company); the core now folds look-alike letters
    (Cyrillic А → a), so stored cores with such letters change, and with them the gram index."""
    from services.company_names import company_core
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, company, company_norm FROM customer WHERE company IS NOT NULL")).fetchall()
    for customer_id, company, old in rows:
        core = company_core(company)
        if core == old:
            continue
        conn.execute(sa.text("UPDATE customer SET company_norm = :n WHERE id = :i"), {"n": core, "i": customer_id})
        conn.execute(sa.text("DELETE FROM companygram WHERE customer_id = :i"), {"i": customer_id})
        if core:
            grams = {core[i:i + 2] for i in range(len(core) - 1)} or {core}
            conn.execute(sa.text("INSERT INTO companygram (customer_id, gram, total) VALUES (:c, :g, :t)"),
                         [{"c": customer_id, "g": g, "t": len(grams)} for g in grams])


def downgrade() -> None:
    pass  # the folded cores are valid for the older code too (it only compares them)
