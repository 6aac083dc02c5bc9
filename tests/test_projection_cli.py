"""The project / backtest commands, charts and atomic output folders."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from capacity.outputs import atomic_dir
from capacity.report import fonts


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "capacity", *args], capture_output=True, text=True, timeout=300)


def test_project_command_writes_tables_and_charts(tmp_path):
    out = tmp_path / "proj"
    r = run_cli("project", "--horizon", "5", "--draws", "100", "--quantiles", "0.1,0.8,0.9", "--out", str(out))
    assert r.returncode == 0, r.stderr
    # the default method is auto: it announces its choice, and the projection says which method it used
    chose = r.stdout.split("projection.method auto chose ")[1].split(" ")[0]
    assert f"method {chose}" in r.stdout and "P10-P90 interval" in r.stdout
    t = pd.read_csv(out / "projection.csv")
    assert list(t.columns) == ["year", "zone_id", "grade", "stage", "pupils", "p10", "p80", "p90"]
    assert t.year.min() == 2026 and t.year.max() == 2030
    charts = list((out / "charts").glob("fan_*.png"))
    assert len(charts) > 20
    assert charts[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "[capacity] fitting ratios" in r.stderr  # progress shown


def test_project_bad_option_exits_2_without_traceback():
    r = run_cli("project", "--horizon", "40")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "projection.horizon: found 40; expected a whole number of years from 1 to 20" in r.stderr
    r = run_cli("project", "--quantiles", "ten")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "expected numbers separated by commas" in r.stderr


def test_backtest_command_prints_and_writes(tmp_path):
    out = tmp_path / "bt"
    r = run_cli("backtest", "scenarios/base.yaml", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "Back-test of method mean beside persistence and trend" in r.stdout  # the scenario's method
    m = pd.read_csv(out / "backtest_metrics.csv")
    assert set(m.level) == {"total", "stage", "zone", "zone_stage", "zone_grade"}
    assert set(m.method) == {"mean", "persistence", "trend"}
    # every lead on its own (no 5+ pooling) up to the longest back-tested lead, with coverage and width
    assert sorted(m.lead.unique()) == list(range(1, 10))
    early = m[m.lead <= 5]
    assert early["coverage"].between(0, 100).all() and (early["width"] > 0).all()
    for level in ("total", "zone"):
        assert f"\n{level}: MAPE, bias (%), P10-P90 coverage" in r.stdout
    assert (out / "backtest_error.png").stat().st_size > 1000


def test_chinese_names_fall_back_to_ids_without_a_cjk_font(monkeypatch):
    from capacity.notes import collecting

    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    with collecting() as notes:
        assert fonts.label("新城片区 (U03)", "U03") == "U03"
        assert fonts.label("Zone A", "A") == "Zone A"
        assert fonts.label("城西街道 (U02)", "U02") == "U02"
    assert fonts.font_rc() == {}
    # the fallback is a note (printed, in manifest.json and report.html), said once per command
    assert len(notes) == 1 and "no Chinese font found" in notes[0]


def test_cjk_font_is_used_when_installed(monkeypatch):
    monkeypatch.setattr(fonts, "cjk_font", lambda: "WenQuanYi Micro Hei")
    assert fonts.label("新城片区", "U03") == "新城片区"
    assert fonts.font_rc()["font.sans-serif"][0] == "WenQuanYi Micro Hei"


def test_atomic_dir_keeps_earlier_output_on_failure(tmp_path):
    target = tmp_path / "run"
    with atomic_dir(target) as d:
        (d / "a.csv").write_text("first")
    assert (target / "a.csv").read_text() == "first"
    with pytest.raises(RuntimeError), atomic_dir(target) as d:
        (d / "a.csv").write_text("half")
        raise RuntimeError("solver died")
    assert (target / "a.csv").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temp folder left behind
    with atomic_dir(target) as d:
        (d / "b.csv").write_text("second")
    assert sorted(p.name for p in target.iterdir()) == [".capacity-output", "b.csv"]  # the marker proves capacity wrote it


def test_commands_accept_a_scenario_file(tmp_path):
    sc = tmp_path / "s.yaml"
    sc.write_text("horizon: 4\nprojection:\n  draws: 50\n  quantiles: [0.25, 0.75]\n", encoding="utf-8")
    r = run_cli("project", str(sc), "--out", str(tmp_path / "p"))
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(tmp_path / "p" / "projection.csv")
    assert t["year"].max() == 2029  # the scenario's horizon, not the default 10
    assert {"p25", "p75"} <= set(t.columns)
    g = run_cli("gap", str(sc), "--out", str(tmp_path / "g"))
    assert g.returncode == 0, g.stderr
    assert pd.read_csv(tmp_path / "g" / "gap.csv")["year"].max() == 2029
