"""method: auto announces its choice and runner-up with their back-test errors, or its fallback (issue 16)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from capacity.errors import CapacityNote
from capacity.projection import ProjectionSettings
from capacity.projection.backtest import backtest_errors, error_metrics
from capacity.projection.project import project_history
from capacity.projection.settings import STANDARD_METHODS


def _notes(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(x.message) for x in w if issubclass(x.category, CapacityNote)]


def test_auto_announces_the_choice_and_runner_up_with_their_back_test_errors(example):
    from capacity.projection.cube import history_from_district

    history = history_from_district(example)
    settings = ProjectionSettings(method="auto", draws=50, calibrate=False)
    projection, notes = _notes(lambda: project_history(history, settings))
    said = [n for n in notes if n.startswith("projection.method auto chose")]
    assert len(said) == 1
    chosen, runner = re.findall(r"(\w+) \(MAPE ([\d.]+) %", said[0])
    assert chosen[0] == projection.method and runner[0] != chosen[0]
    # the announced errors are the zone x stage back-test MAPEs averaged over leads 1..planning_lead (recomputed
    # here through the long error table), lowest first among all standard methods
    m = error_metrics(backtest_errors(history, settings, methods=STANDARD_METHODS), "zone_stage", by_bucket=False)
    at = m[m["lead"].astype(int) <= settings.planning_lead].groupby("method")["mape"].mean()
    assert set(at.index) == set(STANDARD_METHODS)
    assert abs(at[chosen[0]] - float(chosen[1])) < 0.006 and abs(at[runner[0]] - float(runner[1])) < 0.006
    # a challenger replaces the default mean only if it beats it by more than auto_margin (5 %)
    best = at.idxmin()
    if best != "mean" and at[best] < (1 - settings.auto_margin) * at["mean"]:
        assert chosen[0] == best
    else:
        assert chosen[0] == "mean" and "projection.auto_margin" in said[0] and runner[0] == best
    # without a margin, the lowest MAPE wins
    loose = settings.with_(auto_margin=0.0)
    assert project_history(history, loose).method == best


def test_auto_falls_back_to_mean_with_a_note_on_a_short_history(example):
    from capacity.projection.cube import history_from_district

    history = history_from_district(example)
    short = history.up_to(history.years[0] + 6)  # window 3 -> 4 back-test origins, fewer than 5
    projection, notes = _notes(lambda: project_history(short, ProjectionSettings(draws=20, calibrate=False)))
    assert projection.method == "mean"
    assert any("give fewer than 5 back-test origins" in n and "'mean' is used" in n for n in notes)
    longer = history.up_to(history.years[0] + 8)  # 6 origins: a ranking is announced
    _, notes = _notes(lambda: project_history(longer, ProjectionSettings(draws=20, calibrate=False)))
    assert any(n.startswith("projection.method auto chose") for n in notes)


def test_too_few_back_test_origins_widen_by_the_documented_rule_with_a_note(example):
    from capacity.projection.backtest import MIN_CAL_ORIGINS, UNCALIBRATED_WIDEN
    from capacity.projection.cube import history_from_district

    history = history_from_district(example)
    s = ProjectionSettings(method="mean", draws=50, horizon=10)
    # 13 years, window 3: lead L is back-tested from 10 - L origins, so leads 8-10 have fewer than 3
    p, notes = _notes(lambda: project_history(history, s))
    cells = p.calibration.table[p.calibration.table["level"] == "zone_grade"].set_index("lead")
    last = int(cells.index[cells["origins"] >= MIN_CAL_ORIGINS].max())
    assert last == 7 and (cells.loc[last + 1 :, "rule"] == f"extrapolated from lead {last}").all()
    for lead in range(last + 1, 11):
        assert cells.loc[lead, "k"] == pytest.approx(max(cells.loc[last, "k"] * np.sqrt(lead / last), cells.loc[lead - 1, "k"]))
    assert any("fewer than 3 back-test origins at leads 8-10" in n for n in notes)
    # 5 years: one origin only, so no lead is calibrated: the model's own noise widened x1.5, said so
    short = history.up_to(history.years[0] + 4)
    p, notes = _notes(lambda: project_history(short, s))
    t = p.calibration.table
    assert (t["rule"] == "uncalibrated").all() and np.allclose(t["k"], UNCALIBRATED_WIDEN)
    assert any(f"widened x{UNCALIBRATED_WIDEN}" in n for n in notes)
