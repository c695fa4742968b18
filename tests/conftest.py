"""Shared fixtures.

``ICBMAP_HOME`` points every test run at one folder under ``.pytest_cache`` so the England
offline pack is built once per checkout (about 10 s) and then loaded from its cache.
Qt runs offscreen.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("ICBMAP_HOME", str(ROOT / ".pytest_cache" / "icbmap-home"))

# a test that switched packs (`data use`) must not change what later runs use
(Path(os.environ["ICBMAP_HOME"]) / "config" / "settings.json").unlink(missing_ok=True)

SHARED = ROOT.parent / "shared"
SHARED_DATA = SHARED / "data" / "raw"


def shared_file(*parts: str) -> Path:
    """A file under ``../shared/data/raw``; the test is skipped (with the reason) if absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real official data not available: {path} is absent (see ../shared/data/README.md)")
    return path


@pytest.fixture(scope="session")
def england():
    """The England offline atlas: 2021 LSOAs, Census 2021, April 2026 boards (the default)."""
    from icbmap.atlas.store import OFFLINE, load_atlas

    return load_atlas(OFFLINE)


@pytest.fixture(scope="session")
def england_2024():
    """The same pack on its April 2024 baseline (42 boards): scenarios about boards that
    merged in 2026 (Frimley, Herts and West Essex, Mid and South Essex) run on it."""
    from icbmap.atlas.store import OFFLINE, load_atlas

    return load_atlas(OFFLINE, baseline="2024")


@pytest.fixture(scope="module")
def thames_plan(england):
    """A plan touching several boards: a cross-border move and a new board made from Kent."""
    import numpy as np

    from icbmap.plan.commands import CreateBoard, History, MoveUnits
    from icbmap.plan.model import Plan

    p = Plan(england)
    h = History(p)
    h.push(MoveUnits(np.arange(100, 400), 3))
    c = CreateBoard("Thames Estuary", code="NEW01")
    h.push(c)
    kent = np.flatnonzero(p.assignment == p.board_by_code("E54000032").id)[:300]
    h.push(MoveUnits(kent, c.board_id))
    return p


def main_window(qtbot, atlas, tmp_path, *, size=None, normal=False, autosave_dir=None, show=True):
    """A main window on ``atlas`` with throw-away settings and autosaves under ``tmp_path``,
    that never blocks on an unsaved-changes question at teardown.  ``normal`` takes it out
    of the maximised state (the offscreen screen is small) before ``size`` is applied;
    ``show`` shows it and waits until it is exposed."""
    from PySide6.QtCore import QSettings, Qt

    from icbmap.app.mainwindow import MainWindow

    w = MainWindow(atlas, settings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat),
                   autosave_dir=autosave_dir or tmp_path / "autosave")
    w.proposals.ask_unsaved = lambda: "discard"
    qtbot.addWidget(w)
    if normal:
        w.setWindowState(Qt.WindowState.WindowNoState)
    if size:
        w.resize(*size)
    if show:
        w.show()
        qtbot.waitExposed(w)
    return w


X_TOOLS = ("Xvfb", "openbox", "xdotool")


@pytest.fixture
def xserver():
    """A real X server (Xvfb, 1366x768) with a window manager (openbox) for the tests that drive
    the app with real keys and mouse (xdotool); yields the environment that reaches it.  The
    display is ICBMAP_XVFB_DISPLAY or one of this process's own."""
    import shutil
    import subprocess
    import time

    missing = [t for t in X_TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt install xvfb openbox xdotool)")
    display = os.environ.get("ICBMAP_XVFB_DISPLAY") or f":{170 + os.getpid() % 60}"
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
