"""The options workspace's widgets and menu: the **Options** dock (the list of
options and buttons for the common actions), the Comparison and Differences docks, the
Options menu and Alt+1…9, and the dialogs behind them (rename, open, save and open
workspace, print comparison).

:class:`OptionsDocks` is mixed into :class:`~icbmap.app.options.manager.OptionsManager`; what it
uses of the manager is said by :class:`~icbmap.app.options.host.DocksHost` (checked by a test).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QListWidget, QListWidgetItem,
                               QMessageBox, QPushButton, QVBoxLayout, QWidget)

from icbmap.app.dialogs.common import ask_text
from icbmap.app.dialogs.common import PROPOSAL_FILTER, start_dir, suggested_path
from icbmap.app.actions.factory import make_action
from icbmap.app.options.files import WORKSPACE_FILTER, WORKSPACE_SUFFIX
from icbmap.compare.core import Option
from icbmap.errors import IcbmapError


class OptionsDocks:
    """The docks, menu and dialogs of the options; see the module doc.  Needs of ``self``
    what :class:`~icbmap.app.options.host.DocksHost` declares, nothing more."""

    HOST = "icbmap.app.options.host.DocksHost"

    # ------------------------------------------------------------------ UI
    def _build_ui(self) -> None:
        from icbmap.app.options.compare_view import ComparisonPanel, DifferencePanel

        w = self.w
        self.panel = OptionsPanel(self)
        self.dock = w._dock("Options", self.panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        w.tabifyDockWidget(w.boards_dock, self.dock)
        w.boards_dock.raise_()
        self.comparison = ComparisonPanel(self)
        self.comparison_dock = w._dock("Comparison", self.comparison, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.differences = DifferencePanel(self)
        self.differences_dock = w._dock("Differences", self.differences, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._tabified = False       # tabified when first shown (tabifying hidden docks leaves a stray tab bar)
        self.comparison_dock.hide()
        self.differences_dock.hide()
        self.comparison_dock.visibilityChanged.connect(
            lambda v: v and w.resizeDocks([self.comparison_dock], [300], Qt.Orientation.Vertical))

        def act(text, slot, shortcut=None, tip=None):
            return make_action(w, text, slot, shortcut, tip)

        self.act_new = act("New option from &baseline", self.new_from_baseline, "Ctrl+Alt+N",
                           "A new option starting from the baseline boards")
        self.act_dup = act("&Duplicate current option", lambda: self.duplicate(), "Ctrl+Alt+D",
                           "A new option starting from the current one")
        self.act_rename = act("&Rename option\u2026", self.rename_dialog, None)
        self.act_up = act("Move option &up", lambda: self.move(self.current, -1), None)
        self.act_down = act("Move option d&own", lambda: self.move(self.current, 1), None)
        self.act_close = act("&Close option", lambda: self.close_option(self.current), None)
        from icbmap.app.options.expected import add_expected_option

        self.act_expected = act("Add the expected April &2027 map", lambda: add_expected_option(self), None,
                                "April 2027 (expected: 2025 clusters merged; not decided) as an option beside "
                                "the others")
        self.act_open = act("&Open proposals as options\u2026", self.open_dialog, None,
                            "Open one or more proposal files side by side")
        self.act_save_ws = act("&Save workspace\u2026", self.save_workspace_dialog, None,
                               "Save every option and the list of options")
        self.act_open_ws = act("Open &workspace\u2026", self.open_workspace_dialog, None)
        self.act_compare = act("Show &comparison", self.show_comparison, "Ctrl+Alt+C",
                               "The comparison table and the difference map")
        self.act_print = act("Print &comparison\u2026", self.print_comparison_dialog, None,
                             "One page: a small map of each option, the table and the differences (PDF)")
        menu = w.menuBar().addMenu("&Options")
        w.menuBar().insertMenu(w.data_menu.menuAction(), menu)
        for a in (self.act_new, self.act_dup, self.act_expected, self.act_rename, self.act_up, self.act_down,
                  self.act_close):
            menu.addAction(a)
        menu.addSeparator()
        for a in (self.act_open, self.act_open_ws, self.act_save_ws):
            menu.addAction(a)
        menu.addSeparator()
        menu.addAction(self.act_compare)
        menu.addAction(self.act_print)
        self.switch_actions = []
        for k in range(1, 10):
            a = QAction(w)
            a.setShortcut(QKeySequence(f"Alt+{k}"))
            a.triggered.connect(lambda _c=False, i=k - 1: self.switch_to(i) if i < len(self.options) else None)
            w.addAction(a)
            self.switch_actions.append(a)
        self.options_menu = menu
        # File ▸ Print comparison, next to the other print entries
        fm = w.file_menu
        before = getattr(w.proposals, "act_quit", None)
        if before is not None:
            fm.insertAction(before, self.act_print)
        else:
            fm.addAction(self.act_print)
        w.view_menu.addAction(self.dock.toggleViewAction())
        w.view_menu.addAction(self.comparison_dock.toggleViewAction())
        w.view_menu.addAction(self.differences_dock.toggleViewAction())
        self.optionsChanged.connect(self.panel.refresh)
        w.controller.group.cleanChanged.connect(self._clean_changed)
        self.currentChanged.connect(lambda _i: self.panel.refresh())
        self.panel.refresh()

    def show_comparison(self) -> None:
        self.comparison_dock.show()
        self.differences_dock.show()
        if not self._tabified:
            self.w.tabifyDockWidget(self.comparison_dock, self.differences_dock)
            self._tabified = True
        self.comparison_dock.raise_()
        self.comparison.refresh()

    def rename_dialog(self) -> None:
        o = self.current_option
        if o.baseline:
            QMessageBox.information(self.w, "Rename option", "The baseline cannot be renamed.")
            return
        name, ok = ask_text(self.w, "Rename option", "Name of the option:", o.name)
        if ok:
            self.rename(self.current, name)

    def open_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self.w, "Open proposals as options", start_dir(self.w),
                                                PROPOSAL_FILTER)
        if paths:
            self.open_files(paths)

    def save_workspace_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self.w, "Save workspace", str(self.workspace_path or suggested_path(self.w, "options", WORKSPACE_SUFFIX)),
            WORKSPACE_FILTER)
        if path:
            self.save_workspace(path)

    def open_workspace_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.w, "Open workspace", start_dir(self.w), WORKSPACE_FILTER)
        if path:
            self.open_workspace(path)

    def print_comparison_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.w, "Print comparison", suggested_path(self.w, "comparison", ".pdf"),
                                              "PDF (*.pdf)")
        if path:
            self.print_comparison(path)

    def print_comparison(self, path, focus=None):
        """Write the comparison briefing of the open options (in a worker, with progress)."""
        from icbmap.app.workers import run_with_progress, snapshot
        from icbmap.errors import Cancelled
        from icbmap.export.compare_brief import render_comparison

        opts = [Option(o.name, snapshot(o.plan), None, o.path, baseline=o.baseline) for o in self.options]
        focus = focus or self.comparison.focus()
        try:
            return run_with_progress(self.w, "Rendering the comparison",
                                     lambda progress: render_comparison(opts, path, focus=focus, progress=progress))
        except Cancelled:
            return None
        except (IcbmapError, OSError) as exc:
            QMessageBox.warning(self.w, "Comparison not written", f"{path}: {exc}")
            return None


    def _clean_changed(self, _clean: bool) -> None:
        """Saved, or edited since: the list shows which options have unsaved changes."""
        self.panel.refresh()



class OptionsPanel(QWidget):
    """The list of options: click to make one current; buttons for the common actions."""

    def __init__(self, manager):
        super().__init__()
        self.m = manager
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.list = QListWidget()
        self.list.setToolTip("Click an option to make it current (Alt+1 \u2026 Alt+9). "
                             "The baseline is read-only.")
        self.list.currentRowChanged.connect(self._row_changed)
        self.list.itemDoubleClicked.connect(lambda _i: self.m.rename_dialog())
        lay.addWidget(self.list)
        row1, row2 = QHBoxLayout(), QHBoxLayout()
        for text, slot, tip, row in [
            ("New", self.m.new_from_baseline, "New option from the baseline", row1),
            ("Duplicate", lambda: self.m.duplicate(), "Duplicate the current option", row1),
            ("2027 map", lambda: self.m.act_expected.trigger(),
             "Add April 2027 (expected: 2025 clusters merged; not decided) as an option", row1),
            ("Rename", self.m.rename_dialog, "Rename the current option", row1),
            ("\u2191", lambda: self.m.move(self.m.current, -1), "Move the current option up", row2),
            ("\u2193", lambda: self.m.move(self.m.current, 1), "Move the current option down", row2),
            ("Close", lambda: self.m.close_option(self.m.current), "Close the current option", row2),
            ("Compare", self.m.show_comparison, "Show the comparison table and differences", row2),
        ]:
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            row.addWidget(b)
        lay.addLayout(row1)
        lay.addLayout(row2)
        self._filling = False

    def refresh(self) -> None:
        self._filling = True
        self.list.clear()
        for i, o in enumerate(self.m.options):
            text = o.name
            if o.baseline:
                text += "  (baseline, read-only)"
            elif o.dirty:
                text += "  *"
            if o.path is not None:
                text += f"  \u2014 {o.path.name}"
            item = QListWidgetItem(f"{i + 1}. {text}")
            if i == self.m.current:
                f = QFont(item.font())
                f.setBold(True)
                item.setFont(f)
            item.setToolTip(str(o.path) if o.path else "not saved yet")
            self.list.addItem(item)
        self.list.setCurrentRow(self.m.current)
        self._filling = False

    def _row_changed(self, row: int) -> None:
        if not self._filling and row >= 0:
            self.m.switch_to(row)
