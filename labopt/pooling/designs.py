"""Pooling designs: the algorithms, their configurations and the pool trees they run.

Algorithm codes follow binGroup2:

====  ======================================================  ==================  ======
code  algorithm                                               config example      stages
====  ======================================================  ==================  ======
IT    individual testing                                      ``1``               1
D2    Dorfman two-stage: pool of k, retest positives' members ``10``              2
D3    three-stage hierarchical: pool of I, sub-pools, members ``12:4,4,4``        3
D4    four-stage hierarchical (one more level of sub-pools)   ``16:8,8:4,4,4,4``  4
D5    five-stage hierarchical (and one more)                  ``16:8,8:4,4,4,4:`` 5
                                                              ``2,2,2,2,2,2,2,2``
A2    r x c array: rows and columns, then intersections       ``8`` or ``8x12``   2
A2M   A2 preceded by a master pool of all r x c samples       ``8`` or ``8x12``   3
ID2   informative Dorfman: pools of sorted individual risks   ``20,10,5``         2
ID3   informative three-stage: ID2's pools split in sub-pools ``12,8:4,4,4,5,3``  3
ID4   informative four-stage: ID3's sub-pools split again     ``16:8,8:4,4,4,4``  4
IA2   informative array: A2 with samples placed by risk       ``8x12``            2
====  ======================================================  ==================  ======

D4's third field lists, in order, how each second-stage pool of more than one sample splits at
stage 3 (``16:8,8:4,4,4,4``: 16 -> 8, 8 -> each 8 -> 4, 4 -> individuals); D5's fourth field
how each third-stage pool of more than one sample splits at stage 4, in the third field's
order. A pool's last listed split is followed by individual tests. ``h16`` (D2 to D5) is
halving: each positive pool split in two, stage after stage (:meth:`Design.halving`). A
sub-pool of one sample is an individual test at that stage.

ID2's pools take the risks in ascending order: the first pool gets the lowest risks. ID3's
second field splits each of its first-stage pools of more than one sample into contiguous
sub-pools, in order (``12,8:4,4,4,5,3``: the 12 lowest risks in sub-pools of 4, 4, 4; the
next 8 in 5 and 3); a sub-pool of more than one sample is then tested sample by sample.
ID4's third field splits each of those sub-pools of more than one sample again, in order
(``12,8:6,6,4,4:3,3,3,3,2,2,1,1,1,1``: the sub-pools of 6 into 3 and 3, the first 4 into 2
and 2, the second into single samples); a third-stage pool of more than one sample is then
tested sample by sample. ``16:8,8:4,4,4,4`` is binGroup2's ID4: one first-stage pool.

An array's ``8x12`` is 8 rows of 12 samples (a 96-well plate's shape; samples fill it row by
row), ``8`` the 8 x 8 square. IA2 places them by risk instead: the highest risks fill the first
column, top to bottom, then the next (binGroup2's gradient arrangement), or with ``8x12:spiral``
gather in the top left corner (its spiral arrangement; :mod:`labopt.pooling.informative_array`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from labopt.errors import InputError

ALGORITHMS = ("IT", "D2", "D3", "D4", "D5", "A2", "A2M", "ID2", "ID3", "ID4", "IA2")
HIERARCHICAL = ("IT", "D2", "D3", "D4", "D5", "ID2", "ID3", "ID4")
INFORMATIVE = ("ID2", "ID3", "ID4", "IA2")  # samples placed by individual risk
NESTED = ("D3", "D4", "D5")  # a first-stage pool split level by level
ARRAYS = ("A2", "A2M", "IA2")
ARRANGEMENTS = ("gradient", "spiral")  # IA2's placements of the risks (gradient: default)
NOMINAL_STAGES = {
    "IT": 1, "D2": 2, "D3": 3, "D4": 4, "D5": 5, "A2": 2, "A2M": 3, "ID2": 2, "ID3": 3,
    "ID4": 4,
    "IA2": 2,
}  # fmt: skip

MAX_BLOCK = 10_000  # samples in one hierarchical block (evaluation)
MAX_ARRAY_SIDE = 100  # rows or columns of an array (A2M's master pool holds rows*columns)
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
        block size (samples, sum of the pools) for ID2 and ID3.
    stage2 : tuple of int
        D3/D4/D5 second-stage sub-pool sizes; ID2 and ID3 first-stage pool sizes.
    stage3 : tuple of int
        D4/D5 third-stage sub-pool sizes, splitting each second-stage pool larger than one;
        ID3 second-stage sub-pool sizes, splitting each first-stage pool larger than one.
    columns : int
        An array's columns when it is not square (``first`` is then its rows); 0 otherwise.
    """

    algorithm: str
    first: int
    stage2: tuple[int, ...] = ()
    stage3: tuple[int, ...] = ()
    columns: int = 0
    stage4: tuple[int, ...] = ()  # D5's fourth-stage sizes, splitting each stage-3 pool > 1
    spiral: bool = False  # IA2: the spiral arrangement rather than the gradient
    _tree: PoolTree | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.columns == self.first:  # an n x n array is the square ``n``: one spelling
            object.__setattr__(self, "columns", 0)

    # ------------------------------------------------------------------ construction
    @classmethod
    def parse(cls, algorithm: str, config: str | int) -> Design:
        """Build a design from its code and configuration string (see module docstring)."""
        code = check_algorithm(algorithm)
        typed = str(config).strip()
        # spaces may surround the separators, never split a number ("1 2" is not 12)
        text = re.sub(r"\s*([:,xX×])\s*", r"\1", typed)
        if re.search(r"\s", text):
            raise InputError(
                f"config {_shown(typed)}: a space inside a number; write the sizes with commas "
                f"and colons, like {_EXAMPLES[code]!r}",
                "config",
            )
        if not text:
            if code == "IT":
                text = "1"
            else:
                raise InputError(
                    f"config: {code} needs a configuration, e.g. {_EXAMPLES[code]!r}", "config"
                )
        if code in ARRAYS:
            return cls._parse_array(code, text)
        if code in ("D2", *NESTED) and text[:1] in ("h", "H"):
            size = text[1:]
            if not (size.isascii() and size.isdigit()):
                raise InputError(
                    f"config: {text!r} is not a halving configuration; expected 'h' and the "
                    f"first-stage pool size, like 'h16'",
                    "config",
                )
            return cls.halving(code, _whole(size, text))
        fields = text.split(":")
        numbers = [f.split(",") if f else [] for f in fields]
        if not all(x.isascii() and x.isdigit() for f in numbers for x in f):
            raise InputError(
                f"config: {_shown(text)} is not a valid {code} configuration; expected whole "
                f"numbers like {_EXAMPLES[code]!r}",
                "config",
            )
        groups = [tuple(_whole(x, text) for x in f) for f in numbers]
        shape_ok = {
            "IT": len(groups) == 1 and len(groups[0]) == 1,
            "D2": len(groups) == 1 and len(groups[0]) == 1,
            "D3": len(groups) == 2 and len(groups[0]) == 1,
            "D4": len(groups) == 3 and len(groups[0]) == 1,
            "D5": len(groups) == 4 and len(groups[0]) == 1,
            "ID2": len(groups) == 1,
            "ID3": len(groups) == 2,
            "ID4": len(groups) == 3,
        }[code]
        if not shape_ok:
            raise InputError(
                f"config: {text!r} does not have the shape of a {code} configuration "
                f"(example: {_EXAMPLES[code]!r}; {_SHAPES[code]})",
                "config",
            )
        if code in INFORMATIVE:
            subs = groups[1] if len(groups) > 1 else ()
            subsubs = groups[2] if len(groups) > 2 else ()
            return cls(code, sum(groups[0]), groups[0], subs, stage4=subsubs).validated()
        stage2 = groups[1] if len(groups) > 1 else ()
        stage3 = groups[2] if len(groups) > 2 else ()
        stage4 = groups[3] if len(groups) > 3 else ()
        return cls(code, groups[0][0], stage2, stage3, stage4=stage4).validated()

    @classmethod
    def halving(cls, algorithm: str, size: int) -> Design:
        """Halving (binary splitting) of a first-stage pool of ``size`` samples in as many
        stages as ``algorithm`` has (D2 to D5; config ``h16``): a positive pool splits into
        halves, the smaller first when odd (binGroup2's ``halving``), until the last stage
        tests samples one by one; a half of one sample is an individual test at its stage."""
        code = check_algorithm(algorithm)
        if code not in ("D2", *NESTED):
            raise InputError(f"algorithm: halving takes D2, D3, D4 or D5, not {code}", "config")
        if isinstance(size, bool) or not isinstance(size, int | np.integer):
            raise InputError(
                f"config: halving needs a whole first-stage size, not {size!r}", "config"
            )
        size = int(size)
        if code == "D2":
            return cls(code, size).validated()
        levels: list[list[int]] = [[] for _ in range(NOMINAL_STAGES[code] - 2)]
        pools = [size]
        for level in levels:
            pools = [x for m in pools if m > 1 for x in (m // 2, m - m // 2)]
            level.extend(pools)
        first, *rest = (tuple(level) for level in levels)
        stage3 = rest[0] if rest else ()
        stage4 = rest[1] if len(rest) > 1 else ()
        return cls(code, size, first, stage3, stage4=stage4).validated()

    @classmethod
    def _parse_array(cls, code: str, text: str) -> Design:
        """``n`` (n x n) or ``RxC`` (R rows of C samples; x, X or the sign ×); IA2 may add
        its arrangement, ``:gradient`` (the default) or ``:spiral``."""
        shape, colon, placed = text.partition(":")
        spiral = False
        if colon:
            if code != "IA2" or placed.lower() not in ARRANGEMENTS:
                allowed = (
                    f"IA2's arrangement is one of {', '.join(ARRANGEMENTS)}"
                    if code == "IA2"
                    else f"only IA2 takes an arrangement after a colon; {code} takes '8x12' or '8'"
                )
                raise InputError(f"config: {_shown(text)}: {allowed}", "config")
            spiral = placed.lower() == "spiral"
        sides = shape.lower().replace("×", "x").split("x")
        if len(sides) > 2 or not all(s.isascii() and s.isdigit() for s in sides):
            raise InputError(
                f"config: {text!r} is not a valid {code} configuration; expected the rows and "
                f"columns like '8x12' (8 rows of 12 samples) or one side like '8' (8 x 8)",
                "config",
            )
        rows, columns = (_whole(side, text) for side in (sides[0], sides[-1]))
        if not (2 <= rows <= MAX_ARRAY_SIDE and 2 <= columns <= MAX_ARRAY_SIDE):
            raise InputError(
                f"config {_shown(text)}: array {rows}x{columns} is out of range; its rows and its "
                f"columns must each be between 2 and {MAX_ARRAY_SIDE}",
                "config",
            )
        return cls(code, rows, columns=columns, spiral=spiral).validated()

    def validated(self) -> Design:
        """Check the configuration; return self or raise ValueError naming the problem."""
        a = check_algorithm(self.algorithm)
        if a != self.algorithm:
            raise InputError(
                f"algorithm: write the code {a!r}, not {self.algorithm!r}", "algorithm"
            )
        sizes = (self.first, self.columns, *self.stage2, *self.stage3, *self.stage4)
        if any(isinstance(x, bool) or not isinstance(x, int | np.integer) for x in sizes):
            raise InputError(f"config: pool sizes must be whole numbers, got {sizes}", "config")
        cfg = self.config
        if self.columns and a not in ARRAYS:
            raise InputError(f"config {cfg!r}: only arrays have columns", "config")
        if self.spiral and a != "IA2":
            raise InputError(f"config {cfg!r}: only IA2 takes the spiral arrangement", "config")
        levels = {"D3": 1, "D4": 2, "D5": 3, "ID2": 1, "ID3": 2, "ID4": 3}.get(a, 0)
        given = [bool(self.stage2), bool(self.stage3), bool(self.stage4)]
        if any(given[levels:]):
            raise InputError(
                f"config {cfg!r}: {a} takes {levels} list(s) of pool sizes, more were given",
                "config",
            )
        if any(x < 1 for x in (self.first, *self.stage2, *self.stage3, *self.stage4)):
            raise InputError(f"config {cfg!r}: pool sizes must be positive whole numbers", "config")
        if a == "IT":
            if self.first != 1:
                raise InputError(
                    f"config {cfg!r}: individual testing (IT) takes config '1'", "config"
                )
        elif a in ARRAYS:
            if not (2 <= self.rows <= MAX_ARRAY_SIDE and 2 <= self.cols <= MAX_ARRAY_SIDE):
                raise InputError(
                    f"config {cfg!r}: array {self.rows}x{self.cols} is out of range; its rows "
                    f"and its columns must each be between 2 and {MAX_ARRAY_SIDE}",
                    "config",
                )
        elif a == "D2":
            if not 2 <= self.first <= MAX_BLOCK:
                raise InputError(
                    f"config {cfg!r}: D2 pool size must be between 2 and {MAX_BLOCK} "
                    f"(use IT for individual testing)",
                    "config",
                )
        elif a in INFORMATIVE:
            if not self.stage2 or self.first != sum(self.stage2):
                raise InputError(
                    f"config {cfg!r}: {a}'s block is its pools' samples "
                    f"({sum(self.stage2)}), not {self.first}",
                    "config",
                )
            if not 1 <= self.first <= MAX_BLOCK:
                raise InputError(
                    f"config {cfg!r}: {a} block must hold 1 to {MAX_BLOCK} samples", "config"
                )
            if a in ("ID3", "ID4"):
                self.splits()
        else:  # D3, D4, D5
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
            if a in ("D4", "D5"):
                self.splits()
        return self

    def splits(self) -> list[list[tuple[int, ...]]]:
        """For each level below the second stage (D4: stage 3; D5: stages 3 and 4) or, for
        ID3 and ID4, below the first (ID3: stage 2; ID4: stages 2 and 3), each pool of the
        level above split in order (empty for a pool of one sample)."""
        a = self.algorithm
        names = ["first", "second", "third", "fourth"]
        if a in ("D4", "D5"):
            top, levels = 1, [self.stage3, self.stage4][: NOMINAL_STAGES[a] - 3]
        elif a in ("ID3", "ID4"):
            top, levels = 0, [self.stage3, self.stage4][: NOMINAL_STAGES[a] - 2]
        else:
            return []
        out: list[list[tuple[int, ...]]] = []
        pools = self.stage2
        for depth, sizes in enumerate(levels):
            split = self._split_level(pools, sizes, names[top + depth], names[top + depth + 1])
            out.append(split)
            pools = tuple(x for part in split for x in part)
        return out

    def _split_level(
        self, pools: tuple[int, ...], sizes: tuple[int, ...], upper: str, lower: str
    ) -> list[tuple[int, ...]]:
        """``sizes`` cut, in order, into the splits of ``pools``' pools larger than one."""
        out: list[tuple[int, ...]] = []
        pos = 0
        for m in pools:
            if m == 1:
                out.append(())
                continue
            taken, total = [], 0
            while total < m and pos < len(sizes):
                taken.append(sizes[pos])
                total += sizes[pos]
                pos += 1
            if total != m:
                raise InputError(
                    f"config {self.config!r}: the {lower}-stage sizes must split each {upper}-"
                    f"stage pool in order; the pool of {m} gets "
                    f"{'+'.join(map(str, taken)) or 'nothing'} = {total}",
                    "config",
                )
            if len(taken) == 1:
                raise InputError(
                    f"config {self.config!r}: the {upper}-stage pool of {m} is 'split' into "
                    f"itself; give smaller sub-pools (or 1s for individual tests)",
                    "config",
                )
            out.append(tuple(taken))
        if pos != len(sizes):
            raise InputError(
                f"config {self.config!r}: {len(sizes) - pos} {lower}-stage sizes are left over "
                f"after splitting the {upper}-stage pools {list(pools)}",
                "config",
            )
        return out

    # ------------------------------------------------------------------ description
    @property
    def config(self) -> str:
        a = self.algorithm
        if a == "ID2":
            return ",".join(map(str, self.stage2))
        if a in ("ID3", "ID4"):
            fields = [self.stage2, self.stage3, self.stage4][: NOMINAL_STAGES[a] - 1]
            return ":".join(",".join(map(str, f)) for f in fields)
        parts = [str(self.first)]
        if a in NESTED:
            parts.append(",".join(map(str, self.stage2)))
        if a in ("D4", "D5"):
            parts.append(",".join(map(str, self.stage3)))
        if a == "D5":
            parts.append(",".join(map(str, self.stage4)))
        if a in ARRAYS:
            shape = f"{self.first}x{self.columns}" if self.columns else str(self.first)
            return shape + (":spiral" if self.spiral else "")
        return ":".join(parts)

    @property
    def rows(self) -> int:
        """An array's rows (pools of ``cols`` samples)."""
        return self.first

    @property
    def cols(self) -> int:
        """An array's columns (pools of ``rows`` samples)."""
        return self.columns or self.first

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
        """Samples handled by one run of the design (rows*columns for arrays)."""
        return self.rows * self.cols if self.algorithm in ARRAYS else self.first

    @property
    def first_stage_reactions(self) -> int:
        """Reactions of one block's first stage, run whether the block is full or not: one
        pool (D2-D5, A2M's master pool), the block's pools (ID2, ID3), rows and columns (A2)."""
        a = self.algorithm
        if a in ("A2", "IA2"):
            return self.rows + self.cols
        if a in INFORMATIVE:
            return len(self.stage2)
        return 1

    def whole_block_reactions(self, samples: float, per_sample: float) -> float:
        """Expected reactions of ``samples`` samples in whole blocks: each block's first stage
        in full (a partial last pool or array costs its first stage like a full one), plus the
        design's later-stage reactions per sample (``per_sample`` expected reactions per sample
        in full blocks, minus the first stage's share). For pools (D2 to D5, ID2, ID3) an upper
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
            return self.rows * self.cols
        if a in ("A2", "IA2"):
            return max(self.rows, self.cols)
        if a in INFORMATIVE:
            return max(self.stage2)
        return self.first

    def __str__(self) -> str:
        return f"{self.algorithm} {self.config}"

    # ------------------------------------------------------------------ pool tree
    def test_stages(self) -> np.ndarray:
        """The stage whose assay accuracy each pool of :meth:`tree` is tested with: its own,
        except that in ID2 and ID3 a first-stage "pool" of one sample is that sample's
        individual test and takes the individual (last) stage's accuracy, as in binGroup2."""
        tree = self.tree()
        if self.algorithm not in INFORMATIVE:
            return tree.stage
        single = (tree.size == 1) & (tree.stage == 1)
        return np.where(single, self.nominal_stages, tree.stage)

    def tree(self) -> PoolTree:
        """The pools of one block (hierarchical algorithms only)."""
        if self.algorithm in ARRAYS:
            raise ValueError(f"{self.algorithm} is an array design: it has no pool tree")
        tree = self._tree
        if tree is None:
            tree = _build_tree(self)
            object.__setattr__(self, "_tree", tree)
        return tree


def _shown(text: str) -> str:
    """A configuration as an error message quotes it: at most 40 characters."""
    return repr(text[:40]) + ("..." if len(text) > 40 else "")


def _whole(digits: str, text: str) -> int:
    """ASCII digits as a size, refused by name when longer than any size allowed (before
    Python's own limit on converting long numbers)."""
    stripped = digits.lstrip("0") or "0"
    if len(stripped) > len(str(MAX_BLOCK)):
        raise InputError(
            f"config {_shown(text)}: a size of "
            f"{len(stripped):,} digits is out of range (at most {MAX_BLOCK:,} samples)",
            "config",
        )
    return int(stripped)


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
    else:
        # each pool of a level split by the next level, in order, depth first: the informative
        # designs' first level is the block's first-stage pools, the nested ones' the second-
        # stage sub-pools of their one first-stage pool
        levels = [iter([d.stage2]), *(iter([p for p in lv if p]) for lv in d.splits())]
        top = 1 if a in INFORMATIVE else 2  # the stage of the first listed level

        def nest(lo: int, hi: int, par: int, depth: int) -> None:
            if depth == len(levels):  # below the last listed level: individual tests
                individuals(lo, hi, par, depth + top)
                return
            for m in next(levels[depth]):
                v = add(lo, lo + m, par, depth + top)
                if m > 1:
                    nest(lo, lo + m, v, depth + 1)
                lo += m

        nest(0, d.first, -1 if a in INFORMATIVE else add(0, d.first, -1, 1), 0)
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
    "D5": "16:8,8:4,4,4,4:2,2,2,2,2,2,2,2",
    "A2": "8",
    "A2M": "8",
    "ID2": "20,10,5",
    "ID3": "12,8:4,4,4,5,3",
    "ID4": "12,8:6,6,4,4:3,3,3,3,2,2,1,1,1,1",
    "IA2": "8x12",
}
_SHAPES = {
    "IT": "just '1'",
    "D2": "one pool size",
    "A2": "rows x columns, or one side for a square",
    "A2M": "rows x columns, or one side for a square",
    "D3": "pool size, a colon, then the sub-pool sizes",
    "D4": "pool size : second-stage sizes : third-stage sizes",
    "D5": "pool size : second-, third- and fourth-stage sizes, each after a colon",
    "ID2": "comma-separated pool sizes",
    "ID3": "comma-separated pool sizes, a colon, then the sub-pool sizes of each pool",
    "ID4": "pool sizes : sub-pool sizes of each pool : third-stage sizes of each sub-pool",
    "IA2": "rows x columns, or one side for a square; ':spiral' for the spiral arrangement",
}
