"""Planning demand at a quantile is one coherent scenario (issue 12, defect 5)."""

from __future__ import annotations

import numpy as np
import pytest

import capacity.plan as plan_api
from capacity.grades import CHINA
from capacity.plan import PlanSettings
from capacity.projection import ProjectionSettings, project_district

STAGE_OF = np.array([CHINA.stage_of_grade[g] for g in CHINA.grades])


@pytest.fixture(scope="module")
def projection(example):
    return project_district(example, ProjectionSettings(draws=300))


def totals(demand, by=("year",)):
    return demand.assign(stage=demand["grade"].map(CHINA.stage_of_grade)).groupby(list(by))["pupils"].sum()


@pytest.mark.parametrize("q", [0.5, 0.8, 0.95])
def test_county_total_is_the_quantile_of_the_county_draws(projection, q):
    county_draws = projection.draws.sum((0, 1))  # (years, draws)
    expected = np.quantile(county_draws, q, axis=-1)
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
    stage_q = np.quantile(stage_draws, q, axis=-1)
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
    # the county total is below the sum of cell quantiles, so each cell gets at most its own quantile
    assert (d["pupils"].to_numpy() <= np.ceil(cell_q) + 1e-9).all()
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
