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

from icbmap.plan.model import Plan
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


class _Receiver(QObject):
    """Receives the worker's queued signals in the UI thread.

    It is a child of the dialog: when the dialog is deleted, Qt drops any progress events
    still queued for it, so a late message from a finished worker never touches a deleted
    dialog.
    """

    def __init__(self, dialog: QProgressDialog, loop: QEventLoop, box: dict):
        super().__init__(dialog)
        self.dialog, self.loop, self.box = dialog, loop, box

    @Slot(float, str)
    def progress(self, fraction: float, message: str) -> None:
        if "exc" in self.box:
            return
        self.dialog.setValue(int(fraction * 1000))
        self.dialog.setLabelText(message)

    @Slot(object, object)
    def done(self, result, exc) -> None:
        self.box["result"], self.box["exc"] = result, exc
        self.loop.quit()


def run_with_progress(parent, title: str, fn: Callable[[Progress], Any], *,
                      min_duration_ms: int = 400, label: str | None = None) -> Any:
    dialog = QProgressDialog(label or title, "Cancel", 0, 1000, parent)
    dialog.setWindowTitle(title)
    from icbmap.app.dialogs.common import fit_title_and_text

    fit_title_and_text(dialog, title, label or title)   # "Rendering… e briefing" was cut
    dialog.setWindowModality(Qt.WindowModality.WindowModal if parent else Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(min_duration_ms)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setValue(0)

    box: dict[str, Any] = {}
    loop = QEventLoop()
    receiver = _Receiver(dialog, loop, box)

    def forward(fraction: float, message: str) -> None:
        worker.progressed.emit(fraction, message)

    worker_progress = Progress(forward, title)
    worker = _Worker(fn, worker_progress)
    thread = QThread()
    worker.moveToThread(thread)
    worker.progressed.connect(receiver.progress, Qt.ConnectionType.QueuedConnection)
    worker.done.connect(receiver.done, Qt.ConnectionType.QueuedConnection)
    dialog.canceled.connect(worker_progress.cancel)
    thread.started.connect(worker.run)
    thread.start()
    if "exc" not in box:
        loop.exec()
    thread.quit()
    thread.wait()
    dialog.close()
    dialog.deleteLater()  # takes the receiver, and any progress still queued for it, along
    QApplication.processEvents()
    if box.get("exc") is not None:
        raise box["exc"]
    return box.get("result")


def load_atlas_gui(pack: str | None = None, rebuild: bool = False, parent=None, baseline: str | None = None):
    """Load the atlas (with ``baseline``, default the pack's own) behind a progress dialog."""
    from icbmap.atlas.store import load_atlas

    return run_with_progress(parent, "Opening the England data pack",
                             lambda progress: load_atlas(pack, rebuild=rebuild, progress=progress,
                                                         baseline=baseline),
                             label="Loading data\u2026")


def snapshot(plan: Plan) -> Plan:
    """An independent copy of ``plan`` for work in another thread."""
    return Plan.from_dict(plan.atlas, plan.to_dict())
