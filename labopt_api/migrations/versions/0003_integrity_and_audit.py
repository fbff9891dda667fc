"""one current district-day per unit and date, scenario list columns, audit trail

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 07:00:00
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _keep_latest_current() -> None:
    """Before the unique index: of several current rows of one unit and date (left by
    concurrent submissions), only the latest stays current."""
    dd = sa.table(
        "district_days",
        sa.column("id", sa.Integer),
        sa.column("scenario_id", sa.String),
        sa.column("district", sa.String),
        sa.column("date", sa.Date),
        sa.column("current", sa.Boolean),
    )
    latest = (
        sa.select(sa.func.max(dd.c.id))
        .where(dd.c.current.is_(sa.true()))
        .group_by(dd.c.scenario_id, dd.c.district, dd.c.date)
    )
    op.execute(
        dd.update().where(dd.c.current.is_(sa.true()), dd.c.id.not_in(latest)).values(current=False)
    )


def _fill_scenario_columns() -> None:
    conn = op.get_bind()
    sc = sa.table(
        "scenarios",
        sa.column("id", sa.String),
        sa.column("data", sa.JSON),
        sa.column("start_date", sa.Date),
        sa.column("days", sa.Integer),
        sa.column("units", sa.Integer),
        sa.column("labs", sa.Integer),
    )
    for sid, data in conn.execute(sa.select(sc.c.id, sc.c.data)).all():
        prov = data["settings"]["province"]
        conn.execute(
            sc.update()
            .where(sc.c.id == sid)
            .values(
                start_date=dt.date.fromisoformat(str(prov["start_date"])),
                days=int(prov.get("days", 7)),
                units=len(data["districts"]),
                labs=len(data["labs"]),
            )
        )


LIST_COLUMNS = (
    ("start_date", sa.Date(), "'2000-01-01'"),
    ("days", sa.Integer(), "0"),
    ("units", sa.Integer(), "0"),
    ("labs", sa.Integer(), "0"),
)


def upgrade() -> None:
    # plain ADD COLUMN (a placeholder default, then the real values): SQLite's batch mode
    # would copy and drop the scenarios table, and dropping it cascades to every plan and
    # district-day row that points to it
    for name, kind, placeholder in LIST_COLUMNS:
        op.add_column(
            "scenarios", sa.Column(name, kind, nullable=False, server_default=sa.text(placeholder))
        )
    _fill_scenario_columns()
    if op.get_bind().dialect.name != "sqlite":  # SQLite cannot drop a default in place
        for name, kind, _ in LIST_COLUMNS:
            op.alter_column("scenarios", name, existing_type=kind, server_default=None)

    _keep_latest_current()
    op.create_index(
        "ux_district_days_current",
        "district_days",
        ["scenario_id", "district", "date"],
        unique=True,
        sqlite_where=sa.text("current IS 1"),
        postgresql_where=sa.text("current IS true"),
    )
    op.create_index("ix_plan_jobs_province_code", "plan_jobs", ["province_code"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("key_role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("resource", sa.String(length=20), nullable=False),
        sa.Column("resource_id", sa.String(length=340), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("action", "at", "key_id", "resource_id"):
        op.create_index(f"ix_audit_events_{column}", "audit_events", [column], unique=False)


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_index("ix_plan_jobs_province_code", "plan_jobs")
    op.drop_index("ux_district_days_current", "district_days")
    for name, _, _ in LIST_COLUMNS:  # DROP COLUMN in place (SQLite >= 3.35)
        op.drop_column("scenarios", name)
