"""Screening rounds at national size (issue 21): every unit of the synthesized national
scenario (700 units) sized for a day, as `labopt screen allocate` does.

Absolute times are recorded, never asserted. The gate is a ratio within the run against sizing
each unit on its own (one size_for_detection per unit, nothing shared): units with the same
level, area type and pool test need the same round, which labopt computes once.
"""

from __future__ import annotations

import time

from benches.timing import gate, ratio, record
from labopt.scenario.synth import synthesize
from labopt.screening import size_for_detection
from labopt.screening.districts import shared_size, unit_rounds
from labopt.screening.risk import RiskGroup

AREA = "Screening"
FLOOR_SHARED_VS_EACH = 3.0  # labopt against sizing each unit on its own


def test_national_units_sized_for_a_day():
    scn = synthesize(700, 300, days=7, seed=0, candidates=15)
    cfg, pol = scn.settings.screening, scn.policy

    def each() -> None:
        for u in scn.districts:
            size_for_detection(
                cfg.target_sensitivity(u.epidemic_level),
                cfg.design_prevalence(u.epidemic_level, u.area_type),
                pool_size=cfg.pool_size,
                se=pol.pooling_se,
                sp=pol.pooling_sp,
                target_specificity=cfg.target_specificity,
            )

    def labopt() -> None:
        shared_size.cache_clear()  # nothing kept from an earlier call: a fresh morning
        unit_rounds(scn, 1)

    t_each, t_labopt, _ = ratio(each, labopt, repeat=3)
    rounds = unit_rounds(scn, 1)
    assert len(rounds) == 700 and all(
        r.population_sensitivity >= r.target_sensitivity or r.note for r in rounds
    )
    # two risk groups in every unit (a market at 5 times the risk, 5 % of the people)
    groups = {
        u.code: [RiskGroup("market", 5, 0.05, 500), RiskGroup("rest", 1, 0.95)]
        for u in scn.districts
    }
    t0 = time.perf_counter()
    unit_rounds(scn, 1, groups)
    t_groups = time.perf_counter() - t0
    print(
        f"\nnational screening rounds: 700 units {t_labopt * 1000:.1f} ms (each on its own "
        f"{t_each * 1000:.1f} ms); with two risk groups in every unit {t_groups * 1000:.1f} ms"
    )
    record(AREA, "700 units with two risk groups each", t_groups=t_groups)
    gate(
        AREA,
        "national: every unit's screening round for a day (700 units)",
        baseline="each unit sized on its own",
        t_baseline=t_each,
        t_labopt=t_labopt,
        floor=FLOOR_SHARED_VS_EACH,
    )
