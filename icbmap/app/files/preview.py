"""File ▸ Print preview without freezing the window (issue 22, item 2).

The briefing's pages are drawn (matplotlib, then SVG) in a worker thread; a progress dialog
with Cancel shows until page 1 is ready, then the preview opens on it while the further
pages are drawn (each shows as "Preparing page N…" until it is ready, the preview's title
says how far the drawing is).  Closing the preview stops the drawing.  The preview only
ever paints finished SVG pages (a few tenths of a second), never matplotlib.
"""

from __future__ import annotations

import atexit

import threading

from PySide6.QtCore import QObject, QRectF, Qt, QThread, Signal, Slot
from PySide6.QtGui import QFont, QImage, QPainter
from PySide6.QtWidgets import QProgressDialog

from icbmap.errors import Cancelled
from icbmap.progress import Progress


class _Job(QObject):
    """Runs in the worker thread: ``page(number, pages, page)`` per page, then ``done(exc)``."""

    progressed = Signal(float, str)
    page = Signal(int, int, object)
    done = Signal(object)

    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.cancel = threading.Event()

    @Slot()
    def run(self) -> None:
        progress = Progress(lambda f, m: self.progressed.emit(f, m), "Print preview")
        progress._cancel = self.cancel
        try:
            self.fn(progress, lambda n, total, svg: self.page.emit(n, total, svg))
        except BaseException as exc:  # told in the UI thread
            self.done.emit(exc)
        else:
            self.done.emit(None)
        finally:
            # the thread ends on its own once the job has returned, even when no event loop
            # runs in the UI thread any more to deliver ``done`` (a window closed at the end)
            QThread.currentThread().quit()


#: previews closed or cancelled while their worker still draws: kept until it has stopped
_STOPPING: set = set()
#: every worker thread started, so that the process never ends with one still running (Qt
#: aborts when a running QThread is destroyed)
_THREADS: list = []


@atexit.register
def _join_threads() -> None:
    for t in _THREADS:
        try:
            if t.isRunning():
                t.quit()
                t.wait(10_000)
        except RuntimeError:      # its C++ object is gone already: nothing runs
            pass


def _wait_at_quit() -> None:
    """At the application's end, wait for workers still stopping (a QThread must not be
    destroyed while it runs)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None or getattr(app, "_icbmap_preview_wait", False):
        return
    app._icbmap_preview_wait = True
    app.aboutToQuit.connect(lambda: [p._thread.wait(10_000) for p in list(_STOPPING)])


def _alive(thread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:
        return False


class PreviewPages(QObject):
    """The pages of one preview, drawn in a worker: ``svgs`` fills as pages arrive (SVG
    documents or images);
    ``first`` is emitted with page 1, ``changed`` with every page, ``finished`` at the end
    (``error`` holds the exception, ``Cancelled`` when cancelled)."""

    first = Signal()
    changed = Signal()
    finished = Signal()
    progressed = Signal(float, str)

    def __init__(self, fn, parent=None):
        super().__init__(parent)
        self.svgs: list[bytes] = []
        self.pages = 0
        self.error: BaseException | None = None
        self.running = True
        self._job = _Job(fn)
        self._thread = QThread()
        _THREADS[:] = [t for t in _THREADS if _alive(t)] + [self._thread]
        self._job.moveToThread(self._thread)
        q = Qt.ConnectionType.QueuedConnection
        self._job.page.connect(self._on_page, q)
        self._job.done.connect(self._on_done, q)
        self._job.progressed.connect(self.progressed, q)
        self._thread.started.connect(self._job.run)
        self._thread.start()

    @Slot(int, int, object)
    def _on_page(self, number: int, pages: int, page) -> None:
        self.pages = max(pages, number)
        if isinstance(page, tuple):  # (width, height, RGBA bytes): an image
            w, h, data = page
            page = QImage(data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        self.svgs.append(page)
        if number == 1:
            self.first.emit()
        self.changed.emit()

    @Slot(object)
    def _on_done(self, exc) -> None:
        self.running = False
        self.error = exc
        self._thread.quit()
        self._thread.wait()  # the job has returned: at once
        _STOPPING.discard(self)
        self.finished.emit()

    def cancel(self) -> None:
        """Stop the drawing: the worker stops at its next step, on its own time (the window
        does not wait for it); this object stays alive until then."""
        self._job.cancel.set()
        if self._thread.isRunning() and self.running:
            _STOPPING.add(self)
            _wait_at_quit()
        self.running = False

    def paint(self, printer) -> int:
        """Paint the pages ready so far on ``printer``, and a "Preparing page N…" page for
        each one still being drawn."""
        from PySide6.QtCore import QByteArray
        from PySide6.QtSvg import QSvgRenderer

        painter = QPainter()
        if not painter.begin(printer):
            return 0
        total = max(self.pages, len(self.svgs), 1)
        try:
            for k in range(total):
                if k:
                    printer.newPage()
                page = QRectF(painter.viewport())
                if k < len(self.svgs):
                    item = self.svgs[k]
                    renderer = None if isinstance(item, QImage) else QSvgRenderer(QByteArray(item))
                    size = item.size() if renderer is None else renderer.defaultSize()
                    scale = min(page.width() / max(size.width(), 1), page.height() / max(size.height(), 1))
                    w, h = size.width() * scale, size.height() * scale
                    target = QRectF(page.x() + (page.width() - w) / 2, page.y() + (page.height() - h) / 2, w, h)
                    if renderer is None:
                        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
                        painter.drawImage(target, item)
                    else:
                        renderer.render(painter, target)
                else:
                    font = QFont(painter.font())
                    font.setPointSizeF(16)
                    painter.setFont(font)
                    text = (f"Preparing page {k + 1} of {total}\u2026" if self.running
                            else f"Page {k + 1} was not drawn")
                    painter.drawText(page, Qt.AlignmentFlag.AlignCenter, text)
        finally:
            painter.end()
        return total


def start_with_progress(parent, fn, title: str = "Preparing the print preview") -> PreviewPages | None:
    """Start drawing; a progress dialog with Cancel shows until page 1 is ready.  Returns the
    pages (page 1 ready, the others on their way), or None when cancelled or failed (the
    ``error`` is re-raised: ``Cancelled`` when the user cancelled)."""
    from PySide6.QtCore import QEventLoop

    pages = PreviewPages(fn)
    dialog = QProgressDialog(title, "Cancel", 0, 1000, parent)
    dialog.setWindowTitle(title)
    from icbmap.app.dialogs.common import fit_title_and_text

    fit_title_and_text(dialog, title, "Checking the design principles")
    dialog.setWindowModality(Qt.WindowModality.WindowModal if parent else Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(200)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setValue(0)
    loop = QEventLoop()

    def show_progress(fraction: float, message: str) -> None:
        if not dialog.wasCanceled() and dialog.isVisible() or not pages.svgs:
            dialog.setValue(int(fraction * 1000))
            dialog.setLabelText(message)

    shown = pages.progressed.connect(show_progress)
    pages.first.connect(loop.quit)
    pages.finished.connect(loop.quit)
    dialog.canceled.connect(loop.quit)
    if not pages.svgs and pages.running:
        loop.exec()
    cancelled = dialog.wasCanceled()
    pages.progressed.disconnect(shown)
    dialog.close()
    dialog.deleteLater()
    if cancelled:
        pages.cancel()
        raise Cancelled("print preview")
    if not pages.svgs:
        pages.cancel()
        if pages.error is not None:
            raise pages.error
        return None
    return pages


def show_preview(window, printer, fn, title: str, exec_dialog: bool = True):
    """Draw with ``fn(progress, on_svg)`` in a worker and show the pages in a print preview
    of ``printer`` as they come.  Returns the preview dialog (None when cancelled); raises
    what the drawing raised before page 1."""
    from PySide6.QtPrintSupport import QPrintPreviewDialog, QPrintPreviewWidget

    pages = start_with_progress(window, fn)
    if pages is None:
        return None
    dlg = QPrintPreviewDialog(printer, window)
    dlg.pages, dlg.printer = pages, printer  # both live as long as the preview
    pages.setParent(dlg)
    widget = dlg.findChild(QPrintPreviewWidget)

    def retitle() -> None:
        more = (f" (drawing page {len(pages.svgs) + 1} of {pages.pages}\u2026)"
                if pages.running and len(pages.svgs) < pages.pages else "")
        dlg.setWindowTitle(title + more)

    def arrived() -> None:
        if not dlg.isVisible():
            return
        retitle()
        if widget is not None:
            widget.updatePreview()

    dlg.paintRequested.connect(pages.paint)
    pages.changed.connect(arrived)
    pages.finished.connect(arrived)
    def closed(_result) -> None:
        pages.changed.disconnect(arrived)
        pages.finished.disconnect(arrived)
        pages.cancel()

    dlg.finished.connect(closed)
    retitle()
    dlg.resize(1100, 800)  # shrunk to the screen when shown (app.screenfit)
    if exec_dialog:
        dlg.exec()
    else:
        dlg.show()
    return dlg
