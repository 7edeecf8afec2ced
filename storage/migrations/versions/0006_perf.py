"""perf: an index for per-owner customer lists (a rep's name lookups and brief read only their rows)

Revision ID: 0006_perf
Revises: 0005_company_grams
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0006_perf'
down_revision: Union[str, None] = '0005_company_grams'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_customer_owner_status', 'customer', ['owner_id', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_customer_owner_status', table_name='customer')
