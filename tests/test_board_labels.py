"""Board labels on their own board, and enough of them at England view on a laptop
(issue 22, item 6): the Qt map and the printed briefing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import shapely

ROOT = Path(__file__).resolve().parent.parent
#: the map viewport of the main window, maximised on a 1366x768 screen at 125% (logical px)
LAPTOP_MAP = (648, 491)


def check_map_labels(view) -> tuple[int, list[str]]:
    """(board labels placed, problems): each board label's box has its centre on its own
    board and at most a quarter over any other board, or (leader line) lies on no board and
    points at its board's anchor."""
    n = sum(1 for _r, _label, bold in view.placed_labels() if bold)
    from icbmap.export.labelfit import OTHER_BOARD_MAX, BoardFit

    fit = BoardFit(dict(view.shapes.board_geom))
    problems = []
    for r, label, bold in view.placed_labels():
        if not bold:
            continue
        s = view.mapToScene(r.toAlignedRect()).boundingRect()
        box = (s.left(), -s.bottom(), s.right(), -s.top())
        geom = view.shapes.board_geom[label.board]
        if label.leader is None:
            cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            if not geom.contains(shapely.Point(cx, cy)):
                problems.append(f"{label.text!r}: centre off its board")
            if fit.share_over_others(label.board, box) > OTHER_BOARD_MAX + 1e-9:
                problems.append(f"{label.text!r}: over another board")
        else:
            if not fit.free(box):
                problems.append(f"{label.text!r}: leader label over a board")
            a = view.mapToScene(int(label.leader[0]), int(label.leader[1]))
            if geom.distance(shapely.Point(a.x(), -a.y())) > 2 / view.current_scale():
                problems.append(f"{label.text!r}: leader not at its board")
    return n, problems


@pytest.mark.gui
@pytest.mark.parametrize("boards", [36, 26])
def test_board_labels_at_england_view_on_a_laptop_map(qtbot, england, tmp_path, boards):
    from conftest import main_window

    w = main_window(qtbot, england, tmp_path, size=(1366, 768), normal=True)
    if boards != 36:          # a merged plan: long names ("Bedfordshire, ... and Peterborough")
        from test_briefing_layout import merged

        w.controller.set_plan(merged(england, boards))
    w.map.setFixedSize(LAPTOP_MAP[0] + 2, LAPTOP_MAP[1] + 2)   # the viewport of the laptop's map
    qtbot.waitUntil(lambda: w.map.viewport().width() == LAPTOP_MAP[0], timeout=3000)
    w.map.zoom_england()
    n = sum(1 for _r, _label, bold in w.map.placed_labels() if bold)
    assert n >= min(24, boards * 2 // 3), f"only {n} of {boards} boards labelled at England view"
    n, problems = check_map_labels(w.map)
    assert not problems, problems


def test_label_variants_shrink_and_abbreviate():
    from icbmap.app.map.labels import Label, _board_variants
    from icbmap.names import board_initials, compact_board_name

    assert compact_board_name("NHS North East and North Cumbria Integrated Care Board") == "NE & N Cumbria"
    assert board_initials("Bedfordshire, Luton and Milton Keynes") == "BLMK"
    assert board_initials("Surrey and Sussex") == "Surrey & Sussex"    # two letters would be ambiguous
    v = _board_variants(Label("Bedfordshire, Luton and Milton Keynes", "1.0m", 0, 0, 1, board=3))
    assert all(x.small and x.board == 3 for x in v)
    assert v[-2].text == "BLMK" and v[-2].sub == "1.0m" and v[-1].sub == ""


@pytest.mark.parametrize("baseline", ["2026", "2024"])
def test_briefing_labels_sit_on_their_boards(england, england_2024, baseline):
    """In the PDF every board label or number lies with its centre on its own board (the
    April 2024 map had Hertfordshire's label over Northamptonshire)."""
    from icbmap.export.briefing import briefing_figures
    from icbmap.export.drawing import board_labels
    from icbmap.export.facts import board_shapes
    from icbmap.plan.model import Plan

    plan = Plan(england if baseline == "2026" else england_2024)
    shapes = board_shapes(plan)
    fig = briefing_figures(plan, date_text="1 January 2026")[0]
    boxes = board_labels(fig)
    assert boxes
    wrong = []
    for text, bb, ax, bid in boxes:
        cx, cy = ax.transData.inverted().transform(((bb.x0 + bb.x1) / 2, (bb.y0 + bb.y1) / 2))
        if not shapes[bid].contains(shapely.Point(cx, cy)):
            wrong.append(text.replace("\n", " "))
    assert not wrong, wrong


def _x_tools() -> bool:
    return all(shutil.which(t) for t in ("Xvfb", "openbox"))


@pytest.mark.gui
@pytest.mark.slow
@pytest.mark.skipif(not _x_tools(), reason="Xvfb and openbox are needed for the laptop-screen check")
def test_laptop_screen_under_x(tmp_path):
    """The real window maximised on a 1366x768 X screen at 125%: at least 24 boards labelled."""
    display = f":{200 + os.getpid() % 500}"
    x = subprocess.Popen(["Xvfb", display, "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", QT_SCALE_FACTOR="1.25",
               PYTHONPATH=str(ROOT))
    try:
        time.sleep(1.0)
        wm = subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        out = subprocess.run([sys.executable, str(ROOT / "tests" / "screens" / "labels_driver.py"),
                              str(tmp_path / "map.png")], env=env, capture_output=True, text=True, check=False,
                             timeout=120, cwd=ROOT)
        wm.terminate()
    finally:
        x.terminate()
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["problems"] == []
    assert got["labelled"] >= 24, got
    assert (tmp_path / "map.png").stat().st_size > 10_000
