"""Open every top-level window the app can open and report each one's frame against the
screen's available geometry, as JSON lines (issue 22: every window fits).

It triggers every item of every menu (File, Edit, Boards, View, Data, Help and the options'
and principles' own items), the way a user would; a watchdog records each window that shows
(dialogs, message boxes, file and print dialogs, the print preview, progress dialogs) once
it has settled, grabs it to a PNG when ``--shots`` is given, and closes it.  Then every dock
is floated and recorded.  Run by ``tests/test_gui_window_fit.py`` on the offscreen platform
with a configured screen, and under Xvfb + openbox.

    python tests/screens/window_walk.py [--shots DIR] [--only TEXT]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time

os.environ.setdefault("ICBMAP_NO_NETWORK", "1")
sys.path.insert(0, os.path.dirname(__file__))

#: menu items that end the session or leave the app; never triggered
SKIP = re.compile(r"quit|exit|close window|restart|online|website|browser", re.IGNORECASE)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shots")
    ap.add_argument("--only", help="trigger only the menu items whose text contains this")
    ap.add_argument("--settle-ms", type=int, default=450)
    args = ap.parse_args()

    from driver import main_window, run_events
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import (
        QApplication,
        QDialog,
        QDockWidget,
        QMainWindow,
        QMenu,
        QProgressDialog,
    )

    app, atlas, w = main_window("icbmap-walk-")
    w.show()
    run_events(app, 1.5)
    # an option beside the baseline, so that the comparison and the option items have content
    if getattr(w, "options", None) is not None and hasattr(w.options, "add_option"):
        try:
            w.options.add_option(w.controller.plan.copy(), "Option for the walk")
        except TypeError:
            pass
    run_events(app, 0.5)
    avail = w.screen().availableGeometry()
    scale = w.screen().devicePixelRatio()
    seen: dict[int, float] = {}
    current = {"item": ""}
    out = []

    def record(win, kind: str) -> None:
        f, g = win.frameGeometry(), win.geometry()
        rep = {"item": current["item"], "kind": kind, "class": type(win).__name__, "title": win.windowTitle(),
               "frame": [f.x(), f.y(), f.width(), f.height()], "geometry": [g.x(), g.y(), g.width(), g.height()],
               "minimum": [win.minimumSizeHint().width(), win.minimumSizeHint().height()],
               "screen": [avail.x(), avail.y(), avail.width(), avail.height()], "scale": scale,
               "buttons": {} if isinstance(win, QMainWindow) else buttons(win)}
        if args.shots:
            name = re.sub(r"[^A-Za-z0-9]+", "-", f"{current['item']}-{win.windowTitle()}").strip("-")[:60]
            path = os.path.join(args.shots, f"{len(out):02d}-{name}.png")
            win.grab().save(path)
            rep["shot"] = path
            from PySide6.QtGui import QGuiApplication

            if QGuiApplication.platformName() == "xcb":   # the whole screen, title bars and all
                screen = QGuiApplication.primaryScreen().grabWindow(0)
                screen.save(path.replace(".png", "-screen.png"))
        out.append(rep)
        print(json.dumps(rep), flush=True)

    def buttons(win) -> dict:
        """The global rectangles of the window's dialog buttons and tables (what must be
        reachable): ``{text: [x, y, w, h]}``."""
        from PySide6.QtWidgets import QAbstractButton, QDialogButtonBox, QTableView

        found = {}
        for box in win.findChildren(QDialogButtonBox):
            for b in box.findChildren(QAbstractButton):
                if b.isVisible():
                    p = b.mapToGlobal(b.rect().topLeft())
                    found[b.text().replace("&", "")] = [p.x(), p.y(), b.width(), b.height()]
        for t in win.findChildren(QTableView):
            if t.isVisible() and t.objectName() != "qt_calendar_calendarview":
                p = t.mapToGlobal(t.rect().topLeft())
                found[f"table:{t.objectName() or type(t).__name__}"] = [p.x(), p.y(), t.width(), t.height()]
        return found

    def watchdog() -> None:
        now = time.monotonic()
        for win in QApplication.topLevelWidgets():
            if win is w or not win.isVisible() or isinstance(win, (QMenu, QDockWidget)):
                continue
            if win.windowType().name in ("ToolTip", "Popup"):
                continue
            first = seen.setdefault(id(win), now)
            if now - first < args.settle_ms / 1000:
                continue
            if isinstance(win, QProgressDialog):
                if id(win) not in recorded:
                    recorded.add(id(win))
                    record(win, "progress")
                continue  # the work goes on; the window it leads to is recorded in turn
            record(win, "window")
            seen.pop(id(win), None)
            if isinstance(win, QDialog):
                win.reject()
            win.close()

    recorded: set[int] = set()
    timer = QTimer()
    timer.timeout.connect(watchdog)
    timer.start(100)

    def walk(menu, path: str) -> list:
        items = []
        for act in menu.actions():
            if act.isSeparator():
                continue
            text = act.text().replace("&", "").split("\t")[0]
            if act.menu() is not None:
                items += walk(act.menu(), f"{path} > {text}")
            elif act.isEnabled() and not SKIP.search(text):
                items.append((f"{path} > {text}", act))
        return items

    items = []
    for top in w.menuBar().actions():
        if top.menu() is not None:
            items += walk(top.menu(), top.text().replace("&", ""))
    # New from baseline replaces the window by a new one: last, once
    later = [(p, a) for p, a in items if "New from baseline" in p and "current" not in p][:1]
    items = [(p, a) for p, a in items if "New from baseline" not in p]
    for path, act in items:
        if args.only and args.only.lower() not in path.lower():
            continue
        current["item"] = path
        print(json.dumps({"trigger": path}), flush=True)
        act.trigger()
        run_events(app, (args.settle_ms + 300) / 1000)
        # undo whatever the item changed, so that the next starts from the same window
        for win in QApplication.topLevelWidgets():
            if win is not w and win.isVisible() and isinstance(win, QDialog):
                win.reject()
        if w.isFullScreen() or w.isMinimized():
            w.showMaximized()
    if not args.only:
        for dock in w.findChildren(QDockWidget):
            current["item"] = f"float dock {dock.windowTitle()}"
            dock.show()
            dock.setFloating(True)
            run_events(app, args.settle_ms / 1000 + 0.3)
            record(dock, "dock")
            dock.setFloating(False)
            run_events(app, 0.1)
        for path, act in later:
            current["item"] = path
            print(json.dumps({"trigger": path}), flush=True)
            act.trigger()
            run_events(app, (args.settle_ms + 1500) / 1000)
    timer.stop()
    print(json.dumps({"done": len(out)}), flush=True)
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
