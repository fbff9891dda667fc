"""A plan's day as a map drawn from the scenario's coordinates: units, labs and the samples
each unit sends to each lab, as plain SVG geometry (no tiles, no script, nothing fetched).

Longitude and latitude are projected equirectangularly, longitude scaled by the cosine of
the province's middle latitude, which keeps a province's shape (a few hundred km) true to
within a percent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

SIZE = 600.0  # the drawing's width and height (SVG user units)
MARGIN = 24.0


@dataclass
class FlowMap:
    """The geometry of one day: circles for units (radius by samples sent), squares for labs
    (side by samples received), lines for flows (width by samples); ``left_out``: units and
    labs without coordinates."""

    units: list[dict[str, Any]] = field(default_factory=list)
    labs: list[dict[str, Any]] = field(default_factory=list)
    flows: list[dict[str, Any]] = field(default_factory=list)
    left_out: int = 0
    samples: int = 0


def flow_map(data: dict[str, Any], allocations: pd.DataFrame, day: int) -> FlowMap:
    """``data``: a scenario's JSON form (districts and labs with lat/lon); ``allocations``: a
    plan's allocations table (day, district, lab, samples)."""
    places = {("unit", d["code"]): d for d in data.get("districts", [])}
    places |= {("lab", lab["id"]): lab for lab in data.get("labs", [])}
    located = {
        k: (float(v["lat"]), float(v["lon"]))
        for k, v in places.items()
        if v.get("lat") is not None and v.get("lon") is not None
    }
    out = FlowMap(left_out=len(places) - len(located))
    if not located:
        return out
    lats = [p[0] for p in located.values()]
    lons = [p[1] for p in located.values()]
    shrink = math.cos(math.radians((min(lats) + max(lats)) / 2))
    width = max((max(lons) - min(lons)) * shrink, 1e-9)
    height = max(max(lats) - min(lats), 1e-9)
    scale = (SIZE - 2 * MARGIN) / max(width, height)

    def xy(key: tuple[str, str]) -> tuple[float, float]:
        lat, lon = located[key]
        return (
            round(MARGIN + (lon - min(lons)) * shrink * scale, 1),
            round(MARGIN + (max(lats) - lat) * scale, 1),
        )

    today = allocations[allocations["day"] == day] if len(allocations) else allocations
    sent = today.groupby("district")["samples"].sum() if len(today) else pd.Series(dtype=float)
    got = today.groupby("lab")["samples"].sum() if len(today) else pd.Series(dtype=float)
    pairs = today.groupby(["district", "lab"])["samples"].sum() if len(today) else pd.Series()
    most = max(float(pairs.max()) if len(pairs) else 0.0, 1.0)
    out.samples = int(today["samples"].sum()) if len(today) else 0
    for (district, lab), n in pairs.items():
        a, b = ("unit", str(district)), ("lab", str(lab))
        if a in located and b in located and n > 0:
            (x1, y1), (x2, y2) = xy(a), xy(b)
            width = round(0.5 + 5.5 * math.sqrt(float(n) / most), 2)
            out.flows.append(
                {
                    "x1": x1,
                    "y1": y1,
                    "x2": x2,
                    "y2": y2,
                    "w": width,
                    "n": int(n),
                    "unit": places[a]["name"],
                    "lab": places[b]["name"],
                }
            )
    big = max(float(sent.max()) if len(sent) else 0.0, float(got.max()) if len(got) else 0.0, 1)
    for (kind, code), place in places.items():
        if (kind, code) not in located:
            continue
        x, y = xy((kind, code))
        n = float((sent if kind == "unit" else got).get(code, 0.0))
        size = round(3 + 9 * math.sqrt(n / big), 1)
        item = {"x": x, "y": y, "r": size, "n": int(n), "name": place["name"]}
        (out.units if kind == "unit" else out.labs).append(item)
    return out
