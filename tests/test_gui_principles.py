"""The Principles dock follows drags live; reference geography and trusts layers; rule sets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import main_window
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, england, tmp_path):
    return main_window(qtbot, england, tmp_path, size=(1400, 900), normal=True)


def _drag_selection(window, units, target_unit):
    vp = window.map.viewport()
    window.map.zoom_to_units(np.concatenate([units, [target_unit]]))
    window.map.set_selection(np.asarray(units))
    pt = lambda u: window.map.mapFromScene(QPointF(*(window.atlas.unit_xy[u] * [1, -1])))  # noqa: E731
    biggest = int(units[np.argmax([g.area for g in window.atlas.units.geometry.to_numpy()[units]])])
    start, end = pt(biggest), pt(int(target_unit))
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(vp, (start + end) / 2)
    QTest.mouseMove(vp, end)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def _count(panel, rule_id):
    t = panel.rules_table
    return t.item(t.row_of(rule_id), 2).text()


def test_dragging_cumbria_whole_updates_the_dock(window, england):
    plan = window.controller.plan
    panel = window.principles_panel
    assert window.principles.ruleset.name == "NHS England 2025 guidance"
    council = england.layers["council"].table["name"].to_numpy()[england.unit_level("council")]
    sa = england.references["ref:strategic_authorities_2026"]
    cumbria_idx = int(np.flatnonzero(sa.layer.table["name"] == "Cumbria Combined Authority")[0])
    cumbria = sa.unit_area == cumbria_idx
    nenc = next(b.id for b in plan.boards if "North East and North Cumbria" in b.name)
    lsc = next(b.id for b in plan.boards if "Lancashire and South Cumbria" in b.name)
    assert {int(b) for b in np.unique(plan.assignment[cumbria])} == {nenc, lsc}     # split between two boards
    before_councils = _count(panel, "councils")
    before_sa = _count(panel, "strategic-authorities")
    assert panel.rule_cell(lsc, "strategic-authorities") == "\u26a0"      # soft in the preset: a warning
    assert panel.rule_cell(lsc, "population") == "\u2713"
    assert panel.rules_table.item(panel.rules_table.row_of("strategic-authorities"), 1).text() == "\u26a0"

    cumberland_in_lsc = np.flatnonzero((council == "Cumberland") & (plan.assignment == lsc))
    assert len(cumberland_in_lsc)
    target = int(np.flatnonzero((council == "Cumberland") & (plan.assignment == nenc))[0])
    _drag_selection(window, cumberland_in_lsc, target)
    assert (plan.assignment[cumberland_in_lsc] == nenc).all()
    n = int(before_councils.split()[0])
    assert _count(panel, "councils") == f"{n - 1} of {before_councils.split(' of ')[1]}"
    assert ("councils", "count") in panel.rules_table.last_changed          # the changed cell flashes

    rest = np.flatnonzero(cumbria & (plan.assignment == lsc))
    _drag_selection(window, rest, target)
    assert (plan.assignment[cumbria] == nenc).all()                           # Cumbria CA now whole
    m = int(before_sa.split()[0])
    assert _count(panel, "strategic-authorities") == f"{m - 1} of {before_sa.split(' of ')[1]}"
    assert panel.rule_cell(lsc, "strategic-authorities") == "\u2713"
    assert (lsc, "strategic-authorities") in panel.boards_table.last_changed
    text = window.principles.checker.area_failures("strategic-authorities")
    assert not any(t.startswith("Cumbria Combined Authority") for t in text)


def test_rule_set_choice_flags_and_layers(window, england, tmp_path):
    panel = window.principles_panel
    i = panel.combo.findData("East of England regional principles")
    panel.combo.setCurrentIndex(i)
    panel.combo.activated.emit(i)
    assert window.principles.ruleset.name == "East of England regional principles"
    assert [c[0] for c in panel.boards_table.columns][2:] == ["councils", "acute-trusts", "population"]
    # the acute trusts each board holds, as counted by the checker (120 in England)
    t = panel.boards_table
    col = [c[0] for c in t.columns].index("acute")
    shown = sum(int(t.item(r, col).text()) for r in range(t.rowCount()))
    assert shown == 120
    # boards panel flags carry the failing principles
    c = window.principles.checker
    failing = next(b for b in window.controller.plan.active_boards() if c.failing_boards(b.id))
    row = window.boards.row_of(failing.id)
    flags = window.boards.item(row, [k for k, *_ in window.boards.columns].index("flags")).toolTip()
    assert "\u2717" in flags
    # layers: trusts and a reference geography draw without error
    window.trusts_box.setChecked(True)
    window.reference_combo.setCurrentIndex(window.reference_combo.findData("ref:council_reorganisation"))
    img = window.map.grab()
    assert not img.isNull()
    assert "not catchments" in window.legend.toPlainText()
    # the rule set is saved with the proposal and comes back
    path = tmp_path / "p.icbmap.json"
    assert window.proposals._write(str(path))
    from icbmap.plan.proposal import read_proposal

    assert read_proposal(path, england).rules.name == "East of England regional principles"


def test_rule_dialog_rejects_bad_parameter(window):
    from icbmap.app.principles.ruleset_dialog import RuleSetDialog

    dlg = RuleSetDialog(window.principles.ruleset, window)
    dlg.table.item(1, 2).setText("geography = council; tolerance = 3")
    assert dlg.rules() is None and "tolerance" in dlg.error.text()
    dlg.table.item(1, 2).setText("geography = district")
    rs = dlg.rules()
    assert rs is not None and rs.rules[1].params["geography"] == "district"
    # hard / soft and the weight round-trip through the dialog
    assert [r.hard for r in rs.rules] == [True, True, False]
    assert rs.rules[2].kind == "nest_or_contain"
    dlg.table.item(2, 4).setText("2.5")
    assert dlg.rules().rules[2].weight == 2.5
    dlg.table.item(2, 4).setText("nan")
    assert dlg.rules() is None and "weight" in dlg.error.text()
    dlg.table.item(2, 4).setText("-1")
    assert dlg.rules() is None and "weight" in dlg.error.text()


def test_add_reference_geography_from_the_data_menu(window, england, tmp_path, monkeypatch):
    from icbmap.app.principles import reference_areas

    lad = england.layers["district"].table
    path = tmp_path / "two.csv"
    pd.DataFrame({"district": lad["code"].iloc[:2], "area": ["North bit", "North bit"]}).to_csv(path, index=False)
    try:
        ref = reference_areas.add_reference(window, "two_districts", str(path))
        assert ref is not None and "ref:two_districts" in england.references
        assert "ref:two_districts" in window.controller.metrics.report().areas
        assert window.reference_combo.findData("ref:two_districts") >= 0
    finally:
        from icbmap.atlas import areas_store

        england.references.pop("ref:two_districts", None)
        areas_store.remove_user_reference("two_districts")
        window.principles.references_changed()
