"""Map tools, as in QGIS (``QgsMapTool``): each interaction with the map is a class.

The view holds one *active* tool (the one the planner picked: select, rectangle, lasso,
paint or pan) and routes its mouse events to it.  A press starts a *gesture*; the tool
returns the tool that handles the rest of that gesture, which may be another one: the
select tool hands a drag from the selection to :class:`DragMoveTool` and a drag from
elsewhere to :class:`RectangleTool`; the middle button pans with :class:`PanTool` whatever
tool is active.  Esc cancels the gesture under way.

Each tool owns itself, as a ``QgsMapTool`` does: its name, title, shortcut, icon and tip
(:meth:`MapTool.create_action` makes its toolbar/menu action), whether a planner can pick
it (:attr:`MapTool.pickable`), its keys (:meth:`MapTool.key_press`) and the coordinate
helpers of the base class.  The view only routes mouse and key events to the tool.

Tools change the view only through its public methods (selection, highlight layer, zoom
and pan, signals) and its :class:`~icbmap.app.map.shapes.MapShapes` (what is where); the
view knows nothing of plans or commands.
"""

from __future__ import annotations

import numpy as np
import shapely
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QAction, QColor, QPainterPath, QPolygonF
from PySide6.QtWidgets import QRubberBand

from icbmap.app.map import geomqt
from icbmap.app.actions.factory import make_action
from icbmap.app.map.canvas import MapCanvas
from icbmap.app.icons import icon as ui_icon
from icbmap.names import short_board_name

#: pixels the mouse must travel (Manhattan) before a press becomes a drag
DRAG_THRESHOLD = 4


class MapTool:
    """Base of every map tool: its name, action and keys, coordinate helpers, and handlers
    for one gesture."""

    #: the tool's name (``view.tools[name]``) and its icon's name
    name = ""
    #: the action's text, shortcut and tip; a tool without a title has no action
    title = ""
    shortcut = ""
    tip = ""
    #: a planner can pick it as the active tool (drag-move only runs inside a select gesture)
    pickable = True
    cursor = Qt.CursorShape.ArrowCursor

    def __init__(self, view: MapCanvas):
        self.view = view
        #: what the tool is doing now (None when idle; e.g. 'maybe-drag' then 'drag')
        self.mode: str | None = None

    # ---- the tool's action (toolbar button and Edit menu entry)
    @classmethod
    def create_action(cls, parent, pick) -> QAction:
        """The checkable action that makes this tool the active one (``pick(name)``)."""
        act = make_action(parent, cls.title, lambda _c=False, n=cls.name: pick(n), cls.shortcut, cls.tip,
                          checkable=True)
        act.setIcon(ui_icon(cls.name))
        return act

    # ---- coordinate helpers
    @staticmethod
    def view_pos(event):
        """Where the event happened, in viewport pixels."""
        return event.position().toPoint()

    def scene_pos(self, event) -> QPointF:
        """Where the event happened, in scene coordinates (BNG with y flipped)."""
        return self.view.mapToScene(self.view_pos(event))

    @staticmethod
    def shift(event) -> bool:
        return bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)

    def unit_at(self, pos) -> int:
        """The LSOA under a viewport point, -1 if none."""
        return self.view.shapes.unit_at_scene(self.view.mapToScene(pos))

    # ---- keys
    def key_press(self, event) -> bool:
        """A key while this tool is active (or running a gesture); True when consumed.
        Esc abandons the gesture under way, or else clears the selection."""
        if event.key() != Qt.Key.Key_Escape:
            return False
        if self.view.gesture is not None:
            self.view.cancel_gesture()
        else:
            self.view.clear_selection()
        return True

    def activate(self) -> None:
        """The tool became the active one (or a gesture ended): show its cursor."""
        self.view.viewport().setCursor(self.cursor)

    def deactivate(self) -> None:
        """Another tool is taking over: drop any gesture under way."""
        if self.mode is not None:
            self.cancel()

    def press(self, event) -> MapTool | None:
        """Left button pressed: return the tool that handles this gesture (or None)."""
        return None

    def move(self, event) -> bool:
        """Mouse moved during the gesture; True when consumed (no hover update)."""
        return False

    def release(self, event) -> None:
        """Button released: finish the gesture."""
        self.mode = None

    def cancel(self) -> None:
        """Esc or another tool: abandon the gesture without effect."""
        self.mode = None


class PanTool(MapTool):
    """Drag the map (left button with the pan tool, or the middle button with any tool)."""

    name = "pan"
    title = "Pan"
    shortcut = "H"
    tip = "Drag to pan the map"
    cursor = Qt.CursorShape.OpenHandCursor

    def __init__(self, view: MapCanvas):
        super().__init__(view)
        self._last: QPointF | None = None

    def press(self, event) -> MapTool:
        self.mode = "pan"
        self._last = event.position()
        self.view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        return self

    def move(self, event) -> bool:
        d = event.position() - self._last
        self._last = event.position()
        self.view.pan_by_pixels(d.x(), d.y())
        return True

    def release(self, event) -> None:
        self.mode = None
        self.view.map_tool.activate()

    def cancel(self) -> None:
        self.release(None)


class PaintTool(MapTool):
    """Paint areas (at the selection level) onto one board, stroke by stroke."""

    name = "paint"
    title = "Paint"
    shortcut = "B"
    tip = "Paint areas into the chosen board"
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, view: MapCanvas):
        super().__init__(view)
        self.board: int | None = None
        self._painted: set[int] = set()

    def press(self, event) -> MapTool | None:
        v = self.view
        if self.board is None:
            v.dragStatus.emit("Pick a board to paint with first (boards panel or Edit \u25b8 Paint)")
            return None
        self.mode = "paint"
        self._painted = set()
        v.highlight.stroke_colour = v.board_colours.get(self.board, QColor("#000"))
        v.paintStarted.emit(self.board)
        self.paint_at(self.view_pos(event))
        return self

    def paint_at(self, pos) -> None:
        v = self.view
        unit = self.unit_at(pos)
        if unit < 0 or unit in self._painted:
            return
        units = v.shapes.area_units(unit, v.level, v.assignment)
        self._painted.update(int(u) for u in units)
        v.highlight.stroke.addPath(v.shapes.units_path(units))
        v.highlight.update()
        v.paintArea.emit(units, self.board)

    def move(self, event) -> bool:
        self.paint_at(self.view_pos(event))
        return True

    def release(self, event) -> None:
        self.mode = None
        self.view.highlight.stroke = QPainterPath()
        self.view.highlight.update()
        self.view.paintFinished.emit()

    def cancel(self) -> None:
        self.release(None)


class LassoTool(MapTool):
    """Draw a free-hand shape; areas whose label point falls inside are selected."""

    name = "lasso"
    title = "Lasso"
    shortcut = "L"
    tip = "Draw around areas to select them"
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, view: MapCanvas):
        super().__init__(view)
        self.points: list[QPointF] = []

    def press(self, event) -> MapTool:
        self.mode = "lasso"
        self.points = [self.scene_pos(event)]
        return self

    def move(self, event) -> bool:
        v = self.view
        self.points.append(self.scene_pos(event))
        v.highlight.stroke = QPainterPath()
        v.highlight.stroke.addPolygon(QPolygonF(self.points))
        v.highlight.stroke_colour = QColor(255, 235, 59)
        v.highlight.update()
        return True

    def release(self, event) -> None:
        v = self.view
        self.mode = None
        self.points.append(self.scene_pos(event))
        poly = geomqt.geom_from_scene_polygon(self.points)
        v.highlight.stroke = QPainterPath()
        self.points = []
        if poly.is_empty:
            return
        shapely.prepare(poly)
        v.select_inside(lambda x, y: shapely.contains_xy(poly, x, y), add=self.shift(event))

    def cancel(self) -> None:
        self.mode = None
        self.points = []
        self.view.highlight.stroke = QPainterPath()
        self.view.highlight.update()


class RectangleTool(MapTool):
    """Drag a rectangle; areas whose label point falls inside are selected (Shift adds)."""

    name = "rectangle"
    title = "Rectangle"
    shortcut = "R"
    tip = "Drag a rectangle to select the areas inside it (Shift adds); never starts a move"
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, view: MapCanvas):
        super().__init__(view)
        self._band = QRubberBand(QRubberBand.Shape.Rectangle, view.viewport())
        self._press_pos = None
        self._press_scene = None
        self._click_selects = False
        #: the selection before a click that also toggled an area (see SelectTool)
        self.restore_on_add = None

    def press(self, event) -> MapTool:
        # the active rectangle tool: a click without a drag selects the area under it
        return self.begin(event, click_selects=True)

    def begin(self, event, restore_on_add=None, click_selects: bool = False) -> MapTool:
        """Start a rectangle at the press; it shows once the mouse has moved a little."""
        self.mode = "maybe-rubber"
        self._press_pos = self.view_pos(event)
        self._press_scene = self.view.mapToScene(self._press_pos)
        self.restore_on_add = restore_on_add
        self._click_selects = click_selects
        return self

    def move(self, event) -> bool:
        pos = self.view_pos(event)
        if self.mode == "maybe-rubber":
            if (pos - self._press_pos).manhattanLength() <= DRAG_THRESHOLD:
                return False
            self.mode = "rubber"
        self._band.setGeometry(QRect(self._press_pos, pos).normalized())
        self._band.show()
        return True

    def release(self, event) -> None:
        mode, self.mode = self.mode, None
        v = self.view
        if mode != "rubber":
            if self._click_selects:  # (with the select tool the press already did)
                unit = self.unit_at(self.view_pos(event))
                if unit >= 0:
                    v.select_area_of(unit, add=self.shift(event))
                elif not self.shift(event):
                    v.clear_selection()
            return
        self._band.hide()
        rect = QRectF(self._press_scene, self.scene_pos(event)).normalized()
        x0, x1, y0, y1 = rect.left(), rect.right(), -rect.bottom(), -rect.top()  # BNG
        shift = self.shift(event)
        if shift and self.restore_on_add is not None:
            # the press toggled an area in; the rectangle adds to what was selected before
            v.set_selection(*self.restore_on_add)
        v.select_inside(lambda x, y: (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1), add=shift)
        self.restore_on_add = None

    def cancel(self) -> None:
        self.mode = None
        self._band.hide()
        self.restore_on_add = None


class DragMoveTool(MapTool):
    """Drag the selection (areas or practices) onto a board, on the map or in the boards
    panel; the drop asks the controller to move it there."""

    name = "drag-move"
    pickable = False
    cursor = Qt.CursorShape.DragMoveCursor

    def __init__(self, view: MapCanvas):
        super().__init__(view)
        self._press_pos = None
        self._press_scene = None
        self.target: int | None = None

    def press(self, event) -> MapTool:
        return self.begin(event)

    def begin(self, event) -> MapTool:
        """Arm a drag at the press; it starts once the mouse has moved a little."""
        self.mode = "maybe-drag"
        self._press_pos = self.view_pos(event)
        self._press_scene = self.view.mapToScene(self._press_pos)
        return self

    def move(self, event) -> bool:
        v = self.view
        pos = self.view_pos(event)
        if self.mode == "maybe-drag":
            if (pos - self._press_pos).manhattanLength() <= DRAG_THRESHOLD:
                return False
            if not (len(v.selected_units) or len(v.selected_practices)):
                return False
            self.mode = "drag"
            v.viewport().setCursor(self.cursor)
        v.highlight.ghost_offset = v.mapToScene(pos) - self._press_scene
        self._update_target(event.globalPosition().toPoint(), pos)
        v.highlight.update()
        return True

    def _update_target(self, global_pos, view_pos) -> None:
        v = self.view
        target = v.dropTargetQuery(global_pos) if callable(v.dropTargetQuery) else None
        if target is None and v.viewport().rect().contains(view_pos):
            u = self.unit_at(view_pos)
            if u >= 0:
                target = int(v.assignment[u])
        if target is not None and target < 0:
            target = None
        self.target = target
        path = v.fill.paths.get(target) if target is not None else None
        v.highlight.target = path if path is not None else QPainterPath()
        if target is None:
            v.dragStatus.emit("Drop on a board to move the selection; Esc cancels")
            return
        name = short_board_name(v.board_names.get(target, str(target)))
        n = len(v.selected_units)
        what = f"{n:,} LSOA{'s' if n != 1 else ''}" if n else f"{len(v.selected_practices)} practice(s)"
        lock = " (locked)" if target in v.locked_boards else ""
        v.dragStatus.emit(f"Drop to move {what} to {name}{lock}; Esc cancels")

    def _end(self) -> None:
        v = self.view
        self.mode = None
        v.highlight.ghost_offset = None
        v.highlight.target = QPainterPath()
        self.target = None
        v.map_tool.activate()
        v.highlight.update()
        if callable(v.dropTargetQuery):
            v.dropTargetQuery(None)

    def release(self, event) -> None:
        dragging, target = self.mode == "drag", self.target
        self._end()
        if not dragging or target is None:
            return
        v = self.view
        if len(v.selected_practices) and not len(v.selected_units):
            v.practicesMoveRequested.emit(v.selected_practices.copy(), target)
        else:
            v.moveRequested.emit(v.selected_units.copy(), target)

    def cancel(self) -> None:
        self._end()
        self.view.dragStatus.emit("Move cancelled")


class SelectTool(MapTool):
    """Click selects the area (at the selection level) or practice under the mouse, Shift
    toggles; a drag from the selection moves it (:class:`DragMoveTool`), a drag from
    anywhere else draws a selection rectangle (:class:`RectangleTool`)."""

    name = "select"
    title = "Select"
    shortcut = "S"
    tip = "Click, Shift-click or drag a rectangle to select; drag the selection onto a board to move it"

    def press(self, event) -> MapTool:
        v = self.view
        pos = self.view_pos(event)
        shift = self.shift(event)
        practice = v.practice_at(pos)
        if practice >= 0:
            if shift:
                sel = np.setxor1d(v.selected_practices, [practice])
            elif practice in v.selected_practices:
                sel = v.selected_practices
            else:
                sel = np.array([practice])
            v.set_selection(v.selected_units if shift else np.zeros(0, dtype=np.int64), sel)
            return v.tools["drag-move"].begin(event)
        unit = self.unit_at(pos)
        if unit >= 0 and unit in v.selected_units and not shift:
            return v.tools["drag-move"].begin(event)
        before = None
        if unit >= 0:
            # a click selects; dragging from an unselected area draws a rectangle instead
            before = (v.selected_units.copy(), v.selected_practices.copy())
            v.select_area_of(unit, add=shift)
        elif not shift:
            v.clear_selection()
        return v.tools["rectangle"].begin(event, restore_on_add=before)


#: every map tool by name; the pickable ones in toolbar order
TOOL_CLASSES: dict[str, type[MapTool]] = {
    cls.name: cls for cls in (SelectTool, RectangleTool, LassoTool, PaintTool, PanTool, DragMoveTool)}
#: the tools a planner can pick (toolbar and Edit menu), in toolbar order
PICKABLE: tuple[type[MapTool], ...] = tuple(c for c in TOOL_CLASSES.values() if c.pickable)
