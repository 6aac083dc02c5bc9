"""The cohort model: deterministic path and Monte-Carlo draws, vectorised over draw x zone x grade.

Equations (docs/projection.md):

- progression:  N[z,g,t] = R[z,g] m[g,t] N[z,g-1,t-1] e^{eps}
- entry:        N[z,g,t] = E[z,g] m[g,t] B[z,t-a_g] e^{eps}   (B: births a_g years earlier)
- level grades: N[z,g,t] = L[z,g] e^{eps}
- pooled grades: N[z,g,t] = share[z,g] r_county[g] m[g,t] sum_z' N[z',g-1,t-1] e^{c}
- plus housing and migration additions A[z,g,t]; a negative total is set to 0.

eps = c[g,t] + e[z,g,t] is zero on the deterministic path; in draw d it is a county-wide
shock c ~ N(0, sigma_common[g]) plus a zone shock e ~ N(0, sqrt(tau[g]^2 + 1/n[z,g])).
"""

from __future__ import annotations

import numpy as np

from capacity.grades import GRADES
from capacity.projection.cube import History
from capacity.projection.ratios import LEVEL, MAX_ZONE_LOG_SD, PROGRESSION, Fitted
from capacity.projection.settings import ProjectionSettings


def transition_multipliers(settings: ProjectionSettings, horizon: int) -> np.ndarray:
    """Scenario factors m[g, s] on every ratio, for projected years s = 1..horizon."""
    m = np.ones((len(GRADES), horizon))
    steps = np.arange(1, horizon + 1)
    for g, f in settings.transition_multipliers.items():
        m[GRADES.index(g)] *= f
    for g, a in settings.transition_annual_change.items():
        m[GRADES.index(g)] *= (1.0 + a) ** steps
    return m


def projected_births(history: History, settings: ProjectionSettings, birth_years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Births per zone for ``birth_years``: recorded where known, else by the scenario rule.

    Returns
    -------
    births : ndarray (zones, len(birth_years))
        Children born per zone and year.
    steps_ahead : ndarray (len(birth_years),)
        Years beyond the last recorded birth year (0 where recorded).
    """
    z = len(history.zones)
    out = np.zeros((z, len(birth_years)))
    ahead = np.zeros(len(birth_years), dtype=int)
    if history.births is None or not history.birth_years:
        return out, ahead
    last = history.birth_years[-1]
    base = history.births[:, -settings.births_base_years :].mean(axis=1)
    variant = settings.births_variants[settings.births_variant]
    trend = settings.births_trend if settings.births_rule == "trend" else 0.0
    for j, y in enumerate(birth_years):
        known = history.births_in(int(y))
        if known is not None:
            out[:, j] = known
        elif y > last:
            ahead[j] = int(y) - last
            out[:, j] = base * (1.0 + trend) ** ahead[j] * variant
        # birth years before the record stay 0: those grades are projected by progression
    return out, ahead


def simulate(
    history: History,
    fitted: Fitted,
    settings: ProjectionSettings,
    horizon: int,
    n_draws: int = 0,
    rng: np.random.Generator | None = None,
    additions: np.ndarray | None = None,
    children: np.ndarray | None = None,
) -> np.ndarray:
    """Project ``horizon`` years after the history's last year.

    Parameters
    ----------
    n_draws : int
        0 for the deterministic path (returned with a leading axis of length 1).
    additions : ndarray (zones, grades, horizon), optional
        Pupils added each projected year (housing, migration).
    children : ndarray (zones, horizon, grades), optional
        Known children entering each entry grade (NaN where unknown); replaces births x ratio
        by children x take-up.

    Returns
    -------
    ndarray (zones, grades, horizon, draws)
        Pupils. Draws come last so that quantiles read contiguous memory.
    """
    z, g = history.pupils.shape[:2]
    d = max(n_draws, 1)
    noisy = n_draws > 0
    if noisy and rng is None:
        raise ValueError("rng is required for draws")
    # Draws in float32 (half the memory and time; 7 significant digits is ample for pupils);
    # the deterministic path in float64 so that hand-computed cases match exactly.
    dt = np.float32 if noisy else np.float64
    origin = history.years[-1]
    mult = transition_multipliers(settings, horizon)
    kinds = fitted.kinds
    prog = np.flatnonzero(kinds == PROGRESSION)
    level = np.flatnonzero(kinds == LEVEL)
    pooled = np.flatnonzero(fitted.pooled)
    entries = [(GRADES.index(gr), off) for gr, off in settings.entry_offsets.items() if off is not None]
    births_by_entry = {}
    for gi, off in entries:
        by = np.arange(origin + 1, origin + horizon + 1) - off
        births_by_entry[gi] = projected_births(history, settings, by)
    if noisy:
        max_ahead = max([int(b[1].max()) for b in births_by_entry.values()] + [0])
        walk = np.cumsum(rng.normal(0.0, fitted.sigma_births, size=(d, max_ahead + 1)), axis=1)
        walk[:, 0] = 0.0
        births_factor = np.exp(walk).astype(dt)
        zone_sd = np.minimum(np.sqrt(fitted.tau**2 + 1.0 / np.maximum(fitted.size, 1.0)), MAX_ZONE_LOG_SD)  # (Z, G)
        zone_sd[:, fitted.pooled] = 0.0
        zone_sd = zone_sd.astype(dt)
        common_sd = fitted.sigma_common.astype(dt)
    # Layout (zones, grades, draws): the draw axis is innermost and contiguous.
    state = np.broadcast_to(history.pupils[:, :, -1, None].astype(dt), (z, g, d)).copy()
    out = np.empty((z, g, horizon, d), dtype=dt)
    new = np.empty((z, g, d), dtype=dt)
    is_prog = np.zeros(g, dtype=bool)
    is_prog[prog] = True
    for s in range(horizon):
        ratio = (fitted.ratio * mult[None, :, s]).astype(dt)[:, :, None]  # (Z, G, 1)
        if noisy:
            factor = rng.standard_normal((z, g, d), dtype=np.float32)
            factor *= zone_sd[:, :, None]
            factor += rng.standard_normal((1, g, d), dtype=np.float32) * common_sd[None, :, None]
            np.exp(factor, out=factor)
            factor *= ratio
        else:
            factor = np.broadcast_to(ratio, (z, g, d))
        # progression on the contiguous slice, then the other grades are overwritten
        np.multiply(factor[:, 1:], state[:, :-1], out=new[:, 1:])
        new[:, ~is_prog] = 0.0
        new[:, level] = factor[:, level]
        for gi in pooled:
            county = state[:, gi - 1].sum(0, keepdims=True)  # (1, D)
            new[:, gi] = fitted.share[:, gi, None] * factor[:, gi] * county
        for gi, _off in entries:
            births, ahead = births_by_entry[gi]
            base = births[:, s].astype(dt)[:, None]
            if noisy and ahead[s] > 0:
                base = base * births_factor[None, :, ahead[s]]
            new[:, gi] = factor[:, gi] * base
            if children is not None:
                known = children[:, s, gi]
                have = ~np.isnan(known)
                if have.any():
                    take = settings.children_take_up.get(GRADES[gi], 1.0)
                    new[have, gi] = known[have, None] * take * (factor[have, gi] / np.maximum(fitted.ratio[have, gi], 1e-12)[:, None])
        if additions is not None:
            new += additions[:, :, s, None].astype(dt)
        np.maximum(new, 0.0, out=new)
        out[:, :, s] = new
        state, new = new, state
    return out


def point_path(history: History, fitted: Fitted, settings: ProjectionSettings, horizon: int, **kw) -> np.ndarray:
    """Deterministic projection, shape (zones, grades, horizon)."""
    return simulate(history, fitted, settings, horizon, 0, None, **kw)[..., 0]


def quantiles_last(x: np.ndarray, qs) -> np.ndarray:
    """Quantiles along the last axis (numpy's 'linear' method), shape (len(qs), *x.shape[:-1]).

    Sorts a copy along the contiguous last axis (numpy's SIMD sort is several times faster
    than a multi-kth partition or np.quantile, which moves the axis first).
    """
    n = x.shape[-1]
    pos = np.asarray(qs, dtype=float) * (n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    part = np.sort(x, axis=-1)
    frac = (pos - lo).astype(x.dtype)
    out = np.empty((len(pos), *x.shape[:-1]), dtype=np.float64)
    for i in range(len(pos)):
        a, b = part[..., lo[i]], part[..., hi[i]]
        out[i] = a + (b - a) * frac[i]
    return out
