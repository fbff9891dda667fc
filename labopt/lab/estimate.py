"""Prevalence from pooled results: maximum likelihood with the assay's Se and Sp.

A pool of k samples, each positive with probability p independently, tests positive with
probability

    pi_k(p) = Se - (Se + Sp - 1) (1 - p)^k                                   (1)

(Se, Sp: the assay's sensitivity and specificity for the pool test). With n_k pools of size k
of which y_k tested positive, the log-likelihood is

    l(p) = sum_k  y_k log pi_k(p) + (n_k - y_k) log(1 - pi_k(p)),

pools of unequal sizes allowed. The estimate is its maximiser on [0, 1]: the best point of a
fine grid, refined to the score's root by bisection (0 when the positive pools are no more
than false positives explain, 1 when every pool is positive). All groups (districts x
streams) are solved at once, vectorised with NumPy.

**Interval: the score (Wilson-type) interval**, {p : U(p)^2 / I(p) <= chi2_1(level)}, with
U the score and I the Fisher information. For one pool size it is the Wilson interval for
pi_k mapped through (1). It keeps its coverage where the likelihood-ratio interval does not:
with few positive pools (the usual case at low prevalence) the likelihood-ratio interval's
coverage falls to 85-88 %, the score interval's stays above 91 %. Exact binomial computation
for one pool size over n = 30..3,000 pools gives a coverage of 93.3-96.9 % wherever at least
10 positive and 10 negative pools are expected; ``tests/test_lab_estimate.py`` checks the
coverage by simulation for unequal pool sizes too. When the data contradict the assay (fewer
positive pools than its false-positive rate alone gives, so that even p = 0 is rejected), the
interval is the single point of the estimate and ``note`` says why.

References
----------
Hepworth G. Exact confidence intervals for proportions estimated by group testing.
Biometrics 1996;52:1134-1146.
Tebbs JM, Bilder CR. Confidence interval procedures for the probability of disease
transmission in multiple-vector-transfer designs. JABES 2004;9:75-90.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd
from scipy.special import chdtri  # inverse chi-square survival; scipy.stats is slow to import

from labopt.errors import InputError
from labopt.lab.results import INVALID, POSITIVE, parse_outcomes
from labopt.lab.tables import Problems, clean_text, parse_numbers, sheet_rows
from labopt.numbers import shown
from labopt.pooling import optimize
from labopt.pooling.assay import MAX_STAGES, SENSITIVITY, SPECIFICITY, check_informative
from labopt.pooling.validation import check_probability

_EPS = 1e-12
_GRID = np.unique(np.r_[0.0, np.geomspace(1e-9, 0.5, 360), np.linspace(0.5, 1.0, 101)])
_GRID[-1] = 1.0 - 1e-9


@dataclass(frozen=True)
class PrevalenceEstimate:
    """A prevalence estimate and its confidence interval.

    Attributes
    ----------
    prevalence, lower, upper : float
        Maximum-likelihood estimate and the interval's bounds (fractions).
    level : float
        Confidence level of the interval.
    pools, positive_pools, samples : int
        Pools with a valid result, those positive, and the samples they hold.
    se, sp : float
        Assay accuracy assumed for the pool tests.
    note : str
        '' or why the estimate sits on a boundary.
    """

    prevalence: float
    lower: float
    upper: float
    level: float
    pools: int
    positive_pools: int
    samples: int
    se: float
    sp: float
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def estimate_prevalence(
    pool_sizes, positive, *, se: float = SENSITIVITY, sp: float = SPECIFICITY, level: float = 0.95
) -> PrevalenceEstimate:
    """Maximum-likelihood prevalence from pooled results, with a score interval.

    Parameters
    ----------
    pool_sizes : array of int
        Samples in each pool (any mix of sizes; 1 = an individual test).
    positive : array of bool
        Each pool's result (True = positive). Invalid results must be left out.
    se, sp : float
        The pool test's sensitivity and specificity (fractions; Se > 1 - Sp).
    level : float
        Confidence level of the interval, in (0, 1).

    Returns
    -------
    PrevalenceEstimate
    """
    k = np.asarray(pool_sizes)
    y = np.asarray(positive, dtype=bool)
    if k.shape != y.shape or k.ndim != 1:
        raise InputError(
            "pool_sizes/positive: expected two 1-D arrays of the same length", "pool_sizes/positive"
        )
    if k.size == 0:
        raise InputError("pool_sizes: no pools with a valid result", "pool_sizes")
    if not np.issubdtype(k.dtype, np.number) or (k < 1).any() or (k != np.round(k)).any():
        raise InputError("pool_sizes: pool sizes must be whole numbers ≥ 1", "pool_sizes")
    sizes, inv = np.unique(k.astype(np.int64), return_inverse=True)
    n = np.bincount(inv)
    pos = np.bincount(inv, weights=y).astype(np.int64)
    return estimate_from_counts(sizes, n, pos, se=se, sp=sp, level=level)


def estimate_from_counts(
    sizes,
    pools,
    positive_pools,
    *,
    se: float = SENSITIVITY,
    sp: float = SPECIFICITY,
    level: float = 0.95,
) -> PrevalenceEstimate:
    """:func:`estimate_prevalence` from counts: ``pools[j]`` pools of ``sizes[j]`` samples,
    ``positive_pools[j]`` of them positive."""
    k = np.asarray(sizes, dtype=np.int64)
    n = np.asarray(pools, dtype=np.int64)
    y = np.asarray(positive_pools, dtype=np.int64)
    if not (k.shape == n.shape == y.shape) or k.ndim != 1 or k.size == 0:
        raise InputError(
            "sizes/pools/positive_pools: expected three 1-D arrays of the same, non-zero length",
            "sizes/pools/positive_pools",
        )
    if (k < 1).any() or (n < 0).any() or (y < 0).any() or (y > n).any():
        raise InputError(
            "sizes/pools/positive_pools: sizes ≥ 1, 0 ≤ positive pools ≤ pools",
            "sizes/pools/positive_pools",
        )
    keep = n > 0
    if not keep.any():
        raise InputError("pools: no pools with a valid result", "pools")
    se, sp, level = _check_accuracy(se, sp, level)
    row = _fit(k[keep][None, :], n[keep][None, :], y[keep][None, :], se, sp, level).iloc[0]
    return PrevalenceEstimate(
        **{
            f: (row[f].item() if hasattr(row[f], "item") else row[f])
            for f in PrevalenceEstimate.__dataclass_fields__
        }
    )


def estimate_groups(
    sizes,
    pools,
    positive_pools,
    *,
    se: float = SENSITIVITY,
    sp: float = SPECIFICITY,
    level: float = 0.95,
) -> pd.DataFrame:
    """Estimates for many groups at once (vectorised).

    Parameters
    ----------
    sizes, pools, positive_pools : arrays of shape (groups, J)
        Row g: ``pools[g, j]`` pools of ``sizes[g, j]`` samples, ``positive_pools[g, j]``
        positive; pad unused entries with ``pools = 0``.
    se, sp, level : as :func:`estimate_prevalence`.

    Returns
    -------
    pandas.DataFrame
        One row per group with ``ESTIMATE_COLUMNS``.
    """
    k = np.atleast_2d(np.asarray(sizes, dtype=np.int64))
    n = np.atleast_2d(np.asarray(pools, dtype=np.int64))
    y = np.atleast_2d(np.asarray(positive_pools, dtype=np.int64))
    if not (k.shape == n.shape == y.shape) or k.ndim != 2 or k.size == 0:
        raise InputError(
            "sizes/pools/positive_pools: expected three arrays of the same "
            "shape (groups, pool sizes)",
            "sizes/pools/positive_pools",
        )
    if (k < 1).any() or (n < 0).any() or (y < 0).any() or (y > n).any():
        raise InputError(
            "sizes/pools/positive_pools: sizes ≥ 1, 0 ≤ positive pools ≤ pools",
            "sizes/pools/positive_pools",
        )
    if (n.sum(axis=1) == 0).any():
        raise InputError("pools: every group needs at least one pool with a valid result", "pools")
    se, sp, level = _check_accuracy(se, sp, level)
    return _fit(k, n, y, se, sp, level)[list(ESTIMATE_COLUMNS)]


def _check_accuracy(se, sp, level) -> tuple[float, float, float]:
    se = check_probability(se, "se")
    sp = check_probability(sp, "sp")
    check_informative([se], [sp])
    level = float(level)
    if not 0 < level < 1:
        raise InputError(
            f"level: the confidence level must be in (0, 1), got {shown(level)}", "level"
        )
    return se, sp, level


class _Counts:
    """Counts of G groups over J pool sizes (zero-padded) and the likelihood pieces of (1).

    Functions of p take an array of shape (G, M) (M values per group) and return (G, M).
    """

    def __init__(self, k, n, y, se: float, sp: float):
        self.k = np.asarray(k, dtype=float)[:, None, :]  # (G, 1, J)
        self.n = np.asarray(n, dtype=float)[:, None, :]
        self.y = np.asarray(y, dtype=float)[:, None, :]
        self.se, self.sp, self.c = se, sp, se + sp - 1.0
        used = np.where(self.n > 0, self.k, np.inf)
        self.kmin = used.min(axis=2, keepdims=True)  # (G, 1, 1)

    def _pieces(self, p):
        p = np.asarray(p, dtype=float)[:, :, None]  # (G, M, 1)
        log_q = np.log1p(-np.minimum(p, 1.0))
        pi = (1.0 - self.sp) + self.c * (-np.expm1(self.k * log_q))
        one_minus = (1.0 - self.se) + self.c * np.exp(self.k * log_q)
        # pi' / (1 - p)^(kmin - 1): the common factor would underflow near p = 1
        dpi = self.c * self.k * np.exp((self.k - self.kmin) * log_q)
        return pi, one_minus, dpi

    def loglik(self, p) -> np.ndarray:
        pi, om, _ = self._pieces(p)
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(self.y > 0, self.y * np.log(pi), 0.0)
            b = np.where(self.n - self.y > 0, (self.n - self.y) * np.log(om), 0.0)
        return (a + b).sum(axis=2)

    def score(self, p) -> np.ndarray:
        """The score up to a positive factor per group (same sign and roots)."""
        pi, om, dpi = self._pieces(p)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(self.n > 0, dpi * (self.y - self.n * pi) / (pi * om), 0.0)
        return t.sum(axis=2)

    def score_stat(self, p) -> np.ndarray:
        """U(p)^2 / I(p): the score test statistic (the scaling of pi' cancels)."""
        pi, om, dpi = self._pieces(p)
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(self.n > 0, dpi / (pi * om), 0.0)
            u = (w * (self.y - self.n * pi)).sum(axis=2)
            info = (self.n * w * dpi).sum(axis=2)
            s = u * u / info
        return np.where(np.isnan(s), np.inf, s)


def _bisect(f, lo: np.ndarray, hi: np.ndarray, iterations: int = 64) -> np.ndarray:
    """Roots of f (G values -> G values) in [lo, hi] where sign f(lo) != sign f(hi),
    for every group at once. Brackets are grid cells (at most 0.03 wide), so 64 halvings
    leave less than 1e-21."""
    lo, hi = lo.astype(float).copy(), hi.astype(float).copy()
    f_lo = np.sign(f(lo))
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        same = np.sign(f(mid)) == f_lo
        lo = np.where(same, mid, lo)
        hi = np.where(same, hi, mid)
    return 0.5 * (lo + hi)


def _fit(k, n, y, se: float, sp: float, level: float) -> pd.DataFrame:
    """Estimates for G groups: arrays (G, J) of pool sizes, pools and positive pools.
    Groups with the same counts are solved once."""
    k, n, y = (np.asarray(a, dtype=np.int64) for a in (k, n, y))
    J = k.shape[1]
    uniq, inv = np.unique(np.concatenate([k, n, y], axis=1), axis=0, return_inverse=True)
    if uniq.shape[0] < k.shape[0]:
        out = _fit(uniq[:, :J], uniq[:, J : 2 * J], uniq[:, 2 * J :], se, sp, level)
        return out.iloc[inv.ravel()].reset_index(drop=True)
    model = _Counts(k, n, y, se, sp)
    G = model.k.shape[0]
    crit = float(chdtri(1, 1 - level))
    grid = np.broadcast_to(_GRID, (G, _GRID.size))
    rows = np.arange(G)
    N = np.asarray(n).sum(axis=1)
    Y = np.asarray(y).sum(axis=1)
    col = lambda f: lambda p: f(p[:, None])[:, 0]  # noqa: E731
    # --- maximum likelihood: bracket the grid's best point, then the score's root
    i = np.argmax(model.loglik(grid), axis=1)
    lo = _GRID[np.maximum(i - 1, 0)]
    hi = _GRID[np.minimum(i + 1, _GRID.size - 1)]
    s_lo, s_hi = col(model.score)(lo), col(model.score)(hi)
    interior = (s_lo > 0) & (s_hi < 0)
    p_hat = _GRID[i].copy()
    if interior.any():
        p_hat[interior] = _bisect_rows(model.score, lo, hi, interior)[interior]
    p_hat = np.where(Y == 0, 0.0, np.where(Y == N, 1.0, p_hat))
    p_hat = np.where(p_hat >= _GRID[-1], 1.0, p_hat)
    # --- score interval
    at_hat = np.clip(p_hat, _EPS, _GRID[-1])
    stat_hat = col(model.score_stat)(at_hat)
    s = model.score_stat(grid) - crit
    lower = np.zeros(G)
    upper = np.ones(G)
    below = (grid < p_hat[:, None]) & (s > 0)
    has = below.any(axis=1)
    if has.any():
        j = _GRID.size - 1 - np.argmax(below[:, ::-1], axis=1)  # last such index
        a = np.maximum(_GRID[j], _EPS)
        b = np.minimum(_GRID[np.minimum(j + 1, _GRID.size - 1)], at_hat)
        root = _bisect_rows(lambda p: model.score_stat(p) - crit, a, b, has)
        lower[has] = root[has]
    above = (grid > p_hat[:, None]) & (s > 0)
    has = above.any(axis=1)
    if has.any():
        j = np.argmax(above, axis=1)
        a = np.maximum(_GRID[np.maximum(j - 1, 0)], at_hat)
        b = _GRID[j]
        root = _bisect_rows(lambda p: model.score_stat(p) - crit, a, b, has)
        upper[has] = root[has]
    lower = np.minimum(lower, p_hat)
    upper = np.maximum(upper, p_hat)
    odd = stat_hat > crit
    lower[odd] = upper[odd] = p_hat[odd]
    note = np.full(G, "", dtype=object)
    note[Y == 0] = "no positive pool"
    note[(Y == N) & (Y > 0)] = "every pool positive: the data bound the prevalence from below only"
    note[(Y > 0) & (p_hat == 0)] = "no more positive pools than false positives explain"
    note[odd & (p_hat == 0)] = (
        "the results are unlikely under the assay's Se/Sp at any "
        "prevalence: fewer positive pools than false positives alone "
        "give; check the specificity"
    )
    note[odd & (p_hat > 0)] = (
        "the results are unlikely under the assay's Se/Sp at any "
        "prevalence: more positive pools than the sensitivity allows; "
        "check the sensitivity"
    )
    return pd.DataFrame(
        {
            "pools": N.astype(np.int64),
            "positive_pools": Y.astype(np.int64),
            "samples": (np.asarray(k) * np.asarray(n)).sum(axis=1).astype(np.int64),
            "prevalence": p_hat,
            "lower": lower,
            "upper": upper,
            "level": level,
            "se": se,
            "sp": sp,
            "note": note,
        },
        index=rows,
    )


def _bisect_rows(f, lo, hi, mask) -> np.ndarray:
    """_bisect for f taking and returning (G, 1) arrays, on the groups in ``mask`` (the
    others get a meaningless value)."""
    lo = np.where(mask, lo, 0.5)
    hi = np.where(mask, hi, 0.5)
    return _bisect(lambda p: f(p[:, None])[:, 0], lo, hi)


# ---------------------------------------------------------------------- tables
ESTIMATE_COLUMNS = (
    "pools",
    "positive_pools",
    "samples",
    "prevalence",
    "lower",
    "upper",
    "level",
    "se",
    "sp",
    "note",
)


def estimate_table(
    table: pd.DataFrame,
    *,
    se: float = SENSITIVITY,
    sp: float = SPECIFICITY,
    level: float = 0.95,
    by: tuple[str, ...] = ("district", "stream"),
    source: str = "results",
) -> pd.DataFrame:
    """Prevalence per group (by default per district and stream) from first-stage results.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per pool: ``size`` (samples in the pool), ``result`` (positive, negative or
        invalid; invalid rows are left out) and the ``by`` columns that are present (a
        missing column is not grouped on).
    se, sp : float
        The pool test's accuracy.
    level : float
    by : tuple of str
        Grouping columns.
    source : str
        Named in errors.

    Returns
    -------
    pandas.DataFrame
        One row per group: the ``by`` columns present, then ``ESTIMATE_COLUMNS``.

    Raises
    ------
    LabInputError
        Missing columns, a size that is not a whole number ≥ 1, an unreadable result.
    """
    se, sp, level = _check_accuracy(se, sp, level)
    problems = Problems(source)
    df = table.copy()
    df.columns = [str(c).strip().lower() for c in df.columns]
    if "pool_size" in df.columns and "size" not in df.columns:
        df = df.rename(columns={"pool_size": "size"})
    for c in ("size", "result"):
        if c not in df.columns:
            problems.add(
                f"missing column {c!r}; expected columns: size, result, and "
                f"optionally {', '.join(by)}"
            )
    problems.raise_if_any()
    if len(df) == 0:
        problems.add("no pools in the table")
        problems.raise_if_any()
    text = pd.DataFrame({c: clean_text(df[c]) for c in df.columns})
    size = parse_numbers(
        text["size"],
        problems,
        "size",
        low=1,
        high=1e6,
        blank_ok=False,
        what="a whole number of samples",
    )
    frac = ~np.isnan(size) & (size != np.round(size))
    problems.add_rows(
        frac,
        sheet_rows(len(df)),
        text["size"].to_numpy(),
        "size",
        "expected a whole number of samples ≥ 1",
    )
    outcome = parse_outcomes(text["result"], problems)
    problems.raise_if_any()
    keys = [c for c in by if c in df.columns]
    ok = outcome != INVALID
    data = pd.DataFrame({c: text[c].to_numpy() for c in keys})
    data["size"] = size.astype(np.int64)
    data["pos"] = outcome == POSITIVE
    data = data[ok]
    if len(data) == 0:
        problems.add("no valid result (every row is invalid)", column="result")
        problems.raise_if_any()
    agg = data.groupby([*keys, "size"], sort=True)["pos"].agg(n="count", y="sum")
    agg = agg.reset_index()
    group = (
        agg.groupby(keys, sort=True).ngroup().to_numpy()
        if keys
        else np.zeros(len(agg), dtype=np.int64)
    )
    slot = agg.groupby(group).cumcount().to_numpy()
    G, J = int(group.max()) + 1, int(slot.max()) + 1
    k, n, y = np.ones((G, J), np.int64), np.zeros((G, J), np.int64), np.zeros((G, J), np.int64)
    k[group, slot] = agg["size"].to_numpy()
    n[group, slot] = agg["n"].to_numpy()
    y[group, slot] = agg["y"].to_numpy()
    est = _fit(k, n, y, se, sp, level)[list(ESTIMATE_COLUMNS)]
    labels = (
        agg.drop_duplicates(keys)[keys].reset_index(drop=True)
        if keys
        else pd.DataFrame(index=range(1))
    )
    return pd.concat([labels, est.reset_index(drop=True)], axis=1)


def planning_prevalence(estimates: pd.DataFrame) -> pd.Series:
    """The prevalence the next plans should assume for each group of :func:`estimate_table`:
    its estimate, except where the estimate is 0 (no positive pool, or no more than false
    positives explain), where it is the interval's upper bound: a plan that assumed no
    infection at all would choose pools as large as the lab allows, and the data only say
    that prevalence is low, not nil."""
    est = estimates["prevalence"].astype(float)
    return est.where(est > 0, estimates["upper"].astype(float)).rename("prevalence")


def prevalence_frame(estimates: pd.DataFrame) -> pd.DataFrame:
    """The estimates in the scenario's ``prevalence.csv`` format (district, stream,
    prevalence: :func:`planning_prevalence`), ready for tomorrow's plan and for the daily
    loop's ``prevalence`` record."""
    missing = [c for c in ("district", "stream") if c not in estimates.columns]
    if missing:
        raise InputError(
            f"estimates: a scenario's prevalence table needs the columns "
            f"district and stream; missing {', '.join(missing)}",
            "estimates",
        )
    return estimates[["district", "stream"]].assign(prevalence=planning_prevalence(estimates))


# which prevalence a group's design is chosen for: the estimate, or its interval's upper bound
DesignAt = Literal["estimate", "upper"]
DESIGN_AT: tuple[str, ...] = get_args(DesignAt)


def design_prevalence(est: pd.DataFrame, design_at: str, what: str = "design_at") -> pd.Series:
    """The prevalence (fraction positive) each group's design is chosen for, from the rows of
    :func:`estimate_table`: ``"estimate"``, the estimate itself, or ``"upper"``, its interval's
    upper bound (cautious: smaller pools where data are sparse). The CLI and the service both
    take it from here. ``what`` names the option in the error for another value."""
    if design_at not in DESIGN_AT:
        raise InputError(f"{what}: {design_at!r}; allowed: {', '.join(DESIGN_AT)}", parameter=what)
    return est["prevalence" if design_at == "estimate" else "upper"]


def with_design(
    est: pd.DataFrame,
    prevalence: pd.Series,
    *,
    se: float,
    sp: float,
    max_size: int = 10,
    max_stages: int = MAX_STAGES,
) -> pd.DataFrame:
    """The estimates with the lowest-cost design of any family (:func:`labopt.pooling.optimize`)
    at each group's ``prevalence`` (the estimate, or its upper bound for a cautious design):
    columns ``algorithm``, ``config``, ``expected_tests_per_sample`` (reactions per sample)."""
    cache: dict[float, tuple] = {}
    rows = []
    for p in prevalence:
        if p not in cache:
            res = optimize(float(p), se=se, sp=sp, max_size=max_size, max_stages=max_stages)
            b = res.best
            cache[p] = (
                (b.algorithm, b.config, float(b.expected_tests_per_sample))
                if b is not None
                else ("", "", float("nan"))
            )
        rows.append(cache[p])
    out = est.copy()
    out["algorithm"], out["config"], out["expected_tests_per_sample"] = zip(*rows, strict=False)
    return out


__all__ = [
    "DESIGN_AT",
    "PrevalenceEstimate",
    "design_prevalence",
    "estimate_from_counts",
    "estimate_groups",
    "estimate_prevalence",
    "estimate_table",
    "planning_prevalence",
    "prevalence_frame",
    "with_design",
]
