"""Decided closures (schools closed_from): hand-computed seat gap, plan, status quo and projection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from plan_checks import check_plan_invariants, costs_sum_to_objective, hand_settings, p1_demand, write_district

from capacity.data import load_district
from capacity.errors import InputError
from capacity.gap.seats import seat_table
from capacity.plan import PlanSettings, plan_district
from capacity.projection import ProjectionSettings, project_district

CLASS_SIZE = {"kindergarten": 30, "primary": 45, "junior": 50, "senior": 50}


def two_schools(tmp_path, closed_from="2028", **extra):
    """School A (zone A, 2 rooms) closes from ``closed_from``; school B (zone B, 2 km east, 2 rooms) stays."""
    return write_district(
        tmp_path,
        [("A", 0, 0), ("B", 2, 0)],
        [
            dict(school_id="SA", zone_id="A", classrooms=2, max_classrooms=2, x_km=0, y_km=0, closed_from=closed_from, **extra),
            dict(school_id="SB", zone_id="B", classrooms=2, max_classrooms=2, x_km=2, y_km=0, closed_from=""),
        ],
        {"SA": 40, "SB": 20},
    )


def one_zone_two_schools(tmp_path, closed_from: int, roll_a: int, roll_c: int):
    """Zone A with school SA (2 rooms) closing from ``closed_from`` and school SC (2 rooms) staying, both at the
    zone's centre; last-year P1 rolls ``roll_a`` and ``roll_c``."""
    return write_district(
        tmp_path,
        [("A", 0, 0)],
        [
            dict(school_id="SA", zone_id="A", classrooms=2, max_classrooms=2, x_km=0, y_km=0, closed_from=closed_from),
            dict(school_id="SC", zone_id="A", classrooms=2, max_classrooms=2, x_km=0, y_km=0, closed_from=""),
        ],
        {"SA": roll_a, "SC": roll_c},
    )


def solved(district):
    """The plan of A's 40 and B's 20 P1 pupils a year, 2026-28: school-year 10,000, class-year 100, 1 per pupil-km."""
    dem = p1_demand({"A": [40, 40, 40], "B": [20, 20, 20]})
    r = plan_district(district, dem, hand_settings(cost_per_school_year=10_000.0, cost_per_pupil_km_year=1.0))
    assert r.summary["status"] == "optimal"
    check_plan_invariants(r, dem)
    costs_sum_to_objective(r)
    return r


def test_seat_gap_counts_the_closing_school_until_its_year(tmp_path):
    d = load_district(two_schools(tmp_path))
    seats = seat_table(d, CLASS_SIZE, (2026, 2027, 2028, 2029))
    by = seats.groupby(["school_id", "year"])["seats"].sum()
    # 2 rooms x 45 seats = 90 at each school; A's only in 2026-27
    assert by["SA"].to_dict() == {2026: 90.0, 2027: 90.0}
    assert by["SB"].to_dict() == {y: 90.0 for y in (2026, 2027, 2028, 2029)}


def test_plan_moves_the_pupils_from_the_closing_year_at_the_hand_cost(tmp_path):
    # 2026-27: both open, 1 class each (2 x 100) + 2 schools x 10,000 = 20,200 a year.
    # 2028: A closed, its 40 pupils travel 2 km to B (40 x 2 x 1 = 80): 2 classes (200) + 1 school (10,000).
    # Objective 2 x 20,200 + 10,280 = 50,680 (without the closure: 3 x 20,200 = 60,600, and the plan may not keep A open).
    d = load_district(two_schools(tmp_path))
    r = solved(d)
    assert r.summary["objective"] == pytest.approx(50_680)
    sch = r.tables["schools"].set_index(["school_id", "year"])
    assert [sch.at[("SA", y), "status"] for y in (2026, 2027, 2028)] == ["open", "open", "closed"]
    assert sch.at[("SB", 2028), "pupils"] == pytest.approx(60)
    assert r.tables["closures"][["school_id", "year", "event"]].values.tolist() == [["SA", 2028, "close"]]
    costs = r.tables["costs"].set_index(["year", "category"])["cost"]
    assert costs[(2028, "operating_schools")] == pytest.approx(10_000)  # A's running cost stops
    assert r.summary["schools_closed_decided"] == 1
    # the merger table: A's 40 pupils (home school A) taught at B from 2028, 2 km away, nobody left without a seat
    from capacity.report.mergers import merger_table

    m = merger_table(r.tables, d)
    assert m[["year", "event", "school_id", "receiving_school_id"]].values.tolist() == [[2028, "close", "SA", "SB"]]
    assert m["pupils_moved"].tolist() == pytest.approx([40.0])
    assert m["travel_km"].tolist() == pytest.approx([2.0])
    assert r.unmet["pupils"].sum() == pytest.approx(0)


def test_decided_closure_cannot_be_forbidden_and_may_close_earlier_only_when_closable(tmp_path):
    d = load_district(two_schools(tmp_path, can_close="true"))
    dem = p1_demand({"A": [40, 40, 40], "B": [20, 20, 20]})
    with pytest.raises(Exception, match="forbid_close"):
        plan_district(d, dem, hand_settings(forbid_close=("SA",)))
    # closable: closing A already in 2026 saves a school-year each year (B seats 60 in 2 classes)
    r = plan_district(d, dem, hand_settings(cost_per_school_year=10_000.0, cost_per_pupil_km_year=1.0))
    assert r.summary["objective"] == pytest.approx(3 * 10_280)


def test_closure_after_the_horizon_changes_nothing_and_is_noted(tmp_path):
    from capacity.notes import collecting

    d = load_district(two_schools(tmp_path, closed_from="2031"))
    dem = p1_demand({"A": [40, 40, 40], "B": [20, 20, 20]})
    with collecting() as notes:
        r = plan_district(d, dem, hand_settings(cost_per_school_year=10_000.0, cost_per_pupil_km_year=1.0))
    assert r.summary["objective"] == pytest.approx(60_600)
    assert "schools_closed_decided" not in r.summary
    assert any("'SA' closes from 2031" in n for n in notes)


def test_status_quo_pupils_go_to_the_zone_other_home_school(tmp_path):
    from capacity.data.district import split_by_home_school, without_closed

    f = one_zone_two_schools(tmp_path, 2027, 30, 10)
    d = load_district(f)
    out = without_closed(split_by_home_school(d, p1_demand({"A": [40, 80]})), d.decided_closures)
    got = out.set_index(["year", "school_id"])["pupils"].to_dict()
    assert got == pytest.approx({(2026, "SA"): 30.0, (2026, "SC"): 10.0, (2027, "SC"): 80.0})


@pytest.mark.parametrize(
    ("closed_from", "row", "column", "fragment"),
    [
        ("2025", 2, "closed_from", "2025, inside the history (last year 2025)"),
        ("2027", 2, "completion_year", "2028 for project 'PX' at 'SA', which closes from 2027"),
    ],
)
def test_bad_closures_are_refused_naming_the_cell(tmp_path, closed_from, row, column, fragment):
    f = two_schools(tmp_path, closed_from=closed_from)
    pd.DataFrame([dict(project_id="PX", school_id="SA", completion_year=2028, classrooms=0, seats=10, cost=1.0, stage="")]).to_csv(
        f / "projects.csv", index=False
    )
    with pytest.raises(InputError) as e:
        load_district(f)
    text = str(e.value)
    assert fragment in text and f"column '{column}'" in text, text


def junior_district(tmp_path, closed_from: str):
    """Zones A and B, each with a P1-P6 and a J1-J3 school (100 pupils a grade, births 100 a year); A's junior
    school JA closes from ``closed_from`` (blank: never)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([("A", "a", "town", 0, 0), ("B", "b", "town", 3, 0)], columns=["zone_id", "name", "kind", "x_km", "y_km"]).to_csv(
        tmp_path / "zones.csv", index=False
    )
    rows = []
    for z, x in (("A", 0), ("B", 3)):
        rows.append(dict(school_id=f"P{z}", zone_id=z, first_grade="P1", last_grade="P6", classrooms=14, max_classrooms=20, x_km=x))
        rows.append(dict(school_id=f"J{z}", zone_id=z, first_grade="J1", last_grade="J3", classrooms=6, max_classrooms=12, x_km=x))
    s = pd.DataFrame(rows).assign(name=lambda f: f["school_id"], y_km=0, sector="public", status="open", closed_from="")
    s.loc[s["school_id"] == "JA", "closed_from"] = closed_from
    s.to_csv(tmp_path / "schools.csv", index=False)
    grades = [f"P{i}" for i in range(1, 7)] + ["J1", "J2", "J3"]
    enrol = [(y, f"{'J' if g.startswith('J') else 'P'}{z}", g, 100) for y in range(2019, 2026) for z in ("A", "B") for g in grades]
    pd.DataFrame(enrol, columns=["year", "school_id", "grade", "pupils"]).to_csv(tmp_path / "enrolment.csv", index=False)
    pd.DataFrame([(y, z, 100) for y in range(2005, 2026) for z in ("A", "B")], columns=["year", "zone_id", "births"]).to_csv(
        tmp_path / "births.csv", index=False
    )
    return tmp_path


@pytest.mark.parametrize(
    "unit, lost, taking, said",
    [
        ("zone", "A", "B", "decided closure: zone A has no school teaching J1, J2, J3 from 2028"),
        # school-level mode: each school is a unit, so JA's own pupils go to JB (before the fix the closed school kept
        # its juniors for the whole horizon)
        ("school", "JA", "JB", "decided closure: school JA closes from 2028; its pupils of J1, J2, J3 are projected at the schools"),
    ],
)
def test_a_unit_whose_only_junior_school_closes_sends_its_cohorts_away_from_that_year(tmp_path, unit, lost, taking, said):
    from capacity.notes import collecting

    settings = ProjectionSettings(draws=50, horizon=5, unit=unit)
    base = project_district(load_district(junior_district(tmp_path / "open", "")), settings)
    with collecting() as notes:
        shut = project_district(load_district(junior_district(tmp_path / "shut", "2028")), settings)
    assert said in " ".join(notes)
    gi = [shut.grades.grade_index[g] for g in ("J1", "J2", "J3")]
    za, zb = shut.zones.index(lost), shut.zones.index(taking)
    years = np.asarray(shut.years)
    before, after = years < 2028, years >= 2028
    # before 2028 nothing changes; from 2028 the unit teaches no junior pupil and the other teaches both cohorts
    np.testing.assert_allclose(shut.point[:, :, before], base.point[:, :, before])
    assert base.point[za][np.ix_(gi, after)].min() > 50  # A's own juniors, about 100 a grade
    np.testing.assert_allclose(shut.point[za][np.ix_(gi, after)], 0.0)
    np.testing.assert_allclose(shut.point[zb][np.ix_(gi, after)], base.point[za][np.ix_(gi, after)] + base.point[zb][np.ix_(gi, after)])
    # every draw conserves the pupils of each grade and year; primary grades untouched
    np.testing.assert_allclose(shut.draws.sum(0), base.draws.sum(0), rtol=1e-5)
    primary = [shut.grades.grade_index[g] for g in ("P1", "P6")]
    np.testing.assert_allclose(shut.point[:, primary], base.point[:, primary])


def test_example_county_plan_model_unchanged_without_closures():
    """No closed_from stated: the schools table holds no decided closure and the plan's forced closures are only
    force_close's (closed from the first planned year)."""
    from capacity.plan.inputs import school_table

    d = load_district()
    assert not len(d.decided_closures)
    s = school_table(d, PlanSettings(force_close=(d.schools.loc[d.schools["status"].eq("open"), "school_id"].iloc[0],)), (2026, 2027))
    assert s.loc[s["must_close"], "closed_from"].tolist() == [2026.0]
    assert s.loc[~s["must_close"], "closed_from"].isna().all()


def test_plan_closes_the_school_even_when_pupils_are_left_without_a_seat(tmp_path):
    # B has 1 room (45 seats) and no site room: from 2028 it seats B's 20 and 25 of A's 40 (2 km: 50), 15 are unmet.
    # 2 x 20,200 + (1 class 100 + 1 school 10,000 + travel 50 + 15 x 1e6) = 15,050,550: keeping A open would cost
    # 20,200 in 2028, but the closure is decided.
    f = write_district(
        tmp_path,
        [("A", 0, 0), ("B", 2, 0)],
        [
            dict(school_id="SA", zone_id="A", classrooms=2, max_classrooms=2, x_km=0, y_km=0, closed_from=2028),
            dict(school_id="SB", zone_id="B", classrooms=1, max_classrooms=1, x_km=2, y_km=0, closed_from=""),
        ],
        {"SA": 40, "SB": 20},
    )
    d = load_district(f)
    r = solved(d)
    assert r.summary["objective"] == pytest.approx(15_050_550)
    assert r.unmet.groupby("year")["pupils"].sum().to_dict() == pytest.approx({2028: 15.0})
    from capacity.report.mergers import merger_table

    assert merger_table(r.tables, d)["pupils_moved"].tolist() == pytest.approx([25.0])


def test_pupils_left_homeless_by_a_closure_are_noted_with_the_closure_as_the_cause(tmp_path):
    # zone A's only school SA closes from 2028: A's 40 pupils of 2028 have no home school because of the closure,
    # not because no school taught their grade last year (SA did)
    from capacity.gap.classes import status_quo_pupils
    from capacity.notes import collecting

    d = load_district(two_schools(tmp_path))
    with collecting() as notes:
        sq = status_quo_pupils(d, p1_demand({"A": [40, 40, 40], "B": [20, 20, 20]}))
    got = sq.set_index(["year", "school_id"])["pupils"].to_dict()
    assert got == {(2026, "SA"): 40, (2027, "SA"): 40, (2028, ""): 40, (2026, "SB"): 20, (2027, "SB"): 20, (2028, "SB"): 20}
    text = " ".join(notes)
    assert (
        "zone A (40 pupil-years; school SA closes from 2028) have no home school: the school closes (decided, schools.csv closed_from)"
        in text
    )
    assert "taught their grade in the last year" not in text


def test_merger_table_says_where_the_projection_placed_a_closed_zone_pupils(tmp_path):
    # The projection has already moved zone A's P1 pupils to zone B from 2028 (A's only school SA closes then), so the
    # plan moves nobody from SA: the row shows 0 pupils moved, and a note names SB (zone B) as where they are counted.
    # Objective: 2 x 20,200 (both open, 1 class each) + 2028: B's 60 pupils in 2 classes (200) + 1 school (10,000).
    from capacity.notes import collecting
    from capacity.report.mergers import merger_table

    d = load_district(two_schools(tmp_path))
    dem = p1_demand({"A": [40, 40, 0], "B": [20, 20, 60]})
    r = plan_district(d, dem, hand_settings(cost_per_school_year=10_000.0, cost_per_pupil_km_year=1.0))
    assert r.summary["objective"] == pytest.approx(50_600)
    with collecting() as notes:
        m = merger_table(r.tables, d)
    assert m[["year", "event", "school_id"]].values.tolist() == [[2028, "close", "SA"]]
    assert m["pupils_moved"].tolist() == [0.0]
    said = [n for n in notes if n.startswith("mergers: school SA closes from 2028")]
    assert len(said) == 1 and "no school of its zone A teaches P1" in said[0] and "at SB (zone B)" in said[0], notes
    # where the plan does move the closed school's pupils (test above: 40 to SB) nothing is noted
    with collecting() as notes:
        merger_table(solved(load_district(two_schools(tmp_path / "moved"))).tables, d)
    assert not [n for n in notes if n.startswith("mergers:")]


def test_housing_of_a_stage_every_school_of_which_closes_is_not_applied_from_then(tmp_path):
    # 300 flats in zone A completed 2026, 0.3 juniors a flat, all present at once: 90 juniors, 30 a grade, from 2026.
    # JA closes from 2028 and JB from 2029: in 2028 JB still teaches juniors (A's cohorts and flats' juniors move to B,
    # closures.py); from 2029 no school teaches them, so the flats' 90 juniors are left out, as for a stage no school
    # teaches, while the cohorts stay where they are (closures.py): the district's juniors fall by exactly 90.
    from capacity.notes import collecting

    def district(name, ja, jb):
        f = junior_district(tmp_path / name, ja)
        s = pd.read_csv(f / "schools.csv", dtype=str, keep_default_na=False)
        s.loc[s["school_id"] == "JB", "closed_from"] = jb
        s.to_csv(f / "schools.csv", index=False)
        pd.DataFrame([("A", 2026, 300, "flat")], columns=["zone_id", "year", "dwellings", "dwelling_type"]).to_csv(
            f / "housing.csv", index=False
        )
        return load_district(f)

    settings = ProjectionSettings(draws=20, horizon=5, housing_yield={"flat": {"junior": 0.3}}, housing_profile=(1.0,))
    base = project_district(district("open", "", ""), settings)
    with collecting() as notes:
        shut = project_district(district("shut", "2028", "2029"), settings)
    assert any("every school teaching junior closes by 2029" in n and "not applied from 2029 (90.0 pupils by 2030)" in n for n in notes), (
        notes
    )
    gi = [shut.grades.grade_index[g] for g in ("J1", "J2", "J3")]
    za, zb = shut.zones.index("A"), shut.zones.index("B")
    years = np.asarray(shut.years)
    juniors = lambda p: p[:, gi].sum((0, 1))  # noqa: E731 - district juniors by year
    np.testing.assert_allclose(juniors(shut.point) - juniors(base.point), np.where(years >= 2029, -90.0, 0.0), atol=1e-6)
    # 2028: A's juniors (cohorts and flats) taught in B; 2029-30: each zone keeps its cohorts, A without the flats' 30 a grade
    y28, late = years == 2028, years >= 2029
    np.testing.assert_allclose(shut.point[za][np.ix_(gi, y28)], 0.0)
    np.testing.assert_allclose(shut.point[za][np.ix_(gi, late)], base.point[za][np.ix_(gi, late)] - 30.0, atol=1e-6)
    np.testing.assert_allclose(shut.point[zb][np.ix_(gi, late)], base.point[zb][np.ix_(gi, late)], atol=1e-6)


def test_merger_note_does_not_say_the_zone_lost_its_school_when_another_school_of_the_zone_teaches(tmp_path):
    # SA (no pupils on its 2025 roll) closes from 2028; SC in the same zone teaches P1 and keeps all 40 pupils: nobody has
    # SA as home school, so 0 pupils moved, but zone A still teaches P1 (at SC) and the note must say so
    from capacity.notes import collecting
    from capacity.report.mergers import merger_table

    f = one_zone_two_schools(tmp_path, 2028, 0, 40)
    d = load_district(f)
    r = plan_district(d, p1_demand({"A": [40, 40, 40]}), hand_settings(cost_per_school_year=10_000.0, cost_per_pupil_km_year=1.0))
    with collecting() as notes:
        m = merger_table(r.tables, d)
    assert m[["year", "event", "school_id"]].values.tolist() == [[2028, "close", "SA"]]
    assert m["pupils_moved"].tolist() == [0.0]
    said = [n for n in notes if n.startswith("mergers: school SA closes from 2028")]
    assert len(said) == 1, notes
    assert "no school of its zone" not in said[0] and "zone A still teaches P1 at SC" in said[0], said


def test_homeless_note_names_the_new_school_of_the_zone_that_teaches_the_grade(tmp_path):
    # SA closes from 2028; SN, a candidate site of zone A with a decided project done in 2027, teaches P1 but had no pupils
    # in 2025, so it takes no status-quo share: A's 40 pupils of 2028 have no home school, and the note must not say that
    # no other school of their zone teaches their grade
    from capacity.gap.classes import status_quo_pupils
    from capacity.notes import collecting

    f = write_district(
        tmp_path,
        [("A", 0, 0), ("B", 2, 0)],
        [
            dict(school_id="SA", zone_id="A", classrooms=2, max_classrooms=2, x_km=0, y_km=0, closed_from=2028),
            dict(school_id="SN", zone_id="A", classrooms=0, max_classrooms=4, x_km=0, y_km=0, closed_from="", status="candidate"),
            dict(school_id="SB", zone_id="B", classrooms=2, max_classrooms=2, x_km=2, y_km=0, closed_from=""),
        ],
        {"SA": 40, "SB": 20},
        projects=[dict(project_id="PN", school_id="SN", completion_year=2027, classrooms=2, seats=0, cost=1.0, stage="")],
    )
    with collecting() as notes:
        sq = status_quo_pupils(load_district(f), p1_demand({"A": [40, 40, 40], "B": [20, 20, 20]}))
    assert sq.loc[sq["year"].eq(2028) & sq["zone_id"].eq("A"), ["school_id", "pupils"]].values.tolist() == [["", 40]]
    said = [n for n in notes if n.startswith("status quo: pupils of zone A")]
    assert len(said) == 1, notes
    assert "no other school of their zone teaches" not in said[0] and "taught also at SN" in said[0], said
