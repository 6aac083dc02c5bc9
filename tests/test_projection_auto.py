"""method: auto announces its choice and runner-up with their back-test errors, or its fallback (issue 16)."""

from __future__ import annotations

import re
import warnings

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
    assert at.min() == at[chosen[0]]
