"""Near-optimal alternatives (Hop-Skip-Jump) on districts whose near-optimal plans are known by hand."""

from __future__ import annotations

import pytest
from plan_checks import check_plan_invariants, costs_sum_to_objective, hand_settings, p1_demand, write_district

from capacity.data import load_district
from capacity.plan import plan_district
from capacity.plan.alternatives import alternative_tables, board_decisions, plan_alternatives


def three_ways(tmp_path, c2_cost: float = 1000.0):
    """Zone A needs a second P1 classroom for 90 pupils (45 a class) in 2026-27. Three ways, each one
    classroom: extend SA (1,000), open site C1 (1,000) or site C2 (``c2_cost``); classes 4 x 100.
    Optimum 1,400; C2's plan costs c2_cost + 400."""
    schools = [
        dict(school_id="SA", zone_id="A", classrooms=1, max_classrooms=2, x_km=0, y_km=0),
        dict(school_id="C1", zone_id="A", classrooms=0, max_classrooms=1, x_km=1, y_km=0, status="candidate"),
        dict(school_id="C2", zone_id="A", classrooms=0, max_classrooms=1, x_km=-1, y_km=0, status="candidate", opening_cost=c2_cost),
    ]
    return load_district(write_district(tmp_path, [("A", 0, 0)], schools, {"SA": 40}))


DEMAND = p1_demand({"A": [90, 90]})
FAST = dict(new_school_lead_years=0, strategy="direct")


def way(plan) -> str:
    """Which of the three ways a plan takes."""
    d = board_decisions(plan.tables)
    assert len(d) == 1, d
    return d["school_id"].iloc[0]


def solved_alternatives(district, n, slack):
    opt = plan_district(district, DEMAND, hand_settings(**FAST, alternatives=n, alternatives_slack=slack))
    assert opt.summary["objective"] == pytest.approx(1_400)
    alts = plan_alternatives(district, opt)
    for p in alts.plans:
        check_plan_invariants(p, DEMAND)
        costs_sum_to_objective(p)  # the reported costs of an alternative sum to its objective (its cost)
        assert p.summary["objective"] <= (1 + slack) * 1_400 * (1 + 1e-9)
    return opt, alts


def test_equal_cost_ways_are_all_found_and_then_it_stops(tmp_path):
    opt, alts = solved_alternatives(three_ways(tmp_path), n=4, slack=0.0)
    ways = [way(opt)] + [way(p) for p in alts.plans]
    assert sorted(ways) == ["C1", "C2", "SA"]  # each of the three equal-cost plans exactly once
    assert [p.summary["objective"] for p in alts.plans] == pytest.approx([1_400, 1_400])
    assert len(alts.notes) == 1 and "found 2 of 4" in alts.notes[0]


@pytest.mark.parametrize(("slack", "expected"), [(0.0, ["C1", "SA"]), (0.2, ["C1", "SA"]), (0.25, ["C1", "C2", "SA"])])
def test_slack_decides_which_dearer_plans_qualify(tmp_path, slack, expected):
    # C2 costs 1,300 to open: its plan costs 1,700 = 1,400 x 1.214..., inside a 25 % slack, outside 20 %.
    opt, alts = solved_alternatives(three_ways(tmp_path, c2_cost=1_300.0), n=3, slack=slack)
    ways = [way(opt)] + [way(p) for p in alts.plans]
    assert sorted(ways) == expected
    figures, diff = alternative_tables(alts)
    assert list(figures["plan"]) == ["optimal"] + [f"alt-{i + 1}" for i in range(len(alts.plans))]
    assert figures["over_optimum"].iloc[0] == 0
    if "C2" in ways:
        assert figures["objective"].max() == pytest.approx(1_700)
    # the differences table names every decision some plan takes and another does not
    assert sorted(diff["school_id"]) == expected


def test_which_school_closes(tmp_path):
    # Two one-room schools side by side, 40 pupils: keeping both open costs 10,000 a year more. Closing SA
    # or SB is equally good (2 years x 10,000 + 2 classes x 100 = 20,200): the alternative closes the other.
    # (Re-opening is off: with it, closing SA in 2026 and SB in 2027 would cost the same and be a third plan.)
    schools = [dict(school_id=s, zone_id="A", classrooms=1, max_classrooms=1, x_km=0, y_km=0, can_close="true") for s in ("SA", "SB")]
    d = load_district(write_district(tmp_path, [("A", 0, 0)], schools, {"SA": 20, "SB": 20}))
    dem = p1_demand({"A": [40, 40]})
    opt = plan_district(d, dem, hand_settings(strategy="direct", cost_per_school_year=10_000.0, allow_reopening=False))
    assert opt.summary["objective"] == pytest.approx(20_200)
    alts = plan_alternatives(d, opt, n=2, slack=0.0)
    assert len(alts.plans) == 1
    closed = [set(board_decisions(p.tables).query("decision == 'closed'")["school_id"]) for p in (opt, alts.plans[0])]
    assert sorted(map(sorted, closed)) == [["SA"], ["SB"]]
    check_plan_invariants(alts.plans[0], dem)


def test_nothing_to_avoid_gives_a_note_not_a_copy(tmp_path):
    d = three_ways(tmp_path)
    opt = plan_district(d, p1_demand({"A": [40, 40]}), hand_settings(**FAST))
    alts = plan_alternatives(d, opt, n=2, slack=0.5)
    assert alts.plans == [] and "nothing" in alts.notes[0]


def test_a_run_writes_compares_and_reports_the_alternatives(tmp_path):
    import pandas as pd

    from capacity.compare import load_run, plan_choices
    from capacity.run import run_scenario
    from capacity.scenario import load_scenario

    folder = tmp_path / "district"
    three_ways(folder)
    pd.DataFrame([(y, "SA", "P1", 80) for y in (2023, 2024, 2025)], columns=["year", "school_id", "grade", "pupils"]).to_csv(
        folder / "enrolment.csv", index=False
    )
    pd.DataFrame([(y, "A", 80) for y in range(2010, 2026)], columns=["year", "zone_id", "births"]).to_csv(
        folder / "births.csv", index=False
    )
    sc = tmp_path / "alt.yaml"
    sc.write_text(
        "district: district\nhorizon: 2\nprojection: {method: mean, window: 2, draws: 40}\n"
        "standards: {cost_per_classroom: {kindergarten: 1000.0, primary: 1000.0, junior: 1000.0, senior: 1000.0}}\n"
        "plan: {alternatives: 3, alternatives_slack: 0.0, new_school_lead_years: 0, strategy: direct, mip_gap: 0.0, "
        "cost_per_school_year: 0.0, cost_per_pupil_km_year: 0.0, cost_per_moved_pupil_year: 0.0, new_school_fixed_cost: 0.0}\n",
        encoding="utf-8",
    )
    out = tmp_path / "run"
    r = run_scenario(load_scenario(sc), out)
    n = len(r.alternatives.plans)
    assert n >= 1
    for i in range(1, n + 1):
        assert (out / "plan" / "alternatives" / f"alt-{i}" / "builds.csv").exists()
        assert (out / "plan" / "alternatives" / f"alt-{i}" / "summary.json").exists()
    figures = pd.read_csv(out / "plan" / "alternatives" / "alternatives.csv")
    assert list(figures["plan"]) == ["optimal"] + [f"alt-{i}" for i in range(1, n + 1)]
    assert (figures["objective"] <= figures["objective"].iloc[0] * (1 + 1e-9)).all()  # slack 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="alternatives"' in page and "Where the plans differ" in page
    choices = plan_choices([load_run(out)])
    assert len(choices["alternatives"]) == n + 1 and len(choices["alternative_differences"]) >= 2
    # capacity compare sets them side by side (html and workbook)
    import subprocess
    import sys

    cmp = subprocess.run(
        [sys.executable, "-m", "capacity", "compare", str(out), "--out", str(tmp_path / "cmp")], capture_output=True, text=True, timeout=300
    )
    assert cmp.returncode == 0, cmp.stderr
    html = (tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8")
    assert 'id="alternatives"' in html and 'id="alternative-differences"' in html
    from openpyxl import load_workbook

    assert {"alternatives", "alternative_differences"} <= set(load_workbook(tmp_path / "cmp" / "compare.xlsx").sheetnames)


def test_alternatives_page_equations_are_current():
    from capacity.plan.equations import ALT_PAGE, render_alternatives

    page = ALT_PAGE.read_text(encoding="utf-8")
    assert render_alternatives(page) == page, "docs/plan-alternatives.md is stale: run python -m capacity.plan.equations"


def test_fractional_class_search_then_whole_classes(tmp_path):
    # The fallback used when the whole-class search stops at its limit without a new plan: search with
    # fractional classes, then complete the decisions with whole classes. Avoiding the optimal plan's way
    # on the three-ways district must give one of the two other ways, at the same cost.
    import pulp

    from capacity.plan.alternatives import (
        _relaxed_search_model,
        _search_relaxed_then_complete,
        board_features,
        feature_values,
        overlap_objective,
    )
    from capacity.plan.model import build

    d = three_ways(tmp_path)
    opt = plan_district(d, DEMAND, hand_settings(**FAST))
    m = build(opt.data, opt.settings)
    cost = m.problem.objective
    m.problem += cost <= 1_400.001
    features = board_features(m)
    avoid = {("open" if way(opt) != "SA" else "build", way(opt)): 1}
    m.problem.setObjective(overlap_objective(features, avoid))
    rep = _search_relaxed_then_complete(m, _relaxed_search_model(opt, 0.0, 0.0), opt.settings, avoid, cost)
    assert rep is not None and rep.objective == pytest.approx(0)
    vals = feature_values(features)
    assert vals[next(iter(avoid))] == 0 and sum(vals.values()) == pytest.approx(1)
    assert pulp.value(cost) == pytest.approx(1_400)


def test_no_alternative_seats_fewer_pupils(tmp_path):
    # 400 pupils a year against at most 180 seats (SA extended, C1 and C2 open): 440 pupil-years unseated at
    # best, 440e6 of the objective. A 25 % slack on the whole objective would let a plan skip C2 (90 more
    # pupil-years); the slack applies to the cost without the penalty, and no alternative seats fewer
    # pupils, so the only plan is the optimal one.
    d = three_ways(tmp_path)
    dem = p1_demand({"A": [400, 400]})
    opt = plan_district(d, dem, hand_settings(**FAST))
    assert opt.summary["unmet_pupil_years"] == pytest.approx(440)
    alts = plan_alternatives(d, opt, n=2, slack=0.25)
    assert alts.plans == [] and "repeats" in alts.notes[0]
    assert alts.cost_limit == pytest.approx(440e6 + 1.25 * (opt.summary["objective"] - 440e6))
