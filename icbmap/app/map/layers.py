"""The map's layers: a few custom ``QGraphicsItem``s that cover the whole map and paint
only what the exposed rectangle needs (not one item per LSOA)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from icbmap.app.map import geomqt
from icbmap.mapstyle import OUTLINE_STYLE  # noqa: F401 - shared with the GeoPackage export


class UnitShapes(Protocol):
    """What the LSOA-lines layer needs to know (the map view provides it; the layers never
    import the view)."""

    def units_in_scene_rect(self, rect: QRectF) -> np.ndarray: ...

    def unit_path(self, u: int) -> QPainterPath: ...

#: zoom (device pixels per metre) above which LSOA boundaries are drawn
LSOA_LINES_MIN_SCALE = 1 / 120.0


class _Layer(QGraphicsItem):
    """Base: an item covering the whole map whose paint gets the exposed rectangle."""

    def __init__(self, rect: QRectF):
        super().__init__()
        self._rect = rect
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt API)
        return self._rect

    @staticmethod
    def scale_of(painter: QPainter) -> float:
        return QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())


class BoardFillLayer(_Layer):
    def __init__(self, rect: QRectF):
        super().__init__(rect)
        self.paths: dict[int, QPainterPath] = {}
        self.colours: dict[int, QColor] = {}
        self.opacity_fill = 0.85
        self.show_fill = True
        self.outline_pen = QPen(QColor("#ffffff"), 1.0)
        self.outline_pen.setCosmetic(True)
        self.outline_pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        exposed = option.exposedRect
        painter.setPen(Qt.PenStyle.NoPen)
        for bid, path in self.paths.items():
            if not path.boundingRect().intersects(exposed):
                continue
            colour = QColor(self.colours.get(bid, QColor("#cccccc")))
            if not self.show_fill:
                colour.setAlphaF(0.0)
            else:
                colour.setAlphaF(self.opacity_fill)
            painter.fillPath(path, colour)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(self.outline_pen)
        for path in self.paths.values():
            if path.boundingRect().intersects(exposed):
                painter.drawPath(path)


class OutlineLayer(_Layer):
    def __init__(self, rect: QRectF, path: QPainterPath, colour: str, width: float, dash):
        super().__init__(rect)
        self.path = path
        self.pen = QPen(QColor(colour), width)
        self.pen.setCosmetic(True)
        self.pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        if dash:
            self.pen.setDashPattern(dash)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(self.pen)
        painter.drawPath(self.path)


class UnitLinesLayer(_Layer):
    """LSOA boundaries, only when zoomed in, only for LSOAs in view."""

    def __init__(self, rect: QRectF, shapes: UnitShapes):
        super().__init__(rect)
        self.shapes = shapes
        self.pen = QPen(QColor(60, 60, 60, 120), 0.5)
        self.pen.setCosmetic(True)
        self.max_units = 8000

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if self.scale_of(painter) < LSOA_LINES_MIN_SCALE:
            return
        units = self.shapes.units_in_scene_rect(option.exposedRect)
        if len(units) > self.max_units:
            return
        painter.setPen(self.pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for u in units:
            painter.drawPath(self.shapes.unit_path(int(u)))


class HighlightLayer(_Layer):
    """Selection (hatched, thick outline), hover outline and the drag ghost."""

    def __init__(self, rect: QRectF):
        super().__init__(rect)
        self.selection = QPainterPath()
        self.hover = QPainterPath()
        self.cursor = QPainterPath()          # the keyboard cursor's area
        self.target = QPainterPath()
        self.ghost_offset: QPointF | None = None
        self.stroke = QPainterPath()
        self.stroke_colour = QColor("#000000")
        sel_pen = QPen(QColor("#000000"), 2.6)
        sel_pen.setCosmetic(True)
        self.sel_pen = sel_pen
        inner = QPen(QColor("#ffeb3b"), 1.2)
        inner.setCosmetic(True)
        self.sel_inner = inner
        hov = QPen(QColor("#111111"), 1.6)
        hov.setCosmetic(True)
        hov.setStyle(Qt.PenStyle.DashLine)
        self.hover_pen = hov
        cur = QPen(QColor("#0d47a1"), 3.2)
        cur.setCosmetic(True)
        cur.setStyle(Qt.PenStyle.DashLine)
        self.cursor_pen = cur
        tgt = QPen(QColor("#d81b60"), 3.0)
        tgt.setCosmetic(True)
        self.target_pen = tgt

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if not self.stroke.isEmpty():
            c = QColor(self.stroke_colour)
            c.setAlphaF(0.6)
            painter.fillPath(self.stroke, c)
        if not self.selection.isEmpty():
            brush = QBrush(QColor(255, 235, 59, 110))
            painter.fillPath(self.selection, brush)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(self.sel_pen)
            painter.drawPath(self.selection)
            painter.setPen(self.sel_inner)
            painter.drawPath(self.selection)
        if not self.target.isEmpty():
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(self.target_pen)
            painter.drawPath(self.target)
        if not self.cursor.isEmpty():
            painter.setBrush(Qt.BrushStyle.NoBrush)
            halo = QPen(QColor("#ffffff"), 5.5)
            halo.setCosmetic(True)
            painter.setPen(halo)
            painter.drawPath(self.cursor)
            painter.setPen(self.cursor_pen)
            painter.drawPath(self.cursor)
        if not self.hover.isEmpty():
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(self.hover_pen)
            painter.drawPath(self.hover)
        if self.ghost_offset is not None and not self.selection.isEmpty():
            ghost = self.selection.translated(self.ghost_offset)
            painter.fillPath(ghost, QColor(30, 30, 30, 70))
            pen = QPen(QColor("#000000"), 1.5)
            pen.setCosmetic(True)
            pen.setStyle(Qt.PenStyle.DotLine)
            painter.setPen(pen)
            painter.drawPath(ghost)


#: zoomed out beyond this (pixels per metre: 1 px = 400 m), practices are small dots that a
#: click passes through to the area beneath; zoomed in, circles sized by list that can be dragged
PRACTICE_DETAIL_SCALE = 1 / 400


class PracticeLayer(_Layer):
    """GP practices as circles, area proportional to list size, coloured by board.

    Level of detail: at England or region zoom the 6,000-odd practices are drawn as 1.5 px
    dots without edges (they would otherwise hide the board fills) and are not picked by the
    mouse; zoomed in past :data:`PRACTICE_DETAIL_SCALE` they are circles and can be dragged.
    """

    def __init__(self, rect: QRectF):
        super().__init__(rect)
        self.xy = np.zeros((0, 2))
        self.size = np.zeros(0)
        self.board = np.zeros(0, dtype=np.int32)
        self.colours: dict[int, QColor] = {}
        self.selected = np.zeros(0, dtype=bool)

    def hit(self, p: QPointF, scale: float, radius_px: float = 7.0) -> int:
        """The practice within ``radius_px`` of scene point ``p`` (nearest), or -1; none when
        hidden or zoomed out (dots a click passes through)."""
        xy = self.xy
        if len(xy) == 0 or not self.isVisible() or scale < PRACTICE_DETAIL_SCALE:
            return -1
        d = np.hypot(xy[:, 0] - p.x(), -xy[:, 1] - p.y()) * scale
        d = np.where(np.isfinite(d), d, np.inf)
        i = int(np.argmin(d))
        return i if d[i] <= radius_px else -1

    def rows_inside(self, inside) -> np.ndarray:
        """Rows of the practices (with a location) whose BNG point passes ``inside(x, y)``."""
        xy = self.xy
        ok = np.isfinite(xy[:, 0]) if len(xy) else np.zeros(0, dtype=bool)
        res = np.zeros(len(xy), dtype=bool)
        res[ok] = inside(xy[ok, 0], xy[ok, 1])
        return np.flatnonzero(res)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if len(self.xy) == 0:
            return
        scale = self.scale_of(painter)
        exposed = option.exposedRect
        x, y = self.xy[:, 0], -self.xy[:, 1]
        vis = ((x >= exposed.left()) & (x <= exposed.right()) & (y >= exposed.top()) & (y <= exposed.bottom()))
        idx = np.flatnonzero(vis & np.isfinite(x))
        if scale < PRACTICE_DETAIL_SCALE:
            painter.setPen(Qt.PenStyle.NoPen)
            r = 1.5 / scale
            for i in idx:
                painter.setBrush(QColor(self.colours.get(int(self.board[i]), QColor("#999999"))).darker(160))
                painter.drawEllipse(QPointF(x[i], y[i]), r, r)
            return
        # radius in pixels: 2..9 by list size; converted to scene units
        rpx = 2.0 + 7.0 * np.sqrt(np.clip(self.size[idx], 0, 40_000) / 40_000.0)
        edge = QPen(QColor("#202020"), 0.8)
        edge.setCosmetic(True)
        sel_edge = QPen(QColor("#ffeb3b"), 2.4)
        sel_edge.setCosmetic(True)
        for k, i in enumerate(idx):
            r = rpx[k] / scale
            painter.setPen(sel_edge if self.selected.size and self.selected[i] else edge)
            painter.setBrush(QColor(self.colours.get(int(self.board[i]), QColor("#999999"))).darker(125))
            painter.drawEllipse(QPointF(x[i], y[i]), r, r)


@dataclass
class LayerStack:
    fill: BoardFillLayer
    unit_lines: UnitLinesLayer
    outlines: dict[str, OutlineLayer]
    practices: PracticeLayer
    highlight: HighlightLayer


def add_layers(scene, rect: QRectF, atlas, shapes) -> LayerStack:
    """Add the map's layers to ``scene``, bottom to top: board fills (drawing the paths
    ``shapes`` dissolves), LSOA lines, outlines of districts, councils, combined
    authorities and NHS regions (councils and regions hidden at first), practices, and the
    highlight."""
    fill = BoardFillLayer(rect)
    fill.paths = shapes.board_paths  # the same dict: the fill draws what shapes dissolve
    unit_lines = UnitLinesLayer(rect, shapes)
    outlines: dict[str, OutlineLayer] = {}
    for level in ("district", "council", "ca", "region"):
        colour, width, dash = OUTLINE_STYLE[level]
        lines = geomqt.shared_boundaries(atlas.layers[level].geometry)
        outlines[level] = OutlineLayer(rect, geomqt.lines_path(lines), colour, width, dash)
    outlines["council"].setVisible(False)
    outlines["region"].setVisible(False)
    stack = LayerStack(fill, unit_lines, outlines, PracticeLayer(rect), HighlightLayer(rect))
    items = [fill, unit_lines, *outlines.values(), stack.practices, stack.highlight]
    for z, item in zip((0, 1, 2, 3, 4, 5, 8, 9), items, strict=True):
        item.setZValue(z)
        scene.addItem(item)
    return stack
