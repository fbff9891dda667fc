"""daily-loop records, daily plans

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 23:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("upload", sa.String(length=32), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("submitted_by", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["submitted_by"], ["api_keys.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("daily_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_daily_records_scenario_id"), ["scenario_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_daily_records_upload"), ["upload"], unique=False)
        batch_op.create_index(
            "ux_daily_records_current",
            ["scenario_id", "kind", "date", "scope"],
            unique=True,
            sqlite_where=sa.text("current IS 1"),
            postgresql_where=sa.text("current IS true"),
        )
    with op.batch_alter_table("plan_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("daily", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("plan_jobs", schema=None) as batch_op:
        batch_op.drop_column("daily")
    with op.batch_alter_table("daily_records", schema=None) as batch_op:
        batch_op.drop_index("ux_daily_records_current")
        batch_op.drop_index(batch_op.f("ix_daily_records_upload"))
        batch_op.drop_index(batch_op.f("ix_daily_records_scenario_id"))
    op.drop_table("daily_records")
