"""Map layers beside the principles: NHS trusts by headquarters (acute distinct) and a
reference geography's outlines and labels; their controls in the Layers dock and their
legend entries (:func:`install_layers`).
"""

from __future__ import annotations

from html import escape

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QWidget

from icbmap.app.map.layers import _Layer

TRUST_NOTE = "Headquarters are not catchments: a trust serves people far beyond the LSOA of its head office."


def nice_trust_name(name: str) -> str:
    words = str(name).title().split()
    small = {"And", "Of", "The", "For"}
    out = [w if i == 0 or w not in small else w.lower() for i, w in enumerate(words)]
    return " ".join(out).replace("Nhs", "NHS").replace("Uk", "UK")


class TrustsLayer(_Layer):
    """NHS trust headquarters: acute trusts as red squares, specialist acute as hollow red
    squares, others as small grey diamonds; names when zoomed in."""

    def __init__(self, rect: QRectF, trusts):
        super().__init__(rect)
        self.t = trusts
        self.xy = trusts[["x", "y"]].to_numpy(float) if trusts is not None else np.zeros((0, 2))
        self.kind = trusts["kind"].to_numpy() if trusts is not None else np.zeros(0, object)
        self.names = [nice_trust_name(n) for n in trusts["name"]] if trusts is not None else []
        self.font = QFont()
        self.font.setPointSizeF(7.5)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if not len(self.xy):
            return
        scale = self.scale_of(painter)
        ex = option.exposedRect
        x, y = self.xy[:, 0], -self.xy[:, 1]
        vis = np.flatnonzero((x >= ex.left()) & (x <= ex.right()) & (y >= ex.top()) & (y <= ex.bottom()))
        r = (4.5 if scale > 1 / 2000 else 3.0) / scale
        edge = QPen(QColor("#202020"), 1.0)
        edge.setCosmetic(True)
        red = QPen(QColor("#b71c1c"), 2.0)
        red.setCosmetic(True)
        for i in vis:
            k = self.kind[i]
            p = QPointF(x[i], y[i])
            if k == "acute":
                painter.setPen(edge)
                painter.setBrush(QColor("#d32f2f"))
                painter.drawRect(QRectF(p.x() - r, p.y() - r, 2 * r, 2 * r))
            elif k == "acute (specialist)":
                painter.setPen(red)
                painter.setBrush(QColor(255, 255, 255, 200))
                painter.drawRect(QRectF(p.x() - r * 0.8, p.y() - r * 0.8, 1.6 * r, 1.6 * r))
            else:
                painter.setPen(edge)
                painter.setBrush(QColor("#9e9e9e"))
                d = r * 0.75
                painter.drawPolygon(QPolygonF([QPointF(p.x(), p.y() - d), QPointF(p.x() + d, p.y()),
                                               QPointF(p.x(), p.y() + d), QPointF(p.x() - d, p.y())]))
        if scale > 1 / 400 and len(vis) < 60:
            t = painter.worldTransform()
            painter.save()
            painter.resetTransform()
            painter.setFont(self.font)
            painter.setPen(QColor("#3e2723"))
            for i in vis:
                if self.kind[i] not in ("acute", "acute (specialist)"):
                    continue
                dp = t.map(QPointF(x[i], y[i]))
                painter.drawText(dp + QPointF(7, 4), self.names[i])
            painter.restore()


class ReferenceLayer(_Layer):
    """A reference geography: dark teal outlines and labels (name, status, date)."""

    def __init__(self, rect: QRectF, atlas, ref):
        from icbmap.app.map import geomqt
        from icbmap.atlas.references import reference_geometry

        super().__init__(rect)
        geoms = reference_geometry(atlas, ref)
        ok = np.array([g is not None for g in geoms])
        import shapely

        lines = shapely.boundary(np.asarray(geoms[ok], dtype=object))
        self.path = geomqt.lines_path(shapely.union_all(lines))
        self.pen = QPen(QColor("#00695c"), 2.4)
        self.pen.setCosmetic(True)
        self.pen.setDashPattern([6.0, 2.0])
        t = ref.layer.table
        pts = [shapely.point_on_surface(g) if g is not None else None for g in geoms]
        self.labels = [(p.x, -p.y, lab) for p, lab in zip(pts, t["label"]) if p is not None]
        self.font = QFont()
        self.font.setPointSizeF(8)
        self.font.setItalic(True)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(self.pen)
        painter.drawPath(self.path)
        if self.scale_of(painter) < 1 / 1500:    # labels only once zoomed in past England
            return
        t = painter.worldTransform()
        painter.save()
        painter.resetTransform()
        painter.setFont(self.font)
        ex = option.exposedRect
        for x, y, lab in self.labels:
            if not ex.contains(QPointF(x, y)):
                continue
            dp = t.map(QPointF(x, y))
            w = painter.fontMetrics().horizontalAdvance(lab)
            box = QRectF(dp.x() - w / 2 - 3, dp.y() - 8, w + 6, 15)
            painter.fillRect(box, QColor(255, 255, 255, 190))
            painter.setPen(QColor("#004d40"))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, lab)
        painter.restore()



def install_layers(window) -> None:
    """The trusts and reference-geography layers: their Layers-dock controls and legend entries."""
    # layers: trusts and a reference geography
    lp = window.layers
    lay = lp.layout()
    box = QCheckBox("NHS trusts (headquarters; acute in red)")
    box.setToolTip(TRUST_NOTE)
    box.setEnabled(window.atlas.trusts is not None)
    lay.insertWidget(lay.count() - 1, box)
    ref_row = QWidget(lp)
    h = QHBoxLayout(ref_row)
    h.setContentsMargins(0, 0, 0, 0)
    h.addWidget(QLabel("Reference geography:"))
    ref_combo = QComboBox(ref_row)
    h.addWidget(ref_combo, 1)
    lay.insertWidget(lay.count() - 1, ref_row)
    window.trusts_box, window.reference_combo = box, ref_combo
    state = {"trusts": None, "ref": None}

    def fill_refs():
        cur = ref_combo.currentData()
        ref_combo.blockSignals(True)
        ref_combo.clear()
        ref_combo.addItem("(none)", None)
        for key, ref in window.atlas.references.items():
            ref_combo.addItem(ref.label, key)
        ref_combo.setCurrentIndex(max(ref_combo.findData(cur), 0))
        ref_combo.blockSignals(False)

    def show_trusts(on: bool):
        if on and state["trusts"] is None:
            item = TrustsLayer(window.map.fill.boundingRect(), window.atlas.trusts)
            item.setZValue(8.5)
            window.map.scene().addItem(item)
            state["trusts"] = item
        if state["trusts"] is not None:
            state["trusts"].setVisible(on)
        window.map.viewport().update()

    def show_ref(_i=None):
        key = ref_combo.currentData()
        if state["ref"] is not None:
            window.map.scene().removeItem(state["ref"])
            state["ref"] = None
        if key is not None:
            window.setCursor(Qt.CursorShape.WaitCursor)
            try:
                item = ReferenceLayer(window.map.fill.boundingRect(), window.atlas, window.atlas.references[key])
            finally:
                window.unsetCursor()
            item.setZValue(7.5)
            window.map.scene().addItem(item)
            state["ref"] = item
        window.map.viewport().update()

    box.toggled.connect(show_trusts)
    ref_combo.currentIndexChanged.connect(show_ref)
    fill_refs()
    window._principles_layers = (fill_refs, show_trusts, show_ref, state)

    # legend: the extra layers
    original = window.legend.set_content

    def set_content(atlas, boards):
        original(atlas, boards)
        parts = ["<h4>Principles and reference layers</h4><p>"
                 f"<span style='color:#d32f2f'>&#9632;</span> acute NHS trust headquarters (type 1 A&amp;E); "
                 f"<span style='color:#b71c1c'>&#9633;</span> specialist acute trust; "
                 f"<span style='color:#757575'>&#9670;</span> other trusts. <b>{escape(TRUST_NOTE)}</b></p>"
                 "<p><span style='color:#00695c'>- - -</span> reference geography (labels give each area's "
                 "status and date). Codes starting <i>icbmap:</i> are local codes, not ONS codes.</p><ul>"]
        for ref in atlas.references.values():
            areas = "; ".join(escape(x) for x in ref.layer.table["label"])
            parts.append(f"<li><b>{escape(ref.label)}</b>: {escape(ref.layer.provenance.line())}"
                         f"<br><span style='color:#555'>{areas}</span></li>")
        if "trusts" in atlas.provenance:
            parts.append(f"<li><b>NHS trusts</b>: {escape(atlas.provenance['trusts'].line())}</li>")
        window.legend.append("".join(parts) + "</ul>")

    window.legend.set_content = set_content
