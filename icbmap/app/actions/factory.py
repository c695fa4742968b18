"""``make_action``: a QAction with its shortcut, status tip and a tooltip naming the shortcut.

Every action in the app is made here (menus, map tools, proposals, options), so tooltips
name shortcuts the same way everywhere.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence


def make_action(parent, text: str, slot=None, shortcut=None, tip: str | None = None,
                checkable: bool = False) -> QAction:
    """A QAction with its shortcut, its status tip and a tooltip naming the shortcut."""
    act = QAction(text, parent)
    if shortcut:
        act.setShortcut(QKeySequence(shortcut))
    if tip:
        act.setStatusTip(tip)
        act.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})" if shortcut else tip)
    act.setCheckable(checkable)
    if slot:
        act.triggered.connect(slot)
    return act
