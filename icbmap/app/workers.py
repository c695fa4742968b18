"""Long work off the UI thread, with a progress dialog and Cancel.

``run_with_progress(parent, title, fn)`` runs ``fn(progress)`` in a ``QThread`` while a
``QProgressDialog`` shows the model's :class:`~icbmap.progress.Progress` messages; Cancel
sets the progress's cancel flag, which the model checks between steps.  A local event loop
keeps the window painting and responsive meanwhile.  The result is returned, or the
model's exception re-raised in the UI thread (``Cancelled`` when cancelled).
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QEventLoop, QObject, QThread, Qt, Signal, Slot
from PySide6.QtWidgets import QApplication, QProgressDialog

from icbmap.progress import Progress


class _Worker(QObject):
    progressed = Signal(float, str)
    done = Signal(object, object)  # result, exception

    def __init__(self, fn: Callable[[Progress], Any], progress: Progress):
        super().__init__()
        self.fn = fn
        self.progress = progress

    @Slot()
    def run(self) -> None:
        try:
            result = self.fn(self.progress)
        except BaseException as exc:  # re-raised in the UI thread
            self.done.emit(None, exc)
            return
        self.done.emit(result, None)


def run_with_progress(parent, title: str, fn: Callable[[Progress], Any], *,
                      min_duration_ms: int = 400, label: str | None = None) -> Any:
    dialog = QProgressDialog(label or title, "Cancel", 0, 1000, parent)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModality.WindowModal if parent else Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(min_duration_ms)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setValue(0)

    worker_progress: Progress
    box: dict[str, Any] = {}

    def forward(fraction: float, message: str) -> None:
        worker.progressed.emit(fraction, message)

    worker_progress = Progress(forward, title)
    worker = _Worker(fn, worker_progress)
    thread = QThread()
    worker.moveToThread(thread)
    loop = QEventLoop()

    def on_progress(fraction: float, message: str) -> None:
        dialog.setValue(int(fraction * 1000))
        dialog.setLabelText(message)

    def on_done(result, exc) -> None:
        box["result"], box["exc"] = result, exc
        loop.quit()

    worker.progressed.connect(on_progress, Qt.ConnectionType.QueuedConnection)
    worker.done.connect(on_done, Qt.ConnectionType.QueuedConnection)
    dialog.canceled.connect(worker_progress.cancel)
    thread.started.connect(worker.run)
    thread.start()
    if "exc" not in box:
        loop.exec()
    thread.quit()
    thread.wait()
    dialog.close()
    dialog.deleteLater()
    QApplication.processEvents()
    if box.get("exc") is not None:
        raise box["exc"]
    return box.get("result")
