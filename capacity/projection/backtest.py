"""Back-testing: rolling origins over the history, error metrics by lead, naive baselines,
and calibration of the uncertainty from the model's own errors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from capacity.errors import ProjectionError
from capacity.projection.cube import History
from capacity.projection.model import point_path, quantiles_last, simulate
from capacity.projection.ratios import fit
from capacity.projection.settings import ESTIMATORS, ProjectionSettings

BASELINES = ("persistence", "linear_trend")
TREND_YEARS = 5
"""History years in the linear-trend baseline's least-squares fit."""
LEVELS = ("total", "stage", "zone", "zone_stage", "zone_grade")
CENTRAL = 0.8
"""Nominal coverage of the interval that calibration targets (P10-P90)."""


def lead_bucket(lead: np.ndarray | pd.Series) -> np.ndarray:
    """'1', '2', '3', '4' or '5+' for leads in years."""
    lead = np.asarray(lead)
    return np.where(lead >= 5, "5+", lead.astype(str))


def origins_for(history: History, settings: ProjectionSettings, last_target: int | None = None) -> list[int]:
    """Recorded origins with a full ratio window behind them and at least one target year after
    (a missing history year is never an origin; no ratio is taken across it)."""
    first = history.years[0] + settings.window
    last = (last_target or history.years[-1]) - 1
    missing = set(history.missing_years)
    return [o for o in range(first, last + 1) if o not in missing]


def _baseline(history: History, method: str, horizon: int) -> np.ndarray:
    h = history.pupils
    if method == "persistence":
        return np.repeat(h[:, :, -1:], horizon, axis=2)
    n = min(TREND_YEARS, h.shape[2])
    rec = ~np.isnan(h[:, :, -n:]).all(axis=(0, 1))  # a missing year is left out of the line
    x = np.arange(n, dtype=float)[rec]
    y = h[:, :, -n:][:, :, rec]
    if len(x) < 2:
        return np.repeat(h[:, :, -1:], horizon, axis=2)
    xm = x.mean()
    slope = ((x - xm) * (y - y.mean(-1, keepdims=True))).sum(-1) / ((x - xm) ** 2).sum()
    ahead = np.arange(n, n + horizon, dtype=float) - xm
    return np.maximum(y.mean(-1)[..., None] + slope[..., None] * ahead, 0.0)


def backtest_errors(
    history: History,
    settings: ProjectionSettings,
    methods: tuple[str, ...] = ESTIMATORS + BASELINES,
    last_target: int | None = None,
    origins: list[int] | None = None,
) -> pd.DataFrame:
    """Projected vs actual pupils for every origin, target year, zone and grade.

    Each origin sees only the history and births recorded up to that year; later births
    come from the scenario's births rule, as they would in a real forecast.

    Returns
    -------
    DataFrame
        method, origin, year, lead, zone_id, grade, projected, actual (pupils).
    """
    last_target = last_target or history.years[-1]
    origins = origins if origins is not None else origins_for(history, settings, last_target)
    if not origins:
        raise ProjectionError(
            f"history {history.years[0]}-{history.years[-1]} is too short to back-test with a {settings.window}-year window"
        )
    frames = []
    zi, gi = np.meshgrid(np.arange(len(history.zones)), np.arange(len(history.grades.grades)), indexing="ij")
    for o in origins:
        past = history.up_to(o)
        horizon = last_target - o
        actual = history.pupils[:, :, o - history.years[0] + 1 : last_target - history.years[0] + 1]
        for m in methods:
            if m in BASELINES:
                proj = _baseline(past, m, horizon)
            else:
                proj = point_path(past, fit(past, settings, m), settings, horizon)
            for s in range(horizon):
                frames.append(
                    pd.DataFrame(
                        {
                            "method": m,
                            "origin": o,
                            "year": o + s + 1,
                            "lead": s + 1,
                            "zone_id": np.asarray(history.zones, dtype=object)[zi.ravel()],
                            "grade": np.asarray(history.grades.grades, dtype=object)[gi.ravel()],
                            "projected": proj[:, :, s].ravel(),
                            "actual": actual[:, :, s].ravel(),
                        }
                    )
                )
    out = pd.concat(frames, ignore_index=True)
    out = out[out["actual"].notna()].reset_index(drop=True)  # a missing year has nothing to compare with
    out["stage"] = out["grade"].map(history.grades.stage_of_grade)
    return out


def error_metrics(errors: pd.DataFrame, level: str = "total", by_bucket: bool = True) -> pd.DataFrame:
    """MAPE and signed bias (percent of actual) by method and lead.

    Parameters
    ----------
    level : str
        total (district sum), stage, zone, zone_stage or zone_grade: the units whose
        percentage errors are averaged.
    by_bucket : bool
        Group leads as 1, 2, 3, 4, 5+ (else each lead on its own).

    Returns
    -------
    DataFrame
        method, lead, mape (%), bias (%), n (units averaged). Units with zero actual pupils
        are left out of the percentages, and counted in n_zero_actual.
    """
    keys = {"total": [], "stage": ["stage"], "zone": ["zone_id"], "zone_stage": ["zone_id", "stage"], "zone_grade": ["zone_id", "grade"]}[
        level
    ]
    g = errors.groupby(["method", "origin", "year", "lead", *keys], sort=False)[["projected", "actual"]].sum().reset_index()
    g["lead_group"] = lead_bucket(g["lead"]) if by_bucket else g["lead"].astype(str)
    pos = g["actual"] > 0
    g["ape"] = np.where(pos, (g["projected"] - g["actual"]).abs() / g["actual"].where(pos, 1) * 100, np.nan)
    g["pe"] = np.where(pos, (g["projected"] - g["actual"]) / g["actual"].where(pos, 1) * 100, np.nan)
    out = g.groupby(["method", "lead_group"], sort=True).agg(
        mape=("ape", "mean"), bias=("pe", "mean"), n=("ape", "count"), n_zero_actual=("ape", lambda s: int(s.isna().sum()))
    )
    return out.reset_index().rename(columns={"lead_group": "lead"})


def best_method(errors: pd.DataFrame, lead: int, level: str = "zone") -> str:
    """Estimator with the lowest MAPE at ``lead`` (or the largest lead back-tested, if shorter)."""
    m = error_metrics(errors[errors["method"].isin(ESTIMATORS)], level, by_bucket=False)
    m["lead"] = m["lead"].astype(int)
    use = min(lead, int(m["lead"].max()))
    at = m[m["lead"] == use].sort_values(["mape", "method"])
    return str(at["method"].iloc[0])


@dataclass(frozen=True)
class Calibration:
    """Spread factors that make the back-test's P10-P90 interval cover 80 % at each lead.

    Attributes
    ----------
    k : ndarray
        Factor per lead 1..len(k) (log scale around the median); later leads use the last.
    table : DataFrame
        lead, k, n (cells), coverage_raw (coverage of the uncalibrated interval),
        coverage_calibrated (leave-one-origin-out coverage after calibration).
    """

    k: np.ndarray
    table: pd.DataFrame

    def factor(self, lead: int) -> float:
        if len(self.k) == 0:
            return 1.0
        return float(self.k[min(lead, len(self.k)) - 1])


def _positions(lo: np.ndarray, mid: np.ndarray, hi: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """How far an actual lies from the median, in units of the half-interval on its side."""
    a = np.log(actual + 0.5)
    lo, mid, hi = np.log(lo + 0.5), np.log(mid + 0.5), np.log(hi + 0.5)
    up = a >= mid
    width = np.where(up, hi - mid, mid - lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(width > 1e-12, np.abs(a - mid) / width, np.nan)


def calibrate(
    history: History, settings: ProjectionSettings, method: str, n_draws: int = 100, last_target: int | None = None
) -> Calibration:
    """Fit per-lead spread factors from rolling-origin back-tests of ``method``'s draws.

    For every back-test cell (origin, year, zone, grade with pupils) the position
    p = |log A - log P| / (half-width of the P10-P90 interval on A's side) is computed,
    with P the deterministic path (the centre the draws are later scaled around);
    k at a lead is the 80th percentile of p, so scaling log-deviations from the median by
    k makes the interval cover 80 %. Leave-one-origin-out coverage is reported to show
    how well that holds out of sample.
    """
    origins = origins_for(history, settings, last_target)
    last_target = last_target or history.years[-1]
    if len(origins) < 2:
        return Calibration(np.array([]), pd.DataFrame(columns=["lead", "k", "n", "coverage_raw", "coverage_calibrated"]))
    rng = np.random.default_rng(settings.seed)
    rows = []
    for o in origins:
        past = history.up_to(o)
        horizon = last_target - o
        fitted = fit(past, settings, method)
        sims = simulate(past, fitted, settings, horizon, n_draws, rng)
        lo, hi = quantiles_last(sims, [0.1, 0.9])
        mid = point_path(past, fitted, settings, horizon)
        actual = history.pupils[:, :, o - history.years[0] + 1 : last_target - history.years[0] + 1]
        p = _positions(lo, mid, hi, actual)
        keep = (actual > 0) | (mid > 0)
        for s in range(horizon):
            ps = p[:, :, s][keep[:, :, s] & ~np.isnan(p[:, :, s])]
            rows.append(pd.DataFrame({"origin": o, "lead": s + 1, "p": ps}))
    pos = pd.concat(rows, ignore_index=True)
    k = pos.groupby("lead")["p"].quantile(CENTRAL).sort_index()
    # A factor must not shrink as lead grows (intervals only widen): take the running max.
    k_arr = np.maximum.accumulate(k.to_numpy())
    table = []
    for lead, grp in pos.groupby("lead", sort=True):
        loo = []
        for o, g_o in grp.groupby("origin"):
            rest = grp[grp["origin"] != o]["p"]
            if len(rest):
                loo.append((g_o["p"] <= rest.quantile(CENTRAL)).to_numpy())
        cov = float(np.concatenate(loo).mean()) if loo else np.nan
        table.append(
            {
                "lead": int(lead),
                "k": float(k_arr[int(lead) - 1]),
                "n": len(grp),
                "coverage_raw": float((grp["p"] <= 1).mean()),
                "coverage_calibrated": cov,
            }
        )
    return Calibration(k_arr, pd.DataFrame(table))
