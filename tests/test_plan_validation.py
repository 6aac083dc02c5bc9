"""OR-Library capacitated facility location through the public input format (marker: validation)."""

from __future__ import annotations

import pandas as pd
import pytest
from adapters import write_orlib_district
from conftest import validation_dir
from plan_checks import check_plan_invariants

from capacity.data import load_district
from capacity.plan import PlanSettings, plan_district
from capacity.standards import Standards

pytestmark = pytest.mark.validation

FAR = {"kindergarten": 1e9, "primary": 1e9, "junior": 1e9, "senior": 1e9}
CFLP = PlanSettings(
    travel_km=FAR,
    boarding_km={k: 0.0 for k in FAR},
    cost_per_class_year={k: 0.0 for k in FAR},
    standards=Standards(cost_per_classroom={k: 0.0 for k in FAR}),
    cost_per_school_year=0.0,
    cost_per_pupil_km_year=1.0,
    cost_per_boarder_year=0.0,
    cost_per_moved_pupil_year=0.0,
    new_school_fixed_cost=0.0,
    new_school_lead_years=0,
    unmet_penalty=1e9,
    mip_gap=1e-9,
    time_limit_s=300,
)
FAST = ["cap41", "cap42", "cap43", "cap44", "cap51", "cap61", "cap62", "cap63", "cap64", "cap71", "cap72", "cap73", "cap74"]
SLOW = [
    "cap81",
    "cap82",
    "cap83",
    "cap84",
    "cap91",
    "cap92",
    "cap93",
    "cap94",
    "cap101",
    "cap102",
    "cap103",
    "cap104",
    "cap111",
    "cap112",
    "cap113",
    "cap114",
    "cap121",
    "cap122",
    "cap123",
    "cap124",
    "cap131",
    "cap132",
    "cap133",
    "cap134",
]


def optimum(name: str) -> float:
    opt = pd.read_csv(validation_dir("orlib_cap") / "optimal.csv").set_index("instance")["optimal_value"]
    return float(opt[name])


def solve_instance(name: str, tmp_path):
    folder, demand = write_orlib_district(validation_dir("orlib_cap") / f"{name}.txt", tmp_path / name)
    district = load_district(folder)
    return plan_district(district, demand, CFLP), demand


@pytest.mark.parametrize("name", FAST)
def test_cap_instances_match_published_optimum(name, tmp_path):
    result, demand = solve_instance(name, tmp_path)
    assert result.summary["status"] == "optimal"
    assert result.summary["objective"] == pytest.approx(optimum(name), rel=1e-6)
    assert result.summary["unmet_pupil_years"] == 0
    check_plan_invariants(result, demand)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_cap_instances_slow(name, tmp_path):
    result, _ = solve_instance(name, tmp_path)
    assert result.summary["status"] == "optimal"
    assert result.summary["objective"] == pytest.approx(optimum(name), rel=1e-6)
