"""The daily loop in the service: record the day's actuals, read the records, and each past
day's plan beside what happened. Today's plan is a plan request with ``daily: true``
(routers/plans.py), its dispatch sheets a page of that plan.

Who records what: a unit's key (role ``district``) the samples its units collected and their
prevalence estimates; a lab's key what its labs tested, their reagent, deliveries and
availability; a coordinator of the province everything.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
from fastapi import APIRouter, File, Form, Header, HTTPException, Query, UploadFile

from labopt.daily.history import history_tables
from labopt.daily.morning import check_window
from labopt.daily.province import static_part
from labopt.daily.records import RECORDS, RecordError
from labopt.daily.state import adds_up, carry_to, last_record
from labopt.errors import InputError
from labopt.lab.tables import read_table
from labopt_api.deps import Caller, DbSession
from labopt_api.errors import field_error, json_rows_detail, problems_detail
from labopt_api.models import ScenarioRecord
from labopt_api.responses import TABLE_CONTENT, table_format, table_response
from labopt_api.schemas import ERRORS, Day, HistoryOut, RecordedOut, RecordsIn, WithdrawnOut
from labopt_api.security import Principal, forbidden, require_coordinator
from labopt_api.store import daily_records, plans, scenarios
from labopt_api.uploads import read_table_upload, upload_name

router = APIRouter(prefix="/v1/scenarios", tags=["daily loop"], responses=ERRORS)
HISTORY = ("days", "labs", "units")
KINDS = tuple(RECORDS)


def _kind(kind: str) -> str:
    if kind not in RECORDS:
        raise HTTPException(404, detail=f"no record kind {kind!r}; kinds: {', '.join(KINDS)}")
    return kind


# whose key records a kind: a unit's (its samples, estimates, and the kits it receives or
# counts), or a lab's (its samples tested, reagent, and the shipments it sends); the rest (a
# store's arrivals and shipments) coordinators only. The key's own units or labs only.
_KEY_ROLE = {
    "collected": "district",
    "prevalence": "district",
    "kit_arrivals": "district",
    "kit_counts": "district",
    "tested": "lab",
    "reagent": "lab",
    "deliveries": "lab",
    "availability": "lab",
    "shipments": "lab",
}


def _role_scope(who: Principal, record: ScenarioRecord, kind: str) -> set[str] | None:
    """The units or labs ``who`` may record ``kind`` for (None: all of them); 403 when none."""
    province = record.province_code
    if who.coordinates(province):
        return None
    column = _KEY_ROLE.get(kind)
    role = {"district": "district", "lab": "lab"}.get(who.role)
    if role is None or not who.units(province):
        raise forbidden(f"record or read the daily records of {province}")
    if role != column:
        mine = [k for k in KINDS if _KEY_ROLE.get(k) == role]
        raise forbidden(f"record or read {kind} records (a {who.role} key: {', '.join(mine)})")
    return who.units(province)


def _store(
    db: DbSession,
    who: Principal,
    scenario_id: str,
    kind: str,
    raw: pd.DataFrame,
    source: str,
    date: dt.date | None,
) -> RecordedOut:
    record = scenarios.get(db, scenario_id)
    allowed = _role_scope(who, record, kind)
    try:
        up = daily_records.record(
            db,
            scenario_id,
            who,
            kind,
            raw,
            source,
            lambda code: allowed is None or code in allowed,
            date,
        )
    except PermissionError as exc:
        raise forbidden(str(exc)) from None
    return RecordedOut(**up.__dict__, warnings=adds_up_warnings(db, record))


def adds_up_warnings(db: DbSession, record: ScenarioRecord) -> list[str]:
    """A warning when the records no longer add up (labopt.daily.state.adds_up; the CLI
    warns alike): daily plans from later dates fail until a correction is recorded."""
    db.refresh(record)
    scn, recs = daily_records.records(db, record)
    why = adds_up(static_part(scn), recs)
    return [why] if why else []


def _cell(v: Any) -> str:
    """A JSON value as the text cell a file would hold (null: blank)."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


@router.post(
    "/{scenario_id}/records/{kind}",
    response_model=RecordedOut,
    summary="Record the day's actuals of one kind (JSON rows); all or nothing, idempotent",
    operation_id="records-submit",
)
def post_records(
    scenario_id: str, kind: str, body: RecordsIn, who: Caller, db: DbSession
) -> RecordedOut:
    """Rows of ``kind``: collected (date, district, stream, samples, optional prevalence),
    tested (date, lab, district, stream, samples), reagent (date, lab, used, optional
    counted), deliveries (date, lab, reactions), availability (date, lab, available),
    prevalence (date, district, stream, prevalence), shipments (date, source, target,
    reactions), store_arrivals (date, store, reactions), kit_shipments (date, source, target,
    kits), kit_arrivals (date, holder, kits) or kit_counts (date, holder, kits). A unit's or
    lab's day sent again replaces it whole; the same rows again change nothing. Every problem
    is named at once (422) and nothing is stored then."""
    _kind(kind)
    raw = pd.DataFrame.from_records([{k: _cell(v) for k, v in r.items()} for r in body.rows])
    try:
        return _store(db, who, scenario_id, kind, raw, body.source, body.date)
    except RecordError as exc:
        raise HTTPException(422, detail=json_rows_detail(exc, "rows", "record_error")) from None


@router.post(
    "/{scenario_id}/records/{kind}/upload",
    response_model=RecordedOut,
    summary="Record the day's actuals of one kind from a CSV or XLSX file",
    operation_id="records-upload",
)
def upload_records(
    scenario_id: str,
    kind: str,
    who: Caller,
    db: DbSession,
    file: UploadFile = File(..., description="the kind's columns; a first sheet for XLSX"),
    date: Day | None = Form(None, description="the date of a file without a date column"),
) -> RecordedOut:
    _kind(kind)
    _role_scope(who, scenarios.get(db, scenario_id), kind)  # before reading the file
    name = upload_name(file)
    table = RECORDS[kind]
    required = [c.name for c in table.columns if not c.optional and c.name != "date"]
    optional = [c.name for c in table.columns if c.optional] + ["date"]
    raw = read_table_upload(
        file, name, lambda n, data: read_table(n, required, optional, data=data)
    )
    try:
        return _store(db, who, scenario_id, kind, raw, name, date)
    except RecordError as exc:
        raise HTTPException(422, detail=problems_detail(exc.problems, "record_error")) from None


@router.delete(
    "/{scenario_id}/records/{kind}/{date}/{code}",
    response_model=WithdrawnOut,
    summary="Withdraw a unit's or lab's day of records (it stays in the history)",
    operation_id="records-withdraw",
)
def withdraw_records(
    scenario_id: str, kind: str, date: Day, code: str, who: Caller, db: DbSession
) -> WithdrawnOut:
    """For a record sent for the wrong day: the unit's or lab's day then has no uploaded
    record (the scenario's own rows for it, if any, apply again). The same keys as recording
    may withdraw."""
    _kind(kind)
    allowed = _role_scope(who, scenarios.get(db, scenario_id), kind)
    if allowed is not None and code not in allowed:
        raise forbidden(f"withdraw {kind} records of {code}")
    rows = daily_records.withdraw(db, scenario_id, who, kind, date, code)
    warnings = adds_up_warnings(db, scenarios.get(db, scenario_id))
    return WithdrawnOut(kind=kind, date=date, code=code, rows=rows, warnings=warnings)


@router.get(
    "/{scenario_id}/records/{kind}",
    summary="The current records of one kind (CSV, or XLSX), or every upload with history",
    responses=TABLE_CONTENT,
    operation_id="records-read",
)
def read_records(
    scenario_id: str,
    kind: str,
    who: Caller,
    db: DbSession,
    history: bool = Query(
        False, description="every upload, oldest first, with its id, time and current flag"
    ),
    accept: str | None = Header(None),
) -> Any:
    kind, fmt = table_format(kind, accept)
    _kind(kind)
    record = scenarios.get(db, scenario_id)
    allowed = _role_scope(who, record, kind)
    if history:
        df = daily_records.history(db, scenario_id, kind)
    else:
        _, recs = _records(db, record)
        df = getattr(recs, kind).sort_values(list(RECORDS[kind].key), kind="stable")
    if allowed is not None:
        df = df[df[daily_records.scope_column(kind)].isin(allowed)]
    return table_response(df.reset_index(drop=True), kind, fmt)


def _records(db: DbSession, record: ScenarioRecord):
    return daily_records.records(db, record)


UNTIL = Query(None, description="last day shown (default: the last day the labs reported)")


def _history(
    db: DbSession, record: ScenarioRecord, until: dt.date | None
) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The history tables up to ``until`` and the notes on the days carried."""
    scn, recs = _records(db, record)
    first = scn.province.start_date
    last = until or last_record(recs, ("tested", "reagent")) or first
    if until is None:
        last = max(last, first)
    try:
        check_window(first, recs, last, 1)
    except InputError as exc:
        raise field_error("until", f"until:{str(exc).split(':', 1)[1]}", where="query") from None
    try:
        carried = carry_to(static_part(scn), recs, last + dt.timedelta(days=1))
    except InputError as exc:
        raise HTTPException(
            409, detail=f"the records do not add up: {exc}; record a correction"
        ) from None
    planned = plans.planned_days(db, record.id, [d for d, _ in carried.accounts])
    labs, units = {lab.id for lab in scn.labs}, {d.code for d in scn.districts}

    def planned_on(date: dt.date) -> pd.DataFrame | None:
        """The plan made for ``date``, its rows of labs and units the scenario still has."""
        rows = planned.get(date)
        if rows is None:
            return None
        df = pd.DataFrame(rows[1], columns=rows[0])
        return df[df["lab"].isin(labs) & df["district"].isin(units)]

    return history_tables(carried, recs, planned_on), carried.notes


@router.get(
    "/{scenario_id}/history",
    response_model=HistoryOut,
    summary="Each past day's plan beside what happened: every table and the notes (JSON)",
    operation_id="records-history-json",
)
def history_json(
    scenario_id: str, who: Caller, db: DbSession, until: Day | None = UNTIL
) -> HistoryOut:
    """The tables of ``labopt day history --json`` (days, labs, units) and its notes (days
    without records, and what that means), for a coordinator of the province."""
    record = scenarios.get(db, scenario_id)
    require_coordinator(who, record.province_code, f"read the history of {record.province_code}")
    return history_out(db, record, until)[0]


def history_out(
    db: DbSession, record: ScenarioRecord, until: dt.date | None = None
) -> tuple[HistoryOut, list[str]]:
    """The history as the API answers it, and its notes as said (each a
    :class:`labopt.notes.Note`, which the web pages say in their language)."""
    tables, notes = _history(db, record, until)
    rows = {
        k: json.loads(df.to_json(orient="records", double_precision=15)) for k, df in tables.items()
    }
    return HistoryOut(**rows, notes=notes), notes


@router.get(
    "/{scenario_id}/history/{table}",
    summary="Each past day's plan beside what happened: days, labs or units (CSV or XLSX)",
    responses=TABLE_CONTENT,
    operation_id="records-history",
)
def history(
    scenario_id: str,
    table: str,
    who: Caller,
    db: DbSession,
    until: Day | None = UNTIL,
    accept: str | None = Header(None),
) -> Any:
    """``days``: per date, samples collected, tested (and planned), untested, waiting, the
    turnaround (tested_same_day, mean_wait_days), reactions run (and planned), and where the
    plan was not followed (behind_plan, off_plan); ``labs``: per date and lab; ``units``: per
    date, unit and stream. The plan of a date is the last daily plan requested for it. A
    coordinator reads every table, a lab key its labs' rows of ``labs``, a unit's key its
    units' rows of ``units``."""
    table, fmt = table_format(table, accept)
    if table not in HISTORY:
        raise HTTPException(404, detail=f"no table {table!r}; tables: {', '.join(HISTORY)}")
    record = scenarios.get(db, scenario_id)
    province = record.province_code
    mine: set[str] | None = None
    if not who.coordinates(province):
        role = {"labs": "lab", "units": "district"}.get(table)
        if who.role != role or not who.units(province):
            raise forbidden(f"read the {table} history of {province}")
        mine = who.units(province)
    df = _history(db, record, until)[0][table]
    if mine is not None and len(df):
        df = df[df["lab" if table == "labs" else "district"].isin(mine)]
    return table_response(df.reset_index(drop=True), f"history_{table}", fmt)
