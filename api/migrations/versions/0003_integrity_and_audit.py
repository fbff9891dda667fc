"""one current district-day per unit and date, scenario list columns, audit trail

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 07:00:00
"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def _keep_latest_current() -> None:
    """Before the unique index: of several current rows of one unit and date (left by
    concurrent submissions), only the latest stays current."""
    dd = sa.table('district_days', sa.column('id', sa.Integer),
                  sa.column('scenario_id', sa.String), sa.column('district', sa.String),
                  sa.column('date', sa.Date), sa.column('current', sa.Boolean))
    latest = (sa.select(sa.func.max(dd.c.id)).where(dd.c.current.is_(sa.true()))
              .group_by(dd.c.scenario_id, dd.c.district, dd.c.date))
    op.execute(dd.update().where(dd.c.current.is_(sa.true()), dd.c.id.not_in(latest))
               .values(current=False))


def _fill_scenario_columns() -> None:
    conn = op.get_bind()
    sc = sa.table('scenarios', sa.column('id', sa.String), sa.column('data', sa.JSON),
                  sa.column('start_date', sa.Date), sa.column('days', sa.Integer),
                  sa.column('units', sa.Integer), sa.column('labs', sa.Integer))
    for sid, data in conn.execute(sa.select(sc.c.id, sc.c.data)).all():
        prov = data["settings"]["province"]
        conn.execute(sc.update().where(sc.c.id == sid).values(
            start_date=dt.date.fromisoformat(str(prov["start_date"])),
            days=int(prov.get("days", 7)), units=len(data["districts"]),
            labs=len(data["labs"])))


def upgrade() -> None:
    with op.batch_alter_table('scenarios', schema=None) as batch_op:
        for name, kind in (('start_date', sa.Date()), ('days', sa.Integer()),
                           ('units', sa.Integer()), ('labs', sa.Integer())):
            batch_op.add_column(sa.Column(name, kind, nullable=True))
    _fill_scenario_columns()
    with op.batch_alter_table('scenarios', schema=None) as batch_op:
        for name, kind in (('start_date', sa.Date()), ('days', sa.Integer()),
                           ('units', sa.Integer()), ('labs', sa.Integer())):
            batch_op.alter_column(name, existing_type=kind, nullable=False)

    _keep_latest_current()
    with op.batch_alter_table('district_days', schema=None) as batch_op:
        batch_op.create_index('ux_district_days_current', ['scenario_id', 'district', 'date'],
                              unique=True, sqlite_where=sa.text('current IS 1'),
                              postgresql_where=sa.text('current IS true'))

    with op.batch_alter_table('plan_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_jobs_province_code'), ['province_code'],
                              unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('key_id', sa.Integer(), nullable=True),
    sa.Column('key_prefix', sa.String(length=16), nullable=False),
    sa.Column('key_role', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('resource', sa.String(length=20), nullable=False),
    sa.Column('resource_id', sa.String(length=340), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_key_id'), ['key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_resource_id'), ['resource_id'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('audit_events')
    with op.batch_alter_table('plan_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_jobs_province_code'))
    with op.batch_alter_table('district_days', schema=None) as batch_op:
        batch_op.drop_index('ux_district_days_current')
    with op.batch_alter_table('scenarios', schema=None) as batch_op:
        for name in ('labs', 'units', 'days', 'start_date'):
            batch_op.drop_column(name)
