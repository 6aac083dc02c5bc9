"""Planning demand at a quantile is one coherent scenario (issue 12, defect 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import capacity.plan as plan_api
from capacity.grades import CHINA
from capacity.plan import PlanSettings
from capacity.projection import ProjectionSettings, project_district

STAGE_OF = np.array([CHINA.stage_of_grade[g] for g in CHINA.grades])


@pytest.fixture(scope="module")
def projection(example):
    return project_district(example, ProjectionSettings(draws=300))


def calibrated(q: np.ndarray, point: np.ndarray, projection, level: str) -> np.ndarray:
    """Quantiles of a level's sums with that level's own spread factor per lead (issue 16), by hand."""
    k = np.array([projection.calibration.level_factor(level, t + 1) for t in range(len(projection.years))])
    return np.maximum((point + 0.5) * ((q + 0.5) / (point + 0.5)) ** k - 0.5, 0.0)


def totals(demand, by=("year",)):
    return demand.assign(stage=demand["grade"].map(CHINA.stage_of_grade)).groupby(list(by))["pupils"].sum()


@pytest.mark.parametrize("q", [0.5, 0.8, 0.95])
def test_county_total_is_the_quantile_of_the_county_draws(projection, q):
    county_draws = projection.draws.sum((0, 1))  # (years, draws)
    # draws centred on the deterministic path (issue 16): quantile x point / median of the county total
    point = projection.point.sum((0, 1))
    expected = calibrated(np.quantile(county_draws, q, axis=-1) * point / np.median(county_draws, axis=-1), point, projection, "total")
    got = totals(projection.demand(q)).to_numpy()
    np.testing.assert_allclose(got, expected, atol=1.0)  # whole pupils
    # the sum of every cell's own quantile, planned before, lies far above it at long leads
    if q > 0.5:
        assert (
            projection.table(quantiles=(q,))[f"p{round(q * 100)}"].groupby(projection.table()["year"]).sum().iloc[-1] > 1.04 * expected[-1]
        )


def test_stages_share_the_county_total_by_their_own_quantiles(projection):
    q = 0.8
    stage_draws = np.stack([projection.draws[:, STAGE_OF == s].sum((0, 1)) for s in CHINA.stage_names])  # (S, T, D)
    stage_point = np.stack([projection.point[:, STAGE_OF == s].sum((0, 1)) for s in CHINA.stage_names])  # (S, T)
    stage_q = calibrated(
        np.quantile(stage_draws, q, axis=-1) * stage_point / np.median(stage_draws, axis=-1), stage_point, projection, "stage"
    )
    got = totals(projection.demand(q), ("stage", "year")).unstack("year").reindex(CHINA.stage_names).to_numpy()
    county = got.sum(0)
    np.testing.assert_allclose(got, stage_q / stage_q.sum(0) * county, atol=2.0)
    # anchored at the stages instead: every stage total at its own quantile
    by_stage = totals(projection.demand(q, anchor="stage"), ("stage", "year")).unstack("year").reindex(CHINA.stage_names).to_numpy()
    np.testing.assert_allclose(by_stage, stage_q, atol=2.0)


def test_cells_follow_their_own_quantiles_in_whole_pupils(projection):
    q = 0.8
    d = projection.demand(q)
    assert (d["pupils"] == d["pupils"].round()).all() and (d["pupils"] >= 0).all()
    cell_q = projection.table(quantiles=(q,))["p80"].to_numpy()
    # where a stage's share of the county total is below the sum of its cells' quantiles (cells are correlated, so
    # it mostly is), each cell gets at most its own quantile
    key = [d["year"], d["grade"].map(CHINA.stage_of_grade)]
    below = (d.groupby(key)["pupils"].transform("sum") <= pd.Series(cell_q, index=d.index).groupby(key).transform("sum") + 1).to_numpy()
    assert below.mean() > 0.5
    assert (d["pupils"].to_numpy()[below] <= np.ceil(cell_q[below]) + 1e-9).all()
    # within a stage and year, cells are in proportion to their own quantiles (to within rounding)
    y0 = d[(d.year == d.year.max()) & (d.grade.map(CHINA.stage_of_grade) == "primary")]
    cq = cell_q[y0.index]
    np.testing.assert_allclose(y0["pupils"], cq / cq.sum() * y0["pupils"].sum(), atol=1.0)


def test_plan_from_projection_plans_against_the_coherent_scenario(example, projection, monkeypatch):
    seen = {}
    monkeypatch.setattr(plan_api, "plan_district", lambda district, demand, settings: seen.setdefault("demand", demand))
    plan_api.plan_from_projection(example, projection, PlanSettings(demand_quantile=0.8))
    expected = projection.demand(0.8)
    assert seen["demand"].equals(expected)
    assert list(expected.columns) == ["year", "zone_id", "grade", "pupils"]


@pytest.mark.parametrize("level", ["zone_grade", "zone_stage", "zone", "stage", "county"])
def test_central_projection_is_the_deterministic_path_at_every_level(projection, level):
    """Issue 16: uncertainty never shifts the forecast; the published median of any total is the deterministic sum."""
    table = projection.aggregate(level, quantiles=(0.1, 0.5, 0.9))
    point = projection.point  # (zones, grades, years)
    years = np.asarray(projection.years)
    t = np.searchsorted(years, table["year"].to_numpy())
    if level == "zone_grade":
        z = [projection.zones.index(v) for v in table["zone_id"]]
        g = [CHINA.grade_index[v] for v in table["grade"]]
        expected = point[z, g, t]
    else:
        in_zone = (lambda v: slice(None)) if level in ("stage", "county") else (lambda v: projection.zones.index(v))
        in_stage = (lambda v: slice(None)) if level in ("zone", "county") else (lambda v: STAGE_OF == v)
        expected = [
            point[in_zone(zv), :, ti][..., in_stage(sv)].sum() for zv, sv, ti in zip(table["zone_id"], table["stage"], t, strict=True)
        ]
    np.testing.assert_allclose(table["pupils"], expected, rtol=1e-5, atol=1e-3)
    assert (table["p10"] <= table["pupils"] + 1e-6).all() and (table["pupils"] <= table["p90"] + 1e-6).all()
    raw_median = np.median(projection.draws.sum((0, 1)), axis=-1)
    if level == "county":  # the draws' own median drifts from the path (so centring is needed and tested)
        assert np.abs(raw_median - point.sum((0, 1))).max() > 1.0


def test_plan_demand_anchor_setting_puts_stages_on_their_own_quantiles(example, projection, monkeypatch):
    seen = {}
    monkeypatch.setattr(plan_api, "plan_district", lambda district, demand, settings: seen.setdefault("demand", demand))
    plan_api.plan_from_projection(example, projection, PlanSettings(demand_quantile=0.8, demand_anchor="stage"))
    assert seen["demand"].equals(projection.demand(0.8, anchor="stage"))
    assert not seen["demand"].equals(projection.demand(0.8))  # the two anchors differ at q = 0.8


def test_plan_demand_anchor_refuses_other_levels():
    from capacity.errors import ScenarioError

    with pytest.raises(ScenarioError, match="demand_anchor"):
        PlanSettings(demand_anchor="zone")


def test_gap_class_report_uses_the_same_coherent_demand(example, projection):
    from capacity.gap import GapSettings, gap_report

    q = 0.8
    r = gap_report(example, projection, GapSettings(quantile=q))
    gap_pupils = r.classes.groupby("year")["pupils"].sum()
    coherent = totals(projection.demand(q))
    np.testing.assert_allclose(gap_pupils.to_numpy(), coherent.to_numpy(), rtol=1e-3)  # shares rounded per school
    cells = projection.table(quantiles=(q,)).groupby("year")["p80"].sum()
    assert cells.iloc[-1] > 1.01 * gap_pupils.iloc[-1]  # what the gap counted before: the sum of cell quantiles
