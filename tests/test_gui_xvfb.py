"""Redo and undo with real key presses under a real X server (Xvfb + openbox), sent from
outside the app with xdotool (issue 14: Ctrl+Shift+Z printed "Ambiguous shortcut
overload" and did nothing).  Skipped where Xvfb, openbox or xdotool are missing."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


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


def test_map_tools_with_a_real_mouse_under_x(xserver):
    """The map tools driven by xdotool through the X server: L picks the lasso, a drawn ring
    selects areas, a middle-button drag pans without changing the tool, R picks the
    rectangle and a drag selects, S goes back to the select tool and Esc clears the
    selection."""
    env = dict(xserver, QT_QPA_PLATFORM="xcb")
    app = subprocess.Popen([sys.executable, str(ROOT / "tests" / "screens" / "mouse_driver.py"), "--seconds", "50"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)

    def xdo(*args: str) -> None:
        subprocess.run(["xdotool", *args], env=xserver, check=True)
        time.sleep(0.15)

    def wait_for(prefix: str, timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = app.stdout.readline()
            assert line or app.poll() is None, app.stderr.read()
            if line.startswith(prefix):
                return line.strip()
        raise AssertionError(f"no {prefix!r} line")

    try:
        ready = wait_for("READY", 60).split()
        x0, y0, width, height = (int(v) for v in ready[1:5])
        assert ready[5] == "tool=select"
        cx, cy = x0 + width // 2, y0 + height // 2
        xdo("mousemove", str(cx), str(cy))
        xdo("click", "1")  # focus the map (and select the area under the mouse)
        xdo("key", "l")
        assert wait_for("TOOL") == "TOOL lasso"
        ring = [(cx + int(90 * c), cy + int(90 * s)) for c, s in
                ((1, 0), (0.7, 0.7), (0, 1), (-0.7, 0.7), (-1, 0), (-0.7, -0.7), (0, -1), (0.7, -0.7), (1, 0))]
        xdo("mousemove", str(ring[0][0]), str(ring[0][1]))
        xdo("mousedown", "1")
        for x, y in ring[1:]:
            xdo("mousemove", str(x), str(y))
        xdo("mouseup", "1")
        assert int(wait_for("SELECTED").split()[1]) > 0
        # middle-button pan: the view moves, the lasso stays the tool
        xdo("mousemove", str(cx), str(cy))
        xdo("mousedown", "2")
        xdo("mousemove", str(cx - 150), str(cy))
        xdo("mouseup", "2")
        # the content follows the mouse to the left: the scene centre moves east
        assert float(wait_for("VIEW").split()[1]) > float(ready[6].split("=")[1]) + 1000
        xdo("key", "r")  # the rectangle tool: a drag from anywhere selects what it covers
        assert wait_for("TOOL") == "TOOL rectangle"
        xdo("mousemove", str(cx - 80), str(cy - 80))
        xdo("mousedown", "1")
        for k in (1, 2, 3, 4):
            xdo("mousemove", str(cx - 80 + 40 * k), str(cy - 80 + 40 * k))
        xdo("mouseup", "1")
        assert int(wait_for("SELECTED").split()[1]) > 0
        xdo("key", "s")
        assert wait_for("TOOL") == "TOOL select"
        xdo("key", "Escape")
        assert wait_for("SELECTED") == "SELECTED 0"
    finally:
        app.terminate()
        _out, err = app.communicate(timeout=20)
    assert "Traceback" not in err, err


def _read_until(proc, prefix: str, seconds: float = 90) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            raise AssertionError(f"driver ended before {prefix}: {proc.stderr.read()[-3000:]}")
        if line.startswith(prefix):
            return line.strip()
    raise AssertionError(f"no {prefix} within {seconds} s")


def _wait_window(env, name: str, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        r = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name], env=env,
                           capture_output=True, text=True)
        if r.stdout.strip():
            return r.stdout.split()[-1]
        time.sleep(0.3)
    raise AssertionError(f"no window {name!r} within {seconds} s")


def test_quit_with_three_kinds_of_unsaved_option_and_restart(xserver, tmp_path):
    """Issue 21: Ctrl+Q with an edited, a duplicated and a suggested option (none saved)
    shows one question listing all three; Alt+Q (quit, each kept: the default) closes the
    app and keeps their autosaves; a restart offers them back (Return: Recover) and all
    three are open again, still unsaved; then Ctrl+Q and Alt+D (Discard all) remove them."""
    env = dict(xserver, QT_QPA_PLATFORM="xcb")
    driver = [sys.executable, str(ROOT / "tests" / "screens" / "quit_driver.py"), "--home", str(tmp_path)]

    def key(k: str) -> None:
        subprocess.run(["xdotool", "key", "--clearmodifiers", k], env=xserver, check=True)
        time.sleep(0.3)

    first = subprocess.Popen(driver, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        ready = _read_until(first, "READY")
        assert ready == "READY Edited:new|Edited copy:duplicated|Suggested option 1: test scope:suggested", ready
        time.sleep(0.5)
        key("ctrl+q")
        _wait_window(xserver, "Unsaved work")
        key("alt+q")
        assert _read_until(first, "CLOSED", 30) == "CLOSED"
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate(timeout=20)
    kept = sorted(p.name for p in (tmp_path / "a").glob("*.icbmap.json"))
    assert len(kept) == 3, kept                                   # the autosaves stay

    second = subprocess.Popen(driver + ["--restart"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=ROOT)
    try:
        _wait_window(xserver, "Recover unsaved work")
        key("Return")
        options = _read_until(second, "OPTIONS")
        names = sorted(item.rsplit(":", 1)[0] for item in options[len("OPTIONS "):].split("|"))
        assert names == ["Edited", "Edited copy", "Suggested option 1: test scope"], options
        key("ctrl+q")
        _wait_window(xserver, "Unsaved work")
        key("alt+d")                                              # Discard all
        assert _read_until(second, "CLOSED", 30) == "CLOSED"
    finally:
        if second.poll() is None:
            second.kill()
        second.communicate(timeout=20)
    assert not list((tmp_path / "a").glob("*.icbmap.json"))       # discarded there: gone
