"""Seeded generator of the bundled example county (示例县).

Run ``python -m capacity.data.example_generator OUT_DIR`` to write the CSV files; the
files shipped in ``capacity/data/example_county`` are its output with the default seed,
and a test checks that regenerating gives the same bytes. docs/example-district.md
describes the county and the figures below.

The county is invented but modelled on a Guangdong county of about 300,000 people
planning to 2027: an urban core of three zones (one a new district growing through
housing and in-migration, with crowded schools), nine towns whose births fall, two remote
rural areas with small village schools and teaching points (教学点), boarding junior
schools, nine- and twelve-year schools, private (民办) schools and kindergartens.

Demand is simulated by zone of residence with a cohort flow (births -> K1 and P1 through
entry ratios, grade progression, stage transitions) and then shared among the schools of
the zone that teach each grade; village schools lose share year by year to central ones.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from capacity.grades import CHINA

SEED = 20251001
FIRST_HISTORY_YEAR = 2013
LAST_HISTORY_YEAR = 2025
FIRST_BIRTH_YEAR_WRITTEN = 2005
FIRST_SIMULATED_BIRTH_YEAR = 1990

# Crude birth rate (births per 1,000 people) by year: the national pattern (two-child peak
# in 2016-2017, fall after 2018, a small 2024 dragon-year rise) scaled up 15 % for Guangdong.
_CBR = {
    **{y: 14.0 for y in range(1990, 2000)},
    **{y: 12.6 for y in range(2000, 2012)},
    2012: 13.0,
    2013: 12.4,
    2014: 12.8,
    2015: 12.1,
    2016: 13.6,
    2017: 13.0,
    2018: 11.5,
    2019: 10.9,
    2020: 8.5,
    2021: 7.6,
    2022: 6.8,
    2023: 6.4,
    2024: 6.8,
    2025: 6.1,
}
GUANGDONG_FACTOR = 1.15


@dataclass(frozen=True)
class ZoneSpec:
    zone_id: str
    name: str
    kind: str
    x: float
    y: float
    pop_2013: float  # people
    growth: float  # population growth per year, fraction
    junior_zone: str  # zone whose junior schools take this zone's pupils


ZONES = (
    ZoneSpec("U01", "城东街道", "urban", 30.0, 26.0, 46000, 0.015, "U01"),
    ZoneSpec("U02", "城西街道", "urban", 27.0, 25.0, 41000, 0.012, "U02"),
    ZoneSpec("U03", "新城片区", "urban", 34.0, 22.5, 26000, 0.055, "U03"),
    ZoneSpec("T01", "大坪镇", "town", 38.0, 33.0, 21000, -0.004, "T01"),
    ZoneSpec("T02", "石岭镇", "town", 19.0, 33.5, 19000, -0.010, "T02"),
    ZoneSpec("T03", "河口镇", "town", 43.0, 14.0, 20000, -0.006, "T03"),
    ZoneSpec("T04", "龙田镇", "town", 13.0, 19.0, 17000, -0.012, "T04"),
    ZoneSpec("T05", "平安镇", "town", 30.0, 41.0, 18000, -0.008, "T05"),
    ZoneSpec("T06", "水南镇", "town", 25.0, 9.0, 17500, -0.010, "T06"),
    ZoneSpec("T07", "高岭镇", "town", 48.0, 39.0, 15000, -0.015, "T07"),
    ZoneSpec("T08", "新塘镇", "town", 8.0, 35.0, 14500, -0.014, "T08"),
    ZoneSpec("T09", "黄坑镇", "town", 53.0, 23.0, 16000, -0.012, "T09"),
    ZoneSpec("R01", "云山片区", "rural", 56.0, 46.0, 8000, -0.020, "T07"),
    ZoneSpec("R02", "石门片区", "rural", 5.0, 7.0, 7500, -0.022, "T04"),
)

# Entry ratios: pupils entering K1 / P1 per birth 3 / 6 years earlier, by zone kind.
# Above 1 in the urban core (children of in-migrants), below 1 where families leave.
K1_ENTRY = {"urban": 1.02, "town": 0.78, "rural": 0.66}
P1_ENTRY = {"urban": 1.24, "town": 0.88, "rural": 0.80}
P1_ENTRY_U03_EXTRA = 0.12
WITHIN_STAGE = {"urban": 1.006, "town": 0.992, "rural": 0.985}
P6_TO_J1 = {"urban": 1.05, "town": 0.95, "rural": 0.92}
K_COVERAGE_RAMP = (0.82, 1.0, 2013, 2020)  # kindergarten take-up rises 82 % -> 100 % of the ratio
SENIOR_ADMISSION = (0.55, 0.64)  # J3 -> S1 county-wide, 2013 -> 2025 (general high schools)


@dataclass(frozen=True)
class SchoolSpec:
    school_id: str
    name: str
    zone_id: str
    first: str
    last: str
    sector: str
    weight: float  # share weight among the zone's schools teaching a grade
    drift: float  # change of weight per year (negative: pupils drift away)
    dx: float = 0.0
    dy: float = 0.0
    boarding_share: float = 0.0  # boarding beds as share of pupils
    site_extra: int = 0  # classrooms the site can still add
    room_size: int = 0  # pupils per classroom when sizing rooms; 0 = standard
    status: str = "open"
    fixed_rooms: int = 0  # classrooms for candidates / fixed small schools


def _schools() -> list[SchoolSpec]:
    s: list[SchoolSpec] = []
    add = s.append
    # Urban core: crowded, large primaries (rooms sized at ~57 pupils -> 56+ classes).
    add(SchoolSpec("U01-P1", "城东第一小学", "U01", "P1", "P6", "public", 1.6, 0.0, 0.4, 0.3, site_extra=0, room_size=64))
    add(SchoolSpec("U01-P2", "城东第二小学", "U01", "P1", "P6", "public", 1.1, 0.0, -0.6, 0.8, site_extra=4, room_size=54))
    add(SchoolSpec("U01-P3", "城东实验小学", "U01", "P1", "P6", "public", 0.9, 0.0, 0.9, -0.7, site_extra=2, room_size=50))
    add(SchoolSpec("U01-J1", "城东中学", "U01", "J1", "J3", "public", 1.0, 0.0, 0.2, 0.6, 0.15, site_extra=6, room_size=60))
    add(SchoolSpec("U01-K1", "县第一幼儿园", "U01", "K1", "K3", "public", 1.0, 0.01, 0.1, -0.4, site_extra=0, room_size=36))
    add(SchoolSpec("U01-K2", "城东阳光幼儿园", "U01", "K1", "K3", "private", 0.8, -0.01, -0.5, -0.2, site_extra=0, room_size=30))
    add(SchoolSpec("U01-K3", "城东小太阳幼儿园", "U01", "K1", "K3", "private", 0.6, -0.02, 0.7, 0.5, site_extra=0, room_size=30))
    add(SchoolSpec("U01-S1", "县第一中学", "U01", "S1", "S3", "public", 1.5, 0.0, 1.2, 1.0, 0.7, site_extra=0, room_size=55))
    add(SchoolSpec("U02-P1", "城西第一小学", "U02", "P1", "P6", "public", 1.3, 0.0, -0.3, 0.2, site_extra=0, room_size=61))
    add(SchoolSpec("U02-P2", "城西第二小学", "U02", "P1", "P6", "public", 1.0, 0.0, 0.6, -0.6, site_extra=3, room_size=52))
    add(SchoolSpec("U02-P3", "城西中心小学", "U02", "P1", "P6", "public", 0.7, 0.0, -0.8, -0.9, site_extra=0, room_size=47))
    add(SchoolSpec("U02-N1", "博雅学校", "U02", "P1", "J3", "private", 0.45, 0.02, 0.9, 0.9, 0.3, site_extra=6, room_size=45))
    add(SchoolSpec("U02-J1", "城西中学", "U02", "J1", "J3", "public", 1.0, 0.0, -0.4, 0.7, 0.1, site_extra=0, room_size=56))
    add(SchoolSpec("U02-K1", "县第二幼儿园", "U02", "K1", "K3", "public", 1.0, 0.01, 0.2, 0.4, site_extra=0, room_size=34))
    add(SchoolSpec("U02-K2", "城西童心幼儿园", "U02", "K1", "K3", "private", 0.9, -0.01, -0.6, -0.3, site_extra=0, room_size=30))
    add(SchoolSpec("U02-S1", "县第二中学", "U02", "S1", "S3", "public", 1.0, 0.0, -1.0, 1.1, 0.5, site_extra=4, room_size=52))
    add(SchoolSpec("U03-P1", "新城小学", "U03", "P1", "P6", "public", 1.0, 0.0, 0.3, 0.2, site_extra=24, room_size=58))
    add(SchoolSpec("U03-N1", "新城九年一贯制学校", "U03", "P1", "J3", "public", 1.2, 0.0, -0.7, 0.5, 0.0, site_extra=28, room_size=54))
    add(SchoolSpec("U03-X1", "育才实验学校", "U03", "P1", "S3", "private", 0.35, 0.03, 1.2, -0.8, 0.6, site_extra=8, room_size=45))
    add(SchoolSpec("U03-K1", "新城幼儿园", "U03", "K1", "K3", "public", 1.0, 0.02, 0.4, 0.9, site_extra=6, room_size=36))
    add(SchoolSpec("U03-K2", "新城博爱幼儿园", "U03", "K1", "K3", "private", 0.8, 0.0, -0.9, -0.4, site_extra=0, room_size=32))
    # Candidate sites for new schools in the growing urban area.
    add(SchoolSpec("U03-C1", "新城第二小学(规划)", "U03", "P1", "P6", "public", 0, 0, 1.5, 1.6, status="candidate", site_extra=36))
    add(SchoolSpec("U03-C2", "新城中学(规划)", "U03", "J1", "J3", "public", 0, 0, -1.4, -1.2, status="candidate", site_extra=30))
    add(SchoolSpec("U03-C3", "新城第二幼儿园(规划)", "U03", "K1", "K3", "public", 0, 0, 0.8, -1.5, status="candidate", site_extra=12))
    add(SchoolSpec("U02-C1", "城西九年一贯制学校(规划)", "U02", "P1", "J3", "public", 0, 0, -1.8, 0.3, status="candidate", site_extra=54))
    # Towns: central primary, village primaries, teaching points, junior (boarding) or a
    # nine-year school, central public kindergarten and a private one; T01 has a senior high.
    nine_year_towns = {"T05", "T08"}
    villages = {"T01": 3, "T02": 3, "T03": 2, "T04": 3, "T05": 2, "T06": 3, "T07": 2, "T08": 2, "T09": 3}
    points = {"T01": 1, "T02": 2, "T03": 1, "T04": 2, "T05": 1, "T06": 1, "T07": 2, "T08": 2, "T09": 2}
    village_names = "东坑 西坑 上村 下村 新屋 坪山 塘背 竹园 石桥".split()
    for z in ZONES:
        if z.kind != "town":
            continue
        town = z.name[:-1]
        if z.zone_id in nine_year_towns:
            add(
                SchoolSpec(
                    f"{z.zone_id}-N1",
                    f"{town}中心学校",
                    z.zone_id,
                    "P1",
                    "J3",
                    "public",
                    3.0,
                    0.03,
                    0.2,
                    0.1,
                    0.45,
                    site_extra=6,
                    room_size=45,
                )
            )
        else:
            add(
                SchoolSpec(
                    f"{z.zone_id}-P1", f"{town}中心小学", z.zone_id, "P1", "P6", "public", 3.0, 0.03, 0.2, 0.1, site_extra=6, room_size=44
                )
            )
            add(
                SchoolSpec(
                    f"{z.zone_id}-J1", f"{town}中学", z.zone_id, "J1", "J3", "public", 1.0, 0.0, -0.5, 0.4, 0.6, site_extra=6, room_size=48
                )
            )
        for i in range(villages[z.zone_id]):
            vn = village_names[(int(z.zone_id[1:]) + i) % len(village_names)]
            ang = 2.1 * i + int(z.zone_id[1:])
            add(
                SchoolSpec(
                    f"{z.zone_id}-V{i + 1}",
                    f"{town}{vn}小学",
                    z.zone_id,
                    "P1",
                    "P6",
                    "public",
                    0.6,
                    -0.045,
                    3.2 * np.cos(ang),
                    3.2 * np.sin(ang),
                    fixed_rooms=6,
                    site_extra=0,
                )
            )
        for i in range(points[z.zone_id]):
            vn = village_names[(int(z.zone_id[1:]) + 5 + i) % len(village_names)]
            ang = 2.7 * i + 1.3 + int(z.zone_id[1:])
            add(
                SchoolSpec(
                    f"{z.zone_id}-D{i + 1}",
                    f"{town}{vn}教学点",
                    z.zone_id,
                    "P1",
                    "P3",
                    "public",
                    0.5,
                    -0.06,
                    4.5 * np.cos(ang),
                    4.5 * np.sin(ang),
                    fixed_rooms=3,
                    site_extra=0,
                )
            )
        add(
            SchoolSpec(
                f"{z.zone_id}-K1", f"{town}中心幼儿园", z.zone_id, "K1", "K3", "public", 1.0, 0.03, -0.2, -0.3, site_extra=3, room_size=30
            )
        )
        add(
            SchoolSpec(
                f"{z.zone_id}-K2", f"{town}启智幼儿园", z.zone_id, "K1", "K3", "private", 0.7, -0.03, 0.4, -0.6, site_extra=0, room_size=28
            )
        )
    add(SchoolSpec("T01-S1", "县第三中学", "T01", "S1", "S3", "public", 0.6, 0.0, 0.8, 0.9, 0.8, site_extra=6, room_size=50))
    # Remote rural areas: small schools and teaching points only; junior pupils board in a town.
    add(SchoolSpec("R01-V1", "云山小学", "R01", "P1", "P6", "public", 1.0, -0.02, 0.0, 0.0, fixed_rooms=12))
    add(SchoolSpec("R01-V2", "云山白石小学", "R01", "P1", "P6", "public", 0.6, -0.05, 2.5, 1.5, fixed_rooms=6))
    add(SchoolSpec("R01-D1", "云山高坪教学点", "R01", "P1", "P3", "public", 0.25, -0.08, -2.5, 3.0, fixed_rooms=3))
    add(SchoolSpec("R01-D2", "云山茶山教学点", "R01", "P1", "P3", "public", 0.2, -0.08, 3.5, -2.0, fixed_rooms=3))
    add(SchoolSpec("R01-K1", "云山幼儿园", "R01", "K1", "K3", "public", 1.0, 0.0, 0.3, -0.3, fixed_rooms=5))
    add(SchoolSpec("R02-V1", "石门小学", "R02", "P1", "P6", "public", 1.0, -0.02, 0.0, 0.0, fixed_rooms=12, site_extra=2))
    add(SchoolSpec("R02-D1", "石门坳头教学点", "R02", "P1", "P3", "public", 0.3, -0.08, 2.8, 2.2, fixed_rooms=3))
    add(SchoolSpec("R02-D2", "石门林场教学点", "R02", "P1", "P3", "public", 0.25, -0.08, -2.2, 3.1, fixed_rooms=3))
    add(SchoolSpec("R02-K1", "石门幼儿园", "R02", "K1", "K3", "public", 1.0, 0.0, -0.4, 0.4, fixed_rooms=5))
    return s


def _population(z: ZoneSpec, year: int) -> float:
    return z.pop_2013 * (1.0 + z.growth) ** (year - 2013)


def simulate_births(rng: np.random.Generator) -> pd.DataFrame:
    """Births per zone and year, FIRST_SIMULATED_BIRTH_YEAR..LAST_HISTORY_YEAR (children)."""
    rows = []
    for z in ZONES:
        factor = GUANGDONG_FACTOR * (1.08 if z.kind == "rural" else 1.0)
        for y in range(FIRST_SIMULATED_BIRTH_YEAR, LAST_HISTORY_YEAR + 1):
            mean = _population(z, y) * _CBR[y] / 1000.0 * factor
            rows.append((y, z.zone_id, int(rng.poisson(mean))))
    return pd.DataFrame(rows, columns=["year", "zone_id", "births"])


def simulate_zone_demand(births: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Pupils by zone of residence, grade and year (a cohort flow with noise)."""
    b = births.set_index(["zone_id", "year"])["births"]
    first = FIRST_HISTORY_YEAR - 3  # burn-in years so that every grade is filled in 2013
    years = range(first - 15, LAST_HISTORY_YEAR + 1)
    out = []
    for z in ZONES:
        prev: dict[str, float] = {}
        for y in years:
            cur: dict[str, float] = {}
            ramp_lo, ramp_hi, y0, y1 = K_COVERAGE_RAMP
            cover = ramp_lo + (ramp_hi - ramp_lo) * min(max((y - y0) / (y1 - y0), 0.0), 1.0)
            noise = lambda: float(np.exp(rng.normal(0.0, 0.015)))  # noqa: E731
            p1 = P1_ENTRY[z.kind] + (P1_ENTRY_U03_EXTRA * min(max((y - 2012) / 8, 0.0), 1.0) if z.zone_id == "U03" else 0.0)
            cur["K1"] = b.get((z.zone_id, y - 3), 0) * K1_ENTRY[z.kind] * cover * noise()
            cur["P1"] = b.get((z.zone_id, y - 6), 0) * p1 * noise()
            for g_prev, g in zip(CHINA.grades[:-1], CHINA.grades[1:], strict=True):
                if g in ("K1", "P1", "S1"):
                    continue
                ratio = P6_TO_J1[z.kind] if g == "J1" else WITHIN_STAGE[z.kind]
                if CHINA.stage_of_grade[g] == "senior":
                    ratio = 0.985
                cur[g] = prev.get(g_prev, 0.0) * ratio * noise()
            cur["S1"] = 0.0
            prev = cur
            if y >= FIRST_HISTORY_YEAR:
                out += [(y, z.zone_id, g, cur[g]) for g in CHINA.grades]
    d = pd.DataFrame(out, columns=["year", "zone_id", "grade", "pupils"])
    # Senior high is county-wide: S1 = admission rate x all J3 pupils of the year before.
    j3 = d[d.grade == "J3"].groupby("year")["pupils"].sum()
    rows = []
    lo, hi = SENIOR_ADMISSION
    s_prev = {"S1": 0.0, "S2": 0.0}
    for y in range(FIRST_HISTORY_YEAR - 3, LAST_HISTORY_YEAR + 1):
        rate = lo + (hi - lo) * min(max((y - 2013) / 12, 0.0), 1.0)
        base = j3.get(y - 1, j3.iloc[0] * (1 - 0.01 * (FIRST_HISTORY_YEAR - y)))
        s1 = base * rate * float(np.exp(rng.normal(0, 0.01)))
        cur = {"S1": s1, "S2": s_prev["S1"] * 0.985, "S3": s_prev["S2"] * 0.985}
        if y >= FIRST_HISTORY_YEAR:
            rows += [(y, "COUNTY", g, cur[g]) for g in ("S1", "S2", "S3")]
        s_prev = cur
    senior = pd.DataFrame(rows, columns=["year", "zone_id", "grade", "pupils"])
    # The first two years of S2/S3 need a warm start: scale from S1 of the same year.
    d = pd.concat([d[~d.grade.isin(["S1", "S2", "S3"])], senior], ignore_index=True)
    d.loc[(d.zone_id == "COUNTY") & (d.pupils == 0), "pupils"] = np.nan
    s1_by_year = senior[senior.grade == "S1"].set_index("year")["pupils"]
    fill = d.pupils.isna()
    d.loc[fill, "pupils"] = d.loc[fill, "year"].map(s1_by_year) * 0.97
    return d


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total in proportion to weights, deterministically."""
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=int)
    exact = total * weights / weights.sum()
    base = np.floor(exact).astype(int)
    rem = total - base.sum()
    order = np.lexsort((np.arange(len(weights)), -(exact - base)))
    base[order[:rem]] += 1
    return base


def allocate_to_schools(demand: pd.DataFrame, schools: list[SchoolSpec]) -> pd.DataFrame:
    """Share each zone's pupils of each grade among the zone's schools teaching it."""
    zone_of = {z.zone_id: z for z in ZONES}
    open_schools = [s for s in schools if s.status == "open"]
    rows = []
    for (y, zone_id, g), pupils in demand.groupby(["year", "zone_id", "grade"], sort=True)["pupils"].sum().items():
        total = int(round(pupils))
        if zone_id == "COUNTY":
            cands = [s for s in open_schools if g in CHINA.grades_between(s.first, s.last) and CHINA.stage_of_grade[g] == "senior"]
        else:
            target = zone_of[zone_id].junior_zone if CHINA.stage_of_grade[g] == "junior" else zone_id
            cands = [s for s in open_schools if s.zone_id == target and g in CHINA.grades_between(s.first, s.last)]
        if not cands:
            raise RuntimeError(f"no school for {zone_id} {g}")
        w = np.array([max(s.weight * (1 + s.drift) ** (y - 2013), 0.0) for s in cands])
        for s, n in zip(cands, _largest_remainder(total, w), strict=True):
            rows.append((y, s.school_id, g, int(n)))
    e = pd.DataFrame(rows, columns=["year", "school_id", "grade", "pupils"])
    return e.groupby(["year", "school_id", "grade"], as_index=False, sort=False)["pupils"].sum()


STANDARD = {"kindergarten": 30, "primary": 45, "junior": 50, "senior": 50}


INCLUSIVE_PRIVATE = {"U01-K2", "U02-K2", "T01-K2", "T02-K2", "T03-K2", "T04-K2", "T05-K2", "T06-K2", "T07-K2"}
"""Private kindergartens recognised as inclusive (普惠性民办)."""


def stage_rooms_table(schools: list[SchoolSpec], enrol: pd.DataFrame) -> pd.DataFrame:
    """Classrooms by stage for schools teaching several stages (sized like school_table)."""
    recent = enrol[enrol.year >= LAST_HISTORY_YEAR - 2].groupby(["school_id", "grade"])["pupils"].max()
    rows = []
    for s in schools:
        stages = list(dict.fromkeys(CHINA.stage_of_grade[g] for g in CHINA.grades_between(s.first, s.last)))
        if s.status != "open" or len(stages) < 2:
            continue
        size = s.room_size or STANDARD[CHINA.stage_of_grade[s.first]]
        for st in stages:
            grades = [g for g in CHINA.grades_between(s.first, s.last) if CHINA.stage_of_grade[g] == st]
            rooms = max(sum(int(np.ceil(recent.get((s.school_id, g), 0) / size)) for g in grades), len(grades))
            rows.append((s.school_id, st, rooms))
    return pd.DataFrame(rows, columns=["school_id", "stage", "classrooms"])


def school_table(schools: list[SchoolSpec], enrol: pd.DataFrame) -> pd.DataFrame:
    """Schools with classrooms sized from their pupils (crowded where room_size is large)."""
    zone_of = {z.zone_id: z for z in ZONES}
    recent = enrol[enrol.year >= LAST_HISTORY_YEAR - 2].groupby(["school_id", "grade"])["pupils"].max()
    last = enrol[enrol.year == LAST_HISTORY_YEAR].groupby("school_id")["pupils"].sum()
    rows = []
    for s in schools:
        z = zone_of[s.zone_id]
        if s.status == "candidate":
            rooms, max_rooms = 0, s.site_extra
        elif s.fixed_rooms:
            rooms, max_rooms = s.fixed_rooms, s.fixed_rooms + s.site_extra
        else:
            size = s.room_size or STANDARD[CHINA.stage_of_grade[s.first]]
            rooms = 0
            for st in dict.fromkeys(CHINA.stage_of_grade[g] for g in CHINA.grades_between(s.first, s.last)):
                grades = [g for g in CHINA.grades_between(s.first, s.last) if CHINA.stage_of_grade[g] == st]
                rooms += max(sum(int(np.ceil(recent.get((s.school_id, g), 0) / size)) for g in grades), len(grades))
            max_rooms = rooms + s.site_extra
        pupils = int(last.get(s.school_id, 0))
        small = s.status == "open" and pupils < 100 and CHINA.stage_of_grade[s.first] == "primary"
        rows.append(
            dict(
                school_id=s.school_id,
                name=s.name,
                zone_id=s.zone_id,
                first_grade=s.first,
                last_grade=s.last,
                classrooms=rooms,
                max_classrooms=max_rooms,
                x_km=round(z.x + s.dx, 2),
                y_km=round(z.y + s.dy, 2),
                sector=s.sector,
                status=s.status,
                boarding_beds=int(round(s.boarding_share * pupils / 10.0) * 10),
                can_close="true" if small else "false",
                inclusive="true" if s.school_id in INCLUSIVE_PRIVATE else "false",
            )
        )
    return pd.DataFrame(rows)


def housing_table() -> pd.DataFrame:
    """Planned completions of dwellings (dwellings per year)."""
    rows = []
    for y, c, r in zip(range(2026, 2031), (1800, 2200, 2000, 1500, 1200), (600, 800, 0, 400, 0), strict=True):
        rows.append(("U03", y, c, "commodity"))
        if r:
            rows.append(("U03", y, r, "resettlement"))
    for y in range(2026, 2029):
        rows.append(("U02", y, 400, "commodity"))
    rows.append(("T01", 2027, 300, "commodity"))
    return pd.DataFrame(rows, columns=["zone_id", "year", "dwellings", "dwelling_type"])


def projects_table() -> pd.DataFrame:
    """Builds already decided (fixed inputs): currency is yuan."""
    return pd.DataFrame(
        [
            ("PRJ-2026-01", "U03-P1", 2026, 24, None, 36_000_000.0, "primary"),
            ("PRJ-2026-02", "U03-K1", 2026, 6, 180, 7_200_000.0, "kindergarten"),
            ("PRJ-2027-01", "U03-N1", 2027, 28, 1400, 42_000_000.0, "junior"),
            ("PRJ-2027-02", "U01-J1", 2027, 6, None, 9_000_000.0, "junior"),
        ],
        columns=["project_id", "school_id", "completion_year", "classrooms", "seats", "cost", "stage"],
    ).astype({"seats": "Int64"})


def travel_table() -> pd.DataFrame:
    """Mountain-road distances that differ from straight lines (km)."""
    return pd.DataFrame(
        [("R01", "T07-J1", 17.5), ("R01", "T07-P1", 16.0), ("R02", "T04-J1", 15.5), ("R02", "T04-P1", 14.0)],
        columns=["zone_id", "school_id", "km"],
    )


def generate(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Every table of the example county, as frames."""
    rng = np.random.default_rng(seed)
    births = simulate_births(rng)
    demand = simulate_zone_demand(births, rng)
    specs = _schools()
    enrol = allocate_to_schools(demand, specs)
    schools = school_table(specs, enrol)
    zones = pd.DataFrame([(z.zone_id, z.name, z.kind, z.x, z.y) for z in ZONES], columns=["zone_id", "name", "kind", "x_km", "y_km"])
    births = births[births.year >= FIRST_BIRTH_YEAR_WRITTEN].reset_index(drop=True)
    order = {g: i for i, g in enumerate(CHINA.grades)}
    enrol = enrol.assign(_g=enrol.grade.map(order)).sort_values(["year", "school_id", "_g"]).drop(columns="_g")
    return {
        "zones": zones,
        "schools": schools,
        "enrolment": enrol.reset_index(drop=True),
        "births": births.sort_values(["year", "zone_id"]).reset_index(drop=True),
        "housing": housing_table(),
        "projects": projects_table(),
        "travel": travel_table(),
        "stage_rooms": stage_rooms_table(specs, enrol),
    }


def write(out_dir: str | Path, seed: int = SEED) -> None:
    """Write the example county's CSV files into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in generate(seed).items():
        frame.to_csv(out / f"{name}.csv", index=False, lineterminator="\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", help="folder to write the CSV files into")
    ap.add_argument("--seed", type=int, default=SEED)
    a = ap.parse_args()
    write(a.out_dir, a.seed)


if __name__ == "__main__":
    main()
