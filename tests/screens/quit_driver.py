"""The main window under a real X server for the quit test (issue 21).

``--make``: opens the window with an edited option, a duplicate of it and a suggested
option (added as the Suggest dialog adds one), prints ``READY``, and waits for the keys
(Ctrl+Q, then the quit question's keys) sent with xdotool; prints ``CLOSED`` when the
window has closed.  ``--restart``: opens a window on the same autosave folder; the
recovery question shows (answered with keys) and ``OPTIONS name:kind|...`` is printed
once options came back.  Used by ``tests/test_gui_xvfb.py``."""

from __future__ import annotations

import argparse
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", required=True, help="folder for settings and autosaves (shared by both runs)")
    ap.add_argument("--restart", action="store_true")
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    import numpy as np
    from driver import run_events
    from PySide6.QtCore import QSettings, QTimer

    from icbmap.app.main import _application

    app = _application()
    from icbmap.app.mainwindow import MainWindow
    from icbmap.app.dialogs.unsaved import unsaved_options
    from icbmap.atlas.store import OFFLINE, load_atlas
    from icbmap.plan.commands import History, MoveUnits
    from icbmap.plan.model import Plan
    from icbmap.plan.proposal import Proposal

    atlas = load_atlas(OFFLINE)
    w = MainWindow(atlas, settings=QSettings(f"{args.home}/w.ini", QSettings.Format.IniFormat),
                   autosave_dir=f"{args.home}/a")
    w.show()
    if args.restart:
        QTimer.singleShot(300, w.startup)          # as the app does: offers recovery after showing

        def report():
            items = unsaved_options(w.options)
            if items:
                print("OPTIONS " + "|".join(f"{u.name}:{u.kind}" for u in items), flush=True)
            else:
                QTimer.singleShot(200, report)
        QTimer.singleShot(500, report)
    else:
        b0 = atlas.unit_level("board")
        units = np.flatnonzero(b0 == 0)[:40]
        target = next(int(b0[v]) for u in units for v in atlas.adjacency.neighbours(u) if b0[v] != 0)

        def ready():
            om = w.options
            w.controller.move_units(units[:10], target)
            om.rename(1, "Edited")
            om.duplicate(1)
            plan = Plan(atlas)
            History(plan).push(MoveUnits(units[10:30], target))
            proposal = Proposal.new(plan, title="Suggested option 1: test scope")
            om.add_option(proposal.plan, proposal.title, proposal, origin="suggested")
            w.activateWindow()
            print("READY " + "|".join(f"{u.name}:{u.kind}" for u in unsaved_options(om)), flush=True)
        QTimer.singleShot(1500, ready)
    import time

    deadline = time.monotonic() + args.seconds
    run_events(app, 1.0)
    while time.monotonic() < deadline and w.isVisible():
        run_events(app, 0.1)
    print("CLOSED" if not w.isVisible() else "OPEN", flush=True)
    if w.isVisible():
        w.options.ask_quit = lambda items: "discard"
        w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
