"""The one-page report: `labopt plan --report report.html`.

One self-contained HTML file a coordinator opens or prints on A4: the summary, the shortfall in
words, the charts (PNG inside the page, nothing loaded from anywhere) and the first day's
dispatch, in English or Vietnamese. Written with Jinja2, every value escaped.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jinja2

from labopt import __version__
from labopt.files import write_output_file
from labopt.numbers import date_text, fill, number_text
from labopt.schedule.labels import check_lang, summary_texts, word
from labopt.schedule.notes import NOTES, note_text
from labopt.schedule.output import CHARTS
from labopt.schedule.report import PlanReport
from labopt.schedule.summary import (
    COLUMNS,
    TEXT,
    day_rows,
    solver_line,
    stream_columns,
    stream_rows,
    title,
)

PAGE_TEXT = {
    "en": {
        "days": "Day by day",
        "shortfall_more": "... and {n:,} more in shortfall.csv",
        "charts": "Charts",
        "dispatch": "Day 1 ({date}): where each unit sends its samples",
        "labs": "Day 1 ({date}): each lab's samples and reactions",
        "lab": "lab",
        "unit": "unit",
        "stream": "stream",
        "samples": "samples",
        "design": "pooling",
        "reactions": "reactions (expected) / usable capacity",
        "none": "Nothing is sent on day 1.",
        "made": "Made by labopt {version} on {today}.",
        "chart_days": "Samples tested, waiting and untested per day, against the targets",
        "chart_labs": "Lab utilisation per day",
        "chart_lab_week": "Each lab's week: reactions by stream, retest reserve, idle capacity and "
        "why",
        "chart_map": "Units and labs at their coordinates, with where each unit sends its samples",
        "chart_reagent": "Reagent left each day in the labs that send or receive shipments (or, "
        "without supply routes, in those that run lowest)",
    },
    "vi": {
        "days": "Từng ngày",
        "shortfall_more": "... và {n:,} mục khác trong shortfall.csv",
        "charts": "Biểu đồ",
        "dispatch": "Ngày 1 ({date}): nơi mỗi địa phương gửi mẫu",
        "labs": "Ngày 1 ({date}): số mẫu và số phản ứng của mỗi phòng xét nghiệm",
        "lab": "phòng xét nghiệm",
        "unit": "địa phương",
        "stream": "luồng mẫu",
        "samples": "số mẫu",
        "design": "cách gộp mẫu",
        "reactions": "số phản ứng (dự kiến) / công suất sử dụng được",
        "none": "Ngày 1 không gửi mẫu.",
        "made": "Lập bằng labopt {version} ngày {today}.",
        "chart_days": "Số mẫu đã xét nghiệm, chờ và không xét nghiệm mỗi ngày so với chỉ tiêu",
        "chart_labs": "Tỷ lệ sử dụng công suất phòng xét nghiệm từng ngày",
        "chart_lab_week": "Cả tuần của mỗi phòng: phản ứng theo luồng mẫu, dự phòng xét nghiệm "
        "lại, công suất bỏ trống và lý do",
        "chart_map": "Địa phương và phòng xét nghiệm theo tọa độ, cùng nơi mỗi địa phương gửi mẫu",
        "chart_reagent": "Sinh phẩm còn lại mỗi ngày ở các phòng gửi hoặc nhận sinh phẩm (hoặc, "
        "khi không có tuyến chuyển, ở các phòng còn ít nhất)",
    },
}

SHORTFALL_LINES = 60  # the page lists this many shortfall lines; the rest are in shortfall.csv

TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
@page { size: A4; margin: 12mm; }
body { font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; font-size: 10pt;
       color: #222; max-width: 190mm; margin: 0 auto; }
h1 { font-size: 15pt; margin: 0 0 4pt; }
h2 { font-size: 12pt; margin: 14pt 0 4pt; border-bottom: 1px solid #999; }
p { margin: 3pt 0; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 4pt 0; }
th, td { border: 1px solid #bbb; padding: 2px 4px; vertical-align: top; }
th { background: #eee; text-align: left; }
td.n { text-align: right; white-space: nowrap; }
tr { page-break-inside: avoid; }
thead { display: table-header-group; }
.met { color: #1b7837; } .missed { color: #b2182b; } .note { color: #8a5a00; }
ul { padding-left: 14pt; } li { margin-bottom: 2pt; }
figure { margin: 6pt 0; page-break-inside: avoid; }
figure img { width: 100%; height: auto; }
figcaption { font-size: 8.5pt; color: #555; }
footer { margin-top: 12pt; font-size: 8pt; color: #666; }
</style>
</head>
<body>
<header>
<h1>{{ title }}</h1>
<p>{{ solver }}</p>
<p class="{{ 'met' if meets else 'missed' }}">{{ verdict }}</p>
{% for note in notes %}<p class="note">{{ note }}</p>{% endfor %}
</header>
<h2>{{ w.days }}</h2>
<table>
<thead><tr>{% for c in day_columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in days %}<tr>
<td>{{ row.cells[0] }}</td><td class="n">{{ row.cells[1] }}</td>
<td class="n {{ 'met' if row.single_met else 'missed' }}">{{ row.cells[2] }}</td>
<td class="n {{ 'met' if row.pooled_met else 'missed' }}">{{ row.cells[3] }}</td>
{% for c in row.cells[4:-1] %}<td class="n">{{ c }}</td>{% endfor %}<td>{{ row.cells[-1] }}</td>
</tr>
{% endfor %}</tbody>
</table>
<h2>{{ totals_title }}</h2>
<table>
<thead><tr>{% for c in stream_columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in streams %}<tr><td>{{ row[0] }}</td>
{% for c in row[1:] %}<td class="n">{{ c }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>
{% if shortfall %}
<h2>{{ shortfall_title }}</h2>
<ul>{% for line in shortfall %}<li>{{ line }}</li>{% endfor %}</ul>
{% if more %}<p>{{ more }}</p>{% endif %}
{% endif %}
<h2>{{ w.charts }}</h2>
{% for chart in charts %}
<figure><img src="data:image/png;base64,{{ chart.png }}" alt="{{ chart.caption }}">
<figcaption>{{ chart.caption }}</figcaption></figure>
{% endfor %}
<h2>{{ labs_title }}</h2>
{% if labs %}
<table>
<thead><tr><th>{{ w.lab }}</th><th>{{ w.samples }}</th><th>{{ w.reactions }}</th></tr></thead>
<tbody>
{% for row in labs %}<tr><td>{{ row[0] }}</td>
<td class="n">{{ row[1] }}</td><td class="n">{{ row[2] }}</td></tr>
{% endfor %}</tbody>
</table>
<h2>{{ dispatch_title }}</h2>
<table>
<thead><tr><th>{{ w.unit }}</th><th>{{ w.stream }}</th><th>{{ w.lab }}</th>
<th>{{ w.samples }}</th><th>{{ w.design }}</th></tr></thead>
<tbody>
{% for row in dispatch %}<tr><td>{{ row[0] }}</td><td>{{ row[1] }}</td><td>{{ row[2] }}</td>
<td class="n">{{ row[3] }}</td><td>{{ row[4] }}</td></tr>
{% endfor %}</tbody>
</table>
{% else %}<p>{{ w.none }}</p>{% endif %}
<footer>{{ made }}</footer>
</body>
</html>
"""

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)


def _png(draw: Callable[..., Any], rep: PlanReport, lang: str) -> str:
    """A chart drawn into memory, as base64 for an <img> inside the page."""
    buf = io.BytesIO()
    draw(rep, buf, lang)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def day_one(
    rep: PlanReport, lang: str
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str, str, str]]]:
    """Day 1 as two tables of text: per lab (name, samples, reactions / usable capacity),
    and per unit and stream (unit, stream, lab, samples, pooling design), by name."""
    scn = rep.plan.scenario
    a = rep.allocations
    a = a[(a["day"] == 1) & (a["samples"] > 0)]
    capacity = rep.labs[rep.labs["day"] == 1].set_index("lab")["capacity"]
    per_lab = a.groupby(["lab", "lab_name"], sort=False)[["samples", "reactions"]].sum()
    labs = [
        (
            str(name),
            number_text(round(row.samples), lang),
            f"{number_text(row.reactions, lang, ',.0f')} / "
            f"{number_text(capacity.get(lab, 0.0), lang, ',.0f')}",
        )
        for (lab, name), row in per_lab.sort_values("samples", ascending=False).iterrows()
    ]
    streams = {s.id: s.named(lang) for s in scn.streams}
    names = {d.code: d.name for d in scn.districts}
    rows = a.sort_values(["district", "stream", "lab"], kind="stable")
    dispatch = [
        (
            str(names.get(r.district, r.district)),
            str(streams.get(r.stream, r.stream)),
            str(r.lab_name),
            number_text(round(r.samples), lang),
            word("single", lang) if r.algorithm == "IT" else f"{r.algorithm} {r.config}",
        )
        for r in rows.itertuples(index=False)
    ]
    return labs, dispatch


def report_html(rep: PlanReport, lang: str = "en", *, today: dt.date | None = None) -> str:
    """The one-page report of a plan in ``lang`` (en or vi), as one HTML text."""
    check_lang(lang)
    t, w = TEXT[lang], PAGE_TEXT[lang]
    lines = summary_texts(rep.shortfall, lang)
    shown = lines[:SHORTFALL_LINES]
    rest = len(lines) - len(shown)
    # the plan's charts, as --out writes them, each captioned under its drawing function's name
    charts = [
        {"png": _png(draw, rep, lang), "caption": w[draw.__name__]} for draw in CHARTS.values()
    ]
    labs, dispatch = day_one(rep, lang)
    start = date_text(rep.plan.scenario.province.start_date, lang)
    made = date_text(today or dt.date.today(), lang)
    return _ENV.from_string(TEMPLATE).render(
        lang=lang,
        title=title(rep, lang),
        solver=solver_line(rep, lang),
        meets=rep.meets_targets,
        verdict=t["meets"] if rep.meets_targets else t["misses"],
        notes=[f"{NOTES[lang]['note']}: {note_text(n, lang)}" for n in rep.plan.notes],
        w=w,
        day_columns=COLUMNS[lang],
        days=day_rows(rep, lang),
        totals_title=t["totals"],
        stream_columns=stream_columns(rep, lang),
        streams=stream_rows(rep, lang),
        shortfall_title=t["shortfall"],
        shortfall=shown,
        more=fill(w["shortfall_more"], lang, n=rest) if rest else "",
        charts=charts,
        labs_title=fill(w["labs"], lang, date=start),
        labs=labs,
        dispatch_title=fill(w["dispatch"], lang, date=start),
        dispatch=dispatch,
        made=fill(w["made"], lang, version=__version__, today=made),
    )


def write_page(
    rep: PlanReport,
    path: str | os.PathLike,
    lang: str = "en",
    *,
    force: bool = False,
    reads: Iterable[str | os.PathLike] = (),
) -> Path:
    """Write :func:`report_html` to ``path`` (atomically; an existing file only with
    ``force``, never a file the plan reads: :func:`labopt.files.write_output_file`)."""
    text = report_html(rep, lang)

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    return write_output_file(path, write, force=force, what="--report", reads=reads)
