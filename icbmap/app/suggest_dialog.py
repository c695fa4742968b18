"""Boards ▸ Suggest options…: the exact optimiser (icbmap.suggest) in a dialog.

Scope, blocks, target, rules, objective weights and a time limit; the search runs in a
worker thread with live progress (best so far, bound, gap, elapsed); Cancel stops it and
keeps the best found so far; any result opens as an (unsaved) proposal in the window.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QThread, Qt, Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDialog, QDialogButtonBox,
                               QDoubleSpinBox, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QMessageBox, QPushButton, QSpinBox, QTableWidget, QTableWidgetItem,
                               QVBoxLayout)

from icbmap.errors import IcbmapError
from icbmap.suggest.spec import (BLOCK_LEVELS, TERM_LABELS, TERMS, Constraints, Request, Target, Weights)


class _SuggestWorker(QObject):
    progressed = Signal(object)      # SolveProgress
    done = Signal(object, object)    # Result, exception

    def __init__(self, plan, request, cancel):
        super().__init__()
        self.plan, self.request, self.cancel = plan, request, cancel

    @Slot()
    def run(self) -> None:
        from icbmap.suggest.solve import suggest

        try:
            result = suggest(self.plan, self.request, progress=self.progressed.emit, cancel=self.cancel)
        except BaseException as exc:  # shown in the UI thread
            self.done.emit(None, exc)
            return
        self.done.emit(result, None)


class SuggestDialog(QDialog):
    """Find options and open them.  ``result`` holds the last search's result."""

    finished_search = Signal()

    def __init__(self, window):
        super().__init__(window)
        self.w = window
        self.setWindowTitle("Suggest options")
        self.result = None
        self._thread: QThread | None = None
        self._worker: _SuggestWorker | None = None
        self._cancel = threading.Event()
        atlas = window.atlas
        plan = window.controller.plan

        form = QFormLayout()
        self.scope = QComboBox()
        self.scope.setEditable(True)
        self.scope.addItem("England")
        for name in atlas.layers["region"].table["name"]:
            self.scope.addItem(str(name))
        self.scope.setToolTip("England, an NHS region, or board codes separated by commas")
        form.addRow("&Scope:", self.scope)
        self.blocks = QComboBox()
        for b in BLOCK_LEVELS:
            self.blocks.addItem(b)
        form.addRow("&Blocks (moved whole):", self.blocks)
        self.target = QLineEdit(str(max(1, len(plan.active_boards()) - 1)))
        self.target.setToolTip("Number of boards in the scope: N, or a range N-M")
        form.addRow("Number of &boards:", self.target)

        rules = QGroupBox("Rules")
        rl = QGridLayout(rules)
        self.floor = QSpinBox()
        self.floor.setRange(0, 60_000_000)
        self.floor.setSingleStep(100_000)
        self.floor.setGroupSeparatorShown(True)
        self.floor.setSpecialValueText("off")
        self.floor.setValue(1_000_000)
        self.ceiling = QSpinBox()
        self.ceiling.setRange(0, 60_000_000)
        self.ceiling.setSingleStep(100_000)
        self.ceiling.setGroupSeparatorShown(True)
        self.ceiling.setSpecialValueText("off")
        rl.addWidget(QLabel("Population floor:"), 0, 0)
        rl.addWidget(self.floor, 0, 1)
        rl.addWidget(QLabel("Population ceiling:"), 0, 2)
        rl.addWidget(self.ceiling, 0, 3)
        self.nesting = QCheckBox("Boards nest in NHS regions")
        self.nesting.setChecked(True)
        self.contiguity = QCheckBox("Boards in one piece")
        self.contiguity.setChecked(True)
        self.councils_whole = QCheckBox("Councils whole")
        self.cas_whole = QCheckBox("Combined authorities whole")
        rl.addWidget(self.nesting, 1, 0, 1, 2)
        rl.addWidget(self.contiguity, 1, 2, 1, 2)
        rl.addWidget(self.councils_whole, 2, 0, 1, 2)
        rl.addWidget(self.cas_whole, 2, 2, 1, 2)
        self.whole_areas = QCheckBox()
        self._whole_levels: tuple[str, ...] = ()
        self._tolerance = 0.0
        self.whole_areas.setVisible(False)
        rl.addWidget(self.whole_areas, 4, 0, 1, 4)
        locked = [b.name for b in plan.active_boards() if b.locked]
        rl.addWidget(QLabel("Locked boards stay as they are: " + (", ".join(locked) if locked else "none locked")),
                     3, 0, 1, 4)

        obj = QGroupBox("Objective weights (people terms per 1,000 people, counts per item)")
        ol = QFormLayout(obj)
        self.weights: dict[str, QDoubleSpinBox] = {}
        default = Weights()
        for t in TERMS:
            sp = QDoubleSpinBox()
            sp.setRange(0, 100_000)
            sp.setDecimals(2)
            sp.setValue(getattr(default, t))
            self.weights[t] = sp
            ol.addRow(TERM_LABELS[t] + ":", sp)

        run = QHBoxLayout()
        self.top = QSpinBox()
        self.top.setRange(1, 20)
        self.top.setValue(3)
        self.time_limit = QSpinBox()
        self.time_limit.setRange(1, 3600)
        self.time_limit.setValue(60)
        self.time_limit.setSuffix(" s")
        run.addWidget(QLabel("Options:"))
        run.addWidget(self.top)
        run.addWidget(QLabel("Time limit:"))
        run.addWidget(self.time_limit)
        run.addStretch(1)
        self.find_button = QPushButton("&Find options")
        self.find_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("&Cancel search")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        run.addWidget(self.find_button)
        run.addWidget(self.cancel_button)

        self.status = QLabel("Set the rules and press Find options.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.results = QTableWidget(0, 9)
        self.results.setHorizontalHeaderLabels(["Option", "Status", "Objective", "Bound", "Gap", "Boards",
                                                "Smallest", "Largest", "People moved"])
        self.results.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.verticalHeader().setVisible(False)
        self.results.cellDoubleClicked.connect(lambda row, _c: self.open_option(row))
        buttons = QDialogButtonBox()
        self.open_button = buttons.addButton("&Open as option", QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(lambda: self.open_option(self.results.currentRow()))
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.clicked.connect(self.close)

        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(rules)
        lay.addWidget(obj)
        lay.addLayout(run)
        lay.addWidget(self.status)
        lay.addWidget(self.results, 1)
        lay.addWidget(buttons)
        self.resize(760, 860)
        self.prefill_from_principles()

    def prefill_from_principles(self) -> None:
        """Rules from the window's active rule set (the Principles dock), where it has one."""
        model = getattr(self.w, "principles", None)
        rs = getattr(model, "ruleset", None)
        if rs is None:
            return
        from icbmap.suggest.rules import constraints_from_ruleset

        try:
            cons, notes = constraints_from_ruleset(self.w.atlas, rs)
        except IcbmapError as exc:
            self.status.setText(f"The rule set {rs.name!r} cannot be used here: {exc}")
            return
        self.floor.setValue(cons.floor or 0)
        self.ceiling.setValue(cons.ceiling or 0)
        self.nesting.setChecked(cons.region_nesting)
        self.contiguity.setChecked(cons.contiguity)
        self.councils_whole.setChecked(cons.councils_whole)
        self.cas_whole.setChecked(cons.cas_whole)
        self._whole_levels, self._tolerance = cons.whole_areas, cons.tolerance
        if cons.whole_areas:
            labels = ", ".join(self.w.atlas.level_label(lv) for lv in cons.whole_areas)
            self.whole_areas.setText(f"Kept whole too: {labels}")
            self.whole_areas.setChecked(True)
            self.whole_areas.setVisible(True)
        self.status.setText(f"Rules from the principles in use: {rs.name}."
                            + ("\n" + "\n".join(notes) if notes else ""))

    # ------------------------------------------------------------------ request
    def request(self) -> Request:
        cons = Constraints(floor=self.floor.value() or None, ceiling=self.ceiling.value() or None,
                           region_nesting=self.nesting.isChecked(), contiguity=self.contiguity.isChecked(),
                           councils_whole=self.councils_whole.isChecked(), cas_whole=self.cas_whole.isChecked(),
                           whole_areas=self._whole_levels if self.whole_areas.isChecked() else (),
                           tolerance=self._tolerance)
        text = ",".join(f"{t}={sp.value():g}" for t, sp in self.weights.items())
        req = Request(blocks=self.blocks.currentText(), target=Target.parse(self.target.text()),
                      scope=self.scope.currentText().strip() or "england", constraints=cons,
                      weights=Weights.parse(text), top=self.top.value(), time_limit=float(self.time_limit.value()))
        req.check()
        return req

    # ------------------------------------------------------------------ search
    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self.running:
            return
        try:
            req = self.request()
        except IcbmapError as exc:
            self.status.setText(f"Cannot search: {exc}")
            return
        self.results.setRowCount(0)
        self.open_button.setEnabled(False)
        self.result = None
        self._cancel = threading.Event()
        plan = self.w.controller.plan.copy()
        self._worker = _SuggestWorker(plan, req, self._cancel)
        self._thread = QThread(self)
        self._worker.moveToThread(self._thread)
        self._worker.progressed.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        self._worker.done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        self._thread.started.connect(self._worker.run)
        self.find_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText("Building the model\u2026")
        self._thread.start()

    def cancel(self) -> None:
        if self.running:
            self._cancel.set()
            self.status.setText(self.status.text() + "\nStopping: keeping the best found so far\u2026")

    @Slot(object)
    def _on_progress(self, p) -> None:
        if self.running:
            self.status.setText("Searching " + p.line())

    @Slot(object, object)
    def _on_done(self, result, exc) -> None:
        self._thread.quit()
        self._thread.wait()
        self._thread.deleteLater()
        self._thread, self._worker = None, None
        self.find_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if exc is not None:
            self.status.setText(f"Cannot search: {exc}" if isinstance(exc, IcbmapError)
                                else f"The search failed: {exc!r}")
            self.finished_search.emit()
            return
        self.result = result
        head = {"optimal": "Proven optimal", "feasible": "Best found within the time limit (not proven)",
                "cancelled": "Cancelled: the best found so far", "infeasible": "No option meets the rules",
                "unknown": "No option found"}.get(result.status, result.status)
        lines = [f"{head}; {len(result.options)} option(s) in {result.elapsed:.1f} s."]
        if result.message:
            lines.append(result.message)
        lines += result.explanation[1:]
        lines += result.problem.notes
        self.status.setText("\n".join(lines))
        for o in result.options:
            f = o.figures
            r = self.results.rowCount()
            self.results.insertRow(r)
            cells = [str(o.rank), o.found.status, f"{f['objective']:,.2f}", f"{o.found.bound:,.2f}",
                     f"{100 * o.found.gap:.2f}%", str(f["boards"]), f"{f['smallest']:,}", f"{f['largest']:,}",
                     f"{f['people_moved']:,}"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.results.setItem(r, c, item)
        self.results.resizeColumnsToContents()
        if result.options:
            self.results.selectRow(0)
            self.open_button.setEnabled(True)
        self.finished_search.emit()

    # ------------------------------------------------------------------ results
    def open_option(self, row: int) -> bool:
        """Open result ``row`` as a new option in the options workspace (an unsaved proposal);
        without a workspace it replaces the window's proposal (asking to save first)."""
        if self.result is None or not 0 <= row < len(self.result.options):
            return False
        from icbmap.plan.proposal import Proposal

        o = self.result.options[row]
        workspace = getattr(self.w, "options", None)
        if workspace is None and not self.w.proposals.maybe_save():
            return False
        req = self.result.request
        notes = (f"Suggested option {o.rank} ({self.result.problem.scope_label}, {req.blocks} -> {req.target} "
                 f"boards): objective {o.figures['objective']:,.2f}, bound {o.found.bound:,.2f}, "
                 f"{o.found.status}. Rules: {req.constraints.to_dict()}. Weights: {req.weights}.")
        proposal = Proposal.new(o.plan.copy(), title=f"Suggested option {o.rank}: {self.result.problem.scope_label}",
                                notes=notes)
        if workspace is not None:   # the options workspace: a new option beside the others
            workspace.add_option(proposal.plan, proposal.title, proposal, origin="suggested")
        else:
            self.w.proposals.set_proposal(proposal, clean=False)
        self.w.statusBar().showMessage(f"Opened suggested option {o.rank}", 5000)
        return True

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.running:
            self._cancel.set()
            self._thread.quit()
            self._thread.wait()
        super().closeEvent(event)


def show_suggest_dialog(window) -> SuggestDialog:
    if window.controller.plan is None:
        QMessageBox.information(window, "Suggest options", "Open a plan first.")
    dlg = SuggestDialog(window)
    dlg.show()
    return dlg
