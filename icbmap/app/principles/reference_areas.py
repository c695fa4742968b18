"""Reference geographies in the main window: the **Reference areas** Metrics tab (the
council tab's figures for a reference geography) and **Data ▸ Add reference geography…**
(build, keep and show one).
"""

from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QMessageBox, QVBoxLayout,
                               QWidget)

from icbmap.app.dialogs.common import ask_text
from icbmap.app.panels import RecordsTable, fmt_float, fmt_int, fmt_list, fmt_pct
from icbmap.errors import IcbmapError


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


def add_reference(window, name: str, path: str, **kwargs):
    """Build, keep and show a reference geography; returns it (or None, with the error shown)."""
    from icbmap.atlas import areas_store
    from icbmap.atlas.references import build_reference, describe_reference

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
    window.statusBar().showMessage(describe_reference(ref).splitlines()[0], 8000)
    return ref


def add_reference_dialog(window) -> None:
    from icbmap.app.dialogs.common import start_dir

    path, _ = QFileDialog.getOpenFileName(
        window, "Add reference geography", start_dir(window),
        "Areas (*.csv *.geojson *.json *.gpkg *.shp);;CSV of codes (*.csv);;Polygons (*.geojson *.json *.gpkg *.shp)")
    if not path:
        return
    from pathlib import Path

    from icbmap.atlas.references import slug

    name, ok = ask_text(window, "Add reference geography", "Short name (letters, digits, _ and -):",
                        slug(Path(path).stem).replace("-", "_"))
    if ok and name:
        ref = add_reference(window, name.strip(), path)
        if ref is not None:
            from icbmap.atlas.references import describe_reference

            QMessageBox.information(window, "Reference geography added", describe_reference(ref))
