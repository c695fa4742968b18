"""The map canvas as its parts see it: the one contract between the map view
(:class:`icbmap.app.map.view.MapView`, which provides all of it) and the modules that work
on it - the map tools, the keyboard cursor and the label placement.

The parts depend on this protocol, never on the view's module, so there is no import
circle between the view and its parts (``tests/test_layering.py`` checks both that and
that the view provides every member listed here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from PySide6.QtCore import QPoint, QPointF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget


class MapCanvas(Protocol):
    # ---- told by the controller
    atlas: Any
    assignment: np.ndarray                  # board id of every LSOA
    board_names: dict[int, str]
    board_colours: dict[int, QColor]
    board_population: dict[int, int]
    locked_boards: set[int]
    # ---- state
    level: str                              # selection level: unit, district, council, place, board
    selected_units: np.ndarray
    selected_practices: np.ndarray
    show_board_labels: bool
    show_area_labels: bool
    tools: dict[str, Any]                   # name -> MapTool
    map_tool: Any                           # the active MapTool
    gesture: Any                            # the MapTool running the gesture under way, or None
    dropTargetQuery: Callable[[Any], int | None] | None
    # ---- parts and layers
    shapes: Any                             # icbmap.app.map.shapes.MapShapes
    fill: Any                               # layers.BoardFillLayer
    highlight: Any                          # layers.HighlightLayer
    outlines: dict[str, Any]                # level -> layers.OutlineLayer
    # ---- signals (Qt SignalInstance)
    dragStatus: Any
    moveRequested: Any
    practicesMoveRequested: Any
    paintStarted: Any
    paintArea: Any
    paintFinished: Any

    # ---- QGraphicsView
    def viewport(self) -> QWidget: ...
    def mapToScene(self, p: QPoint) -> QPointF: ...
    def mapFromScene(self, p: QPointF) -> QPoint: ...

    # ---- what is where
    def unit_at(self, view_pos: QPoint) -> int: ...
    def practice_at(self, view_pos: QPoint, radius_px: float = 7.0) -> int: ...
    def area_of(self, unit: int, level: str | None = None) -> int: ...
    def area_units(self, unit: int, level: str | None = None) -> np.ndarray: ...

    # ---- selection, view, announcements
    def set_selection(self, units: np.ndarray, practices: np.ndarray | None = None) -> None: ...
    def clear_selection(self) -> None: ...
    def cancel_gesture(self) -> None: ...
    def select_area_of(self, unit: int, add: bool = False) -> None: ...
    def select_inside(self, inside: Callable, add: bool = False) -> None: ...
    def current_scale(self) -> float: ...
    def visible_scene_rect(self) -> Any: ...
    def pan_by_pixels(self, dx: float, dy: float) -> None: ...
    def centre_on(self, x: float, y: float) -> None: ...
    def announce(self, text: str) -> None: ...
