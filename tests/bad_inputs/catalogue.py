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
        "enrolment.csv is not in the folder",
        drop_file("enrolment"),
        "expected the required table 'enrolment'",
        "Add the enrolment history.",
    ),
    Case(
        "missing-births",
        "births.csv is not in the folder",
        drop_file("births"),
        "expected the required table 'births'",
        "Add births by zone and year.",
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
        raw("births", "year,zone_id,births\n"),
        "births.csv: found an empty table; expected at least one data row",
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
        "unknown-grade",
        "a grade code the format does not know",
        cell("enrolment", 0, "grade", "G1"),
        "found 'G1'; expected a grade K1/K2/K3/P1",
        "Use K1-K3, P1-P6, J1-J3, S1-S3.",
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
        "a missing year in the enrolment history",
        drop_rows("enrolment", lambda f: f.year == "2019"),
        "found history years 2013-2025 missing 2019",
        "Add the missing year's enrolment.",
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
        "Add births from 6 years before the first ratio year, or set projection.entry_offsets.P1 to null.",
    ),
    Case(
        "housing-type-without-yield",
        "a dwelling type with no pupil yield",
        project_on("housing", lambda f: f.assign(dwelling_type=f["dwelling_type"].where(f.zone_id != "T01", "villa"))),
        "housing dwelling_type 'villa' has no yield",
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
        workbook(lambda wb: wb.remove(wb["births"])),
        "d[births]".replace("d[", "district.xlsx[") + ": found no such sheet",
        "Add the sheet named births.",
    ),
    # merely unusual: accepted, with a note where useful
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
        "YAML reads 2e7 as text",
        "Write 2.0e7 or 20000000.",
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
