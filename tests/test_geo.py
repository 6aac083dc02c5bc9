"""Geography: lon/lat coordinates converted to km (checked against geodesic distances), zones and
schools read from GeoPackage/GeoJSON, bad GIS input refused, results written as GIS layers."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import CRS, Geod, Transformer

from capacity.data import EXAMPLE_PATH, load_district
from capacity.data.coords import aeqd_error_bound
from capacity.errors import InputError, OutputError

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


def square_km(x, y, half=2.0):
    return [(x - half, y - half), (x + half, y - half), (x + half, y + half), (x - half, y + half)]


def gis_copy(tmp_path: Path, zones_as="gpkg", schools_as="geojson", shape=square_km) -> Path:
    """The example county with zones as polygons (squares of 4 km around each centre, made on the
    km grid and laid around CENTRE) and schools as points, in GIS files instead of CSVs."""
    import geopandas as gpd
    from shapely.geometry import Point, Polygon

    d = tmp_path / "gis"
    shutil.copytree(EXAMPLE_PATH, d)
    z = pd.read_csv(d / "zones.csv", dtype={"zone_id": str})
    s = pd.read_csv(d / "schools.csv", dtype={"school_id": str, "zone_id": str})
    polys = []
    for x, y in zip(z["x_km"] - 30, z["y_km"] - 30, strict=True):
        lon, lat = km_to_lonlat(*zip(*shape(x, y), strict=True))
        polys.append(Polygon(zip(lon, lat, strict=True)))
    lon, lat = km_to_lonlat(s["x_km"] - 30, s["y_km"] - 30)
    zg = gpd.GeoDataFrame(z.drop(columns=["x_km", "y_km"]), geometry=polys, crs=4326)
    sg = gpd.GeoDataFrame(s.drop(columns=["x_km", "y_km"]), geometry=[Point(a, b) for a, b in zip(lon, lat, strict=True)], crs=4326)
    (d / "zones.csv").unlink()
    (d / "schools.csv").unlink()
    zg.to_file(d / f"zones.{zones_as}", engine="pyogrio")
    sg.to_file(d / f"schools.{schools_as}", engine="pyogrio")
    return d


@pytest.mark.parametrize("zones_as,schools_as", [("gpkg", "geojson"), ("geojson", "gpkg")])
def test_gis_files_read_like_the_csvs(tmp_path, zones_as, schools_as):
    """Zones from polygons (centre = centroid) and schools from points land on the km grid of the
    example (same pairwise km to 0.01 %), with every attribute as in the CSVs."""
    district = load_district(gis_copy(tmp_path, zones_as, schools_as))
    orig = load_district()
    for name in ("zones", "schools"):
        a, b = getattr(orig, name), getattr(district, name)
        pd.testing.assert_frame_equal(a.drop(columns=["x_km", "y_km", "lon", "lat"]), b.drop(columns=["x_km", "y_km", "lon", "lat"]))
    ox = np.concatenate([orig.zones["x_km"], orig.schools["x_km"]])
    oy = np.concatenate([orig.zones["y_km"], orig.schools["y_km"]])
    _, _, x, y = all_points(district)
    assert np.allclose(pairwise(x, y), pairwise(ox, oy), rtol=1e-4, atol=2e-3)
    assert set(district.zone_shapes) == set(orig.zones["zone_id"])
    assert any(k.endswith((".gpkg", ".geojson")) for k in district.file_hashes)


def u_shape(x, y):
    """A U open to the north, 6 km wide: its centroid (x, y + 0.6) lies in the gap of the U."""
    return [(x - 3, y - 1), (x + 3, y - 1), (x + 3, y + 3), (x + 1, y + 3), (x + 1, y + 1), (x - 1, y + 1), (x - 1, y + 3), (x - 3, y + 3)]


def test_u_shaped_zone_centre_lies_inside_it(tmp_path):
    import shapely

    district = load_district(gis_copy(tmp_path, shape=u_shape))
    orig = load_district()
    for zid, wkb in district.zone_shapes.items():
        z = district.zones.set_index("zone_id")
        assert shapely.from_wkb(wkb).contains(shapely.Point(z.at[zid, "lon"], z.at[zid, "lat"]))
    # the centre moved off the centroid, into the arms' base (y between -1 and +1 km of the old centre)
    dy = district.zones["y_km"] - district.zones["y_km"].mean() - (orig.zones["y_km"] - orig.zones["y_km"].mean())
    assert dy.abs().max() < 1.5


def test_zone_layer_with_its_own_centre_keeps_it(tmp_path):
    """A population-weighted centre given as lon/lat attributes wins over the polygon's centroid."""
    import geopandas as gpd

    d = gis_copy(tmp_path)
    z = gpd.read_file(d / "zones.gpkg")
    z["lon"], z["lat"] = 113.0, 23.0
    z.loc[0, "lon"] = 113.1
    z.to_file(d / "zones.gpkg", engine="pyogrio")
    district = load_district(d)
    lon = district.zones.set_index("zone_id")["lon"]
    assert lon[z.loc[0, "zone_id"]] == pytest.approx(113.1)
    assert lon.drop(z.loc[0, "zone_id"]).eq(113.0).all() and district.zones["lat"].eq(23.0).all()


def rewrite_layer(path: Path, fn, **kw) -> None:
    import geopandas as gpd

    g = fn(gpd.read_file(path))
    path.unlink()
    g.to_file(path, engine="pyogrio", **kw)


def test_gis_layer_without_crs_is_refused(tmp_path):
    d = gis_copy(tmp_path)
    rewrite_layer(d / "zones.gpkg", lambda g: g.set_crs(None, allow_override=True))
    assert "zones.gpkg[zones]: found no coordinate reference system; expected a layer with a CRS" in problems_of(d)


def test_gis_geometry_errors_name_the_feature(tmp_path):
    from shapely.geometry import Polygon

    d = gis_copy(tmp_path)
    bowtie = Polygon([(113.0, 23.0), (113.1, 23.1), (113.1, 23.0), (113.0, 23.1)])

    def zones(g):
        g.loc[1, "geometry"] = bowtie
        g.loc[2, "geometry"] = None
        return g

    def schools(g):
        g.loc[0, "geometry"] = bowtie.buffer(0)  # a valid Polygon where a Point belongs
        return g

    rewrite_layer(d / "zones.gpkg", zones)
    rewrite_layer(d / "schools.geojson", schools)
    text = problems_of(d)
    assert "zones.gpkg[zones], row 2, column 'geometry': found an invalid Polygon (Self-intersection" in text
    assert "zones.gpkg[zones], row 3, column 'geometry': found an empty geometry; expected a Polygon or MultiPolygon or Point" in text
    assert "schools.geojson, row 1, column 'geometry': found a Polygon; expected a Point" in text


def test_gis_attribute_errors_name_the_feature(tmp_path):
    d = gis_copy(tmp_path)
    rewrite_layer(d / "schools.geojson", lambda g: g.assign(max_classrooms=g["max_classrooms"].where(g.index != 4, -3)))
    assert "schools.geojson, row 5, column 'max_classrooms': found '-3'; expected a whole number from 0 to 1000" in problems_of(d)


def test_both_csv_and_gis_file_are_refused(tmp_path):
    d = gis_copy(tmp_path)
    shutil.copy(EXAMPLE_PATH / "zones.csv", d / "zones.csv")
    assert "found the files zones.csv and zones.gpkg; expected one file for the table 'zones'" in problems_of(d)


def test_geopackage_with_several_layers_needs_one_named_for_the_table(tmp_path):
    import geopandas as gpd

    d = gis_copy(tmp_path)
    g = gpd.read_file(d / "zones.gpkg")
    (d / "zones.gpkg").unlink()
    g.to_file(d / "zones.gpkg", layer="a", engine="pyogrio")
    g.to_file(d / "zones.gpkg", layer="b", engine="pyogrio")
    assert "zones.gpkg: found layers a, b; expected one layer, or a layer named 'zones'" in problems_of(d)
    g.to_file(d / "zones.gpkg", layer="zones", engine="pyogrio")
    assert len(load_district(d).zones) == len(g)


def test_unreadable_gis_file_is_refused(tmp_path):
    d = gis_copy(tmp_path)
    (d / "schools.geojson").write_text("{not json", encoding="utf-8")
    assert "schools.geojson: found a file GDAL cannot open" in problems_of(d)


def run_cli(args: list[str]) -> int:
    from capacity.cli import main

    with pytest.raises(SystemExit) as e:
        main(args)
        raise SystemExit(0)
    return int(e.value.code or 0)


def test_run_writes_gis_layers_byte_stable_and_safely(tmp_path):
    """A run on the GIS district writes gis/capacity.gpkg (+ GeoJSON): zone polygons carrying the
    gap's zone rows, school points; the same bytes written again from the run's gap table; listed in the output marker; a file the
    tool did not write in gis/ stops the next run."""
    import geopandas as gpd
    import pyogrio

    d = gis_copy(tmp_path)
    sc = tmp_path / "s.yaml"
    sc.write_text(f"district: {d}\nrun_plan: false\nhorizon: 2\nprojection: {{draws: 20}}\nreport:\n  gis_formats: [gpkg, geojson]\n")
    assert run_cli(["run", str(sc), "--out", str(tmp_path / "a")]) == 0
    a = tmp_path / "a" / "gis"
    assert sorted(p.name for p in a.iterdir()) == ["capacity.gpkg", "schools_status.geojson", "zones_gap.geojson"]
    assert [tuple(x) for x in pyogrio.list_layers(a / "capacity.gpkg")] == [("zones_gap", "Polygon"), ("schools_status", "Point")]
    zg = gpd.read_file(a / "capacity.gpkg", layer="zones_gap")
    assert zg.crs.to_epsg() == 4326
    gap = pd.read_csv(tmp_path / "a" / "gap" / "gap.csv", dtype={"area": str})
    zone_rows = gap[gap["level"] == "zone"].rename(columns={"area": "zone_id"}).drop(columns="level")
    merged = zg.merge(zone_rows, on=["zone_id", "stage", "year"], suffixes=("", "_csv"))
    assert len(merged) == len(zone_rows) == len(zg)
    assert (merged["gap"] == merged["gap_csv"]).all() and (merged["demand"] == merged["demand_csv"]).all()  # the same whole figures
    shapes = load_district(d).zone_shapes
    import shapely

    for zid, g in zip(zg["zone_id"], zg.geometry, strict=True):
        assert g.equals_exact(shapely.from_wkb(shapes[zid]), tolerance=1e-9)
    ss = gpd.read_file(a / "capacity.gpkg", layer="schools_status")
    assert len(ss) == len(load_district(d).schools) and set(ss.geom_type) == {"Point"}
    import json

    assert "gis/capacity.gpkg" in json.loads((tmp_path / "a" / ".capacity-output").read_text())["files"]
    # same bytes when written again (fixed GeoPackage timestamps, sorted features)
    from capacity.report.gis import write_gis

    gap["area"] = gap["area"].astype(str)
    time.sleep(0.01)
    write_gis(load_district(d), gap, None, tmp_path / "again", ("gpkg", "geojson"))
    for f in a.iterdir():
        assert f.read_bytes() == (tmp_path / "again" / f.name).read_bytes(), f.name
    (a / "mine.qgz").write_text("a planner's QGIS project")
    assert run_cli(["run", str(sc), "--out", str(tmp_path / "a")]) == 2
    assert (a / "mine.qgz").read_text() == "a planner's QGIS project"


def test_plan_layers_show_whole_zones_going_to_their_school(tmp_path):
    """The two-zone zone_whole plan (tests/test_pmedian.py) on lon/lat: assignment lines run from
    each zone's centre to sv002, schools_status says which site opened."""
    import geopandas as gpd
    import shapely
    from test_pmedian import siting_settings, two_zone_district

    from capacity.plan import plan_district
    from capacity.report.gis import write_gis

    folder = two_zone_district(tmp_path)
    for name, pts in (("zones", [(113.30, 23.10), (113.34, 23.10)]), ("schools", [(113.30, 23.10), (113.34, 23.10)])):
        edit(folder, name, lambda f, pts=pts: f.drop(columns=["x_km", "y_km"]).assign(lon=[p[0] for p in pts], lat=[p[1] for p in pts]))
    district = load_district(folder)
    plan = plan_district(district, district.demand, siting_settings(zone_whole=True, open_exactly=1))
    no_gap = pd.DataFrame(columns=["year", "level", "area", "name", "stage", "demand", "seats", "gap"])  # no history: no projection
    write_gis(district, no_gap, plan.tables, tmp_path / "gis")
    a = gpd.read_file(tmp_path / "gis" / "capacity.gpkg", layer="assignments")
    assert list(a["zone_id"]) == ["v001", "v002"] and set(a["school_id"]) == {"sv002"}
    assert list(a["pupils"]) == pytest.approx([15.0, 5.0])
    assert a.geometry.iloc[0].equals_exact(shapely.LineString([(113.30, 23.10), (113.34, 23.10)]), tolerance=1e-9)
    s = gpd.read_file(tmp_path / "gis" / "capacity.gpkg", layer="schools_status").set_index("school_id")
    assert s.at["sv002", "status"] == "new" and s.at["sv001", "status"] == "not opened"


def test_km_grid_district_writes_layers_without_crs(tmp_path, example):
    from capacity.gap import gap_report
    from capacity.notes import collecting
    from capacity.projection import project_district
    from capacity.projection.settings import ProjectionSettings
    from capacity.report.gis import write_gis

    gap = gap_report(example, project_district(example, ProjectionSettings(horizon=1, draws=10))).gap
    with collecting() as notes:
        files = write_gis(example, gap, None, tmp_path / "gis", ("gpkg", "geojson"))
    assert [f.name for f in files] == ["capacity.gpkg"]
    assert any("without a CRS" in n for n in notes) and any("GeoJSON layers not written" in n for n in notes)
    before = files[0].read_bytes()
    with pytest.raises(OutputError, match="found capacity.gpkg already there"):
        write_gis(example, gap, None, tmp_path / "gis")
    assert files[0].read_bytes() == before
    import geopandas as gpd

    s = gpd.read_file(tmp_path / "gis" / "capacity.gpkg", layer="schools_status")
    assert s.crs is None
    z = gpd.read_file(tmp_path / "gis" / "capacity.gpkg", layer="zones_gap")
    assert set(z.geom_type) == {"Point"} and len(z) == (gap["level"] == "zone").sum()  # no polygons given: zone centres
    first = example.schools.sort_values("school_id").iloc[0]
    assert (s.geometry.iloc[0].x, s.geometry.iloc[0].y) == pytest.approx((first["x_km"] * 1000, first["y_km"] * 1000))


def test_multipolygon_zone_centre_and_output(tmp_path):
    """A zone of two islands 6 km apart: its centroid lies in the sea between them, so the centre is
    a point on one island; the output layer keeps the MultiPolygon beside the other Polygons."""
    import geopandas as gpd
    import shapely
    from shapely.geometry import MultiPolygon, Polygon

    from capacity.report.gis import write_gis

    d = gis_copy(tmp_path)
    z = gpd.read_file(d / "zones.gpkg")
    c = z.geometry.iloc[0].centroid
    islands = MultiPolygon([Polygon(shapely.affinity.translate(z.geometry.iloc[0], dx, 0).exterior) for dx in (-0.03, 0.03)])
    z.loc[0, "geometry"] = islands
    (d / "zones.gpkg").unlink()
    z.to_file(d / "zones.gpkg", engine="pyogrio")
    district = load_district(d)
    zid = z.loc[0, "zone_id"]
    row = district.zones.set_index("zone_id").loc[zid]
    assert islands.contains(shapely.Point(row["lon"], row["lat"])) and not islands.contains(c)
    gap = pd.DataFrame({"year": 2026, "level": "zone", "area": district.zones["zone_id"], "stage": "primary", "gap": 0.0})
    write_gis(district, gap, None, tmp_path / "gis")
    out = gpd.read_file(tmp_path / "gis" / "capacity.gpkg", layer="zones_gap").set_index("zone_id")
    assert out.geometry[zid].equals_exact(islands, tolerance=1e-9)
    assert len(out) == len(district.zones)


def test_gis_file_linked_from_outside_the_folder_is_refused(tmp_path):
    d = gis_copy(tmp_path)
    outside = tmp_path / "elsewhere.geojson"
    (d / "schools.geojson").rename(outside)
    (d / "schools.geojson").symlink_to(outside)
    assert "schools.geojson: found a link to" in problems_of(d) and "outside the district folder" in problems_of(d)


def test_us_district_from_lonlat_and_gis_writes_layers_by_its_own_stages(tmp_path):
    """A small US-system district (tests/test_grade_systems.py) given as a zones.geojson of polygons
    and lon/lat school points near Eau Claire, WI, run end to end: the loader keeps the US system and
    the km grid; every GIS layer carries the district's own stages and grades (no Chinese ones), the
    zone rows match gap.csv, and the assignment lines carry the plan's pupils."""
    import geopandas as gpd
    import shapely
    from shapely.geometry import Polygon
    from test_grade_systems import PER_ZONE, US_SCHOOLS, write_district

    from capacity.grades import CHINA, US

    d = write_district(tmp_path / "us", US, US_SCHOOLS, "us")
    centre = (-91.5, 44.8)
    z = pd.read_csv(d / "zones.csv", dtype=str)
    polys = [
        Polygon(zip(*km_to_lonlat(*zip(*square_km(float(x), float(y), 0.9), strict=True), centre), strict=True))
        for x, y in zip(z["x_km"], z["y_km"], strict=True)
    ]
    gpd.GeoDataFrame(z.drop(columns=["x_km", "y_km"]), geometry=polys, crs=4326).to_file(d / "zones.geojson", engine="pyogrio")
    (d / "zones.csv").unlink()
    s = pd.read_csv(d / "schools.csv", dtype=str)
    lon, lat = km_to_lonlat(s["x_km"].astype(float), s["y_km"].astype(float), centre)
    s.drop(columns=["x_km", "y_km"]).assign(lon=[f"{v:.7f}" for v in lon], lat=[f"{v:.7f}" for v in lat]).to_csv(
        d / "schools.csv", index=False
    )

    district = load_district(d)
    assert district.grades is US and set(district.zone_shapes) == {"A", "B"}
    zx = district.zones.set_index("zone_id")["x_km"]
    assert zx["B"] - zx["A"] == pytest.approx(2.0, abs=1e-3)  # the 2 km between the zones survive lon/lat and back

    sc = tmp_path / "us.yaml"
    sc.write_text(
        f"district: {d}\nhorizon: 2\nprojection: {{draws: 20}}\nplan: {{time_limit_s: 30, mip_gap: 0.0}}\nreport:\n  gis_formats: [gpkg, geojson]\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert run_cli(["run", str(sc), "--out", str(out)]) == 0
    gpkg = out / "gis" / "capacity.gpkg"
    zg = gpd.read_file(gpkg, layer="zones_gap")
    gap = pd.read_csv(out / "gap" / "gap.csv", dtype={"area": str})
    zone_rows = gap[gap["level"] == "zone"]
    assert len(zg) == len(zone_rows) and zg.crs.to_epsg() == 4326
    assert set(zg["stage"]) == set(zone_rows["stage"]) and {"elementary", "middle", "high"} <= set(zg["stage"]) <= set(US.stage_names)
    assert not set(zg["stage"]) & set(CHINA.stage_names)
    merged = zg.merge(zone_rows.rename(columns={"area": "zone_id"}), on=["zone_id", "stage", "year"], suffixes=("", "_csv"))
    assert len(merged) == len(zg) and np.allclose(merged["gap"], merged["gap_csv"])
    for zid, g in zip(zg["zone_id"], zg.geometry, strict=True):
        assert g.equals_exact(shapely.from_wkb(district.zone_shapes[zid]), tolerance=1e-9)

    a = gpd.read_file(gpkg, layer="assignments")
    plan_a = pd.read_csv(out / "plan" / "assignment.csv", dtype={"grade": str, "zone_id": str, "school_id": str})
    assert len(a) == len(plan_a) and set(a["grade"]) <= set(US.grades) and not set(a["grade"]) & set(CHINA.grades)
    assert {"K", "5", "6", "9", "12"} <= set(a["grade"])
    assert a.groupby("year")["pupils"].sum().to_dict() == pytest.approx(plan_a.groupby("year")["pupils"].sum().to_dict())
    # features in the district's grade order (K before 1, 9 before 10), not text order
    first = a[(a["year"] == 2026) & (a["zone_id"] == "B")]
    assert list(first["grade"]) == ["K", "1", "2", "3", "4", "5", "9", "10", "11", "12"]
    assert list(zg.loc[zg["zone_id"] == "B", "stage"].drop_duplicates()) == ["elementary", "high"]
    # grade 12 of zone B (history by school: H1's pupils live in H1's zone): a line from B's centre to H1
    h1 = first[(first["school_id"] == "H1") & (first["grade"] == "12")]
    assert h1["pupils"].item() == pytest.approx(2 * PER_ZONE)
    zb = district.zones.set_index("zone_id").loc["B"]
    sh = district.schools.set_index("school_id").loc["H1"]
    assert h1.geometry.iloc[0].equals_exact(shapely.LineString([(zb["lon"], zb["lat"]), (sh["lon"], sh["lat"])]), tolerance=1e-9)
    ss = gpd.read_file(gpkg, layer="schools_status")
    assert set(ss["school_id"]) == {"E1", "E2", "M1", "H1"} and set(ss.geom_type) == {"Point"}
    assert {p.name for p in (out / "gis").iterdir()} == {
        "capacity.gpkg",
        "zones_gap.geojson",
        "schools_status.geojson",
        "assignments.geojson",
    }
