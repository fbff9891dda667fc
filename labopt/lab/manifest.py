"""Pool manifests: which samples go into which pool, sub-pool or array line.

A manifest turns a batch of samples and a design into the pools the lab will form:

- **Hierarchical designs** (IT, D2-D5, ID2-ID4) follow :meth:`labopt.pooling.Design.tree`:
  each block of ``design.block_size`` samples gets the design's pools, sub-pools and
  individual tests. ID2, ID3 and ID4 sort by individual risk exactly as
  :func:`labopt.pooling.evaluate` does (ascending risks fill the pools in order). When the
  batch holds several blocks, the sorted batch is dealt out so that every block receives the
  same spread of risks (rank ``r`` of the batch goes to the block slot at the same quantile),
  each block still ascending; a batch that is ``b`` copies of one block's risks gives ``b``
  identical blocks.
- **Arrays** (A2, A2M) fill grids of r rows and c columns (``8x12``; ``8`` is 8 x 8) row by
  row: sample ``i`` of a grid sits in row ``i // c + 1`` and column ``i % c + 1``; A2M adds
  one master pool per grid. IA2 deals the batch's risks to its grids as ID2 deals them to its
  blocks and places each full grid's samples in the design's arrangement: the gradient (the
  highest risks down the first column, then the next) or the spiral (``8x12:spiral``: the
  highest risks in the top left corner).

Blocks never mix districts or streams (when the batch has those columns), so each first-stage
pool belongs to one district and stream and tomorrow's prevalence can be estimated from it. In
**field pooling** (swabs pooled into one tube at collection) blocks also never mix address
groups, and the first-stage pools are the field tubes.

A batch that does not fill its last block (per group) gets a partial block: the design's
pools cut at the last sample; a pool left with the same samples as its parent is dropped (it
would test the same samples twice), so a partial block may need fewer stages.

Pool ids are readable paths: ``P0012`` is the 12th first-stage pool of the batch, ``P0012.2``
its second sub-pool, ``P0012.2.3`` the third pool (or sample) inside that; arrays are
``A0007`` (the grid's master pool), ``A0007.R3`` (row 3), ``A0007.C5`` (column 5) and
``A0007.R3C5`` (the individual test of the sample at row 3, column 5). A batch label, when
given, prefixes every id (``TH0801-P0012``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from labopt.cells import write_csv
from labopt.errors import InputError
from labopt.lab.tables import (
    LabInputError,
    Problems,
    clean_text,
    duplicated_rows,
    parse_numbers,
    read_table,
    sheet_rows,
)
from labopt.pooling.designs import ARRAYS, INFORMATIVE, Design
from labopt.pooling.informative_array import arrangement_cells
from labopt.pooling.opchar import as_design
from labopt.scenario.errors import Problem

SAMPLE_COLUMNS = ("sample_id", "stream", "risk", "district", "address_group")
GROUP_COLUMNS = ("district", "stream")
KINDS = ("pool", "individual", "field", "master", "row", "column")
POOL, INDIVIDUAL, FIELD, MASTER, ROW, COLUMN = range(len(KINDS))
ARRAY_POOL_COLUMNS = ("master_pool", "row_pool", "column_pool", "individual_pool")


@dataclass(frozen=True, eq=False)
class Manifest:
    """The pools of one batch.

    Samples are kept in *layout order* (block by block, position by position); pools in
    testing order within each block (parents before their sub-pools). Index arrays refer to
    these orders.

    Attributes
    ----------
    design : Design
    field : bool
        Field pooling: first-stage pools are formed at collection (one tube per pool).
    batch : str
        Label prefixed to pool and plate ids ('' for none).
    samples : pandas.DataFrame
        One row per sample in layout order: ``sample_id`` and the optional ``stream``,
        ``risk`` (fraction), ``district``, ``address_group``; ``block`` (1-based block, or
        grid for arrays) and ``position`` (1-based place in the block; for ID2, ascending
        risk); arrays also ``row`` and ``column`` (1-based).
    pool_id : numpy.ndarray of str
    stage : numpy.ndarray of int
        PCR round in which the pool is tested, if it is needed (1 = first run).
    kind : numpy.ndarray of int
        Index into ``KINDS``: pool, individual (a one-sample test), field (a first-stage
        tube formed at collection), master, row, column.
    size : numpy.ndarray of int
        Samples in the pool.
    block : numpy.ndarray of int
        1-based block (grid) of the pool.
    parent : numpy.ndarray of int
        Hierarchical: the pool whose positive result makes this one needed (-1 for
        first-stage pools). Arrays: the master pool for rows and columns of A2M, else -1.
    node : numpy.ndarray of int
        Hierarchical: the node of ``design.tree()`` the pool comes from (its assay accuracy);
        arrays: 0.
    path : numpy.ndarray of int, shape (samples, L)
        Hierarchical: column ``s`` holds the sample's pool at stage ``s + 1`` (-1 after its
        individual test). Arrays: (master or -1, row, column, individual) pools.
    """

    design: Design
    field: bool
    batch: str
    samples: pd.DataFrame
    pool_id: np.ndarray
    stage: np.ndarray
    kind: np.ndarray
    size: np.ndarray
    block: np.ndarray
    parent: np.ndarray
    node: np.ndarray
    path: np.ndarray

    # ------------------------------------------------------------------ shape
    @property
    def is_array(self) -> bool:
        return self.design.algorithm in ARRAYS

    @property
    def n_samples(self) -> int:
        return int(self.path.shape[0])

    @property
    def n_pools(self) -> int:
        return int(self.pool_id.size)

    @property
    def stages(self) -> int:
        """PCR rounds the batch may need."""
        return int(self.stage.max()) if self.n_pools else 0

    @cached_property
    def leaf(self) -> np.ndarray:
        """Each sample's final, individual test (a pool index)."""
        if self.is_array:
            return self.path[:, 3].copy()
        depth = (self.path >= 0).sum(axis=1) - 1
        return self.path[np.arange(self.n_samples), depth]

    @cached_property
    def pool_index(self) -> pd.Index:
        """Pool id -> pool index."""
        return pd.Index(self.pool_id)

    @cached_property
    def sample_index(self) -> pd.Index:
        return pd.Index(self.samples["sample_id"].to_numpy())

    @cached_property
    def first_stage(self) -> np.ndarray:
        """Pools tested in the first run, in manifest order."""
        return np.flatnonzero(self.stage == 1)

    def members(self, pools: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(pool, sample) index pairs for the given pools, grouped by pool in the given
        order, samples in layout order."""
        pools = np.asarray(pools, dtype=np.int64)
        rank = np.full(self.n_pools, -1, dtype=np.int64)
        rank[pools] = np.arange(pools.size)
        p_all, s_all = [], []
        for col in range(self.path.shape[1]):
            pc = self.path[:, col]
            sel = np.flatnonzero((pc >= 0) & (rank[np.maximum(pc, 0)] >= 0))
            p_all.append(pc[sel])
            s_all.append(sel)
        p = np.concatenate(p_all)
        s = np.concatenate(s_all)
        order = np.lexsort((s, rank[p]))
        return p[order], s[order]

    def pools_frame(self) -> pd.DataFrame:
        """One row per pool: pool_id, stage, kind, size, block, parent_id."""
        parent_id = np.where(self.parent >= 0, self.pool_id[np.maximum(self.parent, 0)], "")
        return pd.DataFrame(
            {
                "pool_id": self.pool_id,
                "stage": self.stage,
                "kind": np.asarray(KINDS, dtype=object)[self.kind],
                "size": self.size,
                "block": self.block,
                "parent_id": parent_id,
            }
        )

    def to_frame(self) -> pd.DataFrame:
        """The manifest as one row per sample (what ``manifest.csv`` holds).

        Columns: the sample columns, ``algorithm``, ``config``, ``mode`` (lab or field),
        ``batch``, ``block``, ``position`` (arrays: ``row``, ``column``), then the sample's
        pools: ``pool_1`` .. ``pool_S`` by stage (blank after its individual test) or, for
        arrays, ``master_pool`` (A2M), ``row_pool``, ``column_pool``, ``individual_pool``.
        """
        out = self.samples.copy()
        at = sum(c in out.columns for c in SAMPLE_COLUMNS)
        for i, (name, value) in enumerate(
            (
                ("algorithm", self.design.algorithm),
                ("config", self.design.config),
                ("mode", "field" if self.field else "lab"),
                ("batch", self.batch),
            )
        ):
            out.insert(at + i, name, value)
        ids = np.append(self.pool_id, "")
        names: Sequence[str]
        if self.is_array:
            names = ARRAY_POOL_COLUMNS if self.design.algorithm == "A2M" else ARRAY_POOL_COLUMNS[1:]
            cols = range(4) if self.design.algorithm == "A2M" else range(1, 4)
        else:
            names = [f"pool_{s + 1}" for s in range(self.path.shape[1])]
            cols = range(self.path.shape[1])
        for name, c in zip(names, cols, strict=False):
            out[name] = ids[self.path[:, c]]  # -1 -> ''
        return out


# ---------------------------------------------------------------------- construction
def make_manifest(
    samples: pd.DataFrame,
    design: Design | str,
    config: str | None = None,
    *,
    field: bool = False,
    batch: str = "",
    source: str = "samples",
) -> Manifest:
    """The pool manifest of a batch of samples.

    Parameters
    ----------
    samples : pandas.DataFrame
        One row per sample: ``sample_id`` (unique text) and optionally ``stream``, ``risk``
        (individual risk, a fraction in [0, 1]; required for ID2), ``district`` and
        ``address_group`` (both required for field pooling). Values may be text.
    design, config : Design, or an algorithm code and its configuration ("D3", "12:4,4,4").
    field : bool
        Field pooling: swabs are pooled at collection, so pools never mix address groups
        and a positive first-stage pool means re-sampling its people. Hierarchical pooled
        designs only (a swab can go into one tube, not a row and a column).
    batch : str
        Label prefixed to every pool and plate id (letters, digits, '-', '_').
    source : str
        Name of the input used in error messages (e.g. the file name).

    Returns
    -------
    Manifest

    Raises
    ------
    LabInputError
        Naming the row and column of every bad value: missing or duplicate sample ids, risks
        outside [0, 1], missing columns for ID2 or field pooling.
    """
    d = as_design(design, config)
    df = check_samples(samples, d, field=field, source=source)
    _check_batch_label(batch)
    block_of, _position_of, order = _layout(df, d, field)
    laid = df.iloc[order].reset_index(drop=True)
    return _build(d, laid, block_of[order], field, batch)


def check_samples(
    samples: pd.DataFrame, design: Design, *, field: bool = False, source: str = "samples"
) -> pd.DataFrame:
    """Validated sample table (known columns only, text stripped, ``risk`` as float)."""
    problems = Problems(source)
    if not isinstance(samples, pd.DataFrame):
        raise TypeError("samples: expected a pandas DataFrame")
    df = samples.copy()
    df.columns = [str(c).strip().lower() for c in df.columns]
    if "sample_id" not in df.columns:
        problems.add(f"missing column 'sample_id'; expected columns: {', '.join(SAMPLE_COLUMNS)}")
        problems.raise_if_any()
    if len(df) == 0:
        problems.add("no samples: the batch is empty")
        problems.raise_if_any()
    a = design.algorithm
    if field and (a in ARRAYS or a == "IT"):
        problems.add(
            f"field pooling needs a pooled hierarchical design (D2-D5 or ID2-ID4): "
            f"a swab goes into one tube, so {a} cannot be formed at collection"
        )
    need = []
    if a in INFORMATIVE:
        need.append("risk")
    if field:
        need += ["district", "address_group"]
    for c in need:
        if c not in df.columns:
            why = (
                f"{a} sorts samples by individual risk"
                if c == "risk"
                else "field pools are formed per district and address group"
            )
            problems.add(f"missing column {c!r}: {why}")
    problems.raise_if_any()
    keep = [c for c in SAMPLE_COLUMNS if c in df.columns]
    df = df[keep].reset_index(drop=True)
    rows = sheet_rows(len(df))
    for c in keep:
        if c == "risk":
            continue
        df[c] = clean_text(df[c])
    ids = df["sample_id"]
    problems.add_rows(
        (ids == "").to_numpy(), rows, ids.to_numpy(), "sample_id", "a sample id is required"
    )
    duplicated_rows(ids[ids != ""], problems, "sample_id", "sample id")
    for c in need:
        if c != "risk":
            problems.add_rows(
                (df[c] == "").to_numpy(),
                rows,
                df[c].to_numpy(),
                c,
                "a value is required for field pooling",
            )
    if "risk" in df.columns:
        df["risk"] = parse_numbers(
            df["risk"],
            problems,
            "risk",
            low=0.0,
            high=1.0,
            blank_ok=a not in INFORMATIVE,
            what="a probability",
        )
    problems.raise_if_any()
    return df


def _check_batch_label(batch: str) -> None:
    if batch and not all(ch.isalnum() or ch in "-_" for ch in batch):
        raise InputError(
            f"batch: {batch!r} may hold letters, digits, '-' and '_' only (it "
            f"prefixes pool and plate ids)",
            "batch",
        )


def group_columns(df: pd.DataFrame, field: bool) -> list[str]:
    cols = [c for c in GROUP_COLUMNS if c in df.columns]
    if field:
        cols.append("address_group")
    return cols


def _layout(df: pd.DataFrame, d: Design, field: bool):
    """(block, position, layout order): blocks numbered from 0 in layout order."""
    n = len(df)
    cols = group_columns(df, field)
    group = (
        df.groupby(cols, sort=False, dropna=False).ngroup().to_numpy()
        if cols
        else np.zeros(n, dtype=np.int64)
    )
    B = d.block_size
    if d.algorithm in INFORMATIVE:
        order = np.lexsort((df["risk"].to_numpy(), group))  # by group, then risk
    else:
        order = np.argsort(group, kind="stable")
    g_sorted = group[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    counts = np.diff(np.r_[starts, n])
    rank = np.arange(n) - np.repeat(starts, counts)
    if d.algorithm not in INFORMATIVE or B == 1:
        new_block = rank % B == 0
        block_sorted = np.cumsum(new_block) - 1
        pos_sorted = rank % B
    else:
        block_sorted, pos_sorted = _deal_by_quantile(counts, B)
    if d.algorithm == "IA2":
        pos_sorted = _arranged_positions(block_sorted, pos_sorted, d)
    block = np.empty(n, dtype=np.int64)
    position = np.empty(n, dtype=np.int64)
    block[order] = block_sorted
    position[order] = pos_sorted
    layout = np.lexsort((position, block))
    return block, position, layout


def _arranged_positions(block: np.ndarray, rank: np.ndarray, d: Design) -> np.ndarray:
    """IA2: the position (row by row) of each sample of ascending ``rank`` in its block: in a
    full array the design's arrangement (gradient or spiral:
    :func:`labopt.pooling.informative_array.arrangement_cells`); a short last array is filled
    row by row from the highest risk."""
    size = np.bincount(block)[block]
    k = size - 1 - rank  # 0 for the block's highest risk
    cells = arrangement_cells(d.rows, d.cols, d.spiral)
    return np.where(size == d.block_size, cells[np.minimum(k, cells.size - 1)], k)


def _deal_by_quantile(counts: np.ndarray, B: int) -> tuple[np.ndarray, np.ndarray]:
    """Blocks and positions for risk-sorted groups (ID2): the group's k-th smallest risk
    goes to the k-th block slot ordered by quantile (position + 0.5) / block size."""
    full, rest = counts // B, counts % B
    nblocks = full + (rest > 0)
    bsize = np.concatenate(
        [np.r_[np.full(f, B), [r] if r else []] for f, r in zip(full, rest, strict=False)]
    ).astype(np.int64)
    bgroup = np.repeat(np.arange(counts.size), nblocks)
    boff = np.cumsum(bsize) - bsize
    slot_block = np.repeat(np.arange(bsize.size), bsize)
    slot_pos = np.arange(int(bsize.sum())) - np.repeat(boff, bsize)
    slot_q = (slot_pos + 0.5) / np.repeat(bsize, bsize)
    slot_order = np.lexsort((slot_block, slot_q, bgroup[slot_block]))
    return slot_block[slot_order], slot_pos[slot_order]


# ---------------------------------------------------------------------- pool templates
@dataclass(frozen=True)
class _Template:
    """The pools of one block of m samples, relative to the block."""

    stage: np.ndarray
    kind: np.ndarray
    size: np.ndarray
    parent: np.ndarray
    node: np.ndarray
    unit: np.ndarray  # first-stage pool (hierarchical) or grid (0) the pool belongs to
    suffix: list[str]
    path: np.ndarray  # (m, L)
    units: int  # first-stage pools per block (1 per grid for arrays)

    @property
    def V(self) -> int:
        return self.stage.size


def _hier_template(d: Design, m: int, field: bool) -> _Template:
    t = d.tree()
    L = int(t.stage.max())
    lo_: list[int] = []
    hi_: list[int] = []
    par_: list[int] = []
    depth_: list[int] = []
    node_: list[int] = []
    unit_: list[int] = []
    suffix_: list[str] = []
    children: dict[int, int] = {}
    new = np.full(t.start.size, -1)
    roots = 0
    for v in range(t.start.size):
        lo, hi = int(t.start[v]), min(int(t.stop[v]), m)
        if lo >= m:
            continue
        p = int(t.parent[v])
        if p >= 0:
            pn = int(new[p])
            if (lo_[pn], hi_[pn]) == (lo, hi):  # same samples as its parent
                new[v] = pn
                continue
            children[pn] = children.get(pn, 0) + 1
            suffix_.append(f"{suffix_[pn]}.{children[pn]}")
            depth_.append(depth_[pn] + 1)
            unit_.append(unit_[pn])
        else:
            pn = -1
            suffix_.append("")
            depth_.append(1)
            unit_.append(roots)
            roots += 1
        new[v] = len(lo_)
        lo_.append(lo)
        hi_.append(hi)
        par_.append(pn)
        node_.append(v)
    starts = np.asarray(lo_)
    stops = np.asarray(hi_)
    depth = np.asarray(depth_)
    path = np.full((m, L), -1, dtype=np.int64)
    for u in range(starts.size):
        path[starts[u] : stops[u], depth[u] - 1] = u
    size = stops - starts
    kind = np.where(size == 1, INDIVIDUAL, np.where((depth == 1) & field, FIELD, POOL))
    return _Template(
        stage=depth,
        kind=kind,
        size=size,
        parent=np.asarray(par_),
        node=np.asarray(node_),
        unit=np.asarray(unit_),
        suffix=suffix_,
        path=path,
        units=roots,
    )


def _array_template(d: Design, m: int) -> _Template:
    n = d.cols  # samples fill the array row by row: n to a row
    master = d.algorithm == "A2M"
    nr, nc = -(-m // n), min(m, n)
    cells = np.arange(m)
    r, c = cells // n, cells % n
    off = 1 if master else 0
    s = 1 + off  # stage of rows and columns
    kind = np.r_[[MASTER] * off, [ROW] * nr, [COLUMN] * nc, [INDIVIDUAL] * m]
    stage = np.r_[[1] * off, [s] * (nr + nc), [s + 1] * m]
    size = np.r_[
        [m] * off,
        np.minimum(n, m - n * np.arange(nr)),
        (m - np.arange(nc) + n - 1) // n,
        np.ones(m, dtype=np.int64),
    ]
    parent = np.r_[[-1] * off, [0 if master else -1] * (nr + nc), [-1] * m]
    suffix = (
        [""] * off
        + [f".R{i + 1}" for i in range(nr)]
        + [f".C{j + 1}" for j in range(nc)]
        + [f".R{i + 1}C{j + 1}" for i, j in zip(r.tolist(), c.tolist(), strict=False)]
    )
    path = np.stack(
        [np.full(m, 0 if master else -1), off + r, off + nr + c, off + nr + nc + cells], axis=1
    )
    V = kind.size
    return _Template(
        stage=stage.astype(np.int64),
        kind=kind.astype(np.int64),
        size=size.astype(np.int64),
        parent=parent.astype(np.int64),
        node=np.zeros(V, dtype=np.int64),
        unit=np.zeros(V, dtype=np.int64),
        suffix=suffix,
        path=path.astype(np.int64),
        units=1,
    )


def _build(d: Design, laid: pd.DataFrame, block0: np.ndarray, field: bool, batch: str) -> Manifest:
    """Pools for samples in layout order with 0-based, non-decreasing block numbers."""
    n = len(laid)
    bsize = np.bincount(block0)
    soff = np.r_[0, np.cumsum(bsize)[:-1]]
    templates = {
        int(m): (
            _array_template(d, int(m))
            if d.algorithm in ARRAYS
            else _hier_template(d, int(m), field)
        )
        for m in np.unique(bsize)
    }
    V = np.array([templates[int(m)].V for m in bsize])
    units = np.array([templates[int(m)].units for m in bsize])
    poff = np.r_[0, np.cumsum(V)[:-1]]
    uoff = np.r_[0, np.cumsum(units)[:-1]]
    P = int(V.sum())
    L = max(t.path.shape[1] for t in templates.values())
    stage, kind, size, block, parent, node, unit, suffix_code = (
        np.empty(P, dtype=np.int64) for _ in range(8)
    )
    path = np.full((n, L), -1, dtype=np.int64)
    suffixes: list[str] = []
    for m, T in templates.items():
        bs = np.flatnonzero(bsize == m)
        base = poff[bs][:, None]
        idx = (base + np.arange(T.V)).ravel()
        k = bs.size
        stage[idx] = np.tile(T.stage, k)
        kind[idx] = np.tile(T.kind, k)
        size[idx] = np.tile(T.size, k)
        node[idx] = np.tile(T.node, k)
        block[idx] = np.repeat(bs + 1, T.V)
        parent[idx] = np.where(T.parent >= 0, T.parent[None, :] + base, -1).ravel()
        unit[idx] = (uoff[bs][:, None] + T.unit[None, :] + 1).ravel()
        suffix_code[idx] = np.tile(np.arange(len(suffixes), len(suffixes) + T.V), k)
        suffixes.extend(T.suffix)
        sidx = (soff[bs][:, None] + np.arange(m)).ravel()
        tp = np.where(T.path >= 0, T.path[None, :, :] + base[:, :, None], -1)
        path[sidx, : T.path.shape[1]] = tp.reshape(-1, T.path.shape[1])
    letter = "A" if d.algorithm in ARRAYS else "P"
    width = max(4, len(str(int(unit.max()) if P else 1)))
    prefix = f"{batch}-{letter}" if batch else letter
    suf = np.asarray(suffixes, dtype=object)[suffix_code]
    pool_id = np.array(
        [f"{prefix}{u:0{width}d}{s}" for u, s in zip(unit.tolist(), suf, strict=False)],
        dtype=object,
    )
    samples = laid.copy()
    samples["block"] = block0 + 1
    pos = np.arange(n) - soff[block0]
    samples["position"] = pos + 1
    if d.algorithm in ARRAYS:
        samples["row"] = pos // d.cols + 1
        samples["column"] = pos % d.cols + 1
    return Manifest(
        design=d,
        field=field,
        batch=batch,
        samples=samples,
        pool_id=pool_id,
        stage=stage,
        kind=kind,
        size=size,
        block=block,
        parent=parent,
        node=node,
        path=path,
    )


# ---------------------------------------------------------------------- files
def read_samples(path: str | os.PathLike, data: bytes | None = None) -> pd.DataFrame:
    """The batch's samples from a CSV file or XLSX workbook (``sample_id`` required;
    ``stream``, ``risk``, ``district``, ``address_group`` optional; other columns are
    ignored). ``data``: the file's bytes, for an upload (see :func:`read_table`)."""
    return read_table(path, ["sample_id"], SAMPLE_COLUMNS[1:], data=data)


def write_manifest(manifest: Manifest, path: str | os.PathLike) -> Path:
    path = Path(path)
    write_csv(manifest.to_frame(), path)
    return path


def read_manifest(path: str | os.PathLike, data: bytes | None = None) -> Manifest:
    """A manifest written by :func:`write_manifest` (or ``labopt batch make``).

    The pools are rebuilt from the design, the blocks and the positions, and every pool id
    in the file must match; an edited or truncated manifest is rejected with the row and
    column of the first differences. ``data``: the file's bytes, when it is not on disk.
    """
    path = Path(path)
    src = str(path)
    df = read_table(
        path, ["sample_id", "algorithm", "config", "mode", "batch", "block", "position"], data=data
    )
    problems = Problems(src)
    if len(df) == 0:
        problems.add("the manifest has no samples")
        problems.raise_if_any()
    for col in ("algorithm", "config", "mode", "batch"):
        values = df[col].unique()
        if len(values) != 1:
            problems.add(
                f"every row must have the same {col}; found {', '.join(map(repr, values[:5]))}",
                column=col,
            )
    problems.raise_if_any()
    try:
        d = Design.parse(df["algorithm"].iloc[0], df["config"].iloc[0])
    except ValueError as exc:
        raise LabInputError([Problem(src, str(exc), row=2, column="algorithm/config")]) from None
    mode = df["mode"].iloc[0]
    if mode not in ("lab", "field"):
        problems.add("mode must be 'lab' or 'field'", 2, "mode", mode)
        problems.raise_if_any()
    duplicated_rows(df["sample_id"], problems, "sample_id", "sample id")
    rows = sheet_rows(len(df))
    block = parse_numbers(  # blocks are numbered from 1 and hold a sample each at least
        df["block"], problems, "block", low=1, high=len(df), blank_ok=False, what="a whole number"
    )
    pos = parse_numbers(
        df["position"],
        problems,
        "position",
        low=1,
        high=d.block_size,
        blank_ok=False,
        what="a whole number",
    )
    problems.raise_if_any()
    block = block.astype(np.int64)
    pos = pos.astype(np.int64)
    bsize = np.bincount(block - 1)
    expect_block = np.repeat(np.arange(1, bsize.size + 1), bsize)
    soff = np.r_[0, np.cumsum(bsize)[:-1]]
    expect_pos = np.arange(len(df)) - soff[np.minimum(block - 1, bsize.size - 1)] + 1
    bad = (block != expect_block) | (pos != expect_pos)
    problems.add_rows(
        bad,
        rows,
        [f"{b}/{p}" for b, p in zip(block, pos, strict=False)],
        "block/position",
        "blocks must be numbered 1, 2, ... in file order with positions 1, 2, "
        "... inside each block, as written by 'labopt batch make'",
        limit=5,
    )
    problems.raise_if_any()
    keep = [c for c in SAMPLE_COLUMNS if c in df.columns]
    laid = df[keep].copy()
    if "risk" in laid.columns:
        laid["risk"] = parse_numbers(
            laid["risk"],
            problems,
            "risk",
            low=0,
            high=1,
            blank_ok=d.algorithm not in INFORMATIVE,
            what="a probability",
        )
        problems.raise_if_any()
    _check_batch_label(df["batch"].iloc[0])
    m = _build(d, laid, block - 1, mode == "field", df["batch"].iloc[0])
    written = m.to_frame()
    for col in written.columns:
        if col in ("block", "position", "row", "column") or col in keep:
            continue
        if col not in df.columns:
            problems.add(f"missing column {col!r}, which {d} manifests have")
            continue
        mism = df[col].to_numpy() != written[col].astype(str).to_numpy()
        problems.add_rows(
            mism,
            rows,
            df[col].to_numpy(),
            col,
            f"does not match the {d} design's pools for this block and position "
            f"(was the manifest edited?)",
            limit=5,
        )
    problems.raise_if_any()
    return m
