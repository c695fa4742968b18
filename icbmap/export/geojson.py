"""GeoJSON export (RFC 7946): one feature per board, plus an optional unit layer.

* coordinates are WGS84 longitude, latitude (EPSG:4326 axis order swapped as RFC 7946
  requires), rounded to ``precision`` decimal places (6 = about 0.1 m);
* polygons follow the right-hand rule (exterior rings counter-clockwise, holes clockwise);
* there is no ``crs`` member; the document carries a ``bbox``;
* neighbouring boards share their edges exactly: both boundaries hold the very same
  rounded vertices (see :mod:`icbmap.export.shapes`), so there are no slivers or overlaps;
* each board's ``properties`` follow the flat schema of :mod:`icbmap.export.schema`
  (strings, integers, reals and booleans only; lists joined with "; " beside a
  ``*_count``), so QGIS and ArcGIS tools can write them back out;
* the document carries ``schema`` / ``schema_version`` members (docs/exports.md);
* the unit layer (``units=True``) is a second file ``<name>-units.geojson``: one feature
  per LSOA with its board's code and name.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely

from icbmap.export.files import done, safe_output, write_texts
from icbmap.export import facts as facts_mod
from icbmap.export.schema import flat_board_row
from icbmap.export.shapes import DEFAULT_PRECISION, check_precision, lonlat_bounds, to_wgs84
from icbmap.progress import Progress


def geometry_json(geom) -> dict | None:
    """A GeoJSON MultiPolygon for a (Multi)Polygon already in lon/lat (a one-part shape
    too, so every feature of a layer has the same type); ``None`` if empty."""
    if geom is None or shapely.is_empty(geom):
        return None
    polys = []
    for part in shapely.get_parts(geom):
        rings = [shapely.get_coordinates(part.exterior).tolist()]
        rings.extend(shapely.get_coordinates(r).tolist() for r in part.interiors)
        polys.append(rings)
    return {"type": "MultiPolygon", "coordinates": polys}


def _dump(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _collection_text(features_json: list[str], meta: dict, bbox) -> str:
    head = {"type": "FeatureCollection"}
    if bbox is not None:
        head["bbox"] = bbox
    head.update(meta)
    start = _dump(head)[:-1]
    return start + ',"features":[\n' + ",\n".join(features_json) + "\n]}\n"


#: ``--crs 27700``: British National Grid, named by the ``crs`` member GDAL and QGIS read
#: (GeoJSON 2008); outside RFC 7946, which allows WGS84 longitude/latitude only.
BNG_CRS_MEMBER = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}
CRS_CHOICES = (4326, 27700)


def project(geoms, crs: int, precision: int, labels=None) -> np.ndarray:
    """Shapes (EPSG:27700) for a GeoJSON in ``crs``: WGS84 as RFC 7946 wants it, or left in
    British National Grid (rounded to ``precision`` decimals of a metre) and oriented alike."""
    if crs == 4326:
        return to_wgs84(geoms, precision, labels=labels)
    out = np.full(len(geoms), None, dtype=object)
    for i, g in enumerate(geoms):
        if g is not None and not shapely.is_empty(g):
            out[i] = shapely.orient_polygons(shapely.set_precision(g, 10.0 ** -precision), exterior_cw=False)
    return out


def board_collection(plan, precision: int = DEFAULT_PRECISION, facts=None,
                     progress: Progress | None = None, meta: dict | None = None, crs: int = 4326) -> str:
    """The boards FeatureCollection as GeoJSON text (``crs`` 4326, or 27700 outside RFC 7946)."""
    progress = progress or Progress.silent()
    precision = check_precision(precision)
    progress.step(0.1, "Dissolving boards")
    shapes = facts_mod.board_shapes(plan)
    facts = facts if facts is not None else facts_mod.board_facts(plan)
    ids = [f["_id"] for f in facts]
    labels = [f"board {f['code']} ({f['name']})" for f in facts]
    progress.step(0.5, "Projecting to WGS84" if crs == 4326 else "Preparing British National Grid shapes")
    geoms = project(np.array([shapes[i] for i in ids], dtype=object), crs, precision, labels=labels)
    progress.step(0.8, "Writing features")
    feats = []
    for f, g in zip(facts, geoms):
        props = flat_board_row(f)
        feats.append(_dump({"type": "Feature", "id": f["code"], "properties": props,
                            "geometry": geometry_json(g)}))
    return _collection_text(feats, {"name": "boards", **(meta or {})}, lonlat_bounds(geoms))


def unit_collection(plan, precision: int = DEFAULT_PRECISION, progress: Progress | None = None,
                    meta: dict | None = None, crs: int = 4326) -> str:
    """The unit-assignment FeatureCollection (one feature per LSOA) as GeoJSON text."""
    progress = progress or Progress.silent()
    precision = check_precision(precision)
    atlas = plan.atlas
    progress.step(0.1, "Projecting units to WGS84")
    geoms = project(atlas.units.geometry.to_numpy(), crs, precision,
                    labels=[f"unit {c}" for c in atlas.unit_codes])
    progress.step(0.7, "Writing unit features")
    codes, names = facts_mod.board_code_name_arrays(plan)
    a = np.asarray(plan.assignment)
    ucodes = atlas.unit_codes
    unames = atlas.units["name"].to_numpy(dtype=object)
    pop = atlas.population
    areas = facts_mod.unit_area_columns(atlas)
    feats = []
    for i, g in enumerate(geoms):
        b = int(a[i])
        props = {"lsoa_code": ucodes[i], "lsoa_name": unames[i], "population": int(pop[i]),
                 "board_code": codes[b] if b >= 0 else None, "board_name": names[b] if b >= 0 else None,
                 **{k: v[i] for k, v in areas.items()}}
        feats.append(_dump({"type": "Feature", "id": ucodes[i], "properties": props,
                            "geometry": geometry_json(g)}))
    return _collection_text(feats, {"name": "units", **(meta or {})}, lonlat_bounds(geoms))


def units_path_for(path: str | Path) -> Path:
    path = Path(path)
    name = path.name
    for ext in (".geojson", ".json"):
        if name.lower().endswith(ext):
            return path.with_name(name[: -len(ext)] + "-units" + name[-len(ext):])
    return path.with_name(name + "-units.geojson")


def write_geojson(plan, path: str | Path, precision: int = DEFAULT_PRECISION, units: bool = False,
                  title: str = "", progress: Progress | None = None, crs: int = 4326) -> list[Path]:
    """Write the boards (and with ``units`` the unit layer beside it); returns the paths.
    ``crs`` 27700 writes British National Grid with a ``crs`` member (outside RFC 7946)."""
    progress = progress or Progress.silent()
    if crs not in CRS_CHOICES:
        raise ValueError(f"crs must be one of {', '.join(map(str, CRS_CHOICES))}, not {crs!r}")
    path, _note = safe_output(path)  # a name every system accepts (reported by the CLI)
    meta = facts_mod.document_meta(plan, title)
    if crs == 27700:
        meta = {"crs": BNG_CRS_MEMBER, **meta,
                "note": "British National Grid (EPSG:27700) coordinates: outside RFC 7946, which allows "
                        "WGS84 longitude/latitude only"}
    text = board_collection(plan, precision, progress=progress.sub(0.0, 0.5 if units else 0.95), meta=meta,
                            crs=crs)
    utext = unit_collection(plan, precision, progress=progress.sub(0.5, 0.95), meta=meta,
                            crs=crs) if units else None
    # everything is computed before anything is written: a cancel leaves no files behind,
    # and the two files are written all or none
    out = write_texts({path: text, **({units_path_for(path): utext} if utext is not None else {})})
    done(progress, f"Wrote {path.name}")
    return out
