"""rollup: per-rep daily rollups for the digests, boards and KPI windows, with trigger-written marks
of every change to a counted row (storage/models_rollup.py)

Revision ID: 0008_rollup
Revises: 0007_fanout
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0008_rollup'
down_revision: Union[str, None] = '0007_fanout'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# table → (its rep column, the columns whose change moves a count)
SOURCES = {
    "activity": ("user_id", ("user_id", "at", "kind")),
    "stagechange": ("by_user_id", ("by_user_id", "at", "from_stage", "to_stage", "complete_data", "customer_id")),
    "checklistdone": ("user_id", ("user_id", "at", "within_expected", "customer_id")),
    "pointsentry": ("user_id", ("user_id", "at", "status", "points", "team_id")),
}
MARK = "INSERT INTO rollupdirty (user_id, at) "
# A customer's team or validity decides whether (and for which team) its moves and items count.
# (A deleted customer's rows no longer join: marked too, for a database that does not enforce the foreign keys.)
CUSTOMER_MARKS = (MARK + "SELECT by_user_id, at FROM stagechange WHERE customer_id = ROW.id AND by_user_id IS NOT NULL; "
                  + MARK + "SELECT user_id, at FROM checklistdone WHERE customer_id = ROW.id AND user_id IS NOT NULL;")
CUSTOMER_CHANGED = "OLD.team_id IS DISTINCT FROM NEW.team_id OR OLD.invalid IS DISTINCT FROM NEW.invalid"


def upgrade() -> None:
    op.create_table('repday',
                    sa.Column('team_id', sa.Integer(), nullable=False),
                    sa.Column('day', sa.Date(), nullable=False),
                    sa.Column('user_id', sa.Integer(), nullable=False),
                    *[sa.Column(c, sa.Integer(), nullable=False, server_default='0') for c in (
                        'points', 'moves', 'moves_complete', 'deals', 'items', 'items_on_time')],
                    sa.PrimaryKeyConstraint('team_id', 'day', 'user_id'))
    op.create_index('ix_repday_user_day', 'repday', ['user_id', 'day'], unique=False)
    op.create_table('repkind',
                    sa.Column('day', sa.Date(), nullable=False),
                    sa.Column('user_id', sa.Integer(), nullable=False),
                    sa.Column('kind', sa.String(), nullable=False),
                    sa.Column('n', sa.Integer(), nullable=False, server_default='0'),
                    sa.PrimaryKeyConstraint('day', 'user_id', 'kind'))
    op.create_table('rollupday',
                    sa.Column('day', sa.Date(), nullable=False),
                    sa.Column('tz', sa.String(), nullable=False),
                    sa.Column('computed_at', sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('day'))
    op.create_table('rollupdirty',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('user_id', sa.Integer(), nullable=True),
                    sa.Column('at', sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_rollupdirty_at', 'rollupdirty', ['at'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for table, (rep, _cols) in SOURCES.items():
            op.execute(f"""CREATE FUNCTION rollup_mark_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.{rep} IS NOT NULL THEN {MARK} VALUES (OLD.{rep}, OLD.at); END IF;
  IF TG_OP <> 'DELETE' AND NEW.{rep} IS NOT NULL THEN {MARK} VALUES (NEW.{rep}, NEW.at); END IF;
  RETURN NULL;
END $$""")
            op.execute(f"CREATE TRIGGER rollup_mark AFTER INSERT OR DELETE OR UPDATE OF {', '.join(_cols)} ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION rollup_mark_{table}()")
        op.execute(f"""CREATE FUNCTION rollup_mark_customer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN {CUSTOMER_MARKS.replace('ROW.', 'OLD.')}
  ELSIF {CUSTOMER_CHANGED} THEN {CUSTOMER_MARKS.replace('ROW.', 'NEW.')} END IF;
  RETURN NULL;
END $$""")
        op.execute("CREATE TRIGGER rollup_mark AFTER DELETE OR UPDATE OF team_id, invalid ON customer "
                   "FOR EACH ROW EXECUTE FUNCTION rollup_mark_customer()")
    else:
        for table, (rep, cols) in SOURCES.items():
            new = f"{MARK} SELECT NEW.{rep}, NEW.at WHERE NEW.{rep} IS NOT NULL;"
            old = f"{MARK} SELECT OLD.{rep}, OLD.at WHERE OLD.{rep} IS NOT NULL;"
            op.execute(f"CREATE TRIGGER rollup_{table}_ai AFTER INSERT ON {table} BEGIN {new} END")
            op.execute(f"CREATE TRIGGER rollup_{table}_ad AFTER DELETE ON {table} BEGIN {old} END")
            op.execute(f"CREATE TRIGGER rollup_{table}_au AFTER UPDATE OF {', '.join(cols)} ON {table} BEGIN {old} {new} END")
        op.execute(f"CREATE TRIGGER rollup_customer_au AFTER UPDATE OF team_id, invalid ON customer "
                   f"WHEN {CUSTOMER_CHANGED.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN {CUSTOMER_MARKS.replace('ROW.', 'NEW.')} END")
        op.execute(f"CREATE TRIGGER rollup_customer_ad AFTER DELETE ON customer BEGIN {CUSTOMER_MARKS.replace('ROW.', 'OLD.')} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in (*SOURCES, "customer"):
            op.execute(f"DROP TRIGGER IF EXISTS rollup_mark ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS rollup_mark_{table}()")
    else:
        for table in SOURCES:
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS rollup_{table}_{suffix}")
        op.execute("DROP TRIGGER IF EXISTS rollup_customer_au")
        op.execute("DROP TRIGGER IF EXISTS rollup_customer_ad")
    op.drop_index('ix_rollupdirty_at', table_name='rollupdirty')
    op.drop_table('rollupdirty')
    op.drop_table('rollupday')
    op.drop_table('repkind')
    op.drop_index('ix_repday_user_day', table_name='repday')
    op.drop_table('repday')
