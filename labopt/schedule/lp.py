"""The allocation LP (labopt.schedule.model) solved whole with OR-Tools: GLOP or HiGHS.

Its optimum is proven (gap 0); without a plan within the time limit the solution says so
(objective NaN).
"""

from __future__ import annotations

import time

from labopt.errors import InputError
from labopt.scenario.model import Planning
from labopt.schedule import ortools_lp
from labopt.schedule.data import PlanInput
from labopt.schedule.model import LPSolution, Weights, lp_model, read_back

BACKENDS = ("glop", "highs")


def solve_whole_lp(inp: PlanInput, cfg: Planning, w: Weights, backend: str) -> LPSolution:
    """Solve the allocation LP with OR-Tools' ``backend`` ("glop" or "highs") within
    ``cfg.time_limit_seconds``."""
    if backend not in BACKENDS:
        raise InputError(f"LP backend: one of {', '.join(BACKENDS)}; got {backend!r}", "backend")
    # imported here: OR-Tools is slow to import, and most plans do not need it
    from ortools.linear_solver.python import model_builder

    t0 = time.perf_counter()
    m = lp_model(inp, cfg, w)
    model = model_builder.Model()
    # OR-Tools' generated stub declares Eigen shapes (ndarray[float64[m, 1]]), which mypy reads
    # as a shape type no array has
    fill = model.helper.fill_model_from_sparse_data
    fill(m.lower, m.upper, m.obj, m.row_lower, m.row_upper, m.A)  # type: ignore[arg-type]
    build = time.perf_counter() - t0

    solver = model_builder.Solver(backend)
    if backend == "highs":
        solver.set_solver_specific_parameters("output_flag=false")  # no banner on stdout
    solver.set_time_limit_in_seconds(cfg.time_limit_seconds)
    t1 = time.perf_counter()
    status = solver.solve(model)
    solve_secs = time.perf_counter() - t1
    found = ortools_lp.solution(solver, model)
    if found is None:
        return LPSolution.without_plan(
            inp, status.name, build, solve_secs, m.obj.size, m.row_lower.size
        )
    values, duals = found
    return read_back(
        m,
        inp,
        values,
        duals,
        solver.objective_value,
        solver.best_objective_bound,
        status.name,
        build,
        solve_secs,
    )
