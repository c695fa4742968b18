"""Open the main window as a user would and report its geometry as JSON (one line).

Run by ``tests/test_gui_screens.py`` under the offscreen platform with a configured screen,
and by ``tests/screens/xvfb_screens.sh`` under a real X server (Xvfb + openbox), where the
geometry is also checked from outside with ``xdotool getwindowgeometry``.

    python tests/screens/window_geometry.py [--shot out.png] [--hold-ms N] [--settings file.ini]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shot")
    ap.add_argument("--hold-ms", type=int, default=0)
    ap.add_argument("--settings")
    ap.add_argument("--settle-ms", type=int, default=1500)
    ap.add_argument("--move-to", help="X,Y: move the window there before closing (saves it in --settings)")
    args = ap.parse_args()

    from PySide6.QtCore import QSettings
    from PySide6.QtGui import QGuiApplication

    from icbmap.app.main import _application

    app = _application()
    from icbmap.app import layout
    from icbmap.app.mainwindow import MainWindow
    from icbmap.atlas.store import OFFLINE, load_atlas

    atlas = load_atlas(OFFLINE)
    ini = args.settings or os.path.join(tempfile.mkdtemp(prefix="icbmap-screens-"), "w.ini")
    w = MainWindow(atlas, settings=QSettings(ini, QSettings.Format.IniFormat),
                   autosave_dir=tempfile.mkdtemp(prefix="icbmap-autosave-"))
    w.proposals.ask_unsaved = lambda: "discard"
    w.show()
    end = time.monotonic() + args.settle_ms / 1000
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)
    screen = layout.screen_of(w)
    avail = screen.availableGeometry()
    frame = w.frameGeometry()
    geo = w.geometry()
    status = w.statusBar()
    status_bottom = status.mapTo(w, status.rect().bottomLeft()).y() + geo.y()
    report = {
        "platform": QGuiApplication.platformName(),
        "scale": screen.devicePixelRatio(),
        "screen": [avail.x(), avail.y(), avail.width(), avail.height()],
        "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
        "geometry": [geo.x(), geo.y(), geo.width(), geo.height()],
        "maximised": bool(w.isMaximized()),
        "compact": bool(w.property("icbmap_compact")),
        "map_width": w.map.width(),
        "window_width": w.width(),
        "england_visible": w.map.england_visible(),
        "status_bottom": status_bottom,
        "search_visible": w.search.isVisible() and not w.search.visibleRegion().isEmpty(),
        "docks": {d.windowTitle(): [d.isVisible(), d.width(), d.height()] for d in layout.docks(w)},
        "win_id": int(w.winId()),
    }
    if args.shot:
        w.grab().save(args.shot)
    print(json.dumps(report), flush=True)
    if args.hold_ms:
        from driver import run_events

        run_events(app, args.hold_ms / 1000, 0.02)
    if args.move_to:
        x, y = (int(v) for v in args.move_to.split(","))
        w.showNormal()
        w.setGeometry(x, y, 1200, 800)
        for _ in range(20):
            app.processEvents()
            time.sleep(0.02)
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
