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


def _briefing_pages(plan, paper, progress, on_page, render, kwargs) -> list:
    """Draw the briefing page by page: ``render(fig)`` turns each matplotlib page into what is
    kept (SVG bytes or an image), and ``on_page(number, pages, kept)`` hears of it at once."""
    import matplotlib

    from icbmap.export.briefing import briefing_figures
    from icbmap.progress import Progress

    progress = progress or Progress.silent()
    out: list = []

    def page_made(fig, number: int, pages: int) -> None:
        progress.check()
        out.append(render(fig))
        fig.clear()
        if on_page is not None:
            on_page(number, pages, out[-1])

    with matplotlib.rc_context({"font.family": "DejaVu Sans"}):
        briefing_figures(plan, paper=paper, progress=progress, on_page=page_made, **kwargs)
    progress.step(1.0, "Pages ready")
    return out


def briefing_svgs(plan, paper: str = "A4", progress=None, on_svg=None, **kwargs) -> list[bytes]:
    """The briefing's pages as SVG documents (page 1 first), made without Qt widgets so
    that it runs in a worker thread: the print preview paints them and never draws with
    matplotlib in the UI thread (the preview used to freeze the window for 6 s).
    ``on_svg(number, pages, svg)`` is called as soon as each page is ready."""
    return _briefing_pages(plan, paper, progress, on_svg, lambda fig: bytes(figure_svg(fig).data()), kwargs)


def briefing_images(plan, paper: str = "A4", progress=None, on_page=None, dpi: int = 120,
                    **kwargs) -> list[tuple[int, int, bytes]]:
    """The briefing's pages as RGBA images ``(width, height, bytes)`` at ``dpi`` (matplotlib's
    own renderer, in the calling thread): what the print preview shows.  Painting a finished
    image is instant where replaying the vector page took the UI thread a second.
    ``on_page(number, pages, image)`` is called as soon as each page is ready."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def image(fig) -> tuple[int, int, bytes]:
        fig.set_dpi(dpi)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        w, h = canvas.get_width_height()
        return w, h, bytes(canvas.buffer_rgba())

    return _briefing_pages(plan, paper, progress, on_page, image, kwargs)


def paint_svgs(printer, pages) -> int:
    """Draw the SVG documents ``pages`` one per page on ``printer``, each centred and scaled
    to the page; returns the number of pages."""
    painter = QPainter()
    if not painter.begin(printer):
        return 0
    count = 0
    try:
        for k, data in enumerate(pages):
            if k:
                printer.newPage()
            renderer = QSvgRenderer(QByteArray(data))
            page = QRectF(painter.viewport())
            size = renderer.defaultSize()
            scale = min(page.width() / max(size.width(), 1), page.height() / max(size.height(), 1))
            w, h = size.width() * scale, size.height() * scale
            target = QRectF(page.x() + (page.width() - w) / 2, page.y() + (page.height() - h) / 2, w, h)
            renderer.render(painter, target)
            count += 1
    finally:
        painter.end()
    return count


def paint_figures(printer, figures) -> int:
    """Draw ``figures`` one per page on ``printer``; returns the number of pages."""
    return paint_svgs(printer, [bytes(figure_svg(fig).data()) for fig in figures])
