"""A run's report shows the projection's own back-test beside persistence and trend (issue 16)."""

from __future__ import annotations

import pandas as pd
import pytest
from test_report import small_district

from capacity.projection.backtest import backtest_errors, error_metrics
from capacity.run import run_scenario
from capacity.scenario import load_scenario


def test_run_writes_and_reports_the_back_test(tmp_path):
    small_district(tmp_path / "d", zones=("T02", "R02"))
    (tmp_path / "s.yaml").write_text(
        "name: bt\ndistrict: d\nhorizon: 3\nrun_plan: false\nprojection: {draws: 50, method: median}\n", encoding="utf-8"
    )
    result = run_scenario(load_scenario(tmp_path / "s.yaml"), tmp_path / "out")
    bt = pd.read_csv(tmp_path / "out" / "projection" / "backtest.csv")
    assert list(bt["method"].unique()) == ["median", "persistence", "trend"]
    assert set(bt["level"]) == {"total", "stage", "zone", "zone_stage", "zone_grade"}
    assert bt["lead"].max() <= 10 and bt["lead"].min() == 1
    # the table's MAPE is the back-test's, recomputed from the long error table
    p = result.projection
    errs = backtest_errors(p.history, p.settings, ("median", "trend"))
    m = error_metrics(errs, "zone", by_bucket=False).assign(lead=lambda f: f["lead"].astype(int)).set_index(["method", "lead"])
    got = bt[bt["level"] == "zone"].set_index(["method", "lead"])
    for key in [("median", 1), ("trend", 2)]:
        assert got.loc[key, "mape"] == pytest.approx(m.loc[key, "mape"])
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    section = html.split('id="backtest"')[1].split("<h2")[0]
    assert "Method median beside persistence and trend" in section and section.count("<table") == 2
