"""Polygons handed to ``data areas add`` checked before GEOS sees them (issue 21).

GEOS raises ``GEOSException: Points of LinearRing do not form a closed linestring`` on a
ring that is not closed, takes NaN or infinite coordinates, and ``geopandas`` turns a null
name into a float that later breaks sorting.  :func:`check_geojson` reads a GeoJSON file's
features and gives one message per problem, naming the feature:

* no geometry (null), an empty polygon, not a polygon;
* a coordinate that is not a finite number (``1e400`` parses as infinity), a position with
  fewer than two numbers;
* a ring with fewer than 4 points, a ring whose last point is not its first (unclosed);
* a ``crs`` member naming a coordinate reference system that does not exist (EPSG:999999);
* a name that is null, empty, not text, too long, or holds control/bidi characters.

:func:`check_names` makes the name checks on a table read by GDAL (any format);
:func:`check_crs` checks a CRS text.  Qt-free.
"""

from __future__ import annotations

import math
from pathlib import Path

from icbmap.errors import DataError

#: GeoJSON files up to this size are pre-checked in full (larger ones rely on GDAL's checks)
MAX_PRECHECK = 64 << 20
POLYGONS = ("Polygon", "MultiPolygon")


def _feature(i: int, props: dict, name_field: str | None) -> str:
    name = props.get(name_field) if name_field else None
    if name is None:
        name = next((props[k] for k in ("name", "area", "area_name") if isinstance(props.get(k), str)), None)
    return f"feature #{i + 1}" + (f" ({str(name)[:40]!r})" if isinstance(name, str) and name else "")


def _ring_problem(ring, where: str) -> str | None:
    if not isinstance(ring, list):
        return f"{where}: a ring should be a list of points"
    for pos in ring:
        if not isinstance(pos, list) or len(pos) < 2:
            return f"{where}: a point should have two coordinates, found {str(pos)[:40]}"
        for v in pos[:3]:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                return f"{where}: a coordinate is not a number ({str(v)[:40]!r})"
            if not math.isfinite(v):
                return f"{where}: a coordinate is {v}, not a finite number"
    if len(ring) < 4:
        return (f"{where}: a ring has {len(ring)} point{'s' if len(ring) != 1 else ''}; a polygon ring needs "
                "at least 4 (three corners and the first repeated)")
    if ring[0][:2] != ring[-1][:2]:
        return f"{where}: a ring is not closed (its last point {ring[-1][:2]} is not its first {ring[0][:2]})"
    return None


def geometry_problem(geom, where: str) -> str | None:
    if geom is None:
        return f"{where} has no geometry (null)"
    if not isinstance(geom, dict):
        return f"{where}: the geometry should be an object"
    kind = geom.get("type")
    if kind not in POLYGONS:
        return f"{where} is a {str(kind)[:30]}, not a polygon"
    coords = geom.get("coordinates")
    if not isinstance(coords, list):
        return f"{where}: the polygon has no coordinates"
    polys = [coords] if kind == "Polygon" else coords
    if not polys or all(isinstance(p, list) and not p for p in polys):
        return f"{where} is an empty polygon (no rings)"
    for poly in polys:
        if not isinstance(poly, list) or not poly:
            return f"{where}: an empty polygon part"
        for ring in poly:
            problem = _ring_problem(ring, where)
            if problem:
                return problem
    return None


def check_crs(text: str, path) -> None:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        CRS.from_user_input(text)
    except (CRSError, ValueError, TypeError):
        raise DataError(path, f"unknown coordinate reference system {str(text)[:60]!r}; use EPSG:27700 "
                              "(British National Grid) or EPSG:4326") from None


def name_problem(value, where: str, field: str) -> str | None:
    from icbmap.guards import text_problem

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{where} has no name (null in field {field!r})"
    if not isinstance(value, str):
        return f"{where}: the name in field {field!r} is {type(value).__name__} {str(value)[:40]}, not text"
    if not value.strip():
        return f"{where} has an empty name in field {field!r}"
    return text_problem(value, f"{where}'s name")


def check_geojson(path: Path, name_field: str | None = None) -> None:
    """Refuse a GeoJSON file whose geometries or CRS GEOS or PROJ would choke on (see the
    module doc).  Files over :data:`MAX_PRECHECK` are left to GDAL."""
    from icbmap.safeio import loads_json, read_input

    path = Path(path)
    if path.suffix.lower() not in (".geojson", ".json") or path.stat().st_size > MAX_PRECHECK:
        return
    doc = loads_json(read_input(path, "polygon file", MAX_PRECHECK), path, "GeoJSON file")
    if not isinstance(doc, dict):
        raise DataError(path, "not a GeoJSON object")
    crs = doc.get("crs")
    if isinstance(crs, dict):
        name = (crs.get("properties") or {}).get("name") if isinstance(crs.get("properties"), dict) else None
        if isinstance(name, str):
            check_crs(name, path)
    if doc.get("type") == "Feature":
        features = [doc]
    elif doc.get("type") == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise DataError(path, "a FeatureCollection without a features list")
    else:
        return   # a bare geometry or something else: GDAL's message
    if not features:
        raise DataError(path, "no features")
    first = features[0].get("properties") if isinstance(features[0], dict) else None
    field = name_field or next((k for k in ("name", "area", "area_name") if isinstance(first, dict) and k in first),
                               None)
    for i, f in enumerate(features):
        if not isinstance(f, dict):
            raise DataError(path, f"feature #{i + 1} is not an object")
        props = f.get("properties") if isinstance(f.get("properties"), dict) else {}
        where = _feature(i, props, name_field)
        problem = geometry_problem(f.get("geometry"), where)
        if problem is None and field is not None:
            problem = name_problem(props.get(field), f"feature #{i + 1}", field)
        if problem:
            raise DataError(path, problem)


def check_names(gdf, field: str, path) -> None:
    """The areas' names read by GDAL: none null, empty, non-text, too long or unprintable."""
    for i, v in enumerate(gdf[field].tolist()):
        problem = name_problem(v, f"feature #{i + 1}", field)
        if problem:
            raise DataError(path, problem)


__all__ = ["check_crs", "check_geojson", "check_names", "geometry_problem", "name_problem"]
