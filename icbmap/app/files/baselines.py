"""Baselines in the app: File ▸ New from baseline, and reopening a window on the baseline a
proposal (or a recovered autosave) was drawn against.

A main window shows one atlas, drawn with one board configuration of its data pack (the
offline pack holds July 2022, April 2024 and April 2026).  Changing baseline replaces the
window by a new one on the same pack with the other configuration; the caller has already
asked about unsaved work.
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMessageBox

from icbmap.app.workers import load_atlas_gui
from icbmap.errors import Cancelled, IcbmapError


def _keep(window) -> None:
    """Hold a Python reference to top-level windows made after start-up."""
    app = QApplication.instance()
    kept = getattr(app, "_icbmap_windows", None)
    if kept is None:
        kept = []
        setattr(app, "_icbmap_windows", kept)
    kept[:] = [w for w in kept if _alive(w) and w.isVisible()] + [window]


def _alive(widget) -> bool:
    from shiboken6 import isValid

    return isValid(widget)


def replace_window(window, baseline: str, then=None):
    """Open a main window on ``baseline`` of ``window``'s pack in its place; ``then(new)``
    runs once it shows.  Returns the new window, or ``None`` (the old one stays) when the
    atlas cannot be loaded."""
    options = getattr(window, "options", None)     # the other open options
    if options is not None and not options.maybe_save_others():
        return None
    try:
        atlas = load_atlas_gui(window.atlas.name, baseline=baseline, parent=window)
    except Cancelled:
        return None
    except IcbmapError as exc:
        QMessageBox.warning(window, "Cannot change baseline", str(exc))
        return None
    # the same window class (this module never imports the main window: no import circle)
    new = type(window)(atlas, settings=window.settings, autosave_dir=window.proposals.autosaver.directory)
    _keep(new)
    new.setGeometry(window.geometry())
    if window.isMaximized():
        new.showMaximized()
    else:
        new.show()
    window.replaced = True
    window.close()
    if then is not None:
        then(new)
    new.statusBar().showMessage(f"Baseline: {atlas.baseline_label}", 8000)
    return new


def new_from_baseline(window, key: str):
    """File ▸ New from baseline ▸ KEY."""
    if key == window.atlas.baseline or not key:
        window.proposals.new()
        return window
    if not window.proposals.maybe_save():
        return None
    return replace_window(window, key)


def add_menu(window, menu) -> None:
    """The New from baseline submenu: one entry per configuration of the pack."""
    sub = menu.addMenu("New from &baseline")
    sub.setToolTipsVisible(True)
    baselines = window.atlas.baselines
    if not baselines:
        act = QAction(f"{window.atlas.baseline_label} (this pack's own boards)", window)
        act.triggered.connect(lambda: new_from_baseline(window, ""))
        sub.addAction(act)
        return
    for c in baselines:
        key = str(c.get("key"))
        mark = " \u2014 current" if key == window.atlas.baseline else ""
        act = QAction(f"{c.get('label', key)}, {c.get('status', '')}{mark}", window)
        act.setToolTip(f"{c.get('source', '')}\n{c.get('note', '')}".strip())
        act.setStatusTip(c.get("note", ""))
        act.setObjectName(f"baseline-{key}")
        act.triggered.connect(lambda _c=False, k=key: new_from_baseline(window, k))
        sub.addAction(act)
    window.baseline_menu = sub
