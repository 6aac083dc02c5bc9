"""Districts in the forms planners hold them (issue 14, parts 2-5): demand by residence zone with no
history, an attendance matrix, rated capacities, no births, a missing history year.

Every expected number is worked out by hand in the test's docstring or comments.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from capacity.cli import cli
from capacity.data import load_district
from capacity.data.district import split_by_home_school
from capacity.errors import InputError, ProjectionError
from capacity.gap import seat_table
from capacity.notes import collecting
from capacity.plan import PlanSettings, plan_district
from capacity.projection import ProjectionSettings, backtest_errors, history_from_district, project_district
from capacity.standards import DEFAULT_CLASS_SIZE

FIXED = dict(allow_builds=False, allow_closures=False, allow_new_schools=False)


def _csv(folder: Path, name: str, rows: dict) -> None:
    pd.DataFrame(rows).to_csv(folder / f"{name}.csv", index=False)


def blocks(folder: Path, cap1="100", cap2="80", classrooms1="", max1=3, demand=(120, 60)) -> Path:
    """Two planning blocks 1 km apart, each with one primary school stating only a rated capacity."""
    folder.mkdir(parents=True, exist_ok=True)
    _csv(folder, "zones", {"zone_id": ["B1", "B2"], "name": ["b1", "b2"], "kind": "urban", "x_km": [0.0, 1.0], "y_km": 0.0})
    _csv(
        folder,
        "schools",
        {
            "school_id": ["S1", "S2"],
            "name": ["s1", "s2"],
            "zone_id": ["B1", "B2"],
            "first_grade": "P1",
            "last_grade": "P6",
            "classrooms": [classrooms1, ""],
            "max_classrooms": [max1, 10],
            "capacity": [cap1, cap2],
            "x_km": [0.0, 1.0],
            "y_km": 0.0,
            "sector": "public",
            "status": "open",
        },
    )
    _csv(folder, "demand", {"year": 2026, "zone_id": ["B1", "B2"], "grade": "P1", "pupils": list(demand)})
    return folder


def test_one_year_redistricting_from_demand_and_rated_capacity(tmp_path):
    """Blocks B1 (120 P1 pupils) and B2 (60) with schools S1 (rated 100 seats) and S2 (rated 80):
    180 pupils, 180 seats, so the only plan seating everyone is S1 = 100 (all from B1), S2 = 80
    (B2's 60 + B1's other 20). No history, no births, no fake schools."""
    d = load_district(blocks(tmp_path / "d"))
    assert not d.has_history and d.births.empty
    r = plan_district(d, d.demand, PlanSettings(**FIXED))
    a = r.assignment.groupby(["zone_id", "school_id"])["pupils"].sum().round(6).to_dict()
    assert a == {("B1", "S1"): 100.0, ("B1", "S2"): 20.0, ("B2", "S2"): 60.0}
    assert r.unmet["pupils"].sum() == 0
    # the gap counts the same seats: 100 and 80, though neither school gives classrooms
    seats = seat_table(d, DEFAULT_CLASS_SIZE, (2026,)).set_index("school_id")["seats"]
    assert seats.to_dict() == pytest.approx({"S1": 100.0, "S2": 80.0})


def test_rated_capacity_binds_below_its_rooms(tmp_path):
    """S1's rated 100 seats count as ceil(100 / 45) = 3 rooms for classes (135 class places), but the
    plan seats only 100 there: with B1 = 150 and S2 = 80 seats, 150 + 60 = 210 pupils, 180 seats ->
    30 unmet (old reading "rooms x 45" would have seated 135 at S1 and left none unmet... nor loaded)."""
    d = load_district(blocks(tmp_path / "d", demand=(150, 60)))
    r = plan_district(d, d.demand, PlanSettings(**FIXED))
    at = r.assignment.groupby("school_id")["pupils"].sum()
    assert at["S1"] == pytest.approx(100.0) and at["S2"] == pytest.approx(80.0)
    assert r.unmet["pupils"].sum() == pytest.approx(30.0)


@pytest.mark.parametrize(("cap1", "unmet"), [(60, 40.0), (90, 10.0), (100, 0.0), (140, 0.0)])
def test_more_rated_seats_never_raise_unmet(tmp_path, cap1, unmet):
    """B1 = 120 and B2 = 60 pupils, S2 rated 80: unmet = max(0, 180 - 80 - cap1) whatever S1's rooms
    (ceil(cap1 / 45) of them) would otherwise allow."""
    d = load_district(blocks(tmp_path / "d", cap1=str(cap1)))
    r = plan_district(d, d.demand, PlanSettings(**FIXED))
    assert r.unmet["pupils"].sum() == pytest.approx(unmet)


def test_extending_a_rated_school_adds_room_seats(tmp_path):
    """A rated school is extended room by room, each room adding its room seats (45 for P1-P6):
    S1 rated 100 (3 rooms counted), site for 4; B1 = 140, B2 = 60, S2 rated 60. With builds usable at
    once and unmet pupils far dearer than a room, S1 needs 140 - 100 = 40 more seats: one room
    (+45 -> 145 seats), so one classroom is built at S1 and nobody is unmet."""
    d = load_district(blocks(tmp_path / "d", cap2="60", max1=4, demand=(140, 60)))
    ps = PlanSettings(allow_closures=False, allow_new_schools=False, build_lead_years=0)
    r = plan_district(d, d.demand, ps)
    b = r.builds
    assert b[b["kind"] == "extend"].groupby("school_id")["classrooms"].sum().to_dict() == {"S1": 1}
    assert b["seats"].sum() == 45
    assert r.unmet["pupils"].sum() == pytest.approx(0.0)
    assert r.assignment.groupby("school_id")["pupils"].sum()["S1"] == pytest.approx(140.0)


def test_plan_cli_runs_a_district_given_only_as_demand(tmp_path):
    folder = blocks(tmp_path / "d")
    with collecting():  # as capacity.cli.main does: notes go to the manifest
        res = CliRunner().invoke(cli, ["plan", str(folder), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    notes = json.loads((tmp_path / "out" / "manifest.json").read_text())["notes"]
    assert any("no enrolment history, so the plan is for the years of the district's demand table (2026-2026)" in n for n in notes)
    a = pd.read_csv(tmp_path / "out" / "assignment.csv")
    assert a.groupby("school_id")["pupils"].sum().round(6).to_dict() == {"S1": 100.0, "S2": 80.0}
    for command, expect in (("validate", "no history, demand 2026-2026"), ("info", "Pupils on roll: no enrolment history")):
        res = CliRunner().invoke(cli, [command, str(folder)])
        assert res.exit_code == 0 and expect in res.output, res.output


def test_capacity_far_from_classrooms_is_refused_and_near_is_noted(tmp_path):
    """6 classrooms x 45 (mean P1-P6 standard) = 270 seats. Rated 300 differs by 11 % > 10 %: refused,
    naming the file, column and school. Rated 280 (3.7 %) is used, with a note; the gap counts 280."""
    d = load_district(blocks(tmp_path / "far", cap1="300", classrooms1="6", max1=8))
    with pytest.raises(InputError) as e:
        seat_table(d, DEFAULT_CLASS_SIZE, (2026,))
    msg = str(e.value)
    assert "schools.csv" in msg and "'capacity'" in msg and "capacity 300 at 'S1', but its 6 classrooms x 45 seats = 270" in msg
    with pytest.raises(InputError):
        plan_district(d, d.demand, PlanSettings(**FIXED))
    near = load_district(blocks(tmp_path / "near", cap1="280", classrooms1="6", max1=8))
    with collecting() as notes:
        seats = seat_table(near, DEFAULT_CLASS_SIZE, (2026,)).set_index("school_id")["seats"]
    assert seats["S1"] == pytest.approx(280.0)
    assert any("'S1' states capacity 280 seats and 6 classrooms x 45 = 270" in n for n in notes)


def test_blank_classrooms_without_capacity_is_refused(tmp_path):
    folder = blocks(tmp_path / "d", cap1="")
    with pytest.raises(InputError) as e:
        load_district(folder)
    assert "schools.csv, row 2, column 'classrooms': found a blank cell at 'S1' and no capacity" in str(e.value)


def test_attendance_matrix_sets_home_school_shares(tmp_path):
    """Attendance says B1's P1 pupils went 30 to S1 and 20 to S2 last year (60 % / 40 %): B1's
    120 demanded pupils split 72 / 48 among those home schools (no enrolment history needed)."""
    folder = blocks(tmp_path / "d")
    _csv(folder, "attendance", {"year": 2025, "zone_id": "B1", "school_id": ["S1", "S2"], "grade": "P1", "pupils": [30, 20]})
    d = load_district(folder)
    split = split_by_home_school(d, d.demand).set_index(["zone_id", "school_id"])["pupils"]
    assert split[("B1", "S1")] == pytest.approx(72.0) and split[("B1", "S2")] == pytest.approx(48.0)
    assert split[("B2", "")] == pytest.approx(60.0)  # no attendance for B2: its pupils start at the zone centre


def test_attendance_at_a_school_not_teaching_the_grade_is_refused(tmp_path):
    folder = blocks(tmp_path / "d")
    _csv(folder, "attendance", {"year": 2025, "zone_id": "B1", "school_id": ["S1"], "grade": "J1", "pupils": [30]})
    with pytest.raises(InputError) as e:
        load_district(folder)
    assert "attendance.csv, row 2, column 'grade': found J1 at school 'S1'" in str(e.value)


def gap_history(folder: Path, years=(2016, 2017, 2018, 2020, 2021)) -> Path:
    """One zone, one school teaching P1-P2, no births. P1 = 80, 90, 100, (2019 missing), 110, 120;
    P2 = 70, 76, 81, (missing), 99, 99."""
    folder.mkdir(parents=True, exist_ok=True)
    _csv(folder, "zones", {"zone_id": ["Z"], "name": ["z"], "kind": "urban", "x_km": [0.0], "y_km": [0.0]})
    _csv(
        folder,
        "schools",
        {
            "school_id": ["S"],
            "name": ["s"],
            "zone_id": ["Z"],
            "first_grade": "P1",
            "last_grade": "P2",
            "classrooms": [10],
            "max_classrooms": [12],
            "x_km": [0.0],
            "y_km": [0.0],
            "sector": "public",
            "status": "open",
        },
    )
    p1 = {2016: 80, 2017: 90, 2018: 100, 2019: 105, 2020: 110, 2021: 120}
    p2 = {2016: 70, 2017: 76, 2018: 81, 2019: 95, 2020: 99, 2021: 99}
    rows = [(y, "S", g, v[y]) for y in years for g, v in (("P1", p1), ("P2", p2))]
    pd.DataFrame(rows, columns=["year", "school_id", "grade", "pupils"]).to_csv(folder / "enrolment.csv", index=False)
    return folder


HELD = ProjectionSettings(method="mean", entry_rule={"K1": "held", "P1": "held"}, window=3, horizon=2, draws=20, calibrate=False)


def test_missing_history_year_ratios_only_from_adjacent_pairs(tmp_path):
    """P2 ratios from adjacent recorded pairs only: 76/80 = 0.95 (2017), 81/90 = 0.90 (2018),
    99/110 = 0.90 (2021); 2020 has no ratio (2019 missing; 99/100 across the gap is never taken).
    Window 3 = the last three pairs -> mean 0.916667; P2 in 2022 = 120 x 0.916667 = 110.
    P1 held at its mean over the window's recorded years 2017-2021: (90 + 100 + 110 + 120) / 4 = 105."""
    with collecting() as notes:
        d = load_district(gap_history(tmp_path / "d"))
        p = project_district(d, HELD)
    assert d.history_years == (2016, 2017, 2018, 2020, 2021)
    assert any("history years 2016-2021 miss 2019; accepted" in n for n in notes)
    assert any("misses 2019: no ratio is taken across a missing year" in n for n in notes)
    r = p.ratios().set_index("grade")
    assert r.at["P2", "county"] == pytest.approx((0.95 + 0.9 + 0.9) / 3)
    g = d.grades.grade_index
    assert p.point[0, g["P2"], 0] == pytest.approx(110.0)
    assert p.point[0, g["P1"], 0] == pytest.approx(105.0)
    assert p.point[0, g["P2"], 1] == pytest.approx(105 * 0.55 / 0.6)  # P1 2022 (105) x 0.916667


def test_entry_trend_without_births_skips_the_missing_year(tmp_path):
    """entry_rule P1: trend -> least squares over (0, 90), (1, 100), (3, 110), (4, 120) (2019 left out):
    slope 70 / 10 = 7 pupils a year, value at 2021 = 105 + 7 x 2 = 119; 2022 = 126, 2023 = 133.
    The note states P1's rule."""
    s = HELD.with_(entry_rule={"K1": "held", "P1": "trend"})
    with collecting() as notes:
        d = load_district(gap_history(tmp_path / "d"))
        p = project_district(d, s)
    assert p.point[0, d.grades.grade_index["P1"], :].tolist() == pytest.approx([126.0, 133.0])
    assert "entry grade P1 is projected from its recent trend, extended (projection.entry_rule.P1: trend, as set)" in notes


def test_backtest_copes_with_a_missing_year(tmp_path):
    """Origin 2018 (window = its two pairs: 0.95, 0.90 -> 0.925; P1 held at 90): P2 2019 = 100 x 0.925
    = 92.5 (no actual: left out), P2 2020 = 90 x 0.925 = 83.25 against 99. 2019 is never an origin."""
    h = history_from_district(load_district(gap_history(tmp_path / "d")))
    assert h.missing_years == (2019,)
    e = backtest_errors(h, HELD, methods=("mean",), origins=[2018])
    assert 2019 not in set(e["year"])
    row = e[(e["year"] == 2020) & (e["grade"] == "P2") & (e["zone_id"] == "Z")]
    assert row["projected"].item() == pytest.approx(83.25) and row["actual"].item() == 99
    auto = backtest_errors(h, HELD, methods=("mean",))
    assert sorted(set(auto["origin"])) == [2020]


def test_births_needed_only_when_an_entry_grade_uses_them(tmp_path):
    """No births table: under an explicit method the default rule (P1 from births) is refused with a message naming
    the setting to change; under auto (too short a history to compare) P1 is held, with a note; held entry grades
    need none."""
    d = load_district(gap_history(tmp_path / "d", years=(2018, 2019, 2020, 2021)))
    with pytest.raises(ProjectionError) as e:
        project_district(d, ProjectionSettings(method="mean", draws=20, calibrate=False))
    assert "births recorded: none" in str(e.value) and "entry_rule" in str(e.value)
    with collecting() as notes:
        auto = project_district(d, ProjectionSettings(draws=20, calibrate=False))
    assert auto.method == "combined" and auto.settings.entry_rule["P1"] == "held"
    assert any("P1, so births was not a candidate: held, the conservative default" in n for n in notes)
    p = project_district(d, HELD)
    # P1 held at the mean of 2019-2021 = (105 + 110 + 120) / 3 = 111.667
    assert p.point[0, d.grades.grade_index["P1"], 0] == pytest.approx(335 / 3)


def test_entry_from_children_table(tmp_path):
    """entry_rule P1: children -> P1 in 2022 = children born 2016 (offset 6) x take-up 0.9 = 200 x 0.9 = 180."""
    folder = gap_history(tmp_path / "d", years=(2018, 2019, 2020, 2021))
    _csv(folder, "children", {"zone_id": "Z", "birth_year": [2016, 2017], "children": [200, 150]})
    s = HELD.with_(entry_rule={"K1": "held", "P1": "children"}, children_take_up={"P1": 0.9})
    d = load_district(folder)
    p = project_district(d, s)
    assert p.point[0, d.grades.grade_index["P1"], :].tolist() == pytest.approx([180.0, 135.0])
    with pytest.raises(ProjectionError) as e:
        project_district(load_district(folder), s.with_(horizon=3))
    assert "no count for zone 'Z' born in 2018" in str(e.value)


def test_projection_starts_from_the_demand_year(tmp_path):
    """Enrolment 2020-2021 plus a demand table for 2022: the history runs 2020-2022, 2022 = the demand."""
    folder = gap_history(tmp_path / "d", years=(2020, 2021))
    _csv(folder, "demand", {"year": 2022, "zone_id": "Z", "grade": ["P1", "P2"], "pupils": [130, 111]})
    d = load_district(folder)
    h = history_from_district(d)
    assert h.years == (2020, 2021, 2022)
    gi = d.grades.grade_index
    np.testing.assert_allclose(h.pupils[0, [gi["P1"], gi["P2"]], 1:], [[120, 130], [99, 111]])


def test_rated_capacity_of_a_nine_year_school_is_shared_by_standard_class_size(tmp_path):
    """A P1-J3 school rated 420 seats, no classrooms: grades weigh by their standard class size,
    6 x 45 = 270 (primary) and 3 x 50 = 150 (junior), so primary gets 420 x 270/420 = 270 seats and junior 150;
    its room seats are 420 / 9 = 46.67, so the plan counts ceil(420 / 46.67) = 9 rooms."""
    from capacity.gap.seats import rated_capacity

    folder = blocks(tmp_path / "d", cap1="420", max1=12)
    s = pd.read_csv(folder / "schools.csv", dtype=str, keep_default_na=False)
    s.loc[0, "last_grade"] = "J3"
    s.to_csv(folder / "schools.csv", index=False)
    d = load_district(folder)
    seats = seat_table(d, DEFAULT_CLASS_SIZE, (2026,)).query("school_id == 'S1'").set_index("stage")["seats"]
    assert seats.to_dict() == pytest.approx({"primary": 270.0, "junior": 150.0})
    r = rated_capacity(d, DEFAULT_CLASS_SIZE, 0.1).loc["S1"]
    assert r["room_seats"] == pytest.approx(420 / 9) and r["rooms"] == 9


def test_stable_history_with_a_missing_year_projects_stable(tmp_path):
    """P1 = 100 and P2 = 100 every recorded year, 2019 missing: every adjacent ratio is 1, P1 is held
    at 100, so P1 and P2 stay 100 in every projected year (a ratio across the gap would also be 1,
    but a zero-filled gap would not)."""
    folder = gap_history(tmp_path / "d")
    e = pd.read_csv(folder / "enrolment.csv")
    e.assign(pupils=100).to_csv(folder / "enrolment.csv", index=False)
    d = load_district(folder)
    p = project_district(d, HELD.with_(horizon=4))
    gi = d.grades.grade_index
    np.testing.assert_allclose(p.point[0, [gi["P1"], gi["P2"]], :], 100.0)


def test_demand_inside_the_history_is_noted_not_mixed(tmp_path):
    """Demand for 2021, a history year: the history keeps the enrolment (P1 = 120), with a note."""
    folder = gap_history(tmp_path / "d", years=(2020, 2021))
    _csv(folder, "demand", {"year": 2021, "zone_id": "Z", "grade": ["P1"], "pupils": [500]})
    with collecting() as notes:
        d = load_district(folder)
    h = history_from_district(d)
    assert h.years == (2020, 2021) and h.pupils[0, d.grades.grade_index["P1"], 1] == 120
    assert any("demand.csv: years 2021-2021 are also enrolment history years" in n for n in notes)


def test_capacity_stated_as_seats_equals_its_classroom_form(tmp_path):
    """U01-P1 of the example (43 rooms, P1-P6) restated as capacity 43 x 45 = 1,935 seats with a blank
    classrooms cell: the same seats, the same whole rooms for the status-quo classes, the same class
    caps of the plan's base year."""
    import shutil

    from capacity.data import EXAMPLE_PATH
    from capacity.gap.seats import school_rooms
    from capacity.plan.inputs import base_class_sizes

    folder = tmp_path / "d"
    shutil.copytree(EXAMPLE_PATH, folder)
    s = pd.read_csv(folder / "schools.csv", dtype=str, keep_default_na=False)
    i = s.index[s["school_id"] == "U01-P1"][0]
    assert s.at[i, "classrooms"] == "43"
    s["capacity"] = ""
    s.loc[i, ["classrooms", "capacity"]] = ["", "1935"]
    s.to_csv(folder / "schools.csv", index=False)
    a, b = load_district(EXAMPLE_PATH), load_district(folder)
    ta, tb = (seat_table(d, DEFAULT_CLASS_SIZE, (2025, 2026)) for d in (a, b))
    pd.testing.assert_frame_equal(ta, tb, check_exact=False)
    pd.testing.assert_frame_equal(school_rooms(ta), school_rooms(tb))
    assert base_class_sizes(a, PlanSettings()) == base_class_sizes(b, PlanSettings())


def us_rated(folder: Path) -> Path:
    """A US district (grade_system us), one zone, no births: two K-1 schools. E1 states only a rated
    capacity of 30 seats; E2 states 2 classrooms and a capacity of 52 (2 x 25 = 50, within 10 %).
    Enrolment 2018-2021 is stable: K = 20 + 30 = 50, grade 1 = 18 + 27 = 45 every year."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "district.csv").write_text("key,value\ngrade_system,us\n", encoding="utf-8")
    _csv(folder, "zones", {"zone_id": ["Z"], "name": ["z"], "kind": "urban", "x_km": [0.0], "y_km": [0.0]})
    _csv(
        folder,
        "schools",
        {
            "school_id": ["E1", "E2"],
            "name": ["e1", "e2"],
            "zone_id": "Z",
            "first_grade": "K",
            "last_grade": "1",
            "classrooms": ["", "2"],
            "max_classrooms": [4, 4],
            "capacity": ["30", "52"],
            "x_km": [0.0, 0.5],
            "y_km": 0.0,
            "sector": "public",
            "status": "open",
        },
    )
    rows = [(y, s, g, n) for y in range(2018, 2022) for s, g, n in (("E1", "K", 20), ("E1", "1", 18), ("E2", "K", 30), ("E2", "1", 27))]
    pd.DataFrame(rows, columns=["year", "school_id", "grade", "pupils"]).to_csv(folder / "enrolment.csv", index=False)
    return folder


def test_us_district_with_rated_capacity_and_no_births_holds_its_entry_grade(tmp_path):
    """US grades K and 1, no births, the scenario holding entry grades PK and K (the US system's own
    entry grades, which the scenario names before the district's system is known).

    Projection: K held at 50; grade 1 = K x 45/50 = 45 in 2022 and 2023 (a stable history stays stable).
    Rated seats at the US standard of 25 per class: E1's room seats 25, ceil(30 / 25) = 2 rooms, 30 seats;
    E2 uses its rated 52 (noted against 2 x 25 = 50): the gap counts 82 seats. Plan for the point
    projection (95 pupils a year) with no builds: at most 30 + 52 = 82 seated (classes allow more: 2 rooms x 25 at E1,
    max(2, ceil(52 / 25)) = 3 rooms x 25 at E2), so 13 pupils are unmet in each of the two years."""
    from capacity.gap import gap_report
    from capacity.gap.seats import rated_capacity
    from capacity.scenario import fit_scenario, load_scenario

    folder = us_rated(tmp_path / "d")
    sc = tmp_path / "s.yaml"
    sc.write_text(
        f"district: {folder}\nhorizon: 2\nprojection: {{entry_rule: {{PK: held, K: held}}, draws: 20, calibrate: false}}\n"
        "plan: {allow_builds: false, allow_closures: false, allow_new_schools: false, mip_gap: 0.0}\n",
        encoding="utf-8",
    )
    with collecting() as notes:
        d = load_district(folder)
        s = fit_scenario(load_scenario(sc), d.grades)
        p = project_district(d, s.projection)
        r = gap_report(d, p, s.gap)
    assert d.births.empty and d.grades.name == "us"
    assert s.projection.entry_rules() == {"PK": "held", "K": "held"}
    assert "entry grade K is projected from its recent level, held (projection.entry_rule.K: held, as set)" in notes
    assert any("'E2' states capacity 52 seats and 2 classrooms x 25 = 50" in n for n in notes)
    gi = d.grades.grade_index
    np.testing.assert_allclose(p.point[0, [gi["K"], gi["1"]], :], [[50.0, 50.0], [45.0, 45.0]])
    rated = rated_capacity(d, s.gap.standards.class_size, 0.1)
    assert rated["room_seats"].to_dict() == {"E1": 25.0, "E2": 25.0} and rated["rooms"].to_dict() == {"E1": 2, "E2": 3}
    seats = r.seats[r.seats["year"] == 2022].set_index("school_id")["seats"]
    assert seats.to_dict() == pytest.approx({"E1": 30.0, "E2": 52.0})
    county = r.gap[(r.gap["level"] == "county") & (r.gap["stage"] == "elementary")]
    assert county["seats"].to_numpy() == pytest.approx([82.0, 82.0])  # its demand is a quantile of noisy draws
    # the plan against the point projection (95 pupils a year)
    point = pd.DataFrame(
        [(2022 + t, "Z", g, p.point[0, gi[g], t]) for t in range(2) for g in ("K", "1")], columns=["year", "zone_id", "grade", "pupils"]
    )
    plan = plan_district(d, point, s.plan)
    assert plan.assignment.groupby(["year", "school_id"])["pupils"].sum().round(6).to_dict() == {
        (2022, "E1"): 30.0,
        (2022, "E2"): 52.0,
        (2023, "E1"): 30.0,
        (2023, "E2"): 52.0,
    }
    assert plan.unmet.groupby("year")["pupils"].sum().to_dict() == pytest.approx({2022: 13.0, 2023: 13.0})
    # the new tables' grades are those of the district's system: a Chinese grade in attendance is refused
    _csv(folder, "attendance", {"year": 2021, "zone_id": "Z", "school_id": ["E1", "E2"], "grade": ["K", "P1"], "pupils": [20, 27]})
    with pytest.raises(InputError) as e:
        load_district(folder)
    assert "attendance.csv, row 3, column 'grade': found 'P1'; expected a grade of the us system (district.grade_system)" in str(e.value)
