"""The main window under a real X server for key tests: makes one edit, prints ``READY``
and the platform's Redo keys, then prints ``INDEX n`` whenever the undo stack moves.
Quits after ``--seconds``.  Used by ``tests/test_gui_xvfb.py`` (keys sent with xdotool)."""

from __future__ import annotations

import argparse
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=40)
    args = ap.parse_args()
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QKeySequence

    from driver import main_window, run_events

    app, atlas, w = main_window("icbmap-keys-")
    from icbmap.app.dialogs.common import neighbour_boards

    w.show()
    c = w.controller
    t = atlas.layers["district"].table
    units = atlas.members("district", int((t["name"] == "Waverley").to_numpy().nonzero()[0][0]))

    def ready():
        c.move_units(units, neighbour_boards(atlas, c.plan.assignment, units)[0])
        c.stack.indexChanged.connect(lambda i: print(f"INDEX {i}", flush=True))
        w.activateWindow()
        w.map.setFocus()
        keys = [s.toString() for s in QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)]
        print(f"READY {c.stack.index()} redo={'|'.join(keys)}", flush=True)

    QTimer.singleShot(1500, ready)
    run_events(app, args.seconds)
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
