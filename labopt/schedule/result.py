"""The plan: a day-by-day allocation in whole samples, with how it was found."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from labopt.scenario.model import Scenario
from labopt.schedule.data import PlanInput
from labopt.schedule.model import Weights, whole_reactions
from labopt.schedule.supply import (
    COLUMNS,
    KIT_COLUMNS,
    kit_shipments_table,
    shipments_table,
)


@dataclass
class Plan:
    """A day-by-day allocation in whole samples.

    x[p, s, t]: samples of stream s from pair p's unit tested at pair p's lab on day t;
    waiting[d, s, t]: samples still waiting at the end of day t; untested[d, s, t]: samples
    that spoiled (passed their stream's maximum wait) on day t.
    """

    input: PlanInput
    x: np.ndarray
    waiting: np.ndarray
    untested: np.ndarray
    weights: Weights
    method: str  # "network", "lp" or "greedy"
    status: str
    gap: float | None  # relative, of this whole-sample plan against the LP's lower bound
    lp_objective: float | None
    objective: float  # of this integer plan
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step
    capacity_dual: np.ndarray | None = None
    reagent_dual: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    lp_gap: float | None = None  # relative, of the LP solution (0 when proven optimal)
    lp_untested: np.ndarray | None = None  # (nd, ns, T) the LP's untested samples
    # (routes, T) whole reactions shipped on each day (labopt.schedule.supply); the input's
    # reagent_cum then counts them (received in, sent out)
    shipments: np.ndarray | None = None
    # (kit routes, T) whole kits shipped, and (nd, ns, T) samples not collected for lack of
    # kits; the input's demand is then the samples collected
    kit_shipments: np.ndarray | None = None
    uncollected: np.ndarray | None = None
    # screening by risk: (nd, ns, T) samples the units could collect but are asked not to; the
    # input's demand is then what they collect
    not_collected: np.ndarray | None = None

    @property
    def scenario(self) -> Scenario:
        return self.input.scenario

    def shipments_table(self) -> pd.DataFrame:
        """Reagent shipments, one row each (labopt.schedule.supply.COLUMNS); none without a
        supply network."""
        sup = self.input.supply
        if sup is None or self.shipments is None:
            return pd.DataFrame({c: pd.Series(dtype="int64") for c in COLUMNS}).astype(
                {"source": object, "target": object}
            )
        return shipments_table(sup, self.shipments, self.input.lab_ids)

    def kit_shipments_table(self) -> pd.DataFrame:
        """Collection kit shipments, one row each (labopt.schedule.supply.KIT_COLUMNS)."""
        sup = self.input.supply
        if sup is None or self.kit_shipments is None:
            return pd.DataFrame({c: pd.Series(dtype="int64") for c in KIT_COLUMNS}).astype(
                {"source": object, "target": object}
            )
        return kit_shipments_table(sup, self.kit_shipments, self.input.district_codes)

    def reactions(self) -> np.ndarray:
        """Expected reactions per pair, stream and day, in whole pools and arrays (retests
        included, no headroom)."""
        return whole_reactions(self.input, self.x)

    def lab_reactions(self) -> np.ndarray:
        """(nl, T) expected reactions used."""
        out = np.zeros((self.input.nl, self.input.days))
        np.add.at(out, self.input.pair_l, self.reactions().sum(axis=1))
        return out

    def tested(self) -> np.ndarray:
        """(nd, ns, T) samples tested."""
        out = np.zeros((self.input.nd, self.input.ns, self.input.days))
        np.add.at(out, self.input.pair_d, self.x)
        return out
