"""Lab and province testing capacity, and what it takes to reach the targets."""

from labopt.capacity.expansion import ExpansionPlan, LabChange, what_it_takes
from labopt.capacity.lab import Additions, LabDay, lab_day, reagent_projection
from labopt.capacity.pooled import best_design
from labopt.capacity.province import (
    CapacityReport,
    capacity_report,
    capacity_table,
    lab_days,
    pooled_designs,
)

__all__ = [
    "Additions",
    "CapacityReport",
    "ExpansionPlan",
    "LabChange",
    "LabDay",
    "best_design",
    "capacity_report",
    "capacity_table",
    "lab_day",
    "lab_days",
    "pooled_designs",
    "reagent_projection",
    "what_it_takes",
]
