"""Plate layouts: one run's reactions on 96-well (8 x 12) or 384-well (16 x 24) PCR plates.

**Fill order.** Wells are filled column by column (``order="column"``: A1, B1, ..., H1, A2,
..., the way an 8- or 16-channel pipette loads a plate) or row by row (``order="row"``: A1,
A2, ..., A12, B1, ...). Every plate, the last one included, reserves its control wells at the
*end* of the fill order, in the order positive control, negative control, extraction blank:
on a 96-well plate with one of each, column order puts them in F12, G12 and H12. Reactions
take the remaining wells from the start of the fill order, in the order of the run's list
(stage, then manifest order), so a pool's sub-pools sit next to each other.

Plate ids are ``R<run>-<plate>`` (``R2-03``: the third plate of the second run), prefixed by
the batch label when there is one.
"""

from __future__ import annotations

import html
import os
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from labopt.errors import InputError
from labopt.figures import new_figure, save_png
from labopt.lab.manifest import KINDS, Manifest
from labopt.lab.words import say

PLATE_SHAPES = {96: (8, 12), 384: (16, 24)}
CONTROL_CONTENTS = {
    "positive": "positive_control",
    "negative": "negative_control",
    "blank": "extraction_blank",
}
REACTION = "reaction"
LAYOUT_COLUMNS = (
    "run",
    "plate",
    "well",
    "row",
    "column",
    "content",
    "pool_id",
    "stage",
    "kind",
    "samples",
)


@dataclass(frozen=True)
class PlateSpec:
    """Plate format, control wells per plate and fill order.

    Attributes
    ----------
    wells : 96 or 384
    positive, negative, blank : int
        Positive-control, negative-control and extraction-blank wells on every plate.
    order : "column" or "row"
        Fill order (see the module docstring).
    """

    wells: int = 96
    positive: int = 1
    negative: int = 1
    blank: int = 1
    order: str = "column"

    def __post_init__(self) -> None:
        if self.wells not in PLATE_SHAPES:
            raise InputError(
                f"plate: {self.wells!r} wells is not a supported plate; allowed: "
                f"96 (8 x 12) or 384 (16 x 24)",
                "plate",
            )
        for name in ("positive", "negative", "blank"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise InputError(
                    f"controls: {name}={v!r} must be a whole number of wells ≥ 0", "controls"
                )
        if self.order not in ("column", "row"):
            raise InputError(
                f"order: {self.order!r} is not a fill order; allowed: column, row", "order"
            )
        if self.controls >= self.wells:
            raise InputError(
                f"controls: {self.controls} control wells per plate (positive {self.positive}, "
                f"negative {self.negative}, blank {self.blank}) leave no well for reactions on "
                f"a {self.wells}-well plate; allowed: at most {self.wells - 1} control wells",
                "controls",
            )

    @classmethod
    def parse(
        cls, wells: int = 96, controls: str = "positive=1,negative=1,blank=1", order: str = "column"
    ) -> PlateSpec:
        """From the CLI's notation: ``controls="positive=1,negative=1,blank=1"`` (missing
        kinds mean 0; ``none`` or '' for no controls)."""
        counts = {"positive": 0, "negative": 0, "blank": 0}
        text = (controls or "").strip().lower()
        if text not in ("", "none"):
            for item in text.split(","):
                key, sep, value = item.strip().partition("=")
                key = key.strip()
                if key not in counts or not sep:
                    raise InputError(
                        f"controls: {item.strip()!r} is not 'kind=count'; kinds "
                        f"allowed: positive, negative, blank "
                        f"(e.g. 'positive=1,negative=1,blank=1')",
                        "controls",
                    )
                try:
                    counts[key] = int(value)
                except ValueError:
                    raise InputError(
                        f"controls: {key}={value.strip()!r} must be a whole number of wells ≥ 0",
                        "controls",
                    ) from None
        return cls(wells=int(wells), order=order, **counts)

    @property
    def shape(self) -> tuple[int, int]:
        return PLATE_SHAPES[self.wells]

    @property
    def controls(self) -> int:
        return self.positive + self.negative + self.blank

    @property
    def capacity(self) -> int:
        """Reactions per plate."""
        return self.wells - self.controls

    def fill_order(self) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of each well in fill order, 0-based."""
        R, C = self.shape
        s = np.arange(self.wells)
        return (s % R, s // R) if self.order == "column" else (s // C, s % C)

    def control_contents(self) -> list[str]:
        return (
            [CONTROL_CONTENTS["positive"]] * self.positive
            + [CONTROL_CONTENTS["negative"]] * self.negative
            + [CONTROL_CONTENTS["blank"]] * self.blank
        )

    def to_dict(self) -> dict:
        return {
            "wells": self.wells,
            "positive": self.positive,
            "negative": self.negative,
            "blank": self.blank,
            "order": self.order,
        }


ROW_LETTERS = np.array(list(string.ascii_uppercase[:16]))


def plate_label(run: int, plate: np.ndarray | int, batch: str = "") -> np.ndarray:
    plate = np.atleast_1d(plate)
    pre = f"{batch}-" if batch else ""
    return np.array([f"{pre}R{run}-{p:02d}" for p in plate.tolist()], dtype=object)


def layout_plates(
    manifest: Manifest, pools: np.ndarray, spec: PlateSpec = PlateSpec(), run: int = 1
) -> pd.DataFrame:
    """Wells of one run: the given pools' reactions plus every plate's control wells.

    Parameters
    ----------
    manifest : Manifest
    pools : array of int
        Pool indices to run, in loading order (e.g. ``Decoding.to_run``).
    spec : PlateSpec
    run : int
        Run number (1 = the first-stage run); part of the plate ids.

    Returns
    -------
    pandas.DataFrame
        One row per used well, columns ``run``, ``plate``, ``well`` (e.g. 'B7'), ``row``
        (letter), ``column`` (1-based), ``content`` ('reaction', 'positive_control',
        'negative_control', 'extraction_blank'), ``pool_id``, ``stage``, ``kind`` and
        ``samples`` (pool size; blank for controls), plates in order, wells in fill order.
    """
    pools = np.asarray(pools, dtype=np.int64)
    n = pools.size
    cap = spec.capacity
    nplates = -(-n // cap)
    if nplates == 0:
        return pd.DataFrame({c: [] for c in LAYOUT_COLUMNS})
    rows, cols = spec.fill_order()
    # reactions
    j = np.arange(n)
    plate_r = j // cap
    slot_r = j % cap
    # controls: the last spec.controls slots of every plate
    k = spec.controls
    plate_c = np.repeat(np.arange(nplates), k)
    slot_c = np.tile(np.arange(cap, spec.wells), nplates)
    content_c = np.tile(np.asarray(spec.control_contents(), dtype=object), nplates)
    plate = np.r_[plate_r, plate_c]
    slot = np.r_[slot_r, slot_c]
    order = np.lexsort((slot, plate))
    plate, slot = plate[order], slot[order]
    is_r = order < n
    pidx = np.where(is_r, pools[np.minimum(order, n - 1)], -1)
    content = np.empty(order.size, dtype=object)
    content[is_r] = REACTION
    content[~is_r] = content_c[order[~is_r] - n]
    r, c = rows[slot], cols[slot]
    labels = plate_label(run, np.arange(1, nplates + 1), manifest.batch)
    letters = ROW_LETTERS[r]
    well = np.char.add(letters.astype(str), (c + 1).astype(str)).astype(object)
    safe = np.maximum(pidx, 0)
    kinds = np.asarray(KINDS, dtype=object)
    return pd.DataFrame(
        {
            "run": run,
            "plate": labels[plate],
            "well": well,
            "row": letters,
            "column": c + 1,
            "content": content,
            "pool_id": np.where(is_r, manifest.pool_id[safe], ""),
            "stage": np.where(is_r, manifest.stage[safe], 0),
            "kind": np.where(is_r, kinds[manifest.kind[safe]], ""),
            "samples": np.where(is_r, manifest.size[safe], 0),
        }
    )


# ---------------------------------------------------------------------- printable maps
_COLOURS = {
    REACTION: "#e8f1fb",
    "positive_control": "#f8c9c4",
    "negative_control": "#cfe8cf",
    "extraction_blank": "#eeeeee",
    "": "#ffffff",
}
_SHORT = {"positive_control": "POS", "negative_control": "NEG", "extraction_blank": "BLANK"}


def pool_districts(manifest: Manifest) -> dict[str, str]:
    """Each pool's district, from its samples' ``district`` column: one name, or the first
    and how many more ("a +2"); empty without the column."""
    samples = manifest.samples
    if "district" not in samples.columns:
        return {}
    names = samples["district"].astype(str).to_numpy()
    members: dict[int, dict[str, None]] = {}
    for i, row in enumerate(np.asarray(manifest.path)):
        for p in row[row >= 0]:
            members.setdefault(int(p), {})[names[i]] = None
    out = {}
    for p, found in members.items():
        first, *rest = found
        out[str(manifest.pool_id[p])] = first if not rest else f"{first} +{len(rest)}"
    return out


def _labels(layout: pd.DataFrame, batch: str, lang: str = "en") -> list[str]:
    """What a well shows: the pool id without the batch prefix, or POS / NEG / BLANK."""
    cut = len(batch) + 1 if batch else 0
    return [
        say(_SHORT[c], lang)
        if c != REACTION
        else (str(p)[cut:] if cut and str(p).startswith(batch + "-") else str(p))
        for c, p in zip(layout["content"], layout["pool_id"], strict=False)
    ]


def plates_html(
    layout: pd.DataFrame,
    spec: PlateSpec,
    title: str = "Plate map",
    batch: str = "",
    *,
    lang: str = "en",
    heading: str = "",
    districts: Mapping[str, str] | None = None,
) -> str:
    """A printable HTML page, one plate per printed page: a grid of wells showing each
    reaction's pool id, stage, number of samples and district (``districts``: pool id ->
    district), and the control wells. ``heading``: the lab and date, under the title and on
    every plate."""
    R, C = spec.shape
    esc = html.escape
    districts = districts or {}
    parts = [
        f"<!DOCTYPE html><html lang='{esc(lang)}'><head><meta charset='utf-8'>",
        f"<title>{esc(title)}</title><style>",
        "body{font-family:sans-serif;font-size:10px} h2{font-size:14px;margin:4px 0}",
        "table{border-collapse:collapse;page-break-after:always;margin-bottom:16px}",
        "td,th{border:1px solid #999;padding:2px;text-align:center;vertical-align:middle}",
        f"td{{width:{70 if R == 8 else 38}px;height:{34 if R == 8 else 18}px;"
        f"font-size:{9 if R == 8 else 6}px}}",
        ".s{color:#555;font-size:80%} .d{font-size:75%}",
        "@media print{h1{display:none}}",
        "</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f"<p><strong>{esc(heading)}</strong></p>" if heading else "",
        "<p>"
        + esc(
            say(
                "about",
                lang,
                wells=spec.wells,
                order=say(spec.order, lang),
                positive=spec.positive,
                negative=spec.negative,
                blank=spec.blank,
            )
        )
        + "</p>",
    ]
    labels = _labels(layout, batch, lang)
    content = layout["content"].to_numpy()
    cell = [
        f"<td style='background:{_COLOURS[c]}'>{esc(lab)}"
        + (
            f"<div class='s'>{esc(say('stage', lang, stage=st, samples=k))}</div>"
            + (f"<div class='d'>{esc(districts[pid])}</div>" if pid in districts else "")
            if c == REACTION
            else ""
        )
        + "</td>"
        for c, lab, st, k, pid in zip(
            content,
            labels,
            layout["stage"].to_numpy(),
            layout["samples"].to_numpy(),
            layout["pool_id"].astype(str).to_numpy(),
            strict=False,
        )
    ]
    r_idx = np.searchsorted(ROW_LETTERS[:R], layout["row"].to_numpy().astype(str))
    c_idx = layout["column"].to_numpy().astype(np.int64) - 1
    header = "<tr><th></th>" + "".join(f"<th>{c}</th>" for c in range(1, C + 1)) + "</tr>"
    plate_ids = layout["plate"].to_numpy()
    starts = (
        np.flatnonzero(np.r_[True, plate_ids[1:] != plate_ids[:-1]])
        if len(layout)
        else np.array([], dtype=np.int64)
    )
    for a, b in zip(starts, np.r_[starts[1:], len(layout)], strict=False):
        grid = np.full((R, C), "<td></td>", dtype=object)
        grid[r_idx[a:b], c_idx[a:b]] = cell[a:b]
        n_r = int((content[a:b] == REACTION).sum())
        run = int(layout["run"].iloc[a])
        plate = say("plate", lang, plate=str(plate_ids[a]), run=run, n=n_r)
        where = f" · {heading}" if heading else ""
        parts.append(f"<h2>{esc(plate + where)}</h2><table>{header}")
        parts.extend(f"<tr><th>{ROW_LETTERS[i]}</th>{''.join(grid[i])}</tr>" for i in range(R))
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def plate_figure(
    layout: pd.DataFrame,
    plate: str,
    spec: PlateSpec,
    batch: str = "",
    *,
    lang: str = "en",
    heading: str = "",
    districts: Mapping[str, str] | None = None,
):
    """A matplotlib Figure of one plate (object-oriented API, no pyplot: thread-safe): each
    well's pool id and its district; the lab and date (``heading``) in
    the title."""
    R, C = spec.shape
    districts = districts or {}
    wells = layout[layout["plate"] == plate]
    big = R > 8
    fig = new_figure(16 if big else 11, 10 if big else 6.6, dpi=150 if big else 100)
    ax = fig.add_subplot()
    ax.set_xlim(0.3, C + 0.7)
    ax.set_ylim(R + 0.7, 0.3)
    ax.set_aspect("equal")
    ax.set_xticks(range(1, C + 1), [str(c) for c in range(1, C + 1)], fontsize=7)
    ax.set_yticks(range(1, R + 1), list(ROW_LETTERS[:R]), fontsize=7)
    ax.tick_params(length=0, labeltop=True, labelbottom=False)
    for s in ax.spines.values():
        s.set_visible(False)
    r_idx = np.searchsorted(ROW_LETTERS[:R], wells["row"].to_numpy()) + 1
    c_idx = wells["column"].to_numpy()
    empty = np.ones((R, C), dtype=bool)
    empty[r_idx - 1, c_idx - 1] = False
    er, ec = np.nonzero(empty)
    ax.scatter(
        ec + 1,
        er + 1,
        s=(330 if big else 900),
        facecolor="#ffffff",
        edgecolor="#bbbbbb",
        linewidth=0.5,
    )
    ax.scatter(
        c_idx,
        r_idx,
        s=(330 if big else 900),
        edgecolor="#888888",
        linewidth=0.5,
        facecolor=[_COLOURS[c] for c in wells["content"]],
    )
    font = 3.6 if big else 6.5
    pools = wells["pool_id"].astype(str).to_numpy()
    for label, pid, x, y in zip(_labels(wells, batch, lang), pools, c_idx, r_idx, strict=False):
        district = districts.get(pid)
        if district:  # the district under the pool id, shortened with "…" to fit the well
            most = 10 if big else 12
            short = district if len(district) <= most else district[: most - 1] + "…"
            ax.text(x, y - 0.15, label, ha="center", va="center", fontsize=font)
            ax.text(
                x, y + 0.2, short, ha="center", va="center", fontsize=font - (0.8 if big else 1.5)
            )
        else:
            ax.text(x, y, label, ha="center", va="center", fontsize=font)
    n_r = int((wells["content"] == REACTION).sum())
    title = say("plate_png", lang, plate=plate, n=n_r, order=say(spec.order, lang))
    ax.set_title(f"{title}\n{heading}" if heading else title, fontsize=10)
    fig.tight_layout()
    return fig


def save_plate_pngs(
    layout: pd.DataFrame,
    spec: PlateSpec,
    folder: str | os.PathLike,
    batch: str = "",
    **shown,
) -> list[Path]:
    """One PNG per plate, ``plate_<id>.png`` (``shown``: lang, heading, districts as for
    :func:`plate_figure`)."""
    folder = Path(folder)
    out = []
    for plate in dict.fromkeys(layout["plate"]):
        path = folder / f"plate_{plate}.png"
        save_png(plate_figure(layout, plate, spec, batch, **shown), path)
        out.append(path)
    return out
