"""Redo and undo with real key presses under a real X server (Xvfb + openbox), sent from
outside the app with xdotool (issue 14: Ctrl+Shift+Z printed "Ambiguous shortcut
overload" and did nothing).  Skipped where Xvfb, openbox or xdotool are missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ("Xvfb", "openbox", "xdotool")


@pytest.fixture
def xserver():
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt install xvfb openbox xdotool)")
    display = f":{170 + os.getpid() % 60}"
    x = subprocess.Popen(["Xvfb", display, "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    env = dict(os.environ, DISPLAY=display)
    wm = subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    yield env
    wm.terminate()
    x.terminate()
    wm.wait(10)
    x.wait(10)


def test_undo_and_redo_keys_under_x(xserver):
    env = dict(xserver, QT_QPA_PLATFORM="xcb")
    app = subprocess.Popen([sys.executable, str(ROOT / "tests" / "screens" / "key_driver.py"), "--seconds", "40"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = ""
        deadline = time.monotonic() + 60
        while not line.startswith("READY") and time.monotonic() < deadline:
            line = app.stdout.readline()
            assert line or app.poll() is None, app.stderr.read()
        assert line.startswith("READY 1"), line
        redo_keys = line.split("redo=")[1].strip().split("|")
        assert "Ctrl+Shift+Z" in redo_keys

        def press(key: str) -> str:
            subprocess.run(["xdotool", "key", "--clearmodifiers", key], env=xserver, check=True)
            return app.stdout.readline().strip()

        for key in redo_keys:
            xkey = key.replace("Ctrl", "ctrl").replace("Shift", "shift").replace("+Z", "+z").replace("+Y", "+y")
            assert press("ctrl+z") == "INDEX 0"
            assert press(xkey) == "INDEX 1", key
    finally:
        app.terminate()
        _out, err = app.communicate(timeout=20)
    assert "Ambiguous shortcut" not in err, err
