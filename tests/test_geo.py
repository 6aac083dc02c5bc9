"""Geography: lon/lat coordinates converted to km (checked against geodesic distances), zones and
schools read from GeoPackage/GeoJSON, bad GIS input refused, results written as GIS layers."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import CRS, Geod, Transformer

from capacity.data import EXAMPLE_PATH, load_district
from capacity.data.coords import aeqd_error_bound
from capacity.errors import InputError

CENTRE = (113.3, 23.1)  # lon, lat: a county in Guangdong


def km_to_lonlat(x_km, y_km, centre=CENTRE):
    """Inverse of the loader's grid (azimuthal equidistant at ``centre``): degrees of km points."""
    aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={centre[1]} +lon_0={centre[0]} +datum=WGS84 +units=km +no_defs")
    t = Transformer.from_crs(aeqd, CRS.from_epsg(4326), always_xy=True)
    return t.transform(np.asarray(x_km, float), np.asarray(y_km, float))


def lonlat_copy(tmp_path: Path, centre=CENTRE) -> Path:
    """The example county with lon/lat in place of x_km/y_km (the km grid laid around ``centre``)."""
    d = tmp_path / "lonlat"
    shutil.copytree(EXAMPLE_PATH, d)
    for name in ("zones", "schools"):
        f = pd.read_csv(d / f"{name}.csv", dtype=str, keep_default_na=False)
        lon, lat = km_to_lonlat(f["x_km"].astype(float) - 30, f["y_km"].astype(float) - 30, centre)
        f = f.drop(columns=["x_km", "y_km"]).assign(lon=[f"{v:.7f}" for v in lon], lat=[f"{v:.7f}" for v in lat])
        f.to_csv(d / f"{name}.csv", index=False, lineterminator="\n")
    return d


def pairwise(x, y):
    return np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])


def all_points(district):
    pts = pd.concat([district.zones, district.schools])
    return pts["lon"].to_numpy(), pts["lat"].to_numpy(), pts["x_km"].to_numpy(), pts["y_km"].to_numpy()


@pytest.mark.parametrize("centre", [CENTRE, (-91.5, 44.8), (25.0, 65.0), (-70.6, -33.4)])
def test_lonlat_distances_match_geodesics_within_the_stated_bound(tmp_path, centre):
    """Every zone/school pair: planar km from lon/lat vs the WGS 84 geodesic (Karney, pyproj.Geod)."""
    district = load_district(lonlat_copy(tmp_path, centre))
    lon, lat, x, y = all_points(district)
    planar = pairwise(x, y)
    i, j = np.triu_indices(len(x), 1)
    _, _, metres = Geod(ellps="WGS84").inv(lon[i], lat[i], lon[j], lat[j])
    geodesic = np.asarray(metres) / 1000
    error = np.abs(planar[i, j] - geodesic)
    r_max = np.hypot(x, y).max()
    assert 20 < r_max < 100
    allowed = aeqd_error_bound(r_max) * geodesic + 2e-6  # + 1 mm rounding of each coordinate
    assert (error <= allowed).all(), (error / np.maximum(geodesic, 1e-9)).max()
    # the bound is not loose: the worst pair uses more than a tenth of it
    assert (error / allowed).max() > 0.1
    # and the grid is the example's grid (km distances kept to 0.01 %)
    orig = load_district()
    ox = np.concatenate([orig.zones["x_km"], orig.schools["x_km"]])
    oy = np.concatenate([orig.zones["y_km"], orig.schools["y_km"]])
    assert np.allclose(planar, pairwise(ox, oy), rtol=1e-4, atol=1e-3)


def test_one_degree_of_latitude_is_its_meridian_arc(tmp_path):
    """Closed form: 1 degree of latitude centred on 45 N is 111.132 km on WGS 84."""
    d = lonlat_copy(tmp_path)
    z = pd.read_csv(d / "zones.csv", dtype=str, keep_default_na=False)
    s = pd.read_csv(d / "schools.csv", dtype=str, keep_default_na=False)
    z.loc[:, ["lon", "lat"]] = ["10.0", "44.5"]
    s.loc[:, ["lon", "lat"]] = ["10.0", "45.5"]
    z.to_csv(d / "zones.csv", index=False)
    s.to_csv(d / "schools.csv", index=False)
    district = load_district(d)
    dy = district.schools["y_km"].iloc[0] - district.zones["y_km"].iloc[0]
    assert dy == pytest.approx(111.132, abs=0.001)
    assert district.schools["x_km"].iloc[0] == pytest.approx(district.zones["x_km"].iloc[0], abs=1e-6)


def test_error_bound_values():
    """The figures the docs quote."""
    assert aeqd_error_bound(50) < 1.5e-5
    assert aeqd_error_bound(200) < 2e-4
    assert aeqd_error_bound(700) < 2.3e-3


def last_year_demand(district) -> pd.DataFrame:
    """Next year's demand = last year's pupils by the zone of their school."""
    e = district.enrolment[district.enrolment["year"] == district.last_year]
    e = e.assign(zone_id=e["school_id"].map(district.schools.set_index("school_id")["zone_id"]), year=district.last_year + 1)
    return e.groupby(["year", "zone_id", "grade"], as_index=False)["pupils"].sum()


def test_lonlat_district_gives_the_plan_the_same_arcs(tmp_path):
    """Same district, coordinates as lon/lat: the plan sees the same reachable arcs and km (to 0.01 %)."""
    from capacity.plan.inputs import prepare
    from capacity.plan.settings import PlanSettings

    orig, ll = load_district(), load_district(lonlat_copy(tmp_path))
    a = prepare(orig, last_year_demand(orig), PlanSettings()).arcs
    b = prepare(ll, last_year_demand(ll), PlanSettings()).arcs
    assert len(a) > 100
    pd.testing.assert_frame_equal(a.drop(columns="km"), b.drop(columns="km"))
    assert np.allclose(a["km"], b["km"], rtol=1e-4, atol=1e-3)


def problems_of(folder) -> str:
    with pytest.raises(InputError) as e:
        load_district(folder)
    return str(e.value)


def edit(folder: Path, table: str, fn) -> None:
    f = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
    fn(f).to_csv(folder / f"{table}.csv", index=False, lineterminator="\n")


def test_coordinate_column_errors(tmp_path):
    d = lonlat_copy(tmp_path)
    edit(d, "zones", lambda f: f.assign(lat=f["lat"].where(f.index != 1, "")))
    edit(d, "schools", lambda f: f.assign(lon=f["lon"].where(f.index != 0, "200")))
    text = problems_of(d)
    assert "zones.csv, row 3, column 'lat': found a blank cell; expected degrees" in text
    assert "schools.csv, row 2, column 'lon': found '200'; expected a finite number from -180 to 180" in text


def test_mixed_coordinate_pairs_are_refused(tmp_path, district_copy):
    d = lonlat_copy(tmp_path)
    shutil.copy(district_copy / "schools.csv", d / "schools.csv")
    assert "schools.csv, row 1, column 'x_km': found x_km/y_km while zones.csv gives lon/lat" in problems_of(d)


def test_both_pairs_in_one_table_are_refused(tmp_path, district_copy):
    edit(district_copy, "zones", lambda f: f.assign(lon="113.1", lat="23.2"))
    assert "zones.csv, row 1, column 'lon': found both x_km/y_km and lon/lat columns" in problems_of(district_copy)


def test_no_coordinates_are_refused(district_copy):
    edit(district_copy, "schools", lambda f: f.drop(columns=["x_km", "y_km"]))
    assert "schools.csv, row 1, column 'x_km': found no such column; expected columns x_km and y_km" in problems_of(district_copy)


def test_lonlat_district_written_back_reads_back(tmp_path):
    from capacity.data.write import write_csv_folder

    district = load_district(lonlat_copy(tmp_path))
    write_csv_folder(district, tmp_path / "again")
    again = load_district(tmp_path / "again")
    pd.testing.assert_frame_equal(district.zones, again.zones)
    pd.testing.assert_frame_equal(district.schools, again.schools)
    cols = set(pd.read_csv(tmp_path / "again" / "zones.csv").columns)
    assert {"lon", "lat"} <= cols and not {"x_km", "y_km"} & cols


def test_district_across_the_180th_meridian(tmp_path):
    """Fiji's Taveuni (179.9 E) and Lau (-179.9 W) are 20 km apart, not 40,000 km."""
    from capacity.data.coords import district_centre

    assert district_centre(np.array([179.9, -179.9]), np.array([-16.8, -16.8])) == (180.0, -16.8)
    d = lonlat_copy(tmp_path, centre=(179.95, -16.8))
    district = load_district(d)
    _, _, x, y = all_points(district)
    assert np.hypot(x, y).max() < 100
