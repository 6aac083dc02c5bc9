"""The school-level mode (projection.unit: school) end to end: hand-computed districts through `capacity project`,
`gap` and `run`, refusals, metamorphic properties on random layouts, and ECASD by school (marker validation)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.cli import main
from capacity.data import load_district
from capacity.gap import gap_report
from capacity.grades import US
from capacity.notes import collecting
from capacity.projection import ProjectionSettings, history_from_district, project_district
from capacity.projection.schools import by_zone, spread_to_schools, zone_axis
from capacity.standards import settings_for_system

YEARS = range(2019, 2026)


def write_us_district(
    folder: Path,
    schools: dict[str, tuple[str, int, int]],
    births: dict[str, dict[int, float]] | None,
    extra_schools: list[dict] = (),
    projects: list[dict] = (),
) -> Path:
    """A US-grade district folder: schools teach K-2 with constant pupils per grade; school_id -> (zone_id,
    pupils per grade, classrooms); births: zone_id -> {year: births} (None: no births table)."""
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"key": ["grade_system"], "value": ["us"]}).to_csv(folder / "district.csv", index=False)
    zones = sorted({z for z, _, _ in schools.values()} | set(births or {}) | {s["zone_id"] for s in extra_schools})
    pd.DataFrame({"zone_id": zones, "name": [f"Zone {z}" for z in zones], "kind": "town", "x_km": 0.0, "y_km": 0.0}).to_csv(
        folder / "zones.csv", index=False
    )
    rows = [
        {
            "school_id": s,
            "name": f"School {s}",
            "zone_id": z,
            "first_grade": "K",
            "last_grade": "2",
            "classrooms": rooms,
            "max_classrooms": rooms + 10,
            "x_km": 0.0,
            "y_km": 0.0,
            "sector": "public",
            "status": "open",
        }
        for s, (z, _, rooms) in schools.items()
    ]
    pd.DataFrame(rows + list(extra_schools)).to_csv(folder / "schools.csv", index=False)
    enrol = [(y, s, g, n) for s, (_, n, _) in schools.items() for g in ("K", "1", "2") for y in YEARS]
    pd.DataFrame(enrol, columns=["year", "school_id", "grade", "pupils"]).to_csv(folder / "enrolment.csv", index=False)
    if births is not None:
        b = [(y, z, v) for z, by in births.items() for y, v in by.items()]
        pd.DataFrame(b, columns=["year", "zone_id", "births"]).to_csv(folder / "births.csv", index=False)
    if projects:
        pd.DataFrame(list(projects)).to_csv(folder / "projects.csv", index=False)
    return folder


def births_rising(a_after_2020: float = 200.0) -> dict[str, dict[int, float]]:
    """Zone A: 100 a year to 2020, then ``a_after_2020``; zone B: 50 a year."""
    return {"A": {y: (100.0 if y <= 2020 else a_after_2020) for y in range(1990, 2026)}, "B": dict.fromkeys(range(1990, 2026), 50.0)}


# S1 and S2 in zone A, S3 in zone B; 60, 30 and 45 pupils in each of K, 1, 2 every year; 10, 5 and 8 classrooms (x 25)
THREE = {"S1": ("A", 60, 10), "S2": ("A", 30, 5), "S3": ("B", 45, 8)}


def scenario(tmp: Path, district: Path, **projection) -> Path:
    p = tmp / "school.yaml"
    proj = {"method": "mean", "unit": "school", "draws": 100, **projection}
    p.write_text(
        f"name: school-test\ndistrict: {district}\nhorizon: 3\nprojection: {json.dumps(proj)}\n"
        "gap: {warning_window: 2}\nplan: {time_limit_s: 10}\n",
        encoding="utf-8",
    )
    return p


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(args)
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


def cli_ok(args: list[str]) -> None:
    try:
        main(args)
    except SystemExit as e:  # main exits only on errors
        raise AssertionError(f"capacity {' '.join(args)} exited {e.code}") from None


# --- hand-computed: three schools, two zones, births pooled by school choice -------------------------------------
#
# Constant history: R_c(K) = 135 pupils / 150 births = 0.9, every progression ratio 1. Births in zone A double from
# 2021, so K in 2026-2028 (births 5 years earlier) = 0.9 x (200 + 50) = 225, shared by the schools' past share of K
# (60 : 30 : 45): S1 100, S2 50, S3 75, whichever zone the births were in. Grades 1 and 2 follow their cohort.


EXPECTED_K2 = {  # pupils K-2 (the elementary stage) by school and year
    "S1": [220, 260, 300],
    "S2": [110, 130, 150],
    "S3": [165, 195, 225],
}


def test_project_by_school_through_the_cli_gives_the_hand_computed_pupils(tmp_path):
    d = write_us_district(tmp_path / "d", THREE, births_rising())
    cli_ok(["project", str(d), "--unit", "school", "--method", "mean", "--horizon", "3", "--draws", "100", "--out", str(tmp_path / "p")])
    t = pd.read_csv(tmp_path / "p" / "projection.csv", dtype={"grade": str})
    assert list(t.columns[:4]) == ["year", "school_id", "zone_id", "grade"]
    assert set(t["school_id"]) == {"S1", "S2", "S3"}  # the zones' births units hold no pupils and are left out
    k = t[t["grade"] == "K"].pivot(index="school_id", columns="year", values="pupils")
    np.testing.assert_allclose(k.to_numpy(), [[100] * 3, [50] * 3, [75] * 3], atol=1e-6)
    stage = pd.read_csv(tmp_path / "p" / "projection_school_stage.csv")
    el = stage[stage["stage"] == "elementary"].pivot(index="school_id", columns="year", values="pupils")
    np.testing.assert_allclose(el.loc[["S1", "S2", "S3"]].to_numpy(), list(EXPECTED_K2.values()), atol=1e-6)
    assert dict(stage.drop_duplicates("school_id").set_index("school_id")["zone_id"]) == {"S1": "A", "S2": "A", "S3": "B"}
    ratios = pd.read_csv(tmp_path / "p" / "ratios.csv")
    assert {"school_id", "zone_id", "school_raw"} <= set(ratios.columns) and "zone_raw" not in ratios
    assert sorted(p.name for p in (tmp_path / "p" / "charts").iterdir()) == [f"fan_S{i}_elementary.png" for i in (1, 2, 3)]
    man = json.loads((tmp_path / "p" / "manifest.json").read_text())
    assert man["settings"]["projection"]["unit"] == "school"
    assert any(n.startswith("projection.unit: school: each of the district's 3 schools") for n in man["notes"])


def test_zone_mode_keeps_each_zones_births_in_the_zone(tmp_path):
    """The contrast that makes the mode matter: by zone, zone A's doubled births stay in zone A (K = 0.9 x 200 = 180),
    by school they are shared among all three schools (zone A's schools get 150)."""
    d = load_district(write_us_district(tmp_path / "d", THREE, births_rising()))
    base = settings_for_system(ProjectionSettings, US, {"method": "mean", "horizon": 3, "draws": 10, "calibrate": False})
    with collecting():
        zone = project_district(d, base)
        school = project_district(d, base.with_(unit="school"))
        by = by_zone(school)
    k = US.grade_index["K"]
    np.testing.assert_allclose(zone.point[list(zone.zones).index("A"), k], [180] * 3)
    np.testing.assert_allclose(by.point[list(by.zones).index("A"), k], [150] * 3)
    np.testing.assert_allclose(by.point[list(by.zones).index("B"), k], [75] * 3)
    # the district total is the same in both modes (moves create and lose no pupils)
    np.testing.assert_allclose(zone.point.sum((0, 1)), school.point.sum((0, 1)))


def test_gap_by_school_through_the_cli_is_each_school_against_its_own_seats(tmp_path):
    d = write_us_district(tmp_path / "d", THREE, births_rising())
    sc = scenario(tmp_path, d)
    cli_ok(["gap", str(sc), "--out", str(tmp_path / "g")])
    g = pd.read_csv(tmp_path / "g" / "gap.csv")
    el = g[g["stage"] == "elementary"]
    school = el[el["level"] == "school"]
    seats = {"S1": 250, "S2": 125, "S3": 200}
    for s, demand in EXPECTED_K2.items():
        r = school[school["area"] == s].sort_values("year")
        assert list(r["demand"]) == demand
        assert list(r["seats"]) == [seats[s]] * 3
        assert list(r["gap"]) == [seats[s] - v for v in demand]
        assert set(r["zone_id"]) == {"A" if s != "S3" else "B"}
    # S1: 220 / 250 then short 10 and 50 -> amber (red within 2 years), red, red; S3: amber, amber (97.5 % > 95 %), red
    assert list(school[school["area"] == "S1"].sort_values("year")["warning"]) == ["amber", "red", "red"]
    assert list(school[school["area"] == "S3"].sort_values("year")["warning"]) == ["amber", "amber", "red"]
    np.testing.assert_allclose(school[school["area"] == "S1"].sort_values("year")["utilisation"], [0.88, 1.04, 1.2])
    # a zone is the sum of its schools: zone A 375 seats against 330, 390, 450 pupils
    za = el[(el["level"] == "zone") & (el["area"] == "A")].sort_values("year")
    assert list(za["demand"]) == [330, 390, 450] and list(za["seats"]) == [375] * 3
    first = pd.read_csv(tmp_path / "g" / "first_red.csv")
    assert dict(zip(first["school_id"], first["first_red_year"], strict=True)) == {"S1": 2027, "S2": 2027, "S3": 2028}
    # classrooms of 25 to close each school's own shortfall: S1 1 then 2 (50 short), S2 1 (5 and 25 short), S3 1 (25)
    b = pd.read_csv(tmp_path / "g" / "budget.csv")
    assert b.groupby("school_id")["new_classrooms"].sum().to_dict() == {"S1": 2, "S2": 1, "S3": 1}
    assert set(b.columns[:3]) == {"year", "school_id", "zone_id"}
    heat = sorted(p.name for p in (tmp_path / "g" / "charts").iterdir() if p.name.startswith("gap_heatmap"))
    assert heat == ["gap_heatmap_elementary.png", "gap_heatmap_school_elementary.png"]


def test_gap_and_plan_cli_take_unit_school_and_say_so(tmp_path, capsys):
    d = write_us_district(tmp_path / "d", THREE, births_rising())
    main(["gap", str(d), "--unit", "school", "--horizon", "3"])
    out = capsys.readouterr().out
    assert "Seat gap by school (school-level mode" in out
    assert "First red year by school and stage" in out and "S1" in out
    assert "Budget to close every school's shortfall" in out
    main(["gap", str(d), "--horizon", "3"])  # the default is by zone
    out = capsys.readouterr().out
    assert "Seat gap by school" not in out and "First red year by zone and stage" in out
    main(["plan", str(d), "--unit", "school", "--horizon", "3", "--relax-classes", "--time-limit", "10", "--out", str(tmp_path / "pl")])
    out = capsys.readouterr().out
    assert "note: school-level mode: the plan's demand is pupils by zone" in out
    man = json.loads((tmp_path / "pl" / "manifest.json").read_text())
    assert man["settings"]["projection"]["unit"] == "school"


def test_plan_demand_in_school_mode_is_each_schools_pupils_in_its_zone_with_a_note(tmp_path):
    d = load_district(write_us_district(tmp_path / "d", THREE, births_rising()))
    s = settings_for_system(ProjectionSettings, US, {"method": "mean", "horizon": 3, "draws": 10, "calibrate": False, "unit": "school"})
    with collecting() as notes:
        p = project_district(d, s)
        z = by_zone(p)
        demand = z.demand(0.5)
    el = demand[demand["grade"].isin(["K", "1", "2"])].groupby(["zone_id", "year"])["pupils"].sum().unstack()
    assert el.loc["A"].tolist() == [330, 390, 450] and el.loc["B"].tolist() == [165, 195, 225]
    assert any(n.startswith("school-level mode: the plan's demand is pupils by zone") for n in notes)
    assert z.zones == ("A", "B") and by_zone(z) is z  # summing twice changes nothing


def test_run_in_school_mode_writes_school_tables_a_plan_and_says_so(tmp_path):
    from capacity.run import run_scenario
    from capacity.scenario import load_scenario

    d = write_us_district(tmp_path / "d", THREE, births_rising())
    r = run_scenario(load_scenario(scenario(tmp_path, d)), tmp_path / "run")
    out = tmp_path / "run"
    assert (out / "projection" / "projection_school_stage.csv").exists()
    levels = set(pd.read_csv(out / "projection" / "backtest.csv")["level"])
    assert "school_stage" in levels and not any(lv.startswith("zone") for lv in levels)  # the back-test's units are schools
    assert r.plan is not None and r.plan.summary["status"] in ("optimal", "time_limit")
    # the plan's demand: zone A = S1 + S2 = 330, 390, 450 elementary pupils; zone B = S3
    seated = r.plan.tables["assignment"].groupby(["zone_id", "year"])["pupils"].sum()
    unmet = r.plan.tables["unmet"].groupby(["zone_id", "year"])["pupils"].sum()
    demand = seated.add(unmet, fill_value=0.0)  # every pupil of the plan's demand is seated or unmet
    np.testing.assert_allclose(demand.loc["A"].to_numpy(), [330, 390, 450], atol=1.0)
    np.testing.assert_allclose(demand.loc["B"].to_numpy(), [165, 195, 225], atol=1.0)
    man = json.loads((out / "manifest.json").read_text())
    assert any("the plan's demand is pupils by zone" in n for n in man["notes"]) and man["projection_unit"] == "school"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "projected by school (school-level mode)" in page and "First year each school runs short" in page
    assert json.loads((out / "scenario.json").read_text())["projection"]["unit"] == "school"


def test_a_zone_with_a_schools_id_keeps_its_births_apart(tmp_path):
    """School 'A' stands in zone 'A': the zone's births are unit 'A (births)', not the school's own feeder. K in 2026 =
    R_c x births = (60 + 45) / 150 x (200 + 50) = 175, shared 60 : 45 (A 100, S3 75)."""
    d = load_district(write_us_district(tmp_path / "d", {"A": ("A", 60, 10), "S3": ("B", 45, 8)}, births_rising()))
    h = history_from_district(d, "school")
    assert h.zones == ("A", "A (births)", "B", "S3") and h.unit_zone == ("A", "A", "B", "B")
    assert h.school_unit == (True, False, False, True) and h.births[0].sum() == 0 and h.births[1].sum() > 0
    s = settings_for_system(ProjectionSettings, US, {"method": "mean", "horizon": 3, "draws": 10, "calibrate": False, "unit": "school"})
    with collecting():
        p = project_district(d, s)
    k = US.grade_index["K"]
    np.testing.assert_allclose(p.point[0, k], [100] * 3)
    np.testing.assert_allclose(p.point[3, k], [75] * 3)


# --- refusals and stated decisions ------------------------------------------------------------------------------


def test_unknown_unit_is_refused_naming_the_key(tmp_path, capsys):
    d = write_us_district(tmp_path / "d", THREE, births_rising())
    code, _, err = run_cli(["project", str(scenario(tmp_path, d, unit="district"))], capsys)
    assert code == 2 and "projection.unit" in err and "'district'" in err and "school" in err


def test_demand_years_after_the_enrolment_are_refused_in_school_mode(tmp_path, capsys):
    d = write_us_district(tmp_path / "d", THREE, births_rising())
    pd.DataFrame({"year": [2026], "zone_id": ["A"], "grade": ["K"], "pupils": [10]}).to_csv(d / "demand.csv", index=False)
    code, _, err = run_cli(["project", str(d), "--unit", "school", "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "demand table (demand.csv) holds pupils by zone of residence for year(s) 2026" in err
    assert "last year 2025" in err and "project by zone" in err
    assert not (tmp_path / "o").exists()


def test_children_table_is_refused_in_school_mode(tmp_path, capsys):
    d = write_us_district(tmp_path / "d", THREE, births_rising())
    pd.DataFrame({"zone_id": ["A"], "birth_year": [2021], "children": [120]}).to_csv(d / "children.csv", index=False)
    code, _, err = run_cli(["project", str(d), "--unit", "school"], capsys)
    assert code == 2 and "children table (children.csv, 1 rows)" in err and "projection.unit: zone" in err


def test_a_decided_new_school_with_no_history_is_stated_and_gets_no_pupils(tmp_path):
    new = {
        "school_id": "S4",
        "name": "School S4",
        "zone_id": "B",
        "first_grade": "K",
        "last_grade": "2",
        "classrooms": 0,
        "max_classrooms": 12,
        "x_km": 0.0,
        "y_km": 0.0,
        "sector": "public",
        "status": "candidate",
    }
    proj = [{"project_id": "P1", "school_id": "S4", "completion_year": 2027, "stage": "", "classrooms": 6, "seats": "", "cost": 1.0}]
    d = load_district(write_us_district(tmp_path / "d", THREE, births_rising(), [new], proj))
    s = settings_for_system(ProjectionSettings, US, {"method": "mean", "horizon": 3, "draws": 10, "calibrate": False, "unit": "school"})
    with collecting() as notes:
        p = project_district(d, s)
        r = gap_report(d, p)
    g = r.gap
    assert "S4" not in set(r.classes["school_id"]) | set(r.teachers["school_id"])  # no pupils: no classes, no teachers
    assert "S4" in p.zones and p.point[p.zones.index("S4")].sum() == 0
    assert any(n.startswith("school 'S4' (School S4, zone B) has no pupils in the history") and "no pupils" in n for n in notes)
    # the other schools keep the hand-computed pupils; S4's seats count from 2027, empty
    s4 = g[(g["level"] == "school") & (g["area"] == "S4")].sort_values("year")
    assert list(s4["year"]) == [2027, 2028] and (s4["demand"] == 0).all() and (s4["seats"] == 150).all()
    s3 = g[(g["level"] == "school") & (g["area"] == "S3") & (g["stage"] == "elementary")].sort_values("year")
    np.testing.assert_allclose(s3["demand"], EXPECTED_K2["S3"])


def test_housing_by_zone_is_shared_among_the_zones_schools(tmp_path):
    d = write_us_district(tmp_path / "d", THREE, births_rising(100.0))
    pd.DataFrame({"zone_id": ["A"], "year": [2026], "dwellings": [1000], "dwelling_type": ["single_family"]}).to_csv(
        d / "housing.csv", index=False
    )
    dist = load_district(d)
    s = settings_for_system(
        ProjectionSettings,
        US,
        {"method": "mean", "horizon": 3, "draws": 10, "calibrate": False, "housing_yield": {"single_family": {"elementary": 0.6}}},
    )
    with collecting():
        zone, school = project_district(dist, s), project_district(dist, s.with_(unit="school"))
    added_zone = zone.point.sum((0, 1)) - 3 * 135
    i1, i2 = school.zones.index("S1"), school.zones.index("S2")
    own = np.zeros(len(school.zones))
    own[[i1, i2, school.zones.index("S3")]] = [180, 90, 135]
    added = school.point.sum(1) - own[:, None]  # (units, years): stable schools plus their share of the housing pupils
    np.testing.assert_allclose(added[i1] + added[i2], added_zone)  # zone A's housing pupils, all of them
    np.testing.assert_allclose(added[i1], 2 * added[i2])  # shared 60 : 30, the schools' shares of each grade
    np.testing.assert_allclose(added[school.zones.index("S3")], 0)


# --- other layouts: no births; the example county ----------------------------------------------------------------


def test_district_without_births_holds_each_schools_entry_grade(tmp_path):
    d = write_us_district(tmp_path / "d", THREE, None)
    sc = scenario(tmp_path, d, entry_offsets={"PK": None, "K": None})  # no births: entry grades are level grades
    cli_ok(["project", str(sc), "--out", str(tmp_path / "p")])
    t = pd.read_csv(tmp_path / "p" / "projection_school_stage.csv")
    el = t[t["stage"] == "elementary"].pivot(index="school_id", columns="year", values="pupils")
    np.testing.assert_allclose(el.loc[["S1", "S2", "S3"]].to_numpy(), [[180] * 3, [90] * 3, [135] * 3], atol=1e-6)


def test_example_county_by_school_keeps_the_district_total_and_labels_every_school(tmp_path):
    from capacity.data import EXAMPLE_PATH

    d = load_district(EXAMPLE_PATH)
    s = settings_for_system(ProjectionSettings, d.grades, {"method": "mean", "draws": 10, "calibrate": False, "horizon": 5})
    with collecting():
        zone, school = project_district(d, s), project_district(d, s.with_(unit="school"))
        g = gap_report(d, school)
    # same district total by grade (housing included: each zone's housing pupils go to its schools)
    np.testing.assert_allclose(zone.point.sum(0), school.point.sum(0), rtol=1e-9, atol=1e-6)
    h = school.history
    assert sum(h.school_unit) == len(d.schools)
    live = set(d.schools.loc[d.schools["status"] == "open", "school_id"])
    assert live <= set(g.gap.loc[g.gap["level"] == "school", "area"])
    zs = g.gap[g.gap["level"] == "zone"].set_index(["area", "stage", "year"])["seats"]
    ss = g.gap[g.gap["level"] == "school"].groupby(["zone_id", "stage", "year"])["seats"].sum()
    np.testing.assert_allclose(ss.reindex(zs.index, fill_value=0.0), zs)  # a zone's seats are its schools'
    # classes, teachers and sizes only for schools that teach (no teachers for a closed school or an undecided site)
    sg = d.school_grades().merge(d.schools[["school_id", "status"]], on="school_id")
    taught = set(zip(sg.loc[sg["status"] == "open", "school_id"], sg.loc[sg["status"] == "open", "grade"], strict=True))
    assert set(zip(g.classes["school_id"], g.classes["grade"], strict=True)) <= taught
    assert set(g.teachers["school_id"]) <= live


# --- metamorphic: random layouts -------------------------------------------------------------------------------


@settings(max_examples=12, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 120), min_size=2, max_size=6),
    zone_of=st.lists(st.sampled_from("ABC"), min_size=6, max_size=6),
    births=st.lists(st.integers(20, 300), min_size=3, max_size=3),
)
def test_stable_history_projects_stable_schools_whatever_the_layout(tmp_path_factory, sizes, zone_of, births):
    """Constant pupils and births: every school is projected at its own pupils, and summing schools by zone gives the
    zone's pupils as taught (the plan's demand)."""
    tmp = tmp_path_factory.mktemp("stable")
    schools = {f"S{i}": (zone_of[i], n, 10) for i, n in enumerate(sizes)}
    b = {z: dict.fromkeys(range(1990, 2026), float(births[i])) for i, z in enumerate("ABC")}
    d = load_district(write_us_district(tmp, schools, b))
    s = settings_for_system(ProjectionSettings, US, {"method": "mean", "horizon": 4, "draws": 10, "calibrate": False, "unit": "school"})
    with collecting():
        p = project_district(d, s)
        z = by_zone(p)
    el = [US.grade_index[g] for g in ("K", "1", "2")]
    for sid, (_, n, _) in schools.items():
        np.testing.assert_allclose(p.point[p.zones.index(sid)][el], n, rtol=1e-9)
    for zone in z.zones:
        expect = 3 * sum(n for zz, n, _ in schools.values() if zz == zone)
        np.testing.assert_allclose(z.point[z.zones.index(zone)].sum(0), expect, rtol=1e-9)


@settings(max_examples=25, deadline=None)
@given(
    zone_of=st.lists(st.sampled_from("AB"), min_size=2, max_size=5),
    last=st.lists(st.integers(0, 50), min_size=15, max_size=15),
    stock=st.lists(st.floats(0, 100), min_size=6, max_size=6),
)
def test_pupils_given_by_zone_are_shared_among_its_schools_without_loss(zone_of, last, stock):
    """spread_to_schools: every zone's pupils reach its schools (or, with none of the grade's stage, any school) and
    the district total by grade and year is unchanged."""
    from capacity.projection.cube import History

    n = len(zone_of)
    pupils = np.zeros((n + 1, len(US.grades), 2))
    pupils[:n, 1:4, 1] = np.asarray(last[: 3 * n]).reshape(n, 3)  # K, 1, 2 in the origin year
    h = History(
        (*[f"S{i}" for i in range(n)], "A"),
        (2024, 2025),
        pupils,
        None,
        (),
        US,
        unit_zone=(*zone_of, "A"),
        school_unit=(*([True] * n), False),
    )
    zones, _ = zone_axis(h)
    by = np.zeros((len(zones), len(US.grades), 2))
    by[:, 1:4, :] = np.asarray(stock[: len(zones) * 3 * 2] + [0.0] * 12)[: len(zones) * 6].reshape(len(zones), 3, 2)
    with collecting():
        out = spread_to_schools(by, h, "test")
    assert out[n].sum() == 0  # nothing lands in a births unit
    np.testing.assert_allclose(out.sum(0), by.sum(0), atol=1e-9)
    for z in zones:  # a zone whose schools had pupils of the stage keeps all its pupils in its schools (and may take
        mine = [i for i in range(n) if zone_of[i] == z]  # other zones' that fall back to the district-wide share)
        if pupils[mine].sum() > 0:
            assert (out[mine].sum(0) >= by[zones.index(z)] - 1e-9).all()


# --- ECASD by school (real data) -------------------------------------------------------------------------------


@pytest.mark.validation
@pytest.mark.parametrize("method", ["mean", "auto"])
def test_ecasd_by_school_through_the_cli_matches_its_back_test(tmp_path, method):
    """ECASD as it stood in 2014, projected by school through `capacity project --unit school`: each school's total
    equals what the back-test (the machinery of docs/projection.md's "ECASD by school" tables; ``auto`` chosen from
    the origin's own past) projects from origin 2014; with mean (linear) the district total equals the district-mode
    projection (one zone: the same county ratios); the errors against what happened are of the size the tables report
    (lead 1 MAPE of school totals 4.9 % for auto pooled over origins)."""
    import sys

    from conftest import validation_dir

    sys.path.insert(0, str(Path(__file__).parent))
    from adapters import write_ecasd_district

    from capacity.projection import backtest_errors

    full = write_ecasd_district(validation_dir("enrolment/ecasd"), tmp_path / "full")
    history = history_from_district(load_district(full), "school")
    cut = tmp_path / "cut"
    cut.mkdir()
    for f in ("district.csv", "zones.csv"):
        (cut / f).write_bytes((full / f).read_bytes())
    e = pd.read_csv(full / "enrolment.csv", dtype={"grade": str})
    e = e[e["year"] <= 2014]
    e.to_csv(cut / "enrolment.csv", index=False)
    b = pd.read_csv(full / "births.csv")
    b[b["year"] <= 2014].to_csv(cut / "births.csv", index=False)
    s = pd.read_csv(full / "schools.csv")
    open_2014 = set(e.loc[(e["year"] == 2014) & (e["pupils"] > 0), "school_id"])
    s.assign(status=np.where(s["school_id"].isin(open_2014), "open", "closed")).to_csv(cut / "schools.csv", index=False)
    sc = tmp_path / "ecasd.yaml"
    sc.write_text(
        f"name: ecasd-school\ndistrict: {cut}\nhorizon: 5\nprojection: "
        f"{{method: {method}, window: 3, entry_offsets: {{K: 5}}, pooled_grades: [], draws: 200, unit: school}}\n",
        encoding="utf-8",
    )
    cli_ok(["project", str(sc), "--out", str(tmp_path / "p")])
    t = pd.read_csv(tmp_path / "p" / "projection.csv", dtype={"grade": str})
    cli = t.groupby(["school_id", "year"])["pupils"].sum()
    ps = ProjectionSettings(window=3, method=method, entry_offsets={"K": 5}, pooled_grades=())
    with collecting():
        bt = backtest_errors(history, ps, (method,), origins=[2014])
    bt = bt[bt["lead"] <= 5]
    back = bt.groupby(["zone_id", "year"])[["projected", "actual"]].sum()
    back = back[back.index.get_level_values(0).isin(set(cli.index.get_level_values(0)))]
    np.testing.assert_allclose(cli.reindex(back.index).to_numpy(), back["projected"].to_numpy(), rtol=1e-9, atol=1e-6)
    if method == "mean":  # a linear estimator: the district total is the district-mode projection's (one zone)
        d = load_district(cut)
        given = {"window": 3, "method": "mean", "entry_offsets": {"K": 5}, "pooled_grades": (), "draws": 10, "calibrate": False}
        with collecting():
            zone = project_district(d, settings_for_system(ProjectionSettings, US, {**given, "horizon": 5}))
        np.testing.assert_allclose(cli.groupby(level="year").sum().to_numpy(), zone.point.sum((0, 1)), rtol=1e-9)
    # errors of the size the back-test tables report
    live = back[back["actual"] > 0]
    ape = (live["projected"] / live["actual"] - 1).abs() * 100
    lead1 = ape[ape.index.get_level_values("year") == 2015]
    assert 1.0 < lead1.mean() < 10.0, lead1.mean()
    total = back.groupby(level="year").sum()
    assert ((total["projected"] / total["actual"] - 1).abs() < 0.03).all()


def test_a_school_closed_within_the_window_is_stated_and_its_cohort_moves_on(tmp_path):
    """S2 (zone A) closes after 2024: its pupils of grades 1-2 would have continued there; in the projection it has
    none, the district total is kept (moves lose no pupils) and a note names it."""
    d = write_us_district(tmp_path / "d", THREE, births_rising(100.0))
    e = pd.read_csv(d / "enrolment.csv", dtype={"grade": str})
    e = e[~((e["school_id"] == "S2") & (e["year"] == 2025))]
    # S2's 2025 pupils went to S1 (the history stays stable district-wide: 135 a grade)
    e.loc[(e["school_id"] == "S1") & (e["year"] == 2025), "pupils"] = 90
    e.to_csv(d / "enrolment.csv", index=False)
    s = pd.read_csv(d / "schools.csv")
    s.loc[s["school_id"] == "S2", "status"] = "closed"
    s.to_csv(d / "schools.csv", index=False)
    dist = load_district(d)
    ps = settings_for_system(ProjectionSettings, US, {"method": "mean", "horizon": 3, "draws": 10, "calibrate": False, "unit": "school"})
    with collecting() as notes:
        p = project_district(dist, ps)
    assert p.point[p.zones.index("S2")].sum() == 0
    np.testing.assert_allclose(p.point.sum((0, 1)), 3 * 135, rtol=1e-9)
    assert any(n.startswith("school 'S2' (School S2, zone A) is closed; it had pupils until 2024") for n in notes)


def test_backtest_takes_the_unit_from_the_scenario_and_names_schools(tmp_path, capsys):
    d = write_us_district(tmp_path / "d", THREE, births_rising(100.0))
    main(["backtest", str(scenario(tmp_path, d)), "--level", "zone_stage", "--out", str(tmp_path / "b")])
    out = capsys.readouterr().out
    assert "school x stage: MAPE" in out
    m = pd.read_csv(tmp_path / "b" / "backtest_metrics.csv")
    assert set(m["level"]) == {"total", "stage", "school", "school_stage", "school_grade"}  # the units are schools
    # a stable history: the method and both baselines (persistence, trend) project every school without error
    assert (m.loc[m["level"] == "school_stage", "mape"].fillna(0) < 1e-6).all()
    e = pd.read_csv(tmp_path / "b" / "backtest_errors.csv")
    assert "school_id" in e and set(e["school_id"]) == {"S1", "S2", "S3"}
    assert dict(e.drop_duplicates("school_id").set_index("school_id")["zone_id"]) == {"S1": "A", "S2": "A", "S3": "B"}
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["settings"]["unit"] == "school"


def test_status_quo_shortfalls_in_school_mode_are_the_schools_own(tmp_path):
    """S2 has room to spare (8 rooms: 200 seats for 110-150 pupils), S1 is 10 then 50 short: zone A as a whole is
    never short (450 seats), but S1's pupils are without a seat at the school they chose. The report's shortfall
    list (no plan) sums the schools' own shortfalls: zone A elementary 60 pupil-years in 2027-2028."""
    from capacity.report.run_report import shortfall_groups
    from capacity.run import execute
    from capacity.scenario import load_scenario

    d = write_us_district(tmp_path / "d", {"S1": ("A", 60, 10), "S2": ("A", 30, 8), "S3": ("B", 45, 8)}, births_rising())
    sc = scenario(tmp_path, d)
    sc.write_text(sc.read_text(encoding="utf-8") + "run_plan: false\n", encoding="utf-8")
    with collecting():
        r = execute(load_scenario(sc))
    g = r.gap.gap
    za = g[(g["level"] == "zone") & (g["area"] == "A") & (g["stage"] == "elementary")]
    assert (za["shortfall"] == 0).all()
    groups = shortfall_groups(r).set_index(["zone_id", "stage"])
    row = groups.loc[("A", "elementary")]
    assert (row["first_year"], row["last_year"]) == (2027, 2028)
    np.testing.assert_allclose([row["pupil_years"], row["most_pupils"]], [60, 50])


def k2_and_3to5_schools(s5_grades: tuple[str, ...], zones: tuple[str, str]):
    """A one-year history of S1 (teaches K-2, 60 a grade) and S5 (teaches 3-5, 20 in each of ``s5_grades``) in
    ``zones``."""
    from capacity.projection.cube import History

    g = US.grade_index
    pupils = np.zeros((2, len(US.grades), 1))
    pupils[0, [g["K"], g["1"], g["2"]], 0] = 60
    pupils[1, [g[x] for x in s5_grades], 0] = 20
    teaching = np.zeros((2, len(US.grades)))
    teaching[0, [g["K"], g["1"], g["2"]]] = 1
    teaching[1, [g["3"], g["4"], g["5"]]] = 1
    return History(("S1", "S5"), (2025,), pupils, None, (), US, teaching=teaching, unit_zone=zones, school_unit=(True, True))


def test_zone_pupils_of_a_grade_no_school_has_yet_go_to_the_school_that_teaches_it():
    """Zone A: S1 teaches K-2 (60 a grade), S5 teaches 3-5 and has only grade 3 so far (20). Housing pupils of grade
    4 go to S5 (it teaches 4), not to S1 by its share of the elementary stage; grade 1's go to S1 (it has them)."""
    g = US.grade_index
    h = k2_and_3to5_schools(("3",), ("A", "A"))
    by = np.zeros((1, len(US.grades), 1))
    by[0, g["4"], 0], by[0, g["1"], 0] = 10.0, 6.0
    out = spread_to_schools(by, h, "test")
    assert out[1, g["4"], 0] == 10.0 and out[0, g["4"], 0] == 0.0
    assert out[0, g["1"], 0] == 6.0 and out[1, g["1"], 0] == 0.0


def test_plan_refuses_unit_school_with_a_demand_file(tmp_path, capsys):
    d = write_us_district(tmp_path / "d", THREE, births_rising())
    dem = tmp_path / "demand.csv"
    pd.DataFrame({"year": [2026], "zone_id": ["A"], "grade": ["K"], "pupils": [10]}).to_csv(dem, index=False)
    code, _, err = run_cli(["plan", str(d), "--unit", "school", "--demand", str(dem)], capsys)
    assert code == 2 and "--unit school" in err and "--demand" in err


def test_robust_plan_in_school_mode_reads_the_draws_by_zone(tmp_path, capsys):
    d = write_us_district(tmp_path / "d", THREE, births_rising())
    sc = tmp_path / "rb.yaml"
    sc.write_text(
        f"name: rb\ndistrict: {d}\nhorizon: 3\nprojection: {{method: mean, unit: school, draws: 50}}\n"
        "plan: {time_limit_s: 10, robust_eval_draws: 3, integer_classes: false}\n",
        encoding="utf-8",
    )
    main(["plan", str(sc), "--robust", "2"])
    out = capsys.readouterr().out
    assert "Robustness on held-out demand draws" in out and "robust over 2 draws" in out
    assert "the plan's demand is pupils by zone" in out
