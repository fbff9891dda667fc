"""Column values and row duals of a solved OR-Tools ``model_builder`` model, as whole arrays.

OR-Tools' public ``Solver.values`` and ``Solver.dual_values`` read one variable at a time
through pandas. Its private helper (``Solver._Solver__solve_helper``) returns them as arrays,
which a national LP needs. This module is the only place that touches it, and only on the
OR-Tools versions it was tested with (``TESTED_FROM`` up to, not including, ``TESTED_BELOW``)
and when the helper has the methods used here. Otherwise it falls back to the public API: the
same numbers, more slowly. Nothing else changes, so a new OR-Tools release never breaks a plan.
"""

from __future__ import annotations

from importlib.metadata import version as installed_version
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # OR-Tools is imported by the solve itself: it is slow to import
    from ortools.linear_solver.python import model_builder

# the range of OR-Tools versions the private helper was tested with: from pyproject's floor to
# the version installed when this was written (tests/schedule/test_ortools_lp.py)
TESTED_FROM = (9, 10)
TESTED_BELOW = (9, 16)
ORTOOLS_VERSION: str = installed_version("ortools")
HELPER = "_Solver__solve_helper"
HELPER_METHODS = ("has_solution", "variable_values", "dual_values")


def version(text: str) -> tuple[int, ...]:
    """The leading numbers of a version string: "9.15.6755" -> (9, 15, 6755)."""
    numbers = []
    for part in text.split("."):
        if not part.isdigit():
            break
        numbers.append(int(part))
    return tuple(numbers)


def tested(text: str | None = None) -> bool:
    """Whether the private helper was tested with OR-Tools version ``text`` (default: the
    installed one)."""
    return TESTED_FROM <= version(ORTOOLS_VERSION if text is None else text)[:2] < TESTED_BELOW


def bulk_helper(solver: model_builder.Solver) -> Any | None:
    """The solver's private bulk helper, or None where it is not to be trusted (an untested
    OR-Tools version, or a helper without the methods used here)."""
    if not tested():
        return None
    helper = getattr(solver, HELPER, None)
    if helper is None or not all(hasattr(helper, name) for name in HELPER_METHODS):
        return None
    return helper


def solution(
    solver: model_builder.Solver, model: model_builder.Model
) -> tuple[np.ndarray, np.ndarray] | None:
    """(column values, row duals) of the solver's last solve of ``model``, in the model's
    order of variables and constraints; None when the solve found no solution."""
    helper = bulk_helper(solver)
    if helper is not None:
        if not helper.has_solution():
            return None
        return np.asarray(helper.variable_values()), np.asarray(helper.dual_values())
    # the public API gives NA for every variable when there is no solution
    values = solver.values(model.get_variables())
    if values.isna().any():
        return None
    duals = solver.dual_values(model.get_linear_constraints())
    return values.to_numpy(dtype=float), duals.to_numpy(dtype=float)
