"""Carry a scenario over one day: what really happened on day 1 in, the scenario of the next day
out.

The next day starts from the state day 1 left: the samples still waiting, by unit, stream and
age (so each keeps the wait limit of its collection day), and each lab's reagent. Samples are
tested oldest first; what is left of a cohort at its wait limit at the end of the day is
untested (spoiled) then. Every sample is accounted for: waiting at the start + collected =
tested + untested + waiting at the end, per unit and stream (:class:`DayAccount`).

Reagent shipments sent on day 1 (along the scenario's supply routes) leave their source's
stock that day and reach their target on day 1 + lead: the same day, or as a delivery of the
next scenario. Collection kits the same way: a unit the kits table lists uses one kit per
poolable sample it collects; kit shipments leave their store on day 1 and reach the unit on
day 1 + lead (the same day, or as a kit arrival of the next scenario).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from labopt.errors import InputError
from labopt.scenario.model import Scenario
from labopt.scenario.updates import arrivals_window, days_window

MAX_COUNT = 2**53  # beyond this, whole numbers are not exact as floats

ACCOUNT_COLUMNS = [
    "district",
    "stream",
    "waiting_before",
    "collected",
    "tested",
    "untested",
    "waiting",
    "tested_same_day",
    "waited_days",
]
KIT_COLUMNS = ["holder", "on_hand", "used", "shipped", "left", "counted"]


@dataclass(frozen=True)
class DayAccount:
    """Day 1 as it happened and the state it leaves.

    ``samples``: per unit and stream, waiting_before (at the start of the day), collected,
    tested, untested (spoiled at their wait limit), waiting (at the end), tested_same_day (of
    those tested, collected that day) and waited_days (the days those tested had waited, in
    all: their turnaround in days); ``reagent``: per lab,
    on_hand (at the start, the day's deliveries and shipments received that day included),
    used, shipped (sent to other labs) and left (reactions); ``stores``: per store, on_hand
    (its stock and the day's arrivals), shipped and left (reactions); ``kits``: per holder of
    collection kits (a unit the kits table lists, or a store), on_hand (its kits and the day's
    arrivals), used (poolable samples collected), shipped, left and counted (NaN: no count)."""

    samples: pd.DataFrame
    reagent: pd.DataFrame
    stores: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["store", "on_hand", "shipped", "left"])
    )
    kits: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=KIT_COLUMNS))


def next_day(
    scn: Scenario,
    tested: pd.DataFrame,
    reagent_used: Mapping[str, float],
    reagent_counted: Mapping[str, int] | None = None,
    shipped: pd.DataFrame | None = None,
    kits_shipped: pd.DataFrame | None = None,
    kits_counted: Mapping[str, int] | None = None,
) -> tuple[Scenario, DayAccount]:
    """The scenario of the day after day 1, and day 1's account.

    ``tested``: the samples tested on day 1 (columns district, stream, samples, and lab if
    known, to name it in an error; rows absent: none tested; several rows of a unit and
    stream are summed). ``reagent_used``: reactions each lab ran
    on day 1 (labs absent: none). ``reagent_counted``: reactions a lab counted on its shelf at
    the end of day 1; where given it replaces stock + delivery - used (a count is the truth,
    the difference is reported in the account). ``shipped``: the reagent sent on day 1
    (source, target, reactions; each along a supply route of the scenario). The next day's
    scenario has the backlog of the samples still waiting, the labs' and stores' reagent left
    as their stock, demand and deliveries of days 2.. renumbered from 1 (shipments arriving
    then among them), and one day fewer (a one-day scenario leaves a one-day scenario with no
    demand). ``kits_shipped``: the collection kits sent on day 1 (source, target, kits; a store
    to a unit the kits table lists, along a supply route); ``kits_counted``: the kits a unit or
    store counted at the end of day 1 (replacing the kits labopt computes).
    """
    kits, kit_arrivals, kit_account = _kits(scn, kits_shipped, kits_counted or {})
    ships = _shipments(scn, shipped)
    samples, backlog = _samples(scn, tested)
    same_day = ships[ships["lead"] == 0].groupby("target")["reactions"].sum()
    sent = ships.groupby("source")["reactions"].sum()
    reagent = _reagent(scn, reagent_used, reagent_counted or {}, same_day, sent)
    left = reagent.set_index("lab")["left"]
    labs = [lab.model_copy(update={"reagent_stock": int(left[lab.id])}) for lab in scn.labs]
    days = max(scn.province.days - 1, 1)
    early, store_arrivals = arrivals_window(scn.store_arrivals, "store", 1, days)
    stores, store_account = _stores(scn, early, sent)
    later = ships[ships["lead"] > 0]
    arriving = pd.DataFrame(
        {
            "lab": later["target"],
            "day": 1 + later["lead"].astype("int64"),
            "reactions": later["reactions"].astype("int64"),
        }
    )
    deliveries = pd.concat([scn.deliveries[["lab", "day", "reactions"]], arriving])
    deliveries = deliveries.groupby(["lab", "day"], as_index=False)["reactions"].sum()
    province = scn.province.model_copy(update={"start_date": scn.date_of(2), "days": days})
    out = replace(
        scn,
        settings=scn.settings.model_copy(update={"province": province}),
        labs=labs,
        demand=days_window(scn.demand, 1, days),
        deliveries=days_window(deliveries, 1, days),
        lab_days=days_window(scn.lab_days, 1, days),
        stores=stores,
        store_arrivals=store_arrivals,
        kits=kits,
        kit_arrivals=days_window(kit_arrivals, 1, days),
        backlog=backlog,
    )
    return out, DayAccount(samples, reagent, store_account, kit_account)


def _kits(
    scn: Scenario, shipped: pd.DataFrame | None, counted: Mapping[str, int]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The kits table after day 1, the kit arrivals of days 2.. (shipments on their way
    among them, not yet renumbered) and day 1's kit account; InputError for a shipment off
    the routes, a count of an unknown holder, or kits used or sent beyond those on hand
    without a count."""
    stores = [str(x) for x in scn.stores["id"]]
    held = scn.kits.set_index("holder")["kits"].astype("int64")
    units = [h for h in held.index if h not in stores]
    holders = units + stores
    ships = _kit_shipments(scn, shipped, set(units))
    bad = sorted(set(counted) - set(holders))
    if bad:
        raise InputError(
            f"kits_counted: {', '.join(map(repr, bad))} is not a store nor a unit the kits "
            f"table lists",
            "kits_counted",
        )
    counts = dict(
        zip(counted, _whole(pd.Series(counted, dtype=object), "kits_counted", "lab"), strict=True)
    )
    arrivals = scn.kit_arrivals
    today = arrivals[arrivals["day"] == 1].groupby("holder")["kits"].sum()
    same_day = ships[ships["lead"] == 0].groupby("target")["kits"].sum()
    sent = ships.groupby("source")["kits"].sum()
    poolable = [s.id for s in scn.streams if s.poolable]
    d1 = scn.demand[(scn.demand["day"] == 1) & scn.demand["stream"].isin(poolable)]
    used = d1.groupby("district")["samples"].sum()
    rows = []
    for h in holders:
        on_hand = int(held.get(h, 0)) + int(today.get(h, 0)) + int(same_day.get(h, 0))
        u, out = int(used.get(h, 0)) if h in units else 0, int(sent.get(h, 0))
        if h in counts:
            left = int(counts[h])
        elif u + out > on_hand:
            what, fix = (
                (
                    f"unit {h} collected {u:,} poolable samples",
                    "the samples it really collected (collected)",
                )
                if h in units
                else (f"store {h} sent {out:,} kits", "the kits it really sent (kit_shipments)")
            )
            raise InputError(
                f"kits: {what} on {scn.date_of(1)} with only {on_hand:,} collection kits on "
                f"hand; enter {fix}, or the kits it counted (kit_counts)",
                "kits",
            )
        else:
            left = on_hand - u - out
        counted_h = float(counts[h]) if h in counts else np.nan
        rows.append((h, on_hand, u, out, left, counted_h))
    account = pd.DataFrame(rows, columns=KIT_COLUMNS)
    keep = account["holder"].isin(held.index) | (account["left"] > 0)
    kits = account.loc[keep, ["holder", "left"]].rename(columns={"left": "kits"})
    later = ships[ships["lead"] > 0]
    on_way = pd.DataFrame(
        {
            "day": 1 + later["lead"].astype("int64"),
            "holder": later["target"],
            "kits": later["kits"].astype("int64"),
        }
    )
    both = pd.concat([arrivals[["day", "holder", "kits"]], on_way])
    both = both.groupby(["holder", "day"], as_index=False)["kits"].sum()
    return kits.reset_index(drop=True), both[["day", "holder", "kits"]], account


def _kit_shipments(scn: Scenario, shipped: pd.DataFrame | None, units: set[str]) -> pd.DataFrame:
    """Day 1's kit shipments (source, target, kits as whole numbers) with their route's lead
    time; InputError for one that is not from a store to a unit the kits table lists along a
    supply route."""
    cols = ["source", "target", "kits", "lead"]
    if shipped is None or shipped.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype=object if c in cols[:2] else "int64") for c in cols}
        )
    missing = {"source", "target", "kits"} - set(shipped.columns)
    if missing:
        raise InputError(
            f"kits_shipped: needs columns source, target, kits; missing "
            f"{', '.join(sorted(missing))}",
            "kits_shipped",
        )
    out = shipped[["source", "target"]].astype(str).reset_index(drop=True)
    out["kits"] = _whole(shipped["kits"].reset_index(drop=True), "kits_shipped.kits", "row").astype(
        "int64"
    )
    lead = scn.supply_routes.set_index(["source", "target"])["lead_days"]
    found = lead.reindex(pd.MultiIndex.from_frame(out[["source", "target"]]))
    stores = set(scn.stores["id"].astype(str))
    for i, (a, b) in enumerate(zip(out["source"], out["target"], strict=True)):
        if a not in stores or b not in units or pd.isna(found.iloc[i]):
            raise InputError(
                f"kits_shipped: row {i + 1}: kits go from a store to a unit the kits table "
                f"lists along a supply route; none from {a!r} to {b!r}",
                "kits_shipped",
            )
    out["lead"] = found.to_numpy(dtype="int64")
    return out


def _shipments(scn: Scenario, shipped: pd.DataFrame | None) -> pd.DataFrame:
    """Day 1's shipments (source, target, reactions as whole numbers) with their route's lead
    time; InputError for one off the scenario's routes."""
    cols = ["source", "target", "reactions", "lead"]
    if shipped is None or shipped.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype=object if c in cols[:2] else "int64") for c in cols}
        )
    missing = {"source", "target", "reactions"} - set(shipped.columns)
    if missing:
        raise InputError(
            f"shipped: needs columns source, target, reactions; missing "
            f"{', '.join(sorted(missing))}",
            "shipped",
        )
    out = shipped[["source", "target"]].astype(str).reset_index(drop=True)
    out["reactions"] = _whole(
        shipped["reactions"].reset_index(drop=True), "shipped.reactions", "row"
    ).astype("int64")
    lead = scn.supply_routes.set_index(["source", "target"])["lead_days"]
    found = lead.reindex(pd.MultiIndex.from_frame(out[["source", "target"]]))
    if found.isna().any():
        i = int(np.flatnonzero(found.isna().to_numpy())[0])
        raise InputError(
            f"shipped: row {i + 1}: no supply route from {out['source'][i]!r} to "
            f"{out['target'][i]!r}",
            "shipped",
        )
    out["lead"] = found.to_numpy(dtype="int64")
    return out


def _stores(scn: Scenario, early: pd.Series, sent: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stores with their reagent left after day 1 (stock + arrivals - shipped), and the
    day's account per store; InputError for a store that sent more than it held."""
    stores = scn.stores.copy()
    on_hand = stores["reagent_stock"] + stores["id"].map(early).fillna(0).astype("int64")
    out = stores["id"].map(sent).fillna(0).astype("int64")
    short = on_hand < out
    if short.any():
        i = int(np.flatnonzero(short.to_numpy())[0])
        raise InputError(
            f"shipped: store {stores['id'].iloc[i]} sent {int(out.iloc[i]):,} reactions on "
            f"{scn.date_of(1)} with only {int(on_hand.iloc[i]):,} on hand",
            "shipped",
        )
    stores["reagent_stock"] = (on_hand - out).astype("int64")
    account = pd.DataFrame(
        {
            "store": stores["id"],
            "on_hand": on_hand.astype("int64"),
            "shipped": out,
            "left": stores["reagent_stock"],
        }
    )
    return stores, account


def _samples(scn: Scenario, tested: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Day 1's account per unit and stream (ACCOUNT_COLUMNS), tested oldest first, and the
    next day's backlog (what is left of each cohort, one day older, within its limit)."""
    missing = {"district", "stream", "samples"} - set(tested.columns)
    if missing:
        raise InputError(
            f"tested: needs columns district, stream, samples; missing "
            f"{', '.join(sorted(missing))}",
            "tested",
        )
    units = [d.code for d in scn.districts]
    streams = [s.id for s in scn.streams]
    for col, known in (("district", units), ("stream", streams)):
        bad = sorted(set(tested[col]) - set(known))
        if bad:
            raise InputError(f"tested.{col}: unknown {', '.join(map(repr, bad))}", f"tested.{col}")
    counts = _whole(tested["samples"], "tested.samples", "row")
    done = (
        pd.Series(counts, index=tested.index).groupby([tested["district"], tested["stream"]]).sum()
    )
    day1 = scn.demand[scn.demand["day"] == 1].groupby(["district", "stream"])["samples"].sum()
    before = scn.backlog.groupby(["district", "stream"])["samples"].sum()
    index = pd.MultiIndex.from_product([units, streams], names=["district", "stream"])
    out = pd.DataFrame(
        {
            "waiting_before": before.reindex(index, fill_value=0),
            "collected": day1.reindex(index, fill_value=0),
            "tested": done.reindex(index, fill_value=0),
        }
    ).astype("int64")
    have = out["waiting_before"] + out["collected"]
    over = out[out["tested"] > have]
    if len(over):
        (d, s), row = next(iter(over.iterrows()))
        mine = (tested["district"] == d) & (tested["stream"] == s)
        by = sorted(set(tested.loc[mine, "lab"])) if "lab" in tested.columns else []
        labs = f" (recorded by {', '.join(map(str, by))})" if by else ""
        raise InputError(
            f"tested: {int(row.tested)} samples of {d}/{s} tested on {scn.date_of(1)}{labs}, "
            f"but only {int(have[(d, s)])} were there (waiting {int(row.waiting_before)} + "
            f"collected {int(row.collected)}); correct the lab's tested record of that day, or "
            f"the unit's collected record",
            "tested.samples",
        )
    cohorts = _cohorts(scn, out)
    wait = {s.id: s.max_wait_days for s in scn.streams}
    untested, waiting, backlog, same_day, waited = [], [], [], [], []
    for (d, s), row in out.iterrows():
        ages = cohorts.get((d, s), {})
        left = _take_oldest(ages, int(row.tested))
        taken = {age: n - left.get(age, 0) for age, n in ages.items()}
        same_day.append(taken.get(0, 0))
        waited.append(sum(age * n for age, n in taken.items()))
        # what is left at its wait limit spoils today; the rest waits, one day older
        spoiled = sum(n for age, n in left.items() if age >= wait[s])
        untested.append(spoiled)
        waiting.append(sum(left.values()) - spoiled)
        backlog += [(d, s, age + 1, n) for age, n in sorted(left.items()) if age < wait[s]]
    out["untested"] = untested
    out["waiting"] = waiting
    out["tested_same_day"] = same_day
    out["waited_days"] = waited
    after = pd.DataFrame(backlog, columns=["district", "stream", "age_days", "samples"])
    return out.reset_index()[ACCOUNT_COLUMNS], after.astype(
        {"age_days": "int64", "samples": "int64"}
    )


def _cohorts(scn: Scenario, out: pd.DataFrame) -> dict[tuple[str, str], dict[int, int]]:
    """Per unit and stream: samples by age at the start of day 1 (day 1's own: age 0)."""
    cohorts: dict[tuple[str, str], dict[int, int]] = {}
    for d, s, age, n in scn.backlog[["district", "stream", "age_days", "samples"]].itertuples(
        index=False
    ):
        ages = cohorts.setdefault((d, s), {})
        ages[int(age)] = ages.get(int(age), 0) + int(n)
    for (d, s), n in out["collected"].items():
        if n:
            cohorts.setdefault((d, s), {})[0] = int(n)
    return cohorts


def _take_oldest(ages: dict[int, int], n: int) -> dict[int, int]:
    """What is left of each age after ``n`` samples are taken, oldest first."""
    left = {}
    for age in sorted(ages, reverse=True):
        take = min(ages[age], n)
        n -= take
        if ages[age] - take:
            left[age] = ages[age] - take
    return left


def _number(values: pd.Series, name: str) -> np.ndarray:
    """Finite numbers >= 0 (text numbers read as such); InputError naming the first bad one
    by its label (a lab) otherwise."""
    arr = _numeric(values)
    bad = ~np.isfinite(arr) | (arr < 0) | (arr > MAX_COUNT)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{name}: {values.index[i]!r} must be a number of reactions >= 0, got "
            f"{_plain(values.iloc[i])!r}",
            name,
        )
    return arr


def _whole(values: pd.Series, name: str, what: str) -> np.ndarray:
    """Whole numbers >= 0 (text numbers read as such); InputError naming the first bad one
    (``what``: "row", its position from 1, or "lab", its label) otherwise."""
    arr = _numeric(values)
    bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr)) | (arr > MAX_COUNT)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        where = f"row {i + 1}" if what == "row" else repr(values.index[i])
        raise InputError(
            f"{name}: {where} must be a whole number >= 0, got {_plain(values.iloc[i])!r}", name
        )
    return arr


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _numeric(values: pd.Series) -> np.ndarray:
    """Numbers as floats; NaN for what is not one (booleans and blanks included)."""
    plain = values.astype(object).map(lambda v: np.nan if isinstance(v, bool) else v)
    return pd.to_numeric(plain, errors="coerce").to_numpy(dtype=float)


def _reagent(
    scn: Scenario,
    used: Mapping[str, float],
    counted: Mapping[str, int],
    received: pd.Series,
    sent: pd.Series,
) -> pd.DataFrame:
    """Per lab: on_hand (stock + day 1's deliveries + shipments ``received`` that day), used,
    shipped (``sent`` to other labs), left (the count where given, else on_hand - used -
    shipped, in whole reactions), counted (the count or NaN)."""
    ids = [lab.id for lab in scn.labs]
    for name, given in (("reagent_used", used), ("reagent_counted", counted)):
        bad = sorted(set(given) - set(ids))
        if bad:
            raise InputError(f"{name}: unknown lab {', '.join(map(repr, bad))}", name)
    used = dict(zip(used, _number(pd.Series(used, dtype=object), "reagent_used"), strict=True))
    counted = dict(
        zip(
            counted, _whole(pd.Series(counted, dtype=object), "reagent_counted", "lab"), strict=True
        )
    )
    delivered = scn.deliveries[scn.deliveries["day"] == 1].groupby("lab")["reactions"].sum()
    rows = []
    for lab in scn.labs:
        on_hand = lab.reagent_stock + int(delivered.get(lab.id, 0)) + int(received.get(lab.id, 0))
        u = float(used.get(lab.id, 0.0))
        out = int(sent.get(lab.id, 0))
        if lab.id in counted:
            left = int(counted[lab.id])
        else:
            if u + out > on_hand + 1e-9:
                shipped = f" and sent {out:,} to other labs" if out else ""
                raise InputError(
                    f"reagent_used: {lab.id} ran {u:g} reactions{shipped} on {scn.date_of(1)} "
                    f"with only {on_hand} on hand; enter the reagent it counted on its shelf",
                    "reagent_used",
                )
            left = int(np.floor(on_hand - u - out + 1e-9))
        rows.append(
            {
                "lab": lab.id,
                "on_hand": on_hand,
                "used": u,
                "shipped": out,
                "left": left,
                "counted": float(counted[lab.id]) if lab.id in counted else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=["lab", "on_hand", "used", "shipped", "left", "counted"])
