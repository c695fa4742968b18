"""Briefing pages onto a printer or the print preview, as vector graphics.

Each matplotlib page is rendered to SVG and drawn with ``QSvgRenderer`` onto the printer's
page, so a PDF printer gets vector output and the preview shows exactly the printed page.
"""

from __future__ import annotations

import io

from PySide6.QtCore import QByteArray, QRectF
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgRenderer


def figure_svg(figure) -> QByteArray:
    buf = io.BytesIO()
    figure.savefig(buf, format="svg")
    return QByteArray(buf.getvalue())


def paint_figures(printer, figures) -> int:
    """Draw ``figures`` one per page on ``printer``; returns the number of pages."""
    painter = QPainter()
    if not painter.begin(printer):
        return 0
    pages = 0
    try:
        for k, fig in enumerate(figures):
            if k:
                printer.newPage()
            renderer = QSvgRenderer(figure_svg(fig))
            page = QRectF(painter.viewport())
            size = renderer.defaultSize()
            scale = min(page.width() / max(size.width(), 1), page.height() / max(size.height(), 1))
            w, h = size.width() * scale, size.height() * scale
            target = QRectF(page.x() + (page.width() - w) / 2, page.y() + (page.height() - h) / 2, w, h)
            renderer.render(painter, target)
            pages += 1
    finally:
        painter.end()
    return pages
