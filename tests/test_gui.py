"""The desktop editor, driven with real mouse and key events (pytest-qt, offscreen)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from conftest import main_window
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtTest import QTest

pytestmark = [pytest.mark.gui, pytest.mark.slow]

OUT = Path(__file__).resolve().parent.parent / "out"


@pytest.fixture
def window(qtbot, england, tmp_path):
    w = main_window(qtbot, england, tmp_path, size=(1400, 900), normal=True, show=False)
    activate(qtbot, w)
    w.map.zoom_england()
    return w


def activate(qtbot, w) -> None:
    """Show ``w`` as the active window: shortcuts (Ctrl+Z) only reach the active window."""
    from PySide6.QtWidgets import QApplication

    w.show()
    qtbot.waitExposed(w)
    w.raise_()
    w.activateWindow()
    w.windowHandle().requestActivate()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=3000)


def view_point(window, unit: int) -> QPoint:
    """Viewport position of a unit's representative point."""
    x, y = window.atlas.unit_xy[unit]
    return window.map.mapFromScene(QPointF(x, -y))


def drag(window, start: QPoint, end: QPoint, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    vp = window.map.viewport()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, modifiers, start)
    mid = QPoint((start.x() + end.x()) // 2, (start.y() + end.y()) // 2)
    QTest.mouseMove(vp, mid)
    QTest.mouseMove(vp, end)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, modifiers, end)


def district(atlas, name: str) -> int:
    t = atlas.layers["district"].table
    return int(np.flatnonzero(t["name"].to_numpy() == name)[0])


def board_id(atlas, fragment: str) -> int:
    t = atlas.layers["board"].table
    return int(next(i for i, n in enumerate(t["name"]) if fragment in n))


def summary(window):
    return window.controller.metrics.report().summary


def test_search_district_drag_into_main_board_and_undo(window, england, qtbot):
    """The acceptance path on the April 2026 map: search Vale of White Horse, which lies across
    Thames Valley and Bath, Swindon and Wiltshire, and drag it into the board holding most of it."""
    plan = window.controller.plan
    frimley, surrey = board_id(england, "Bath and North East Somerset"), board_id(england, "Thames Valley")
    waverley = england.members("district", district(england, "Vale of White Horse"))
    pop_before = {b: window.controller.board_populations()[b] for b in (frimley, surrey)}
    split_before = summary(window).levels["district"].split

    assert window.run_search("Vale of White Horse")
    assert window.map.level == "district"
    assert set(window.map.selected_units) == set(waverley)

    in_frimley = [u for u in waverley if plan.assignment[u] == frimley]
    in_surrey = [u for u in waverley if plan.assignment[u] == surrey]
    moved_pop = int(england.population[in_frimley].sum())
    assert moved_pop > 0
    drag(window, view_point(window, in_frimley[0]), view_point(window, in_surrey[len(in_surrey) // 2]))

    assert (plan.assignment[waverley] == surrey).all()
    after = window.controller.board_populations()
    assert after[surrey] == pop_before[surrey] + moved_pop
    assert after[frimley] == pop_before[frimley] - moved_pop
    assert summary(window).levels["district"].split == split_before - 1
    # the boards panel shows the new figures, and the changed cells flash
    row = window.boards.row_of(surrey)
    assert window.boards.item(row, 1).text() == f"{after[surrey]:,}"
    assert {(surrey, "population"), (frimley, "population")} <= window.boards.last_changed
    assert window.boards.item(row, 1).background().color().name() == "#ffd54f"
    assert window.controller.stack.count() == 1

    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert (plan.assignment == plan.baseline_assignment).all()
    assert window.controller.board_populations()[surrey] == pop_before[surrey]
    assert summary(window).levels["district"].split == split_before
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert (plan.assignment[waverley] == surrey).all()


def hide_practices(window) -> None:
    """A unit's representative point may lie under a GP practice marker, which takes the
    press (practices are dragged on their own); these tests are about areas."""
    window.layers.boxes["practices"].setChecked(False)


def test_drop_on_boards_panel(window, england):
    plan = window.controller.plan
    hide_practices(window)
    window.set_level("district")
    d = district(england, "Rushmoor")
    units = england.members("district", d)
    target = board_id(england, "Surrey and Sussex")
    start = view_point(window, int(units[0]))
    window.map.select_area_of(int(units[0]))
    vp = window.map.viewport()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(vp, start + QPoint(10, 10))
    # move over the boards panel's row for the target board
    row = window.boards.row_of(target)
    window.boards.scrollToItem(window.boards.item(row, 0))
    rect = window.boards.visualItemRect(window.boards.item(row, 0))
    global_pos = window.boards.viewport().mapToGlobal(rect.center())
    QTest.mouseMove(vp, vp.mapFromGlobal(global_pos))
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, vp.mapFromGlobal(global_pos))
    assert (plan.assignment[units] == target).all()


def test_escape_cancels_drag(window, england):
    plan = window.controller.plan
    units = england.members("district", district(england, "Waverley"))
    window.run_search("Waverley")
    vp = window.map.viewport()
    start = view_point(window, int(units[0]))
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(vp, start + QPoint(30, 30))
    assert window.map.gesture_mode == "drag" and window.map.gesture is window.map.tools["drag-move"]
    QTest.keyClick(window.map, Qt.Key.Key_Escape)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(200, 0))
    assert (plan.assignment == plan.baseline_assignment).all()
    assert window.controller.stack.count() == 0


def test_locked_board_refuses(window, england, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    plan = window.controller.plan
    surrey = board_id(england, "Hampshire and Isle of Wight")
    window.controller.lock(surrey, True)
    units = england.members("district", district(england, "Waverley"))
    assert not window.controller.move_units(units, surrey)
    box = window.refusal_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    text = box.text()
    assert "locked" in text.lower() and text[0].isupper()  # a sentence, not lower case
    assert not box.iconPixmap().isNull()  # the padlock
    box.close()
    assert (plan.assignment == plan.baseline_assignment).all()


def test_paint_brush_one_undo_step(window, england):
    plan = window.controller.plan
    target = board_id(england, "Hampshire and Isle of Wight")
    window.set_level("unit")
    window.paint_combo.setCurrentIndex(window.paint_combo.findData(target))
    window.set_tool("paint")
    units = england.members("district", district(england, "Waverley"))
    window.map.zoom_to_units(units)
    vp = window.map.viewport()
    pts = [view_point(window, int(u)) for u in units[:6]]
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
    for p in pts[1:]:
        QTest.mouseMove(vp, p)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[-1])
    painted = [u for u in units[:6] if plan.assignment[u] == target]
    assert len(painted) == 6
    assert window.controller.stack.count() == 1  # one stroke, one undo step
    window.controller.stack.undo()
    assert (plan.assignment == plan.baseline_assignment).all()


def test_merge_two_london_boards(window, england, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    from icbmap.names import short_board_name

    plan = window.controller.plan
    n_boards = len(window.controller.active_boards())
    ncl, nel = board_id(england, "West and North London"), board_id(england, "North East London")
    gla_before = next(a for a in window.controller.metrics.report().areas["ca"] if a.code == "E61000001")
    assert gla_before.n_boards == 4
    labels_before = set(window.map.labels())
    window.boards.clearSelection()
    window.boards.setSelectionMode(window.boards.SelectionMode.MultiSelection)
    window.boards.selectRow(window.boards.row_of(ncl))
    window.boards.selectRow(window.boards.row_of(nel))
    keep_name = short_board_name(plan.boards[ncl].name)
    asked = []
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: (asked.append(a[2]), (keep_name, True))[1])
    window.act_merge.trigger()
    # the dialog names the boards being merged
    assert "West and North London" in asked[0] and "North East London" in asked[0]
    assert not plan.boards[nel].active
    assert window.boards.rowCount() == n_boards - 1
    # the selection stays on the merged board (it used to jump to two unrelated rows)
    assert window.boards.selected_boards() == [ncl]
    gla = next(a for a in window.controller.metrics.report().areas["ca"] if a.code == "E61000001")
    assert gla.n_boards == 3
    window.map.invalidate_labels()
    labels = window.map.labels()
    assert "North East London" not in labels
    assert len(window.controller.board_names()) == n_boards - 1
    assert labels_before != set(labels) or "West and North London" in labels
    window.controller.stack.undo()
    assert plan.boards[nel].active and window.boards.rowCount() == n_boards
    assert window.boards.selected_boards() == [ncl]  # and it does not jump after undo
    # History uses the same short names as the Boards list
    assert window.controller.stack.text(0) == "Merge North East London into West and North London"


def test_rectangle_and_lasso_selection(window, england):
    window.set_level("district")
    units = england.members("district", district(england, "Guildford"))
    window.map.zoom_to_units(units)
    pts = np.array([[p.x(), p.y()] for p in (view_point(window, int(u)) for u in units)])
    # rectangle around all of Guildford's LSOA points selects (at least) Guildford
    vp = window.map.viewport()
    drag(window, QPoint(5, 5), QPoint(vp.width() - 5, vp.height() - 5))
    assert set(units) <= set(window.map.selected_units)
    # lasso around the middle of the view
    window.set_tool("lasso")
    c = vp.rect().center()
    ring = [c + QPoint(int(120 * np.cos(t)), int(120 * np.sin(t))) for t in np.linspace(0, 2 * np.pi, 24)]
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, ring[0])
    for p in ring[1:]:
        QTest.mouseMove(vp, p)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, ring[-1])
    assert 0 < len(window.map.selected_units) < len(units) * 20
    assert pts.size


def test_shift_click_adds(window, england):
    window.set_level("district")
    a = england.members("district", district(england, "Guildford"))
    b = england.members("district", district(england, "Waverley"))
    window.map.zoom_to_units(np.concatenate([a, b]))
    vp = window.map.viewport()
    QTest.mouseClick(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, view_point(window, int(a[0])))
    QTest.mouseClick(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, view_point(window, int(b[0])))
    assert set(window.map.selected_units) == set(a) | set(b)


def test_zoom_and_pan(window, england):
    m = window.map
    vp = m.viewport()
    s0 = m.current_scale()
    anchor = QPoint(vp.width() // 3, vp.height() // 3)
    before = m.mapToScene(anchor)
    m.zoom_by(2.0, anchor)
    assert m.current_scale() == pytest.approx(2 * s0)
    after = m.mapToScene(anchor)
    assert abs(after.x() - before.x()) < 3 / m.current_scale()  # the point under the cursor stays put
    c0 = m.visible_scene_rect().center()
    QTest.keyClick(m, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)  # Ctrl+arrows pan
    c1 = m.visible_scene_rect().center()
    assert c1.x() > c0.x()
    # drag-pan with the pan tool
    window.set_tool("pan")
    drag(window, QPoint(400, 400), QPoint(300, 400))
    assert m.visible_scene_rect().center().x() > c1.x()
    window.act_zoom_england.trigger()
    assert m.current_scale() == pytest.approx(s0, rel=0.05)


def test_hover_tooltip_and_status(window, england):
    hide_practices(window)
    u = int(england.members("district", district(england, "Waverley"))[0])
    QTest.mouseMove(window.map.viewport(), view_point(window, u))
    assert "Waverley" in window.hover_label.text()
    assert "Combined authority" in window.map.toolTip()
    # and the reference geographies holding it (bundled: council reorganisation 2027-28)
    assert "Council reorganisation 2027-28: West Surrey Council (decided)" in window.map.toolTip()


def test_random_edits_then_undo_all_returns_to_baseline(window, england):
    plan = window.controller.plan
    c = window.controller
    rng = random.Random(7)
    report0 = c.metrics.report().to_dict()
    n_districts = len(england.layers["district"])
    for _ in range(500):
        r = rng.random()
        active = [b.id for b in plan.boards if b.active]
        if r < 0.7:
            units = england.members("district", rng.randrange(n_districts))
            if rng.random() < 0.5:
                units = units[: max(1, len(units) // 3)]
            c.move_units(units, rng.choice(active))
        elif r < 0.8 and len(active) > 30:
            a, b = rng.sample(active, 2)
            c.merge(a, [b])
        elif r < 0.9:
            c.create_board(f"New {rng.randrange(1000)}")
        else:
            c.recolour(rng.choice(active), "#%06x" % rng.randrange(0xFFFFFF))
    assert c.stack.count() > 400
    while c.stack.canUndo():
        c.stack.undo()
    assert (plan.assignment == plan.baseline_assignment).all()
    assert c.metrics.report().to_dict() == report0
    assert window.boards.rowCount() == len(england.layers["board"])


def test_screenshot(window, england):
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QTextDocument

    # the legend draws each outline style and carries the data attribution
    doc = window.legend.document()
    for level in ("region", "ca", "council", "district"):
        assert doc.resource(QTextDocument.ResourceType.ImageResource.value, QUrl(f"legend://{level}")) is not None
    assert "Open Government Licence" in window.legend.toPlainText()
    OUT.mkdir(exist_ok=True)
    window.run_search("Waverley")
    window.map.zoom_england()
    path = OUT / "main_window.png"
    assert window.grab().save(str(path))
    assert path.stat().st_size > 50_000


# ---------------------------------------------------------------------------- practices
@pytest.fixture(scope="module")
def england_with_practices():
    """A fresh England atlas with the real July 2023 practice file attached."""
    from conftest import shared_file
    from icbmap.atlas.store import OFFLINE, load_atlas
    from icbmap.practices.attach import attach_practices

    path = shared_file("gp", "gp-reg-pat-prac-all_2023-07.csv")
    atlas = load_atlas(OFFLINE)
    attach_practices(atlas, path)
    return atlas


def test_practice_postcode_search_and_drag(qtbot, england_with_practices, tmp_path):
    """As a new user: find a practice by postcode, drag it to a neighbouring board, undo."""
    atlas = england_with_practices
    w = main_window(qtbot, atlas, tmp_path, size=(1400, 900), normal=True, show=False)
    activate(qtbot, w)
    p = atlas.practices
    i = int(np.flatnonzero(p["code"].to_numpy() == "A84002")[0])   # NE65 7UW (Northumberland)
    postcode = p["postcode"].iat[i]
    assert w.run_search(postcode.lower().replace(" ", ""))
    assert list(w.map.selected_practices) == [i]
    plan = w.controller.plan
    src = int(plan.practice_assignment[i])
    # a neighbouring board: the board of the nearest unit not on the practice's board
    xy = atlas.unit_xy
    other = plan.assignment != src
    d = np.hypot(xy[:, 0] - p["x"].iat[i], xy[:, 1] - p["y"].iat[i])
    d[~other] = np.inf
    target_unit = int(np.argmin(d))
    target = int(plan.assignment[target_unit])
    w.map.zoom_to_units(np.array([int(p["unit"].iat[i]), target_unit]))
    reg = w.controller.metrics.values_view().registered
    before = (int(reg[src]), int(reg[target]))
    start = w.map.mapFromScene(QPointF(p["x"].iat[i], -p["y"].iat[i]))
    end = view_point(w, target_unit)
    drag(w, start, end)
    patients = int(p["patients"].iat[i])
    reg = w.controller.metrics.values_view().registered
    assert int(plan.practice_assignment[i]) == target
    assert (int(reg[src]), int(reg[target])) == (before[0] - patients, before[1] + patients)
    assert w.controller.stack.count() == 1, [w.controller.stack.text(k) for k in range(w.controller.stack.count())]
    QTest.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert w.controller.stack.index() == 0
    reg = w.controller.metrics.values_view().registered
    assert (int(reg[src]), int(reg[target])) == before
    assert int(plan.practice_assignment[i]) == src
    OUT.mkdir(exist_ok=True)
    w.grab().save(str(OUT / "practices.png"))


def test_layout_and_view_are_remembered(qtbot, england, tmp_path):
    from icbmap.app.mainwindow import MainWindow

    ini = str(tmp_path / "remember.ini")
    w = MainWindow(england, settings=QSettings(ini, QSettings.Format.IniFormat), autosave_dir=tmp_path / "a")
    w.proposals.ask_unsaved = lambda: "discard"
    qtbot.addWidget(w)
    activate(qtbot, w)
    w.map.zoom_to_units(england.members("district", district(england, "Guildford")))
    w.set_level("council")
    w.layers.boxes["region"].setChecked(True)
    w.metrics_dock.hide()
    state = w.map.view_state()
    w.close()

    w2 = MainWindow(england, settings=QSettings(ini, QSettings.Format.IniFormat), autosave_dir=tmp_path / "b")
    w2.proposals.ask_unsaved = lambda: "discard"
    qtbot.addWidget(w2)
    activate(qtbot, w2)
    qtbot.waitUntil(lambda: abs(w2.map.current_scale() - state[2]) < 1e-9, timeout=3000)
    c = w2.map.visible_scene_rect().center()
    assert abs(c.x() - state[0]) < 50 / state[2] and abs(c.y() - state[1]) < 50 / state[2]
    assert w2.map.level == "council"
    assert w2.layers.boxes["region"].isChecked() and w2.map.outlines["region"].isVisible()
    assert not w2.metrics_dock.isVisible()


def test_new_board_from_selection_gets_a_colour_apart_from_its_neighbours(window, england):
    from icbmap.plan.colours import colour_conflicts

    c = window.controller
    units = england.members("district", district(england, "Waverley"))
    bid = c.create_board_from("Waverley test board", units)
    assert bid is not None and (c.plan.assignment[units] == bid).all()
    assert not [pair for pair in colour_conflicts(c.plan) if bid in pair]
    assert c.stack.count() == 1  # one undo step
    c.stack.undo()
    assert (c.plan.assignment == c.plan.baseline_assignment).all()
    assert not c.plan.boards[bid].active if bid < len(c.plan.boards) else True
    assert window.boards.rowCount() == len(c.active_boards())


def test_build_official_pack_from_the_data_menu(window, tmp_path, monkeypatch):
    """The Data menu's official import: bad files give a message naming the file and leave
    the open work alone; good files build the pack (real files, skipped when absent)."""
    from PySide6.QtWidgets import QMessageBox

    from conftest import shared_file
    from icbmap.app.dialogs.data import OfficialImportDialog

    monkeypatch.setenv("ICBMAP_HOME", str(tmp_path / "home"))
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    before = window.controller.plan.assignment.copy()
    bad = tmp_path / "not-boundaries.csv"
    bad.write_text("a,b\n1,2\n")  # developer-made bad input
    assert window.build_official_pack("gui-test", boundaries=str(bad), icb_lookup=str(bad),
                                      lad_lookup=str(bad)) is None
    assert shown and "not-boundaries.csv" in shown[0]
    assert (window.controller.plan.assignment == before).all()

    dlg = OfficialImportDialog(window)
    ok = dlg.buttons.button(dlg.buttons.StandardButton.Ok)
    assert not ok.isEnabled()  # three files are required
    files = {
        "boundaries": shared_file("boundaries", "lsoa21_simplified_geographr.geojson"),
        "icb_lookup": shared_file("lookups", "lsoa21_sicbl24_icb24_geographr.csv"),
        "lad_lookup": shared_file("lookups", "lsoa21_ward24_lad24_geographr.csv"),
        "population": shared_file("population", "lsoa21_census2021_usual_residents.csv"),
    }
    for key, path in files.items():
        dlg.edits[key].setText(str(path))
    dlg.name.setText("gui-official")
    assert ok.isEnabled()
    atlas = window.build_official_pack(**dlg.values(), use=False)
    assert atlas.n_units == 33_755 and atlas.total_population == 56_490_056
    assert not atlas.population_estimated


def test_outline_layers_bring_their_labels(window, england):
    m = window.map
    window.layers.boxes["region"].setChecked(True)
    m.invalidate_labels()
    assert any("London" == t or "Midlands" == t for t in m.labels())
    window.layers.boxes["region"].setChecked(False)
    window.layers.boxes["ca"].setChecked(False)
    m.invalidate_labels()
    assert "Midlands" not in m.labels()
    # zoomed in, district names appear
    window.map.zoom_to_units(england.members("district", district(england, "Guildford")))
    assert "Guildford" in m.labels()


def test_status_messages_are_not_cut_by_the_pack_label(window, england):
    """The pack and attribution label gives way (elided, whole in its tooltip) so a long
    status message such as a big selection's summary shows in full."""
    label = window.pack_label
    full = label.text()
    assert "OGL v3" in full and label.toolTip() == full
    window.resize(1100, 700)
    msg = "Selected Halton, Derby, Leicester and 68 more (71 districts, 7,149 LSOAs), 1451 GP practices"
    window.statusBar().showMessage(msg)
    QTest.qWait(50)
    metrics = window.statusBar().fontMetrics()
    free = window.statusBar().width() - label.width()
    assert free > metrics.horizontalAdvance(msg)  # the message fits beside the label
    assert label.width() < metrics.horizontalAdvance(full)  # the label gave way
    window.statusBar().clearMessage()
    QTest.qWait(50)
    assert label.isVisible() and label.width() > 200  # and comes back after the message
