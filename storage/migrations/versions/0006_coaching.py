"""coaching: lost reasons, competitor mentions, visits, SOP feedback (issue 16)

Revision ID: 0006_coaching
Revises: 0005_company_grams
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0006_coaching'
down_revision: Union[str, None] = '0005_company_grams'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('dealloss',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('stage', _S(), nullable=False),
    sa.Column('reason', _S(), nullable=False),
    sa.Column('competitor', _S(), nullable=False),
    sa.Column('note', _S(), nullable=False),
    sa.Column('by_user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.ForeignKeyConstraint(['by_user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('customer_id')
    )
    op.create_index('ix_dealloss_team_id', 'dealloss', ['team_id'], unique=False)
    op.create_table('competitormention',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('competitor', _S(), nullable=False),
    sa.Column('source', _S(), nullable=False),
    sa.Column('objections', sa.JSON(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_competitormention_customer_id', 'competitormention', ['customer_id'], unique=False)
    op.create_index('ix_mention_team_comp', 'competitormention', ['team_id', 'competitor'], unique=False)
    op.create_table('visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('start_at', sa.DateTime(), nullable=False),
    sa.Column('end_at', sa.DateTime(), nullable=False),
    sa.Column('goal', _S(), nullable=False),
    sa.Column('status', _S(), nullable=False),
    sa.Column('outcome', _S(), nullable=False),
    sa.Column('plan', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_visit_customer_id', 'visit', ['customer_id'], unique=False)
    op.create_index('ix_visit_user_id', 'visit', ['user_id'], unique=False)
    op.create_table('sopfeedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('stage', _S(), nullable=False),
    sa.Column('item_id', _S(), nullable=False),
    sa.Column('kind', _S(), nullable=False),
    sa.Column('note', _S(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_sopfeedback_team_id', 'sopfeedback', ['team_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sopfeedback_team_id', table_name='sopfeedback')
    op.drop_table('sopfeedback')
    op.drop_index('ix_visit_user_id', table_name='visit')
    op.drop_index('ix_visit_customer_id', table_name='visit')
    op.drop_table('visit')
    op.drop_index('ix_mention_team_comp', table_name='competitormention')
    op.drop_index('ix_competitormention_customer_id', table_name='competitormention')
    op.drop_table('competitormention')
    op.drop_index('ix_dealloss_team_id', table_name='dealloss')
    op.drop_table('dealloss')
