"""The fast numeric paths of the projection (issue 16 goal 6) against what they replace: normals, quantiles, level
sums, noise scales."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from scipy import stats

from capacity.grades import GradeSystem, Stage
from capacity.projection.backtest import level_sum, quantile_sorted
from capacity.projection.model import standard_normal32
from capacity.projection.ratios import DEFAULT_LOG_SD, _noise_scales, estimate


def test_standard_normal32_draws_independent_standard_normals():
    """Box-Muller of float32 uniforms: N(0, 1) in distribution, the cos and sin halves independent, seeded.

    n = 1,000,001 (odd: the last pair is cut); bounds at ~5 standard errors, so a wrong radius (sqrt(-ln u), variance
    0.5), a reused angle or a shifted uniform fails."""
    shape = (7, 11, 12_987)
    z = standard_normal32(np.random.default_rng(3), shape)
    n = z.size
    assert z.shape == shape and z.dtype == np.float32 and np.isfinite(z).all()
    x = z.ravel().astype(np.float64)
    assert abs(x.mean()) < 5 / np.sqrt(n)
    assert abs(x.var() - 1) < 5 * np.sqrt(2 / n)
    assert stats.kstest(x, "norm").pvalue > 1e-4
    tail = (np.abs(x) > 3).mean()  # 0.0027 for a normal
    assert abs(tail - 2 * stats.norm.sf(3)) < 5 * np.sqrt(2 * stats.norm.sf(3) / n)
    assert np.abs(x).max() <= np.sqrt(-2 * np.log(2.0**-24)) + 1e-5  # tails cut at 5.77, as documented
    half = (n + 1) // 2
    cos_half, sin_half = x[: n - half], x[half:]  # the two normals of each pair (same radius, angles 90 degrees apart)
    assert abs(np.corrcoef(cos_half, sin_half)[0, 1]) < 5 / np.sqrt(half)
    assert abs(np.corrcoef(cos_half**2, sin_half**2)[0, 1]) < 5 / np.sqrt(half)  # independent, not only uncorrelated
    np.testing.assert_array_equal(z, standard_normal32(np.random.default_rng(3), shape))  # same seed, same bytes


@pytest.mark.parametrize("q", [0.0, 0.1, 0.25, 0.5, 0.8, 0.9, 0.999, 1.0])
def test_quantile_sorted_is_numpys_linear_quantile_to_the_last_bit(q):
    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 5, 10, 37, 451, 4000):
        for values in (rng.lognormal(0, 1, n), np.round(rng.normal(0, 2, n), 1)):  # continuous, and with ties
            got = quantile_sorted(np.sort(values), q)
            want = np.quantile(values, q)
            assert got == want or (np.isnan(got) and np.isnan(want)), (n, q, got, want)


def test_level_sums_of_stages_are_the_grades_summed_within_each_stage():
    """Stage sums by slices against float64 sums, with a stage of one grade and one of nine (past numpy's 8-way
    pairwise block), and every level's units summing to the same total."""
    system = GradeSystem(
        "custom",
        (
            Stage("a", "A", ("a1",), 3),
            Stage("b", "B", tuple(f"b{i}" for i in range(9)), 4),
            Stage("c", "C", ("c1", "c2", "c3"), 13),
        ),
    )
    rng = np.random.default_rng(0)
    x = rng.gamma(2.0, 50.0, (4, 13, 5, 200)).astype(np.float32)
    want = np.stack([x[:, [0]].sum(1, dtype=np.float64), x[:, 1:10].sum(1, dtype=np.float64), x[:, 10:].sum(1, dtype=np.float64)], 1)
    zone_stage = level_sum(x, "zone_stage", system)
    assert zone_stage.shape == (4 * 3, 5, 200) and zone_stage.dtype == np.float32
    np.testing.assert_allclose(zone_stage, want.reshape(12, 5, 200), rtol=1e-6)
    np.testing.assert_allclose(level_sum(x, "stage", system), want.sum(0), rtol=1e-6)
    total = x.sum((0, 1), dtype=np.float64)
    for level in ("zone_grade", "zone_stage", "zone", "stage", "total"):
        np.testing.assert_allclose(level_sum(x, level, system).sum(0, dtype=np.float64), total, rtol=1e-6)


def reference_noise_scales(num: np.ndarray, den: np.ndarray) -> tuple[list[float], list[float]]:
    """sigma_common and tau by the docstring's formulas, grade by grade and cell by cell in plain Python."""
    z_n, g_n, t_n = num.shape
    sigma, tau = [], []
    for g in range(g_n):
        lc = {}
        for t in range(t_n):
            cells = [(num[z, g, t], den[z, g, t]) for z in range(z_n) if not (np.isnan(num[z, g, t]) or np.isnan(den[z, g, t]))]
            n_sum, d_sum = sum(c[0] for c in cells), sum(c[1] for c in cells)
            if n_sum > 0 and d_sum > 0:
                lc[t] = math.log(n_sum / d_sum)
        sigma.append(max(statistics.stdev(lc.values()), 0.005) if len(lc) >= 3 else DEFAULT_LOG_SD)
        c_mean = statistics.fmean(lc.values()) if lc else 0.0
        terms = []
        for z in range(z_n):
            lr = {t: math.log(num[z, g, t] / den[z, g, t]) for t in range(t_n) if num[z, g, t] > 0 and den[z, g, t] > 0}
            z_mean = statistics.fmean(lr.values()) if lr else 0.0
            terms += [((lr[t] - z_mean) - (lc[t] - c_mean)) ** 2 - 1 / max(num[z, g, t], 1.0) for t in lr if t in lc]
        tau.append(math.sqrt(max(statistics.fmean(terms), 0.0)) if len(terms) >= 3 else 0.0)
    return sigma, tau


def test_noise_scales_follow_their_formulas_per_grade():
    """Zone and county log-ratio spreads of random ratios with unknown cells, zero pupils, a grade known in only two
    years (default sd) and one whose counting noise exceeds its spread (tau 0)."""
    rng = np.random.default_rng(5)
    den = rng.integers(200, 2000, (6, 5, 7)).astype(float)
    num = den * np.exp(rng.normal(0, 0.15, den.shape) + rng.normal(0, 0.05, (1, 5, 7)))
    num = np.round(num)
    num[rng.random(num.shape) < 0.1] = np.nan
    den[0, 1, :] = np.nan  # a zone with no feeder
    num[2, 2, 3] = 0.0
    num[:, 3, :5] = np.nan  # two years only
    num[:, 4], den[:, 4] = 2.0, 2.0  # tiny cells, no spread: counting noise exceeds it
    sigma, tau = _noise_scales(num, den)
    want_sigma, want_tau = reference_noise_scales(num, den)
    np.testing.assert_allclose(sigma, want_sigma, rtol=1e-12)
    np.testing.assert_allclose(tau, want_tau, rtol=1e-12, atol=1e-15)
    assert sigma[3] == DEFAULT_LOG_SD and tau[4] == 0.0 and (tau[:3] > 0.1).all()


def test_median_estimator_is_nanmedian_of_the_known_ratios():
    """The median of each cell's known annual ratios (mean of the two middle ones for an even count; NaN when none),
    as np.nanmedian gives it, for windows of 1-8 years with unknown years and ties."""
    hand = np.array([[1.0, np.nan, 3.0, 2.0], [np.nan, np.nan, np.nan, np.nan], [4.0, 1.0, np.nan, np.nan], [2.0, 2.0, 5.0, 1.0]])
    np.testing.assert_array_equal(estimate(hand, "median", 0.5), [2.0, np.nan, 2.5, 2.0])
    rng = np.random.default_rng(0)
    for w in range(1, 9):
        r = np.round(rng.lognormal(0, 0.5, (30, 15, w)), w % 3)
        r[rng.random(r.shape) < 0.3] = np.nan
        want = np.full(r.shape[:-1], np.nan)
        rows = (~np.isnan(r)).any(-1)
        want[rows] = np.nanmedian(r[rows], axis=-1)
        np.testing.assert_array_equal(estimate(r, "median", 0.5), want)
