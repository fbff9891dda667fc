"""Dispatch sheets for a morning's plan: what each lab receives today and how to run it, where
each unit sends its samples today, and the reagent each store or lab sends today. A workbook
(one sheet for the labs, one for the units, one for the shipments) and a printable HTML page
(one printed page per lab, then per unit, then the shipments), in English or Vietnamese.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import math
from pathlib import Path

import pandas as pd

from labopt.cells import write_xlsx
from labopt.numbers import date_text, fill, number_text
from labopt.schedule.labels import check_lang, column, word
from labopt.schedule.output import DATE_FORMATS
from labopt.schedule.report import PlanReport

LAB_COLUMNS = [
    "lab",
    "lab_name",
    "district",
    "district_name",
    "stream",
    "stream_vi",
    "samples",
    "algorithm",
    "config",
    "pool_size",
    "pools",
    "reactions",
    "travel_hours",
]
UNIT_COLUMNS = [
    "district",
    "district_name",
    "stream",
    "stream_vi",
    "lab",
    "lab_name",
    "samples",
    "algorithm",
    "pool_size",
    "pools",
    "travel_hours",
]
SHIPMENT_COLUMNS = [
    "source",
    "source_name",
    "target",
    "target_name",
    "reagent_sent",
    "kits_sent",
    "arrival_date",
]
TOTAL_COLUMNS = [
    "lab",
    "lab_name",
    "samples",
    "reactions",
    "reserve",
    "capacity",
    "plates",
    "wells",
    "switched_on",
]

TEXT = {
    "en": {
        "title": "Dispatch for {date}",
        "lab": "Lab {id}: {name}",
        "unit": "Unit {id}: {name}",
        "totals": "Samples {samples:,}; expected reactions {reactions:,.0f} of {capacity:,.0f} "
        "(reserve for retests {reserve:,.0f}); about {plates:|plate|plates} ({wells} sample "
        "wells a plate)",
        "none": "Nothing to send today.",
        "standby": "A standby lab: switch it on today.",
        "shipments": "Reagent and collection kits to send today",
    },
    "vi": {
        "title": "Điều phối ngày {date}",
        "lab": "Phòng xét nghiệm {id}: {name}",
        "unit": "Địa phương {id}: {name}",
        "totals": "Số mẫu {samples:,}; số phản ứng dự kiến {reactions:,.0f} trên {capacity:,.0f} "
        "(dự phòng xét nghiệm lại {reserve:,.0f}); khoảng {plates} đĩa ({wells} giếng mẫu "
        "mỗi đĩa)",
        "none": "Hôm nay không gửi mẫu.",
        "standby": "Phòng xét nghiệm dự phòng: cần huy động hôm nay.",
        "shipments": "Sinh phẩm và bộ dụng cụ lấy mẫu cần chuyển hôm nay",
    },
}


def dispatch_tables(rep: PlanReport) -> dict[str, pd.DataFrame]:
    """Day 1 of the plan, columns by their English keys: ``labs`` (one row per lab, unit and
    stream it receives), ``lab_totals`` (per lab: samples, reactions, reserve, usable capacity,
    plates, sample wells per plate), ``units`` (one row per unit, stream and lab it sends
    to) and ``shipments`` (reagent a store or lab sends a lab today, reactions, and collection
    kits a store sends a unit, kits; the date they can be used there). Stream names as the
    scenario gives them, in English (``stream``) and Vietnamese (``stream_vi``: the sheets in
    Vietnamese show it under ``stream``)."""
    scn = rep.plan.scenario
    a = rep.allocations[(rep.allocations["day"] == 1) & (rep.allocations["samples"] > 0)].copy()
    a["stream_vi"] = a["stream"].map({s.id: s.named("vi") for s in scn.streams})
    a["stream"] = a["stream"].map({s.id: s.name for s in scn.streams})
    a["reactions"] = a["reactions"].round(1)
    labs = a.sort_values(["lab", "district", "stream"])[LAB_COLUMNS]
    units = a.sort_values(["district", "stream", "lab"])[UNIT_COLUMNS]
    day1 = rep.labs[rep.labs["day"] == 1].set_index("lab")
    per = a.groupby("lab")[["samples", "reactions"]].sum()
    rows = []
    for lab in scn.labs:
        if lab.id not in per.index:
            continue
        wells = lab.wells_per_run - lab.control_wells_per_run
        reactions = float(per.loc[lab.id, "reactions"])
        rows.append(
            {
                "lab": lab.id,
                "lab_name": lab.name,
                "samples": int(per.loc[lab.id, "samples"]),
                "reactions": round(reactions, 1),
                "reserve": float(day1.loc[lab.id, "reserve"]),
                "capacity": float(day1.loc[lab.id, "capacity"]),
                "plates": math.ceil(reactions / wells - 1e-9),
                "wells": wells,
                "switched_on": bool(day1.loc[lab.id, "switched_on"]),
            }
        )
    names = dict(zip(scn.stores["id"], scn.stores["name"], strict=True))
    names.update({lab.id: lab.name for lab in scn.labs})
    names.update({d.code: d.name for d in scn.districts})
    parts = []
    for sh, amount, other in (
        (rep.shipments, "reactions", "kits"),
        (rep.kit_shipments, "kits", "reactions"),
    ):
        if sh.empty:
            continue
        sh = sh[(sh["day"] == 1) & (sh[amount] > 0)]
        sent = {amount: sh[amount].astype("int64"), other: 0}
        parts.append(
            pd.DataFrame(
                {
                    "source": sh["source"],
                    "source_name": sh["source"].map(names),
                    "target": sh["target"],
                    "target_name": sh["target"].map(names),
                    "reagent_sent": sent["reactions"],
                    "kits_sent": sent["kits"],
                    "arrival_date": [scn.date_of(int(d)).isoformat() for d in sh["arrival_day"]],
                },
                columns=SHIPMENT_COLUMNS,
            )
        )
    shipments = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=SHIPMENT_COLUMNS)
    )
    return {
        "labs": labs.reset_index(drop=True),
        "lab_totals": pd.DataFrame(rows, columns=TOTAL_COLUMNS),
        "units": units.reset_index(drop=True),
        "shipments": shipments.reset_index(drop=True),
    }


# the dispatch workbook's sheets as a Vietnamese reader sees them (English: the table names)
SHEET_NAMES = {
    "vi": {
        "labs": "Phòng xét nghiệm",
        "lab_totals": "Tổng theo phòng",
        "units": "Địa phương",
        "shipments": "Chuyển sinh phẩm",
    }
}


def write_dispatch_xlsx(
    tables: dict[str, pd.DataFrame], path: Path | io.BytesIO, lang: str = "en"
) -> None:
    """The sheets of ``tables`` (``labs``, ``lab_totals``, ``units``, ``shipments``, or some of
    them) as a person reads them in ``lang``: headers, stream names, yes/no, dates as dates."""
    check_lang(lang)
    sheets = {}
    for name, df in tables.items():
        df = shown(df, lang)
        if "arrival_date" in df:
            df["arrival_date"] = [dt.date.fromisoformat(str(v)) for v in df["arrival_date"]]
        sheets[SHEET_NAMES.get(lang, {}).get(name, name)] = df.rename(
            columns=lambda c: column(c, lang)
        )
    write_xlsx(path, sheets, date_format=DATE_FORMATS[lang])


def shown(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A dispatch table as ``lang`` shows it: the streams' names in it, yes/no for switched on
    (the Vietnamese names column dropped)."""
    df = df.copy()
    if "stream_vi" in df:
        if lang == "vi":
            df["stream"] = df["stream_vi"]
        df = df.drop(columns="stream_vi")
    if "switched_on" in df:
        df["switched_on"] = [word("yes" if v else "no", lang) for v in df["switched_on"]]
    return df


def dispatch_html(
    tables: dict[str, pd.DataFrame], province: str, date: dt.date, lang: str = "en"
) -> str:
    """The printable page of ``tables`` (as dispatch_tables makes them, or some of them: a
    lab's page has no ``units``, a unit's only ``units``) for ``province`` on ``date``: each
    lab on its own printed page (its totals, then what it receives from each unit), then each
    unit on its own (where to send each stream)."""
    t = TEXT[check_lang(lang)]
    esc = html.escape
    day = date
    out = [
        "<!DOCTYPE html><html lang='" + lang + "'><head><meta charset='utf-8'>",
        f"<title>{esc(fill(t['title'], lang, date=day))}</title><style>",
        "body{font-family:sans-serif;font-size:11px} h1{font-size:16px} h2{font-size:14px}",
        "section{page-break-after:always;margin-bottom:24px}",
        "table{border-collapse:collapse} td,th{border:1px solid #999;padding:3px 6px}",
        "td.n{text-align:right} @media print{section{margin:0}}",
        "</style></head><body>",
        f"<h1>{esc(fill(t['title'], lang, date=day))}: {esc(province)}</h1>",
    ]
    lab_totals = tables.get("lab_totals", pd.DataFrame(columns=TOTAL_COLUMNS))
    by_lab = dict(iter(tables.get("labs", pd.DataFrame(columns=LAB_COLUMNS)).groupby("lab")))
    for row in lab_totals.itertuples(index=False):
        out.append(f"<section><h2>{esc(fill(t['lab'], lang, id=row.lab, name=row.lab_name))}</h2>")
        totals = fill(
            t["totals"],
            lang,
            samples=int(row.samples),
            reactions=float(row.reactions),
            capacity=float(row.capacity),
            reserve=float(row.reserve),
            plates=int(row.plates),
            wells=int(row.wells),
        )
        out.append(f"<p>{esc(totals)}</p>")
        if row.switched_on:
            out.append(f"<p><strong>{esc(t['standby'])}</strong></p>")
        out.append(_table(by_lab[row.lab].drop(columns=["lab", "lab_name"]), lang))
        out.append("</section>")
    units = tables.get("units", pd.DataFrame(columns=UNIT_COLUMNS))
    for code, rows in units.groupby("district", sort=False):
        name = rows["district_name"].iloc[0]
        out.append(f"<section><h2>{esc(fill(t['unit'], lang, id=code, name=name))}</h2>")
        out.append(_table(rows.drop(columns=["district", "district_name"]), lang))
        out.append("</section>")
    shipments = tables.get("shipments", pd.DataFrame(columns=SHIPMENT_COLUMNS))
    if len(shipments):
        out.append(f"<section><h2>{esc(t['shipments'])}</h2>")
        out.append(_table(shipments, lang))
        out.append("</section>")
    if lab_totals.empty and units.empty and shipments.empty:
        out.append(f"<p>{esc(t['none'])}</p>")
    out.append("</body></html>")
    return "\n".join(out)


def _table(df: pd.DataFrame, lang: str) -> str:
    esc = html.escape
    df = shown(df, lang)
    if "arrival_date" in df:
        df["arrival_date"] = [date_text(str(v), lang) for v in df["arrival_date"]]
    head = "".join(f"<th>{esc(column(c, lang))}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                whole = not isinstance(v, float) or float(v).is_integer()
                text = number_text(v, lang, ",.0f" if whole else ",.1f")
                cells.append(f"<td class='n'>{esc(text)}</td>")
            else:
                cells.append(f"<td>{esc(str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def write_dispatch_html(
    tables: dict[str, pd.DataFrame], province: str, date: dt.date, path: Path, lang: str = "en"
) -> None:
    path.write_text(dispatch_html(tables, province, date, lang), encoding="utf-8")
