"""The rule-set editor dialog (Principles dock ▸ Edit…): a rule set's name, source, link and
notes, and one row per rule (kind, label, parameters, hard or soft, weight); presets load into it and it saves to
TOML or JSON.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QHeaderView, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QInputDialog, QLabel, QLineEdit, QPushButton, QTableWidget, QTableWidgetItem,
                               QVBoxLayout)

from icbmap.principles import KINDS, RuleSet, load_rules, make_rule, preset_names
from icbmap.principles.rules import RuleError


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
        self.table = QTableWidget(0, 5, self)
        self.table.setHorizontalHeaderLabels(["Rule", "Label", "Parameters (name = value; ...)", "Hard", "Weight"])
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(0, 190)
        self.table.setColumnWidth(1, 260)
        self.table.setColumnWidth(3, 50)
        self.table.setColumnWidth(4, 60)
        self.table.horizontalHeaderItem(3).setToolTip(
            "Hard: the rule must hold (a failure is a failure, and Suggest never breaks it). Unticked: soft, "
            "a failure is a warning, counted and minimised by Suggest")
        self.table.horizontalHeaderItem(4).setToolTip("A soft rule's weight (a number above 0) in Suggest's "
                                                      "count of soft failures")
        lay.addWidget(self.table, 1)
        for r in ruleset.rules:
            self._add_row(r.kind, r.label, r.params, r.hard, r.weight)
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

    def _add_row(self, kind: str, label: str, params: dict, hard: bool = True, weight: float = 1.0) -> None:
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
        box = QTableWidgetItem("")
        box.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        box.setCheckState(Qt.CheckState.Checked if hard else Qt.CheckState.Unchecked)
        self.table.setItem(r, 3, box)
        self.table.setItem(r, 4, QTableWidgetItem(f"{weight:g}"))

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
                self._add_row(r.kind, r.label, r.params, r.hard, r.weight)

    def _save_file(self) -> None:
        rs = self.rules()
        if rs is None:
            return
        from icbmap.app.dialogs.common import suggested_path

        path, _ = QFileDialog.getSaveFileName(self, "Save rule set", suggested_path(self.parent(), rs.name, ".toml"),
                                              "TOML (*.toml);;JSON (*.json)")
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
                d["hard"] = self.table.item(r, 3).checkState() == Qt.CheckState.Checked
                w = self.table.item(r, 4).text().strip()
                try:
                    d["weight"] = float(w) if w else 1.0
                except ValueError:
                    raise RuleError(f"rule #{r + 1}: 'weight' should be a number, found {w!r}") from None
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
