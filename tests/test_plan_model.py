"""Plan model: small instances solved by hand, phase-in caps, invariants on the example."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from plan_checks import check_plan_invariants, hand_settings

from capacity.data import load_district
from capacity.errors import ScenarioError
from capacity.grades import CHINA
from capacity.plan import PlanSettings, available_solvers, plan_district, plan_from_projection
from capacity.plan.inputs import class_caps, school_table
from capacity.projection import ProjectionSettings, project_district

SOLVERS = available_solvers()
STAGES = ("kindergarten", "primary", "junior", "senior")


def tiny_district(tmp: Path, schools: list[dict], enrol: dict[str, int]) -> Path:
    """Zones A at (0,0) and B at (2,0) km; P1-only schools; last-year pupils per school."""
    tmp.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([("A", "a", "town", 0.0, 0.0), ("B", "b", "town", 2.0, 0.0)], columns=["zone_id", "name", "kind", "x_km", "y_km"]).to_csv(
        tmp / "zones.csv", index=False
    )
    base = {"first_grade": "P1", "last_grade": "P1", "sector": "public", "status": "open", "boarding_beds": 0, "can_close": "false"}
    pd.DataFrame([{**base, **s} for s in schools]).to_csv(tmp / "schools.csv", index=False)
    pd.DataFrame([(2025, s, "P1", n) for s, n in enrol.items()], columns=["year", "school_id", "grade", "pupils"]).to_csv(
        tmp / "enrolment.csv", index=False
    )
    pd.DataFrame([(2019, z, 50) for z in "AB"], columns=["year", "zone_id", "births"]).to_csv(tmp / "births.csv", index=False)
    return tmp


def settings(solver: str, **kw) -> PlanSettings:
    """The hand-case settings with travel at 1 per pupil-km, on ``solver``."""
    return hand_settings(cost_per_pupil_km_year=1.0, solver=solver, **kw)


def demand(a: float, b: float, year: int = 2026) -> pd.DataFrame:
    return pd.DataFrame({"year": [year, year], "zone_id": ["A", "B"], "grade": ["P1", "P1"], "pupils": [a, b]})


TWO = [
    {"school_id": "SA", "name": "sa", "zone_id": "A", "classrooms": 1, "max_classrooms": 2, "x_km": 0.0, "y_km": 0.0},
    {"school_id": "SB", "name": "sb", "zone_id": "B", "classrooms": 1, "max_classrooms": 1, "x_km": 2.0, "y_km": 0.0},
]


@pytest.mark.parametrize("solver", SOLVERS)
def test_two_zones_one_expansion_by_hand(tmp_path, solver):
    # 100 pupils, 90 seats: one classroom at SA (1,000) beats 10 unmet; 3 classes x 100 -> 1,300
    d = load_district(tiny_district(tmp_path, TWO, {"SA": 80, "SB": 20}))
    dem = demand(80, 20)
    r = plan_district(d, dem, settings(solver))
    assert r.summary["status"] == "optimal"
    assert r.summary["objective"] == pytest.approx(1300.0)
    assert r.builds[["school_id", "classrooms", "seats", "cost"]].values.tolist() == [["SA", 1, 45, 1000.0]]
    assert r.classes.set_index("school_id")["classes"].to_dict() == {"SA": 2.0, "SB": 1.0}
    assert r.unmet.empty
    check_plan_invariants(r, dem)


@pytest.mark.parametrize("solver", SOLVERS)
def test_travel_instead_of_building_by_hand(tmp_path, solver):
    # no builds: SA holds 45, so 5 of A's 50 travel 2 km to SB: 2 classes (200) + 5 x 2 km (10) = 210
    d = load_district(tiny_district(tmp_path, TWO, {"SA": 50, "SB": 30}))
    dem = demand(50, 30)
    r = plan_district(d, dem, settings(solver, allow_builds=False))
    assert r.summary["objective"] == pytest.approx(210.0)
    a = r.assignment.set_index(["zone_id", "school_id"])["pupils"]
    assert a[("A", "SB")] == pytest.approx(5.0)
    assert a[("A", "SB")] == pytest.approx(r.summary["pupils_moved_last_year"])
    check_plan_invariants(r, dem)


@pytest.mark.parametrize("solver", SOLVERS)
def test_merger_when_it_pays_by_hand(tmp_path, solver):
    # SB (10 pupils) may close: keep = 2 x 5,000 + 2 classes (200) = 10,200;
    # close = 5,000 + 2 classes at SA (200) + 10 pupils x 2 km (20) = 5,220
    schools = [dict(TWO[0], classrooms=2), dict(TWO[1], can_close="true")]
    d = load_district(tiny_district(tmp_path, schools, {"SA": 40, "SB": 10}))
    dem = demand(40, 10)
    r = plan_district(d, dem, settings(solver, cost_per_school_year=5000.0))
    assert r.summary["objective"] == pytest.approx(5220.0)
    assert r.schools.set_index("school_id").loc["SB", "status"] == "closed"
    assert r.summary["schools_closed"] == 1
    check_plan_invariants(r, dem)
    # forbidding the closure gives the other answer
    r2 = plan_district(d, dem, settings(solver, cost_per_school_year=5000.0, forbid_close=("SB",)))
    assert r2.summary["objective"] == pytest.approx(10200.0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_budget_leaves_a_reported_shortfall(tmp_path, solver):
    d = load_district(tiny_district(tmp_path, TWO, {"SA": 80, "SB": 20}))
    r = plan_district(d, demand(80, 20), settings(solver, budget_per_year=0.0))
    assert r.builds.empty
    assert r.unmet["pupils"].sum() == pytest.approx(10.0)
    assert r.shortfalls == ["zone A (a) is short 10 P1 seats in 2026 even with every allowed build: no school teaching P1 has a spare seat"]


def test_phase_in_caps_follow_the_cohort(example):
    s = PlanSettings(standard_from=2027, legacy_cap=65)
    sch = school_table(example, s, (2026, 2027, 2028)).loc[["U01-P1"]]
    caps = class_caps(sch, (2026, 2027, 2028), s, grades=CHINA).set_index(["grade", "year"])["cap"]
    assert caps[("P1", 2026)] == 65 and caps[("P1", 2027)] == 45
    assert caps[("P2", 2027)] == 65 and caps[("P2", 2028)] == 45  # the 2027 P1 cohort
    assert caps[("P3", 2028)] == 65
    s2 = s.with_(standard_all_from=2028)
    caps2 = class_caps(sch, (2026, 2027, 2028), s2, grades=CHINA).set_index(["grade", "year"])["cap"]
    assert caps2[("P6", 2028)] == 45 and caps2[("P6", 2027)] == 65


def test_existing_large_classes_age_out_but_never_grow(example):
    from capacity.plan.inputs import base_class_sizes

    s = PlanSettings(standard_from=2026, legacy_cap=65)
    base = base_class_sizes(example, s)
    sch = school_table(example, s, (2026, 2027)).loc[["U01-P1"]]
    caps = class_caps(sch, (2026, 2027), s, base, 2025, grades=CHINA).set_index(["grade", "year"])["cap"]
    # P2 in 2026 is the 2025 P1 cohort: it keeps its largest 2025 class, no more
    assert caps[("P2", 2026)] == max(45, base[("U01-P1", "P1")]) < 65
    assert caps[("P3", 2027)] == max(45, base[("U01-P1", "P1")])
    assert caps[("P1", 2026)] == 45


def test_bad_plan_settings_and_names(example):
    with pytest.raises(ScenarioError, match="plan.travel_km.primary: found 0"):
        PlanSettings(travel_km={"kindergarten": 2, "primary": 0, "junior": 10, "senior": 30})
    with pytest.raises(ScenarioError, match="plan.force_close: found school 'NOPE'"):
        school_table(example, PlanSettings(force_close=("NOPE",)), (2026,))


@pytest.fixture(scope="module")
def example_demand(example):
    p = project_district(example, ProjectionSettings(draws=100, horizon=5))
    t = p.table(quantiles=(0.5,))
    return p, t[["year", "zone_id", "grade"]].assign(pupils=t["p50"].round(0))


def test_example_plan_relaxed_classes_is_optimal_and_valid(example, example_demand):
    _, dem = example_demand
    r = plan_district(example, dem, PlanSettings(integer_classes=False, time_limit_s=60))
    assert r.summary["status"] == "optimal"
    check_plan_invariants(r, dem)


def test_example_plan_time_limit_is_labelled_with_gap(example, example_demand):
    _, dem = example_demand
    r = plan_district(example, dem, PlanSettings(time_limit_s=3, mip_gap=0.0))
    assert r.summary["status"] in ("time_limit", "optimal")
    if r.summary["status"] == "time_limit":
        assert r.summary["gap"] > 0 and r.summary["bound"] <= r.summary["objective"]
    check_plan_invariants(r, dem)


def test_plan_from_projection_uses_the_quantile(example, example_demand):
    p, _ = example_demand
    r = plan_from_projection(example, p, PlanSettings(integer_classes=False, demand_quantile=0.9))
    # one coherent scenario: the county total of each year at the quantile of the county draws (issue 12, defect 5)
    assert r.data.demand["pupils"].sum() == pytest.approx(p.demand(0.9)["pupils"].sum())
