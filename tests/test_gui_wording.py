"""The wording and fit items of issue 22 (item 9): option names that match their place in
the list, area counts that read ("1 place", not "1 place (sub-icb location)"), no "0
option(s)" nor sentences starting lower-case, dialog titles and text boxes that show whole,
the read-only baseline refused before any other question, the Differences dock's check
boxes whole, and `icbmap data info` naming reference layers in full."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, main_window
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QCheckBox, QDialog, QLineEdit, QMessageBox

pytestmark = [pytest.mark.gui]


@pytest.fixture
def window(qtbot, england, tmp_path):
    w = main_window(qtbot, england, tmp_path, size=(1200, 800), normal=True)
    w.options._ask_unsaved = lambda o: "discard"
    w.options.ask_unsaved_all = lambda names: "discard"
    return w


def test_area_counts_read_as_words(england):
    from icbmap.app.describe import describe_selection
    from icbmap.plan.model import Plan

    plan = Plan(england)
    place = england.unit_level("place")
    units = np.flatnonzero(place == place[0])
    text = describe_selection(england, plan, "place", units)
    assert text.endswith(f"(1 place, {len(units):,} LSOAs)"), text
    ca = england.unit_level("ca")
    two = np.flatnonzero(np.isin(ca, np.unique(ca[ca >= 0])[:2]))
    text = describe_selection(england, plan, "ca", two)
    assert "(2 combined authorities, " in text, text


def test_a_new_option_is_named_for_its_place_in_the_list(window):
    om = window.options
    for _ in range(2):
        opt = om.new_from_baseline()
        k = om.options.index(opt)
        # the Options list numbers its lines "1. Baseline", "2. …": the name says the same
        assert opt.name == f"Option {k + 1}", [o.name for o in om.options]
        assert om.panel.list.item(k).text().startswith(f"{k + 1}. Option {k + 1}")


def test_suggest_messages_are_sentences():
    from icbmap.app.dialogs.suggest import sentence

    assert sentence("no option found within the time limit (60 s)") == "No option found within the time limit (60 s)"
    assert sentence("") == ""
    src = (ROOT / "icbmap" / "app" / "dialogs" / "suggest.py").read_text()
    assert "option(s)" not in src


def _watch_first_window(found: list) -> QTimer:
    """Every 30 ms: note the first dialog that shows (its class and text) and close it."""
    def look() -> None:
        for win in QApplication.topLevelWidgets():
            if isinstance(win, QDialog) and win.isVisible():
                text = win.text() + " " + win.informativeText() if isinstance(win, QMessageBox) else ""
                found.append((type(win).__name__, text))
                win.reject()
                return

    t = QTimer()
    t.timeout.connect(look)
    t.start(30)
    return t


def test_editing_the_baseline_is_refused_before_any_question(qtbot, window):
    om = window.options
    om.switch_to(0)
    assert window.controller.read_only
    window.map.set_selection(np.arange(20))
    for act in (window.act_move_to, window.act_rename, window.act_new_board, window.act_delete):
        found: list = []
        watch = _watch_first_window(found)
        act.trigger()
        qtbot.wait(100)
        watch.stop()
        # the first window is the refusal, saying why and what to do (the Move dialog came
        # first, then a line in the status bar)
        assert found and found[0][0] == "QMessageBox", (act.text(), found)
        assert "read-only" in found[0][1] and "New option from baseline" in found[0][1]
        assert len(found) == 1


def test_text_boxes_and_progress_titles_show_whole(qtbot, window):
    from PySide6.QtWidgets import QInputDialog, QProgressDialog

    from icbmap.app.dialogs.common import fit_title_and_text

    long_name = "NHS Bedfordshire, Luton, Milton Keynes, Cambridgeshire and Peterborough ICB"
    dlg = QInputDialog(window)
    dlg.setTextValue(long_name)
    dlg.setWindowTitle("Rename board")
    fit_title_and_text(dlg, "Rename board", long_name)
    dlg.show()
    qtbot.waitExposed(dlg)
    edit = dlg.findChild(QLineEdit)
    assert edit.width() >= edit.fontMetrics().horizontalAdvance(long_name) + 12
    dlg.close()
    progress = QProgressDialog("Computing metrics", "Cancel", 0, 10, window)
    title = "Download official data"
    fit_title_and_text(progress, title, "Computing metrics")
    # the window manager's title (bold, beside its buttons) fits the dialog's width
    assert progress.minimumWidth() >= int(1.3 * progress.fontMetrics().horizontalAdvance(title)) + 150


def test_difference_dock_check_boxes_show_whole(qtbot, window):
    om = window.options
    om.new_from_baseline()
    panel = om.differences
    dock = om.differences_dock
    dock.show()
    dock.setFloating(True)
    dock.resize(420, 300)
    qtbot.wait(200)
    for box in panel.findChildren(QCheckBox):
        if box.isVisible():
            assert box.width() >= box.sizeHint().width(), (box.text(), box.width(), box.sizeHint().width())


def test_data_info_names_reference_layers_in_full(england):
    r = subprocess.run([sys.executable, "-m", "icbmap", "data", "info"], capture_output=True, text=True,
                       timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    for ref in england.references.values():
        assert ref.label in r.stdout, ref.label


def _unit_point(window, unit: int):
    from PySide6.QtCore import QPointF

    x, y = window.atlas.unit_xy[unit]
    return window.map.mapFromScene(QPointF(x, -y))


def test_dragging_or_painting_on_the_baseline_says_why_in_a_box(qtbot, window, england):
    """A drop or a paint stroke on the read-only baseline: the stroke stops, nothing changes,
    and one box (not only the status bar) says why and offers an option to edit."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    om = window.options
    om.switch_to(0)
    c = window.controller
    assert c.read_only
    before = c.plan.assignment.copy()
    t = england.layers["district"].table
    waverley = int(np.flatnonzero(t["name"].to_numpy() == "Waverley")[0])
    units = england.members("district", waverley)
    target = int(c.plan.assignment[england.members("district", int(np.flatnonzero(t["name"].to_numpy() == "Winchester")[0]))[0]])
    assert target != int(c.plan.assignment[units[0]])
    # the drag tool's drop
    window.map.moveRequested.emit(units, target)
    qtbot.waitUntil(lambda: window._read_only_box is not None and window._read_only_box.isVisible(), timeout=2000)
    box = window._read_only_box
    assert "read-only" in box.text() and "New option from baseline" in box.informativeText()
    assert (c.plan.assignment == before).all()
    # a second refusal while it is open does not stack another box
    window.map.moveRequested.emit(units, target)
    assert window._read_only_box is box
    box.reject()
    qtbot.waitUntil(lambda: window._read_only_box is None, timeout=2000)
    # a paint stroke: refused at its first area, the brush stops
    window.set_level("unit")
    window.paint_combo.setCurrentIndex(window.paint_combo.findData(target))
    window.set_tool("paint")
    window.map.zoom_to_units(units)
    vp = window.map.viewport()
    pts = [_unit_point(window, int(u)) for u in units[:4]]
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
    qtbot.waitUntil(lambda: window._read_only_box is not None and window._read_only_box.isVisible(), timeout=2000)
    assert window.map.map_tool.mode is None          # the stroke was stopped
    box = window._read_only_box
    assert (c.plan.assignment == before).all() and c.stack.count() == 0
    # the box's first button makes an option from the baseline, which can then be painted
    n = len(om.options)
    make = next(b for b in box.buttons() if "option" in b.text())
    make.click()
    qtbot.waitUntil(lambda: len(om.options) == n + 1 and not window.controller.read_only, timeout=3000)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
