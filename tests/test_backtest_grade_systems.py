"""`capacity backtest` and method auto on a US-grade district with a missing history year (issue 16 x 14).

Every enrolled cell grows by the same number of pupils a year, so a straight line is exact: the trend
method back-tests with no error, auto must choose it, and persistence's error is known in closed form.
The history misses one year: it is never an origin, never a target, and the line skips it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from test_grade_systems import US_SCHOOLS, write_district

from capacity.cli import cli
from capacity.data import load_district
from capacity.grades import US
from capacity.notes import collecting
from capacity.projection import ProjectionSettings, project_district
from capacity.standards import settings_for_system

YEARS = range(2012, 2025)
MISSING = 2018
WINDOW = 3


def pupils(year: int) -> float:
    """Pupils per grade and zone served in ``year``: 40 in 2012, 2 more every year."""
    return 40.0 + 2.0 * (year - YEARS[0])


@pytest.fixture(scope="module")
def us_gap_path(tmp_path_factory) -> Path:
    folder = write_district(tmp_path_factory.mktemp("us_gap") / "district", US, US_SCHOOLS, "us")
    rows = [
        (y, sid, g, pupils(y) * served)
        for y in YEARS
        if y != MISSING
        for sid, _zone, first, last, *_rest, served in US_SCHOOLS
        for g in US.grades_between(first, last)
    ]
    pd.DataFrame(rows, columns=["year", "school_id", "grade", "pupils"]).to_csv(folder / "enrolment.csv", index=False)
    return folder


def test_us_backtest_skips_the_missing_year_and_scores_trend_exact(us_gap_path, tmp_path):
    out = tmp_path / "bt"
    with collecting() as notes:
        res = CliRunner().invoke(cli, ["backtest", str(us_gap_path), "--window", str(WINDOW), "--level", "total", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Back-test of method trend beside persistence (history" in res.output  # auto (the default) chose the exact method, named once
    gap_notes = [n for n in notes if f"misses {MISSING}: a missing year is never an origin" in n]
    assert len(gap_notes) == 1 and gap_notes[0] in (out / "manifest.json").read_text(encoding="utf-8")
    errs = pd.read_csv(out / "backtest_errors.csv", dtype={"grade": str})
    assert MISSING not in set(errs["origin"]) and MISSING not in set(errs["year"])
    assert set(errs["grade"]) == set(US.grades) and set(errs["stage"]) == set(US.stage_names)
    assert sorted(errs["origin"].unique()) == [o for o in range(YEARS[0] + WINDOW, YEARS[-1]) if o != MISSING]
    tab = pd.read_csv(out / "backtest_metrics.csv").set_index(["level", "method", "lead"])
    assert np.allclose(tab.loc[("total", "trend"), "mape"], 0.0, atol=1e-6)
    # persistence holds the origin's total, which the next years outgrow by 2 pupils per cell a year:
    # MAPE at lead L = mean over origins with a recorded target t of 2 L / pupils(t)
    origins = sorted(errs["origin"].unique())
    for lead in (1, 2, 3):
        targets = [o + lead for o in origins if o + lead <= YEARS[-1] and o + lead != MISSING]
        expected = np.mean([2.0 * lead / pupils(t) for t in targets]) * 100
        assert tab.loc[("total", "persistence", lead), "mape"] == pytest.approx(expected, rel=1e-9)
        assert tab.loc[("total", "persistence", lead), "bias"] == pytest.approx(-expected, rel=1e-9)


def test_us_auto_projects_the_line_across_the_gap(us_gap_path):
    d = load_district(us_gap_path)
    p = project_district(d, settings_for_system(ProjectionSettings, US, {"draws": 50, "horizon": 3, "window": WINDOW}))
    assert p.method == "trend" and p.history.missing_years == (MISSING,)
    served = {}
    for _sid, zone, first, last, *_rest, n in US_SCHOOLS:
        for g in US.grades_between(first, last):
            served[(zone, g)] = served.get((zone, g), 0) + n
    for (zone, g), n in served.items():
        zi, gi = p.zones.index(zone), US.grade_index[g]
        np.testing.assert_allclose(p.point[zi, gi], [pupils(y) * n for y in p.years], rtol=1e-9)
    # a grade nobody is enrolled in (PK) stays at zero
    assert np.all(p.point[:, US.grade_index["PK"]] == 0)
