"""Back-testing: rolling origins over the history, error metrics by lead, naive baselines,
and calibration of the uncertainty from the model's own errors."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from capacity.errors import ProjectionError
from capacity.grades import GradeSystem
from capacity.notes import note
from capacity.projection.cube import History
from capacity.projection.model import calibrated_draws, centred_quantiles, point_path, simulate
from capacity.projection.naive import fit_method, fit_methods, with_noise
from capacity.projection.ratios import Fitted, window_start
from capacity.projection.settings import AUTO_METHODS, COMBINED, NAIVE_METHODS, STANDARD_METHODS, ProjectionSettings

BASELINES = NAIVE_METHODS
"""Naive methods every back-test shows beside the estimators (persistence, linear trend)."""
LEVELS = ("total", "stage", "zone", "zone_stage", "zone_grade")
CENTRAL = 0.8
"""Nominal coverage of the interval that calibration targets (P10-P90)."""
AUTO_FALLBACK = COMBINED
"""auto's default method: used with too short a history, and kept unless a challenger beats it by auto_margin
(an equal-weight combination of the four estimators: robust where selection from a few origins is noise)."""
MIN_CAL_ORIGINS = 3
"""Back-test origins a lead needs before its errors set that lead's spread factor, and before auto ranks on it
(auto ranks only when every lead 1..planning_lead has them; docs/projection.md)."""
UNCALIBRATED_WIDEN = 1.5
"""Spread factor on the model's own noise when no lead has MIN_CAL_ORIGINS origins (documented rule)."""
EXACT_RULE = "exact back-test"
"""Rule of a lead whose back-test errors are (80 % or more) zero: the model's own noise is kept (documented rule)."""


def lead_bucket(lead: np.ndarray | pd.Series) -> np.ndarray:
    """'1', '2', '3', '4' or '5+' for leads in years."""
    lead = np.asarray(lead)
    return np.where(lead >= 5, "5+", lead.astype(str))


def missing_births(history: History, settings: ProjectionSettings) -> dict[str, list[int]]:
    """Entry grades projected from births (with pupils in ``history``) whose ratio window needs births the history
    does not record: {grade: birth years missing}. Such a grade cannot be projected from ``history``."""
    out = {}
    for g, off in settings.births_offsets().items():
        if not np.nansum(history.pupils[:, history.grades.grade_index[g], :]):
            continue  # a grade no pupil was ever in (e.g. PK in a high-school district) needs no births: it stays at 0
        need = [y - off for y in history.years[window_start(history, settings.window) :]]
        if missing := [y for y in need if history.births_in(y) is None]:
            out[g] = missing
    return out


def origins_for(history: History, settings: ProjectionSettings, last_target: int | None = None, method: str | None = None) -> list[int]:
    """Recorded origins with a full ratio window behind them and at least one target year after
    (a missing history year is never an origin; no ratio is taken across it). An origin whose ratio window has
    no recorded births at all for an entry grade under ``births`` could only project that grade as 0 pupils: it
    is left out, with a note. (A window with births for some of its years estimates the entry ratio from those;
    a forecast, :func:`project._check_births`, needs them all.) ``method`` (default ``settings.method``):
    persistence and trend use no births, so every recorded origin is theirs."""
    origins = _recorded_origins(history, settings, last_target)
    if (method or settings.method) in NAIVE_METHODS:
        return origins
    short = {}
    for o in origins:
        past = history.up_to(o)
        window_years = len(past.years) - window_start(past, settings.window)
        if none := [g for g, years in missing_births(past, settings).items() if len(years) == window_years]:
            short[o] = none
    if short:
        grades = sorted({g for m in short.values() for g in m}, key=history.grades.grade_index.get)
        since = f"births are recorded from {history.birth_years[0]}, too late" if history.birth_years else "no births are recorded"
        note(
            f"projection back-test: {since} for any year of the ratio window of "
            f"{' and '.join(grades)} (projected from births) at origin{'s' if len(short) > 1 else ''} "
            f"{year_span(short)}; {'they are' if len(short) > 1 else 'it is'} left out of the back-test "
            "(they could only project that grade as 0 pupils)"
        )
    return [o for o in origins if o not in short]


def _recorded_origins(history: History, settings: ProjectionSettings, last_target: int | None) -> list[int]:
    """Recorded years with a full ratio window behind them and at least one target year after."""
    first = history.years[0] + settings.window
    last = (last_target or history.years[-1]) - 1
    missing = set(history.missing_years)
    return [o for o in range(first, last + 1) if o not in missing]


def _no_origins(history: History, settings: ProjectionSettings, last_target: int | None) -> ProjectionError:
    """Why a history has no back-test origin: too short for the window, or no births for an entry grade's window."""
    span = f"history {history.years[0]}-{history.years[-1]}"
    recorded = _recorded_origins(history, settings, last_target)
    grades = list(missing_births(history.up_to(recorded[-1]), settings)) if recorded else []
    if not grades:
        return ProjectionError(f"{span} is too short to back-test with a {settings.window}-year window")
    have = f"{history.birth_years[0]}-{history.birth_years[-1]}" if history.birth_years else "none"
    return ProjectionError(
        f"{span} has no back-test origin whose ratio window has births recorded for {' and '.join(grades)} (projected from "
        f"births; births recorded: {have}). Add the births, or set projection.entry_rule.{grades[0]} to held, trend or children"
    )


def year_span(values) -> str:
    """'3', '1-5' for consecutive values, else '1, 3, 4' (sorted, unique)."""
    vs = sorted({int(x) for x in values})
    return f"{vs[0]}-{vs[-1]}" if len(vs) > 1 and vs == list(range(vs[0], vs[-1] + 1)) else ", ".join(map(str, vs))


def level_sum(x: np.ndarray, level: str, grades: GradeSystem) -> np.ndarray:
    """Sum an array shaped (zones, grades, ...) into the units of ``level``: shape (units, ...), with units
    zone_grade (each cell, zone-major), zone_stage (zone-major, stages in order), zone, stage, total (one unit).
    Stages are runs of consecutive grades, so the sums are slices, each summed straight into its column of the result
    (``np.add.reduceat`` over the grade axis is ~10x slower on the calibration's draws and adds in another order)."""
    if level == "zone_grade":
        return x.reshape(-1, *x.shape[2:])
    if level == "zone":
        return x.sum(1)
    if level == "total":
        return x.sum((0, 1))[None]
    stage_of = [grades.stage_of_grade[g] for g in grades.grades]
    starts = [i for i, st in enumerate(stage_of) if i == 0 or st != stage_of[i - 1]]
    dt = x.dtype if x.dtype.kind == "f" else x[:1, :1].sum(1).dtype  # the dtype sum() gives (integers and booleans widen)
    by_stage = np.empty((x.shape[0], len(starts), *x.shape[2:]), dtype=dt)  # (Z, S, ...)
    for i, (a, b) in enumerate(zip(starts, [*starts[1:], len(stage_of)], strict=True)):
        np.add.reduce(x[:, a:b], axis=1, out=by_stage[:, i])
    return by_stage.sum(0) if level == "stage" else by_stage.reshape(-1, *x.shape[2:])


def backtest_paths(
    history: History,
    settings: ProjectionSettings,
    methods: tuple[str, ...] = STANDARD_METHODS,
    last_target: int | None = None,
    origins: list[int] | None = None,
    max_lead: int | None = None,
    fits: dict | None = None,
    prepared: dict | None = None,
):
    """Yield (method, origin, projected, actual) for every rolling origin, arrays (zones, grades, leads).

    Each origin sees only the history and births recorded up to that year; later births
    come from the scenario's births rule, as they would in a real forecast. ``max_lead``:
    project at most that many years from each origin (scores that read only the first
    leads need no longer paths). ``auto`` chooses its method and entry rules at each origin
    from that origin's own past (ex ante), silently. ``fits``, if given, receives {(method, origin): Fitted}, the
    deterministic fit of every method but auto (:func:`calibrate` can reuse them). ``prepared``: {origin: dict} kept
    by the caller for this history, each origin's the ``prepared`` of :func:`ratios.fits`.
    """
    last_target = last_target or history.years[-1]
    origins = origins if origins is not None else origins_for(history, settings, last_target)
    if not origins:
        raise _no_origins(history, settings, last_target)
    for o in origins:
        past = history.up_to(o)
        horizon = min(last_target - o, max_lead or last_target - o)
        start = o - history.years[0] + 1
        actual = history.pupils[:, :, start : start + horizon]
        plain = tuple(m for m in methods if m != "auto")
        at_origin = None if prepared is None else prepared.setdefault(o, {})
        fitted = dict(zip(plain, fit_methods(past, settings, plain, noise=False, prepared=at_origin), strict=True))  # one window
        if fits is not None:
            fits.update({(m, o): f for m, f in fitted.items()})
        births: dict = {}  # the origin's projected births, the same for every method's path (model.simulate)
        for m in methods:
            if m == "auto":
                used, s = auto_choice(past, settings).chosen
                yield m, o, point_path(past, fit_method(past, s, used, noise=False), s, horizon), actual
            else:
                yield m, o, point_path(past, fitted[m], settings, horizon, births=births), actual


def backtest_errors(
    history: History,
    settings: ProjectionSettings,
    methods: tuple[str, ...] = STANDARD_METHODS,
    last_target: int | None = None,
    origins: list[int] | None = None,
) -> pd.DataFrame:
    """Projected vs actual pupils for every method, origin, target year, zone and grade.

    Returns
    -------
    DataFrame
        method, origin, year, lead, zone_id, grade, projected, actual (pupils), stage.
    """
    frames = []
    for m, o, proj, actual in backtest_paths(history, settings, methods, last_target, origins):
        zi, gi, li = np.meshgrid(np.arange(proj.shape[0]), np.arange(proj.shape[1]), np.arange(proj.shape[2]), indexing="ij")
        frames.append(
            pd.DataFrame(
                {
                    "method": m,
                    "origin": o,
                    "year": o + 1 + li.ravel(),
                    "lead": 1 + li.ravel(),
                    "zone_id": np.asarray(history.zones, dtype=object)[zi.ravel()],
                    "grade": np.asarray(history.grades.grades, dtype=object)[gi.ravel()],
                    "projected": proj.ravel(),
                    "actual": actual.ravel(),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True).sort_values(["method", "origin", "lead"], kind="stable", ignore_index=True)
    out = out[out["actual"].notna()].reset_index(drop=True)  # a missing year has nothing to compare with
    out["stage"] = out["grade"].map(history.grades.stage_of_grade)
    return out


def method_scores(
    history: History,
    settings: ProjectionSettings,
    methods: tuple[str, ...] = STANDARD_METHODS,
    level: str = "zone_stage",
    max_lead: int = 5,
    last_target: int | None = None,
    origins: list[int] | None = None,
) -> pd.DataFrame:
    """MAPE and bias (%) by method and lead 1..max_lead at one level, straight from arrays (fast: no long table);
    ``origins`` as in :func:`backtest_paths`.

    Returns
    -------
    DataFrame
        method, lead, mape, bias, n (units x origins averaged; units with no actual pupils left out), origins.
    """
    return pd.DataFrame(_score_rows(history, settings, methods, level, max_lead, last_target, origins), columns=SCORE_COLUMNS)


SCORE_COLUMNS = ["method", "lead", "mape", "bias", "n", "origins"]


def _score_rows(
    history: History,
    settings: ProjectionSettings,
    methods: tuple[str, ...],
    level: str,
    max_lead: int,
    last_target: int | None = None,
    origins: list[int] | None = None,
    fits: dict | None = None,
    actuals: dict | None = None,
    prepared: dict | None = None,
) -> list[dict]:
    """The rows of :func:`method_scores` (one dict per method and lead, in the order first scored): ``auto`` ranks
    a few of these small tables per district, where building and concatenating frames cost more than the scores.
    ``fits`` and ``prepared`` as in :func:`backtest_paths`; ``actuals``: {(origin, leads): actual pupils summed to ``level``}, filled and
    read by every call that scores the same history, level and leads (each method at an origin has the same actuals)."""
    acc: dict[tuple[str, int], list[float]] = {}
    actuals = {} if actuals is None else actuals
    for m, o, proj, actual in backtest_paths(history, settings, methods, last_target, origins, max_lead, fits, prepared):
        lead_n = proj.shape[2]
        # leads first, units contiguous: each lead's sums are row sums (the same pairwise sums as over a column)
        p = np.ascontiguousarray(level_sum(proj[:, :, :lead_n], level, history.grades).T)
        if (o, lead_n) not in actuals:
            actuals[o, lead_n] = np.ascontiguousarray(level_sum(actual[:, :, :lead_n], level, history.grades).T)
        a = actuals[o, lead_n]
        pos = a > 0
        pe = np.where(pos, (p - a) / np.where(pos, a, 1.0) * 100, 0.0)
        sums = zip(np.abs(pe).sum(1).tolist(), pe.sum(1).tolist(), pos.sum(1).tolist(), pos.any(1).tolist(), strict=True)
        for lead, (abs_pe, pe_sum, n, any_pos) in enumerate(sums):
            s = acc.setdefault((m, lead + 1), [0.0, 0.0, 0, 0])
            s[0] += abs_pe
            s[1] += pe_sum
            s[2] += n
            s[3] += int(any_pos)  # an origin counts at a lead only if it scored a target there (a missing year scores none)
    return [
        {"method": m, "lead": lead, "mape": v[0] / v[2], "bias": v[1] / v[2], "n": v[2], "origins": v[3]}
        for (m, lead), v in acc.items()
        if v[2]
    ]


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


def method_ranking(scores: pd.DataFrame, max_lead: int, min_origins: int = 1) -> pd.DataFrame:
    """Methods by MAPE averaged over leads 1..max_lead, best first, counting only leads back-tested from at least
    ``min_origins`` origins.

    ``scores`` as from :func:`method_scores`. Columns method, leads (the largest lead averaged),
    mape, bias (means over those leads, %); empty when no lead qualifies.
    """
    if scores.empty or "origins" not in scores:
        return _ranking_frame([])
    return _ranking_frame(_ranking_rows(scores.to_dict("records"), max_lead, min_origins))


RANKING_COLUMNS = ["method", "leads", "mape", "bias"]


def _ranking_rows(scores: list[dict], max_lead: int, min_origins: int) -> list[dict]:
    """:func:`method_ranking` of score rows (as from :func:`_score_rows`), as rows: plain numpy, since ``auto`` ranks a
    few small tables per district, where a pandas groupby and sort cost more than the sums."""
    use = [r for r in scores if r["lead"] <= max_lead and r["origins"] >= min_origins]
    rows = []
    for m in dict.fromkeys(r["method"] for r in use):
        of_m = [r for r in use if r["method"] == m]
        rows.append(
            {
                "method": m,
                "leads": int(max(r["lead"] for r in of_m)),
                "mape": float(np.array([r["mape"] for r in of_m]).mean()),
                "bias": float(np.array([r["bias"] for r in of_m]).mean()),
            }
        )
    return sorted(rows, key=lambda r: (r["mape"], r["method"]))  # stable, as a sort by mape then method


def _ranking_frame(rows: list[dict]) -> pd.DataFrame:
    """A ranking's rows as the frame :func:`method_ranking` returns (empty: the columns only)."""
    return pd.DataFrame(rows, columns=RANKING_COLUMNS) if rows else pd.DataFrame(columns=RANKING_COLUMNS)


def best_method(scores: pd.DataFrame, max_lead: int) -> str:
    """Method with the lowest MAPE averaged over leads 1..max_lead."""
    return str(method_ranking(scores, max_lead)["method"].iloc[0])


CAL_LEVELS = ("zone_stage", "zone", "stage", "total")
"""Levels whose published intervals get their own spread factor (cells use the draws' factor)."""


@dataclass(frozen=True)
class Calibration:
    """Spread factors that make the back-test's P10-P90 interval cover 80 % at each lead and level.

    Attributes
    ----------
    k : ndarray
        Factor per lead 1..len(k) on every draw's log-deviation from the deterministic path
        (fitted on zone x grade cells); later leads use the last.
    level_k : dict
        Level (zone_stage, zone, stage, total) -> factor per lead applied on top of ``k`` to
        the quantiles of that level's sums (fitted on that level's back-test errors).
    table : DataFrame
        level, lead, k (the level's total factor on the raw draws), n (units x origins),
        origins, rule (fitted / extrapolated / uncalibrated), coverage_raw (coverage of the
        uncalibrated interval), coverage_calibrated (leave-one-origin-out coverage), width (mean
        P10-P90 width of the calibrated interval, % of the deterministic path).
    """

    k: np.ndarray
    table: pd.DataFrame
    level_k: dict = field(default_factory=dict)

    def factor(self, lead: int) -> float:
        if len(self.k) == 0:
            return 1.0
        return float(self.k[min(lead, len(self.k)) - 1])

    def level_factor(self, level: str, lead: int) -> float:
        """Factor on top of :meth:`factor` for quantiles of ``level``'s sums (1 for cells)."""
        k = self.level_k.get(level)
        if k is None or len(k) == 0:
            return 1.0
        return float(k[min(lead, len(k)) - 1])


def _positions(log_actual: np.ndarray, log_mid: np.ndarray, below: np.ndarray, above: np.ndarray) -> np.ndarray:
    """How far an actual lies from the median, in units of the half-interval on its side (all in log(x + 0.5):
    ``below`` = log mid - log P10, ``above`` = log P90 - log mid)."""
    width = np.where(log_actual >= log_mid, above, below)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(width > 1e-12, np.abs(log_actual - log_mid) / width, np.nan)


def _level_positions(sims, mid, actual, level: str, grades: GradeSystem) -> list[np.ndarray]:
    """Per lead, an array (4, units with pupils) of the actuals' positions, the interval's log half-widths
    below and above the deterministic path, and that path (pupils), for ``level``'s units."""
    if level == "zone_grade":
        s, m, a = sims, mid, actual
    else:
        s, m, a = level_sum(sims, level, grades), level_sum(mid, level, grades), level_sum(actual, level, grades)
    lo, hi = centred_quantiles(s, m, [0.1, 0.9])
    log_lo, log_mid, log_hi, log_a = (np.log(x + 0.5) for x in (lo, m, hi, a))
    below, above = log_mid - log_lo, log_hi - log_mid
    p = _positions(log_a, log_mid, below, above)
    keep = ((a > 0) | (m > 0)) & ~np.isnan(p)
    each = np.stack([p, below, above, m])
    return [each[..., t][:, keep[..., t]] for t in range(p.shape[-1])]


def quantile_sorted(values: np.ndarray, q: float) -> float:
    """The q-quantile of ascending ``values`` by linear interpolation between order statistics, to the last bit
    as ``np.quantile`` (its default 'linear' method) computes it, without its per-call overhead."""
    v = (len(values) - 1) * q
    lo = int(np.floor(v))
    hi = min(lo + 1, len(values) - 1)
    g = v - lo
    a, b = values[lo], values[hi]
    return float(b - (b - a) * (1 - g) if g >= 0.5 else a + (b - a) * g)


def _ranked_positions(by_origin: dict[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One lead's positions of every origin in ascending order, and the index (in ``by_origin``'s order) of the
    origin each came from: dropping one origin's entries leaves the others' positions still in order."""
    p = [v[0] for v in by_origin.values()]
    order = np.argsort(np.concatenate(p), kind="stable")
    return np.concatenate(p)[order], np.repeat(np.arange(len(p)), [len(x) for x in p])[order]


def _factors(pos: dict[int, dict[int, np.ndarray]], horizon: int, base: np.ndarray | None) -> tuple[np.ndarray, list[dict]]:
    """Spread factor per lead 1..horizon from positions {lead: {origin: p}}, and one table row per lead.

    A lead with back-test errors from at least MIN_CAL_ORIGINS origins gets the 80th
    percentile of its positions; a later lead takes the last such lead's factor L times
    sqrt(lead / L) (errors that add up year on year grow as the square root of the lead);
    with no such lead the factor is UNCALIBRATED_WIDEN. A lead whose 80th percentile is 0
    (the method reproduced at least 80 % of its back-test units exactly, e.g. a constant or
    straight-line history) gives no scale to fit: a factor of 0 would collapse every
    interval onto the path, so it keeps the spread it has (factor 1 on top of ``base``: the
    model's own noise for cells, the calibrated cells' sums for a level; rule EXACT_RULE)
    and counts as a calibrated lead for the leads after it.
    Relative to ``base`` (the factor already on the draws), the product is kept
    non-decreasing in lead.
    """
    base = np.ones(horizon) if base is None else base
    k = np.full(horizon, np.nan)
    rules = ["uncalibrated"] * horizon
    ranked = {lead: _ranked_positions(by_o) for lead, by_o in pos.items() if by_o}
    for lead in range(1, horizon + 1):
        if len(pos.get(lead, {})) >= MIN_CAL_ORIGINS:
            q = quantile_sorted(ranked[lead][0], CENTRAL)
            k[lead - 1], rules[lead - 1] = (q, "fitted") if q > 0 else (1.0, EXACT_RULE)
    fitted_leads = np.flatnonzero(~np.isnan(k))
    if len(fitted_leads) == 0:
        k[:] = UNCALIBRATED_WIDEN / base
    else:
        last = int(fitted_leads[-1])
        for i in range(last + 1, horizon):
            k[i] = k[last] * base[last] * np.sqrt((i + 1) / (last + 1)) / base[i]
            rules[i] = f"extrapolated from lead {last + 1}"
        k[:last] = np.where(np.isnan(k[:last]), 1.0, k[:last])
    k = np.maximum.accumulate(k * base) / base
    rows = []
    for lead in range(1, horizon + 1):
        by_o = pos.get(lead, {})
        allv = np.concatenate(list(by_o.values()), axis=1) if by_o else np.zeros((4, 0))
        allp, kl = allv[0], k[lead - 1]
        loo = np.zeros(0, dtype=bool)
        if len(by_o) > 1:  # each origin's positions against the quantile of the other origins'
            ranks, origin_of = ranked[lead]
            loo = np.concatenate([v[0] <= quantile_sorted(ranks[origin_of != i], CENTRAL) for i, v in enumerate(by_o.values())])
        mid = allv[3]
        width = (mid + 0.5) * (np.exp(kl * allv[2]) - np.exp(-kl * allv[1])) / np.where(mid > 0, mid, np.nan) * 100
        known = ~np.isnan(width)  # np.nanmean's sum and count, without its overhead
        rows.append(
            {
                "lead": lead,
                "k": float(k[lead - 1] * base[lead - 1]),
                "n": int(len(allp)),
                "origins": len(by_o),
                "rule": rules[lead - 1],
                "coverage_raw": float((allp <= 1).mean()) if len(allp) else np.nan,
                "coverage_calibrated": float(loo.mean()) if len(loo) else np.nan,
                "width": float(np.where(known, width, 0.0).sum() / known.sum()) if np.isfinite(width).any() else np.nan,
            }
        )
    return k, rows


def _lead_list(leads: pd.Series) -> str:
    """'lead 3', 'leads 1-5' for consecutive leads, else 'leads 1, 3, 4' (sorted, unique)."""
    return f"lead{'s' if leads.nunique() > 1 else ''} {year_span(leads)}"


def calibrate(
    history: History,
    settings: ProjectionSettings,
    method: str,
    n_draws: int = 100,
    last_target: int | None = None,
    horizon: int | None = None,
    announce: bool = True,
    fits: dict[int, Fitted] | None = None,
) -> Calibration:
    """Fit per-lead spread factors, for cells and for each level's sums, from rolling-origin back-tests.

    For every back-test unit (origin, year, and cell or level unit with pupils) the position
    p = |log A - log P| / (half-width of the P10-P90 interval on A's side) is computed,
    with P the deterministic path (the centre of published quantiles); the factor at a lead
    is the 80th percentile of p, so scaling log-deviations from P by it makes the interval
    cover 80 %. Cells are fitted first and their factor applied to the draws; each level's
    factor is then fitted on the sums of those calibrated draws. Leads with too few origins
    follow the rule of :func:`_factors`, announced as a note (``announce=False``: the caller announces,
    see :func:`_note_calibration_rules`). Leave-one-origin-out coverage shows how well that holds out of sample.

    ``fits``: {origin: deterministic Fitted of ``method``} already made at some origins (by ``auto``'s back-test, under
    settings that project the same as ``settings``); only their noise scales are added (:func:`naive.with_noise`).
    """
    horizon = horizon or settings.horizon
    origins = origins_for(history, settings, last_target, method)
    last_target = last_target or history.years[-1]
    rng = np.random.default_rng(settings.seed)
    runs = []
    for o in origins:
        past = history.up_to(o)
        h = min(last_target - o, horizon)
        fitted = with_noise(fits[o], past, settings) if fits and o in fits else fit_method(past, settings, method)
        sims = simulate(past, fitted, settings, h, n_draws, rng)
        mid = point_path(past, fitted, settings, h)
        actual = history.pupils[:, :, o - history.years[0] + 1 : o - history.years[0] + 1 + h]
        runs.append((o, sims, mid, actual))

    def positions(level: str) -> dict[int, dict[int, np.ndarray]]:
        out: dict[int, dict[int, np.ndarray]] = {}
        for o, sims, mid, actual in runs:
            for t, p in enumerate(_level_positions(sims, mid, actual, level, history.grades)):
                if p.shape[1]:
                    out.setdefault(t + 1, {})[o] = p
        return out

    k, rows = _factors(positions("zone_grade"), horizon, None)
    table = [dict(r, level="zone_grade") for r in rows]
    for _o, sims, mid, _a in runs:
        calibrated_draws(sims, mid, k[: sims.shape[2]])
    level_k = {}
    for level in CAL_LEVELS:
        level_k[level], rows = _factors(positions(level), horizon, k)
        table += [dict(r, level=level) for r in rows]
    tab = pd.DataFrame(table)[["level", "lead", "k", "n", "origins", "rule", "coverage_raw", "coverage_calibrated", "width"]]
    if announce:
        _note_calibration_rules({method: tab}, history, settings, horizon)
    return Calibration(k, tab, level_k)


def _note_calibration_rules(tables: dict[str, pd.DataFrame], history: History, settings: ProjectionSettings, horizon: int) -> None:
    """Announce the leads of calibration tables ({method: table}) that were not fitted: exact back-tests (one note
    per set of leads, naming every method exact there), and too few origins (the same for every method)."""
    exact: dict[str, list[str]] = {}
    for method, tab in tables.items():
        leads = tab.loc[tab["rule"] == EXACT_RULE, "lead"]
        if len(leads):
            exact.setdefault(_lead_list(leads), []).append(method)
    for leads, methods in exact.items():
        names = f"method {methods[0]}" if len(methods) == 1 else f"methods {', '.join(methods[:-1])} and {methods[-1]}"
        note(
            f"projection calibration: the back-test of {names} reproduced history {history.years[0]}-{history.years[-1]} "
            f"exactly at {leads} (at least 80 % of the units with no error), which gives no spread to "
            "calibrate on; those leads keep the model's own noise instead of collapsing the interval onto the path (docs/projection.md)"
        )
    for tab in tables.values():
        _note_short_calibration(tab, history, settings, horizon)


def _note_short_calibration(tab: pd.DataFrame, history: History, settings: ProjectionSettings, horizon: int) -> None:
    """Announce the leads of a calibration table with too few back-test origins (identical notes print once)."""
    short = tab[~tab["rule"].isin(["fitted", EXACT_RULE])]
    if len(short):
        first = int(short["lead"].min())
        how = (
            f"intervals are the model's own noise widened x{UNCALIBRATED_WIDEN} (no lead has {MIN_CAL_ORIGINS} back-test origins)"
            if (short["rule"] == "uncalibrated").all()
            else f"from lead {first} the spread factor is the last calibrated lead's times sqrt(lead / that lead)"
        )
        note(
            f"projection calibration: history {history.years[0]}-{history.years[-1]} gives fewer than {MIN_CAL_ORIGINS} "
            f"back-test origins at {_lead_list(pd.Series(range(first, horizon + 1)))} (window {settings.window}); {how} (docs/projection.md)"
        )


def backtest_table(
    history: History,
    settings: ProjectionSettings,
    method: str,
    last_target: int | None = None,
    max_lead: int = 10,
    baselines: tuple[str, ...] = BASELINES,
    errors: pd.DataFrame | None = None,
    calibration: Calibration | None = None,
) -> pd.DataFrame:
    """The back-test a planner reads: ``method`` beside the baselines, at every level and lead 1..max_lead.

    ``errors``, if given, is :func:`backtest_errors` for the same history, settings, methods and
    last_target, already computed by the caller (it is not computed again).

    ``calibration``, if given, is ``calibrate(history, settings, method)`` (a projection's own, at
    ``settings.horizon``). Each back-test origin o projects min(T - o, horizon) years, T the last
    target; where ``settings.horizon`` and this table's horizon give every origin the same years,
    both calibrations draw the same numbers and their factors agree lead by lead (each lead's
    factor depends on that lead and the ones before it only), so the projection's table up to this
    table's horizon is taken instead of calibrating ``method`` again.

    Returns
    -------
    DataFrame
        level, method, lead, mape, bias (% of actual), coverage (leave-one-origin-out coverage of
        the calibrated P10-P90 interval), width (its mean width, % of the projection), n.
    """
    methods = tuple(dict.fromkeys((method, *baselines)))
    errs = backtest_errors(history, settings, methods, last_target) if errors is None else errors
    errs = errs[errs["lead"] <= max_lead]
    acc = pd.concat([error_metrics(errs, lv, by_bucket=False).assign(level=lv) for lv in LEVELS])
    acc["lead"] = acc["lead"].astype(int)
    horizon = min(max_lead, int(errs["lead"].max()))
    longest = history.years[-1] - origins_for(history, settings, method=method)[0]
    reuse = (
        calibration is not None
        and len(calibration.table) > 0
        and last_target in (None, history.years[-1])
        and min(longest, settings.horizon) == min(longest, horizon)
    )

    def calibration_table(m: str) -> pd.DataFrame:
        if reuse and m == method:
            return calibration.table[calibration.table["lead"] <= horizon].reset_index(drop=True)
        return calibrate(history, settings.with_(horizon=horizon), m, last_target=last_target, announce=False).table

    tables = {m: calibration_table(m) for m in methods}
    _note_calibration_rules(tables, history, settings, horizon)  # once for all methods
    cal = pd.concat([t.assign(method=m) for m, t in tables.items()])
    out = acc.merge(
        cal[["level", "method", "lead", "coverage_calibrated", "width"]].rename(columns={"coverage_calibrated": "coverage"}),
        on=["level", "method", "lead"],
        how="left",
    )
    out["coverage"] *= 100
    order = {m: i for i, m in enumerate(methods)}
    out = out.sort_values(["level", "method", "lead"], key=lambda c: c.map(order) if c.name == "method" else c, kind="stable")
    return out[["level", "method", "lead", "mape", "bias", "coverage", "width", "n"]].reset_index(drop=True)


def backtest_wide(table: pd.DataFrame, level: str) -> pd.DataFrame:
    """One level of :func:`backtest_table` as rows (method, measure) by columns lead, rounded for reading."""
    measures = ["mape", "bias", "coverage", "width"]
    t = table[table["level"] == level].melt(id_vars=["method", "lead"], value_vars=measures, var_name="measure")
    wide = t.pivot(index=["method", "measure"], columns="lead", values="value").round(1)
    rows = [(m, x) for m in dict.fromkeys(table["method"]) for x in measures]
    return wide.reindex(pd.MultiIndex.from_tuples(rows, names=["method", "measure"]))


def _ranks_every_lead(scores: list[dict], max_lead: int) -> bool:
    """Whether every lead 1..max_lead was back-tested from at least MIN_CAL_ORIGINS origins (``scores``: rows of one
    method, as from :func:`_score_rows`). auto's criterion is the MAPE averaged over leads 1..planning_lead:
    ranked on fewer leads it would be a different, short-lead criterion, which favours methods that extrapolate
    well for a year or two and badly for five (trend)."""
    origins = dict.fromkeys(range(1, max_lead + 1), 0)
    for r in scores:
        if r["lead"] in origins:
            origins[r["lead"]] = max(origins[r["lead"]], r["origins"])
    return bool(scores) and all(o >= MIN_CAL_ORIGINS for o in origins.values())


def free_entry_grades(history: History, settings: ProjectionSettings) -> list[str]:
    """Entry grades whose rule ``auto`` chooses: projected from births by default (an age in ``entry_offsets``,
    no ``entry_rule`` set by the user) and taught in the history (a grade no pupil was ever in stays at 0)."""
    idx = history.grades.grade_index
    return [
        g
        for g in history.grades.grades
        if settings.entry_offsets.get(g) is not None and g not in settings.entry_rule and np.nansum(history.pupils[:, idx[g], :]) > 0
    ]


def unborn_entry_grades(history: History, settings: ProjectionSettings) -> list[str]:
    """Free entry grades (:func:`free_entry_grades`) with no births recorded for any year of their history (no births
    table, or none for the years that would feed them): nothing to compare births on, so ``auto`` compares held (their
    default: the conservative rule) and trend. Births recorded for some of those years are not this case: a forecast
    then needs them all (:func:`project._check_births`)."""
    return [
        g
        for g in free_entry_grades(history, settings)
        if all(history.births_in(y - settings.entry_offsets[g]) is None for y in history.years)
    ]


def _ranked(scores: list[dict], default: str, settings: ProjectionSettings) -> pd.DataFrame:
    """Candidates by MAPE over leads 1..planning_lead (leads from at least MIN_CAL_ORIGINS origins), best first; a
    challenger goes ahead of ``default`` only if its MAPE is lower by more than ``auto_margin`` (near-ties are
    selection noise; ``>=``: an exact tie, e.g. every method at 0 % on a constant history, keeps the default).
    ``scores``: rows as from :func:`_score_rows`."""
    ranking = _ranking_rows(scores, settings.planning_lead, MIN_CAL_ORIGINS)
    at = [i for i, r in enumerate(ranking) if r["method"] == default]
    if at and ranking[0]["mape"] >= (1 - settings.auto_margin) * ranking[at[0]]["mape"]:
        ranking = [ranking[at[0]], *ranking[: at[0]], *ranking[at[0] + 1 :]]
    return _ranking_frame(ranking)


@dataclass(frozen=True)
class AutoChoice:
    """What ``method: auto`` chose from a history's own back-test.

    Attributes
    ----------
    method : str
        The chosen standard method (AUTO_FALLBACK when ``ranking`` is empty).
    settings : ProjectionSettings
        The settings with the chosen rule of every free entry grade written into ``entry_rule`` (births too, so the
        grades auto chose are those of ``entry_rule`` the user had not set); unchanged when persistence or trend won,
        except that a free entry grade without births is held when nothing was compared.
    ranking : DataFrame
        Methods (method, leads, mape, bias) best first; empty when the history is too short.
    entry : tuple
        (grade, ranking of births / held / trend, or held / trend without births, under AUTO_FALLBACK), in grade order. The
        comparison comes first and the estimator candidates use its rules, so it is made (and announced) even
        when persistence or trend wins, which do not use it.
    reason : str
        Why nothing was compared when the back-test itself refused (the error's message); '' otherwise.
    unborn : tuple of str
        The free entry grades with no births recorded (:func:`unborn_entry_grades`): held by default, never births.
    fits : dict
        {origin: Fitted}: the chosen method's deterministic fit at each back-test origin, as scored (for
        :func:`calibrate`, which then only adds the noise scales); empty when nothing was compared.
    """

    method: str
    settings: ProjectionSettings
    ranking: pd.DataFrame
    entry: tuple[tuple[str, pd.DataFrame], ...] = ()
    reason: str = ""
    unborn: tuple[str, ...] = ()
    fits: dict = field(default_factory=dict)

    @property
    def chosen(self) -> tuple[str, ProjectionSettings]:
        return self.method, self.settings


def auto_choice(history: History, settings: ProjectionSettings, known_entrants: tuple[str, ...] = ()) -> AutoChoice:
    """``method: auto`` from the district's own rolling back-test at ``auto_level`` (deterministic paths).

    Every comparison ranks candidates by MAPE averaged over leads 1..planning_lead and lets a challenger replace
    the default only if it beats it by ``auto_margin``. Unless every one of those leads was back-tested from at
    least MIN_CAL_ORIGINS origins (:func:`_ranks_every_lead`), nothing is compared: AUTO_FALLBACK, entry rules as set.

    1. Entry rules, under the default AUTO_FALLBACK: each free entry grade (:func:`free_entry_grades`), in grade
       order and with the grades before it at their chosen rules, compares births (its default), held and trend; one
       with no births recorded for any year of its history (:func:`unborn_entry_grades`) compares held (its default,
       the conservative rule) and trend, and is held when nothing is compared.
    2. Methods (AUTO_METHODS): the combination and the four estimators with those entry rules, persistence and trend
       as they are (they project every cell on its own, so births rules have no place in them and their entry rules
       stay as set).

    ``known_entrants``: entry grades whose entrants a children table gives for the projected years. The back-test
    cannot see that table, so their rule is not compared (births, under which known children replace births x
    ratio, or children as set) and persistence and trend, which cannot use it, are not ranked.
    """
    level, lead = settings.auto_level, settings.planning_lead
    # a free entry grade without any recorded births starts held (births is not its candidate); the others at births
    unborn = tuple(unborn_entry_grades(history, settings))
    base = settings.with_(entry_rule={**settings.entry_rule, **dict.fromkeys(unborn, "held")}) if unborn else settings
    # every candidate is scored from the same origins: those the default (births for free entry grades) can project
    origins = origins_for(history, base)
    reason = ""
    fits: dict = {}  # {(method, origin): Fitted} of the runs behind the scores kept
    actuals: dict = {}  # every candidate is scored on the same actuals
    prepared: dict = {}  # and its windows are prepared once for all candidates that prepare them the same
    try:
        current = _score_rows(history, base, (AUTO_FALLBACK,), level, lead, origins=origins, fits=fits, actuals=actuals, prepared=prepared)
    except ProjectionError as e:
        current, reason = [], str(e)
    if not _ranks_every_lead(current, lead):
        return AutoChoice(AUTO_FALLBACK, base, _ranking_frame([]), reason=reason, unborn=unborn)
    chosen, entry = base, []
    for g in (g for g in free_entry_grades(history, settings) if g not in known_entrants):
        default = "held" if g in unborn else "births"
        tried, tried_fits = {default: current}, {default: fits}
        for rule in [r for r in ("births", "held", "trend") if r != default and not (r == "births" and g in unborn)]:
            trial = chosen.with_(entry_rule={**chosen.entry_rule, g: rule})
            tried_fits[rule] = {}
            tried[rule] = _score_rows(
                history, trial, (AUTO_FALLBACK,), level, lead, origins=origins, fits=tried_fits[rule], actuals=actuals, prepared=prepared
            )
        rules = _ranked([{**r, "method": rule} for rule, t in tried.items() for r in t], default, settings)
        best = str(rules["method"].iloc[0])
        if best != default:
            chosen, current, fits = chosen.with_(entry_rule={**chosen.entry_rule, g: best}), tried[best], tried_fits[best]
        entry.append((g, rules))
    others = tuple(m for m in AUTO_METHODS if m != AUTO_FALLBACK and m not in NAIVE_METHODS)
    naive = (
        []
        if known_entrants
        else _score_rows(history, settings, NAIVE_METHODS, level, lead, origins=origins, fits=fits, actuals=actuals, prepared=prepared)
    )
    challengers = _score_rows(history, chosen, others, level, lead, origins=origins, fits=fits, actuals=actuals, prepared=prepared)
    ranking = _ranked([*current, *challengers, *naive], AUTO_FALLBACK, settings)
    method = str(ranking["method"].iloc[0])
    of_method = {o: f for (m, o), f in fits.items() if m == method}
    if method in NAIVE_METHODS:
        return AutoChoice(method, settings, ranking, tuple(entry), unborn=unborn, fits=of_method)
    # every compared grade's rule is written, births too: entry_rule then tells what auto chose from what was set
    chosen = chosen.with_(entry_rule={**chosen.entry_rule, **{g: str(rules["method"].iloc[0]) for g, rules in entry}})
    return AutoChoice(method, chosen, ranking, tuple(entry), unborn=unborn, fits=of_method)


def _choice_text(ranking: pd.DataFrame, default: str, settings: ProjectionSettings) -> tuple[str, str, str]:
    """Words for the first of ``ranking`` ('name (MAPE x %, bias y %)'), the clause saying it was kept as the
    default inside the margin (or ''), and the runner-up (or '')."""
    rows = [f"{r.method} (MAPE {r.mape:.2f} %, bias {r.bias:+.2f} %)" for r in ranking.head(2).itertuples()]
    kept = (
        f", kept as the default since no {'method' if default == AUTO_FALLBACK else 'rule'} beats it by the "
        f"{settings.auto_margin:.0%} margin (projection.auto_margin)"
        if len(ranking) > 1 and ranking["mape"].iloc[1] < ranking["mape"].iloc[0]
        else ""
    )
    return rows[0], kept, (f"runner-up {rows[1]}" if len(rows) > 1 else "")


def choose_method(history: History, settings: ProjectionSettings, known_entrants: tuple[str, ...] = ()) -> tuple[str, ProjectionSettings]:
    """``method: auto``: the method and entry rules of :func:`auto_choice`, announced in one note with each runner-up
    and their back-test errors; with too short a history for a back-test, the stated default (AUTO_FALLBACK, entry
    rules as set), announced too. Any other method is returned as set, with ``settings`` unchanged.

    Returns
    -------
    (method, settings)
        The settings carry the chosen entry rules in ``entry_rule``; project with both.
    """
    return announced_choice(history, settings, known_entrants).chosen


def announced_choice(history: History, settings: ProjectionSettings, known_entrants: tuple[str, ...] = ()) -> AutoChoice:
    """:func:`choose_method` with the whole :class:`AutoChoice` (any method other than auto: as set, empty ranking)."""
    if settings.method != "auto":
        return AutoChoice(settings.method, settings, pd.DataFrame())
    choice = auto_choice(history, settings, known_entrants)
    if known_entrants:
        note(
            f"projection.method auto: the children table gives the entrants of {', '.join(known_entrants)}, which the "
            "district's back-test cannot see: their entry rule is kept as set (births: known children replace births x "
            "ratio) and persistence and trend, which do not use the children table, are not compared"
        )
    unborn = choice.unborn
    if choice.ranking.empty:
        held = (
            f"; no births recorded for {' and '.join(unborn)}, so births was not a candidate: held, the conservative default"
            if unborn
            else ""
        )
        why = (
            f"the back-test refused ({choice.reason})"
            if choice.reason
            else f"history {history.years[0]}-{history.years[-1]} gives fewer than {MIN_CAL_ORIGINS} back-test "
            f"origins at some lead 1-{settings.planning_lead} (window {settings.window}; projection.planning_lead)"
        )
        note(
            f"projection.method auto: {why}; nothing was compared: the default "
            f"method '{AUTO_FALLBACK}' is used, entry grades at their set or default rules{held}"
        )
        return choice
    first, kept, runner = _choice_text(choice.ranking, AUTO_FALLBACK, settings)
    leads = int(choice.ranking["leads"].iloc[0])
    by = settings.auto_level.replace("zone", history.unit).replace("_", " x ")  # the school-level mode's units are schools
    parts = [f"projection.method auto chose {first} over leads 1-{leads} by {by} in the district's own back-test{kept}"]
    parts += [runner] if runner else []
    unused = f"; not used: {choice.method} projects every cell on its own" if choice.method in NAIVE_METHODS else ""
    for g, rules in choice.entry:
        first, kept, runner = _choice_text(rules, "held" if g in unborn else "births", settings)
        why = "no births recorded, so births was not a candidate; " if g in unborn else ""
        parts.append(
            f"entry grade {g} ({why}rules compared under {AUTO_FALLBACK}{unused}): {first}{kept}" + (f", {runner}" if runner else "")
        )
    note("; ".join(parts))
    return choice
