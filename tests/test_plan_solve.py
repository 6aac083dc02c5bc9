"""The solve strategy's rounding incumbent and its guarantee, on instances small enough to solve by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from adapters import write_orlib_district
from plan_checks import hand_settings, write_district
from test_district_forms import FIXED, blocks
from test_grade_systems import US_SCHOOLS, quick
from test_grade_systems import write_district as write_graded_district

from capacity.data import load_district
from capacity.grades import US
from capacity.plan import PlanSettings, SolveReport, plan_district, strategy
from capacity.plan.inputs import prepare
from capacity.plan.model import build, values
from capacity.plan.strategy import first_plan, keep_better, round_classes, rounding_incumbent
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
    values, objective, bound = first_plan(data, CFLP, 10.0)[0]
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
    values, objective, _ = first_plan(data, CFLP, 10.0)[0]
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


def _same_plan(a, b) -> None:
    assert (a.summary["status"], b.summary["status"]) == ("optimal", "optimal")
    assert a.summary["objective"] == pytest.approx(b.summary["objective"], rel=1e-6)
    pd.testing.assert_frame_equal(a.builds, b.builds)
    pd.testing.assert_frame_equal(a.unmet, b.unmet, check_exact=False, atol=1e-6)  # (assignments may tie)


@pytest.mark.parametrize("direct_share", [strategy.DIRECT_SHARE, 0.0])
def test_decompose_on_rated_capacities_only_gives_the_direct_plan(tmp_path, monkeypatch, direct_share):
    """Two schools stating only rated capacities (tests/test_district_forms.py::blocks): S1 rated 100 seats
    (3 rooms, site for 6), S2 rated 80, 1 km apart. B1 grows 100 -> 150 -> 190 P1 pupils in 2026-2028, B2
    holds 60: seats 180 against 160, 210, 250 pupils, so 70 more seats by 2028 = ceil(70 / 45) = 2 rooms,
    decided in 2026 to be usable from 2027 (the 2027 shortfall of 30 needs one of them then).

    Every phase's model carries the rated rows: phase B's years alone count A's rooms as rooms the rated
    seats grow with (without that, B's start seats only 100 at S1 in 2027-2028 and leaves 50 / 90 unmet). With
    phase D (the full model from R's plan) the plan is proven before B runs: without it, B's start is checked."""
    monkeypatch.setattr(strategy, "DIRECT_SHARE", direct_share)
    d = load_district(blocks(tmp_path / "d", max1=6))
    rows = [(t, "B1", "P1", b1) for t, b1 in ((2026, 100), (2027, 150), (2028, 190))] + [(t, "B2", "P1", 60) for t in (2026, 2027, 2028)]
    demand = pd.DataFrame(rows, columns=["year", "zone_id", "grade", "pupils"])
    s = PlanSettings(allow_closures=False, allow_new_schools=False, mip_gap=0.0, time_limit_s=5.0, threads=1)
    direct = plan_district(d, demand, s.with_(strategy="direct"))
    dec = plan_district(d, demand, s)
    assert dec.summary["strategy"] == "decompose"
    _same_plan(dec, direct)
    b = dec.builds
    assert b[["year", "usable_from", "school_id", "classrooms", "seats"]].values.tolist() == [[2026, 2027, "S1", 2, 90]]
    assert dec.unmet["pupils"].sum() == pytest.approx(0.0, abs=1e-6)
    at_s1 = dec.assignment[dec.assignment["school_id"] == "S1"].groupby("year")["pupils"].sum()
    assert (at_s1 <= pd.Series({2026: 100.0, 2027: 190.0, 2028: 190.0}) + 1e-6).all()
    assert ("phase_d_s" in dec.summary) == (direct_share > 0)  # R's rounded plan is not optimal here: D runs where it may
    if direct_share == 0:  # the full model was solved from a start: B's is whole
        assert dec.summary["year_by_year_objective"] == pytest.approx(direct.summary["objective"], rel=1e-6)


def test_rounding_repair_seats_pupils_where_the_rated_capacity_has_room(tmp_path):
    """One year, B1 = 120 P1 pupils; S1 (0 km) rated 100 seats in 3 rooms, S2 (1 km) rated 80 in 2 rooms.
    A fractional plan with 2 classes at S1 and none at S2 seats 90 and leaves 30 unmet. The repair adds
    classes beside unmet pupils, nearest first, only as far as the school's rated seats go: one class at S1
    (its last 10 seats), then one at S2 for the other 20; nobody is left unmet. (Counting S1's empty third
    room as 45 seats would add only S1's class and leave 20 unmet.)"""
    d = load_district(blocks(tmp_path / "d", demand=(120, 0)))
    s = PlanSettings(**FIXED, integer_classes=False, mip_gap=0.0, threads=1)
    m = build(prepare(d, d.demand, s), s)
    caps = m.data.caps
    for v, sid, g in zip(m.n, caps["school_id"], caps["grade"], strict=True):
        v.varValue = 2.0 if (sid, g) == ("S1", "P1") else 0.0
    for v, sid, node in zip(m.x, m.data.arcs["school_id"], m.data.arcs["node"], strict=True):
        v.varValue = 90.0 if sid == "S1" and m.data.nodes.set_index("node").at[node, "zone_id"] == "B1" else 0.0
    for v, z in zip(m.u, m.data.demand["zone_id"], strict=True):
        v.varValue = 30.0 if z == "B1" else 0.0
    plan, _ = rounding_incumbent(m, s)
    assert sum(v for k, v in plan.items() if k.startswith("u_")) == pytest.approx(0.0, abs=1e-6)
    classes = {(sid, g): plan[v.name] for v, sid, g in zip(m.n, caps["school_id"], caps["grade"], strict=True) if plan[v.name]}
    assert classes == {("S1", "P1"): 3.0, ("S2", "P1"): 1.0}
    load = pd.Series(values(m.x)).groupby(m.data.arcs["school_id"]).sum()
    assert load.to_dict() == pytest.approx({"S1": 100.0, "S2": 20.0})


def test_decompose_on_a_us_district_gives_the_direct_plan(tmp_path):
    """The US district of tests/test_grade_systems.py (grades K-12; E1, E2 K-5, M1 6-8, H1 9-12 with 12 rooms),
    planned for 2025-2026 against its stable demand (50 pupils a zone and grade). H1's grade 9 is held to the
    standard 30 from the first year (4 classes for 100), grades 10-12 keep their classes of 34 (3 each): 13
    classes in 12 rooms, so 10 grade-9 pupils wait in 2025 (3 x 30 = 90 seats); in 2026 grade 10 is that
    cohort, at 30 too: 4 + 4 + 3 + 3 = 14 classes, the 2 rooms built in 2025 (usable a year later)."""
    d = load_district(write_graded_district(tmp_path / "us", US, US_SCHOOLS, "us"))
    rows = [(t, z, g, 50.0) for t in (2025, 2026) for z in ("A", "B") for g in US.grades_between("K", "12")]
    demand = pd.DataFrame(rows, columns=["year", "zone_id", "grade", "pupils"])
    s = quick(PlanSettings, US, allow_closures=False, allow_new_schools=False, mip_gap=0.0, time_limit_s=5.0, threads=1)
    direct = plan_district(d, demand, s.with_(strategy="direct"))
    dec = plan_district(d, demand, s)
    assert dec.summary["strategy"] == "decompose"
    _same_plan(dec, direct)
    un = dec.unmet
    assert un[["year", "grade"]].values.tolist() == [[2025, "9"]] and un["pupils"].sum() == pytest.approx(10.0, abs=1e-6)
    assert dec.builds[["year", "school_id", "classrooms"]].values.tolist() == [[2025, "H1", 2]]
    assert set(dec.classes["grade"]) <= set(US.grades)


def test_a_re_run_gets_its_own_time_share_after_a_longer_first_run():
    """HiGHS compares time_limit with the run time summed over an instance's runs: a re-run given less time
    than the first run took used to stop at once (slope-scaling rounds, cut loop, local search)."""
    import numpy as np
    import pulp

    from capacity.plan.solve import resolve_with_costs, solve

    rng = np.random.default_rng(3)
    n, m = 600, 400
    prob = pulp.LpProblem("lp", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x{j}", 0, 10) for j in range(n)]
    gain = rng.random(n)
    prob += pulp.lpSum(g * v for g, v in zip(gain, x, strict=True))
    a = rng.random((m, n)) * (rng.random((m, n)) < 0.2)
    for i in range(m):
        prob += pulp.lpSum(a[i, j] * x[j] for j in np.flatnonzero(a[i])) <= 10, f"r{i}"
    first = solve(prob, PlanSettings(threads=1, time_limit_s=60.0), fallback=None)
    assert first.status == "optimal"
    ran = prob.solverModel.getRunTime()
    assert ran > 0.02  # long enough that half of it is time for a warm-started re-run
    # costs changed a little: a few simplex iterations from the last basis, far quicker than the first run
    costs = np.asarray(prob.solverModel.getLp().col_cost_) * (1 + 0.05 * rng.random(n))
    again = resolve_with_costs(prob, dict(zip(prob.variables(), costs, strict=True)), ran / 2)
    assert again.status == "optimal"
    values = np.array([v.varValue for v in prob.variables()])
    assert again.objective == pytest.approx(float(costs @ values), rel=1e-9)


def test_a_misreported_started_solve_is_run_again_only_in_the_time_the_limit_leaves(monkeypatch):
    """A started solve whose reported objective its plan does not reach is run again without presolve; the second
    run gets the time the plan's limit leaves after the first, not the whole limit again (it doubled the time)."""
    import importlib
    import time

    import pulp

    solve_mod = importlib.import_module("capacity.plan.solve")  # the module (capacity.plan's ``solve`` is the function)

    prob = pulp.LpProblem("mip", pulp.LpMinimize)
    z = [pulp.LpVariable(f"z{j}", 0, 3, cat=pulp.LpInteger) for j in range(3)]
    prob += pulp.lpSum((j + 1) * v for j, v in enumerate(z))
    prob += pulp.lpSum(z) >= 2, "cover"
    given: list[float] = []
    monkeypatch.setattr(solve_mod, "_held_objective", lambda h: 1.0)  # as if HiGHS misreported the objective
    monkeypatch.setattr(solve_mod, "run_again", lambda h, time_s: given.append(time_s) or 0.0)
    slow_solve = prob.solve

    def first_run_of(seconds):
        def run(solver):
            time.sleep(seconds)  # the first run took that long of the limit
            return slow_solve(solver)

        return run

    limit = 3.0
    monkeypatch.setattr(prob, "solve", first_run_of(1.5))
    t0 = time.perf_counter()
    solve_mod.solve(prob, PlanSettings(threads=1, time_limit_s=limit), fallback=None, start={z[0]: 2.0})
    first = time.perf_counter() - t0
    assert len(given) == 1 and first + given[0] <= limit + 0.05, (first, given)
    given.clear()
    monkeypatch.setattr(prob, "solve", first_run_of(2.5))  # less than MIN_RESOLVE_S left: not run again
    solve_mod.solve(prob, PlanSettings(threads=1, time_limit_s=limit), fallback=None, start={z[0]: 2.0})
    assert given == []


def test_year_by_year_is_skipped_where_its_share_would_run_the_plan_past_its_time_limit():
    from capacity.plan.strategy import year_by_year_share

    # 60 s, 10 years: nothing spent yet -> 45 % (27 s); 40 s spent -> 0.8 x 20 = 16 s, still >= 1 s a year
    assert year_by_year_share(60.0, 0.0, 10, True) == pytest.approx(27.0)
    assert year_by_year_share(60.0, 40.0, 10, True) == pytest.approx(16.0)
    # 58 s spent: 1.6 s for 10 solves of at least MIN_YEAR_S (0.25 s) would overrun the limit; with R's plan as a
    # start B is skipped
    assert strategy.MIN_YEAR_S * 10 > 1.6
    assert year_by_year_share(60.0, 58.0, 10, True) == 0.0
    assert year_by_year_share(60.0, 55.0, 10, True) == pytest.approx(4.0)
    # without a start B still runs (each year at its floor): C would otherwise have no start at all
    assert year_by_year_share(60.0, 58.0, 10, False) == pytest.approx(1.6)
    assert year_by_year_share(60.0, 70.0, 10, True) == 0.0
