"""Whole classes only where they can change the answer (model.whole_classes_bind): on random small districts
the model with those counts relaxed has the same optimum as the model with every class count integer,
its reported classes are whole and seat every pupil, and a count that can bind stays integer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pulp
from hypothesis import given, settings
from hypothesis import strategies as st
from plan_checks import check_plan_invariants, hand_settings, p1_demand
from test_plan_metamorphic import FAST, districts, load

from capacity.plan import plan_district
from capacity.plan.inputs import prepare
from capacity.plan.model import build, whole_classes_bind
from capacity.plan.solve import solve

CLASS_COSTS = st.sampled_from([0.0, 100.0])
SOME = settings(FAST, max_examples=25)


def _optimum(data, s, every_count_integer: bool) -> float:
    m = build(data, s)
    if every_count_integer:
        for v in m.n:
            v.cat = pulp.LpInteger
    rep = solve(m.problem, s)
    assert rep.status == "optimal"
    return rep.objective


@SOME
@given(case=districts(), class_cost=CLASS_COSTS)
def test_relaxed_counts_keep_the_whole_class_optimum(tmp_path_factory, case, class_cost):
    zones, schools, enrol, demand, costs = case
    d = load(tmp_path_factory, zones, schools, enrol)
    dem = p1_demand(demand)
    s = hand_settings(
        strategy="direct", cost_per_class_year={k: class_cost for k in ("kindergarten", "primary", "junior", "senior")}, **costs
    )
    data = prepare(d, dem, s)
    whole = whole_classes_bind(data, s)
    # one grade per school: integer exactly where classes cost money
    assert whole.all() if class_cost else not whole.any()
    relaxed, full = _optimum(data, s, False), _optimum(data, s, True)
    assert abs(relaxed - full) <= 1e-6 * max(1.0, abs(full)), (relaxed, full)
    r = plan_district(d, dem, s)
    check_plan_invariants(r, dem)
    cl = r.tables["classes"]
    assert np.allclose(cl["classes"], np.round(cl["classes"]))
    assert (cl["pupils"] <= cl["classes"] * cl["cap"] + 1e-6).all()


def test_counts_sharing_rooms_stay_integer(tmp_path_factory):
    """Two grades in one school share its rooms: fractional counts could fill R with ceil(n1) + ceil(n2) > R,
    so both stay integer even when classes cost nothing."""
    from plan_checks import write_district

    from capacity.data import load_district

    folder = write_district(
        tmp_path_factory.mktemp("two"),
        [("A", 0.0, 0.0)],
        [
            dict(
                school_id="S0",
                zone_id="A",
                classrooms=2,
                max_classrooms=2,
                x_km=0.0,
                y_km=0.0,
                status="open",
                can_close="false",
                last_grade="P2",
            )
        ],
        {"S0": 10},
    )
    d = load_district(folder)
    dem = p1_demand({"A": [30.0]})
    dem = pd.concat([dem, dem.assign(grade="P2")], ignore_index=True)
    s = hand_settings(strategy="direct", cost_per_class_year={k: 0.0 for k in ("kindergarten", "primary", "junior", "senior")})
    data = prepare(d, dem, s)
    assert whole_classes_bind(data, s).all()
    assert not whole_classes_bind(data, s.with_(integer_classes=False)).any()


def _lp_bound(m, s) -> float:
    ints = [v for v in m.problem.variables() if v.cat == pulp.LpInteger]
    for v in ints:
        v.cat = pulp.LpContinuous
    rep = solve(m.problem, s)
    for v in ints:
        v.cat = pulp.LpInteger
    return rep.objective


@SOME
@given(case=districts())
def test_linking_rows_added_where_broken_keep_optimum_and_bound(tmp_path_factory, case):
    """Phase L (strategy.add_violated_linking_rows): the model with only the linking rows its relaxation breaks
    has the full model's optimum, and once no row is broken its relaxation's bound is the full model's LP bound."""
    from capacity.plan.strategy import add_violated_linking_rows

    zones, schools, enrol, demand, costs = case
    d = load(tmp_path_factory, zones, schools, enrol)
    s = hand_settings(strategy="direct", **costs)
    data = prepare(d, p1_demand(demand), s)
    full = build(data, s)
    lazy = build(data, s, linking_rows=False)
    rows, bound = add_violated_linking_rows(lazy, s, 30.0)
    n_link = full.problem.numConstraints() - build(data, s, linking_rows=False).problem.numConstraints()
    assert rows <= n_link
    strong = _lp_bound(full, s)
    assert abs(bound - strong) <= 1e-6 * max(1.0, abs(strong)), (bound, strong)
    a, b = solve(lazy.problem, s), solve(full.problem, s)
    assert a.status == b.status == "optimal"
    assert abs(a.objective - b.objective) <= 1e-6 * max(1.0, abs(b.objective)), (a.objective, b.objective)
