"""Data menu dialogs: build a data pack from official files, with the same checks as
``icbmap data import`` (the work runs off the UI thread with progress and Cancel)."""

from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget)

FIELDS = [
    ("boundaries", "LSOA 2021 boundaries", "Boundaries (*.geojson *.json *.gpkg *.shp *.zip);;All files (*)", True),
    ("icb_lookup", "LSOA \u2192 sub-ICB \u2192 ICB lookup", "CSV (*.csv *.txt);;All files (*)", True),
    ("lad_lookup", "LSOA \u2192 district lookup", "CSV (*.csv *.txt);;All files (*)", True),
    ("population", "LSOA population (optional)", "CSV (*.csv *.txt);;All files (*)", False),
    ("practices", "GP practice registrations (optional)", "CSV (*.csv *.zip);;All files (*)", False),
    ("practice_map", "Practice \u2192 PCN map (optional)", "CSV (*.csv *.zip);;All files (*)", False),
]


class OfficialImportDialog(QDialog):
    """Choose the official files and a name for the new pack."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Build a data pack from official ONS / NHS files")
        form = QFormLayout(self)
        form.addRow(QLabel("The files are checked before anything is written; an earlier pack "
                           "of the same name stays usable if they are not right."))
        self.name = QLineEdit("ons-2024")
        form.addRow("Pack name", self.name)
        self.edits: dict[str, QLineEdit] = {}
        for key, label, filt, _required in FIELDS:
            row = QWidget()
            lay = QHBoxLayout(row)
            lay.setContentsMargins(0, 0, 0, 0)
            edit = QLineEdit()
            browse = QPushButton("Browse\u2026")
            browse.clicked.connect(lambda _c=False, e=edit, t=label, f=filt: self._browse(e, t, f))
            lay.addWidget(edit, 1)
            lay.addWidget(browse)
            form.addRow(label, row)
            self.edits[key] = edit
        self.use = QCheckBox("Use the new pack from the next start")
        self.use.setChecked(True)
        form.addRow(self.use)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        for e in self.edits.values():
            e.textChanged.connect(self._validate)
        self.name.textChanged.connect(self._validate)
        self._validate()

    def _browse(self, edit: QLineEdit, title: str, filt: str) -> None:
        from icbmap.app.dialogs.common import start_dir

        path, _ = QFileDialog.getOpenFileName(self, title, start_dir(self.parent()), filt)
        if path:
            edit.setText(path)

    def _validate(self) -> None:
        ok = bool(self.name.text().strip()) and all(
            self.edits[k].text().strip() for k, _l, _f, required in FIELDS if required)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def values(self) -> dict:
        """Keyword arguments for :func:`icbmap.atlas.official.import_pack`."""
        out = {"name": self.name.text().strip()}
        for key, *_ in FIELDS:
            text = self.edits[key].text().strip()
            out[key] = text or None
        return out
