"""Load on loopback against a real server process: POST /v1/pooling/evaluate at 50 concurrent
clients, and the Thanh Hóa week from POST /v1/plans to a finished plan.

The load generator is wrk (Debian package; .ci/run installs it) in another process; without
it, a Python asyncio client (slower, shares the two cores). The load figures are recorded, not
asserted (the assertions are that every request succeeded); the plan's round trip is gated
against planning the same week in this process, with a floor about half the measured ratio.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import shutil
import statistics
import subprocess
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from benches.timing import gate, record
from labopt.examples import EXAMPLES
from labopt.scenario import load_scenario
from labopt.schedule import plan_scenario
from tests.service.live import LiveServer

FIXTURES = EXAMPLES
BODY = {"algorithm": "D3", "config": "12:4,4,4", "prevalence": 0.01, "se": 0.99, "sp": 0.99}
CONNECTIONS, SECONDS = 50, 8
AREA = "Service"
# floor: in-process plan + check / the service's POST-to-done must stay above it
FLOOR_PLAN_ROUND_TRIP = 0.15


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("load") / "labopt.db"
    s = LiveServer(f"sqlite:///{db}").start()
    yield s, s.key("coordinator", "thanh_hoa")
    s.stop()


def _wrk(url: str, headers: dict, tmp: Path, rate: float | None = None) -> dict:
    """wrk at full speed, or paced to ``rate`` requests/s over the connections (each
    connection waits between requests; wrk times requests without the wait)."""
    script = tmp / "post.lua"
    pace = (
        ""
        if rate is None
        else (f"function delay()\n  return {1000.0 * CONNECTIONS / rate:.3f}\nend\n")
    )
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = '{json.dumps(BODY)}'\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "{headers["Authorization"]}"\n' + pace
    )
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", "-s", str(script), url],
        capture_output=True,
        check=True,
        text=True,
        timeout=SECONDS + 60,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "tool": "wrk",
        "rps": rps,
        "p99_ms": float(p99.group(1)) * scale,
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
        "raw": out,
    }


async def _python_load(url: str, headers: dict) -> dict:
    latencies, errors = [], 0
    deadline = time.perf_counter() + SECONDS

    async def client(c: httpx.AsyncClient):
        nonlocal errors
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            r = await c.post(url, json=BODY, headers=headers)
            latencies.append((time.perf_counter() - t0) * 1000)
            errors += r.status_code != 200

    limits = httpx.Limits(max_connections=CONNECTIONS)
    async with httpx.AsyncClient(limits=limits, timeout=30) as c:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(c) for _ in range(CONNECTIONS)))
        elapsed = time.perf_counter() - t0
    latencies.sort()
    return {
        "tool": "python",
        "rps": len(latencies) / elapsed,
        "p99_ms": latencies[int(0.99 * (len(latencies) - 1))],
        "non_2xx": errors,
        "socket_errors": "",
        "median_ms": statistics.median(latencies),
    }


@pytest.mark.parametrize("rate", [None, 550], ids=["full-speed", "paced"])
def test_load_pooling_evaluate(server, tmp_path, rate):
    srv, headers = server
    url = srv.url + "/v1/pooling/evaluate"
    assert httpx.post(url, json=BODY, headers=headers).status_code == 200
    if shutil.which("wrk"):
        res = _wrk(url, headers, tmp_path, rate)
    elif rate is None:
        print("\nwrk not installed (apt-get install wrk): using the slower Python client")
        res = asyncio.run(_python_load(url, headers))
    else:
        pytest.skip("paced load needs wrk (apt-get install wrk)")
    what = "full speed" if rate is None else f"paced to {rate}/s"
    print(
        f"\nPOST /v1/pooling/evaluate, {CONNECTIONS} clients, {SECONDS} s, {what} "
        f"({res['tool']}): {res['rps']:.0f} requests/s, p99 {res['p99_ms']:.1f} ms, "
        f"non-2xx {res['non_2xx']}"
        f"{', socket errors ' + res['socket_errors'] if res['socket_errors'] else ''}"
    )
    record(
        AREA,
        f"POST /v1/pooling/evaluate, {CONNECTIONS} clients, {SECONDS} s, {what}",
        tool=res["tool"],
        requests_per_second=res["rps"],
        p99_ms=res["p99_ms"],
        non_2xx=res["non_2xx"],
    )
    assert res["non_2xx"] == 0 and not res["socket_errors"]


def test_thanh_hoa_week_post_to_finished_plan(server):
    srv, headers = server
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in sorted((FIXTURES / "thanh_hoa").iterdir()):
            z.write(f, f"thanh_hoa/{f.name}")
    with httpx.Client(base_url=srv.url, timeout=60) as c:
        sid = c.post(
            "/v1/scenarios/upload", headers=headers, files={"file": ("th.zip", buf.getvalue())}
        ).json()["id"]
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            pid = c.post("/v1/plans", headers=headers, json={"scenario_id": sid}).json()["id"]
            while (plan := c.get(f"/v1/plans/{pid}", headers=headers).json())["status"] not in (
                "done",
                "failed",
            ):
                time.sleep(0.01)
            times.append(time.perf_counter() - t0)
            assert plan["status"] == "done" and plan["summary"]["check"]["ok"]
    print(f"\nThanh Hóa week, POST /v1/plans to done: {', '.join(f'{t:.2f}' for t in times)} s")
    scn = load_scenario(FIXTURES / "thanh_hoa")
    in_process = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        plan_scenario(scn)
        in_process = min(in_process, time.perf_counter() - t0)
    gate(
        AREA,
        "Thanh Hóa week: POST /v1/plans to a finished plan",
        baseline="plan + check in process",
        t_baseline=in_process,
        t_labopt=min(times),
        floor=FLOOR_PLAN_ROUND_TRIP,
    )
