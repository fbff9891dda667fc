"""Storage models. Request and response schemas live apart, in labopt_api/schemas.py."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Mapped, mapped_column

# lengths of the text columns that hold what users send: the request schemas and the checks of
# uploaded scenarios read them from here (text_length), never from copies
CODE = 100  # province, unit and lab codes
NAME = 200  # scenario names, key labels and scopes


# the kinds of record the audit log names (its resource column)
AuditResource = Literal["scenario", "key", "batch", "district_day", "plan", "daily_record"]


class Base(DeclarativeBase):
    pass


def text_length(column: InstrumentedAttribute) -> int:
    """The declared length (characters) of a String column, e.g. ``ScenarioRecord.name``."""
    return column.property.columns[0].type.length


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    label: Mapped[str] = mapped_column(String(NAME), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ScenarioRecord(Base):
    """A scenario: its JSON form (``data``, read only when needed) and the few facts a list
    shows, kept in columns so that listing never loads the bodies."""

    __tablename__ = "scenarios"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    province_code: Mapped[str] = mapped_column(String(CODE), index=True)
    name: Mapped[str] = mapped_column(String(NAME))
    data: Mapped[dict] = mapped_column(JSON)
    start_date: Mapped[dt.date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    labs: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


class DistrictDayRecord(Base):
    """Every submission is kept; the latest for a unit and date is the current one, and the
    database holds at most one current row per unit and date (a partial unique index)."""

    __tablename__ = "district_days"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[str] = mapped_column(
        ForeignKey("scenarios.id", ondelete="CASCADE"), index=True
    )
    district: Mapped[str] = mapped_column(String(CODE))
    date: Mapped[dt.date] = mapped_column(Date)
    payload: Mapped[dict] = mapped_column(JSON)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


Index(
    "ux_district_days_current",
    DistrictDayRecord.scenario_id,
    DistrictDayRecord.district,
    DistrictDayRecord.date,
    unique=True,
    sqlite_where=DistrictDayRecord.current.is_(true()),
    postgresql_where=DistrictDayRecord.current.is_(true()),
)


class DailyRecord(Base):
    """One group of a daily-loop upload: the rows of one kind (labopt.daily.records) for one
    date and one unit or lab (the group an upload replaces whole). Every upload is kept; the
    latest for a kind, date and unit or lab is the current one, at most one (a partial unique
    index)."""

    __tablename__ = "daily_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[str] = mapped_column(
        ForeignKey("scenarios.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    date: Mapped[dt.date] = mapped_column(Date)
    scope: Mapped[str] = mapped_column(String(CODE))  # the unit's or the lab's code
    rows: Mapped[list] = mapped_column(JSON)  # the group's rows, as {column: value}
    upload: Mapped[str] = mapped_column(String(32), index=True)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


Index(
    "ux_daily_records_current",
    DailyRecord.scenario_id,
    DailyRecord.kind,
    DailyRecord.date,
    DailyRecord.scope,
    unique=True,
    sqlite_where=DailyRecord.current.is_(true()),
    postgresql_where=DailyRecord.current.is_(true()),
)


class PlanJob(Base):
    __tablename__ = "plan_jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scenario_id: Mapped[str] = mapped_column(
        ForeignKey("scenarios.id", ondelete="CASCADE"), index=True
    )
    province_code: Mapped[str] = mapped_column(String(CODE), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    # planned from the daily records (the state carried to start_date), not the scenario alone
    daily: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(16), index=True)  # queued running done failed
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    summary: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PlanTable(Base):
    """A finished plan's tables, written in the same transaction that marks it done."""

    __tablename__ = "plan_tables"
    __table_args__ = (UniqueConstraint("plan_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plan_jobs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    rows: Mapped[list] = mapped_column(JSON)
    columns: Mapped[list] = mapped_column(JSON)


# ---------------------------------------------------------------------- lab batches
class LabBatchRecord(Base):
    """A batch of samples in one lab: its design and manifest. The manifest never changes; the
    runs and results below grow. ``version`` rises with every change, so that two uploads at
    once cannot both build on the same state (the loser retries)."""

    __tablename__ = "lab_batches"
    __table_args__ = (UniqueConstraint("scenario_id", "label"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scenario_id: Mapped[str] = mapped_column(
        ForeignKey("scenarios.id", ondelete="RESTRICT"), index=True
    )
    province_code: Mapped[str] = mapped_column(String(CODE))
    lab: Mapped[str] = mapped_column(String(CODE))
    label: Mapped[str] = mapped_column(String(40))
    date: Mapped[dt.date] = mapped_column(Date)
    algorithm: Mapped[str] = mapped_column(String(8))
    config: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(8))  # lab, field
    plate: Mapped[dict] = mapped_column(JSON)  # PlateSpec.to_dict()
    recollection_hours: Mapped[float] = mapped_column(Float)
    samples: Mapped[int] = mapped_column(Integer)
    manifest: Mapped[bytes] = mapped_column(LargeBinary)  # gzip of manifest.csv
    runs: Mapped[int] = mapped_column(Integer, default=1)
    summary: Mapped[dict] = mapped_column(JSON)  # LabBatch.summary()
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


class LabRunRecord(Base):
    """One run's plate layout (``plates.csv`` rows), written once when the run is scheduled."""

    __tablename__ = "lab_runs"
    __table_args__ = (UniqueConstraint("batch_id", "run"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[str] = mapped_column(
        ForeignKey("lab_batches.id", ondelete="CASCADE"), index=True
    )
    run: Mapped[int] = mapped_column(Integer)
    columns: Mapped[list] = mapped_column(JSON)
    rows: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


class LabResultRecord(Base):
    """One result as recorded: never updated nor deleted. A correction is a new row for the
    same run and pool (the latest ``seq`` counts), so every change is kept with who and when."""

    __tablename__ = "lab_results"
    __table_args__ = (UniqueConstraint("batch_id", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[str] = mapped_column(
        ForeignKey("lab_batches.id", ondelete="RESTRICT"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    run: Mapped[int] = mapped_column(Integer)
    pool_id: Mapped[str] = mapped_column(String(80))
    result: Mapped[str] = mapped_column(String(10))
    ct: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str] = mapped_column(String(200))
    upload: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)


# ---------------------------------------------------------------------- audit trail
class AuditEvent(Base):
    """Who did what to which resource, and when: written in the transaction of the change
    itself, never updated nor deleted (the service has no endpoint that would). The key is
    kept by id, prefix and role (not a foreign key), so the trail outlives anything."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    key_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    key_prefix: Mapped[str] = mapped_column(String(16), default="")
    key_role: Mapped[str] = mapped_column(String(16), default="")
    action: Mapped[str] = mapped_column(String(40), index=True)  # e.g. scenario.replace
    resource: Mapped[str] = mapped_column(String(20))  # scenario, key, batch, ...
    resource_id: Mapped[str] = mapped_column(String(NAME + CODE + 40), index=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
