"""analysis feedback labels and per-team intent adjustments (issue 13 item 6)

Revision ID: 0007_feedback
Revises: 0006_perf
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = '0007_feedback'
down_revision: Union[str, None] = '0006_perf'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('analysissample',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('intent_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('shipped_level', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('shipped_score', sa.Integer(), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('features', sa.JSON(), nullable=False),
    sa.Column('objections', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['intent_id'], ['intentrecord.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('analysissample', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analysissample_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_analysissample_customer_id'), ['customer_id'], unique=False)
    op.create_table('feedbacklabel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('agreed', sa.Boolean(), nullable=True),
    sa.Column('correct_level', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('objection_verdicts', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['sample_id'], ['analysissample.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sample_id', 'user_id', name='uq_feedbacklabel_sample_user')
    )
    with op.batch_alter_table('feedbacklabel', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedbacklabel_sample_id'), ['sample_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedbacklabel_team_id'), ['team_id'], unique=False)
    op.create_table('teamintentmodel',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('labels', sa.Integer(), nullable=False),
    sa.Column('shipped_acc', sa.Float(), nullable=False),
    sa.Column('team_acc', sa.Float(), nullable=False),
    sa.Column('fitted_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('team_id')
    )


def downgrade() -> None:
    op.drop_table('teamintentmodel')
    with op.batch_alter_table('feedbacklabel', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedbacklabel_team_id'))
        batch_op.drop_index(batch_op.f('ix_feedbacklabel_sample_id'))
    op.drop_table('feedbacklabel')
    with op.batch_alter_table('analysissample', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analysissample_customer_id'))
        batch_op.drop_index(batch_op.f('ix_analysissample_team_id'))
    op.drop_table('analysissample')
