"""The daily loop at national size (issue 20): recording a day's actuals for the synthesized
national scenario (700 units, 300 labs) and planning the next 7 days from the carried state.

Absolute times are recorded, never asserted. The gate is a ratio against the plan alone of the
same 7 days (plan_scenario on the morning's scenario, timed in the same run): the loop's own
work (reading and checking the records, carrying the state, the look-ahead scenario) must stay
a small share of the morning.
"""

import datetime as dt
import time

import pandas as pd

from benches.timing import gate
from labopt.daily.morning import plan_morning
from labopt.daily.state import carry_to, day_scenario
from labopt.daily.workspace import create
from labopt.scenario.synth import synthesize
from labopt.schedule import plan_scenario

AREA = "Daily loop"
FLOOR_MORNING_VS_PLAN = 0.35  # the plan alone against record + carry + plan (about half)


def test_national_record_and_plan_the_next_seven_days(tmp_path):
    scn = synthesize(700, 300, days=7, seed=0, candidates=15)
    ws = create(tmp_path / "ws", scn)
    day1 = plan_morning(ws, ws.first, 7, write=False).report
    a = day1.allocations[(day1.allocations["day"] == 1) & (day1.allocations["samples"] > 0)]
    tested = a[["lab", "district", "stream", "samples"]].astype(str)
    used = a.groupby("lab", as_index=False)["reactions"].sum().rename(columns={"reactions": "used"})
    date = ws.first + dt.timedelta(days=1)
    t0 = time.perf_counter()
    ws.record("tested", tested, "tested.csv", ws.first)
    ws.record("reagent", used.astype(str), "reagent.csv", ws.first)
    t_record = time.perf_counter() - t0
    t0 = time.perf_counter()
    m = plan_morning(ws, date, 7, write=False)
    t_morning = time.perf_counter() - t0
    assert m.report.check.ok and m.waiting_at_start >= 0
    records = ws.records()
    morning_scn = day_scenario(carry_to(ws.province, records, date).scenario, records, date, 7)
    t0 = time.perf_counter()
    plan_scenario(morning_scn)
    t_plan = time.perf_counter() - t0
    print(
        f"\nnational daily loop: record a day's actuals {t_record:.2f} s ({len(tested):,} "
        f"tested rows), plan the next 7 days from the carried state {t_morning:.2f} s "
        f"(the plan alone {t_plan:.2f} s)"
    )
    gate(
        AREA,
        "national: record a day's actuals and plan the next 7 days from the carried state",
        baseline="the plan alone of the same 7 days",
        t_baseline=t_plan,
        t_labopt=t_record + t_morning,
        floor=FLOOR_MORNING_VS_PLAN,
        t_record=t_record,
        t_morning=t_morning,
    )
    assert isinstance(records.tested, pd.DataFrame)
