"""Grade systems as data: US, England and custom districts run end to end with their own grades,
next to the Chinese example in one process; bad systems and settings are refused by key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from capacity.data import load_district
from capacity.errors import InputError, ScenarioError
from capacity.gap import GapSettings, gap_report
from capacity.grades import CHINA, ENGLAND, US, GradeSystem, system_from_rows
from capacity.plan import PlanSettings, available_solvers, plan_from_projection
from capacity.projection import ProjectionSettings, project_district
from capacity.scenario import fit_scenario, load_scenario
from capacity.standards import settings_for_system

BIRTHS = 60  # births per zone and year
PER_ZONE = 50  # pupils per grade and zone of residence, every year


def write_district(folder: Path, grades: GradeSystem, schools: list[tuple], system: str | None, grades_table: str | None = None) -> Path:
    """A two-zone district with a stable history: every school grade holds PER_ZONE pupils per
    zone it serves in every year 2019-2024, and each zone has BIRTHS births a year.

    ``schools``: (school_id, zone_id, first, last, classrooms, max_classrooms, zones served).
    """
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {"zone_id": ["A", "B"], "name": ["North", "South"], "kind": ["urban", "town"], "x_km": [0.0, 2.0], "y_km": [0.0, 0.0]}
    ).to_csv(folder / "zones.csv", index=False)
    xy = {"A": 0.0, "B": 2.0}
    rows, enrol = [], []
    for sid, zone, first, last, rooms, top, served in schools:
        rows.append((sid, f"School {sid}", zone, first, last, rooms, top, xy[zone], 0.1, "public", "open"))
        for y in range(2019, 2025):
            enrol += [(y, sid, g, PER_ZONE * served) for g in grades.grades_between(first, last)]
    cols = ["school_id", "name", "zone_id", "first_grade", "last_grade", "classrooms", "max_classrooms", "x_km", "y_km", "sector", "status"]
    pd.DataFrame(rows, columns=cols).to_csv(folder / "schools.csv", index=False)
    pd.DataFrame(enrol, columns=["year", "school_id", "grade", "pupils"]).to_csv(folder / "enrolment.csv", index=False)
    births = [(y, z, BIRTHS) for y in range(2000, 2025) for z in ("A", "B")]
    pd.DataFrame(births, columns=["year", "zone_id", "births"]).to_csv(folder / "births.csv", index=False)
    if system is not None:
        (folder / "district.csv").write_text(f"key,value\ngrade_system,{system}\n", encoding="utf-8")
    if grades_table is not None:
        (folder / "grades.csv").write_text(grades_table, encoding="utf-8")
    return folder


US_SCHOOLS = [
    ("E1", "A", "K", "5", 12, 16, 1),  # 300 seats at 25 for 6 x 50 = 300 pupils
    ("E2", "B", "K", "5", 14, 16, 1),
    ("M1", "A", "6", "8", 12, 14, 2),  # 360 seats at 30 for 3 x 100 = 300 pupils
    ("H1", "B", "9", "12", 12, 16, 2),  # 360 seats at 30 for 4 x 100 = 400 pupils: 40 short
]
ENGLAND_SCHOOLS = [
    ("P1", "A", "R", "Y6", 14, 16, 1),  # 420 seats at 30 for 7 x 50 = 350 pupils
    ("P2", "B", "R", "Y6", 10, 16, 1),  # 300 seats for 350 pupils: 50 short
    ("S1", "A", "Y7", "Y13", 40, 44, 2),  # Y7-Y11 at 30, Y12-Y13 at 25
]


@pytest.fixture(scope="module")
def us_path(tmp_path_factory) -> Path:
    return write_district(tmp_path_factory.mktemp("us") / "district", US, US_SCHOOLS, "us")


@pytest.fixture(scope="module")
def england_path(tmp_path_factory) -> Path:
    return write_district(tmp_path_factory.mktemp("england") / "district", ENGLAND, ENGLAND_SCHOOLS, "England")


def quick(cls, grades: GradeSystem, **given):
    return settings_for_system(cls, grades, given)


def test_presets_load_with_their_own_grades(us_path, england_path):
    us, en = load_district(us_path), load_district(england_path)
    assert us.grades is US and en.grades is ENGLAND
    assert set(us.enrolment["grade"]) == set(US.grades) - {"PK"}
    assert set(en.enrolment["grade"]) == set(ENGLAND.grades)
    # rows sorted in the system's order, not alphabetically ("10" after "9")
    e = us.enrolment[(us.enrolment["year"] == 2024) & (us.enrolment["school_id"] == "H1")]
    assert list(e["grade"]) == ["9", "10", "11", "12"]
    assert list(us.school_stages().query("school_id == 'H1'")["stage"]) == ["high"]


def test_us_projection_gap_and_bands(us_path):
    d = load_district(us_path)
    p = project_district(d, quick(ProjectionSettings, US, draws=50, horizon=3))
    t = p.table()
    assert set(t["grade"]) == set(US.grades)
    # a stable history projects stable totals: 100 pupils in each grade K-12, none in PK
    county = t.groupby(["year", "grade"])["pupils"].sum().unstack()
    assert np.allclose(county[[g for g in US.grades if g != "PK"]].to_numpy(), 2 * PER_ZONE, atol=0.5)
    assert np.allclose(county["PK"].to_numpy(), 0.0)
    r = gap_report(d, p, quick(GapSettings, US))
    seats = r.seats[r.seats["year"] == 2025].set_index("school_id")["seats"]
    assert seats.to_dict() == pytest.approx({"E1": 12 * 25, "E2": 14 * 25, "M1": 12 * 30, "H1": 12 * 30})
    high = r.gap[(r.gap["level"] == "county") & (r.gap["stage"] == "high")]
    assert high["shortfall"].to_numpy() == pytest.approx(40.0, abs=0.5)
    assert set(r.gap["stage"]) <= set(US.stage_names)
    # classes: H1 holds 400 pupils in 12 rooms -> 3 classes of 33-34 per grade: 3-4 over the standard of 30
    act = r.classes_actual[r.classes_actual["school_id"] == "H1"]
    assert (act["standard"] == 30).all() and act["classes"].sum() == 12
    assert act["1-5 over"].sum() == 12 and act["6-10 over"].sum() == 0
    bands = r.bands[(r.bands["basis"] == "actual") & (r.bands["stage"] == "high")]
    assert bands["share 1-5 over"].item() == pytest.approx(1.0)
    # budget: 40 pupils short at 30 a room -> 2 classrooms at the US default cost
    b = r.budget[r.budget["stage"] == "high"]
    assert b["new_classrooms"].sum() == 2 and b["cost"].sum() == pytest.approx(2 * 500_000.0)


def test_band_chart_is_drawn_from_the_stage_standard(us_path):
    from capacity.report.gap_plots import band_share_chart

    d = load_district(us_path)
    p = project_district(d, quick(ProjectionSettings, US, draws=30, horizon=2))
    r = gap_report(d, p, quick(GapSettings, US))
    fig = band_share_chart(r.bands, "high", list(r.settings.bands))
    ax = fig.axes[0]
    heights = [patch.get_height() for patch in ax.patches]
    assert max(heights) > 0.5, "the chart must show the classes over standard"
    assert ax.get_ylim()[0] >= 0
    # a stage whose classes all keep to the standard (M1: 300 pupils in 10 classes of 30) says so on a 0-1 axis
    assert r.bands.loc[r.bands["stage"] == "middle", "classes_above_standard"].sum() == 0
    empty = band_share_chart(r.bands, "middle", list(r.settings.bands)).axes[0]
    assert empty.get_ylim() == (0.0, 1.0) and any("no class" in t.get_text() for t in empty.texts)


@pytest.mark.skipif("highs" not in available_solvers(), reason="HiGHS not installed")
def test_us_and_england_plans_in_one_process(us_path, england_path):
    for path, grades in ((us_path, US), (england_path, ENGLAND)):
        d = load_district(path)
        p = project_district(d, quick(ProjectionSettings, grades, draws=30, horizon=2))
        plan = plan_from_projection(d, p, quick(PlanSettings, grades, time_limit_s=30, mip_gap=0.0, allow_new_schools=False))
        for name in ("assignment", "classes"):
            assert set(plan.tables[name]["grade"]) <= set(grades.grades), name
        # every pupil of every grade is seated or reported unmet: nothing is lost between grades
        dem = p.demand(0.5).groupby("grade")["pupils"].sum()
        got = (
            plan.tables["assignment"]
            .groupby("grade")["pupils"]
            .sum()
            .add(plan.tables["unmet"].groupby("grade")["pupils"].sum(), fill_value=0.0)
        )
        assert got.reindex(dem.index, fill_value=0.0).to_numpy() == pytest.approx(dem.to_numpy(), abs=1e-6)
        if grades is US:
            # H1 (the only high school) has 12 rooms for 4 x 100 pupils. Grade 9 is held to the standard of 30
            # from the first year (3 classes: 90 seats); grades 10-12 keep their classes of 34 (<= legacy cap 40).
            # Rooms come a year after the decision, so 10 grade-9 pupils wait in 2025 and two rooms follow.
            un = plan.tables["unmet"]
            assert un[["year", "grade"]].drop_duplicates().values.tolist() == [[2025, "9"]]
            assert un["pupils"].sum() == pytest.approx(10.0, abs=1e-6)
            b = plan.tables["builds"]
            assert b.loc[b["school_id"] == "H1", "classrooms"].sum() >= 1


def test_two_systems_in_one_process_give_the_same_answers(us_path):
    china = load_district()
    us = load_district(us_path)
    first = gap_report(us, project_district(us, quick(ProjectionSettings, US, draws=30, horizon=2)), quick(GapSettings, US))
    cn = gap_report(china, project_district(china, ProjectionSettings(draws=30, horizon=2)))
    again = gap_report(us, project_district(us, quick(ProjectionSettings, US, draws=30, horizon=2)), quick(GapSettings, US))
    pd.testing.assert_frame_equal(first.gap, again.gap)
    pd.testing.assert_frame_equal(first.classes, again.classes)
    assert set(cn.gap["stage"]) == set(CHINA.stage_names) and set(first.gap["stage"]) <= set(US.stage_names)


def test_run_end_to_end_writes_us_grades_and_charts(us_path, tmp_path):
    from capacity.cli import main

    sc = tmp_path / "us.yaml"
    sc.write_text(
        f"name: us-test\ndistrict: {us_path}\nhorizon: 2\nprojection: {{draws: 30}}\nplan: {{time_limit_s: 30, mip_gap: 0.0}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as e:
        main(["run", str(sc), "--out", str(out)])
        raise SystemExit(0)
    assert e.value.code in (0, None)
    for f in ("projection/projection.csv", "gap/classes.csv", "gap/gap.csv", "plan/assignment.csv", "plan/classes.csv"):
        t = pd.read_csv(out / f, dtype=str)
        col = "grade" if "grade" in t.columns else "stage"
        allowed = set(US.grades) if col == "grade" else set(US.stage_names)
        assert set(t[col]) <= allowed and len(t), f
    charts = {p.name for p in (out / "charts").glob("*.png")}
    assert {"class_bands_elementary.png", "class_bands_high.png", "gap_heatmap_high.png"} <= charts
    assert not any("primary" in c or "junior" in c for c in charts)
    import json

    resolved = json.loads((out / "scenario.json").read_text(encoding="utf-8"))
    assert resolved["standards"]["class_size"] == {"prek": 20, "elementary": 25, "middle": 30, "high": 30}
    assert resolved["gap"]["bands_over_standard"] is True
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["grade_system"]["name"] == "us"
    from capacity.compare import load_run, run_metrics

    m = run_metrics(load_run(out))  # the comparison reads the run's own system and bands back
    assert m["teachers_needed_last_year"] > 0 and m["classes_above_standard"] >= 0


CUSTOM = "grade,stage,age,stage_label\n" + "".join(
    f"G{i},{'lower' if i <= 6 else 'upper'},{5 + i},{'Lower' if i <= 6 else 'Upper'}\n" for i in range(1, 10)
)


def test_custom_system_needs_its_money_and_distances(tmp_path):
    system = system_from_rows([(f"G{i}", "lower" if i <= 6 else "upper", 5 + i, None) for i in range(1, 10)])
    schools = [("L1", "A", "G1", "G6", 12, 14, 1), ("L2", "B", "G1", "G6", 12, 14, 1), ("U1", "A", "G7", "G9", 10, 12, 2)]
    path = write_district(tmp_path / "d", system, schools, "custom", CUSTOM)
    d = load_district(path)
    assert d.grades.grades == tuple(f"G{i}" for i in range(1, 10))
    assert d.grades.stage_names == ("lower", "upper") and d.grades.stage_by_name["upper"].label == "Upper"
    assert d.grades.entry_grades == ("G1", "G7")
    sc = tmp_path / "s.yaml"
    sc.write_text(f"district: {path}\nhorizon: 2\nprojection: {{draws: 30}}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        fit_scenario(load_scenario(sc), d.grades)
    msg = str(e.value)
    for key in (
        "standards.cost_per_classroom.lower",
        "plan.travel_km.upper",
        "plan.cost_per_class_year.lower",
        "gap.pupils_per_teacher.upper",
    ):
        assert key in msg, key
    sc.write_text(
        f"district: {path}\nhorizon: 2\nprojection: {{draws: 30}}\n"
        "standards: {cost_per_classroom: {lower: 100, upper: 120}}\n"
        "gap: {pupils_per_teacher: {lower: 20, upper: 15}}\n"
        "plan: {travel_km: {lower: 3, upper: 10}, cost_per_class_year: {lower: 50, upper: 60}}\n",
        encoding="utf-8",
    )
    s = fit_scenario(load_scenario(sc), d.grades)
    assert s.standards.class_size == {"lower": 30, "upper": 30}
    r = gap_report(d, project_district(d, s.projection), s.gap)
    assert set(r.classes["grade"]) <= set(d.grades.grades)
    # U1: 3 grades x 100 pupils in 10 rooms of 30 = 300 seats: exactly full
    u = r.gap[(r.gap["level"] == "county") & (r.gap["stage"] == "upper")]
    assert u["seats"].to_numpy() == pytest.approx(300.0) and u["demand"].to_numpy() == pytest.approx(300.0, abs=0.5)


def test_bad_grades_are_refused_by_place(us_path, tmp_path):
    import shutil

    d = tmp_path / "bad"
    shutil.copytree(us_path, d)
    e = pd.read_csv(d / "enrolment.csv", dtype=str)
    e.loc[0, "grade"] = "P1"
    e.to_csv(d / "enrolment.csv", index=False)
    sr = "school_id,stage,classrooms\nM1,primary,12\n"
    (d / "stage_rooms.csv").write_text(sr, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_district(d)
    msg = str(err.value)
    assert "enrolment.csv, row 2, column 'grade': found 'P1'; expected a grade of the us system (district.grade_system)" in msg
    assert "stage_rooms.csv, row 2, column 'stage': found 'primary'; expected a stage of the us system" in msg


def test_scenario_keys_outside_the_system_are_refused(us_path, tmp_path):
    sc = tmp_path / "s.yaml"
    sc.write_text(
        f"district: {us_path}\nprojection: {{entry_offsets: {{P1: 6}}}}\nplan: {{starting_grades: [K, J1]}}\n"
        "gap: {policy_checks: [{grades: [S1], from: 2027}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as e:
        fit_scenario(load_scenario(sc), US)
    msg = str(e.value)
    assert "the district's us grade system" in msg
    for key in ("projection.entry_offsets.P1", "plan.starting_grades.J1", "gap.policy_checks[0].grades.S1"):
        assert key in msg, key
    # and the same settings object handed to a step directly is refused, not silently mis-read
    d = load_district(us_path)
    with pytest.raises(ScenarioError, match="projection.entry_offsets.K1"):
        project_district(d, ProjectionSettings(draws=20, horizon=2))


def test_workbook_round_trip_keeps_the_system(england_path, tmp_path):
    from capacity.data.write import write_workbook

    book = tmp_path / "england.xlsx"
    write_workbook(load_district(england_path), book)
    d = load_district(book)
    assert d.grades is ENGLAND and set(d.enrolment["grade"]) == set(ENGLAND.grades)
