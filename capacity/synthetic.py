"""Seeded synthetic districts for benchmarks and scale tests.

Histories follow the example county's patterns: births falling after a peak, entry
ratios above 1 in growing urban zones and below 1 in shrinking towns, progression near 1.
"""

from __future__ import annotations

import numpy as np

from capacity.grades import GRADES
from capacity.projection.cube import History


def synthetic_history(n_zones: int = 30, n_years: int = 13, last_year: int = 2025, seed: int = 0) -> History:
    """A History of ``n_zones`` zones with ``n_years`` of pupils and births from 18 years earlier.

    Pupils are by zone and grade (K1-S3) from a cohort flow with 2 % lognormal noise.
    """
    rng = np.random.default_rng(seed)
    years = tuple(range(last_year - n_years + 1, last_year + 1))
    birth_years = tuple(range(years[0] - 20, last_year + 1))
    size = rng.lognormal(np.log(200), 0.8, n_zones)  # births per zone per year
    urban = rng.random(n_zones) < 0.25
    t = np.arange(len(birth_years))
    shape = 1.0 + 0.15 * np.exp(-0.5 * ((t - (len(t) - 9)) / 2.0) ** 2) - 0.45 * np.clip((t - (len(t) - 8)) / 8, 0, 1)
    births = np.round(size[:, None] * shape[None, :] * rng.lognormal(0, 0.05, (n_zones, len(t))))
    entry = np.where(urban, 1.2, 0.88)
    g = len(GRADES)
    pupils = np.zeros((n_zones, g, len(years)))
    state = np.zeros((n_zones, g))
    for y in range(birth_years[0] + 6, last_year + 1):
        new = np.zeros_like(state)
        noise = rng.lognormal(0, 0.02, (n_zones, g))
        new[:, 0] = births[:, y - 3 - birth_years[0]] * entry * 0.85 * noise[:, 0]
        new[:, 1:] = state[:, :-1] * np.where(urban, 1.005, 0.99)[:, None] * noise[:, 1:]
        new[:, 3] = births[:, y - 6 - birth_years[0]] * entry * noise[:, 3]
        new[:, 12] *= 0.6  # J3 -> S1
        state = np.round(new)
        if y >= years[0]:
            pupils[:, :, y - years[0]] = state
    zones = tuple(f"Z{i:03d}" for i in range(n_zones))
    return History(zones, years, pupils, births, birth_years)


def replicate_district(district, copies: int, seed: int = 0, spacing_km: float = 100.0):
    """A larger District made of ``copies`` variants of ``district`` side by side.

    Copy i gets ids prefixed 'D{i}-', coordinates shifted by i x ``spacing_km`` east, and
    its pupils and births scaled by a seeded factor in [0.8, 1.2] (rounded to whole pupils),
    so sizes vary while every pattern of the original (trends, urban/rural mix) is kept.
    """
    import pandas as pd

    from capacity.data.district import District

    rng = np.random.default_rng(seed)
    parts: dict[str, list] = {
        k: [] for k in ("zones", "schools", "enrolment", "births", "housing", "travel", "projects", "children", "stage_rooms")
    }
    for i in range(copies):
        f = 1.0 if i == 0 else float(rng.uniform(0.8, 1.2))
        p = f"D{i}-"
        z = district.zones.copy()
        z["zone_id"] = p + z["zone_id"]
        z["x_km"] = z["x_km"] + i * spacing_km
        s = district.schools.copy()
        s["school_id"] = p + s["school_id"]
        s["zone_id"] = p + s["zone_id"]
        s["x_km"] = s["x_km"] + i * spacing_km
        e = district.enrolment.copy()
        e["school_id"] = p + e["school_id"]
        e["pupils"] = np.round(e["pupils"] * f).astype(int)
        b = district.births.copy()
        b["zone_id"] = p + b["zone_id"]
        b["births"] = np.round(b["births"] * f).astype(int)
        for name, frame in (("zones", z), ("schools", s), ("enrolment", e), ("births", b)):
            parts[name].append(frame)
        for name, cols in (
            ("housing", ["zone_id"]),
            ("travel", ["zone_id", "school_id"]),
            ("projects", ["project_id", "school_id"]),
            ("children", ["zone_id"]),
            ("stage_rooms", ["school_id"]),
        ):
            t = getattr(district, name).copy()
            for c in cols:
                t[c] = p + t[c]
            parts[name].append(t)
    tables = {k: pd.concat(v, ignore_index=True) for k, v in parts.items()}
    return District(**tables, source=f"{copies} x {district.source}", file_hashes=dict(district.file_hashes), notes=())
