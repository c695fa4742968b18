"""The File menu's outputs: exports of the current proposal (GeoJSON, GeoPackage, zipped
shapefiles, assignment CSV, Excel workbook, web page), the briefing map (PDF/PNG) and printing it (print preview, Print).

Each runs off the UI thread on a :func:`~icbmap.app.workers.snapshot` of the plan, with a
progress dialog and Cancel, through the model's atomic writers.  :class:`ProposalExports`
is mixed into :class:`~icbmap.app.files.proposals.ProposalManager`, which provides what
:class:`ExportsHost` declares (checked by a test).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

from icbmap.app.dialogs.common import suggested_path
from icbmap.app.workers import run_with_progress, snapshot
from icbmap.errors import Cancelled, IcbmapError

FORMAT_NAMES = {"geojson": "GeoJSON", "gpkg": "GeoPackage", "csv": "assignment CSV", "shp": "shapefile (zip)",
                "xlsx": "Excel workbook", "html": "web page"}
#: file suffix of each export
SUFFIX = {"geojson": ".geojson", "gpkg": ".gpkg", "csv": ".csv", "shp": ".zip", "xlsx": ".xlsx", "html": ".html"}


class ExportsHost(Protocol):
    """What the exports need of the ``ProposalManager`` they are mixed into."""

    w: Any                      # the main window
    proposal: Any               # the proposal on screen

    def title(self) -> str: ...


class ProposalExports:
    """Exports, the briefing and printing; see the module doc.  Needs of ``self`` what
    :class:`ExportsHost` declares, nothing more."""

    HOST = "icbmap.app.files.exports.ExportsHost"

    # ------------------------------------------------------------------ export
    def export_dialog(self, fmt: str) -> None:
        filters = {"geojson": "GeoJSON (*.geojson)", "gpkg": "GeoPackage (*.gpkg)", "csv": "CSV (*.csv)",
                   "shp": "Zipped shapefiles (*.zip)", "xlsx": "Excel workbook (*.xlsx)", "html": "Web page (*.html)"}
        path, _ = QFileDialog.getSaveFileName(self.w, f"Export {FORMAT_NAMES[fmt]}",
                                              suggested_path(self.w, self.title(), SUFFIX[fmt]), filters[fmt])
        if path:
            self.export(fmt, path)

    def export(self, fmt: str, path, precision: int = 6, units: bool = False) -> list[Path] | None:
        from icbmap.export import csv as csv_mod
        from icbmap.export import geojson, gpkg, shp

        from icbmap.app.dialogs.unsaved import app_output_problem

        problem = app_output_problem(self.w, path)   # an export never replaces a proposal or a data pack
        if problem:
            QMessageBox.warning(self.w, "Export refused", f"{path}: {problem}")
            return None
        plan = snapshot(self.w.controller.plan)
        title = self.proposal.title
        principles = getattr(self.w, "principles", None)
        ruleset = principles.ruleset if principles is not None else None  # the rules on screen

        def work(progress):
            if fmt == "html":
                from icbmap.export.webpage import write_webpage

                return write_webpage(plan, path, title=title or None, progress=progress, rules=ruleset)
            if fmt == "geojson":
                return geojson.write_geojson(plan, path, precision=precision, units=units, title=title, progress=progress)
            if fmt == "gpkg":
                return gpkg.write_gpkg(plan, path, title=title, progress=progress)
            if fmt == "shp":
                return shp.write_shapefile_zip(plan, path, units=units, title=title, progress=progress)
            if fmt == "xlsx":
                from icbmap.export.xlsx import write_xlsx

                return write_xlsx(plan, path, title=title, ruleset=ruleset, progress=progress)
            return csv_mod.write_csv(plan, path, progress=progress)

        try:
            out = run_with_progress(self.w, f"Exporting {FORMAT_NAMES.get(fmt, fmt)}", work)
        except Cancelled:
            self.w.statusBar().showMessage("Export cancelled; nothing written", 5000)
            return None
        except (IcbmapError, OSError) as exc:
            QMessageBox.warning(self.w, "Export failed", f"{path}: {exc}")
            return None
        self.w.statusBar().showMessage("Exported " + ", ".join(str(p) for p in out), 8000)
        return out

    # ------------------------------------------------------------------ briefing
    def _briefing_kwargs(self) -> dict:
        title = self.proposal.title or "ICB configuration proposal"
        principles = getattr(self.w, "principles", None)
        return {"title": title, "subtitle": self.proposal.author and f"Prepared by {self.proposal.author}" or None,
                "rules": principles.ruleset if principles is not None else None}

    def export_briefing(self) -> None:
        path, filt = QFileDialog.getSaveFileName(self.w, "Export briefing", suggested_path(self.w, self.title(), ".pdf"),
                                                 "PDF (*.pdf);;PNG (*.png)")
        if path:
            self.write_briefing(path)

    def write_briefing(self, path, paper: str = "A4", changed_pages: bool = False):
        from icbmap.app.dialogs.unsaved import app_output_problem
        from icbmap.export.briefing import render_briefing

        problem = app_output_problem(self.w, path)
        if problem:
            QMessageBox.warning(self.w, "Briefing not written", f"{path}: {problem}")
            return None
        plan = snapshot(self.w.controller.plan)
        kwargs = self._briefing_kwargs()
        try:
            return run_with_progress(self.w, "Rendering the briefing", lambda progress: render_briefing(
                plan, path, paper=paper, changed_pages=changed_pages, progress=progress, **kwargs))
        except Cancelled:
            return None
        except (IcbmapError, OSError) as exc:
            QMessageBox.warning(self.w, "Briefing not written", f"{path}: {exc}")
            return None

    def _paint_briefing(self, printer) -> None:
        """Draw the briefing pages on ``printer`` as vector graphics (matplotlib SVG), drawn
        in a worker with progress and Cancel."""
        from icbmap.app.files.printing import paint_svgs, pdf_file_target

        target = pdf_file_target(printer)
        if target:  # print to file: the vector PDF of Export briefing, not Qt's expansion
            if self.write_briefing(target, paper=self._paper(printer)):
                self.w.statusBar().showMessage(f"Printed the briefing to {target}", 8000)
            return
        pages = self.preview_pages(self._paper(printer))
        if pages:
            paint_svgs(printer, pages)

    @staticmethod
    def _paper(printer) -> str:
        from PySide6.QtGui import QPageSize

        return "A3" if printer.pageLayout().pageSize().id() == QPageSize.PageSizeId.A3 else "A4"

    def make_printer(self):
        from PySide6.QtGui import QPageLayout, QPageSize
        from PySide6.QtPrintSupport import QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        printer.setPageOrientation(QPageLayout.Orientation.Landscape)
        printer.setDocName(self.title())
        return printer

    def preview_pages(self, paper: str = "A4") -> list[bytes] | None:
        """The briefing's pages for the print preview, drawn in a worker thread behind a
        progress dialog with Cancel (issue 22); None when cancelled or failed (said)."""
        from icbmap.app.files.printing import briefing_svgs

        plan = snapshot(self.w.controller.plan)
        kwargs = self._briefing_kwargs()
        try:
            return run_with_progress(self.w, "Preparing the print preview",
                                     lambda progress: briefing_svgs(plan, paper, progress, None, **kwargs),
                                     min_duration_ms=200)
        except Cancelled:
            self.w.statusBar().showMessage("Print preview cancelled", 5000)
            return None
        except (IcbmapError, OSError) as exc:
            QMessageBox.warning(self.w, "Print preview", str(exc))
            return None

    def print_preview(self):
        """File > Print preview: the pages are drawn in a worker (progress and Cancel until
        page 1 is ready); the preview opens on page 1 while the others are drawn."""
        from icbmap.app.files.preview import show_preview
        from icbmap.app.files.printing import briefing_images

        printer = self.make_printer()
        plan = snapshot(self.w.controller.plan)
        kwargs = self._briefing_kwargs()
        paper = self._paper(printer)
        try:
            dlg = show_preview(self.w, printer,
                               lambda progress, on_page: briefing_images(plan, paper, progress, on_page, **kwargs),
                               "Briefing map \u2014 print preview",
                               exec_dialog=not os.environ.get("ICBMAP_NO_MODAL"))
        except Cancelled:
            self.w.statusBar().showMessage("Print preview cancelled", 5000)
            return None
        except (IcbmapError, OSError) as exc:
            QMessageBox.warning(self.w, "Print preview", str(exc))
            return None
        self._preview_dialog = dlg
        return dlg

    def print_dialog(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog

        printer = self.make_printer()
        dlg = QPrintDialog(printer, self.w)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self._paint_briefing(printer)
