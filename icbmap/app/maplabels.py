"""Map label placement and painting, apart from the view (as QGIS's labelling engine is).

:func:`map_label_candidates` gathers what could be labelled in the view (boards, NHS
regions and combined authorities when their outlines show, districts or councils when
zoomed in) with a weight each; :func:`place_labels` places them greedily, heaviest first, so
they never overlap and never leave the viewport, trying a wrapped form of long board names
and a few small shifts off the anchor before giving a label up.  :class:`LabelPainter` owns
the fonts and draws each label as a pixmap with a white halo, rendered once and then blitted
every frame.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import shapely
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)

from icbmap.app.canvas import MapCanvas
from icbmap.names import format_population, short_board_name

#: map labels: dark ink inside an opaque white halo wide enough (2.25 px each side of the
#: glyphs) that the text keeps WCAG AA contrast (4.5:1) on every board colour beneath
LABEL_HALO = QColor(255, 255, 255)
LABEL_HALO_WIDTH = 4.5

#: zoom (device pixels per metre) above which district or council labels are drawn
DISTRICT_LABELS_MIN_SCALE = 1 / 600.0

#: board names longer than this many characters also try two or three shorter lines
WRAP_AT = 16


@dataclass
class Label:
    text: str
    sub: str
    x: float  # scene
    y: float
    weight: float


#: a placed label: its rectangle in viewport pixels, the label, and whether it is bold
Placed = tuple[QRectF, Label, bool]


def label_point(geom) -> tuple[float, float]:
    """A good label anchor (BNG): the pole of inaccessibility of the largest part."""
    if geom is None or shapely.is_empty(geom):
        return (math.nan, math.nan)
    parts = shapely.get_parts(geom)
    biggest = parts[int(np.argmax(shapely.area(parts)))]
    try:
        p = shapely.polylabel(biggest, tolerance=max(200.0, math.sqrt(biggest.area) / 50))
    except Exception:  # pragma: no cover - degenerate shapes
        p = shapely.point_on_surface(biggest)
    return (p.x, p.y)


def label_points(geoms) -> np.ndarray:
    """:func:`label_point` of every geometry, as an (n, 2) array."""
    return np.array([label_point(g) for g in geoms], dtype=float).reshape(-1, 2)


def map_label_candidates(view: MapCanvas) -> list[tuple[Label, bool]]:
    """Every label that could show now, weighted by population: boards (bold, with
    their population), then NHS regions and combined authorities when their outlines
    show, then districts or councils when zoomed in far enough."""
    candidates: list[tuple[Label, bool]] = []
    if view.show_board_labels:
        for bid, (x, y) in view.shapes.board_label_pt.items():
            pop = view.board_population.get(bid, 0)
            name = short_board_name(view.board_names.get(bid, ""))
            candidates.append((Label(name, format_population(pop), x, -y, pop * 10.0), True))
    if not view.show_area_labels:
        return candidates
    for level in ("region", "ca"):
        if not view.outlines[level].isVisible():
            continue
        table = view.atlas.layers[level].table
        pts = view.shapes.area_points(level)
        for i, (name, pop) in enumerate(zip(table["name"], table["population"])):
            candidates.append((Label(str(name), "", pts[i, 0], -pts[i, 1], float(pop) * 2), False))
    if view.current_scale() >= DISTRICT_LABELS_MIN_SCALE:
        level = "district" if view.outlines["district"].isVisible() else "council"
        table = view.atlas.layers[level].table
        pts = view.shapes.area_points(level)
        names = table["name"].to_numpy()
        pops = table["population"].to_numpy()
        for i in range(len(table)):
            candidates.append((Label(str(names[i]), "", pts[i, 0], -pts[i, 1], float(pops[i])), False))
    return candidates


def place_labels(candidates: Iterable[tuple[Label, bool]], to_view: Callable[[float, float], QPointF],
                 view_rect: QRectF, size: Callable[[Label, bool], tuple[float, float]]) -> list[Placed]:
    """Greedy placement, heaviest first: a label is placed at its anchor, or shifted a
    little off it, where it overlaps no label already placed and stays inside
    ``view_rect``; otherwise it is left out."""
    placed: list[Placed] = []
    taken: list[QRectF] = []
    for label, bold in sorted(candidates, key=lambda c: -c[0].weight):
        vp = to_view(label.x, label.y)
        if not view_rect.contains(vp.x(), vp.y()):
            continue
        variants = [label]
        if bold and len(label.text) > WRAP_AT:
            wrapped = "\n".join(textwrap.wrap(label.text, WRAP_AT))
            variants.insert(0, Label(wrapped, label.sub, label.x, label.y, label.weight))
        for variant in variants:
            w, h = size(variant, bold)
            spots = [(0.0, 0.0), (0.0, -h / 2), (0.0, h / 2), (-w / 3, 0.0), (w / 3, 0.0)]
            for dx, dy in spots:
                r = QRectF(vp.x() + dx - w / 2, vp.y() + dy - h / 2, w, h)
                if view_rect.contains(r) and not any(r.intersects(t) for t in taken):
                    break
            else:
                continue
            taken.append(r)
            placed.append((r, variant, bold))
            break
    return placed


class LabelPainter:
    """Fonts, sizes and halo pixmaps of the map labels."""

    MAX_CACHED = 2000

    def __init__(self, base: QFont | None = None):
        self._pixmaps: dict[tuple[str, str, bool, float], QPixmap] = {}
        self.set_fonts(base or QFont())

    def set_fonts(self, base: QFont) -> None:
        """Label fonts follow the system font: board names at its size, bold; area names
        and populations one step smaller (never below 7 pt)."""
        size = base.pointSizeF() if base.pointSizeF() > 0 else 9.0
        self.label_font = QFont(base)
        self.label_font.setPointSizeF(max(size * 0.95, 7.5))
        self.label_font.setBold(True)
        self.sub_font = QFont(base)
        self.sub_font.setPointSizeF(max(size * 0.85, 7.0))
        self._pixmaps = {}

    def size(self, label: Label, bold: bool) -> tuple[float, float]:
        """Width and height of ``label`` in pixels (halo not included)."""
        f = QFontMetricsF(self.label_font if bold else self.sub_font)
        fs = QFontMetricsF(self.sub_font)
        lines = label.text.split("\n")
        w = max([f.horizontalAdvance(t) for t in lines] + [fs.horizontalAdvance(label.sub)]) + 8
        h = f.height() * len(lines) + (fs.height() if label.sub else 0) + 4
        return w, h

    def draw(self, painter: QPainter, r: QRectF, label: Label, bold: bool, ratio: float = 1.0) -> None:
        """Blit ``label`` centred on ``r`` (rendering it on first use)."""
        key = (label.text, label.sub, bold, ratio)
        pix = self._pixmaps.get(key)
        if pix is None:
            pix = self.render(label, bold, ratio)
            if len(self._pixmaps) > self.MAX_CACHED:
                self._pixmaps.clear()
            self._pixmaps[key] = pix
        pr = pix.devicePixelRatio() or 1.0
        w, h = pix.width() / pr, pix.height() / pr
        painter.drawPixmap(QPointF(r.center().x() - w / 2, r.center().y() - h / 2), pix)

    def render(self, label: Label, bold: bool, ratio: float = 1.0) -> QPixmap:
        """A label with a white halo round every glyph, at device pixel ratio ``ratio``."""
        font = self.label_font if bold else self.sub_font
        fm = QFontMetricsF(font)
        fs = QFontMetricsF(self.sub_font)
        w, h = self.size(label, bold)
        pad = math.ceil(LABEL_HALO_WIDTH / 2) + 1  # room for the halo round every glyph
        w, h = w + 2 * pad, h + 2 * pad
        ratio = ratio or 1.0
        pix = QPixmap(int(math.ceil(w * ratio)), int(math.ceil(h * ratio)))
        pix.setDevicePixelRatio(ratio)
        pix.fill(Qt.GlobalColor.transparent)
        p = QPainter(pix)
        p.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        path = QPainterPath()
        y = 2.0 + pad
        for line in label.text.split("\n"):
            path.addText(QPointF((w - fm.horizontalAdvance(line)) / 2, y + fm.ascent()), font, line)
            y += fm.height()
        if label.sub:
            path.addText(QPointF((w - fs.horizontalAdvance(label.sub)) / 2, y + fs.ascent()), self.sub_font, label.sub)
        pen = QPen(LABEL_HALO, LABEL_HALO_WIDTH)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#111111") if bold else QColor("#333333"))
        p.drawPath(path)
        p.end()
        return pix
