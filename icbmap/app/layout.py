"""Window size and dock placement: fit any screen, from a 1366x768 laptop at 150% to a
projector.

All sizes are in device-independent pixels, so a 1366x768 panel at 125% scaling is a
1093x614 screen here.  The rules:

* the first show sizes the window to its screen's available geometry less a margin, and
  maximises it when that is smaller than :data:`MAXIMISE_BELOW`;
* the map gets at least :data:`MIN_MAP_FRACTION` of the window width; England is refitted
  while the user has not zoomed or panned (``MapView.follow_england``);
* below :data:`TAB_DOCKS_BELOW` wide every dock stacks as a tab in one column; wider, the
  Boards dock (and any dock marked ``left``) stands left of the map, the rest right of it;
* a restored geometry that falls off every screen that exists now (a projector
  unplugged) is moved back onto the primary screen.

Docks are arranged generically: any ``QDockWidget`` of the window takes part, so docks that
other parts of the app add (with :func:`add_dock`) fit in without changes here.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

#: available screen geometry below which the window opens maximised
MAXIMISE_BELOW = QSize(1440, 860)
#: margin left around a window that is not maximised
SCREEN_MARGIN = 40
#: below this window width the docks stack as tabs in one column
TAB_DOCKS_BELOW = 1500
#: the map's minimum share of the window width
MIN_MAP_FRACTION = 0.5
#: how much of a window must be on a screen to count as reachable (title bar height)
REACHABLE = QSize(160, 40)

LEFT = Qt.DockWidgetArea.LeftDockWidgetArea
RIGHT = Qt.DockWidgetArea.RightDockWidgetArea


def add_dock(window: QMainWindow, title: str, widget: QWidget, side: str = "right",
             description: str = "") -> QDockWidget:
    """A dock named ``dock-<title>``; ``side`` ("left" / "right", or a ``Qt.DockWidgetArea``)
    is where it goes on a wide window."""
    if isinstance(side, Qt.DockWidgetArea):
        side = "left" if side == LEFT else "right"
    dock = QDockWidget(title, window)
    dock.setObjectName(f"dock-{title.lower().replace(' ', '-')}")
    dock.setProperty("icbmap_side", side)
    dock.setWidget(widget)
    dock.setAccessibleName(f"{title} panel")
    if description:
        dock.setAccessibleDescription(description)
    if not widget.accessibleName():
        widget.setAccessibleName(title)
    window.addDockWidget(RIGHT if side != "left" else LEFT, dock)
    order = window.property("icbmap_dock_order") or []
    window.setProperty("icbmap_dock_order", list(order) + [dock.objectName()])
    return dock


def screen_of(window: QWidget):
    handle = window.windowHandle()
    screen = handle.screen() if handle is not None else window.screen()
    return screen or QGuiApplication.primaryScreen()


def first_geometry(available: QRect) -> tuple[QRect, bool]:
    """The first-show geometry on a screen with ``available`` geometry and whether to maximise."""
    maximise = available.width() < MAXIMISE_BELOW.width() or available.height() < MAXIMISE_BELOW.height()
    if maximise:
        return QRect(available), True
    return available.adjusted(SCREEN_MARGIN, SCREEN_MARGIN, -SCREEN_MARGIN, -SCREEN_MARGIN), False


def fit_first_show(window: QMainWindow) -> bool:
    """Size ``window`` to its screen (before the first show); True if it will open maximised."""
    available = screen_of(window).availableGeometry()
    rect, maximise = first_geometry(available)
    window.setGeometry(rect)
    if maximise:
        window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)
    return maximise


def docks(window: QMainWindow) -> list[QDockWidget]:
    """The window's docks: those made with :func:`add_dock` in the order they were added,
    then any others."""
    found = [d for d in window.findChildren(QDockWidget) if d.parent() is window]
    order = list(window.property("icbmap_dock_order") or [])
    rank = {name: k for k, name in enumerate(order)}
    return sorted(found, key=lambda d: rank.get(d.objectName(), len(order)))


def is_compact(width: int) -> bool:
    return width < TAB_DOCKS_BELOW


def arrange_docks(window: QMainWindow, width: int | None = None) -> bool:
    """Place every dock for a window ``width`` wide; True when they stack as tabs (compact).

    Compact: one column right of the map, every dock a tab, the first dock (Boards) raised.
    Wide: docks marked ``left`` stack left of the map (the first on top, the others as tabs
    below it), the rest as tabs right of it.  Either way the columns get at most half the
    width, so the map keeps at least :data:`MIN_MAP_FRACTION`.
    """
    width = width or window.width()
    window.setAnimated(False)  # animated re-docking leaves stale tab bars behind
    all_docks = [d for d in docks(window) if not d.isFloating()]
    if not all_docks:
        return False
    compact = is_compact(width)
    if compact:
        columns = [(RIGHT, all_docks)]
    else:
        left = [d for d in all_docks if d.property("icbmap_side") == "left"]
        right = [d for d in all_docks if d not in left]
        columns = [(LEFT, left), (RIGHT, right)]
    first_of_columns = []
    for area, group in columns:
        if not group:
            continue
        for d in group:
            # addDockWidget moves a dock already in the window (removing tabbed docks first
            # leaves stale tab bars); a dock hidden on purpose (Comparison) stays hidden
            hidden = d.isHidden() and d.testAttribute(Qt.WidgetAttribute.WA_WState_ExplicitShowHide)
            window.addDockWidget(area, d)
            d.setVisible(not hidden)
        head = group[0]
        tabs = group[1:]
        if not compact and area == LEFT and len(group) > 2:
            # the first dock on top, the others tabbed below it
            window.splitDockWidget(head, group[1], Qt.Orientation.Vertical)
            for d in group[2:]:
                window.tabifyDockWidget(group[1], d)
            group[1].raise_()
            window.resizeDocks([head, group[1]], [3, 2], Qt.Orientation.Vertical)
            tabs = []
        for d in tabs:
            window.tabifyDockWidget(head, d)
        head.raise_()
        first_of_columns.append(head)
    # a panel whose controls want more than its column (a long check box, a row of buttons)
    # is squeezed to the column rather than pushing the map below half the width
    cap = column_width(width, len(first_of_columns), compact)
    for d in all_docks:
        content = d.widget()
        if content is not None and content.minimumSizeHint().width() > cap:
            content.setMinimumWidth(min(cap - 12, 200))
    window._dock_columns = first_of_columns
    window.setProperty("icbmap_compact", compact)
    arrange_toolbars(window, compact)
    size_docks(window, width)
    return compact


def column_width(width: int, columns: int, compact: bool) -> int:
    """The width of each dock column for a window ``width`` wide."""
    share = (1.0 - MIN_MAP_FRACTION) / max(columns, 1)
    return int(width * min(share * 0.92, 0.40 if compact else 0.23))


def size_docks(window: QMainWindow, width: int | None = None) -> None:
    """Give the dock columns their share of ``width`` (again after the first show, when
    the main window's layout knows its real size)."""
    heads = [d for d in getattr(window, "_dock_columns", []) if d.isVisible() or not window.isVisible()]
    if not heads:
        return
    width = width or window.width()
    compact = bool(window.property("icbmap_compact"))
    window.resizeDocks(heads, [column_width(width, len(heads), compact)] * len(heads), Qt.Orientation.Horizontal)
    from PySide6.QtCore import QTimer

    for ms in (0, 150):  # once the main window's layout has settled
        QTimer.singleShot(ms, window, lambda: hide_stale_tab_bars(window))  # cancelled if the window goes


def hide_stale_tab_bars(window: QMainWindow) -> int:
    """Hide dock tab bars Qt left behind when docks were re-tabbed (a second "Metrics |
    History" bar beside the real one); returns how many it hid.  A tab bar is in use when
    it lies under the docks it names."""
    from PySide6.QtWidgets import QTabBar

    by_title = {d.windowTitle(): d for d in docks(window)}
    hidden = 0
    for bar in window.findChildren(QTabBar):
        if bar.parent() is not window or not bar.isVisible():
            continue
        if bar.count() < 2:  # Qt never shows a tab bar for a lone dock
            bar.hide()
            hidden += 1
            continue
        dock = by_title.get(bar.tabText(bar.currentIndex()).replace("&", ""))
        if dock is None:
            continue
        g, dg = bar.geometry(), dock.geometry()
        if abs(g.x() - dg.x()) > 3 or abs(g.width() - dg.width()) > 6 or dock.isHidden():
            bar.hide()
            hidden += 1
    return hidden


def arrange_toolbars(window: QMainWindow, compact: bool) -> None:
    """On a narrow window the toolbars marked ``icbmap_break`` start a second row, so
    nothing hides behind the overflow arrow."""
    from PySide6.QtWidgets import QToolBar

    for tb in window.findChildren(QToolBar):
        if tb.property("icbmap_break") and tb.parent() is window:
            window.removeToolBarBreak(tb)
            if compact:
                window.insertToolBarBreak(tb)


def reachable(rect: QRect) -> bool:
    """Whether enough of ``rect`` (its top, where the title bar is) lies on a current screen."""
    top = QRect(rect.x(), rect.y(), rect.width(), REACHABLE.height())
    for screen in QGuiApplication.screens():
        hit = top.intersected(screen.availableGeometry())
        if hit.width() >= min(REACHABLE.width(), rect.width()) and hit.height() >= min(REACHABLE.height(), rect.height()):
            return True
    return False


def ensure_on_screen(window: QMainWindow) -> bool:
    """Move a window that is off every screen back onto the primary one; True if moved.

    A window larger than the screen it lands on is shrunk to fit (or maximised below
    :data:`MAXIMISE_BELOW`).
    """
    frame = window.frameGeometry() if window.isVisible() else window.geometry()
    primary = QGuiApplication.primaryScreen().availableGeometry()
    moved = False
    if not reachable(frame):
        rect, maximise = first_geometry(primary)
        window.setGeometry(rect)
        if maximise:
            window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)
        return True
    # on a screen, but too big for it: shrink to the screen it is on
    for screen in QGuiApplication.screens():
        avail = screen.availableGeometry()
        if avail.contains(frame.topLeft()) and (frame.width() > avail.width() or frame.height() > avail.height()):
            rect, maximise = first_geometry(avail)
            window.setGeometry(rect)
            if maximise:
                window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)
            moved = True
            break
    return moved
