"""Benchmarks of the editor (pytest-benchmark): the controller path for a district move
(edit + incremental metrics + map re-dissolve + panels) and a full-England frame."""

import numpy as np
import pytest
from conftest import main_window
from PySide6.QtGui import QImage, QPainter

pytestmark = [pytest.mark.slow, pytest.mark.gui]


@pytest.fixture
def window(qtbot, england, tmp_path):
    w = main_window(qtbot, england, tmp_path, size=(1400, 900))
    w.map.zoom_england()
    return w


def test_bench_district_move_edit_metrics_repaint(benchmark, window, england):
    t = england.layers["district"].table
    units = england.members("district", int(np.flatnonzero(t["name"].to_numpy() == "Waverley")[0]))
    boards = [next(i for i, n in enumerate(england.layers["board"].table["name"]) if f in n)
              for f in ("Surrey and Sussex", "Hampshire and Isle of Wight")]
    img = QImage(window.map.viewport().size(), QImage.Format.Format_ARGB32_Premultiplied)
    state = {"k": 0}

    def move_and_repaint():
        state["k"] += 1
        window.controller.move_units(units, boards[state["k"] % 2])
        p = QPainter(img)
        window.map.render(p)
        p.end()

    benchmark.pedantic(move_and_repaint, rounds=20, iterations=1, warmup_rounds=2)
    # every round moved the whole district (benchmarks disabled: one round)
    assert window.controller.stack.count() == state["k"]
    assert (window.controller.plan.assignment[units] == boards[state["k"] % 2]).all()


def test_bench_full_england_frame(benchmark, window):
    img = QImage(window.map.viewport().size(), QImage.Format.Format_ARGB32_Premultiplied)

    def frame():
        p = QPainter(img)
        window.map.render(p)
        p.end()

    frame()  # label pixmaps are made on the first frame
    benchmark.pedantic(frame, rounds=30, iterations=1)


def _drag(vp, button, start, points) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    QTest.mousePress(vp, button, Qt.KeyboardModifier.NoModifier, start)
    for p in points:
        QTest.mouseMove(vp, p)
    QTest.mouseRelease(vp, button, Qt.KeyboardModifier.NoModifier, points[-1])


def test_bench_rectangle_select_lsoas(benchmark, window):
    """A rectangle over half the view with the rectangle tool at LSOA level: press, moves,
    release and the selection outline (thousands of LSOAs dissolved)."""
    from PySide6.QtCore import QPoint, Qt

    window.set_level("unit")
    window.map.set_tool("rectangle")
    vp = window.map.viewport()
    w, h = vp.width(), vp.height()
    path = [QPoint(w // 4 + k * w // 40, h // 4 + k * h // 40) for k in range(1, 11)]
    benchmark.pedantic(lambda: _drag(vp, Qt.MouseButton.LeftButton, QPoint(w // 4, h // 4), path),
                       rounds=10, iterations=1, warmup_rounds=1)
    assert len(window.map.selected_units) > 1000


def test_bench_lasso_select_districts(benchmark, window):
    """A 36-point lasso at district level: the polygon test over every label point and the
    selection outline."""
    from PySide6.QtCore import QPoint, Qt

    window.set_level("district")
    window.map.set_tool("lasso")
    vp = window.map.viewport()
    c = vp.rect().center()
    r = min(vp.width(), vp.height()) // 4
    ring = [c + QPoint(int(r * np.cos(t)), int(r * np.sin(t))) for t in np.linspace(0, 2 * np.pi, 36)]
    benchmark.pedantic(lambda: _drag(vp, Qt.MouseButton.LeftButton, ring[0], ring[1:]),
                       rounds=10, iterations=1, warmup_rounds=1)
    assert len(window.map.selected_units) > 0


def test_bench_board_labels_on_the_laptop_map(benchmark, window):
    """Placing the labels afresh at England view on the laptop's map (648 x 491 px): board
    labels on their own boards, smaller type, initials and leader lines (issue 22)."""
    window.map.setFixedSize(650, 493)
    window.map.zoom_england()
    window.map.placed_labels()

    def relabel():
        window.map.invalidate_labels()
        return window.map.placed_labels()

    placed = benchmark.pedantic(relabel, rounds=20, iterations=1, warmup_rounds=1)
    assert sum(1 for _r, _label, bold in placed if bold) >= 24
