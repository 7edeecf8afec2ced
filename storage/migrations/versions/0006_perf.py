"""perf: customer indexes for per-owner lists (a rep's name lookups and brief read only their rows) and
for each team's first overdue / hottest customers in the digest (walked n rows per team)

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
    op.create_index('ix_customer_team_due', 'customer', ['team_id', 'status', 'next_followup_at'], unique=False)
    op.create_index('ix_customer_team_hot', 'customer', ['team_id', 'status', 'intent_score'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_customer_team_hot', table_name='customer')
    op.drop_index('ix_customer_team_due', table_name='customer')
    op.drop_index('ix_customer_owner_status', table_name='customer')
