"""Loading and validating district data: the example, every kind of bad input, CSV vs xlsx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import edit_csv

from capacity.data import EXAMPLE_PATH, load_district
from capacity.data.write import write_csv_folder, write_workbook
from capacity.errors import InputError
from capacity.grades import CHINA


def problems_of(path) -> list[str]:
    with pytest.raises(InputError) as ei:
        load_district(path)
    return [str(p) for p in ei.value.problems]


def only(problems: list[str]) -> str:
    assert len(problems) == 1, problems
    return problems[0]


# --- the example ---------------------------------------------------------------------


def test_example_loads_with_expected_shape(example):
    assert len(example.zones) == 14
    assert set(example.zones["kind"]) == {"urban", "town", "rural"}
    assert example.history_years == tuple(range(2013, 2026))
    # births from at least 18 years before the last history year
    assert example.births["year"].min() <= example.last_year - 18
    assert set(example.enrolment["grade"]) == set(CHINA.grades)
    assert example.enrolment["pupils"].ge(0).all()
    assert example.enrolment["pupils"].dtype.kind == "i"


def test_example_grades_lie_within_school_ranges(example):
    span = example.schools.set_index("school_id")
    for sid, g in example.enrolment[["school_id", "grade"]].drop_duplicates().itertuples(index=False):
        assert g in CHINA.grades_between(span.at[sid, "first_grade"], span.at[sid, "last_grade"])


def test_example_population_figures_are_plausible(example):
    e = example.enrolment
    last = e[e.year == example.last_year]
    p1 = last[last.grade == "P1"]["pupils"].sum()
    births = example.births.groupby("year")["births"].sum()
    ratio = p1 / births[example.last_year - 6]
    assert 0.85 < ratio < 1.25, ratio  # county-wide entry ratio near 1
    primary = last[last.grade.str.startswith("P")]["pupils"].sum()
    assert 20_000 < primary < 32_000  # ~8-10 % of 300,000 people
    size = last.groupby("school_id")["pupils"].sum()
    assert (size < 100).sum() >= 10  # small rural schools and teaching points
    assert size.max() > 2000  # some schools above the 2,000-pupil cap


def test_generator_reproduces_shipped_files(tmp_path):
    from capacity.data.example_generator import write

    write(tmp_path)
    for f in sorted(EXAMPLE_PATH.glob("*.csv")):
        assert (tmp_path / f.name).read_bytes() == f.read_bytes(), f.name


def test_csv_and_xlsx_forms_load_to_equal_tables(example, tmp_path):
    book = tmp_path / "district.xlsx"
    write_workbook(example, book)
    from_xlsx = load_district(book)
    for t in ("zones", "schools", "enrolment", "births", "housing", "travel", "projects", "children", "stage_rooms"):
        pd.testing.assert_frame_equal(getattr(example, t), getattr(from_xlsx, t), check_dtype=True, obj=t)


def test_written_csv_folder_round_trips(example, tmp_path):
    write_csv_folder(example, tmp_path / "d")
    again = load_district(tmp_path / "d")
    pd.testing.assert_frame_equal(example.schools, again.schools)
    pd.testing.assert_frame_equal(example.projects, again.projects)


# --- bad input, one kind per test -----------------------------------------------------


def test_missing_file(district_copy):
    (district_copy / "zones.csv").unlink()
    msg = only(problems_of(district_copy))
    assert "zones.csv" in msg and "no such file" in msg and "required table 'zones'" in msg


def test_neither_history_nor_demand(district_copy):
    (district_copy / "enrolment.csv").unlink()
    msg = only(problems_of(district_copy))
    assert msg == (
        "enrolment.csv: found neither enrolment history nor a demand table; "
        "expected enrolment (pupils by school, grade and year) or demand (pupils by zone, grade and year)"
    )


def test_missing_column(district_copy):
    edit_csv(district_copy, "zones", lambda f: f.drop(columns=["kind"]))
    msg = only(problems_of(district_copy))
    assert msg.startswith("zones.csv, row 1, column 'kind': found no such column")


def test_wrong_type(district_copy):
    def fn(f):
        f.loc[4, "pupils"] = "many"
        return f

    edit_csv(district_copy, "enrolment", fn)
    assert (
        only(problems_of(district_copy)) == "enrolment.csv, row 6, column 'pupils': found 'many'; expected a whole number from 0 to 100000"
    )


def test_negative_pupils(district_copy):
    def fn(f):
        f.loc[10, "pupils"] = "-3"
        return f

    edit_csv(district_copy, "enrolment", fn)
    assert (
        only(problems_of(district_copy)) == "enrolment.csv, row 12, column 'pupils': found '-3'; expected a whole number from 0 to 100000"
    )


@pytest.mark.parametrize("value", ["12.5", "NaN", "inf", ""])
def test_fractional_nan_infinite_blank_pupils(district_copy, value):
    def fn(f):
        f.loc[0, "pupils"] = value
        return f

    edit_csv(district_copy, "enrolment", fn)
    msg = only(problems_of(district_copy))
    assert msg.startswith("enrolment.csv, row 2, column 'pupils': found ")
    assert ("a blank cell" if value == "" else repr(value)) in msg


def test_unknown_zone(district_copy):
    def fn(f):
        f.loc[0, "zone_id"] = "Z99"
        return f

    edit_csv(district_copy, "schools", fn)
    msg = only(problems_of(district_copy))
    assert msg == "schools.csv, row 2, column 'zone_id': found 'Z99', which is not in zones; expected a zone_id listed in zones"


def test_unknown_school(district_copy):
    def fn(f):
        f.loc[7, "school_id"] = "NOPE"
        return f

    edit_csv(district_copy, "enrolment", fn)
    assert only(problems_of(district_copy)).startswith("enrolment.csv, row 9, column 'school_id': found 'NOPE', which is not in schools")


def test_duplicate_key(district_copy):
    edit_csv(district_copy, "zones", lambda f: pd.concat([f, f.iloc[[2]]], ignore_index=True))
    msg = only(problems_of(district_copy))
    assert msg == "zones.csv, row 16, column 'zone_id': found the key (U03) again, first given at row 4; expected each key once"


def test_grade_outside_school_range(district_copy):
    def fn(f):
        i = f.index[(f.school_id == "U01-P1") & (f.grade == "P1")][0]
        f.loc[i, "grade"] = "J1"
        return f, i

    path = district_copy / "enrolment.csv"
    f = pd.read_csv(path, dtype=str, keep_default_na=False)
    f, i = fn(f)
    f.to_csv(path, index=False, lineterminator="\n")
    msg = only(problems_of(district_copy))
    assert msg == f"enrolment.csv, row {i + 2}, column 'grade': found J1 at school 'U01-P1'; expected a grade that school teaches (P1-P6)"


def test_gap_in_history_years_is_accepted_with_a_note(district_copy):
    from capacity.notes import collecting

    edit_csv(district_copy, "enrolment", lambda f: f[f.year != "2018"])
    with collecting() as notes:
        d = load_district(district_copy)
    assert 2018 not in d.history_years and len(d.history_years) == 12
    assert any(n.startswith("enrolment.csv: history years 2013-2025 miss 2018; accepted") for n in notes)


def test_gap_in_births(district_copy):
    edit_csv(district_copy, "births", lambda f: f[~((f.year == "2010") & (f.zone_id == "T03"))])
    msg = only(problems_of(district_copy))
    assert msg == "births.csv, column 'year': found years for zone 'T03' 2005-2025 missing 2010; expected an unbroken run of years"


def test_unknown_column_suggests_a_name(district_copy):
    edit_csv(district_copy, "schools", lambda f: f.rename(columns={"max_classrooms": "max_classroom"}))
    probs = problems_of(district_copy)
    assert any("found an unknown column 'max_classroom' (did you mean 'max_classrooms'?)" in p for p in probs)
    assert any("column 'max_classrooms': found no such column" in p for p in probs)


def test_bad_choice_and_grade_values(district_copy):
    def fn(f):
        f.loc[0, "sector"] = "state"
        f.loc[1, "first_grade"] = "G1"
        return f

    edit_csv(district_copy, "schools", fn)
    probs = problems_of(district_copy)
    assert "schools.csv, row 2, column 'sector': found 'state'; expected one of public, private" in probs
    assert any(
        p.startswith(
            "schools.csv, row 3, column 'first_grade': found 'G1'; expected a grade of the china system (district.grade_system): K1/K2/"
        )
        for p in probs
    )


def test_classrooms_above_site_limit(district_copy):
    def fn(f):
        f.loc[0, "classrooms"] = "99"
        return f

    edit_csv(district_copy, "schools", fn)
    msg = only(problems_of(district_copy))
    assert "found 99 classrooms, more than max_classrooms 43" in msg and "row 2" in msg


def test_closed_school_with_pupils_in_last_year(district_copy):
    def fn(f):
        f.loc[f.school_id == "T01-D1", "status"] = "closed"
        return f

    edit_csv(district_copy, "schools", fn)
    probs = problems_of(district_copy)
    assert probs and all("at 'T01-D1', whose status is closed" in p for p in probs)
    assert len(probs) == 3  # P1, P2, P3 in the last year


def test_project_without_size(district_copy):
    def fn(f):
        f.loc[0, ["classrooms", "seats"]] = ""
        return f

    edit_csv(district_copy, "projects", fn)
    assert (
        only(problems_of(district_copy))
        == "projects.csv, row 2, column 'classrooms': found neither classrooms nor seats; expected classrooms, seats, or both"
    )


def test_ragged_csv_row(district_copy):
    with open(district_copy / "zones.csv", "a", encoding="utf-8") as fh:
        fh.write("X1,名字,town,1.0\n")
    assert only(problems_of(district_copy)) == "zones.csv, row 16: found 4 cells; expected 5 cells, one per header column"


def test_malformed_xlsx(tmp_path):
    bad = tmp_path / "district.xlsx"
    bad.write_bytes(b"this is not a zip archive")
    msg = only(problems_of(bad))
    assert msg.startswith("district.xlsx: found a file Excel cannot open (BadZipFile") and msg.endswith("expected a valid .xlsx workbook")


def test_xlsx_missing_sheet_and_formula(example, tmp_path):
    import openpyxl

    book = tmp_path / "d.xlsx"
    write_workbook(example, book)
    wb = openpyxl.load_workbook(book)
    del wb["schools"]
    wb["zones"]["D3"] = "=1+1"
    wb.save(book)
    probs = problems_of(book)
    assert "d.xlsx[schools]: found no such sheet; expected the required table 'schools' as a sheet" in probs
    assert "d.xlsx[zones], row 3: found a formula in cell D3 (=1+1); expected a plain value; paste values instead of formulas" in probs


def test_deliberately_broken_copy_lists_every_problem(district_copy):
    def schools(f):
        f.loc[0, "zone_id"] = "Z99"
        f.loc[3, "classrooms"] = "-1"
        return f

    def enrol(f):
        f.loc[0, "pupils"] = "-5"
        f.loc[1, "grade"] = "X9"
        return f

    edit_csv(district_copy, "schools", schools)
    edit_csv(district_copy, "enrolment", enrol)
    edit_csv(district_copy, "zones", lambda f: f.drop(columns=["x_km"]))
    probs = problems_of(district_copy)
    assert len(probs) == 5, probs
    joined = "\n".join(probs)
    for fragment in (
        "'Z99'",
        "column 'classrooms': found '-1'",
        "column 'pupils': found '-5'",
        "found 'X9'",
        "column 'x_km': found no such column",
    ):
        assert fragment in joined


def test_gbk_encoded_csv_is_read_with_a_note(district_copy):
    text = (district_copy / "zones.csv").read_text(encoding="utf-8")
    (district_copy / "zones.csv").write_bytes(text.encode("gbk"))
    d = load_district(district_copy)
    assert d.zones.loc[d.zones.zone_id == "U01", "name"].item() == "城东街道"
    assert any("zones.csv: read as GBK" in n for n in d.notes)


def test_bom_is_accepted(district_copy):
    text = (district_copy / "zones.csv").read_text(encoding="utf-8")
    (district_copy / "zones.csv").write_text("\ufeff" + text, encoding="utf-8")
    assert len(load_district(district_copy).zones) == 14


# --- CLI ------------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "capacity", *args], capture_output=True, text=True, timeout=120)


def test_cli_validate_example_prints_ok():
    r = run_cli("validate")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("OK: ") and "14 zones, 106 schools, history 2013-2025" in r.stdout


def test_cli_validate_broken_copy_exits_2_without_traceback(district_copy):
    edit_csv(district_copy, "zones", lambda f: f.drop(columns=["kind"]))

    def enrol(f):
        f.loc[0, "pupils"] = "-5"
        return f

    edit_csv(district_copy, "enrolment", enrol)
    r = run_cli("validate", str(district_copy))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "2 problem(s)" in r.stderr and "column 'kind'" in r.stderr and "found '-5'" in r.stderr
    assert r.stdout == ""


def test_cli_info_reports_stages_and_years():
    r = run_cli("info")
    assert r.returncode == 0, r.stderr
    assert "Zones: 14 (3 urban, 9 town, 2 rural)" in r.stdout
    for y in range(2013, 2026):
        assert f"\n{y} " in r.stdout


@pytest.mark.parametrize("cmd", [[], ["validate"], ["info"]])
def test_cli_help(cmd):
    r = run_cli(*cmd, "--help")
    assert r.returncode == 0 and "Usage:" in r.stdout


def test_package_data_path_exists():
    assert Path(EXAMPLE_PATH, "zones.csv").exists()
