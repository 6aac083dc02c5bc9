"""Ratio estimation: annual ratios, the four estimators, small-number shrinkage, noise scales.

Every function is pure numpy over arrays shaped (zones, grades, years).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from capacity.grades import GradeSystem
from capacity.projection.cube import History
from capacity.projection.settings import COMBINED, ESTIMATORS, ProjectionSettings

ENTRY, PROGRESSION, LEVEL = 0, 1, 2
"""How each grade is projected: from births, from the grade below a year earlier, or held at its mean level."""

DEFAULT_LOG_SD = 0.05
"""Log-scale noise used where history is too short to estimate one (documented in docs/projection.md)."""


def nan_as_zero(x: np.ndarray) -> np.ndarray:
    """``x`` with NaN as 0: ``np.nan_to_num`` of finite data to the bit, at a third of its cost (it also looks for
    infinities, which pupils, births and their ratios never hold)."""
    return np.where(np.isnan(x), 0.0, x)


def grade_kinds(settings: ProjectionSettings, grades: GradeSystem) -> np.ndarray:
    """ENTRY / PROGRESSION / LEVEL code for each grade of ``grades``."""
    kinds = np.full(len(grades.grades), PROGRESSION)
    kinds[0] = LEVEL
    births = settings.births_offsets()
    for g in settings.entry_offsets:
        kinds[grades.grade_index[g]] = ENTRY if g in births else LEVEL
    return kinds


def trend_grades(settings: ProjectionSettings, grades: GradeSystem) -> np.ndarray:
    """Whether each grade of ``grades``, when a LEVEL grade, follows a trend (``level_rule``, or its own ``entry_rule``)."""
    trend = np.full(len(grades.grades), settings.level_rule == "trend")
    for g, rule in settings.entry_rules().items():
        if rule in ("held", "trend"):
            trend[grades.grade_index[g]] = rule == "trend"
    return trend


def window_start(history: History, window: int) -> int:
    """Index of the first history year of the ratio window: the last ``window`` years that have a
    recorded year before them (a year after a missing one gives no ratio, so it does not count)."""
    rec = ~np.isnan(history.pupils).all(axis=(0, 1))
    paired = np.flatnonzero(rec[1:] & rec[:-1]) + 1
    if len(paired) < window:
        return 0
    return int(paired[-window])


def annual_ratios(history: History, settings: ProjectionSettings) -> tuple[np.ndarray, np.ndarray]:
    """Numerators and denominators of the annual ratios.

    Returns
    -------
    num, den : ndarray, shape (zones, grades, years)
        ``num / den`` is the ratio observed in each history year: pupils in the grade over
        pupils in the grade below a year earlier (progression), over births ``offset``
        years earlier (entry), or over 1 (level grades). NaN where not observable.
    """
    h = history.pupils
    z, g, t = h.shape
    num = np.full_like(h, np.nan)
    den = np.full_like(h, np.nan)
    kinds = grade_kinds(settings, history.grades)
    prog = np.flatnonzero(kinds == PROGRESSION)
    num[:, prog, 1:] = h[:, prog, 1:]
    den[:, prog, 1:] = h[:, prog - 1, :-1]
    lev = np.flatnonzero(kinds == LEVEL)
    num[:, lev, :] = h[:, lev, :]
    den[:, lev, :] = 1.0
    for grade, off in settings.births_offsets().items():
        gi = history.grades.grade_index[grade]
        for ti, year in enumerate(history.years):
            b = history.births_in(year - off)
            if b is not None:
                num[:, gi, ti] = h[:, gi, ti]
                den[:, gi, ti] = b
    return num, den


def estimate(r: np.ndarray, method: str, alpha: float) -> np.ndarray:
    """Combine annual ratios along the last axis (oldest first); NaN entries are skipped.

    mean: arithmetic mean; weighted: weights 1, 2, ..., n (newest heaviest); median;
    exp_smoothing: level <- alpha r_t + (1 - alpha) level, started at the first valid r;
    combined: the mean of those four estimates (an equal-weight forecast combination).
    All-NaN rows give NaN. The four share the mask of valid entries, their count and the ratios with NaN
    as 0, computed once (combined costs about half of four separate calls).
    """
    if method not in (*ESTIMATORS, COMBINED):
        raise ValueError(method)
    valid = ~np.isnan(r)
    count = valid.sum(-1)
    filled = np.where(valid, r, 0.0)
    each = [_estimator(m, r, valid, count, filled, alpha) for m in (ESTIMATORS if method == COMBINED else (method,))]
    return np.mean(each, axis=0) if method == COMBINED else each[0]


def _estimator(method: str, r: np.ndarray, valid: np.ndarray, count: np.ndarray, filled: np.ndarray, alpha: float) -> np.ndarray:
    """One estimator of :func:`estimate` over ``r``, given its valid mask, the count of valid entries per row and
    ``r`` with NaN as 0 (``np.nansum`` of r is ``filled.sum(-1)`` to the bit)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "mean":
            return np.where(count > 0, filled.sum(-1) / count, np.nan)
        if method == "median":  # np.nanmedian's value (mean of the two middle values), without its masked-array path
            ranked = np.sort(r, axis=-1)  # NaN last
            n = count[..., None]
            low = np.take_along_axis(ranked, np.maximum((n - 1) // 2, 0), -1)[..., 0]
            high = np.take_along_axis(ranked, n // 2 - (n == 0), -1)[..., 0]
            return np.where(count > 0, (low + high) / 2.0, np.nan)
        if method == "weighted":
            w = np.arange(1, r.shape[-1] + 1, dtype=float) * valid
            return np.where(count > 0, (filled * w).sum(-1) / w.sum(-1), np.nan)
    level = np.full(r.shape[:-1], np.nan)  # exp_smoothing
    for i in range(r.shape[-1]):
        x = r[..., i]
        level = np.where(np.isnan(level), x, np.where(np.isnan(x), level, alpha * x + (1 - alpha) * level))
    return level


@dataclass(frozen=True)
class Fitted:
    """Ratios, flows between zones and noise scales fitted at one origin.

    Attributes
    ----------
    origin : int
        Last history year used.
    kinds : ndarray (grades,)
        ENTRY / PROGRESSION / LEVEL per grade, after grades with no feeder in the data
        became LEVEL.
    no_feeder : ndarray of bool (grades,)
        Grades projected by progression or entry in the settings whose feeder (the grade
        below, or births) had no pupils anywhere in the window: they follow the
        ``level_rule`` as LEVEL grades.
    ratio : ndarray (zones, grades)
        Shrunk zone ratios (per birth or per pupil of the grade below; for information:
        the model uses county_ratio x keep plus the pooled share); pupils for LEVEL grades.
    raw_ratio : ndarray (zones, grades)
        Zone ratios before shrinkage (NaN where the zone has no observations).
    county_ratio : ndarray (grades,)
        R_c: pupils in the grade per pupil of the grade below a year earlier (or per birth),
        county-wide.
    keep : ndarray (zones, grades)
        kappa: share of a zone's cohort that continues in the zone (the rest joins the
        county pool of movers for that grade).
    share : ndarray (zones, grades)
        s: each zone's share of the county pool of movers (sums to 1 over zones where the
        grade has movers).
    slope : ndarray (zones, grades)
        Pupils a year added to a LEVEL grade under ``level_rule: trend`` (else 0).
    weight : ndarray (zones, grades)
        Mean annual denominator in the window (pupils or births) that sets the shrinkage.
    size : ndarray (zones, grades)
        Mean annual cohort (pupils) of the cell, for the noise of small cells.
    sigma_common : ndarray (grades,)
        Log-scale sd of county-wide annual ratio deviations.
    tau : ndarray (grades,)
        Extra log-scale sd of zone deviations beyond counting noise.
    sigma_births : float
        Log-scale sd of annual change of county births (for unrecorded future births).
    """

    origin: int
    kinds: np.ndarray
    no_feeder: np.ndarray
    ratio: np.ndarray
    raw_ratio: np.ndarray
    county_ratio: np.ndarray
    keep: np.ndarray
    share: np.ndarray
    slope: np.ndarray
    weight: np.ndarray
    size: np.ndarray
    sigma_common: np.ndarray
    tau: np.ndarray
    sigma_births: float


MAX_ZONE_LOG_SD = 0.5
"""Cap on a zone's log-scale ratio noise, so that a tiny zone cannot blow up the draws."""


def fit(history: History, settings: ProjectionSettings, method: str, noise: bool = True) -> Fitted:
    """Estimate every ratio, flow and level from the last ``settings.window`` history years.

    Zone ratios are shrunk toward the county-wide ratio by credibility weighting::

        r[z,g] = (w[z,g] r_zone[z,g] + k R_c[g]) / (w[z,g] + k)

    with w the mean annual denominator in the window and k = ``settings.shrinkage_pupils``; a zone with no observation takes the
    county ratio, a zone with no pupil of the grade in the window keeps 0 (unless a new school there teaches it:
    ``History.opening``; it then takes the county ratio). A zone keeps
    ``kappa = min(r, R_c) / R_c`` of its cohort; the rest moves (e.g. to the town's junior
    school) and is shared among the zones that take in more than their own cohort, by their
    mean share of those arrivals (:func:`flows`).
    """
    return fits(history, settings, (method,), noise)[0]


def fits(
    history: History, settings: ProjectionSettings, methods: tuple[str, ...], noise: bool = True, prepared: dict | None = None
) -> list[Fitted]:
    """:func:`fit` of each of ``methods`` (ratio estimators or combined) on the same history and settings.

    What does not depend on the estimator (annual ratios, window masks, weights and sizes, grade kinds, structural
    zeros, noise scales) is computed once (:func:`_prepare`); each method then only combines the annual ratios and
    shrinks, splits and levels them (a back-test of the four estimators at one origin prepares its window once instead
    of four times). ``prepared``: a dict the caller keeps for this one history (e.g. one back-test origin); the
    preparation is taken from it when settings that prepare the same (:func:`_prepare_key`) made it before, else made
    and put in it (``auto``'s held and trend trials of an entry grade, and its challengers, prepare a window once).
    """
    key = _prepare_key(settings, noise)
    w = None if prepared is None else prepared.get(key)
    if w is None:
        w = _prepare(history, settings, noise)
        if prepared is not None:
            prepared[key] = w
    trend = trend_grades(settings, history.grades)
    k = settings.shrinkage_pupils
    z = len(history.zones)

    def one(method: str) -> Fitted:
        estimates = _estimates(w, method, settings.smoothing_alpha)
        r_zone, r_c, held = estimates[:z], nan_as_zero(estimates[z]), nan_as_zero(estimates[z + 1 :])
        shrunk = np.where(
            np.isnan(r_zone), r_c[None, :], (w.weight * nan_as_zero(r_zone) + k * r_c[None, :]) / np.maximum(w.weight + k, 1e-12)
        )
        shrunk = np.where(w.opening, r_c[None, :], np.where(w.structural, 0.0, shrunk))
        keep, share = _flows(w.flow_window, shrunk, r_c, w.pooled)
        if not settings.moves_between_zones:
            # each zone's own ratio on its own feeder; only pooled grades move
            with np.errstate(invalid="ignore", divide="ignore"):
                own = np.where(r_c[None, :] > 0, shrunk / np.where(r_c > 0, r_c, 1.0)[None, :], 1.0)
            keep = np.where(w.pooled[None, :], keep, own)
            share = np.where(w.pooled[None, :], share, 0.0)
        cell_size = np.maximum(w.size, r_c[None, :] * w.weight)
        level, slope = levels(w.pupils, held, trend)
        lev = w.kinds == LEVEL
        shrunk[:, lev] = level[:, lev]
        cell_size[:, lev] = level[:, lev]
        return Fitted(
            origin=history.years[-1],
            kinds=w.kinds,
            no_feeder=w.no_feeder,
            ratio=shrunk,
            raw_ratio=r_zone,
            county_ratio=r_c,
            keep=keep,
            share=share,
            slope=np.where(lev[None, :], slope, 0.0),
            weight=w.weight,
            size=cell_size,
            sigma_common=w.sigma_common,
            tau=w.tau,
            sigma_births=w.sigma_births,
        )

    return [one(m) for m in methods]


class _Prepared(NamedTuple):
    """A history's window as every estimator reads it (:func:`_prepare`); read only."""

    annual: np.ndarray  # zone ratios, county ratios and pupils stacked (rows 0..Z-1, Z, Z+1..): one estimator call
    weight: np.ndarray
    size: np.ndarray
    kinds: np.ndarray
    no_feeder: np.ndarray
    structural: np.ndarray
    opening: np.ndarray
    pooled: np.ndarray
    flow_window: _FlowWindow
    pupils: np.ndarray
    sigma_common: np.ndarray
    tau: np.ndarray
    sigma_births: float
    estimates: dict  # (estimator, alpha) -> its estimate of ``annual`` (read only), filled by :func:`_estimates`


def _estimates(w: _Prepared, method: str, alpha: float) -> np.ndarray:
    """``estimate(w.annual, method, alpha)``, each estimator computed once per prepared window: combined is the mean of
    the four (as :func:`estimate` takes it), which the single estimators and other fits of combined then reuse. The
    arrays kept are read only (fits of several candidates hold views of them)."""
    if method == COMBINED:
        return np.mean([_estimates(w, m, alpha) for m in ESTIMATORS], axis=0)
    if (method, alpha) not in w.estimates:
        w.estimates[method, alpha] = estimate(w.annual, method, alpha)
        w.estimates[method, alpha].flags.writeable = False
    return w.estimates[method, alpha]


def _prepare_key(settings: ProjectionSettings, noise: bool) -> tuple:
    """The settings :func:`_prepare` reads: two settings with the same key prepare a history the same (the others, e.g.
    the estimator, shrinkage, level rule, moves between zones and smoothing, are read by each fit itself)."""
    return (
        settings.window,
        tuple(sorted(settings.entry_offsets.items())),
        tuple(sorted(settings.births_offsets().items())),
        tuple(settings.pooled_grades),
        noise,
    )


def _prepare(history: History, settings: ProjectionSettings, noise: bool) -> _Prepared:
    """What :func:`fits` reads from the last ``settings.window`` history years whatever the estimator."""
    num, den = annual_ratios(history, settings)
    win = slice(window_start(history, settings.window), None)
    n, d = num[:, :, win], den[:, :, win]
    pupils = history.pupils[:, :, win]
    ok = ~np.isnan(d) & (d > 0) & ~np.isnan(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        zone_annual = np.where(ok, n / np.where(ok, d, 1.0), np.nan)
        # county-wide: every zone counts, also those whose pupils came from another zone's feeder
        known = ~np.isnan(n) & ~np.isnan(d)
        cn = np.where(known, n, 0.0).sum(0)
        cd = np.where(known, d, 0.0).sum(0)
        county_annual = np.where(cd > 0, cn / np.where(cd > 0, cd, 1.0), np.nan)
        observed = np.maximum(ok.sum(-1), 1)
        pupils_observed = np.where(ok, n, 0.0).sum(-1)
        weight = np.where(ok, d, 0.0).sum(-1) / observed
        size = pupils_observed / observed
    # One estimator call over the zone ratios, the county ratios and the pupils (each row is combined on its own,
    # and a call's cost is per numpy operation far more than per value: a third of the cost of three calls).
    annual = np.concatenate([zone_annual, county_annual[None], pupils])
    kinds = grade_kinds(settings, history.grades)
    # window years before a unit's first pupils (a school that opened within the window): left out of its shares
    opened = np.maximum.accumulate(np.nansum(history.pupils, axis=1) > 0, axis=-1)
    before = ~opened[:, win] & opened[:, -1:]
    flow_window = _flow_window(n, d, teaching_at_origin(history), before if before.any() else None)
    # A grade whose feeder had no pupil anywhere in the window (a high-school-only district's
    # first grade) cannot be projected from it: it becomes a LEVEL grade (held or trended).
    has_pupils = flow_window.n0.sum(axis=(0, 2)) > 0
    no_feeder = (kinds != LEVEL) & ~(cd > 0).any(-1) & has_pupils
    kinds = np.where(no_feeder, LEVEL, kinds)
    # Structural zeros: no pupil of the grade in the zone in any window year although
    # the grade below had some -> the zone has no school for it; its pupils move elsewhere.
    structural = ok.any(-1) & (pupils_observed == 0)
    # ... unless a new school in the zone teaches it (schools table): no observation of its own, it keeps its zone's cohort
    opening = structural & (history.opening > 0) if history.opening is not None else np.zeros_like(structural)
    pooled = np.zeros(len(history.grades.grades), dtype=bool)
    pooled[[history.grades.grade_index[g] for g in settings.pooled_grades]] = True
    # noise scales (sigma_births too) only matter for draws (a deterministic back-test skips them)
    g = len(kinds)
    sigma_common, tau = _noise_scales(num, den) if noise else (np.full(g, DEFAULT_LOG_SD), np.zeros(g))
    sigma_births = _sigma_births(history) if noise else DEFAULT_LOG_SD
    return _Prepared(
        annual, weight, size, kinds, no_feeder, structural, opening, pooled, flow_window, pupils, sigma_common, tau, sigma_births, {}
    )


def teaching_at_origin(history: History) -> np.ndarray | None:
    """Schools teaching each grade in each zone (zones x grades) as the moves model reads them: the history's
    ``teaching`` count, and at least 1 where the zone has pupils of the grade in the last history year (a back-test
    origin before a school closed). None where the history does not know its schools."""
    if history.teaching is None:
        return None
    return np.maximum(history.teaching, nan_as_zero(history.pupils[:, :, -1]) > 0)


def flows(
    n: np.ndarray,
    d: np.ndarray,
    ratio: np.ndarray,
    r_c: np.ndarray,
    pooled: np.ndarray,
    teaching: np.ndarray | None = None,
    before: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Share of each zone's cohort that stays, and each zone's share of those who move::

        kappa[z,g] = min(r[z,g], R_c[g]) / R_c[g]                 (0 for pooled grades, and where no school in z teaches g)
        a[z,g,t]   = max(N[z,g,t] - kappa[z,g] R_c[g] F[z,g,t], 0)  (arrivals from other zones)
        s[z,g]     = mean over window years t of a[z,g,t] / sum_z' a[z',g,t]

    With ``teaching`` (S[z,g]: schools in zone z that teach grade g), kappa is 0 where S = 0 and s is taken among
    the zones that teach g (s0 is s above, or, where none of those zones had arrivals, their mean share of the
    grade's pupils)::

        s[z,g] = 1[S[z,g] > 0] s0[z,g] / sum_z' 1[S[z',g] > 0] s0[z',g]
        s[z,g] = S[z,g] / sum_z' S[z',g]        (no zone that teaches g had pupils of g: new schools)

    A grade that no zone teaches is left as without ``teaching``. With ``before`` (zones x window years: years before
    the zone's first pupils, e.g. a school that opened within the window), s of a zone is its mean over the years it
    had opened, and the shares are scaled to sum to 1 (a school open two of three years is not given two thirds of
    its intake).

    F is the feeder (the grade below a year earlier, or births a_g years earlier). A zone
    whose ratio is below the county's sends the difference away; one above it takes in
    arrivals. In a stable history this reproduces every zone exactly and, whatever r, the
    county total is R_c times the county's feeder: moves between zones neither create nor
    lose pupils.

    Parameters
    ----------
    n, d : ndarray (zones, grades, window years)
        Pupils in the grade, and its feeder a year earlier (pupils or births); NaN where unknown.
    ratio : ndarray (zones, grades)
        Shrunk zone ratios r.
    r_c : ndarray (grades,)
        County ratios R_c.
    pooled : ndarray of bool (grades,)
        Grades whose whole cohort moves (``pooled_grades``).
    teaching : ndarray (zones, grades), optional
        Schools in each zone that teach each grade (:func:`teaching_at_origin`); None: every zone may teach every grade.
    before : ndarray of bool (zones, window years), optional
        Years before each zone's first pupils; None: every zone counts in every year.

    Returns
    -------
    keep : ndarray (zones, grades)
        kappa = min(r, R_c) / R_c (1 where R_c = 0; 0 for pooled grades and where no school in the zone teaches the grade).
    share : ndarray (zones, grades)
        s = mean over window years of a[z,t] / sum_z a[z,t], with a = max(n - kappa R_c d, 0)
        the pupils beyond the zone's own continuing cohort (d = 0 where the zone has no
        feeder); where no zone ever takes in anyone, the zone's mean share of the grade.
    """
    return _flows(_flow_window(n, d, teaching, before), ratio, r_c, pooled)


class _FlowWindow(NamedTuple):
    """What :func:`flows` reads from a window whatever the ratios: made once for all the estimators fitted on it."""

    n0: np.ndarray  # pupils, NaN as 0
    d0: np.ndarray  # feeders, NaN as 0
    own_share: np.ndarray  # each zone's mean share of the grade's pupils (NaN as 0): s where no zone ever takes anyone in
    teaching: np.ndarray | None
    taught: np.ndarray | None  # zones that teach each grade (every zone for a grade taught nowhere)
    taught_share: np.ndarray | None  # the mean share of the grade's pupils among the zones that teach it
    before: np.ndarray | None  # years before each zone's first pupils (zones x window years), left out of its shares


def _flow_window(n: np.ndarray, d: np.ndarray, teaching: np.ndarray | None, before: np.ndarray | None = None) -> _FlowWindow:
    n0 = nan_as_zero(n)
    taught = None if teaching is None else (teaching > 0) | ~(teaching > 0).any(0)  # a grade taught nowhere: every zone
    taught_share = None if teaching is None else _mean_share(np.where(taught[:, :, None], n0, 0.0), before)
    return _FlowWindow(n0, nan_as_zero(d), nan_as_zero(_mean_share(n0, before)), teaching, taught, taught_share, before)


def _flows(w: _FlowWindow, ratio: np.ndarray, r_c: np.ndarray, pooled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`flows` of the window ``w`` (:func:`_flow_window`)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        keep = np.where(r_c[None, :] > 0, np.minimum(ratio, r_c[None, :]) / np.where(r_c > 0, r_c, 1.0)[None, :], 1.0)
    keep[:, pooled] = 0.0
    arrivals = np.maximum(w.n0 - (keep * r_c[None, :])[:, :, None] * w.d0, 0.0)
    share = np.where(np.isnan(s := _mean_share(arrivals, w.before)), w.own_share, s)
    if w.before is not None:  # means over different years: scaled to sum to 1 over zones
        tot = share.sum(0)
        share = np.where(tot > 0, share / np.where(tot > 0, tot, 1.0), share)
    if w.teaching is None:
        return keep, share
    teaching, taught = w.teaching, w.taught
    masked, found = np.zeros_like(share), np.zeros(share.shape[1], dtype=bool)
    for rule in (share, w.taught_share, np.maximum(teaching, 1.0)):
        cand = np.where(taught, nan_as_zero(rule), 0.0)
        tot = cand.sum(0)
        use = (tot > 0) & ~found
        masked[:, use] = cand[:, use] / tot[use]
        found |= use
    # where no zone that teaches the grade had to give up its share, s is kept bit for bit (no rescaling by a sum of ~1)
    same = (~(np.where(taught, 0.0, share) > 0).any(0) & (share.sum(0) > 0)) | ~(teaching > 0).any(0)
    masked[:, same] = share[:, same]
    return np.where(taught, keep, 0.0), masked


def _mean_share(x: np.ndarray, before: np.ndarray | None = None) -> np.ndarray:
    """Mean over years (last axis) of each zone's share of the year's total (zones x grades); NaN where no year has any.
    ``before`` (zones x years): years left out of a zone's mean (before its first pupils)."""
    tot = x.sum(0, keepdims=True)
    has = tot > 0
    if before is not None:
        has = has & ~before[:, None, :]  # (Z, G, T)
    sh = np.where(has, x / np.where(tot > 0, tot, 1.0), 0.0)  # a year with none counts 0 (np.nansum's sum, without its overhead)
    valid = has.sum(-1)  # (1, G), or (Z, G) with before
    return np.where(valid > 0, sh.sum(-1) / np.maximum(valid, 1), np.nan)


def levels(pupils: np.ndarray, held: np.ndarray, trend: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Level and annual slope (pupils) of LEVEL grades over the window years ``pupils`` (zones, grades, years).

    Grades where ``trend`` is false keep ``held`` (pupils, zones x grades: e.g. the estimator over the window's
    pupils), slope 0. Grades where it is true: least-squares line over the window's recorded years (a missing
    year is skipped), level = its value in the last year, slope = pupils a year.
    """
    level = held
    slope = np.zeros(pupils.shape[:2])
    m = pupils.shape[-1]
    if not trend.any():
        return level, slope
    rec = ~np.isnan(pupils).all(axis=(0, 1))
    if rec.sum() >= 2:
        x = np.arange(m, dtype=float)[rec]
        x = x - x.mean()
        y = pupils[:, :, rec]
        s = (y * x).sum(-1) / (x**2).sum()
        lv = y.mean(-1) + s * (m - 1 - np.arange(m, dtype=float)[rec].mean())
        slope = np.where(trend[None, :], s, 0.0)
        level = np.where(trend[None, :], lv, level)
    return level, slope


def _noise_scales(num: np.ndarray, den: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-sd of county-wide ratio deviations, and of zone deviations beyond counting noise, per grade::

        sigma_common[g] = max(sd over years of log R_c[g,t] (ddof 1), 0.005)      (DEFAULT_LOG_SD below 3 years)
        tau[g]^2        = max(mean over (z, t) of (d[z,g,t] - d_c[g,t])^2 - 1 / max(N[z,g,t], 1), 0)  (0 below 3 cells)

    with d and d_c the zone's and the county's log ratios less their own means over years, N the pupils counted.
    All grades at once (the loop over grades cost ~2 ms per fit)."""
    ok = ~np.isnan(den) & (den > 0) & ~np.isnan(num) & (num > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        lr = np.where(ok, np.log(np.where(ok, num / np.where(ok, den, 1.0), 1.0)), np.nan)
        known = ~np.isnan(den) & ~np.isnan(num)
        cn = np.where(known, num, 0.0).sum(0)
        cd = np.where(known, den, 0.0).sum(0)
        lc = np.where((cd > 0) & (cn > 0), np.log(np.where(cd > 0, cn, 1.0) / np.where(cd > 0, cd, 1.0)), np.nan)  # (G, T)
    years_c = (~np.isnan(lc)).sum(1)  # (G,)
    county_mean = np.nansum(lc, 1) / np.maximum(years_c, 1)
    county_dev = lc - county_mean[:, None]  # (G, T), NaN where the county ratio is unknown
    with np.errstate(invalid="ignore", divide="ignore"):
        var_c = np.nansum(county_dev**2, 1) / (years_c - 1)
    sigma_common = np.where(years_c >= 3, np.maximum(np.sqrt(np.where(years_c >= 3, var_c, 0.0)), 0.005), DEFAULT_LOG_SD)
    years_z = (~np.isnan(lr)).sum(2, keepdims=True)  # (Z, G, 1)
    zone_dev = lr - np.nansum(lr, 2, keepdims=True) / np.maximum(years_z, 1)
    m = ~np.isnan(lr) & ~np.isnan(lc)[None]
    excess = np.where(m, (zone_dev - county_dev[None]) ** 2 - 1.0 / np.maximum(np.where(m, num, 1.0), 1.0), 0.0)
    cells = m.sum((0, 2))
    tau = np.where(cells >= 3, np.sqrt(np.maximum(excess.sum((0, 2)) / np.maximum(cells, 1), 0.0)), 0.0)
    return sigma_common, tau


def _sigma_births(history: History) -> float:
    if history.births is None or history.births.shape[1] < 4:
        return DEFAULT_LOG_SD
    total = history.births.sum(0)
    total = total[total > 0]
    if len(total) < 4:
        return DEFAULT_LOG_SD
    return float(np.std(np.diff(np.log(total)), ddof=1))
