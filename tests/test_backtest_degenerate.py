"""Degenerate histories through the CLI: a constant or straight-line history that a method reproduces exactly, all
zeros in a grade, one zone, one grade, a history only window + 1 years long, a missing year right before the last.

A method that back-tests with no error at all gives calibration no spread to fit (the 80th percentile of the
positions is 0): the factor used to collapse every interval onto the path and, divided into the next level's
factor, turned the projection into NaN. The documented rule keeps the model's own noise, with a note.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from test_grade_systems import US_SCHOOLS, write_district

from capacity.cli import cli, main
from capacity.grades import US
from capacity.notes import collecting
from capacity.projection.backtest import EXACT_RULE

YEARS = list(range(2012, 2025))
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # no divide-by-zero or NaN warning may escape


def make_district(folder: Path, years=YEARS, pupils=lambda y, g: 40.0, schools=US_SCHOOLS, zones=("A", "B")) -> Path:
    """The two-zone US district of test_grade_systems with ``pupils(year, grade)`` per grade and zone served."""
    write_district(folder, US, schools, "us")
    rows = [
        (y, sid, g, pupils(y, g) * served)
        for y in years
        for sid, _z, first, last, *_r, served in schools
        for g in US.grades_between(first, last)
    ]
    pd.DataFrame(rows, columns=["year", "school_id", "grade", "pupils"]).to_csv(folder / "enrolment.csv", index=False)
    for name in ("zones.csv", "births.csv"):
        t = pd.read_csv(folder / name)
        t[t["zone_id"].isin(zones)].to_csv(folder / name, index=False)
    return folder


def wobble(y: int, g: str) -> float:
    """A history with some error to calibrate on: 40-44 pupils, varying by year."""
    return 40.0 + (y * 7 % 5)


def run(*args: str):
    with collecting() as notes:
        res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 0, (res.output, res.exception)
    return res, notes


def projected(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    cal, proj = pd.read_csv(out / "calibration.csv"), pd.read_csv(out / "projection.csv", dtype={"grade": str})
    assert np.isfinite(cal["k"]).all() and (cal["k"] > 0).all(), cal
    assert np.isfinite(proj[["pupils", "p10", "p90"]].to_numpy()).all()
    return cal, proj


@pytest.mark.parametrize("shape", ["constant", "line"])
def test_an_exactly_reproduced_history_keeps_the_models_noise_with_a_note(tmp_path, shape):
    line = shape == "line"
    folder = make_district(tmp_path / "d", pupils=(lambda y, g: 40.0 + 2 * (y - YEARS[0])) if line else (lambda y, g: 40.0))
    out = tmp_path / "p"
    res, notes = run("project", str(folder), "--draws", "100", "--horizon", "5", "--out", str(out))
    cal, proj = projected(out)
    method = "trend" if line else "combined"  # the line is exact for trend only; on a constant every method ties, the default is kept
    assert f"method {method})" in res.output
    exact = cal[cal["rule"] == EXACT_RULE]
    assert set(exact["level"]) == {"zone_grade", "zone_stage", "zone", "stage", "total"} and set(exact["lead"]) == set(range(1, 6))
    assert np.allclose(exact["k"], 1.0)  # cells keep the model's noise, each level the calibrated cells' sums
    assert sum("reproduced history 2012-2024 exactly at leads 1-5" in n for n in notes) == 1
    # the central path is the exact continuation; the interval has the model's own (non-zero) width around it
    served = {(z, g): n for _sid, z, first, last, *_r, n in US_SCHOOLS for g in US.grades_between(first, last)}
    per_cell = proj["year"].map(lambda y: 40.0 + 2 * (y - YEARS[0]) if line else 40.0)
    assert np.allclose(proj["pupils"], per_cell * [served.get((z, g), 0) for z, g in zip(proj["zone_id"], proj["grade"], strict=True)])
    taught = proj[proj["pupils"] > 0]
    assert len(taught) == 5 * len(served) and ((taught["p10"] < taught["pupils"]) & (taught["pupils"] < taught["p90"])).all()


@pytest.mark.parametrize("shape", ["constant", "line"])
def test_backtest_of_an_exact_history_reports_finite_coverage(tmp_path, shape):
    pupils = (lambda y, g: 40.0 + 2 * (y - YEARS[0])) if shape == "line" else (lambda y, g: 40.0)
    folder = make_district(tmp_path / "d", pupils=pupils)
    out = tmp_path / "b"
    _, notes = run("backtest", str(folder), "--out", str(out))
    m = pd.read_csv(out / "backtest_metrics.csv")
    chosen = m["method"].iloc[0]
    # one note naming every method that reproduces it (a constant: all; a line: trend only), not one per method
    names = "method trend" if shape == "line" else "methods combined, persistence and trend"
    exact = [n for n in notes if "reproduced history" in n]
    assert exact == [
        f"projection calibration: the back-test of {names} reproduced history 2012-2024 exactly at leads 1-7 (at least 80 % of "
        "the units with no error), which gives no spread to calibrate on; those leads keep the model's own noise instead of "
        "collapsing the interval onto the path (docs/projection.md)"
    ]
    early = m[(m["method"] == chosen) & (m["lead"] <= 5)]
    assert np.allclose(early["mape"], 0.0) and early["coverage"].between(0, 100).all() and (early["width"] > 0).all()


DEGENERATE = {
    "zeros in grade 3": dict(pupils=lambda y, g: 0.0 if g == "3" else wobble(y, g)),
    "one zone": dict(schools=[("E1", "A", "K", "5", 12, 16, 1), ("M1", "A", "6", "8", 12, 14, 1)], zones=("A",), pupils=wobble),
    "one grade": dict(schools=[("H1", "B", "9", "9", 12, 16, 2)], pupils=wobble),
    "one constant grade": dict(schools=[("H1", "B", "9", "9", 12, 16, 2)]),
    "window + 1 years": dict(years=YEARS[-4:], pupils=wobble),
    "missing year before the last": dict(years=[y for y in YEARS if y != YEARS[-2]], pupils=wobble),
    "constant, missing year before the last": dict(years=[y for y in YEARS if y != YEARS[-2]]),
}


@pytest.mark.parametrize("case", sorted(DEGENERATE))
def test_degenerate_histories_project_and_backtest_without_nan(tmp_path, capsys, case):
    folder = make_district(tmp_path / "d", **DEGENERATE[case])
    run("project", str(folder), "--draws", "50", "--horizon", "5", "--out", str(tmp_path / "p"))
    cal, proj = projected(tmp_path / "p")
    if case.startswith("zeros"):
        assert (proj.loc[proj["grade"] == "3", ["pupils", "p10", "p90"]] == 0).all().all()
    # window 3 cannot back-test 4 years (refused with exit 2 and a message); window 2 can, from one origin
    window = ["--window", "2"] if case == "window + 1 years" else []
    run("backtest", str(folder), *window, "--out", str(tmp_path / "b"))
    m = pd.read_csv(tmp_path / "b" / "backtest_metrics.csv")
    assert np.isfinite(m["mape"]).all() and np.isfinite(m["bias"]).all()
    if case == "window + 1 years":
        assert (cal["rule"] == "uncalibrated").all()
        with pytest.raises(SystemExit) as e:
            main(["backtest", str(folder)])
        assert e.value.code == 2 and "--window: found 3; expected at most 2 for the history 2021-2024" in capsys.readouterr().err


def test_gap_and_plan_run_on_a_constant_history_with_kindergarten_held(tmp_path):
    # two K-5 schools with the same pupils every year 2017-2025 and no births: gap and plan used to stop with
    # "cannot convert float NaN to integer" (a zero spread divided in calibration). Zone B: 45 a grade in 10 rooms
    # of 25 seats = 250 seats for 270 pupils (20 short); zone A: 48 a grade in 12 rooms = 300 seats for 288.
    schools = [("E1", "A", "K", "5", 12, 16, 0), ("E2", "B", "K", "5", 10, 16, 0)]
    folder = make_district(tmp_path / "d", years=list(range(2017, 2026)), schools=schools)
    e = pd.read_csv(folder / "enrolment.csv")
    e["pupils"] = e["school_id"].map({"E1": 48, "E2": 45})
    e.to_csv(folder / "enrolment.csv", index=False)
    (folder / "births.csv").unlink()
    (tmp_path / "s.yaml").write_text("district: d\nprojection:\n  entry_rule: {K: held}\n  draws: 50\n", encoding="utf-8")
    scenario = str(tmp_path / "s.yaml")
    run("gap", scenario, "--horizon", "3", "--out", str(tmp_path / "g"))
    gap = pd.read_csv(tmp_path / "g" / "gap.csv").query("level == 'zone'").set_index(["year", "area"])
    assert np.allclose(gap["demand"].unstack().to_numpy(), [[288.0, 270.0]] * 3)
    assert np.allclose(gap["gap"].unstack().to_numpy(), [[12.0, -20.0]] * 3)
    res, _ = run("plan", scenario, "--horizon", "1", "--out", str(tmp_path / "p"))
    summary = pd.read_json(tmp_path / "p" / "summary.json", typ="series")
    # the county is 8 seats short and rooms decided now are usable only from 2027 (build_lead_years 1): at least 8 unmet
    assert summary["status"] == "optimal" and np.isfinite(summary["objective"]) and summary["classrooms_built"] == 0
    assert summary["unmet_pupil_years"] >= 8 - 1e-6
