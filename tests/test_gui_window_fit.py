"""Every window the app can open fits the laptop's screen (issue 22, item 1).

``tests/screens/window_walk.py`` triggers every menu item as a user would, records each
window that shows (dialogs, message boxes, file and print dialogs, the print preview,
progress dialogs) and floats every dock; here its frames are checked against the screen's
available geometry, with the dialogs' buttons and tables on the screen too.

On Qt's offscreen platform with a configured screen: 1366x768 at 100%, 125% and 150%
(``QT_SCALE_FACTOR``) and 1280x720.  Under a real X server (Xvfb + openbox) at 1366x768 and
125%, where the window manager's frame (title bar) counts, when Xvfb and openbox are there.
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
WALK = ROOT / "tests" / "screens" / "window_walk.py"
SLACK = 1  # rounding of the scaled available geometry (1366 / 1.25 = 1092.8)


def screen_config(tmp_path, width, height) -> str:
    cfg = {"screens": [{"name": "s0", "x": 0, "y": 0, "width": width, "height": height, "logicalDpi": 96,
                        "logicalBaseDpi": 96, "dpr": 1}]}
    path = tmp_path / "screens.json"
    path.write_text(json.dumps(cfg))
    return str(path)


def walk(env: dict, *extra: str) -> list[dict]:
    r = subprocess.run([sys.executable, str(WALK), *extra], env=env, capture_output=True, text=True,
                       timeout=900, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    reports = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    assert reports and "done" in reports[-1], r.stdout[-2000:]
    return [rep for rep in reports if "frame" in rep]


def misfits(reports: list[dict]) -> list[str]:
    """What does not fit, in words: a window's frame off the screen, or a dialog button or
    table (part) off the screen."""
    bad = []
    for rep in reports:
        sx, sy, sw, sh = rep["screen"]

        def off(rect, sx=sx, sy=sy, sw=sw, sh=sh) -> bool:
            x, y, w, h = rect
            return x < sx - SLACK or y < sy - SLACK or x + w > sx + sw + SLACK or y + h > sy + sh + SLACK

        if off(rep["frame"]):
            bad.append(f"{rep['item']}: {rep['class']} {rep['title']!r} frame {rep['frame']} on screen {rep['screen']}")
        for name, rect in rep.get("buttons", {}).items():
            if off(rect):
                bad.append(f"{rep['item']}: {rep['title']!r} {name} at {rect} is off the screen {rep['screen']}")
    return bad


CASES = [(1366, 768, 1.0), (1366, 768, 1.25), (1366, 768, 1.5), (1280, 720, 1.0)]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}x{c[1]}-{int(c[2] * 100)}pc")
def test_every_window_fits_the_screen(tmp_path, case):
    width, height, scale = case
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={screen_config(tmp_path, width, height)}",
               QT_SCALE_FACTOR=str(scale))
    env.pop("QT_SCALE_FACTOR_ROUNDING_POLICY", None)
    reports = walk(env)
    titles = {rep["title"] for rep in reports}
    # the walk reached the windows the issue names (the preview's title says how far the
    # drawing of its pages is)
    for want in ("Suggest options", "Briefing map \u2014 print preview", "Data pack information", "About icbmap"):
        assert any(t.startswith(want) for t in titles), (want, titles)
    assert {"Comparison", "Differences", "Boards"} <= {r["title"] for r in reports if r["kind"] == "dock"}
    assert reports[0]["screen"][3] == pytest.approx(height / scale, abs=1)
    assert misfits(reports) == []
    suggest = next(r for r in reports if r["title"] == "Suggest options")
    assert {"Open as option", "Close", "table:QTableWidget"} <= set(suggest["buttons"])




def test_every_window_fits_under_a_window_manager(xserver, tmp_path):
    """1366x768 at 125% under openbox: the frames include the title bar the window manager adds."""
    env = dict(xserver, QT_QPA_PLATFORM="xcb", QT_SCALE_FACTOR="1.25")
    shots = Path(os.environ.get("ICBMAP_WALK_SHOTS", tmp_path / "shots"))
    shots.mkdir(parents=True, exist_ok=True)
    reports = walk(env, "--shots", str(shots), "--settle-ms", "700")
    assert any(r["title"] == "Suggest options" for r in reports)
    # the window manager framed the dialogs: the frame is taller than the window
    framed = [r for r in reports if r["frame"][3] > r["geometry"][3]]
    assert framed, reports[:3]
    assert misfits(reports) == []
