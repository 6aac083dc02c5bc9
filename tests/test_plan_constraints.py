"""One test per constraint family: the rows built on a two-school case, compared with the rows
written out by hand (coefficients, sense, right-hand side), as linopy's assert_conequal does.

The case: zone A at (0, 0) with 50 P1 pupils in 2026 and 60 in 2027, all at home school SA
(open, 1 classroom, site for 3, may close); SB a candidate 5 km away (2 classrooms, 3 boarding
beds: beyond the 3 km primary limit, within the 20 km boarding limit). Builds take a year, a
new school can first open in 2027.
"""

from __future__ import annotations

import pandas as pd
import pytest
from plan_checks import hand_settings, p1_demand, write_district

from capacity.data import load_district
from capacity.plan.inputs import prepare
from capacity.plan.model import build
from capacity.standards import Standards

SENSE = {-1: "<=", 0: "==", 1: ">="}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    schools = [
        dict(school_id="SA", zone_id="A", classrooms=1, max_classrooms=3, x_km=0, y_km=0, can_close="true"),
        dict(school_id="SB", zone_id="A", classrooms=0, max_classrooms=2, x_km=5, y_km=0, status="candidate", boarding_beds=3),
    ]
    d = load_district(write_district(tmp_path_factory.mktemp("c"), [("A", 0, 0)], schools, {"SA": 30}))
    s = hand_settings(
        build_lead_years=1,
        new_school_lead_years=1,
        min_school_size=10,
        max_moved=5.0,
        budget_per_year=5000.0,
        school_size_from=2026,
        min_years_closed=2,
        allow_disposal=True,
        standards=Standards(
            cost_per_classroom={k: 1000.0 for k in ("kindergarten", "primary", "junior", "senior")},
            max_school_size={"single": 100, "multi": 100},
        ),
    )
    return build(prepare(d, p1_demand({"A": [50, 60]}), s), s)


def names(model) -> dict[str, str]:
    """Readable names for the flow variables: x_SA_2026, n_SB_2027, u_2026."""
    d = model.data
    out = {v.name: f"x_{s}_{t}" for v, s, t in zip(model.x, d.arcs["school_id"], d.arcs["year"], strict=True)}
    out |= {v.name: f"n_{s}_{t}" for v, s, t in zip(model.n, d.caps["school_id"], d.caps["year"], strict=True)}
    out |= {v.name: f"u_{t}" for v, t in zip(model.u, d.demand["year"], strict=True)}
    return out


def rows(model, prefix: str, readable: bool = True) -> dict[str, tuple[dict[str, float], str, float]]:
    """Every constraint whose name starts with ``prefix``: ({variable: coefficient}, sense, rhs)."""
    nm = names(model) if readable else {}
    out = {}
    for c in model.problem.constraints():
        name = c.name
        if name.startswith(prefix):
            coef = {nm.get(v.name, v.name): float(k) for v, k in c.items() if k}
            out[name] = (coef, SENSE[c.sense], -float(c.constant))
    return out


def test_demand(model):
    assert rows(model, "demand") == {
        "demand_0": ({"x_SA_2026": 1, "x_SB_2026": 1, "u_2026": 1}, "==", 50),
        "demand_1": ({"x_SA_2027": 1, "x_SB_2027": 1, "u_2027": 1}, "==", 60),
    }


def test_class_size(model):
    assert rows(model, "classsize") == {
        "classsize_0": ({"x_SA_2026": 1, "n_SA_2026": -45}, "<=", 0),
        "classsize_1": ({"x_SA_2027": 1, "n_SA_2027": -45}, "<=", 0),
        "classsize_2": ({"x_SB_2026": 1, "n_SB_2026": -45}, "<=", 0),
        "classsize_3": ({"x_SB_2027": 1, "n_SB_2027": -45}, "<=", 0),
    }


def test_classrooms(model):
    # SA: 1 room, plus rooms decided in 2026 from 2027; SB: its 2 rooms once open, none in 2026
    assert rows(model, "rooms") == {
        "rooms_SA_2026": ({"n_SA_2026": 1}, "<=", 1),
        "rooms_SA_2027": ({"n_SA_2027": 1, "b_SA_2026": -1}, "<=", 1),
        "rooms_SB_2026": ({"n_SB_2026": 1}, "<=", 0),
        "rooms_SB_2027": ({"n_SB_2027": 1, "y_SB_2027": -2}, "<=", 0),
    }


def test_site_limit(model):
    assert rows(model, "site") == {"site_SA": ({"b_SA_2026": 1}, "<=", 2)}
    assert model.b["SA", 2026].upBound == 2 and set(model.b) == {("SA", 2026)}


def test_closures_bound_classes_by_the_sites_rooms_not_a_guessed_m(model):
    # sum_g n <= Rmax (1 - c): Rmax 1 in 2026 (nothing built yet), 1 + 2 = 3 in 2027
    assert rows(model, "closed") == {
        "closed_SA_2026": ({"n_SA_2026": 1, "c_SA_2026": 1}, "<=", 1),
        "closed_SA_2027": ({"n_SA_2027": 1, "c_SA_2027": 3}, "<=", 3),
    }


def test_status_events(model):
    assert rows(model, "status") == {
        "status_SA_2026": ({"close_SA_2026": 1, "c_SA_2026": -1, "reopen_SA_2026": -1}, "==", 0),
        "status_SA_2027": ({"close_SA_2027": 1, "c_SA_2027": -1, "c_SA_2026": 1, "reopen_SA_2027": -1}, "==", 0),
    }
    assert rows(model, "minclosed") == {
        "minclosed_SA_2026": ({"close_SA_2026": 1, "c_SA_2026": -1}, "<=", 0),
        "minclosed_SA_2027": ({"close_SA_2026": 1, "close_SA_2027": 1, "c_SA_2027": -1}, "<=", 0),
    }
    assert rows(model, "disposed") == {
        "disposed_SA_2026": ({"dispose_SA_2026": 1, "c_SA_2026": -1}, "<=", 0),
        "disposed_SA_2027": ({"dispose_SA_2026": 1, "dispose_SA_2027": 1, "c_SA_2027": -1}, "<=", 0),
    }


def test_linking(model):
    assert rows(model, "link") == {
        "link_c_0": ({"x_SA_2026": 1, "c_SA_2026": 50}, "<=", 50),
        "link_c_2": ({"x_SA_2027": 1, "c_SA_2027": 60}, "<=", 60),
        "link_y_3": ({"x_SB_2027": 1, "y_SB_2027": -60}, "<=", 0),
    }
    assert model.x[1].upBound == 0  # SB cannot be open in 2026


def test_boarding_beds(model):
    assert rows(model, "beds") == {
        "beds_SB_2026": ({"x_SB_2026": 1}, "<=", 3),
        "beds_SB_2027": ({"x_SB_2027": 1}, "<=", 3),
    }


def test_school_size(model):
    assert rows(model, "size") == {f"size_{s}_{t}": ({f"x_{s}_{t}": 1}, "<=", 100) for s in ("SA", "SB") for t in (2026, 2027)}


def test_min_school_size(model):
    assert rows(model, "minsize") == {
        "minsize_SA_2026": ({"x_SA_2026": 1, "c_SA_2026": 10}, ">=", 10),
        "minsize_SA_2027": ({"x_SA_2027": 1, "c_SA_2027": 10}, ">=", 10),
    }


def test_moved(model):
    assert rows(model, "moved") == {"moved_2026": ({"x_SB_2026": 1}, "<=", 5), "moved_2027": ({"x_SB_2027": 1}, "<=", 5)}


def test_budget(model):
    # classrooms 1,000 each; opening SB = its 2 rooms x 1,000 (no fixed cost in these settings)
    assert rows(model, "budget") == {"budget_2026": ({"b_SA_2026": 1000}, "<=", 5000), "budget_2027": ({"y_SB_2027": 2000}, "<=", 5000)}


def test_stage_rooms(tmp_path):
    # A nine-year school: 2 primary + 1 junior rooms of 3 (site for 4). Primary classes fit the primary
    # rooms plus any new room: n_P <= R - 1; junior: n_J <= R - 2.
    school = dict(school_id="SA", zone_id="A", classrooms=3, max_classrooms=4, x_km=0, y_km=0, last_grade="J3")
    d = load_district(
        write_district(tmp_path, [("A", 0, 0)], [school], {"SA": 30}, stage_rooms=[("SA", "primary", 2), ("SA", "junior", 1)])
    )
    dem = p1_demand({"A": [50]})
    dem = pd.concat([dem, pd.DataFrame([{"year": 2026, "zone_id": "A", "grade": "J1", "pupils": 20.0}])], ignore_index=True)
    s = hand_settings()
    m = build(prepare(d, dem, s), s)
    caps = m.data.caps.assign(v=[v.name for v in m.n])
    prim = {v: 1.0 for v, g in zip(caps["v"], caps["grade"], strict=True) if g.startswith("P")}
    jun = {v: 1.0 for v, g in zip(caps["v"], caps["grade"], strict=True) if g.startswith("J")}
    assert rows(m, "stagerooms", readable=False) == {
        "stagerooms_SA_primary_2026": ({**prim, "b_SA_2026": -1}, "<=", 2),
        "stagerooms_SA_junior_2026": ({**jun, "b_SA_2026": -1}, "<=", 1),
    }
