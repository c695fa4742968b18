"""Every window on the screen (issue 22): dialogs, previews and floated docks are sized to the
available geometry of their screen, frame included, and moved onto it when they are shown.

:func:`fit_to_screen` clamps one top-level window: its size (the title bar and borders the
window manager adds counted in, estimated before the window manager has reported them) and
its position.  :class:`ScreenFitter` does that for every top-level widget the application
shows (installed once on the ``QApplication`` by :func:`install`), so a dialog added later
fits without code of its own.  A window whose layout cannot shrink that far (its minimum
size is larger than the screen) needs a scroll area: :func:`scrolling` wraps a widget in one.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMargins, QObject, QRect, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFrame,
    QMainWindow,
    QScrollArea,
    QWidget,
)

#: the frame a window manager adds around a window, when it has not yet said (openbox: 4/4/21/4;
#: Windows 10 at 125%: 8/8/39/8 in device pixels); a guess on the safe side, in logical pixels
DEFAULT_FRAME = QMargins(6, 32, 6, 6)


def frame_margins(window: QWidget) -> QMargins:
    """The window manager's frame around ``window`` (left, top, right, bottom)."""
    frame, geo = window.frameGeometry(), window.geometry()
    m = QMargins(geo.left() - frame.left(), geo.top() - frame.top(),
                 frame.right() - geo.right(), frame.bottom() - geo.bottom())
    if window.isVisible() and (m.top() > 0 or m.left() > 0):
        return m
    if window.windowFlags() & Qt.WindowType.FramelessWindowHint:
        return QMargins()
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.platformName() in ("offscreen", "minimal"):
        return QMargins()  # no window manager: no frame
    return DEFAULT_FRAME


def available(window: QWidget) -> QRect:
    """The available geometry of the screen ``window`` is on (or the primary screen)."""
    screen = window.screen() if window.screen() is not None else QApplication.primaryScreen()
    return screen.availableGeometry()


def fit_to_screen(window: QWidget, avail: QRect | None = None) -> bool:
    """Shrink and move the top-level ``window`` so that its frame lies on the available
    geometry; True if it changed.  A maximised or full-screen window is left alone."""
    if not window.isWindow() or window.windowState() & (Qt.WindowState.WindowMaximized
                                                          | Qt.WindowState.WindowFullScreen):
        return False
    avail = avail or available(window)
    m = frame_margins(window)
    max_w = avail.width() - m.left() - m.right()
    max_h = avail.height() - m.top() - m.bottom()
    geo = window.geometry()
    w, h = min(geo.width(), max_w), min(geo.height(), max_h)
    changed = False
    if (w, h) != (geo.width(), geo.height()):
        window.resize(max(w, 1), max(h, 1))
        changed = True
        geo = window.geometry()
    frame = geo.adjusted(-m.left(), -m.top(), m.right(), m.bottom())
    if avail.contains(frame):
        return changed   # on the screen: where Qt or the user put it (a dialog stays centred)
    # the frame's top-left such that the whole frame is on the screen
    fx = min(max(geo.x() - m.left(), avail.left()), avail.right() + 1 - (geo.width() + m.left() + m.right()))
    fy = min(max(geo.y() - m.top(), avail.top()), avail.bottom() + 1 - (geo.height() + m.top() + m.bottom()))
    fx, fy = max(fx, avail.left()), max(fy, avail.top())
    if (fx + m.left(), fy + m.top()) != (geo.x(), geo.y()):
        window.move(fx, fy)  # a window's position is its frame's
        changed = True
    return changed


class ScreenFitter(QObject):
    """Fits every top-level widget when it is shown, and again once the window manager has
    put its frame around it."""

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Show and isinstance(obj, QWidget) and obj.isWindow() \
                and not isinstance(obj, QMainWindow) and obj.windowType() not in _SKIP_TYPES:
            if isinstance(obj, QDockWidget) and not obj.isFloating():
                return False
            # after the window's own showEvent (a dialog centres itself over its parent there),
            # and again once the window manager has put its frame around it (later on a busy
            # machine)
            for ms in (0, 150, 600):
                QTimer.singleShot(ms, obj, lambda o=obj: fit_to_screen(o))
        elif event.type() == QEvent.Type.Resize and isinstance(obj, QWidget) and obj.isWindow() \
                and obj.isVisible() and not isinstance(obj, QMainWindow) and obj.windowType() not in _SKIP_TYPES \
                and not (isinstance(obj, QDockWidget) and not obj.isFloating()):
            # a window that grows after it was shown (results filling a dialog) stays on the screen
            QTimer.singleShot(0, obj, lambda o=obj: fit_to_screen(o))
        return False


_SKIP_TYPES = (Qt.WindowType.ToolTip, Qt.WindowType.Popup, Qt.WindowType.SplashScreen,
               Qt.WindowType.Desktop)


def install(app: QApplication | None = None) -> ScreenFitter:
    """Install the fitter on the application once; returns it."""
    app = app or QApplication.instance()
    fitter = getattr(app, "_icbmap_screen_fitter", None)
    if fitter is None:
        fitter = ScreenFitter(app)
        app.installEventFilter(fitter)
        app._icbmap_screen_fitter = fitter
    return fitter


def scrolling(content: QWidget, name: str = "") -> QScrollArea:
    """``content`` in a frameless, resizable scroll area that scrolls vertically when the
    window is shorter than the content (never horizontally where the content can narrow)."""
    area = QScrollArea()
    area.setWidget(content)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    if name:
        area.setObjectName(name)
    return area
