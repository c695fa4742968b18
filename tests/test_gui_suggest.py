"""Boards ▸ Suggest options…: the dialog finds options in a worker with live progress, Cancel
keeps the best so far, and a result opens as a proposal in the window (pytest-qt, offscreen)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import main_window
from PySide6.QtCore import Qt

pytestmark = [pytest.mark.gui, pytest.mark.slow]

OUT = Path(__file__).resolve().parent.parent / "out"


@pytest.fixture
def window(qtbot, england_2024, tmp_path):
    return main_window(qtbot, england_2024, tmp_path, size=(1200, 800))


def _dialog(qtbot, window):
    action = next(a for a in window.board_menu.actions() if a.text().startswith("Suggest"))
    action.trigger()
    dlg = window._suggest
    qtbot.addWidget(dlg)
    assert dlg.isVisible()
    return dlg


def test_find_show_and_open_an_option(qtbot, window):
    dlg = _dialog(qtbot, window)
    dlg.scope.setCurrentText("East of England")
    dlg.blocks.setCurrentText("places")
    dlg.target.setText("3")
    dlg.top.setValue(3)
    dlg.councils_whole.setChecked(False)   # the principles in use may keep councils whole:
    dlg.cas_whole.setChecked(False)        # then the region has one option only
    dlg.whole_areas.setChecked(False)
    with qtbot.waitSignal(dlg.finished_search, timeout=120_000):
        dlg.find_button.click()
        assert dlg.running and not dlg.find_button.isEnabled() and dlg.cancel_button.isEnabled()
    assert not dlg.running and dlg.find_button.isEnabled()
    r = dlg.result
    assert r.status == "optimal" and len(r.options) == 3
    assert dlg.results.rowCount() == 3
    assert dlg.results.item(0, 1).text() == "optimal" and dlg.results.item(0, 9).text() == "0.00%"
    assert "Proven optimal" in dlg.status.text()
    if OUT.exists():
        dlg.grab().save(str(OUT / "suggest_dialog.png"))
    # open option 2 as a proposal
    before = window.controller.plan
    dlg.results.selectRow(1)
    dlg.open_button.click()
    plan = window.controller.plan
    assert plan is not before
    assert np.array_equal(plan.assignment, r.options[1].plan.assignment)
    opened = window.options.current_option
    assert opened is window.options.options[-1] and opened.name.startswith("Suggested option 2")
    assert len(window.options.options) >= 2   # the baseline stays open beside it
    n_active = len([b for b in plan.boards if b.active])
    assert n_active == len(before.active_boards()) - (6 - 3)


def test_cancel_keeps_the_best_so_far(qtbot, window):
    dlg = _dialog(qtbot, window)
    dlg.scope.setCurrentText("England")
    dlg.blocks.setCurrentText("districts")
    dlg.target.setText("26")
    dlg.top.setValue(1)
    dlg.time_limit.setValue(600)
    dlg.councils_whole.setChecked(False)
    dlg.cas_whole.setChecked(False)
    dlg.whole_areas.setChecked(False)
    with qtbot.waitSignal(dlg.finished_search, timeout=200_000):
        dlg.find_button.click()
        qtbot.waitUntil(lambda: "best " in dlg.status.text() and "best none" not in dlg.status.text(),
                        timeout=150_000)
        assert "bound" in dlg.status.text() and "gap" in dlg.status.text()
        qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    r = dlg.result
    assert r.status == "cancelled" and len(r.options) == 1
    assert dlg.results.rowCount() == 1 and "Cancelled" in dlg.status.text()
    assert r.options[0].violations == []
    assert dlg.open_option(0)
    assert np.array_equal(window.controller.plan.assignment, r.options[0].plan.assignment)


def test_bad_input_is_shown_not_raised(qtbot, window):
    dlg = _dialog(qtbot, window)
    dlg.target.setText("30-20")
    dlg.find_button.click()
    assert not dlg.running
    assert "lower bound is above the upper bound" in dlg.status.text()
    dlg.target.setText("999")
    with qtbot.waitSignal(dlg.finished_search, timeout=60_000):
        dlg.find_button.click()
    assert "at most" in dlg.status.text() and dlg.results.rowCount() == 0


def test_rules_prefilled_from_the_principles_in_use(qtbot, window):
    rs = window.principles.ruleset
    dlg = _dialog(qtbot, window)
    pop = [r for r in rs.rules if r.kind == "population"]
    if pop and pop[0].params.get("min") is not None:
        assert dlg.floor.value() == pop[0].params["min"]
    geos = {r.params.get("geography") for r in rs.rules if r.kind in ("area_within_one_board", "board_of_whole_areas")}
    assert dlg.councils_whole.isChecked() == ("council" in geos)
    assert rs.name in dlg.status.text()
    req = dlg.request()
    assert req.constraints.councils_whole == ("council" in geos)
    if geos - {"council", "ca", "district"}:
        assert dlg.whole_areas.isVisible() and req.constraints.whole_areas


def test_first_click_on_the_april_2026_baseline(qtbot, england, tmp_path):
    """Issue 20: on the April 2026 baseline the dialog's defaults (the principles in use, the
    default objective) return options; one opens as an option beside the baseline."""
    win = main_window(qtbot, england, tmp_path, size=(1200, 800))
    dlg = _dialog(qtbot, win)
    seen = []
    with qtbot.waitSignal(dlg.finished_search, timeout=180_000):
        dlg.find_button.click()
        qtbot.waitUntil(lambda: seen.append(dlg.status.text()) or not dlg.running, timeout=170_000)
    r = dlg.result
    assert r is not None and r.options, dlg.status.text()
    assert r.status in ("optimal", "feasible")
    assert dlg.results.rowCount() == len(r.options)
    assert "No option" not in dlg.status.text()
    # one verdict: the checks column never says "all rules met" beside a failing principle
    for row, o in enumerate(r.options):
        failing = [x for x in o.figures["principles"]["rules"] if not x["passed"]]
        assert (dlg.results.item(row, 8).text() == "all rules met") == (not failing and not o.violations)
    if OUT.exists():
        dlg.grab().save(str(OUT / "suggest_dialog_2026.png"))
    dlg.results.selectRow(0)
    dlg.open_button.click()
    opened = win.options.current_option
    assert opened.name.startswith("Suggested option 1")
    assert np.array_equal(win.controller.plan.assignment, r.options[0].plan.assignment)
