"""Cohort model: hand-computed small cases, estimators, shrinkage, births, housing, quantiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from capacity.errors import ProjectionError, ScenarioError
from capacity.grades import CHINA
from capacity.projection import ProjectionSettings, history_from_frames, project_district, project_history
from capacity.projection.additions import housing_stock, migration_additions
from capacity.projection.model import point_path, projected_births
from capacity.projection.ratios import estimate, fit

G = {g: i for i, g in enumerate(CHINA.grades)}


def tiny(pupils: dict[tuple[str, str, int], float], births: dict[tuple[str, int], float] | None = None):
    p = pd.DataFrame([(y, z, g, v) for (z, g, y), v in pupils.items()], columns=["year", "zone_id", "grade", "pupils"])
    b = None
    if births:
        b = pd.DataFrame([(y, z, v) for (z, y), v in births.items()], columns=["year", "zone_id", "births"])
    return history_from_frames(p, b)


# --- estimators ------------------------------------------------------------------------


def test_estimators_on_known_series():
    r = np.array([[1.0, 2.0, 4.0]])
    assert estimate(r, "mean", 0.5)[0] == pytest.approx(7 / 3)
    assert estimate(r, "median", 0.5)[0] == 2.0
    assert estimate(r, "weighted", 0.5)[0] == pytest.approx((1 * 1 + 2 * 2 + 3 * 4) / 6)
    # level: 1 -> 0.5*2 + 0.5*1 = 1.5 -> 0.5*4 + 0.5*1.5 = 2.75
    assert estimate(r, "exp_smoothing", 0.5)[0] == pytest.approx(2.75)


def test_estimators_skip_missing_years():
    r = np.array([[np.nan, 2.0, 4.0], [np.nan, np.nan, np.nan]])
    assert estimate(r, "mean", 0.5)[0] == 3.0
    assert np.isnan(estimate(r, "mean", 0.5)[1])
    assert estimate(r, "exp_smoothing", 0.3)[0] == pytest.approx(0.3 * 4 + 0.7 * 2)


# --- the cohort flow by hand ----------------------------------------------------------


def test_two_year_cohort_flow_by_hand():
    # one zone; P1 from births 6 years earlier; P2 from P1
    pupils = {("A", "P1", 2020): 90, ("A", "P1", 2021): 110, ("A", "P2", 2020): 80, ("A", "P2", 2021): 99}
    births = {("A", y): 100.0 for y in range(2010, 2017)}
    births[("A", 2015)] = 110.0
    h = tiny(pupils, births)
    s = ProjectionSettings(window=2, entry_offsets={"P1": 6}, shrinkage_pupils=0, pooled_grades=())
    f = fit(h, s, "mean")
    # entry ratio: mean(90/100 [2014 births], 110/110 [2015 births]) = 0.95
    assert f.ratio[0, G["P1"]] == pytest.approx(0.95)
    # P1 -> P2 ratio: only 2021 is observable: 99 / 90 = 1.1
    assert f.ratio[0, G["P2"]] == pytest.approx(1.1)
    proj = point_path(h, f, s, 2)
    # 2022: P1 = 0.95 x births 2016 (100) = 95; P2 = 1.1 x P1 2021 (110) = 121
    assert proj[0, G["P1"], 0] == pytest.approx(95.0)
    assert proj[0, G["P2"], 0] == pytest.approx(121.0)
    # 2023: births 2017 not recorded -> constant rule: mean of the last 3 recorded (2014-2016) = 103.33
    assert proj[0, G["P1"], 1] == pytest.approx(0.95 * (100 + 110 + 100) / 3)
    assert proj[0, G["P2"], 1] == pytest.approx(1.1 * 95.0)


def test_small_zone_is_shrunk_toward_county_ratio():
    # Big zone B: P2/P1 = 1.0 exactly. Tiny zone T: 3 pupils, 1 -> 3 ("ratio 3") each year.
    pupils = {}
    for y in range(2018, 2022):
        pupils[("B", "P1", y)] = 1000
        pupils[("B", "P2", y)] = 1000
        pupils[("T", "P1", y)] = 1
        pupils[("T", "P2", y)] = 3
    h = tiny(pupils)
    s = ProjectionSettings(window=3, entry_offsets={}, shrinkage_pupils=20, pooled_grades=())
    f = fit(h, s, "mean")
    assert f.raw_ratio[1, G["P2"]] == pytest.approx(3.0)
    county = (1000 + 3) / (1000 + 1)
    assert f.county_ratio[G["P2"]] == pytest.approx(county)
    # credibility weight w = 1 pupil: (1 x 3 + 20 x county) / 21
    assert f.ratio[1, G["P2"]] == pytest.approx((3.0 + 20 * county) / 21)
    assert f.ratio[0, G["P2"]] == pytest.approx((1000 * 1.0 + 20 * county) / 1020)
    # a zone of 3 pupils gets a ratio near the county's, not its own absurd 3.0
    assert abs(f.ratio[1, G["P2"]] - county) < 0.1


def test_zone_without_a_school_for_a_grade_keeps_ratio_zero():
    pupils = {}
    for y in range(2018, 2022):
        pupils[("R", "P6", y)] = 100
        pupils[("R", "J1", y)] = 0
        pupils[("T", "P6", y)] = 100
        pupils[("T", "J1", y)] = 190  # R's pupils board in T
    h = tiny(pupils)
    s = ProjectionSettings(window=3, entry_offsets={}, shrinkage_pupils=50, pooled_grades=())
    f = fit(h, s, "mean")
    assert f.ratio[0, G["J1"]] == 0.0
    assert point_path(h, f, s, 3)[0, G["J1"]].max() == 0.0


def test_pooled_grade_shares_county_total():
    pupils = {}
    for y in range(2018, 2022):
        pupils[("A", "J3", y)] = 100
        pupils[("B", "J3", y)] = 300
        pupils[("A", "S1", y)] = 240  # senior high only in A
        pupils[("B", "S1", y)] = 0
    h = tiny(pupils)
    s = ProjectionSettings(window=3, entry_offsets={}, pooled_grades=("S1",))
    f = fit(h, s, "mean")
    assert f.county_ratio[G["S1"]] == pytest.approx(0.6)
    proj = point_path(h, f, s, 1)
    assert proj[0, G["S1"], 0] == pytest.approx(0.6 * 400)
    assert proj[1, G["S1"], 0] == 0.0


def test_transition_multiplier_and_annual_change():
    pupils = {(z, g, y): 100 for z in ("A",) for g in ("J3", "S1") for y in range(2019, 2022)}
    h = tiny(pupils)
    s = ProjectionSettings(
        window=2, entry_offsets={}, pooled_grades=(), transition_multipliers={"S1": 0.5}, transition_annual_change={"S1": 0.1}
    )
    proj = point_path(h, fit(h, s, "mean"), s, 2)
    assert proj[0, G["S1"], 0] == pytest.approx(100 * 0.5 * 1.1)


# --- births ---------------------------------------------------------------------------


def test_future_births_rules_and_variants():
    births = {("A", y): v for y, v in zip(range(2018, 2021), (90.0, 100.0, 110.0), strict=True)}
    h = tiny({("A", "P1", 2020): 1, ("A", "P1", 2021): 1}, births)
    years = np.array([2020, 2021, 2023])
    b, ahead = projected_births(h, ProjectionSettings(), years)
    np.testing.assert_allclose(b[0], [110.0, 100.0, 100.0])
    np.testing.assert_array_equal(ahead, [0, 1, 3])
    b, _ = projected_births(h, ProjectionSettings(births_rule="trend", births_trend=-0.1, births_variant="low"), years)
    np.testing.assert_allclose(b[0], [110.0, 100 * 0.9 * 0.85, 100 * 0.9**3 * 0.85])


def test_missing_births_for_entry_ratio_is_a_clear_error():
    h = tiny({("A", "P1", y): 50 for y in range(2018, 2022)}, {("A", y): 60.0 for y in range(2014, 2016)})
    with pytest.raises(ProjectionError, match=r"P1 is projected from births 6 years earlier.*2013-2015.*births recorded: 2014-2015"):
        project_history(h, ProjectionSettings(entry_offsets={"P1": 6}))


# --- housing and migration ------------------------------------------------------------


def test_housing_stock_builds_up_along_the_profile_and_stays():
    # 1,000 dwellings finished in 2026 at 0.12 primary pupils each: 120 pupils at maturity,
    # half of them in the first year (profile 0.5, 1.0), then 120 every year, 20 in each of 6 grades.
    housing = pd.DataFrame({"zone_id": ["A"], "year": [2026], "dwellings": [1000], "dwelling_type": ["commodity"]})
    s = ProjectionSettings(housing_yield={"commodity": {"primary": 0.12}}, housing_profile=(0.5, 1.0))
    stock = housing_stock(housing, ("A",), 2025, 12, s, CHINA)
    np.testing.assert_allclose(stock[0, G["P1"], :], [10.0] + [20.0] * 11)
    np.testing.assert_allclose(stock[0].sum(0), [60.0] + [120.0] * 11)
    assert stock[0, G["J1"]].sum() == 0


def test_housing_stock_counts_only_what_arrives_after_the_origin():
    # finished 2024, profile 0.4, 0.8, 1.0: 40 % was present in 2024 and 80 % in 2025 (in the history)
    housing = pd.DataFrame({"zone_id": ["A"], "year": [2024], "dwellings": [100], "dwelling_type": ["commodity"]})
    s = ProjectionSettings(housing_yield={"commodity": {"junior": 0.3}}, housing_profile=(0.4, 0.8, 1.0))
    stock = housing_stock(housing, ("A",), 2025, 3, s, CHINA)
    np.testing.assert_allclose(stock[0].sum(0), [30 * 0.2] * 3)


def test_housing_type_without_yield_is_an_error():
    housing = pd.DataFrame({"zone_id": ["A"], "year": [2026], "dwellings": [10], "dwelling_type": ["villa"]})
    with pytest.raises(ScenarioError, match="column 'dwelling_type': found 'villa'"):
        housing_stock(housing, ("A",), 2025, 3, ProjectionSettings(), CHINA)


def test_migration_spread_by_grade_shares():
    last = np.zeros((1, len(CHINA.grades)))
    last[0, G["P1"]], last[0, G["P2"]] = 30, 10
    add = migration_additions({"A": 40.0}, ("A",), last, 2)
    np.testing.assert_allclose(add[0, G["P1"]], [30, 30])
    np.testing.assert_allclose(add[0, G["P2"]], [10, 10])
    with pytest.raises(ScenarioError, match="net_migration.Z"):
        migration_additions({"Z": 1.0}, ("A",), last, 2)


# --- the example district ---------------------------------------------------------------


@pytest.fixture(scope="module")
def example_projection(example):
    return project_district(example, ProjectionSettings(draws=400))


def test_projection_table_shape_and_invariants(example_projection):
    t = example_projection.table()
    assert list(t.columns) == ["year", "zone_id", "grade", "stage", "pupils", "p10", "p90"]
    assert t["year"].min() == 2026 and t["year"].max() == 2035
    assert len(t) == 10 * 14 * 15
    assert (t[["pupils", "p10", "p90"]] >= 0).all().all()
    assert (t["p10"] <= t["pupils"] + 1e-6).all() and (t["pupils"] <= t["p90"] + 1e-6).all()


def test_intervals_widen_with_lead(example_projection):
    c = example_projection.aggregate("county").set_index("year")
    width = (c["p90"] - c["p10"]) / c["pupils"]
    assert width.iloc[-1] > width.iloc[0] * 3
    table = example_projection.calibration.table
    assert set(table["level"]) == {"zone_grade", "zone_stage", "zone", "stage", "total"}
    for _level, k in table.groupby("level"):
        assert (np.diff(k.sort_values("lead")["k"].to_numpy()) >= -1e-12).all()
    # leave-one-origin-out coverage of the calibrated P10-P90 interval near 80 % at every level with many units,
    # at leads back-tested from at least 5 origins
    many = table[table["level"].isin(["zone_grade", "zone_stage", "zone"]) & (table["origins"] >= 5)]
    assert len(many) >= 15
    assert many["coverage_calibrated"].between(0.7, 0.9).all(), many


def test_projection_is_deterministic(example):
    a = project_district(example, ProjectionSettings(draws=50)).table()
    b = project_district(example, ProjectionSettings(draws=50)).table()
    pd.testing.assert_frame_equal(a, b)


def test_first_years_follow_known_cohorts(example, example_projection):
    # P2 in the first projected year comes from last year's P1 in every zone: close to it.
    e = example.enrolment.merge(example.schools[["school_id", "zone_id"]], on="school_id")
    p1 = e[(e.year == 2025) & (e.grade == "P1")].groupby("zone_id")["pupils"].sum()
    t = example_projection.table()
    p2 = t[(t.year == 2026) & (t.grade == "P2")].set_index("zone_id")["pupils"]
    rel = (p2 / p1).dropna()
    assert ((rel > 0.9) & (rel < 1.1)).all()


def test_any_quantile_can_be_requested(example_projection):
    t = example_projection.table(quantiles=(0.05, 0.8, 0.95))
    assert {"p5", "p80", "p95"} <= set(t.columns)
    assert (t["p80"] <= t["p95"] + 1e-6).all()


def test_auto_method_picks_the_median_when_ratios_spike():
    # P2/P1 = 1.0 except every 4th year (2.0): any 3-year window holds at most one spike, so the
    # median ratio is always 1.0 and right 3 years in 4, while the mean is always off.
    pupils = {}
    for y in range(2000, 2025):
        pupils[("A", "P1", y)] = 100
        pupils[("A", "P2", y)] = 200 if y % 4 == 0 else 100
    h = tiny(pupils)
    p = project_history(
        h, ProjectionSettings(method="auto", entry_offsets={}, pooled_grades=(), draws=20, calibrate=False, planning_lead=1)
    )
    assert p.method == "median"


def test_settings_reject_bad_values():
    with pytest.raises(ScenarioError, match="projection.horizon: found 25"):
        ProjectionSettings(horizon=25)
    with pytest.raises(ScenarioError, match="projection.method: found 'magic'"):
        ProjectionSettings(method="magic")
