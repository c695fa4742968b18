"""Long work runs off the UI thread with a progress dialog; Cancel stops it."""

import threading
import time

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QProgressDialog, QPushButton

from icbmap.errors import Cancelled

pytestmark = pytest.mark.gui


def test_result_comes_back_and_ui_keeps_running(qtbot):
    from icbmap.app.workers import run_with_progress

    ui_thread = threading.get_ident()
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)

    def work(progress):
        assert threading.get_ident() != ui_thread  # not on the UI thread
        for k in range(10):
            progress.step(k / 10, f"step {k}")
            time.sleep(0.03)
        return 42

    assert run_with_progress(None, "Test work", work, min_duration_ms=0) == 42
    timer.stop()
    assert len(ticks) >= 5  # the event loop ran meanwhile: the window never froze


def test_cancel_button_stops_the_work(qtbot):
    from icbmap.app.workers import run_with_progress

    def press_cancel():
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QProgressDialog) and w.isVisible():
                button = w.findChild(QPushButton)
                QTest.mouseClick(button, Qt.MouseButton.LeftButton)  # what the user does
                return
        QTimer.singleShot(20, press_cancel)

    QTimer.singleShot(50, press_cancel)
    steps = []

    def work(progress):
        for k in range(1000):
            progress.step(k / 1000, "working")
            steps.append(k)
            time.sleep(0.01)
        return "finished"

    with pytest.raises(Cancelled):
        run_with_progress(None, "Cancellable", work, min_duration_ms=0)
    assert 0 < len(steps) < 1000


def test_errors_are_raised_in_the_ui_thread(qtbot):
    from icbmap.app.workers import run_with_progress
    from icbmap.errors import DataError

    def work(progress):
        raise DataError("x.csv", "missing column(s) CODE")

    with pytest.raises(DataError, match="x.csv"):
        run_with_progress(None, "Failing", work)


def test_late_progress_from_a_finished_worker_is_harmless(qtbot):
    """A worker that floods progress then returns: messages still queued when its dialog
    is deleted must not reach it (this crashed once with a segfault)."""
    from icbmap.app.workers import run_with_progress

    def flood(progress):
        for k in range(20_000):
            progress.step(k / 20_000, "flood")
        return "done"

    for _ in range(3):
        assert run_with_progress(None, "Flood", flood, min_duration_ms=0) == "done"
    assert run_with_progress(None, "After", lambda p: 7) == 7
