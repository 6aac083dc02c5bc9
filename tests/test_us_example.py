"""The bundled US example district (capacity/data/example_us): generated like the example county,
loaded through the public format with the US grade system, and run end to end by its shipped scenario."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from capacity.data import EXAMPLE_US_PATH
from capacity.grades import US

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "us-district.yaml"


def _zones():
    gpd = pytest.importorskip("geopandas")
    return gpd.read_file(EXAMPLE_US_PATH / "zones.gpkg", layer="zones")


def test_generator_reproduces_shipped_files(tmp_path):
    from capacity.data.example_us_generator import write

    write(tmp_path)
    shipped = sorted(p.name for p in EXAMPLE_US_PATH.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == shipped
    for name in shipped:
        if name.endswith(".csv"):
            assert (tmp_path / name).read_bytes() == (EXAMPLE_US_PATH / name).read_bytes(), name
    # the GeoPackage is compared by content: its bytes depend on the GDAL version that wrote it
    gpd = pytest.importorskip("geopandas")
    new, old = gpd.read_file(tmp_path / "zones.gpkg"), _zones()
    pd.testing.assert_frame_equal(pd.DataFrame(new.drop(columns="geometry")), pd.DataFrame(old.drop(columns="geometry")))
    assert new.crs == old.crs and new.crs.to_epsg() == 4326
    assert list(new.geometry.to_wkb()) == list(old.geometry.to_wkb())


def test_zone_layer_tiles_the_district_and_every_school_stands_in_its_zone():
    zones = _zones().set_index("zone_id")
    assert len(zones) == 10 and zones.geometry.is_valid.all()
    # the zones tile the district: no overlaps, and their union has no holes
    import shapely

    union = shapely.union_all(list(zones.geometry))
    assert union.area == pytest.approx(sum(g.area for g in zones.geometry), rel=1e-9)
    assert union.geom_type == "Polygon" and len(union.interiors) == 0
    from shapely.geometry import Point

    schools = pd.read_csv(EXAMPLE_US_PATH / "schools.csv", dtype={"first_grade": str, "last_grade": str})
    for s in schools.itertuples():
        assert zones.geometry[s.zone_id].contains(Point(s.lon, s.lat)), s.school_id


def test_data_is_in_the_us_form():
    district = pd.read_csv(EXAMPLE_US_PATH / "district.csv")
    assert dict(zip(district["key"], district["value"], strict=True)) == {"grade_system": "us"}
    schools = pd.read_csv(EXAMPLE_US_PATH / "schools.csv", dtype={"first_grade": str, "last_grade": str})
    enrol = pd.read_csv(EXAMPLE_US_PATH / "enrolment.csv", dtype={"grade": str})
    assert set(enrol["grade"]) == set(US.grades) - {"PK"}
    assert sorted(enrol["year"].unique()) == list(range(2014, 2026))
    # a few schools per level, in different zones; one candidate site
    open_ = schools[schools["status"] == "open"]
    levels = open_.groupby(["first_grade", "last_grade"])["zone_id"].agg(["size", "nunique"])
    assert levels.loc[("K", "5")].tolist() == [5, 5] and levels.loc[("6", "8")].tolist() == [3, 3]
    assert levels.loc[("9", "12")].tolist() == [2, 2]
    assert (schools["status"] == "candidate").sum() == 1
    assert {"lon", "lat", "capacity"} <= set(schools.columns) and not {"x_km", "y_km"} & set(schools.columns)
    # every pupil sits in a school that teaches the grade
    rng = {r.school_id: US.grades_between(r.first_grade, r.last_grade) for r in schools.itertuples()}
    assert all(g in rng[s] for s, g in zip(enrol["school_id"], enrol["grade"], strict=True))


def test_rated_capacity_is_the_scenario_class_size_times_classrooms():
    """The capacities are rated at the scenario's class sizes, so the gap and the plan count the same seats."""
    class_size = yaml.safe_load(SCENARIO.read_text())["standards"]["class_size"]
    schools = pd.read_csv(EXAMPLE_US_PATH / "schools.csv", dtype={"first_grade": str})
    open_ = schools[schools["status"] == "open"]
    stage = open_["first_grade"].map(US.stage_of_grade)
    np.testing.assert_array_equal(open_["capacity"], open_["classrooms"] * stage.map(class_size))
    # Prairie Ridge Elementary is over its rated capacity in the last year; the district as a whole is not
    enrol = pd.read_csv(EXAMPLE_US_PATH / "enrolment.csv", dtype={"grade": str})
    last = enrol[enrol["year"] == 2025].groupby("school_id")["pupils"].sum()
    cap = open_.set_index("school_id")["capacity"]
    assert last["E-PRA"] > cap["E-PRA"]
    assert last.sum() < cap.sum()


def test_loads_through_the_public_format_with_us_grades():
    from capacity.data import load_district

    d = load_district(EXAMPLE_US_PATH)
    assert d.grades.name == "us" and d.grades.grades == US.grades
    assert len(d.zones) == 10 and len(d.schools) == 11
    assert d.history_years == tuple(range(2014, 2026))
    assert set(d.enrolment["grade"]) == set(US.grades) - {"PK"}


@pytest.fixture(scope="module")
def us_run(tmp_path_factory):
    """`capacity run scenarios/us-district.yaml --override quick` (the CI run of the shipped US scenario)."""
    from click.testing import CliRunner

    from capacity.cli import cli

    out = tmp_path_factory.mktemp("us") / "run"
    r = CliRunner().invoke(cli, ["run", str(SCENARIO), "--override", "quick", "--out", str(out)])
    assert r.exit_code == 0, r.output + repr(r.exception)
    return out


def test_shipped_us_scenario_runs_end_to_end(us_run):
    for f in ("report.html", "manifest.json", "plan/summary.json", "gap/gap.csv", "projection/projection.csv", "gis/capacity.gpkg"):
        assert (us_run / f).exists(), f
    s = json.loads((us_run / "plan" / "summary.json").read_text())
    assert s["status"] in ("optimal", "time_limit")
    proj = pd.read_csv(us_run / "projection" / "projection.csv", dtype={"grade": str})
    # only US grade names come out; a stable district projects a first-year total near its last one
    assert set(proj["grade"]) <= set(US.grades) and {"K", "1", "9", "12"} <= set(proj["grade"])
    enrol = pd.read_csv(EXAMPLE_US_PATH / "enrolment.csv", dtype={"grade": str})
    first = proj[proj["year"] == 2026]["pupils"].sum()
    assert first == pytest.approx(enrol[enrol["year"] == 2025]["pupils"].sum(), rel=0.05)


def test_us_gap_finds_prairie_ridge_short_and_the_plan_seats_every_pupil(us_run):
    gap = pd.read_csv(us_run / "gap" / "gap.csv").set_index(["level", "area", "stage", "year"])
    # Prairie Ridge (Z09) is short of elementary seats from the first year; the district is not
    assert gap.loc[("zone", "Z09", "elementary", 2026), "gap"] < 0
    # seats are the rated capacities: Prairie Ridge Elementary's 384 (the planned site has none yet)
    schools = pd.read_csv(EXAMPLE_US_PATH / "schools.csv").set_index("school_id")
    assert gap.loc[("zone", "Z09", "elementary", 2026), "seats"] == schools.at["E-PRA", "capacity"] == 384
    elementary = schools[(schools["first_grade"] == "K") & (schools["status"] == "open")]
    assert gap.loc[("county", "county", "elementary", 2026), "seats"] == elementary["capacity"].sum()
    assert gap.loc[("county", "county", "elementary", 2026), "gap"] > 0
    s = json.loads((us_run / "plan" / "summary.json").read_text())
    assert s["unmet_pupil_years"] == pytest.approx(0, abs=0.5)
    gpd = pytest.importorskip("geopandas")
    layers = set(gpd.list_layers(us_run / "gis" / "capacity.gpkg")["name"])
    assert {"zones_gap", "schools_status", "assignments"} <= layers
