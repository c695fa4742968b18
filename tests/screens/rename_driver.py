"""The main window under a real X server for the rename-then-click test (issue 22): prints
``READY x y`` with the screen position (device pixels) of the Essex row's centre in the
Boards panel, then ``SELECTED name`` whenever the panel's selection changes, ``RENAMED
old -> new`` after a rename and ``DIALOG title width text_width`` when the rename box shows.
Quits after ``--seconds``.  Used by ``tests/test_gui_lists_xvfb.py`` (mouse and keys sent
with xdotool)."""

from __future__ import annotations

import argparse
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--board", default="Essex")
    args = ap.parse_args()
    from driver import main_window, run_events
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit

    from icbmap.names import short_board_name

    app, atlas, w = main_window("icbmap-rename-")
    w.show()
    b = w.boards

    def names() -> str:
        return "|".join(short_board_name(w.controller.plan.boards[i].name) for i in b.selected_boards())

    def ready():
        w.boards_dock.show()
        w.boards_dock.raise_()
        run_events(app, 0.3)
        bid = next(x.id for x in w.controller.plan.active_boards() if short_board_name(x.name) == args.board)
        row = b.row_of(bid)
        b.scrollToItem(b.item(row, 0))
        run_events(app, 0.3)
        rect = b.visualItemRect(b.item(row, 0))
        centre = b.viewport().mapToGlobal(rect.center())
        ratio = b.devicePixelRatioF()
        b.itemSelectionChanged.connect(lambda: print(f"SELECTED {names()}", flush=True))
        w.controller.edited.connect(lambda *_a: print(f"EDITED {names()} row={b.currentRow()}", flush=True))
        print(f"READY {round(centre.x() * ratio)} {round(centre.y() * ratio)} row={row}", flush=True)

    def watch_dialogs():
        for win in QApplication.topLevelWidgets():
            if isinstance(win, QInputDialog) and win.isVisible() and not getattr(win, "_told", False):
                win._told = True
                edit = win.findChild(QLineEdit)
                need = edit.fontMetrics().horizontalAdvance(edit.text()) + 12
                print(f"DIALOG {win.windowTitle()!r} edit={edit.width()} text={need}", flush=True)

    timer = QTimer()
    timer.timeout.connect(watch_dialogs)
    timer.start(100)
    QTimer.singleShot(1500, ready)
    run_events(app, args.seconds)
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
