"""The map's keyboard cursor, as the view uses it: which area it is on, moving it to a
neighbouring area with the arrow keys, adding its area to the selection, keeping it in
view, and the sentence a screen reader says about it.

The neighbour search itself (Qt-free) is :mod:`icbmap.app.map.keycursor`; the view draws the
cursor on its highlight layer and announces what this module describes.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainterPath

from icbmap.app.map import keycursor
from icbmap.app.map.canvas import MapCanvas
from icbmap.names import short_board_name

ARROWS = {Qt.Key.Key_Left: "left", Qt.Key.Key_Right: "right", Qt.Key.Key_Up: "up", Qt.Key.Key_Down: "down"}

LEVEL_WORDS = {"unit": "LSOA", "district": "district", "council": "council", "place": "place",
               "board": "board"}


class KeyboardCursor:
    """A unit inside the area the cursor is on (-1: no cursor yet)."""

    def __init__(self, view: MapCanvas):
        self.view = view
        self.unit = -1
        self._graphs: dict[str, keycursor.AreaGraph] = {}

    def handle_key(self, key) -> bool:
        """Arrows move the cursor, Space toggles its area in the selection, Enter selects
        only it; True when ``key`` was one of these."""
        if key in ARROWS:
            self.move(ARROWS[key])
        elif key == Qt.Key.Key_Space:
            self.to_selection(add=True)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.to_selection(add=False)
        else:
            return False
        return True

    def boards_changed(self) -> None:
        """The assignment changed (it is edited in place): the board graph is made afresh
        when next needed."""
        self._graphs.pop("board", None)

    def graph(self) -> keycursor.AreaGraph:
        """Neighbouring areas at the view's level (boards: rebuilt after every edit)."""
        v = self.view
        level = v.level
        if level == "board":
            if "board" not in self._graphs:
                self._graphs["board"] = keycursor.AreaGraph(v.atlas.adjacency, v.assignment)
            return self._graphs["board"]
        if level not in self._graphs:
            codes = np.arange(v.atlas.n_units) if level == "unit" else v.atlas.unit_level(level)
            self._graphs[level] = keycursor.AreaGraph(v.atlas.adjacency, codes)
        return self._graphs[level]

    def unit_for_area(self, level: str, area: int) -> int:
        """A unit inside ``area``: the one under its label point when there is one."""
        v = self.view
        x, y = keycursor.area_point(v.shapes.area_points(level), area)
        if np.isfinite(x):
            u = v.shapes.unit_at_scene(QPointF(x, -y))
            if u >= 0 and v.area_of(u, level) == area:
                return u
        if level == "unit":
            return area
        codes = v.assignment if level == "board" else v.atlas.unit_level(level)
        members = np.flatnonzero(codes == area)
        return int(members[0]) if len(members) else -1

    def place(self, unit: int | None = None) -> None:
        """Put the cursor on ``unit``'s area (default: the selection, else the area at the
        centre of the view, else the unit nearest to it)."""
        v = self.view
        if unit is None:
            if len(v.selected_units):
                unit = int(v.selected_units[0])
            else:
                unit = v.unit_at(v.viewport().rect().center())
            if unit < 0:  # the centre is at sea: the nearest unit
                c = v.visible_scene_rect().center()
                xy = v.atlas.unit_xy
                unit = int(np.argmin(np.hypot(xy[:, 0] - c.x(), xy[:, 1] + c.y())))
        self.set(unit)

    def move(self, direction: str) -> bool:
        """Move to the neighbouring area in ``direction`` (left/right/up/down)."""
        v = self.view
        if self.unit < 0:
            self.place()
            return True
        area = v.area_of(self.unit)
        nxt = keycursor.step(self.graph(), area, v.shapes.area_points(v.level), direction)
        if nxt is None:
            v.announce(f"No neighbouring {self.level_word()} to the {keycursor.COMPASS[direction]}")
            return False
        self.set(self.unit_for_area(v.level, nxt))
        return True

    def to_selection(self, add: bool = True) -> None:
        """Space: add (or, if already in, remove) the cursor's area; Enter: select only it."""
        if self.unit < 0:
            self.place()
            return
        self.view.select_area_of(self.unit, add=add)

    def refresh(self) -> None:
        """Redraw the cursor after the level changed."""
        if self.unit >= 0:
            self.set(self.unit)

    def set(self, unit: int) -> None:
        v = self.view
        self.unit = unit
        units = v.area_units(unit) if unit >= 0 else np.zeros(0, dtype=np.int64)
        if v.level == "board" and unit >= 0:
            v.highlight.cursor = v.fill.paths.get(int(v.assignment[unit]), QPainterPath())
        elif v.level == "unit" or unit < 0:
            v.highlight.cursor = v.shapes.unit_path(unit) if unit >= 0 else QPainterPath()
        else:
            v.highlight.cursor = v.shapes.area_path(v.level, v.area_of(unit))
        v.highlight.update()
        if len(units):
            self.keep_in_view()
            v.announce(self.describe())

    def keep_in_view(self) -> None:
        v = self.view
        x, y = keycursor.area_point(v.shapes.area_points(v.level), v.area_of(self.unit))
        if not np.isfinite(x):
            return
        margin = 40
        vp = v.mapFromScene(QPointF(x, -y))
        if not v.viewport().rect().adjusted(margin, margin, -margin, -margin).contains(vp):
            v.centre_on(x, -y)

    def level_word(self) -> str:
        return LEVEL_WORDS[self.view.level]

    def describe(self) -> str:
        """'Waverley, district, 128,221 people, Surrey Heartlands' for the cursor's area."""
        if self.unit < 0:
            return ""
        v = self.view
        return self.describe_area(v.area_units(self.unit), v.area_of(self.unit), v.level)

    def describe_area(self, units: np.ndarray, area: int, level: str) -> str:
        v = self.view
        pop = int(v.atlas.population[units].sum()) if len(units) else 0
        boards = np.unique(v.assignment[units]) if len(units) else []
        board_names = [short_board_name(v.board_names.get(int(b), "unassigned")) for b in boards]
        if level == "board":
            return f"{board_names[0] if board_names else area}, board, {pop:,} people"
        if level == "unit":
            name = f"{v.atlas.units['name'].iat[area]} ({v.atlas.units['code'].iat[area]})"
        else:
            name = str(v.atlas.layers[level].table["name"].iat[area])
        where = board_names[0] if len(board_names) == 1 else "split between " + " and ".join(
            [", ".join(board_names[:-1]), board_names[-1]]) if board_names else "unassigned"
        state = ", selected" if len(units) and np.isin(units, v.selected_units).all() else ""
        return f"{name}, {LEVEL_WORDS[level]}, {pop:,} people, {where}{state}"
