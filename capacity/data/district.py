"""The validated district: typed tables plus where they came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from capacity.data.read import read_district_files
from capacity.data.schema import SYSTEM_TABLES
from capacity.data.validate import ROW, parse_all
from capacity.errors import InputError
from capacity.grades import CHINA, GradeSystem

EXAMPLE_PATH = Path(__file__).parent / "example_county"
"""Folder of the bundled example county (CSV files)."""
EXAMPLE_US_PATH = Path(__file__).parent / "example_us"
"""Folder of the bundled US example district (CSV files and a GeoPackage of zones)."""
BUNDLED_DISTRICTS = {"example": EXAMPLE_PATH, "example_us": EXAMPLE_US_PATH}
"""Names a scenario's ``district`` may give instead of a path."""


@dataclass(frozen=True)
class District:
    """A validated district.

    Attributes
    ----------
    zones, schools, enrolment, births, housing, travel, projects, children, stage_rooms, demand, attendance : DataFrame
        The tables of the input format (docs/data-format.md), typed; optional tables
        that were not given are empty frames with the right columns.
    source : str
        Folder or workbook read.
    grades : GradeSystem
        The district's grades and stages (every step reads grades from here).
    file_hashes : dict of str to str
        SHA-256 of every file read, for run manifests.
    notes : tuple of str
        Things worth knowing that are not errors (e.g. a GBK-encoded file, an ignored sheet).
    zone_shapes : dict of str to bytes
        zone_id -> WKB polygon (WGS 84 lon/lat) when zones were read from a GIS layer; empty otherwise.
    school_rows : dict of str to int
        school_id -> its row in the schools table as the planner sees it (header row 1), for
        messages about a school; empty for a district not read from files.
    """

    zones: pd.DataFrame
    schools: pd.DataFrame
    enrolment: pd.DataFrame
    births: pd.DataFrame
    housing: pd.DataFrame
    travel: pd.DataFrame
    projects: pd.DataFrame
    children: pd.DataFrame
    stage_rooms: pd.DataFrame
    source: str = ""
    grades: GradeSystem = CHINA
    demand: pd.DataFrame = field(default_factory=lambda: _empty("demand"))
    attendance: pd.DataFrame = field(default_factory=lambda: _empty("attendance"))
    file_hashes: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    zone_shapes: dict[str, bytes] = field(default_factory=dict)
    school_rows: dict[str, int] = field(default_factory=dict)

    @property
    def history_years(self) -> tuple[int, ...]:
        """School years with enrolment history, ascending (a missing year is simply absent)."""
        return tuple(sorted(int(y) for y in self.enrolment["year"].unique()))

    @property
    def last_year(self) -> int:
        """Last known school year: of the enrolment history, else (a district given only as
        demand) the first year of the ``demand`` table."""
        if len(self.enrolment):
            return int(self.enrolment["year"].max())
        return int(self.demand["year"].min())

    @property
    def has_history(self) -> bool:
        """Whether the district gives an enrolment history (else it is planned from ``demand``)."""
        return bool(len(self.enrolment))

    @property
    def decided_closures(self) -> pd.Series:
        """Decided closures: the first school year each closing school no longer teaches (schools ``closed_from``),
        int, index school_id, sorted; empty when none is stated."""
        s = self.schools
        if "closed_from" not in s:
            return pd.Series(dtype=int, name="closed_from")
        has = s["closed_from"].notna().to_numpy()
        if not has.any():  # the usual case, read several times a run: the same empty series without the frame work
            return pd.Series(np.zeros(0, dtype=int), index=pd.Index(s["school_id"].iloc[:0], name="school_id"), name="closed_from")
        c = s.loc[has, ["school_id", "closed_from"]].sort_values("school_id")
        return c.set_index("school_id")["closed_from"].astype(int)

    def school_grades(self) -> pd.DataFrame:
        """One row per (school_id, grade) the school teaches, with its stage."""
        rows = [
            (r.school_id, g, self.grades.stage_of_grade[g])
            for r in self.schools.itertuples(index=False)
            for g in self.grades.grades_between(r.first_grade, r.last_grade)
        ]
        return pd.DataFrame(rows, columns=["school_id", "grade", "stage"])

    def school_stages(self) -> pd.DataFrame:
        """One row per (school_id, stage) the school teaches."""
        return self.school_grades()[["school_id", "stage"]].drop_duplicates(ignore_index=True)


def load_district(path: str | Path | None = None) -> District:
    """Read and validate a district.

    Parameters
    ----------
    path : str or Path, optional
        A folder of CSV files or an .xlsx workbook; ``None`` loads the bundled example.

    Raises
    ------
    InputError
        Listing every problem found (file, row, column, found, expected).
    """
    raw = read_district_files(EXAMPLE_PATH if path is None else path)
    frames, problems, grades = parse_all(raw.tables)
    if problems:
        raise InputError(problems, raw.source)
    school_rows = frames["schools"].attrs.pop(ROW, {})
    for t in SYSTEM_TABLES:
        frames.pop(t.name)
    frames = _sorted(frames, grades)
    return District(
        **frames,
        source=raw.source,
        grades=grades,
        file_hashes=raw.file_hashes,
        notes=tuple(raw.notes),
        zone_shapes=raw.zone_shapes,
        school_rows=school_rows,
    )


def _sorted(frames: dict[str, pd.DataFrame], grades: GradeSystem) -> dict[str, pd.DataFrame]:
    """Stable row order independent of file order: by key, grades in school order."""
    from capacity.data.schema import TABLE_BY_NAME

    out = {}
    for name, f in frames.items():
        key = list(TABLE_BY_NAME[name].key)
        if "grade" in key:
            f = (
                f.assign(_g=f["grade"].map(grades.grade_index))
                .sort_values([k if k != "grade" else "_g" for k in key], kind="stable")
                .drop(columns="_g")
            )
        else:
            f = f.sort_values(key, kind="stable")
        out[name] = f.reset_index(drop=True)
    return out


def _empty(name: str) -> pd.DataFrame:
    from capacity.data.schema import TABLE_BY_NAME
    from capacity.data.validate import empty_frame

    return empty_frame(TABLE_BY_NAME[name])


def home_school_shares(district: District) -> pd.DataFrame:
    """Each zone's split of its pupils of a grade among home schools: zone_id, grade, school_id, share.

    From the ``attendance`` matrix's last year where given (pupils by home zone and school);
    otherwise, and for every (zone, grade) the matrix leaves out (a matrix of some grades or
    zones only; stated in a note), from the last history year's enrolment, a school's pupils
    counted in its own zone. Only open schools with pupils count; shares of a (zone, grade) sum to 1.
    """
    cols = ["zone_id", "grade", "school_id", "pupils"]
    status = district.schools[["school_id", "status"]]
    e = district.enrolment
    e = e[e["year"] == e["year"].max()]
    a = district.attendance
    if not len(a) and not (e["pupils"] > 0).any():  # no pupils to share (demand given, no history): no shares, no merges
        none = slice(0, 0)
        return pd.DataFrame(
            {
                "zone_id": district.schools["zone_id"].iloc[none].reset_index(drop=True),
                "grade": e["grade"].iloc[none].reset_index(drop=True),
                "school_id": e["school_id"].iloc[none].reset_index(drop=True),
                "share": pd.Series(dtype=float),
            }
        )
    e = e.merge(district.schools[["school_id", "zone_id"]], on="school_id")[cols]
    if len(a):
        if len(district.enrolment) and int(a["year"].max()) < int(district.enrolment["year"].max()):
            from capacity.notes import note

            note(
                f"attendance: its last year {int(a['year'].max())} is before the last history year "
                f"{int(district.enrolment['year'].max())}; home-school shares are taken from {int(a['year'].max())}"
            )
        a = a[a["year"] == a["year"].max()][cols]
        a = a[a["school_id"].isin(status.loc[status["status"].eq("open"), "school_id"]) & (a["pupils"] > 0)]
        usable = _residence_shares_usable(district, a)
        covered = pd.MultiIndex.from_frame(usable[["zone_id", "grade"]].drop_duplicates())
        rest = e[~pd.MultiIndex.from_frame(e[["zone_id", "grade"]]).isin(covered) & (e["pupils"] > 0)]
        if len(rest) and len(e) and usable is a:  # where attendance is set aside, its own note says so
            from capacity.notes import note

            grades = district.grades
            left = ", ".join(str(g) for g in sorted(rest["grade"].unique(), key=grades.grade_index.get))
            note(
                f"attendance: its last year ({int(district.attendance['year'].max())}) has no pupils for "
                f"{rest[['zone_id', 'grade']].drop_duplicates().shape[0]} zone-grade pairs with pupils on roll in "
                f"{int(district.enrolment['year'].max())} (grades {left}); their pupils are shared among home schools "
                "by that year's enrolment"
            )
        last = pd.concat([usable, rest], ignore_index=True).merge(status, on="school_id")
    else:
        last = e.merge(status, on="school_id")
    last = last[last["status"].eq("open") & (last["pupils"] > 0)]
    return last.assign(share=last["pupils"] / last.groupby(["zone_id", "grade"])["pupils"].transform("sum"))[
        ["zone_id", "grade", "school_id", "share"]
    ]


def _residence_shares_usable(district: District, a: pd.DataFrame) -> pd.DataFrame:
    """The attendance rows ``a`` (one year), or none where they cannot split the demand they would be applied to.

    Attendance counts pupils by the zone they live in. A projection from enrolment history counts them in the
    zone of the school they attend (docs/data-format.md, 'Demand by zone of residence'), so pupils who cross a
    zone line (a magnet school drawing from every zone) are already in the school's zone: residence shares applied
    to that demand would move pupils between schools (a magnet's home zone's other school would gain the magnet's
    incomers, the schools of the zones they come from lose them). Then the shares come from enrolment, with a note.
    """
    e = district.enrolment
    if not len(e) or (len(district.demand) and int(district.demand["year"].max()) > int(e["year"].max())):
        return a  # the demand to split is by residence (a demand table after the history, or no history)
    zone_of = district.schools.set_index("school_id")["zone_id"]
    away = a[a["zone_id"] != a["school_id"].map(zone_of)]
    if not len(away):
        return a
    from capacity.notes import note

    by_school = away.groupby("school_id")["zone_id"].agg(lambda z: ", ".join(sorted(set(z))))
    shown = "; ".join(f"'{s}' from {z}" for s, z in list(by_school.items())[:5]) + ("; ..." if len(by_school) > 5 else "")
    note(
        f"attendance: {away['pupils'].sum():,.0f} pupils in {int(district.attendance['year'].max())} attend a school outside their home zone "
        f"({shown}); the projection counts pupils in the zone of the school they attend (enrolment history), so these "
        "residence shares would move pupils between schools: home-school shares come from the last history year's enrolment, "
        "which keeps each school's pupils (attendance sets them where demand is by residence: a demand table after the history)"
    )
    return a.iloc[0:0]


def split_by_home_school(district: District, demand: pd.DataFrame) -> pd.DataFrame:
    """Share each zone's pupils of a grade among its home schools (:func:`home_school_shares`:
    the attendance matrix's last year, else the schools of the zone that taught the grade in the
    last history year), by their share then.

    Parameters
    ----------
    demand : DataFrame
        year, zone_id, grade, pupils.

    Returns
    -------
    DataFrame
        demand's columns plus school_id: one row per (row of demand, school), pupils
        multiplied by the school's share (not rounded). A zone and grade that no school taught
        last year keeps its pupils on one row with school_id ''.
    """
    out = demand.merge(home_school_shares(district), on=["zone_id", "grade"], how="left")
    out["school_id"] = out["school_id"].fillna("")
    out["pupils"] = out["pupils"] * out["share"].fillna(1.0)
    return out.drop(columns="share")


def without_closed(out: pd.DataFrame, closes: pd.Series) -> pd.DataFrame:
    """The status quo after decided closures (``District.decided_closures``): pupils of a school (a
    :func:`split_by_home_school` table) in the years from its closure go to the other home schools of their zone and
    grade, by those schools' shares; where none is left, to school_id '' (no home school). The plan keeps the closed
    school as their home school, so that they count as moved (docs/plan-model.md)."""
    gone = out["school_id"].map(closes).le(out["year"]).to_numpy()
    if not gone.any():
        return out
    cols = list(out.columns)
    key = [c for c in cols if c not in ("school_id", "pupils")]  # year, zone_id, grade and any other demand column
    moved = out[gone].groupby(key)["pupils"].sum()
    keep = out[~gone].copy()
    home = keep["school_id"].ne("")
    total = keep[home].groupby(key)["pupils"].transform("sum")
    count = keep[home].groupby(key)["pupils"].transform("size")
    extra = np.nan_to_num(pd.MultiIndex.from_frame(keep.loc[home, key]).map(moved).to_numpy(dtype=float))
    # by pupils where the others have any, else evenly
    keep.loc[home, "pupils"] += extra * np.where(total > 0, keep.loc[home, "pupils"] / total.where(total > 0, 1.0), 1.0 / count)
    taken = keep[home].groupby(key).size()
    left = moved[~moved.index.isin(taken.index)].reset_index().assign(school_id="")
    merged = pd.concat([keep, left[cols]], ignore_index=True)
    return merged.groupby([c for c in cols if c != "pupils"], as_index=False, sort=False)["pupils"].sum()[cols]


def note_late_closures(district: District, last_year: int) -> None:
    """Note each decided closure (schools closed_from) after ``last_year``, the last planned or projected year:
    the school teaches, and its seats count, in every year of the horizon."""
    from capacity.notes import note

    for sid, year in district.decided_closures.items():
        if year > last_year:
            note(
                f"schools: '{sid}' closes from {year} (closed_from), after the horizon's last year {last_year}: it teaches and its "
                "seats count in every year of this horizon"
            )


def pupils_by_stage(district: District) -> pd.DataFrame:
    """Pupils on roll by year (rows) and stage (columns), in pupils."""
    e = district.enrolment.assign(stage=district.enrolment["grade"].map(district.grades.stage_of_grade))
    t = e.pivot_table(index="year", columns="stage", values="pupils", aggfunc="sum", fill_value=0)
    t = t.reindex(columns=[s for s in district.grades.stage_names if s in t.columns])
    t["total"] = t.sum(axis=1)
    return t.astype(int)


def schools_by_stage(district: District) -> pd.DataFrame:
    """Count of schools teaching each stage, by status and sector."""
    ss = district.school_stages().merge(district.schools[["school_id", "status", "sector"]], on="school_id")
    t = ss.pivot_table(index=["status", "sector"], columns="stage", values="school_id", aggfunc="count", fill_value=0)
    return t.reindex(columns=[s for s in district.grades.stage_names if s in t.columns]).astype(int)
