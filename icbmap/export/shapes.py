"""Board shapes for export: dissolves of the unit coverage, reprojected and rounded.

The atlas's units form a clean coverage (shared edges vertex-for-vertex identical, see
:func:`icbmap.atlas.geometry.repair_coverage`), so ``shapely.coverage_union_all`` of a
board's units gives a boundary whose edges are exactly the edges of the units along it, and
the neighbouring board's boundary holds the very same vertices in reverse order.

To keep that true after leaving EPSG:27700, every vertex goes through one function: the
same pyproj transformation followed by rounding to ``precision`` decimal places.  Equal
input vertices therefore give equal output vertices, whichever board they belong to.
Consecutive vertices that round to the same point are merged (identically on both sides
of an edge, because both sides hold the same run of vertices), rings that collapse are
dropped, and polygons are oriented by the RFC 7946 right-hand rule (exterior rings
counter-clockwise, holes clockwise).  Below five decimal places (about 1 m) rounding would
make some boundaries cross themselves, so :data:`MIN_PRECISION` is 5.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely

from icbmap.atlas.geometry import dissolve
from icbmap.atlas.model import CRS
from icbmap.errors import DataError

WGS84 = "EPSG:4326"
MIN_PRECISION = 5
MAX_PRECISION = 15
DEFAULT_PRECISION = 6


def check_precision(precision: int) -> int:
    """``precision`` as an int, or :class:`ValueError` naming the allowed range."""
    try:
        p = int(precision)
    except (TypeError, ValueError):
        raise ValueError(f"precision must be a whole number of decimal places, not {precision!r}") from None
    if not MIN_PRECISION <= p <= MAX_PRECISION:
        raise ValueError(
            f"precision {p} is outside {MIN_PRECISION}..{MAX_PRECISION} decimal places "
            f"({MIN_PRECISION} is about 1 m; coarser rounding would make boundaries cross themselves)")
    return p


@lru_cache(maxsize=8)
def transformer(src: str = CRS, dst: str = WGS84):
    """A cached pyproj transformer in longitude/latitude (x, y) order."""
    import pyproj

    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def dissolve_boards(unit_geoms: np.ndarray, assignment: np.ndarray, n_boards: int) -> np.ndarray:
    """One (Multi)Polygon per board id ``0..n_boards-1`` in the units' CRS.

    Units with assignment -1 belong to no board; a board without units gets an empty
    polygon.  The atlas's coverage union makes interior edges vanish exactly.
    """
    return dissolve(unit_geoms, np.asarray(assignment), n_boards)


def _clean_polygonal(geom):
    """Drop repeated consecutive vertices and collapsed rings; ``None`` if nothing is left."""
    if geom is None or shapely.is_empty(geom):
        return None
    polys = []
    for part in shapely.get_parts(geom):
        if part.geom_type != "Polygon":
            continue
        rings = []
        for k, ring in enumerate((part.exterior, *part.interiors)):
            c = shapely.get_coordinates(ring)
            keep = np.ones(len(c), dtype=bool)
            keep[1:] = (c[1:] != c[:-1]).any(axis=1)
            c = c[keep]
            if len(c) < 4:
                if k == 0:
                    rings = []
                    break
                continue
            rings.append(c)
        if rings:
            polys.append(shapely.Polygon(rings[0], rings[1:]))
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def to_wgs84(geoms: np.ndarray, precision: int = DEFAULT_PRECISION, src: str = CRS,
             labels: list[str] | None = None) -> np.ndarray:
    """Reproject polygonal ``geoms`` to WGS84 lon/lat, round, clean and orient them.

    Every vertex is transformed and rounded by the same vectorised call, so vertices shared
    by two geometries stay identical.  Raises :class:`DataError` when a shape comes out
    invalid (only possible if the precision is too coarse for the data).
    """
    precision = check_precision(precision)
    tr = transformer(src, WGS84)

    def project(xy: np.ndarray) -> np.ndarray:
        lon, lat = tr.transform(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), precision)

    geoms = np.asarray(geoms, dtype=object)
    present = np.array([g is not None and not shapely.is_empty(g) for g in geoms], dtype=bool)
    out = np.full(len(geoms), None, dtype=object)
    if present.any():
        moved = shapely.transform(geoms[present], project)
        cleaned = np.array([_clean_polygonal(g) for g in moved], dtype=object)
        ok = np.array([g is not None for g in cleaned], dtype=bool)
        if ok.any():
            cleaned[ok] = shapely.orient_polygons(cleaned[ok], exterior_cw=False)
        out[present] = cleaned
    bad = [i for i, g in enumerate(out) if g is not None and not shapely.is_valid(g)]
    if bad:
        i = bad[0]
        what = labels[i] if labels else f"shape {i}"
        raise DataError(None, f"rounding to {precision} decimal places makes {what} invalid "
                              f"({shapely.is_valid_reason(out[i])}); use a higher precision")
    return out


def lonlat_bounds(geoms: np.ndarray) -> list[float] | None:
    """``[west, south, east, north]`` of the non-empty geometries, or ``None``."""
    present = [g for g in geoms if g is not None and not shapely.is_empty(g)]
    if not present:
        return None
    b = shapely.total_bounds(np.array(present, dtype=object))
    return [float(v) for v in b]


def as_multipolygons(geoms) -> np.ndarray:
    """Every shape as a MultiPolygon (a one-part board too), an empty or missing one as
    ``None`` (a null geometry): each export layer then has one geometry type, as QGIS
    declares it (a layer typed Polygon holding MultiPolygon rows breaks "Save As")."""
    out = np.full(len(geoms), None, dtype=object)
    for i, g in enumerate(geoms):
        if g is None or shapely.is_empty(g):
            continue
        if g.geom_type == "Polygon":
            g = shapely.MultiPolygon([g])
        elif g.geom_type != "MultiPolygon":
            parts = [p for p in shapely.get_parts(g) if p.geom_type == "Polygon"]
            g = shapely.MultiPolygon(parts) if parts else None
        out[i] = g
    return out
