"""Shared and skipped computations of the projection (issue 16 goal 6, speed) give what the direct computation gives.

Each speed-up that computes something once for several uses, or skips work it can prove is not needed, is checked
here against the plain way of computing it, on small random districts with a missing year, an empty zone and a
held entry grade, so that a wrong slice, a stale reuse or a wrongly skipped step fails."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from capacity.projection import ProjectionSettings
from capacity.projection.ratios import LEVEL, annual_ratios, estimate, fit, window_start
from capacity.projection.settings import AUTO_METHODS, NAIVE_METHODS
from capacity.synthetic import synthetic_history

RATIO_METHODS = tuple(m for m in AUTO_METHODS if m not in NAIVE_METHODS)


def awkward_history(seed: int):
    """6 zones x 9 years of the synthetic cohort flow, one year missing and one zone that never has pupils."""
    h = synthetic_history(6, 9, seed=seed)
    pupils = h.pupils.copy()
    pupils[:, :, 5] = np.nan
    pupils[2] = 0.0
    pupils[2, :, 5] = np.nan
    return replace(h, pupils=pupils)


@pytest.mark.parametrize("method", RATIO_METHODS)
@pytest.mark.parametrize("seed", [0, 1])
def test_one_estimator_call_equals_three(method, seed):
    """fit() combines zone ratios, county ratios and pupils in one estimator call: each equals its own call."""
    h = awkward_history(seed)
    s = ProjectionSettings(window=4, entry_rule={"K1": "held"}, smoothing_alpha=0.3)
    f = fit(h, s, method, noise=False)
    num, den = annual_ratios(h, s)
    win = slice(window_start(h, s.window), None)
    n, d = num[:, :, win], den[:, :, win]
    ok = ~np.isnan(d) & (d > 0) & ~np.isnan(n)
    known = ~np.isnan(n) & ~np.isnan(d)
    cn, cd = np.where(known, n, 0.0).sum(0), np.where(known, d, 0.0).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        zone = estimate(np.where(ok, n / np.where(ok, d, 1.0), np.nan), method, 0.3)
        county = estimate(np.where(cd > 0, cn / np.where(cd > 0, cd, 1.0), np.nan), method, 0.3)
    held = np.nan_to_num(estimate(h.pupils[:, :, win], method, 0.3))
    np.testing.assert_array_equal(f.raw_ratio, zone)
    np.testing.assert_array_equal(f.county_ratio, np.nan_to_num(county, nan=0.0))
    lev = np.flatnonzero(f.kinds == LEVEL)
    assert len(lev) >= 1  # the first grade (K1, held) at least
    np.testing.assert_array_equal(f.ratio[:, lev], held[:, lev])
    assert np.isnan(zone).any() and not np.isnan(county).all()  # the case has gaps in zone ratios, not only in the county's


def reference_estimate(r: np.ndarray, method: str, alpha: float) -> np.ndarray:
    """Each estimator row by row in plain Python over the valid entries (oldest first)."""
    out = np.full(r.shape[:-1], np.nan)
    for idx in np.ndindex(*r.shape[:-1]):
        row = r[idx]
        pos = np.flatnonzero(~np.isnan(row))
        x = row[pos]
        if not len(x):
            continue
        if method == "mean":
            out[idx] = np.nanmean(row)
        elif method == "weighted":
            out[idx] = float(np.nansum(row * np.arange(1, len(row) + 1))) / float((pos + 1).sum())
        elif method == "median":
            out[idx] = np.median(x)
        else:
            level = x[0]
            for v in x[1:]:
                level = alpha * v + (1 - alpha) * level
            out[idx] = level
    return out


@pytest.mark.parametrize("window", [1, 2, 3, 5])
def test_estimators_sharing_their_mask_equal_the_plain_ones(window):
    """estimate() computes the valid mask, count and NaN-as-0 ratios once for all four estimators of combined: each
    estimator equals a row-by-row computation, and combined equals the mean of four separate calls, to the bit."""
    rng = np.random.default_rng(window)
    r = rng.lognormal(0, 0.3, (7, 15, window))
    r[rng.random(r.shape) < 0.3] = np.nan
    r[0, 0] = np.nan  # a row with no ratio
    for m in ("mean", "weighted", "median", "exp_smoothing"):
        np.testing.assert_allclose(estimate(r, m, 0.4), reference_estimate(r, m, 0.4), rtol=1e-14, equal_nan=True)
    separate = np.mean([estimate(r, m, 0.4) for m in ("mean", "weighted", "exp_smoothing", "median")], axis=0)
    np.testing.assert_array_equal(estimate(r, "combined", 0.4), separate)
    np.testing.assert_array_equal(np.isnan(separate), np.isnan(r).all(-1))  # NaN exactly where a row has no ratio
    assert np.isnan(r).all(-1).sum() < r[..., 0].size / 2


@pytest.mark.parametrize("method", AUTO_METHODS)
def test_deterministic_fit_gives_the_drawn_fits_path(method):
    """Back-tests fit without noise scales (noise=False skips them, sigma_births included): every other field, and so
    the deterministic path, is the full fit's to the bit."""
    from capacity.projection.model import point_path
    from capacity.projection.naive import fit_method

    h = awkward_history(3)
    s = ProjectionSettings(window=3, level_rule="trend")
    full, bare = fit_method(h, s, method), fit_method(h, s, method, noise=False)
    for name in ("kinds", "no_feeder", "ratio", "raw_ratio", "county_ratio", "keep", "share", "slope", "weight", "size"):
        np.testing.assert_array_equal(getattr(bare, name), getattr(full, name), err_msg=name)
    np.testing.assert_array_equal(point_path(h, bare, s, 6), point_path(h, full, s, 6))
    assert (full.sigma_common != bare.sigma_common).any()  # the scales it skips do differ


@pytest.mark.parametrize("draws", [0, 50])
def test_only_level_grades_and_migration_are_clamped(draws):
    """simulate() clamps at 0 only level grades (a falling trend) and, with net migration, every cell: the cohorts are
    products of non-negative factors. A district whose trended entry grade and migration both run below 0 has no
    negative pupil anywhere, and its trended grade does reach 0 (the clamp is exercised)."""
    from capacity.projection.model import simulate

    h = synthetic_history(5, 8, seed=4)
    pupils = h.pupils.copy()
    pupils[:, 0, :] = np.linspace(400, 50, 8)[None, :]  # K1 falls by 50 a year
    h = replace(h, pupils=pupils)
    s = ProjectionSettings(window=4, entry_rule={"K1": "trend"})
    f = fit(h, s, "mean")
    rng = np.random.default_rng(0) if draws else None
    plain = simulate(h, f, s, 8, draws, rng)
    assert (plain >= 0).all() and (plain[:, 0, 3:] == 0).all()
    moves = np.full((5, 15, 8), -40.0)
    moved = simulate(h, f, s, 8, draws, np.random.default_rng(0) if draws else None, additions=moves)
    assert (moved >= 0).all() and (moved == 0).any() and (moved[:, 1:] < plain[:, 1:]).any()


FIELDS = ("kinds", "no_feeder", "ratio", "raw_ratio", "county_ratio", "keep", "share", "slope", "weight", "size", "sigma_common", "tau")


@pytest.mark.parametrize("noise", [False, True])
@pytest.mark.parametrize("extra", [{}, {"level_rule": "trend", "entry_rule": {"P1": "held"}}, {"moves_between_zones": False}])
def test_methods_fitted_together_equal_each_fitted_alone(noise, extra):
    """fit_methods() prepares the window once for every estimator (ratios.fits): each method's fit, in either order and
    mixed with persistence and trend, equals its fit alone, field by field to the bit (one method's fit must not
    leak into another's through the shared arrays)."""
    from capacity.projection.naive import fit_method, fit_methods

    h = awkward_history(2)
    s = ProjectionSettings(window=3, **extra)
    methods = ("trend", *RATIO_METHODS, "persistence")
    for order in (methods, methods[::-1]):
        together = fit_methods(h, s, order, noise=noise)
        assert len(together) == len(order)
        for m, f in zip(order, together, strict=True):
            alone = fit_method(h, s, m, noise=noise)
            for name in FIELDS:
                np.testing.assert_array_equal(getattr(f, name), getattr(alone, name), err_msg=f"{m} {name}")
            assert f.sigma_births == alone.sigma_births
    ratios = {m: f.county_ratio for m, f in zip(methods, fit_methods(h, s, methods, noise=noise), strict=True)}
    assert len({r.tobytes() for m, r in ratios.items() if m in RATIO_METHODS}) == len(RATIO_METHODS)  # the estimators do differ


def test_backtest_paths_of_several_methods_equal_each_alone():
    """backtest_paths fits all its methods at an origin together (fit_methods): every path equals the one back-tested
    for that method alone, origin by origin, to the bit."""
    from capacity.projection.backtest import backtest_paths

    h = synthetic_history(5, 9, seed=6)
    s = ProjectionSettings(window=3, entry_rule={"K1": "trend"})
    methods = ("combined", "mean", "weighted", "exp_smoothing", "median", "persistence", "trend")
    together = {(m, o): p for m, o, p, _a in backtest_paths(h, s, methods, max_lead=4)}
    for m in methods:
        alone = {(mm, o): p for mm, o, p, _a in backtest_paths(h, s, (m,), max_lead=4)}
        for key, p in alone.items():
            np.testing.assert_array_equal(together[key], p, err_msg=str(key))
    assert len(together) == len(methods) * len({o for _m, o in together}) and len({o for _m, o in together}) >= 4


@pytest.mark.parametrize("method", AUTO_METHODS)
def test_noise_added_to_a_deterministic_fit_equals_the_noisy_fit(method):
    """naive.with_noise adds the noise scales to a deterministic fit (as auto's back-test made it): the fit with noise,
    every field to the bit."""
    from capacity.projection.naive import fit_method, with_noise

    h = awkward_history(4)
    s = ProjectionSettings(window=3, entry_rule={"P1": "trend"})
    noisy, added = fit_method(h, s, method), with_noise(fit_method(h, s, method, noise=False), h, s)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(added, name), getattr(noisy, name), err_msg=name)
    assert added.sigma_births == noisy.sigma_births != fit_method(h, s, method, noise=False).sigma_births


def auto_cases():
    """Districts on which auto keeps combined with births, holds K1 (steady K1, births swinging), picks median (margin
    0) and picks trend (every cell on a line)."""
    h = synthetic_history(6, 12, seed=7)
    rng = np.random.default_rng(1)
    steady = h.pupils.copy()
    steady[:, 0, :] = np.round(steady[:, 0, :].mean(axis=1, keepdims=True))
    swinging = np.round(h.births * rng.uniform(0.6, 1.4, h.births.shape))
    line = np.round(h.pupils[:, :, :1] * (1 + 0.06 * np.arange(h.pupils.shape[2]))[None, None, :])
    return [
        (h, ProjectionSettings(horizon=8), "combined"),
        (replace(h, pupils=steady, births=swinging), ProjectionSettings(horizon=8), "combined"),
        (synthetic_history(30, 13, seed=1), ProjectionSettings(horizon=8, auto_margin=0.0), "median"),
        (replace(h, pupils=line), ProjectionSettings(horizon=8), "trend"),
    ]


@pytest.mark.parametrize("case", range(4))
def test_calibration_from_autos_fits_equals_its_own(case):
    """project_history hands auto's deterministic fits of the chosen method to calibrate (AutoChoice.fits), which adds
    their noise scales instead of fitting again: the calibration equals the one that fits everything itself. The fits
    are really used (another method's fits give another calibration) and belong to the chosen method and rules."""
    from capacity.projection.backtest import auto_choice, calibrate

    h, s, expected = auto_cases()[case]
    c = auto_choice(h, s)
    assert c.method == expected and len(c.fits) >= 5
    if case == 1:
        assert c.settings.entry_rule["K1"] == "held"  # the winning trial's fits are the ones kept
    own, reused = calibrate(h, c.settings, c.method), calibrate(h, c.settings, c.method, fits=c.fits)
    assert own.table.equals(reused.table)
    np.testing.assert_array_equal(own.k, reused.k)
    for level, k in own.level_k.items():
        np.testing.assert_array_equal(reused.level_k[level], k)
    other = "persistence" if c.method != "persistence" else "mean"
    wrong = calibrate(h, c.settings, c.method, fits={o: fit_for(h.up_to(o), c.settings, other) for o in c.fits})
    assert not wrong.table.equals(own.table)


def fit_for(history, settings, method):
    from capacity.projection.naive import fit_method

    return fit_method(history, settings, method, noise=False)


@pytest.mark.parametrize("noise", [False, True])
def test_fits_sharing_a_prepared_window_equal_each_fitted_alone(noise):
    """ratios.fits takes a window's preparation from ``prepared`` when settings that prepare it the same made it before
    (auto's held and trend trials, its challengers): under every variant below, fitted in either order with one shared
    dict, each fit equals the fit alone, field by field to the bit; variants that prepare differently (births against
    held, window, pooled grades) must not share, and those that prepare the same do. The estimates kept with a window
    (combined from the four, reused by later fits) must follow the smoothing weight (a variant changes it)."""
    from capacity.projection.ratios import fits

    h = awkward_history(5)
    base = ProjectionSettings(window=3)
    variants = [
        base,
        base.with_(entry_rule={"K1": "held"}),
        base.with_(entry_rule={"K1": "trend"}),
        base.with_(level_rule="trend"),
        base.with_(shrinkage_pupils=5.0, smoothing_alpha=0.3),
        base.with_(moves_between_zones=False),
        base.with_(pooled_grades=()),
        base.with_(window=4),
    ]
    for order in (variants, variants[::-1]):
        prepared: dict = {}
        for s in order:
            shared, alone = fits(h, s, RATIO_METHODS, noise, prepared), fits(h, s, RATIO_METHODS, noise)
            for m, a, b in zip(RATIO_METHODS, shared, alone, strict=True):
                for name in FIELDS:
                    np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=f"{m} {name} {s.entry_rule} {s.level_rule}")
                assert a.sigma_births == b.sigma_births
        assert len(prepared) == 4  # births (5 variants), K1 held or trend, no pooled grade, window 4


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, bool])
@pytest.mark.parametrize("grades", ["china", "us"])
def test_stage_sums_written_in_place_equal_the_slice_sums(dtype, grades):
    """level_sum's stage sums (each stage's grades summed straight into its column) equal each stage's slice summed
    on its own, to the bit and in the same dtype, on arrays shaped like the calibration's draws and its paths, with
    NaN cells; stacking the sums afresh is the plain way."""
    from capacity.grades import PRESETS
    from capacity.projection.backtest import level_sum

    system = PRESETS[grades]
    rng = np.random.default_rng(3)
    stage_of = [system.stage_of_grade[g] for g in system.grades]
    for shape in [(5, len(system.grades), 7, 100), (4, len(system.grades), 6), (1, len(system.grades))]:
        x = (rng.lognormal(3.0, 1.0, shape) * rng.integers(0, 2, shape)).astype(dtype)
        if dtype in (np.float32, np.float64):
            x[0, 1] = np.nan
        bounds = [(i, i + stage_of.count(st)) for i, st in enumerate(stage_of) if i == 0 or st != stage_of[i - 1]]
        plain = np.stack([x[:, a:b].sum(1) for a, b in bounds], axis=1)
        zone_stage, stage = level_sum(x, "zone_stage", system), level_sum(x, "stage", system)
        assert zone_stage.dtype == plain.dtype and stage.dtype == plain.dtype
        assert zone_stage.tobytes() == plain.reshape(-1, *shape[2:]).tobytes()
        assert stage.tobytes() == plain.sum(0).tobytes()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_backtest_paths_sharing_an_origins_births_equal_paths_projected_afresh(seed):
    """backtest_paths projects every method's path at an origin from one set of projected births (model.simulate's
    ``births``): each path equals the one projected from that origin's fit with its own births, to the bit, on random
    districts with a births trend and variant, a held or null entry grade, births missing for the last years, and
    none at all."""
    from capacity.projection.backtest import backtest_paths
    from capacity.projection.model import point_path
    from capacity.projection.naive import fit_method

    rng = np.random.default_rng(seed)
    h = awkward_history(seed)
    variants = [
        ProjectionSettings(window=3, births_rule="trend", births_trend=float(rng.uniform(-0.05, 0.05)), births_variant="low"),
        ProjectionSettings(window=2, entry_rule={"K1": "held"}, births_base_years=int(rng.integers(1, 4))),
        ProjectionSettings(window=3, entry_offsets={"K1": None, "P1": 6}),
    ]
    methods = ("combined", "mean", "median", "persistence", "trend")
    held = ProjectionSettings(window=3, entry_rule={"K1": "held", "P1": "held"})
    cases = [(h, variants), (replace(h, births=h.births[:, :-2], birth_years=h.birth_years[:-2]), variants)]
    for hist, settings in [*cases, (replace(h, births=None, birth_years=()), [held])]:
        for s in settings:
            n = 0
            for m, o, path, _a in backtest_paths(hist, s, methods, max_lead=int(rng.integers(2, 6))):
                past = hist.up_to(o)
                fresh = point_path(past, fit_method(past, s, m, noise=False), s, path.shape[2])
                assert path.tobytes() == fresh.tobytes(), (m, o, s)
                n += 1
            assert n >= len(methods) * 3
