"""fanout: the digest's stalled-deal escalations read each candidate's latest step in its current
stage from an index alone (customer_id, stage, at), without visiting the checklist rows

Revision ID: 0007_fanout
Revises: 0006_perf
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0007_fanout'
down_revision: Union[str, None] = '0006_perf'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_checklistdone_customer_stage_at', 'checklistdone', ['customer_id', 'stage', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_checklistdone_customer_stage_at', table_name='checklistdone')
