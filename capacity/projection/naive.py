"""The two standard methods besides grade-progression ratios: persistence and linear trend.

Both project every zone x grade cell on its own, with no cohort flow::

    persistence: N[z,g,t] = N[z,g,t0]                       (each cell held at the origin year)
    trend:       N[z,g,t] = max(L[z,g] + b[z,g] (t - t0), 0)  (least-squares line over the last
                                                               ``trend_years`` recorded years, L its value at t0)

They are expressed as a :class:`Fitted` whose every grade is a LEVEL grade, so the draws,
calibration, housing and migration of the cohort model apply unchanged.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from capacity.projection.cube import History
from capacity.projection.ratios import DEFAULT_LOG_SD, LEVEL, Fitted, _noise_scales, _sigma_births, annual_ratios, fits, levels
from capacity.projection.settings import NAIVE_METHODS, ProjectionSettings


def naive_levels(history: History, settings: ProjectionSettings, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Level (pupils at the origin) and slope (pupils a year) of every zone x grade cell under persistence or trend.

    trend: least-squares line over the last ``trend_years`` *recorded* history years (a missing year is skipped,
    never filled). An entry grade whose ``entry_rule`` is set to held or trend follows that rule under either method
    (held: its origin-year pupils); births and children rules have no place in a method without cohorts, so those
    grades follow the method (announced by :func:`project.entry_notes`).
    """
    h = history.pupils
    grades = history.grades
    trend = np.full(h.shape[1], method == "trend")
    for g, rule in settings.entry_rule.items():
        if rule in ("held", "trend") and g in grades.grade_index:
            trend[grades.grade_index[g]] = rule == "trend"
    held = h[:, :, -1].copy()  # the origin is always a recorded year
    if not trend.any():
        return held, np.zeros(h.shape[:2])
    recorded = np.flatnonzero(~np.isnan(h).all(axis=(0, 1)))
    start = int(recorded[-min(settings.trend_years, len(recorded))])
    return levels(h[:, :, start:], held, trend)


def fit_naive(history: History, settings: ProjectionSettings, method: str, noise: bool = True) -> Fitted:
    """Persistence or trend as a Fitted (every grade LEVEL; level and slope from :func:`naive_levels`)."""
    g = history.pupils.shape[1]
    z = history.pupils.shape[0]
    level, slope = naive_levels(history, settings, method)
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
        sigma_births=_sigma_births(history) if noise else DEFAULT_LOG_SD,
    )


def fit_method(history: History, settings: ProjectionSettings, method: str, noise: bool = True) -> Fitted:
    """Fit any standard method: a ratio estimator (:func:`ratios.fit`), persistence or trend (``noise=False``: the
    deterministic path only, noise scales left at their default)."""
    return fit_methods(history, settings, (method,), noise)[0]


def fit_methods(
    history: History, settings: ProjectionSettings, methods: tuple[str, ...], noise: bool = True, prepared: dict | None = None
) -> list[Fitted]:
    """:func:`fit_method` of each of ``methods``, in their order; the ratio estimators share one preparation of the
    window (:func:`ratios.fits`, with its ``prepared``)."""
    estimators = tuple(m for m in methods if m not in NAIVE_METHODS)
    by_estimator = dict(zip(estimators, fits(history, settings, estimators, noise, prepared) if estimators else [], strict=True))
    return [fit_naive(history, settings, m, noise) if m in NAIVE_METHODS else by_estimator[m] for m in methods]


def with_noise(fitted: Fitted, history: History, settings: ProjectionSettings) -> Fitted:
    """A deterministic fit (``noise=False``) of ``history`` under ``settings`` with its noise scales added: the fit with
    ``noise=True``, to the bit, without fitting again (every other field is the same either way)."""
    return replace(
        fitted,
        **dict(zip(("sigma_common", "tau"), _noise_scales(*annual_ratios(history, settings)), strict=True)),
        sigma_births=_sigma_births(history),
    )
