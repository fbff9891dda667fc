"""Transport times between units and labs, and which lab may receive from which unit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from labopt.scenario.model import Scenario

EARTH_RADIUS_KM = 6371.0


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance (km) between points given in degrees; broadcasts."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def coordinate_hours(scn: Scenario) -> pd.DataFrame:
    """Road time (hours) of every (district, lab) pair estimated from coordinates: straight-line
    km x transport.road_factor / transport.speed_kmh. Columns: district, lab, hours."""
    d_lat = np.array([d.lat for d in scn.districts])[:, None]
    d_lon = np.array([d.lon for d in scn.districts])[:, None]
    l_lat = np.array([lab.lat for lab in scn.labs])[None, :]
    l_lon = np.array([lab.lon for lab in scn.labs])[None, :]
    km = haversine_km(d_lat, d_lon, l_lat, l_lon)
    return pd.DataFrame(
        {
            "district": np.repeat([d.code for d in scn.districts], len(scn.labs)),
            "lab": np.tile([lab.id for lab in scn.labs], len(scn.districts)),
            "hours": (km * scn.transport.road_factor / scn.transport.speed_kmh).ravel(),
        }
    )


def travel_table(scn: Scenario) -> pd.DataFrame:
    """Every (district, lab) pair a unit may send samples to, with the road time (hours).

    With a travel table, its rows are the candidate pairs; without one, times are derived
    from coordinates (coordinate_hours). Either way a pair is allowed when its time is within
    policy.max_travel_hours, and a unit's own labs (lab.district = the unit) are always
    allowed: an own lab the travel table leaves out gets the coordinates' estimate, as it
    would without a travel table.
    Columns: district, lab, hours, same_district (bool).
    """
    lab_district = {lab.id: lab.district for lab in scn.labs}
    if scn.travel is not None:
        t = scn.travel[["district", "lab", "hours"]].copy()
        est = coordinate_hours(scn)
        own = est[est["lab"].map(lab_district) == est["district"]]
        listed = pd.MultiIndex.from_frame(t[["district", "lab"]])
        missing = ~pd.MultiIndex.from_frame(own[["district", "lab"]]).isin(listed)
        t = pd.concat([t, own[missing]], ignore_index=True)
    else:
        t = coordinate_hours(scn)
    t["same_district"] = t["lab"].map(lab_district).to_numpy() == t["district"].to_numpy()
    keep = (t["hours"] <= scn.policy.max_travel_hours) | t["same_district"]
    return t[keep].reset_index(drop=True)
