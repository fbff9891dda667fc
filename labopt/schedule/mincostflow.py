"""Min-cost flow on integer data, by labopt's network simplex or by OR-Tools.

Two independent solvers of the same problem (node supplies summing to zero, arc capacities
and integer costs): ``"simplex"``, the primal network simplex of ext/_netsimplex.pyx, and
``"ortools"``, OR-Tools' SimpleMinCostFlow (cost scaling). Both return a proven optimum; the
tests check that their costs agree on every fixture and on random networks.

The network simplex prices arcs in blocks, so the order of the arcs matters: grouped as the
planner builds them (all tests of a unit-stream-day together) they need several times the
pivots of a shuffled order. The arcs are therefore handed to the kernel in a seeded random
order (the same every run, so plans are reproducible).

OR-Tools' SimpleMinCostFlow has no time limit of its own, so with ``max_seconds`` it runs in a
child process that is killed at the limit (status "TIME_LIMIT", as the simplex's): a plan
never hangs on it. The child is spawned, so no thread state is forked; starting it is paid only
when a limit is given.
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

import numpy as np
import numpy.typing as npt

import labopt._netsimplex as _netsimplex
from labopt.errors import InputError

SOLVERS = ("simplex", "ortools")
_ORDER_SEED = 20_201


@dataclass
class FlowResult:
    status: str  # "OPTIMAL", "INFEASIBLE", "UNBOUNDED" or the solver's own word
    flow: np.ndarray  # (m,) int64 flow per arc (zeros unless OPTIMAL)
    cost: int  # total cost of the flow
    seconds: float  # solve only
    pivots: int | None = None
    potential: np.ndarray | None = None  # (n,) node potentials at the optimum (simplex only):
    # cost + potential[tail] - potential[head] is each arc's reduced cost

    @property
    def optimal(self) -> bool:
        return self.status == "OPTIMAL"


def min_cost_flow(
    tail: npt.ArrayLike,
    head: npt.ArrayLike,
    capacity: npt.ArrayLike,
    cost: npt.ArrayLike,
    supply: npt.ArrayLike,
    *,
    solver: str = "simplex",
    max_seconds: float | None = None,
) -> FlowResult:
    """Solve min sum(cost * flow) subject to 0 <= flow <= capacity and, at every node,
    outflow - inflow = supply. Nodes are 0..len(supply)-1; all data are integers.

    ``max_seconds`` limits either solver (status "TIME_LIMIT"): the simplex checks its clock,
    OR-Tools runs in a child process stopped at the limit (see the module docstring)."""
    if solver not in SOLVERS:
        raise InputError(f"flow solver: one of {', '.join(SOLVERS)}; got {solver!r}", "solver")
    given = {"tail": tail, "head": head, "capacity": capacity, "cost": cost, "supply": supply}
    data: dict[str, np.ndarray] = {}
    for name, values in given.items():
        array = np.asarray(values)
        if array.size and array.dtype.kind not in "iu":
            raise ValueError(f"{name}: integers expected, got {array.dtype}")
        data[name] = array
    n, m = data["supply"].size, data["tail"].size
    if not (data["head"].size == data["capacity"].size == data["cost"].size == m):
        raise ValueError("tail, head, capacity and cost must have one entry per arc")
    for name in ("tail", "head"):
        if m and (data[name].min() < 0 or data[name].max() >= n):
            raise ValueError(f"{name}: node numbers must be in 0..{n - 1}")
    tail, head = (np.ascontiguousarray(data[k], dtype=np.int32) for k in ("tail", "head"))
    capacity, cost, supply = (
        np.ascontiguousarray(data[k], dtype=np.int64) for k in ("capacity", "cost", "supply")
    )
    if solver == "simplex":
        return _simplex(tail, head, capacity, cost, supply, max_seconds or 0.0)
    if max_seconds is None:
        return _ortools(tail, head, capacity, cost, supply)
    return _ortools_limited(tail, head, capacity, cost, supply, max_seconds)


def _simplex(
    tail: np.ndarray,
    head: np.ndarray,
    capacity: np.ndarray,
    cost: np.ndarray,
    supply: np.ndarray,
    max_seconds: float,
) -> FlowResult:
    order = np.random.default_rng(_ORDER_SEED).permutation(tail.size).astype(np.int32)
    t0 = time.perf_counter()
    status, flow, potential, pivots = _netsimplex.min_cost_flow(
        tail[order], head[order], capacity[order], cost[order], supply, max_seconds=max_seconds
    )
    seconds = time.perf_counter() - t0
    out = np.empty_like(flow)
    out[order] = flow
    word = {
        _netsimplex.OPTIMAL: "OPTIMAL",
        _netsimplex.INFEASIBLE: "INFEASIBLE",
        _netsimplex.UNBOUNDED: "UNBOUNDED",
        _netsimplex.TIME_LIMIT: "TIME_LIMIT",
    }[status]
    if word != "OPTIMAL":
        out[:] = 0
        return FlowResult(word, out, 0, seconds, int(pivots))
    return FlowResult(word, out, _total(out, cost), seconds, int(pivots), potential)


def _total(flow: np.ndarray, cost: np.ndarray) -> int:
    """sum(flow * cost) in Python integers (int64 products could overflow)."""
    nz = np.flatnonzero(flow)
    return sum(int(f) * int(c) for f, c in zip(flow[nz].tolist(), cost[nz].tolist(), strict=False))


def _ortools(
    tail: np.ndarray, head: np.ndarray, capacity: np.ndarray, cost: np.ndarray, supply: np.ndarray
) -> FlowResult:
    # imported here: OR-Tools is slow to import, and labopt's own network simplex is the default
    from ortools.graph.python import min_cost_flow as mcf

    g = mcf.SimpleMinCostFlow()
    g.add_arcs_with_capacity_and_unit_cost(tail, head, capacity, cost)
    g.set_nodes_supplies(np.arange(supply.size, dtype=np.int32), supply)
    t0 = time.perf_counter()
    status = g.solve()
    seconds = time.perf_counter() - t0
    if status != mcf.SimpleMinCostFlow.OPTIMAL:
        return FlowResult(status.name, np.zeros(tail.size, dtype=np.int64), 0, seconds)
    flow = np.asarray(g.flows(np.arange(tail.size, dtype=np.int32)), dtype=np.int64)
    return FlowResult("OPTIMAL", flow, int(g.optimal_cost()), seconds)


def _ortools_child(
    conn: Connection,
    tail: np.ndarray,
    head: np.ndarray,
    capacity: np.ndarray,
    cost: np.ndarray,
    supply: np.ndarray,
) -> None:
    """The child process's side of _ortools_limited: the result (or the exception) back."""
    try:
        conn.send(("ok", _ortools(tail, head, capacity, cost, supply)))
    except Exception as exc:  # noqa: BLE001 -- re-raised in the parent
        conn.send(("error", exc))
    finally:
        conn.close()


def _ortools_limited(
    tail: np.ndarray,
    head: np.ndarray,
    capacity: np.ndarray,
    cost: np.ndarray,
    supply: np.ndarray,
    max_seconds: float,
) -> FlowResult:
    """_ortools in a spawned child process, killed after ``max_seconds`` (wall clock,
    start-up included) with status "TIME_LIMIT".

    A bare Process and a one-way pipe, not a multiprocessing Pool: a Pool terminated while its
    task-handler thread is still writing the arcs (megabytes) to the worker can hang for ever
    in Pool.terminate (seen in this test suite)."""
    t0 = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(
        target=_ortools_child, args=(send, tail, head, capacity, cost, supply), daemon=True
    )
    try:
        child.start()  # returns once the child has read its arguments
        send.close()  # the child holds the only writing end now
        if receive.poll(max(max_seconds - (time.perf_counter() - t0), 0.0)):
            try:
                kind, value = receive.recv()
            except EOFError:
                child.join(timeout=5)
                raise RuntimeError(
                    "OR-Tools' min-cost flow child process died without an "
                    f"answer (exit code {child.exitcode})"
                ) from None
            if kind == "error":
                raise value
            return value
        return FlowResult(
            "TIME_LIMIT", np.zeros(tail.size, dtype=np.int64), 0, time.perf_counter() - t0
        )
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
