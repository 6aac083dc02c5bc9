"""Coordinates of zones and schools: kilometres on a flat grid (``x_km``, ``y_km``), or longitude and
latitude in degrees (``lon``, ``lat``, WGS 84) converted here to kilometres, so that every later
step reads ``x_km``/``y_km`` only.

Conversion: an azimuthal equidistant projection (PROJ ``aeqd`` on the WGS 84 ellipsoid, in km)
centred on the middle of the district's bounding box in degrees. Distances from the centre are
exact geodesic distances; the scale across them grows as c/sin(c), c = r/R, at r km from the centre
(R = 6371 km). A straight-line distance between two points of the district, compared with the WGS 84
geodesic, is therefore off by at most ``aeqd_error_bound(r_max)`` = 1.1 (c/sin c - 1) + 3e-6, where
the last terms cover the ellipsoid's flattening (measured against Karney geodesics at latitudes 0-80
degrees, tests/test_geo.py), plus 1 mm from rounding km to 6 decimals: 0.0015 % within 50 km of the
centre, 0.02 % within 200 km, 0.23 % within 700 km (a point more than ``MAX_KM_FROM_CENTRE`` = 1,000 km
from the centre is refused: it is almost always a swapped lon/lat or a layer whose CRS does not match
its coordinates). The
bound is printed in the note of every conversion.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from capacity.errors import Problem

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), for the error bound."""
KM_COLUMNS = ("x_km", "y_km")
LONLAT_COLUMNS = ("lon", "lat")
TABLES_WITH_COORDINATES = ("zones", "schools")
ROW = "_row"
MAX_KM_FROM_CENTRE = 1000.0
"""Farthest a zone or school may lie from the district's centre, km (the error bound stays below 0.5 %)."""


def aeqd_error_bound(r_max_km: float) -> float:
    """Largest relative error of a straight-line distance between two points within ``r_max_km``
    of the projection centre: 1.1 (c/sin c - 1) + 3e-6, c = r/R (the azimuthal equidistant scale
    factor, with a margin for the ellipsoid)."""
    c = r_max_km / EARTH_RADIUS_KM
    return 1.1 * (c / math.sin(c) - 1.0) + 3e-6 if c > 0 else 3e-6


def district_centre(lon: np.ndarray, lat: np.ndarray) -> tuple[float, float]:
    """Middle of the bounding box, degrees (lon, lat), rounded to 1e-6 degree so that it does not
    depend on the order of the rows. A district across the 180th meridian is measured on 0-360."""
    lon = np.asarray(lon, dtype=float)
    if np.ptp(lon) > 180:
        lon = np.mod(lon, 360.0)
    mid = (float(lon.min()) + float(lon.max())) / 2
    mid = mid - 360.0 if mid > 180 else mid
    return round(mid, 6), round((float(np.min(lat)) + float(np.max(lat))) / 2, 6)


def lonlat_to_km(lon: np.ndarray, lat: np.ndarray, centre: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Easting and northing in km of WGS 84 points on the azimuthal equidistant grid centred at ``centre``."""
    from pyproj import CRS, Transformer  # lazy: only lon/lat districts need it

    aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={centre[1]} +lon_0={centre[0]} +datum=WGS84 +units=km +no_defs")
    t = Transformer.from_crs(CRS.from_epsg(4326), aeqd, always_xy=True)
    x, y = t.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.round(np.asarray(x, dtype=float), 6), np.round(np.asarray(y, dtype=float), 6)


def _pair_problems(frame: pd.DataFrame, label: str, header: list[str]) -> tuple[str | None, list[Problem]]:
    """Which pair a table uses ('km', 'lonlat' or None when broken), and its problems."""
    # A pair counts as given when a column of it holds a value: a file written back with the
    # other pair's columns left empty reads as it was written.
    has = {c: c in header and bool(frame[c].notna().any()) for c in KM_COLUMNS + LONLAT_COLUMNS}
    if not any(has.values()):
        has = {c: c in header for c in KM_COLUMNS + LONLAT_COLUMNS}
    km, ll = has["x_km"] or has["y_km"], has["lon"] or has["lat"]
    expected = "columns x_km and y_km (km on a flat grid) or lon and lat (degrees, WGS 84)"
    if km and ll:
        return None, [Problem(label, 1, "lon", "both x_km/y_km and lon/lat columns", f"one pair only: {expected}")]
    if not km and not ll:
        return None, [Problem(label, 1, "x_km", "no such column", expected)]
    pair = KM_COLUMNS if km else LONLAT_COLUMNS
    missing = [c for c in pair if not has[c]]
    if missing:
        return None, [Problem(label, 1, c, "no such column", f"a column '{c}' beside '{next(p for p in pair if p != c)}'") for c in missing]
    problems = []
    bad = frame.attrs.get("bad_cells", set())  # cells that failed to parse are reported already, not again as blank
    for c in pair:
        for _, r in frame[frame[c].isna()].iterrows():
            if (c, int(r[ROW])) in bad:
                continue
            problems.append(Problem(label, int(r[ROW]), c, "a blank cell", "a finite number" if pair == KM_COLUMNS else "degrees"))
    return ("km" if km else "lonlat"), problems


def written_columns(frame: pd.DataFrame) -> list[str]:
    """Columns of a zones or schools frame to write back: lon/lat where given (x_km/y_km are then
    derived), else x_km/y_km, so that the written table reads back as it was read."""
    drop = KM_COLUMNS if frame[list(LONLAT_COLUMNS)].notna().any().any() else LONLAT_COLUMNS
    return [c for c in frame.columns if c not in drop]


def resolve_coordinates(frames: dict[str, pd.DataFrame], labels: dict[str, str], headers: dict[str, list[str]]) -> list[Problem]:
    """Check the coordinate columns of zones and schools and fill ``x_km``/``y_km`` from
    ``lon``/``lat`` (in place). Both tables must use the same pair. Prints a note with the method
    and its error bound when it converts.

    Returns
    -------
    list of Problem
        Missing or blank coordinates, both pairs in one table, different pairs in the two tables.
    """
    problems: list[Problem] = []
    kinds: dict[str, str] = {}
    for name in TABLES_WITH_COORDINATES:
        if name not in frames:
            return problems
        kind, probs = _pair_problems(frames[name], labels[name], headers[name])
        problems += probs
        if kind is not None:
            kinds[name] = kind
    if len(set(kinds.values())) > 1:
        problems.append(
            Problem(
                labels["schools"],
                1,
                "lon" if kinds["schools"] == "lonlat" else "x_km",
                f"{'lon/lat' if kinds['schools'] == 'lonlat' else 'x_km/y_km'} while {labels['zones']} gives "
                f"{'lon/lat' if kinds['zones'] == 'lonlat' else 'x_km/y_km'}",
                "the same pair of coordinate columns in zones and schools",
            )
        )
        return problems
    if problems or set(kinds.values()) != {"lonlat"}:
        return problems
    pts = pd.concat([frames[n][list(LONLAT_COLUMNS)] for n in TABLES_WITH_COORDINATES], ignore_index=True).dropna()
    if not len(pts):
        return problems
    centre = district_centre(pts["lon"].to_numpy(), pts["lat"].to_numpy())
    r_max = 0.0
    for name in TABLES_WITH_COORDINATES:
        f = frames[name]
        x, y = lonlat_to_km(f["lon"].to_numpy(), f["lat"].to_numpy(), centre)
        f["x_km"], f["y_km"] = x, y
        if len(f):
            r_max = max(r_max, float(np.nanmax(np.hypot(x, y))))
            key = "zone_id" if name == "zones" else "school_id"
            for i in np.flatnonzero(np.hypot(x, y) > MAX_KM_FROM_CENTRE):
                r = f.iloc[i]
                problems.append(
                    Problem(
                        labels[name],
                        int(r[ROW]) if ROW in f else None,
                        "lon",
                        f"{r.get(key, '')!s} at lon {r['lon']:g}, lat {r['lat']:g}, {math.hypot(x[i], y[i]):,.0f} km from the "
                        f"district's centre (lon {centre[0]:g}, lat {centre[1]:g})",
                        f"every zone and school within {MAX_KM_FROM_CENTRE:,.0f} km of the centre (check for swapped lon/lat, or a GIS "
                        "layer whose CRS does not match its coordinates)",
                    )
                )
    if problems:
        return problems
    from capacity.notes import note

    note(
        f"{labels['zones']}, {labels['schools']}: lon/lat (WGS 84) converted to km on an azimuthal equidistant grid centred at "
        f"lon {centre[0]}, lat {centre[1]}; every point lies within {r_max:,.1f} km of the centre, so straight-line distances "
        f"are off by at most {aeqd_error_bound(r_max):.4%}"
    )
    return problems
