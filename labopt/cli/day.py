"""`labopt day ...`: the daily loop on a province workspace (records in, the morning's plan and
dispatch sheets out)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from labopt.cli.common import (
    Force,
    Json,
    console,
    err_console,
    fitted_table,
    parse_date_option,
    print_json,
    reports_errors,
)
from labopt.cli.plan import print_summary
from labopt.daily.history import history_tables, planned_in
from labopt.daily.morning import check_window, plan_morning
from labopt.daily.records import RECORDS, SCOPE
from labopt.daily.state import adds_up, carry_to, last_record
from labopt.daily.workspace import Workspace, create
from labopt.errors import InputError
from labopt.lab.tables import read_table
from labopt.numbers import date_text, fill, number_text
from labopt.scenario import load_scenario
from labopt.schedule.labels import check_lang, column
from labopt.schedule.notes import NOTES, note_text

app = typer.Typer(
    help="The daily loop: record each day's actuals, plan each morning from them.",
    no_args_is_help=True,
)

TEXT = {
    "en": {
        "state": "State at the start of {date}: {waiting:,|sample|samples} waiting; {forecast:,} "
        "unit-stream-days of demand forecast (no record yet)",
        "wrote": "Wrote {n:|file|files} to {out}",
        "history": "{name}: plan against actuals",
        "init": "Workspace {workspace}: {province}, first date {first}, {units:,|unit|units}, "
        "{labs:,|lab|labs}; {rows:,} demand rows recorded as collected",
        "province": "Workspace {workspace}: province version {version} ({units:,|unit|units}, "
        "{labs:,|lab|labs}) applies from the next plan on; version {previous} kept in {kept}",
        "not_taken": "note: its {tables} rows were not taken: the loop's dated parts are "
        "records (`labopt day record`).",
        "left_out": "warning: {n:,} current records no longer fit the province and are left "
        "out of the plans (they stay in the history): {shown}{more}.",
        "more": " (and {n:,} more)",
        "recorded": "Recorded {kind}: {rows:,|row|rows} for {dates} in {workspace} (upload "
        "{upload}){replaced}",
        "replaced_lab": "; it replaces the {n:,|row|rows} recorded before for the same lab-days",
        "replaced_unit": "; it replaces the {n:,|row|rows} recorded before for the same unit-days",
        "withdrew": "Withdrew the {kind} record of {code} for {date} ({rows:,|row|rows}) in "
        "{workspace}",
        "warning": "warning: {done}, but {why}.",
        "started": "started",
        "replaced": "replaced",
        "done_recorded": "recorded",
        "withdrawn": "withdrawn",
    },
    "vi": {
        "state": "Tình hình đầu ngày {date}: {waiting:,} mẫu đang chờ; {forecast:,} "
        "địa phương-luồng-ngày có nhu cầu dự báo (chưa nhập số liệu)",
        "wrote": "Đã ghi {n} tệp vào {out}",
        "history": "{name}: kế hoạch so với thực tế",
        "init": "Không gian làm việc {workspace}: {province}, ngày đầu {first}, {units:,} địa "
        "phương, {labs:,} phòng xét nghiệm; {rows:,} dòng nhu cầu được ghi là mẫu đã lấy",
        "province": "Không gian làm việc {workspace}: phiên bản tỉnh {version} ({units:,} địa "
        "phương, {labs:,} phòng xét nghiệm) áp dụng từ kế hoạch tới; phiên bản {previous} lưu ở "
        "{kept}",
        "not_taken": "ghi chú: các dòng {tables} của nó không được lấy: phần có ngày tháng của "
        "vòng lặp hằng ngày là số liệu nhập (`labopt day record`).",
        "left_out": "cảnh báo: {n:,} bản ghi hiện có không còn khớp với tỉnh và bị bỏ ra khỏi "
        "kế hoạch (vẫn giữ trong lịch sử): {shown}{more}.",
        "more": " (và {n:,} bản ghi khác)",
        "recorded": "Đã ghi {rows:,} dòng {kind} cho {dates} vào {workspace} (lần tải lên "
        "{upload}){replaced}",
        "replaced_lab": "; thay cho {n:,} dòng đã ghi trước đó của cùng phòng-ngày",
        "replaced_unit": "; thay cho {n:,} dòng đã ghi trước đó của cùng địa phương-ngày",
        "withdrew": "Đã rút bản ghi {kind} của {code} ngày {date} ({rows:,} dòng) khỏi {workspace}",
        "warning": "cảnh báo: {done}, nhưng {why}.",
        "started": "đã khởi tạo",
        "replaced": "đã thay",
        "done_recorded": "đã ghi",
        "withdrawn": "đã rút",
    },
}

# the kinds of record as a Vietnamese reader says them (English: the kind, as typed)
KINDS = {
    "vi": {
        "collected": "mẫu đã lấy",
        "tested": "mẫu đã xét nghiệm",
        "reagent": "sinh phẩm đã dùng",
        "deliveries": "sinh phẩm được giao",
        "availability": "tình trạng hoạt động của phòng",
        "prevalence": "tỷ lệ dương tính",
        "shipments": "chuyển sinh phẩm",
        "store_arrivals": "sinh phẩm về kho",
        "kit_shipments": "chuyển bộ dụng cụ",
        "kit_arrivals": "bộ dụng cụ về",
        "kit_counts": "kiểm đếm bộ dụng cụ",
    }
}
Lang = Annotated[str, typer.Option(help="messages: en or vi")]


def _say(key: str, lang: str, /, **fields) -> str:
    return fill(TEXT[lang][key], lang, **fields)


def _kind(kind: str, lang: str) -> str:
    return KINDS.get(lang, {}).get(kind, kind)


WorkspacePath = Annotated[Path, typer.Argument(help="province workspace folder")]
DateOption = Annotated[
    str | None,
    typer.Option(
        "--date", help="the day, YYYY-MM-DD (with --lang vi also DD/MM/YYYY; default: today)"
    ),
]


def _date(text: str | None, parameter: str = "--date", lang: str = "en") -> dt.date:
    return dt.date.today() if text is None else parse_date_option(text, parameter, lang)


def _cell(v, lang: str, name: str) -> str:
    """A history cell in ``lang``: blank as a dash, whole numbers without decimals."""
    if name == "date":
        return date_text(str(v)[:10], lang)
    if isinstance(v, str):
        return v
    if v != v:  # NaN: no plan that morning
        return "—"
    return number_text(v, lang, ",.0f" if float(v).is_integer() else ",.1f")


@app.command("init")
@reports_errors
def init(
    workspace: WorkspacePath,
    scenario: Annotated[
        Path,
        typer.Option("--from", help="scenario folder or .xlsx: the province and its first days"),
    ],
    force: Force = False,
    lang: Lang = "en",
) -> None:
    """Start a workspace from a scenario: its units, labs, streams and policy, its start date as
    the first date, its labs' stock and backlog as the state then, its demand and deliveries as
    the first records."""
    check_lang(lang)
    scn = load_scenario(scenario)
    ws = create(workspace, scn, force=force, reads=(scenario,))
    fields = {"units": len(scn.districts), "labs": len(scn.labs), "rows": len(scn.demand)}
    said = _say("init", lang, workspace=str(workspace), province=scn.province.name,
                first=ws.first, **fields)  # fmt: skip
    console.print(said, highlight=False, markup=False)
    _warn_if_not_adding_up(ws, "started", lang)


@app.command("province")
@reports_errors
def province(
    workspace: WorkspacePath,
    scenario: Annotated[
        Path,
        typer.Option("--from", help="scenario folder or .xlsx: the province's new static part"),
    ],
    lang: Lang = "en",
) -> None:
    """Replace the province's static part (units, labs, streams, policy, travel) from the next
    plan on: a lab opened or closed, a unit's travel times changed. The one replaced is kept in
    province-versions/. Its start date, labs' reagent stock, kits and backlog must stay those of
    the workspace's first date; its demand and deliveries are not taken (record them)."""
    check_lang(lang)
    ws = Workspace(workspace)
    scn = load_scenario(scenario)
    left_out = ws.replace_province(scn, reads=(scenario,))
    said = _say(
        "province",
        lang,
        workspace=str(workspace),
        version=ws.version,
        units=len(scn.districts),
        labs=len(scn.labs),
        previous=ws.version - 1,
        kept=str(workspace / "province-versions" / str(ws.version - 1)),
    )
    console.print(said, highlight=False, markup=False)
    dated = [
        t
        for t in ("demand", "deliveries", "lab_days", "store_arrivals", "kit_arrivals")
        if len(getattr(scn, t))
    ]
    if dated:
        err_console.print(
            _say("not_taken", lang, tables=", ".join(dated)), highlight=False, markup=False
        )
    if len(left_out):
        shown = "; ".join(
            f"{r.kind} {r.date} {r.scope}: {r.why}" for r in left_out.head(10).itertuples()
        )
        more = _say("more", lang, n=len(left_out) - 10) if len(left_out) > 10 else ""
        err_console.print(
            _say("left_out", lang, n=len(left_out), shown=shown, more=more),
            highlight=False,
            markup=False,
        )
    _warn_if_not_adding_up(ws, "replaced", lang)


@app.command("record")
@reports_errors
def record(
    workspace: WorkspacePath,
    kind: Annotated[str, typer.Argument(help=f"what the file holds: {', '.join(RECORDS)}")],
    file: Annotated[Path, typer.Argument(help="CSV or XLSX file (first sheet)")],
    date: Annotated[
        str | None,
        typer.Option(
            "--date", help="the day of a file without a date column, YYYY-MM-DD (default: today)"
        ),
    ] = None,
    lang: Lang = "en",
) -> None:
    """Record one file of a kind: collected (date, district, stream, samples), tested (date,
    lab, district, stream, samples), reagent (date, lab, used, counted), deliveries (date, lab,
    reactions), availability (date, lab, available: share of its capacity, 0 when out),
    prevalence (date, district, stream, prevalence), shipments (date, source: a store or lab,
    target: a lab, reactions), store_arrivals (date, store, reactions), kit_shipments (date,
    source: a store, target: a unit in kits.csv, kits), kit_arrivals (date, holder: a store or
    such a unit, kits) or kit_counts (date, holder, kits counted at the end of the day).
    --date fills a file
    without a date column. A lab's (or a unit's) day uploaded again replaces it whole; every
    upload is kept."""
    check_lang(lang)
    ws = Workspace(workspace)
    if kind not in RECORDS:
        raise InputError(f"kind: one of {', '.join(RECORDS)}; got {kind!r}", "kind")
    table = RECORDS[kind]
    required = [c.name for c in table.columns if not c.optional and c.name != "date"]
    optional = [c.name for c in table.columns if c.optional] + ["date"]
    raw = read_table(file, required, optional)
    if date is not None and "date" in raw:
        raise InputError(
            f"--date: {file} has a date column; give the dates there or --date, not both",
            "--date",
        )
    when = _date(date, lang=lang) if "date" not in raw else None
    up = ws.record(kind, raw, str(file), when)
    dates = ", ".join(date_text(d, lang) for d in sorted(set(up.rows["date"])))
    scope = "lab" if "lab" in SCOPE[kind] else "unit"
    replaced = _say(f"replaced_{scope}", lang, n=up.replaced) if up.replaced else ""
    said = _say("recorded", lang, rows=len(up.rows), kind=_kind(kind, lang), dates=dates,
                workspace=str(workspace), upload=up.number, replaced=replaced)  # fmt: skip
    console.print(said, highlight=False, markup=False)
    _warn_if_not_adding_up(ws, "done_recorded", lang)


def _warn_if_not_adding_up(ws: Workspace, done: str, lang: str = "en") -> None:
    """What the records now say may not add up (tests beyond the samples there, reactions
    beyond the reagent): said now rather than at the next plan; a correction fixes it."""
    why = adds_up(ws.province, ws.records())
    if why:
        said = _say("warning", lang, done=TEXT[lang][done], why=note_text(why, lang))
        err_console.print(said, highlight=False, markup=False)


@app.command("withdraw")
@reports_errors
def withdraw(
    workspace: WorkspacePath,
    kind: Annotated[str, typer.Argument(help=f"the record's kind: {', '.join(RECORDS)}")],
    date: Annotated[
        str,
        typer.Argument(
            help="the day it was recorded for, YYYY-MM-DD (with --lang vi also DD/MM/YYYY)"
        ),
    ],
    code: Annotated[str, typer.Argument(help="the unit (collected, prevalence) or lab")],
    lang: Lang = "en",
) -> None:
    """Withdraw a unit's or lab's day recorded for the wrong date: the day then has no record
    of that kind; the upload stays in the history."""
    check_lang(lang)
    ws = Workspace(workspace)
    day = _date(date, "DATE", lang)
    rows = ws.withdraw(kind, day, code)
    said = _say("withdrew", lang, kind=_kind(kind, lang), code=code, date=day, rows=rows,
                workspace=str(workspace))  # fmt: skip
    console.print(said, highlight=False, markup=False)
    _warn_if_not_adding_up(ws, "withdrawn", lang)


@app.command("plan")
@reports_errors
def plan(
    workspace: WorkspacePath,
    date: DateOption = None,
    days: Annotated[int, typer.Option(help="days to plan from --date (look-ahead)")] = 7,
    lang: Annotated[str, typer.Option(help="report and sheet labels: en or vi")] = "en",
    json: Json = False,
) -> None:
    """The morning's plan for --date and the days after it, from the state the records carry to
    that date; written with its dispatch sheets to WORKSPACE/plans/DATE/."""
    ws = Workspace(workspace)
    m = plan_morning(ws, _date(date, lang=lang), days, lang)
    if json:
        state = {
            "date": m.date.isoformat(),
            "waiting_at_start": m.waiting_at_start,
            "forecast_unit_stream_days": m.forecast,
            "province_version": ws.version,
        }
        files = [str(f) for f in m.files]
        print_json({"state": state, "plan": m.report.to_dict(lang), "files": files})
        return
    t = TEXT[lang]
    console.print(
        fill(t["state"], lang, date=m.date, waiting=m.waiting_at_start, forecast=m.forecast),
        highlight=False,
    )
    print_summary(m.report, lang)
    out = workspace / "plans" / m.date.isoformat()
    console.print(fill(t["wrote"], lang, n=len(m.files), out=out), highlight=False)


@app.command("history")
@reports_errors
def history(
    workspace: WorkspacePath,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="last day shown, YYYY-MM-DD (with --lang vi also DD/MM/YYYY; default: yesterday)",
        ),
    ] = None,
    json: Json = False,
    lang: Annotated[str, typer.Option(help="table labels: en or vi")] = "en",
) -> None:
    """Each past day as it happened beside the plan made for it that morning."""
    check_lang(lang)
    ws = Workspace(workspace)
    records = ws.records()
    if until:
        last = _date(until, "--until", lang)
    else:  # up to yesterday, or the last day the labs reported if earlier; the first at least
        recorded = last_record(records, ("tested", "reagent")) or ws.first
        last = max(min(dt.date.today() - dt.timedelta(days=1), recorded), ws.first)
    try:
        check_window(ws.first, records, last, 1)
    except InputError as exc:
        raise InputError(f"--until:{str(exc).split(':', 1)[1]}", "--until") from None
    carried = carry_to(ws.province, records, last + dt.timedelta(days=1))
    tables = history_tables(carried, records, planned_in(ws.path / "plans"))
    if json:
        print_json(
            {k: df.to_dict("records") for k, df in tables.items()} | {"notes": carried.notes}
        )
        return
    name = ws.province.province.name
    cols = list(tables["days"].columns) if len(tables["days"]) else []
    headings = [column(c, lang) if lang == "vi" else c.replace("_", " ") for c in cols]
    rows = [
        [_cell(v, lang, c) for v, c in zip(row, cols, strict=True)]
        for row in tables["days"].itertuples(index=False)
    ]
    title = fill(TEXT[lang]["history"], lang, name=name)
    console.print(fitted_table(headings, rows, title=title, left=(0,), whole=(0,)), crop=False)
    for note in carried.notes:
        said = f"{NOTES[lang]['note']}: {note_text(note, lang)}"
        console.print(said, highlight=False, markup=False)
