"""The app's File menu: save/open, bad files, crash recovery after SIGKILL, exports, print."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import main_window

pytestmark = [pytest.mark.gui, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


def make_window(qtbot, atlas, tmp_path, autosave_dir=None):
    return main_window(qtbot, atlas, tmp_path, autosave_dir=autosave_dir)


def waverley(atlas):
    t = atlas.layers["district"].table
    return atlas.members("district", int(np.flatnonzero(t["name"].to_numpy() == "Waverley")[0]))


def board(atlas, fragment):
    return next(i for i, n in enumerate(atlas.layers["board"].table["name"]) if fragment in n)


def test_save_open_round_trip_and_bad_file_keeps_work(qtbot, england, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warnings.append(a[2]))
    w = make_window(qtbot, england, tmp_path)
    c = w.controller
    c.move_units(waverley(england), board(england, "Hampshire and Isle of Wight"))
    w.proposals.proposal.title = "Surrey option A"
    path = tmp_path / "option-a.icbmap.json"
    assert w.proposals._write(path)
    assert c.stack.isClean() and "Surrey option A" in w.windowTitle()
    saved = c.plan.assignment.copy()

    # a corrupt file: a clear message, the current work untouched
    bad = tmp_path / "broken.icbmap.json"
    bad.write_text(path.read_text()[:200])
    c.move_units(waverley(england)[:3], board(england, "Surrey and Sussex"))
    before = c.plan.assignment.copy()
    assert not w.proposals.open(bad, ask_first=False)
    assert warnings and "broken.icbmap.json" in warnings[-1]
    assert (c.plan.assignment == before).all()

    # reopen the saved file
    assert w.proposals.open(path, ask_first=False)
    assert (c.plan.assignment == saved).all()
    assert w.proposals.proposal.title == "Surrey option A"
    from icbmap.plan.proposal import recent_proposals

    assert path.resolve() in [p.resolve() for p in recent_proposals()]


def test_recovery_after_sigkill(qtbot, england, tmp_path):
    """The app, killed with SIGKILL mid-editing, offers its last autosave at the next start."""
    autosave = tmp_path / "autosave"
    script = textwrap.dedent(f"""
        import os, signal, numpy as np
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtWidgets import QApplication
        from PySide6.QtCore import QSettings
        app = QApplication([])
        from icbmap.atlas.store import load_atlas
        from icbmap.app.mainwindow import MainWindow
        atlas = load_atlas("england-offline")
        w = MainWindow(atlas, settings=QSettings(r"{tmp_path / 'k.ini'}", QSettings.Format.IniFormat),
                       autosave_dir=r"{autosave}")
        w.show()
        t = atlas.layers["district"].table
        c = w.controller
        # five district moves: the autosave threshold (every 5 edits)
        for name in ["Waverley", "Rushmoor", "Hart", "Surrey Heath", "Elmbridge"]:
            d = int(np.flatnonzero(t["name"].to_numpy() == name)[0])
            c.move_units(atlas.members("district", d), 0)
        w.proposals.autosaver.flush()
        np.save(r"{tmp_path / 'expected.npy'}", c.plan.assignment)
        # one more edit after the autosave: this one may be lost
        d = int(np.flatnonzero(t["name"].to_numpy() == "Mole Valley")[0])
        c.move_units(atlas.members("district", d), 0)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, timeout=240)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    expected = np.load(tmp_path / "expected.npy")

    w = make_window(qtbot, england, tmp_path, autosave_dir=autosave)
    offered = []
    assert w.options.offer_recovery(choose=lambda group: offered.append(group[0].describe()) or "recover")
    assert offered and "autosaved" in offered[0]
    assert (w.controller.plan.assignment == expected).all()
    assert not w.controller.stack.isClean()  # recovered work is unsaved until the user saves


def test_exports_from_the_menu_and_import_back(qtbot, england, tmp_path):
    w = make_window(qtbot, england, tmp_path)
    c = w.controller
    c.move_units(waverley(england), board(england, "Hampshire and Isle of Wight"))
    out = w.proposals.export("geojson", tmp_path / "boards.geojson")
    assert out and out[0].exists()
    doc = json.loads(out[0].read_text())
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    assert len(doc["features"]) == len(england.layers["board"])
    csv_out = w.proposals.export("csv", tmp_path / "assign.csv")
    assert csv_out and csv_out[0].exists()
    expected = c.plan.assignment.copy()
    result = w.proposals.import_file(csv_out[0], show_report=False)
    assert result is not None
    assert (w.controller.plan.assignment == expected).all()
    # zipped shapefiles, from File > Export as well, open again in icbmap (and in any GIS)
    import zipfile

    exp_menu = next(a.menu() for a in w.menuBar().actions()[0].menu().actions() if a.menu() and "Export" in a.text())
    assert w.proposals.act_shp in exp_menu.actions()
    shp_out = w.proposals.export("shp", tmp_path / "boards.zip")
    assert shp_out and zipfile.is_zipfile(shp_out[0])
    names = zipfile.ZipFile(shp_out[0]).namelist()
    assert {"boards_boards.shp", "boards_boards.dbf", "boards_boards.prj"} <= set(names)
    w.controller.stack.undo()
    result = w.proposals.import_file(shp_out[0], show_report=False)
    assert result is not None and (w.controller.plan.assignment == expected).all()


def test_print_preview_paints_the_briefing_as_vector_pages(qtbot, england, tmp_path, qtlog):
    """What the print preview and the printer get: the briefing pages, drawn from SVG.
    Print to PDF gives the compact vector file of Export briefing (it was a 7.9 MB
    expansion), and the preview prints no qt.svg warnings (it printed 411)."""
    from PySide6.QtPrintSupport import QPrinter, QPrintPreviewWidget

    w = make_window(qtbot, england, tmp_path)
    w.proposals.proposal.title = "Print test"
    printer = w.proposals.make_printer()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    out = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(out))
    w.proposals._paint_briefing(printer)
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000
    assert b"/Subtype /Image" not in data  # vector, no raster
    exported = tmp_path / "exported.pdf"
    w.proposals.write_briefing(str(exported))
    assert len(data) < 1.2 * exported.stat().st_size < 3_000_000
    # the preview widget asks for the same pages
    preview_printer = w.proposals.make_printer()  # must outlive the preview widget
    preview = QPrintPreviewWidget(preview_printer, w)
    preview.paintRequested.connect(w.proposals._paint_briefing)
    preview.updatePreview()
    assert preview.pageCount() >= 1
    assert not [r.message for r in qtlog.records if r.message.startswith("qt.svg") or "path data" in r.message]


def test_startup_opens_the_proposal_given_on_the_command_line(qtbot, england, tmp_path):
    """`icbmap app PROPOSAL`: the window opens the file after it shows."""
    from icbmap.plan.commands import History, MoveUnits
    from icbmap.plan.model import Plan
    from icbmap.plan.proposal import Proposal, write_proposal

    plan = Plan(england)
    History(plan).push(MoveUnits(waverley(england), board(england, "Hampshire and Isle of Wight")))
    path = tmp_path / "cli.icbmap.json"
    write_proposal(path, Proposal.new(plan, title="From the command line"))
    w = make_window(qtbot, england, tmp_path)
    w.startup(str(path))
    assert (w.controller.plan.assignment == plan.assignment).all()
    assert "From the command line" in w.windowTitle()
