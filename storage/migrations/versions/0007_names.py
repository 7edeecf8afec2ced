"""names: an index for the name lookup on every free-text line and paste (per team, kept by triggers)

Revision ID: 0007_names
Revises: 0006_perf
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0007_names'
down_revision: Union[str, None] = '0006_perf'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

POSITIONS = 512
_LAST = "p.n <= CASE WHEN length({col}) > 1 THEN length({col}) - 1 ELSE length({col}) END"  # one piece for 1 character
# (kind, piece, condition, cut from a position): what storage/models_names.NameGram holds for a row R.
_PIECES = (
    ("p", "substr(R.name, 1, 2)", "length(R.name) >= 2", False),
    ("p", "substr(lower(R.name), 1, 2)", "length(R.name) >= 2", False),
    ("p", "substr(R.company, 1, 2)", "length(R.company) >= 2", False),
    ("s", "substr(lower(R.name), p.n, 2)", _LAST.format(col="R.name"), True),
    ("s", "substr(R.company_norm, p.n, 2)", _LAST.format(col="R.company_norm"), True),
)


def grams_select(row: str, source: str = "") -> str:
    """The pieces of ``row`` (``NEW`` in a trigger; ``c`` with ``source`` ``customer c`` to backfill)."""
    parts = []
    for kind, piece, cond, positions in _PIECES:
        tables = [t for t in (source, "namegrampos p" if positions else "") if t]
        parts.append(f"SELECT R.id, R.team_id, '{kind}', {piece}"
                     + (f" FROM {', '.join(tables)}" if tables else "") + f" WHERE {cond}")
    return "\nUNION ".join(parts).replace("R.", f"{row}.")


INSERT = "INSERT INTO namegram (customer_id, team_id, kind, gram) "


def upgrade() -> None:
    op.create_table('namegram',
                    sa.Column('customer_id', sa.Integer(), nullable=False),
                    sa.Column('kind', sa.String(), nullable=False),
                    sa.Column('gram', sa.String(), nullable=False),
                    sa.Column('team_id', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('customer_id', 'kind', 'gram'))
    op.create_index('ix_namegram_team_kind_gram', 'namegram', ['team_id', 'kind', 'gram'], unique=False)
    op.create_table('namegrampos', sa.Column('n', sa.Integer(), nullable=False), sa.PrimaryKeyConstraint('n'))
    conn = op.get_bind()
    conn.execute(sa.text("INSERT INTO namegrampos (n) VALUES (:n)"), [{"n": n} for n in range(1, POSITIONS + 1)])
    conn.execute(sa.text(INSERT + grams_select("c", "customer c")))
    if conn.dialect.name == "postgresql":
        op.execute(f"""CREATE FUNCTION namegram_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN DELETE FROM namegram WHERE customer_id = OLD.id; END IF;
  IF TG_OP <> 'DELETE' THEN {INSERT}{grams_select('NEW')} ON CONFLICT DO NOTHING; END IF;
  RETURN NULL;
END $$""")
        op.execute("CREATE TRIGGER namegram_sync AFTER INSERT OR DELETE OR UPDATE OF name, company, company_norm, "
                   "team_id ON customer FOR EACH ROW EXECUTE FUNCTION namegram_sync()")
    else:
        op.execute(f"CREATE TRIGGER namegram_ai AFTER INSERT ON customer BEGIN "
                   f"INSERT OR IGNORE INTO namegram (customer_id, team_id, kind, gram) {grams_select('NEW')}; END")
        op.execute(f"CREATE TRIGGER namegram_au AFTER UPDATE OF name, company, company_norm, team_id ON customer BEGIN "
                   f"DELETE FROM namegram WHERE customer_id = OLD.id; "
                   f"INSERT OR IGNORE INTO namegram (customer_id, team_id, kind, gram) {grams_select('NEW')}; END")
        op.execute("CREATE TRIGGER namegram_ad AFTER DELETE ON customer BEGIN "
                   "DELETE FROM namegram WHERE customer_id = OLD.id; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS namegram_sync ON customer")
        op.execute("DROP FUNCTION IF EXISTS namegram_sync()")
    else:
        for name in ("namegram_ai", "namegram_au", "namegram_ad"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table('namegrampos')
    op.drop_index('ix_namegram_team_kind_gram', table_name='namegram')
    op.drop_table('namegram')
