"""Keyboard and screen-reader support for the main window.

* :func:`name_widgets` gives every interactive widget an accessible name (and, where it
  has a tooltip, a description) if the code that made it did not: from its action, its
  label buddy, its placeholder or its tooltip.  It runs again whenever a dock is added.
* :func:`unnamed_interactive` lists interactive widgets a screen reader would announce
  with no name (the test of the walk, and a debugging aid).
* :func:`cycle_focus` is F6 / Shift+F6: the keyboard focus moves between the toolbar, the
  map and each visible panel, as in Windows applications.
* Tool buttons in toolbars take Tab focus (Qt leaves them mouse-only).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QAccessibleEvent
from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QAbstractScrollArea, QAbstractSlider,
                               QAbstractSpinBox,
                               QComboBox, QDockWidget, QLabel, QLineEdit, QMenuBar, QTabBar, QTextEdit,
                               QPlainTextEdit, QToolBar, QToolButton, QWidget)

INTERACTIVE = (QAbstractButton, QAbstractItemView, QAbstractSlider, QAbstractSpinBox, QComboBox,
               QLineEdit, QMenuBar, QTabBar, QTextEdit, QPlainTextEdit)


def is_interactive(w: QWidget) -> bool:
    if isinstance(w, INTERACTIVE):
        return True
    return w.focusPolicy() != Qt.FocusPolicy.NoFocus and not isinstance(w, (QLabel, QToolBar, QDockWidget))


def accessible_name(w: QWidget) -> str:
    """The name a screen reader announces for ``w`` (Qt's accessibility interface)."""
    iface = QAccessible.queryAccessibleInterface(w)
    return iface.text(QAccessible.Text.Name).strip() if iface is not None and iface.isValid() else ""


def _buddies(root: QWidget) -> dict[int, str]:
    out = {}
    for label in root.findChildren(QLabel):
        buddy = label.buddy()
        if buddy is not None:
            out[id(buddy)] = label.text().replace("&", "").strip(" :")
    return out


def name_widgets(root: QWidget) -> int:
    """Give unnamed interactive widgets under ``root`` a name; returns how many it named."""
    buddies = _buddies(root)
    named = 0
    for dock in root.findChildren(QDockWidget):  # docks other parts of the app added
        title = dock.windowTitle().replace("&", "")
        if not dock.accessibleName():
            dock.setAccessibleName(f"{title} panel")
        if dock.widget() is not None and not dock.widget().accessibleName():
            dock.widget().setAccessibleName(title)
    for w in [root] + root.findChildren(QWidget):
        if isinstance(w, QToolButton) and isinstance(w.parent(), QToolBar):
            w.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        if not is_interactive(w) or w.accessibleName():
            continue
        name = ""
        if isinstance(w, QToolButton) and w.defaultAction() is not None:
            name = w.defaultAction().text().replace("&", "")
            tip = w.defaultAction().toolTip()
            if tip and not w.accessibleDescription():
                w.setAccessibleDescription(tip)
        name = name or buddies.get(id(w), "")
        if not name and isinstance(w, QLineEdit):
            name = w.placeholderText()
        if not name and isinstance(w, QTabBar):
            name = _tabbar_name(w)
        if not name and w.objectName() == "qt_toolbar_ext_button":
            name = "More tools"
        if not name and isinstance(w, QAbstractSlider):
            owner = _owner_name(w)
            side = "Horizontal" if w.orientation() == Qt.Orientation.Horizontal else "Vertical"
            name = f"{side} scroll bar{f' of {owner}' if owner else ''}"
        if not name:
            area = w.parent()
            if isinstance(area, QAbstractScrollArea) and area.viewport() is w:
                name = _owner_name(w)
        if not name and w.toolTip():
            name = w.toolTip().split(".")[0]
        if not name and isinstance(w, QAbstractButton) and w.text():
            name = w.text().replace("&", "")
        if not name:
            name = accessible_name(w)
        if name:
            w.setAccessibleName(name)
            if w.toolTip() and not w.accessibleDescription():
                w.setAccessibleDescription(w.toolTip())
            named += 1
    return named


def _owner_name(w: QWidget) -> str:
    """The accessible name of the nearest named ancestor."""
    p = w.parentWidget()
    while p is not None:
        if p.accessibleName():
            return p.accessibleName()
        p = p.parentWidget()
    return ""


def _tabbar_name(bar: QTabBar) -> str:
    titles = [bar.tabText(i).replace("&", "") for i in range(bar.count())]
    return "Panels: " + ", ".join(titles) if titles else "Panels"


def unnamed_interactive(root: QWidget) -> list[str]:
    """Visible interactive widgets under ``root`` with no accessible name."""
    out = []
    for w in [root] + root.findChildren(QWidget):
        if not w.isVisibleTo(root) and w is not root:
            continue
        if is_interactive(w) and not accessible_name(w):
            out.append(f"{type(w).__name__} {w.objectName() or ''} in {type(w.parent()).__name__}".strip())
    return out


# ---------------------------------------------------------------------------- F6
def regions(window) -> list[QWidget]:
    """Focus regions in F6 order: toolbars, the map, then each visible dock's widget."""
    out: list[QWidget] = []
    for tb in window.findChildren(QToolBar):
        if tb.isVisible():
            out.append(tb)
    out.append(window.centralWidget())
    from icbmap.app.layout import docks

    for d in docks(window):
        if d.isVisible() and not d.visibleRegion().isEmpty() and d.widget() is not None:
            out.append(d.widget())
    return out


def _first_focusable(region: QWidget) -> QWidget | None:
    if region.focusPolicy() & Qt.FocusPolicy.TabFocus and region.isEnabled():
        return region
    for w in region.findChildren(QWidget):
        if w.isVisible() and w.isEnabled() and w.focusPolicy() & Qt.FocusPolicy.TabFocus:
            return w
    return None


def cycle_focus(window, step: int = 1) -> QWidget | None:
    """Move the focus to the next (``step`` = 1) or previous (-1) region; returns the widget."""
    regs = regions(window)
    focus = window.focusWidget()
    current = -1
    for k, r in enumerate(regs):
        if focus is not None and (focus is r or r.isAncestorOf(focus)):
            current = k
            break
    for i in range(1, len(regs) + 1):
        target = _first_focusable(regs[(current + step * i) % len(regs)])
        if target is not None:
            target.setFocus(Qt.FocusReason.ShortcutFocusReason)
            return target
    return None


def announce(widget: QWidget, text: str) -> None:
    """Have screen readers say ``text`` for ``widget``: an announcement event (Qt 6.8+), and
    the accessible description changed (what older Qt and some readers go by)."""
    widget.setAccessibleDescription(text)
    if not QAccessible.isActive():
        return
    try:
        from PySide6.QtGui import QAccessibleAnnouncementEvent

        QAccessible.updateAccessibility(QAccessibleAnnouncementEvent(widget, text))
    except ImportError:  # Qt before 6.8: the description change is read out instead
        pass
    QAccessible.updateAccessibility(QAccessibleEvent(widget, QAccessible.Event.DescriptionChanged))
