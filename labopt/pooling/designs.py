"""Pooling designs: the algorithms, their configurations and the pool trees they run.

Algorithm codes follow binGroup2:

====  ======================================================  ==================  ======
code  algorithm                                               config example      stages
====  ======================================================  ==================  ======
IT    individual testing                                      ``1``               1
D2    Dorfman two-stage: pool of k, retest positives' members ``10``              2
D3    three-stage hierarchical: pool of I, sub-pools, members ``12:4,4,4``        3
D4    four-stage hierarchical (one more level of sub-pools)   ``16:8,8:4,4,4,4``  4
A2    n x n array: rows and columns, then intersections       ``8``               2
A2M   A2 preceded by a master pool of all n x n samples       ``8``               3
ID2   informative Dorfman: pools of sorted individual risks   ``20,10,5``         2
====  ======================================================  ==================  ======

D4's third field lists, in order, how each second-stage pool of more than one sample splits at
stage 3 (``16:8,8:4,4,4,4``: 16 -> 8, 8 -> each 8 -> 4, 4 -> individuals). A sub-pool of one
sample is an individual test at that stage. ID2's pools take the risks in ascending order: the
first pool gets the lowest risks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from labopt.errors import InputError

ALGORITHMS = ("IT", "D2", "D3", "D4", "A2", "A2M", "ID2")
HIERARCHICAL = ("IT", "D2", "D3", "D4", "ID2")
ARRAYS = ("A2", "A2M")
NOMINAL_STAGES = {"IT": 1, "D2": 2, "D3": 3, "D4": 4, "A2": 2, "A2M": 3, "ID2": 2}

MAX_BLOCK = 10_000  # samples in one hierarchical block (evaluation)
MAX_ARRAY_SIDE = 100  # row/column size of an array (A2M's master pool holds side^2 samples)
MAX_DEPTH = 15  # nesting levels the kernels accept


def check_algorithm(algorithm: str) -> str:
    code = str(algorithm).strip().upper()
    if code not in ALGORITHMS:
        raise InputError(
            f"algorithm: unknown code {algorithm!r}; allowed: {', '.join(ALGORITHMS)}", "algorithm"
        )
    return code


@dataclass(frozen=True)
class PoolTree:
    """Pools of one hierarchical block in topological order (parents first).

    Pool v covers samples ``start[v]:stop[v]`` and is tested at ``stage[v]`` (1-based) if its
    parent (-1 for none) tested positive; ``leaf[i]`` is sample i's final, singleton pool.
    """

    start: np.ndarray
    stop: np.ndarray
    parent: np.ndarray
    stage: np.ndarray
    leaf: np.ndarray

    @property
    def size(self) -> np.ndarray:
        return self.stop - self.start


def partial_block_reactions(samples, size, first):
    """Reactions that whole blocks add to ``samples`` samples' expected reactions, for blocks
    of ``size`` samples whose first stage costs ``first`` reactions: a partial last pool or
    array runs its whole first stage, where per-sample costs count only its share. Scalars or
    arrays (numpy broadcasting)."""
    return np.maximum(np.ceil(samples / size - 1e-9) * first - samples * first / size, 0.0)


@dataclass(frozen=True)
class Design:
    """One pooling configuration.

    Attributes
    ----------
    algorithm : str
        One of ``ALGORITHMS``.
    first : int
        First-stage pool size for IT/D2/D3/D4 (1 for IT), row/column size n for arrays,
        block size (samples, sum of the pools) for ID2.
    stage2 : tuple of int
        D3/D4 second-stage sub-pool sizes; ID2 first-stage pool sizes.
    stage3 : tuple of int
        D4 third-stage sub-pool sizes, splitting each second-stage pool larger than one.
    """

    algorithm: str
    first: int
    stage2: tuple[int, ...] = ()
    stage3: tuple[int, ...] = ()
    _tree: PoolTree | None = field(default=None, init=False, repr=False, compare=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def parse(cls, algorithm: str, config: str | int) -> Design:
        """Build a design from its code and configuration string (see module docstring)."""
        code = check_algorithm(algorithm)
        text = str(config).strip().replace(" ", "")
        if not text:
            if code == "IT":
                text = "1"
            else:
                raise InputError(
                    f"config: {code} needs a configuration, e.g. {_EXAMPLES[code]!r}", "config"
                )
        fields = text.split(":")
        try:
            groups = [tuple(int(x) for x in f.split(",")) if f else () for f in fields]
        except ValueError:
            raise InputError(
                f"config: {text!r} is not a valid {code} configuration; expected whole numbers "
                f"like {_EXAMPLES[code]!r}",
                "config",
            ) from None
        shape_ok = {
            "IT": len(groups) == 1 and len(groups[0]) == 1,
            "D2": len(groups) == 1 and len(groups[0]) == 1,
            "A2": len(groups) == 1 and len(groups[0]) == 1,
            "A2M": len(groups) == 1 and len(groups[0]) == 1,
            "D3": len(groups) == 2 and len(groups[0]) == 1,
            "D4": len(groups) == 3 and len(groups[0]) == 1,
            "ID2": len(groups) == 1,
        }[code]
        if not shape_ok:
            raise InputError(
                f"config: {text!r} does not have the shape of a {code} configuration "
                f"(example: {_EXAMPLES[code]!r}; {_SHAPES[code]})",
                "config",
            )
        if code == "ID2":
            return cls(code, sum(groups[0]), groups[0]).validated()
        rest = list(groups[1:])
        return cls(code, groups[0][0], *rest).validated()

    def validated(self) -> Design:
        """Check the configuration; return self or raise ValueError naming the problem."""
        a, cfg = self.algorithm, self.config
        if any(x < 1 for x in (self.first, *self.stage2, *self.stage3)):
            raise InputError(f"config {cfg!r}: pool sizes must be positive whole numbers", "config")
        if a == "IT":
            if self.first != 1:
                raise InputError(
                    f"config {cfg!r}: individual testing (IT) takes config '1'", "config"
                )
        elif a in ARRAYS:
            if not 2 <= self.first <= MAX_ARRAY_SIDE:
                raise InputError(
                    f"config {cfg!r}: array {self.first}x{self.first} is out of range; the "
                    f"row/column size must be between 2 and {MAX_ARRAY_SIDE}",
                    "config",
                )
        elif a == "D2":
            if not 2 <= self.first <= MAX_BLOCK:
                raise InputError(
                    f"config {cfg!r}: D2 pool size must be between 2 and {MAX_BLOCK} "
                    f"(use IT for individual testing)",
                    "config",
                )
        elif a == "ID2":
            if not 1 <= self.first <= MAX_BLOCK:
                raise InputError(
                    f"config {cfg!r}: ID2 block must hold 1 to {MAX_BLOCK} samples", "config"
                )
        else:  # D3, D4
            if not 3 <= self.first <= MAX_BLOCK:
                raise InputError(
                    f"config {cfg!r}: {a} first-stage pool size must be between 3 and {MAX_BLOCK}",
                    "config",
                )
            if sum(self.stage2) != self.first:
                raise InputError(
                    f"config {cfg!r}: the second-stage sub-pools "
                    f"{'+'.join(map(str, self.stage2))} = {sum(self.stage2)} must add up to "
                    f"the first-stage pool size {self.first}",
                    "config",
                )
            if len(self.stage2) == 1:
                raise InputError(
                    f"config {cfg!r}: a single sub-pool of {self.first} would test the same "
                    f"pool twice; split it into smaller sub-pools",
                    "config",
                )
            if a == "D4":
                self._split_stage3()
        return self

    def _split_stage3(self) -> list[tuple[int, ...]]:
        """Stage-3 sub-pools of each second-stage pool (empty for singletons)."""
        out: list[tuple[int, ...]] = []
        pos = 0
        s3 = self.stage3
        for m in self.stage2:
            if m == 1:
                out.append(())
                continue
            taken, total = [], 0
            while total < m and pos < len(s3):
                taken.append(s3[pos])
                total += s3[pos]
                pos += 1
            if total != m:
                raise InputError(
                    f"config {self.config!r}: the third-stage sizes must split each second-stage "
                    f"pool in order; the pool of {m} gets "
                    f"{'+'.join(map(str, taken)) or 'nothing'} = {total}",
                    "config",
                )
            if len(taken) == 1:
                raise InputError(
                    f"config {self.config!r}: the second-stage pool of {m} is 'split' into "
                    f"itself; give smaller sub-pools (or 1s for individual tests)",
                    "config",
                )
            out.append(tuple(taken))
        if pos != len(s3):
            raise InputError(
                f"config {self.config!r}: {len(s3) - pos} third-stage sizes are left over after "
                f"splitting the second-stage pools {list(self.stage2)}",
                "config",
            )
        return out

    # ------------------------------------------------------------------ description
    @property
    def config(self) -> str:
        a = self.algorithm
        if a == "ID2":
            return ",".join(map(str, self.stage2))
        parts = [str(self.first)]
        if a in ("D3", "D4"):
            parts.append(",".join(map(str, self.stage2)))
        if a == "D4":
            parts.append(",".join(map(str, self.stage3)))
        return ":".join(parts)

    @property
    def nominal_stages(self) -> int:
        """Stages of the algorithm: the length of its per-stage Se/Sp vectors."""
        return NOMINAL_STAGES[self.algorithm]

    @property
    def stages(self) -> int:
        """PCR runs a sample may go through (e.g. D3 with only singleton sub-pools: 2)."""
        if self.algorithm in ARRAYS or self.algorithm == "IT":
            return self.nominal_stages
        return int(self.tree().stage.max())

    @property
    def block_size(self) -> int:
        """Samples handled by one run of the design (n*n for arrays)."""
        return self.first * self.first if self.algorithm in ARRAYS else self.first

    @property
    def first_stage_reactions(self) -> int:
        """Reactions of one block's first stage, run whether the block is full or not: one
        pool (D2/D3/D4, A2M's master pool), the block's pools (ID2), rows and columns (A2)."""
        a = self.algorithm
        if a == "A2":
            return 2 * self.first
        if a == "ID2":
            return len(self.stage2)
        return 1

    def whole_block_reactions(self, samples: float, per_sample: float) -> float:
        """Expected reactions of ``samples`` samples in whole blocks: each block's first stage
        in full (a partial last pool or array costs its first stage like a full one), plus the
        design's later-stage reactions per sample (``per_sample`` expected reactions per sample
        in full blocks, minus the first stage's share). For pools (D2, D3, D4, ID2) an upper
        bound of a partial block's true expectation, as a smaller pool is positive less often;
        for arrays, the full array's rate."""
        if samples <= 0:
            return 0.0
        extra = partial_block_reactions(samples, self.block_size, self.first_stage_reactions)
        return samples * per_sample + float(extra)

    @property
    def largest_pool(self) -> int:
        """Samples in the largest single reaction: what a lab must have validated."""
        a = self.algorithm
        if a == "A2M":
            return self.first * self.first
        if a == "ID2":
            return max(self.stage2)
        return self.first

    def __str__(self) -> str:
        return f"{self.algorithm} {self.config}"

    # ------------------------------------------------------------------ pool tree
    def tree(self) -> PoolTree:
        """The pools of one block (hierarchical algorithms only)."""
        if self.algorithm in ARRAYS:
            raise ValueError(f"{self.algorithm} is an array design: it has no pool tree")
        tree = self._tree
        if tree is None:
            tree = _build_tree(self)
            object.__setattr__(self, "_tree", tree)
        return tree


def _build_tree(d: Design) -> PoolTree:
    start, stop, parent, stage = [], [], [], []
    leaf = np.full(d.block_size, -1, dtype=np.intp)

    def add(lo: int, hi: int, par: int, st: int) -> int:
        start.append(lo)
        stop.append(hi)
        parent.append(par)
        stage.append(st)
        v = len(start) - 1
        if hi - lo == 1:
            leaf[lo] = v
        return v

    def individuals(lo: int, hi: int, par: int, st: int) -> None:
        for i in range(lo, hi):
            add(i, i + 1, par, st)

    a = d.algorithm
    if a == "IT":
        add(0, 1, -1, 1)
    elif a == "D2":
        root = add(0, d.first, -1, 1)
        individuals(0, d.first, root, 2)
    elif a == "ID2":
        lo = 0
        for m in d.stage2:
            v = add(lo, lo + m, -1, 1)
            if m > 1:
                individuals(lo, lo + m, v, 2)
            lo += m
    else:
        root = add(0, d.first, -1, 1)
        splits = d._split_stage3() if a == "D4" else [()] * len(d.stage2)
        lo = 0
        for m, sub in zip(d.stage2, splits, strict=False):
            v = add(lo, lo + m, root, 2)
            if m > 1 and not sub:
                individuals(lo, lo + m, v, 3)
            elif sub:
                lo3 = lo
                for s in sub:
                    w = add(lo3, lo3 + s, v, 3)
                    if s > 1:
                        individuals(lo3, lo3 + s, w, 4)
                    lo3 += s
            lo += m
    return PoolTree(
        start=np.asarray(start, dtype=np.intp),
        stop=np.asarray(stop, dtype=np.intp),
        parent=np.asarray(parent, dtype=np.intp),
        stage=np.asarray(stage, dtype=np.intp),
        leaf=leaf,
    )


_EXAMPLES = {
    "IT": "1",
    "D2": "10",
    "D3": "12:4,4,4",
    "D4": "16:8,8:4,4,4,4",
    "A2": "8",
    "A2M": "8",
    "ID2": "20,10,5",
}
_SHAPES = {
    "IT": "just '1'",
    "D2": "one pool size",
    "A2": "one row/column size",
    "A2M": "one row/column size",
    "D3": "pool size, a colon, then the sub-pool sizes",
    "D4": "pool size : second-stage sizes : third-stage sizes",
    "ID2": "comma-separated pool sizes",
}
