"""Informative array testing, IA2: an r x c array of samples placed by their individual risks.

Two arrangements from McMahan, Tebbs and Bilder (2012), as binGroup2's
``informativeArrayProb`` builds them:

- **gradient** (``method = "gd"``, what binGroup2's IA2 search uses): the risks in decreasing
  order fill the array column by column, so the first column holds the r highest risks and
  every row a spread of them;
- **spiral** (``method = "sd"``): the two highest risks start the first column and the next
  two the second (the higher below), then the array grows by a row (the next risks, highest
  on the left) while it has fewer than r rows and by a column (the next risks, highest at the
  bottom) while it has fewer than c columns, in turn: the highest risks gather in the top
  left corner and share rows and columns.

Then A2's protocol: rows and columns tested, a sample retested when its row and its column
are positive, or its row when no column is (and vice versa).

The operating characteristics for any matrix of risks are the closed forms of A2 with every
sample its own probability (binGroup2's ``Array.Measures``, here with a row's and a column's
own sensitivity): given the statuses, tests are independent, and conditioning on the one
sample a row and a column share makes the rest of the row and of the column independent.
"""

from __future__ import annotations

import numpy as np


def arrangement_cells(rows: int, columns: int, spiral: bool = False) -> np.ndarray:
    """The cell (``row * columns + column``) of the k-th highest risk, k = 0 .. rows*columns-1,
    in the gradient arrangement or (``spiral``) the spiral one; arrays are at least 2 x 2."""
    k = np.arange(rows * columns)
    if not spiral:
        return (k % rows) * columns + k // rows
    cells = [0 * columns + 0, 1 * columns + 0, 1 * columns + 1, 0 * columns + 1]
    r, c = 2, 2
    while r < rows or c < columns:
        if r < rows:  # a new row: the next c risks, highest on the left
            cells += [r * columns + j for j in range(c)]
            r += 1
        if c < columns:  # a new column: the next r risks, highest at the bottom
            cells += [(r - 1 - i) * columns + c for i in range(r)]
            c += 1
    return np.asarray(cells, dtype=np.int64)


def arrange(risks: np.ndarray, rows: int, columns: int, spiral: bool = False) -> np.ndarray:
    """The (rows, columns) matrix of ``risks`` in the gradient or the spiral arrangement."""
    ranked = np.sort(np.asarray(risks, dtype=float))[::-1]
    grid = np.empty(rows * columns)
    grid[arrangement_cells(rows, columns, spiral)] = ranked
    return grid.reshape(rows, columns)


def _others(values: np.ndarray, axis: int) -> np.ndarray:
    """Each element's product of the other elements along ``axis`` (no division: exact when
    an element is 0)."""
    v = np.moveaxis(values, axis, -1)
    ones = np.ones((*v.shape[:-1], 1))
    before = np.cumprod(np.concatenate([ones, v[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, v[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return np.moveaxis(before * after, -1, axis)


def array_opchar(
    p: np.ndarray,
    se_row: float,
    se_col: float,
    sp_rc: float,
    se_ind: float,
    sp_ind: float,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Expected tests of one r x c array with risks ``p`` (matrix), and each sample's PSe and
    1 - PSp. A row pools c samples (sensitivity ``se_row``), a column r (``se_col``)."""
    p = np.asarray(p, dtype=float)
    r, c = p.shape
    q = 1.0 - p
    t = sp_rc
    row_clean_others = _others(q, 1)  # the sample's row without it, all negative
    col_clean_others = _others(q, 0)
    # the sample's row (column) tests positive, given the sample is negative
    row_pos = se_row * (1 - row_clean_others) + (1 - t) * row_clean_others
    col_pos = se_col * (1 - col_clean_others) + (1 - t) * col_clean_others
    # the sample's column (row) tests negative, given the sample is negative
    col_neg = (1 - se_col) * (1 - col_clean_others) + t * col_clean_others
    row_neg = (1 - se_row) * (1 - row_clean_others) + t * row_clean_others
    # a column (row) tests negative whatever it holds; and with the sample clean
    col_any_neg = p * (1 - se_col) + q * col_neg  # the same for every sample of the column
    row_any_neg = p * (1 - se_row) + q * row_neg
    col_neg_clean = q * col_neg
    row_neg_clean = q * row_neg

    def one_line_positive(any_neg, neg_clean, s_line, axis, given_negative):
        """P(this sample's line positive, every crossing line negative), over the crossing
        lines (``axis``: along the line); given the sample negative when asked."""
        if given_negative:
            all_neg = _others(any_neg, axis)
            all_clean = _others(neg_clean, axis)
        else:
            all_neg = np.prod(any_neg, axis=axis, keepdims=True)
            all_clean = np.prod(neg_clean, axis=axis, keepdims=True)
        return (1 - t) * all_clean + s_line * (all_neg - all_clean)

    both = p * se_row * se_col + q * row_pos * col_pos
    row_only = one_line_positive(col_any_neg, col_neg_clean, se_row, 1, False)
    col_only = one_line_positive(row_any_neg, row_neg_clean, se_col, 0, False)
    et = r + c + float(np.sum(both + row_only + col_only))
    pse = se_ind * (
        se_row * se_col
        + se_row * (1 - se_col) * _others(col_any_neg, 1)
        + se_col * (1 - se_row) * _others(row_any_neg, 0)
    )
    fpr = (1 - sp_ind) * (
        row_pos * col_pos
        + col_neg * one_line_positive(col_any_neg, col_neg_clean, se_row, 1, True)
        + row_neg * one_line_positive(row_any_neg, row_neg_clean, se_col, 0, True)
    )
    return et, pse, fpr
