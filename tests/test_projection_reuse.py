"""A run's back-test section takes the projection's own calibration where recalibrating would repeat the same work."""

from __future__ import annotations

import pandas as pd
import pytest

import capacity.projection.backtest as backtest
from capacity.notes import collecting
from capacity.projection import ProjectionSettings, project_district


@pytest.mark.parametrize(("horizon", "calibrations"), [(12, 2), (9, 2), (5, 3)])
def test_backtest_table_reuses_the_projections_calibration_only_where_it_is_the_same_work(example, monkeypatch, horizon, calibrations):
    """The example's back-test origins 2016-2024 project up to 9 years, and the table's horizon is 9: a projection
    horizon of 9 or more gives every origin the same years, so the method's calibration is reused (only persistence
    and trend are calibrated); at horizon 5 it is not. Either way the table and its notes are those of a fresh
    calibration, to the last bit."""
    p = project_district(example, ProjectionSettings(draws=100, horizon=horizon))
    with collecting() as fresh_notes:
        fresh = backtest.backtest_table(p.history, p.settings, p.method)
    calls = []
    real = backtest.calibrate
    monkeypatch.setattr(backtest, "calibrate", lambda *a, **k: calls.append(a[2]) or real(*a, **k))
    with collecting() as reused_notes:
        reused = backtest.backtest_table(p.history, p.settings, p.method, calibration=p.calibration)
    pd.testing.assert_frame_equal(reused, fresh, check_exact=True)
    assert list(reused_notes) == list(fresh_notes)
    assert len(calls) == calibrations and calls[-2:] == ["persistence", "trend"]
