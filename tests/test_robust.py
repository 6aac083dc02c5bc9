"""Robust plans: shared decisions over demand draws, and their evaluation on held-out draws."""

from __future__ import annotations

import numpy as np
import pytest
from plan_checks import hand_settings, p1_demand, write_district

from capacity.data import load_district
from capacity.plan import PlanSettings, plan_district
from capacity.plan.robust import (
    decisions_from_tables,
    demand_of_draw,
    evaluate_plans,
    held_out_draws,
    plan_robust,
    plan_robust_demands,
    spread_draws,
    unmet_with_decisions,
)
from capacity.projection import ProjectionSettings, project_district

FAST = PlanSettings(integer_classes=False, time_limit_s=60)


@pytest.fixture(scope="module")
def proj(example):
    return project_district(example, ProjectionSettings(draws=60, horizon=3))


def test_draws_are_spread_and_held_out_draws_disjoint(example, proj):
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


def hand_district(tmp_path):
    """SA: 2 P1 classrooms (90 seats at 45 a class), no room to build; candidate C1: 1 classroom
    (45 seats), opening cost 1,000 (hand settings: classroom 1,000, class-year 100, unmet 1e6)."""
    schools = [
        dict(school_id="SA", zone_id="A", classrooms=2, max_classrooms=2, x_km=0, y_km=0),
        dict(school_id="C1", zone_id="A", classrooms=0, max_classrooms=1, x_km=1, y_km=0, status="candidate"),
    ]
    return load_district(write_district(tmp_path, [("A", 0, 0)], schools, {"SA": 80}))


def test_robust_plan_by_hand(tmp_path):
    # Planned against draws of 80, 80 and 120 pupils a year (2026-27): the median draw fits SA's 90 seats,
    # so the plan at the median opens nothing; the robust plan opens C1 (1,000) because leaving the high draw
    # 30 pupils short for two years would cost 1/3 x 60 x 1e6 in expectation. On held-out draws of 70, 100 and
    # 130 pupils the median plan leaves 0, 20 and 80 pupil-years unseated; the robust plan (135 seats) none.
    d = hand_district(tmp_path)
    s = hand_settings(new_school_lead_years=0, strategy="direct")
    plan_draws = [p1_demand({"A": [v, v]}) for v in (80, 80, 120)]
    robust = plan_robust_demands(d, plan_draws, s)
    median = plan_district(d, plan_draws[0], s)
    assert robust.decisions["y"] == {("C1", 2026): 1, ("C1", 2027): 1}
    assert float(median.builds["cost"].sum()) == 0
    assert list(robust.per_draw["unmet_pupil_years"]) == pytest.approx([0, 0, 0])
    held_out = [p1_demand({"A": [v, v]}) for v in (70, 100, 130)]
    plans = {"median": (decisions_from_tables(median.tables), 0.0), "robust": (robust.decisions, 1_000.0)}
    rep = evaluate_plans(d, plans, held_out, s).set_index("plan")
    assert rep.at["median", "mean_unmet_pupil_years"] == pytest.approx(100 / 3)
    assert rep.at["median", "worst_unmet_pupil_years"] == pytest.approx(80)
    assert rep.at["median", "share_of_draws_short"] == pytest.approx(2 / 3)
    assert rep.at["robust", "worst_unmet_pupil_years"] == pytest.approx(0, abs=1e-6)
    # costs without the penalty, classes fractional in the evaluation: 100 x pupils seated / 45 a class-year
    assert rep.at["median", "mean_cost"] == pytest.approx(100 * 2 * (70 + 90 + 90) / 45 / 3)
    assert rep.at["robust", "mean_cost"] == pytest.approx(1_000 + 100 * 2 * (70 + 100 + 130) / 45 / 3)
    assert rep.at["median", "mean_cost_with_penalty"] == pytest.approx(rep.at["median", "mean_cost"] + 1e6 * 100 / 3)


def test_robust_plan_pays_off_on_growth_town(tmp_path):
    # The shipped second district where uncertainty matters: the robust plan's worst held-out shortfall is
    # no larger than the P50 plan's, and on the held-out draws it is the cheapest of the three in expectation
    # once unseated pupils are charged (what it minimises over its own 10 draws).
    from pathlib import Path

    import pandas as pd

    from capacity.run import run_scenario
    from capacity.scenario import load_scenario

    sc = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "robust-growth-town.yaml")
    run_scenario(sc, tmp_path / "run")
    rep = pd.read_csv(tmp_path / "run" / "plan" / "robustness.csv").set_index("plan")
    assert list(rep.index) == ["P50", "P80", "robust over 20 draws"]
    robust, p50 = rep.loc["robust over 20 draws"], rep.loc["P50"]
    assert robust["worst_unmet_pupil_years"] <= p50["worst_unmet_pupil_years"]
    assert robust["mean_unmet_pupil_years"] < p50["mean_unmet_pupil_years"]
    # the robust plan opens the estate's senior site (15 M); the median plan does without it
    assert robust["capital"] >= 15_000_000 > p50["capital"]
    assert robust["mean_cost_with_penalty"] == rep["mean_cost_with_penalty"].min()
    assert 'id="robust"' in (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
