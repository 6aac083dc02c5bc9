"""The cohort model on real public data (marker: validation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from adapters import write_ecasd_district, write_nyc_district
from conftest import validation_dir

from capacity.data import load_district
from capacity.grades import US
from capacity.projection import ProjectionSettings, backtest_errors, error_metrics, history_from_district
from capacity.projection.model import point_path
from capacity.projection.ratios import fit

pytestmark = pytest.mark.validation

ECASD_SETTINGS = ProjectionSettings(window=3, method="mean", entry_offsets={"K": 5}, pooled_grades=())
K5 = slice(US.grade_index["K"], US.grade_index["5"] + 1)  # K..5 in the US grade axis (PK first)


@pytest.fixture(scope="module")
def ecasd(tmp_path_factory):
    folder = write_ecasd_district(validation_dir("enrolment/ecasd"), tmp_path_factory.mktemp("ecasd"))
    return history_from_district(load_district(folder))


def test_ecasd_loads_through_the_input_format_in_us_grades(ecasd):
    assert ecasd.years == tuple(range(1998, 2025))
    assert ecasd.birth_years == tuple(range(1995, 2020))
    # upstream figures: district K 2012 = 824, grade 3 2013 = 730
    assert ecasd.pupils[0, US.grade_index["K"], 2012 - 1998] == 824
    assert ecasd.pupils[0, US.grade_index["3"], 2013 - 1998] == 730
    assert ecasd.pupils[0, US.grade_index["PK"]].sum() == 0  # ECASD teaches no pre-K


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


@pytest.fixture(scope="module")
def nyc_district(tmp_path_factory):
    return load_district(write_nyc_district(validation_dir("enrolment/nyc"), tmp_path_factory.mktemp("nyc")))


def test_nyc_loads_through_the_input_format_in_us_grades_without_births(nyc_district):
    d = nyc_district
    assert d.grades.name == "us" and d.births.empty
    h = history_from_district(d)
    assert h.years == tuple(range(2005, 2012))
    # the source's district 2 total of 2005-06, PK..12, to the pupil
    src = pd.read_csv(validation_dir("enrolment/nyc") / "nyc_district_grade_year.csv")
    want = src[(src.district == 2) & (src.fall_year == 2005)]["students"].sum()
    assert h.pupils[h.zones.index("D02"), :, 0].sum() == want
    assert h.pupils[:, US.grade_index["9"], :].sum() > h.pupils[:, US.grade_index["8"], :].sum()  # the grade-9 bump is kept


def test_nyc_backtest_2005_2011_runs_and_errors_are_sane(nyc_district):
    h = history_from_district(nyc_district)
    assert h.years == tuple(range(2005, 2012))
    s = ProjectionSettings(window=2, entry_offsets={"PK": None, "K": None}, pooled_grades=())
    m = error_metrics(backtest_errors(h, s, methods=("mean", "persistence")), "zone")
    mean = m[m.method == "mean"].set_index("lead")
    assert len(h.zones) == 32
    # district totals of NYC within a few percent at lead 1; errors grow with lead
    assert mean.loc["1", "mape"] < 5
    assert mean.loc["1", "mape"] <= mean.loc["4", "mape"]
