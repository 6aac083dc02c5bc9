"""Tidy frames <-> dense arrays indexed by zone x grade x year."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from capacity.errors import ProjectionError
from capacity.grades import CHINA, GradeSystem


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
    """

    zones: tuple[str, ...]
    years: tuple[int, ...]
    pupils: np.ndarray
    births: np.ndarray | None
    birth_years: tuple[int, ...]
    grades: GradeSystem = CHINA

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


def history_from_district(district) -> History:
    """Pupils by zone (a school's pupils count in the school's zone) and births.

    Years of the district's ``demand`` table after the enrolment history (or all of them, when
    there is no enrolment) join the history as pupils by zone of residence, so that a
    projection starts from the demand's last year.
    """
    e = district.enrolment.merge(district.schools[["school_id", "zone_id"]], on="school_id", how="left")
    e = e[["year", "zone_id", "grade", "pupils"]]
    dem = district.demand
    if len(dem):
        after = dem[dem["year"] > e["year"].max()] if len(e) else dem
        e = pd.concat([e, after[["year", "zone_id", "grade", "pupils"]]], ignore_index=True)
    births = district.births if len(district.births) else None
    # zones with births but no school still appear, with zero pupils
    return history_from_frames(e, births, district.grades)
