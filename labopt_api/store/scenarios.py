"""Scenarios in the database: their JSON form and the columns a list shows.

A scenario's row is also the lock that orders its writers: :func:`lock` takes it (``SELECT
... FOR NO KEY UPDATE`` on PostgreSQL; SQLite has one writer at a time) until the commit, so a
replacement, a deletion and the units' inputs to one scenario are written one after the
other. ``version`` rises with every replacement (the scenario's ETag).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from labopt.scenario import Scenario, scenario_to_data
from labopt_api.db import rows_changed
from labopt_api.models import LabBatchRecord, ScenarioRecord, now
from labopt_api.security import Principal
from labopt_api.store import NotFound, audit
from labopt_api.stored_text import check_scenario_size, check_scenario_text, usable_id

SUMMARY_COLUMNS = (
    ScenarioRecord.id,
    ScenarioRecord.province_code,
    ScenarioRecord.name,
    ScenarioRecord.start_date,
    ScenarioRecord.days,
    ScenarioRecord.units,
    ScenarioRecord.labs,
    ScenarioRecord.version,
    ScenarioRecord.created_at,
    ScenarioRecord.updated_at,
)


class Stale(Exception):
    """The scenario was replaced after it was read; ``record`` is the current one."""

    def __init__(self, record: ScenarioRecord) -> None:
        super().__init__(record.id)
        self.record = record


# ---------------------------------------------------------------------- access
def can_read(who: Principal, province: str) -> bool:
    """Coordinators of the province read its scenarios, and so do its units and labs."""
    return who.coordinates(province) or bool(who.units(province))


def readable(who: Principal) -> ColumnElement[bool]:
    """The SQL condition for the scenarios ``who`` may read (the rule of can_read)."""
    if who.is_admin() or (who.role == "coordinator" and "*" in who.scopes):
        return true()
    if who.role == "coordinator":
        return ScenarioRecord.province_code.in_(who.scopes)
    provinces = sorted({s.split("/")[0] for s in who.scopes if "/" in s})
    return ScenarioRecord.province_code.in_(provinces) if provinces else false()


# ---------------------------------------------------------------------- read
def get(db: Session, scenario_id: str) -> ScenarioRecord:
    """The scenario; NotFound when there is none."""
    r = db.get(ScenarioRecord, scenario_id) if usable_id(scenario_id) else None
    if r is None:
        raise NotFound(f"no scenario {scenario_id!r}")
    return r


def lock(db: Session, scenario_id: str) -> ScenarioRecord:
    """The scenario's row as it is now, locked until the commit against other writers of the
    scenario (foreign keys pointing to it are still allowed); NotFound when there is none."""
    r = (
        db.execute(
            select(ScenarioRecord)
            .where(ScenarioRecord.id == scenario_id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if usable_id(scenario_id)
        else None
    )
    if r is None:
        raise NotFound(f"no scenario {scenario_id!r}")
    return r


def summaries(who: Principal) -> Select:
    """The summary columns of the scenarios ``who`` may read, oldest first."""
    return (
        select(*SUMMARY_COLUMNS)
        .where(readable(who))
        .order_by(ScenarioRecord.created_at, ScenarioRecord.id)
    )


def batch_count(db: Session, scenario_id: str) -> int:
    """Lab batches of the scenario (they hold it: no deletion, no move to another province)."""
    return db.execute(
        select(func.count())
        .select_from(LabBatchRecord)
        .where(LabBatchRecord.scenario_id == scenario_id)
    ).scalar_one()


# ---------------------------------------------------------------------- write
def stored_form(scn: Scenario, max_bytes: int) -> dict[str, Any]:
    """The JSON form of ``scn`` as stored, once its texts (ScenarioError) and size (413, over
    ``max_bytes`` UTF-8 bytes) are checked."""
    data = scenario_to_data(scn)
    check_scenario_text(scn, data)
    check_scenario_size(data, max_bytes)
    return data


def _columns(scn: Scenario) -> dict[str, Any]:
    """What a list shows of a scenario, kept in columns beside its JSON."""
    return {
        "province_code": scn.province.code,
        "name": scn.province.name,
        "start_date": scn.province.start_date,
        "days": scn.province.days,
        "units": len(scn.districts),
        "labs": len(scn.labs),
    }


def create(db: Session, scn: Scenario, data: dict[str, Any], who: Principal) -> ScenarioRecord:
    """Store a new scenario (``data``: its :func:`stored_form`), audited; commits."""
    record = ScenarioRecord(id=uuid.uuid4().hex, data=data, version=1, **_columns(scn))
    db.add(record)
    audit.record(
        db,
        who,
        "scenario.create",
        "scenario",
        record.id,
        province=scn.province.code,
        name=scn.province.name,
    )
    db.commit()
    return record


def replace(
    db: Session,
    record: ScenarioRecord,
    scn: Scenario,
    data: dict[str, Any],
    who: Principal,
    **detail: Any,
) -> ScenarioRecord:
    """Replace the scenario read as ``record`` (locked) by ``scn``, one version up, audited
    with ``detail``; commits. Stale when it was replaced since it was read."""
    version = record.version + 1
    moved = db.execute(
        update(ScenarioRecord)
        .where(ScenarioRecord.id == record.id, ScenarioRecord.version == record.version)
        .values(data=data, version=version, updated_at=now(), **_columns(scn))
    )
    if rows_changed(moved) != 1:  # SQLite: replaced since it was read
        db.rollback()
        raise Stale(get_fresh(db, record.id))
    audit.record(
        db,
        who,
        "scenario.replace",
        "scenario",
        record.id,
        version=version,
        province=scn.province.code,
        name=scn.province.name,
        **detail,
    )
    db.commit()
    return get_fresh(db, record.id)


def get_fresh(db: Session, scenario_id: str) -> ScenarioRecord:
    """The scenario as stored now (not as this session first read it)."""
    r = db.get(ScenarioRecord, scenario_id, populate_existing=True)
    if r is None:
        raise NotFound(f"no scenario {scenario_id!r}")
    return r


def delete(db: Session, record: ScenarioRecord, who: Principal, **detail: Any) -> bool:
    """Delete the scenario (locked), with its plans and inputs, audited with ``detail``;
    commits. False (nothing deleted) when a lab batch was created for it meanwhile."""
    audit.record(
        db,
        who,
        "scenario.delete",
        "scenario",
        record.id,
        province=record.province_code,
        name=record.name,
        version=record.version,
        **detail,
    )
    db.delete(record)
    try:
        db.commit()
    except IntegrityError:  # a batch created meanwhile
        db.rollback()
        return False
    return True
