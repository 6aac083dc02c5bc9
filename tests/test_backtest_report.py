"""A run's report shows the projection's own back-test beside persistence and trend (issue 16)."""

from __future__ import annotations

import numpy as np
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


def test_school_level_mode_keeps_every_pupil_and_birth(example):
    from capacity.projection import ProjectionSettings, history_from_district

    by_zone, by_school = history_from_district(example), history_from_district(example, unit="school")
    assert set(example.schools["school_id"]) <= set(by_school.zones)
    np.testing.assert_allclose(by_school.pupils.sum(0), by_zone.pupils.sum(0))
    np.testing.assert_allclose(np.nansum(by_school.births, 0), np.nansum(by_zone.births, 0))
    # persistence is additive: its district-total errors do not depend on the unit; the cohort model's nearly so
    s = ProjectionSettings(window=3)
    totals = {}
    for name, h in (("zone", by_zone), ("school", by_school)):
        m = error_metrics(backtest_errors(h, s, ("persistence", "mean")), "total", by_bucket=False).set_index(["method", "lead"])["mape"]
        totals[name] = m
    pd.testing.assert_series_equal(totals["zone"].loc["persistence"], totals["school"].loc["persistence"])
    assert np.allclose(totals["zone"].loc["mean"], totals["school"].loc["mean"], rtol=0.5)
