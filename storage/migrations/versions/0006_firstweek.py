"""undo records (issue 14)

Revision ID: 0006_firstweek
Revises: 0005_company_grams
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = '0006_firstweek'
down_revision: Union[str, None] = '0005_company_grams'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('undorecord',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('after_updated_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('undorecord', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_undorecord_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_undorecord_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('undorecord', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_undorecord_user_id'))
        batch_op.drop_index(batch_op.f('ix_undorecord_customer_id'))
    op.drop_table('undorecord')
