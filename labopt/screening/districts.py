"""Each unit's screening round for a day: how many samples, from which risk groups, in which
pools, and what detection probability that gives, against the screening the demand asks.

The design prevalence and the target sensitivity come from the unit's epidemic level and area
type through the scenario's ``[screening]`` settings (:class:`labopt.scenario.model.Screening`,
assumptions a coordinator edits); the pool test's Se and Sp are the policy's. A unit's people
are one group unless a groups table (:func:`read_groups`) splits them by risk.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from functools import lru_cache

import numpy as np
import pandas as pd

from labopt.errors import InputError
from labopt.lab.tables import Problems, duplicated_rows, parse_numbers, read_table, text_table
from labopt.notes import Note
from labopt.numbers import NumberFormat
from labopt.scenario.model import District, Scenario
from labopt.scenario.updates import day_of
from labopt.screening.freedom import ScreeningSize, size_for_detection
from labopt.screening.risk import (
    GroupSample,
    RiskBasedSize,
    RiskGroup,
    allocate_for_detection,
    every_available,
)

NOTES = "labopt.screening.words:NOTES"  # why a unit's round differs from its target

GROUP_COLUMNS = ("group", "relative_risk", "share")
OPTIONAL_GROUP_COLUMNS = ("district", "available", "at_least")
# columns of numbers: a workbook's number cells are taken as they are, whatever the format
NUMBER_GROUP_COLUMNS = ("relative_risk", "share", "available", "at_least")
# how a user reads a groups file's text numbers in the other format
GROUPS_FORMAT = "--number-format {name}"
# the key of the groups of one place, in a table without a district column
ONE_PLACE = ""
# the one group of a unit tested whole (internal: such a unit reports no groups)
_EVERYONE = "everyone"


@dataclass(frozen=True)
class UnitRound:
    """One unit's screening round on a day. ``asked``: samples of the poolable streams the
    demand asks of the unit that day; ``note``: why the round differs from its target (a unit
    with fewer people than the round needs), else empty; ``groups``: what each risk group
    gives (empty for a unit sampled as one group)."""

    district: str
    name: str
    epidemic_level: int
    area_type: str
    population: int
    design_prevalence: float
    target_sensitivity: float
    samples: int
    pools: int
    pool_size: int
    positive_pools_cutoff: int
    population_sensitivity: float
    population_specificity: float
    asked: int
    groups: list[GroupSample] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def groups_from_frame(
    df: pd.DataFrame,
    source: str,
    districts: Iterable[str] | None = None,
    fmt: NumberFormat | None = None,
) -> dict[str, list[RiskGroup]]:
    """Risk groups by unit code from a table with columns group, relative_risk, share and
    optionally available and at_least (text cells, as read), and district: required when
    ``districts`` (the scenario's unit codes) is given, else absent (the groups of one place,
    under the key ONE_PLACE). Text numbers are read in ``fmt`` (default en); a share may be a
    percentage (``10%``). Every problem named by row and column, all of them at once."""
    t = text_table(df, source, GROUP_COLUMNS, OPTIONAL_GROUP_COLUMNS, numbers=NUMBER_GROUP_COLUMNS)
    problems = Problems(source)
    if districts is not None and "district" not in t.columns:
        problems.add("missing column 'district': the unit each group belongs to")
    if districts is None and "district" in t.columns:
        problems.add(
            "a column 'district': these are the groups of one place; the groups of a "
            "scenario's units go to `labopt screen allocate`",
            column="district",
        )
    problems.raise_if_any()
    if "district" not in t.columns:
        t["district"] = ONE_PLACE
    if len(t) == 0:
        problems.add("no rows: one row per risk group of a unit")
        problems.raise_if_any()
    known = None if districts is None else set(districts)
    rows = np.arange(2, len(t) + 2)
    for col in ("district", "group") if districts is not None else ("group",):
        blank = t[col].to_numpy() == ""
        problems.add_rows(blank, rows, t[col].to_numpy(), col, "a value is required")
    if known is not None:
        unknown = (t["district"] != "") & ~t["district"].isin(known)
        shown = t["district"].to_numpy()
        problems.add_rows(unknown.to_numpy(), rows, shown, "district", "not a unit of the scenario")
    rr = parse_numbers(
        t["relative_risk"], problems, "relative_risk", low=0, high=1e6, blank_ok=False,
        low_open=True, what="a relative risk", fmt=fmt, switch=GROUPS_FORMAT,
    )  # fmt: skip
    share = parse_numbers(
        t["share"], problems, "share", low=0, high=1, blank_ok=False, low_open=True,
        what="a fraction of the unit's people (0.1 or 10%)", fmt=fmt, percent=True,
        switch=GROUPS_FORMAT,
    )  # fmt: skip
    if "available" in t.columns:
        avail = parse_numbers(
            t["available"], problems, "available", low=0, high=1e12, blank_ok=True,
            what="people who can be sampled", whole=True, fmt=fmt, switch=GROUPS_FORMAT,
        )  # fmt: skip
    else:
        avail = np.full(len(t), np.nan)
    least = (
        parse_numbers(
            t["at_least"],
            problems,
            "at_least",
            low=0,
            high=1e12,
            blank_ok=True,
            what="samples the group gives whatever its risk",
            whole=True,
            fmt=fmt,
            switch=GROUPS_FORMAT,
        )
        if "at_least" in t.columns
        else np.zeros(len(t))
    )
    with np.errstate(invalid="ignore"):
        over = (avail >= 0) & (least >= 0) & (least > avail)
    problems.add_rows(over, rows, t["at_least"].to_numpy() if "at_least" in t.columns else least,
                      "at_least", "more than the group's available people")  # fmt: skip
    keys = t[["district", "group"]] if districts is not None else t[["group"]]
    duplicated_rows(keys, problems, "group", "group of the unit" if districts else "group")
    problems.raise_if_any()
    out: dict[str, list[RiskGroup]] = {}
    for code, g, r, s, a, m in zip(t["district"], t["group"], rr, share, avail, least, strict=True):
        out.setdefault(code, []).append(
            RiskGroup(
                g, float(r), float(s), None if np.isnan(a) else int(a), 0 if np.isnan(m) else int(m)
            )
        )
    for code, gs in out.items():
        total = sum(g.share for g in gs)
        if abs(total - 1.0) > 1e-6:
            whose = "the groups'" if code == ONE_PLACE else f"unit {code!r}'s groups'"
            problems.add(f"{whose} shares add up to {total:.6g}, not 1", column="share")
    problems.raise_if_any()
    return out


def read_groups(
    path: str | os.PathLike,
    districts: Iterable[str] | None = None,
    *,
    data: bytes | None = None,
    fmt: NumberFormat | None = None,
) -> dict[str, list[RiskGroup]]:
    """Risk groups by unit code from a CSV or XLSX file (:func:`groups_from_frame`), text
    numbers read in ``fmt`` (default en)."""
    df = read_table(
        path, GROUP_COLUMNS, OPTIONAL_GROUP_COLUMNS, data=data, numbers=NUMBER_GROUP_COLUMNS
    )
    return groups_from_frame(df, str(path), districts, fmt)


def unit_rounds(
    scn: Scenario,
    day: int = 1,
    groups: dict[str, list[RiskGroup]] | None = None,
    codes: Iterable[str] | None = None,
) -> list[UnitRound]:
    """The screening round of every unit (or of ``codes``) on ``day`` of the scenario."""
    if not 1 <= day <= scn.province.days:
        raise InputError(f"day: 1..{scn.province.days}, got {day}", "day")
    groups = groups or {}
    wanted = None if codes is None else set(codes)
    poolable = [s.id for s in scn.streams if s.poolable]
    d = scn.demand[(scn.demand["day"] == day) & scn.demand["stream"].isin(poolable)]
    asked = d.groupby("district")["samples"].sum()
    out = []
    for unit in scn.districts:
        if wanted is not None and unit.code not in wanted:
            continue
        out.append(_unit_round(scn, unit, int(asked.get(unit.code, 0)), groups.get(unit.code)))
    return out


def rounds_on(
    scn: Scenario,
    date: dt.date | None = None,
    groups: dict[str, list[RiskGroup]] | None = None,
    parameter: str = "date",
) -> list[UnitRound]:
    """:func:`unit_rounds` on a calendar date of the scenario's horizon (default: its start);
    ``parameter`` names the date in the error when it is outside."""
    return unit_rounds(scn, 1 if date is None else day_of(scn, date, parameter), groups)


def _unit_round(
    scn: Scenario, unit: District, asked: int, groups: list[RiskGroup] | None
) -> UnitRound:
    cfg = scn.settings.screening
    pol = scn.policy
    level = unit.epidemic_level
    p = cfg.design_prevalence(level, unit.area_type)
    target = cfg.target_sensitivity(level)
    k = cfg.pool_size
    se, sp = pol.pooling_se, pol.pooling_sp
    note: str
    try:
        if unit.population <= 0:
            size, note = _no_round(k), Note(NOTES, "no_people")
        elif groups:
            size, note = _groups_round(unit, groups, target, p, k, se, sp, cfg.target_specificity)
        else:
            size, note = _whole_unit(unit, target, p, k, se, sp, cfg.target_specificity)
    except InputError as exc:
        raise InputError(
            f"unit {unit.code!r} (epidemic level {level}, {unit.area_type.replace('_', ' ')}): "
            f"{exc}; the round's values are the scenario's screening.design_prevalence_{level}, "
            f"screening.target_sensitivity_{level}, screening.{unit.area_type}, "
            f"screening.pool_size and policy.pooling_se / pooling_sp",
            "screening",
        ) from None
    return UnitRound(
        unit.code,
        unit.name,
        level,
        unit.area_type,
        unit.population,
        p,
        target,
        size.samples,
        size.pools,
        k,
        size.positive_pools_cutoff,
        size.population_sensitivity,
        size.population_specificity,
        asked,
        size.groups,
        note,
    )


def _groups_round(
    unit: District, groups: list[RiskGroup], target, p, k, se, sp, spec
) -> tuple[RiskBasedSize, str]:
    """A unit's round from its risk groups, each giving at most its share of the unit's
    people (and its ``available``); when even all of them fall short, all of them."""
    people = [math.floor(g.share * unit.population) for g in groups]
    capped = [
        replace(g, available=n if g.available is None else min(n, g.available))
        for g, n in zip(groups, people, strict=True)
    ]
    capped = [replace(g, at_least=min(g.at_least, g.available or 0)) for g in capped]
    try:
        size = allocate_for_detection(
            capped, target, p, pool_size=k, se=se, sp=sp, target_specificity=spec
        )
    except InputError as exc:
        if exc.parameter != "target_sensitivity" and not str(exc).startswith("groups: no group"):
            raise
        if all(g.available == 0 for g in capped):
            return _no_round(k), Note(NOTES, "no_one_available")
        size = every_available(capped, p, pool_size=k, se=se, sp=sp, target_specificity=spec)
        sens = size.population_sensitivity
        return size, Note(
            NOTES, "all_of_groups", samples=size.samples, sensitivity=sens, target=target
        )
    return size, ""


def _whole_unit(unit: District, target, p, k, se, sp, spec) -> tuple[RiskBasedSize, str]:
    """A unit's people as one group: sized for a large population (the same answer for every
    unit with these values, so computed once), or all of them when they are fewer."""
    people = unit.population
    if sp == 1.0 and k == 1:  # one by one, a known population: counted exactly for each unit
        got = size_for_detection(
            target, p, pool_size=1, se=se, sp=sp, population=people, target_specificity=spec
        )
        return _unit_size(got), ""
    got = shared_size(target, p, k, se, sp, spec)
    if got.samples <= people:
        return _unit_size(got), ""
    all_of = every_available(
        [RiskGroup(_EVERYONE, 1.0, 1.0, people)], p, pool_size=k, se=se, sp=sp,
        target_specificity=spec,
    )  # fmt: skip
    note = Note(NOTES, "everyone", needed=got.samples, people=people)
    return replace(all_of, groups=[]), note


@lru_cache(maxsize=1024)
def shared_size(target: float, p: float, k: int, se: float, sp: float, spec: float):
    """The round of a large population with these values: the same for every unit that has
    them, so computed once (``shared_size.cache_clear()`` forgets them)."""
    return size_for_detection(target, p, pool_size=k, se=se, sp=sp, target_specificity=spec)


def _unit_size(size: ScreeningSize) -> RiskBasedSize:
    """A unit's round sampled as one group (it reports no groups)."""
    return RiskBasedSize(**{f.name: getattr(size, f.name) for f in fields(size)}, groups=[])


def _no_round(k: int) -> RiskBasedSize:
    return RiskBasedSize(0, 0, k, 1, 0.0, 1.0, "no round", groups=[])


def rounds_table(rounds: list[UnitRound]) -> pd.DataFrame:
    """One row per unit; the samples of each risk group as a ``samples_<group>`` column (blank
    for a unit without that group)."""
    names = list(dict.fromkeys(g.group for r in rounds for g in r.groups))
    table = pd.DataFrame([{k: v for k, v in r.to_dict().items() if k != "groups"} for r in rounds])
    for n in names:
        got = [next((g.samples for g in r.groups if g.group == n), None) for r in rounds]
        table[f"samples_{n}"] = pd.array(got, dtype="Int64")
    return table
