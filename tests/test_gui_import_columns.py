"""The app asks which column is the board when an import cannot tell (issue 10).

The CSV files are DEVELOPER-MADE: the default pack's own LSOA codes and April 2026 board
codes, laid out with two ICB columns.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import main_window

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _window(qtbot, atlas, tmp_path):
    return main_window(qtbot, atlas, tmp_path)


def test_app_asks_for_the_board_column(qtbot, england, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QInputDialog, QMessageBox

    codes = england.layers["board"].codes
    base = england.unit_level("board")
    other = np.roll(codes, 1)  # a different board per LSOA in the first column
    path = tmp_path / "two.csv"
    path.write_text("LSOA21CD,ICB24CD,ICB26CD\n" + "".join(
        f"{u},{other[b]},{codes[b]}\n" for u, b in zip(england.unit_codes, base)))
    asked, warnings = [], []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warnings.append(a[2]))

    def choose(parent, title, label, items, current=0, editable=False):
        asked.append((title, list(items)))
        return "ICB26CD", True

    monkeypatch.setattr(QInputDialog, "getItem", choose)
    w = _window(qtbot, england, tmp_path)
    result = w.proposals.import_file(path, show_report=False)
    assert asked == [("Which column is the board?", ["ICB24CD", "ICB26CD"])]
    assert result is not None and not warnings
    assert np.array_equal(w.controller.plan.assignment, base)

    # cancelling the question imports nothing and says nothing more
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("", False))
    before = w.controller.plan.assignment.copy()
    assert w.proposals.import_file(path, show_report=False) is None
    assert not warnings and np.array_equal(w.controller.plan.assignment, before)
