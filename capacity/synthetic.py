"""Seeded synthetic districts for benchmarks and scale tests.

Histories follow the example county's patterns: births falling after a peak, entry
ratios above 1 in growing urban zones and below 1 in shrinking towns, progression near 1.
"""

from __future__ import annotations

import numpy as np

from capacity.grades import CHINA
from capacity.projection.cube import History


def synthetic_history(n_zones: int = 30, n_years: int = 13, last_year: int = 2025, seed: int = 0) -> History:
    """A History of ``n_zones`` zones (Chinese grades) with ``n_years`` of pupils and births from 18 years earlier.

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
    g = len(CHINA.grades)
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
    return History(zones, years, pupils, births, birth_years, CHINA)


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


def vary_district(district, seed: int):
    """A variant of ``district``: seeded size, birth trend and urban share.

    Pupils and births are scaled by a size factor in [0.6, 1.6]; births after 2018 follow an
    extra trend in [-3 %, +2 %] a year; urban zones' pupils are scaled by [0.75, 1.3]
    (their classrooms too, so crowding stays plausible). Counts stay whole numbers.
    """
    from dataclasses import replace

    rng = np.random.default_rng(seed)
    size = float(rng.uniform(0.6, 1.6))
    trend = float(rng.uniform(-0.03, 0.02))
    urban = float(rng.uniform(0.75, 1.3))
    kinds = district.zones.set_index("zone_id")["kind"]
    s = district.schools.copy()
    is_urban = s["zone_id"].map(kinds).eq("urban")
    f_school = np.where(is_urban, size * urban, size)
    s["classrooms"] = np.maximum(np.round(s["classrooms"] * f_school), np.where(s["status"] == "candidate", 0, 1)).astype(int)
    s["max_classrooms"] = np.maximum(np.round(s["max_classrooms"] * f_school).astype(int), s["classrooms"])
    # the site must still hold the decided projects' rooms (validation refuses more rooms than the site)
    added = s["school_id"].map(district.projects.groupby("school_id")["classrooms"].sum()).fillna(0).astype(int)
    s["max_classrooms"] = np.maximum(s["max_classrooms"], s["classrooms"] + added)
    factor = dict(zip(s["school_id"], f_school, strict=True))
    e = district.enrolment.copy()
    e["pupils"] = np.round(e["pupils"] * e["school_id"].map(factor)).astype(int)
    b = district.births.copy()
    zf = np.where(b["zone_id"].map(kinds).eq("urban"), size * urban, size) * (1.0 + trend) ** np.maximum(b["year"] - 2018, 0)
    b["births"] = np.round(b["births"] * zf).astype(int)
    sr = district.stage_rooms.copy()
    if len(sr):
        # keep stage rooms adding up to the school's classrooms
        tot = sr.groupby("school_id")["classrooms"].transform("sum")
        new_tot = sr["school_id"].map(s.set_index("school_id")["classrooms"])
        sr["classrooms"] = np.floor(sr["classrooms"] * new_tot / tot).astype(int)
        short = new_tot - sr.groupby("school_id")["classrooms"].transform("sum")
        first = ~sr.duplicated("school_id")
        sr.loc[first, "classrooms"] += short[first].astype(int)
    return replace(district, schools=s, enrolment=e, births=b, stage_rooms=sr, source=f"variant {seed} of {district.source}")


def write_province(out_dir, n_districts: int, seed: int = 0, scenario: str | None = None):
    """Write ``n_districts`` seeded variants of the example county and a sweep file over them.

    Returns the sweep file's path. ``scenario`` is the scenario file every district runs
    (default: the shipped baseline).
    """
    from pathlib import Path

    from capacity.data import load_district
    from capacity.data.write import write_csv_folder

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    base = load_district()
    names = []
    for i in range(n_districts):
        name = f"county_{i:03d}"
        write_csv_folder(vary_district(base, seed * 100_003 + i), out / name)
        names.append(name)
    scen = scenario or str(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml")
    lines = [f"name: province-{n_districts}", f"scenarios: [{scen}]", "districts:"] + [f"  - {n}" for n in names] + ["out: runs"]
    path = out / "sweep.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
