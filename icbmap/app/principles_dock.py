"""The Principles dock, the rule-set dialog, reference-geography and trust layers (Qt only).

:func:`install` adds to a main window, without touching its layout code:

* ``window.principles`` (:class:`PrinciplesModel`): the live :class:`~icbmap.principles.Checker`
  of the current plan (rebuilt when the plan or the reference geographies change);
* a **Principles** dock: ✓/✗ per board and rule, the plan's counts per rule, reasons for the
  selected board or rule; cells that change flash;
* map layers: NHS trusts by headquarters (acute distinct) and a reference geography's outlines
  and labels, switched on in the Layers dock; their legend entries;
* a **Reference areas** Metrics tab (the same figures as the council tab);
* **Data ▸ Add reference geography…**.
"""

from __future__ import annotations

from html import escape

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDockWidget, QFileDialog,
                               QFormLayout, QHBoxLayout, QHeaderView, QInputDialog, QLabel, QLineEdit,
                               QMessageBox, QPushButton, QSplitter, QTableWidget, QTableWidgetItem,
                               QTextBrowser, QVBoxLayout, QWidget)

from icbmap.app.layers import _Layer
from icbmap.app.panels import RecordsTable, fmt_float, fmt_int, fmt_list, fmt_pct
from icbmap.errors import IcbmapError
from icbmap.names import short_board_name
from icbmap.principles import KINDS, Checker, RuleSet, load_rules, make_rule, preset_names, read_rules_file
from icbmap.principles.rules import RuleError

PASS, FAIL, NOT_CHECKED = "\u2713", "\u2717", "\u2013"
DEFAULT_RULES = "NHS England 2025 guidance"
TRUST_NOTE = "Headquarters are not catchments: a trust serves people far beyond the LSOA of its head office."


def nice_trust_name(name: str) -> str:
    words = str(name).title().split()
    small = {"And", "Of", "The", "For"}
    out = [w if i == 0 or w not in small else w.lower() for i, w in enumerate(words)]
    return " ".join(out).replace("Nhs", "NHS").replace("Uk", "UK")


# ====================================================================== model
class PrinciplesModel(QObject):
    """The rule set in use and its live checker for the controller's current plan."""

    updated = Signal(object)      # the set of (rule id, board id) whose verdict changed
    rulesChanged = Signal()

    def __init__(self, controller, ruleset: RuleSet):
        super().__init__(controller)
        self.controller = controller
        self.ruleset = ruleset
        self._checker: Checker | None = None
        self._pending: set = set()
        controller.changed.connect(self._on_changed)
        controller.planReplaced.connect(lambda: self.updated.emit({(r.id, -1) for r in self.ruleset.rules}))

    @property
    def checker(self) -> Checker:
        m = self.controller.metrics
        if self._checker is None or self._checker.metrics is not m:
            if self._checker is not None:
                self._checker.detach()
            self._checker = Checker(m, self.ruleset)
            self._checker.add_listener(self._flipped)
        return self._checker

    def _flipped(self, _checker, flipped) -> None:
        self._pending |= flipped

    def _on_changed(self, _change) -> None:
        self.checker  # noqa: B018 - make sure it follows the current metrics
        flips, self._pending = self._pending, set()
        self.updated.emit(flips)

    def set_rules(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.checker.set_rules(ruleset)
        self._pending.clear()
        self.rulesChanged.emit()
        self.updated.emit({(r.id, -1) for r in ruleset.rules})

    def references_changed(self) -> None:
        """The atlas' reference geographies changed: re-measure and re-check."""
        self.controller.metrics.rebuild()
        self.checker.rebuild()
        self.updated.emit({(r.id, -1) for r in self.ruleset.rules})

    def board_flags(self, board: int) -> list[str]:
        c = self.checker
        if board >= self.controller.plan.n_boards:
            return []
        return [f"{FAIL} {_short(r.label, 20)}" for r in c.failing_boards(board)]


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
            if v in (PASS, FAIL, NOT_CHECKED):
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
        path, _ = QFileDialog.getOpenFileName(self, "Open rule set", "", "Rule sets (*.toml *.json)")
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
                res = PASS if r.ok else FAIL
                count = f"{r.failing} of {r.total} {r.subject}"
            rules.append({"id": r.rule.id, "label": f"{i + 1}. {r.rule.label}", "result": res, "count": count})
            self.rules_table.tips[(r.rule.id, "label")] = r.missing or KINDS[r.rule.kind].summary
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
                    rec[r.rule.id] = FAIL
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
        c = self.model.checker
        n_fail = sum(1 for r in c.results() if not r.ok)
        html = [f"<b>{escape(self.model.ruleset.name)}</b>: "
                + ("every rule passes." if n_fail == 0 else f"{n_fail} of {len(c.results())} rules fail.")
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
                html.append(f"<li><span style='color:#c62828'>{FAIL}</span> {escape(r.rule.label)}: "
                            f"{escape(why)}</li>")
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
        html.append("<p>Passes.</p>" if r.ok else "<ul>" + "".join(f"<li>{escape(f)}</li>" for f in fails) + "</ul>")
        self.details.setHtml("".join(html))

    def rule_cell(self, board: int, rule_id: str) -> str:
        row = self.boards_table.row_of(board)
        col = [c[0] for c in self.boards_table.columns].index(rule_id)
        return self.boards_table.item(row, col).text()


def _short(text: str, n: int = 22) -> str:
    return text if len(text) <= n else text[: n - 1] + "\u2026"


# ====================================================================== rule-set dialog
class RuleSetDialog(QDialog):
    """Edit a rule set: name, source, and one row per rule (kind, label, parameters)."""

    def __init__(self, ruleset: RuleSet, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Rule set")
        self.resize(820, 420)
        self.result_rules: RuleSet | None = None
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.name = QLineEdit(ruleset.name)
        self.src = QLineEdit(ruleset.source)
        self.url = QLineEdit(ruleset.url)
        self.notes = QLineEdit(ruleset.notes)
        form.addRow("Name", self.name)
        form.addRow("Source", self.src)
        form.addRow("Link", self.url)
        form.addRow("Notes", self.notes)
        lay.addLayout(form)
        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["Rule", "Label", "Parameters (name = value; ...)"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 190)
        self.table.setColumnWidth(1, 260)
        lay.addWidget(self.table, 1)
        for r in ruleset.rules:
            self._add_row(r.kind, r.label, r.params)
        row = QHBoxLayout()
        for text, slot in (("Add rule", lambda: self._add_row("population", "", {"min": 1_000_000})),
                           ("Remove rule", self._remove_row), ("Load preset\u2026", self._load_preset),
                           ("Save to file\u2026", self._save_file)):
            b = QPushButton(text, self)
            b.clicked.connect(slot)
            row.addWidget(b)
        row.addStretch(1)
        lay.addLayout(row)
        self.error = QLabel("", self)
        self.error.setStyleSheet("color:#c62828")
        self.error.setWordWrap(True)
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _add_row(self, kind: str, label: str, params: dict) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        combo = QComboBox(self.table)
        for k, spec in KINDS.items():
            combo.addItem(spec.title, k)
        combo.setCurrentIndex(list(KINDS).index(kind))
        combo.currentIndexChanged.connect(lambda _i, c=combo: self._kind_changed(c))
        self.table.setCellWidget(r, 0, combo)
        self.table.setItem(r, 1, QTableWidgetItem(label))
        text = "; ".join(f"{k} = {v}" for k, v in params.items() if v is not None)
        self.table.setItem(r, 2, QTableWidgetItem(text))

    def _kind_changed(self, combo) -> None:
        for r in range(self.table.rowCount()):
            if self.table.cellWidget(r, 0) is combo:
                spec = KINDS[combo.currentData()]
                self.table.item(r, 2).setText("; ".join(f"{p.name} = {p.default}" for p in spec.params
                                                        if p.default is not None))
                self.table.item(r, 1).setText("")

    def _remove_row(self) -> None:
        r = self.table.currentRow()
        if r >= 0:
            self.table.removeRow(r)

    def _load_preset(self) -> None:
        name, ok = QInputDialog.getItem(self, "Load preset", "Preset", preset_names(), 0, False)
        if ok and name:
            rs = load_rules(name)
            self.name.setText(rs.name)
            self.src.setText(rs.source)
            self.url.setText(rs.url)
            self.notes.setText(rs.notes)
            self.table.setRowCount(0)
            for r in rs.rules:
                self._add_row(r.kind, r.label, r.params)

    def _save_file(self) -> None:
        rs = self.rules()
        if rs is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save rule set", f"{rs.name}.toml", "TOML (*.toml);;JSON (*.json)")
        if path:
            from icbmap.principles import write_rules

            write_rules(path, rs)

    @staticmethod
    def _parse(text: str) -> dict:
        out = {}
        for part in [p for p in text.replace(",", ";").split(";") if p.strip()]:
            if "=" not in part:
                raise RuleError(f"parameter {part.strip()!r} should be written name = value")
            k, v = (s.strip() for s in part.split("=", 1))
            low = v.lower()
            if low in ("true", "false"):
                out[k] = low == "true"
            else:
                try:
                    num = float(v.replace("_", "").replace(",", ""))
                    out[k] = int(num) if num.is_integer() and "." not in v else num
                except ValueError:
                    out[k] = v
        return out

    def rules(self) -> RuleSet | None:
        """The rule set as edited, or None (with the problem shown) if a row is invalid."""
        rules = []
        try:
            for r in range(self.table.rowCount()):
                d = {"kind": self.table.cellWidget(r, 0).currentData(), "label": self.table.item(r, 1).text().strip()}
                d.update(self._parse(self.table.item(r, 2).text()))
                rules.append(make_rule({k: v for k, v in d.items() if v != ""}, r))
        except RuleError as exc:
            self.error.setText(str(exc))
            return None
        return RuleSet(self.name.text().strip() or "My rules", rules, self.src.text().strip(),
                       self.url.text().strip(), self.notes.text().strip())

    def accept(self) -> None:
        rs = self.rules()
        if rs is None:
            return
        self.result_rules = rs
        super().accept()


# ====================================================================== map layers
class TrustsLayer(_Layer):
    """NHS trust headquarters: acute trusts as red squares, specialist acute as hollow red
    squares, others as small grey diamonds; names when zoomed in."""

    def __init__(self, rect: QRectF, trusts):
        super().__init__(rect)
        self.t = trusts
        self.xy = trusts[["x", "y"]].to_numpy(float) if trusts is not None else np.zeros((0, 2))
        self.kind = trusts["kind"].to_numpy() if trusts is not None else np.zeros(0, object)
        self.names = [nice_trust_name(n) for n in trusts["name"]] if trusts is not None else []
        self.font = QFont()
        self.font.setPointSizeF(7.5)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if not len(self.xy):
            return
        scale = self.scale_of(painter)
        ex = option.exposedRect
        x, y = self.xy[:, 0], -self.xy[:, 1]
        vis = np.flatnonzero((x >= ex.left()) & (x <= ex.right()) & (y >= ex.top()) & (y <= ex.bottom()))
        r = (4.5 if scale > 1 / 2000 else 3.0) / scale
        edge = QPen(QColor("#202020"), 1.0)
        edge.setCosmetic(True)
        red = QPen(QColor("#b71c1c"), 2.0)
        red.setCosmetic(True)
        for i in vis:
            k = self.kind[i]
            p = QPointF(x[i], y[i])
            if k == "acute":
                painter.setPen(edge)
                painter.setBrush(QColor("#d32f2f"))
                painter.drawRect(QRectF(p.x() - r, p.y() - r, 2 * r, 2 * r))
            elif k == "acute (specialist)":
                painter.setPen(red)
                painter.setBrush(QColor(255, 255, 255, 200))
                painter.drawRect(QRectF(p.x() - r * 0.8, p.y() - r * 0.8, 1.6 * r, 1.6 * r))
            else:
                painter.setPen(edge)
                painter.setBrush(QColor("#9e9e9e"))
                d = r * 0.75
                painter.drawPolygon(QPolygonF([QPointF(p.x(), p.y() - d), QPointF(p.x() + d, p.y()),
                                               QPointF(p.x(), p.y() + d), QPointF(p.x() - d, p.y())]))
        if scale > 1 / 400 and len(vis) < 60:
            t = painter.worldTransform()
            painter.save()
            painter.resetTransform()
            painter.setFont(self.font)
            painter.setPen(QColor("#3e2723"))
            for i in vis:
                if self.kind[i] not in ("acute", "acute (specialist)"):
                    continue
                dp = t.map(QPointF(x[i], y[i]))
                painter.drawText(dp + QPointF(7, 4), self.names[i])
            painter.restore()


class ReferenceLayer(_Layer):
    """A reference geography: dark teal outlines and labels (name, status, date)."""

    def __init__(self, rect: QRectF, atlas, ref):
        from icbmap.app import geomqt
        from icbmap.atlas.references import reference_geometry

        super().__init__(rect)
        geoms = reference_geometry(atlas, ref)
        ok = np.array([g is not None for g in geoms])
        import shapely

        lines = shapely.boundary(np.asarray(geoms[ok], dtype=object))
        self.path = geomqt.lines_path(shapely.union_all(lines))
        self.pen = QPen(QColor("#00695c"), 2.4)
        self.pen.setCosmetic(True)
        self.pen.setDashPattern([6.0, 2.0])
        t = ref.layer.table
        pts = [shapely.point_on_surface(g) if g is not None else None for g in geoms]
        self.labels = [(p.x, -p.y, lab) for p, lab in zip(pts, t["label"]) if p is not None]
        self.font = QFont()
        self.font.setPointSizeF(8)
        self.font.setItalic(True)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(self.pen)
        painter.drawPath(self.path)
        if self.scale_of(painter) < 1 / 1500:    # labels only once zoomed in past England
            return
        t = painter.worldTransform()
        painter.save()
        painter.resetTransform()
        painter.setFont(self.font)
        ex = option.exposedRect
        for x, y, lab in self.labels:
            if not ex.contains(QPointF(x, y)):
                continue
            dp = t.map(QPointF(x, y))
            w = painter.fontMetrics().horizontalAdvance(lab)
            box = QRectF(dp.x() - w / 2 - 3, dp.y() - 8, w + 6, 15)
            painter.fillRect(box, QColor(255, 255, 255, 190))
            painter.setPen(QColor("#004d40"))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, lab)
        painter.restore()


# ====================================================================== metrics tab
class ReferenceAreasTab(QWidget):
    """The council tab's figures for a reference geography (same report rows)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Reference geography:"))
        self.combo = QComboBox(self)
        row.addWidget(self.combo, 1)
        lay.addLayout(row)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color:#555")
        lay.addWidget(self.note)
        self.table = RecordsTable([
            ("name", "Name", None), ("label", "Status", None), ("population", "Population", fmt_int),
            ("n_boards", "Boards", fmt_int), ("status", "Split", None), ("main", "Main board", None),
            ("main_share", "Main share", fmt_pct), ("score", "Split score", fmt_float),
            ("boards", "Boards (share)", fmt_list)], key="key", parent=self, name="Reference areas")
        lay.addWidget(self.table, 1)
        for col, w in ((0, 190), (1, 150), (2, 90), (3, 60), (4, 60), (5, 150)):
            self.table.setColumnWidth(col, w)
        self.combo.currentIndexChanged.connect(lambda _i: self.refresh(flash=False))
        self.fill()

    def fill(self) -> None:
        cur = self.combo.currentData()
        self.combo.blockSignals(True)
        self.combo.clear()
        for key, ref in self.window.atlas.references.items():
            self.combo.addItem(ref.label, key)
        i = self.combo.findData(cur)
        self.combo.setCurrentIndex(max(i, 0))
        self.combo.blockSignals(False)

    def refresh(self, flash: bool = True) -> None:
        from icbmap.app.metrics_view import area_records

        key = self.combo.currentData()
        if key is None or not self.isVisible():
            return
        report = self.window.controller.metrics.report()
        if key not in report.areas:
            return
        ref = self.window.atlas.references[key]
        labels = dict(zip(ref.layer.table["code"], ref.layer.table["label"]))
        recs = area_records(report, key)
        for r in recs:
            lab = labels.get(r["key"], "")
            r["label"] = lab[len(r["name"]):].strip(" ()") if lab.startswith(r["name"]) else lab
        self.table.set_records(recs, flash=flash)
        s = report.summary.levels[key]
        self.note.setText(f"{s.areas} areas; {s.whole_in_one} wholly in one board; {s.split} split "
                          f"({s.real_split} beyond slivers). {ref.layer.provenance.line()}")

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.refresh(flash=False)


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

    # layers: trusts and a reference geography
    lp = window.layers
    lay = lp.layout()
    box = QCheckBox("NHS trusts (headquarters; acute in red)")
    box.setToolTip(TRUST_NOTE)
    box.setEnabled(window.atlas.trusts is not None)
    lay.insertWidget(lay.count() - 1, box)
    ref_row = QWidget(lp)
    h = QHBoxLayout(ref_row)
    h.setContentsMargins(0, 0, 0, 0)
    h.addWidget(QLabel("Reference geography:"))
    ref_combo = QComboBox(ref_row)
    h.addWidget(ref_combo, 1)
    lay.insertWidget(lay.count() - 1, ref_row)
    window.trusts_box, window.reference_combo = box, ref_combo
    state = {"trusts": None, "ref": None}

    def fill_refs():
        cur = ref_combo.currentData()
        ref_combo.blockSignals(True)
        ref_combo.clear()
        ref_combo.addItem("(none)", None)
        for key, ref in window.atlas.references.items():
            ref_combo.addItem(ref.label, key)
        ref_combo.setCurrentIndex(max(ref_combo.findData(cur), 0))
        ref_combo.blockSignals(False)

    def show_trusts(on: bool):
        if on and state["trusts"] is None:
            item = TrustsLayer(window.map.fill.boundingRect(), window.atlas.trusts)
            item.setZValue(8.5)
            window.map.scene().addItem(item)
            state["trusts"] = item
        if state["trusts"] is not None:
            state["trusts"].setVisible(on)
        window.map.viewport().update()

    def show_ref(_i=None):
        key = ref_combo.currentData()
        if state["ref"] is not None:
            window.map.scene().removeItem(state["ref"])
            state["ref"] = None
        if key is not None:
            window.setCursor(Qt.CursorShape.WaitCursor)
            try:
                item = ReferenceLayer(window.map.fill.boundingRect(), window.atlas, window.atlas.references[key])
            finally:
                window.unsetCursor()
            item.setZValue(7.5)
            window.map.scene().addItem(item)
            state["ref"] = item
        window.map.viewport().update()

    box.toggled.connect(show_trusts)
    ref_combo.currentIndexChanged.connect(show_ref)
    fill_refs()
    window._principles_layers = (fill_refs, show_trusts, show_ref, state)

    # legend: the extra layers
    original = window.legend.set_content

    def set_content(atlas, boards):
        original(atlas, boards)
        parts = ["<h4>Principles and reference layers</h4><p>"
                 f"<span style='color:#d32f2f'>&#9632;</span> acute NHS trust headquarters (type 1 A&amp;E); "
                 f"<span style='color:#b71c1c'>&#9633;</span> specialist acute trust; "
                 f"<span style='color:#757575'>&#9670;</span> other trusts. <b>{escape(TRUST_NOTE)}</b></p>"
                 "<p><span style='color:#00695c'>- - -</span> reference geography (labels give each area's "
                 "status and date). Codes starting <i>icbmap:</i> are local codes, not ONS codes.</p><ul>"]
        for ref in atlas.references.values():
            areas = "; ".join(escape(x) for x in ref.layer.table["label"])
            parts.append(f"<li><b>{escape(ref.label)}</b>: {escape(ref.layer.provenance.line())}"
                         f"<br><span style='color:#555'>{areas}</span></li>")
        if "trusts" in atlas.provenance:
            parts.append(f"<li><b>NHS trusts</b>: {escape(atlas.provenance['trusts'].line())}</li>")
        window.legend.append("".join(parts) + "</ul>")

    window.legend.set_content = set_content

    # Data > Add reference geography
    act = window._action("Add &reference geography\u2026", lambda: add_reference_dialog(window), None,
                         "Add your own areas (CSV of district, council or LSOA codes, or polygons), measured "
                         "like councils")
    window.data_menu.addAction(act)
    window.act_add_reference = act
    window.refresh_all()
    return model


def add_reference(window, name: str, path: str, **kwargs):
    """Build, keep and show a reference geography; returns it (or None, with the error shown)."""
    from icbmap.atlas import areas_store
    from icbmap.cli.areas import build_reference, describe

    def work(progress):
        progress.step(0.1, "Assigning LSOAs to areas")
        return build_reference(window.atlas, name, path, **kwargs)

    ref = window.run_task("Adding reference geography", work, "Cannot add reference geography",
                          "Adding the reference geography was cancelled")
    if ref is window._FAILED or ref is None:
        return None
    try:
        areas_store.add_reference(window.atlas, ref)
    except IcbmapError as exc:
        QMessageBox.warning(window, "Cannot add reference geography", str(exc))
        return None
    window.principles.references_changed()
    window._principles_layers[0]()
    window.reference_tab.fill()
    window.refresh_all()
    window.statusBar().showMessage(describe(ref).splitlines()[0], 8000)
    return ref


def add_reference_dialog(window) -> None:
    path, _ = QFileDialog.getOpenFileName(
        window, "Add reference geography", "",
        "Areas (*.csv *.geojson *.json *.gpkg *.shp);;CSV of codes (*.csv);;Polygons (*.geojson *.json *.gpkg *.shp)")
    if not path:
        return
    from pathlib import Path

    from icbmap.atlas.references import slug

    name, ok = QInputDialog.getText(window, "Add reference geography", "Short name (letters, digits, _ and -):",
                                    text=slug(Path(path).stem).replace("-", "_"))
    if ok and name:
        ref = add_reference(window, name.strip(), path)
        if ref is not None:
            from icbmap.cli.areas import describe

            QMessageBox.information(window, "Reference geography added", describe(ref))


__all__ = ["PrinciplesModel", "PrinciplesPanel", "ReferenceAreasTab", "ReferenceLayer", "RuleSetDialog",
           "TrustsLayer", "add_reference", "install"]
