"""Defects found by the wave-4 robustness review on hand-built districts (England, custom grades,
high schools only, missing years, one zone, one school, ...), each with a test that failed before its fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from capacity.cli import main
from capacity.data import load_district
from capacity.notes import collecting
from capacity.outputs import atomic_dir
from capacity.projection import ProjectionSettings, history_from_district, project_district
from capacity.standards import settings_for_system


def test_output_with_an_empty_folder_can_be_replaced(tmp_path: Path):
    """A run that wrote an empty folder (charts/ with nothing to draw) was refused on the next run
    into the same --out: the marker listed files only, so the empty folder looked foreign."""
    target = tmp_path / "out"
    for _ in range(2):
        with atomic_dir(target) as tmp:
            (tmp / "charts").mkdir()
            (tmp / "table.csv").write_text("a\n1\n")
    assert (target / "charts").is_dir() and (target / "table.csv").is_file()


US_ELEM, US_MID = ["K", "1", "2", "3", "4", "5"], ["6", "7", "8"]


def write_district(folder: Path, tables: dict[str, list[dict]]) -> Path:
    """A district folder from rows per table."""
    folder.mkdir(parents=True)
    for name, rows in tables.items():
        pd.DataFrame(rows).to_csv(folder / f"{name}.csv", index=False)
    return folder


def school(sid: str, zone: str, first: str, last: str, rooms: int, x: float, status: str = "open") -> dict:
    return dict(
        school_id=sid, name=sid, zone_id=zone, first_grade=first, last_grade=last, classrooms=rooms, max_classrooms=rooms + 2,
        x_km=x, y_km=0.0, sector="public", status=status,
    )  # fmt: skip


def k8_district(folder: Path, **extra: list[dict]) -> Path:
    """A US K-8 district (no high school, no pre-K), two zones, 2019-2025, slightly noisy rolls."""
    rng = np.random.default_rng(0)
    enrol = [
        dict(year=y, school_id=s, grade=g, pupils=int(n + rng.integers(-3, 4)))
        for y in range(2019, 2026)
        for s, grades, n in (("E1", US_ELEM, 50), ("E2", US_ELEM, 40), ("M1", US_MID, 90))
        for g in grades
    ]
    return write_district(
        folder,
        dict(
            district=[dict(key="grade_system", value="us")],
            zones=[dict(zone_id="A", name="A", kind="town", x_km=0, y_km=0), dict(zone_id="B", name="B", kind="town", x_km=3, y_km=0)],
            schools=[school("E1", "A", "K", "5", 12, 0), school("E2", "B", "K", "5", 12, 3), school("M1", "A", "6", "8", 12, 1)],
            enrolment=enrol,
            **extra,
        ),
    )


def test_housing_adds_no_pupils_to_a_stage_no_school_teaches(tmp_path: Path):
    """A K-8 district with new housing: the US default yields made high-school and pre-K pupils, and
    the gap asked for a high-school classroom (and a pre-K one) in a district with no such school."""
    housing = [
        dict(zone_id="B", year=2026, dwellings=200, dwelling_type="single_family"),
        dict(zone_id="B", year=2040, dwellings=500, dwelling_type="single_family"),
    ]
    d = load_district(k8_district(tmp_path / "d", housing=housing))
    settings = settings_for_system(ProjectionSettings, d.grades, dict(draws=20, horizon=2, entry_rule={"K": "held"}))
    with collecting() as notes:
        proj = project_district(d, settings)
    g = d.grades
    stage = np.array([g.stage_of_grade[x] for x in g.grades])
    assert proj.point[:, np.isin(stage, ["high", "prek"]), :].sum() == 0  # zones x grades x years
    # the taught stages keep their housing pupils: 200 dwellings x 0.13 middle pupils x 0.8 present in 2027
    plain = project_district(load_district(k8_district(tmp_path / "e")), settings)
    added = proj.point[:, stage == "middle", 1].sum() - plain.point[:, stage == "middle", 1].sum()
    assert added == pytest.approx(200 * 0.13 * 0.8, abs=0.01)
    assert any("no open or candidate school teaches high, prek" in n for n in notes)
    assert any("500 dwellings completed after 2027 (2040)" in n for n in notes)


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(args)
        raise SystemExit(0)
    out = capsys.readouterr()
    return int(e.value.code or 0), out.out, out.err


def test_validate_with_a_scenario_checks_rated_capacity_at_its_tolerance_and_class_sizes(tmp_path: Path, capsys):
    """validate checked rated capacity at the default 10 % and class size 25 only, so a district the
    scenario's gap and plan refuse (or accept) was said valid (or refused) by validate."""
    d = k8_district(tmp_path / "d")
    s = pd.read_csv(d / "schools.csv")
    s["capacity"] = [300, "", ""]  # E1: 12 rooms x 25 = 300 (US default); at 30 a class, 360 (17 % off)
    s.to_csv(d / "schools.csv", index=False)
    code, out, _ = run_cli(["validate", str(d)], capsys)
    assert code == 0 and out.startswith("OK:")
    yaml = tmp_path / "s.yaml"
    yaml.write_text("name: s\ndistrict: d\nstandards:\n  class_size: {elementary: 30}\n", encoding="utf-8")
    code, _, err = run_cli(["validate", str(yaml)], capsys)
    assert code == 2 and "schools.csv, row 2, column 'capacity'" in err and "Traceback" not in err
    yaml.write_text("name: s\ndistrict: d\nstandards:\n  class_size: {elementary: 30}\n  rated_capacity_tolerance: 0.2\n", encoding="utf-8")
    code, out, _ = run_cli(["validate", str(yaml)], capsys)
    assert code == 0 and "under scenario s" in out


def test_report_lists_the_decided_projects(tmp_path: Path, capsys):
    """A decided project (a new school already funded) changed the seats in the gap and the plan but
    appeared nowhere in report.html: a board reading it could not see the 9 M school it counts on."""
    projects = [
        dict(project_id="PR-NEW", school_id="N1", completion_year=2026, classrooms=6, seats="", cost=9e6, stage=""),
        dict(project_id="PR-EXT", school_id="E1", completion_year=2026, classrooms=1, seats=30, cost=5e5, stage="elementary"),
    ]
    d = k8_district(tmp_path / "d", projects=projects)
    s = pd.read_csv(d / "schools.csv")
    s.loc[len(s)] = school("N1", "B", "K", "5", 0, 3.2, status="candidate") | {"max_classrooms": 6}
    s.to_csv(d / "schools.csv", index=False)
    (tmp_path / "s.yaml").write_text(
        "name: s\ndistrict: d\nhorizon: 1\nprojection: {method: mean, draws: 20, entry_rule: {K: held}}\nplan: {time_limit_s: 5}\n",
        encoding="utf-8",
    )
    code, _, err = run_cli(["run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "out")], capsys)
    assert code == 0, err
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Decided projects" in html and "PR-NEW" in html and "PR-EXT" in html
    assert "their capital (9,500,000 USD) is not part of this option" in html


def test_many_implausible_grade_sizes_are_summed_up_and_name_the_grade(tmp_path: Path, capsys):
    """A district of very large schools got one warning line per enrolment row (234 lines burying the
    rest), and a US grade read '7,057 pupils in 10' instead of 'in grade 10'."""
    d = k8_district(tmp_path / "d")
    e = pd.read_csv(d / "enrolment.csv")
    e.loc[e["school_id"] == "M1", "pupils"] *= 50  # 21 rows of about 4,500 pupils
    e.to_csv(d / "enrolment.csv", index=False)
    code, out, err = run_cli(["validate", str(d)], capsys)
    assert code == 0
    lines = [ln for ln in (out + err).splitlines() if ln.startswith("warning: enrolment.csv")]
    assert len(lines) == 11
    assert "pupils in grade 6 at 'M1' in 2019" in lines[0]
    assert lines[-1].startswith("warning: enrolment.csv: 11 more rows hold more than 3,000 pupils") and "schools 'M1'" in lines[-1]


def test_a_grade_moved_between_schools_is_history_not_an_error(tmp_path: Path, capsys):
    """Grade 6 moved from the elementary schools to the middle school in 2022: validate refused every
    earlier grade-6 row ('expected a grade that school teaches (K-5)'), so the district could not be
    used without rewriting its history. A typo (a grade in place of one the school teaches) is still refused."""
    d = k8_district(tmp_path / "d")
    e = pd.read_csv(d / "enrolment.csv", dtype={"grade": str})
    early = (e["school_id"] == "M1") & (e["grade"] == "6") & (e["year"] < 2022)
    moved = e[early].assign(school_id="E1")
    pd.concat([e[~early], moved], ignore_index=True).to_csv(d / "enrolment.csv", index=False)
    code, out, err = run_cli(["validate", str(d)], capsys)
    assert code == 0, err
    assert f"'E1' has {int(moved['pupils'].sum()):,} pupils in grade 6 in 2019-2021, outside the grades it teaches now (K-5" in out + err
    # the zone totals keep every pupil: grade 6 counted in E1's zone A before 2022, M1's zone A after
    hist = history_from_district(load_district(d))
    assert np.nansum(hist.pupils) == e["pupils"].sum()
    # the same row in the last history year, or in place of a grade the school teaches, is refused
    for year, replace in ((2025, False), (2020, True)):
        bad = e.copy()
        i = bad.index[(bad["school_id"] == "E1") & (bad["grade"] == "5") & (bad["year"] == year)][0]
        if replace:
            bad.loc[i, "grade"] = "6"
        else:
            bad.loc[len(bad)] = dict(year=year, school_id="E1", grade="6", pupils=10)
        bad.to_csv(d / "enrolment.csv", index=False)
        code, _, err = run_cli(["validate", str(d)], capsys)
        assert code == 2 and "found 6 at school 'E1'; expected a grade that school teaches (K-5)" in err


def test_compare_says_when_runs_state_money_in_different_units():
    """Comparing an England run (GBP) with a US run (USD) set their costs side by side with no word
    that they are in different units."""
    from capacity.compare import RunTables, compare

    runs = [
        RunTables(n, Path(n), {"scenario": n}, {"district": n, "report": {"currency_unit": u}}, {})
        for n, u in (("eng", "GBP"), ("us", "USD"))
    ]
    with collecting() as notes:
        compare(runs)
    assert any("different units (eng: GBP, us: USD)" in n for n in notes)
    with collecting() as notes:
        compare([RunTables(r.name, r.folder, r.manifest, {**r.scenario, "report": {"currency_unit": "GBP"}}, {}) for r in runs])
    assert not any("different units" in n for n in notes)


def test_a_bad_coordinate_is_reported_once(tmp_path: Path, capsys):
    """x_km '0,5' (a decimal comma) was reported twice: as found '0,5', and again as a blank cell."""
    d = k8_district(tmp_path / "d")
    z = pd.read_csv(d / "zones.csv", dtype=str)
    z.loc[1, "x_km"] = "0,5"
    z.to_csv(d / "zones.csv", index=False)
    code, _, err = run_cli(["validate", str(d)], capsys)
    assert code == 2
    assert "error: 1 problem(s)" in err and "zones.csv, row 3, column 'x_km': found '0,5'; expected a finite number" in err


def test_gap_budget_says_when_a_short_zone_has_no_school_of_the_stage():
    """New housing in a zone with no school: the status-quo budget asked for classrooms in that zone
    as if a school there could be extended, with no word that none exists."""
    from capacity.gap.gap import budget_needed
    from capacity.grades import preset

    us = preset("us")
    gap = pd.DataFrame(
        dict(
            year=[2026, 2026], level="zone", area=["A", "C"], name=["A", "C"], stage="elementary",
            demand=[280.0, 40.0], seats=[300.0, 0.0], gap=[20.0, -40.0], shortfall=[0.0, 40.0],
        )
    )  # fmt: skip
    with collecting() as notes:
        b = budget_needed(gap, {"elementary": 25}, {"elementary": 4e5}, us)
    assert b.set_index("zone_id").at["C", "new_classrooms"] == 2
    assert any("zone C (elementary) short with no seat of the stage in the zone" in n for n in notes)
    assert not any("zone A" in n for n in notes)


def test_partial_attendance_keeps_the_other_grades_at_their_schools(tmp_path: Path, capsys):
    """An attendance matrix of the elementary grades only: every middle-school pupil lost their home
    school in the status quo (M1 projected at 0 pupils, its classes and teachers gone from the gap)."""
    attendance = [dict(year=2025, zone_id=z, school_id=s, grade=g, pupils=45) for z, s in (("A", "E1"), ("B", "E2")) for g in US_ELEM]
    k8_district(tmp_path / "d", attendance=attendance)
    (tmp_path / "s.yaml").write_text(
        "name: s\ndistrict: d\nhorizon: 1\nprojection: {method: mean, draws: 20, entry_rule: {K: held}}\n", encoding="utf-8"
    )
    code, out, err = run_cli(["gap", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "out")], capsys)
    assert code == 0, err
    sizes = pd.read_csv(tmp_path / "out" / "school_sizes.csv").set_index(["school_id", "basis"])["pupils"]
    assert sizes[("M1", "projected")] == pytest.approx(sizes[("M1", "actual")], rel=0.1)  # about 270 pupils, as on roll
    assert "attendance: its last year (2025) has no pupils for 3 zone-grade pairs with pupils on roll in 2025 (grades 6, 7, 8)" in out + err
    assert "before the last history year" not in out + err
    # an older matrix is used with a note saying so
    a = pd.read_csv(tmp_path / "d" / "attendance.csv").assign(year=2021)
    a.to_csv(tmp_path / "d" / "attendance.csv", index=False)
    code, out, err = run_cli(["gap", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "out")], capsys)
    assert code == 0 and "attendance: its last year 2021 is before the last history year 2025" in out + err


def test_a_stage_named_with_a_slash_gets_its_charts(tmp_path: Path, capsys):
    """A custom stage key 'up/per' made every gap/run fail at the end with 'could not write (No such
    file or directory)': chart files were named by the raw stage key."""
    grades = [dict(grade=f"G{i}", stage="low er" if i <= 3 else "up/per", age=5 + i, stage_label="") for i in range(1, 6)]
    enrol = [
        dict(year=y, school_id=s, grade=f"G{i}", pupils=40 + (y + i) % 3)
        for y in range(2019, 2026)
        for s, i in [("L1", 1), ("L1", 2), ("L1", 3), ("U1", 4), ("U1", 5)]
    ]
    write_district(
        tmp_path / "d",
        dict(
            district=[dict(key="grade_system", value="custom")],
            grades=grades,
            zones=[dict(zone_id="A", name="A", kind="rural", x_km=0, y_km=0)],
            schools=[school("L1", "A", "G1", "G3", 6, 0), school("U1", "A", "G4", "G5", 4, 1)],
            enrolment=enrol,
        ),
    )
    (tmp_path / "s.yaml").write_text(
        "name: s\ndistrict: d\nhorizon: 1\n"
        "standards: {cost_per_classroom: {'low er': 100000.0, 'up/per': 100000.0}}\n"
        "projection: {method: mean, draws: 20, entry_rule: {G1: held}}\n"
        "gap: {pupils_per_teacher: {'low er': 18.0, 'up/per': 16.0}}\n"
        "plan: {travel_km: {'low er': 5.0, 'up/per': 9.0}, boarding_km: {'low er': 0.0, 'up/per': 0.0}, "
        "cost_per_class_year: {'low er': 50000.0, 'up/per': 50000.0}}\n",
        encoding="utf-8",
    )
    code, _, err = run_cli(["gap", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "out")], capsys)
    assert code == 0, err
    charts = sorted(p.name for p in (tmp_path / "out" / "charts").iterdir())
    assert (
        len([c for c in charts if c.startswith("gap_heatmap_up_per")]) == 1
        and not (tmp_path / "out" / "charts" / "gap_heatmap_up").exists()
    )


ENGLAND = ["R"] + [f"Y{i}" for i in range(1, 14)]


def england_district(folder: Path) -> Path:
    """England: zone '007' (leading zeros, non-ASCII name) with an all-through R-Y13 school whose rooms
    are given by stage, zone '010' with a capacity-only primary, partial attendance (primary only),
    housing in a zone with no school, and births."""
    rng = np.random.default_rng(3)
    enrol = [
        dict(year=y, school_id=s, grade=g, pupils=int(n + rng.integers(-3, 4)))
        for y in range(2018, 2026)
        for s, grades, n in (("AT1", ENGLAND, 45), ("P2", ENGLAND[:7], 28))
        for g in grades
    ]
    sch = [school("AT1", "007", "R", "Y13", 40, 0.1), school("P2", "010", "R", "Y6", 0, 2) | {"capacity": 210}]
    sch[0]["capacity"] = ""
    return write_district(
        folder,
        dict(
            district=[dict(key="grade_system", value="england")],
            zones=[
                dict(zone_id="007", name="Ćamden Nörth", kind="urban", x_km=0, y_km=0),
                dict(zone_id="010", name="Hackney", kind="town", x_km=2, y_km=1),
                dict(zone_id="020", name="Fields", kind="rural", x_km=1, y_km=2.5),
            ],
            schools=sch,
            enrolment=enrol,
            births=[dict(year=y, zone_id=z, births=b) for y in range(2010, 2025) for z, b in (("007", 40), ("010", 30), ("020", 8))],
            stage_rooms=[
                dict(school_id="AT1", stage="primary", classrooms=14),
                dict(school_id="AT1", stage="secondary", classrooms=18),
                dict(school_id="AT1", stage="sixth_form", classrooms=8),
            ],
            attendance=[
                dict(year=2025, zone_id=z, school_id=s, grade=g, pupils=n)
                for z, s, n in (("007", "AT1", 45), ("010", "P2", 28))
                for g in ENGLAND[:7]
            ],
            housing=[dict(zone_id="020", year=2026, dwellings=300, dwelling_type="house")],
        ),
    )


@pytest.mark.parametrize("build", [england_district, k8_district], ids=["england", "us-k8"])
def test_no_pupil_is_lost_or_created_between_projection_gap_and_plan(build, tmp_path: Path):
    """Every pupil of the projection's demand appears, by stage and year, in the gap's county demand,
    in the status-quo pupils at schools (none without a home school), and in the plan's demand nodes."""
    from capacity.data.district import split_by_home_school
    from capacity.gap import GapSettings, gap_report
    from capacity.plan.inputs import demand_nodes

    d = load_district(build(tmp_path / "d"))
    extra = {"entry_rule": {"K": "held"}} if d.grades.name == "us" else {}
    proj = project_district(d, settings_for_system(ProjectionSettings, d.grades, dict(draws=30, horizon=2, **extra)))
    demand = proj.demand(0.5)
    stage = demand["grade"].map(d.grades.stage_of_grade)
    by_stage = demand.groupby([demand["year"], stage])["pupils"].sum()
    by_stage = by_stage[by_stage.groupby(level=1).transform("sum") > 0]  # the gap lists the stages with pupils or seats
    assert (demand["pupils"] >= 0).all() and demand["pupils"].notna().all()
    with collecting() as notes:
        g = gap_report(d, proj, settings_for_system(GapSettings, d.grades))
    county = g.gap[g.gap["level"] == "county"].set_index(["year", "stage"])["demand"]
    pd.testing.assert_series_equal(county.reindex(by_stage.index), by_stage.astype(float), check_names=False, atol=1.0)
    homed = split_by_home_school(d, demand)
    homeless = homed[homed["school_id"].eq("") & (homed["pupils"] > 0)]
    assert set(homeless["zone_id"]) <= {"020"}  # only the zone with housing and no school
    if len(homeless):
        assert any(n.startswith("status quo: pupils of zone 020") for n in notes)
    assert homed["pupils"].sum() == pytest.approx(demand["pupils"].sum())
    _, nodes = demand_nodes(d, demand)
    assert nodes["pupils"].sum() == pytest.approx(demand["pupils"].sum())
    sizes = g.school_sizes[g.school_sizes["basis"] == "projected"].groupby("year")["pupils"].sum()
    housed = homed[homed["school_id"] != ""].groupby("year")["pupils"].sum()
    assert (sizes - housed).abs().max() <= len(d.schools) * len(d.grades.grades)  # rounding only


def test_a_writer_bug_is_not_reported_as_a_full_or_read_only_disk(tmp_path: Path):
    """A file written into a folder the writer never made (the 'up/per' chart) was reported as
    'could not write (No such file or directory); expected a writable folder with room'."""
    from capacity.errors import OutputError

    with pytest.raises(FileNotFoundError):
        with atomic_dir(tmp_path / "out") as tmp:
            (tmp / "charts" / "a.png").write_bytes(b"x")
    assert not (tmp_path / "out").exists()
    with pytest.raises(OutputError, match="could not write"):  # a real write failure still reads as one
        with atomic_dir(tmp_path / "out") as tmp:
            raise OSError(28, "No space left on device", str(tmp / "a.csv"))
