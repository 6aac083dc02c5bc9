"""Metamorphic properties of the plan on random small districts (hypothesis, 50+ districts).

Whatever the district: allowing more (closures, re-opening, builds, new schools, budget, reach)
never raises the optimal cost; adding seats or a school never leaves more pupils unmet; the
reported costs always sum to the objective. Districts are tiny (P1 only, 2 years, <= 4 schools)
and solved to a proven optimum (gap 0), so each property is exact up to the solver tolerance.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_checks import check_plan_invariants, costs_sum_to_objective, hand_settings, p1_demand, write_district

from capacity.data import load_district
from capacity.plan import plan_district

COUNTER = itertools.count()
TOL = 1e-6


@st.composite
def districts(draw):
    n_zones = draw(st.integers(1, 2))
    zones = [(z, float(draw(st.integers(0, 6))), 0.0) for z in "AB"[:n_zones]]
    schools, enrol = [], {}
    for i in range(draw(st.integers(1, 3))):
        z, x, _ = zones[draw(st.integers(0, n_zones - 1))]
        rooms = draw(st.integers(0, 2))
        candidate = draw(st.booleans()) and i > 0
        sid = f"S{i}"
        schools.append(
            dict(
                school_id=sid,
                zone_id=z,
                classrooms=0 if candidate else rooms,
                max_classrooms=rooms + draw(st.integers(0, 4)),
                x_km=x + draw(st.integers(-2, 2)),
                y_km=0.0,
                status="candidate" if candidate else "open",
                can_close=str(draw(st.booleans())).lower(),
            )
        )
        if not candidate:
            enrol[sid] = draw(st.integers(1, 40))
    if not enrol:  # the district needs an enrolment history: one open school at least
        schools[0].update(status="open", classrooms=1, max_classrooms=max(1, schools[0]["max_classrooms"]))
        enrol[schools[0]["school_id"]] = 10
    demand = {z: [draw(st.integers(0, 200)) for _ in range(2)] for z, _, _ in zones}
    costs = dict(
        cost_per_school_year=float(draw(st.sampled_from([0, 3_000, 20_000]))),
        cost_per_pupil_km_year=float(draw(st.sampled_from([0, 10]))),
        cost_per_reopening=float(draw(st.sampled_from([0, 2_000]))),
        build_lead_years=draw(st.integers(0, 1)),
        new_school_lead_years=draw(st.integers(0, 1)),
    )
    return zones, schools, enrol, demand, costs


def load(tmp_path_factory, zones, schools, enrol):
    return load_district(write_district(tmp_path_factory.mktemp(f"m{next(COUNTER)}"), zones, schools, enrol))


def solve(d, demand, **kw):
    dem = p1_demand(demand)
    r = plan_district(d, dem, hand_settings(strategy="direct", **kw))
    assert r.summary["status"] == "optimal"
    check_plan_invariants(r, dem)
    costs_sum_to_objective(r)
    return r


def no_worse(more, less) -> None:
    a, b = more.summary["objective"], less.summary["objective"]
    assert a <= b + TOL * max(1.0, abs(b)), (a, b)


# (more options, fewer options)
RELAXATIONS = [
    ({}, {"allow_closures": False}),
    ({}, {"allow_reopening": False}),
    ({}, {"closure_lead_years": 1}),
    ({}, {"min_years_closed": 2}),
    ({}, {"allow_builds": False}),
    ({}, {"allow_new_schools": False}),
    ({"budget_per_year": 2_000.0}, {"budget_per_year": 0.0}),
    ({"travel_km": {"kindergarten": 2.0, "primary": 6.0, "junior": 10.0, "senior": 30.0}}, {}),
]


FAST = settings(
    max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@FAST
@given(case=districts(), pair=st.sampled_from(RELAXATIONS))
def test_more_options_never_cost_more(tmp_path_factory, case, pair):
    zones, schools, enrol, demand, costs = case
    d = load(tmp_path_factory, zones, schools, enrol)
    more, less = pair
    no_worse(solve(d, demand, **{**costs, **more}), solve(d, demand, **{**costs, **less}))


@FAST
@given(case=districts())
def test_allowing_closures_never_costs_more(tmp_path_factory, case):
    """Marking every open school closable (closures being a mere option) never raises the cost."""
    zones, schools, enrol, demand, costs = case
    fixed = solve(load(tmp_path_factory, zones, schools, enrol), demand, **{**costs, "allow_closures": False})
    closable = [dict(s, can_close="true") for s in schools]
    no_worse(solve(load(tmp_path_factory, zones, closable, enrol), demand, **costs), fixed)


@FAST
@given(case=districts(), extra=st.integers(1, 2), at=st.integers(0, 6), school=st.booleans())
def test_more_seats_never_leave_more_pupils_unmet(tmp_path_factory, case, extra, at, school):
    """More classrooms at an open school, or one more open school (with no pupils yet, so the
    demand's home schools stay as they are), never leave more pupil-years unmet."""
    zones, schools, enrol, demand, costs = case
    base = solve(load(tmp_path_factory, zones, schools, enrol), demand, **costs)
    if school:
        new = dict(school_id="SX", zone_id=zones[0][0], classrooms=extra, max_classrooms=extra, x_km=float(at), y_km=0.0)
        more = [*schools, new]
    else:
        s0 = next(s for s in schools if s["status"] == "open")
        more = [dict(s, classrooms=s["classrooms"] + extra, max_classrooms=s["max_classrooms"] + extra) if s is s0 else s for s in schools]
    after = solve(load(tmp_path_factory, zones, more, enrol), demand, **costs)
    assert after.summary["unmet_pupil_years"] <= base.summary["unmet_pupil_years"] + TOL


@pytest.mark.parametrize("rate", [0.0, 0.05])
def test_reported_costs_sum_to_the_objective_with_every_cost_on(tmp_path, rate):
    schools = [
        dict(school_id="SA", zone_id="A", classrooms=1, max_classrooms=3, x_km=0, y_km=0, can_close="true"),
        dict(school_id="SB", zone_id="A", classrooms=1, max_classrooms=1, x_km=2, y_km=0, can_close="true"),
        dict(school_id="SC", zone_id="A", classrooms=0, max_classrooms=2, x_km=1, y_km=0, status="candidate"),
    ]
    d = load_district(write_district(tmp_path, [("A", 0, 0)], schools, {"SA": 30, "SB": 30}))
    dem = p1_demand({"A": [100, 40, 40, 130]})
    s = hand_settings(
        cost_per_school_year=20_000.0,
        cost_per_pupil_km_year=10.0,
        cost_per_moved_pupil_year=50.0,
        cost_per_closure=1_000.0,
        cost_per_reopening=2_000.0,
        cost_per_closed_school_year=500.0,
        allow_disposal=True,
        discount_rate=rate,
        strategy="direct",
    )
    r = plan_district(d, dem, s)
    assert r.summary["status"] == "optimal"
    costs_sum_to_objective(r)
    assert set(r.closures["event"]) <= {"close", "reopen", "dispose"}
