"""The England map: a Qt Graphics View in British National Grid with level of detail.

Layers are a handful of custom ``QGraphicsItem``s (``icbmap.app.map.layers``), not one item per
LSOA: board fills (one cached path per board, re-dissolved only for the boards an edit
touched), outlines of regions, combined authorities, councils and districts, LSOA lines
only when zoomed in, practices, and the highlight (selection, hover, drag ghost, cursor).

The view is the hub; the work is done by its parts, as in QGIS's map canvas:

* :mod:`icbmap.app.map.tools` - the interactions (select, rectangle, lasso, paint, pan,
  drag-move): the view routes mouse events to the active tool;
* :mod:`icbmap.app.map.shapes` - what is where: spatial index, cached paths, label points,
  board shapes;
* :mod:`icbmap.app.map.labels` - label placement and painting;
* :mod:`icbmap.app.map.cursor` - the keyboard cursor and what a screen reader hears.

The view knows nothing of plans or commands: it is told the assignment and the board
colours, and it emits signals (hover, selection, move requests, paint strokes) that the
controller turns into commands.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QTransform
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView

from icbmap.app import a11y
from icbmap.app.map import geomqt
from icbmap.app.map.layers import add_layers
from icbmap.app.map.cursor import KeyboardCursor
from icbmap.app.map.labels import BoardFit, LabelPainter, Placed, map_label_candidates, place_labels
from icbmap.app.map.shapes import MapShapes
from icbmap.app.map.tools import TOOL_CLASSES, MapTool

SELECT_LEVELS = ("unit", "district", "council", "place", "board")

#: Ctrl+arrow pans the map by this many pixels
PAN_KEYS = {Qt.Key.Key_Left: (80, 0), Qt.Key.Key_Right: (-80, 0), Qt.Key.Key_Up: (0, 80), Qt.Key.Key_Down: (0, -80)}


#: after a pan the labels are placed afresh once the map has rested this long (ms)
RELABEL_AFTER_PAN_MS = 120

#: below this height of England on screen (viewport pixels) the map is crowded: board labels
#: start in small type (a 1366x768 laptop at 125% shows England about 460 px high)
CROWDED_ENGLAND_PX = 800


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

        self.shapes = MapShapes(atlas)

        stack = add_layers(self._scene, rect, atlas, self.shapes)
        self.fill, self.unit_lines, self.outlines = stack.fill, stack.unit_lines, stack.outlines
        self.practices, self.highlight = stack.practices, stack.highlight

        self.show_board_labels = True
        self.show_area_labels = True
        self.label_painter = LabelPainter(QFont())
        self._labels_cache: list[Placed] | None = None

        # state told by the controller
        self.assignment = atlas.unit_level("board").astype(np.int32).copy()
        self.board_names: dict[int, str] = {}
        self.board_population: dict[int, int] = {}
        self.board_colours: dict[int, QColor] = {}

        # interaction state
        self.level = "district"
        self.selected_units = np.zeros(0, dtype=np.int64)
        self.selected_practices = np.zeros(0, dtype=np.int64)
        self.hover_unit = self.hover_practice = -1  # unit and practice under the mouse
        # map tools (QGIS-style): the active one gets the mouse; a press starts a gesture
        self.tools: dict[str, MapTool] = {name: cls(self) for name, cls in TOOL_CLASSES.items()}
        self.map_tool: MapTool = self.tools["select"]
        self.gesture: MapTool | None = None
        self._gesture_button = Qt.MouseButton.NoButton  # the button that started it
        self.locked_boards: set[int] = set()
        self.practice_board = np.zeros(0, dtype=np.int32)
        # keyboard cursor (a unit inside the area it is on) and screen-reader announcements
        self.key_cursor = KeyboardCursor(self)
        self.announcements: list[str] = []
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

    # ------------------------------------------------------------------ what is where (see mapshapes)
    def unit_at(self, view_pos) -> int:
        """The LSOA under a viewport point (-1 if none); everything else about what is where
        is asked of :attr:`shapes`."""
        return self.shapes.unit_at_scene(self.mapToScene(view_pos))

    def area_units(self, unit: int, level: str | None = None) -> np.ndarray:
        """All units of the area containing ``unit`` at ``level`` (board = current board)."""
        return self.shapes.area_units(unit, level or self.level, self.assignment)

    def area_of(self, unit: int, level: str | None = None) -> int:
        """The area (at ``level``, default the selection level) holding ``unit``."""
        return self.shapes.area_of(unit, level or self.level, self.assignment)

    def practice_at(self, view_pos, radius_px: float = 7.0) -> int:
        return self.practices.hit(self.mapToScene(view_pos), self.current_scale(), radius_px)

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
        self.shapes.update_boards(assignment, set(names), changed)
        self.key_cursor.boards_changed()
        self.fill.colours = self.board_colours
        self.practices.colours = self.board_colours
        if len(self.practice_board):
            self.practices.board = self.practice_board
        self.invalidate_labels()
        self.fill.update()
        self.practices.update()
        self.viewport().update()

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
        self.key_cursor.refresh()

    @property
    def tool(self) -> str:
        """Name of the active map tool."""
        return self.map_tool.name

    @property
    def paint_board(self) -> int | None:
        """The board the paint tool paints with."""
        return self.tools["paint"].board

    @paint_board.setter
    def paint_board(self, board: int | None) -> None:
        self.tools["paint"].board = board

    @property
    def gesture_mode(self) -> str | None:
        """What the gesture under way is doing ('drag', 'rubber', 'lasso', ...), or None."""
        return self.gesture.mode if self.gesture is not None else None

    def set_tool(self, tool: str, board: int | None = None) -> None:
        """Make ``tool`` (the name of a pickable map tool) the active one."""
        if tool not in self.tools or not self.tools[tool].pickable:
            raise ValueError(tool)
        if self.gesture is not None:
            self.cancel_gesture()
        self.map_tool.deactivate()
        self.map_tool = self.tools[tool]
        if tool == "paint" and board is not None:
            self.paint_board = board
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.map_tool.activate()

    def set_selection(self, units: np.ndarray, practices: np.ndarray | None = None) -> None:
        self.selected_units = np.unique(np.asarray(units, dtype=np.int64))
        if practices is not None:
            self.selected_practices = np.unique(np.asarray(practices, dtype=np.int64))
            sel = np.zeros(len(self.practices.xy), dtype=bool)
            if len(sel):
                sel[self.selected_practices] = True
            self.practices.selected = sel
            self.practices.update()
        self.highlight.selection = self.shapes.units_path(self.selected_units)
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

    def select_inside(self, inside, add: bool = False) -> None:
        """Select the areas (at the current level) whose label point passes ``inside(x, y)``
        (BNG arrays), and the practices inside when practices show; ``add`` keeps the
        selection.  The rectangle and lasso tools build ``inside``."""
        units = self.shapes.units_of_areas_inside(inside, self.level, self.assignment)
        if add:
            units = np.union1d(self.selected_units, units)
        self.set_selection(units, self.practices.rows_inside(inside) if self.practices.isVisible() else None)

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
        minx, miny, maxx, maxy = shapely.total_bounds(self.shapes.geoms[units])
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
        self.follow_england = False   # the labels move with the map (scrollContentsBy)
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
        # the tool running a gesture (else the active tool) has the key first; then the
        # canvas's own navigation keys (as QgsMapCanvas: pan, zoom, the keyboard cursor)
        tool = self.gesture if self.gesture is not None else self.map_tool
        if tool.key_press(event):
            event.accept()
            return
        key = event.key()
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier and key in PAN_KEYS:
            self.pan_by_pixels(*PAN_KEYS[key])
            event.accept()
            return
        if self.key_cursor.handle_key(key):  # arrows, Space, Enter
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

    # ------------------------------------------------------------------ keyboard cursor (see mapcursor)
    @property
    def key_unit(self) -> int:
        return self.key_cursor.unit

    def place_cursor(self, unit: int | None = None) -> None:
        self.key_cursor.place(unit)

    def describe_cursor(self) -> str:
        return self.key_cursor.describe()

    def centre_on(self, x: float, y: float) -> None:
        """Centre the view on scene point (x, y) (the user's zoom is kept)."""
        self.centerOn(QPointF(x, y))
        self.follow_england = False
        self.invalidate_labels()
        self.viewChanged.emit()

    def announce(self, text: str) -> None:
        """Tell screen readers (and the status bar, via ``announced``) what changed."""
        if not text:
            return
        self.announcements = (self.announcements + [text])[-50:]
        a11y.announce(self, text)
        self.announced.emit(text)

    # ------------------------------------------------------------------ mouse: routed to the map tools
    def mousePressEvent(self, event) -> None:  # noqa: N802
        button = event.button()
        if self.gesture is not None:
            if button != self._gesture_button and event.buttons() & self._gesture_button:
                return  # a second button during a gesture: ignore it
            self.cancel_gesture()  # its release never came (a dialog took the mouse): start afresh
        if button == Qt.MouseButton.MiddleButton:
            self.gesture = self.tools["pan"].press(event)
        elif button == Qt.MouseButton.LeftButton:
            self.gesture = self.map_tool.press(event)
        self._gesture_button = button

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self.gesture is not None and self.gesture.move(event):
            return
        self._hover_at(event.position().toPoint())

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        gesture, self.gesture = self.gesture, None
        if gesture is not None:
            gesture.release(event)

    def cancel_gesture(self) -> None:
        """Esc: abandon the drag, stroke, lasso or rectangle under way."""
        gesture, self.gesture = self.gesture, None
        if gesture is not None:
            gesture.cancel()
        self.highlight.update()

    def leaveEvent(self, event) -> None:  # noqa: N802
        if self.gesture is None:
            self._set_hover(-1)
        super().leaveEvent(event)

    def _hover_at(self, pos) -> None:
        practice = self.practice_at(pos)
        if practice != self.hover_practice:
            self.hover_practice = practice
            self.practiceHovered.emit(practice)
        if practice >= 0:
            return
        self._set_hover(self.unit_at(pos))

    def _set_hover(self, unit: int) -> None:
        if unit == self.hover_unit:
            return
        self.hover_unit = unit
        if unit < 0:
            self.highlight.hover = QPainterPath()
        elif self.level == "unit":
            self.highlight.hover = self.shapes.unit_path(unit)
        elif self.level == "board":
            self.highlight.hover = self.fill.paths.get(int(self.assignment[unit]), QPainterPath())
        else:
            self.highlight.hover = self.shapes.area_path(self.level, int(self.atlas.unit_level(self.level)[unit]))
        self.highlight.update()
        self.hoverChanged.emit(unit)

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

    def placed_labels(self) -> list[Placed]:
        """The labels placed for the current view (cached until :meth:`invalidate_labels`)."""
        if self._labels_cache is None:
            fit = self.board_fit()

            def bng(r: QRectF) -> tuple[float, float, float, float]:
                s = self.mapToScene(r.toAlignedRect()).boundingRect()
                return (s.left(), -s.bottom(), s.right(), -s.top())

            self._labels_cache = place_labels(
                map_label_candidates(self), lambda x, y: self.mapFromScene(QPointF(x, y)),
                QRectF(self.viewport().rect()), self.label_painter.size,
                fit=lambda label, r: fit.fits(label.board, bng(r)), free=lambda r: fit.free(bng(r)),
                crowded=self.labels_crowded())
        return self._labels_cache

    def labels_crowded(self) -> bool:
        """Board labels start in small type when the whole of England would take less than
        :data:`CROWDED_ENGLAND_PX` viewport pixels of height (England on a laptop)."""
        _x0, y0, _x1, y1 = self.atlas.bounds
        return (y1 - y0) * self.current_scale() < CROWDED_ENGLAND_PX

    def board_fit(self) -> BoardFit:
        """Where board labels may go (the current board shapes; rebuilt when one changes)."""
        key = tuple((b, id(g)) for b, g in sorted(self.shapes.board_geom.items()))
        if getattr(self, "_board_fit_key", None) != key:
            self._board_fit = BoardFit(dict(self.shapes.board_geom), previous=getattr(self, "_board_fit", None))
            self._board_fit_key = key
        return self._board_fit

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.invalidate_labels()
        if self.follow_england and self.viewport().width() > 50 and self.viewport().height() > 50:
            self.zoom_england()

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802
        super().scrollContentsBy(dx, dy)
        cache = self._labels_cache
        if cache is None or not (dx or dy):
            self.invalidate_labels()
            return
        # a pan moves the placed labels with the map (cheap); they are placed afresh once the
        # pan rests (RELABEL_AFTER_PAN_MS), so dragging the map stays smooth
        from dataclasses import replace

        view = QRectF(self.viewport().rect())
        moved = []
        for r, label, bold in cache:
            r = r.translated(dx, dy)
            if not view.contains(r):
                continue
            if label.leader is not None:
                label = replace(label, leader=(label.leader[0] + dx, label.leader[1] + dy))
            moved.append((r, label, bold))
        self._labels_cache = moved
        if not hasattr(self, "_relabel_timer"):
            self._relabel_timer = QTimer(self)
            self._relabel_timer.setSingleShot(True)
            self._relabel_timer.setInterval(RELABEL_AFTER_PAN_MS)
            self._relabel_timer.timeout.connect(lambda: (self.invalidate_labels(), self.viewport().update()))
        self._relabel_timer.start()

    def setTransform(self, matrix, combine: bool = False) -> None:  # noqa: N802
        super().setTransform(matrix, combine)
        self.invalidate_labels()

    def labels(self) -> list[str]:
        """Texts of the labels currently placed, one line each (for tests and accessibility)."""
        return [lab.text.replace("\n", " ") for _, lab, _ in self.placed_labels()]

