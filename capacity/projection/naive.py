"""The two standard methods besides grade-progression ratios: persistence and linear trend.

Both project every zone x grade cell on its own, with no cohort flow::

    persistence: N[z,g,t] = N[z,g,t0]                       (each cell held at the origin year)
    trend:       N[z,g,t] = max(L[z,g] + b[z,g] (t - t0), 0)  (least-squares line over the last
                                                               ``trend_years`` years, L its value at t0)

They are expressed as a :class:`Fitted` whose every grade is a LEVEL grade, so the draws,
calibration, housing and migration of the cohort model apply unchanged.
"""

from __future__ import annotations

import numpy as np

from capacity.projection.cube import History
from capacity.projection.ratios import DEFAULT_LOG_SD, LEVEL, Fitted, _noise_scales, _sigma_births, annual_ratios, fit
from capacity.projection.settings import NAIVE_METHODS, ProjectionSettings


def line_fit(pupils: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares line along the last axis (years): value in the last year and slope (pupils a year)."""
    m = pupils.shape[-1]
    if m < 2:
        return pupils[..., -1].copy(), np.zeros(pupils.shape[:-1])
    x = np.arange(m, dtype=float) - (m - 1) / 2
    slope = (pupils * x).sum(-1) / (x**2).sum()
    return pupils.mean(-1) + slope * (m - 1) / 2, slope


def fit_naive(history: History, settings: ProjectionSettings, method: str, noise: bool = True) -> Fitted:
    """Persistence or trend as a Fitted (every grade LEVEL; level = last year or the fitted line)."""
    h = history.pupils
    z, g = h.shape[:2]
    if method == "persistence":
        level, slope = h[:, :, -1].copy(), np.zeros((z, g))
    else:
        level, slope = line_fit(h[:, :, -min(settings.trend_years, h.shape[2]) :])
    sigma_common, tau = _noise_scales(*annual_ratios(history, settings)) if noise else (np.full(g, DEFAULT_LOG_SD), np.zeros(g))
    return Fitted(
        origin=history.years[-1],
        kinds=np.full(g, LEVEL),
        no_feeder=np.zeros(g, dtype=bool),
        ratio=level,
        raw_ratio=level.copy(),
        county_ratio=np.zeros(g),
        keep=np.ones((z, g)),
        share=np.zeros((z, g)),
        slope=slope,
        weight=np.ones((z, g)),
        size=np.maximum(level, 0.0),
        sigma_common=sigma_common,
        tau=tau,
        sigma_births=_sigma_births(history),
    )


def fit_method(history: History, settings: ProjectionSettings, method: str, noise: bool = True) -> Fitted:
    """Fit any standard method: a ratio estimator (:func:`ratios.fit`), persistence or trend (``noise=False``: the
    deterministic path only, noise scales left at their default)."""
    if method in NAIVE_METHODS:
        return fit_naive(history, settings, method, noise)
    return fit(history, settings, method, noise)
