"""The File menu: proposals (new, open, recent, save, save as, properties), autosave and
crash recovery, import of boards drawn elsewhere; exports, the briefing and printing are in
:mod:`~icbmap.app.files.exports`.

Everything that writes runs through the model's atomic writers; long work (exports,
imports, the briefing) runs off the UI thread with a progress dialog and Cancel.  A file
that cannot be opened leaves the current work untouched.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QLineEdit,
                               QMessageBox, QPlainTextEdit)

from icbmap.app.dialogs.common import PROPOSAL_FILTER, start_dir, suggested_path
from icbmap.app.actions.factory import make_action
from icbmap.app.files.exports import ProposalExports
from icbmap.app.workers import run_with_progress
from icbmap.errors import Cancelled, IcbmapError
from icbmap.plan import proposal as prop
from icbmap.plan.autosave import Autosaver
from icbmap.plan.model import Plan

IMPORT_FILTER = ("Boards drawn elsewhere (*.geojson *.json *.gpkg *.shp *.zip *.csv *.xlsx);;"
                 "GeoJSON (*.geojson *.json);;GeoPackage (*.gpkg);;Shapefile (*.shp *.zip);;"
                 "Assignment CSV (*.csv);;icbmap Excel workbook (*.xlsx);;All files (*)")


class ProposalManager(ProposalExports, QObject):
    """Owns the current :class:`~icbmap.plan.proposal.Proposal` of a main window."""

    def __init__(self, window, autosave_every: int = 5, autosave_dir=None):
        super().__init__(window)
        self.w = window
        self.proposal = prop.Proposal.new(window.controller.plan)
        self.autosaver = Autosaver(every=autosave_every, directory=autosave_dir, background=True).start()
        window.controller.edited.connect(self._edited)
        window.controller.planReplaced.connect(self._plan_replaced)
        # a timer catches edits that never reach the "every N edits" threshold
        self._timer = QTimer(self)
        self._timer.setInterval(60_000)
        self._timer.timeout.connect(self._autosave_if_pending)
        self._timer.start()
        self._build_menu()

    # ------------------------------------------------------------------ menu
    def _act(self, text, slot, shortcut=None, tip=None) -> QAction:
        return make_action(self.w, text, slot, shortcut, tip)

    def _build_menu(self) -> None:
        m = self.w.file_menu
        S = QKeySequence.StandardKey
        self.act_new = self._act("&New proposal", self.new, S.New,
                                f"Start again from the baseline: {self.w.atlas.baseline_label}")
        self.act_open = self._act("&Open\u2026", self.open_dialog, S.Open, "Open a saved proposal")
        self.act_save = self._act("&Save", self.save, S.Save, "Save the proposal")
        self.act_save_as = self._act("Save &as\u2026", self.save_as, "Ctrl+Shift+S", "Save the proposal to a new file")
        self.act_props = self._act("Proposal &details\u2026", self.edit_details, None, "Title, author and notes")
        self.act_import = self._act("&Import boards drawn elsewhere\u2026", self.import_dialog, "Ctrl+I",
                                    "Board polygons (GeoJSON, GeoPackage, shapefile) or an assignment CSV")
        self.act_geojson = self._act("Export &GeoJSON\u2026", lambda: self.export_dialog("geojson"), "Ctrl+E",
                                     "Boards as RFC 7946 GeoJSON (WGS84)")
        self.act_gpkg = self._act("Export Geo&Package\u2026", lambda: self.export_dialog("gpkg"), None,
                                  "Boards, units and metrics tables")
        self.act_shp = self._act("Export &shapefiles (zip)\u2026", lambda: self.export_dialog("shp"), None,
                                 "Boards as ESRI shapefiles (British National Grid) in one .zip, for older GIS")
        self.act_csv = self._act("Export assignment &CSV\u2026", lambda: self.export_dialog("csv"), None,
                                 "LSOA to board block-assignment file")
        self.act_xlsx = self._act("Export E&xcel workbook\u2026", lambda: self.export_dialog("xlsx"), None,
                                  "Boards, councils, strategic authorities, principles, moves and sources")
        self.act_html = self._act("Export &web page\u2026", lambda: self.export_dialog("html"), None,
                                  "One HTML file that opens in any browser, offline: map, figures, principles")
        self.act_preview = self._act("Print pre&view\u2026", self.print_preview, "Ctrl+Shift+P", "Briefing map print preview")
        self.act_print = self._act("&Print\u2026", self.print_dialog, S.Print, "Print the briefing map")
        self.act_brief = self._act("Export &briefing (PDF/PNG)\u2026", self.export_briefing, None,
                                   "A4 or A3 landscape briefing map with metrics and attribution")
        self.act_quit = self._act("&Quit", self.w.close, S.Quit)
        m.addAction(self.act_new)
        from icbmap.app.files.baselines import add_menu

        add_menu(self.w, m)
        m.addAction(self.act_open)
        self.recent_menu = m.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        for a in (self.act_save, self.act_save_as, self.act_props):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_import)
        exp = m.addMenu("&Export")
        for a in (self.act_geojson, self.act_gpkg, self.act_shp, self.act_csv, self.act_xlsx, self.act_html,
                  self.act_brief):
            exp.addAction(a)
        m.addSeparator()
        m.addAction(self.act_preview)
        m.addAction(self.act_print)
        m.addSeparator()
        m.addAction(self.act_quit)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        items = prop.recent_proposals()
        if not items:
            a = self.recent_menu.addAction("(none)")
            a.setEnabled(False)
        for p in items:
            a = self.recent_menu.addAction(p.name)
            a.setToolTip(str(p))
            a.triggered.connect(lambda _c=False, path=p: self.open(path))

    # ------------------------------------------------------------------ state
    @property
    def dirty(self) -> bool:
        return not self.w.controller.stack.isClean()

    def title(self) -> str:
        return self.proposal.display_name

    def _plan_replaced(self) -> None:
        self.proposal.plan = self.w.controller.plan

    def _edited(self) -> None:
        self.proposal.plan = self.w.controller.plan
        try:
            self.autosaver.edited(self.proposal)
        except Exception as exc:  # autosave must never break editing
            self.w.statusBar().showMessage(f"Autosave failed: {exc}", 8000)

    def _autosave_if_pending(self) -> None:
        if self.autosaver.pending_edits:
            try:
                self.autosaver.save_now(self.proposal)
            except Exception as exc:
                self.w.statusBar().showMessage(f"Autosave failed: {exc}", 8000)

    def set_proposal(self, proposal: prop.Proposal, clean: bool = True) -> None:
        options = getattr(self.w, "options", None)   # each proposal opens as an option
        if options is not None and not options.before_set_proposal(proposal):
            return
        self.proposal = proposal
        self.w.controller.set_plan(proposal.plan)
        principles = getattr(self.w, "principles", None)
        if principles is not None and proposal.rules is not None:
            principles.set_rules(proposal.rules)
        if proposal.missing_references:
            QMessageBox.warning(
                self.w, "Reference geography missing",
                f"{proposal.display_name} uses reference geographies that are not on this machine: "
                + ", ".join(proposal.missing_references)
                + ". Rules naming them show as not checked; add them with Data ▸ Add reference geography.")
        if clean:
            self.w.controller.stack.setClean()
        else:
            self.w.controller.stack.resetClean()  # unsaved until the user saves
        self.w.proposal_path = str(proposal.path) if proposal.path else None
        if options is not None:
            options.after_set_proposal(proposal)
        if hasattr(self.w, "set_history_start"):
            self.w.set_history_start(proposal.display_name if proposal.path else None)
        self.w._update_title()

    def maybe_save(self) -> bool:
        """Ask to save unsaved changes; False if the user cancelled."""
        if not self.dirty:
            return True
        r = self.ask_unsaved()
        if r == "save":
            return self.save()
        return r == "discard"

    def ask_unsaved(self) -> str:
        """``"save"``, ``"discard"`` or ``"cancel"`` (a message box; tests replace it)."""
        B = QMessageBox.StandardButton
        r = QMessageBox.question(self.w, "Unsaved changes", f"Save the changes to {self.title()}?",
                                 B.Save | B.Discard | B.Cancel)
        return {B.Save: "save", B.Discard: "discard"}.get(r, "cancel")

    # ------------------------------------------------------------------ actions
    def new(self) -> None:
        if not self.maybe_save():
            return
        self.set_proposal(prop.Proposal.new(Plan(self.w.atlas)))

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(self.w, "Open proposal", start_dir(self.w), PROPOSAL_FILTER)
        if path:
            self.open(path, ask_first=False)

    def open(self, path, ask_first: bool = True, map_pack: bool | None = None) -> bool:
        """Open ``path``; on any problem show it and keep the current work."""
        if ask_first and not self.maybe_save():
            return False
        try:
            proposal = prop.read_proposal(path, self.w.atlas)
        except prop.BaselineMismatchError as exc:
            return self._reopen_on_baseline(path, exc)
        except prop.PackMismatchError as exc:
            if map_pack is None:
                r = QMessageBox.question(
                    self.w, "Different data pack",
                    f"{exc}\n\nOpen it mapped onto the data pack in use? Codes that match are kept; "
                    "the report above lists what does not map.")
                map_pack = r == QMessageBox.StandardButton.Yes
            if not map_pack:
                return False
            proposal = exc.mapped
        except IcbmapError as exc:
            QMessageBox.warning(self.w, "Cannot open proposal", str(exc))
            return False
        self.set_proposal(proposal)
        prop.add_recent_proposal(path)
        self.w.statusBar().showMessage(f"Opened {proposal.display_name}", 5000)
        return True

    def _reopen_on_baseline(self, path, exc) -> bool:
        """The proposal is drawn against another configuration of this pack: reopen the
        window on that baseline (the user's work was saved or discarded already)."""
        from icbmap.app.files.baselines import replace_window

        r = QMessageBox.question(self.w, "Another baseline",
                                 f"{exc}\n\nReopen the window on that baseline and open the proposal?")
        if r != QMessageBox.StandardButton.Yes:
            return False
        new = replace_window(self.w, exc.baseline,
                             then=lambda w: w.proposals.open(path, ask_first=False, map_pack=True))
        return new is not None

    def save(self) -> bool:
        if self.proposal.path is None:
            return self.save_as()
        return self._write(self.proposal.path)

    def save_as(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self.w, "Save proposal as",
                                              suggested_path(self.w, self.title(), prop.SUFFIX), PROPOSAL_FILTER)
        if not path:
            return False
        if not path.endswith(prop.SUFFIX):
            path += prop.SUFFIX
        return self._write(path)

    def _write(self, path) -> bool:
        self.proposal.plan = self.w.controller.plan
        if not self.write(path, self.proposal, self.w.controller.stack, self.autosaver):
            return False
        self.w.proposal_path = str(path)
        self.w._update_title()
        self.w.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def write(self, path, proposal: prop.Proposal, stack, autosaver, what: str = "Proposal") -> bool:
        """Save ``proposal`` to ``path`` with the window's rule set and the reference
        geographies it names, mark ``stack`` clean, add the file to the recent list and
        refresh ``autosaver``; a failure is a message and False.  File > Save and saving an
        option both come here."""
        from icbmap.app.dialogs.unsaved import app_output_problem

        problem = app_output_problem(self.w, path, own=proposal.path)   # never over a pack or another option
        if problem:
            QMessageBox.warning(self.w, f"{what} not saved", f"{path}: {problem}\n\nYour work is still open.")
            return False
        principles = getattr(self.w, "principles", None)
        if principles is not None:
            proposal.rules = principles.ruleset
            used = prop.references_used(self.w.atlas, principles.ruleset)
            have = {r["name"] for r in used}
            proposal.references = used + [r for r in proposal.references if r["name"] not in have]
        try:
            prop.write_proposal(path, proposal)
        except (IcbmapError, OSError) as exc:
            QMessageBox.warning(self.w, f"{what} not saved",
                                f"{path}: {exc}\n\nYour work is still open; the previous file is unchanged.")
            return False
        stack.setClean()
        prop.add_recent_proposal(path)
        autosaver.save_now(proposal)
        return True

    def edit_details(self) -> None:
        dlg = QDialog(self.w)
        dlg.setWindowTitle("Proposal details")
        form = QFormLayout(dlg)
        title = QLineEdit(self.proposal.title)
        author = QLineEdit(self.proposal.author)
        notes = QPlainTextEdit(self.proposal.notes)
        form.addRow("Title", title)
        form.addRow("Author", author)
        form.addRow("Notes", notes)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(dlg.accept)
        buttons.rejected.connect(dlg.reject)
        form.addRow(buttons)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.proposal.title, self.proposal.author = title.text().strip(), author.text().strip()
            self.proposal.notes = notes.toPlainText()
            self.w._update_title()

    # crash recovery: OptionsManager.offer_recovery (every option of the dead session)
    def close(self) -> None:
        self.autosaver.close()

    # ------------------------------------------------------------------ import
    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.w, "Import boards drawn elsewhere", start_dir(self.w), IMPORT_FILTER)
        if path:
            self.import_file(path)

    def import_file(self, path, show_report: bool = True):
        from icbmap.export.importers import import_file

        if not self.maybe_save():
            return None
        atlas = self.w.atlas
        fields: dict[str, str] = {}
        while True:
            try:
                result = run_with_progress(self.w, "Importing boards",
                                           lambda progress: import_file(path, atlas, progress=progress, **fields))
                break
            except Cancelled:
                return None
            except IcbmapError as exc:
                option = getattr(exc, "option", None)
                if getattr(exc, "candidates", None) and option not in fields:
                    # the import cannot tell which column is the board: ask, then import again
                    choice = self._ask_column(path, exc)
                    if choice is None:
                        return None
                    fields[option] = choice
                    continue
                QMessageBox.warning(self.w, "Cannot import", str(exc))
                return None
        self.set_proposal(result.to_proposal(), clean=False)
        options = getattr(self.w, "options", None)
        if options is not None:
            options.current_option.origin = "imported"   # named so in the quit question
        if show_report:
            box = QMessageBox(QMessageBox.Icon.Information, "Import report",
                              result.report.summary().splitlines()[0], parent=self.w)
            box.setDetailedText(result.report.summary())
            box.exec()
        return result

    def _ask_column(self, path, exc) -> str | None:
        """Ask which of ``exc.candidates`` holds the boards (None: the user cancelled)."""
        from PySide6.QtWidgets import QInputDialog

        what = "names" if exc.option == "name_field" else "codes"
        choice, ok = QInputDialog.getItem(
            self.w, "Which column is the board?",
            f"icbmap cannot tell which column of {Path(path).name} holds the boards.\n"
            f"Choose the column with the board {what}:", exc.candidates, 0, False)
        return str(choice) if ok and choice else None
