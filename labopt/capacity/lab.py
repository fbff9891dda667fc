"""What one lab can run in a day, and which limit binds.

Reactions per day = min(PCR wells, extraction tubes, staff, reagent), where (all per day)
- PCR: machines x runs per machine x (wells per run - control wells), runs per machine =
  floor(shifts x shift_hours / run_hours);
- extraction: machines x floor(shifts x shift_hours / extraction run hours) x tubes per run
  (one extracted tube per reaction: pools are made before extraction);
- staff: technicians per shift x shifts x reactions per technician-shift;
- reagent: reactions in stock that day (see ``reagent_projection``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from labopt.scenario.model import Lab, Policy

LIMITS = ("pcr", "extraction", "staff", "reagent")


def working_hours(shifts: int, policy: Policy) -> float:
    return min(24.0, shifts * policy.shift_hours)


def runs_per_machine(shifts: int, run_hours: float, policy: Policy) -> int:
    # the small epsilon keeps 24 h / 2 h = 12 runs despite float rounding
    return math.floor(working_hours(shifts, policy) / run_hours + 1e-9)


@dataclass(frozen=True)
class Additions:
    """Capacity added to one lab (all zero: the lab as it is)."""

    shifts: int = 0
    pcr_machines: int = 0
    extraction_machines: int = 0
    technicians: int = 0  # per shift


def pcr_reactions(lab: Lab, policy: Policy, add: Additions = Additions()) -> int:
    runs = runs_per_machine(lab.shifts_per_day + add.shifts, lab.run_hours, policy)
    return (
        (lab.pcr_machines + add.pcr_machines)
        * runs
        * (lab.wells_per_run - lab.control_wells_per_run)
    )


def extraction_reactions(lab: Lab, policy: Policy, add: Additions = Additions()) -> int:
    runs = runs_per_machine(lab.shifts_per_day + add.shifts, lab.extraction_run_hours, policy)
    return (
        (lab.extraction_machines + add.extraction_machines) * runs * lab.extraction_samples_per_run
    )


def productivity(lab: Lab, policy: Policy) -> int:
    return lab.reactions_per_staff_shift or policy.reactions_per_staff_shift


def staff_reactions(lab: Lab, policy: Policy, add: Additions = Additions()) -> int:
    return (
        (lab.staff_per_shift + add.technicians)
        * (lab.shifts_per_day + add.shifts)
        * productivity(lab, policy)
    )


@dataclass(frozen=True)
class LabDay:
    """One lab on one day: each limit in reactions and the resulting capacity."""

    lab: str
    day: int
    status: str
    pcr: int
    extraction: int
    staff: int
    reagent: int

    @property
    def reactions(self) -> int:
        return min(self.pcr, self.extraction, self.staff, self.reagent)

    @property
    def binding(self) -> tuple[str, ...]:
        """The limits equal to the capacity (several when tied)."""
        r = self.reactions
        return tuple(name for name in LIMITS if getattr(self, name) == r)

    def to_dict(self) -> dict:
        return {
            "lab": self.lab,
            "day": self.day,
            "status": self.status,
            "pcr": self.pcr,
            "extraction": self.extraction,
            "staff": self.staff,
            "reagent": self.reagent,
            "reactions": self.reactions,
            "binding": list(self.binding),
        }


def non_reagent_capacity(lab: Lab, policy: Policy) -> int:
    """Reactions per day the lab can run whatever its reagent: the least of its PCR machines',
    its extraction's and its staff's limits."""
    return min(
        pcr_reactions(lab, policy), extraction_reactions(lab, policy), staff_reactions(lab, policy)
    )


def reagent_projection(
    lab: Lab, policy: Policy, deliveries: dict[int, int], days: int
) -> list[int]:
    """Reagent available at the start of each day 1..days if the lab runs flat out.

    available(1) = stock + delivery(1); each day uses min(capacity, available); what is left
    carries over and the next day's delivery is added. A conservative projection: a plan that
    uses less keeps more.
    """
    cap = non_reagent_capacity(lab, policy)
    out, left = [], lab.reagent_stock
    for day in range(1, days + 1):
        left += deliveries.get(day, 0)
        out.append(left)
        left -= min(cap, left)
    return out


def lab_day(lab: Lab, policy: Policy, day: int, reagent: int) -> LabDay:
    return LabDay(
        lab.id,
        day,
        lab.status,
        pcr_reactions(lab, policy),
        extraction_reactions(lab, policy),
        staff_reactions(lab, policy),
        reagent,
    )
