"""The solve strategy's rounding incumbent and its guarantee, on instances small enough to solve by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from adapters import write_orlib_district
from plan_checks import hand_settings, write_district

from capacity.data import load_district
from capacity.plan import PlanSettings, SolveReport, plan_district
from capacity.plan.inputs import prepare
from capacity.plan.model import build
from capacity.plan.strategy import first_plan, keep_better, round_classes
from capacity.standards import Standards

ZERO = {"kindergarten": 0.0, "primary": 0.0, "junior": 0.0, "senior": 0.0}
# OR-Library-style facility location (tests/adapters.py): only opening costs and per-pupil km at 1
CFLP = PlanSettings(
    standards=Standards(cost_per_classroom=ZERO),
    travel_km=dict.fromkeys(ZERO, 1e9),
    boarding_km=ZERO,
    cost_per_class_year=ZERO,
    cost_per_school_year=0.0,
    cost_per_pupil_km_year=1.0,
    cost_per_boarder_year=0.0,
    cost_per_moved_pupil_year=0.0,
    new_school_fixed_cost=0.0,
    new_school_lead_years=0,
    unmet_penalty=1e6,
    mip_gap=0.0,
    time_limit_s=30.0,
    threads=1,
)


def cflp(tmp_path, text: str):
    (tmp_path / "inst.txt").write_text(text)
    folder, demand = write_orlib_district(tmp_path / "inst.txt", tmp_path / "district")
    return load_district(folder), demand


def test_round_classes_rounds_up_where_rooms_allow_and_down_the_smallest_fraction(tmp_path):
    # One P1-P2 school with 3 classrooms and nothing to build: 1.5 P1 and 1.2 P2 classes round up to 2 + 2 = 4
    # rooms, one too many, so the smaller fraction (P2's 0.2) goes down: 2 + 1.
    f = write_district(
        tmp_path,
        [("A", 0, 0)],
        [dict(school_id="SA", zone_id="A", classrooms=3, max_classrooms=3, x_km=0, y_km=0, last_grade="P2")],
        {"SA": 40},
    )
    dem = pd.DataFrame({"year": [2026, 2026], "zone_id": ["A", "A"], "grade": ["P1", "P2"], "pupils": [60.0, 50.0]})
    s = hand_settings(integer_classes=False, allow_builds=False)
    m = build(prepare(load_district(f), dem, s), s)
    grade = list(m.data.caps["grade"])
    for v, g in zip(m.n, grade, strict=True):
        v.varValue = {"P1": 1.5, "P2": 1.2}[g]
    assert dict(zip(grade, round_classes(m), strict=True)) == {"P1": 2, "P2": 1}
    for v, g in zip(m.n, grade, strict=True):
        v.varValue = {"P1": 1.5, "P2": 0.5}[g]
    assert dict(zip(grade, round_classes(m), strict=True)) == {"P1": 2, "P2": 1}  # 2 + 1 fits: nothing goes down


def test_first_plan_seats_every_pupil_and_the_plan_is_never_worse(tmp_path):
    # 150 pupils; site W000 seats 100 for 500, W001 seats 200 for 1,500. The weak relaxation fills W000
    # and a quarter of W001, so rounding opens both (2,000, nobody unseated); the optimum opens W001 alone (1,500).
    district, demand = cflp(tmp_path, "2 1\n100 500\n200 1500\n150 0 0\n")
    data = prepare(district, demand, CFLP)
    values, objective, bound = first_plan(data, CFLP, 10.0)
    assert objective == pytest.approx(2000)
    assert bound == pytest.approx(500 + 1500 * 50 / 200)
    assert sum(v for k, v in values.items() if k.startswith("u_")) == 0
    r = plan_district(district, demand, CFLP)
    assert r.summary["status"] == "optimal" and r.summary["objective"] == pytest.approx(1500)
    assert r.summary["unmet_pupil_years"] == 0


def test_keep_better_returns_the_rounded_plan_when_the_solver_ends_worse(tmp_path):
    district, demand = cflp(tmp_path, "2 1\n100 500\n200 1500\n150 0 0\n")
    data = prepare(district, demand, CFLP)
    model = build(data, CFLP)
    values, objective, _ = first_plan(data, CFLP, 10.0)
    start = {v: values.get(v.name, 0.0) for v in model.problem.variables()}
    worse = SolveReport("time_limit", "HiGHS", 150e6, 1000.0, (150e6 - 1000) / 150e6, 1.0, "Time limit reached")
    r = keep_better(model, worse, start, objective, 1200.0, CFLP.with_(mip_gap=0.5))
    assert (r.objective, r.bound, r.status) == (2000, 1200.0, "optimal")  # gap 40 % <= 50 %: proven within the gap
    assert r.gap == pytest.approx(0.4)
    assert {v.name: v.varValue for v in model.y.values()} == {"y_W000_2025": 1.0, "y_W001_2025": 1.0}
    none = SolveReport("no_solution", "HiGHS", math.nan, math.nan, math.nan, 1.0, "Time limit reached")
    r = keep_better(model, none, start, objective, math.nan, CFLP)
    assert (r.objective, r.status) == (2000, "time_limit") and math.isnan(r.gap)
    better = SolveReport("optimal", "HiGHS", 1500.0, 1500.0, 0.0, 1.0, "Optimal")
    assert keep_better(model, better, start, objective, 1200.0, CFLP).objective == 1500.0
