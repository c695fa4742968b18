"""The main window: map in the centre, boards / metrics / layers / legend / history docks."""

from __future__ import annotations

import os
import time

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QColor, QIcon, QKeySequence
from PySide6.QtWidgets import (QColorDialog, QComboBox, QCompleter, QDockWidget, QInputDialog,
                               QLabel, QLineEdit, QMainWindow, QMessageBox, QToolBar, QUndoView, QWidget)

from icbmap import __version__
from icbmap.app import a11y, layout, metrics_view
from icbmap.app.icons import icon as ui_icon
from icbmap.app.controller import Controller
from icbmap.app.mapview import SELECT_LEVELS, MapView
from icbmap.app.panels import BoardsPanel, LayersPanel, LegendPanel
from icbmap.atlas.model import LEVEL_LABELS
from icbmap.atlas.search import SearchIndex
from icbmap.names import short_board_name
from icbmap.paths import resources_dir


def _and(names: list[str]) -> str:
    """['A', 'B', 'C'] -> 'A, B and C'."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]

LEVEL_SHORTCUTS = {"unit": "1", "district": "2", "council": "3", "place": "4", "board": "5"}


class MainWindow(QMainWindow):
    def __init__(self, atlas, plan=None, settings: QSettings | None = None, autosave_dir=None):
        super().__init__()
        self.atlas = atlas
        self.settings = settings or QSettings()
        self.setWindowTitle("icbmap")
        icon = resources_dir() / "icons" / "icbmap.svg"
        if icon.exists():
            self.setWindowIcon(QIcon(str(icon)))
        self.controller = Controller(atlas, plan, self)
        self.map = MapView(atlas, self)
        self.setCentralWidget(self.map)
        self._search_index = None  # built on first use (about 0.5 s)
        self.proposal_path: str | None = None
        self.last_edit_ms = 0.0

        self._build_docks()
        self._build_actions()
        self._build_toolbar()
        self._build_menus()
        self._build_status()
        self._connect()
        from icbmap.app.proposals import ProposalManager

        self.proposals = ProposalManager(self, autosave_dir=autosave_dir)
        from icbmap.app.principles_dock import install as install_principles

        install_principles(self)   # Principles dock, reference geographies, trusts (own module)
        from icbmap.app.options import OptionsManager  # issue 11: options side by side

        self.options = OptionsManager(self)

        self._show_practices()
        self.refresh_all()
        self.fit_screen()
        self._restore_settings()
        layout.ensure_on_screen(self)
        a11y.name_widgets(self)
        self._update_title()

    @property
    def search_index(self) -> SearchIndex:
        if self._search_index is None:
            self._search_index = SearchIndex(self.atlas)
        return self._search_index

    def showEvent(self, event) -> None:  # noqa: N802
        first = not getattr(self, "_docks_sized", False)
        if first and self._first_rect is not None and not self.isMaximized():
            # before the first show Qt counts tabbed docks as stacked and may have grown the
            # window past the screen (1060 px tall on an 864 px screen): size it again now
            self.setGeometry(self._first_rect)
        super().showEvent(event)
        if first:
            self._docks_sized = True
            if not self._restored_state:
                QTimer.singleShot(0, self, lambda: layout.size_docks(self))

    def fit_screen(self) -> None:
        """Size the window to its screen and place the docks for that width (see ``layout``)."""
        rect, _maximise = layout.first_geometry(layout.screen_of(self).availableGeometry())
        self.arrange_docks(rect.width())
        layout.fit_first_show(self)
        self._first_rect = None if self.windowState() & Qt.WindowState.WindowMaximized else rect

    def arrange_docks(self, width: int | None = None) -> bool:
        """Place every dock (the app's and any added later) for ``width``; True if tabbed."""
        screen = layout.screen_of(self).availableGeometry()
        width = width or (screen.width() if self.windowState() & Qt.WindowState.WindowMaximized else self.width())
        return layout.arrange_docks(self, width)

    # ------------------------------------------------------------------ building
    def _build_docks(self) -> None:
        """The docks; where they go is decided by ``layout.arrange_docks`` for the screen."""
        self.boards = BoardsPanel(self)
        self.boards_dock = self._dock("Boards", self.boards, "left",
                                      "The boards of the plan, their population and flags; a drop target")
        self.boards.setMinimumWidth(200)
        self.layers = LayersPanel(self)
        self.layers_dock = self._dock("Layers", self.layers, "left", "Which map layers are shown")
        self.legend = LegendPanel(self)
        self.legend_dock = self._dock("Legend", self.legend, "left", "What the map shows, and the data sources")
        self.metrics_tabs = metrics_view.MetricsTabs(self)
        self.metrics_dock = self._dock("Metrics", self.metrics_tabs, "right",
                                       "Plan summary and split tables, updated after every edit")
        self.metrics_tabs.setMinimumWidth(220)
        self.history = QUndoView(self.controller.group)
        self.history.setAccessibleName("History")
        self.history.setAccessibleDescription("Every edit, oldest first; choose a line to go back to it")
        self.history_dock = self._dock("History", self.history, "right", "Undo history")
        self.set_history_start()

    def _dock(self, title: str, widget: QWidget, side: str = "right", description: str = "") -> QDockWidget:
        return layout.add_dock(self, title, widget, side, description)

    def set_history_start(self, opened: str | None = None) -> None:
        """Name History's first line for what it is: the baseline, or the proposal as opened."""
        if opened:
            self.history.setEmptyLabel(f"{opened} as opened")
        else:
            self.history.setEmptyLabel(f"Baseline: {self.atlas.baseline_label}")

    def _action(self, text: str, slot=None, shortcut=None, tip: str | None = None, checkable=False) -> QAction:
        act = QAction(text, self)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        if tip:
            act.setStatusTip(tip)
            act.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})" if shortcut else tip)
        act.setCheckable(checkable)
        if slot:
            act.triggered.connect(slot)
        return act

    def _build_actions(self) -> None:
        stack = self.controller.stack
        self.act_undo = self.controller.group.createUndoAction(self, "&Undo")  # group: one stack per option
        self.act_undo.setShortcut(QKeySequence.StandardKey.Undo)
        self.act_redo = self.controller.group.createRedoAction(self, "&Redo")
        # the platform's own Redo keys (Ctrl+Y on Windows, Ctrl+Shift+Z elsewhere), once each:
        # listing Ctrl+Shift+Z by hand as well made the shortcut ambiguous and dead
        self.act_redo.setShortcuts(QKeySequence.StandardKey.Redo)
        self.act_undo.setIcon(ui_icon("undo"))
        self.act_redo.setIcon(ui_icon("redo"))

        self.tool_group = QActionGroup(self)
        self.tool_actions = {}
        for tool, text, key, tip in [
            ("select", "Select", "S", "Click, Shift-click or drag a rectangle to select; drag the selection onto a board to move it"),
            ("lasso", "Lasso", "L", "Draw around areas to select them"),
            ("paint", "Paint", "B", "Paint areas into the chosen board"),
            ("pan", "Pan", "H", "Drag to pan the map"),
        ]:
            act = self._action(text, lambda _c=False, t=tool: self.set_tool(t), key, tip, checkable=True)
            act.setIcon(ui_icon(tool))
            self.tool_group.addAction(act)
            self.tool_actions[tool] = act
        self.tool_actions["select"].setChecked(True)

        self.act_zoom_england = self._action("Zoom to &England", self.map.zoom_england, "Ctrl+0", "Show all of England")
        self.act_zoom_sel = self._action("Zoom to &selection", self.zoom_selection, "Ctrl+2", "Zoom to the selected areas")
        self.act_zoom_england.setIcon(ui_icon("zoom-england"))
        self.act_zoom_sel.setIcon(ui_icon("zoom-selection"))
        self.act_zoom_board = self._action("Zoom to &board", self.zoom_board, "Ctrl+3", "Zoom to the board under the selection or chosen in the list")
        self.act_zoom_in = self._action("Zoom &in", lambda: self.map.zoom_by(1.25), QKeySequence.StandardKey.ZoomIn)
        self.act_zoom_out = self._action("Zoom &out", lambda: self.map.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut)

        self.act_move_to = self._action("&Move selection to board\u2026", self.move_selection_dialog, "Ctrl+M", "Move the selected areas to a board")
        self.act_clear_sel = self._action("Clear selection", self.map.clear_selection, None, "Deselect everything (Esc)")
        self.act_merge = self._action("Mer&ge boards\u2026", self.merge_dialog, "Ctrl+G", "Merge the boards selected in the boards list")
        self.act_new_board = self._action("&New board\u2026", self.new_board_dialog, "Ctrl+Shift+N", "Create an empty board (optionally from the selection)")
        self.act_rename = self._action("&Rename board\u2026", self.rename_dialog, "F2", "Rename the chosen board")
        self.act_recolour = self._action("Re&colour board\u2026", self.recolour_dialog, None, "Choose a colour for the chosen board")
        self.act_lock = self._action("&Lock / unlock board", self.toggle_lock, "Ctrl+L", "A locked board refuses edits")
        self.act_delete = self._action("&Delete board\u2026", self.delete_dialog, None, "Delete a board, moving its areas to another board")
        self.act_paint_board = self._action("Paint &with board\u2026", self.choose_paint_board, None, "Choose the board the paint brush paints with")

    def _build_toolbar(self) -> None:
        tb = QToolBar("Tools", self)
        tb.setObjectName("toolbar-tools")
        tb.setIconSize(QSize(20, 20))
        tb.setAccessibleName("Tools")
        self.tools_toolbar = tb
        self.addToolBar(tb)
        for act in self.tool_actions.values():
            tb.addAction(act)
        tb.addSeparator()
        level_label = QLabel(" Select b&y: ")
        tb.addWidget(level_label)
        self.level_combo = QComboBox()
        level_label.setBuddy(self.level_combo)
        self.level_combo.setAccessibleName("Select by")
        for level in SELECT_LEVELS:
            self.level_combo.addItem(LEVEL_LABELS[level], level)
        self.level_combo.setCurrentIndex(SELECT_LEVELS.index(self.map.level))
        self.level_combo.setToolTip("Selection level: what a click selects (keys 1-5)")
        self.level_combo.currentIndexChanged.connect(lambda i: self.set_level(SELECT_LEVELS[i]))
        tb.addWidget(self.level_combo)
        tb.addSeparator()
        self.paint_combo = QComboBox()
        self.paint_combo.setToolTip("Board the paint brush paints with")
        self.paint_combo.setMinimumContentsLength(14)
        self.paint_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.paint_combo.setAccessibleName("Paint with board")
        self.paint_combo.currentIndexChanged.connect(self._paint_combo_changed)
        paint_label = QLabel(" Pain&t: ")
        paint_label.setBuddy(self.paint_combo)
        tb.addWidget(paint_label)
        tb.addWidget(self.paint_combo)
        tb.addSeparator()
        tb.addAction(self.act_undo)
        tb.addAction(self.act_redo)
        tb.addSeparator()
        tb.addAction(self.act_zoom_england)
        tb.addAction(self.act_zoom_sel)
        tb.addSeparator()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search code, name or practice postcode (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(self.search.fontMetrics().horizontalAdvance("Search code, name or postcode") + 30)
        self.search.setAccessibleName("Search")
        self.search.setAccessibleDescription("Type an LSOA, district, council or board code or name, or a "
                                             "GP practice postcode, then Enter to select and zoom to it")
        self.search.returnPressed.connect(lambda: self.run_search(self.search.text()))
        self._completer_model = None
        self.search.textEdited.connect(self._update_completer)
        # search has a toolbar of its own: on a narrow window it starts a second row
        stb = QToolBar("Search", self)
        stb.setObjectName("toolbar-search")
        stb.setAccessibleName("Search")
        stb.setProperty("icbmap_break", True)
        search_label = QLabel(" F&ind: ")
        search_label.setBuddy(self.search)
        stb.addWidget(search_label)
        stb.addWidget(self.search)
        self.search_toolbar = stb
        self.addToolBar(stb)
        for level, key in LEVEL_SHORTCUTS.items():
            act = QAction(self)
            act.setShortcut(QKeySequence(key))
            act.triggered.connect(lambda _c=False, lv=level: self.set_level(lv))
            self.addAction(act)
        find = QAction(self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(lambda: (self.search.setFocus(), self.search.selectAll()))
        self.addAction(find)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        mb.setAccessibleName("Menu bar")
        self.file_menu = mb.addMenu("&File")
        self.edit_menu = mb.addMenu("&Edit")
        for a in (self.act_undo, self.act_redo):
            self.edit_menu.addAction(a)
        self.edit_menu.addSeparator()
        sel_menu = self.edit_menu.addMenu("Select &by")
        for level, key in LEVEL_SHORTCUTS.items():
            a = QAction(f"{LEVEL_LABELS[level]}\t{key}", self)
            a.triggered.connect(lambda _c=False, lv=level: self.set_level(lv))
            sel_menu.addAction(a)
        tools = self.edit_menu.addMenu("&Tool")
        for a in self.tool_actions.values():
            tools.addAction(a)
        self.edit_menu.addAction(self.act_clear_sel)
        self.edit_menu.addAction(self.act_move_to)
        self.edit_menu.addAction(self.act_paint_board)
        self.act_carry = self._action("Move GP practices &with their areas", self._set_carry, None,
                                      "Moving an area also moves the practices standing in it", checkable=True)
        self.act_carry.setChecked(True)
        self.edit_menu.addAction(self.act_carry)
        self.edit_menu.addSeparator()
        self.board_menu = mb.addMenu("&Boards")
        for a in (self.act_new_board, self.act_merge, self.act_rename, self.act_recolour, self.act_lock, self.act_delete):
            self.board_menu.addAction(a)
        self.board_menu.addSeparator()
        self.act_suggest = self._action("Suggest &options\u2026", self.suggest_dialog, None,
                                        "Find the best board configurations under your rules (exact optimiser)")
        self.board_menu.addAction(self.act_suggest)
        self.view_menu = mb.addMenu("&View")
        for a in (self.act_zoom_england, self.act_zoom_sel, self.act_zoom_board, self.act_zoom_in, self.act_zoom_out):
            self.view_menu.addAction(a)
        self.view_menu.addSeparator()
        self.view_menu.addAction(self._action("Next &panel", lambda: a11y.cycle_focus(self, 1), "F6",
                                              "Move the keyboard focus to the next panel (Shift+F6: previous)"))
        self.view_menu.addAction(self._action("Previous panel", lambda: a11y.cycle_focus(self, -1), "Shift+F6"))
        self.view_menu.addAction(self._action("&Map", self.focus_map, "Ctrl+Shift+M",
                                              "Put the keyboard focus on the map (arrow keys move between areas)"))
        self.view_menu.addAction(self._action("Reset &layout", self.reset_layout, None,
                                              "Size the window to the screen and put the panels back"))
        self.panels_menu = self.view_menu.addMenu("Pa&nels")
        for dock in layout.docks(self):
            self.panels_menu.addAction(dock.toggleViewAction())
        self.data_menu = mb.addMenu("&Data")
        self.data_menu.addAction(self._action("Data pack &information", self.show_data_info, None,
                                              "Layers, counts, population and sources of the data pack"))
        self.data_menu.addAction(self._action("Build pack from &official files\u2026", self.official_import_dialog, None,
                                              "ONS LSOA 2021 boundaries, lookups and population (icbmap data import)"))
        self.data_menu.addAction(self._action("Import &GP practices\u2026", self.import_practices_dialog, None,
                                              "Attach NHS 'Patients Registered at a GP Practice' files to this data pack"))
        self.data_menu.addAction(self._action("&Download latest official data\u2026", self.download_dialog, None,
                                              "Fetch the latest ONS / NHS files and build a new data pack"))
        self.help_menu = mb.addMenu("&Help")
        self.help_menu.addAction(self._action("&About icbmap", self.show_about))

    def _build_status(self) -> None:
        self.hover_label = QLabel("")
        self.statusBar().addWidget(self.hover_label, 1)
        basis = "apportioned from district totals" if self.atlas.population_estimated else self.atlas.population_basis
        self.pack_label = QLabel(f"{self.atlas.name} \u00b7 baseline: {self.atlas.baseline_label} \u00b7 "
                                 f"population: {basis} \u00b7 ONS/NHS data, OGL v3")
        self.statusBar().addPermanentWidget(self.pack_label)

    def _connect(self) -> None:
        c = self.controller
        c.changed.connect(self.on_change)
        c.planReplaced.connect(self.refresh_all)
        c.message.connect(self.show_refusal)
        self.map.hoverChanged.connect(self.show_hover)
        self.map.practiceHovered.connect(self.show_practice)
        self.map.moveRequested.connect(self.on_move_requested)
        self.map.practicesMoveRequested.connect(c.move_practices)
        self.map.paintStarted.connect(c.begin_paint)
        self.map.paintArea.connect(c.paint)
        self.map.paintFinished.connect(c.end_paint)
        self.map.dragStatus.connect(lambda s: self.statusBar().showMessage(s, 4000))
        self.map.selectionChanged.connect(self.on_selection)
        self.map.announced.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.map.dropTargetQuery = self.boards.board_at_global
        self.boards.boardActivated.connect(self.zoom_to_board)
        self.layers.toggled.connect(self.toggle_layer)
        c.group.cleanChanged.connect(self._update_title)

    # ------------------------------------------------------------------ refresh
    def on_change(self, change) -> None:
        t0 = time.perf_counter()
        boards = set(getattr(change, "boards", set()) or set())
        structural = bool(getattr(change, "structural", False))
        self.map.practice_board = self.controller.plan.practice_assignment
        self.map.set_boards(self.controller.plan.assignment, self.controller.board_colours(),
                            self.controller.board_names(), self.controller.board_populations(),
                            changed=boards,
                            locked=self.controller.locked_boards())
        self.refresh_panels(structural)
        if self.map.level == "board" and len(self.map.selected_units):
            self.map.set_selection(self.map.selected_units)
        self.last_edit_ms = (time.perf_counter() - t0) * 1000
        self._update_title()

    def refresh_all(self) -> None:
        self.map.practice_board = self.controller.plan.practice_assignment
        if len(self.map.practices.xy):
            self.map.practices.board = self.controller.plan.practice_assignment
        self.map.set_boards(self.controller.plan.assignment, self.controller.board_colours(),
                            self.controller.board_names(), self.controller.board_populations(),
                            locked=self.controller.locked_boards())
        self.refresh_panels(True)

    def refresh_panels(self, structural: bool = False) -> None:
        report = self.controller.metrics.report()
        board_records = metrics_view.board_records(self.controller, report)
        self.boards.set_records(board_records, flash=not structural)
        self.boards.show_registered = self.controller.plan.n_practices > 0  # registered patients
        self.boards.fit_columns()
        self.metrics_tabs.update_from(self.controller, report, flash=not structural)
        if structural:
            self._fill_paint_combo(board_records)
            self.legend.set_content(self.atlas, board_records)

    def _fill_paint_combo(self, records) -> None:
        current = self.paint_combo.currentData()
        self.paint_combo.blockSignals(True)
        self.paint_combo.clear()
        from icbmap.app.panels import swatch

        for r in sorted(records, key=lambda r: r["short"]):
            self.paint_combo.addItem(swatch(r["colour"]), r["short"], r["id"])
        idx = self.paint_combo.findData(current)
        self.paint_combo.setCurrentIndex(max(idx, 0))
        self.paint_combo.blockSignals(False)
        self._paint_combo_changed()

    def _paint_combo_changed(self, *_):
        board = self.paint_combo.currentData()
        if board is not None:
            self.map.paint_board = int(board)

    # ------------------------------------------------------------------ interactions
    def set_tool(self, tool: str) -> None:
        self.tool_actions[tool].setChecked(True)
        self.map.set_tool(tool)
        if tool == "paint":
            self._paint_combo_changed()

    def set_level(self, level: str) -> None:
        self.map.set_level(level)
        i = SELECT_LEVELS.index(level)
        if self.level_combo.currentIndex() != i:
            self.level_combo.setCurrentIndex(i)
        self.statusBar().showMessage(f"Selecting by {LEVEL_LABELS[level].lower()}", 2000)

    def on_move_requested(self, units, board: int) -> None:
        self.controller.move_units(units, board)

    def on_selection(self) -> None:
        units = self.map.selected_units
        if len(units) == 0 and len(self.map.selected_practices) == 0:
            return
        pop = int(self.atlas.population[units].sum()) if len(units) else 0
        boards = sorted(set(self.controller.plan.assignment[units].tolist())) if len(units) else []
        names = ", ".join(short_board_name(self.controller.plan.boards[b].name) for b in boards[:3])
        more = f" +{len(boards) - 3}" if len(boards) > 3 else ""
        practices = len(self.map.selected_practices)
        ptxt = f", {practices} GP practice{'s' if practices != 1 else ''}" if practices else ""
        text = f"Selected {self.describe_selection()}{ptxt}, {pop:,} people, in {names}{more}"
        self.statusBar().showMessage(text, 8000)
        if self.map.hasFocus():
            self.map.announce(text)

    def describe_selection(self) -> str:
        """'Waverley and Guildford (2 districts, 160 LSOAs)' or '3 LSOAs'."""
        units = self.map.selected_units
        n = len(units)
        lsoas = f"{n:,} LSOA{'s' if n != 1 else ''}"
        level = self.map.level
        if level in ("unit", "board") or n == 0:
            if level == "board" and n:
                boards = sorted(set(self.controller.plan.assignment[units].tolist()))
                names = [short_board_name(self.controller.plan.boards[b].name) for b in boards]
                return f"{_and(names)} ({lsoas})"
            return lsoas
        codes = self.atlas.unit_level(level)[units]
        areas = sorted(set(codes.tolist()))
        table = self.atlas.layers[level].table
        names = [str(table["name"].iat[a]) for a in areas[:3]]
        word = LEVEL_LABELS[level].lower()
        if len(areas) > 3:
            return f"{_and(names[:3] + [f'{len(areas) - 3} more'])} ({len(areas)} {word}s, {lsoas})"
        return f"{_and(names)} ({len(areas)} {word}{'s' if len(areas) != 1 else ''}, {lsoas})"

    def focus_map(self) -> None:
        self.map.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def reset_layout(self) -> None:
        for d in layout.docks(self):
            d.setFloating(False)
        self.setWindowState(Qt.WindowState.WindowNoState)
        self.fit_screen()
        if self.windowState() & Qt.WindowState.WindowMaximized:
            self.showMaximized()
        self.map.zoom_england()

    def show_hover(self, unit: int) -> None:
        if unit < 0:
            self.hover_label.setText("")
            self.map.setToolTip("")
            return
        text, tip = self.describe_unit(unit)
        self.hover_label.setText(text)
        self.map.setToolTip(tip)

    def show_practice(self, i: int) -> None:
        if i < 0:
            return
        p = self.atlas.practices
        b = int(self.controller.plan.practice_assignment[i])
        board = short_board_name(self.controller.plan.boards[b].name) if b >= 0 else "unassigned"
        pcn = p["pcn_name"].iat[i] or "no PCN in the map file"
        name = str(p["name"].iat[i] or "")
        text = (f"GP practice {name} ({p['code'].iat[i]}), {p['postcode'].iat[i]} \u00b7 "
                f"{int(p['patients'].iat[i]):,} registered patients \u00b7 PCN {pcn} \u00b7 board {board}")
        self.hover_label.setText(text)
        self.map.setToolTip(f"<b>{name or p['code'].iat[i]}</b> ({p['code'].iat[i]})<br>Postcode: {p['postcode'].iat[i]}"
                            f"<br>Registered patients: {int(p['patients'].iat[i]):,}<br>PCN: {pcn}<br>Board: {board}")

    def describe_unit(self, unit: int) -> tuple[str, str]:
        a = self.atlas
        u = a.units
        name = u["name"].iat[unit]
        code = u["code"].iat[unit]
        d = a.layers["district"].table["name"].iat[int(u["district"].iat[unit])]
        c = a.layers["council"].table["name"].iat[int(u["council"].iat[unit])]
        ca_i = int(u["ca"].iat[unit])
        ca = a.layers["ca"].table["name"].iat[ca_i] if ca_i >= 0 else "none"
        place = a.layers["place"].table["name"].iat[int(u["place"].iat[unit])]
        b = int(self.controller.plan.assignment[unit])
        board = self.controller.plan.boards[b].name if b >= 0 else "unassigned"
        pop = int(a.population[unit])
        basis = " (apportioned)" if a.population_estimated else ""
        text = (f"{name} ({code}) \u00b7 district {d} \u00b7 council {c} \u00b7 board "
                f"{short_board_name(board)} \u00b7 {pop:,} people{basis}")
        tip = (f"<b>{name}</b> ({code})<br>District: {d}<br>Council: {c}<br>"
               f"Combined authority: {ca}<br>Place: {place}<br>Board: {board}<br>"
               f"Population: {pop:,}{basis}")
        return text, tip

    def _set_carry(self, on: bool) -> None:
        self.controller.carry_practices = bool(on)

    def show_refusal(self, text: str) -> None:
        text = self.controller.ui_text(text)
        text = text[:1].upper() + text[1:]  # a sentence, whatever the model's wording
        self.statusBar().showMessage(text, 6000)
        if "locked" in text.lower():
            box = QMessageBox(QMessageBox.Icon.Information, "Board locked", text, parent=self)
            box.setIconPixmap(ui_icon("lock").pixmap(48, 48))
            box.setInformativeText("Unlock it with Boards \u25b8 Lock / unlock board (Ctrl+L).")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.refusal_box = box
            box.open()  # window-modal, without a nested event loop

    def toggle_layer(self, key: str, on: bool) -> None:
        m = self.map
        if key == "fill":
            m.fill.show_fill = on
            m.fill.update()
        elif key == "units":
            m.unit_lines.setVisible(on)
        elif key in m.outlines:
            m.outlines[key].setVisible(on)
            m.invalidate_labels()
        elif key == "practices":
            m.practices.setVisible(on)
        elif key == "board_labels":
            m.show_board_labels = on
            m.invalidate_labels()
        elif key == "area_labels":
            m.show_area_labels = on
            m.invalidate_labels()
        m.viewport().update()

    def zoom_selection(self) -> None:
        self.map.zoom_to_units(self.map.selected_units)

    def chosen_board(self) -> int | None:
        sel = self.boards.selected_boards()
        if sel:
            return sel[0]
        if len(self.map.selected_units):
            return int(self.controller.plan.assignment[self.map.selected_units[0]])
        return None

    def zoom_board(self) -> None:
        b = self.chosen_board()
        if b is not None:
            self.zoom_to_board(b)

    def zoom_to_board(self, board: int) -> None:
        self.map.zoom_to_units(np.flatnonzero(self.controller.plan.assignment == board))

    def board_choice(self, title: str, label: str, exclude: set[int] | None = None,
                     default: int | None = None) -> int | None:
        """A board picked from a list of short names (A to Z), ``default`` preselected."""
        from icbmap.app.dialogs import BoardChoiceDialog

        boards = [b for b in self.controller.active_boards() if not exclude or b.id not in exclude]
        if not boards:
            return None
        dlg = BoardChoiceDialog(self, title, label, [(b.id, short_board_name(b.name), b.name, b.colour, b.locked)
                                                     for b in boards], default)
        return dlg.choose()

    def move_target_default(self, units) -> int | None:
        """The sensible target for moving ``units``: the neighbouring board sharing the
        longest border with them (not one they are already in)."""
        from icbmap.app.dialogs import neighbour_boards

        ranked = neighbour_boards(self.atlas, self.controller.plan.assignment, units)
        return ranked[0] if ranked else None

    def move_selection_dialog(self) -> None:
        if not len(self.map.selected_units) and not len(self.map.selected_practices):
            self.statusBar().showMessage("Select areas or practices first (click, or arrow keys and Space on the map)", 6000)
            return
        units = self.map.selected_units
        plan = self.controller.plan
        if len(units):
            pop = int(self.atlas.population[units].sum())
            src = sorted(set(plan.assignment[units].tolist()))
            src_names = _and([short_board_name(plan.boards[b].name) for b in src if b >= 0] or ["no board"])
            what = f"Move {self.describe_selection()}, {pop:,} people, from {src_names} to:"
            default = self.move_target_default(units)
        else:
            n = len(self.map.selected_practices)
            what = f"Move {n} GP practice{'s' if n != 1 else ''} to:"
            src = sorted(set(plan.practice_assignment[self.map.selected_practices].tolist()))
            default = None
        exclude = set(src) if len(src) == 1 else None
        b = self.board_choice("Move selection", what, exclude=exclude, default=default)
        if b is None:
            return
        if len(self.map.selected_units):
            self.controller.move_units(self.map.selected_units, b)
        if len(self.map.selected_practices):
            self.controller.move_practices(self.map.selected_practices, b)

    def merge_dialog(self) -> None:
        chosen = self.boards.selected_boards()
        if len(chosen) < 2 and len(self.map.selected_units):
            chosen = sorted(set(self.controller.plan.assignment[self.map.selected_units].tolist()))
        if len(chosen) < 2:
            QMessageBox.information(self, "Merge boards",
                                    "Select two or more boards in the Boards list (Ctrl-click), "
                                    "or select areas spanning them on the map, then merge.")
            return
        plan = self.controller.plan
        names = [short_board_name(plan.boards[b].name) for b in chosen]
        # the board with most people keeps its name and colour unless the user says otherwise
        pops = self.controller.board_populations()
        first = max(range(len(chosen)), key=lambda k: pops.get(chosen[k], 0))
        keep_name, ok = QInputDialog.getItem(
            self, "Merge boards", f"Merge {_and(names)} into one board.\n\nKeep the name and colour of:",
            names, first, False)
        if not ok:
            return
        keep = chosen[names.index(keep_name)]
        if self.controller.merge(keep, [b for b in chosen if b != keep]):
            # the selection stays on the merged board (rows follow their boards, see RecordsTable)
            self.boards.clearSelection()
            row = self.boards.row_of(keep)
            if row >= 0:
                self.boards.selectRow(row)

    def new_board_dialog(self) -> None:
        name, ok = QInputDialog.getText(self, "New board", "Name of the new board:")
        if not ok or not name.strip():
            return
        units = self.map.selected_units
        if len(units) and QMessageBox.question(
                self, "New board", f"Make the new board from the {len(units):,} selected LSOAs?") \
                == QMessageBox.StandardButton.Yes:
            self.controller.create_board_from(name.strip(), units)
        else:
            self.controller.create_board(name.strip())

    def rename_dialog(self) -> None:
        b = self.chosen_board() if self.boards.selected_boards() else self.board_choice("Rename board", "Board:")
        if b is None:
            return
        old = self.controller.plan.boards[b].name
        name, ok = QInputDialog.getText(self, "Rename board", "New name:", text=old)
        if ok and name.strip() and name.strip() != old:
            self.controller.rename(b, name.strip())

    def recolour_dialog(self) -> None:
        b = self.chosen_board() if self.boards.selected_boards() else self.board_choice("Recolour board", "Board:")
        if b is None:
            return
        colour = QColorDialog.getColor(QColor(self.controller.plan.boards[b].colour), self, "Board colour")
        if colour.isValid():
            self.controller.recolour(b, colour.name())

    def toggle_lock(self) -> None:
        b = self.chosen_board() if self.boards.selected_boards() else self.board_choice("Lock board", "Board:")
        if b is None:
            return
        board = self.controller.plan.boards[b]
        self.controller.lock(b, not board.locked)

    def delete_dialog(self) -> None:
        b = self.chosen_board() if self.boards.selected_boards() else self.board_choice("Delete board", "Board to delete:")
        if b is None:
            return
        to = self.board_choice("Delete board", f"Move the areas of {self.controller.plan.boards[b].name} to:", exclude={b})
        if to is None:
            return
        self.controller.delete(b, to)

    def suggest_dialog(self):
        from icbmap.app.suggest_dialog import show_suggest_dialog

        self._suggest = show_suggest_dialog(self)
        return self._suggest

    def choose_paint_board(self) -> None:
        b = self.board_choice("Paint", "Paint with board:")
        if b is not None:
            idx = self.paint_combo.findData(b)
            if idx >= 0:
                self.paint_combo.setCurrentIndex(idx)
            self.set_tool("paint")

    # ------------------------------------------------------------------ search
    def _update_completer(self, text: str) -> None:
        if len(text.strip()) < 2:
            return
        hits = self.search_index.find(text, limit=20)
        completer = QCompleter([h.label for h in hits], self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.activated.connect(lambda label, hits=hits: self._go_to_hit(next(h for h in hits if h.label == label)))
        self.search.setCompleter(completer)
        self._hits = hits

    def run_search(self, text: str) -> bool:
        """Select and zoom to the best match for ``text``; False if nothing matched."""
        if " \u2014 " in text:
            for h in getattr(self, "_hits", []):
                if h.label == text:
                    self._go_to_hit(h)
                    return True
        hits = self.search_index.find(text, limit=5)
        if not hits:
            self.statusBar().showMessage(f"Nothing found for \u201c{text}\u201d", 5000)
            return False
        self._go_to_hit(hits[0])
        return True

    def _go_to_hit(self, hit) -> None:
        if hit.kind == "practice":
            p = self.atlas.practices
            self.map.set_selection(np.zeros(0, dtype=np.int64), np.array([hit.index]))
            x, y = float(p["x"].iat[hit.index]), float(p["y"].iat[hit.index])
            if np.isfinite(x):
                from PySide6.QtCore import QRectF

                self.map.fit_scene_rect(QRectF(x - 3000, -y - 3000, 6000, 6000), margin=0)
            self.statusBar().showMessage(f"{hit.label}: {int(p['patients'].iat[hit.index]):,} registered patients", 8000)
            return
        if hit.kind == "unit":
            units = np.array([hit.index])
            self.set_level("unit")
        elif hit.kind == "board":
            units = np.flatnonzero(self.controller.plan.assignment == hit.index)
            self.set_level("board")
        elif hit.kind in ("ca", "region"):
            units = self.atlas.members(hit.kind, hit.index).astype(np.int64)
        else:
            units = self.atlas.members(hit.kind, hit.index).astype(np.int64)
            if hit.kind in SELECT_LEVELS:
                self.set_level(hit.kind)
        self.map.set_selection(units, np.zeros(0, dtype=np.int64))
        self.map.zoom_to_units(units)
        self.statusBar().showMessage(f"Found {hit.label}", 5000)

    # ------------------------------------------------------------------ data
    _FAILED = object()

    def run_task(self, title: str, fn, failure_title: str, cancelled: str):
        """Run ``fn(progress)`` off the UI thread with a progress dialog; on Cancel say
        ``cancelled`` in the status bar, on a data error show it; both return ``_FAILED``."""
        from icbmap.app.workers import run_with_progress
        from icbmap.errors import Cancelled, IcbmapError

        try:
            return run_with_progress(self, title, fn)
        except Cancelled:
            self.statusBar().showMessage(cancelled, 6000)
        except IcbmapError as exc:
            QMessageBox.warning(self, failure_title, str(exc))
        return self._FAILED

    def official_import_dialog(self) -> None:
        from icbmap.app.datadialogs import OfficialImportDialog

        dlg = OfficialImportDialog(self)
        if dlg.exec() == dlg.DialogCode.Accepted:
            self.build_official_pack(use=dlg.use.isChecked(), **dlg.values())

    def build_official_pack(self, name: str, use: bool = False, **files):
        """Run ``icbmap data import`` in a worker with progress; report the result."""
        from icbmap.atlas import store
        from icbmap.atlas.official import import_pack

        atlas = self.run_task("Building the data pack",
                              lambda progress: import_pack(name, progress=progress, **files),
                              "Data pack not built", "Import cancelled; nothing was written")
        if atlas is self._FAILED:
            return None
        if use:
            store.use_pack(name)
        self.statusBar().showMessage(
            f"Built data pack {name}: {atlas.n_units:,} LSOAs, England {atlas.total_population:,}"
            + (" \u2014 it will be used from the next start" if use else ""), 10000)
        return atlas

    def import_practices_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        from icbmap.app.dialogs import start_dir

        path, _ = QFileDialog.getOpenFileName(self, "GP practice registrations (gp-reg-pat-prac-all.csv)",
                                              start_dir(self), "CSV files (*.csv *.zip);;All files (*)")
        if not path:
            return
        map_path, _ = QFileDialog.getOpenFileName(self, "Optional: practice to PCN map (gp-reg-pat-prac-map.csv); "
                                                  "Cancel to skip", os.path.dirname(path),
                                                  "CSV files (*.csv *.zip);;All files (*)")
        self.import_practices(path, map_path or None)

    def import_practices(self, path: str, map_path: str | None = None) -> bool:
        """Attach practices to the atlas (in a worker, with progress), keep the user's edits."""
        from icbmap.plan.model import Plan
        from icbmap.practices.attach import attach_practices
        from icbmap.practices.store import save_practices_for

        def work(progress):
            report = attach_practices(self.atlas, path, map_path, progress)
            save_practices_for(self.atlas, report)
            return report

        report = self.run_task("Importing GP practices", work, "GP practices not imported",
                               "Import cancelled; nothing changed")
        if report is self._FAILED:
            return False
        plan = Plan.from_dict(self.atlas, self.controller.plan.to_dict())
        self.controller.set_plan(plan)
        self._search_index = None
        self._show_practices()
        self.refresh_all()
        lines = report.lines() if hasattr(report, "lines") else []
        box = QMessageBox(self)
        box.setWindowTitle("GP practices imported")
        box.setText(f"{len(self.atlas.practices):,} practices, "
                    f"{int(self.atlas.practices['patients'].sum()):,} registered patients.")
        box.setDetailedText("\n".join(lines))
        if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
            box.exec()
        return True

    def _show_practices(self) -> None:
        p = self.atlas.practices
        box = self.layers.boxes["practices"]
        if p is None or not len(p):
            box.setEnabled(False)
            box.setText("GP practices (none in this data pack)")
            box.setToolTip("This data pack has no GP practices. Add them with Data \u25b8 Import GP practices "
                           "(NHS 'Patients Registered at a GP Practice' files) or `icbmap data practices FILE`.")
            self.map.practices.setVisible(False)
            return
        from icbmap.practices.table import extract_label

        box.setEnabled(True)
        box.setText(f"GP practices ({extract_label(p)})")
        box.setToolTip(f"{len(p):,} practices, {int(p['patients'].sum()):,} registered patients "
                       f"({extract_label(p)}); placed by postcode")
        self.map.practices.setVisible(self.layers.boxes["practices"].isChecked())
        self.map.set_practices(p[["x", "y"]].to_numpy(float), p["patients"].to_numpy(),
                               self.controller.plan.practice_assignment)

    def download_dialog(self) -> None:
        from icbmap.atlas import store

        name, ok = QInputDialog.getText(self, "Download official data",
                                        "Name for the new data pack:", text="ons-latest")
        if not ok or not name.strip():
            return

        def work(progress):
            from icbmap.download.pack import download_pack

            return download_pack(name.strip(), progress=progress)

        atlas = self.run_task("Downloading official data", work, "Download failed",
                              "Download cancelled; partial files are kept to resume later")
        if atlas is self._FAILED:
            return
        if QMessageBox.question(self, "Data pack ready",
                                f"Built data pack {name}: {atlas.n_units:,} LSOAs, England "
                                f"{atlas.total_population:,} people.\n\nUse it from the next start?") \
                == QMessageBox.StandardButton.Yes:
            store.use_pack(name.strip())

    # ------------------------------------------------------------------ misc
    def show_data_info(self) -> None:
        from icbmap.app.dialogs import TextDialog
        from icbmap.cli.data import format_info

        dlg = TextDialog(self, "Data pack information",
                         f"<b>{self.atlas.name}</b>: {self.atlas.n_units:,} LSOAs; England "
                         f"{self.atlas.total_population:,} people ({self.atlas.population_basis}).",
                         format_info(self.atlas))
        if os.environ.get("ICBMAP_NO_MODAL"):
            self._info_dialog = dlg
            return
        dlg.exec()

    def show_about(self) -> None:
        try:
            from icbmap.app.about import show_about
        except ImportError:
            QMessageBox.about(self, "About icbmap", f"icbmap {__version__}")
            return
        show_about(self, self.atlas)

    def startup(self, proposal: str | None = None) -> None:
        """After the window shows: offer crash recovery, then open ``proposal`` if given."""
        recovered = self.options.offer_recovery()
        if proposal and not recovered:
            self.proposals.open(proposal, ask_first=False)

    def _update_title(self, *_args) -> None:
        proposals = getattr(self, "proposals", None)
        name = proposals.title() if proposals else "Untitled proposal"
        if self.proposal_path and proposals and not proposals.proposal.title:
            name = self.proposal_path
        dirty = "" if self.controller.stack.isClean() else " *"
        self.setWindowTitle(f"{name}{dirty} \u2014 icbmap")

    # ------------------------------------------------------------------ settings
    def _restore_settings(self) -> None:
        s = self.settings
        geo = s.value("window/geometry")
        if isinstance(geo, QByteArray) and self.restoreGeometry(geo):
            self._first_rect = None  # the user's own size wins
        state = s.value("window/state")
        self._restored_state = False
        if isinstance(state, QByteArray):
            self._restored_state = bool(self.restoreState(state))
        view = s.value("map/view")
        restored = False
        if view and s.value("map/pack") == self.atlas.content_hash:
            try:
                cx, cy, scale = (float(v) for v in view)
                QTimer.singleShot(0, lambda: self.map.restore_view(cx, cy, scale))
                restored = True
            except (TypeError, ValueError):
                pass
        if not restored:
            QTimer.singleShot(0, self.map.zoom_england)
        layers = s.value("map/layers")
        if isinstance(layers, dict):
            for k, v in layers.items():
                if k in self.layers.boxes:
                    self.layers.boxes[k].setChecked(v in (True, "true", "1", 1))
        level = s.value("map/level")
        if level in SELECT_LEVELS:
            self.set_level(level)

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("map/view", list(self.map.view_state()))
        s.setValue("map/pack", self.atlas.content_hash)
        s.setValue("map/layers", self.layers.state())
        s.setValue("map/level", self.map.level)
        s.sync()

    def closeEvent(self, event) -> None:  # noqa: N802
        if (os.environ.get("ICBMAP_SMOKE_EXIT_MS") is None and not getattr(self, "replaced", False)
                and not self.options.maybe_save_all()):
            event.ignore()
            return
        self.save_settings()
        self.options.close()
        super().closeEvent(event)
