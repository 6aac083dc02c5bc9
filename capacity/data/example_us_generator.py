"""Seeded generator of the bundled US example district (Maple Valley Unified School District).

Run ``python -m capacity.data.example_us_generator OUT_DIR`` to write the district folder; the
files shipped in ``capacity/data/example_us`` are its output with the default seed, and a test
checks that regenerating gives the same CSV bytes and the same zone layer.

The district is invented: about 36,000 people in ten attendance zones on a 5 x 2 grid of
irregular quadrilaterals (WGS 84 longitude/latitude), with a growing suburb (Prairie Ridge), an
old town centre, two small suburbs and four declining rural townships. It uses the US grade
system (``district.csv``: ``grade_system,us``) and holds data as a US district does:

- ``zones.gpkg``: zone polygons with ``zone_id``, ``name``, ``kind`` (a GeoPackage, layer ``zones``);
- ``schools.csv``: six K-5 elementary schools, three 6-8 middle schools and two 9-12 high schools in
  different zones, one candidate elementary site in the growing suburb; ``lon``/``lat`` points and
  the rated ``capacity`` (seats) beside the classrooms it is rated from;
- ``enrolment.csv``: fall headcounts by school and grade K, 1..12, school years 2014-2025;
- ``births.csv``: resident births by zone, 2004-2025.

Demand is simulated by zone of residence (births -> K five years later, grade progression,
a grade-9 bump) and sent to each zone's attendance-area school of each level.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from capacity.grades import US

SEED = 20261123
FIRST_HISTORY_YEAR = 2014
LAST_HISTORY_YEAR = 2025
FIRST_BIRTH_YEAR_WRITTEN = 2004
TAUGHT_GRADES = tuple(g for g in US.grades if g != "PK")  # no public pre-K in this district
ORIGIN_LON, ORIGIN_LAT = -91.62, 44.71  # south-west corner of the grid (degrees, WGS 84)
CELL_LON, CELL_LAT = 0.055, 0.045  # grid cell (about 4.4 km x 5.0 km)
ROOM_SEATS = {"elementary": 24, "middle": 27, "high": 28}  # seats per classroom the capacity is rated at


@dataclass(frozen=True)
class ZoneSpec:
    zone_id: str
    name: str
    kind: str
    col: int  # grid column, 0 = west
    row: int  # grid row, 0 = south
    pop_2014: float  # people
    growth: float  # population growth per year, fraction
    elementary: str  # attendance-area schools by level
    middle: str
    high: str


ZONES = (
    ZoneSpec("Z01", "Cedar Township", "rural", 0, 0, 1980, -0.012, "E-CED", "M-WST", "H-MVH"),
    ZoneSpec("Z02", "Mill Creek", "town", 1, 0, 3360, 0.004, "E-MIL", "M-WST", "H-MVH"),
    ZoneSpec("Z03", "Downtown", "urban", 2, 0, 5880, 0.002, "E-LIN", "M-CEN", "H-MVH"),
    ZoneSpec("Z04", "Riverside", "urban", 3, 0, 5040, 0.000, "E-RIV", "M-CEN", "H-EAS"),
    ZoneSpec("Z05", "Osprey Township", "rural", 4, 0, 1800, -0.015, "E-RIV", "M-EAS", "H-EAS"),
    ZoneSpec("Z06", "Hawk Hollow", "rural", 0, 1, 1620, -0.018, "E-CED", "M-WST", "H-MVH"),
    ZoneSpec("Z07", "Westfield", "town", 1, 1, 3660, 0.006, "E-MIL", "M-WST", "H-MVH"),
    ZoneSpec("Z08", "Lincoln Park", "urban", 2, 1, 5340, 0.003, "E-LIN", "M-CEN", "H-MVH"),
    ZoneSpec("Z09", "Prairie Ridge", "town", 3, 1, 3120, 0.080, "E-PRA", "M-EAS", "H-EAS"),
    ZoneSpec("Z10", "North Fork Township", "rural", 4, 1, 1740, -0.010, "E-PRA", "M-EAS", "H-EAS"),
)

CBR = {y: 12.4 - 0.12 * max(0, y - 2007) + (0.4 if y in (2007, 2008) else 0.0) for y in range(1990, LAST_HISTORY_YEAR + 1)}
"""Crude birth rate (births per 1,000 people): a 2007-2008 peak and a slow fall after."""
K_ENTRY = {"urban": 1.03, "town": 1.08, "rural": 0.93}  # K pupils per birth five years earlier
PROGRESSION = {"urban": 0.993, "town": 1.004, "rural": 0.985}  # grade g-1 -> g, one year on
NINTH_GRADE_BUMP = 1.06  # retention in grade 9
GROWTH_ZONE_EXTRA = 0.025  # extra progression in the growing suburb (families moving in)


@dataclass(frozen=True)
class SchoolSpec:
    school_id: str
    name: str
    zone_id: str
    level: str  # elementary / middle / high
    use: float  # pupils in the busiest of the last three years per rated seat (sizes the classrooms)
    site_extra: int  # classrooms the site can still add
    dx: float  # position inside the zone cell, 0..1
    dy: float
    status: str = "open"


SCHOOLS = (
    SchoolSpec("E-CED", "Cedar Elementary", "Z06", "elementary", 0.72, 0, 0.62, 0.35),
    SchoolSpec("E-MIL", "Mill Creek Elementary", "Z02", "elementary", 0.93, 6, 0.55, 0.70),
    SchoolSpec("E-LIN", "Lincoln Elementary", "Z08", "elementary", 0.90, 0, 0.40, 0.30),
    SchoolSpec("E-RIV", "Riverside Elementary", "Z04", "elementary", 0.84, 4, 0.35, 0.55),
    SchoolSpec("E-PRA", "Prairie Ridge Elementary", "Z09", "elementary", 1.12, 4, 0.30, 0.40),
    SchoolSpec("E-PR2", "Prairie Ridge East (planned site)", "Z09", "elementary", 0.0, 24, 0.75, 0.65, status="candidate"),
    SchoolSpec("M-WST", "Westfield Middle School", "Z07", "middle", 0.90, 4, 0.60, 0.45),
    SchoolSpec("M-CEN", "Central Middle School", "Z03", "middle", 0.94, 0, 0.55, 0.60),
    SchoolSpec("M-EAS", "Eastview Middle School", "Z10", "middle", 0.97, 8, 0.25, 0.30),
    SchoolSpec("H-MVH", "Maple Valley High School", "Z08", "high", 0.96, 6, 0.75, 0.70),
    SchoolSpec("H-EAS", "East Maple Valley High School", "Z04", "high", 0.88, 10, 0.70, 0.35),
)
FIRST_LAST = {"elementary": ("K", "5"), "middle": ("6", "8"), "high": ("9", "12")}


def grid_vertices(rng: np.random.Generator) -> np.ndarray:
    """Corner points of the 5 x 2 grid, (cols+1, rows+1, 2) lon/lat; inner points jittered."""
    cols, rows = 1 + max(z.col for z in ZONES), 1 + max(z.row for z in ZONES)
    v = np.zeros((cols + 1, rows + 1, 2))
    for i in range(cols + 1):
        for j in range(rows + 1):
            jit = rng.uniform(-0.18, 0.18, 2) if 0 < i < cols or 0 < j < rows else np.zeros(2)
            v[i, j] = (ORIGIN_LON + (i + jit[0]) * CELL_LON, ORIGIN_LAT + (j + jit[1]) * CELL_LAT)
    return v.round(5)


def zone_polygons(v: np.ndarray) -> list[list[tuple[float, float]]]:
    """Each zone's quadrilateral (closed ring, counter-clockwise), in ZONES order."""
    rings = []
    for z in ZONES:
        i, j = z.col, z.row
        ring = [v[i, j], v[i + 1, j], v[i + 1, j + 1], v[i, j + 1], v[i, j]]
        rings.append([(float(x), float(y)) for x, y in ring])
    return rings


def _inside(ring: list[tuple[float, float]], dx: float, dy: float) -> tuple[float, float]:
    """A point inside a quadrilateral: bilinear interpolation of its corners at (dx, dy) in [0, 1]^2."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = ring[:4]
    lon = (1 - dx) * (1 - dy) * x0 + dx * (1 - dy) * x1 + dx * dy * x2 + (1 - dx) * dy * x3
    lat = (1 - dx) * (1 - dy) * y0 + dx * (1 - dy) * y1 + dx * dy * y2 + (1 - dx) * dy * y3
    return round(lon, 5), round(lat, 5)


def simulate_births(rng: np.random.Generator) -> pd.DataFrame:
    """Resident births per zone and calendar year, 1990..LAST_HISTORY_YEAR (children)."""
    rows = []
    for z in ZONES:
        for y in range(1990, LAST_HISTORY_YEAR + 1):
            people = z.pop_2014 * (1.0 + z.growth) ** (y - FIRST_HISTORY_YEAR)
            rows.append((y, z.zone_id, int(rng.poisson(people * CBR[y] / 1000.0))))
    return pd.DataFrame(rows, columns=["year", "zone_id", "births"])


def simulate_zone_demand(births: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Pupils by zone of residence, grade and school year (a cohort flow with noise)."""
    b = births.set_index(["zone_id", "year"])["births"]
    out = []
    for z in ZONES:
        prev: dict[str, float] = {}
        for y in range(FIRST_HISTORY_YEAR - 14, LAST_HISTORY_YEAR + 1):
            noise = np.exp(rng.normal(0.0, 0.02, len(TAUGHT_GRADES)))
            ratio = PROGRESSION[z.kind] + (GROWTH_ZONE_EXTRA * min(max((y - 2016) / 4, 0.0), 1.0) if z.growth > 0.03 else 0.0)
            cur = {"K": b.get((z.zone_id, y - 5), 0) * K_ENTRY[z.kind] * noise[0]}
            for k, (g_prev, g) in enumerate(zip(TAUGHT_GRADES[:-1], TAUGHT_GRADES[1:], strict=True), start=1):
                bump = NINTH_GRADE_BUMP if g == "9" else 1.0
                cur[g] = prev.get(g_prev, b.get((z.zone_id, y - 5 - k), 0) * K_ENTRY[z.kind]) * ratio * bump * noise[k]
            prev = cur
            if y >= FIRST_HISTORY_YEAR:
                out += [(y, z.zone_id, g, cur[g]) for g in TAUGHT_GRADES]
    return pd.DataFrame(out, columns=["year", "zone_id", "grade", "pupils"])


def enrolment_table(demand: pd.DataFrame) -> pd.DataFrame:
    """Headcounts by school: each zone's pupils go to its attendance-area school of the level."""
    school_of = {(z.zone_id, lvl): getattr(z, lvl) for z in ZONES for lvl in ("elementary", "middle", "high")}
    d = demand.assign(
        level=demand["grade"].map(US.stage_of_grade),
        pupils=demand["pupils"].round().astype(int),
    )
    d["school_id"] = [school_of[(zn, lvl)] for zn, lvl in zip(d["zone_id"], d["level"], strict=True)]
    e = d.groupby(["year", "school_id", "grade"], as_index=False, sort=False)["pupils"].sum()
    order = {g: i for i, g in enumerate(TAUGHT_GRADES)}
    return e.assign(_g=e["grade"].map(order)).sort_values(["year", "school_id", "_g"]).drop(columns="_g").reset_index(drop=True)


def school_table(rings: list[list[tuple[float, float]]], enrol: pd.DataFrame) -> pd.DataFrame:
    """Schools with lon/lat inside their zone, classrooms sized from their pupils and the rated
    capacity (classrooms x ROOM_SEATS of the level, in seats)."""
    ring_of = {z.zone_id: r for z, r in zip(ZONES, rings, strict=True)}
    busiest = enrol[enrol["year"] > LAST_HISTORY_YEAR - 3].groupby(["school_id", "year"])["pupils"].sum().groupby("school_id").max()
    rows = []
    for s in SCHOOLS:
        lon, lat = _inside(ring_of[s.zone_id], s.dx, s.dy)
        first, last = FIRST_LAST[s.level]
        rooms = int(np.ceil(busiest[s.school_id] / (ROOM_SEATS[s.level] * s.use))) if s.status == "open" else 0
        rows.append(
            dict(
                school_id=s.school_id,
                name=s.name,
                zone_id=s.zone_id,
                first_grade=first,
                last_grade=last,
                classrooms=rooms,
                max_classrooms=rooms + s.site_extra,
                capacity=rooms * ROOM_SEATS[s.level] if s.status == "open" else "",
                lon=lon,
                lat=lat,
                sector="public",
                status=s.status,
            )
        )
    return pd.DataFrame(rows)


def generate(seed: int = SEED) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Every CSV table of the district as frames, and the zone layer (zone_id, name, kind, ring)."""
    rng = np.random.default_rng(seed)
    rings = zone_polygons(grid_vertices(rng))
    births = simulate_births(rng)
    demand = simulate_zone_demand(births, rng)
    enrol = enrolment_table(demand)
    zones = pd.DataFrame({"zone_id": [z.zone_id for z in ZONES], "name": [z.name for z in ZONES], "kind": [z.kind for z in ZONES]})
    tables = {
        "district": pd.DataFrame({"key": ["grade_system"], "value": ["us"]}),
        "schools": school_table(rings, enrol),
        "enrolment": enrol,
        "births": births[births.year >= FIRST_BIRTH_YEAR_WRITTEN].sort_values(["year", "zone_id"]).reset_index(drop=True),
    }
    return tables, zones.assign(ring=rings)


def zone_layer(zones: pd.DataFrame):
    """The zones as a GeoDataFrame of polygons in WGS 84 (EPSG:4326)."""
    import geopandas as gpd
    from shapely.geometry import Polygon

    return gpd.GeoDataFrame(zones.drop(columns="ring"), geometry=[Polygon(r) for r in zones["ring"]], crs="EPSG:4326")


def write(out_dir: str | Path, seed: int = SEED) -> None:
    """Write the district's CSV files and ``zones.gpkg`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables, zones = generate(seed)
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
    import pyogrio

    # a fixed timestamp in the GeoPackage's metadata: same seed, same bytes (with one GDAL version)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2026-01-01T00:00:00.000Z"})
    try:
        zone_layer(zones).to_file(out / "zones.gpkg", layer="zones", driver="GPKG")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", help="folder to write the district into")
    ap.add_argument("--seed", type=int, default=SEED)
    a = ap.parse_args()
    write(a.out_dir, a.seed)


if __name__ == "__main__":
    main()
