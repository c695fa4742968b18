"""The main window's actions, toolbars and menus, with their shortcuts.

:func:`build_actions` makes the QActions (undo/redo, the map tools, zoom, the board edits)
and keeps them on the window as ``act_*`` and ``tool_actions``; :func:`build_toolbar` the
Tools toolbar (tools, Select by, Paint with, undo, zoom); :func:`add_key_shortcuts` the
window-wide keys with no menu item (1-5 for the selection level, Ctrl+F for Find);
:func:`build_menus` the menu bar (``file_menu`` … ``help_menu``). Other parts of the app
(proposals, options, principles) add their own items to these menus.

No two actions share a shortcut (Qt makes an ambiguous shortcut do nothing): Redo carries
the platform's own Redo keys only. The slots are the window's methods or the functions of
:mod:`~icbmap.app.actions.boards` and :mod:`~icbmap.app.actions.data`, given the window.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QMainWindow, QToolBar

from icbmap.app import a11y, layout
from icbmap.app.actions import boards as board_actions
from icbmap.app.actions import data as data_actions
from icbmap.app.actions.factory import make_action
from icbmap.app.icons import icon as ui_icon
from icbmap.app.map.tools import PICKABLE
from icbmap.app.map.view import SELECT_LEVELS
from icbmap.atlas.model import LEVEL_LABELS

LEVEL_SHORTCUTS = {"unit": "1", "district": "2", "council": "3", "place": "4", "board": "5"}


def build_actions(w: QMainWindow) -> None:
    """The actions the toolbar and the menus share, kept on the window ``w``."""
    def action(*args, **kwargs) -> QAction:
        return make_action(w, *args, **kwargs)

    w.act_undo = w.controller.group.createUndoAction(w, "&Undo")  # group: one stack per option
    w.act_undo.setShortcut(QKeySequence.StandardKey.Undo)
    w.act_redo = w.controller.group.createRedoAction(w, "&Redo")
    # the platform's own Redo keys (Ctrl+Y on Windows, Ctrl+Shift+Z elsewhere), once each:
    # listing Ctrl+Shift+Z by hand as well made the shortcut ambiguous and dead
    w.act_redo.setShortcuts(QKeySequence.StandardKey.Redo)
    w.act_undo.setIcon(ui_icon("undo"))
    w.act_redo.setIcon(ui_icon("redo"))

    w.tool_group = QActionGroup(w)
    w.tool_actions = {}
    for tool in PICKABLE:   # each map tool makes its own action (name, shortcut, icon, tip)
        act = tool.create_action(w, w.set_tool)
        w.tool_group.addAction(act)
        w.tool_actions[tool.name] = act
    w.tool_actions["select"].setChecked(True)

    w.act_zoom_england = action("Zoom to &England", w.map.zoom_england, "Ctrl+0", "Show all of England")
    w.act_zoom_sel = action("Zoom to &selection", w.zoom_selection, "Ctrl+2", "Zoom to the selected areas")
    w.act_zoom_england.setIcon(ui_icon("zoom-england"))
    w.act_zoom_sel.setIcon(ui_icon("zoom-selection"))
    w.act_zoom_board = action("Zoom to &board", w.zoom_board, "Ctrl+3",
                              "Zoom to the board under the selection or chosen in the list")
    w.act_zoom_in = action("Zoom &in", lambda: w.map.zoom_by(1.25), QKeySequence.StandardKey.ZoomIn)
    w.act_zoom_out = action("Zoom &out", lambda: w.map.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut)

    b = board_actions
    w.act_move_to = action("&Move selection to board\u2026", lambda: b.move_selection(w), "Ctrl+M",
                           "Move the selected areas to a board")
    w.act_clear_sel = action("Clear selection", w.map.clear_selection, None, "Deselect everything (Esc)")
    w.act_merge = action("Mer&ge boards\u2026", lambda: b.merge(w), "Ctrl+G",
                         "Merge the boards selected in the boards list")
    w.act_new_board = action("&New board\u2026", lambda: b.new_board(w), "Ctrl+Shift+N",
                             "Create an empty board (optionally from the selection)")
    w.act_rename = action("&Rename board\u2026", lambda: b.rename(w), "F2", "Rename the chosen board")
    w.act_recolour = action("Re&colour board\u2026", lambda: b.recolour(w), None, "Choose a colour for the chosen board")
    w.act_lock = action("&Lock / unlock board", lambda: b.toggle_lock(w), "Ctrl+L", "A locked board refuses edits")
    w.act_delete = action("&Delete board\u2026", lambda: b.delete(w), None,
                          "Delete a board, moving its areas to another board")
    w.act_paint_board = action("Paint &with board\u2026", lambda: b.choose_paint_board(w), None,
                               "Choose the board the paint brush paints with")


def build_toolbar(w: QMainWindow) -> None:
    """The Tools toolbar: map tools, Select by, Paint with, undo/redo, zoom (``w.tools_toolbar``)."""
    tb = QToolBar("Tools", w)
    tb.setObjectName("toolbar-tools")
    tb.setIconSize(QSize(20, 20))
    tb.setAccessibleName("Tools")
    w.tools_toolbar = tb
    w.addToolBar(tb)
    for act in w.tool_actions.values():
        tb.addAction(act)
    tb.addSeparator()
    level_label = QLabel(" Select b&y: ")
    tb.addWidget(level_label)
    w.level_combo = combo = QComboBox()
    level_label.setBuddy(combo)
    combo.setAccessibleName("Select by")
    for level in SELECT_LEVELS:
        combo.addItem(LEVEL_LABELS[level], level)
    combo.setCurrentIndex(SELECT_LEVELS.index(w.map.level))
    combo.setToolTip("Selection level: what a click selects (keys 1-5)")
    combo.currentIndexChanged.connect(lambda i: w.set_level(SELECT_LEVELS[i]))
    tb.addWidget(combo)
    tb.addSeparator()
    w.paint_combo = paint = QComboBox()
    paint.setToolTip("Board the paint brush paints with")
    paint.setMinimumContentsLength(14)
    paint.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    paint.setAccessibleName("Paint with board")
    paint.currentIndexChanged.connect(w._paint_combo_changed)
    paint_label = QLabel(" Pain&t: ")
    paint_label.setBuddy(paint)
    tb.addWidget(paint_label)
    tb.addWidget(paint)
    tb.addSeparator()
    tb.addAction(w.act_undo)
    tb.addAction(w.act_redo)
    tb.addSeparator()
    tb.addAction(w.act_zoom_england)
    tb.addAction(w.act_zoom_sel)
    tb.addSeparator()


def add_key_shortcuts(w: QMainWindow) -> None:
    """Window-wide keys with no menu item of their own: 1-5 (Select by) and Ctrl+F (Find)."""
    for level, key in LEVEL_SHORTCUTS.items():
        act = QAction(w)
        act.setShortcut(QKeySequence(key))
        act.triggered.connect(lambda _c=False, lv=level: w.set_level(lv))
        w.addAction(act)
    find = QAction(w)
    find.setShortcut(QKeySequence.StandardKey.Find)
    find.triggered.connect(w.finder.focus)
    w.addAction(find)


def build_menus(w: QMainWindow) -> None:
    """The menu bar: File (filled by the proposals), Edit, Boards, View, Data, Help."""
    def action(*args, **kwargs) -> QAction:
        return make_action(w, *args, **kwargs)

    mb = w.menuBar()
    mb.setAccessibleName("Menu bar")
    w.file_menu = mb.addMenu("&File")
    w.edit_menu = edit = mb.addMenu("&Edit")
    for a in (w.act_undo, w.act_redo):
        edit.addAction(a)
    edit.addSeparator()
    sel_menu = edit.addMenu("Select &by")
    for level, key in LEVEL_SHORTCUTS.items():
        a = QAction(f"{LEVEL_LABELS[level]}\t{key}", w)  # the key is shown; add_key_shortcuts binds it
        a.triggered.connect(lambda _c=False, lv=level: w.set_level(lv))
        sel_menu.addAction(a)
    tools = edit.addMenu("&Tool")
    for a in w.tool_actions.values():
        tools.addAction(a)
    edit.addAction(w.act_clear_sel)
    edit.addAction(w.act_move_to)
    edit.addAction(w.act_paint_board)
    w.act_carry = action("Move GP practices &with their areas", w._set_carry, None,
                         "Moving an area also moves the practices standing in it", checkable=True)
    w.act_carry.setChecked(True)
    edit.addAction(w.act_carry)
    edit.addSeparator()

    w.board_menu = boards = mb.addMenu("&Boards")
    for a in (w.act_new_board, w.act_merge, w.act_rename, w.act_recolour, w.act_lock, w.act_delete):
        boards.addAction(a)
    boards.addSeparator()
    w.act_suggest = action("Suggest &options\u2026", lambda: board_actions.suggest(w), None,
                           "Find the best board configurations under your rules (exact optimiser)")
    boards.addAction(w.act_suggest)

    w.view_menu = view = mb.addMenu("&View")
    for a in (w.act_zoom_england, w.act_zoom_sel, w.act_zoom_board, w.act_zoom_in, w.act_zoom_out):
        view.addAction(a)
    view.addSeparator()
    view.addAction(action("Next &panel", lambda: a11y.cycle_focus(w, 1), "F6",
                          "Move the keyboard focus to the next panel (Shift+F6: previous)"))
    view.addAction(action("Previous panel", lambda: a11y.cycle_focus(w, -1), "Shift+F6"))
    view.addAction(action("&Map", w.focus_map, "Ctrl+Shift+M",
                          "Put the keyboard focus on the map (arrow keys move between areas)"))
    view.addAction(action("Reset &layout", w.reset_layout, None,
                          "Size the window to the screen and put the panels back"))
    w.panels_menu = view.addMenu("Pa&nels")
    for dock in layout.docks(w):
        w.panels_menu.addAction(dock.toggleViewAction())

    d = data_actions
    w.data_menu = data = mb.addMenu("&Data")
    data.addAction(action("Data pack &information", lambda: d.show_data_info(w), None,
                          "Layers, counts, population and sources of the data pack"))
    data.addAction(action("Build pack from &official files\u2026", lambda: d.official_import_dialog(w), None,
                          "ONS LSOA 2021 boundaries, lookups and population (icbmap data import)"))
    data.addAction(action("Import &GP practices\u2026", lambda: d.import_practices_dialog(w), None,
                          "Attach NHS 'Patients Registered at a GP Practice' files to this data pack"))
    data.addAction(action("&Download latest official data\u2026", lambda: d.download_dialog(w), None,
                          "Fetch the latest ONS / NHS files and build a new data pack"))
    w.help_menu = mb.addMenu("&Help")
    w.help_menu.addAction(action("&About icbmap", w.show_about))
