"""Results as GIS layers a planner opens in QGIS or ArcGIS: ``<out>/gis/capacity.gpkg`` (and one
GeoJSON file per layer if ``report.gis_formats`` asks).

Layers
------
zones_gap
    The seat gap of every zone by stage and year (one feature per zone, stage and year: filter by
    year and stage; stages are the district's own, ``District.grades``, in school order); the zone's polygon where the zones came from a GIS file, else its centre point.
schools_status
    Every school by year: the plan's status (open / closed / new / not opened), classrooms and
    pupils; without a plan, the schools as they stand in the last history year.
assignments
    The plan's pupils from each zone (its centre) to each school by year and grade (the district's
    grades, in school order), as lines.

Coordinates: WGS 84 lon/lat (EPSG:4326) when the district gave lon/lat or GIS files; a district
given on a km grid has no CRS, so its layers are written in metres on that grid without a CRS
(a note says so; GeoJSON, which is WGS 84 by definition, is then not written).

Byte-stable: features are sorted, the GeoPackage's timestamps are fixed (GDAL's OGR_CURRENT_DATE),
so the same run writes the same bytes (tests/test_geo.py checks it).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from capacity.errors import OutputError
from capacity.gap import rounded_for_csv

GIS_FORMATS = ("gpkg", "geojson")
GPKG_NAME = "capacity.gpkg"
FIXED_DATE = "2000-01-01T00:00:00Z"
"""Timestamp written into the GeoPackage (gpkg_contents.last_change) instead of the clock."""
SQLITE_SIDECARS = ("-journal", "-wal", "-shm")
LAYER_NAMES = ("zones_gap", "schools_status", "assignments")


def has_lonlat(district) -> bool:
    """Whether every zone and school has lon/lat (else the district is on a km grid without a CRS)."""
    return all(f[["lon", "lat"]].notna().all().all() and len(f) for f in (district.zones, district.schools))


def _points(district, table: str) -> tuple[pd.Series, str | None]:
    """id -> shapely Point of every zone or school, and the CRS they are in."""
    import shapely

    f = getattr(district, table)
    key = "zone_id" if table == "zones" else "school_id"
    if has_lonlat(district):
        pts, crs = shapely.points(f["lon"].to_numpy(float), f["lat"].to_numpy(float)), "EPSG:4326"
    else:
        pts, crs = shapely.points(f["x_km"].to_numpy(float) * 1000, f["y_km"].to_numpy(float) * 1000), None
    return pd.Series(pts, index=f[key].to_numpy()), crs


def zones_gap_layer(district, gap: pd.DataFrame):
    """zones_gap: the gap table's zone rows with the zone's polygon (or centre point)."""
    import geopandas as gpd
    import shapely

    centres, crs = _points(district, "zones")
    # the figures gap.csv shows (whole pupils and seats), so the map and the table agree
    own = gap[gap["level"] == "zone"].drop(columns=["level", "zone_id"], errors="ignore")  # school-level mode: zone_id
    rows = rounded_for_csv(own).rename(columns={"area": "zone_id"})
    stage_index = {st: i for i, st in enumerate(district.grades.stage_names)}
    rows = rows.sort_values(["zone_id", "stage", "year"], key=lambda c: c.map(stage_index) if c.name == "stage" else c, kind="stable")
    rows = rows.reset_index(drop=True)
    if district.zone_shapes and crs is not None:
        shapes = {z: shapely.from_wkb(w) for z, w in district.zone_shapes.items()}
        geom = [shapes.get(z, centres[z]) for z in rows["zone_id"]]
    else:
        geom = list(centres[rows["zone_id"]])
    return gpd.GeoDataFrame(rows, geometry=geom, crs=crs)


def schools_status_layer(district, plan_tables: dict | None):
    """schools_status: the plan's school table by year, or the schools as they stand."""
    import geopandas as gpd

    pts, crs = _points(district, "schools")
    if plan_tables is not None:
        rows = plan_tables["schools"].copy()
    else:
        s = district.schools
        rows = pd.DataFrame(
            {
                "year": district.last_year,
                "school_id": s["school_id"],
                "name": s["name"],
                "zone_id": s["zone_id"],
                "status": s["status"],
                "classrooms": s["classrooms"].astype(int),
                "pupils": s["school_id"]
                .map(district.enrolment[district.enrolment["year"] == district.last_year].groupby("school_id")["pupils"].sum())
                .fillna(0.0)
                .astype(float),
            }
        )
    rows = rows.sort_values(["school_id", "year"], kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(rows, geometry=list(pts[rows["school_id"]]), crs=crs)


def assignments_layer(district, plan_tables: dict):
    """assignments: lines from each zone's centre to the school its pupils are assigned to."""
    import geopandas as gpd
    import shapely

    zc, crs = _points(district, "zones")
    sc, _ = _points(district, "schools")
    from capacity.plan.inputs import grade_order

    keys = ["year", "zone_id", "home_school_id", "school_id", "grade"]
    a = plan_tables["assignment"].sort_values(keys, key=grade_order(district.grades), kind="stable")
    a = a.reset_index(drop=True)
    starts = shapely.get_coordinates(np.asarray(zc[a["zone_id"]], dtype=object))
    ends = shapely.get_coordinates(np.asarray(sc[a["school_id"]], dtype=object))
    lines = shapely.linestrings(np.stack([starts, ends], axis=1)) if len(a) else []
    return gpd.GeoDataFrame(a, geometry=list(lines), crs=crs)


def gis_layers(district, gap: pd.DataFrame, plan_tables: dict | None) -> dict:
    """Every layer by name (assignments only with a plan)."""
    out = {"zones_gap": zones_gap_layer(district, gap), "schools_status": schools_status_layer(district, plan_tables)}
    if plan_tables is not None:
        out["assignments"] = assignments_layer(district, plan_tables)
    return out


def write_gis(district, gap: pd.DataFrame, plan_tables: dict | None, folder: Path, formats: tuple[str, ...] = ("gpkg",)) -> list[Path]:
    """Write the layers into ``folder`` (capacity.gpkg; GeoJSON files if asked). Returns the files written.

    Raises
    ------
    OutputError
        A file of that name is already in ``folder`` (runs write into a fresh folder, capacity/outputs.py).
    """
    import pyogrio

    from capacity.notes import note

    if not formats:
        return []
    targets = ([folder / GPKG_NAME] if "gpkg" in formats else []) + [folder / f"{n}.geojson" for n in LAYER_NAMES if "geojson" in formats]
    there = [p.name for p in targets if p.exists() or p.is_symlink()]
    if there:  # never overwrite (or append layers to) a file the tool did not write in this call
        raise OutputError(
            f"output {folder}: found {', '.join(there)} already there; expected a new folder (capacity writes whole output folders)"
        )
    layers = gis_layers(district, gap, plan_tables)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    lonlat = has_lonlat(district)
    if not lonlat:
        note("gis: the district's coordinates are km on its own grid (no CRS): GIS layers are in metres on that grid, without a CRS")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_DATE})
    try:
        if "gpkg" in formats:
            path = folder / GPKG_NAME
            with warnings.catch_warnings():
                # a km-grid district has no CRS: said once by the note above, not by pyogrio per layer
                warnings.filterwarnings("ignore", message="'crs' was not provided", category=UserWarning)
                for name, g in layers.items():
                    g.to_file(path, layer=name, driver="GPKG", engine="pyogrio", append=path.exists())
            written.append(path)
        if "geojson" in formats:
            if lonlat:
                for name, g in layers.items():
                    path = folder / f"{name}.geojson"
                    g.to_file(path, driver="GeoJSON", engine="pyogrio", COORDINATE_PRECISION=7, WRITE_BBOX="NO")
                    written.append(path)
            else:
                note("gis: GeoJSON layers not written: GeoJSON is WGS 84 lon/lat by definition and the district has no lon/lat")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
    left = [p.name for p in folder.iterdir() if p.name.endswith(SQLITE_SIDECARS)]
    if left:
        raise RuntimeError(f"GIS output left SQLite side files {left}; the GeoPackage may be incomplete")
    return written
