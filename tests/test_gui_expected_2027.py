"""The expected April 2027 map in the app: File ▸ New from baseline, and one click in the Options
workspace sets it beside the other options in the Comparison dock (pytest-qt)."""

from __future__ import annotations

import os

import pytest
from PySide6.QtWidgets import QApplication, QPushButton
from test_gui_options import make_window

from icbmap.atlas.clusters import EXPECTED_KEY, EXPECTED_LABEL

pytestmark = [pytest.mark.gui, pytest.mark.slow]
SHOTS = os.environ.get("ICBMAP_SHOTS")      # a folder: grab the windows there to look at them


def _new_windows(old):
    from shiboken6 import isValid

    return [w for w in getattr(QApplication.instance(), "_icbmap_windows", []) if isValid(w) and w is not old]


def test_new_from_baseline_2027_expected(qtbot, england, tmp_path):
    w = make_window(qtbot, england, tmp_path)
    act = next(a for a in w.baseline_menu.actions() if a.objectName() == f"baseline-{EXPECTED_KEY}")
    assert "HCWS915" in act.toolTip() and "not decided" in act.toolTip()
    act.trigger()
    new = _new_windows(w)[-1]
    qtbot.addWidget(new)
    assert new.atlas.baseline == EXPECTED_KEY
    assert len(new.controller.active_boards()) == 26 and new.boards.rowCount() == 26
    assert new.history.emptyLabel() == f"Baseline: {EXPECTED_LABEL}"
    assert EXPECTED_LABEL in new.pack_label.text()
    names = [new.boards.item(r, 0).text() + " " + new.boards.item(r, 1).text() for r in range(new.boards.rowCount())]
    assert sum("(expected 2027)" in n for n in names) == 10 or any("expected" in n for n in names)
    # the clusters are a reference geography the map can outline
    combo = new.reference_combo
    assert combo.findData("ref:icb_clusters_2025") >= 0
    combo.setCurrentIndex(combo.findData("ref:icb_clusters_2025"))
    if SHOTS:
        new.grab().save(os.path.join(SHOTS, "new_from_baseline_2027.png"))
    new.options.close()


def test_expected_map_is_one_click_in_the_options_workspace(qtbot, england, tmp_path):
    w = make_window(qtbot, england, tmp_path)
    om = w.options
    button = next(b for b in om.panel.findChildren(QPushButton) if b.text() == "2027 map")
    button.click()
    assert om.current_option.name == EXPECTED_LABEL
    assert len(w.controller.plan.active_ids()) == 26
    assert "HCWS915" in om.current_option.proposal.notes
    button.click()                                   # a second click switches to it, never a copy
    assert sum(o.name == EXPECTED_LABEL for o in om.options) == 1
    om.show_comparison()
    panel = om.comparison
    panel.refresh()
    t = panel.table
    heads = [t.horizontalHeaderItem(c).text().lstrip("\u25b6 ") for c in range(t.columnCount())]
    col = heads.index(EXPECTED_LABEL)
    rows = {t.verticalHeaderItem(r).text().split("\n")[0]: r for r in range(t.rowCount())}
    key = next(k for k in rows if k.startswith("Boundary change: people"))
    assert t.item(rows[key], col).text() == "0"                 # a pure merger of clusters moves nobody
    key = next(k for k in rows if k.startswith("Merges"))
    assert t.item(rows[key], col).text() == "10"
    key = next(k for k in rows if k == "Boards")
    assert t.item(rows[key], col).text() == "26"
    if SHOTS:
        w.grab().save(os.path.join(SHOTS, "options_2027.png"))
    om.close()
