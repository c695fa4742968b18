"""Briefing pages onto a printer or the print preview, as vector graphics.

Each matplotlib page is rendered to SVG and drawn with ``QSvgRenderer`` onto the printer's
page, so a printer gets vector output and the preview shows exactly the printed page.

"Print to file (PDF)" does not go through Qt's painter at all: the briefing is written by
matplotlib's PDF backend, the same compact vector file as File > Export briefing (Qt's PDF
engine expanded every glyph of the SVG into paths: 7.9 MB instead of 0.4 MB).
"""

from __future__ import annotations

import io
import re

from PySide6.QtCore import QByteArray, QRectF
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgRenderer


#: matplotlib writes glyphs without ink (the space) as ``<path id=".."/>`` with no ``d``;
#: Qt's SVG reader then warns "Invalid path data" and, for every use of that glyph,
#: "link #DejaVuSans-3 is undefined"
_EMPTY_GLYPH = re.compile(rb'<path id="([^"]+)"((?: transform="[^"]*")?)\s*/>')


def figure_svg(figure) -> QByteArray:
    buf = io.BytesIO()
    figure.savefig(buf, format="svg")
    data = _EMPTY_GLYPH.sub(rb'<path id="\1" d="M 0 0"\2/>', buf.getvalue())
    return QByteArray(data)


def pdf_file_target(printer) -> str | None:
    """The file name when ``printer`` prints to a PDF file, else None."""
    from PySide6.QtPrintSupport import QPrinter

    if printer.outputFormat() == QPrinter.OutputFormat.PdfFormat and printer.outputFileName():
        return printer.outputFileName()
    return None


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
