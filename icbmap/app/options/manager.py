"""The options workspace: several proposals open at once on one data pack.

* The baseline is always option 0 and read-only (the controller refuses edits on it).
* Each option is a :class:`~icbmap.plan.model.Plan` over the shared atlas with its own live
  :class:`~icbmap.metrics.engine.Metrics`, ``QUndoStack`` (in the controller's
  ``QUndoGroup``), :class:`~icbmap.plan.proposal.Proposal` and
  :class:`~icbmap.plan.autosave.Autosaver`; no geometry is copied per option.
* Switching the current option swaps those in (no recompute) and re-dissolves on the map
  only the boards whose units differ between the two options.
* File ▸ Open / New / Import replace the current option, as before (after asking about
  unsaved work), or add an option when the baseline is current; Options ▸ New option and
  Open proposals as options add options.  A file already open as another option is
  switched to, not opened twice.
* A workspace file (``.icbmap-workspace.json``) lists the options' proposal files in order;
  saving it saves every option to its own proposal file.
* Autosave covers every option: each autosaver's marker carries this session's workspace id
  and the option's place, and recovery offers the whole set back.

This module holds the options and the current one; the dock, menu and dialogs are in
:mod:`~icbmap.app.options.docks`, the files (saving, workspace, opening, recovery) in
:mod:`~icbmap.app.options.files`, the dissolved-shape cache in :mod:`~icbmap.app.options.shapes`.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

from icbmap.app.options.docks import OptionsDocks
from icbmap.app.options.files import WorkspaceFiles, _same
from icbmap.app.options.shapes import BoardShapeCache
from icbmap.compare.core import Option
from icbmap.metrics.engine import Metrics
from icbmap.plan import proposal as prop
from icbmap.plan.autosave import Autosaver
from icbmap.plan.model import Plan


class _NoAutosave:
    """The baseline option is never autosaved (it cannot change)."""

    pending_edits = 0

    def __init__(self, directory, session):
        self.directory, self.session = directory, session

    def edited(self, proposal, n: int = 1) -> bool:
        return False

    def save_now(self, proposal, source_path=None) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class AppOption:
    name: str
    proposal: prop.Proposal
    metrics: Metrics
    stack: object
    autosaver: object
    baseline: bool = False
    origin: str = ""    # suggested, duplicated, imported, new (issue 21: named in the quit question)

    @property
    def plan(self) -> Plan:
        return self.proposal.plan

    @property
    def path(self) -> Path | None:
        return Path(self.proposal.path) if self.proposal.path else None

    def core(self) -> Option:
        """The Qt-free option the comparison reads (shares the plan and live metrics)."""
        return Option(self.name, self.plan, self.metrics, self.path, baseline=self.baseline)

    @property
    def dirty(self) -> bool:
        return not self.baseline and not self.stack.isClean()


class OptionsManager(OptionsDocks, WorkspaceFiles, QObject):
    """Owns the options of a main window; see the module doc."""

    optionsChanged = Signal()          # added, removed, renamed, reordered
    currentChanged = Signal(int)

    def __init__(self, window):
        super().__init__(window)
        self.w = window
        c = window.controller
        pm = window.proposals
        self.workspace_id = uuid.uuid4().hex[:12]
        self.workspace_path: Path | None = None
        self.last_switch_ms = 0.0
        self.shapes = BoardShapeCache()
        base_plan = Plan(window.atlas)
        base = AppOption("Baseline", prop.Proposal.new(base_plan, title="Baseline"),
                         Metrics(base_plan), c.new_stack(),
                         _NoAutosave(pm.autosaver.directory, pm.autosaver.session), baseline=True)
        first = AppOption(pm.proposal.display_name, pm.proposal, c.metrics, c.stack, pm.autosaver)
        self.options: list[AppOption] = [base, first]
        self.current = 1
        self._tag(first)
        self._build_ui()

    # ------------------------------------------------------------------ model
    @property
    def current_option(self) -> AppOption:
        return self.options[self.current]

    def index_of(self, option: AppOption) -> int:
        return self.options.index(option)

    def _tag(self, option: AppOption) -> None:
        if hasattr(option.autosaver, "marker_extra"):
            option.autosaver.marker_extra = {"workspace": self.workspace_id,
                                             "option": self.index_of(option), "option_name": option.name}

    def _retag(self) -> None:
        for o in self.options:
            self._tag(o)

    def _new_autosaver(self) -> Autosaver:
        pm = self.w.proposals
        return Autosaver(every=pm.autosaver.every if hasattr(pm.autosaver, "every") else 5,
                         directory=pm.autosaver.directory, background=True).start()

    def _unique(self, name: str, exclude: AppOption | None = None) -> str:
        taken = {o.name for o in self.options if o is not exclude}
        base, k = name, 2
        while name in taken:
            name = f"{base} ({k})"
            k += 1
        return name

    def add_option(self, plan: Plan, name: str, proposal: prop.Proposal | None = None,
                   switch: bool = True, origin: str = "") -> AppOption:
        """A new option holding ``plan`` (its own metrics, undo stack and autosave)."""
        name = self._unique(name)
        if not origin and proposal is not None and proposal.path is None \
                and (proposal.title or "").startswith("Suggested option"):
            origin = "suggested"
        proposal = proposal or prop.Proposal.new(plan, title=name)
        opt = AppOption(name, proposal, Metrics(plan), self.w.controller.new_stack(), self._new_autosaver(),
                        origin=origin or ("opened" if proposal.path is not None else "new"))
        self.options.append(opt)
        self._tag(opt)
        self._autosave_unsaved(opt)
        self.optionsChanged.emit()
        if switch:
            self.switch_to(len(self.options) - 1)
        return opt

    def _autosave_unsaved(self, opt: AppOption) -> None:
        """Work that is in no file (a suggested or duplicated option) is autosaved at once, so
        that a crash or a quit keeps it until the user discards it."""
        from icbmap.app.dialogs.unsaved import has_unsaved_work

        try:
            if has_unsaved_work(opt):
                opt.autosaver.save_now(opt.proposal)
        except Exception:  # noqa: BLE001 - autosave must never break opening an option
            pass

    def new_from_baseline(self) -> AppOption:
        return self.add_option(Plan(self.w.atlas), f"Option {len(self.options) + 1}", origin="new")

    def duplicate(self, index: int | None = None) -> AppOption:
        src = self.options[self.current if index is None else index]
        plan = Plan.from_dict(self.w.atlas, src.plan.to_dict())
        return self.add_option(plan, f"{src.name} copy" if not src.baseline else f"Option {len(self.options) + 1}",
                               origin="duplicated" if not src.baseline else "new")

    def rename(self, index: int, name: str) -> None:
        o = self.options[index]
        from icbmap.guards import clean_text

        name, note = clean_text(name)      # no control or bidi characters, at most 200 characters
        if note:
            self.w.statusBar().showMessage(f"Option name: {note}", 8000)
        if o.baseline or not name.strip():
            return
        o.name = self._unique(name.strip(), exclude=o)
        o.proposal.title = o.name
        self._tag(o)
        self.optionsChanged.emit()
        self.w._update_title()

    def move(self, index: int, delta: int) -> None:
        """Reorder: the baseline stays first."""
        j = index + delta
        if index <= 0 or j <= 0 or j >= len(self.options):
            return
        cur = self.current_option
        self.options[index], self.options[j] = self.options[j], self.options[index]
        self.current = self.options.index(cur)
        self._retag()
        self.optionsChanged.emit()

    def close_option(self, index: int, ask: bool = True) -> bool:
        o = self.options[index]
        if o.baseline:
            return False
        if ask and o.dirty:
            r = self.w.proposals.ask_unsaved() if index == self.current else self._ask_unsaved(o)
            if r == "cancel":
                return False
            if r == "save" and not self.save_option(index):
                return False
        if index == self.current:
            self.switch_to(index - 1)
        keep = self.current_option
        self.options.pop(index)
        self.current = self.options.index(keep)
        o.metrics.detach()
        try:
            o.autosaver.close()
        except Exception:
            pass
        o.stack.deleteLater()
        self._retag()
        self.optionsChanged.emit()
        return True

    def _ask_unsaved(self, o: AppOption) -> str:
        B = QMessageBox.StandardButton
        r = QMessageBox.question(self.w, "Unsaved changes", f"Save the changes to {o.name}?",
                                 B.Save | B.Discard | B.Cancel)
        return {B.Save: "save", B.Discard: "discard"}.get(r, "cancel")

    # ------------------------------------------------------------------ switching
    def switch_to(self, index: int) -> None:
        """Make option ``index`` current in one step (no metrics recompute)."""
        if index == self.current or not 0 <= index < len(self.options):
            return
        t0 = time.perf_counter()
        w, c, pm = self.w, self.w.controller, self.w.proposals
        if getattr(pm.autosaver, "pending_edits", 0):
            try:
                pm.autosaver.save_now(pm.proposal)
            except Exception:
                pass
        old_assign = c.plan.assignment
        new = self.options[index]
        c.blockSignals(True)
        try:
            c.activate(new.plan, new.metrics, new.stack, read_only=new.baseline, notify=False)
        finally:
            c.blockSignals(False)
        self.current = index
        pm.proposal = new.proposal
        pm.autosaver = new.autosaver
        w.proposal_path = str(new.path) if new.path else None
        diff = old_assign != new.plan.assignment
        changed = set(np.unique(old_assign[diff]).tolist()) | set(np.unique(new.plan.assignment[diff]).tolist())
        changed.discard(-1)
        plan = new.plan
        w.map.practice_board = plan.practice_assignment
        if len(w.map.practices.xy):
            w.map.practices.board = plan.practice_assignment
        changed = self.shapes.shapes_from_cache(w.map, old_assign, plan, changed)
        w.map.set_boards(plan.assignment, c.board_colours(), c.board_names(), c.board_populations(),
                         changed=changed, locked=c.locked_boards())
        self.shapes.shapes_to_cache(w.map, plan, changed)
        w.refresh_panels(True)
        principles = getattr(w, "principles", None)      # the Principles dock follows the current option
        if principles is not None:
            principles.updated.emit({(r.id, -1) for r in principles.ruleset.rules})
        w._update_title()
        self.last_switch_ms = (time.perf_counter() - t0) * 1000
        self.currentChanged.emit(index)
        w.statusBar().showMessage(f"Current option: {new.name}" + (" (read-only)" if new.baseline else ""), 3000)

    def warm(self, options=None) -> None:
        """Dissolve, once, the boards of ``options`` the map has not drawn yet (after
        opening files), so that the first switch to each is as quick as the next."""
        self.shapes.warm(self.w.map, [o.plan for o in (options if options is not None else self.options)])

    # ------------------------------------------------------------------ File menu hooks
    def _pristine(self, o: AppOption) -> bool:
        return (not o.baseline and o.path is None and o.stack.count() == 0 and o.plan.is_baseline()
                and len(self.options) == 2)

    def before_set_proposal(self, proposal) -> bool:
        """Called by ProposalManager.set_proposal (File ▸ New, Open, Import; the user was
        asked about unsaved work first): ``proposal`` replaces the current option, or
        becomes a new option when the current one is the baseline.  A file already open as
        another option is switched to instead (False = do not replace)."""
        if proposal.path is not None:
            for i, o in enumerate(self.options):
                if o.path is not None and prop.Path(o.path).exists() and _same(o.path, proposal.path):
                    if i == self.current:
                        return True          # opened again: read back from the file, in place
                    self.switch_to(i)
                    self.w.statusBar().showMessage(f"{proposal.path} is already open as option {o.name}", 6000)
                    return False
        if not self.current_option.baseline:
            return True
        # a fresh slot; ProposalManager then puts the plan in it
        c = self.w.controller
        opt = AppOption(self._unique(proposal.display_name), proposal, Metrics(proposal.plan, observe=False),
                        c.new_stack(), self._new_autosaver())
        self.options.append(opt)
        self.current = len(self.options) - 1
        c.blockSignals(True)
        try:
            c.activate(opt.plan, opt.metrics, opt.stack, notify=False)
        finally:
            c.blockSignals(False)
        self.w.proposals.autosaver = opt.autosaver
        return True

    def after_set_proposal(self, proposal) -> None:
        o = self.current_option
        c = self.w.controller
        o.proposal, o.metrics, o.stack = proposal, c.metrics, c.stack
        o.name = self._unique(proposal.display_name, exclude=o)
        o.origin = "opened" if proposal.path is not None else (o.origin if o.origin != "opened" else "new")
        self._tag(o)
        self._autosave_unsaved(o)
        self.optionsChanged.emit()
        self.currentChanged.emit(self.current)

    def close(self) -> None:
        """Clean exit: each option's autosave is removed, except those the user chose to keep
        in the quit question (``kept``: offered back at the next start)."""
        kept = getattr(self, "kept", set())
        for o in self.options:
            try:
                if id(o) in kept and hasattr(o.autosaver, "keep"):
                    o.autosaver.keep(o.proposal)
                else:
                    o.autosaver.close()
            except Exception:
                pass
