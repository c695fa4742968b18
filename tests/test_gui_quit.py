"""Issue 21 (2): unsaved work is always asked about on quit, and kept until discarded there.

An edited option, a duplicated one and a suggested one (never saved) are all listed in one
quit question; *Keep* (the default) leaves their autosaves, and a new window offers all
three back; *Discard all* removes exactly them; a choice per option saves, discards and
keeps as asked.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import main_window
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from icbmap.app.dialogs.unsaved import UnsavedDialog, unsaved_options
from icbmap.plan.autosave import find_recoverable
from icbmap.plan.commands import History, MoveUnits
from icbmap.plan.model import Plan
from icbmap.plan.proposal import Proposal, read_proposal

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def edge_units(atlas, k=40):
    b0 = atlas.unit_level("board")
    for u in np.flatnonzero(b0 == 0):
        for v in atlas.adjacency.neighbours(u):
            if b0[v] != 0:
                return np.flatnonzero(b0 == 0)[:k], int(b0[v])
    raise AssertionError("board 0 has no neighbour")


@pytest.fixture
def windows(qtbot):
    """Windows made by a test (see :func:`settled`)."""
    return []


def settled(test):
    """Whatever the test's outcome, its windows then quit without a question: pytest-qt
    closes them before fixtures are torn down, and the real quit question is modal."""
    @functools.wraps(test)
    def run(*args, **kwargs):
        try:
            return test(*args, **kwargs)
        finally:
            for w in kwargs["windows"]:
                w.options.ask_quit = lambda items: "discard"
    return run


def three_kinds(qtbot, atlas, tmp_path, auto, windows):
    """A window with an edited option, its duplicate and a suggested option (as the
    Suggest dialog opens one: a new, never-saved option)."""
    w = main_window(qtbot, atlas, tmp_path, size=(1366, 768), autosave_dir=auto)
    windows.append(w)
    del w.proposals.ask_unsaved                      # the real question, not the fixture's answer
    units, target = edge_units(atlas)
    om = w.options
    w.controller.move_units(units[:10], target)
    om.rename(1, "Edited")
    om.duplicate(1)
    plan = Plan(atlas)
    History(plan).push(MoveUnits(units[10:30], target))
    proposal = Proposal.new(plan, title="Suggested option 1: test scope")
    om.add_option(proposal.plan, proposal.title, proposal, origin="suggested")
    return w, units, target


def answer_quit(qtbot, press):
    """Press a button of the quit question once it shows; returns what it listed."""
    seen = {}

    def look():
        dlg = next((d for d in QApplication.topLevelWidgets() if isinstance(d, UnsavedDialog) and d.isVisible()),
                   None)
        if dlg is None:
            QTimer.singleShot(50, look)
            return
        seen["rows"] = [(dlg.table.item(r, 0).text(), dlg.table.item(r, 1).text(), dlg.table.item(r, 2).text())
                        for r in range(dlg.table.rowCount())]
        seen["size"] = (dlg.sizeHint().width(), dlg.sizeHint().height())
        press(dlg)

    QTimer.singleShot(0, look)
    return seen


@settled
def test_quit_lists_every_kind_and_keeps_them_for_the_next_start(qtbot, england, tmp_path, windows):
    auto = tmp_path / "autosave"
    w, units, target = three_kinds(qtbot, england, tmp_path, auto, windows)
    assert [u.kind for u in unsaved_options(w.options)] == ["edited", "duplicated", "suggested"] or \
        [u.kind for u in unsaved_options(w.options)] == ["new", "duplicated", "suggested"]
    seen = answer_quit(qtbot, lambda dlg: dlg.quit_button.click())    # every choice left at "Keep"
    assert w.close()
    assert [r[0] for r in seen["rows"]] == ["Edited", "Edited copy", "Suggested option 1: test scope"]
    assert [r[1] for r in seen["rows"]][1:] == ["duplicated", "suggested"]
    assert all(r[2] == "never saved" for r in seen["rows"])
    assert seen["size"][0] <= 1366 / 1.25 and seen["size"][1] <= 768 / 1.25   # fits a 125% laptop screen
    kept = find_recoverable(auto)
    assert sorted(r.title for r in kept) == ["Edited", "Edited copy", "Suggested option 1: test scope"]

    w2 = main_window(qtbot, england, tmp_path / "after", autosave_dir=auto)
    windows.append(w2)
    offered = []
    assert w2.options.offer_recovery(choose=lambda group: offered.append(len(group)) or "recover")
    assert offered == [3]
    got = {o.name: o for o in w2.options.options}
    assert {"Edited", "Edited copy", "Suggested option 1: test scope"} <= set(got)
    assert (got["Suggested option 1: test scope"].plan.assignment[units[10:30]] == target).all()
    assert (got["Edited copy"].plan.assignment[units[:10]] == target).all()
    # still unsaved: asked about again on the next quit
    assert len(unsaved_options(w2.options)) == 3


@settled
def test_discard_all_removes_exactly_what_it_listed(qtbot, england, tmp_path, windows):
    auto = tmp_path / "autosave"
    w, _units, _target = three_kinds(qtbot, england, tmp_path, auto, windows)
    for o in w.options.options[1:]:
        o.autosaver.save_now(o.proposal)
        o.autosaver.flush()
    assert len(find_recoverable(auto)) == 0           # this session is alive: nothing to recover yet
    assert len(list(auto.glob("*.icbmap.json"))) == 3  # but every unsaved option has its autosave
    answer_quit(qtbot, lambda dlg: dlg.discard_all.click())
    assert w.close()
    assert not list(auto.glob("*.icbmap.json")) and not find_recoverable(auto)


@settled
def test_cancel_keeps_the_window_and_choices_per_option(qtbot, england, tmp_path, windows):
    auto = tmp_path / "autosave"
    w, units, target = three_kinds(qtbot, england, tmp_path, auto, windows)
    saved = tmp_path / "edited.icbmap.json"
    assert w.options.save_option(1, saved)
    w.options.switch_to(1)
    w.controller.move_units(units[30:35], target)      # edited since saved
    answer_quit(qtbot, lambda dlg: dlg.reject())
    assert not w.close() and w.isVisible()

    def choose(dlg):
        for it, combo in zip(dlg.items, dlg.combos):
            combo.setCurrentIndex(combo.findData({"edited": "save", "duplicated": "discard"}.get(it.kind, "keep")))
        dlg.quit_button.click()

    seen = answer_quit(qtbot, choose)
    assert w.close()
    assert seen["rows"][0] == ("Edited", "edited", str(saved))
    assert (read_proposal(saved, england).plan.assignment[units[30:35]] == target).all()   # saved
    assert [r.title for r in find_recoverable(auto)] == ["Suggested option 1: test scope"]  # kept; copy discarded


@settled
def test_save_as_and_export_never_replace_an_open_option(qtbot, england, tmp_path, windows, monkeypatch):
    """Issue 21 (1) in the app: Save As onto another option's file, or an export onto an
    open proposal, is refused with a message and the file is unchanged; the option's own
    file is saved over as usual."""
    from PySide6.QtWidgets import QMessageBox

    w, units, target = three_kinds(qtbot, england, tmp_path, tmp_path / "autosave", windows)
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: warnings.append(a[2])))
    first = tmp_path / "first.icbmap.json"
    assert w.options.save_option(1, first)
    before = first.read_bytes()
    assert not w.options.save_option(2, first)                          # Save As over option 1's file
    hard = tmp_path / "hard.icbmap.json"
    import os

    os.link(first, hard)
    assert not w.options.save_option(3, hard)                           # ... or a hard link to it
    w.options.switch_to(2)
    assert w.proposals.export("geojson", first) is None                  # an export over it
    assert first.read_bytes() == before and len(warnings) == 3
    assert all("is an input of this command" in m for m in warnings), warnings
    w.options.switch_to(1)
    w.controller.move_units(units[30:35], target)
    assert w.options.save_option(1)                                     # its own file: saved
    assert first.read_bytes() != before


@settled
def test_workspace_nested_deep_or_with_a_nul_file_name_is_a_message(qtbot, england, tmp_path, windows):
    """Issue 21 (10): Options ▸ Open workspace on a file nested 100,000 deep, or naming an
    option file with a NUL in it, lists the problem (no RecursionError, no ValueError)."""
    import json

    w = main_window(qtbot, england, tmp_path, autosave_dir=tmp_path / "autosave")
    windows.append(w)
    deep = tmp_path / "deep.icbmap-workspace.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    got = []
    assert w.options.open_workspace(deep, report=lambda problems, notes: got.append(problems))
    assert got[-1] == [f"{deep}: not valid JSON: nested too deeply"]
    nul = tmp_path / "nul.icbmap-workspace.json"
    nul.write_text(json.dumps({"format": "icbmap-workspace", "version": 1, "options": [
        {"name": "A", "file": "a\x00b.icbmap.json"}, {"name": "B\u202e", "file": "b.icbmap.json"},
        {"name": "C", "file": "c.icbmap.json", "weight": 1.5}]}).replace("1.5", "1e400"))  # parses as inf
    problems = w.options.open_workspace(nul, report=lambda problems, notes: None)
    assert len(problems) == 1 and "finite" in problems[0]               # the infinity refuses the file
    nul.write_text(json.dumps({"format": "icbmap-workspace", "version": 1, "options": [
        {"name": "A", "file": "a\x00b.icbmap.json"}, {"name": "B\u202e", "file": "b.icbmap.json"}]}))
    problems = w.options.open_workspace(nul, report=lambda problems, notes: None)
    assert "control character (U+0000)" in problems[0] and "U+202E" in problems[1], problems
    assert len(w.options.options) == 2                                   # nothing opened
