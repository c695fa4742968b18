"""The main window under a real X server for mouse tests of the map tools: prints ``READY``
with the map viewport's rectangle on the screen, then ``TOOL name`` when the active map
tool changes, ``SELECTED n`` when the selection changes and ``VIEW x y`` (the scene centre)
when the view moves.  Quits after ``--seconds``.  Used by ``tests/test_gui_xvfb.py``
(mouse and keys sent with xdotool)."""

from __future__ import annotations

import argparse
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=40)
    args = ap.parse_args()
    from PySide6.QtCore import QPoint, QTimer

    from driver import main_window, run_events

    app, _atlas, w = main_window("icbmap-mouse-")
    w.layers.boxes["practices"].setChecked(False)  # area selection only
    w.show()
    m = w.map
    state = {"tool": m.tool}

    def view_moved():
        c = m.visible_scene_rect().center()
        print(f"VIEW {c.x():.0f} {c.y():.0f}", flush=True)

    def ready():
        w.activateWindow()
        m.setFocus()
        m.selectionChanged.connect(lambda: print(f"SELECTED {len(m.selected_units)}", flush=True))
        m.viewChanged.connect(view_moved)
        vp = m.viewport()
        tl = vp.mapToGlobal(QPoint(0, 0))
        c = m.visible_scene_rect().center()
        print(f"READY {tl.x()} {tl.y()} {vp.width()} {vp.height()} tool={m.tool} view={c.x():.0f}", flush=True)

    def poll_tool():
        if m.tool != state["tool"]:
            state["tool"] = m.tool
            print(f"TOOL {m.tool}", flush=True)

    QTimer.singleShot(2000, ready)
    timer = QTimer()
    timer.timeout.connect(poll_tool)
    timer.start(50)
    run_events(app, args.seconds)
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
