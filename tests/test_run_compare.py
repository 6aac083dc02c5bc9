"""capacity run over every shipped scenario, compare, manifest, and the report in a real browser."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from capacity.compare import compare, load_run, parse_spec
from capacity.run import run_scenario
from capacity.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [
    "baseline",
    "expand-only",
    "new-school",
    "consolidate-rural-small-schools",
    "low-births",
    "high-births",
    "tight-budget",
    "starting-grades-first",
]


EXTRA_GROUPS = {"starting-grades-first": ("action_plan_2027",)}  # the example county's illustrative targets
LABELS = [" + ".join([n, *EXTRA_GROUPS.get(n, ())]) for n in SHIPPED]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    out = {}
    for name in SHIPPED:
        sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml", ("quick", *EXTRA_GROUPS.get(name, ())))
        run_scenario(sc, base / name)
        out[name] = base / name
    return out


def test_every_shipped_scenario_runs(runs):
    for name, folder in runs.items():
        for f in (
            "report.html",
            "budget_request.xlsx",
            "manifest.json",
            "scenario.json",
            "plan/summary.json",
            "gap/gap.csv",
            "projection/projection.csv",
        ):
            assert (folder / f).exists(), (name, f)
        s = json.loads((folder / "plan" / "summary.json").read_text())
        assert s["status"] in ("optimal", "time_limit")


def test_policies_show_in_the_plans(runs):
    b = pd.read_csv(runs["baseline"] / "plan" / "builds.csv")
    assert b.empty
    e = pd.read_csv(runs["expand-only"] / "plan" / "builds.csv")
    assert (e["kind"] != "new school").all()
    t = pd.read_csv(runs["tight-budget"] / "plan" / "builds.csv")
    assert t.groupby("year")["cost"].sum().max() <= 20_000_000 + 1e-6
    sch = pd.read_csv(runs["expand-only"] / "plan" / "schools.csv")
    assert not sch["status"].eq("closed").any()


def test_manifest_has_hashes_versions_solver(runs):
    m = json.loads((runs["new-school"] / "manifest.json").read_text())
    assert len(m["inputs_hash"]) == 64 and len(m["scenario_hash"]) == 64
    assert set(m["scenario_files"]) == {"base.yaml", "new-school.yaml"}
    assert "zones.csv" in m["district_files"] and m["versions"]["highspy"] != "not installed"
    assert m["solver"]["solver"].startswith("HiGHS") and m["solver"]["settings"]["time_limit_s"] == 8.0
    assert m["overrides_applied"] == ["quick"] and m["seed"] == 20251001
    other = json.loads((runs["baseline"] / "manifest.json").read_text())
    assert other["inputs_hash"] != m["inputs_hash"] and other["district_files"] == m["district_files"]


def test_compare_over_all_runs(runs, tmp_path):
    loaded = [load_run(f) for f in runs.values()]
    metrics, years, diff = compare(loaded)
    assert list(metrics["scenario"]) == LABELS
    for col in (
        "capital_cost_total",
        "seats_added",
        "unmet_pupil_years",
        "classes_above_standard",
        "classes_56_plus",
        "classes_66_plus",
        "schools_opened",
        "schools_extended",
        "schools_closed",
        "pupils_moved_last_year",
        "travel_km_mean_last_year",
        "travel_km_p95_last_year",
        "boarders_last_year",
        "teachers_needed_last_year",
        "first_red_year",
        "operating_cost_per_year",
    ):
        assert col in metrics.columns
    m = metrics.set_index("scenario")
    assert m.loc["baseline", "capital_cost_total"] == 0 and m.loc["baseline", "seats_added"] == 0
    assert set(years["scenario"]) == set(LABELS)
    d = diff.set_index("parameter")
    assert d.loc["plan.allow_builds", "baseline"] == "false" and d.loc["plan.allow_builds", "new-school"] == "true"
    assert d.loc["projection.births_variant", "high-births"] == '"high"'
    assert "plan.mip_gap" not in d.index  # same everywhere


def test_compare_cli_writes_csv_xlsx_html(runs, tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "capacity", "compare", str(runs["baseline"]), str(runs["new-school"]), "--out", str(tmp_path / "c")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    for f in ("compare.csv", "compare.xlsx", "compare.html", "input_diff.csv", "compare_by_year.csv"):
        assert (tmp_path / "c" / f).exists()
    assert "capital_cost_total" in r.stdout


def test_compare_refuses_a_folder_that_is_not_a_run(tmp_path):
    r = subprocess.run([sys.executable, "-m", "capacity", "compare", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "found no manifest.json" in r.stderr and "Traceback" not in r.stderr


def test_run_with_bad_scenario_exits_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: " + str(ROOT / "scenarios" / "base.yaml") + "\nplan:\n  time_limt_s: 3\n", encoding="utf-8")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "capacity", "run", str(bad), "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "line 3: unknown key 'plan.time_limt_s' (did you mean 'time_limit_s'?)" in r.stderr
    assert not out.exists()


def test_report_renders_in_a_headless_browser(runs):
    from browser import render, screenshot_colours

    folder = runs["new-school"]
    shot = folder / "report_screenshot.png"
    dom, errors = render(folder / "report.html", folder.parent / "profile", shot, height=1600)
    assert 'data-rendered="yes"' in dom, "an embedded chart failed to load"
    assert int(dom.split('data-images="')[1].split('"')[0]) >= 4
    for section in ("Summary", "Seat gap by zone and year", "The plan by year", "Class sizes", "Costs", "Assumptions"):
        assert f">{section}" in dom
    assert dom.count("<table") >= 5
    assert not errors, errors
    assert shot.stat().st_size > 20_000 and screenshot_colours(shot)["distinct"] > 100


def _bash_blocks(text: str) -> list[str]:
    return [b.split("\n", 1)[1] for b in text.split("```")[1::2] if b.startswith("bash")]


def test_readme_commands_work_as_written(runs, tmp_path):
    """Every capacity command in the README runs from the venv as written; the compare line runs for real."""
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    activated = False
    commands = []
    for block in _bash_blocks(text):
        for line in block.splitlines():
            code = line.split("  #")[0].strip()
            if not code or code.startswith("#"):
                continue
            activated |= code.startswith("source .venv/bin/activate")
            m = re.match(r"for (\w+) in ([^;]+); do (.+); done$", code)
            expanded = [m.group(3).replace(f"${m.group(1)}", v) for v in m.group(2).split()] if m else [code]
            for c in expanded:
                for part in c.split("&&"):
                    words = part.split()
                    if "capacity" in words or any(w.endswith("/capacity") for w in words):
                        commands.append(words)
    assert commands
    for words in commands:
        exe = words[0]
        assert exe == ".venv/bin/capacity" or activated, f"'{' '.join(words)}' needs the venv: use .venv/bin/capacity"
        args = words[1:]
        if not args or args[0].startswith("-"):
            continue
        sub = args[0]
        help_text = subprocess.run([sys.executable, "-m", "capacity", sub, "--help"], capture_output=True, text=True)
        assert help_text.returncode == 0, (sub, help_text.stderr)
        for a in args[1:]:
            if a.startswith("--"):
                assert a.split("=")[0] in help_text.stdout, (words, a)
            elif a.startswith("scenarios/"):
                assert (ROOT / parse_spec(a)[0]).exists(), a
    # the compare line as written, in a folder holding the README's runs and the venv
    line = next(" ".join(w) for w in commands if len(w) > 1 and w[1] == "compare" and "runs/baseline" in w)
    work = tmp_path / "fresh"
    (work / "runs").mkdir(parents=True)
    (work / ".venv").symlink_to(Path(sys.executable).parents[1])
    for name in ("baseline", "expand-only", "new-school", "consolidate-rural-small-schools"):
        shutil.copytree(runs[name], work / "runs" / name)
    r = subprocess.run(["bash", "-c", line], cwd=work, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (work / "compare" / "compare.html").exists()


def _pixels_differ(a: Path, b: Path) -> float:
    import numpy as np
    from PIL import Image

    x, y = Image.open(a).convert("RGB"), Image.open(b).convert("RGB")
    if x.size != y.size:
        return 1.0
    return float((np.abs(np.asarray(x, dtype=int) - np.asarray(y, dtype=int)).sum(-1) > 60).mean())


def test_doc_images_are_current(runs, tmp_path):
    """The pictures in docs/img are what python -m capacity.report.doc_images gives today."""
    from capacity.report.doc_images import README_OPTIONS, compare_image, static_images

    for f in static_images(tmp_path):
        committed = ROOT / "docs" / "img" / f.name
        assert committed.exists(), f"{committed} is missing: run python -m capacity.report.doc_images docs/img"
        # fonts may render a little differently; changed data changes whole cells and lines
        assert _pixels_differ(f, committed) < 0.03, f"{committed} is stale: run python -m capacity.report.doc_images docs/img"
    from browser import chromium

    exe = chromium()
    png = compare_image([runs[n] for n in README_OPTIONS], tmp_path, exe)
    from PIL import Image

    assert Image.open(png).size == Image.open(ROOT / "docs" / "img" / "compare.png").size
    new, old = pd.read_csv(tmp_path / "compare.csv"), pd.read_csv(ROOT / "docs" / "img" / "compare.csv")
    assert list(new["scenario"]) == list(old["scenario"]) and list(new.columns) == list(old.columns)
    # figures that do not depend on a time-limited solve are equal; the plan's are the same kind of plan
    for col in ("first_red_year", "zones_short_status_quo", "seats_added"):
        if col == "seats_added":
            assert ((new[col] > 0) == (old[col] > 0)).all()
        else:
            assert list(new[col]) == list(old[col]), col


def test_action_plan_targets_on_the_example_county(runs):
    folder = runs["starting-grades-first"]
    t = pd.read_csv(folder / "targets.csv")
    assert set(t["target"]) == {
        "新增义务教育公办学位",
        "urban_core_seats",
        "starting_grades_at_standard",
        "no_super_large_classes",
        "kindergarten_coverage",
    }
    assert set(t["year"]) == {2026, 2027} and (t["basis"] == "plan").all()
    # the urban core is part of the county: never more seats added there than in the whole county
    county = t[t["target"] == "新增义务教育公办学位"].set_index("year")["planned"]
    urban = t[t["target"] == "urban_core_seats"].set_index("year")["planned"]
    assert (urban <= county + 1e-9).all() and (county.diff().dropna() >= 0).all()
    # the plan keeps starting grades at standard from 2026 (plan.standard_from): the target is met
    assert t.loc[t["target"] == "starting_grades_at_standard", "met"].all()
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "新增义务教育公办学位" in html.split('id="targets"')[1].split('id="classes"')[0]
