"""The cohort model on real public data (marker: validation)."""

from __future__ import annotations

import numpy as np
import pytest
from adapters import nyc_history_frame, write_ecasd_district
from conftest import validation_dir

from capacity.data import load_district
from capacity.projection import ProjectionSettings, backtest_errors, error_metrics, history_from_district, history_from_frames
from capacity.projection.model import point_path
from capacity.projection.ratios import fit

pytestmark = pytest.mark.validation

ECASD_SETTINGS = ProjectionSettings(window=3, method="mean", entry_offsets={"K3": 5}, pooled_grades=())
K5 = slice(2, 8)  # K3..P5 in the 15-grade axis


@pytest.fixture(scope="module")
def ecasd(tmp_path_factory):
    folder = write_ecasd_district(validation_dir("enrolment/ecasd"), tmp_path_factory.mktemp("ecasd"))
    return history_from_district(load_district(folder))


def test_ecasd_loads_through_the_input_format(ecasd):
    assert ecasd.years == tuple(range(1998, 2025))
    assert ecasd.birth_years == tuple(range(1995, 2020))
    # upstream figures: district K 2012 = 824, grade 3 2013 = 730
    assert ecasd.pupils[0, 2, 2012 - 1998] == 824
    assert ecasd.pupils[0, 5, 2013 - 1998] == 730


def test_ecasd_origin_2014_matches_known_errors(ecasd):
    past = ecasd.up_to(2014)
    proj = point_path(past, fit(past, ECASD_SETTINGS, "mean"), ECASD_SETTINGS, 5)
    total_proj = proj[0, K5, :].sum(0)
    total_act = ecasd.pupils[0, K5, 2015 - 1998 : 2020 - 1998].sum(0)
    err = (total_proj / total_act - 1) * 100
    np.testing.assert_allclose(err, [-0.6, -1.7, -1.3, -0.9, 1.2], atol=0.2)


def test_ecasd_cohort_beats_persistence_at_leads_3_to_5(ecasd):
    errs = backtest_errors(ecasd, ECASD_SETTINGS, methods=("mean", "persistence"), last_target=2019)
    m = error_metrics(errs, "total", by_bucket=False).set_index(["method", "lead"])["mape"]
    for lead in ("3", "4", "5"):
        assert m[("mean", lead)] < m[("persistence", lead)], (lead, m[("mean", lead)], m[("persistence", lead)])


def test_ecasd_one_mape_recomputed_by_hand(ecasd):
    errs = backtest_errors(ecasd, ECASD_SETTINGS, methods=("persistence",), last_target=2019)
    m = error_metrics(errs, "total", by_bucket=False).set_index(["method", "lead"])["mape"]
    total = ecasd.pupils[0].sum(0)  # all grades, by year
    yr = {y: total[y - 1998] for y in ecasd.years}
    origins = range(1998 + 3, 2019)  # window 3 -> first origin 2001; last target 2019
    by_hand = np.mean([abs(yr[o] - yr[o + 2]) / yr[o + 2] * 100 for o in origins if o + 2 <= 2019])
    assert m[("persistence", "2")] == pytest.approx(by_hand, rel=1e-12)


def test_nyc_backtest_2005_2011_runs_and_errors_are_sane():
    h = history_from_frames(nyc_history_frame(validation_dir("enrolment/nyc")))
    assert h.years == tuple(range(2005, 2012))
    s = ProjectionSettings(window=2, entry_offsets={"K2": None, "K3": None}, pooled_grades=())
    m = error_metrics(backtest_errors(h, s, methods=("mean", "persistence")), "zone")
    mean = m[m.method == "mean"].set_index("lead")
    assert len(h.zones) == 32
    # district totals of NYC within a few percent at lead 1; errors grow with lead
    assert mean.loc["1", "mape"] < 5
    assert mean.loc["1", "mape"] <= mean.loc["4", "mape"]
