"""Boards ▸ Suggest options…: the exact optimiser (icbmap.suggest) in a dialog.

Scope, blocks, target, rules, objective weights and a time limit; the search runs in a
worker thread with live progress (best so far, bound, gap, elapsed); Cancel stops it and
keeps the best found so far; any result opens as an (unsaved) proposal in the window.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from icbmap.app.screenfit import scrolling
from icbmap.errors import IcbmapError
from icbmap.suggest.spec import (
    BLOCK_LEVELS,
    SHORT_LABELS,
    TERM_LABELS,
    TERMS,
    Constraints,
    Request,
    Target,
    Weights,
)


class _SuggestWorker(QObject):
    progressed = Signal(object)      # SolveProgress
    done = Signal(object, object)    # Result, exception

    def __init__(self, plan, request, cancel, ruleset=None):
        super().__init__()
        self.plan, self.request, self.cancel, self.ruleset = plan, request, cancel, ruleset

    @Slot()
    def run(self) -> None:
        from icbmap.suggest.solve import suggest

        try:
            result = suggest(self.plan, self.request, progress=self.progressed.emit, cancel=self.cancel)
            if self.ruleset is not None:   # the same verdicts as the Principles dock, one line per option
                from icbmap.suggest.rules import check_option

                hard_of = {r.id: getattr(r, "hard", True) for r in self.ruleset.rules}
                for o in result.options:
                    rules = check_option(o.plan, self.ruleset)
                    for r in rules:
                        r.setdefault("hard", hard_of.get(r["id"], True))
                    o.figures["principles"] = {"rule_set": self.ruleset.name, "rules": rules}
        except BaseException as exc:  # shown in the UI thread
            self.done.emit(None, exc)
            return
        self.done.emit(result, None)


def sentence(text: str) -> str:
    """``text`` as a sentence: a capital first letter (the model's messages start lower-case
    to read inside other text: "no option found within the time limit")."""
    text = str(text).strip()
    return text[:1].upper() + text[1:] if text else text


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
        # a range by default: the objective (fewest merges, ...) picks the count, so the first click
        # answers "the least change that meets the rules"
        self.target = QLineEdit(f"1-{max(1, len(plan.active_boards()) - 1)}")
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

        obj = QGroupBox("Objective: priority (1 first; terms with the same priority are added with their "
                        "weights, per 1,000 people or per item; 0 = off), then a fixed tie-break")
        ol = QGridLayout(obj)
        ol.setContentsMargins(6, 4, 6, 4)
        ol.setVerticalSpacing(2)
        self.priority: dict[str, QSpinBox] = {}
        self.weights: dict[str, QDoubleSpinBox] = {}
        default = Weights()
        for i, t in enumerate(TERMS):
            pr = QSpinBox()
            pr.setRange(0, len(TERMS))
            pr.setSpecialValueText("off")
            pr.setToolTip(TERM_LABELS[t])
            pr.setValue(next((j + 1 for j, lv in enumerate(default.levels) if t in lv), 0))
            sp = QDoubleSpinBox()
            sp.setRange(0, 100_000)
            sp.setDecimals(2)
            sp.setValue(default.levels[pr.value() - 1][t] if pr.value() else 1.0)
            sp.setToolTip(TERM_LABELS[t])
            self.priority[t], self.weights[t] = pr, sp
            label = QLabel(SHORT_LABELS[t] + ":")
            label.setToolTip(TERM_LABELS[t])
            row, col = divmod(i, 2)
            ol.addWidget(label, row, 3 * col)
            ol.addWidget(pr, row, 3 * col + 1)
            ol.addWidget(sp, row, 3 * col + 2)
        self.band_lo = QSpinBox()
        self.band_hi = QSpinBox()
        for sb, v in ((self.band_lo, default.band[0]), (self.band_hi, default.band[1])):
            sb.setRange(0, 60_000_000)
            sb.setSingleStep(100_000)
            sb.setGroupSeparatorShown(True)
            sb.setValue(v)
        band = QHBoxLayout()
        band.addWidget(QLabel("Size band (outside band): from"))
        band.addWidget(self.band_lo)
        band.addWidget(QLabel("to"))
        band.addWidget(self.band_hi)
        band.addStretch(1)
        ol.addLayout(band, (len(TERMS) + 1) // 2, 0, 1, 6)
        self._nest: tuple = ()
        self._soft: tuple = ()

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
        self.results = QTableWidget(0, 10)
        self.results.setHorizontalHeaderLabels(["Option", "Status", "Boards", "Smallest", "Largest",
                                                "Boundary change", "Merges", "Terms (by priority)", "Checks",
                                                "Gap"])
        self.results.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.verticalHeader().setVisible(False)
        self.results.setWordWrap(False)
        self.results.cellDoubleClicked.connect(lambda row, _c: self.open_option(row))
        buttons = QDialogButtonBox()
        self.open_button = buttons.addButton("&Open as option", QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(lambda: self.open_option(self.results.currentRow()))
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.clicked.connect(self.close)

        # issue 22: the settings scroll and a splitter shares the height with the results, so
        # the dialog fits a 1366x768 laptop at 125% (it was 1075 px tall) and the results,
        # Open as option and Close stay on the screen; widgets added to ``self.settings`` fit too
        self.settings = settings = QWidget()
        self.settings_layout = top = QVBoxLayout(settings)
        top.setContentsMargins(0, 0, 0, 0)
        top.addLayout(form)
        top.addWidget(rules)
        top.addWidget(obj)
        top.addStretch(1)
        lower = QWidget()
        low = QVBoxLayout(lower)
        low.setContentsMargins(0, 0, 0, 0)
        low.addLayout(run)
        low.addWidget(self.status)
        low.addWidget(self.results, 1)
        self.results.setMinimumHeight(90)
        self.splitter = split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(scrolling(settings, "suggest-settings"))
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        lay = QVBoxLayout(self)
        lay.addWidget(split, 1)
        lay.addWidget(buttons)
        # as wide as the settings need (so nothing scrolls sideways on a laptop), shrunk to the
        # screen when shown (app.screenfit)
        self.resize(max(760, settings.sizeHint().width() + 60), 860)
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
        self._nest, self._soft = cons.nest, cons.soft
        if cons.soft:
            notes = list(notes) + ["Soft rules (their failures are counted and minimised first): "
                                   + "; ".join(r.label or r.kind for r in cons.soft)]
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
                           tolerance=self._tolerance, nest=self._nest, soft=self._soft)
        levels: dict[int, dict[str, float]] = {}
        for t in TERMS:
            p = self.priority[t].value()
            if p:
                levels.setdefault(p, {})[t] = self.weights[t].value()
        weights = Weights([levels[p] for p in sorted(levels)], band=(self.band_lo.value(), self.band_hi.value()),
                          option="objective")
        req = Request(blocks=self.blocks.currentText(), target=Target.parse(self.target.text()),
                      scope=self.scope.currentText().strip() or "england", constraints=cons,
                      weights=weights, top=self.top.value(), time_limit=float(self.time_limit.value()))
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
        ruleset = getattr(getattr(self.w, "principles", None), "ruleset", None)
        self._worker = _SuggestWorker(plan, req, self._cancel, ruleset)
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
        n = len(result.options)
        lines = [f"{head}: {'no' if n == 0 else n} option{'' if n == 1 else 's'} in {result.elapsed:.1f} s."]
        if result.ties and result.options:
            n, complete = result.ties
            lines.append("Option 1 is the only optimum." if n <= 1 and complete else
                         f"{'' if complete else 'At least '}{n} options tie on every priority; the fixed "
                         "tie-break chose option 1 (the same on any machine); the others are listed next.")
        if result.message:
            lines.append(sentence(result.message))
        lines += [sentence(x) for x in result.explanation[1:]]
        lines += [sentence(x) for x in result.problem.notes]
        self.status.setText("\n".join(lines))
        for o in result.options:
            f = o.figures
            r = self.results.rowCount()
            self.results.insertRow(r)
            from icbmap.suggest.terms import display_value

            terms = "; ".join(f"{SHORT_LABELS[t]} {display_value(t, f['terms'][t]):,}"
                              for t in result.request.weights.active())
            from icbmap.suggest.figures import checks_text

            checks = checks_text({"figures": f, "violations": o.violations})
            cells = [str(o.rank), o.found.status, str(f["boards"]), f"{f['smallest']:,}", f"{f['largest']:,}",
                     f"{f['terms']['boundary_change']:,}", str(f["terms"]["merges"]), terms, checks,
                     f"{100 * o.found.gap:.2f}%"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c in (2, 3, 4, 5, 6, 9):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                else:
                    item.setToolTip(text)          # the words in full where the column cuts them
                self.results.setItem(r, c, item)
        self.results.resizeColumnsToContents()
        # the terms are long: their column takes at most a third of the table, so the checks
        # and the gap beside it stay in view (the whole text is in the tooltip)
        cap = max(200, self.results.viewport().width() // 3)
        if self.results.columnWidth(7) > cap:
            self.results.setColumnWidth(7, cap)
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

    def closeEvent(self, event) -> None:
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
