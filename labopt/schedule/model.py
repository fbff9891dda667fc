"""The allocation model every solver shares: weights and costs, the LP, its solution.

Variables (samples): x[p, s, t] tested on day t by pair p's lab; b[d, s, t] waiting at the end
of day t; u[d, s, t] untested on day t (spoiled, past the stream's maximum wait); r[l, t]
reagent left at a lab at the end of day t (reactions).

Constraints:
- balance: b[d,s,t-1] + demand[d,s,t] = sum_p x[p,s,t] + b[d,s,t] + u[d,s,t] (b[d,s,0]: the
  samples waiting at the start, the scenario's backlog);
- waiting samples are at most the last max_wait days' demand (testing oldest first, this is
  exactly "no sample waits longer than max_wait days"); untested samples on day t are at most
  those collected max_wait days before (a sample is untested only when its wait limit passes);
- lab-day capacity: sum c x <= capacity[l,t], c = reactions claimed per sample (pooled:
  expected reactions of the design for that unit's prevalence and that lab's validated pool
  size, plus a reserve for retest variability, see plan_cost);
- reagent: r[l,t] = r[l,t-1] + delivery[l,t] - sum e x[.,t], r >= 0, e = expected reactions
  per sample (the reserve is capacity held back, not reagent spent).

This is a generalized network (a pooled sample costs each lab a different number of
reactions): in general an LP (labopt.schedule.lp, labopt.schedule.columns), a min-cost flow
when every sample of a unit and stream costs the same everywhere and claims no reserve
(labopt.schedule.flow).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from labopt.pooling.designs import partial_block_reactions
from labopt.scenario.model import Planning
from labopt.schedule.data import PlanInput
from labopt.schedule.supply import COVER_SHARE, SHIP_SHARE, arrives


class Allocation(NamedTuple):
    """A plan's samples: tested x (np, ns, T), waiting and untested (nd, ns, T)."""

    x: np.ndarray
    waiting: np.ndarray
    untested: np.ndarray


# In waiting days of the sample's stream, every test costs less than one waiting day, so that
# no sample is left waiting where it could be tested (and none is deferred past the horizon):
LATE = 0.3  # a result that misses the turnaround target
PAIR_SHARE = 0.2  # transport and reinforcement are scaled down, if need be, to at most this
EARLIER_SHARE = 0.02  # testing on the last day rather than the first, so earlier wins ties
# so testing a sample rather than letting it wait saves at least this many waiting days
LEAST_SAVING = 1.0 - LATE - PAIR_SHARE - EARLIER_SHARE
# waiting days a sample may be charged besides its wait limit: its test, and the test still
# needed by a sample waiting at the horizon (each below one waiting day), and one to spare
EXTRA_DAYS = 3
# waiting days by which spoiling a sample a day earlier costs more (Weights.untested_cost)
SPOIL_EARLIER = 1.1
# margin by which each tier outweighs everything below it
MARGIN = 1.2


@dataclass
class Weights:
    """Objective coefficients actually used (after the tier scaling).

    Per sample of stream s, in units of waiting_day x stream[s]: 1 per day it waits (a sample
    waiting at the horizon also its cheapest test a day later); untested[s] if it spoils; its
    test: LATE if its result misses the turnaround, pair_cost / waiting_day on the arc, and
    ``earlier`` per day of the horizon before it. A test always costs less than one waiting
    day."""

    stream: np.ndarray  # (ns,) relative weight of one sample of each stream (its tier)
    untested: np.ndarray  # (ns,) an untested sample, in waiting days of its stream
    waiting_day: float
    pair_cost: np.ndarray  # (np,) transport + reinforcement per sample (scaled, see weights)
    priority_base: float  # the smallest ratio between the weights of two priority levels
    earlier: float  # waiting days per day of the horizon before a sample is tested
    # screening by risk: (nd, ns, T) the cost of a sample the unit could collect but is asked
    # not to (by_risk_costs); None: every sample of the demand is collected
    not_collected: np.ndarray | None = None

    def test_cost(self, inp: PlanInput) -> np.ndarray:
        """(np, ns, T) cost of testing one sample on an arc (see the class docstring)."""
        day = self.waiting_day * self.stream[None, :, None]
        when = self.earlier * np.arange(inp.days)[None, None, :]
        return self.stream[None, :, None] * self.pair_cost[:, None, None] + day * (
            LATE * inp.late + when
        )

    def waiting_cost(self, inp: PlanInput) -> np.ndarray:
        """(nd, ns, T) cost of one sample waiting at the end of a day: one waiting day; on the
        last day also the test it will still need (its unit's cheapest test arc, a day later):
        a sample still waiting at the horizon is not done with, so deferring it past the
        horizon is never cheaper than testing it (and no cheaper than waiting on an earlier
        day, which would make labs keep reagent for the last day)."""
        cost = np.broadcast_to(
            self.waiting_day * self.stream[None, :, None], (inp.nd, inp.ns, inp.days)
        ).copy()
        later = self.test_cost(inp)[:, :, -1] + self.earlier * self.waiting_day * self.stream
        cheapest = np.full((inp.nd, inp.ns), np.inf)
        np.minimum.at(cheapest, inp.pair_d, later)
        cost[:, :, -1] += np.where(np.isfinite(cheapest), cheapest, 0.0)
        if self.not_collected is not None:
            # screening by risk: a sample the plan cannot test by its last day costs what
            # collecting it to spoil does, so the units are not asked to collect it
            chosen = (self.not_collected > 0).any(axis=(0, 2))
            spoiled = self.waiting_day * self.stream * (inp.max_wait + self.untested)
            cost[:, chosen, -1] = np.maximum(cost[:, chosen, -1], spoiled[None, chosen])
        return cost

    def untested_cost(self, inp: PlanInput) -> np.ndarray:
        """(ns, T) cost of one untested (spoiled) sample of each stream on each day: its
        untested weight, plus SPOIL_EARLIER waiting days for each day left in the horizon, so
        that letting a sample spoil a day early never saves the waiting day it would have
        spent before spoiling on time (a sample is untested only when its wait limit
        passes)."""
        days_left = (scenario_days(inp) - 1 - np.arange(inp.days))[None, :]
        per_day = self.waiting_day * self.stream[:, None]
        return per_day * (self.untested[:, None] + SPOIL_EARLIER * days_left)

    def objective(
        self,
        inp: PlanInput,
        x: np.ndarray,
        waiting: np.ndarray,
        untested: np.ndarray,
        not_collected: np.ndarray | None = None,
    ) -> float:
        """The objective of an allocation: x (np, ns, T) tested, waiting and untested
        (nd, ns, T) samples; with screening by risk, the samples not collected (nd, ns, T)."""
        total = (
            (self.test_cost(inp) * x).sum()
            + (self.waiting_cost(inp) * waiting).sum()
            + (self.untested_cost(inp)[None, :, :] * untested).sum()
        )
        if self.not_collected is not None and not_collected is not None:
            total += (self.not_collected * not_collected).sum()
        return float(total)

    def to_dict(self, stream_ids: list[str]) -> dict[str, object]:
        return {
            "priority_base": self.priority_base,
            "waiting_day": self.waiting_day,
            "late_result_in_waiting_days": LATE,
            "earlier_per_day_in_waiting_days": self.earlier,
            "stream_weights": dict(zip(stream_ids, self.stream.tolist(), strict=False)),
            "untested_in_waiting_days": dict(zip(stream_ids, self.untested.tolist(), strict=False)),
        }


def scenario_days(inp: PlanInput) -> int:
    """Days of the scenario's horizon (at least the plan's): the weights depend on it, not on
    the days planned, so that ``--days 3`` and the full week weigh day 1 alike."""
    return max(int(inp.scenario.province.days), inp.days)


def wait_limit(inp: PlanInput) -> np.ndarray:
    """(nd, ns, T) samples that may still wait at the end of each day: those collected in the
    stream's last max_wait days, the backlog's included (tested oldest first, no sample waits
    longer)."""
    cum = np.cumsum(inp.cohorts, axis=2)
    return (cum - lagged(cum, inp.max_wait))[:, :, -inp.days :]


def expiring(inp: PlanInput) -> np.ndarray:
    """(nd, ns, T) samples whose wait limit passes on each day: those collected max_wait days
    earlier (on day 1 and after, backlog samples of age max_wait - t + 1). Only they may be
    untested (spoiled) that day."""
    return lagged(inp.cohorts, inp.max_wait)[:, :, -inp.days :]


def lagged(a: np.ndarray, lag: np.ndarray) -> np.ndarray:
    """a[:, s, t - lag[s]] (0 before day 0), for (nd, ns, T) arrays."""
    out = np.zeros_like(a)
    for s, k in enumerate(lag.astype(int)):
        if k == 0:
            out[:, s, :] = a[:, s, :]
        elif k < a.shape[2]:
            out[:, s, k:] = a[:, s, :-k]
    return out


def plan_cost(inp: PlanInput, z: float) -> np.ndarray:
    """Reactions each sample claims of its lab-day's capacity: its expected reactions plus a
    reserve for retest variability (pooled samples only; single samples never need a retest).
    Reagent is charged at the expected reactions only (inp.cost): the reserve is capacity held
    back on the day, not reagent spent.

    A lab of capacity C filled with a design costing c reactions per sample with variance v
    per sample tests C / c samples, whose reactions have standard deviation sqrt(C v / c).
    Reserving z of them means each sample claims c + z sqrt(c v / C). C is the smallest
    daily capacity among the labs the unit may send to: the reserve is then at least z
    standard deviations at every such lab that is full of the design, and the same at every
    lab (so the allocation stays a network when it can be one).
    """
    cap = inp.reserve_capacity[inp.pair_d]  # (np,)
    reserve = z * np.sqrt(inp.cost * inp.variance / cap[:, None, None])
    return inp.cost + np.where(inp.poolable[None, :, None], reserve, 0.0)


def block_overhead(inp: PlanInput, x: np.ndarray) -> np.ndarray:
    """Reactions (np, ns, T) that whole blocks add to x samples on every arc and day
    (labopt.pooling.designs.partial_block_reactions)."""
    return partial_block_reactions(x, inp.block, inp.first_stage)


def whole_reactions(inp: PlanInput, x: np.ndarray) -> np.ndarray:
    """Expected reactions (np, ns, T) of x whole samples per arc, in whole blocks."""
    return x * inp.cost + block_overhead(inp, x)


def weights(inp: PlanInput, cfg: Planning) -> Weights:
    """Weights in tiers, most urgent priority level first: within a level, untested samples,
    then waiting days, then the test (a result past the turnaround, transport and
    reinforcement, earlier before later), which always costs less than a waiting day.

    Built from the least urgent level up. A level's untested weight (in its waiting days) is
    raised so that one untested sample outweighs every waiting day the reactions it needs could
    save for the level's other samples (reactions per sample vary from cmin to cmax within the
    level). A level's stream weight is raised so that what testing one of its samples saves
    rather than letting it wait (at least LEAST_SAVING waiting days) outweighs everything the
    reactions that sample needs could save for all less urgent samples together: an urgent
    sample is never left waiting for a less urgent one to be tested in its place, on any day,
    however the horizon ends.
    """
    c = plan_cost(inp, cfg.retest_reserve_sd)
    ns = inp.ns
    stream = np.ones(ns)
    untested = np.ones(ns)
    below = 0.0  # most cost per reaction that the samples of the levels done so far may save
    w_prev = 0.0
    for level in np.unique(inp.priority)[::-1]:
        members = inp.priority == level
        cl = c[:, members, :]
        positive = cl[cl > 0]
        cmax = float(positive.max()) if positive.size else 1.0
        cmin = float(positive.min()) if positive.size else 1.0
        days = (
            float(inp.max_wait[members].max())
            + EXTRA_DAYS
            + SPOIL_EARLIER * max(scenario_days(inp) - 1, 0)
        )
        u = max(cfg.untested, MARGIN * days * cmax / cmin)
        wl = max(
            1.0,
            cfg.priority_base * w_prev,
            MARGIN * cmax * below / (LEAST_SAVING * cfg.waiting_day),
        )
        stream[members] = wl
        untested[members] = u
        below = max(below, (u + days) * cfg.waiting_day * wl / cmin)
        w_prev = wl
    pair_cost = (
        cfg.transport_per_hour * inp.pair_hours
        + cfg.cross_district * ~inp.pair_same
        + cfg.provincial_backup * (inp.provincial[inp.pair_l] & ~inp.pair_same)
        + cfg.standby * inp.standby[inp.pair_l]
    )
    largest = float(pair_cost.max(initial=0.0))
    if largest > PAIR_SHARE * cfg.waiting_day:  # far labs: keep every test below a day
        pair_cost = pair_cost * (PAIR_SHARE * cfg.waiting_day / largest)
    tiers = np.unique(stream)
    base = float((tiers[1:] / tiers[:-1]).min()) if tiers.size > 1 else cfg.priority_base
    earlier = EARLIER_SHARE / max(scenario_days(inp) - 1, 1)
    return Weights(stream, untested, cfg.waiting_day, pair_cost, base, earlier)


# the most a sample not collected costs, as a share of what collecting it to spoil costs
NOT_COLLECTED_SHARE = 0.99


def spoiling_cost(w: Weights, inp: PlanInput) -> np.ndarray:
    """(ns, T) what a sample collected on day t costs if it is never tested: its wait limit in
    waiting days, then spoiled (Weights.untested_cost) on its last day or, past the horizon,
    on the plan's last day."""
    per_day = w.waiting_day * w.stream[:, None]
    t = np.arange(inp.days)[None, :]
    spoils = np.minimum(t + inp.max_wait[:, None], inp.days - 1)
    untested = w.untested_cost(inp)
    return per_day * (spoils - t) + np.take_along_axis(untested, spoils, axis=1)


def by_risk_costs(w: Weights, inp: PlanInput, found: np.ndarray, streams: np.ndarray) -> np.ndarray:
    """(nd, ns, T) the cost of a sample of the ``streams`` (bool, ns) a unit could collect but
    is asked not to, from ``found`` (nd, ns, T), the infections it would find: one waiting day
    of its stream (a test always costs less, so a lab with room tests what units could
    collect), up to NOT_COLLECTED_SHARE of what collecting it to spoil costs (spoiling_cost)
    in proportion to what it would find. Where capacity is short, the samples left uncollected
    are those that find least per reaction, and never are samples collected to spoil; where
    all find alike, the plan tests as much screening as on the demand as given. The stream
    keeps its tier, below the urgent ones."""
    top = float(found[:, streams, :].max(initial=0.0))
    share = found / top if top > 0 else np.ones_like(found)  # none finds any: all alike
    day = w.waiting_day * w.stream[None, :, None]
    most = NOT_COLLECTED_SHARE * spoiling_cost(w, inp)[None, :, :]
    cost = day + (most - day) * share
    return np.where(streams[None, :, None], cost, 0.0)


@dataclass
class LPSolution:
    x: np.ndarray  # (np, ns, T) samples, fractional
    waiting: np.ndarray  # (nd, ns, T)
    untested: np.ndarray  # (nd, ns, T)
    capacity_dual: np.ndarray | None  # (nl, T): objective change per extra reaction (<= 0)
    reagent_dual: np.ndarray | None  # (nl, T)
    objective: float
    bound: float
    status: str
    optimal: bool
    build_seconds: float
    solve_seconds: float
    variables: int
    constraints: int
    shipments: np.ndarray | None = None  # (routes, T) reactions sent on each day
    kit_shipments: np.ndarray | None = None  # (kit routes, T) kits sent on each day
    uncollected: np.ndarray | None = None  # (nku, poolable streams, T) samples not collected
    # screening by risk: (nd, ns, T) samples the units could collect but are asked not to
    not_collected: np.ndarray | None = None

    @classmethod
    def without_plan(
        cls,
        inp: PlanInput,
        status: str,
        build: float,
        solve: float,
        variables: int,
        constraints: int,
        bound: float = -np.inf,
    ) -> LPSolution:
        """The solver stopped without a plan (time limit, infeasible): zeros, objective NaN,
        and the lower bound known so far (-inf if none)."""
        z = np.zeros
        return cls(
            z((inp.npairs, inp.ns, inp.days)),
            z((inp.nd, inp.ns, inp.days)),
            z((inp.nd, inp.ns, inp.days)),
            None,
            None,
            float("nan"),
            float(bound),
            status,
            False,
            build,
            solve,
            variables,
            constraints,
        )


@dataclass
class LPModel:
    """The allocation LP as arrays: bounds, objective, rows (lo <= A v <= hi) and where each
    block of variables and rows starts. Columns: x (np*ns*T, pair-major), then waiting,
    untested (nd*ns*T each), then reagent left (nl*T). Rows: balance (nd*ns*T), lab-day
    capacity (nl*T), reagent (nl*T)."""

    lower: np.ndarray
    upper: np.ndarray
    obj: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    A: sp.csr_matrix
    nx: int  # test variables, the first nx columns
    nb: int  # waiting (and untested) variables
    nbal: int  # balance rows; capacity rows follow, then reagent rows (rg)
    rg: int
    x_row: np.ndarray  # (nx,) balance row (unit-stream-day) of each test variable
    # the supply network's columns (labopt.schedule.supply), when there is one: store stock
    # left from oq (nst*T), shipments from oz (nroutes*T, route-major)
    oq: int = 0
    oz: int = 0
    nst: int = 0
    nroutes: int = 0
    # collection kits: samples not collected from on (nkits), kit shipments from oy
    on: int = 0
    oy: int = 0
    nkits: int = 0
    nkitroutes: int = 0
    # screening by risk: samples not collected (nd*ns*T, zero upper bound outside the
    # screening streams) from onc; 0 without
    onc: int = 0

    @property
    def ob(self) -> int:
        return self.nx

    @property
    def ou(self) -> int:
        return self.nx + self.nb

    def lagrangian_bound(self, y: np.ndarray) -> float:
        """A lower bound of the LP's optimum from any row duals ``y`` (the Lagrangian dual
        function): min over lower <= v <= upper of c v - y (A v - rhs), where each row's rhs is
        its lower end when y > 0 and its upper end when y < 0. -inf when y gives no bound (a
        price on a row's missing end, or a negative reduced cost on a column without upper
        bound)."""
        rhs = np.where(y > 0, self.row_lower, np.where(y < 0, self.row_upper, 0.0))
        rc = self.obj - self.A.T @ y
        end = np.where(rc < 0, self.upper, self.lower)
        if not (np.isfinite(rhs).all() and np.isfinite(end).all()):
            return -np.inf
        return float(rhs @ y + rc @ end)


def relative_gap(objective: float, bound: float) -> float:
    """How far a plan's objective may be above the optimum, relative to the objective
    (inf without a finite bound)."""
    return max(objective - bound, 0.0) / max(1.0, abs(objective))


def read_back(
    m: LPModel,
    inp: PlanInput,
    v: np.ndarray,
    duals: np.ndarray,
    objective: float,
    bound: float,
    status: str,
    build: float,
    solve: float,
) -> LPSolution:
    """The LPSolution of the model's column values ``v`` and row duals."""
    nd, ns, T, nl = inp.nd, inp.ns, inp.days, inp.nl
    return LPSolution(
        x=np.clip(v[: m.nx], 0, None).reshape(inp.npairs, ns, T),
        waiting=np.clip(v[m.ob : m.ob + m.nb], 0, None).reshape(nd, ns, T),
        untested=np.clip(v[m.ou : m.ou + m.nb], 0, None).reshape(nd, ns, T),
        capacity_dual=duals[m.nbal : m.nbal + nl * T].reshape(nl, T),
        reagent_dual=duals[m.rg : m.rg + nl * T].reshape(nl, T),
        objective=float(objective),
        bound=float(bound),
        status=status,
        optimal=status == "OPTIMAL",
        build_seconds=build,
        solve_seconds=solve,
        variables=m.obj.size,
        constraints=m.row_lower.size,
        shipments=(
            np.clip(v[m.oz : m.oz + m.nroutes * T], 0, None).reshape(m.nroutes, T)
            if m.nroutes
            else None
        ),
        kit_shipments=np.clip(v[m.oy : m.oy + m.nkitroutes * T], 0, None).reshape(-1, T)
        if m.nkits
        else None,
        uncollected=np.clip(v[m.on : m.on + m.nkits], 0, None).reshape(
            -1, int(inp.poolable.sum()), T
        )
        if m.nkits
        else None,
        not_collected=np.clip(v[m.onc : m.onc + nd * ns * T], 0, None).reshape(nd, ns, T)
        if m.onc
        else None,
    )


def lp_model(inp: PlanInput, cfg: Planning, w: Weights) -> LPModel:
    """The allocation LP as arrays (see the module docstring)."""
    nd, ns, T, nl, npair = inp.nd, inp.ns, inp.days, inp.nl, inp.npairs
    c = plan_cost(inp, cfg.retest_reserve_sd)

    # ---- variables: x (pairs), b (waiting), u (untested), r (reagent left)
    nx, nb, nr = npair * ns * T, nd * ns * T, nl * T
    ox, ob, ou, orr = 0, nx, nx + nb, nx + 2 * nb
    nvar = nx + 2 * nb + nr
    P, S, Tt = np.meshgrid(np.arange(npair), np.arange(ns), np.arange(T), indexing="ij")
    xi = ox + ((P * ns + S) * T + Tt).ravel()
    Dd, Ds, Dt = np.meshgrid(np.arange(nd), np.arange(ns), np.arange(T), indexing="ij")
    dst = ((Dd * ns + Ds) * T + Dt).ravel()
    L, Lt = np.meshgrid(np.arange(nl), np.arange(T), indexing="ij")
    lt = (L * T + Lt).ravel()

    lower = np.zeros(nvar)
    upper = np.full(nvar, np.inf)
    # waiting: at most the last max_wait days of demand (0 for streams that cannot wait);
    # untested: only the samples whose wait limit passes that day
    cum = np.cumsum(inp.arrivals, axis=2)
    upper[ob + dst] = wait_limit(inp).ravel()
    upper[ou + dst] = expiring(inp).ravel()
    # a test arc carries at most its unit's samples collected so far. The balance rows imply
    # it, but as a column bound it lets HiGHS's dual simplex treat a column priced in by
    # column generation as boxed (flip it to a bound) instead of running its dual phase 1.
    # It does not depend on capacity or reagent, so their duals keep their meaning (what one
    # more reaction or delivery is worth).
    upper[xi] = cum[inp.pair_d[P], S, Tt].ravel()

    # ---- constraints
    rows, cols, vals = [], [], []
    # balance rows 0 .. nd*ns*T-1: x + b + u - b(t-1) = demand
    brow = ((inp.pair_d[P] * ns + S) * T + Tt).ravel()
    rows += [brow, dst, dst]
    cols += [xi, ob + dst, ou + dst]
    vals += [np.ones(nx), np.ones(nb), np.ones(nb)]
    prev = (Dt > 0).ravel()
    rows.append(dst[prev])
    cols.append(ob + dst[prev] - 1)
    vals.append(-np.ones(int(prev.sum())))
    nbal = nb
    # lab-day capacity rows: sum c x <= capacity
    cap_row = nbal + (inp.pair_l[P] * T + Tt).ravel()
    rows.append(cap_row)
    cols.append(xi)
    vals.append(c.ravel())
    # reagent rows: r(t) - r(t-1) + sum c x = delivery(t) (+ stock on day 1)
    rg = nbal + nl * T
    rows += [rg + (inp.pair_l[P] * T + Tt).ravel(), rg + lt]
    cols += [xi, orr + lt]
    vals += [inp.cost.ravel(), np.ones(nr)]
    later = (Lt > 0).ravel()
    rows.append(rg + lt[later])
    cols.append(orr + lt[later] - 1)
    vals.append(-np.ones(int(later.sum())))
    nrow = nbal + 2 * nl * T
    supply = np.diff(inp.reagent_cum, axis=1, prepend=0.0)  # stock + deliveries per day
    lo = [inp.arrivals.ravel(), np.full(nl * T, -np.inf), supply.ravel()]
    hi = [inp.arrivals.ravel(), inp.capacity.ravel(), supply.ravel()]
    obj = np.zeros(nvar)
    obj[xi] = w.test_cost(inp).ravel()
    obj[ob + dst] = w.waiting_cost(inp).ravel()
    obj[ou + dst] = w.untested_cost(inp)[Ds, Dt].ravel()
    m = LPModel(
        lower, upper, obj, np.empty(0), np.empty(0), sp.csr_matrix((0, 0)), nx, nb, nbal, rg, brow
    )
    e = _Entries(rows, cols, vals, lo, hi, nrow, nvar)
    if inp.supply is not None:
        _supply_block(m, inp, w, e, xi)
    if w.not_collected is not None:
        _not_collected_block(m, inp, w, e, dst)
    m.A = sp.csr_matrix(
        (np.concatenate(e.vals), (np.concatenate(e.rows), np.concatenate(e.cols))),
        shape=(e.nrow, e.nvar),
    )
    m.row_lower, m.row_upper = np.concatenate(e.lo), np.concatenate(e.hi)
    return m


def _reaction_day(inp: PlanInput, w: Weights) -> float:
    """The objective's value of testing one reaction's worth of the least urgent samples a day
    earlier: the unit of the supply network's costs."""
    return w.earlier * w.waiting_day * float(w.stream.min()) / max(float(inp.cost.max()), 1.0)


def supply_objective(inp: PlanInput, w: Weights, shipments: np.ndarray, used: np.ndarray) -> float:
    """The supply network's part of the objective for whole ``shipments`` (routes, T) and the
    reagent ``used`` (nl, T) by a plan whose input counts the shipments: their cost and the
    safety stock missing at the end of each day (as the LP charges them)."""
    sup = inp.supply
    if sup is None:
        return 0.0
    unit = _reaction_day(inp, w)
    factor = np.ones(sup.nr) if sup.cost_factor is None else sup.cost_factor
    cost = SHIP_SHARE * unit * float((((1 + sup.lead) * factor)[:, None] * shipments).sum())
    if sup.cover_days > 0:
        left = inp.reagent_cum - np.cumsum(used, axis=1)
        cost += COVER_SHARE * unit * float(np.maximum(sup.cover_days * used - left, 0).sum())
    return cost


@dataclass
class _Entries:
    """The LP's matrix entries (rows, cols, vals: lists of arrays) and row bounds (lo, hi) as
    blocks are appended, with the row and column counts so far."""

    rows: list
    cols: list
    vals: list
    lo: list
    hi: list
    nrow: int
    nvar: int

    def add(self, rows: np.ndarray, cols: np.ndarray, value: float | np.ndarray) -> None:
        self.rows.append(rows)
        self.cols.append(cols)
        self.vals.append(np.broadcast_to(np.asarray(value, dtype=float), rows.shape))

    def stock_rows(self, first: int, nodes: int, days: int, rhs: np.ndarray) -> int:
        """Rows "stock left(t) - stock left(t-1) + ... = rhs" for ``nodes`` holders, whose
        stock-left columns start at ``first`` (node-major, a column per day); returns the
        first row (node n, day t is row first + n * days + t)."""
        base = self.nrow
        N, Nt = np.meshgrid(np.arange(nodes), np.arange(days), indexing="ij")
        nt = (N * days + Nt).ravel()
        self.add(base + nt, first + nt, 1.0)
        later = (Nt > 0).ravel()
        self.add(base + nt[later], first + nt[later] - 1, -1.0)
        self.lo.append(rhs.ravel())
        self.hi.append(rhs.ravel())
        self.nrow += nodes * days
        return base

    def columns(self, m: LPModel, n: int) -> int:
        """Append n columns (lower 0, no upper bound, no cost); returns the first."""
        first = self.nvar
        self.nvar += n
        m.lower = np.concatenate([m.lower, np.zeros(n)])
        m.upper = np.concatenate([m.upper, np.full(n, np.inf)])
        m.obj = np.concatenate([m.obj, np.zeros(n)])
        return first


def _not_collected_block(
    m: LPModel, inp: PlanInput, w: Weights, e: _Entries, dst: np.ndarray
) -> None:
    """Append screening by risk: columns n (nd*ns*T) samples a unit could collect but does not
    (at most the day's demand, none outside the screening streams), costing
    Weights.not_collected. n leaves the balance row as a tested or spoiled sample does, and
    the wait limits count collected samples only: waiting b(t) + n of the last max_wait days
    <= wait_limit(t), and untested u(t) + n(t - max_wait) <= expiring(t) (oldest first, no
    sample waits longer, as for the demand as given)."""
    assert w.not_collected is not None
    nd, ns, T = inp.nd, inp.ns, inp.days
    m.onc = e.columns(m, nd * ns * T)
    chosen = w.not_collected.ravel() > 0
    m.upper[m.onc + dst] = np.where(chosen, inp.demand.ravel(), 0.0)
    m.obj[m.onc + dst] = w.not_collected.ravel()
    e.add(dst, m.onc + dst, 1.0)
    _, S, Tt = np.unravel_index(dst, (nd, ns, T))
    wait = inp.max_wait[S]
    screening = np.asarray(chosen.reshape(nd, ns, T).any(axis=(0, 2)))
    on = screening[S]  # the screening streams' rows only
    first = e.nrow
    # waiting rows: b(t) + sum_{k < max_wait, t - k >= 0} n(t - k) <= wait_limit(t)
    rows_b = np.flatnonzero(on)
    k_row = first + np.arange(rows_b.size)
    e.add(k_row, m.ob + dst[rows_b], 1.0)
    for k in range(int(inp.max_wait.max(initial=0))):
        keep = (k < wait[rows_b]) & (Tt[rows_b] - k >= 0)
        e.add(k_row[keep], m.onc + dst[rows_b[keep]] - k, 1.0)
    e.lo.append(np.full(rows_b.size, -np.inf))
    e.hi.append(wait_limit(inp).ravel()[rows_b])
    e.nrow += rows_b.size
    # untested rows: u(t) + n(t - max_wait) <= expiring(t), from the stream's wait limit on
    rows_u = np.flatnonzero(on & (Tt >= wait))
    u_row = e.nrow + np.arange(rows_u.size)
    e.add(u_row, m.ou + dst[rows_u], 1.0)
    e.add(u_row, m.onc + dst[rows_u] - wait[rows_u], 1.0)
    e.lo.append(np.full(rows_u.size, -np.inf))
    e.hi.append(expiring(inp).ravel()[rows_u])
    e.nrow += rows_u.size


def _supply_block(m: LPModel, inp: PlanInput, w: Weights, e: _Entries, xi: np.ndarray) -> None:
    """Append the supply network (labopt.schedule.supply) to the LP under construction:
    columns store stock left q (nst*T), shipments z (nr*T) and, with a safety stock, cover
    missing k (nl*T); rows store stock (nst*T) and cover (nl*T). Shipments enter the labs'
    reagent rows: out of the source on the day sent, into the target lead days later."""
    sup = inp.supply
    assert sup is not None
    T, nl, nst, nr = inp.days, inp.nl, sup.nst, sup.nr
    oq = e.columns(m, nst * T)
    oz = e.columns(m, nr * T)
    m.oq, m.oz, m.nst, m.nroutes = oq, oz, nst, nr
    R, Rt = np.meshgrid(np.arange(nr), np.arange(T), indexing="ij")
    zi = oz + (R * T + Rt).ravel()
    m.upper[zi] = np.where(sup.sendable(T), sup.limit[:, None], 0.0).ravel()
    unit = _reaction_day(inp, w)
    factor = np.ones(nr) if sup.cost_factor is None else sup.cost_factor
    cost = SHIP_SHARE * unit * (1 + sup.lead[R]) * factor[R]
    if sup.national is not None:  # the earlier, the dearer: just in time
        cost *= np.where(sup.national[R], 1 + (T - 1 - Rt) / T, 1.0)
    m.obj[zi] = cost.ravel()
    # store rows: q(t) - q(t-1) + shipments out = arrivals (+ stock on day 1)
    base = e.stock_rows(oq, nst, T, np.diff(sup.store_stock, axis=1, prepend=0.0))
    src, day = sup.source[R].ravel(), Rt.ravel()
    store = src < nst
    e.add(base + src[store] * T + day[store], zi[store], 1.0)
    # labs' reagent rows: out of a lab source on the day sent, into the target on arrival
    e.add(m.rg + (src[~store] - nst) * T + day[~store], zi[~store], 1.0)
    arrive = (Rt + sup.lead[R]).ravel()
    inside = arrive < T
    e.add(m.rg + sup.target[R].ravel()[inside] * T + arrive[inside], zi[inside], -1.0)
    if sup.cover_days > 0:  # r(t) - cover_days * (reagent used on day t) + k(t) >= 0
        ok = e.columns(m, nl * T)
        L, Lt = np.meshgrid(np.arange(nl), np.arange(T), indexing="ij")
        lt = (L * T + Lt).ravel()
        P, _, Pt = np.meshgrid(
            np.arange(inp.npairs), np.arange(inp.ns), np.arange(T), indexing="ij"
        )
        orr = m.ou + m.nb
        e.add(e.nrow + lt, orr + lt, 1.0)
        e.add(e.nrow + lt, ok + lt, 1.0)
        e.add(e.nrow + (inp.pair_l[P] * T + Pt).ravel(), xi, -sup.cover_days * inp.cost.ravel())
        e.lo.append(np.zeros(nl * T))
        e.hi.append(np.full(nl * T, np.inf))
        m.obj[ok + lt] = COVER_SHARE * unit
        e.nrow += nl * T
    if sup.nku:
        _kits_block(m, inp, w, e)


def _kits_block(m: LPModel, inp: PlanInput, w: Weights, e: _Entries) -> None:
    """Append collection kits: columns samples not collected n (nku*nsp*T: each kit unit's
    poolable streams), kits left at each kit unit g (nku*T) and store (nst*T), kit shipments
    (nkr*T); rows kits at each unit and store. A unit's kits left: g(t) = g(t-1) + kits
    arriving (kit_arrivals and shipments) - samples collected (demand - n) of its poolable
    streams; n enters the balance row as a sample gone, costing what a spoiled one does."""
    sup = inp.supply
    assert sup is not None
    T, ns, nst, nku, nkr = inp.days, inp.ns, sup.nst, sup.nku, sup.nkr
    pool = np.flatnonzero(inp.poolable)
    on = e.columns(m, nku * pool.size * T)
    og = e.columns(m, nku * T)
    oh = e.columns(m, nst * T)
    oy = e.columns(m, nkr * T)
    m.on, m.oy, m.nkits, m.nkitroutes = on, oy, nku * pool.size * T, nkr
    K, S, Kt = np.meshgrid(np.arange(nku), np.arange(pool.size), np.arange(T), indexing="ij")
    d, s, t = sup.kit_units[K].ravel(), pool[S].ravel(), Kt.ravel()
    ni = on + np.arange(nku * pool.size * T)
    m.upper[ni] = inp.demand[d, s, t]
    m.obj[ni] = w.untested_cost(inp)[s, t]
    # balance rows: a sample not collected leaves like a tested or spoiled one
    e.add((d * ns + s) * T + t, ni, 1.0)
    # unit kit rows: g(t) - g(t-1) - sum n(t) - kits arriving = stock (day 1) - demand
    rhs = -inp.demand[sup.kit_units][:, pool, :].sum(axis=1)  # (nku, T)
    rhs += sup.unit_kits
    units = e.stock_rows(og, nku, T, rhs)
    e.add(units + (K * T + Kt).ravel(), ni, -1.0)
    R, Rt = np.meshgrid(np.arange(nkr), np.arange(T), indexing="ij")
    yi = oy + (R * T + Rt).ravel()
    m.upper[yi] = np.where(arrives(sup.kit_lead, T), sup.kit_limit[:, None], 0.0).ravel()
    m.obj[yi] = (SHIP_SHARE * _reaction_day(inp, w) * (1 + sup.kit_lead[R])).ravel()
    arrive = (Rt + sup.kit_lead[R]).ravel()
    inside = arrive < T
    e.add(units + sup.kit_target[R].ravel()[inside] * T + arrive[inside], yi[inside], -1.0)
    # store kit rows: h(t) - h(t-1) + kits sent = stock (day 1) + kits arriving
    stores = e.stock_rows(oh, nst, T, sup.store_kits)
    e.add(stores + sup.kit_source[R].ravel() * T + Rt.ravel(), yi, 1.0)
