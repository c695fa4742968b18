"""The Principles dock (✓/✗ per board and rule, counts, reasons) and :func:`install`.

:func:`install` adds to a main window, without touching its layout code:

* ``window.principles`` (:class:`PrinciplesModel`): the live :class:`~icbmap.principles.Checker`
  of the current plan (rebuilt when the plan or the reference geographies change);
* a **Principles** dock: ✓/✗ per board and rule, the plan's counts per rule, reasons for the
  selected board or rule; cells that change flash;
* map layers: NHS trusts by headquarters (acute distinct) and a reference geography's outlines
  and labels, switched on in the Layers dock; their legend entries;
* a **Reference areas** Metrics tab (the same figures as the council tab);
* **Data ▸ Add reference geography…**.

The live state is in :mod:`~icbmap.app.principles.model`, the rule-set editor in
:mod:`~icbmap.app.principles.ruleset_dialog`, the map layers in :mod:`~icbmap.app.principles.reference_layers`,
the Metrics tab and adding a reference geography in :mod:`~icbmap.app.principles.reference_areas`.
"""

from __future__ import annotations

from html import escape

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QComboBox, QDialog, QDockWidget, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
                               QMessageBox, QPushButton, QSplitter, QTextBrowser, QVBoxLayout, QWidget)

from icbmap.app.panels import RecordsTable, fmt_int
from icbmap.app.principles.model import DEFAULT_RULES, FAIL, NOT_CHECKED, PASS, WARN, PrinciplesModel
from icbmap.app.principles.reference_areas import ReferenceAreasTab, add_reference_dialog
from icbmap.app.principles.reference_layers import TRUST_NOTE, install_layers
from icbmap.app.principles.ruleset_dialog import RuleSetDialog
from icbmap.errors import IcbmapError
from icbmap.names import short_board_name
from icbmap.principles import KINDS, RuleSet, load_rules, preset_names, read_rules_file


# ====================================================================== dock
class _VerdictTable(RecordsTable):
    def __init__(self, columns, key, parent=None):
        super().__init__(columns, key, parent)
        self.tips: dict = {}

    def decorate(self, row: int, record: dict) -> None:
        for c, (field, _h, _f) in enumerate(self.columns):
            item = self.item(row, c)
            if item is None:
                continue
            v = record.get(field)
            if v == FAIL:
                item.setForeground(QBrush(QColor("#c62828")))
            elif v == PASS:
                item.setForeground(QBrush(QColor("#2e7d32")))
            elif v == WARN:
                item.setForeground(QBrush(QColor("#b26a00")))
            if v in (PASS, FAIL, WARN, NOT_CHECKED):
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            tip = self.tips.get((record[self.key], field))
            if tip:
                item.setToolTip(tip)


class PrinciplesPanel(QWidget):
    """✓/✗ per board and rule, counts per rule, and the reasons."""

    def __init__(self, window, model: PrinciplesModel):
        super().__init__(window)
        self.window = window
        self.model = model
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        top = QHBoxLayout()
        top.addWidget(QLabel("Rules:"))
        self.combo = QComboBox(self)
        self.combo.setMinimumContentsLength(24)
        top.addWidget(self.combo, 1)
        self.edit_button = QPushButton("Edit\u2026", self)
        self.edit_button.clicked.connect(self.edit_rules)
        top.addWidget(self.edit_button)
        self.open_button = QPushButton("Open\u2026", self)
        self.open_button.clicked.connect(self.open_rules)
        top.addWidget(self.open_button)
        lay.addLayout(top)
        self.source = QLabel(self)
        self.source.setWordWrap(True)
        self.source.setOpenExternalLinks(True)
        self.source.setStyleSheet("color:#555")
        lay.addWidget(self.source)
        split = QSplitter(Qt.Orientation.Vertical, self)
        self.rules_table = _VerdictTable([("label", "Rule", None), ("result", "Plan", None),
                                          ("count", "Failing", None)], key="id", parent=self)
        self.rules_table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.rules_table.setColumnWidth(0, 300)
        self.rules_table.setAccessibleName("Principles: rules")
        split.addWidget(self.rules_table)
        self.boards_table: _VerdictTable | None = None
        self._boards_holder = QWidget(self)
        QVBoxLayout(self._boards_holder).setContentsMargins(0, 0, 0, 0)
        split.addWidget(self._boards_holder)
        self.details = QTextBrowser(self)
        self.details.setAccessibleName("Principles: details")
        self.details.setOpenExternalLinks(True)
        split.addWidget(self.details)
        split.setSizes([100, 420, 180])
        lay.addWidget(split, 1)
        self._fill_combo()
        self.combo.activated.connect(self._combo_chosen)
        self.rules_table.itemSelectionChanged.connect(self._show_rule)
        model.updated.connect(self.refresh)
        model.rulesChanged.connect(self._rules_changed)
        self._rules_changed()

    # ------------------------------------------------------------ rule sets
    def _fill_combo(self) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        names = preset_names()
        for n in names:
            self.combo.addItem(n, n)
        cur = self.model.ruleset.name
        if cur not in names:
            self.combo.addItem(f"{cur} (custom)", None)
        self.combo.setCurrentIndex(names.index(cur) if cur in names else self.combo.count() - 1)
        self.combo.blockSignals(False)

    def _combo_chosen(self, index: int) -> None:
        name = self.combo.itemData(index)
        if name:
            self.model.set_rules(load_rules(name))

    def edit_rules(self) -> None:
        dlg = RuleSetDialog(self.model.ruleset, self.window)
        if dlg.exec() == QDialog.DialogCode.Accepted and dlg.result_rules is not None:
            self.model.set_rules(dlg.result_rules)

    def open_rules(self) -> None:
        from icbmap.app.dialogs.common import start_dir

        path, _ = QFileDialog.getOpenFileName(self, "Open rule set", start_dir(self.window), "Rule sets (*.toml *.json)")
        if path:
            self.load_file(path)

    def load_file(self, path) -> bool:
        try:
            rs = read_rules_file(path)
        except IcbmapError as exc:
            QMessageBox.warning(self.window, "Cannot use rule set", str(exc))
            return False
        self.model.set_rules(rs)
        return True

    def _rules_changed(self) -> None:
        rs = self.model.ruleset
        self._fill_combo()
        src = escape(rs.source)
        if rs.url:
            src = f"<a href='{escape(rs.url)}'>{src or escape(rs.url)}</a>"
        self.source.setText(f"Source: {src}" if src else "Your own rules (no source given)")
        self.source.setToolTip(rs.notes)
        if self.boards_table is not None:
            self.boards_table.setParent(None)
            self.boards_table.deleteLater()
        cols = [("short", "Board", None), ("acute", "Acute HQs", fmt_int)] + [(r.id, r.label, None) for r in rs.rules]
        self.boards_table = _VerdictTable(cols, key="id", parent=self._boards_holder)
        self.boards_table.setAccessibleName("Principles: boards")
        self.boards_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.boards_table.horizontalHeader().setStretchLastSection(False)
        self.boards_table.horizontalHeaderItem(1).setToolTip(
            "Acute NHS trusts (type 1 A&E) with their headquarters in the board. " + TRUST_NOTE)
        for i, r in enumerate(rs.rules):
            self.boards_table.horizontalHeaderItem(i + 2).setToolTip(f"{r.label}\n{KINDS[r.kind].summary}")
            self.boards_table.horizontalHeaderItem(i + 2).setText(f"{i + 1}")
        self.boards_table.itemSelectionChanged.connect(self._show_board)
        self._boards_holder.layout().addWidget(self.boards_table)
        self.refresh(set(), flash=False)

    # ------------------------------------------------------------ refresh
    def refresh(self, flips=(), flash: bool = True) -> None:
        """Re-show verdicts and counts; after an edit that flipped nothing, only the reasons
        (tooltips, details) are renewed, so the last changes stay marked."""
        if flash and not flips and self.boards_table is not None and self.boards_table.rowCount():
            self._renew_reasons()
            return
        c = self.model.checker
        plan = self.model.controller.plan
        rules = []
        for i, r in enumerate(c.results()):
            if r.missing:
                res, count = NOT_CHECKED, "not checked"
            else:
                res = PASS if r.ok else (FAIL if r.rule.hard else WARN)
                count = f"{r.failing} of {r.total} {r.subject}"
            soft = "" if r.rule.hard else "(soft) "
            rules.append({"id": r.rule.id, "label": f"{i + 1}. {soft}{r.rule.label}", "result": res, "count": count})
            self.rules_table.tips[(r.rule.id, "label")] = r.missing or (
                KINDS[r.rule.kind].summary + ("" if r.rule.hard else
                                              f"\nSoft rule (weight {r.rule.weight:g}): a failure is a warning, "
                                              "counted and minimised by Suggest, not a failure"))
        self.rules_table.set_records(rules, flash=flash)
        boards = []
        tips = {}
        acute = c.trust_counts()
        for b in plan.boards:
            if not b.active:
                continue
            rec = {"id": b.id, "short": short_board_name(b.name),
                   "acute": None if acute is None else int(acute[b.id])}
            for r in c.results():
                if r.fail is None:
                    rec[r.rule.id] = NOT_CHECKED
                    tips[(b.id, r.rule.id)] = r.missing
                elif r.fail[b.id]:
                    rec[r.rule.id] = FAIL if r.rule.hard else WARN
                    tips[(b.id, r.rule.id)] = "\n".join(c.board_reasons(r.rule.id, b.id))
                else:
                    rec[r.rule.id] = PASS
            boards.append(rec)
        self.boards_table.tips = tips
        self.boards_table.set_records(boards, flash=flash)
        if self.boards_table.selectedItems():
            self._show_board()
        elif self.rules_table.selectedItems():
            self._show_rule()
        else:
            self._show_plan()

    def _renew_reasons(self) -> None:
        c = self.model.checker
        t = self.boards_table
        fields = [col[0] for col in t.columns]
        for r in c.results():
            if r.fail is None:
                continue
            col = fields.index(r.rule.id)
            for b in np.flatnonzero(r.fail):
                row = t.row_of(int(b))
                if row >= 0 and t.item(row, col) is not None:
                    t.item(row, col).setToolTip("\n".join(c.board_reasons(r.rule.id, int(b))))
        if t.selectedItems():
            self._show_board()
        elif self.rules_table.selectedItems():
            self._show_rule()

    def _show_plan(self) -> None:
        from icbmap.principles.check import summary_line

        c = self.model.checker
        html = [f"<b>{escape(self.model.ruleset.name)}</b>: "
                + escape(summary_line(c).replace(" (exit 3)", "").replace(" (exit 0)", ""))
                + " Select a board or a rule for the reasons."]
        if self.model.ruleset.notes:
            html.append(f"<p style='color:#555'>{escape(self.model.ruleset.notes)}</p>")
        self.details.setHtml("".join(html))

    def _show_board(self) -> None:
        items = self.boards_table.selectedItems()
        if not items:
            return self._show_plan()
        b = self.boards_table.key_at_row(items[0].row())
        c = self.model.checker
        plan = self.model.controller.plan
        html = [f"<b>{escape(plan.boards[b].name)}</b><ul>"]
        for r in c.results():
            if r.fail is None:
                html.append(f"<li>{NOT_CHECKED} {escape(r.rule.label)}: {escape(r.missing)}</li>")
            elif r.fail[b]:
                why = "; ".join(c.board_reasons(r.rule.id, b))
                mark = (f"<span style='color:#c62828'>{FAIL}</span>" if r.rule.hard
                        else f"<span style='color:#b26a00'>{WARN}</span>")
                soft = "" if r.rule.hard else " (soft rule: a warning)"
                html.append(f"<li>{mark} {escape(r.rule.label)}{soft}: {escape(why)}</li>")
            else:
                html.append(f"<li><span style='color:#2e7d32'>{PASS}</span> {escape(r.rule.label)}</li>")
        self.details.setHtml("".join(html) + "</ul>")

    def _show_rule(self) -> None:
        items = self.rules_table.selectedItems()
        if not items:
            return self._show_plan()
        rid = self.rules_table.key_at_row(items[0].row())
        c = self.model.checker
        r = c.result(rid)
        fails = c.area_failures(rid) if not r.ok else []
        html = [f"<b>{escape(r.rule.label)}</b> ({escape(KINDS[r.rule.kind].summary)})"]
        if not r.rule.hard:
            html.append(f"<p style='color:#b26a00'>Soft rule (weight {r.rule.weight:g}): when it fails it is a "
                        "warning, counted and minimised by Suggest, not a failure.</p>")
        html.append("<p>Passes.</p>" if r.ok else "<ul>" + "".join(f"<li>{escape(f)}</li>" for f in fails) + "</ul>")
        self.details.setHtml("".join(html))

    def rule_cell(self, board: int, rule_id: str) -> str:
        row = self.boards_table.row_of(board)
        col = [c[0] for c in self.boards_table.columns].index(rule_id)
        return self.boards_table.item(row, col).text()


# ====================================================================== install
def install(window, ruleset: RuleSet | None = None) -> PrinciplesModel:
    """Add principles, reference geographies and trusts to ``window`` (see module doc)."""
    ctl = window.controller
    model = PrinciplesModel(ctl, ruleset or load_rules(DEFAULT_RULES))
    ctl.principles = model          # read by the boards panel's flags and the briefing
    window.principles = model
    panel = PrinciplesPanel(window, model)
    window.principles_panel = panel
    model.rulesChanged.connect(lambda: window.refresh_panels(False))   # the boards panel's flags
    dock = QDockWidget("Principles", window)
    dock.setObjectName("dock-principles")
    dock.setWidget(panel)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    window.tabifyDockWidget(window.metrics_dock, dock)
    window.metrics_dock.raise_()
    window.principles_dock = dock
    window.view_menu.addAction(dock.toggleViewAction())

    # reference areas tab
    tab = ReferenceAreasTab(window)
    window.metrics_tabs.addTab(tab, "Reference areas")
    window.reference_tab = tab
    ctl.changed.connect(lambda _c: tab.refresh())

    install_layers(window)

    # Data > Add reference geography
    act = window._action("Add &reference geography\u2026", lambda: add_reference_dialog(window), None,
                         "Add your own areas (CSV of district, council or LSOA codes, or polygons), measured "
                         "like councils")
    window.data_menu.addAction(act)
    window.act_add_reference = act
    return model  # the window refreshes everything once its parts are installed


__all__ = ["PrinciplesPanel", "install"]
