"""Province capacity on one day: labs' reactions, samples testable, gap to the targets.

Capacity here is the province's total, as if every sample could reach every lab; where
samples can actually go and when is the scheduler's job (labopt.schedule).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from labopt.capacity.expansion import ExpansionPlan, what_it_takes
from labopt.capacity.lab import LIMITS, LabDay, lab_day, reagent_projection
from labopt.capacity.pooled import best_design
from labopt.capacity.words import say
from labopt.errors import InputError
from labopt.scenario.model import Scenario
from labopt.scenario.travel import travel_table


@dataclass
class DistrictDesign:
    district: str
    stream: str
    prevalence: float
    samples: int
    max_pool: int
    algorithm: str
    config: str
    reactions_per_sample: float

    def to_dict(self) -> dict:
        return dict(vars(self))


@dataclass
class CapacityReport:
    """Answers: how many samples can the province test on this day, and what is missing."""

    day: int
    date: str
    labs: list[LabDay]
    single_target: int
    pooled_target: int
    reactions_per_pooled_sample: float
    designs: list[DistrictDesign]
    expansion: ExpansionPlan | None = None
    # each note as its words' key and fields: notes() says them in a language
    said: list[tuple[str, dict]] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        return self.notes_in("en")

    def notes_in(self, lang: str) -> list[str]:
        """The report's notes in ``lang`` (a lab's partial day, reagent that limits it)."""
        return [say(key, lang, **fields) for key, fields in self.said]

    @property
    def active(self) -> list[LabDay]:
        return [ld for ld in self.labs if ld.status == "active"]

    @property
    def reactions_per_day(self) -> int:
        return sum(ld.reactions for ld in self.active)

    @property
    def standby_reactions_per_day(self) -> int:
        return sum(ld.reactions for ld in self.labs if ld.status == "standby")

    @property
    def single_samples_per_day(self) -> int:
        """Single samples the active labs could test if they tested nothing else."""
        return self.reactions_per_day

    @property
    def pooled_samples_per_day(self) -> int:
        """Pooled samples they could test if they tested nothing else (retests included)."""
        return int(self.reactions_per_day / self.reactions_per_pooled_sample)

    @property
    def reactions_needed(self) -> int:
        """Reactions for both targets at once: singles plus pooled samples at their designs."""
        return int(
            np.ceil(self.single_target + self.pooled_target * self.reactions_per_pooled_sample)
        )

    @property
    def meets_targets(self) -> bool:
        return self.reactions_per_day >= self.reactions_needed

    @property
    def pooled_after_single_target(self) -> int:
        """Pooled samples still testable once the single-sample target is met."""
        spare = max(0, self.reactions_per_day - self.single_target)
        return int(spare / self.reactions_per_pooled_sample)

    def binding(self) -> list[dict]:
        """For each limit: the active labs it binds and the reactions they can run."""
        out = []
        for limit in LIMITS:
            labs = [ld for ld in self.active if limit in ld.binding]
            if labs:
                out.append(
                    {
                        "limit": limit,
                        "labs": [ld.lab for ld in labs],
                        "reactions": sum(ld.reactions for ld in labs),
                    }
                )
        return out

    def to_dict(self) -> dict:
        return {
            "day": self.day,
            "date": self.date,
            "labs": [ld.to_dict() for ld in self.labs],
            "province": {
                "single_samples_per_day": self.single_samples_per_day,
                "pooled_samples_per_day": self.pooled_samples_per_day,
                "reactions_per_day": self.reactions_per_day,
                "standby_reactions_per_day": self.standby_reactions_per_day,
                "reactions_per_pooled_sample": self.reactions_per_pooled_sample,
                "reactions_needed": self.reactions_needed,
                "pooled_samples_after_single_target": self.pooled_after_single_target,
                "targets": {
                    "single_samples_per_day": self.single_target,
                    "pooled_samples_per_day": self.pooled_target,
                },
                "meets_targets": self.meets_targets,
            },
            "binding": self.binding(),
            "designs": [d.to_dict() for d in self.designs],
            "what_it_takes": None if self.expansion is None else self.expansion.to_dict(),
            "notes": self.notes,
        }


def lab_days(scn: Scenario, day: int) -> list[LabDay]:
    """Every lab's limits on ``day`` (reagent: flat-out projection from day 1)."""
    deliveries: dict[str, dict[int, int]] = {}
    for lab, d, r in scn.deliveries[["lab", "day", "reactions"]].itertuples(index=False):
        deliveries.setdefault(lab, {})[int(d)] = deliveries.get(lab, {}).get(int(d), 0) + int(r)
    share = scn.lab_days[scn.lab_days["day"] == day].set_index("lab")["available"].to_dict()
    out = []
    for lab in scn.labs:
        reagent = reagent_projection(lab, scn.policy, deliveries.get(lab.id, {}), day)[-1]
        ld = lab_day(lab, scn.policy, day, reagent)
        if lab.id in share:  # out of service, or part of it, that day (lab_days)
            f = float(share[lab.id])
            ld = replace(
                ld,
                pcr=math.floor(ld.pcr * f),
                extraction=math.floor(ld.extraction * f),
                staff=math.floor(ld.staff * f),
            )
        out.append(ld)
    return out


def pooled_designs(scn: Scenario, day: int) -> list[DistrictDesign]:
    """Best design for each unit's poolable demand on ``day``.

    A unit pools up to the largest pool validated by the active labs it may send to (any
    reachable lab if none is active; individual testing if none is reachable).
    """
    travel = travel_table(scn)
    lab_pool = {lab.id: lab.max_pool_size for lab in scn.labs}
    active = {lab.id for lab in scn.labs if lab.status == "active"}
    reach = travel.groupby("district")["lab"].apply(list).to_dict()
    poolable = [s.id for s in scn.streams if s.poolable]
    rows = scn.demand[(scn.demand["day"] == day) & scn.demand["stream"].isin(poolable)]
    if rows.empty or rows["samples"].sum() == 0:  # no demand that day: weigh by population
        pop = {d.code: d.population for d in scn.districts}
        prev = scn.prevalence[scn.prevalence["stream"].isin(poolable)]
        rows = prev.assign(samples=prev["district"].map(pop))
    out = []
    for district, stream, samples, p in rows[
        ["district", "stream", "samples", "prevalence"]
    ].itertuples(index=False):
        labs = reach.get(district, [])
        pools = [lab_pool[x] for x in labs if x in active] or [lab_pool[x] for x in labs] or [1]
        design, et = best_design(float(p), max(pools), scn.policy)
        out.append(
            DistrictDesign(
                district,
                stream,
                float(p),
                int(samples),
                max(pools),
                design.algorithm,
                design.config,
                et,
            )
        )
    return out


def capacity_report(scn: Scenario, day: int = 1, expand: bool = True) -> CapacityReport:
    """Capacity of every lab and of the province on ``day`` against the policy's targets;
    with ``expand``, the cheapest additions that would close a gap."""
    if not 1 <= day <= scn.province.days:
        raise InputError(
            f"day: must be between 1 and {scn.province.days} (the scenario's horizon), got {day}",
            "day",
        )
    labs = lab_days(scn, day)
    designs = pooled_designs(scn, day)
    weights = np.array([d.samples for d in designs], dtype=float)
    costs = np.array([d.reactions_per_sample for d in designs])
    per_pooled = float(np.average(costs, weights=weights)) if weights.sum() > 0 else 1.0
    report = CapacityReport(
        day,
        scn.date_of(day).isoformat(),
        labs,
        scn.policy.single_target_per_day,
        scn.policy.pooled_target_per_day,
        per_pooled,
        designs,
    )
    share = scn.lab_days[scn.lab_days["day"] == day].set_index("lab")["available"].to_dict()
    for lab_id, f in share.items():
        report.said.append(
            ("share", {"lab": scn.lab_by_id[lab_id].name, "share": float(f), "day": day})
        )
    for ld in labs:
        if ld.status == "active" and ld.reagent < min(ld.pcr, ld.extraction, ld.staff):
            fields = {"lab": scn.lab_by_id[ld.lab].name, "day": day, "reactions": ld.reagent}
            report.said.append(("reagent_note", fields))
    if expand and not report.meets_targets:
        report.expansion = what_it_takes(scn, labs, report.reactions_needed)
    return report


def capacity_table(report: CapacityReport, scn: Scenario) -> pd.DataFrame:
    """Per-lab table for display or export."""
    rows = []
    for ld in report.labs:
        lab = scn.lab_by_id[ld.lab]
        rows.append(
            {
                "lab": ld.lab,
                "name": lab.name,
                "type": lab.facility_type,
                "status": ld.status,
                "pcr": ld.pcr,
                "extraction": ld.extraction,
                "staff": ld.staff,
                "reagent": ld.reagent,
                "reactions": ld.reactions,
                "binding": "/".join(ld.binding),
            }
        )
    return pd.DataFrame(rows)
