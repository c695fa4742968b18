"""The England map: a Qt Graphics View in British National Grid with level of detail.

Layers are a handful of custom ``QGraphicsItem``s, not one item per LSOA:

* board fills: one cached ``QPainterPath`` per board, dissolved from its LSOAs (a coverage
  union, ~10 ms per board) and rebuilt only for the boards an edit touched;
* outlines of NHS regions, combined authorities, councils and districts: static paths built
  once from the atlas layers;
* LSOA lines: drawn only when zoomed in, for the LSOAs in the exposed rectangle, from
  per-LSOA paths made on first use;
* selection, hover, drag ghost, practices, and labels placed greedily so they never overlap.

The layers live in ``icbmap.app.layers``. The view knows nothing of plans or commands: it is told the assignment and the board
colours, and it emits signals (hover, selection, move requests, paint strokes) that the
controller turns into commands.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (QAccessible, QAccessibleEvent, QColor, QFont, QPainter, QPainterPath, QPolygonF,
                           QTransform)
from PySide6.QtWidgets import (QGraphicsScene, QGraphicsView,
                               QRubberBand)

from icbmap.app import geomqt, keycursor
from icbmap.app.maplabels import Label, LabelPainter, Placed, label_point, label_points, place_labels
from icbmap.app.layers import (OUTLINE_STYLE, PRACTICE_DETAIL_SCALE, BoardFillLayer, HighlightLayer,
                               OutlineLayer, PracticeLayer, UnitLinesLayer)
from icbmap.names import format_population, short_board_name

SELECT_LEVELS = ("unit", "district", "council", "place", "board")
TOOLS = ("select", "lasso", "paint", "pan")

#: zoom above which district labels are drawn
DISTRICT_LABELS_MIN_SCALE = 1 / 600.0


class MapView(QGraphicsView):
    hoverChanged = Signal(int)              # unit index or -1
    practiceHovered = Signal(int)           # practice row or -1
    selectionChanged = Signal()
    moveRequested = Signal(object, int)     # units (np.ndarray), target board id
    practicesMoveRequested = Signal(object, int)
    paintStarted = Signal(int)              # board id
    paintArea = Signal(object, int)         # units, board id
    paintFinished = Signal()
    viewChanged = Signal()
    dragStatus = Signal(str)
    announced = Signal(str)                 # what the keyboard cursor is on, or the selection
    dropTargetQuery = None                  # callable(global QPoint) -> board id or None (boards panel)

    def __init__(self, atlas, parent=None):
        super().__init__(parent)
        self.atlas = atlas
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setBackgroundBrush(QColor("#dfe9f2"))
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)

        rect = geomqt.scene_rect(atlas.bounds).adjusted(-40_000, -40_000, 40_000, 40_000)
        self._england_rect = geomqt.scene_rect(atlas.bounds).adjusted(-5_000, -5_000, 5_000, 5_000)
        # a large scene so the user can pan past the coast
        big = rect.adjusted(-rect.width(), -rect.height(), rect.width(), rect.height())
        self._scene = QGraphicsScene(big, self)
        self._scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.setScene(self._scene)

        self._geoms = atlas.units.geometry.to_numpy()
        self._tree = shapely.STRtree(self._geoms)
        self._unit_paths: dict[int, QPainterPath] = {}
        self._unit_xy = atlas.unit_xy

        self.fill = BoardFillLayer(rect)
        self.fill.setZValue(0)
        self._scene.addItem(self.fill)
        self.unit_lines = UnitLinesLayer(rect, self)
        self.unit_lines.setZValue(1)
        self._scene.addItem(self.unit_lines)
        self.outlines: dict[str, OutlineLayer] = {}
        for z, level in enumerate(("district", "council", "ca", "region")):
            colour, width, dash = OUTLINE_STYLE[level]
            lines = geomqt.shared_boundaries(atlas.layers[level].geometry)
            item = OutlineLayer(rect, geomqt.lines_path(lines), colour, width, dash)
            item.setZValue(2 + z)
            self._scene.addItem(item)
            self.outlines[level] = item
        self.outlines["council"].setVisible(False)
        self.outlines["region"].setVisible(False)
        self.practices = PracticeLayer(rect)
        self.practices.setZValue(8)
        self._scene.addItem(self.practices)
        self.highlight = HighlightLayer(rect)
        self.highlight.setZValue(9)
        self._scene.addItem(self.highlight)

        self.show_board_labels = True
        self.show_area_labels = True
        self.label_painter = LabelPainter(QFont())
        self._labels_cache: list[Placed] | None = None

        # state told by the controller
        self.assignment = atlas.unit_level("board").astype(np.int32).copy()
        self.board_names: dict[int, str] = {}
        self.board_population: dict[int, int] = {}
        self.board_colours: dict[int, QColor] = {}
        self._board_geom: dict[int, object] = {}
        self._board_label_pt: dict[int, tuple[float, float]] = {}
        self._area_label_pts = {lvl: label_points(atlas.layers[lvl].geometry) for lvl in ("district", "council")}

        # interaction state
        self.level = "district"
        self.tool = "select"
        self.paint_board: int | None = None
        self.selected_units = np.zeros(0, dtype=np.int64)
        self.selected_practices = np.zeros(0, dtype=np.int64)
        self.hover_unit = -1
        self.hover_practice = -1
        self._press_pos = None
        self._press_scene = None
        self._mode = None  # 'drag', 'rubber', 'lasso', 'paint', 'pan', 'maybe-drag', 'maybe-rubber'
        self._rubber = QRubberBand(QRubberBand.Shape.Rectangle, self.viewport())
        self._lasso: list[QPointF] = []
        self._painted: set[int] = set()
        self._drop_target: int | None = None
        self._pan_last = None
        self.invalidate_labels()
        self.locked_boards: set[int] = set()
        self.practice_board = np.zeros(0, dtype=np.int32)
        self._area_path_cache: dict[tuple[str, int], QPainterPath] = {}
        self._click_selection = None
        # keyboard cursor (a unit inside the area it is on) and screen-reader announcements
        self.key_unit = -1
        self.announcements: list[str] = []
        self._graphs: dict[str, keycursor.AreaGraph] = {}
        self._graph_assignment = None
        #: refit England on resize until the user zooms or pans
        self.follow_england = True
        self.setAccessibleName("England map")
        self.setAccessibleDescription(
            "Map of the boards. Arrow keys move the keyboard cursor between neighbouring areas; "
            "Space adds the area to the selection; Enter selects only it; Ctrl+arrows pan; "
            "plus and minus zoom.")

    def set_label_fonts(self, base: QFont) -> None:
        """Map label fonts follow the system font (see :class:`LabelPainter`)."""
        self.label_painter.set_fonts(base)
        self.invalidate_labels()

    @property
    def label_font(self) -> QFont:
        return self.label_painter.label_font

    def invalidate_labels(self) -> None:
        """Place the labels afresh at the next paint (the view or what is shown changed)."""
        self._labels_cache = None

    # ------------------------------------------------------------------ geometry helpers
    def unit_path(self, u: int) -> QPainterPath:
        path = self._unit_paths.get(u)
        if path is None:
            path = geomqt.path_from_geometry(self._geoms[u])
            self._unit_paths[u] = path
        return path

    def units_in_scene_rect(self, rect: QRectF) -> np.ndarray:
        box = shapely.box(rect.left(), -rect.bottom(), rect.right(), -rect.top())
        return self._tree.query(box)

    def unit_at_scene(self, p: QPointF) -> int:
        pt = shapely.Point(p.x(), -p.y())
        hits = self._tree.query(pt, predicate="intersects")
        return int(hits[0]) if len(hits) else -1

    def unit_at(self, view_pos) -> int:
        return self.unit_at_scene(self.mapToScene(view_pos))

    def practice_at(self, view_pos, radius_px: float = 7.0) -> int:
        xy = self.practices.xy
        scale = self.current_scale()
        if len(xy) == 0 or not self.practices.isVisible() or scale < PRACTICE_DETAIL_SCALE:
            return -1  # zoomed out, practices are dots a click passes through
        p = self.mapToScene(view_pos)
        d = np.hypot(xy[:, 0] - p.x(), -xy[:, 1] - p.y()) * scale
        d = np.where(np.isfinite(d), d, np.inf)
        i = int(np.argmin(d)) if len(d) else -1
        return i if i >= 0 and d[i] <= radius_px else -1

    def area_units(self, unit: int, level: str | None = None) -> np.ndarray:
        """All units of the area containing ``unit`` at ``level`` (board = current board)."""
        level = level or self.level
        if unit < 0:
            return np.zeros(0, dtype=np.int64)
        if level == "unit":
            return np.array([unit], dtype=np.int64)
        if level == "board":
            return np.flatnonzero(self.assignment == self.assignment[unit])
        area = int(self.atlas.unit_level(level)[unit])
        return self.atlas.members(level, area).astype(np.int64)

    def units_path(self, units: np.ndarray) -> QPainterPath:
        if len(units) == 0:
            return QPainterPath()
        if len(units) == 1:
            return self.unit_path(int(units[0]))
        return geomqt.path_from_geometry(shapely.coverage_union_all(self._geoms[units]))

    def current_scale(self) -> float:
        return self.transform().m11()

    # ------------------------------------------------------------------ state from the controller
    def set_boards(self, assignment: np.ndarray, colours: dict[int, str], names: dict[int, str],
                   populations: dict[int, int], changed: set[int] | None = None,
                   locked: set[int] | None = None) -> None:
        """Recolour and re-dissolve: only ``changed`` boards when given, else all."""
        self.assignment = assignment
        self.board_colours = {b: QColor(c) for b, c in colours.items()}
        self.board_names = dict(names)
        self.board_population = dict(populations)
        self.locked_boards = set(locked or ())
        active = set(names)
        if changed is None:
            changed = set(np.unique(assignment[assignment >= 0]).tolist()) | set(self._board_geom)
        for bid in list(self._board_geom):
            if bid not in active:
                changed.add(bid)
        for bid in changed:
            units = np.flatnonzero(assignment == bid)
            if bid not in active or len(units) == 0:
                self._board_geom.pop(bid, None)
                self.fill.paths.pop(bid, None)
                self._board_label_pt.pop(bid, None)
                continue
            geom = self._baseline_shape(bid, units)
            if geom is None:
                geom = shapely.coverage_union_all(self._geoms[units])
            self._board_geom[bid] = geom
            self.fill.paths[bid] = geomqt.path_from_geometry(geom)
            self._board_label_pt[bid] = label_point(geom)
        self.fill.colours = self.board_colours
        self.practices.colours = self.board_colours
        if len(self.practice_board):
            self.practices.board = self.practice_board
        self.invalidate_labels()
        self.fill.update()
        self.practices.update()
        self.viewport().update()

    def _baseline_shape(self, bid: int, units: np.ndarray):
        """The pack's dissolved shape of baseline board ``bid`` if it still has exactly its
        baseline units (most boards, most of the time; saves the dissolve at start-up)."""
        layer = self.atlas.layers["board"]
        if bid >= len(layer):
            return None
        base = self.atlas.members("board", bid)
        if len(base) != len(units) or not np.array_equal(base, units):
            return None
        return layer.geometry[bid]

    def set_practices(self, xy: np.ndarray, patients: np.ndarray, board: np.ndarray) -> None:
        self.practices.xy = np.asarray(xy, dtype=float)
        self.practices.size = np.asarray(patients, dtype=float)
        self.practices.board = np.asarray(board, dtype=np.int32)
        self.practice_board = self.practices.board
        self.practices.selected = np.zeros(len(xy), dtype=bool)
        self.practices.update()

    # ------------------------------------------------------------------ selection
    def set_level(self, level: str) -> None:
        if level not in SELECT_LEVELS:
            raise ValueError(level)
        self.level = level
        self._set_hover(-1)
        if self.key_unit >= 0:
            self._set_cursor(self.key_unit)

    def set_tool(self, tool: str, board: int | None = None) -> None:
        if tool not in TOOLS:
            raise ValueError(tool)
        self.tool = tool
        if tool == "paint":
            self.paint_board = board if board is not None else self.paint_board
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        cursor = {"pan": Qt.CursorShape.OpenHandCursor, "paint": Qt.CursorShape.CrossCursor,
                  "lasso": Qt.CursorShape.CrossCursor}.get(tool, Qt.CursorShape.ArrowCursor)
        self.viewport().setCursor(cursor)

    def set_selection(self, units: np.ndarray, practices: np.ndarray | None = None) -> None:
        self.selected_units = np.unique(np.asarray(units, dtype=np.int64))
        if practices is not None:
            self.selected_practices = np.unique(np.asarray(practices, dtype=np.int64))
            sel = np.zeros(len(self.practices.xy), dtype=bool)
            if len(sel):
                sel[self.selected_practices] = True
            self.practices.selected = sel
            self.practices.update()
        self.highlight.selection = self.units_path(self.selected_units)
        self.highlight.update()
        self.selectionChanged.emit()

    def clear_selection(self) -> None:
        self.set_selection(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))

    def select_area_of(self, unit: int, add: bool = False) -> None:
        units = self.area_units(unit)
        if add:
            if np.isin(units, self.selected_units).all():
                units = np.setdiff1d(self.selected_units, units)
            else:
                units = np.union1d(self.selected_units, units)
        self.set_selection(units, np.zeros(0, dtype=np.int64) if not add else None)

    def _areas_by_points(self, inside) -> np.ndarray:
        """Units of every area (at the current level) whose label point passes ``inside``."""
        level = self.level
        if level == "unit":
            xy = self._unit_xy
            return np.flatnonzero(inside(xy[:, 0], xy[:, 1]))
        if level == "board":
            chosen = [b for b, (x, y) in self._board_label_pt.items() if inside(np.array([x]), np.array([y]))[0]]
            return np.flatnonzero(np.isin(self.assignment, chosen))
        pts = self._area_points(level)
        areas = np.flatnonzero(inside(pts[:, 0], pts[:, 1]))
        return np.flatnonzero(np.isin(self.atlas.unit_level(level), areas))

    def select_rect(self, rect: QRectF, add: bool = False) -> None:
        x0, x1 = rect.left(), rect.right()
        y0, y1 = -rect.bottom(), -rect.top()

        def inside(x, y):
            return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)

        units = self._areas_by_points(inside)
        if add:
            units = np.union1d(self.selected_units, units)
        self.set_selection(units, self._practices_in(inside) if self.practices.isVisible() else None)

    def select_polygon(self, polygon, add: bool = False) -> None:
        if polygon.is_empty:
            return
        shapely.prepare(polygon)

        def inside(x, y):
            return shapely.contains_xy(polygon, x, y)

        units = self._areas_by_points(inside)
        if add:
            units = np.union1d(self.selected_units, units)
        self.set_selection(units, self._practices_in(inside) if self.practices.isVisible() else None)

    def _practices_in(self, inside) -> np.ndarray:
        xy = self.practices.xy
        if len(xy) == 0:
            return np.zeros(0, dtype=np.int64)
        ok = np.isfinite(xy[:, 0])
        res = np.zeros(len(xy), dtype=bool)
        res[ok] = inside(xy[ok, 0], xy[ok, 1])
        return np.flatnonzero(res)

    # ------------------------------------------------------------------ zoom and pan
    def zoom_england(self) -> None:
        self.fit_scene_rect(self._england_rect)
        self.follow_england = True

    def england_visible(self) -> bool:
        """Whether all of England is inside the view."""
        return self.visible_scene_rect().contains(geomqt.scene_rect(self.atlas.bounds))

    def fit_scene_rect(self, rect: QRectF, margin: float = 0.06) -> None:
        if rect.isEmpty():
            return
        r = rect.adjusted(-rect.width() * margin, -rect.height() * margin,
                          rect.width() * margin, rect.height() * margin)
        self.fitInView(r, Qt.AspectRatioMode.KeepAspectRatio)
        self.follow_england = False
        self.invalidate_labels()
        self.viewChanged.emit()

    def zoom_to_units(self, units: np.ndarray) -> None:
        if len(units) == 0:
            return
        minx, miny, maxx, maxy = shapely.total_bounds(self._geoms[units])
        self.fit_scene_rect(QRectF(minx, -maxy, max(maxx - minx, 500), max(maxy - miny, 500)), margin=0.25)

    def zoom_by(self, factor: float, anchor_view=None) -> None:
        """Zoom by ``factor`` keeping the scene point under ``anchor_view`` still."""
        if anchor_view is None:
            anchor_view = self.viewport().rect().center()
        new_scale = self.current_scale() * factor
        if not (1 / 20_000 <= new_scale <= 1 / 2):  # England-wide to street level
            return
        before = self.mapToScene(anchor_view)
        self.scale(factor, factor)
        after = self.mapToScene(anchor_view)
        d = (after - before) * self.current_scale()
        self.pan_by_pixels(d.x(), d.y())

    def pan_by_pixels(self, dx: float, dy: float) -> None:
        """Move the map content by (dx, dy) screen pixels."""
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() - round(dx))
        v.setValue(v.value() - round(dy))
        self.follow_england = False
        self.invalidate_labels()
        self.viewChanged.emit()

    def visible_scene_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def view_state(self) -> tuple[float, float, float]:
        c = self.visible_scene_rect().center()
        return (c.x(), c.y(), self.current_scale())

    def restore_view(self, cx: float, cy: float, scale: float) -> None:
        if not (1 / 20_000 <= scale <= 1 / 2):
            return
        self.setTransform(QTransform.fromScale(scale, scale))
        self.centerOn(QPointF(cx, cy))
        self.follow_england = False
        self.invalidate_labels()
        self.viewChanged.emit()

    # ------------------------------------------------------------------ events
    def wheelEvent(self, event) -> None:  # noqa: N802
        delta = event.angleDelta().y() or event.pixelDelta().y()
        if delta == 0:
            return
        factor = math.pow(1.0015, delta)  # 120 units (one notch) = x1.2
        self.zoom_by(factor, event.position().toPoint())
        event.accept()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        key = event.key()
        step = 80
        if key == Qt.Key.Key_Escape:
            if self._mode in ("drag", "maybe-drag", "paint", "lasso", "rubber", "maybe-rubber"):
                self._cancel_interaction()
            else:
                self.clear_selection()
            event.accept()
            return
        moves = {Qt.Key.Key_Left: (step, 0), Qt.Key.Key_Right: (-step, 0),
                 Qt.Key.Key_Up: (0, step), Qt.Key.Key_Down: (0, -step)}
        arrows = {Qt.Key.Key_Left: "left", Qt.Key.Key_Right: "right",
                  Qt.Key.Key_Up: "up", Qt.Key.Key_Down: "down"}
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if key in moves and ctrl:
            self.pan_by_pixels(*moves[key])
            event.accept()
            return
        if key in arrows:
            self.move_cursor(arrows[key])
            event.accept()
            return
        if key == Qt.Key.Key_Space:
            self.cursor_to_selection(add=True)
            event.accept()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.cursor_to_selection(add=False)
            event.accept()
            return
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(1.25)
            return
        if key == Qt.Key.Key_Minus:
            self.zoom_by(0.8)
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event) -> None:  # noqa: N802
        super().focusInEvent(event)
        if event.reason() in (Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason,
                              Qt.FocusReason.ShortcutFocusReason, Qt.FocusReason.OtherFocusReason):
            if self.key_unit < 0:
                self.place_cursor()
            else:
                self.announce(self.describe_cursor())

    # ------------------------------------------------------------------ keyboard cursor
    def _graph(self) -> keycursor.AreaGraph:
        level = self.level
        if level == "board":
            if self._graph_assignment is not self.assignment or "board" not in self._graphs:
                self._graphs["board"] = keycursor.AreaGraph(self.atlas.adjacency, self.assignment)
                self._graph_assignment = self.assignment
            return self._graphs["board"]
        if level not in self._graphs:
            codes = np.arange(self.atlas.n_units) if level == "unit" else self.atlas.unit_level(level)
            self._graphs[level] = keycursor.AreaGraph(self.atlas.adjacency, codes)
        return self._graphs[level]

    def area_of(self, unit: int, level: str | None = None) -> int:
        level = level or self.level
        if unit < 0:
            return -1
        if level == "unit":
            return unit
        if level == "board":
            return int(self.assignment[unit])
        return int(self.atlas.unit_level(level)[unit])

    def _area_points(self, level: str):
        if level == "unit":
            return self._unit_xy
        if level == "board":
            return self._board_label_pt
        pts = self._area_label_pts.get(level)
        if pts is None:
            pts = self._area_label_pts[level] = label_points(self.atlas.layers[level].geometry)
        return pts

    def _unit_for_area(self, level: str, area: int) -> int:
        """A unit inside ``area``: the one under its label point when there is one."""
        pts = self._area_points(level)
        x, y = keycursor._point(pts, area)
        if np.isfinite(x):
            u = self.unit_at_scene(QPointF(x, -y))
            if u >= 0 and self.area_of(u, level) == area:
                return u
        if level == "unit":
            return area
        codes = self.assignment if level == "board" else self.atlas.unit_level(level)
        members = np.flatnonzero(codes == area)
        return int(members[0]) if len(members) else -1

    def place_cursor(self, unit: int | None = None) -> None:
        """Put the keyboard cursor on ``unit``'s area (default: the selection, else the
        area at the centre of the view)."""
        if unit is None:
            if len(self.selected_units):
                unit = int(self.selected_units[0])
            else:
                unit = self.unit_at(self.viewport().rect().center())
            if unit < 0:  # the centre is at sea: the nearest unit
                c = self.visible_scene_rect().center()
                xy = self._unit_xy
                unit = int(np.argmin(np.hypot(xy[:, 0] - c.x(), xy[:, 1] + c.y())))
        self._set_cursor(unit)

    def move_cursor(self, direction: str) -> bool:
        """Move the cursor to the neighbouring area in ``direction`` (left/right/up/down)."""
        if self.key_unit < 0:
            self.place_cursor()
            return True
        area = self.area_of(self.key_unit)
        nxt = keycursor.step(self._graph(), area, self._area_points(self.level), direction)
        if nxt is None:
            self.announce(f"No neighbouring {self._level_word()} to the {keycursor.COMPASS[direction]}")
            return False
        self._set_cursor(self._unit_for_area(self.level, nxt))
        return True

    def cursor_to_selection(self, add: bool = True) -> None:
        """Space: add (or, if already in, remove) the cursor's area; Enter: select only it."""
        if self.key_unit < 0:
            self.place_cursor()
            return
        self.select_area_of(self.key_unit, add=add)

    def _set_cursor(self, unit: int) -> None:
        self.key_unit = unit
        units = self.area_units(unit) if unit >= 0 else np.zeros(0, dtype=np.int64)
        if self.level == "board" and unit >= 0:
            self.highlight.cursor = self.fill.paths.get(int(self.assignment[unit]), QPainterPath())
        elif self.level in ("unit",) or unit < 0:
            self.highlight.cursor = self.unit_path(unit) if unit >= 0 else QPainterPath()
        else:
            self.highlight.cursor = self._area_path(self.level, self.area_of(unit))
        self.highlight.update()
        if len(units):
            self._keep_in_view(units)
            self.announce(self.describe_cursor())

    def _keep_in_view(self, units: np.ndarray) -> None:
        x, y = keycursor._point(self._area_points(self.level), self.area_of(self.key_unit))
        if not np.isfinite(x):
            return
        margin = 40
        vp = self.mapFromScene(QPointF(x, -y))
        if not self.viewport().rect().adjusted(margin, margin, -margin, -margin).contains(vp):
            self.centerOn(QPointF(x, -y))
            self.follow_england = False
            self.invalidate_labels()
            self.viewChanged.emit()

    def _level_word(self) -> str:
        return {"unit": "LSOA", "district": "district", "council": "council", "place": "place",
                "board": "board"}[self.level]

    def describe_cursor(self) -> str:
        """'Waverley, district, 128,221 people, Surrey Heartlands' for the cursor's area."""
        if self.key_unit < 0:
            return ""
        units = self.area_units(self.key_unit)
        return self.describe_area(units, self.area_of(self.key_unit), self.level)

    def describe_area(self, units: np.ndarray, area: int, level: str) -> str:
        pop = int(self.atlas.population[units].sum()) if len(units) else 0
        boards = np.unique(self.assignment[units]) if len(units) else []
        board_names = [short_board_name(self.board_names.get(int(b), "unassigned")) for b in boards]
        if level == "board":
            return f"{board_names[0] if board_names else area}, board, {pop:,} people"
        if level == "unit":
            name = f"{self.atlas.units['name'].iat[area]} ({self.atlas.units['code'].iat[area]})"
        else:
            name = str(self.atlas.layers[level].table["name"].iat[area])
        where = board_names[0] if len(board_names) == 1 else "split between " + " and ".join(
            [", ".join(board_names[:-1]), board_names[-1]]) if board_names else "unassigned"
        state = ", selected" if len(units) and np.isin(units, self.selected_units).all() else ""
        return f"{name}, {self._level_word()}, {pop:,} people, {where}{state}"

    def announce(self, text: str) -> None:
        """Tell screen readers (and the status bar, via ``announced``) what changed."""
        if not text:
            return
        self.announcements = (self.announcements + [text])[-50:]
        self.setAccessibleDescription(text)
        if QAccessible.isActive():
            try:
                from PySide6.QtGui import QAccessibleAnnouncementEvent

                QAccessible.updateAccessibility(QAccessibleAnnouncementEvent(self, text))
            except ImportError:  # Qt before 6.8: a description change is read out instead
                pass
            QAccessible.updateAccessibility(QAccessibleEvent(self, QAccessible.Event.DescriptionChanged))
        self.announced.emit(text)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        pos = event.position().toPoint()
        self._press_pos = pos
        self._press_scene = self.mapToScene(pos)
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self.tool == "pan"):
            self._mode = "pan"
            self._pan_last = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if button != Qt.MouseButton.LeftButton:
            return
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if self.tool == "paint":
            if self.paint_board is None:
                self.dragStatus.emit("Pick a board to paint with first (boards panel or Edit \u25b8 Paint)")
                return
            self._mode = "paint"
            self._painted = set()
            self.highlight.stroke_colour = self.board_colours.get(self.paint_board, QColor("#000"))
            self.paintStarted.emit(self.paint_board)
            self._paint_at(pos)
            return
        if self.tool == "lasso":
            self._mode = "lasso"
            self._lasso = [self._press_scene]
            return
        practice = self.practice_at(pos)
        if practice >= 0:
            if shift:
                sel = np.setxor1d(self.selected_practices, [practice])
            elif practice in self.selected_practices:
                sel = self.selected_practices
            else:
                sel = np.array([practice])
            self.set_selection(self.selected_units if shift else np.zeros(0, dtype=np.int64), sel)
            self._mode = "maybe-drag"
            return
        unit = self.unit_at(pos)
        if unit >= 0 and unit in self.selected_units and not shift:
            self._mode = "maybe-drag"
            return
        if unit >= 0:
            # a click selects; dragging from an unselected area draws a rectangle instead
            self._click_selection = (self.selected_units.copy(), self.selected_practices.copy())
            self.select_area_of(unit, add=shift)
            self._mode = "maybe-rubber"
            return
        if not shift:
            self.clear_selection()
        self._mode = "maybe-rubber"

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        pos = event.position().toPoint()
        if self._mode == "pan":
            d = event.position() - self._pan_last
            self._pan_last = event.position()
            self.pan_by_pixels(d.x(), d.y())
            return
        if self._mode == "paint":
            self._paint_at(pos)
            return
        if self._mode == "lasso":
            self._lasso.append(self.mapToScene(pos))
            self.highlight.stroke = QPainterPath()
            poly = QPolygonF(self._lasso)
            self.highlight.stroke.addPolygon(poly)
            self.highlight.stroke_colour = QColor(255, 235, 59)
            self.highlight.update()
            return
        moved = self._press_pos is not None and (pos - self._press_pos).manhattanLength() > 4
        if self._mode == "maybe-drag" and moved:
            if len(self.selected_units) or len(self.selected_practices):
                self._mode = "drag"
                self.viewport().setCursor(Qt.CursorShape.DragMoveCursor)
        elif self._mode == "maybe-rubber" and moved:
            self._mode = "rubber"
        if self._mode == "drag":
            self.highlight.ghost_offset = self.mapToScene(pos) - self._press_scene
            self._update_drop_target(event.globalPosition().toPoint(), pos)
            self.highlight.update()
            return
        if self._mode == "rubber":
            from PySide6.QtCore import QRect

            self._rubber.setGeometry(QRect(self._press_pos, pos).normalized())
            self._rubber.show()
            return
        practice = self.practice_at(pos)
        if practice != self.hover_practice:
            self.hover_practice = practice
            self.practiceHovered.emit(practice)
        if practice >= 0:
            return
        unit = self.unit_at(pos)
        self._set_hover(unit)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        pos = event.position().toPoint()
        mode, self._mode = self._mode, None
        if mode == "pan":
            self.set_tool(self.tool)
            return
        if mode == "paint":
            self.highlight.stroke = QPainterPath()
            self.highlight.update()
            self.paintFinished.emit()
            return
        if mode == "lasso":
            self._lasso.append(self.mapToScene(pos))
            poly = geomqt.geom_from_scene_polygon(self._lasso)
            self.highlight.stroke = QPainterPath()
            self.select_polygon(poly, add=bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
            self._lasso = []
            return
        if mode == "rubber":
            self._rubber.hide()
            rect = QRectF(self._press_scene, self.mapToScene(pos)).normalized()
            shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            if shift and self._click_selection is not None:
                # the press toggled an area in; the rectangle adds to what was selected before
                self.set_selection(*self._click_selection)
            self.select_rect(rect, add=shift)
            self._click_selection = None
            return
        if mode == "drag":
            target = self._drop_target
            self._end_drag()
            if target is not None:
                if len(self.selected_practices) and not len(self.selected_units):
                    self.practicesMoveRequested.emit(self.selected_practices.copy(), target)
                else:
                    self.moveRequested.emit(self.selected_units.copy(), target)
            return

    def leaveEvent(self, event) -> None:  # noqa: N802
        if self._mode is None:
            self._set_hover(-1)
        super().leaveEvent(event)

    def _cancel_interaction(self) -> None:
        mode, self._mode = self._mode, None
        self._rubber.hide()
        self._lasso = []
        self.highlight.stroke = QPainterPath()
        if mode in ("drag", "maybe-drag"):
            self._end_drag()
            self.dragStatus.emit("Move cancelled")
        if mode == "paint":
            self.paintFinished.emit()
        self.highlight.update()

    def _end_drag(self) -> None:
        self.highlight.ghost_offset = None
        self.highlight.target = QPainterPath()
        self._drop_target = None
        self.set_tool(self.tool)
        self.highlight.update()
        if callable(self.dropTargetQuery):
            self.dropTargetQuery(None)

    def _update_drop_target(self, global_pos, view_pos) -> None:
        target = None
        if callable(self.dropTargetQuery):
            target = self.dropTargetQuery(global_pos)
        if target is None and self.viewport().rect().contains(view_pos):
            u = self.unit_at(view_pos)
            if u >= 0:
                target = int(self.assignment[u])
        if target is not None and target < 0:
            target = None
        self._drop_target = target
        path = self.fill.paths.get(target) if target is not None else None
        self.highlight.target = path if path is not None else QPainterPath()
        if target is None:
            self.dragStatus.emit("Drop on a board to move the selection; Esc cancels")
        else:
            name = short_board_name(self.board_names.get(target, str(target)))
            n = len(self.selected_units)
            what = f"{n:,} LSOA{'s' if n != 1 else ''}" if n else f"{len(self.selected_practices)} practice(s)"
            lock = " (locked)" if target in self.locked_boards else ""
            self.dragStatus.emit(f"Drop to move {what} to {name}{lock}; Esc cancels")

    def _paint_at(self, pos) -> None:
        unit = self.unit_at(pos)
        if unit < 0 or unit in self._painted:
            return
        units = self.area_units(unit)
        self._painted.update(int(u) for u in units)
        self.highlight.stroke.addPath(self.units_path(units))
        self.highlight.update()
        self.paintArea.emit(units, self.paint_board)

    def _set_hover(self, unit: int) -> None:
        if unit == self.hover_unit:
            return
        self.hover_unit = unit
        if unit < 0:
            self.highlight.hover = QPainterPath()
        elif self.level == "unit":
            self.highlight.hover = self.unit_path(unit)
        elif self.level == "board":
            self.highlight.hover = self.fill.paths.get(int(self.assignment[unit]), QPainterPath())
        else:
            self.highlight.hover = self._area_path(self.level, int(self.atlas.unit_level(self.level)[unit]))
        self.highlight.update()
        self.hoverChanged.emit(unit)

    def _area_path(self, level: str, area: int) -> QPainterPath:
        key = (level, area)
        cache = self._area_path_cache
        path = cache.get(key)
        if path is None:
            path = geomqt.path_from_geometry(self.atlas.layers[level].geometry[area])
            cache[key] = path
        return path

    # ------------------------------------------------------------------ labels
    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        if not (self.show_board_labels or self.show_area_labels):
            return
        painter.save()
        painter.resetTransform()
        ratio = self.devicePixelRatioF() or 1.0
        for lab_rect, label, bold in self.placed_labels():
            self.label_painter.draw(painter, lab_rect, label, bold, ratio)
        painter.restore()

    def label_candidates(self) -> list[tuple[Label, bool]]:
        """Every label that could show now, weighted by population: boards (bold, with
        their population), then NHS regions and combined authorities when their outlines
        show, then districts or councils when zoomed in far enough."""
        candidates: list[tuple[Label, bool]] = []
        if self.show_board_labels:
            for bid, (x, y) in self._board_label_pt.items():
                pop = self.board_population.get(bid, 0)
                name = short_board_name(self.board_names.get(bid, ""))
                candidates.append((Label(name, format_population(pop), x, -y, pop * 10.0), True))
        if not self.show_area_labels:
            return candidates
        for level in ("region", "ca"):
            if not self.outlines[level].isVisible():
                continue
            table = self.atlas.layers[level].table
            pts = self._area_points(level)
            for i, (name, pop) in enumerate(zip(table["name"], table["population"])):
                candidates.append((Label(str(name), "", pts[i, 0], -pts[i, 1], float(pop) * 2), False))
        if self.current_scale() >= DISTRICT_LABELS_MIN_SCALE:
            level = "district" if self.outlines["district"].isVisible() else "council"
            table = self.atlas.layers[level].table
            pts = self._area_points(level)
            names = table["name"].to_numpy()
            pops = table["population"].to_numpy()
            for i in range(len(table)):
                candidates.append((Label(str(names[i]), "", pts[i, 0], -pts[i, 1], float(pops[i])), False))
        return candidates

    def placed_labels(self) -> list[Placed]:
        """The labels placed for the current view (cached until :meth:`invalidate_labels`)."""
        if self._labels_cache is None:
            self._labels_cache = place_labels(
                self.label_candidates(), lambda x, y: self.mapFromScene(QPointF(x, y)),
                QRectF(self.viewport().rect()), self.label_painter.size)
        return self._labels_cache

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.invalidate_labels()
        if self.follow_england and self.viewport().width() > 50 and self.viewport().height() > 50:
            self.zoom_england()

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802
        super().scrollContentsBy(dx, dy)
        self.invalidate_labels()

    def setTransform(self, matrix, combine: bool = False) -> None:  # noqa: N802
        super().setTransform(matrix, combine)
        self.invalidate_labels()

    def labels(self) -> list[str]:
        """Texts of the labels currently placed, one line each (for tests and accessibility)."""
        return [lab.text.replace("\n", " ") for _, lab, _ in self.placed_labels()]

