"""`capacity plan --demand FILE`: plan against a demand table the planner supplies."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner
from plan_checks import p1_demand, write_district

from capacity.cli import cli
from capacity.plan.strategy import PLAN_FROM


def district(tmp_path):
    school = dict(school_id="SA", zone_id="A", classrooms=1, max_classrooms=1, x_km=0, y_km=0)
    return write_district(tmp_path / "d", [("A", 0, 0)], [school], {"SA": 40})


def test_plan_against_a_supplied_demand_file(tmp_path):
    # 90 pupils, one room, no builds possible: 45 unmet, stated as a seat shortage
    d = district(tmp_path)
    p1_demand({"A": [90]}).to_csv(tmp_path / "demand.csv", index=False)
    res = CliRunner().invoke(cli, ["plan", str(d), "--demand", str(tmp_path / "demand.csv"), "--gap", "0", "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["unmet_pupil_years"] == 45 and summary["years"] == "2026-2026"
    assert "short: zone A (a) is short 45 P1 seats in 2026 even with every allowed build" in res.output
    # which of the strategy's plans was returned, in summary.json and on screen
    assert f"Plan found by: {PLAN_FROM[summary['plan_from']]}" in res.output


def run(*args):
    return subprocess.run([sys.executable, "-m", "capacity", *map(str, args)], capture_output=True, text=True, check=False)


def test_bad_demand_file_is_refused_with_its_place(tmp_path):
    d = district(tmp_path)
    (tmp_path / "demand.csv").write_text("year,zone_id,grade,pupils\n2026,A,P1,many\n", encoding="utf-8")
    r = run("plan", d, "--demand", tmp_path / "demand.csv")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "demand.csv, row 2, column 'pupils': found 'many'; expected a finite number from 0 to 1000000" in r.stderr
    (tmp_path / "demand.csv").write_text("year,zone,grade,pupils\n2026,A,P1,3\n", encoding="utf-8")
    r = run("plan", d, "--demand", tmp_path / "demand.csv")
    assert r.returncode == 2 and "demand.csv, row 1, column 'zone_id': found no such column" in r.stderr


def test_decided_new_school_is_counted_as_opened(tmp_path):
    # Review finding: the summary's "schools opened" left out a decided new school. SC (candidate) is
    # decided for 2027; the plan opens no other site: schools_opened 0, schools_opened_decided 1, and the
    # headline says so.
    schools = [
        dict(school_id="SA", zone_id="A", classrooms=1, max_classrooms=1, x_km=0, y_km=0),
        dict(school_id="SC", zone_id="A", classrooms=0, max_classrooms=4, x_km=0, y_km=0, status="candidate"),
    ]
    projects = [dict(project_id="p1", school_id="SC", completion_year=2027, classrooms=2, cost=5_000_000)]
    d = write_district(tmp_path / "d", [("A", 0, 0)], schools, {"SA": 45}, projects)
    p1_demand({"A": [45, 90]}).to_csv(tmp_path / "demand.csv", index=False)
    res = CliRunner().invoke(cli, ["plan", str(d), "--demand", str(tmp_path / "demand.csv"), "--gap", "0", "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert (summary["schools_opened"], summary["schools_opened_decided"]) == (0, 1)
    assert "schools opened 0 (+ 1 decided)," in res.output
