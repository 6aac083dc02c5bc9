"""Reading zones (polygons) and schools (points) from GeoPackage or GeoJSON files.

A district folder may hold ``zones.gpkg`` or ``zones.geojson`` instead of ``zones.csv``, and
``schools.gpkg`` or ``schools.geojson`` instead of ``schools.csv``. Their attribute columns are the
columns of the CSV table (docs/data-format.md); the geometry gives the coordinates:

- a school is a Point; its ``lon``/``lat`` (WGS 84) come from the point;
- a zone is a Polygon or MultiPolygon (or a Point); its centre, where pupils are counted from,
  is the polygon's centroid (area centre, computed on the layer's local UTM grid) when that lies
  inside the zone, else shapely's representative point (a point surely inside a U-shaped zone);
- a layer that carries its own coordinate columns (``lon``/``lat`` or ``x_km``/``y_km``, e.g. a
  population-weighted centre) keeps them; the geometry is then used for the map layers only.

The layer must state its coordinate reference system (GeoJSON is WGS 84 by definition). Rows of
messages are feature numbers in file order (1 = first feature), as QGIS's attribute table shows them.
geopandas/pyogrio/shapely/pyproj are imported here only, so ``import capacity`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from capacity.errors import Problem

GIS_SUFFIXES = (".gpkg", ".geojson")
GIS_TABLES = ("zones", "schools")
GEOMETRY_TYPES = {"zones": ("Polygon", "MultiPolygon", "Point"), "schools": ("Point",)}
COORDINATE_COLUMNS = ("lon", "lat", "x_km", "y_km")


@dataclass
class GisTable:
    """A GIS layer read as text cells (the shape RawTable needs) plus the zones' shapes.

    Attributes
    ----------
    label : str
        ``zones.gpkg[layer]`` or ``zones.geojson``, for messages.
    header : list of str
    rows : list of list of str
    shapes : dict of str to bytes
        zone_id (as written) -> WKB geometry in WGS 84 lon/lat (zones only).
    data : bytes
        The file's bytes (for its hash).
    """

    label: str
    header: list[str]
    rows: list[list[str]]
    shapes: dict[str, bytes]
    data: bytes


def gis_files(folder: Path, table: str) -> list[Path]:
    """GIS files for ``table`` in ``folder`` (``zones.gpkg``, ``zones.geojson``), in suffix order."""
    return [folder / f"{table}{s}" for s in GIS_SUFFIXES if (folder / f"{table}{s}").is_file()]


def _layer(path: Path, table: str) -> tuple[str | None, list[Problem]]:
    import pyogrio

    try:
        layers = [str(n) for n, _ in pyogrio.list_layers(path)]
    except Exception as e:  # pyogrio raises its own DataSourceError and plain OSErrors
        return None, [Problem(path.name, None, None, f"a file GDAL cannot open ({type(e).__name__}: {e})", "a GeoPackage or GeoJSON file")]
    if table in layers or len(layers) == 1:
        return (table if table in layers else layers[0]), []
    found = f"layers {', '.join(layers)}" if layers else "no layer"
    return None, [Problem(path.name, None, None, found, f"one layer, or a layer named '{table}'")]


def _text(value: object) -> str:
    from capacity.data.read import _cell_text

    if value is None or (isinstance(value, float) and value != value):
        return ""
    return _cell_text(value)


def read_gis_table(path: Path, table: str) -> tuple[GisTable | None, list[Problem]]:
    """Read one zones or schools layer: attribute cells as text, coordinates from the geometry.

    Returns
    -------
    table : GisTable or None
        None when the layer cannot be used.
    problems : list of Problem
        An unreadable file, several layers, no CRS, a missing, empty, invalid or wrongly typed geometry.
    """
    import geopandas as gpd
    import shapely

    layer, problems = _layer(path, table)
    if layer is None:
        return None, problems
    label = path.name if path.suffix.lower() == ".geojson" else f"{path.name}[{layer}]"
    try:
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as e:
        return None, [Problem(label, None, None, f"a layer GDAL cannot read ({type(e).__name__}: {e})", "a GeoPackage or GeoJSON layer")]
    if gdf.crs is None:
        return None, [
            Problem(label, None, None, "no coordinate reference system", "a layer with a CRS (e.g. EPSG:4326); set it in QGIS: Layer CRS")
        ]
    geom = gdf.geometry
    allowed = GEOMETRY_TYPES[table]
    for i, g in enumerate(geom):
        if g is None or g.is_empty:
            problems.append(Problem(label, i + 1, "geometry", "an empty geometry", f"a {' or '.join(allowed)}"))
        elif g.geom_type not in allowed:
            problems.append(Problem(label, i + 1, "geometry", f"a {g.geom_type}", f"a {' or '.join(allowed)}"))
        elif not g.is_valid:
            problems.append(
                Problem(
                    label,
                    i + 1,
                    "geometry",
                    f"an invalid {g.geom_type} ({shapely.is_valid_reason(g)})",
                    "a valid geometry (QGIS: Fix geometries)",
                )
            )
    if problems:
        return None, problems
    attrs = gdf.drop(columns=gdf.geometry.name)
    header = [str(c) for c in attrs.columns]
    rows = [[_text(v) for v in rec] for rec in attrs.itertuples(index=False, name=None)]
    wgs = geom.to_crs(4326)
    bounds = wgs.bounds.to_numpy()
    outside = ~(np.isfinite(bounds).all(axis=1) & (bounds[:, [0, 2]] >= -180).all(axis=1) & (bounds[:, [0, 2]] <= 180).all(axis=1))
    outside |= ~((bounds[:, [1, 3]] >= -90).all(axis=1) & (bounds[:, [1, 3]] <= 90).all(axis=1))
    if outside.any():
        crs = gdf.crs.to_string()
        return None, [
            Problem(
                label,
                int(i) + 1,
                "geometry",
                f"longitude {bounds[i, 0]:g}..{bounds[i, 2]:g}, latitude {bounds[i, 1]:g}..{bounds[i, 3]:g} when read in the "
                f"layer's CRS ({crs}), which is no place on Earth",
                "coordinates in the layer's stated CRS (GeoJSON is WGS 84 degrees by definition: export the layer as EPSG:4326; "
                "QGIS: Export > Save Features As, CRS EPSG:4326)",
            )
            for i in np.flatnonzero(outside)
        ]
    if not any(c in header for c in COORDINATE_COLUMNS):
        if table == "zones":
            local = geom.to_crs(gdf.estimate_utm_crs())
            centroid = local.centroid
            inside = centroid.within(local) | (local.geom_type == "Point")
            centre = centroid.where(inside, local.representative_point()).to_crs(4326)
        else:
            centre = wgs
        header += ["lon", "lat"]
        for r, x, y in zip(rows, centre.x, centre.y, strict=True):
            r += [repr(round(float(x), 7)), repr(round(float(y), 7))]
    shapes = {}
    if table == "zones" and "zone_id" in header:
        k = header.index("zone_id")
        shapes = {r[k]: shapely.to_wkb(g) for r, g in zip(rows, wgs, strict=True)}
    return GisTable(label, header, rows, shapes, path.read_bytes()), []
