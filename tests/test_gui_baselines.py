"""File ▸ New from baseline, and opening a proposal drawn on another baseline (pytest-qt)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from test_gui_proposals import make_window, waverley

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _new_windows(old):
    from shiboken6 import isValid

    return [w for w in getattr(QApplication.instance(), "_icbmap_windows", []) if isValid(w) and w is not old]


def test_new_from_baseline_menu_lists_the_configurations(qtbot, england, tmp_path):
    w = make_window(qtbot, england, tmp_path)
    texts = [a.text() for a in w.baseline_menu.actions()]
    assert len(texts) == 4
    assert any(t.startswith("April 2027 (expected: 2025 clusters merged; not decided), derived, expected")
               for t in texts)
    assert any(t.startswith("April 2026 (36 boards), derived") and "current" in t for t in texts)
    assert any(t.startswith("April 2024 (42 boards), official") for t in texts)
    assert any(t.startswith("July 2022 (42 boards), derived") for t in texts)
    assert w.history.emptyLabel() == "Baseline: April 2026 boards (36, derived)"
    assert "baseline: April 2026 boards" in w.pack_label.text()
    box = w.layers.boxes["practices"]
    assert box.isEnabled() and "2023-07-01" in box.text()


def test_new_from_baseline_opens_the_window_on_it(qtbot, england, tmp_path):
    w = make_window(qtbot, england, tmp_path)
    w.controller.move_units(waverley(england), 0)
    w.proposals.ask_unsaved = lambda: "discard"
    act = next(a for a in w.baseline_menu.actions() if a.objectName() == "baseline-2024")
    act.trigger()
    new = _new_windows(w)[-1]
    qtbot.addWidget(new)
    assert not w.isVisible() and new.isVisible()
    assert new.atlas.baseline == "2024" and len(new.controller.active_boards()) == 42
    assert new.history.emptyLabel() == "Baseline: April 2024 boards (42, official)"
    assert new.controller.plan.is_baseline()
    assert new.boards.rowCount() == 42


def test_opening_a_proposal_of_another_baseline_reopens_on_it(qtbot, england, england_2024, tmp_path,
                                                              monkeypatch):
    from icbmap.plan import Plan
    from icbmap.plan.commands import History, MoveUnits
    from icbmap.plan.proposal import Proposal, write_proposal

    plan = Plan(england_2024)
    frimley = england_2024.layers["board"].index_of("E54000034")
    sh = england_2024.layers["board"].index_of("E54000063")
    units = np.array([u for u in waverley(england_2024) if plan.assignment[u] == frimley])
    History(plan).push(MoveUnits(units, sh))
    path = write_proposal(tmp_path / "w24.icbmap.json", Proposal.new(plan, title="Waverley whole (2024)"))

    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    w = make_window(qtbot, england, tmp_path)
    assert w.proposals.open(path, ask_first=False)
    assert asked and "April 2024" in asked[0]
    new = _new_windows(w)[-1]
    qtbot.addWidget(new)
    assert new.atlas.baseline == "2024"
    assert new.proposals.proposal.title == "Waverley whole (2024)"
    assert (new.controller.plan.assignment[units] == sh).all()
    assert "Waverley whole (2024)" in new.windowTitle()


def test_recovering_work_of_another_baseline_reopens_on_it(qtbot, england, england_2024, tmp_path):
    """A crashed session's autosave drawn on April 2024 is recovered into a window reopened
    on April 2024 (the live options recovery; it used to show 'Cannot recover')."""
    import json
    import socket
    import subprocess
    import sys

    from icbmap.plan import Plan
    from icbmap.plan.commands import History, MoveUnits
    from icbmap.plan.proposal import Proposal, write_proposal

    plan = Plan(england_2024)
    frimley = england_2024.layers["board"].index_of("E54000034")
    sh = england_2024.layers["board"].index_of("E54000063")
    units = np.array([u for u in waverley(england_2024) if plan.assignment[u] == frimley])
    History(plan).push(MoveUnits(units, sh))
    folder = tmp_path / "autosave"
    folder.mkdir()
    write_proposal(folder / "crashed.icbmap.json", Proposal.new(plan, title="Waverley whole (2024)"))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (folder / "crashed.session.json").write_text(json.dumps(
        {"pid": int(dead), "host": socket.gethostname(), "last_autosave": "2026-11-01T00:00:00Z",
         "title": "Waverley whole (2024)"}))
    w = make_window(qtbot, england, tmp_path, autosave_dir=folder)
    assert w.options.offer_recovery(choose=lambda group: "recover")
    new = _new_windows(w)[-1]
    qtbot.addWidget(new)
    new.proposals.ask_unsaved = lambda: "discard"
    new.options.ask_unsaved_all = lambda names: "discard"
    assert new.atlas.baseline == "2024"
    assert (new.controller.plan.assignment[units] == sh).all()
    assert not new.controller.stack.isClean()  # recovered work is unsaved until saved
    assert not (folder / "crashed.icbmap.json").exists()
