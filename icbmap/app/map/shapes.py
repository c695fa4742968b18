"""What is where on the map: the spatial index and Qt shapes behind the map view.

* an STR-tree of the LSOAs for hit tests and exposed-rectangle queries;
* one ``QPainterPath`` per LSOA and per reference area (district, council, place ...),
  made on first use and cached;
* label points of the areas at every level (the pole of inaccessibility);
* the board shapes, dissolved from the current assignment and re-dissolved only for the
  boards an edit touched (a baseline board keeps the pack's ready-made shape);
* which areas a rectangle or lasso takes (those whose label point falls inside).

Scene coordinates are British National Grid with y flipped (Qt's y grows downwards).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainterPath

from icbmap.app.map import geomqt
from icbmap.atlas.geometry import dissolve_units
from icbmap.app.map.labels import label_point, label_points

#: inside(x, y) -> bool array, for BNG coordinate arrays
Inside = Callable[[np.ndarray, np.ndarray], np.ndarray]


class MapShapes:
    def __init__(self, atlas):
        self.atlas = atlas
        self.geoms = atlas.units.geometry.to_numpy()
        self.tree = shapely.STRtree(self.geoms)
        self.unit_xy = atlas.unit_xy
        self._unit_paths: dict[int, QPainterPath] = {}
        self._area_paths: dict[tuple[str, int], QPainterPath] = {}
        self._area_points = {lvl: label_points(atlas.layers[lvl].geometry) for lvl in ("district", "council")}
        #: the boards of the current assignment: dissolved shape, Qt path, label point
        self.board_geom: dict[int, object] = {}
        self.board_paths: dict[int, QPainterPath] = {}
        self.board_label_pt: dict[int, tuple[float, float]] = {}

    # ------------------------------------------------------------------ units and areas
    def unit_path(self, u: int) -> QPainterPath:
        path = self._unit_paths.get(u)
        if path is None:
            path = self._unit_paths[u] = geomqt.path_from_geometry(self.geoms[u])
        return path

    def units_path(self, units: np.ndarray) -> QPainterPath:
        """One outline round ``units`` (dissolved)."""
        if len(units) == 0:
            return QPainterPath()
        if len(units) == 1:
            return self.unit_path(int(units[0]))
        return geomqt.path_from_geometry(dissolve_units(self.geoms, units))

    def units_in_scene_rect(self, rect: QRectF) -> np.ndarray:
        box = shapely.box(rect.left(), -rect.bottom(), rect.right(), -rect.top())
        return self.tree.query(box)

    def unit_at_scene(self, p: QPointF) -> int:
        hits = self.tree.query(shapely.Point(p.x(), -p.y()), predicate="intersects")
        return int(hits[0]) if len(hits) else -1

    def area_path(self, level: str, area: int) -> QPainterPath:
        key = (level, area)
        path = self._area_paths.get(key)
        if path is None:
            path = self._area_paths[key] = geomqt.path_from_geometry(self.atlas.layers[level].geometry[area])
        return path

    def area_of(self, unit: int, level: str, assignment: np.ndarray) -> int:
        """The area at ``level`` that contains ``unit`` (boards: from ``assignment``)."""
        if unit < 0:
            return -1
        if level == "unit":
            return unit
        if level == "board":
            return int(assignment[unit])
        return int(self.atlas.unit_level(level)[unit])

    def area_units(self, unit: int, level: str, assignment: np.ndarray) -> np.ndarray:
        """All units of the area containing ``unit`` at ``level``."""
        if unit < 0:
            return np.zeros(0, dtype=np.int64)
        if level == "unit":
            return np.array([unit], dtype=np.int64)
        if level == "board":
            return np.flatnonzero(assignment == assignment[unit])
        area = int(self.atlas.unit_level(level)[unit])
        return self.atlas.members(level, area).astype(np.int64)

    def area_points(self, level: str):
        """Label points of the areas at ``level`` (units: their centroids; boards: a dict
        by board id)."""
        if level == "unit":
            return self.unit_xy
        if level == "board":
            return self.board_label_pt
        pts = self._area_points.get(level)
        if pts is None:
            pts = self._area_points[level] = label_points(self.atlas.layers[level].geometry)
        return pts

    def units_of_areas_inside(self, inside: Inside, level: str, assignment: np.ndarray) -> np.ndarray:
        """Units of every area at ``level`` whose label point passes ``inside``."""
        if level == "unit":
            xy = self.unit_xy
            return np.flatnonzero(inside(xy[:, 0], xy[:, 1]))
        if level == "board":
            chosen = [b for b, (x, y) in self.board_label_pt.items() if inside(np.array([x]), np.array([y]))[0]]
            return np.flatnonzero(np.isin(assignment, chosen))
        pts = self.area_points(level)
        areas = np.flatnonzero(inside(pts[:, 0], pts[:, 1]))
        return np.flatnonzero(np.isin(self.atlas.unit_level(level), areas))

    # ------------------------------------------------------------------ boards
    def update_boards(self, assignment: np.ndarray, active: set[int], changed: set[int] | None = None) -> None:
        """Dissolve the boards in ``changed`` (default: all) from ``assignment``; drop
        boards that are no longer ``active`` or have no units."""
        if changed is None:
            changed = set(np.unique(assignment[assignment >= 0]).tolist()) | set(self.board_geom)
        changed = set(changed) | {b for b in self.board_geom if b not in active}
        for bid in changed:
            units = np.flatnonzero(assignment == bid)
            if bid not in active or len(units) == 0:
                self.board_geom.pop(bid, None)
                self.board_paths.pop(bid, None)
                self.board_label_pt.pop(bid, None)
                continue
            self.put_board(bid, *self.dissolve(bid, units))

    def dissolve(self, bid: int, units: np.ndarray) -> tuple:
        """(shape, path, label point) of board ``bid`` made of ``units``: the pack's shape
        when they are its baseline units, else their coverage union."""
        geom = self.baseline_shape(bid, units)
        if geom is None:
            geom = dissolve_units(self.geoms, units)
        return geom, geomqt.path_from_geometry(geom), label_point(geom)

    def put_board(self, bid: int, geom, path: QPainterPath | None = None, point=None) -> None:
        """Set board ``bid``'s shape (its path and label point are made unless given)."""
        self.board_geom[bid] = geom
        self.board_paths[bid] = path if path is not None else geomqt.path_from_geometry(geom)
        self.board_label_pt[bid] = point if point is not None else label_point(geom)

    def board(self, bid: int):
        """(shape, path, label point) of board ``bid``, or None."""
        if bid not in self.board_geom:
            return None
        return self.board_geom[bid], self.board_paths[bid], self.board_label_pt[bid]

    def baseline_shape(self, bid: int, units: np.ndarray):
        """The pack's dissolved shape of baseline board ``bid`` if it still has exactly its
        baseline units (most boards, most of the time; saves the dissolve at start-up)."""
        layer = self.atlas.layers["board"]
        if bid >= len(layer):
            return None
        base = self.atlas.members("board", bid)
        if len(base) != len(units) or not np.array_equal(base, units):
            return None
        return layer.geometry[bid]
