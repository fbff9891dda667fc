"""Reproducible synthetic scenarios for scale tests (e.g. national size: 700 units, 300 labs).

Everything here is made up: units scattered over a Vietnam-sized box, lognormal populations,
labs placed in the larger units, demand proportional to population, and for each unit a
travel table to its ``candidates`` nearest labs (the travel table then lists the only
allowed pairs).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from labopt.errors import InputError
from labopt.scenario.model import (
    District,
    Lab,
    Policy,
    Province,
    Scenario,
    Settings,
    Stream,
    Transport,
)
from labopt.scenario.schema import AREA_TYPES
from labopt.scenario.travel import haversine_km

LAT_RANGE = (8.6, 23.3)
LON_RANGE = (102.2, 109.4)
STREAMS = (
    Stream(
        id="reactive",
        name="Reactive: contacts of cases",
        name_vi="Truy vết: người tiếp xúc gần ca bệnh",
        priority=1,
        poolable=False,
        max_wait_days=1,
    ),
    Stream(
        id="symptomatic",
        name="Symptomatic and suspected cases",
        name_vi="Người có triệu chứng và ca nghi ngờ",
        priority=2,
        poolable=False,
        max_wait_days=1,
    ),
    Stream(
        id="screening",
        name="Screening of risk groups and places",
        name_vi="Sàng lọc nhóm nguy cơ và địa điểm nguy cơ",
        priority=3,
        poolable=True,
        max_wait_days=2,
    ),
)


def synthesize(
    districts: int, labs: int, days: int = 7, seed: int = 0, candidates: int = 15
) -> Scenario:
    """A random but valid scenario; the same arguments always give the same scenario."""
    if districts < 1 or labs < 1 or days < 1:
        raise InputError("districts, labs and days must be at least 1")
    if not candidates >= 1:
        raise InputError("candidates: must be at least 1", "candidates")
    rng = np.random.default_rng(seed)
    n, m = districts, labs
    lat = rng.uniform(*LAT_RANGE, n)
    lon = rng.uniform(*LON_RANGE, n)
    pop = np.round(rng.lognormal(np.log(120_000), 0.6, n)).astype(int)
    area = rng.choice(AREA_TYPES, n, p=[0.15, 0.15, 0.4, 0.2, 0.1])
    level = rng.integers(1, 5, n)
    codes = [f"d{i:04d}" for i in range(n)]
    units = [
        District(
            code=codes[i],
            name=f"Huyện Tổng Hợp {i + 1}",
            unit_type="city" if area[i] == "concentrated_urban" else "district",
            area_type=str(area[i]),
            population=int(pop[i]),
            lat=round(lat[i], 4),
            lon=round(lon[i], 4),
            epidemic_level=int(level[i]),
        )
        for i in range(n)
    ]
    # labs in the larger units, several per unit allowed
    host = rng.choice(n, m, p=pop / pop.sum())
    kinds = rng.choice(
        [
            "provincial_cdc",
            "provincial_hospital",
            "district_medical_centre",
            "non_public",
            "military",
            "mobile",
        ],
        m,
        p=[0.15, 0.2, 0.4, 0.15, 0.05, 0.05],
    )
    lab_list = []
    for j in range(m):
        kind = str(kinds[j])
        machines = int(rng.integers(1, 4))
        lab_list.append(
            Lab(
                id=f"lab{j:04d}",
                name=f"Phòng xét nghiệm {j + 1}",
                facility_type=kind,
                district=codes[host[j]],
                lat=round(float(lat[host[j]] + rng.normal(0, 0.02)), 4),
                lon=round(float(lon[host[j]] + rng.normal(0, 0.02)), 4),
                status="standby" if kind in ("non_public", "military", "mobile") else "active",
                biosafety_level=2,
                pcr_machines=machines,
                wells_per_run=96,
                run_hours=float(rng.choice([1.5, 2.0, 2.5])),
                extraction_machines=machines,
                extraction_samples_per_run=int(rng.choice([32, 48, 96])),
                extraction_run_hours=1.0,
                staff_per_shift=int(2 + 2 * machines),
                shifts_per_day=int(rng.integers(1, 4)),
                control_wells_per_run=4,
                reagent_stock=int(rng.integers(2, 10) * 1000),
                max_pool_size=int(rng.choice([1, 5, 10], p=[0.1, 0.4, 0.5])),
            )
        )
    # prevalence per unit and stream
    base = np.exp(rng.normal(np.log(0.004), 0.8, n)) * (1 + 0.5 * (level - 1))
    prev_rows = []
    factor = {"reactive": 10.0, "symptomatic": 5.0, "screening": 1.0}
    for i in range(n):
        for s in STREAMS:
            prev_rows.append((codes[i], s.id, float(min(0.5, round(base[i] * factor[s.id], 6)))))
    prevalence = pd.DataFrame(prev_rows, columns=["district", "stream", "prevalence"])
    # demand: samples per 1,000 residents per day, by stream
    rate = {"reactive": 0.6, "symptomatic": 0.3, "screening": 4.0}
    rows = []
    for d in range(1, days + 1):
        for i in range(n):
            for s in STREAMS:
                lam = pop[i] / 1000 * rate[s.id] * (0.8 + 0.1 * level[i])
                rows.append((d, codes[i], s.id, int(rng.poisson(lam)), np.nan))
    demand = pd.DataFrame(rows, columns=["day", "district", "stream", "samples", "prevalence"])
    demand["prevalence"] = demand.merge(prevalence, on=["district", "stream"], how="left")[
        "prevalence_y"
    ].to_numpy()
    # travel: each unit to its nearest labs
    l_lat = np.array([x.lat for x in lab_list])
    l_lon = np.array([x.lon for x in lab_list])
    k = min(candidates, m)
    t_rows = []
    transport = Transport()
    for i in range(n):
        km = haversine_km(lat[i], lon[i], l_lat, l_lon)
        nearest = np.argsort(km, kind="stable")[:k]
        for j in nearest:
            hours = km[j] * transport.road_factor / transport.speed_kmh
            t_rows.append((codes[i], lab_list[j].id, round(float(hours), 4)))
    travel = pd.DataFrame(t_rows, columns=["district", "lab", "hours"])
    deliveries = pd.DataFrame(
        {"lab": [x.id for x in lab_list[: max(1, m // 10)]], "day": 2, "reactions": 2000}
    )
    settings = Settings(
        province=Province(
            code=f"synth-{n}x{m}-s{seed}",
            name="Tỉnh Tổng Hợp",
            level="province",
            start_date=dt.date(2021, 10, 4),
            days=days,
        ),
        # the travel table lists the allowed pairs; no time limit on top of it
        policy=Policy(max_travel_hours=1000.0),
        transport=transport,
        streams=list(STREAMS),
    )
    return Scenario(
        settings=settings,
        districts=units,
        labs=lab_list,
        prevalence=prevalence,
        demand=demand,
        deliveries=deliveries.astype({"day": "int64", "reactions": "int64"}),
        travel=travel,
        source="synth",
    )
