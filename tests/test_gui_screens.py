"""The main window fits laptop screens at Windows display scalings, and comes back onto the
screen when the projector it was last on is gone.

Each case runs the app in a subprocess (``QT_SCALE_FACTOR`` is read once per process) on
Qt's offscreen platform with a configured screen: 1366x768 and 1920x1080 panels at 100%,
125% and 150%.  ``tests/screens/xvfb_screens.sh`` repeats the six cases under a real X
server with a window manager and checks them from outside with ``xdotool``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "screens" / "window_geometry.py"
OUT = ROOT / "out" / "screens"

SCREENS = [(1366, 768), (1920, 1080)]
SCALES = [1.0, 1.25, 1.5]


def screen_config(tmp_path, screens) -> str:
    cfg = {"screens": [{"name": f"s{k}", "x": x, "y": 0, "width": w, "height": h, "logicalDpi": 96,
                        "logicalBaseDpi": 96, "dpr": 1} for k, (x, w, h) in enumerate(screens)]}
    path = tmp_path / "screens.json"
    path.write_text(json.dumps(cfg))
    return str(path)


def run_window(tmp_path, screens, scale=1.0, *extra) -> dict:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = f"offscreen:configfile={screen_config(tmp_path, screens)}"
    env["QT_SCALE_FACTOR"] = str(scale)
    env.pop("QT_SCALE_FACTOR_ROUNDING_POLICY", None)
    r = subprocess.run([sys.executable, str(SCRIPT), *extra], env=env, capture_output=True, text=True,
                       timeout=180, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def assert_fits(rep: dict, slack: int = 2) -> None:
    sx, sy, sw, sh = rep["screen"]
    fx, fy, fw, fh = rep["frame"]
    # the whole window (frame included) is on the screen, the status bar too
    assert fx >= sx - slack and fy >= sy - slack, rep
    assert fx + fw <= sx + sw + slack and fy + fh <= sy + sh + slack, rep
    assert rep["status_bottom"] <= sy + sh + slack, rep
    # the map has at least half the width and shows all of England
    assert rep["map_width"] >= rep["window_width"] / 2, rep
    assert rep["england_visible"], rep
    # nothing hides behind the toolbar's overflow arrow; every dock is there
    assert rep["search_visible"], rep
    assert {"Boards", "Metrics", "History", "Layers", "Legend"} <= set(rep["docks"]), rep


@pytest.mark.parametrize("size", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("scale", SCALES)
def test_window_fits_the_screen(tmp_path, size, scale):
    w, h = size
    OUT.mkdir(parents=True, exist_ok=True)
    shot = OUT / f"offscreen-{w}x{h}-{int(scale * 100)}.png"
    rep = run_window(tmp_path, [(0, w, h)], scale, "--shot", str(shot))
    assert rep["scale"] == pytest.approx(scale)
    assert rep["screen"][2] == pytest.approx(w / scale, abs=1)
    assert_fits(rep)
    # small screens (1366x768 at any scale, 1920x1080 at 150%) open maximised
    assert rep["maximised"] == (w / scale < 1440 or h / scale < 860)
    # docks stack as tabs below 1500 px of width
    assert rep["compact"] == (rep["window_width"] < 1500)
    assert shot.stat().st_size > 30_000


def test_window_left_on_an_unplugged_projector_comes_back(tmp_path):
    ini = str(tmp_path / "w.ini")
    # a laptop with a projector to its right; the window is moved onto the projector
    rep = run_window(tmp_path, [(0, 1366, 768), (1366, 1920, 1080)], 1.0,
                     "--settings", ini, "--move-to", "1700,100")
    assert rep["screen"][2] == 1366
    # next morning: the projector is gone; the window opens on the laptop screen
    rep = run_window(tmp_path, [(0, 1366, 768)], 1.0, "--settings", ini)
    assert_fits(rep)
