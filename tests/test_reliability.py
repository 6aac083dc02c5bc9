"""Property-based invariants on random small districts, determinism and provenance, solver faults."""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import edit_csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_checks import check_plan_invariants

from capacity.data import EXAMPLE_PATH, load_district
from capacity.errors import SolverError
from capacity.outputs import atomic_dir
from capacity.plan import PlanSettings, plan_district
from capacity.projection import ProjectionSettings, project_district
from capacity.standards import Standards

STAGES = ("kindergarten", "primary", "junior", "senior")


@st.composite
def small_district(draw):
    """1-3 zones, 1-2 primary schools each, 4 history years, births from 10 years before."""
    n_zones = draw(st.integers(1, 3))
    zones, schools, enrol, births = [], [], [], []
    for z in range(n_zones):
        zid = f"Z{z}"
        zx, zy = draw(st.floats(0, 8)), draw(st.floats(0, 8))
        zones.append((zid, f"zone {z}", draw(st.sampled_from(["urban", "town", "rural"])), zx, zy))
        for y in range(2012, 2026):
            births.append((y, zid, draw(st.integers(5, 120))))
        for k in range(draw(st.integers(1, 2))):
            sid = f"S{z}{k}"
            last = draw(st.sampled_from(["P3", "P6"]))
            rooms = draw(st.integers(2, 8))
            schools.append(
                {
                    "school_id": sid,
                    "name": sid,
                    "zone_id": zid,
                    "first_grade": "P1",
                    "last_grade": last,
                    "classrooms": rooms,
                    "max_classrooms": rooms + draw(st.integers(0, 4)),
                    "x_km": zx + draw(st.floats(-2, 2)),
                    "y_km": zy + draw(st.floats(-2, 2)),
                    "sector": "public",
                    "status": "open",
                    "boarding_beds": draw(st.sampled_from([0, 0, 30])),
                    "can_close": draw(st.booleans()),
                }
            )
            grades = ["P1", "P2", "P3"] + (["P4", "P5", "P6"] if last == "P6" else [])
            for y in range(2022, 2026):
                for g in grades:
                    enrol.append((y, sid, g, draw(st.integers(0, 70))))
    return zones, schools, enrol, births


def write_district(tmp: Path, parts) -> Path:
    zones, schools, enrol, births = parts
    tmp.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(zones, columns=["zone_id", "name", "kind", "x_km", "y_km"]).to_csv(tmp / "zones.csv", index=False)
    pd.DataFrame(schools).to_csv(tmp / "schools.csv", index=False)
    pd.DataFrame(enrol, columns=["year", "school_id", "grade", "pupils"]).to_csv(tmp / "enrolment.csv", index=False)
    pd.DataFrame(births, columns=["year", "zone_id", "births"]).to_csv(tmp / "births.csv", index=False)
    return tmp


policies = st.fixed_dictionaries(
    {
        "primary_size": st.integers(20, 45),
        "travel": st.floats(0.5, 6.0),
        "allow_builds": st.booleans(),
        "allow_closures": st.booleans(),
        "budget": st.one_of(st.none(), st.floats(0, 5e6)),
        "integer_classes": st.booleans(),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(parts=small_district(), pol=policies)
def test_invariants_on_random_districts_and_policies(tmp_path_factory, parts, pol):
    d = load_district(write_district(tmp_path_factory.mktemp("d"), parts))
    p = project_district(d, ProjectionSettings(horizon=3, draws=60, window=2, entry_offsets={"P1": 6}, pooled_grades=()))
    t = p.table()
    assert (t[["pupils", "p10", "p90"]] >= 0).all().all()
    assert (t["p10"] <= t["pupils"] + 1e-6).all() and (t["pupils"] <= t["p90"] + 1e-6).all()
    demand = t[["year", "zone_id", "grade"]].assign(pupils=t["pupils"].round(0))
    demand = demand[demand["year"] <= 2027]
    s = PlanSettings(
        standards=Standards(class_size={"K1": 25, "K2": 30, "K3": 35, "primary": pol["primary_size"], "junior": 50, "senior": 50}),
        travel_km={"kindergarten": 2.0, "primary": pol["travel"], "junior": 10.0, "senior": 30.0},
        allow_builds=pol["allow_builds"],
        allow_closures=pol["allow_closures"],
        budget_per_year=pol["budget"],
        integer_classes=pol["integer_classes"],
        strategy="direct",
        time_limit_s=20,
    )
    r = plan_district(d, demand, s)
    assert r.summary["status"] in ("optimal", "time_limit")
    check_plan_invariants(r, demand)


# --- determinism and provenance ----------------------------------------------------------------


def _quick_scenario(tmp: Path, district: str = "example") -> Path:
    p = tmp / "det.yaml"
    p.write_text(
        f"name: det\ndistrict: {district}\nhorizon: 3\nprojection:\n  draws: 100\nplan:\n  integer_classes: false\n  time_limit_s: 60\n",
        encoding="utf-8",
    )
    return p


def test_same_scenario_twice_gives_identical_tables_and_hashes(tmp_path):
    from capacity.run import run_scenario
    from capacity.scenario import load_scenario

    sc = load_scenario(_quick_scenario(tmp_path))
    run_scenario(sc, tmp_path / "a")
    run_scenario(sc, tmp_path / "b")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.csv"))
    assert len(files) > 20
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    ma = json.loads((tmp_path / "a" / "manifest.json").read_text())
    mb = json.loads((tmp_path / "b" / "manifest.json").read_text())
    for k in ("inputs_hash", "scenario_hash", "district_files", "scenario_files"):
        assert ma[k] == mb[k]
    assert (tmp_path / "a" / "report.html").read_bytes() == (tmp_path / "b" / "report.html").read_bytes()


def test_a_changed_input_changes_the_manifest_hash(tmp_path):
    from capacity.run import execute, manifest
    from capacity.scenario import load_scenario

    d = tmp_path / "district"
    shutil.copytree(EXAMPLE_PATH, d)
    sc = load_scenario(_quick_scenario(tmp_path, str(d)))
    sc = type(sc)(**{**sc.__dict__, "run_plan": False})
    m1 = manifest(execute(sc))

    def fn(f):
        f.loc[0, "pupils"] = str(int(f.loc[0, "pupils"]) + 1)
        return f

    edit_csv(d, "enrolment", fn)
    m2 = manifest(execute(sc))
    assert m1["inputs_hash"] != m2["inputs_hash"]
    assert m1["district_files"]["enrolment.csv"] != m2["district_files"]["enrolment.csv"]
    assert m1["district_files"]["zones.csv"] == m2["district_files"]["zones.csv"]


# --- solver faults -------------------------------------------------------------------------------


def _tiny(tmp: Path):
    zones = [("A", "a", "town", 0.0, 0.0)]
    births = [(y, "A", 50) for y in range(2012, 2026)]
    sch = [
        {
            "school_id": "S",
            "name": "s",
            "zone_id": "A",
            "first_grade": "P1",
            "last_grade": "P1",
            "classrooms": 1,
            "max_classrooms": 3,
            "x_km": 0.0,
            "y_km": 0.0,
            "sector": "public",
            "status": "open",
        }
    ]
    enrol = [(2025, "S", "P1", 40)]
    d = load_district(write_district(tmp, (zones, sch, enrol, births)))
    return d, pd.DataFrame({"year": [2026], "zone_id": ["A"], "grade": ["P1"], "pupils": [60.0]})


def test_missing_highs_falls_back_to_cbc(tmp_path, monkeypatch):
    solve_mod = importlib.import_module("capacity.plan.solve")

    monkeypatch.setattr(solve_mod, "_highs", lambda s: None)
    d, dem = _tiny(tmp_path)
    r = plan_district(d, dem, PlanSettings(build_lead_years=0))
    assert r.summary["solver"].startswith("CBC") and r.summary["status"] == "optimal"
    check_plan_invariants(r, dem)


def test_no_solver_at_all_is_a_clear_error(tmp_path, monkeypatch):
    solve_mod = importlib.import_module("capacity.plan.solve")

    monkeypatch.setattr(solve_mod, "_highs", lambda s: None)
    monkeypatch.setattr(solve_mod, "_cbc", lambda s: None)
    d, dem = _tiny(tmp_path)
    with pytest.raises(SolverError, match=r"no solver available: tried highs, cbc. Install HiGHS with 'pip install highspy>=1.15.1'"):
        plan_district(d, dem, PlanSettings())


def test_interrupted_run_leaves_earlier_output_intact(tmp_path):
    target = tmp_path / "run"
    with atomic_dir(target) as d:
        (d / "report.html").write_text("earlier")
    with pytest.raises(KeyboardInterrupt), atomic_dir(target) as d:
        (d / "report.html").write_text("half")
        raise KeyboardInterrupt
    assert (target / "report.html").read_text() == "earlier"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_excel_formulas_are_never_evaluated(tmp_path, example):
    import openpyxl

    from capacity.data.write import write_workbook
    from capacity.errors import InputError

    book = tmp_path / "d.xlsx"
    write_workbook(example, book)
    wb = openpyxl.load_workbook(book)
    wb["enrolment"]["D2"] = '=HYPERLINK("http://example.invalid","1")'
    wb.save(book)
    with pytest.raises(InputError, match="found a formula in cell D2"):
        load_district(book)


def test_quantiles_are_ordered_on_the_example(example):
    p = project_district(example, ProjectionSettings(draws=200, horizon=4, quantiles=(0.05, 0.25, 0.75, 0.95)))
    t = p.table()
    cols = ["p5", "p25", "pupils", "p75", "p95"]
    assert (np.diff(t[cols].to_numpy(), axis=1) >= -1e-6).all()
