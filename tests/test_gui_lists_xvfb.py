"""Lists that stay still (issue 22, item 7), with a real mouse and keys under a real X
server (Xvfb + openbox at 1366x768, 125%), sent from outside with xdotool.

A planner clicked Essex in the Boards panel, pressed F2 and renamed it "Greater Essex";
the list re-sorted under the cursor, so the next click on the same row chose
Gloucestershire, which then got renamed too.  Now editing never re-sorts: the renamed
board keeps its row and its selection, and a second click there finds it again.  The
rename box is wide enough for the name it holds.  Skipped where Xvfb, openbox or xdotool
are missing."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


def test_rename_then_click_keeps_the_board_under_the_cursor(xserver):
    env = dict(xserver, QT_QPA_PLATFORM="xcb", QT_SCALE_FACTOR="1.25")
    app = subprocess.Popen([sys.executable, str(ROOT / "tests" / "screens" / "rename_driver.py"), "--seconds", "60"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)

    def xdo(*args: str) -> None:
        subprocess.run(["xdotool", *args], env=xserver, check=True)
        time.sleep(0.25)

    seen: list[str] = []

    def wait_for(prefix: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = app.stdout.readline()
            assert line or app.poll() is None, app.stderr.read()
            seen.append(line.strip())
            if line.startswith(prefix):
                return line.strip()
        raise AssertionError(f"no {prefix!r} line")

    try:
        ready = wait_for("READY", 90).split()
        x, y = ready[1], ready[2]
        xdo("mousemove", x, y)
        xdo("click", "1")
        assert wait_for("SELECTED") == "SELECTED Essex"
        xdo("key", "F2")
        dialog = wait_for("DIALOG").split()
        edit, text = (int(v.split("=")[1]) for v in dialog[-2:])
        assert edit >= text, dialog   # the whole name shows in the box
        xdo("key", "ctrl+a")
        xdo("type", "--delay", "30", "Greater Essex")
        xdo("key", "Return")
        edited = wait_for("EDITED")
        time.sleep(0.5)
        assert edited.startswith("EDITED Greater Essex"), edited   # the selection stayed on the board
        # the same place again: the same board (it was Gloucestershire after the re-sort)
        xdo("mousemove", x, y)
        xdo("click", "1")
        xdo("key", "F2")
        dialog = wait_for("DIALOG")
        xdo("key", "Escape")
    finally:
        app.terminate()
        out, err = app.communicate(timeout=20)
    selected = [ln for ln in seen[seen.index(edited):] + out.splitlines() if ln.startswith("SELECTED")]
    assert all(ln == "SELECTED Greater Essex" for ln in selected), selected
