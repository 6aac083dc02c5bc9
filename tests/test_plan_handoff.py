"""The hand-off to HiGHS: the variable list and the row arrays kept on a plan problem stay those of the problem
as it is now (rows added and bounds changed after a solve reach the next solve)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pulp
from plan_checks import hand_settings, write_district

from capacity.data import load_district
from capacity.plan.inputs import prepare
from capacity.plan.model import PlanProblem, build
from capacity.plan.solve import row_arrays, solve


def _small_model(tmp_path):
    f = write_district(
        tmp_path,
        [("A", 0, 0), ("B", 3, 0)],
        [
            dict(school_id="SA", zone_id="A", classrooms=2, max_classrooms=4, x_km=0, y_km=0, last_grade="P2"),
            dict(school_id="SB", zone_id="B", classrooms=2, max_classrooms=2, x_km=3, y_km=0, last_grade="P2", can_close=True),
        ],
        {"SA": 40, "SB": 30},
    )
    dem = pd.DataFrame(
        {
            "year": [2026, 2026, 2027, 2027],
            "zone_id": ["A", "B", "A", "B"],
            "grade": ["P1", "P2", "P1", "P2"],
            "pupils": [70.0, 20.0, 80.0, 25.0],
        }
    )
    s = hand_settings(allow_closures=True, closure_lead_years=0)
    return build(prepare(load_district(f), dem, s), s), s


def test_variables_are_pulps_own_list_in_pulps_order(tmp_path):
    m, _ = _small_model(tmp_path)
    prob = m.problem
    assert prob.variables() == pulp.LpProblem.variables(prob)
    # a variable that first appears in a row added later, and one only in the objective
    extra = prob.add_variable("a_extra", lowBound=0)
    prob += extra + m.x[0] <= 100, "extra_row"
    only = prob.add_variable("zz_objective_only", lowBound=0)
    prob.setObjective(prob.objective + 2.0 * only)
    mine = [v.name for v in prob.variables()]
    assert mine == [v.name for v in pulp.LpProblem.variables(prob)]
    assert "a_extra" in mine and "zz_objective_only" in mine
    assert mine == sorted(mine)


def test_rows_added_and_bounds_changed_after_a_solve_reach_the_next_solve():
    # min x + 2y  s.t.  x + y >= 2: 2 (x = 2); with x <= 1 added: 3 (x = 1, y = 1); with y >= 2 as a bound: 4 (x = 0)
    prob = PlanProblem("t", pulp.LpMinimize)
    x = prob.add_variable("x", lowBound=0)
    y = prob.add_variable("y", lowBound=0)
    prob += x + y >= 2, "cover"
    prob.setObjective(x + 2 * y)
    s = hand_settings()
    assert solve(prob, s).objective == 2.0
    prob += x <= 1, "cap_x"
    assert solve(prob, s).objective == 3.0
    assert (x.varValue, y.varValue) == (1.0, 1.0)
    y.lowBound = 2
    assert solve(prob, s).objective == 4.0
    assert (x.varValue, y.varValue) == (0.0, 2.0)


def test_row_arrays_appended_equal_the_rows_read_afresh(tmp_path):
    m, s = _small_model(tmp_path)
    prob = m.problem
    solve(prob, s)
    prob += m.x[0] + m.x[1] <= 50, "later_row"
    kept = row_arrays(prob)
    del prob._row_arrays
    fresh = row_arrays(prob)
    for a, b in zip(kept, fresh, strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(kept[0]) == len(prob.constraints())
