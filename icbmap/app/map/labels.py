"""Map label placement and painting, apart from the view (as QGIS's labelling engine is).

:func:`map_label_candidates` gathers what could be labelled in the view (boards, NHS
regions and combined authorities when their outlines show, districts or councils when
zoomed in) with a weight each; :func:`place_labels` places them greedily, heaviest first, so
they never overlap and never leave the viewport, trying a wrapped form of long board names
and a few small shifts off the anchor before giving a label up.  Given a :class:`BoardFit`,
a board's label must also sit on its own board (its centre inside the board, at most a
quarter of it over any other board); a crowded board tries smaller type, then a compact name
("NE & N Cumbria"), then its initials ("BLMK"), then a label off the map (over the sea or
Wales, on no board) with a leader line to its anchor.  :class:`LabelPainter` owns
the fonts and draws each label as a pixmap with a white halo, rendered once and then blitted
every frame.
"""

from __future__ import annotations

import functools
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

from icbmap.app.map.canvas import MapCanvas
from icbmap.export.labelfit import OTHER_BOARD_MAX, BoardFit  # noqa: F401 (Qt-free, shared with the PDF)
from icbmap.names import board_initials, compact_board_name, format_population, short_board_name

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
    board: int = -1            # the board a board label names
    small: bool = False        # drawn in the small type of a crowded map
    leader: tuple[float, float] | None = None   # viewport anchor a leader line runs to


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
            candidates.append((Label(name, format_population(pop), x, -y, pop * 10.0, board=bid), True))
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


@functools.lru_cache(maxsize=512)
def _variant_texts(name: str) -> tuple[str, ...]:
    out = []
    for form in dict.fromkeys([name, compact_board_name(name), board_initials(name)]):
        out.append("\n".join(textwrap.wrap(form, WRAP_AT)) if len(form) > WRAP_AT else form)
    return tuple(out) + (board_initials(name),)


def _board_variants(label: Label) -> list[Label]:
    """The forms a board label tries on a crowded map, largest first: the name wrapped in
    small type, its compact form, its initials, and the initials without the population."""
    texts = _variant_texts(label.text)
    return [Label(t, label.sub if k < len(texts) - 1 else "", label.x, label.y, label.weight, label.board, True)
            for k, t in enumerate(texts)]


#: leader-line spots: directions (unit vectors) and distances (in label sizes)
_LEADER_DIRS = [(math.cos(a), math.sin(a)) for a in np.radians([0, 180, 30, 150, 330, 210, 60, 120, 300, 240, 90, 270])]
_LEADER_DIST = (0.9, 1.4, 2.0, 2.8, 3.8, 5.0)
#: leader spots as centre offsets in label reaches, nearest first
_LEADER_SPOTS = np.array([(ux * d, uy * d) for d in _LEADER_DIST for ux, uy in _LEADER_DIRS])
#: shifts of a label off its anchor, in label widths and heights: the first five for every
#: label, the rest only for a board label that must stay on its board
_SPOTS_FIT = np.array([(0, 0), (0, -0.5), (0, 0.5), (-1 / 3, 0), (1 / 3, 0),
                       (-1 / 3, -0.5), (1 / 3, -0.5), (-1 / 3, 0.5), (1 / 3, 0.5),
                       (0, -1), (0, 1), (-0.5, 0), (0.5, 0)], dtype=float)
_SPOTS = _SPOTS_FIT[:5]


class _Boxes:
    """Rectangles (viewport px) kept as an array, for fast overlap and line tests."""

    def __init__(self):
        self.a = np.zeros((0, 4))
        self.rects: list[QRectF] = []

    def add(self, r: QRectF) -> None:
        self.a = np.vstack([self.a, [r.left(), r.top(), r.right(), r.bottom()]])
        self.rects.append(r)

    def hit(self, r: QRectF) -> bool:
        return any(r.intersects(t) for t in self.rects)

    def free_of(self, x0: np.ndarray, y0: np.ndarray, w: float, h: float) -> np.ndarray:
        """For boxes ``(x0, y0, w, h)`` (arrays of corners): whether each overlaps none kept."""
        a = self.a
        if not len(a):
            return np.ones(len(x0), bool)
        x0, y0 = x0[:, None], y0[:, None]
        over = (a[:, 0] < x0 + w) & (a[:, 2] > x0) & (a[:, 1] < y0 + h) & (a[:, 3] > y0)
        return ~over.any(axis=1)

    def crossed(self, x0: float, y0: float, x1: float, y1: float) -> bool:
        """Whether the segment passes through the inside of a rectangle (slab test)."""
        a = self.a
        if not len(a):
            return False
        dx, dy = x1 - x0, y1 - y0
        lo = np.zeros(len(a))
        hi = np.ones(len(a))
        ok = np.ones(len(a), bool)
        for d, p0, amin, amax in ((dx, x0, a[:, 0], a[:, 2]), (dy, y0, a[:, 1], a[:, 3])):
            if abs(d) < 1e-12:
                ok &= (p0 > amin) & (p0 < amax)
                continue
            t0, t1 = (amin - p0) / d, (amax - p0) / d
            lo = np.maximum(lo, np.minimum(t0, t1))
            hi = np.minimum(hi, np.maximum(t0, t1))
        return bool(np.any(ok & (hi - lo > 1e-9)))


def place_labels(candidates: Iterable[tuple[Label, bool]], to_view: Callable[[float, float], QPointF],
                 view_rect: QRectF, size: Callable[[Label, bool], tuple[float, float]],
                 fit: Callable[[Label, QRectF], bool] | None = None,
                 free: Callable[[QRectF], bool] | None = None, crowded: bool = False) -> list[Placed]:
    """Greedy placement, heaviest first: a label is placed at its anchor, or shifted a
    little off it, where it overlaps no label already placed and stays inside
    ``view_rect``; otherwise it is left out.

    With ``fit`` (label, viewport box -> whether it sits on its board), a board label must
    also fit its board; it tries the full name, smaller type, a compact name and its
    initials, and, after every other label is placed, a spot that ``free`` accepts (on no
    board) with a leader line back to its anchor.  ``crowded`` (the whole country on a small
    screen): board labels start in the small type."""
    placed: list[Placed] = []
    taken = _Boxes()
    left: list[tuple[Label, QPointF]] = []
    candidates = sorted(candidates, key=lambda c: -c[0].weight)
    # on a crowded map a board label leaves the other boards' anchors clear, for their leader lines
    anchor_list = [(c[0].board, to_view(c[0].x, c[0].y)) for c in candidates
                   if crowded and fit is not None and c[1] and c[0].board >= 0]
    anchors = [(b, (p.x(), p.y())) for b, p in anchor_list]
    all_anchors = []
    if free is not None:
        for c in candidates:
            if c[1] and c[0].board >= 0:
                p = to_view(c[0].x, c[0].y)
                all_anchors.append((c[0].board, (p.x(), p.y())))

    def clear(r: QRectF, board: int) -> bool:
        x0, y0, x1, y1 = r.left() - 3, r.top() - 3, r.right() + 3, r.bottom() + 3
        return not any(b != board and x0 <= x <= x1 and y0 <= y <= y1 for b, (x, y) in anchors)

    vx0, vy0, vx1, vy1 = view_rect.left(), view_rect.top(), view_rect.right(), view_rect.bottom()
    for label, bold in candidates:
        vp = to_view(label.x, label.y)
        ax_, ay_ = vp.x(), vp.y()
        if not view_rect.contains(ax_, ay_):
            continue
        variants = [label]
        if bold and len(label.text) > WRAP_AT:
            wrapped = "\n".join(textwrap.wrap(label.text, WRAP_AT))
            variants.insert(0, Label(wrapped, label.sub, label.x, label.y, label.weight, label.board))
        board_fit = fit is not None and bold and label.board >= 0
        if board_fit:
            variants = _board_variants(label) if crowded else variants + _board_variants(label)
        done = False
        for variant in variants:
            w, h = size(variant, bold)
            spots = _SPOTS_FIT if board_fit else _SPOTS
            xs = ax_ + spots[:, 0] * w - w / 2      # every spot's corner at once
            ys = ay_ + spots[:, 1] * h - h / 2
            ok = (xs >= vx0) & (ys >= vy0) & (xs + w <= vx1) & (ys + h <= vy1)
            ok &= taken.free_of(xs, ys, w, h)
            for k in np.flatnonzero(ok):
                r = QRectF(float(xs[k]), float(ys[k]), w, h)
                if not board_fit or (clear(r, label.board) and fit(variant, r)):
                    done = True
                    break
            if done:
                taken.add(r)
                placed.append((r, variant, bold))
                break
        if not done and board_fit and free is not None:
            left.append((label, vp))
    leaders: list = []
    for label, vp in left:          # leader lines, heaviest first, once the map is labelled
        variant = _board_variants(label)[-2]
        variant.leader = (vp.x(), vp.y())
        w, h = size(variant, True)
        reach = (w + h) / 2
        found = None
        xs = vp.x() + _LEADER_SPOTS[:, 0] * reach - w / 2
        ys = vp.y() + _LEADER_SPOTS[:, 1] * reach - h / 2
        ok = (xs >= vx0) & (ys >= vy0) & (xs + w <= vx1) & (ys + h <= vy1)
        ok &= taken.free_of(xs, ys, w, h)
        for k in np.flatnonzero(ok):
            r = QRectF(float(xs[k]), float(ys[k]), w, h)
            end = leader_end(r, vp.x(), vp.y())
            # the line crosses no other label and no other leader line
            if taken.crossed(vp.x(), vp.y(), end.x(), end.y()):
                continue
            line = shapely.LineString([(vp.x(), vp.y()), (end.x(), end.y())])
            if any(line.intersects(o) for o in leaders) or not free(r):
                continue
            # nor passes by another board's anchor (whose own leader line may start there)
            if any(b != label.board and line.distance(shapely.Point(x, y)) < 6 for b, (x, y) in all_anchors):
                continue
            found = r
            break
        if found is not None:
            taken.add(found)
            leaders.append(line)
            placed.append((found, variant, True))
    return placed


def leader_end(r: QRectF, x: float, y: float) -> QPointF:
    """Where a leader line from ``(x, y)`` meets the box ``r`` (the nearest point of it)."""
    return QPointF(min(max(x, r.left()), r.right()), min(max(y, r.top()), r.bottom()))


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
        # the small type of a crowded map (England on a laptop): never below 6.5 pt
        self.small_font = QFont(self.label_font)
        self.small_font.setPointSizeF(max(size * 0.78, 6.5))
        self.small_sub_font = QFont(self.sub_font)
        self.small_sub_font.setPointSizeF(max(size * 0.72, 6.0))
        self._pixmaps = {}
        self._sizes: dict[tuple, tuple[float, float]] = {}

    def _fonts(self, label: Label, bold: bool) -> tuple[QFont, QFont]:
        if label.small:
            return (self.small_font if bold else self.small_sub_font), self.small_sub_font
        return (self.label_font if bold else self.sub_font), self.sub_font

    def size(self, label: Label, bold: bool) -> tuple[float, float]:
        """Width and height of ``label`` in pixels (halo not included)."""
        key = (label.text, label.sub, bold, label.small)
        got = self._sizes.get(key)
        if got is None:
            if len(self._sizes) > self.MAX_CACHED:
                self._sizes.clear()
            got = self._sizes[key] = self._measure(label, bold)
        return got

    def _measure(self, label: Label, bold: bool) -> tuple[float, float]:
        main, sub = self._fonts(label, bold)
        f = QFontMetricsF(main)
        fs = QFontMetricsF(sub)
        lines = label.text.split("\n")
        w = max([f.horizontalAdvance(t) for t in lines] + [fs.horizontalAdvance(label.sub)]) + 8
        h = f.height() * len(lines) + (fs.height() if label.sub else 0) + 4
        return w, h

    def draw(self, painter: QPainter, r: QRectF, label: Label, bold: bool, ratio: float = 1.0) -> None:
        """Blit ``label`` centred on ``r`` (rendering it on first use)."""
        if label.leader is not None:
            end = leader_end(r, *label.leader)
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(LABEL_HALO, 3.0))
            painter.drawLine(QPointF(*label.leader), end)
            painter.setPen(QPen(QColor("#111111"), 1.0))
            painter.drawLine(QPointF(*label.leader), end)
            painter.setBrush(QColor("#111111"))
            painter.drawEllipse(QPointF(*label.leader), 1.8, 1.8)
            painter.restore()
        key = (label.text, label.sub, bold, label.small, ratio)
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
        font, sub_font = self._fonts(label, bold)
        fm = QFontMetricsF(font)
        fs = QFontMetricsF(sub_font)
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
            path.addText(QPointF((w - fs.horizontalAdvance(label.sub)) / 2, y + fs.ascent()), sub_font, label.sub)
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
