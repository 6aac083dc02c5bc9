"""Acceptance review of issue 14 (other grade systems, demand tables, rated capacity) as a new user
outside China would meet it: each test failed before its fix."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from capacity.data import EXAMPLE_US_PATH
from capacity.grades import preset
from capacity.scenario import fit_scenario, load_scenario


def cli(*args):
    r = subprocess.run([sys.executable, "-m", "capacity", *map(str, args)], capture_output=True, text=True, timeout=300)
    r.output = r.stdout + r.stderr
    return r


def test_a_misspelled_grade_system_is_one_problem_not_a_cascade_of_china_grades(tmp_path):
    # A US district whose district.csv says 'usa': before, the tool fell back to China's grades and
    # reported one false problem per enrolment and school row (181 on a 6-school district) above the real one.
    d = tmp_path / "d"
    shutil.copytree(EXAMPLE_US_PATH, d)
    (d / "district.csv").write_text("key,value\ngrade_system,usa\n", encoding="utf-8")
    r = cli("validate", d)
    assert r.returncode == 2
    assert "1 problem(s)" in r.output
    assert "district.csv, row 2, column 'value': found grade_system 'usa'" in r.output
    assert "china system" not in r.output and "Traceback" not in r.output


SCHOOL_COLUMNS = "school_id,name,zone_id,first_grade,last_grade,classrooms,max_classrooms,capacity,x_km,y_km,sector,status"


def us_district(folder, zones: str, schools: str, **tables: str):
    """Write a US district: zones and schools rows (CSV text without header) and other tables as full CSV text."""
    folder.mkdir()
    (folder / "district.csv").write_text("key,value\ngrade_system,us\n", encoding="utf-8")
    (folder / "zones.csv").write_text("zone_id,name,kind,x_km,y_km\n" + zones, encoding="utf-8")
    (folder / "schools.csv").write_text(SCHOOL_COLUMNS + "\n" + schools, encoding="utf-8")
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def demand_only(tmp_path):
    """A US district given as demand only (no history): zone A has 65 grade-1 pupils and SA 25 rated seats;
    SB (50 seats) is 13 km away (10 km x detour 1.3), beyond the 3 km elementary limit."""
    d = us_district(
        tmp_path / "d",
        "A,a,urban,0,0\nB,b,urban,10,0\n",
        "SA,sa,A,1,1,,0,25,0,0,public,open\nSB,sb,B,1,1,,0,50,10,0,public,open\n",
        demand="year,zone_id,grade,pupils\n2026,A,1,65\n2026,B,1,0\n",
    )
    sc = tmp_path / "s.yaml"
    sc.write_text(
        f"name: s\ndistrict: {d}\nhorizon: 1\nplan:\n  allow_builds: false\n  time_limit_s: 30\n",
        encoding="utf-8",
    )
    return sc


def test_unmet_pupils_of_a_numbered_grade_read_as_a_grade(tmp_path):
    # US grades are numbers: before, "zone A has 40 1 pupils ... spare 1 seats" ran grade and count together.
    r = cli("plan", demand_only(tmp_path), "--out", tmp_path / "out")
    assert r.returncode == 0, r.output
    # and SA, full at its rated 25 seats, is not offered as spare (before: "15 spare", from its class cap of 40)
    assert (
        "zone A (a) has 40 grade 1 pupils without a seat within reach in 2026: the nearest school with spare grade 1 seats, SB (sb, 50 spare)"
        in r.output
    )


@pytest.mark.parametrize(
    ("system", "given", "unit"), [("us", "", "USD"), ("england", "", "GBP"), ("us", "thousand USD", "thousand USD"), ("china", "", "元")]
)
def test_money_is_shown_in_the_grade_systems_currency_unless_the_scenario_says(tmp_path, system, given, unit):
    # Before, every district's report and budget workbook said "Money in 元", a US district's too.
    sc = tmp_path / "s.yaml"
    sc.write_text("name: s\n" + (f"report:\n  currency_unit: {given}\n" if given else ""), encoding="utf-8")
    s = fit_scenario(load_scenario(sc), preset(system))
    assert s.report.currency_unit == unit
    assert s.resolved["report"]["currency_unit"] == unit  # recorded in scenario.json and the manifest hash


@pytest.mark.parametrize("command", ["project", "gap", "run"])
def test_commands_that_project_refuse_a_district_without_history(tmp_path, command):
    # A block-level district given as demand only: `plan` plans the demand years; before, project, gap and run
    # stopped on "unexpected internal error (IndexError)".
    r = cli(command, demand_only(tmp_path), "--out", tmp_path / "out")
    assert r.returncode == 2, r.output
    assert "enrolment: found no enrolment history; expected pupils by school, grade and year" in r.output
    assert "capacity plan" in r.output and "Traceback" not in r.output and "internal error" not in r.output
    assert not (tmp_path / "out").exists()


def test_a_us_report_has_no_chinese_preschool_coverage_section(tmp_path):
    # The gross-enrolment / inclusive-share floors are China's kindergarten policy; before, a US report showed
    # "Preschool coverage ... No kindergarten pupils." and said "Money in 元".
    sc = tmp_path / "s.yaml"
    sc.write_text(
        f"name: s\ndistrict: {EXAMPLE_US_PATH}\nhorizon: 1\nprojection:\n  draws: 20\nplan:\n  time_limit_s: 30\n  mip_gap: 0.05\n",
        encoding="utf-8",
    )
    r = cli("run", sc, "--out", tmp_path / "run")
    assert r.returncode == 0, r.output
    page = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert 'id="coverage"' not in page and "Preschool coverage" not in page
    assert "Money in USD" in page and "元" not in page
    # compare: China's 56+/66+ class counts do not exist under US bands; before, they read 0 ("no large classes")
    c = cli("compare", tmp_path / "run", "--out", tmp_path / "cmp")
    assert c.returncode == 0, c.output
    metrics = pd.read_csv(tmp_path / "cmp" / "compare.csv")
    assert metrics["classes_56_plus"].isna().all() and metrics["classes_66_plus"].isna().all()
    assert metrics["classes_above_standard"].notna().all()


def test_a_high_school_district_without_births_projects_with_the_us_defaults(tmp_path):
    # Before: refused, "PK is projected from births 4 years earlier ... births recorded: none", though no school
    # teaches PK or K; and grade 9 (its feeder, 8, has no pupils) was held without a word.
    rows = [f"{y},H,{g},{p}" for y in range(2019, 2025) for g, p in (("9", 240), ("10", 230), ("11", 220), ("12", 210))]
    d = us_district(
        tmp_path / "hs",
        "A,a,urban,0,0\nB,b,rural,4,0\n",
        "H,high,A,9,12,,40,1000,0,0,public,open\n",
        enrolment="year,school_id,grade,pupils\n" + "\n".join(rows) + "\n",
    )
    sc = tmp_path / "hs.yaml"
    sc.write_text(f"name: hs\ndistrict: {d}\nhorizon: 2\nprojection:\n  draws: 20\n", encoding="utf-8")
    r = cli("project", sc, "--out", tmp_path / "p")
    assert r.returncode == 0, r.output
    assert "note: entry grade PK has no pupils in the history: it stays at 0 and needs no births" in r.output
    assert "note: entry grade K has no pupils in the history" in r.output
    assert (
        "note: grade 9: its feeder (grade 8) has no pupils in 2022-2024, so grade 9 cannot be projected from it; grade 9 is held"
        in r.output
    )
    # a flat history: 9 held at 240, each later grade keeps its progression ratio (230/240 ...), so 900 a year
    p = pd.read_csv(tmp_path / "p" / "projection.csv", dtype={"grade": str})
    by_grade = p.groupby(["year", "grade"])["pupils"].sum()
    assert by_grade.loc[(2026, "9")] == pytest.approx(240, abs=0.5)
    assert by_grade.loc[2026].sum() == pytest.approx(900, abs=1)
    assert by_grade.loc[(2026, "PK")] == 0 and by_grade.loc[(2026, "K")] == 0


def test_info_on_a_us_district_speaks_of_its_own_stages():
    # Before: "Schools teaching each stage (a nine-year school counts under primary and junior)" for a K-12 district.
    r = cli("info", EXAMPLE_US_PATH)
    assert r.returncode == 0, r.output
    assert "primary" not in r.output and "junior" not in r.output and "nine-year" not in r.output
    assert "elementary" in r.output and "middle" in r.output and "high" in r.output


# --- polish after the review: per-stage settings, validate's rated capacity, wording ------------


def scenario_file(tmp_path, body: str):
    sc = tmp_path / "s.yaml"
    sc.write_text(f"district: {EXAMPLE_US_PATH}\nhorizon: 2\n{body}", encoding="utf-8")
    return load_scenario(sc)


def test_a_scenario_setting_one_stage_takes_the_systems_defaults_for_the_others(tmp_path):
    # A high-school district tuning its high schools only: before, refused because prek,
    # elementary and middle were missing from class_size and travel_km.
    from capacity.notes import CapacityNote

    sc = scenario_file(tmp_path, "standards: {class_size: {high: 28}}\nplan: {travel_km: {high: 12}, boarding_km: {middle: 1}}\n")
    with pytest.warns(CapacityNote) as notes:
        fit = fit_scenario(sc, preset("us"))
    assert fit.standards.class_size == {"prek": 20, "elementary": 25, "middle": 30, "high": 28}
    assert fit.gap.standards == fit.standards
    assert fit.plan.travel_km == {"prek": 3.0, "elementary": 3.0, "middle": 8.0, "high": 12.0}
    assert fit.plan.boarding_km == {"prek": 0.0, "elementary": 0.0, "middle": 1.0, "high": 0.0}
    assert fit.resolved["standards"]["class_size"]["elementary"] == 25 and fit.resolved["plan"]["travel_km"]["high"] == 12.0
    text = " ".join(str(n.message) for n in notes)
    for key in ("standards.class_size.prek", "standards.class_size.elementary", "plan.travel_km.middle", "plan.boarding_km.high"):
        assert key in text, key
    assert "standards.class_size.high" not in text and "plan.boarding_km.middle" not in text


def test_class_sizes_given_for_some_grades_of_a_stage_take_the_stage_default_for_the_rest(tmp_path):
    sc = scenario_file(tmp_path, "standards: {class_size: {'9': 24}}\n")
    with pytest.warns(UserWarning, match=r"standards\.class_size\.high"):
        fit = fit_scenario(sc, preset("us"))
    assert fit.standards.standard_size("9", preset("us")) == 24 and fit.standards.standard_size("10", preset("us")) == 30


def test_china_per_stage_settings_take_the_china_defaults_for_the_stages_left_out(tmp_path):
    sc = scenario_file(tmp_path, "standards: {class_size: {senior: 48, K1: 20}}\n")
    with pytest.warns(
        UserWarning,
        match=r"standards\.class_size\.K2, standards\.class_size\.K3, standards\.class_size\.primary, standards\.class_size\.junior$",
    ):
        fit = fit_scenario(sc, preset("china"))
    assert fit.standards.class_size == {"senior": 48, "K1": 20, "K2": 30, "K3": 35, "primary": 45, "junior": 50}


def test_a_stage_the_district_lacks_and_a_custom_systems_missing_money_stay_refused(tmp_path):
    from capacity.errors import ScenarioError
    from capacity.grades import system_from_rows

    with pytest.raises(ScenarioError, match=r"standards\.class_size\.senior: found 'senior'"):
        fit_scenario(scenario_file(tmp_path, "standards: {class_size: {senior: 30}}\n"), preset("us"))
    custom = system_from_rows([(f"G{i}", "lower" if i <= 6 else "upper", 5 + i, None) for i in range(1, 10)])
    body = (
        "standards: {cost_per_classroom: {lower: 100, upper: 120}, class_size: {upper: 25}}\n"
        "gap: {pupils_per_teacher: {lower: 20, upper: 15}}\n"
        "plan: {travel_km: {lower: 3}, cost_per_class_year: {lower: 50, upper: 60}}\n"
    )
    with pytest.raises(ScenarioError) as e:
        fit_scenario(scenario_file(tmp_path, body), custom)
    msg = str(e.value)
    assert "plan.travel_km.upper" in msg and "class_size" not in msg  # class sizes have a safe default (30), distances none


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[1] / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_scenarios_resolve_exactly_as_without_stage_filling(path, monkeypatch):
    import warnings

    import capacity.scenario as scenario_module
    from capacity.data import load_district

    sc = load_scenario(path)
    grades = load_district(sc.district_path).grades
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        now = fit_scenario(sc, grades)
        monkeypatch.setattr(scenario_module, "fill_stages", lambda given, defaults, grades: (given, []))
        before = fit_scenario(sc, grades)
    assert (now.projection, now.gap, now.plan, now.report) == (before.projection, before.gap, before.plan, before.report)
    assert now.resolved == before.resolved


def test_validate_checks_rated_capacity_against_classrooms_and_names_the_row(tmp_path):
    # Before, validate said OK and only gap/plan refused (without a row). High school SB: 10 rooms x 30 = 300 seats, rated 400.
    d = us_district(
        tmp_path / "d",
        "A,a,urban,0,0\n",
        "SA,sa,A,9,12,10,12,310,0,0,public,open\nSB,sb,A,9,12,10,12,400,1,0,public,open\n",
        demand="year,zone_id,grade,pupils\n2026,A,9,100\n",
    )
    r = cli("validate", d)
    assert r.returncode == 2 and "Traceback" not in r.output
    assert (
        "schools.csv, row 3, column 'capacity': found capacity 400 at 'SB', but its 10 classrooms x 30 seats = 300 (differs by 33%)"
        in r.output
    )
    assert "scenario setting standards.rated_capacity_tolerance" in r.output and "'SA'" not in r.output.split("1 problem")[-1]
    (d / "schools.csv").write_text(SCHOOL_COLUMNS + "\nSA,sa,A,9,12,10,12,310,0,0,public,open\n", encoding="utf-8")
    r = cli("validate", d)
    assert r.returncode == 0 and "valid district" in r.output and "states capacity 310 seats" in r.output


def test_missing_settings_of_a_custom_system_all_read_found_nothing(tmp_path):
    # Before, standards keys read "found 'nothing'" (quoted, like a value) beside the other sections' "found nothing".
    from capacity.errors import ScenarioError
    from capacity.grades import system_from_rows
    from capacity.standards import Standards

    custom = system_from_rows([(f"G{i}", "lower" if i <= 6 else "upper", 5 + i, None) for i in range(1, 10)])
    with pytest.raises(ScenarioError) as e:
        fit_scenario(scenario_file(tmp_path, ""), custom)
    msg = str(e.value)
    assert "standards.cost_per_classroom.lower: found nothing; expected a cost >= 0" in msg
    assert "plan.travel_km.upper: found nothing" in msg and "'nothing'" not in msg
    problems = Standards(class_size={"lower": 30}, cost_per_classroom={"lower": 1.0, "upper": 1.0}).grade_problems(custom)
    assert problems == ["standards.class_size.upper: found nothing; expected a class size for the upper stage (or each of its grades)"]


def test_prose_names_a_numbered_grade_as_a_grade():
    from capacity.grades import grade_words

    assert [grade_words(g) for g in ("9", "10", "K", "P1", "Y12")] == ["grade 9", "grade 10", "K", "P1", "Y12"]
