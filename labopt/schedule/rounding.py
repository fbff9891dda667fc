"""Whole samples from the LP's fractional solution, never exceeding a capacity.

Each (unit, stream, day) keeps the LP's number of tested samples rounded to a whole sample:
arcs are rounded down, then single samples go back to the arcs with the largest fractional
parts (most urgent streams first) where the lab and its reagent still have room, then to any
other lab of the unit with room, displacing less urgent samples if need be. Then, day by day,
samples still left are tested wherever a lab of their unit has capacity and reagent to spare;
the rest waits within the stream's wait limit and is untested past it.
"""

from __future__ import annotations

import numpy as np

from labopt.pooling.designs import partial_block_reactions as overhead
from labopt.schedule.data import PlanInput
from labopt.schedule.model import Allocation, LPSolution, plan_cost, wait_limit

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
# passes of Rounding.rescue over the samples it displaces in turn
RESCUE_PASSES = 4


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
        self.c = plan_cost(inp, headroom)  # (np, ns, T) capacity claimed per sample
        self.e = inp.cost  # (np, ns, T) reagent used per sample (expected reactions)
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
        spent = np.zeros((inp.nl, T))
        np.add.at(spent, inp.pair_l, (self.x * self.e).sum(axis=1))
        self.cum_use = np.cumsum(spent, axis=1)
        # reactions of whole blocks beyond x * cost, booked in use and cum_use (whole_blocks)
        self.booked = np.zeros((inp.nl, T))

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
        lab, need, spend = inp.pair_l[p], self.c[p, s, t], self.e[p, s, t]
        return bool(
            self.use[lab, t] + need <= inp.capacity[lab, t] * (1 + FIT_REL) + FIT_ABS
            and not (
                self.cum_use[lab, t:] + spend > inp.reagent_cum[lab, t:] * (1 + FIT_REL) + FIT_ABS
            ).any()
        )

    def add(self, p: int, s: int, t: int) -> None:
        """One more sample of stream s on pair p, day t."""
        inp = self.inp
        lab = inp.pair_l[p]
        self.x[p, s, t] += 1
        self.use[lab, t] += self.c[p, s, t]
        self.cum_use[lab, t:] += self.e[p, s, t]
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

    def displace(
        self, p: int, s: int, t: int, earlier: bool = True, left: np.ndarray | None = None
    ) -> bool:
        """Free room for one sample of stream s on pair p's lab, day t, by removing samples of
        less urgent streams from that lab-day, least urgent first, and for reagent from that
        lab's earlier days unless ``earlier`` is False (they become short themselves; on day t
        also left (nd, ns) when given); False if there are not enough to remove."""
        inp, x, c, e, use, cum_use = self.inp, self.x, self.c, self.e, self.use, self.cum_use
        lab = inp.pair_l[p]
        at_lab = inp.pairs_of_lab[lab]
        short_cap = use[lab, t] + c[p, s, t] - inp.capacity[lab, t]
        short_rg = (cum_use[lab, t:] + e[p, s, t] - inp.reagent_cum[lab, t:]).max()
        # the day's own less urgent samples first; then, for reagent, those of earlier days
        # (they wait or spoil in their turn), latest first
        for t2 in range(t, -1 if earlier else t - 1, -1):
            for s2 in np.argsort(-inp.priority, kind="stable"):
                if t2 < t:
                    short_cap = 0.0
                if max(short_cap, short_rg) <= FIT_ABS or inp.priority[s2] <= inp.priority[s]:
                    break
                have = x[at_lab, s2, t2]
                if at_lab.size == 0 or have.sum() <= 0:
                    continue
                cap_if_all = np.cumsum(have * c[at_lab, s2, t2])
                rg_if_all = np.cumsum(have * e[at_lab, s2, t2])
                stop = min(
                    max(
                        int(np.searchsorted(cap_if_all, short_cap - FIT_ABS)),
                        int(np.searchsorted(rg_if_all, short_rg - FIT_ABS)),
                    ),
                    at_lab.size - 1,
                )
                take = have.copy()
                take[stop + 1 :] = 0
                cap_before = cap_if_all[stop - 1] if stop > 0 else 0.0
                rg_before = rg_if_all[stop - 1] if stop > 0 else 0.0
                q = at_lab[stop]
                need = max(
                    (short_cap - cap_before) / c[q, s2, t2],
                    (short_rg - rg_before) / e[q, s2, t2] if e[q, s2, t2] > 0 else 0.0,
                )
                take[stop] = min(have[stop], max(np.ceil(need - WHOLE), 0.0))
                freed_cap = float((take * c[at_lab, s2, t2]).sum())
                freed_rg = float((take * e[at_lab, s2, t2]).sum())
                x[at_lab, s2, t2] -= take
                np.subtract.at(self.tested[:, s2, t2], inp.pair_d[at_lab], take)
                np.add.at(self.deficit[:, s2, t2], inp.pair_d[at_lab], take)
                if left is not None and t2 == t:
                    np.add.at(left[:, s2], inp.pair_d[at_lab], take)
                use[lab, t2] -= freed_cap
                cum_use[lab, t2:] -= freed_rg
                short_cap -= freed_cap
                short_rg -= freed_rg
            if short_rg <= FIT_ABS and short_cap <= FIT_ABS:
                break
            if short_cap > FIT_ABS:  # the day's capacity is short: earlier days cannot help
                return False
        return bool(max(short_cap, short_rg) <= FIT_ABS)

    def urgent_first(self, t: int, left: np.ndarray) -> None:
        """Samples left on day t take the place of less urgent samples at any lab of their
        unit that tests some that day, most urgent first: none waits, or spoils, while a lab
        it may use tests a less urgent sample in its place. left (nd, ns) is updated."""
        inp = self.inp
        for level in np.unique(inp.priority)[:-1]:  # the least urgent level: none below
            less = inp.priority > level
            for d, s in np.argwhere((left >= 1) & (inp.priority == level)[None, :]):
                for p in inp.pairs_of_unit[d]:
                    at_lab = inp.pairs_of_lab[inp.pair_l[p]]
                    while left[d, s] >= 1 and (self.x[at_lab][:, less, t] >= 1).any():
                        if not (self.room(p, s, t) or self.displace(p, s, t, False, left)):
                            break
                        self.add(p, s, t)
                        left[d, s] -= 1

    def fill(self, t: int, left: np.ndarray) -> None:
        """Test samples still left on day t (left: (nd, ns) whole samples available and not
        tested) wherever a lab of their unit has capacity that day and reagent to spare for
        every later day, most urgent streams first, nearest lab first, in whole pools and
        arrays: no lab stays idle while samples it may test wait or spoil."""
        inp, c = self.inp, self.c
        spare_cap = inp.capacity[:, t] * (1 + FIT_REL) + FIT_ABS - self.use[:, t]
        spare_rg = (inp.reagent_cum[:, t:] * (1 + FIT_REL) + FIT_ABS - self.cum_use[:, t:]).min(
            axis=1
        )
        open_lab = (spare_cap > 0) & (spare_rg > 0)
        if not open_lab.any():
            return
        reached = np.zeros(inp.nd, dtype=bool)
        reached[inp.pair_d[open_lab[inp.pair_l]]] = True
        cand = np.argwhere((left >= 1) & reached[:, None])
        for d, s in cand[np.argsort(inp.priority[cand[:, 1]], kind="stable")]:
            for p in inp.pairs_of_unit[d]:
                lab = inp.pair_l[p]
                if not open_lab[lab]:
                    continue
                n, dcap, drg = self._fit(p, s, t, left[d, s], spare_cap[lab], spare_rg[lab])
                if n < 1:
                    continue
                self.x[p, s, t] += n
                self.tested[d, s, t] += n
                self.use[lab, t] += dcap
                self.cum_use[lab, t:] += drg
                self.booked[lab, t] += dcap - n * c[p, s, t]
                spare_cap[lab] -= dcap
                spare_rg[lab] -= drg
                open_lab[lab] = spare_cap[lab] > 0 and spare_rg[lab] > 0
                left[d, s] -= n
                if left[d, s] < 1:
                    break

    def _fit(
        self, p: int, s: int, t: int, want: float, spare_cap: float, spare_rg: float
    ) -> tuple[float, float, float]:
        """(n, capacity, reagent): the most samples, up to ``want``, that arc p can take on
        day t within spare capacity and reagent, counting whole blocks, and what they add."""
        c, e = self.c[p, s, t], self.e[p, s, t]
        x0 = self.x[p, s, t]
        size, first = self.inp.block[p, s, t], self.inp.first_stage[p, s, t]

        def added(n: float) -> tuple[float, float]:
            extra = overhead(x0 + n, size, first) - overhead(x0, size, first)
            return n * c + extra, n * e + extra

        n = float(min(want, np.floor(spare_cap / c), np.floor(spare_rg / e) if e > 0 else want))
        for _ in range(3):  # at most one block's first stage too many: back to a boundary
            if n < 1:
                break
            dcap, drg = added(n)
            if dcap <= spare_cap and drg <= spare_rg:
                return n, dcap, drg
            n = min(n - 1, (np.ceil((x0 + n) / size - 1e-9) - 1) * size - x0)
        return 0.0, 0.0, 0.0

    def rescue(self, t: int, left: np.ndarray, limit: np.ndarray) -> None:
        """Samples about to spoil on day t (left beyond the wait limit) take the place of up to
        3 samples of the same or a less urgent stream, at a lab of their unit, whose unit can
        let them wait instead (left below its limit): a spoiled sample is worse than a few
        waiting ones (an untested sample weighs more than EXTRA_DAYS waiting days). left
        (nd, ns) is updated."""
        # the samples a rescue displaces may be doomed in turn, and rescued by displacing less
        # urgent ones at another lab: a few passes, most urgent first each time
        for _ in range(RESCUE_PASSES):
            before = self.x[:, :, t].copy()
            self._rescue_pass(t, left, limit)
            if np.array_equal(before, self.x[:, :, t]):
                return

    def _rescue_pass(self, t: int, left: np.ndarray, limit: np.ndarray) -> None:
        """One pass of rescue over the samples doomed now."""
        inp, x, c, e = self.inp, self.x, self.c, self.e
        doomed = np.argwhere(left - limit >= 1)
        for d, s in doomed[np.argsort(inp.priority[doomed[:, 1]], kind="stable")]:
            for p in inp.pairs_of_unit[d]:
                lab = inp.pair_l[p]
                spare_cap = inp.capacity[lab, t] * (1 + FIT_REL) + FIT_ABS - self.use[lab, t]
                spare_rg = float(
                    (
                        inp.reagent_cum[lab, t:] * (1 + FIT_REL) + FIT_ABS - self.cum_use[lab, t:]
                    ).min()
                )
                while left[d, s] - limit[d, s] >= 1:
                    q, s2, n = self._swappable(p, s, t, left, limit, spare_cap, spare_rg)
                    if q < 0:
                        break
                    d2 = inp.pair_d[q]
                    x[q, s2, t] -= n
                    self.tested[d2, s2, t] -= n
                    left[d2, s2] += n
                    x[p, s, t] += 1
                    self.tested[d, s, t] += 1
                    left[d, s] -= 1
                    dc = c[p, s, t] - n * c[q, s2, t]
                    de = e[p, s, t] - n * e[q, s2, t]
                    self.use[lab, t] += dc
                    self.cum_use[lab, t:] += de
                    spare_cap -= dc
                    spare_rg -= de

    def _swappable(
        self,
        p: int,
        s: int,
        t: int,
        left: np.ndarray,
        limit: np.ndarray,
        spare_cap: float,
        spare_rg: float,
    ) -> tuple[int, int, int]:
        """(pair, stream, n): n samples tested at pair p's lab on day t that may wait (or, less
        urgent, spoil) instead, to make room for one sample of stream s from pair p's unit:
        less urgent ones first; as urgent ones only in the least urgent level, and only if
        their unit is below its wait limit by n; freeing enough capacity and reagent;
        (-1, -1, 0) if none."""
        inp, x = self.inp, self.x
        at_lab = inp.pairs_of_lab[inp.pair_l[p]]
        d_of = inp.pair_d[at_lab]
        for s2 in np.argsort(-inp.priority, kind="stable"):
            if inp.priority[s2] < inp.priority[s]:
                break
            c2, e2 = self.c[at_lab, s2, t], self.e[at_lab, s2, t]
            n = np.maximum(
                np.ceil(np.maximum(self.c[p, s, t] - spare_cap, 0.0) / c2 - WHOLE),
                np.ceil(
                    np.maximum(self.e[p, s, t] - spare_rg, 0.0) / np.maximum(e2, 1e-12) - WHOLE
                ),
            )
            n = np.maximum(n, 1.0)
            if inp.priority[s2] > inp.priority[s]:
                waits = np.ones(at_lab.size, dtype=bool)  # less urgent: may even spoil
            elif inp.priority[s2] < inp.priority.max():
                break  # as urgent, above the least urgent level: it would wait while some
                # lab it may use tests less urgent samples
            else:
                waits = limit[d_of, s2] - left[d_of, s2] >= n
            ok = (
                (x[at_lab, s2, t] >= n)
                & waits
                & ~((d_of == inp.pair_d[p]) & (s2 == s))
                & (n <= 3)  # a sample about to spoil is worth a few that can wait
            )
            hit = np.flatnonzero(ok)
            if hit.size:
                return int(at_lab[hit[0]]), int(s2), int(n[hit[0]])
        return -1, -1, 0

    def whole_blocks(self, t: int, left: np.ndarray, limit: np.ndarray) -> None:
        """Keep day t's lab-days within capacity and reagent with whole pools and arrays: the
        first stage of a partial last block costs a full one's (model.block_overhead), which
        the LP's per-sample costs spread over its samples. Where a lab goes over, partial
        blocks are taken off (_trim); use and cum_use then hold the overhead left (booked).
        left (nd, ns) is updated."""
        inp = self.inp
        xt = self.x[:, :, t]
        size, first = inp.block[:, :, t], inp.first_stage[:, :, t]
        extra = overhead(xt, size, first)
        lab_extra = np.zeros(inp.nl)
        np.add.at(lab_extra, inp.pair_l, extra.sum(axis=1))
        new = lab_extra - self.booked[:, t]  # not yet in use and cum_use
        over_cap = self.use[:, t] + new - inp.capacity[:, t] * (1 + FIT_REL) - FIT_ABS
        over_rg = (
            self.cum_use[:, t:] + new[:, None] - inp.reagent_cum[:, t:] * (1 + FIT_REL) - FIT_ABS
        ).max(axis=1)
        over = np.stack([over_cap, over_rg], axis=1)  # (nl, 2) reactions over
        for lab in np.flatnonzero((over > 0).any(axis=1)):
            self._trim(int(lab), t, left, limit, extra, over[lab])
            lab_extra[lab] = extra[inp.pairs_of_lab[lab]].sum()
        change = lab_extra - self.booked[:, t]
        self.use[:, t] += change
        self.cum_use[:, t:] += change[:, None]
        self.booked[:, t] = lab_extra

    def _trim(
        self,
        lab: int,
        t: int,
        left: np.ndarray,
        limit: np.ndarray,
        extra: np.ndarray,
        over: np.ndarray,
    ) -> None:
        """Bring lab-day (lab, t) within capacity and reagent (``over``: reactions over, of
        each) in whole blocks, least urgent stream first: its partial blocks (those whose
        samples can wait, below the wait limit ``limit``, before those that would spoil;
        largest overhead per sample first), or only as many of their samples as needed; then,
        while a more urgent partial block is at stake, its other samples. ``extra`` (np, ns)
        holds each arc's block overhead on day t; left, extra and over are updated."""
        inp, x = self.inp, self.x
        at_lab = inp.pairs_of_lab[lab]
        part = np.mod(x[at_lab, :, t], inp.block[at_lab, :, t])  # (arcs, ns) partial block
        partial = (part >= 1) & (extra[at_lab] > 0)
        for level in np.unique(inp.priority)[::-1]:
            if (over <= 0).all():
                return
            members = inp.priority == level
            arcs, streams = np.nonzero(partial & members[None, :])
            r = part[arcs, streams]
            units = inp.pair_d[at_lab[arcs]]
            spoils = limit[units, streams] - left[units, streams] < r
            for k in np.lexsort((-extra[at_lab[arcs], streams] / np.maximum(r, 1), spoils)):
                if (over <= 0).all():
                    return
                p, s2 = at_lab[arcs[k]], streams[k]
                share = inp.first_stage[p, s2, t] / inp.block[p, s2, t]
                few = max(
                    np.ceil(over[0] / max(self.c[p, s2, t] - share, 1e-12) - WHOLE),
                    np.ceil(over[1] / max(self.e[p, s2, t] - share, 1e-12) - WHOLE),
                    1.0,
                )
                self._take(int(p), int(s2), t, min(few, r[k]), left, extra, over)
            urgent_at_stake = (partial & (inp.priority < level)[None, :]).any()
            if urgent_at_stake:
                self._take_samples(at_lab, members, t, left, extra, over)
        # still over: the lab holds less reagent than the LP used (whole shipments are rounded
        # down), so any samples go, least urgent first
        for level in np.unique(inp.priority)[::-1]:
            self._take_samples(at_lab, inp.priority == level, t, left, extra, over)

    def _take_samples(
        self,
        at_lab: np.ndarray,
        members: np.ndarray,
        t: int,
        left: np.ndarray,
        extra: np.ndarray,
        over: np.ndarray,
    ) -> None:
        """Take samples of the streams ``members`` off the arcs ``at_lab`` on day t (farthest
        first) until ``over`` is gone."""
        x = self.x
        for s2 in np.flatnonzero(members):
            for p in at_lab[::-1]:
                if (over <= 0).all():
                    return
                have = x[p, s2, t]
                if have < 1:
                    continue
                need = max(
                    np.ceil(over[0] / self.c[p, s2, t] - WHOLE),
                    np.ceil(over[1] / self.e[p, s2, t] - WHOLE) if self.e[p, s2, t] else 0,
                    1.0,
                )
                self._take(int(p), int(s2), t, min(need, have), left, extra, over)

    def _take(
        self,
        p: int,
        s: int,
        t: int,
        n: float,
        left: np.ndarray,
        extra: np.ndarray,
        over: np.ndarray,
    ) -> None:
        """Take n samples off arc (p, s, t): they wait (left), and what they claimed, with the
        change in their arc's block overhead, comes off the lab-day (over, extra)."""
        inp = self.inp
        after = self.x[p, s, t] - n
        ovh = float(overhead(after, inp.block[p, s, t], inp.first_stage[p, s, t]))
        freed = extra[p, s] - ovh
        self.x[p, s, t] = after
        d = inp.pair_d[p]
        self.tested[d, s, t] -= n
        left[d, s] += n
        lab = inp.pair_l[p]
        self.use[lab, t] -= n * self.c[p, s, t]
        self.cum_use[lab, t:] -= n * self.e[p, s, t]
        extra[p, s] = ovh
        over[0] -= n * self.c[p, s, t] + freed
        over[1] -= n * self.e[p, s, t] + freed

    def remove(self, d: int, s: int, t: int, n: int) -> None:
        """Take n samples of (unit d, stream s, day t) off its costliest arcs, and the room
        they claimed off their labs."""
        x = self.x
        for p in self.inp.pairs_of_unit[d][::-1]:  # farthest lab first
            k = min(n, int(x[p, s, t]))
            x[p, s, t] -= k
            self.tested[d, s, t] -= k
            lab = self.inp.pair_l[p]
            self.use[lab, t] -= k * self.c[p, s, t]
            self.cum_use[lab, t:] -= k * self.e[p, s, t]
            n -= k
            if n == 0:
                return

    def _waiting_and_untested(self) -> Allocation:
        """Day by day: fewer tested where earlier days' rounding left too few samples, lab-days
        kept within capacity and reagent in whole pools (whole_blocks), more tested where a
        lab still has room (fill) or a sample would spoil that the LP tests (rescue);
        untested as in the LP or past the wait limit, the rest waits."""
        inp, tested = self.inp, self.tested
        nd, ns, T = inp.nd, inp.ns, inp.days
        waiting = np.zeros((nd, ns, T))
        untested = np.zeros((nd, ns, T))
        limit = wait_limit(inp)
        # samples collected max_wait days ago or earlier, and those tested or spoiled so far
        expired = np.cumsum(inp.arrivals, axis=2) - limit
        done = np.zeros((nd, ns))
        carry = np.zeros((nd, ns))
        for t in range(T):
            avail = carry + inp.arrivals[:, :, t]
            over = tested[:, :, t] - avail
            for d, s in np.argwhere(over > FRACTION):  # rounding of earlier days left too few
                self.remove(d, s, t, round(over[d, s]))
            left = np.floor(avail - tested[:, :, t] + WHOLE)
            self.whole_blocks(t, left, limit[:, :, t])
            self.fill(t, left)
            # only where the LP itself lets fewer spoil: elsewhere a rescued sample only
            # pushes another one past its limit later
            self.rescue(t, left, limit[:, :, t] + np.round(self.sol.untested[:, :, t]))
            self.whole_blocks(t, left, limit[:, :, t])
            self.urgent_first(t, left)
            self.whole_blocks(t, left, limit[:, :, t])
            self.fill(t, left)
            left = avail - tested[:, :, t]
            # as many spoil as in the LP (samples it lets spoil at their limit rather than wait
            # to spoil later), at least those past the limit, and only samples past it: tested
            # and spoiled samples are the oldest, so what is left of the old ones
            done += tested[:, :, t]
            old = np.maximum(expired[:, :, t] - done, 0.0)
            lost = np.minimum(np.minimum(left, np.round(self.sol.untested[:, :, t])), old)
            carry = np.maximum(np.minimum(left - lost, limit[:, :, t]), 0.0)
            waiting[:, :, t] = carry
            untested[:, :, t] = left - carry
            done += untested[:, :, t]
        return Allocation(self.x, waiting, untested)


def integer_plan(inp: PlanInput, sol: LPSolution, headroom: float) -> Allocation:
    """Whole samples from the LP solution ``sol`` (see Rounding)."""
    return Rounding(inp, sol, headroom).allocation()
