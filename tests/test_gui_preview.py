"""The print preview never freezes the window (issue 22, item 2): the briefing's pages are
drawn in a worker thread behind a progress dialog with Cancel, and the preview only paints
the finished pages.  (It froze the window for 6 s, with no progress and no way out.)"""

from __future__ import annotations

import time

import pytest
from conftest import main_window
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QProgressDialog

pytestmark = pytest.mark.gui


class Heartbeat:
    """A timer in the UI thread; the longest gap between its ticks is how long the window
    was frozen."""

    def __init__(self, every_ms: int = 20):
        self.times: list[float] = [time.monotonic()]
        self.timer = QTimer()
        self.timer.timeout.connect(lambda: self.times.append(time.monotonic()))
        self.timer.start(every_ms)

    def longest_gap(self) -> float:
        return max(b - a for a, b in zip(self.times, self.times[1:]))


def _watch(found: dict, cancel: bool) -> QTimer:
    """Every 20 ms: note a progress dialog (cancel it if asked) and close the preview."""
    from PySide6.QtPrintSupport import QPrintPreviewDialog

    def look() -> None:
        for win in QApplication.topLevelWidgets():
            if not win.isVisible():
                continue
            if isinstance(win, QProgressDialog):
                found["progress"] = win.labelText()

                if cancel:
                    win.cancel()
            elif isinstance(win, QPrintPreviewDialog):
                found["preview"] = (win.width(), win.height())
                win.reject()

    t = QTimer()
    t.timeout.connect(look)
    t.start(20)
    return t


def _preview_once(w) -> tuple[dict, float, float]:
    found: dict = {}
    beat = Heartbeat()
    watch = _watch(found, cancel=False)
    start = time.monotonic()
    w.proposals.print_preview()
    elapsed = time.monotonic() - start
    watch.stop()
    beat.timer.stop()
    return found, beat.longest_gap(), elapsed


def test_print_preview_draws_its_pages_in_a_worker_and_never_freezes(qtbot, england, tmp_path):
    w = main_window(qtbot, england, tmp_path)
    # the window kept painting: no tick of the UI thread's timer waited long (the preview
    # drew the briefing with matplotlib in the UI thread: a 4-6 s freeze).  The first time,
    # the worker's first imports (scipy, matplotlib) hold Python's lock for a few tenths
    found, gap, elapsed = _preview_once(w)
    assert gap < 1.0, (gap, elapsed)
    assert "progress" in found and "preview" in found, found  # progress was shown meanwhile
    found, gap, elapsed = _preview_once(w)
    assert gap < 0.5, (gap, elapsed)
    assert "preview" in found, found


def test_print_preview_can_be_cancelled(qtbot, england, tmp_path):
    w = main_window(qtbot, england, tmp_path)
    found: dict = {}
    watch = _watch(found, cancel=True)
    w.proposals.print_preview()
    watch.stop()
    assert "progress" in found and "preview" not in found, found
    assert "cancelled" in w.statusBar().currentMessage().lower()
