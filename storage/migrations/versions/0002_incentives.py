"""Incentives: honors, redemptions, anti-cheating flags, leaderboard and data-quality snapshots,
plus time-window indexes on core tables for the digest and leaderboard aggregates.

Revision ID: 0002_incentives
Revises: 0001
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel  # autogenerate emits sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision: str = "0002_incentives"
down_revision: Union[str, None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Str = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "anticheatflag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("kind", Str(), nullable=False),
        sa.Column("detail", Str(), nullable=False),
        sa.Column("fingerprint", Str(), nullable=False),
        sa.Column("entry_ids", sa.JSON(), nullable=False),
        sa.Column("status", Str(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["decided_by"], ["user.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("anticheatflag", schema=None) as batch_op:
        batch_op.create_index("ix_acflag_team_at", ["team_id", "at"], unique=False)
        batch_op.create_index("ix_acflag_user_kind", ["user_id", "kind"], unique=False)

    op.create_table(
        "boardsnapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("board", Str(), nullable=False),
        sa.Column("slot", Str(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("group_key", Str(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("boardsnapshot", schema=None) as batch_op:
        batch_op.create_index("ix_board_team_kind_at", ["team_id", "board", "at"], unique=False)

    op.create_table(
        "honor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("kind", Str(), nullable=False),
        sa.Column("period", Str(), nullable=False),
        sa.Column("label", Str(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "kind", "period", "user_id"),
    )
    with op.batch_alter_table("honor", schema=None) as batch_op:
        batch_op.create_index("ix_honor_user", ["user_id"], unique=False)

    op.create_table(
        "qualityday",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("day", Str(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "day"),
    )
    with op.batch_alter_table("qualityday", schema=None) as batch_op:
        batch_op.create_index("ix_qualityday_team_day", ["team_id", "day"], unique=False)

    op.create_table(
        "redemption",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("reward_id", Str(), nullable=False),
        sa.Column("reward_name", Str(), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("status", Str(), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["decided_by"], ["user.id"]),
        sa.ForeignKeyConstraint(["entry_id"], ["pointsentry.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("redemption", schema=None) as batch_op:
        batch_op.create_index("ix_redemption_team_status", ["team_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_redemption_user_id"), ["user_id"], unique=False)

    # Per-team time-window aggregates (KPI window, leaderboard period) read only the team's own rows:
    # by team and status for the ledger (covering), by rep for checklist items and stage moves (activity has (user_id, at)); all covering.
    with op.batch_alter_table("checklistdone", schema=None) as batch_op:
        batch_op.create_index("ix_checklistdone_user_at", ["user_id", "at", "customer_id", "within_expected", "item_id"],
                              unique=False)
    with op.batch_alter_table("pointsentry", schema=None) as batch_op:
        batch_op.create_index("ix_points_team_status_at", ["team_id", "status", "at", "user_id", "points"], unique=False)
    with op.batch_alter_table("stagechange", schema=None) as batch_op:
        batch_op.create_index("ix_stagechange_user_at",
                              ["by_user_id", "at", "customer_id", "from_stage", "to_stage", "complete_data"], unique=False)
    # Each team's book (open customers per rep) and funnel (customers per stage), read from the index alone.
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.create_index("ix_customer_team_book",
                              ["team_id", "status", "owner_id", "invalid", "completeness", "next_followup_at"], unique=False)
        batch_op.create_index("ix_customer_team_funnel", ["team_id", "stage", "status", "invalid", "stage_entered_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_team_funnel")
        batch_op.drop_index("ix_customer_team_book")
    with op.batch_alter_table("stagechange", schema=None) as batch_op:
        batch_op.drop_index("ix_stagechange_user_at")
    with op.batch_alter_table("pointsentry", schema=None) as batch_op:
        batch_op.drop_index("ix_points_team_status_at")
    with op.batch_alter_table("checklistdone", schema=None) as batch_op:
        batch_op.drop_index("ix_checklistdone_user_at")
    with op.batch_alter_table("redemption", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_redemption_user_id"))
        batch_op.drop_index("ix_redemption_team_status")
    op.drop_table("redemption")
    with op.batch_alter_table("qualityday", schema=None) as batch_op:
        batch_op.drop_index("ix_qualityday_team_day")
    op.drop_table("qualityday")
    with op.batch_alter_table("honor", schema=None) as batch_op:
        batch_op.drop_index("ix_honor_user")
    op.drop_table("honor")
    with op.batch_alter_table("boardsnapshot", schema=None) as batch_op:
        batch_op.drop_index("ix_board_team_kind_at")
    op.drop_table("boardsnapshot")
    with op.batch_alter_table("anticheatflag", schema=None) as batch_op:
        batch_op.drop_index("ix_acflag_user_kind")
        batch_op.drop_index("ix_acflag_team_at")
    op.drop_table("anticheatflag")
