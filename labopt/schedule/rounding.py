"""Whole samples from the LP's fractional solution, never exceeding a capacity.

Each (unit, stream, day) keeps the LP's number of tested samples rounded to a whole sample:
arcs are rounded down, then single samples go back to the arcs with the largest fractional
parts (most urgent streams first) where the lab and its reagent still have room, then to any
other lab of the unit with room, displacing less urgent samples if need be. Untested samples
follow the LP; the rest waits, within the stream's wait limit.
"""

from __future__ import annotations

import numpy as np

from labopt.schedule.data import PlanInput
from labopt.schedule.model import Allocation, LPSolution, plan_cost

# samples: an LP value this close to a whole number is that number (the solver's tolerance)
SNAP = 1e-6
# samples: a fractional part or an excess of tested samples above this is real
FRACTION = 1e-7
# samples: a single-sample stream's LP total this close below a whole number rounds up to it
CEIL_SLACK = 1e-6
# reactions: a lab-day or its reagent fits when over by at most FIT_ABS + FIT_REL x the limit
FIT_REL = 1e-9
FIT_ABS = 1e-9
# samples: a count this close above a whole number is that number (when freeing room)
WHOLE = 1e-9


class Rounding:
    """The rounding of one LP solution (see the module docstring): ``Rounding(inp, sol,
    headroom).allocation()``. ``headroom``: the retest reserve in standard deviations
    (labopt.schedule.model.plan_cost).

    State while rounding: x (np, ns, T) whole samples per arc; tested and deficit
    (nd, ns, T), samples tested per unit and how many it still lacks against its target;
    use (nl, T) reactions claimed per lab-day and cum_use their running total (reagent).
    """

    def __init__(self, inp: PlanInput, sol: LPSolution, headroom: float) -> None:
        self.inp, self.sol = inp, sol
        self.c = plan_cost(inp, headroom)  # (np, ns, T) reactions claimed per sample
        nd, ns, T = inp.nd, inp.ns, inp.days
        self.lp_x = np.where(np.abs(sol.x - np.round(sol.x)) < SNAP, np.round(sol.x), sol.x)
        self.x = np.floor(self.lp_x)
        lp_tested = np.zeros((nd, ns, T))
        np.add.at(lp_tested, inp.pair_d, self.lp_x)
        self.tested = np.zeros((nd, ns, T))
        np.add.at(self.tested, inp.pair_d, self.x)
        # single-sample streams round up (an urgent sample left half-planned is planned),
        # pooled streams to the nearest sample; the final pass keeps tested within what is
        # available
        target = np.where(
            inp.poolable[None, :, None], np.round(lp_tested), np.ceil(lp_tested - CEIL_SLACK)
        )
        self.deficit = np.maximum(target - self.tested, 0.0)
        self.use = np.zeros((inp.nl, T))
        np.add.at(self.use, inp.pair_l, (self.x * self.c).sum(axis=1))
        self.cum_use = np.cumsum(self.use, axis=1)

    def allocation(self) -> Allocation:
        """Round: fractional parts back first, then what is still short, then the waiting and
        untested samples day by day."""
        self._largest_fractions_first()
        for level in np.unique(self.inp.priority):
            self._fill_level(level)
        return self._waiting_and_untested()

    def room(self, p: int, s: int, t: int) -> bool:
        """Whether pair p's lab has capacity and reagent for one more sample of s on day t."""
        inp = self.inp
        lab, need = inp.pair_l[p], self.c[p, s, t]
        return bool(
            self.use[lab, t] + need <= inp.capacity[lab, t] * (1 + FIT_REL) + FIT_ABS
            and not (
                self.cum_use[lab, t:] + need > inp.reagent_cum[lab, t:] * (1 + FIT_REL) + FIT_ABS
            ).any()
        )

    def add(self, p: int, s: int, t: int) -> None:
        """One more sample of stream s on pair p, day t."""
        inp = self.inp
        lab, need = inp.pair_l[p], self.c[p, s, t]
        self.x[p, s, t] += 1
        self.use[lab, t] += need
        self.cum_use[lab, t:] += need
        d = inp.pair_d[p]
        self.tested[d, s, t] += 1
        self.deficit[d, s, t] -= 1

    def _largest_fractions_first(self) -> None:
        """Samples back to the arcs with the largest fractional parts, most urgent first."""
        inp = self.inp
        frac = self.lp_x - self.x
        cand = np.argwhere(frac > FRACTION)
        if not cand.size:
            return
        order = np.lexsort((-frac[tuple(cand.T)], inp.priority[cand[:, 1]]))
        for p, s, t in cand[order]:
            if self.deficit[inp.pair_d[p], s, t] >= 1 and self.room(p, s, t):
                self.add(p, s, t)

    def _fill_level(self, level: int) -> None:
        """Place what streams of this priority still lack at any lab of the unit with room,
        else make room by displacing less urgent samples (placed in their turn)."""
        inp = self.inp
        remaining = np.argwhere((self.deficit >= 1) & (inp.priority == level)[None, :, None])
        for d, s, t in remaining:
            own = inp.pairs_of_unit[d]
            for p in own:
                while self.deficit[d, s, t] >= 1 and self.room(p, s, t):
                    self.add(p, s, t)
            for p in own:
                while self.deficit[d, s, t] >= 1 and self.displace(p, s, t):
                    self.add(p, s, t)

    def displace(self, p: int, s: int, t: int) -> bool:
        """Free room for one sample of stream s on pair p's lab, day t, by removing samples of
        less urgent streams from that lab-day, least urgent first (they become short
        themselves); False if there are not enough to remove."""
        inp, x, c, use, cum_use = self.inp, self.x, self.c, self.use, self.cum_use
        lab, need = inp.pair_l[p], c[p, s, t]
        at_lab = inp.pairs_of_lab[lab]
        short = max(
            use[lab, t] + need - inp.capacity[lab, t],
            (cum_use[lab, t:] + need - inp.reagent_cum[lab, t:]).max(),
        )
        for s2 in np.argsort(-inp.priority, kind="stable"):
            if short <= FIT_ABS or inp.priority[s2] <= inp.priority[s]:
                break
            have = x[at_lab, s2, t]
            cost = c[at_lab, s2, t]
            freed_if_all = np.cumsum(have * cost)
            if freed_if_all.size == 0 or freed_if_all[-1] <= 0:
                continue
            stop = min(int(np.searchsorted(freed_if_all, short - FIT_ABS)), at_lab.size - 1)
            take = have.copy()
            take[stop + 1 :] = 0
            before = freed_if_all[stop - 1] if stop > 0 else 0.0
            take[stop] = min(have[stop], np.ceil((short - before) / cost[stop] - WHOLE))
            freed = float((take * cost).sum())
            x[at_lab, s2, t] -= take
            np.subtract.at(self.tested[:, s2, t], inp.pair_d[at_lab], take)
            np.add.at(self.deficit[:, s2, t], inp.pair_d[at_lab], take)
            use[lab, t] -= freed
            cum_use[lab, t:] -= freed
            short -= freed
        return bool(short <= FIT_ABS)

    def remove(self, d: int, s: int, t: int, n: int) -> None:
        """Take n samples of (unit d, stream s, day t) off its costliest arcs."""
        x = self.x
        for p in self.inp.pairs_of_unit[d][::-1]:  # farthest lab first
            k = min(n, int(x[p, s, t]))
            x[p, s, t] -= k
            self.tested[d, s, t] -= k
            n -= k
            if n == 0:
                return

    def _waiting_and_untested(self) -> Allocation:
        """Day by day: untested as in the LP, the rest waits within the stream's limit."""
        inp, tested = self.inp, self.tested
        nd, ns, T = inp.nd, inp.ns, inp.days
        waiting = np.zeros((nd, ns, T))
        untested = np.zeros((nd, ns, T))
        cum = np.cumsum(inp.demand, axis=2)
        carry = np.zeros((nd, ns))
        for t in range(T):
            avail = carry + inp.demand[:, :, t]
            over = tested[:, :, t] - avail
            for d, s in np.argwhere(over > FRACTION):  # rounding of earlier days left too few
                self.remove(d, s, t, round(over[d, s]))
            left = avail - tested[:, :, t]
            first = t - inp.max_wait
            older = np.where(first >= 0, cum[:, np.arange(ns), np.clip(first, 0, T - 1)], 0.0)
            limit = cum[:, :, t] - older
            lost = np.minimum(left, np.round(self.sol.untested[:, :, t]))
            carry = np.maximum(np.minimum(left - lost, limit), 0.0)
            waiting[:, :, t] = carry
            untested[:, :, t] = left - carry
        return Allocation(self.x, waiting, untested)


def integer_plan(inp: PlanInput, sol: LPSolution, headroom: float) -> Allocation:
    """Whole samples from the LP solution ``sol`` (see Rounding)."""
    return Rounding(inp, sol, headroom).allocation()
