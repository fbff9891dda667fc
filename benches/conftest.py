"""Every benchmark run writes its figures as JSON (default ``.benchmarks/run.json``).

pytest-benchmark's timings, the within-run ratios with their floors (benches/timing.py) and
the other measurements land in one file, with the date and the machine, on a plain
``python -m pytest`` run; ``LABOPT_BENCH_JSON`` names another file. ``python -m
benches.report FILE > BENCHMARKS.md`` turns it into the dated page.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from benches.timing import RECORDS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JSON = ROOT / ".benchmarks" / "run.json"
AREAS = {
    "bench_pooling": "Pooling engine",
    "bench_scenario": "Scenarios",
    "bench_schedule": "Plans",
    "bench_lab": "Lab work",
    "bench_batches_service": "Service",
    "bench_service": "Service",
    "bench_daily": "Daily loop",
    "bench_screening": "Screening",
}
VERSIONS = (
    "labopt",
    "numpy",
    "scipy",
    "pandas",
    "highspy",
    "ortools",
    "fastapi",
    "pytest-benchmark",
)
_START: dict[str, Any] = {}


def area_of(module: str) -> str:
    return AREAS.get(module.rpartition(".")[2], module)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "system": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "versions": {d: _version(d) for d in VERSIONS},
    }


@pytest.fixture(autouse=True)
def _keep_benchmark_figures(request):
    """After each pytest-benchmark test, keep its timings (seconds) for the JSON file."""
    fixture = request.getfixturevalue("benchmark") if "benchmark" in request.fixturenames else None
    yield
    meta = getattr(fixture, "stats", None)
    stats = getattr(meta, "stats", None)
    if stats is None or not stats.rounds:
        return
    RECORDS.append(
        {
            "kind": "benchmark",
            "area": area_of(request.module.__name__),
            "name": request.node.name,
            "min": stats.min,
            "median": stats.median,
            "mean": stats.mean,
            "max": stats.max,
            "rounds": stats.rounds,
        }
    )


def pytest_sessionstart(session):
    _START["date"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    _START["loadavg"] = os.getloadavg()


def pytest_sessionfinish(session, exitstatus):
    if not RECORDS:  # the benches did not run (a test-only selection): keep the last file
        return
    path = Path(os.environ.get("LABOPT_BENCH_JSON", DEFAULT_JSON))
    path.parent.mkdir(parents=True, exist_ok=True)
    run = {
        "date": _START.get("date"),
        "finished": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "loadavg_start": _START.get("loadavg"),
        "loadavg_end": os.getloadavg(),
        "command": " ".join(["pytest", *session.config.invocation_params.args]),
        "exit_status": int(exitstatus),
        "records": RECORDS,
    }
    path.write_text(json.dumps(run, indent=1, default=float) + "\n", encoding="utf-8")


def pytest_collection_modifyitems(config, items):
    """Benchmarks run untraced when the tests measure coverage (tracing slows Python code only,
    which would skew the ratios the gates assert)."""
    bench_dir = Path(__file__).resolve().parent
    for item in items:
        if bench_dir in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.no_cover)
