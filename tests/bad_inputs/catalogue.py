"""The catalogue of broken (and merely unusual) inputs.

Each case builds a district copy or a scenario file in a temporary folder, names the
command that must refuse (or accept) it, the fragment its message must contain, and the
fix a planner should apply. docs/errors.md is generated from this list.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from capacity.data import EXAMPLE_PATH

BASE = Path(__file__).resolve().parents[2] / "scenarios" / "base.yaml"


@dataclass(frozen=True)
class Case:
    name: str
    what: str  # what is wrong, in a planner's words
    build: Callable[[Path], list[str]]  # writes inputs under tmp, returns the CLI arguments
    expect: str  # fragment of the error message (or of the note, when accepted)
    fix: str
    accept: bool = False
    klass: str = ""  # issue-13 class: outputs, settings, plausibility, crash, output-safety, reproducibility
    check: Callable[[Path], None] | None = None  # after the command: e.g. the user's files are intact


def district(tmp: Path) -> Path:
    d = tmp / "district"
    if not d.exists():
        shutil.copytree(EXAMPLE_PATH, d)
    return d


def edit(tmp: Path, table: str, fn) -> Path:
    d = district(tmp)
    p = d / f"{table}.csv"
    f = pd.read_csv(p, dtype=str, keep_default_na=False)
    fn(f).to_csv(p, index=False, lineterminator="\n")
    return d


def cell(table: str, row: int, col: str, value: str):
    def build(tmp: Path) -> list[str]:
        def fn(f):
            f.loc[row, col] = value
            return f

        return ["validate", str(edit(tmp, table, fn))]

    return build


def drop_file(table: str):
    def build(tmp: Path) -> list[str]:
        d = district(tmp)
        (d / f"{table}.csv").unlink()
        return ["validate", str(d)]

    return build


def frame(table: str, fn):
    def build(tmp: Path) -> list[str]:
        return ["validate", str(edit(tmp, table, fn))]

    return build


def raw(table: str, text: str | bytes, mode: str = "w"):
    def build(tmp: Path) -> list[str]:
        d = district(tmp)
        p = d / f"{table}.csv"
        if isinstance(text, bytes):
            p.write_bytes(text)
        elif mode == "a":
            with open(p, "a", encoding="utf-8") as fh:
                fh.write(text)
        else:
            p.write_text(text, encoding="utf-8")
        return ["validate", str(d)]

    return build


def recode(table: str, encoding: str, bom: bool = False):
    def build(tmp: Path) -> list[str]:
        d = district(tmp)
        p = d / f"{table}.csv"
        text = p.read_text(encoding="utf-8")
        p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
        return ["validate", str(d)]

    return build


def workbook(fn):
    def build(tmp: Path) -> list[str]:
        import openpyxl

        from capacity.data import load_district
        from capacity.data.write import write_workbook

        book = tmp / "district.xlsx"
        write_workbook(load_district(), book)
        wb = openpyxl.load_workbook(book)
        fn(wb)
        wb.save(book)
        return ["validate", str(book)]

    return build


def scenario(text: str, command: str = "run", extra: tuple[str, ...] = ()):
    def build(tmp: Path) -> list[str]:
        p = tmp / "scenario.yaml"
        p.write_text(text.replace("BASE", str(BASE)), encoding="utf-8")
        return [command, str(p), *extra, "--out", str(tmp / "out")] if command == "run" else [command, str(p), *extra]

    return build


def project_on(fn_table: str, fn):
    def build(tmp: Path) -> list[str]:
        return ["project", str(edit(tmp, fn_table, fn)), "--draws", "20", "--horizon", "2", "--out", str(tmp / "out")]

    return build


def symlink_out(tmp: Path) -> list[str]:
    d = district(tmp)
    outside = tmp / "elsewhere.csv"
    shutil.copy(d / "travel.csv", outside)
    (d / "travel.csv").unlink()
    (d / "travel.csv").symlink_to(outside)
    return ["validate", str(d)]


def _closed_with_project(tmp: Path) -> Path:
    """SMALL with a closed school C1 and a decided project at it."""
    d = tmp / "district"
    small(
        schools={
            "school_id": ["S1", "C1"],
            "status": ["open", "closed"],
        },
        projects={
            "project_id": ["RE"],
            "school_id": ["C1"],
            "completion_year": ["2027"],
            "classrooms": ["2"],
            "seats": [""],
            "cost": ["800000"],
            "stage": [""],
        },
    )(tmp)
    return d


def _renamed(folder: Path, old: str, new: str) -> Path:
    (folder / old).rename(folder / new)
    return folder


def merged(wb):
    wb["zones"].merge_cells("A2:B2")


def formula(wb):
    wb["schools"]["F3"] = "=SUM(F4:F5)"


def extra_sheet(wb):
    wb.create_sheet("README")["A1"] = "notes for the bureau"


def not_zip(tmp: Path) -> list[str]:
    p = tmp / "district.xlsx"
    p.write_bytes(b"PK\x03\x04 broken")
    return ["validate", str(p)]


def project_without(table: str, *options: str):
    def build(tmp: Path) -> list[str]:
        d = district(tmp)
        (d / f"{table}.csv").unlink()
        return ["project", str(d), *options, "--draws", "20", "--horizon", "2", "--out", str(tmp / "out")]

    return build


SMALL = {
    "zones": {"zone_id": ["B1", "B2"], "name": ["b1", "b2"], "kind": ["urban"] * 2, "x_km": ["0", "1"], "y_km": ["0", "0"]},
    "schools": {
        "school_id": ["S1", "S2"],
        "name": ["s1", "s2"],
        "zone_id": ["B1", "B2"],
        "first_grade": ["P1"] * 2,
        "last_grade": ["P6"] * 2,
        "classrooms": ["", ""],
        "max_classrooms": ["3", "10"],
        "capacity": ["100", "80"],
        "x_km": ["0", "1"],
        "y_km": ["0", "0"],
        "sector": ["public"] * 2,
        "status": ["open"] * 2,
    },
    "demand": {"year": ["2026"] * 2, "zone_id": ["B1", "B2"], "grade": ["P1"] * 2, "pupils": ["120", "60"]},
}
"""A district given only as demand by planning block, with rated capacities (no history, no births)."""


def small(command: str = "validate", **edits):
    """Write SMALL with some columns replaced (table -> {column: cells}); run ``command`` on it."""

    def build(tmp: Path) -> list[str]:
        d = tmp / "district"
        d.mkdir(parents=True, exist_ok=True)
        for name in sorted(set(SMALL) | set(edits)):
            pd.DataFrame({**SMALL.get(name, {}), **edits.get(name, {})}).to_csv(d / f"{name}.csv", index=False)
        return [command, str(d)] + (["--out", str(tmp / "out")] if command == "plan" else [])

    return build


def small_under_scenario(text: str, command: str = "validate", **edits):
    """SMALL (with ``edits``) and a scenario file of ``text`` naming it; run ``command`` on the scenario."""

    def build(tmp: Path) -> list[str]:
        small(**edits)(tmp)
        (tmp / "scenario.yaml").write_text(f"name: small\ndistrict: district\n{text}", encoding="utf-8")
        return [command, str(tmp / "scenario.yaml")]

    return build


def demand_file(text: str):
    def build(tmp: Path) -> list[str]:
        (tmp / "demand.csv").write_text(text, encoding="utf-8")
        return ["plan", str(district(tmp)), "--demand", str(tmp / "demand.csv"), "--out", str(tmp / "out")]

    return build


def drop_rows(table: str, cond):
    return frame(table, lambda f: f[~cond(f)])


CASES: list[Case] = [
    Case(
        "missing-zones",
        "zones.csv is not in the folder",
        drop_file("zones"),
        "zones.csv: found no such file; expected the required table 'zones'",
        "Add zones.csv (see docs/data-format.md).",
    ),
    Case(
        "missing-schools",
        "schools.csv is not in the folder",
        drop_file("schools"),
        "found no such file; expected the required table 'schools'",
        "Add schools.csv.",
    ),
    Case(
        "missing-enrolment",
        "enrolment.csv is not in the folder and there is no demand table",
        drop_file("enrolment"),
        "found neither enrolment history nor a demand table",
        "Add the enrolment history, or pupils by zone in demand.csv.",
    ),
    Case(
        "missing-births",
        "births.csv is not in the folder but an entry grade is projected from births under an explicit method (auto would "
        "compare held and trend instead)",
        project_without("births", "--method", "mean"),
        "K1 is projected from births 3 years earlier, which needs births for 2020-2022 to estimate its ratio; births recorded: none",
        "Add births by zone and year, set projection.entry_rule.P1 (and K1) to held, trend or children, or leave projection.method at auto.",
    ),
    Case(
        "no-such-district",
        "the district path does not exist",
        lambda tmp: ["validate", str(tmp / "nowhere")],
        "found no such file or folder",
        "Check the path.",
    ),
    Case(
        "missing-column",
        "a required column is missing",
        frame("zones", lambda f: f.drop(columns=["kind"])),
        "zones.csv, row 1, column 'kind': found no such column",
        "Add the column with its header exactly as documented.",
    ),
    Case(
        "unknown-column",
        "a column the format does not know",
        frame("schools", lambda f: f.rename(columns={"classrooms": "classroom"})),
        "found an unknown column 'classroom' (did you mean 'classrooms'?)",
        "Rename it, or name remarks columns 'notes'.",
    ),
    Case(
        "duplicate-column",
        "the same column twice",
        raw("zones", "zone_id,name,kind,x_km,y_km,kind\nU01,a,urban,0,0,urban\n"),
        "found the column 'kind' 2 times",
        "Delete the repeated column.",
    ),
    Case(
        "blank-header",
        "a column without a header",
        raw("zones", "zone_id,name,kind,x_km,y_km,\nU01,a,urban,0,0,x\n"),
        "found a column with a blank header",
        "Name every column or delete the empty one.",
    ),
    Case(
        "trailing-empty-columns",
        "trailing commas a spreadsheet left after columns once used (no header, no value)",
        frame("zones", lambda f: f.assign(**{"": "", " ": ""})),
        "zones.csv: 2 column(s) with no header and no value (left by a spreadsheet) ignored",
        "Nothing to fix; a blank-headed column that holds a value is refused.",
        accept=True,
    ),
    Case(
        "decimal-comma-coordinate",
        "a coordinate written with a decimal comma",
        cell("zones", 0, "x_km", "0,5"),
        "zones.csv, row 2, column 'x_km': found '0,5'; expected a finite number",
        "Write decimals with a point (0.5), or save the file from a spreadsheet set to a point decimal separator.",
    ),
    Case(
        "wrong-type",
        "text where a number is expected",
        cell("enrolment", 3, "pupils", "many"),
        "enrolment.csv, row 5, column 'pupils': found 'many'; expected a whole number",
        "Write a whole number.",
    ),
    Case(
        "wrong-type-float",
        "text in a coordinate",
        cell("zones", 0, "x_km", "east"),
        "column 'x_km': found 'east'; expected a finite number",
        "Write the coordinate in km.",
    ),
    Case(
        "empty-table",
        "a required table with a header but no rows",
        raw("zones", "zone_id,name,kind,x_km,y_km\n"),
        "zones.csv: found an empty table; expected at least one data row",
        "Fill in the table.",
    ),
    Case(
        "empty-file",
        "a completely empty file",
        raw("zones", ""),
        "zones.csv, row 1: found no header row",
        "Put the column names in the first row.",
    ),
    Case("nan", "NaN in a count", cell("enrolment", 0, "pupils", "NaN"), "found 'NaN'; expected a whole number", "Write the count, or 0."),
    Case("infinite", "an infinite value", cell("births", 0, "births", "inf"), "found 'inf'; expected a whole number", "Write the count."),
    Case(
        "negative-pupils",
        "a negative count",
        cell("enrolment", 0, "pupils", "-4"),
        "found '-4'; expected a whole number from 0 to 100000",
        "Counts are 0 or more.",
    ),
    Case(
        "fractional-pupils",
        "a fraction of a pupil",
        cell("enrolment", 0, "pupils", "12.5"),
        "found '12.5'; expected a whole number",
        "Pupils are whole numbers.",
    ),
    Case(
        "blank-cell",
        "a blank required cell",
        cell("schools", 0, "name", ""),
        "schools.csv, row 2, column 'name': found a blank cell",
        "Fill in the cell.",
    ),
    Case(
        "huge-number",
        "an impossible number",
        cell("enrolment", 0, "pupils", "1000000000000"),
        "found '1000000000000'; expected a whole number from 0 to 100000",
        "Check the figure (pupils of one grade at one school).",
    ),
    Case(
        "duplicate-key",
        "the same zone twice",
        frame("zones", lambda f: pd.concat([f, f.iloc[[0]]])),
        "found the key (U01) again, first given at row 2",
        "Keep one row per key.",
    ),
    Case(
        "duplicate-enrolment",
        "the same school, grade and year twice",
        frame("enrolment", lambda f: pd.concat([f, f.iloc[[5]]])),
        "found the key (2013, ",
        "Add the two rows up into one.",
    ),
    Case(
        "dangling-school-zone",
        "a school in a zone that does not exist",
        cell("schools", 0, "zone_id", "Z99"),
        "found 'Z99', which is not in zones",
        "Add the zone or correct the id.",
    ),
    Case(
        "dangling-enrolment-school",
        "history for a school that does not exist",
        cell("enrolment", 0, "school_id", "NOPE"),
        "found 'NOPE', which is not in schools",
        "Add the school (status closed if it has closed) or correct the id.",
    ),
    Case(
        "dangling-births-zone",
        "births for a zone that does not exist",
        cell("births", 0, "zone_id", "Z99"),
        "births.csv, row 2, column 'zone_id': found 'Z99', which is not in zones",
        "Correct the zone id.",
    ),
    Case(
        "dangling-travel",
        "a travel distance to an unknown school",
        cell("travel", 0, "school_id", "NOPE"),
        "travel.csv, row 2, column 'school_id': found 'NOPE', which is not in schools",
        "Correct the school id.",
    ),
    Case(
        "dangling-project",
        "a project at an unknown school",
        cell("projects", 0, "school_id", "NOPE"),
        "projects.csv, row 2, column 'school_id': found 'NOPE'",
        "Correct the school id (a new site is a candidate row in schools).",
    ),
    Case(
        "grade-outside-range",
        "pupils in a grade the school does not teach",
        frame(
            "enrolment",
            lambda f: f.assign(grade=f["grade"].where(~((f.school_id == "U01-P1") & (f.year == "2013") & (f.grade == "P1")), "J1")),
        ),
        "found J1 at school 'U01-P1'; expected a grade that school teaches (P1-P6)",
        "Move the pupils to the right school or widen the school's grade range.",
    ),
    Case(
        "grade-moved-between-schools",
        "a primary school that also taught J1 in earlier years (a grade moved to the junior schools)",
        frame(
            "enrolment",
            lambda f: pd.concat(
                [f, pd.DataFrame({"year": ["2013", "2014"], "school_id": ["U01-P1"] * 2, "grade": ["J1"] * 2, "pupils": ["40", "38"]})],
                ignore_index=True,
            ),
        ),
        "'U01-P1' has 78 pupils in J1 in 2013-2014, outside the grades it teaches now (P1-P6 in schools); accepted as history",
        "Nothing to fix: the rows stay in the history; check that the school's range in schools is today's.",
        accept=True,
        klass="plausibility",
    ),
    Case(
        "unknown-grade",
        "a grade code the format does not know",
        cell("enrolment", 0, "grade", "G1"),
        "found 'G1'; expected a grade of the china system (district.grade_system): K1/K2/K3/P1",
        "Use the grades of the district's system (china by default: K1-K3, P1-P6, J1-J3, S1-S3), or declare its system in district.csv.",
    ),
    Case(
        "grade-range-reversed",
        "last grade before first grade",
        cell("schools", 0, "last_grade", "K1"),
        "found 'K1', before first_grade 'P1'",
        "Swap first_grade and last_grade.",
    ),
    Case(
        "rooms-above-site",
        "more classrooms than the site holds",
        cell("schools", 0, "classrooms", "500"),
        "found 500 classrooms, more than max_classrooms",
        "Raise max_classrooms or correct classrooms.",
    ),
    Case(
        "history-gap",
        "a missing year in the enrolment history (accepted: no ratio across it)",
        drop_rows("enrolment", lambda f: f.year == "2019"),
        "history years 2013-2025 miss 2019; accepted",
        "Accepted with a note; add the year's enrolment if you have it.",
        accept=True,
    ),
    Case(
        "births-gap",
        "a missing year in a zone's births",
        drop_rows("births", lambda f: (f.year == "2015") & (f.zone_id == "T02")),
        "found years for zone 'T02' 2005-2025 missing 2015",
        "Add the missing births.",
    ),
    Case(
        "future-history",
        "enrolment history for a year that has not begun",
        frame("enrolment", lambda f: pd.concat([f, f.iloc[[0]].assign(year="2090")])),
        "found 2090, a school year that has not begun",
        "History holds past school years only.",
    ),
    Case(
        "births-too-short",
        "births do not reach back far enough for the entry grades",
        project_on("births", lambda f: f[f.year.astype(int) >= 2019]),
        "P1 is projected from births 6 years earlier",
        "Add births from 6 years before the first ratio year, or set projection.entry_rule.P1 to held, trend or children.",
    ),
    Case(
        "housing-type-without-yield",
        "a dwelling type with no pupil yield",
        project_on("housing", lambda f: f.assign(dwelling_type=f["dwelling_type"].where(f.zone_id != "T01", "villa"))),
        "housing, column 'dwelling_type': found 'villa' (1 row(s)",
        "Add the type under projection.housing_yield in the scenario.",
    ),
    Case(
        "bad-choice",
        "a value outside the allowed list",
        cell("schools", 0, "sector", "state"),
        "found 'state'; expected one of public, private",
        "Use one of the listed values.",
    ),
    Case(
        "bad-bool",
        "neither true nor false",
        cell("schools", 0, "can_close", "perhaps"),
        "found 'perhaps'; expected true or false",
        "Write true or false.",
    ),
    Case(
        "closed-with-pupils",
        "a closed school with pupils in the last year",
        frame("schools", lambda f: f.assign(status=f["status"].where(f.school_id != "T01-D1", "closed"))),
        "whose status is closed",
        "Mark it open, or remove its last-year pupils.",
    ),
    Case(
        "candidate-with-pupils",
        "pupils at a candidate site",
        frame("schools", lambda f: f.assign(status=f["status"].where(f.school_id != "T01-D1", "candidate"))),
        "a candidate site; expected history only for open or closed schools",
        "A school with pupils is open.",
    ),
    Case(
        "project-without-size",
        "a project with neither classrooms nor seats",
        frame("projects", lambda f: f.assign(classrooms="", seats="")),
        "found neither classrooms nor seats",
        "Give classrooms, seats, or both.",
    ),
    Case(
        "stage-rooms-mismatch",
        "classrooms by stage do not add up",
        frame("stage_rooms", lambda f: f.assign(classrooms=f["classrooms"].where(f.index != 0, "1"))),
        "classrooms in all for 'U02-N1'; expected the school's classrooms",
        "Make the stages add up to the school's classrooms.",
    ),
    Case(
        "ragged-row",
        "a row with too many cells",
        raw("zones", "X1,x,town,1,2,3\n", "a"),
        "found 6 cells; expected 5 cells",
        "Remove the stray comma or cell.",
    ),
    Case(
        "unbalanced-quote",
        "an unclosed quotation mark",
        raw("zones", 'zone_id,name,kind,x_km,y_km\nU01,"open quote,urban,0,0\n'),
        "zones.csv",
        "Close the quotation mark.",
    ),
    Case(
        "not-text",
        "a binary file saved as CSV",
        raw("zones", b"\x00\xff\xfe\x00\x81\x8d\x90"),
        "zones.csv",
        "Export the sheet as CSV UTF-8.",
    ),
    Case(
        "link-outside",
        "a table file that is a link to somewhere else",
        symlink_out,
        "outside the district folder",
        "Copy the file into the district folder.",
    ),
    Case(
        "xlsx-merged",
        "merged cells in a workbook",
        workbook(merged),
        "found merged cells A2:B2; expected one value per cell",
        "Unmerge the cells and fill each one.",
    ),
    Case(
        "xlsx-formula", "a formula in a workbook", workbook(formula), "found a formula in cell F3 (=SUM(F4:F5))", "Copy and paste values."
    ),
    Case("xlsx-broken", "a file that is not a workbook", not_zip, "found a file Excel cannot open", "Save it again from Excel as .xlsx."),
    Case(
        "xlsx-missing-sheet",
        "a workbook without a required sheet",
        workbook(lambda wb: wb.remove(wb["schools"])),
        "district.xlsx[schools]: found no such sheet",
        "Add the sheet named schools.",
    ),
    Case(
        "project-at-closed-school",
        "a decided project at a closed school (the gap counted its rooms, the plan dropped it)",
        lambda tmp: ["validate", str(_closed_with_project(tmp))],
        "found a decided project at 'C1', whose status is closed; expected a project at an open school or a candidate site",
        "List the re-opened school as a candidate site under a new school_id and give it the project.",
    ),
    Case(
        "closure-inside-history",
        "a decided closure (closed_from) in a year of the history",
        cell("schools", 0, "closed_from", "2025"),
        "schools.csv, row 2, column 'closed_from': found 2025, inside the history (last year 2025)",
        "A school closed before the last history year has status closed; a decided closure names a later year.",
    ),
    Case(
        "closure-before-demand",
        "a decided closure before the first demand year of a district given only as demand",
        small(schools={"closed_from": ["2020", ""]}),
        "schools.csv, row 2, column 'closed_from': found 2020, before the first demand year 2026",
        "A school closed before the planned years has status closed; a decided closure names a planned year or later.",
    ),
    Case(
        "closure-at-candidate",
        "a decided closure at a candidate site",
        cell("schools", 21, "closed_from", "2028"),
        "schools.csv, row 23, column 'closed_from': found 2028 at 'U03-C1', whose status is candidate",
        "Leave closed_from blank at a candidate site (it has not opened).",
    ),
    Case(
        "closure-before-project",
        "a decided closure in or before the completion year of a decided project at the same school",
        cell("schools", 16, "closed_from", "2026"),
        "projects.csv, row 2, column 'completion_year': found 2026 for project 'PRJ-2026-01' at 'U03-P1', which closes from 2026",
        "Drop the project, or correct the closing year.",
    ),
    Case(
        "closure-forbidden",
        "plan.forbid_close names a school with a decided closure",
        small_under_scenario("plan: {forbid_close: [S1]}\n", schools={"closed_from": ["2026", ""]}),
        "plan.forbid_close: found 'S1', which a decided closure closes (schools closed_from)",
        "Drop the school from plan.forbid_close, or the closure from schools.csv.",
    ),
    Case(
        "closure-after-horizon",
        "a decided closure after the planning horizon",
        small(schools={"closed_from": ["2040", ""]}, command="plan"),
        "schools: 'S1' closes from 2040 (closed_from), after the horizon's last year 2026",
        "Nothing to fix: the school teaches in every planned year; plan further ahead to see the closure.",
        accept=True,
    ),
    Case(
        "capacity-vs-classrooms",
        "a rated capacity far from classrooms x room seats",
        small(schools={"classrooms": ["6", ""], "max_classrooms": ["8", "10"], "capacity": ["300", "80"]}, command="plan"),
        "schools.csv, row 2, column 'capacity': found capacity 300 at 'S1', but its 6 classrooms x 45 seats = 270 (differs by 11%)",
        "Correct capacity or classrooms, leave one of them blank, or raise standards.rated_capacity_tolerance.",
    ),
    Case(
        "capacity-vs-classrooms-validate",
        "a rated capacity far from classrooms x room seats, checked by validate",
        small(schools={"classrooms": ["6", ""], "max_classrooms": ["8", "10"], "capacity": ["300", "80"]}),
        "schools.csv, row 2, column 'capacity': found capacity 300 at 'S1', but its 6 classrooms x 45 seats = 270 (differs by 11%); "
        "expected capacity within 10% of classrooms x room seats (the tolerance is the scenario setting standards.rated_capacity_tolerance)",
        "validate checks at the default 10 % and the system's class sizes; a scenario may set standards.rated_capacity_tolerance.",
    ),
    Case(
        "capacity-vs-classrooms-validate-scenario",
        "a rated capacity within the default 10 % of classrooms x room seats but beyond the scenario's tolerance, checked by validate",
        small_under_scenario(
            "standards: {rated_capacity_tolerance: 0.02}\n",
            schools={"classrooms": ["6", ""], "max_classrooms": ["8", "10"], "capacity": ["280", "80"]},
        ),
        "schools.csv, row 2, column 'capacity': found capacity 280 at 'S1', but its 6 classrooms x 45 seats = 270 (differs by 4%); "
        "expected capacity within 2% of classrooms x room seats",
        "`capacity validate SCENARIO.yaml` checks at the scenario's tolerance and class sizes, as its gap and plan will: "
        "correct capacity or classrooms, or leave one of them blank.",
    ),
    Case(
        "classrooms-and-capacity-blank",
        "a school with neither classrooms nor a capacity",
        small(schools={"capacity": ["", "80"]}),
        "schools.csv, row 2, column 'classrooms': found a blank cell at 'S1' and no capacity",
        "Give the school's classrooms, its rated capacity, or both.",
    ),
    Case(
        "capacity-at-candidate",
        "a rated capacity on a candidate site",
        cell("schools", 21, "capacity", "900"),
        "column 'capacity': found a capacity at 'U03-C1', a candidate site",
        "Leave capacity blank for a candidate site: it opens with max_classrooms rooms.",
    ),
    Case(
        "capacity-negative",
        "a negative rated capacity",
        small(schools={"capacity": ["-100", "80"]}),
        "schools.csv, row 2, column 'capacity': found '-100'; expected a whole number from 0 to 100000",
        "Write the seats as a whole number >= 0.",
    ),
    Case(
        "demand-unknown-zone",
        "demand for a zone that does not exist",
        small(demand={"zone_id": ["B1", "B9"]}),
        "demand.csv, row 3, column 'zone_id': found 'B9', which is not in zones",
        "Use zone_ids from zones.csv.",
    ),
    Case(
        "demand-bad-grade",
        "demand for a grade that is not in the grade system",
        small(demand={"grade": ["P1", "G7"]}),
        "demand.csv, row 3, column 'grade': found 'G7'",
        "Use the district's grades.",
    ),
    Case(
        "demand-negative",
        "negative pupils in the demand table",
        small(demand={"pupils": ["120", "-3"]}),
        "demand.csv, row 3, column 'pupils': found '-3'",
        "Write pupils >= 0.",
    ),
    Case(
        "demand-year-gap",
        "demand years with a hole",
        small(demand={"year": ["2026", "2028"]}),
        "demand.csv, column 'year': found demand years 2026-2028 missing 2027",
        "Give every year of the demand table's span.",
    ),
    Case(
        "attendance-grade-not-taught",
        "attendance at a school for a grade it does not teach",
        small(attendance={"year": ["2025"], "zone_id": ["B1"], "school_id": ["S1"], "grade": ["J1"], "pupils": ["30"]}),
        "attendance.csv, row 2, column 'grade': found J1 at school 'S1'; expected a grade that school teaches (P1-P6)",
        "Attendance rows name a grade the school teaches.",
    ),
    Case(
        "attendance-unknown-school",
        "attendance at a school that does not exist",
        small(attendance={"year": ["2025"], "zone_id": ["B1"], "school_id": ["S9"], "grade": ["P1"], "pupils": ["30"]}),
        "attendance.csv, row 2, column 'school_id': found 'S9', which is not in schools",
        "Use school_ids from schools.csv.",
    ),
    Case(
        "demand-file-bad-column",
        "a demand file for `capacity plan --demand` with a misnamed column",
        demand_file("year,zone,grade,pupils\n2026,U01,P1,40\n"),
        "demand.csv, row 1, column 'zone': found an unknown column 'zone' (did you mean 'zone_id'?)",
        "Name the columns year, zone_id, grade, pupils (the demand table of docs/data-format.md).",
    ),
    # merely unusual: accepted, with a note where useful
    Case(
        "demand-only-district",
        "no enrolment history, only demand by zone and schools with rated capacities",
        small(command="plan"),
        "no enrolment history, so the plan is for the years of the district's demand table (2026-2026)",
        "Accepted: the plan is for the demand table's years.",
        accept=True,
    ),
    Case(
        "capacity-near-classrooms",
        "a rated capacity within the tolerance of classrooms x room seats",
        small(schools={"classrooms": ["6", ""], "max_classrooms": ["8", "10"], "capacity": ["280", "80"]}, command="plan"),
        "'S1' states capacity 280 seats and 6 classrooms x 45 = 270; the seat gap and the plan use the rated 280",
        "Accepted with a note.",
        accept=True,
    ),
    Case(
        "gbk-encoding",
        "a CSV saved in GBK (Chinese Excel's default)",
        recode("zones", "gbk"),
        "zones.csv: read as GBK/GB18030",
        "Accepted; save as UTF-8 to be sure.",
        accept=True,
    ),
    Case("utf8-bom", "a CSV with a byte-order mark", recode("zones", "utf-8", bom=True), "OK:", "Accepted.", accept=True),
    Case("chinese-ids", "identifiers in Chinese", frame("zones", lambda f: f.assign(name="城区")), "OK:", "Accepted.", accept=True),
    Case(
        "extra-file",
        "an extra CSV in the folder",
        raw("notes_for_me", "a,b\n1,2\n"),
        "notes_for_me.csv: not a district table, ignored",
        "Accepted with a note.",
        accept=True,
    ),
    Case(
        "misnamed-table-file",
        "the enrolment file spelt the US way (enrollment.csv), so the history would be left out",
        lambda tmp: ["validate", str(_renamed(district(tmp), "enrolment.csv", "enrollment.csv"))],
        "found the file 'enrollment.csv', which looks like the table enrolment (no enrolment.csv is given); "
        "expected the file name 'enrolment.csv'",
        "Rename the file to the table's name (enrolment.csv).",
    ),
    Case(
        "misnamed-table-sheet",
        "a workbook sheet named 'project' (the decided projects would be left out)",
        workbook(lambda wb: setattr(wb["projects"], "title", "project")),
        "found the sheet 'project', which looks like the table projects (no sheet projects is given)",
        "Rename the sheet to the table's name (projects).",
    ),
    Case(
        "xlsx-extra-sheet",
        "an extra sheet in a workbook",
        workbook(extra_sheet),
        "district.xlsx[README]: not a district table, ignored",
        "Accepted with a note.",
        accept=True,
    ),
    # scenario files
    Case(
        "yaml-unknown-key",
        "a misspelt scenario key",
        scenario("extends: BASE\nplan:\n  time_limt_s: 5\n"),
        "line 3: unknown key 'plan.time_limt_s' (did you mean 'time_limit_s'?)",
        "Correct the key; see docs/scenario-reference.md.",
    ),
    Case(
        "entry-rule-unknown",
        "an entry rule that does not exist",
        scenario("extends: BASE\nprojection:\n  entry_rule: {P1: sometimes}\n"),
        "line 3: projection.entry_rule.P1: found 'sometimes'; expected one of births, held, trend, children",
        "Use births, held, trend or children.",
    ),
    Case(
        "entry-rule-not-entry-grade",
        "an entry rule for a grade that is not an entry grade",
        scenario("extends: BASE\nprojection:\n  entry_rule: {J1: held}\n"),
        "projection.entry_rule.J1: found 'J1'; expected an entry grade of entry_offsets (K1, P1)",
        "Give entry rules for entry grades only (add the grade to projection.entry_offsets first).",
    ),
    Case(
        "entry-rule-children-without-counts",
        "an entry grade projected from the children table, which has no counts",
        scenario("extends: BASE\nprojection:\n  entry_rule: {P1: children}\n", "project", ("--draws", "20", "--horizon", "2")),
        "P1 is projected from the children table (projection.entry_rule.P1: children), which has no count for zone 'R01' born in 2020",
        "Add children.csv counts for every zone and projected year, or choose births, held or trend.",
    ),
    Case(
        "rated-tolerance-out-of-range",
        "a capacity tolerance above 100 %",
        scenario("extends: BASE\nstandards:\n  rated_capacity_tolerance: 2\n"),
        "standards.rated_capacity_tolerance: found 2.0; expected a fraction from 0 to 1",
        "Write the tolerance as a fraction (0.1 = 10 %).",
    ),
    Case(
        "yaml-unknown-section",
        "a misspelt section",
        scenario("extends: BASE\nplna:\n  mip_gap: 0.01\n"),
        "unknown key 'plna' (did you mean 'plan'?)",
        "Correct the section name.",
    ),
    Case(
        "yaml-not-mapping",
        "a scenario that is a list",
        scenario("- horizon: 5\n"),
        "found a list; expected a mapping",
        "Write key: value lines.",
    ),
    Case(
        "yaml-syntax",
        "broken YAML",
        scenario("plan: {mip_gap: 0.1\n"),
        "not valid YAML",
        "Fix the brackets or indentation at the line given.",
    ),
    Case(
        "yaml-extends-itself",
        "a scenario that extends itself",
        scenario("extends: scenario.yaml\n"),
        "a scenario cannot extend itself",
        "Extend another file.",
    ),
    Case(
        "yaml-extends-missing",
        "extends a file that does not exist",
        scenario("extends: nowhere.yaml\n"),
        "extends: no such file",
        "Correct the file name (relative to this scenario).",
    ),
    Case(
        "yaml-wrong-type",
        "text where true/false is expected",
        scenario("extends: BASE\nplan:\n  allow_closures: sometimes\n"),
        "plan.allow_closures: found 'sometimes'; expected true or false",
        "Write true or false.",
    ),
    Case(
        "yaml-out-of-range",
        "a horizon beyond 20 years",
        scenario("extends: BASE\nhorizon: 30\n"),
        "horizon: found 30; expected 1 to 20 years",
        "Plan at most 20 years ahead.",
    ),
    Case(
        "yaml-class-size-zero",
        "an impossible class size",
        scenario("extends: BASE\nstandards:\n  class_size: {K1: 25, K2: 30, K3: 35, primary: 0, junior: 50, senior: 50}\n"),
        "standards.class_size.primary: found 0",
        "Class sizes are 1 or more.",
    ),
    Case(
        "yaml-travel-zero",
        "a travel limit of 0 km",
        scenario("extends: BASE\nplan:\n  travel_km: {kindergarten: 2, primary: 0, junior: 10, senior: 30}\n"),
        "plan.travel_km.primary: found 0",
        "Give every stage a distance above 0 km.",
    ),
    Case(
        "yaml-number-as-text",
        "2e7 written without a decimal point",
        scenario("extends: BASE\nplan:\n  budget_per_year: 2e7\n"),
        "YAML reads 2e7 as text: write it with a decimal point and a signed exponent, e.g. 2.0e+7",
        "Write 2.0e+7 or 20000000.",
    ),
    Case(
        "yaml-number-as-text-unsigned-exponent",
        "1.5e7 written with a decimal point but no sign on the exponent (YAML 1.1 reads it as text)",
        scenario("extends: BASE\nplan:\n  budget_per_year: 1.5e7\n"),
        "YAML reads 1.5e7 as text: write it with a decimal point and a signed exponent, e.g. 1.5e+7",
        "Write 1.5e+7 or 15000000.",
    ),
    Case("yaml-duplicate-key", "a key given twice", scenario("horizon: 5\nhorizon: 6\n"), "key 'horizon' is given twice", "Keep one."),
    Case(
        "yaml-unknown-override",
        "an override group that is not defined",
        scenario("extends: BASE\n", extra=("--override", "nope")),
        "override group 'nope' is not defined",
        "Use a group defined under overrides:.",
    ),
    Case(
        "yaml-override-conflict",
        "two override groups that set the same key",
        scenario("extends: BASE\n", extra=("--override", "high_births,low_births")),
        "both set projection.births_variant",
        "Apply one of them.",
    ),
    Case(
        "yaml-unsafe-tag",
        "a YAML tag that would construct an object",
        scenario("name: !!python/object/apply:os.system ['true']\n"),
        "not valid YAML",
        "Scenario files hold plain values only.",
    ),
    Case(
        "yaml-district-missing",
        "a scenario whose district does not exist",
        scenario("extends: BASE\ndistrict: no_such_folder\n"),
        "no_such_folder: found no such file or folder",
        "Correct the district path (relative to the scenario).",
    ),
    Case(
        "yaml-force-close-unknown",
        "forcing the closure of a school that does not exist",
        scenario("extends: BASE\nrun_plan: true\nhorizon: 2\nprojection: {draws: 20}\nplan:\n  force_close: [NOPE]\n"),
        "plan.force_close: found school 'NOPE'",
        "Use a school_id of the district.",
    ),
    Case(
        "yaml-not-utf8",
        "a scenario saved in another encoding",
        lambda tmp: (
            tmp.joinpath("scenario.yaml").write_bytes("name: 城区\n".encode("gbk")),
            ["run", str(tmp / "scenario.yaml"), "--out", str(tmp / "out")],
        )[1],
        "not UTF-8 text",
        "Save the scenario as UTF-8.",
    ),
]


# --- issue 13: never lose files, never crash, never accept nonsense ---------------------------------


def args(*parts):
    """A build that copies the district and returns the CLI arguments; DIST and TMP are substituted."""

    def build(tmp: Path) -> list[str]:
        d = district(tmp)
        return [str(p).replace("DIST", str(d)).replace("TMP", str(tmp)) for p in parts]

    return build


def then(build, fn):
    """Run ``fn(tmp)`` after ``build`` (to prepare files the command must leave alone)."""

    def b(tmp: Path) -> list[str]:
        out = build(tmp)
        fn(tmp)
        return out

    return b


def district_intact(tmp: Path) -> None:
    d = tmp / "district"
    for f in EXAMPLE_PATH.glob("*.csv"):
        assert (d / f.name).read_bytes() == f.read_bytes(), f"{f.name} was changed"
    assert sorted(p.name for p in d.iterdir()) == sorted(p.name for p in EXAMPLE_PATH.iterdir() if p.suffix == ".csv")


def user_file(folder: str, name: str = "notes.txt"):
    def fn(tmp: Path) -> None:
        (tmp / folder).mkdir(parents=True, exist_ok=True)
        (tmp / folder / name).write_text("the planner's own notes", encoding="utf-8")

    return fn


def user_file_intact(folder: str, name: str = "notes.txt"):
    def check(tmp: Path) -> None:
        assert (tmp / folder / name).read_text(encoding="utf-8") == "the planner's own notes"
        assert not list(tmp.glob(f".{folder}.tmp-*")), "temporary folder left behind"

    return check


def earlier_output_plus_user_file(tmp: Path) -> None:
    out = tmp / "mine"
    out.mkdir()
    (out / "projection.csv").write_text("year\n", encoding="utf-8")
    (out / ".capacity-output").write_text('{"tool": "capacity", "files": ["projection.csv"]}', encoding="utf-8")
    (out / "notes.txt").write_text("the planner's own notes", encoding="utf-8")


def fake_run(tmp: Path) -> None:
    r = tmp / "run1"
    r.mkdir()
    (r / "manifest.json").write_text("{}", encoding="utf-8")
    (r / ".capacity-output").write_text('{"tool": "capacity", "files": ["manifest.json"]}', encoding="utf-8")


def scenario_in(folder: str, text: str, command: str = "run", extra: tuple[str, ...] = ()):
    def build(tmp: Path) -> list[str]:
        d = district(tmp)
        (tmp / folder).mkdir(exist_ok=True)
        p = tmp / folder / "scenario.yaml"
        p.write_text(text.replace("BASE", str(BASE)).replace("DIST", str(d)), encoding="utf-8")
        return [command, str(p), *[x.replace("TMP", str(tmp)) for x in extra]]

    return build


def rename_id(old: str, new: str, command: tuple[str, ...]):
    """Replace one zone or school id in every table (ids with '/', very long ids)."""

    def build(tmp: Path) -> list[str]:
        d = district(tmp)
        for f in d.glob("*.csv"):
            t = pd.read_csv(f, dtype=str, keep_default_na=False)
            for c in ("zone_id", "school_id"):
                if c in t.columns:
                    t[c] = t[c].where(t[c] != old, new)
            t.to_csv(f, index=False, lineterminator="\n")
        return [x.replace("DIST", str(d)).replace("TMP", str(tmp)) for x in command]

    return build


def resep(table: str, sep: str):
    def build(tmp: Path) -> list[str]:
        d = district(tmp)
        p = d / f"{table}.csv"
        pd.read_csv(p, dtype=str, keep_default_na=False).to_csv(p, index=False, sep=sep, lineterminator="\n")
        return ["validate", str(d)]

    return build


def latin1_names(tmp: Path) -> list[str]:
    d = district(tmp)
    p = d / "zones.csv"
    f = pd.read_csv(p, dtype=str, keep_default_na=False)
    f["name"] = [f"Zürich-Süd {i}" if i % 2 else f"Müllerstraße {i}" for i in range(len(f))]
    p.write_bytes(f.to_csv(index=False, lineterminator="\n").encode("latin-1"))
    return ["validate", str(d)]


def folder_table(tmp: Path) -> list[str]:
    d = district(tmp)
    (d / "zones.csv").unlink()
    (d / "zones.csv").mkdir()
    return ["validate", str(d)]


def set_first(cond, **values):
    def fn(f):
        i = f.index[cond(f)][0]
        for k, v in values.items():
            f.loc[i, k] = v
        return f

    return fn


def all_closed(f):
    f["status"] = "closed"
    return f


def degrees(f):
    f["x_km"] = [f"{113.0 + 0.01 * i:.3f}" for i in range(len(f))]
    f["y_km"] = [f"{23.0 + 0.01 * i:.3f}" for i in range(len(f))]
    return f


def force_close_all(tmp: Path) -> list[str]:
    d = district(tmp)
    ids = pd.read_csv(d / "schools.csv", dtype=str).query("status == 'open'")["school_id"].tolist()
    p = tmp / "scenario.yaml"
    p.write_text(
        f"district: {d}\nhorizon: 2\nprojection: {{draws: 20}}\nplan:\n  allow_new_schools: false\n  force_close: [{', '.join(ids)}]\n",
        encoding="utf-8",
    )
    return ["plan", str(p), "--out", str(tmp / "out")]


def yaml_file(name: str, text: str, command: str = "run"):
    def build(tmp: Path) -> list[str]:
        p = tmp / name
        p.write_text(text, encoding="utf-8")
        return [command, str(p), "--out", str(tmp / "out")]

    return build


ALIAS_BOMB = "a: &a [1,1,1,1,1,1,1,1,1]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=False)
)
DEEP = "projection: " + "[" * 3000 + "]" * 3000 + "\n"
PROJ = ("--draws", "20", "--horizon", "2")

OUTPUT_CASES = [
    Case(
        "out-is-district",
        "--out pointing at the district folder itself",
        args("project", "DIST", *PROJ, "--out", "DIST"),
        "expected an output folder outside the district",
        "Write results to a folder of their own, e.g. runs/projection.",
        klass="outputs",
        check=district_intact,
    ),
    Case(
        "out-inside-district",
        "--out inside the district folder",
        args("gap", "DIST", "--out", "DIST/results"),
        "expected an output folder outside the district",
        "Keep results outside the district folder.",
        klass="outputs",
        check=district_intact,
    ),
    Case(
        "out-contains-district",
        "--out pointing at the folder that holds the district",
        args("backtest", "DIST", "--out", "TMP"),
        "expected an output folder outside the district",
        "Choose a new folder for the results.",
        klass="outputs",
        check=district_intact,
    ),
    Case(
        "out-foreign-folder",
        "--out pointing at a folder that holds the planner's own files",
        then(args("project", "DIST", *PROJ, "--out", "TMP/mine"), user_file("mine")),
        "found a non-empty folder that is not an earlier capacity output",
        "Choose a new or empty folder; capacity replaces only its own earlier output.",
        klass="outputs",
        check=user_file_intact("mine"),
    ),
    Case(
        "out-earlier-output-with-user-file",
        "an earlier capacity output to which the planner added a file",
        then(args("project", "DIST", *PROJ, "--out", "TMP/mine"), earlier_output_plus_user_file),
        "found files capacity did not write (notes.txt)",
        "Move your own files out of the output folder first.",
        klass="outputs",
        check=user_file_intact("mine"),
    ),
    Case(
        "out-is-a-file",
        "--out naming an existing file",
        then(args("gap", "DIST", "--out", "TMP/mine"), lambda tmp: (tmp / "mine").write_text("keep", encoding="utf-8")),
        "is a file",
        "Name a folder.",
        klass="outputs",
        check=lambda tmp: (tmp / "mine").read_text(encoding="utf-8") == "keep" or (_ for _ in ()).throw(AssertionError("file changed")),
    ),
    Case(
        "out-plan-around-district",
        "plan --out pointing at the working folder that holds the district",
        args("plan", "DIST", "--horizon", "2", "--out", "TMP"),
        "expected an output folder outside the district",
        "Give the plan its own folder.",
        klass="outputs",
        check=district_intact,
    ),
    Case(
        "out-holds-scenario",
        "run --out pointing at the folder that holds the scenario",
        scenario_in("cfg", "extends: BASE\nname: ok\n", extra=("--out", "TMP/cfg")),
        "expected an output folder that does not hold the scenario",
        "Write runs next to the scenario, not over it.",
        klass="outputs",
        check=lambda tmp: (tmp / "cfg" / "scenario.yaml").exists() or (_ for _ in ()).throw(AssertionError("scenario deleted")),
    ),
    Case(
        "out-compare-over-run",
        "compare --out pointing at one of the runs it compares",
        then(lambda tmp: ["compare", str(tmp / "run1"), "--out", str(tmp / "run1")], fake_run),
        "found the input",
        "Write the comparison to its own folder.",
        klass="outputs",
        check=lambda tmp: (tmp / "run1" / "manifest.json").exists() or (_ for _ in ()).throw(AssertionError("run deleted")),
    ),
    Case(
        "name-dotdot",
        "a scenario named '..' (runs/.. is the working folder)",
        scenario("extends: BASE\nname: '..'\n"),
        "name: found '..'; expected a folder name",
        "Give the scenario a plain name such as base-2025.",
        klass="outputs",
    ),
    Case(
        "name-empty",
        "a scenario with an empty name (runs/ itself)",
        scenario("extends: BASE\nname: ''\n"),
        "name: found ''; expected a folder name",
        "Give the scenario a name.",
        klass="outputs",
    ),
    Case(
        "name-slash",
        "a scenario name with a slash",
        scenario("extends: BASE\nname: ../../etc\n"),
        "expected a safe folder name",
        "Use letters, digits, - and _.",
        klass="outputs",
    ),
    Case(
        "name-control",
        "a scenario name with a tab",
        scenario('extends: BASE\nname: "a\\tb"\n'),
        "expected a safe folder name",
        "Remove control characters from the name.",
        klass="outputs",
    ),
]


def sweep_into_district(tmp: Path) -> list[str]:
    d = district(tmp)
    (tmp / "s.yaml").write_text(f"name: s\ndistrict: {d}\nrun_plan: false\nhorizon: 2\nprojection: {{draws: 20}}\n", encoding="utf-8")
    (tmp / "sweep.yaml").write_text(f"name: sw\nscenarios: [s.yaml]\nout: {d}\n", encoding="utf-8")
    return ["sweep", str(tmp / "sweep.yaml"), "--serial"]


OUTPUT_CASES += [
    Case(
        "failed-run-leaves-no-folders",
        "a run into a new nested folder that fails on its input",
        scenario_in("cfg", "name: x\ndistrict: nowhere\n", extra=("--out", "TMP/a/b/c")),
        "found no such file or folder",
        "Fix the district path; nothing was created.",
        klass="outputs",
        check=lambda tmp: not (tmp / "a").exists() or (_ for _ in ()).throw(AssertionError("empty folders left behind")),
    ),
    Case(
        "sweep-out-is-district",
        "a sweep whose output folder is the district",
        sweep_into_district,
        "expected an output folder outside the district",
        "Give the sweep its own folder.",
        klass="outputs",
        check=district_intact,
    ),
]

SETTINGS_CASES = [
    Case(
        "inf-shrinkage",
        "an infinite shrinkage constant",
        scenario("extends: BASE\nprojection:\n  shrinkage_pupils: .inf\n"),
        "line 3: projection.shrinkage_pupils: found inf; expected a finite number",
        "Use a number such as 20.",
        klass="settings",
    ),
    Case(
        "inf-migration",
        "an infinite net migration for a zone",
        scenario("extends: BASE\nprojection:\n  net_migration: {U01: .inf}\n"),
        "projection.net_migration.U01: found inf; expected a finite number",
        "Give pupils gained per year.",
        klass="settings",
    ),
    Case(
        "nan-detour",
        "a detour factor of .nan",
        scenario("extends: BASE\nplan:\n  detour_factor: .nan\n"),
        "plan.detour_factor: found nan; expected a finite number",
        "Use a factor such as 1.3.",
        klass="settings",
    ),
    Case(
        "inf-penalty",
        "an infinite unmet-pupil penalty",
        scenario("extends: BASE\nplan:\n  unmet_penalty: .inf\n"),
        "plan.unmet_penalty: found inf; expected a finite number",
        "Use a large finite cost.",
        klass="settings",
    ),
    Case(
        "negative-size-cap",
        "a negative school-size cap",
        scenario("extends: BASE\nstandards:\n  max_school_size: {single: -100, multi: 2500}\n"),
        "standards.max_school_size.single: found -100; expected a whole number >= 0",
        "Give caps in pupils.",
        klass="settings",
    ),
    Case(
        "class-size-in-old-section",
        "a class size written under plan: (its one home is standards:)",
        scenario("extends: BASE\nplan:\n  class_size: {primary: 40}\n"),
        "plan.class_size: this figure has one home, read by both the gap and the plan; did you mean standards.class_size?",
        "Move class_size, cost_per_classroom and max_school_size to the top-level standards: section.",
        klass="settings",
    ),
    Case(
        "negative-teacher-ratio",
        "a negative pupil-teacher ratio",
        scenario("extends: BASE\ngap:\n  pupils_per_teacher: {kindergarten: 15, primary: -19, junior: 13.5, senior: 12.5}\n"),
        "gap.pupils_per_teacher.primary: found -19.0; expected a number >= 0",
        "Give ratios above 0.",
        klass="settings",
    ),
    Case(
        "duplicate-quantiles",
        "the same quantile twice",
        scenario("extends: BASE\nprojection:\n  quantiles: [0.1, 0.1, 0.9]\n"),
        "projection.quantiles: found [0.1, 0.1, 0.9]; expected distinct values",
        "List each quantile once.",
        klass="settings",
    ),
    Case(
        "duplicate-quantiles-cli",
        "the same quantile twice on the command line",
        args("project", "DIST", "--quantiles", "0.9,0.9", "--out", "TMP/out"),
        "expected distinct values",
        "List each quantile once.",
        klass="settings",
    ),
    Case(
        "overlapping-bands",
        "class-size bands that overlap",
        scenario("extends: BASE\ngap:\n  bands: {'46-60': [46, 60], '56-65 large': [56, 65], '66+': [66, null]}\n"),
        "expected bands that do not overlap",
        "Make each band start above the previous one's highest size.",
        klass="settings",
    ),
    Case(
        "unknown-solver-option",
        "a misspelt HiGHS option",
        scenario("extends: BASE\nplan:\n  solver_options: {mip_max_nodez: 5}\n"),
        "plan.solver_options.mip_max_nodez: found an option HiGHS does not know",
        "Use a HiGHS option name (see the HiGHS docs).",
        klass="settings",
    ),
    Case(
        "bad-solver-option-value",
        "a HiGHS option with an impossible value",
        scenario("extends: BASE\nplan:\n  solver_options: {mip_max_nodes: -5}\n"),
        "plan.solver_options.mip_max_nodes: found -5",
        "Give a value HiGHS accepts.",
        klass="settings",
    ),
    Case(
        "solver-option-cbc",
        "HiGHS options with the CBC solver (they would be ignored)",
        scenario("extends: BASE\nplan:\n  solver: cbc\n  solver_options: {mip_max_nodes: 5}\n"),
        "expected no options with solver cbc",
        "Drop solver_options or use HiGHS.",
        klass="settings",
    ),
    Case(
        "text-deep-in-settings",
        "text where a number belongs two levels down",
        scenario("extends: BASE\nprojection:\n  housing_yield: {commodity: {primary: lots}}\n"),
        "projection.housing_yield.commodity.primary: found 'lots'",
        "Give pupils per dwelling as a number.",
        klass="settings",
    ),
    Case(
        "policy-year-as-text",
        "a policy check whose start year is text",
        scenario("extends: BASE\ngap:\n  policy_checks: [{grades: [P1], from: soon}]\n"),
        "gap.policy_checks",
        "Write the year, e.g. from: 2027.",
        klass="settings",
    ),
    Case(
        "several-mistakes",
        "three mistakes in one scenario",
        scenario("extends: BASE\nhorizon: 0\nprojection:\n  draws: 5\nplan:\n  mip_gap: 2\n"),
        "3 problems in the scenario",
        "Fix every listed line.",
        klass="settings",
    ),
    Case(
        "override-line",
        "a bad value inside an override group",
        scenario("extends: BASE\noverrides:\n  bad:\n    plan:\n      budget_per_year: -5\n", extra=("--override", "bad")),
        "line 5: plan.budget_per_year: found -5.0; expected a number >= 0",
        "Fix the value in the override group.",
        klass="settings",
    ),
    Case(
        "negative-seed",
        "a negative random seed",
        scenario("extends: BASE\nprojection:\n  seed: -4\n"),
        "projection.seed: found -4; expected a whole number >= 0",
        "Use a seed of 0 or more.",
        klass="settings",
    ),
    Case(
        "negative-draws-cli",
        "a negative number of draws on the command line",
        args("project", "DIST", "--draws", "-5"),
        "projection.draws: found -5",
        "Use 10 or more draws.",
        klass="settings",
    ),
    Case(
        "window-longer-than-history",
        "a ratio window longer than the history",
        args("project", "DIST", *PROJ, "--window", "20"),
        "projection.window: found 20 years; the history 2013-2025 has 13",
        "Accepted with a note: the whole history is used.",
        accept=True,
        klass="settings",
    ),
    Case(
        "births-base-years-beyond-births",
        "more births base years than the births table holds",
        scenario_in("cfg", "district: DIST\nhorizon: 2\nprojection:\n  draws: 20\n  births_base_years: 40\n", command="project"),
        "projection.births_base_years: found 40",
        "Accepted with a note: every known birth year is used.",
        accept=True,
        klass="settings",
    ),
    Case(
        "leads-beyond-backtest",
        "a horizon longer than the back-test can calibrate",
        args("project", "DIST", "--draws", "20", "--horizon", "12"),
        "use the spread factor of lead",
        "Accepted with a note: later leads reuse the last calibrated spread.",
        accept=True,
        klass="settings",
    ),
]


def sweep_with_text_seed(tmp: Path) -> list[str]:
    (tmp / "s.yaml").write_text("name: s\nrun_plan: false\nhorizon: 2\nprojection: {draws: 20}\n", encoding="utf-8")
    (tmp / "sweep.yaml").write_text(f"name: sw\nscenarios: [s.yaml]\nseeds: [1, two]\nout: {tmp / 'out'}\n", encoding="utf-8")
    return ["sweep", str(tmp / "sweep.yaml"), "--serial"]


SETTINGS_CASES += [
    Case(
        "section-as-list",
        "a settings section written as a list",
        scenario("extends: BASE\nplan: []\n"),
        "plan: found []; expected a mapping of settings",
        "Write the section as key: value lines.",
        klass="settings",
    ),
    Case(
        "sweep-seed-text",
        "a sweep seed written as a word",
        sweep_with_text_seed,
        "seeds: found 'two'; expected a list of whole numbers >= 0",
        "Write seeds as numbers.",
        klass="settings",
    ),
    Case(
        "unknown-build-sector",
        "a misspelt sector the bureau may extend (no school would be buildable)",
        scenario_in("cfg", "district: DIST\nhorizon: 2\nprojection: {draws: 20}\nplan:\n  build_sectors: [publik]\n", command="plan"),
        "plan.build_sectors: found 'publik'; expected sectors among private, public",
        "Use public and/or private.",
        klass="settings",
    ),
    Case(
        "several-plan-mistakes",
        "a misspelt sector and an unknown school in one plan",
        scenario_in(
            "cfg",
            "district: DIST\nhorizon: 2\nprojection: {draws: 20}\nplan:\n  build_sectors: [publik]\n  forbid_close: [NOPE]\n",
            command="plan",
        ),
        "plan.forbid_close: found school 'NOPE'",
        "Fix every listed setting.",
        klass="settings",
    ),
]

PLAUSIBILITY_CASES = [
    Case(
        "project-stage-not-taught",
        "a project adding senior-high rooms to a primary school",
        frame("projects", set_first(lambda f: f["school_id"] == "U03-P1", stage="senior")),
        "found senior at school 'U03-P1'; expected a stage the school teaches",
        "Give the stage the rooms serve, or the right school.",
        klass="plausibility",
    ),
    Case(
        "project-in-history",
        "a project completed inside the history (its rooms are already counted)",
        frame("projects", set_first(lambda f: f["school_id"] == "U03-P1", completion_year="2015")),
        "inside the history 2013-2025",
        "Drop finished projects; their rooms are in schools.classrooms.",
        klass="plausibility",
    ),
    Case(
        "project-beyond-site",
        "a project adding more rooms than the site can hold",
        frame("projects", set_first(lambda f: f["school_id"] == "U03-P1", classrooms="900")),
        "classrooms + projects <= the school's max_classrooms",
        "Raise max_classrooms if the site allows, or correct the project.",
        klass="plausibility",
    ),
    Case(
        "candidate-with-classrooms",
        "a candidate site that already has classrooms",
        frame("schools", set_first(lambda f: f["status"] == "candidate", classrooms="12", max_classrooms="40")),
        "a candidate site; expected 0 classrooms",
        "Set classrooms to 0 (or status open if it is running).",
        klass="plausibility",
    ),
    Case(
        "coordinates-in-metres",
        "zone coordinates in metres in the km columns",
        frame(
            "zones",
            lambda f: f.assign(x_km=(f["x_km"].astype(float) * 1000).astype(str), y_km=(f["y_km"].astype(float) * 1000).astype(str)),
        ),
        "(they look like metres)",
        "Divide metres by 1000.",
        klass="plausibility",
    ),
    Case(
        "control-character-in-name",
        "a school name with a control character (bell)",
        frame("schools", set_first(lambda f: f.index == 0, name="城东\x07小学")),
        "control characters in",
        "Retype the name.",
        klass="plausibility",
    ),
    Case(
        "open-school-without-last-year",
        "an open school with no pupils in the last history year",
        drop_rows("enrolment", lambda f: (f["school_id"] == "U01-P1") & (f["year"] == "2025")),
        "warning: schools.csv, row 2: open school 'U01-P1' has no pupils in 2025",
        "Warning: add its enrolment or change its status.",
        accept=True,
        klass="plausibility",
    ),
    Case(
        "zero-births-with-pupils",
        "a zone with zero births every year but pupils at its schools",
        frame("births", lambda f: f.assign(births=f["births"].where(f["zone_id"] != "R01", "0"))),
        "warning: births.csv: zone 'R01' has 0 births in every year",
        "Warning: give the zone's births.",
        accept=True,
        klass="plausibility",
    ),
    Case(
        "zero-births-one-year",
        "one year of births typed as 0 in a zone with hundreds of births",
        frame("births", set_first(lambda f: (f["zone_id"] == "U01") & (f["year"] == "2020"), births="0")),
        "0 births in 2020 for zone 'U01'",
        "Warning: give the year's count.",
        accept=True,
        klass="plausibility",
    ),
    Case(
        "implausible-grade-size",
        "40,000 pupils in one grade of one school",
        frame("enrolment", set_first(lambda f: f.index == 0, pupils="40000")),
        "warning: enrolment.csv, row 2: 40,000 pupils",
        "Warning: check for a typo.",
        accept=True,
        klass="plausibility",
    ),
    Case(
        "coordinates-in-degrees",
        "zone coordinates that look like longitude/latitude",
        frame("zones", degrees),
        "they look like degrees",
        "Warning: project the coordinates to km.",
        accept=True,
        klass="plausibility",
    ),
]


def pipe_table(tmp: Path) -> list[str]:
    import os

    d = district(tmp)
    (d / "births.csv").unlink()
    os.mkfifo(d / "births.csv")
    return ["validate", str(d)]


CRASH_CASES = [
    Case(
        "time-limit-too-short",
        "a solver time limit too short to find any plan",
        scenario_in(
            "cfg",
            "district: DIST\nhorizon: 2\nprojection: {draws: 20}\nplan:\n  strategy: direct\n  time_limit_s: 0.001\n",
            command="plan",
            extra=("--out", "TMP/out"),
        ),
        "was too short to find any plan",
        "Raise plan.time_limit_s.",
        klass="crash",
    ),
    Case(
        "table-is-a-pipe",
        "births.csv is a named pipe (reading it would hang)",
        pipe_table,
        "found a special file (pipe or device)",
        "Put the table's CSV file there.",
        klass="crash",
    ),
    Case(
        "table-is-a-folder",
        "zones.csv is a folder",
        folder_table,
        "zones.csv: found a folder; expected the table 'zones' as a CSV file",
        "Put the table's CSV file there.",
        klass="crash",
    ),
    Case(
        "scenario-is-a-folder",
        "the scenario argument is a folder ending in .yaml",
        lambda tmp: (tmp.joinpath("s.yaml").mkdir(), ["run", str(tmp / "s.yaml"), "--out", str(tmp / "out")])[1],
        "found a folder; expected a scenario file",
        "Name the scenario file.",
        klass="crash",
    ),
    Case(
        "extends-a-folder",
        "extends naming a folder",
        lambda tmp: (tmp.joinpath("base").mkdir(), scenario("extends: base\n")(tmp))[1],
        "extends: found the folder",
        "Name the base scenario file.",
        klass="crash",
    ),
    Case(
        "every-school-closed",
        "every school has status closed",
        frame("schools", all_closed),
        "whose status is closed",
        "Mark running schools open.",
        klass="crash",
    ),
    Case(
        "force-close-everything",
        "a plan forced to close every school with no new schools allowed",
        force_close_all,
        "found every school",
        "Leave at least one school open or allow new schools.",
        klass="crash",
    ),
    Case(
        "yaml-alias-bomb",
        "a scenario that expands to billions of values through aliases",
        yaml_file("bomb.yaml", ALIAS_BOMB),
        "alias bomb is refused",
        "Write plain settings.",
        klass="crash",
    ),
    Case(
        "yaml-deep-nesting",
        "a scenario nested thousands of levels deep",
        yaml_file("deep.yaml", DEEP),
        "nested more than 30 levels deep",
        "Write plain settings.",
        klass="crash",
    ),
    Case(
        "backtest-target-outside-history",
        "a back-test target year before the history",
        args("backtest", "DIST", "--last-target", "1990", "--out", "TMP/out"),
        "--last-target: found 1990; expected a history year from",
        "Choose a year inside the history.",
        klass="crash",
    ),
    Case(
        "backtest-window-too-long",
        "a back-test window longer than the history allows",
        args("backtest", "DIST", "--window", "25", "--out", "TMP/out"),
        "--window: found 25; expected at most 11",
        "Use a shorter window.",
        klass="crash",
    ),
    Case(
        "negative-robust",
        "a negative robust draw count",
        args("plan", "DIST", "--horizon", "2", "--robust", "-3", "--out", "TMP/out"),
        "--robust",
        "Give 1 or more draws.",
        klass="crash",
    ),
    Case(
        "slash-in-zone-id",
        "a zone id with a slash, used in chart file names",
        rename_id("U01", "U/01", ("project", "DIST", *PROJ, "--out", "TMP/res")),
        "Wrote",
        "Accepted: chart file names replace unsafe characters.",
        accept=True,
        klass="crash",
    ),
    Case(
        "very-long-zone-id",
        "a 300-character zone id, used in chart file names",
        rename_id("U01", "U" * 300, ("project", "DIST", *PROJ, "--out", "TMP/res")),
        "Wrote",
        "Accepted: long chart file names are shortened with a hash.",
        accept=True,
        klass="crash",
    ),
]

OUTPUT_SAFETY_CASES = [
    Case(
        "semicolon-csv",
        "a CSV saved with semicolons (European Excel)",
        resep("zones", ";"),
        "found columns separated by semicolons",
        "Save as 'CSV UTF-8 (comma delimited)'.",
        klass="output-safety",
    ),
    Case(
        "tab-csv",
        "a CSV saved with tabs",
        resep("schools", "\t"),
        "found columns separated by tabs",
        "Save as 'CSV UTF-8 (comma delimited)'.",
        klass="output-safety",
    ),
    Case(
        "header-case",
        "a header that differs only in case",
        frame("schools", lambda f: f.rename(columns={"school_id": "School_ID"})),
        "differs from 'school_id' only in case",
        "Write the column names in lower case as documented.",
        klass="output-safety",
    ),
    Case(
        "latin1-encoding",
        "a CSV saved in Latin-1 with accented Western names",
        latin1_names,
        "zones.csv: read as Windows-1252",
        "Accepted with a note; save as UTF-8 to be sure.",
        accept=True,
        klass="output-safety",
    ),
    Case(
        "utf16-encoding",
        "a CSV saved as UTF-16 (Excel's 'Unicode text')",
        recode("zones", "utf-16"),
        "zones.csv: read as UTF-16",
        "Accepted with a note; save as UTF-8 to be sure.",
        accept=True,
        klass="output-safety",
    ),
    Case(
        "formula-like-names",
        "school names starting with = + - @",
        frame("schools", set_first(lambda f: f.index == 0, name='=HYPERLINK("http://x")')),
        "OK:",
        "Accepted: written to workbooks as text, never as a live formula.",
        accept=True,
        klass="output-safety",
    ),
]


def rename_file(tmp: Path) -> list[str]:
    d = district(tmp)
    (d / "zones.csv").rename(d / "Zones.csv")
    return ["validate", str(d)]


def rename_sheet(wb):
    ws = wb["schools"]
    ws.title = "renamed"  # openpyxl would call it Schools1 if renamed in one step
    ws.title = "Schools"


OUTPUT_SAFETY_CASES += [
    Case(
        "file-name-case",
        "Zones.csv instead of zones.csv",
        rename_file,
        "found the file 'Zones.csv', named in another case; expected the file name 'zones.csv'",
        "Rename the file in lower case.",
        klass="output-safety",
    ),
    Case(
        "sheet-name-case",
        "a workbook sheet 'Schools' instead of 'schools'",
        workbook(rename_sheet),
        "found the sheet 'Schools', named in another case",
        "Rename the sheet in lower case.",
        klass="output-safety",
    ),
]


def rerun_gives_same_bytes(first: str, second: str):
    """Run the case's command again into ``second`` and compare every file with ``first`` (manifest timings aside)."""

    def check(tmp: Path) -> None:
        import json

        from capacity.cli import main

        args = [a.replace(str(tmp / first), str(tmp / second)) for a in LAST_ARGS[-1]]
        try:
            main(args)
        except SystemExit as e:
            assert not e.code, e.code
        a_files = sorted(p.relative_to(tmp / first) for p in (tmp / first).rglob("*") if p.is_file())
        assert a_files == sorted(p.relative_to(tmp / second) for p in (tmp / second).rglob("*") if p.is_file())
        for f in a_files:
            x, y = (tmp / first / f).read_bytes(), (tmp / second / f).read_bytes()
            if f.name == "manifest.json":
                x, y = ({k: v for k, v in json.loads(b).items() if k != "timings_s"} for b in (x, y))
            assert x == y, f"{f} differs between two equal runs"

    return check


LAST_ARGS: list[list[str]] = []


def remember(build):
    def b(tmp: Path) -> list[str]:
        out = build(tmp)
        LAST_ARGS.append(out)
        return out

    return b


REPRODUCIBILITY_CASES = [
    Case(
        "gap-twice-same-bytes",
        "the same gap report written twice (budget_request.xlsx included)",
        remember(args("gap", "DIST", "--horizon", "2", "--out", "TMP/res")),
        "Wrote",
        "Accepted: equal inputs give byte-identical files; only manifest timings differ.",
        accept=True,
        klass="reproducibility",
        check=rerun_gives_same_bytes("res", "res2"),
    ),
    Case(
        "plan-node-limit-same-bytes",
        "a plan stopped by a node limit (not the clock), solved twice",
        remember(
            scenario_in(
                "cfg",
                "district: DIST\nhorizon: 2\nprojection: {draws: 20}\nplan:\n  strategy: direct\n  time_limit_s: 600\n"
                "  mip_gap: 0.0\n  solver_options: {mip_max_nodes: 20}\n",
                command="plan",
                extra=("--out", "TMP/res"),
            )
        ),
        "Wrote",
        "Accepted: a work limit stops the solver at the same point every time (summary.json says reproducible: true).",
        accept=True,
        klass="reproducibility",
        check=rerun_gives_same_bytes("res", "res2"),
    ),
]

CASES += OUTPUT_CASES + SETTINGS_CASES + PLAUSIBILITY_CASES + CRASH_CASES + OUTPUT_SAFETY_CASES + REPRODUCIBILITY_CASES


# Geography (issue 14.6): lon/lat coordinates and GIS layers in place of zones.csv / schools.csv.


def lonlat(tmp: Path) -> Path:
    """The example district with lon/lat (degrees near 113.3 E, 23.1 N) in place of x_km/y_km."""
    d = district(tmp)
    for table in ("zones", "schools"):
        p = d / f"{table}.csv"
        f = pd.read_csv(p, dtype=str, keep_default_na=False)
        lon = [f"{113.0 + float(x) / 102.4:.6f}" for x in f["x_km"]]
        lat = [f"{22.8 + float(y) / 110.8:.6f}" for y in f["y_km"]]
        f.drop(columns=["x_km", "y_km"]).assign(lon=lon, lat=lat).to_csv(p, index=False, lineterminator="\n")
    return d


def lonlat_then(table: str, fn):
    def build(tmp: Path) -> list[str]:
        d = lonlat(tmp)
        p = d / f"{table}.csv"
        fn(pd.read_csv(p, dtype=str, keep_default_na=False)).to_csv(p, index=False, lineterminator="\n")
        return ["validate", str(d)]

    return build


def gis(fn=None, table: str = "zones"):
    """Zones as 2-km squares in zones.gpkg and schools as points in schools.geojson; ``fn`` edits one layer."""

    def build(tmp: Path) -> list[str]:
        import geopandas as gpd
        from shapely.geometry import Point, box

        d = lonlat(tmp)
        z = pd.read_csv(d / "zones.csv", dtype=str, keep_default_na=False)
        s = pd.read_csv(d / "schools.csv", dtype=str, keep_default_na=False)
        layers = {
            "zones": gpd.GeoDataFrame(
                z.drop(columns=["lon", "lat"]),
                geometry=[
                    box(float(a) - 0.01, float(b) - 0.01, float(a) + 0.01, float(b) + 0.01) for a, b in zip(z["lon"], z["lat"], strict=True)
                ],
                crs=4326,
            ),
            "schools": gpd.GeoDataFrame(
                s.drop(columns=["lon", "lat"]),
                geometry=[Point(float(a), float(b)) for a, b in zip(s["lon"], s["lat"], strict=True)],
                crs=4326,
            ),
        }
        if fn is not None:
            layers[table] = fn(layers[table])
        (d / "zones.csv").unlink()
        (d / "schools.csv").unlink()
        layers["zones"].to_file(d / "zones.gpkg", engine="pyogrio")
        layers["schools"].to_file(d / "schools.geojson", engine="pyogrio")
        return ["validate", str(d)]

    return build


def bowtie(g):
    from shapely.geometry import Polygon

    g.loc[1, "geometry"] = Polygon([(113.0, 23.0), (113.1, 23.1), (113.1, 23.0), (113.0, 23.1)])
    return g


def first_school_polygon(g):
    g.loc[0, "geometry"] = g.geometry.iloc[0].buffer(0.01)
    return g


GEO_CASES = [
    Case(
        "lonlat-accepted",
        "coordinates as longitude/latitude instead of km",
        lambda tmp: ["validate", str(lonlat(tmp))],
        "OK:",
        "Accepted: converted to km on an azimuthal equidistant grid centred on the district (the note states the largest distance error).",
        accept=True,
    ),
    Case(
        "lonlat-blank",
        "a zone without latitude",
        lonlat_then("zones", lambda f: f.assign(lat=f["lat"].where(f.index != 2, ""))),
        "zones.csv, row 4, column 'lat': found a blank cell; expected degrees",
        "Give every zone and school both lon and lat.",
    ),
    Case(
        "lonlat-out-of-range",
        "a longitude beyond 180 degrees (e.g. easting in metres in the lon column)",
        lonlat_then("schools", lambda f: f.assign(lon=f["lon"].where(f.index != 0, "500123"))),
        "column 'lon': found '500123'; expected a finite number from -180 to 180",
        "Write degrees of longitude (WGS 84), or use x_km/y_km for a projected grid.",
    ),
    Case(
        "coordinates-two-pairs",
        "zones in lon/lat but schools in km",
        lonlat_then("schools", lambda f: f.drop(columns=["lon", "lat"]).assign(x_km="1", y_km="2")),
        "schools.csv, row 1, column 'x_km': found x_km/y_km while zones.csv gives lon/lat",
        "Use the same pair of coordinate columns in zones and schools.",
    ),
    Case(
        "coordinates-both-in-one-table",
        "both x_km/y_km and lon/lat filled in one table",
        frame("zones", lambda f: f.assign(lon="113.2", lat="23.1")),
        "zones.csv, row 1, column 'lon': found both x_km/y_km and lon/lat columns",
        "Keep one pair of coordinate columns.",
    ),
    Case(
        "coordinates-missing",
        "a table with neither x_km/y_km nor lon/lat",
        frame("schools", lambda f: f.drop(columns=["x_km", "y_km"])),
        "schools.csv, row 1, column 'x_km': found no such column; expected columns x_km and y_km",
        "Add x_km and y_km, or lon and lat.",
    ),
    Case(
        "gis-accepted",
        "zones as polygons in zones.gpkg and schools as points in schools.geojson",
        gis(),
        "OK:",
        "Accepted: attributes as in the CSVs; centres from the polygons (docs/data-format.md, Coordinates and GIS files).",
        accept=True,
    ),
    Case(
        "gis-no-crs",
        "a GeoPackage layer without a coordinate reference system",
        gis(lambda g: g.set_crs(None, allow_override=True)),
        "zones.gpkg[zones]: found no coordinate reference system; expected a layer with a CRS",
        "Set the layer's CRS in QGIS (Layer Properties > Source) and save again.",
    ),
    Case(
        "gis-invalid-polygon",
        "a self-intersecting (bow-tie) zone polygon",
        gis(bowtie),
        "zones.gpkg[zones], row 2, column 'geometry': found an invalid Polygon (Self-intersection",
        "Repair it (QGIS: Processing > Fix geometries).",
    ),
    Case(
        "gis-wrong-geometry",
        "a school drawn as a polygon",
        gis(first_school_polygon, table="schools"),
        "schools.geojson, row 1, column 'geometry': found a Polygon; expected a Point",
        "Draw schools as points (QGIS: Centroids).",
    ),
    Case(
        "gis-and-csv",
        "both zones.csv and zones.gpkg in the folder",
        then(gis(), lambda tmp: (tmp / "district" / "zones.csv").write_text("zone_id\n", encoding="utf-8")),
        "found the files zones.csv and zones.gpkg; expected one file for the table 'zones'",
        "Keep one file per table.",
    ),
    Case(
        "gis-unreadable",
        "a schools.geojson that is not GeoJSON",
        then(gis(), lambda tmp: (tmp / "district" / "schools.geojson").write_text("{not json", encoding="utf-8")),
        "schools.geojson: found a file GDAL cannot open",
        "Export the layer again as GeoJSON or GeoPackage.",
    ),
]


def projected_metres_as_geojson(g):
    """The zones' squares in Web Mercator metres written as if they were GeoJSON degrees."""
    return g.to_crs(3857).set_crs(4326, allow_override=True)


def wrong_crs(g):
    """Degree coordinates labelled as Web Mercator metres (the layer's CRS does not match its coordinates)."""
    return g.set_crs(3857, allow_override=True)


GEO_CASES += [
    Case(
        "gis-projected-metres-as-degrees",
        "a zone layer of projected metres labelled WGS 84 degrees (as a GeoJSON, WGS 84 by definition, written in metres)",
        gis(projected_metres_as_geojson),
        "zones.gpkg[zones], row 1, column 'geometry': found longitude 1.2",
        "Export the layer with CRS EPSG:4326 (QGIS: Export > Save Features As).",
        klass="crash",
    ),
    Case(
        "gis-crs-does-not-match",
        "a zone layer whose stated CRS (metres) does not match its coordinates (degrees): zones land thousands of km from the schools",
        gis(wrong_crs),
        "km from the district's centre",
        "Set the layer's true CRS (QGIS: Layer Properties > Source), or reproject it, and export again.",
    ),
    Case(
        "plan-open-exactly-not-whole",
        "a fractional number of schools to open",
        scenario("extends: BASE\nplan:\n  open_exactly: 2.5\n"),
        "line 3: plan.open_exactly: found 2.5; expected a whole number or null",
        "Give a whole number of schools (or null for no count).",
    ),
    Case(
        "plan-open-exactly-zero",
        "no school to open",
        scenario("extends: BASE\nplan:\n  open_exactly: 0\n"),
        "plan.open_exactly: found 0; expected a whole number of schools >= 1, or null",
        "Give at least one school (or null for no count).",
    ),
    Case(
        "plan-zone-whole-not-bool",
        "zone_whole given as text",
        scenario("extends: BASE\nplan:\n  zone_whole: sometimes\n"),
        "plan.zone_whole",
        "Write true or false.",
    ),
    Case(
        "plan-open-exactly-impossible",
        "more schools to open than the district has schools and sites",
        scenario("extends: BASE\nhorizon: 1\nprojection: {draws: 20}\nplan:\n  open_exactly: 5000\n"),
        "plan.open_exactly: found 5000; expected a number of schools that can be open",
        "Count the open schools and candidate sites (new_school_lead_years delays candidates).",
    ),
]

CASES += GEO_CASES


GRADE_CASES = [
    Case(
        "grade-system-unknown",
        "district.csv names a grade system the tool does not know",
        raw("district", "key,value\ngrade_system,narnia\n"),
        "grade_system 'narnia'",
        "Name a preset (china, us, england) or write custom and list the grades in grades.csv.",
        klass="settings",
    ),
    Case(
        "grade-not-in-system",
        "district.csv declares the US system but the tables use Chinese grades (K1 ... S3)",
        raw("district", "key,value\ngrade_system,us\n"),
        "a grade of the us system (district.grade_system)",
        "Use the declared system's grades in every table, or declare the system the tables use.",
        klass="settings",
    ),
    Case(
        "grade-system-custom-without-grades",
        "district.csv says custom but there is no grades.csv",
        raw("district", "key,value\ngrade_system,custom\n"),
        "without a grades table",
        "Add grades.csv (grade, stage, age, stage_label) listing the district's grades.",
        klass="settings",
    ),
    Case(
        "grades-stage-split",
        "grades.csv puts one grade of a stage among another stage's grades",
        raw(
            "grades",
            "grade,stage,age\nK1,kindergarten,3\nK2,kindergarten,4\nK3,kindergarten,5\nP1,primary,6\nP2,primary,7\nP3,junior,8\nP4,primary,9\nP5,primary,10\nP6,primary,11\nJ1,junior,12\nJ2,junior,13\nJ3,junior,14\nS1,senior,15\nS2,senior,16\nS3,senior,17\n",
        ),
        "the grades of a stage consecutive in age order",
        "Give each stage a run of consecutive ages (P1-P6 primary, then J1-J3 junior ...).",
        klass="settings",
    ),
    Case(
        "grades-same-age",
        "grades.csv gives two grades the same entry age",
        raw(
            "grades",
            "grade,stage,age\nK1,kindergarten,3\nK2,kindergarten,4\nK3,kindergarten,5\nP1,primary,6\nP2,primary,6\nP3,primary,8\nP4,primary,9\nP5,primary,10\nP6,primary,11\nJ1,junior,12\nJ2,junior,13\nJ3,junior,14\nS1,senior,15\nS2,senior,16\nS3,senior,17\n",
        ),
        "a distinct age per grade",
        "Give every grade its own age at entry (the ages order the grades).",
        klass="settings",
    ),
    Case(
        "scenario-stage-not-in-system",
        "the scenario sets a class size for a stage the district's grade system does not have",
        scenario("extends: BASE\nstandards:\n  class_size: {elementary: 25}\n"),
        "standards.class_size.elementary: found 'elementary'",
        "Key class sizes, costs and distances by the stages (or grades) of the district's system (docs/data-format.md).",
        klass="settings",
    ),
]

CASES += GRADE_CASES

CASES += [
    Case(
        "demand-only-projected",
        "gap (or project, run) on a district given only as demand by planning block, with no enrolment history to project from",
        small("gap"),
        "enrolment: found no enrolment history; expected pupils by school, grade and year to project from",
        "Plan the demand table's years with `capacity plan`, or add enrolment.csv to project.",
        klass="crash",
    ),
    Case(
        "demand-only-backtest",
        "backtest on a district given only as demand (it crashed with an IndexError)",
        small("backtest"),
        "enrolment: found no enrolment history; expected pupils by school, grade and year to project from",
        "Back-testing needs an enrolment history; plan the demand table's years with `capacity plan`.",
        klass="crash",
    ),
]

# wave-5 review
CASES += [
    Case(
        "override-group-misspelt-key",
        "a misspelt key inside an override group the run does not apply (it was accepted: the typo surfaced only on the day "
        "the group was applied, and `capacity validate scenario.yaml` said OK)",
        scenario("extends: BASE\nhorizon: 1\noverrides:\n  draft:\n    plan: {time_limt_s: 5}\n", command="validate"),
        "override group 'draft' (not applied in this run): ",
        "Correct the key in the group (the message names its line); every group is checked when the file is read.",
        klass="settings",
    ),
    Case(
        "override-group-misspelt-section",
        "a misspelt section inside an override group (the message had no file or line)",
        scenario("extends: BASE\nhorizon: 1\noverrides:\n  draft:\n    plans: {time_limit_s: 5}\n", command="validate"),
        "scenario.yaml, line 5: unknown key 'plans' (did you mean 'plan'?)",
        "Correct the section name in the group.",
        klass="settings",
    ),
    Case(
        "scenario-empty-file",
        "an empty scenario file (it ran the bundled example county under every default, labelled as the user's scenario)",
        scenario(""),
        "found an empty file; expected a mapping of settings",
        "Write the scenario's settings, at least district: (docs/scenario-reference.md).",
        klass="settings",
    ),
    Case(
        "scenario-without-district",
        "a scenario file that does not name its district (the bundled example county was used without a word)",
        scenario("name: mine\nhorizon: 2\n", command="validate"),
        "district is not set: the bundled example county is used",
        "Accepted with a note, recorded in the manifest and the report: set district: to the district's folder or workbook.",
        accept=True,
        klass="settings",
    ),
    Case(
        "project-after-horizon",
        "a decided project completed after the last projected year (it was dropped without a word)",
        project_on(
            "projects",
            lambda f: pd.concat(
                [f, f.iloc[[3]].assign(project_id="late-wing", completion_year="2040", classrooms="", seats="40", cost="3000000")]
            ),
        ),
        "'late-wing' at",
        "Accepted with a note naming the project: lengthen the horizon to count it.",
        accept=True,
        klass="settings",
    ),
    Case(
        "xlsx-hidden-sheet",
        "a table's sheet hidden in the workbook (a planner hides it meaning to leave it out; it was read without a word)",
        workbook(lambda wb: setattr(wb["housing"], "sheet_state", "hidden")),
        "district.xlsx[housing]: the sheet is hidden in the workbook; it is read as the table 'housing'",
        "Accepted with a note: delete the sheet (or its rows) to leave the table out.",
        accept=True,
    ),
    Case(
        "plan-demand-year-in-history",
        "`capacity plan --demand` for a year of the enrolment history (an IndexError for a year before it; a past year planned)",
        demand_file("year,zone_id,grade,pupils\n2010,U01,P1,50\n"),
        "demand.csv, row 2, column 'year': found 2010, inside the enrolment history",
        "Give demand for the years to plan, after the last history year.",
        klass="crash",
    ),
    Case(
        "plan-demand-missing-year",
        "`capacity plan --demand` with a year missing between two (the missing year was planned with no pupils)",
        demand_file("year,zone_id,grade,pupils\n2026,U01,P1,50\n2028,U01,P1,50\n"),
        "demand.csv, column 'year': found demand years 2026-2028 missing 2027; expected an unbroken run of years",
        "Give every year of the run, or plan the years apart.",
    ),
    Case(
        "plan-demand-unknown-zone",
        "`capacity plan --demand` naming a zone the district lacks (the message named neither the file nor the row)",
        demand_file("year,zone_id,grade,pupils\n2026,U01,P1,50\n2026,NOPE,P1,5\n"),
        "demand.csv, row 3, column 'zone_id': found 'NOPE', which is not in zones",
        "Correct the zone id, or add the zone to zones.csv.",
    ),
    Case(
        "id-lost-leading-zeros",
        "zone '007' written as the number 7 in another table (a spreadsheet drops the leading zeros of numbers)",
        then(
            rename_id("U01", "007", ("validate", "DIST")),
            lambda tmp: edit(tmp, "schools", lambda f: f.assign(zone_id=f["zone_id"].replace("007", "7"))),
        ),
        "found '7', which is not in zones; expected a zone_id listed in zones (did you mean '007'?",
        "Format the id columns as text in the spreadsheet and write the ids again.",
    ),
    Case(
        "force-close-school-with-project",
        "plan.force_close names a school with a decided extension (the plan closed it and the decided money was still spent there)",
        scenario("extends: BASE\nplan:\n  force_close: [U01-J1]\n"),
        "plan.force_close: found 'U01-J1', which has the decided project 'PRJ-2027-02'",
        "Drop the project from projects.csv, or do not force the closure.",
        klass="settings",
    ),
    Case(
        "validate-scenario-settings-against-district",
        "`capacity validate SCENARIO` with plan.force_close naming no school of the district (validate said OK; run refused it)",
        scenario("extends: BASE\nplan:\n  force_close: [NOPE]\n", command="validate"),
        "plan.force_close: found school 'NOPE'; expected a school_id of the district",
        "Name schools of the district; validate now makes every check a run makes before computing.",
        klass="settings",
    ),
    Case(
        "history-one-year",
        "an enrolment history of one year (the message named no file and no way out)",
        project_on("enrolment", lambda f: f[f["year"] == f["year"].max()]),
        "enrolment: found one history year (2025); expected at least 2 years for the cohort model",
        "Add earlier years of enrolment, or give pupils by zone in demand.csv and plan them with `capacity plan`.",
    ),
    Case(
        "backtest-two-years",
        "a back-test of a two-year history (the message asked for a window of at most 0)",
        lambda tmp: ["backtest", str(edit(tmp, "enrolment", lambda f: f[f["year"].astype(int) >= int(f["year"].max()) - 1]))],
        "enrolment: found the history 2024-2025 (2 years); expected at least 3 years to back-test",
        "Back-test a longer history.",
    ),
]
