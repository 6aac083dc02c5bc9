"""Seat-cover cuts (capacity/plan/cover.py): the integer rounding of "pupils seated <= seats the decisions make
available", added by the cutting-plane loop. They must never cut off a plan: the loop's bound stays at or below
the optimum, and the model with the cuts keeps the full model's optimum."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from plan_checks import hand_settings, p1_demand
from test_plan_local_search import random_cflp
from test_plan_metamorphic import FAST, districts, load
from test_plan_solve import CFLP, cflp
from test_plan_whole_classes import _lp_bound

from capacity.plan.inputs import prepare
from capacity.plan.model import build
from capacity.plan.solve import solve
from capacity.plan.strategy import add_violated_linking_rows

TOL = 1e-6


def _bounds_and_optima(data, s) -> tuple[float, float, float, float]:
    """(strong LP bound, the loop's bound with cover cuts, the full model's optimum, the optimum of the model the
    loop leaves: no linking rows but those found, plus the cover cuts)."""
    strong = _lp_bound(build(data, s), s)
    lazy = build(data, s, linking_rows=False)
    _, bound = add_violated_linking_rows(lazy, s, 30.0, cover_cuts=True)
    full = solve(build(data, s).problem, s)
    cut = solve(lazy.problem, s)
    assert full.status == cut.status == "optimal"
    return strong, bound, full.objective, cut.objective


def _check(strong: float, bound: float, optimum: float, with_cuts: float) -> None:
    scale = max(1.0, abs(optimum))
    assert bound <= optimum + TOL * scale, (bound, optimum)  # a valid bound
    assert bound >= strong - TOL * scale, (bound, strong)  # never weaker than the linking rows alone
    assert abs(with_cuts - optimum) <= TOL * scale, (with_cuts, optimum)  # the cuts cut off no plan


def test_three_equal_sites_need_two_open(tmp_path):
    # Three sites of 100 seats costing 1,000 each, two customers of 75 pupils served at no cost. The LP relaxation,
    # linking rows included, opens each site half (y = 0.5: 1,500); the seat cover 100 (y0 + y1 + y2) + unmet >= 150
    # rounds to y0 + y1 + y2 + unmet / 50 >= 2, which costs 2,000 (unmet pupils cost 1e6 each): the optimum.
    district, demand = cflp(tmp_path, "3 2\n100 1000\n100 1000\n100 1000\n75 0 0 0\n75 0 0 0\n")
    data = prepare(district, demand, CFLP)
    assert _lp_bound(build(data, CFLP), CFLP) == pytest.approx(1500)
    _, without = add_violated_linking_rows(build(data, CFLP, linking_rows=False), CFLP, 30.0)
    assert without == pytest.approx(1500)
    strong, bound, optimum, with_cuts = _bounds_and_optima(data, CFLP)
    assert bound == pytest.approx(2000) and optimum == pytest.approx(2000)
    _check(strong, bound, optimum, with_cuts)


def _equal_sites(text: str, sites: int, seats: int) -> str:
    """The instance with every site's capacity set to ``seats`` (as OR-Library's capa/capb)."""
    lines = text.splitlines()
    lines[1 : sites + 1] = [f"{seats} {line.split()[1]}" for line in lines[1 : sites + 1]]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("load", [0.3, 0.8])
def test_cover_cuts_hold_on_random_facility_location(tmp_path, seed, load):
    # capacities differ from site to site (300-600 seats): the rounding is taken over several divisors
    district, demand = cflp(tmp_path, random_cflp(seed, 8, 20, load))
    s = CFLP.with_(mip_gap=1e-9)
    _check(*_bounds_and_optima(prepare(district, demand, s), s))


@pytest.mark.parametrize("seed", [2, 3, 4, 5, 6])
def test_cover_cuts_raise_the_bound_where_sites_are_equal(tmp_path, seed):
    # equal sites of 400 seats, demand 60 % of them: the cut asks for whole sites, and the bound closes at least a
    # third of the strong LP gap to the optimum (on these seeds 40 % to all of it; seed 1: 0.04 %, not asserted)
    district, demand = cflp(tmp_path, _equal_sites(random_cflp(seed, 8, 20, 0.6), 8, 400))
    s = CFLP.with_(mip_gap=1e-9)
    strong, bound, optimum, with_cuts = _bounds_and_optima(prepare(district, demand, s), s)
    _check(strong, bound, optimum, with_cuts)
    assert bound - strong >= (optimum - strong) / 3, (strong, bound, optimum)


@settings(FAST, max_examples=40)
@given(case=districts())
def test_cover_cuts_hold_on_random_districts(tmp_path_factory, case):
    # two years, builds with lead times, candidates, closable schools (the open status 1 - c): the bound never
    # passes the optimum found at a 1e-9 gap, and the cuts leave it unchanged
    zones, schools, enrol, demand, costs = case
    d = load(tmp_path_factory, zones, schools, enrol)
    s = hand_settings(strategy="direct", mip_gap=1e-9, **costs)
    _check(*_bounds_and_optima(prepare(d, p1_demand(demand), s), s))
