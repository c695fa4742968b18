"""The main window: the map in the centre, the Boards, Metrics, Layers, Legend and History
docks around it, and the wiring between them.

The window holds the parts and keeps them in step: it refreshes the map and the panels after
every edit, follows the selection and the mouse in the status bar, switches layers, tools and
the selection level, and saves its geometry and the map view between sessions. What it is
made of lives beside it:

* :mod:`~icbmap.app.actions.menus` — the actions, toolbars and menus, with their shortcuts;
* :mod:`~icbmap.app.search_box` — the Find box and going to what it finds;
* :mod:`~icbmap.app.actions.boards` — the Edit and Boards menu items (move, merge, rename…);
* :mod:`~icbmap.app.actions.data` — the Data menu items (build, download, import practices);
* :mod:`~icbmap.app.describe` — the words for what is hovered or selected;
* :mod:`~icbmap.app.layout` — where the docks go for the screen.

Proposals (File menu), options, principles and the comparison add their own docks and menu
items from their own modules.
"""

from __future__ import annotations

import os
import time

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox, QUndoView, QWidget

from icbmap import __version__
from icbmap.app import a11y, layout, metrics_view
from icbmap.app.actions import boards as board_actions
from icbmap.app.actions import data as data_actions
from icbmap.app.actions import menus
from icbmap.app.actions.factory import make_action
from icbmap.app.controller import Controller
from icbmap.app.describe import describe_practice, describe_unit, selection_summary
from icbmap.app.icons import icon as ui_icon
from icbmap.app.map.view import SELECT_LEVELS, MapView
from icbmap.app.panels import BoardsPanel, ElidedLabel, LayersPanel, LegendPanel
from icbmap.app.search_box import SearchBox
from icbmap.atlas.model import LEVEL_LABELS
from icbmap.paths import resources_dir


class MainWindow(QMainWindow):
    def __init__(self, atlas, plan=None, settings: QSettings | None = None, autosave_dir=None):
        super().__init__()
        self.atlas = atlas
        self.settings = settings or QSettings()
        self.setWindowTitle("icbmap")
        from icbmap.app import screenfit

        screenfit.install()  # issue 22: every dialog, preview and floated dock fits its screen
        icon = resources_dir() / "icons" / "icbmap.svg"
        if icon.exists():
            self.setWindowIcon(QIcon(str(icon)))
        self.controller = Controller(atlas, plan, self)
        self.map = MapView(atlas, self)
        self.setCentralWidget(self.map)
        self.proposal_path: str | None = None
        self.last_edit_ms = 0.0

        self._build_docks()
        menus.build_actions(self)
        menus.build_toolbar(self)
        self.finder = SearchBox(self)  # its own toolbar: on a narrow window it starts a second row
        self.search = self.finder.edit
        self.search_toolbar = self.finder.toolbar
        self.addToolBar(self.search_toolbar)
        menus.add_key_shortcuts(self)
        menus.build_menus(self)
        self._build_status()
        self._connect()
        from icbmap.app.files.proposals import ProposalManager

        self.proposals = ProposalManager(self, autosave_dir=autosave_dir)
        from icbmap.app.principles.dock import install as install_principles

        install_principles(self)   # Principles dock, reference geographies, trusts (own module)
        from icbmap.app.options.manager import OptionsManager  # options side by side

        self.options = OptionsManager(self)

        data_actions.show_practices(self)
        self.refresh_all()
        self.fit_screen()
        self._restore_settings()
        layout.ensure_on_screen(self)
        a11y.name_widgets(self)
        self._update_title()

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
        """An action on this window (see ``action_factory.make_action``); other modules add theirs with it."""
        return make_action(self, text, slot, shortcut, tip, checkable)

    def _build_status(self) -> None:
        self.hover_label = QLabel("")
        self.statusBar().addWidget(self.hover_label, 1)
        basis = "apportioned from district totals" if self.atlas.population_estimated else self.atlas.population_basis
        self.pack_label = ElidedLabel(f"{self.atlas.name} \u00b7 baseline: {self.atlas.baseline_label} \u00b7 "
                                 f"population: {basis} \u00b7 ONS/NHS data, OGL v3")
        self.statusBar().addPermanentWidget(self.pack_label)
        self.statusBar().messageChanged.connect(self.pack_label.give_way)

    def _connect(self) -> None:
        c = self.controller
        c.changed.connect(self.on_change)
        c.planReplaced.connect(self.refresh_all)
        c.message.connect(self.show_refusal)
        c.readOnlyRefused.connect(self.refuse_read_only)
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
        report = self.controller.metrics.report(lazy_areas=True)   # a level's rows when its tab shows
        board_records = metrics_view.board_records(self.controller, report)
        self.boards.show_registered = self.controller.plan.n_practices > 0  # registered patients
        self.boards.set_records(board_records, flash=not structural)  # (fits the columns)
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
        text = selection_summary(self.atlas, self.controller.plan, self.map.level, units,
                                 self.map.selected_practices)
        self.statusBar().showMessage(text, 8000)
        if self.map.hasFocus():
            self.map.announce(text)

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
        text, tip = describe_unit(self.atlas, self.controller.plan, unit)
        self.hover_label.setText(text)
        self.map.setToolTip(tip)

    def show_practice(self, i: int) -> None:
        if i < 0:
            return
        text, tip = describe_practice(self.atlas, self.controller.plan, i)
        self.hover_label.setText(text)
        self.map.setToolTip(tip)

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

    def refuse_read_only(self) -> None:
        """A drag, drop or paint stroke on the baseline: the stroke stops and one box says why
        and offers an option to edit (the status bar alone was easy to miss)."""
        tool = self.map.map_tool
        if getattr(tool, "mode", None) == "paint":
            tool.cancel()
        box = getattr(self, "_read_only_box", None)
        if box is None or not box.isVisible():
            box = board_actions.read_only_box(self, "Edit the baseline")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.destroyed.connect(lambda *_: setattr(self, "_read_only_box", None))
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

    def zoom_board(self) -> None:
        b = board_actions.chosen_board(self)
        if b is not None:
            self.zoom_to_board(b)

    def zoom_to_board(self, board: int) -> None:
        self.map.zoom_to_units(np.flatnonzero(self.controller.plan.assignment == board))

    def run_search(self, text: str) -> bool:
        """Select and zoom to the best match for ``text``; False if nothing matched."""
        return self.finder.run(text)

    # ------------------------------------------------------------------ work in the background
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

    def build_official_pack(self, name: str, use: bool = False, **files):
        """Run ``icbmap data import`` in a worker with progress; report the result."""
        return data_actions.build_official_pack(self, name, use, **files)

    # ------------------------------------------------------------------ misc
    def show_data_info(self) -> None:
        data_actions.show_data_info(self)

    def show_about(self) -> None:
        try:
            from icbmap.app.dialogs.about import show_about
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
