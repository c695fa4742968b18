"""File > Export > Web page (issue 23 item 4): the app writes the same self-contained page as
``icbmap export --format html``, for the current proposal, with the Principles dock's rules."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import main_window

from icbmap.export.webpage import PROPOSED

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def test_export_web_page_from_the_menu(qtbot, england, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warnings.append(a[2]))
    w = main_window(qtbot, england, tmp_path)
    file_menu = w.menuBar().actions()[0].menu()
    exp_menu = next(a.menu() for a in file_menu.actions() if a.menu() and "Export" in a.text())
    assert w.proposals.act_html in exp_menu.actions()
    assert w.proposals.act_html.text().replace("&", "").startswith("Export web page")
    t = england.layers["district"].table
    waverley = england.members("district", int(np.flatnonzero(t["name"].to_numpy() == "Waverley")[0]))
    target = next(i for i, n in enumerate(england.layers["board"].table["name"]) if "Hampshire" in n)
    w.controller.move_units(waverley, target)
    out = w.proposals.export("html", tmp_path / "option.html")
    assert out and out[0].exists() and not warnings
    text = out[0].read_text(encoding="utf-8")
    assert PROPOSED in text and 'class="moved"' in text
    assert f"Design principles: {w.principles.ruleset.name}" in text
    assert text.count('class="board"') == len(w.controller.plan.active_ids())
    # a folder nobody can write in (sysfs, not even root): a warning naming the file, nothing written
    from pathlib import Path

    bad = Path("/sys/icbmap-gui-web-test.html")
    assert w.proposals.export("html", bad) is None
    assert warnings and not bad.exists()
    assert not [p for p in Path("/sys").iterdir() if p.name.startswith(".icbmap-gui-web-test")]
