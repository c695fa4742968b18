"""The options workspace (issue 11): several proposals open at once, the baseline read-only,
switching, duplicate / new / rename / reorder, workspace files, bad input, autosave and
recovery of every option, the comparison dock and the difference map."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import main_window
from PySide6.QtCore import Qt

from icbmap.compare.core import compare
from icbmap.plan.commands import History, MoveUnits
from icbmap.plan.model import Plan
from icbmap.plan.proposal import Proposal, read_proposal, write_proposal

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def make_window(qtbot, atlas, tmp_path, autosave_dir=None):
    w = main_window(qtbot, atlas, tmp_path, size=(1400, 900), autosave_dir=autosave_dir, show=False)
    w.options._ask_unsaved = lambda o: "discard"
    w.options.ask_unsaved_all = lambda names: "discard"
    w.show()
    qtbot.waitExposed(w)
    return w


def edge_units(atlas, k=40):
    """``k`` units of baseline board 0 and a neighbouring board to move them to."""
    b0 = atlas.unit_level("board")
    adj = atlas.adjacency
    for u in np.flatnonzero(b0 == 0):
        for v in adj.neighbours(u):
            if b0[v] != 0:
                target = int(b0[v])
                units = np.flatnonzero(b0 == 0)[:k]
                return units, target
    raise AssertionError("board 0 has no neighbour")


def saved_option(atlas, tmp_path, name, units, board):
    p = Plan(atlas)
    History(p).push(MoveUnits(units, board))
    return write_proposal(tmp_path / f"{name.lower().replace(' ', '-')}.icbmap.json", Proposal.new(p, title=name))


def test_baseline_is_read_only_and_options_switch_in_one_click(qtbot, england, tmp_path):
    w = make_window(qtbot, england, tmp_path)
    om, c = w.options, w.controller
    assert [o.name for o in om.options][0] == "Baseline" and om.current == 1
    units, target = edge_units(england)
    # the baseline refuses edits, with a message
    messages = []
    c.message.connect(messages.append)
    w.options.panel.list.setCurrentRow(0)               # one click on the baseline
    assert om.current == 0 and c.read_only
    before = c.plan.assignment.copy()
    assert not c.move_units(units, target)
    assert (c.plan.assignment == before).all() and "read-only" in messages[-1]
    # a new option from the baseline is editable; the edit is its own, with its own undo
    opt = om.new_from_baseline()
    assert om.current == 2 and not c.read_only
    assert c.move_units(units, target)
    assert (opt.plan.assignment[units] == target).all()
    assert (om.options[1].plan.assignment[units] != target).all()
    # duplicate the current option, rename it, move it up
    dup = om.duplicate()
    assert (dup.plan.assignment == opt.plan.assignment).all() and dup.plan is not opt.plan
    om.rename(om.current, "Option D")
    assert dup.name == "Option D" and dup.proposal.title == "Option D"
    om.move(om.current, -1)
    assert [o.name for o in om.options].index("Option D") == 2 and om.current_option is dup
    om.move(1, -1)                                       # the baseline stays first
    assert om.options[0].baseline
    # undo belongs to the option it was done in
    om.switch_to(om.index_of(opt))
    assert c.stack.count() == 1 and w.act_undo.isEnabled()
    w.act_undo.trigger()
    assert (opt.plan.assignment == opt.plan.baseline_assignment).all()
    assert (dup.plan.assignment[units] == target).all()
    # the metrics of every option stayed live (same as a fresh computation)
    from icbmap.metrics.reference import compute_values

    for o in om.options:
        assert not o.metrics.values().diff(compute_values(o.plan))
    om.close()


def test_each_option_saved_workspace_reopened_and_bad_input(qtbot, england, tmp_path, monkeypatch):
    units, target = edge_units(england)
    a = saved_option(england, tmp_path, "Option A", units[:20], target)
    b = saved_option(england, tmp_path, "Option B", units, target)
    bad = tmp_path / "broken.icbmap.json"
    bad.write_text(a.read_text()[:300])
    foreign = json.loads(b.read_text())
    foreign["pack"]["content_hash"] = "0000000000000000"
    foreign["title"] = "Option F"
    other = tmp_path / "other-pack.icbmap.json"
    other.write_text(json.dumps(foreign))
    w = make_window(qtbot, england, tmp_path)
    om = w.options
    reported = []
    problems = om.open_files([a, bad, b, a, other], report=lambda p, n: reported.append((p, n)))
    names = [o.name for o in om.options]
    # the untouched starting option made way; the corrupt file is refused, the rest open once
    assert names == ["Baseline", "Option A", "Option B", "Option F"]
    assert len(problems) == 1 and "broken.icbmap.json" in problems[0]
    notes = reported[0][1]
    assert any("given twice" in n for n in notes) and any("mapped onto this data pack" in n for n in notes)
    # opening a file already open switches to it
    w.proposals.open(a, ask_first=False)
    assert om.current_option.name == "Option A" and len(om.options) == 4
    # each option is saved to its own file; the workspace lists them and reopens
    om.switch_to(2)
    w.controller.move_units(units[:5], 0)
    ws = tmp_path / "east.icbmap-workspace.json"
    assert om.save_workspace(ws)
    doc = json.loads(ws.read_text())
    assert [e["name"] for e in doc["options"]] == names
    assert read_proposal(b, england).plan.assignment[units[0]] == 0          # option B saved in place
    assert (tmp_path / "east-option-f.icbmap.json").exists() or any(
        "other-pack" in e.get("file", "") for e in doc["options"])
    om.close()
    w2 = make_window(qtbot, england, tmp_path / "w2")
    problems = w2.options.open_workspace(ws, report=lambda p, n: None)
    assert not problems
    assert [o.name for o in w2.options.options] == names
    assert w2.options.current == 2 and w2.controller.plan.assignment[units[0]] == 0
    w2.options.close()


def test_autosave_and_recovery_cover_every_option(qtbot, england, tmp_path):
    units, target = edge_units(england)
    auto = tmp_path / "autosave"
    w = make_window(qtbot, england, tmp_path, autosave_dir=auto)
    om = w.options
    w.controller.move_units(units[:10], target)
    om.rename(1, "First")
    second = om.new_from_baseline()
    om.rename(om.current, "Second")
    w.controller.move_units(units[10:30], target)
    for o in om.options[1:]:
        o.autosaver.save_now(o.proposal)
        o.autosaver.flush()
    # the process dies: its locks go, its autosaves stay
    for o in om.options[1:]:
        o.autosaver._lock.release()
    w2 = make_window(qtbot, england, tmp_path / "after", autosave_dir=auto)
    offered = []
    assert w2.options.offer_recovery(choose=lambda group: offered.append([r.title for r in group]) or "recover")
    assert offered == [["First", "Second"]]
    names = [o.name for o in w2.options.options]
    assert names == ["Baseline", "First", "Second"]
    got = {o.name: o.plan.assignment for o in w2.options.options}
    assert (got["First"][units[:10]] == target).all() and (got["First"][units[10:30]] != target).all()
    assert (got["Second"][units[10:30]] == target).all()
    assert all(o.dirty for o in w2.options.options[1:])      # recovered work is unsaved
    del second
    w2.options.close()


def test_comparison_dock_and_difference_map(qtbot, england, tmp_path):
    units, target = edge_units(england, k=60)
    a = saved_option(england, tmp_path, "Option A", units[:20], target)
    b = saved_option(england, tmp_path, "Option B", units, target)
    w = make_window(qtbot, england, tmp_path)
    om = w.options
    om.open_files([a, b], report=lambda p, n: None)
    om.show_comparison()
    panel = om.comparison
    panel.refresh()
    want = compare([o.core() for o in om.options], baseline=om.options[0].core(), rules=w.principles.ruleset)
    assert any(r.key.startswith("rule:") for r in want.rows)         # the rule set in use adds rows
    t = panel.table
    assert t.columnCount() == 3
    for r, row in enumerate(want.rows):
        assert t.verticalHeaderItem(r).toolTip().startswith(row.label)  # the short name shows
        for i in range(3):
            item = t.item(r, i)
            assert item.text() == row.texts[i]
            assert item.font().bold() == (i in row.best)
    # sort the options on "LSOAs moved": best (fewest) first, then the other way
    r = [row.key for row in want.rows].index("lsoas_moved")
    panel._sort_on_row(r)
    assert [t.horizontalHeaderItem(c).text().lstrip("\u25b6 ") for c in range(3)] == ["Baseline", "Option A", "Option B"]
    panel._sort_on_row(r)
    assert [t.horizontalHeaderItem(c).text().lstrip("\u25b6 ") for c in range(3)] == ["Option B", "Option A", "Baseline"]
    panel._column_clicked(2)                             # click an option's name: it becomes current
    assert om.current_option.name == "Baseline"
    # a focus naming nothing is refused in the panel, the table stays
    assert not panel.set_focus("Atlantis")
    assert "Atlantis" in panel.note.text()
    # differences: Option A -> Option B are the 40 extra units, listed and drawn
    diff = om.differences
    diff.set_pair(1, 2)
    assert om.current_option.name == "Option B"
    d = diff.diff
    assert d.lsoas == 40 and set(d.units.tolist()) == set(units[20:].tolist())
    assert d.people == int(england.population[units[20:]].sum())
    assert diff.layer.parts and len(diff.layer.parts) == 1
    top = diff.tree.topLevelItem(0)
    assert top.childCount() == len(d.by["place"])
    item = top.child(0)
    diff.tree.itemClicked.emit(item, 0)
    mv = item.data(0, Qt.ItemDataRole.UserRole)
    assert set(w.map.selected_units.tolist()) == set(mv.units.tolist())
    assert w.map.visible_scene_rect().contains(w.map.shapes.units_path(mv.units).boundingRect().center())
    # side by side: a second map showing the 'from' option, pan and zoom linked
    diff.side.setChecked(True)
    qtbot.waitUntil(lambda: diff.side_map.isVisible())
    w.map.zoom_to_units(units)
    sx, sy, ss = diff.side_map.view_state()
    mx, my, ms = w.map.view_state()
    assert ss == pytest.approx(ms) and abs(sx - mx) < 2 / ms and abs(sy - my) < 2 / ms
    assert (diff.side_map.assignment == om.options[1].plan.assignment).all()
    om.close()


def test_saving_an_option_writes_what_file_save_writes(qtbot, england, tmp_path):
    """An option saved on its own (or with the workspace, or on closing) carries the rule
    set and goes on the recent list, exactly like File > Save (one writer for both)."""
    from icbmap.plan.proposal import recent_proposals

    units, target = edge_units(england)
    w = make_window(qtbot, england, tmp_path)
    om = w.options
    om.duplicate()
    w.controller.move_units(units[:5], target)
    path = tmp_path / "option-b.icbmap.json"
    assert om.save_option(om.current, path)
    saved = read_proposal(path, england)
    assert saved.rules is not None and saved.rules.name == w.principles.ruleset.name
    assert path.resolve() in [p.resolve() for p in recent_proposals()]
    assert not om.current_option.dirty
    om.close()


def test_comparison_reads_docked_on_a_laptop(qtbot, england, tmp_path):
    """Issue 22: docked at 1366 px (about 530 px wide) the row names took 410 px, the option
    names were out of sight and one column of values showed in part.  Now three options
    show whole, with short row names whose tooltips hold the full name and definition."""
    from icbmap.app.options.compare_view import ROW_NAME_CHARS

    units, target = edge_units(england, k=60)
    a = saved_option(england, tmp_path, "Option A", units[:20], target)
    b = saved_option(england, tmp_path, "Greater Essex and Hertfordshire", units, target)
    w = make_window(qtbot, england, tmp_path)
    om = w.options
    om.open_files([a, b], report=lambda p, n: None)
    om.show_comparison()
    dock = om.comparison_dock
    dock.setFloating(True)
    dock.resize(530, 330)
    qtbot.wait(400)
    panel = om.comparison
    panel.refresh()
    qtbot.wait(100)
    t = panel.table
    assert t.columnCount() == 3
    view = t.viewport().width()
    assert t.verticalHeader().width() <= 0.4 * t.width()
    for c in range(3):   # every option's column lies whole in the view: no sideways scrolling
        assert t.columnViewportPosition(c) >= 0 and t.columnViewportPosition(c) + t.columnWidth(c) <= view, \
            (c, t.columnViewportPosition(c), t.columnWidth(c), view)
        name = t.horizontalHeaderItem(c).text().lstrip("\u25b6 ")
        assert name in t.horizontalHeaderItem(c).toolTip()
    for r, row in enumerate(panel.cmp.rows):
        shown = t.verticalHeaderItem(r).text().rstrip(" \u25b2\u25bc")
        assert len(shown) <= ROW_NAME_CHARS, shown
        assert t.verticalHeaderItem(r).toolTip().startswith(row.label)
    dock.grab().save(str(tmp_path / "comparison-530.png"))
    om.close()
