"""A real series with a missing school year, through the public format (marker: validation).

The issue's case: a city's district series with one school year missing used to be refused
("expected an unbroken run of years"). ECASD with 2010 removed must give the same origin-2014
back-test as the unbroken series (its ratio window, 2011-2014, never touches the gap), and NYC
2005-2013 as the source holds it (2012-13 missing) loads with a note, keeps 2012 out of every
ratio and projects on from 2013.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from adapters import write_ecasd_district, write_nyc_district
from conftest import validation_dir

from capacity.data import load_district
from capacity.grades import US
from capacity.notes import collecting
from capacity.projection import ProjectionSettings, history_from_district, project_district
from capacity.projection.model import point_path
from capacity.projection.ratios import fit
from capacity.standards import settings_for_system

pytestmark = pytest.mark.validation

K5 = slice(US.grade_index["K"], US.grade_index["5"] + 1)


def _drop_year(folder, year: int) -> None:
    e = pd.read_csv(folder / "enrolment.csv", dtype={"grade": str})
    e[e["year"] != year].to_csv(folder / "enrolment.csv", index=False)


def test_ecasd_without_2010_gives_the_unbroken_origin_2014_errors(tmp_path):
    full = history_from_district(load_district(write_ecasd_district(validation_dir("enrolment/ecasd"), tmp_path / "full")))
    folder = write_ecasd_district(validation_dir("enrolment/ecasd"), tmp_path / "gap")
    _drop_year(folder, 2010)
    with collecting() as notes:
        gap = history_from_district(load_district(folder))
    assert gap.missing_years == (2010,)
    assert any("2010" in n for n in notes), notes
    s = ProjectionSettings(window=3, method="mean", entry_offsets={"K": 5}, pooled_grades=())
    paths = [point_path(h.up_to(2014), fit(h.up_to(2014), s, "mean"), s, 5)[0, K5, :].sum(0) for h in (full, gap)]
    np.testing.assert_allclose(paths[1], paths[0], rtol=1e-12)
    actual = full.pupils[0, K5, 2015 - 1998 : 2020 - 1998].sum(0)
    np.testing.assert_allclose((paths[1] / actual - 1) * 100, [-0.6, -1.7, -1.3, -0.9, 1.2], atol=0.2)


def test_nyc_series_with_2012_missing_loads_and_projects_through_the_gap(tmp_path):
    folder = write_nyc_district(validation_dir("enrolment/nyc"), tmp_path / "nyc", last_year=2013)
    with collecting() as notes:
        district = load_district(folder)
        h = history_from_district(district)
    assert h.missing_years == (2012,)
    assert h.years[-1] == 2013
    assert any("2012" in n for n in notes), notes
    given = dict(window=2, method="mean", horizon=2, draws=50, entry_rule={"PK": "held", "K": "held"}, pooled_grades=())
    s = settings_for_system(ProjectionSettings, district.grades, given)
    county = project_district(district, s).aggregate("county")
    assert sorted(county["year"].unique()) == [2014, 2015]
    # one year on from 2013 the city total moves by a few percent at most
    last_total = h.pupils[:, :, -1].sum()
    path = point_path(h, fit(h, s, "mean"), s, 2)
    assert abs(path[:, :, 0].sum() / last_total - 1) < 0.05
