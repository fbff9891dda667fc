"""The daily loop's records of a scenario (labopt.daily.records): every upload kept, the latest
for a kind, date and unit or lab current.

An upload is checked whole against the scenario (every problem at once, nothing stored when
one is found) and stored as one row per group it covers, the group an upload replaces whole:
a lab's day for what labs report, a unit's day for what units report. A group sent again with
the same rows changes nothing (uploads are idempotent); with other rows, it replaces the
current one, which stays in the history. The scenario's row is locked first, as for the units'
daily input (labopt_api.store.district_days), so two uploads never interleave.

The scenario itself is the loop's start: its start date the first date, its labs' stock and
backlog the state then, and its demand, deliveries and lab availability the first records
(labopt.daily.province); an uploaded group replaces the scenario's rows of that group.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labopt.daily.province import (
    first_records,
    merged_records,
    routes_changed,
    static_part,
    unfit,
)
from labopt.daily.records import RECORDS, SCOPE, UPLOAD, Records, check_records
from labopt.daily.state import adds_up
from labopt.scenario import Scenario, scenario_from_data
from labopt_api.models import DailyRecord, ScenarioRecord, now
from labopt_api.security import Principal
from labopt_api.store import NotFound, audit, scenarios
from labopt_api.store.district_days import with_retries
from labopt_api.stored_text import usable_id

# stored rows are keyed by the group: one upload's rows for one kind, date and unit or lab
Stored = dict[str, pd.DataFrame]


@dataclass(frozen=True)
class Recorded:
    """One upload: its id, the rows checked, the groups (unit- or lab-days) it covers, those
    it changed and the current rows it replaced."""

    upload: str
    kind: str
    rows: int
    groups: int
    changed: int
    replaced: int
    dates: list[str]


def scope_column(kind: str) -> str:
    """The column naming the unit or lab of a kind's group (``district`` or ``lab``)."""
    return SCOPE[kind][1]


def _json_rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON values (NaN: null), comparable with the rows stored."""
    return json.loads(df.to_json(orient="records", double_precision=15))


def checked(
    scn: Scenario,
    kind: str,
    raw: pd.DataFrame,
    source: str,
    may: Callable[[str], bool],
    date: dt.date | None = None,
) -> pd.DataFrame:
    """The typed rows of one upload of ``kind`` to ``scn``, checked as :func:`record` checks
    them before storing (RecordError, PermissionError), for a form that stores several kinds
    only when every one of them would be taken."""
    rows = check_records(kind, raw, source, scn, scn.province.start_date, date)
    refused = sorted(c for c in set(rows[scope_column(kind)]) if not may(c))
    if refused:
        raise PermissionError(f"record {kind} for {', '.join(refused)}")
    return rows


def record(
    db: Session,
    scenario_id: str,
    who: Principal,
    kind: str,
    raw: pd.DataFrame,
    source: str,
    may: Callable[[str], bool],
    date: dt.date | None = None,
) -> Recorded:
    """Check one upload of ``kind`` (text cells as read; ``date`` fills a table without a date
    column) and store it, all or nothing. ``may(code)`` says whether the caller may record for
    the unit or lab ``code``: PermissionError naming those it may not (nothing stored).
    RecordError (InputError) for bad rows; NotFound when the scenario is gone."""
    column = scope_column(kind)

    def attempt() -> Recorded:
        locked = scenarios.lock(db, scenario_id)
        scn = scenario_from_data(locked.data, source=f"scenario {scenario_id}")
        rows = checked(scn, kind, raw, source, may, date)
        # in key order, so that the same rows in another order are the same upload
        rows = rows.sort_values(list(RECORDS[kind].key), kind="stable").reset_index(drop=True)
        dates = sorted(set(rows["date"]))
        days = [dt.date.fromisoformat(d) for d in dates]
        olds = {
            (g.date.isoformat(), g.scope): g
            for g in db.execute(
                select(DailyRecord).where(
                    DailyRecord.scenario_id == scenario_id,
                    DailyRecord.kind == kind,
                    DailyRecord.date.in_(days),
                    DailyRecord.current.is_(True),
                )
            ).scalars()
        }
        # the scenario's own rows of a group are its first records (labopt.daily.province)
        own = first_records(scn)[kind].groupby(["date", column]).size()
        upload = uuid.uuid4().hex
        groups = changed = replaced = 0
        for (day, code), group in rows.groupby(["date", column], sort=True):
            groups += 1
            new = _json_rows(group.reset_index(drop=True))
            old = olds.get((str(day), str(code)))
            if old is not None and old.rows == new:
                continue
            if old is not None:
                old.current = False
                replaced += len(old.rows)
                db.flush()  # the old row leaves the unique index before the new one enters
            else:
                replaced += int(own.get((day, code), 0))
            db.add(
                DailyRecord(
                    scenario_id=scenario_id,
                    kind=kind,
                    date=dt.date.fromisoformat(str(day)),
                    scope=str(code),
                    rows=new,
                    upload=upload,
                    current=True,
                    submitted_by=who.key_id,
                    submitted_at=now(),
                )
            )
            changed += 1
        if changed:
            audit.record(
                db,
                who,
                "daily_record.upload",
                "daily_record",
                f"{scenario_id}/{kind}/{upload}",
                kind=kind,
                rows=len(rows),
                groups=groups,
                changed=changed,
                replaced=replaced,
                dates=dates,
                source=source[:200],
            )
        db.commit()
        return Recorded(
            upload if changed else "", kind, len(rows), groups, changed, replaced, dates
        )

    return with_retries(db, attempt, f"the {kind} records kept changing while these were written")


def stored(db: Session, scenario_id: str) -> Stored:
    """The current uploaded rows of every kind, each with the upload's row id as UPLOAD (later
    uploads have larger ids)."""
    found = db.execute(
        select(DailyRecord.kind, DailyRecord.id, DailyRecord.rows)
        .where(DailyRecord.scenario_id == scenario_id, DailyRecord.current.is_(True))
        .order_by(DailyRecord.id)
    ).all()
    out: Stored = {}
    for kind in RECORDS:
        rows = [{**r, UPLOAD: rid} for k, rid, group in found if k == kind for r in group]
        out[kind] = _typed(kind, pd.DataFrame.from_records(rows))
    return out


def withdraw(
    db: Session, scenario_id: str, who: Principal, kind: str, date: dt.date, code: str
) -> int:
    """Withdraw the current upload of a unit's or lab's day (a mistyped date, say): it stays in
    the history, and the day has no uploaded record any more (the scenario's own rows, if it
    has any, apply again). The rows withdrawn; NotFound when there is no current upload."""

    if not usable_id(code, DailyRecord.scope):  # a NUL or an overlong code names nothing
        raise NotFound(f"no {kind} record of {code!r} for {date} to withdraw")

    def attempt() -> int:
        scenarios.lock(db, scenario_id)
        group = db.execute(
            select(DailyRecord).where(
                DailyRecord.scenario_id == scenario_id,
                DailyRecord.kind == kind,
                DailyRecord.date == date,
                DailyRecord.scope == code,
                DailyRecord.current.is_(True),
            )
        ).scalar_one_or_none()
        if group is None:
            raise NotFound(f"no {kind} record of {code} for {date} to withdraw")
        group.current = False
        audit.record(
            db,
            who,
            "daily_record.withdraw",
            "daily_record",
            f"{scenario_id}/{kind}/{group.upload}",
            kind=kind,
            date=date.isoformat(),
            scope=code,
            rows=len(group.rows),
        )
        db.commit()
        return len(group.rows)

    return with_retries(db, attempt, f"the {kind} records kept changing while withdrawing")


def _typed(kind: str, df: pd.DataFrame) -> pd.DataFrame:
    """Stored rows with the columns and types of RECORDS[kind] (and UPLOAD)."""
    table = RECORDS[kind]
    if df.empty:
        return table.empty_frame().assign(**{UPLOAD: pd.Series(dtype="int64")})
    for c in table.columns:
        if c.name not in df.columns:
            df[c.name] = np.nan
        if c.kind in ("int", "float"):
            df[c.name] = pd.to_numeric(df[c.name])
        else:
            df[c.name] = df[c.name].astype(str)
    return df[[*table.column_names, UPLOAD]]


def records(db: Session, record: ScenarioRecord) -> tuple[Scenario, Records]:
    """The scenario and its current records."""
    scn = scenario_from_data(record.data, source=f"scenario {record.id}")
    return scn, merged_records(scn, stored(db, record.id))


def history(db: Session, scenario_id: str, kind: str) -> pd.DataFrame:
    """Every uploaded row of ``kind``, oldest upload first, with its upload id, when it was
    recorded and whether it is current."""
    found = db.execute(
        select(DailyRecord)
        .where(DailyRecord.scenario_id == scenario_id, DailyRecord.kind == kind)
        .order_by(DailyRecord.id)
    ).scalars()
    rows = [
        {
            **r,
            "upload": g.upload,
            "recorded_at": g.submitted_at.isoformat(timespec="seconds"),
            "current": g.current,
        }
        for g in found
        for r in g.rows
    ]
    columns = [*RECORDS[kind].column_names, "upload", "recorded_at", "current"]
    return pd.DataFrame.from_records(rows, columns=columns)


def not_applied(db: Session, scn: Scenario, scenario_id: str) -> list[str]:
    """The current uploaded rows that do not fit ``scn`` (a scenario about to replace the
    stored one), as "kind date unit-or-lab: why": they stay in the history and the loop
    leaves them out."""
    out = []
    for kind, rows in stored(db, scenario_id).items():
        why = unfit(scn, kind, rows)
        bad = rows[(why != "").to_numpy()]
        column = scope_column(kind)
        for (date, code), w in zip(
            zip(bad["date"], bad[column], strict=True), why[why != ""], strict=True
        ):
            out.append(f"{kind} {date} {code}: {w}")
    return out


def count(db: Session, scenario_id: str) -> int:
    """Uploaded groups kept for the scenario, current or not."""
    return db.execute(
        select(func.count()).select_from(DailyRecord).where(DailyRecord.scenario_id == scenario_id)
    ).scalar_one()


def archive(db: Session, scenario_id: str) -> list[dict[str, Any]]:
    """Every uploaded group of the scenario, oldest first, as kept in the audit trail when the
    scenario is deleted with force."""
    found = db.execute(
        select(DailyRecord).where(DailyRecord.scenario_id == scenario_id).order_by(DailyRecord.id)
    ).scalars()
    return [
        {
            "kind": g.kind,
            "date": g.date.isoformat(),
            "scope": g.scope,
            "rows": g.rows,
            "upload": g.upload,
            "current": g.current,
            "submitted_by": g.submitted_by,
            "submitted_at": g.submitted_at.isoformat(),
        }
        for g in found
    ]


def routes_changed_under(db: Session, old: Scenario, new: Scenario, scenario_id: str) -> list[str]:
    """The routes recorded shipments went along that ``new`` (to replace the stored ``old``)
    lacks or gives another lead time (labopt.daily.province.routes_changed)."""
    if not count(db, scenario_id):
        return []
    return routes_changed(old, new, merged_records(old, stored(db, scenario_id)))


def adds_up_under(db: Session, scn: Scenario, scenario_id: str) -> str | None:
    """Why the stored records would not add up under ``scn`` (a scenario about to replace the
    stored one: a later start date drops the samples earlier days left waiting); None when
    they would, or when the scenario has no uploaded records."""
    if not count(db, scenario_id):
        return None
    return adds_up(static_part(scn), merged_records(scn, stored(db, scenario_id)))
