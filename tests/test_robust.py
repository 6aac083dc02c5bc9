"""Robust plans: shared decisions over demand draws, and their evaluation on held-out draws."""

from __future__ import annotations

import numpy as np
import pytest

from capacity.plan import PlanSettings
from capacity.plan.robust import demand_of_draw, held_out_draws, plan_robust, robustness_report, spread_draws, unmet_with_decisions
from capacity.projection import ProjectionSettings, project_district

FAST = PlanSettings(integer_classes=False, time_limit_s=60)


@pytest.fixture(scope="module")
def proj(example):
    return project_district(example, ProjectionSettings(draws=60, horizon=3))


def test_draws_are_spread_and_held_out_draws_disjoint(proj):
    picks = spread_draws(proj, 5)
    totals = proj.draws.sum(axis=(0, 1, 2))
    assert list(np.argsort(np.argsort(totals))[picks]) == [6, 18, 30, 42, 54]  # ranks at 10 %, 30 %, ... 90 % of 60
    ev = held_out_draws(proj, 10, picks)
    assert len(ev) == 10 and not set(ev) & set(picks)
    d = demand_of_draw(proj, picks[0])
    assert d["pupils"].sum() == pytest.approx(np.round(proj.draws[..., picks[0]]).sum())


def test_robust_plan_shares_decisions_and_seats_every_draw_it_was_built_for(example, proj):
    r = plan_robust(example, proj, FAST, k=3)
    assert r.status == "optimal"
    assert len(r.per_draw) == 3
    # the shared decisions, imposed on each draw alone, give the same unmet as inside the robust model
    for row in r.per_draw.itertuples(index=False):
        alone = unmet_with_decisions(example, r.decisions, demand_of_draw(proj, row.draw), FAST)
        assert alone == pytest.approx(row.unmet_pupil_years, abs=1e-4)


def test_worst_draw_limit_holds(example, proj):
    free = plan_robust(example, proj, FAST, k=3)
    cap = float(free.per_draw["unmet_pupil_years"].max()) * 0.5
    limited = plan_robust(example, proj, FAST.with_(unmet_penalty=1000.0), k=3, max_unmet=cap + 1e-6)
    assert (limited.per_draw["unmet_pupil_years"] <= cap + 1e-4).all()


def test_robustness_report_compares_single_and_robust(example, proj):
    rep = robustness_report(example, proj, FAST, k=3, n_eval=6)
    assert list(rep["plan"]) == ["single plan at P50", "robust over 3 draws"]
