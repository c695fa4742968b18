"""Shapely geometry to Qt paths, fast.

Scene coordinates are British National Grid metres with the y axis flipped
(``scene_y = -northing``) so north is up on screen.  Rings are turned into ``QPolygonF``
through ``QDataStream`` from a numpy buffer: about 3 microseconds for a small ring, four
times faster than building a list of ``QPointF`` and without a Python call per vertex.
"""

from __future__ import annotations

import numpy as np
import shapely
from PySide6.QtCore import QByteArray, QDataStream, QPointF, QRectF, Qt
from PySide6.QtGui import QPainterPath, QPolygonF


def polygon_from_xy(xy: np.ndarray) -> QPolygonF:
    """``QPolygonF`` from an ``(n, 2)`` array of scene coordinates."""
    n = len(xy)
    header = np.array([n], dtype=">u4").tobytes()
    body = np.ascontiguousarray(xy, dtype=">f8").tobytes()
    data = QByteArray(header + body)  # must outlive the stream, which reads it in place
    stream = QDataStream(data)
    poly = QPolygonF()
    stream >> poly
    if poly.size() != n:  # pragma: no cover - a Qt that serialises differently
        poly = QPolygonF([QPointF(float(x), float(y)) for x, y in xy])
    return poly


def to_scene(xy: np.ndarray) -> np.ndarray:
    out = np.array(xy, dtype=np.float64, copy=True)
    out[:, 1] = -out[:, 1]
    return out


def path_from_geometry(geom) -> QPainterPath:
    """A fill path (odd-even: holes stay holes) for a Polygon or MultiPolygon."""
    path = QPainterPath()
    path.setFillRule(Qt.FillRule.OddEvenFill)
    if geom is None or shapely.is_empty(geom):
        return path
    _add_polygons(path, shapely.get_rings(shapely.get_parts(geom)), min_points=3)
    return path


def lines_path(geom) -> QPainterPath:
    """An outline path (boundaries only) for any linear or polygonal geometry."""
    path = QPainterPath()
    if geom is None or shapely.is_empty(geom):
        return path
    b = shapely.boundary(geom) if geom.geom_type in ("Polygon", "MultiPolygon") else geom
    _add_polygons(path, shapely.get_parts(b), min_points=2)
    return path


def _add_polygons(path: QPainterPath, lines: np.ndarray, min_points: int) -> None:
    """Add each ring or line string of ``lines`` (BNG) to ``path`` as a scene polygon."""
    coords, index = shapely.get_coordinates(lines, return_index=True)
    coords = to_scene(coords)
    bounds = np.searchsorted(index, np.arange(len(lines) + 1))
    for k in range(len(lines)):
        xy = coords[bounds[k]:bounds[k + 1]]
        if len(xy) >= min_points:
            path.addPolygon(polygon_from_xy(xy))


def shared_boundaries(geoms: np.ndarray):
    """The internal boundaries of a polygon coverage plus its outer edge, each line once.

    Used for outline layers so that each district/council edge is stroked once, not twice.
    """
    return shapely.line_merge(shapely.union_all(shapely.boundary(geoms)))


def scene_rect(bounds) -> QRectF:
    minx, miny, maxx, maxy = bounds
    return QRectF(minx, -maxy, maxx - minx, maxy - miny)


def geom_from_scene_polygon(points) -> shapely.Geometry:
    """A shapely polygon in BNG from a list of scene ``QPointF`` (lasso)."""
    xy = [(p.x(), -p.y()) for p in points]
    if len(xy) < 3:
        return shapely.Polygon()
    return shapely.make_valid(shapely.Polygon(xy))
