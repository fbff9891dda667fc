"""The coordinator's rule of thumb, for comparison with the optimised plan.

Day by day, most urgent stream first, every unit sends its samples to the nearest lab that
still has room (active labs before standby ones); what does not fit waits if it may, and is
untested once it has waited its stream's maximum. Same capacities, reagent, reserve for
retests and designs as the optimised plan.
"""

from __future__ import annotations

import numpy as np

from labopt.pooling.designs import partial_block_reactions as overhead
from labopt.schedule.data import PlanInput
from labopt.schedule.model import Allocation, plan_cost, wait_limit


def greedy_allocation(inp: PlanInput, headroom: float) -> Allocation:
    """Whole samples by the rule of thumb (see the module docstring); ``headroom``: the
    retest reserve in standard deviations (labopt.schedule.model.plan_cost)."""
    c = plan_cost(inp, headroom)  # capacity claimed per sample
    e = inp.cost  # reagent used per sample (expected)
    nd, ns, T = inp.nd, inp.ns, inp.days
    x = np.zeros((inp.npairs, ns, T))
    waiting = np.zeros((nd, ns, T))
    untested = np.zeros((nd, ns, T))
    reagent_left = inp.reagent_cum[:, 0].copy()
    # each unit's labs: active first, then standby, nearest first
    by_unit: dict[int, list[int]] = {d: [] for d in range(nd)}
    for p in np.lexsort((inp.pair_hours, inp.standby[inp.pair_l])):
        by_unit[int(inp.pair_d[p])].append(int(p))
    streams = np.argsort(inp.priority, kind="stable")
    limit = wait_limit(inp)
    carry = np.zeros((nd, ns))
    for t in range(T):
        if t > 0:
            reagent_left += inp.reagent_cum[:, t] - inp.reagent_cum[:, t - 1]
        room = inp.capacity[:, t].copy()
        avail = carry + inp.arrivals[:, :, t]
        for s in streams:
            for d in range(nd):
                for p in by_unit[d]:
                    if avail[d, s] <= 0:
                        break
                    lab = inp.pair_l[p]
                    n = min(
                        avail[d, s],
                        np.floor(room[lab] / c[p, s, t] + 1e-9),
                        np.floor(reagent_left[lab] / e[p, s, t] + 1e-9),
                    )
                    # whole pools: a partial last block runs its whole first stage; drop it
                    # if that does not fit
                    size, first = inp.block[p, s, t], inp.first_stage[p, s, t]
                    extra = overhead(n, size, first)
                    if n > 0 and (
                        n * c[p, s, t] + extra > room[lab] + 1e-9
                        or n * e[p, s, t] + extra > reagent_left[lab] + 1e-9
                    ):
                        n = np.floor(n / size) * size
                        extra = 0.0
                    if n <= 0:
                        continue
                    x[p, s, t] += n
                    avail[d, s] -= n
                    room[lab] -= n * c[p, s, t] + extra
                    reagent_left[lab] -= n * e[p, s, t] + extra
        carry = np.minimum(avail, limit[:, :, t])
        waiting[:, :, t] = carry
        untested[:, :, t] = avail - carry
    return Allocation(x, waiting, untested)
