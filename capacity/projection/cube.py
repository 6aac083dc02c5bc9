"""Tidy frames <-> dense arrays indexed by zone x grade x year."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from capacity.errors import ProjectionError
from capacity.grades import CHINA, GradeSystem
from capacity.projection.settings import UNITS


@dataclass(frozen=True)
class History:
    """Pupils by zone of residence, grade and history year, as a dense array.

    Attributes
    ----------
    zones : tuple of str
    years : tuple of int
        Contiguous history years (a year missing from the data is kept, with NaN pupils).
    pupils : ndarray, shape (zones, grades, years)
        Pupils; NaN throughout a missing year (no ratio is taken across it).
    births : ndarray, shape (zones, birth years) or None
    birth_years : tuple of int
        Contiguous years of ``births`` (empty when none).
    grades : GradeSystem
        The district's grades (the order of the grade axis).
    teaching : ndarray, shape (zones, grades), or None
        Schools in each zone that teach each grade in the projection: open ones and candidate sites with a decided
        project (:func:`teaching_schools`); None where not known (the moves model then reads teaching from pupils alone).
    opening : ndarray, shape (zones, grades), or None
        Of those, new schools: with no pupils in the last history year (open with no enrolment yet, or decided sites).
    unit_zone : tuple of str
        The school-level mode (``history_from_district(..., unit="school")``): the zone of each unit (a school's
        zone; a births unit's own zone), in the order of ``zones``; empty for a history by zone.
    school_unit : tuple of bool
        The school-level mode: whether each unit is a school (else the births of a zone, which teaches no one).
    """

    zones: tuple[str, ...]
    years: tuple[int, ...]
    pupils: np.ndarray
    births: np.ndarray | None
    birth_years: tuple[int, ...]
    grades: GradeSystem = CHINA
    teaching: np.ndarray | None = None
    opening: np.ndarray | None = None
    unit_zone: tuple[str, ...] = ()
    school_unit: tuple[bool, ...] = ()

    @property
    def unit(self) -> str:
        """``school`` for the school-level mode (each unit a school, or a zone's births), else ``zone``."""
        return "school" if self.unit_zone else "zone"

    def births_in(self, year: int) -> np.ndarray | None:
        """Births per zone in ``year`` or None when the year is not recorded."""
        if self.births is None or not self.birth_years or not (self.birth_years[0] <= year <= self.birth_years[-1]):
            return None
        return self.births[:, year - self.birth_years[0]]

    @property
    def missing_years(self) -> tuple[int, ...]:
        """History years without data (NaN pupils)."""
        return tuple(y for i, y in enumerate(self.years) if np.isnan(self.pupils[:, :, i]).all())

    def up_to(self, year: int) -> History:
        """History (and births) truncated to years <= ``year``, as known at that time."""
        ny = year - self.years[0] + 1
        births, by = self.births, self.birth_years
        if births is not None and by:
            nb = max(0, min(len(by), year - by[0] + 1))
            births, by = births[:, :nb], by[:nb]
        return replace(self, years=self.years[:ny], pupils=self.pupils[:, :, :ny], births=births, birth_years=by)


def history_from_frames(pupils: pd.DataFrame, births: pd.DataFrame | None = None, grades: GradeSystem = CHINA) -> History:
    """Build a History from tidy frames.

    Parameters
    ----------
    pupils : DataFrame
        Columns year, zone_id, grade, pupils (pupils). Grades absent from the frame are 0.
    births : DataFrame, optional
        Columns year, zone_id, births (children).
    grades : GradeSystem
        Grades of the district (default China).
    """
    if pupils.empty:
        raise ProjectionError("no enrolment history to project from")
    zones = tuple(sorted(pupils["zone_id"].astype(str).unique()))
    if births is not None and len(births):
        zones = tuple(sorted(set(zones) | set(births["zone_id"].astype(str))))
    y0, y1 = int(pupils["year"].min()), int(pupils["year"].max())
    years = tuple(range(y0, y1 + 1))
    zi = {z: i for i, z in enumerate(zones)}
    gi = grades.grade_index
    arr = np.zeros((len(zones), len(grades.grades), len(years)))
    missing = sorted(set(years) - set(pupils["year"].astype(int)))
    arr[:, :, [y - y0 for y in missing]] = np.nan  # a missing school year: no data, no ratio across it
    agg = pupils.groupby(["zone_id", "grade", "year"], sort=False)["pupils"].sum()
    z = agg.index.get_level_values(0).map(zi).to_numpy()
    g = agg.index.get_level_values(1).map(gi).to_numpy()
    t = agg.index.get_level_values(2).to_numpy().astype(int) - y0
    np.add.at(arr, (z, g, t), agg.to_numpy(dtype=float))
    b_arr, by = None, ()
    if births is not None and len(births):
        b0, b1 = int(births["year"].min()), int(births["year"].max())
        by = tuple(range(b0, b1 + 1))
        b_arr = np.full((len(zones), len(by)), np.nan)
        bb = births.groupby(["zone_id", "year"])["births"].sum()
        b_arr[bb.index.get_level_values(0).map(zi).to_numpy(), bb.index.get_level_values(1).to_numpy().astype(int) - b0] = bb.to_numpy(
            dtype=float
        )
        if np.isnan(b_arr).any():
            zz, yy = np.argwhere(np.isnan(b_arr))[0]
            raise ProjectionError(f"births for zone '{zones[zz]}' miss year {by[yy]}; every zone needs births for {b0}-{b1}")
    return History(zones, years, arr, b_arr, by, grades)


def history_from_district(district, unit: str = "zone") -> History:
    """Pupils by zone (a school's pupils count in the school's zone) and births.

    Years of the district's ``demand`` table after the enrolment history (or all of them, when
    there is no enrolment) join the history as pupils by zone of residence, so that a
    projection starts from the demand's last year.

    ``unit="school"`` (the school-level mode, for districts where pupils choose among schools): every school of the
    schools table is a unit of its own (its id in place of a zone id; one with no enrolment has zero pupils); births
    stay in their zones, which then teach no one, so each entry cohort is shared among the schools by the moves model
    (docs/projection.md). A zone whose id is also a school's id holds its births as unit ``'<zone> (births)'``.
    Demand, held by zone of residence, has no school to count in, so the school-level mode is refused for a district
    with demand years after its enrolment.
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, not {unit!r}")
    births = district.births if len(district.births) else None
    if unit == "school":
        return _history_by_school(district, births)
    e = district.enrolment.merge(district.schools[["school_id", "zone_id"]], on="school_id", how="left")
    e = e[["year", "zone_id", "grade", "pupils"]]
    dem = district.demand
    after = dem[dem["year"] > e["year"].max()] if len(e) and len(dem) else dem
    if len(after):
        e = pd.concat([e, after[["year", "zone_id", "grade", "pupils"]]], ignore_index=True)
    # zones with births but no school still appear, with zero pupils
    h = history_from_frames(e, births, district.grades)
    # pupils by zone of residence (demand years) are counted where they live, not where taught: no teaching mask
    return (
        h if len(after) else replace(h, **dict(zip(("teaching", "opening"), teaching_schools(district, h.zones, "zone_id"), strict=True)))
    )


def _history_by_school(district, births: pd.DataFrame | None) -> History:
    """:func:`history_from_district` of the school-level mode (each school a unit; births in units of their own)."""
    dem = district.demand
    last = int(district.enrolment["year"].max()) if len(district.enrolment) else None
    if len(dem) and (last is None or (dem["year"] > last).any()):
        after = sorted(int(y) for y in dem["year"].unique() if last is None or y > last)
        raise ProjectionError(
            "the school-level mode projects enrolment by school, but the district's demand table (demand.csv) holds pupils by "
            f"zone of residence for year(s) {', '.join(map(str, after))}, after the enrolment history "
            f"({'none' if last is None else f'last year {last}'}); expected no demand years after the enrolment, or project by "
            "zone (projection.unit: zone, or leave out --unit school)"
        )
    schools = district.schools
    ids = set(schools["school_id"])
    e = district.enrolment.assign(zone_id=district.enrolment["school_id"])[["year", "zone_id", "grade", "pupils"]]
    unseen = schools.loc[~schools["school_id"].isin(set(e["zone_id"])), "school_id"]
    if len(unseen):  # a school without enrolment (e.g. a decided new school) is a unit too, with no pupils
        last, first = int(e["year"].max()), district.grades.grades[0]
        e = pd.concat([e, pd.DataFrame({"year": last, "zone_id": unseen.to_numpy(), "grade": first, "pupils": 0.0})], ignore_index=True)
    births_unit: dict[str, str] = {}
    if births is not None:
        births_unit = {z: f"{z} (births)" if z in ids else z for z in births["zone_id"].astype(str).unique()}
        none = pd.MultiIndex.from_product([births["year"].unique(), schools["school_id"]], names=["year", "zone_id"])
        births = pd.concat(
            [births.assign(zone_id=births["zone_id"].astype(str).map(births_unit)), none.to_frame(index=False).assign(births=0.0)],
            ignore_index=True,
        )
    h = history_from_frames(e, births, district.grades)
    zone_of = {**{u: z for z, u in births_unit.items()}, **schools.set_index("school_id")["zone_id"].astype(str).to_dict()}
    teaching, opening = teaching_schools(district, h.zones, "school_id")
    return replace(
        h,
        teaching=teaching,
        opening=opening,
        unit_zone=tuple(zone_of[u] for u in h.zones),
        school_unit=tuple(u in ids for u in h.zones),
    )


def teaching_school_grades(district) -> pd.DataFrame:
    """school_id, grade (school_grades' columns) and zone_id of the schools that teach in the projection: open
    schools, and candidate sites with a decided project (a row in ``projects``), by their first_grade..last_grade."""
    s = district.schools
    decided = set(district.projects["school_id"]) if len(district.projects) else set()
    s = s[(s["status"] == "open") | ((s["status"] == "candidate") & s["school_id"].isin(decided))]
    return district.school_grades().merge(s[["school_id", "zone_id"]], on="school_id")


def teaching_schools(district, units: tuple[str, ...], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Schools in each unit (zone, or the school itself under ``key="school_id"``) that teach each grade in the
    projection: open schools, and candidate sites with a decided project (a row in ``projects``), by their
    first_grade..last_grade (:func:`teaching_school_grades`); and of those, the new ones (no pupils in the last history
    year). Each (units, grades)."""
    e = district.enrolment
    enrolled = set(e.loc[(e["year"] == e["year"].max()) & (e["pupils"] > 0), "school_id"]) if len(e) else set()
    sg = teaching_school_grades(district)
    ui = {u: i for i, u in enumerate(units)}
    sg = sg[sg[key].isin(ui)]
    at = (sg[key].map(ui).to_numpy(dtype=int), sg["grade"].map(district.grades.grade_index).to_numpy(dtype=int))
    teaching, opening = np.zeros((2, len(units), len(district.grades.grades)))
    np.add.at(teaching, at, 1.0)
    np.add.at(opening, at, (~sg["school_id"].isin(enrolled)).to_numpy(dtype=float))
    return teaching, opening


def late_openings(district, origin: int) -> list[str]:
    """Notes for decided new schools (candidate sites with a project) that open after the first projected year and
    teach grades no open school in their zone teaches: the projection counts those grades in the zone from the first
    projected year (kappa is one figure per zone and grade)."""
    s, p = district.schools, district.projects
    if not len(p):
        return []
    first = p.groupby("school_id")["completion_year"].min()
    new = s[(s["status"] == "candidate") & s["school_id"].map(first).gt(origin + 1)]
    sg = district.school_grades()
    open_grades = sg.merge(s.loc[s["status"] == "open", ["school_id", "zone_id"]], on="school_id")
    out = []
    for r in new.itertuples(index=False):
        taught = set(open_grades.loc[open_grades["zone_id"] == r.zone_id, "grade"])
        grades = [g for g in district.grades.grades_between(r.first_grade, r.last_grade) if g not in taught]
        if grades:
            year = int(first[r.school_id])
            out.append(
                f"school '{r.school_id}' (zone {r.zone_id}) opens with its decided project in {year}: the projection counts "
                f"zone {r.zone_id}'s pupils of grades {grades[0]}-{grades[-1]} in the zone from {origin + 1}, though before "
                f"{year} they are taught in other zones; the seat gap shows the zone short until then (docs/projection.md, "
                "'Which zones teach a grade')"
            )
    return out
