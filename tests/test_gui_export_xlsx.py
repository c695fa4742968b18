"""File ▸ Export ▸ Excel workbook (issue 23): the menu entry, the export off the UI thread,
and File ▸ Import of the workbook giving back the same assignment."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import main_window

pytestmark = [pytest.mark.slow, pytest.mark.gui]


def test_excel_workbook_from_the_export_menu_and_back(qtbot, england, tmp_path):
    from openpyxl import load_workbook

    w = main_window(qtbot, england, tmp_path)
    c = w.controller
    t = england.layers["district"].table
    waverley = england.members("district", int(np.flatnonzero(t["name"].to_numpy() == "Waverley")[0]))
    hiow = next(i for i, n in enumerate(england.layers["board"].table["name"]) if "Hampshire and Isle of Wight" in n)
    c.move_units(waverley, hiow)
    file_menu = w.menuBar().actions()[0].menu()
    exp_menu = next(a.menu() for a in file_menu.actions() if a.menu() and "Export" in a.text())
    texts = [a.text().replace("&", "") for a in exp_menu.actions()]
    assert "Export Excel workbook…" in texts
    assert texts.index("Export Excel workbook…") < texts.index("Export briefing (PDF/PNG)…")
    out = w.proposals.export("xlsx", tmp_path / "plan.xlsx")
    assert out and out[0].exists()
    wb = load_workbook(out[0], read_only=True)
    assert wb.sheetnames == ["boards", "councils", "strategic authorities", "principles", "moves", "sources"]
    moved = [r[0] for r in wb["moves"].iter_rows(min_row=2, values_only=True)]
    assert sorted(moved) == sorted(england.unit_codes[waverley])
    wb.close()
    expected = c.plan.assignment.copy()
    c.stack.undo()
    result = w.proposals.import_file(out[0], show_report=False)
    assert result is not None and (w.controller.plan.assignment == expected).all()
