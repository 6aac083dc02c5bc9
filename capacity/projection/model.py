"""The cohort model: deterministic path and Monte-Carlo draws, vectorised over draw x zone x grade.

Equations (docs/projection.md shows this block; tests/test_projection_docs.py checks it is there)::

    C[z,g,t] = R_c[g] m[g,t] N[z,g-1,t-1] e^{eps}        cohort reaching grade g from zone z (progression)
    C[z,g,t] = R_c[g] m[g,t] B[z,t-a_g] e^{eps}          cohort from births a_g years earlier (entry)
    C[z,g,t] = c[z,t-a_g] u_g m[g,t] e^{eps}             entry where the children table knows c
    N[z,g,t] = kappa[z,g] C[z,g,t] + s[z,g] sum_z' (1 - kappa[z',g]) C[z',g,t]
    N[z,g,t] = (L[z,g] + b[z,g] (t - t0)) m[g,t] e^{eps}  level grades (held: b = 0; trend)
    N[z,g,t] = max(N[z,g,t] + M[z,g,t], 0) + H[z,g,t]     migration flows M, housing stock H

eps = c[g,t] + e[z,g,t] is zero on the deterministic path; in draw d it is a county-wide
shock c ~ N(0, sigma_common[g]) plus a zone shock e ~ N(0, min(sqrt(tau[g]^2 + 1/n[z,g]), 0.5)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from capacity.grades import GradeSystem
from capacity.projection.cube import History
from capacity.projection.ratios import ENTRY, LEVEL, MAX_ZONE_LOG_SD, Fitted
from capacity.projection.settings import ProjectionSettings


def transition_multipliers(settings: ProjectionSettings, horizon: int, grades: GradeSystem) -> np.ndarray:
    """Scenario factors m[g, s] on every ratio, for projected years s = 1..horizon."""
    m = np.ones((len(grades.grades), horizon))
    steps = np.arange(1, horizon + 1)
    for g, f in settings.transition_multipliers.items():
        m[grades.grade_index[g]] *= f
    for g, a in settings.transition_annual_change.items():
        m[grades.grade_index[g]] *= (1.0 + a) ** steps
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
    recent = history.births[:, -settings.births_base_years :]
    base = recent.sum(axis=1) / recent.shape[1]  # the mean (np.mean's own sum and division, without its overhead)
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


@dataclass(frozen=True)
class _Noise:
    """Log-scale noise scales of the draws (zone, county, births), in the draws' dtype."""

    zone_sd: np.ndarray  # (Z, G)
    common_sd: np.ndarray  # (G,)
    births_factor: np.ndarray  # (D, max steps ahead + 1): county births random walk


def _noise(fitted: Fitted, births_by_entry: dict, d: int, rng: np.random.Generator, dt) -> _Noise:
    max_ahead = max([int(b[1].max()) for b in births_by_entry.values()] + [0])
    walk = np.cumsum(rng.normal(0.0, fitted.sigma_births, size=(d, max_ahead + 1)), axis=1)
    walk[:, 0] = 0.0
    zone_sd = np.minimum(np.sqrt(fitted.tau**2 + 1.0 / np.maximum(fitted.size, 1.0)), MAX_ZONE_LOG_SD)
    return _Noise(zone_sd.astype(dt), fitted.sigma_common.astype(dt), np.exp(walk).astype(dt))


def standard_normal32(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normals in float32 by the Box-Muller transform of ``rng``'s float32 uniforms.

    z1 = sqrt(-2 ln(1 - u1)) cos(2 pi u2), z2 = sqrt(-2 ln(1 - u1)) sin(2 pi u2): exactly normal up to
    float32 rounding, with tails cut at |z| = sqrt(-2 ln 2^-24) = 5.77 (probability 8e-9). About 1.5x
    faster than ``Generator.standard_normal(dtype=np.float32)`` (ziggurat), because uniforms, log, sqrt,
    sin and cos are all SIMD loops over the whole array.
    """
    n = int(np.prod(shape))
    half = (n + 1) // 2
    u = rng.random(2 * half, dtype=np.float32)
    radius, angle = u[:half], u[half:]
    np.subtract(np.float32(1.0), radius, out=radius)  # (0, 1]: log is finite
    np.log(radius, out=radius)
    radius *= np.float32(-2.0)
    np.sqrt(radius, out=radius)
    angle *= np.float32(2.0 * np.pi)
    out = np.empty(2 * half, dtype=np.float32)
    np.cos(angle, out=out[:half])
    np.sin(angle, out=out[half:])
    out[:half] *= radius
    out[half:] *= radius
    return out[:n].reshape(shape)


def _shocks(noise: _Noise | None, rng, shape: tuple[int, int, int], dt) -> np.ndarray | None:
    """exp(eps) for one projected year, shape (Z, G, D); None on the deterministic path (no factor to apply)."""
    z, g, d = shape
    if noise is None:
        return None
    normals = standard_normal32(rng, (z + 1, g, d))  # zones, then the county-wide row
    eps, common = normals[:z], normals[z]
    eps *= noise.zone_sd[:, :, None]
    common *= noise.common_sd[:, None]
    eps += common[None]
    return np.exp(eps, out=eps)


def _shocked(x: np.ndarray, shock: np.ndarray | None) -> np.ndarray:
    """``x`` e^{eps}: ``x`` times its shock, or ``x`` itself on the deterministic path (``shock`` None; the same values as
    times 1, without the arrays of ones)."""
    return x if shock is None else x * shock


def _cohorts(state: np.ndarray, shock: np.ndarray | None, entry: dict, s: int, noise: _Noise | None, dt) -> np.ndarray:
    """F e^{eps} (C / R_c m), in place on ``shock`` (a new array on the deterministic path, ``shock`` None): the grade below
    last year, or births a_g years ago, times the shock."""
    if shock is None:
        cohort, entry_shock = np.empty_like(state), None
        cohort[:, 1:] = state[:, :-1]
    else:
        cohort, entry_shock = shock, shock[:, list(entry)].copy()
        cohort[:, 1:] *= state[:, :-1]
    cohort[:, 0] = 0.0
    for k, (gi, (births, ahead)) in enumerate(entry.items()):
        base = births[:, s].astype(dt)[:, None]
        if noise is not None and ahead[s] > 0:
            base = base * noise.births_factor[None, :, ahead[s]]
        cohort[:, gi] = _shocked(base, None if entry_shock is None else entry_shock[:, k])
    return cohort


def _move(cohort: np.ndarray, keep: np.ndarray, leave: np.ndarray, share: np.ndarray) -> np.ndarray:
    """N = kappa C + s sum_z' (1 - kappa) C, in place on ``cohort``: the share kept in each zone plus its share of the movers
    (``leave`` = 1 - kappa)."""
    movers = np.einsum("zg,zgd->gd", leave, cohort)
    cohort *= keep[:, :, None]
    cohort += share[:, :, None] * movers[None]
    return cohort


def simulate(
    history: History,
    fitted: Fitted,
    settings: ProjectionSettings,
    horizon: int,
    n_draws: int = 0,
    rng: np.random.Generator | None = None,
    additions: np.ndarray | None = None,
    children: np.ndarray | None = None,
    stock: np.ndarray | None = None,
    births: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
) -> np.ndarray:
    """Project ``horizon`` years after the history's last year (equations in the module docstring).

    Parameters
    ----------
    n_draws : int
        0 for the deterministic path (returned with a leading axis of length 1).
    additions : ndarray (zones, grades, horizon), optional
        Pupils joining the cohort flow each projected year (net migration M): they age on.
    children : ndarray (zones, horizon, grades), optional
        Known children entering each entry grade (NaN where unknown); replaces births x ratio
        by children x take-up.
    stock : ndarray (zones, grades, horizon), optional
        Pupils present in each projected year outside the cohort flow (housing stock H): added
        to the output, never aged.
    births : dict, optional
        {entry offset: :func:`projected_births` of the years the entry grade's pupils are born}, filled here as
        computed: callers projecting several fits of one history under one settings and horizon pass one dict.

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
    gi_of = history.grades.grade_index
    mult = transition_multipliers(settings, horizon, history.grades)
    level = np.flatnonzero(fitted.kinds == LEVEL)
    births = {} if births is None else births
    births_by_entry = {}
    for gr, off in settings.entry_offsets.items():
        if off is not None and fitted.kinds[gi_of[gr]] == ENTRY:
            if off not in births:
                births[off] = projected_births(history, settings, np.arange(origin + 1, origin + horizon + 1) - off)
            births_by_entry[gi_of[gr]] = births[off]
    noise = _noise(fitted, births_by_entry, d, rng, dt) if noisy else None
    # Layout (zones, grades, draws): the draw axis is innermost and contiguous.
    state = np.broadcast_to(history.pupils[:, :, -1, None].astype(dt), (z, g, d)).copy()
    out = np.empty((z, g, horizon, d), dtype=dt)
    keep, share = fitted.keep.astype(dt), fitted.share.astype(dt)
    leave = 1 - keep
    # the same every draw: R_c m[g, s] on each cohort, and the level grades' pupils (L + b s) m[g, s]
    rate = (fitted.county_ratio[:, None] * mult).astype(dt)
    level_pupils = ((fitted.ratio[:, level, None] + fitted.slope[:, level, None] * np.arange(1, horizon + 1)) * mult[level][None]).astype(
        dt
    )
    # known children replace births x ratio of a grade pupils attend: a grade no pupil was ever in stays at 0 (entry_notes)
    taught = np.nansum(history.pupils, axis=(0, 2)) > 0 if children is not None else None
    known = [gi for gi in births_by_entry if children is not None and taught[gi] and not np.isnan(children[:, :, gi]).all()]
    from_children = [gi_of[g] for g, r in settings.entry_rules().items() if r == "children" and children is not None]
    for s in range(horizon):
        shock = _shocks(noise, rng, (z, g, d), dt)  # None on the deterministic path
        level_shock, children_shock, rule_shock = (
            None if shock is None else shock[:, cols].copy() for cols in (level, known, from_children)
        )
        cohort = _cohorts(state, shock, births_by_entry, s, noise, dt)
        cohort *= rate[None, :, s, None]
        for k, gi in enumerate(known):  # known children replace births x ratio
            have = ~np.isnan(children[:, s, gi])
            take = settings.children_take_up.get(history.grades.grades[gi], 1.0)
            cohort[have, gi] = _shocked(
                (children[have, s, gi] * take * mult[gi, s])[:, None], None if children_shock is None else children_shock[have, k]
            )
        new = _move(cohort, keep, leave, share)
        new[:, level] = _shocked(level_pupils[:, :, s, None], level_shock)
        for k, gi in enumerate(from_children):  # entry_rule children: the children table's count x take-up
            take = settings.children_take_up.get(history.grades.grades[gi], 1.0)
            new[:, gi] = _shocked(
                (children[:, s, gi] * take * mult[gi, s]).astype(dt)[:, None], None if rule_shock is None else rule_shock[:, k]
            )
        if additions is not None:  # net migration may take a cell below 0
            new += additions[:, :, s, None].astype(dt)
            np.maximum(new, 0.0, out=new)
        elif len(level):  # cohorts are products of non-negative factors: only a falling level trend goes below 0
            new[:, level] = np.maximum(new[:, level], 0.0)
        out[:, :, s] = new
        state = new
    if stock is not None:
        out += stock[:, :, :, None].astype(dt)
    return out


def point_path(history: History, fitted: Fitted, settings: ProjectionSettings, horizon: int, **kw) -> np.ndarray:
    """Deterministic projection, shape (zones, grades, horizon)."""
    return simulate(history, fitted, settings, horizon, 0, None, **kw)[..., 0]


BLOCK_VALUES = 2**18
"""Values handled at a time by :func:`quantiles_last` and :func:`calibrated_draws` (1 MB of float32): a block stays in
cache, no copy of the whole array is made (a fresh 36 MB copy of a province district's draws costs page faults as well
as memory), and small arrays take one block (one numpy call per pass)."""


def quantiles_last(x: np.ndarray, qs) -> np.ndarray:
    """Quantiles along the last axis (numpy's 'linear' method), shape (len(qs), *x.shape[:-1]).

    Sorts copies of blocks of rows along the contiguous last axis (numpy's SIMD sort is several times faster
    than a multi-kth partition or np.quantile, which moves the axis first), one block of about
    BLOCK_VALUES values at a time.
    """
    n = x.shape[-1]
    pos = np.asarray(qs, dtype=float) * (n - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    frac = (pos - lo).astype(x.dtype)
    out = np.empty((len(pos), *x.shape[:-1]), dtype=np.float64)
    rows, flat_out = x.reshape(-1, n), out.reshape(len(pos), -1)
    step = max(1, BLOCK_VALUES // max(n, 1))
    block = np.empty((min(step, len(rows)), n), dtype=x.dtype)
    for start in range(0, len(rows), step):
        part = block[: min(step, len(rows) - start)]
        np.copyto(part, rows[start : start + len(part)])
        part.sort(axis=-1)
        for i in range(len(pos)):
            a, b = part[:, lo[i]], part[:, hi[i]]
            flat_out[i, start : start + len(part)] = a + (b - a) * frac[i]
    return out


def centred_quantiles(draws: np.ndarray, point: np.ndarray, qs) -> np.ndarray:
    """Quantiles of ``draws`` (draws last) centred so the median is the deterministic ``point`` (pupils).

    Noise on ratios is skewed after compounding, so the draws' median drifts from the
    deterministic path; the published central projection must not move with the uncertainty.
    Every quantile of a total is scaled by point / median of that total's draws (an additive
    shift, floored at 0, where the median is 0), so the interval keeps its relative shape
    around the deterministic path. Shape (len(qs), *point.shape).
    """
    both = quantiles_last(draws, [*qs, 0.5])
    qv, med = both[:-1], both[-1]
    pos = med > 0
    scale = np.where(pos, point / np.where(pos, med, 1.0), 1.0)
    shift = np.where(pos, 0.0, point - med)
    return np.maximum(qv * scale[None] + shift[None], 0.0)


def calibrated_draws(raw: np.ndarray, point: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Scale each draw's log-deviation from the deterministic path by the lead's factor k::

        x' = max((p + 0.5) ((x + 0.5) / (p + 0.5))^k - 0.5, 0)

    In place on ``raw`` (float32, zones first), a block of zones at a time: a block (~1 MB; one zone of a province
    benchmark district's 9 M draws) stays in cache through the eight passes (16 ms instead of 23 ms for those draws),
    and small draws (the calibration's 100 a back-test) go in one block instead of one numpy call per zone and pass.
    """
    centre = np.log(point + 0.5).astype(np.float32)[..., None]
    factor = k.astype(np.float32)[None, :, None]
    step = max(1, BLOCK_VALUES // max(raw[0].size, 1)) if len(raw) else 1
    for start in range(0, len(raw), step):
        x, c = raw[start : start + step], centre[start : start + step]
        x += np.float32(0.5)
        np.log(x, out=x)
        x -= c
        x *= factor
        x += c
        np.exp(x, out=x)
        x -= np.float32(0.5)
        np.maximum(x, 0.0, out=x)
    return raw


def scale_around(q: np.ndarray, point: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Scale values' log-deviation from ``point`` by ``k`` (broadcast), the calibration map of one level::

        q' = max((p + 0.5) ((q + 0.5) / (p + 0.5))^k - 0.5, 0)

    Monotone in q, so applied to a quantile it gives the quantile of the scaled draws.
    """
    c = np.log(point + 0.5)
    return np.maximum(np.exp(c + (np.log(np.maximum(q, 0.0) + 0.5) - c) * k) - 0.5, 0.0)
