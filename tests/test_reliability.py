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
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file() and p.name != "manifest.json")
    assert len(files) > 20 and Path("budget_request.xlsx") in files and Path("plan/summary.json") in files
    for f in files:  # every file, workbooks and summary.json included, byte for byte
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    ma = json.loads((tmp_path / "a" / "manifest.json").read_text())
    mb = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert {k: v for k, v in ma.items() if k != "timings_s"} == {k: v for k, v in mb.items() if k != "timings_s"}
    assert "timings_note" in ma and not any(k.endswith("_s") for k in json.loads((tmp_path / "a" / "plan" / "summary.json").read_text()))
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


# --- issue 13: output folders, notes, crashes, workbook safety (through the CLI) -------------------


def cli(args: list[str], capsys) -> tuple[int, str, str]:
    from capacity.cli import main

    with pytest.raises(SystemExit) as e:
        main([str(a) for a in args])
        raise SystemExit(0)
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return int(e.value.code or 0), out.out, out.err


PROJ = ["--draws", "20", "--horizon", "2"]


def test_rerun_replaces_only_its_own_output_and_cleans_leftovers(tmp_path, capsys):
    out = tmp_path / "proj"
    assert cli(["project", *PROJ, "--out", out], capsys)[0] == 0
    marker = json.loads((out / ".capacity-output").read_text())
    assert "projection.csv" in marker["files"] and "manifest.json" in marker["files"]
    stale = tmp_path / ".proj.tmp-dead"  # left by a killed run
    stale.mkdir()
    (stale / "half.csv").write_text("x")
    code, stdout, _ = cli(["project", *PROJ, "--out", out], capsys)
    assert code == 0 and not stale.exists() and "removed .proj.tmp-dead" in stdout
    assert not list(tmp_path.glob(".proj.*"))  # no temp, old or lock file left


def test_second_run_on_a_locked_folder_is_refused(tmp_path, capsys):
    import fcntl
    import os

    lock = tmp_path / ".proj.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        code, _, err = cli(["project", *PROJ, "--out", tmp_path / "proj"], capsys)
    finally:
        os.close(fd)
    assert code == 2 and "found another capacity run writing this folder" in err
    assert not (tmp_path / "proj").exists()


def test_full_disk_is_refused_before_computing(tmp_path, capsys, monkeypatch):
    import capacity.outputs as outputs

    monkeypatch.setattr(outputs.shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))
    monkeypatch.setattr("capacity.projection.project_district", lambda *a, **k: pytest.fail("computed before checking room"))
    code, _, err = cli(["project", *PROJ, "--out", tmp_path / "proj"], capsys)
    assert code == 2 and "MB free; expected at least" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("errno_", [28, 30])  # ENOSPC, EROFS
def test_disk_full_or_read_only_while_writing_keeps_the_earlier_output(tmp_path, capsys, monkeypatch, errno_):
    import os

    out = tmp_path / "proj"
    assert cli(["project", *PROJ, "--out", out], capsys)[0] == 0
    before = (out / "projection.csv").read_bytes()

    def fail(*a, **k):
        raise OSError(errno_, os.strerror(errno_))

    monkeypatch.setattr("capacity.run.write_projection_files", fail)
    code, _, err = cli(["project", *PROJ, "--out", out], capsys)
    assert code == 2 and "could not write" in err and "nothing was changed" in err
    assert (out / "projection.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]


def test_default_run_folder_never_escapes_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("mine")
    for name in ("'..'", "''", "'.'", "../x", "'  '"):
        (tmp_path / "s.yaml").write_text(f"name: {name}\nrun_plan: false\nhorizon: 2\nprojection: {{draws: 20}}\n")
        code, _, err = cli(["run", "s.yaml"], capsys)
        assert code == 2 and "name: found" in err, name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt", "s.yaml"]


def test_notes_and_warnings_reach_manifest_and_report(tmp_path, capsys):
    d = tmp_path / "district"
    shutil.copytree(EXAMPLE_PATH, d)
    edit_csv(d, "enrolment", lambda f: f.assign(pupils=f["pupils"].where(f.index != 0, "40000")))
    (tmp_path / "s.yaml").write_text(
        f"name: noted\ndistrict: {d}\nrun_plan: false\nhorizon: 2\nprojection: {{draws: 20, window: 20}}\n", encoding="utf-8"
    )
    code, out, _ = cli(["run", tmp_path / "s.yaml", "--out", tmp_path / "run"], capsys)
    assert code == 0
    assert "note: projection.window: found 20" in out and "warning: enrolment.csv, row 2: 40,000 pupils" in out
    notes = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))["notes"]
    assert any(n.startswith("projection.window: found 20") for n in notes)
    assert any(n.startswith("warning: enrolment.csv") for n in notes)
    html_text = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "<h2>Notes</h2>" in html_text and "projection.window: found 20" in html_text and "40,000 pupils" in html_text


def test_encoding_is_reported_by_every_command(tmp_path, capsys):
    d = tmp_path / "district"
    shutil.copytree(EXAMPLE_PATH, d)
    p = d / "zones.csv"
    f = pd.read_csv(p, dtype=str)
    f["name"] = [f"Zürich-Süd {i}" for i in range(len(f))]
    p.write_bytes(f.to_csv(index=False, lineterminator="\n").encode("latin-1"))
    for command in (["validate", d], ["info", d], ["project", d, *PROJ]):
        code, out, _ = cli(command, capsys)
        assert code == 0 and "note: zones.csv: read as Windows-1252" in out, command
    assert "Zürich-Süd 0" in set(load_district(d).zones["name"])  # not Chinese


def test_formula_like_text_is_written_as_text_in_every_workbook(tmp_path, capsys):
    import openpyxl

    d = tmp_path / "district"
    shutil.copytree(EXAMPLE_PATH, d)
    evil = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)"]
    edit_csv(d, "zones", lambda f: f.assign(name=[evil[i % 4] for i in range(len(f))]))
    assert cli(["gap", d, *PROJ[2:], "--out", tmp_path / "gap"], capsys)[0] == 0
    wb = openpyxl.load_workbook(tmp_path / "gap" / "budget_request.xlsx")
    seen = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                seen += isinstance(c.value, str) and c.value in evil
    assert seen > 0


def test_workbook_is_byte_identical_and_control_characters_do_not_crash(tmp_path):
    from capacity.notes import collecting
    from capacity.report.workbook import write_workbook

    frame = pd.DataFrame({"name": ["ok", "bell\x07", "=1+1"], "cost": [1.0, float("nan"), float("inf")]})
    with collecting() as notes:
        write_workbook(tmp_path / "a.xlsx", {"t": frame}, [("x", 1)], {"k": 1}, "T")
    write_workbook(tmp_path / "b.xlsx", {"t": frame}, [("x", 1)], {"k": 1}, "T")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    assert any("control characters" in n for n in notes)


def test_unexpected_failure_is_one_line_with_exit_1(tmp_path, capsys, monkeypatch):
    def boom(*a, **k):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("capacity.data.district.parse_all", boom)
    code, _, err = cli(["validate"], capsys)
    assert code == 1 and err.startswith("error: unexpected internal error (ZeroDivisionError")


def test_time_limited_plan_says_it_is_not_reproducible():
    from capacity.run import plan_summary_file

    s = plan_summary_file({"status": "time_limit", "solve_s": 3.0, "objective": 1.0})
    assert s["reproducible"] is False and "solve_s" not in s and "time limit" in s["reproducibility"]
    assert plan_summary_file({"status": "optimal"})["reproducible"] is True


def test_new_output_replaces_the_old_in_one_atomic_exchange(tmp_path, monkeypatch):
    import capacity.outputs as outputs

    seen = []
    real = outputs._exchange

    def spy(a, b):
        seen.append((b / "a.csv").read_text())  # the earlier output is still in place at the moment of the swap
        return real(a, b)

    monkeypatch.setattr(outputs, "_exchange", spy)
    for text in ("first", "second"):
        with atomic_dir(tmp_path / "o") as d:
            (d / "a.csv").write_text(text)
    assert seen == ["first"] and (tmp_path / "o" / "a.csv").read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_run_with_every_school_closed_writes_a_report(tmp_path, capsys):
    schools = pd.read_csv(EXAMPLE_PATH / "schools.csv", dtype=str)
    decided = set(pd.read_csv(EXAMPLE_PATH / "projects.csv", dtype=str)["school_id"])  # forcing those closed is refused
    ids = ", ".join(schools.loc[(schools["status"] == "open") & ~schools["school_id"].isin(decided), "school_id"])
    (tmp_path / "s.yaml").write_text(
        f"name: closed\nhorizon: 2\nprojection: {{draws: 20}}\nplan:\n  strategy: direct\n  time_limit_s: 20\n  force_close: [{ids}]\n",
        encoding="utf-8",
    )
    code, out, _ = cli(["run", tmp_path / "s.yaml", "--out", tmp_path / "run"], capsys)
    assert code == 0 and "Plan " in out
    assert "unmet pupil-years" in out and (tmp_path / "run" / "report.html").exists()


def test_a_time_limited_phase_marks_the_plan_not_reproducible():
    from capacity.plan.solve import TIME_LIMIT_NOTE
    from capacity.run import plan_summary_file

    assert plan_summary_file({"status": "optimal"}, [TIME_LIMIT_NOTE])["reproducible"] is False
    assert plan_summary_file({"status": "work_limit"}, ["projection.window: found 20"])["reproducible"] is True


def test_time_limited_plan_is_flagged_in_summary_and_report(tmp_path, capsys):
    (tmp_path / "s.yaml").write_text(
        "name: tl\nhorizon: 3\nprojection: {draws: 20}\nplan:\n  strategy: direct\n  time_limit_s: 0.01\n  mip_gap: 0.0\n",
        encoding="utf-8",
    )
    code, out, err = cli(["run", tmp_path / "s.yaml", "--out", tmp_path / "run"], capsys)
    if code != 0:  # no plan at all within 0.01 s: a clean solver error, nothing written
        assert code == 2 and "error:" in err and not (tmp_path / "run").exists()
        return
    summary = json.loads((tmp_path / "run" / "plan" / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "time_limit" and summary["reproducible"] is False
    assert "wall-clock time limit" in (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "note: plan: the solver stopped at its wall-clock time limit" in out
