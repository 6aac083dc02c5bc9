"""OR-Library capacitated facility location through the door a user takes: district CSV files,
a demand CSV and a scenario file, solved by `capacity plan` (marker: validation)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from adapters import write_orlib_district
from click.testing import CliRunner
from conftest import validation_dir

from capacity.cli import cli

pytestmark = pytest.mark.validation

# Every pupil may go anywhere (no travel limit), classes and classrooms cost nothing, a warehouse's
# fixed cost is its candidate school's opening cost and c_ij / d_j its per-pupil km at 1 per pupil-km.
SCENARIO = """\
district: district
horizon: 1
standards:
  cost_per_classroom: {kindergarten: 0.0, primary: 0.0, junior: 0.0, senior: 0.0}
plan:
  travel_km: {kindergarten: 1000000000.0, primary: 1000000000.0, junior: 1000000000.0, senior: 1000000000.0}
  boarding_km: {kindergarten: 0.0, primary: 0.0, junior: 0.0, senior: 0.0}
  cost_per_class_year: {kindergarten: 0.0, primary: 0.0, junior: 0.0, senior: 0.0}
  cost_per_school_year: 0.0
  cost_per_pupil_km_year: 1.0
  cost_per_boarder_year: 0.0
  cost_per_moved_pupil_year: 0.0
  new_school_fixed_cost: 0.0
  new_school_lead_years: 0
  unmet_penalty: 1000000000.0
  mip_gap: 0.000000001
  time_limit_s: 300
"""
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


def solve_instance(name: str, tmp_path) -> tuple[dict, pd.DataFrame]:
    """Write the instance as files, run `capacity plan scenario.yaml --demand demand.csv --out plan`."""
    root = tmp_path / name
    _, demand = write_orlib_district(validation_dir("orlib_cap") / f"{name}.txt", root / "district")
    demand.to_csv(root / "demand.csv", index=False)
    (root / "scenario.yaml").write_text(SCENARIO, encoding="utf-8")
    res = CliRunner().invoke(cli, ["plan", str(root / "scenario.yaml"), "--demand", str(root / "demand.csv"), "--out", str(root / "plan")])
    assert res.exit_code == 0, res.output
    summary = json.loads((root / "plan" / "summary.json").read_text(encoding="utf-8"))
    return summary, pd.read_csv(root / "plan" / "builds.csv")


@pytest.mark.parametrize("name", FAST)
def test_cap_instances_match_published_optimum(name, tmp_path):
    summary, builds = solve_instance(name, tmp_path)
    assert summary["status"] == "optimal"
    assert summary["objective"] == pytest.approx(optimum(name), rel=1e-6)
    assert summary["unmet_pupil_years"] == 0
    # an opened warehouse's seats are its rooms at its own class size (100), not the stage standard
    assert (builds["seats"] == builds["classrooms"] * 100).all() and summary["seats_added"] == builds["seats"].sum()


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_cap_instances_slow(name, tmp_path):
    summary, _ = solve_instance(name, tmp_path)
    assert summary["status"] == "optimal"
    assert summary["objective"] == pytest.approx(optimum(name), rel=1e-6)
