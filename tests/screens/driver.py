"""Shared by the driver scripts that tests run under a real X server: the main window on
the bundled pack with throw-away settings, and an event loop that runs for a while."""

from __future__ import annotations

import tempfile
import time


def main_window(prefix: str):
    """(app, atlas, window): the QApplication, the bundled atlas and a shown-ready main
    window whose settings and autosaves live in a new temporary folder."""
    from PySide6.QtCore import QSettings

    from icbmap.app.main import _application

    app = _application()
    from icbmap.app.mainwindow import MainWindow
    from icbmap.atlas.store import OFFLINE, load_atlas

    atlas = load_atlas(OFFLINE)
    d = tempfile.mkdtemp(prefix=prefix)
    w = MainWindow(atlas, settings=QSettings(f"{d}/w.ini", QSettings.Format.IniFormat), autosave_dir=f"{d}/a")
    w.proposals.ask_unsaved = lambda: "discard"
    return app, atlas, w


def run_events(app, seconds: float, step: float = 0.01) -> None:
    """Process events for ``seconds`` (the drivers are not in app.exec())."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(step)
