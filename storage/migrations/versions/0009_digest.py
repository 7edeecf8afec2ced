"""digest: tables and columns kept exact by database triggers so the morning digest reads only what it shows

- ``ownerload``: per (team, owner) — owner 0: the team's pool — the open, valid customers: how many, their
  completeness summed, how many due before the cut in ``ownercut`` (the start of today; recounted daily);
- ``customer.progress_at``: the later of entering the current stage and the latest checklist step done in
  it, with an index on (team, status, invalid, stage, progress) so the stalled-deal escalations read only
  the escalated customers' index entries instead of visiting every open customer (services/stalls.py);
- ``stagecount``: valid customers per (team, stage, status), the funnel's counts;
- an index on spot checks' (result, decided_at) for the digest's flags of the last day;
- activity's (rep, time) index extended by kind and customer (``ix_activity_user_at_kind``) for yesterday's story.

Revision ID: 0009_digest
Revises: 0008_rollup
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0009_digest'
down_revision: Union[str, None] = '0008_rollup'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The latest step done in the customer's current stage (ix_checklistdone_customer_stage_at: one index probe).
LAST_STEP = "(SELECT max(d.at) FROM checklistdone d WHERE d.customer_id = {c}.id AND d.stage = {c}.stage)"
# SQLite's two-argument max() is NULL when either is: the entry stands in for a missing step.
SQLITE_PROGRESS = f"max(customer.stage_entered_at, coalesce({LAST_STEP.format(c='customer')}, customer.stage_entered_at))"
PG_PROGRESS = f"GREATEST(customer.stage_entered_at, {LAST_STEP.format(c='customer')})"  # GREATEST skips NULLs
INDEX = ('ix_customer_team_progress', ['team_id', 'status', 'invalid', 'stage', 'progress_at'])
ACTIVITY_INDEX = ('ix_activity_user_at_kind', ['user_id', 'at', 'kind', 'customer_id'])

# ownerload and stagecount are append-only: the triggers INSERT a delta row (+1 / -1 …) for each counted
# change and never UPDATE a shared row, so concurrent writers of the same (team, owner) or (team, stage,
# status) neither wait for each other nor deadlock (two handovers A→B and B→A); readers SUM per key and
# services/counters.py folds the deltas into one row per key (the nightly job, or past a threshold).
# ownerload: a customer counts for its (team, owner) while open and valid — owner 0: the team's pool (no owner) —
# "overdue" against ownercut's cut.
COUNTED = "{r}.status = 'open' AND NOT {r}.invalid"
DUE = "CASE WHEN {r}.next_followup_at < (SELECT cut FROM ownercut WHERE id = 1) THEN 1 ELSE 0 END"
LOAD_DELTA = ("INSERT INTO ownerload (team_id, owner_id, open_n, completeness_sum, overdue_n) "
              "SELECT {r}.team_id, coalesce({r}.owner_id, 0), {sign}1, {sign}coalesce({r}.completeness, 0), {sign}" + DUE +
              " WHERE " + COUNTED + ";")
ADD = LOAD_DELTA.replace("{sign}", "")
SUB = LOAD_DELTA.replace("{sign}", "-")
# stagecount: valid customers per (team, stage, status) — the funnel's counts.
STAGE_DELTA = ("INSERT INTO stagecount (team_id, stage, status, n) SELECT {r}.team_id, {r}.stage, {r}.status, {sign}1 "
               "WHERE NOT {r}.invalid;")
STAGE_ADD = STAGE_DELTA.replace("{sign}", "")
STAGE_SUB = STAGE_DELTA.replace("{sign}", "-")
STAGE_COLUMNS = ("team_id", "stage", "status", "invalid")
LOAD_COLUMNS = ("team_id", "owner_id", "status", "invalid", "completeness", "next_followup_at")
# The counts from scratch (services/owner_load.py does the same for a new cut).
RECOUNT = ("INSERT INTO ownerload (team_id, owner_id, open_n, completeness_sum, overdue_n) "
           "SELECT customer.team_id, coalesce(customer.owner_id, 0), count(*), sum(coalesce(customer.completeness, 0)), "
           "sum(" + DUE.format(r="customer") + ") FROM customer WHERE " + COUNTED.format(r="customer") +
           " GROUP BY customer.team_id, coalesce(customer.owner_id, 0)")


def create_counters() -> None:
    """The two delta tables and the cut (also used to rebuild a bench file seeded before they were append-only)."""
    op.create_table('ownerload',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('team_id', sa.Integer(), nullable=False),
                    sa.Column('owner_id', sa.Integer(), nullable=False),
                    *[sa.Column(c, sa.Integer(), nullable=False, server_default='0')
                      for c in ('open_n', 'completeness_sum', 'overdue_n')],
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_ownerload_team_owner', 'ownerload', ['team_id', 'owner_id'], unique=False)
    # The cut, and the highest delta id of each table at its last fold (how many deltas are pending).
    op.create_table('ownercut',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('cut', sa.DateTime(), nullable=True),
                    sa.Column('tz', sa.String(), nullable=False, server_default=''),
                    sa.Column('load_folded', sa.Integer(), nullable=False, server_default='0'),
                    sa.Column('stage_folded', sa.Integer(), nullable=False, server_default='0'),
                    sa.PrimaryKeyConstraint('id'))
    op.execute("INSERT INTO ownercut (id, cut, tz) VALUES (1, NULL, '')")  # no cut yet: nothing is overdue
    op.execute(RECOUNT)
    op.create_table('stagecount',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('team_id', sa.Integer(), nullable=False),
                    sa.Column('stage', sa.String(), nullable=False),
                    sa.Column('status', sa.String(), nullable=False),
                    sa.Column('n', sa.Integer(), nullable=False, server_default='0'),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_stagecount_team_stage', 'stagecount', ['team_id', 'stage', 'status'], unique=False)
    op.execute("INSERT INTO stagecount (team_id, stage, status, n) SELECT team_id, stage, status, count(*) FROM customer "
               "WHERE NOT invalid GROUP BY team_id, stage, status")
    op.execute("UPDATE ownercut SET load_folded = coalesce((SELECT max(id) FROM ownerload), 0), "
               "stage_folded = coalesce((SELECT max(id) FROM stagecount), 0)")


COUNTERS = (("ownerload", ADD, SUB, LOAD_COLUMNS), ("stagecount", STAGE_ADD, STAGE_SUB, STAGE_COLUMNS))


def counter_triggers(postgres: bool) -> None:
    """Each counter table's trigger on customer: the old row's −1, the new row's +1 (inserts only)."""
    for table, add, sub, columns in COUNTERS:
        if postgres:
            op.execute(f"""CREATE FUNCTION {table}_customer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN {sub.format(r='OLD')} END IF;
  IF TG_OP <> 'DELETE' THEN {add.format(r='NEW')} END IF;
  RETURN NULL;
END $$""")
            op.execute(f"CREATE TRIGGER {table}_mark AFTER INSERT OR DELETE OR UPDATE OF {', '.join(columns)} "
                       f"ON customer FOR EACH ROW EXECUTE FUNCTION {table}_customer()")
        else:
            op.execute(f"CREATE TRIGGER {table}_customer_ai AFTER INSERT ON customer BEGIN {add.format(r='NEW')} END")
            op.execute(f"CREATE TRIGGER {table}_customer_ad AFTER DELETE ON customer BEGIN {sub.format(r='OLD')} END")
            op.execute(f"CREATE TRIGGER {table}_customer_au AFTER UPDATE OF {', '.join(columns)} ON customer "
                       f"BEGIN {sub.format(r='OLD')} {add.format(r='NEW')} END")


def drop_counters(postgres: bool) -> None:
    for table, *_ in COUNTERS:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_mark ON customer")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_customer()")
        else:
            for name in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_customer_{name}")
    op.execute("DROP TABLE IF EXISTS stagecount")
    op.execute("DROP TABLE IF EXISTS ownercut")
    op.execute("DROP TABLE IF EXISTS ownerload")


def upgrade() -> None:
    create_counters()
    op.add_column('customer', sa.Column('progress_at', sa.DateTime(), nullable=True))
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(f"UPDATE customer SET progress_at = {PG_PROGRESS if postgres else SQLITE_PROGRESS}")
    op.create_index(INDEX[0], 'customer', INDEX[1], unique=False)
    # The digest's spot-check flags of the last day: that range first, not every customer of the teams probed.
    op.create_index('ix_spotcheck_result_decided', 'spotcheck', ['result', 'decided_at'], unique=False)
    # Yesterday's story (create / stage activities of the members) filters the kind in the (rep, time) index
    # and reads only those rows: the index extended by kind and customer (10×: the story 0.44 → 0.33 s CPU).
    op.drop_index('ix_activity_user_at', table_name='activity')
    op.create_index(ACTIVITY_INDEX[0], 'activity', ACTIVITY_INDEX[1], unique=False)
    if postgres:
        # The customer's own row: set before it is written (insert, or its stage or entry time changed).
        op.execute(f"""CREATE FUNCTION progress_customer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.progress_at := GREATEST(NEW.stage_entered_at, {LAST_STEP.format(c='NEW')});
  RETURN NEW;
END $$""")
        op.execute("CREATE TRIGGER progress_customer BEFORE INSERT OR UPDATE OF stage, stage_entered_at, progress_at "
                   "ON customer FOR EACH ROW EXECUTE FUNCTION progress_customer()")
        # A step done, undone or edited: its customer (both, when it moved) recomputed.
        op.execute(f"""CREATE FUNCTION progress_checklistdone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    UPDATE customer SET progress_at = {PG_PROGRESS} WHERE customer.id = OLD.customer_id;
  END IF;
  IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.customer_id IS DISTINCT FROM OLD.customer_id) THEN
    UPDATE customer SET progress_at = {PG_PROGRESS} WHERE customer.id = NEW.customer_id;
  END IF;
  RETURN NULL;
END $$""")
        op.execute("CREATE TRIGGER progress_mark AFTER INSERT OR DELETE OR UPDATE OF customer_id, stage, at "
                   "ON checklistdone FOR EACH ROW EXECUTE FUNCTION progress_checklistdone()")
    else:
        def set_for(cid: str) -> str:
            return f"UPDATE customer SET progress_at = {SQLITE_PROGRESS} WHERE customer.id = {cid};"
        # A trigger's own UPDATE does not fire it again (recursive_triggers is off, SQLite's default).
        op.execute(f"CREATE TRIGGER progress_customer_ai AFTER INSERT ON customer BEGIN {set_for('NEW.id')} END")
        op.execute(f"CREATE TRIGGER progress_customer_au AFTER UPDATE OF stage, stage_entered_at, progress_at ON customer "
                   f"BEGIN {set_for('NEW.id')} END")
        op.execute(f"CREATE TRIGGER progress_checklistdone_ai AFTER INSERT ON checklistdone BEGIN {set_for('NEW.customer_id')} END")
        op.execute(f"CREATE TRIGGER progress_checklistdone_ad AFTER DELETE ON checklistdone BEGIN {set_for('OLD.customer_id')} END")
        op.execute(f"CREATE TRIGGER progress_checklistdone_au AFTER UPDATE OF customer_id, stage, at ON checklistdone "
                   f"BEGIN {set_for('OLD.customer_id')} {set_for('NEW.customer_id')} END")
    counter_triggers(postgres)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS progress_customer ON customer")
        op.execute("DROP FUNCTION IF EXISTS progress_customer()")
        op.execute("DROP TRIGGER IF EXISTS progress_mark ON checklistdone")
        op.execute("DROP FUNCTION IF EXISTS progress_checklistdone()")
    else:
        for name in ("customer_ai", "customer_au", "checklistdone_ai", "checklistdone_ad", "checklistdone_au"):
            op.execute(f"DROP TRIGGER IF EXISTS progress_{name}")
    drop_counters(postgres)
    op.drop_index(ACTIVITY_INDEX[0], table_name='activity')
    op.create_index('ix_activity_user_at', 'activity', ['user_id', 'at'], unique=False)
    op.drop_index('ix_spotcheck_result_decided', table_name='spotcheck')
    op.drop_index(INDEX[0], table_name='customer')
    op.drop_column('customer', 'progress_at')
