"""voice: the per-day use of the speech service and the assistant

Revision ID: 0006_voice
Revises: 0005_company_grams
Create Date: 2026-12-07 06:45:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # autogenerate emits sqlmodel.sql.sqltypes.AutoString


revision: str = '0006_voice'
down_revision: Union[str, None] = '0005_company_grams'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('serviceusage',
    sa.Column('service', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('day', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('used', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('service', 'day')
    )


def downgrade() -> None:
    op.drop_table('serviceusage')
