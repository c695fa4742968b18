"""The options workspace (issue 11): several proposals open at once on one data pack.

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
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QInputDialog, QListWidget, QListWidgetItem,
                               QMessageBox, QPushButton, QVBoxLayout, QWidget)

from icbmap.compare.core import Option
from icbmap.errors import DataError, IcbmapError
from icbmap.metrics.engine import Metrics
from icbmap.plan import proposal as prop
from icbmap.plan.autosave import Autosaver, find_recoverable
from icbmap.plan.model import Plan

WORKSPACE_FORMAT = "icbmap-workspace"
WORKSPACE_SUFFIX = ".icbmap-workspace.json"
WORKSPACE_FILTER = "icbmap workspaces (*.icbmap-workspace.json);;All files (*)"


class BoardShapeCache:
    """Dissolved board shapes the map has drawn, keyed by their exact set of units.

    Switching options re-dissolves only boards never seen before: a board of another option
    with the same units (most boards, for options that differ in one region) or one shown
    earlier is taken from here.  Bounded (least recently used first out), shared by all the
    options: a display cache, not a copy of the atlas per option.
    """

    def __init__(self, limit: int = 256):
        self.limit = limit
        self._d: OrderedDict[bytes, tuple] = OrderedDict()

    @staticmethod
    def key(units: np.ndarray) -> bytes:
        u = np.ascontiguousarray(units, dtype=np.int64)
        return hashlib.blake2b(u.tobytes(), digest_size=16).digest() + len(u).to_bytes(4, "little")

    def get(self, key: bytes):
        hit = self._d.get(key)
        if hit is not None:
            self._d.move_to_end(key)
        return hit

    def put(self, key: bytes, value: tuple) -> None:
        self._d[key] = value
        self._d.move_to_end(key)
        while len(self._d) > self.limit:
            self._d.popitem(last=False)

    def __len__(self) -> int:
        return len(self._d)


def _groups(assignment: np.ndarray):
    order = np.argsort(assignment, kind="stable")
    return order, assignment[order]


def _units_of(groups, bid: int) -> np.ndarray:
    order, keys = groups
    lo, hi = np.searchsorted(keys, bid, "left"), np.searchsorted(keys, bid, "right")
    return order[lo:hi]


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


class OptionsManager(QObject):
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
        c.edited.connect(self._current_edited)

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
                   switch: bool = True) -> AppOption:
        """A new option holding ``plan`` (its own metrics, undo stack and autosave)."""
        name = self._unique(name)
        proposal = proposal or prop.Proposal.new(plan, title=name)
        opt = AppOption(name, proposal, Metrics(plan), self.w.controller.new_stack(), self._new_autosaver())
        self.options.append(opt)
        self._tag(opt)
        self.optionsChanged.emit()
        if switch:
            self.switch_to(len(self.options) - 1)
        return opt

    def new_from_baseline(self) -> AppOption:
        return self.add_option(Plan(self.w.atlas), f"Option {len(self.options)}")

    def duplicate(self, index: int | None = None) -> AppOption:
        src = self.options[self.current if index is None else index]
        plan = Plan.from_dict(self.w.atlas, src.plan.to_dict())
        return self.add_option(plan, f"{src.name} copy" if not src.baseline else f"Option {len(self.options)}")

    def rename(self, index: int, name: str) -> None:
        o = self.options[index]
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
        out = self.current_option
        out.proposal = pm.proposal
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
        changed = self._shapes_from_cache(w.map, old_assign, plan, changed)
        w.map.set_boards(plan.assignment, c.board_colours(), c.board_names(), c.board_populations(),
                         changed=changed, locked=c.locked_boards())
        self._shapes_to_cache(w.map, plan, changed)
        w.refresh_panels(True)
        principles = getattr(w, "principles", None)      # the Principles dock follows the current option
        if principles is not None:
            principles.updated.emit({(r.id, -1) for r in principles.ruleset.rules})
        w._update_title()
        self.last_switch_ms = (time.perf_counter() - t0) * 1000
        self.currentChanged.emit(index)
        w.statusBar().showMessage(f"Current option: {new.name}" + (" (read-only)" if new.baseline else ""), 3000)

    def _shapes_from_cache(self, view, old_assign, plan, changed: set[int]) -> set[int]:
        """Keep the outgoing boards' shapes; put cached shapes of incoming boards on the map.
        Returns the boards still to dissolve."""
        if not changed:
            return changed
        old_groups, new_groups = _groups(old_assign), _groups(plan.assignment)
        for bid in changed:
            shape = view.shapes.board(bid)
            if shape is not None:
                units = _units_of(old_groups, bid)
                if len(units):
                    self.shapes.put(self.shapes.key(units), shape)
        active = {b.id for b in plan.boards if b.active}
        left = set()
        self._pending_keys = {}
        for bid in changed:
            units = _units_of(new_groups, bid)
            if bid not in active or not len(units):
                left.add(bid)          # set_boards drops it
                continue
            key = self.shapes.key(units)
            hit = self.shapes.get(key)
            if hit is None:
                left.add(bid)
                self._pending_keys[bid] = key
                continue
            view.shapes.put_board(bid, *hit)
        return left

    def warm(self, options=None) -> None:
        """Dissolve, once, the boards of ``options`` the map has not drawn yet (after
        opening files), so that the first switch to each is as quick as the next."""
        from icbmap.app import geomqt
        from icbmap.app.maplabels import label_point
        import shapely

        view = self.w.map
        for o in options if options is not None else self.options:
            plan = o.plan
            groups = _groups(plan.assignment)
            for b in plan.boards:
                if not b.active:
                    continue
                units = _units_of(groups, b.id)
                if not len(units):
                    continue
                key = self.shapes.key(units)
                if self.shapes.get(key) is not None:
                    continue
                geom = view.shapes.baseline_shape(b.id, units)
                if geom is None:
                    geom = shapely.coverage_union_all(view.shapes.geoms[units])
                self.shapes.put(key, (geom, geomqt.path_from_geometry(geom), label_point(geom)))

    def _shapes_to_cache(self, view, plan, dissolved: set[int]) -> None:
        for bid, key in getattr(self, "_pending_keys", {}).items():
            shape = view.shapes.board(bid) if bid in dissolved else None
            if shape is not None:
                self.shapes.put(key, shape)
        self._pending_keys = {}

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
        self.current_option.proposal = self.w.proposals.proposal
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
        self._tag(o)
        self.optionsChanged.emit()
        self.currentChanged.emit(self.current)

    def _current_edited(self) -> None:
        o = self.current_option
        o.proposal = self.w.proposals.proposal

    def _clean_changed(self, _clean: bool) -> None:
        """Saved, or edited since: the list shows which options have unsaved changes."""
        self.panel.refresh()

    # ------------------------------------------------------------------ saving
    def save_option(self, index: int, path: str | Path | None = None) -> bool:
        o = self.options[index]
        if o.baseline:
            return True
        target = path or o.path
        if target is None:
            target, _ = QFileDialog.getSaveFileName(self.w, f"Save option {o.name}", o.name + prop.SUFFIX,
                                                    "icbmap proposals (*.icbmap.json)")
            if not target:
                return False
        try:
            prop.write_proposal(target, o.proposal)
        except (IcbmapError, OSError) as exc:
            QMessageBox.warning(self.w, "Option not saved", f"{target}: {exc}")
            return False
        o.stack.setClean()
        if index == self.current:
            self.w.proposal_path = str(target)
            self.w._update_title()
        self.optionsChanged.emit()
        return True

    def maybe_save_all(self) -> bool:
        """Before closing the window: one question about every option with unsaved changes
        (the usual one when only the current option has some)."""
        dirty = [i for i, o in enumerate(self.options) if o.dirty]
        if not dirty:
            return True
        if dirty == [self.current]:
            r = self.w.proposals.ask_unsaved()
        else:
            r = self.ask_unsaved_all([self.options[i].name for i in dirty])
        if r == "cancel":
            return False
        if r == "save":
            return all(self.save_option(i) for i in dirty)
        return True

    def maybe_save_others(self) -> bool:
        """Before the window is replaced (another baseline): ask about the options other
        than the current one (the caller asked about that one)."""
        dirty = [i for i, o in enumerate(self.options) if o.dirty and i != self.current]
        if not dirty:
            return True
        r = self.ask_unsaved_all([self.options[i].name for i in dirty])
        if r == "cancel":
            return False
        if r == "save":
            return all(self.save_option(i) for i in dirty)
        return True

    def ask_unsaved_all(self, names: list[str]) -> str:
        """``"save"``, ``"discard"`` or ``"cancel"`` for several options (tests replace it)."""
        B = QMessageBox.StandardButton
        r = QMessageBox.question(self.w, "Unsaved changes",
                                 "Save the changes to these options?\n\n" + "\n".join(names),
                                 B.SaveAll | B.Discard | B.Cancel)
        return {B.SaveAll: "save", B.Discard: "discard"}.get(r, "cancel")

    def close(self) -> None:
        for o in self.options:
            try:
                o.autosaver.close()
            except Exception:
                pass

    def save_workspace(self, path: str | Path) -> bool:
        """Save every option to its own proposal file, then the workspace listing them."""
        path = Path(path)
        if not path.name.endswith(WORKSPACE_SUFFIX):
            path = path.with_name(path.name + WORKSPACE_SUFFIX)
        stem = path.name[: -len(WORKSPACE_SUFFIX)]
        entries = []
        for i, o in enumerate(self.options):
            if o.baseline:
                entries.append({"name": o.name, "baseline": True})
                continue
            if o.path is None:
                slug = re.sub(r"[^A-Za-z0-9]+", "-", o.name).strip("-").lower() or f"option-{i}"
                target = path.parent / f"{stem}-{slug}{prop.SUFFIX}"
            else:
                target = o.path
            if (o.dirty or o.path is None or not target.exists()) and not self.save_option(i, target):
                return False
            entries.append({"name": o.name, "file": _rel(target, path.parent)})
        doc = {"format": WORKSPACE_FORMAT, "version": 1,
               "pack": {"name": self.w.atlas.name, "content_hash": self.w.atlas.content_hash},
               "current": self.current, "options": entries}
        from icbmap.atlas.store import atomic_write_text

        try:
            atomic_write_text(path, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
        except OSError as exc:
            QMessageBox.warning(self.w, "Workspace not saved", f"{path}: {exc.strerror or exc}")
            return False
        self.workspace_path = path
        self.w.statusBar().showMessage(f"Saved workspace {path} ({len(entries)} options)", 6000)
        return True

    def open_workspace(self, path: str | Path, report=None) -> list[str]:
        """Open the options a workspace lists (each as an option; the baseline is always
        there).  Returns the problems (files refused); the good options open."""
        path = Path(path)
        try:
            data = prop.read_bytes_limited(path, 4 * 1024 * 1024, "workspace file")
            doc = json.loads(data.decode("utf-8-sig"))
        except DataError as exc:
            problems = [str(exc)]
        except (ValueError, UnicodeDecodeError) as exc:
            problems = [f"{path}: not a workspace file ({exc})"]
        else:
            problems = []
            if not isinstance(doc, dict) or doc.get("format") != WORKSPACE_FORMAT or \
                    not isinstance(doc.get("options"), list):
                problems = [f"{path}: not an icbmap workspace (no \"format\": \"{WORKSPACE_FORMAT}\" and options list)"]
        if problems:
            (report or self._report)(problems, [])
            return problems
        notes = []
        opened = 0
        want_current = doc.get("current") if isinstance(doc.get("current"), int) else None
        current_opt = None
        for pos, e in enumerate(doc["options"]):
            if not isinstance(e, dict) or e.get("baseline"):
                if pos == want_current:
                    current_opt = self.options[0]
                continue
            f = e.get("file")
            if not isinstance(f, str):
                problems.append(f"{path}: option #{pos} names no file")
                continue
            fp = (path.parent / f) if not Path(f).is_absolute() else Path(f)
            existing = next((o for o in self.options if o.path is not None and fp.exists() and _same(o.path, fp)), None)
            if existing is not None:
                notes.append(f"{fp}: already open as option {existing.name}")
                if pos == want_current:
                    current_opt = existing
                continue
            try:
                proposal = prop.read_proposal(fp, self.w.atlas, map_pack=True)
            except IcbmapError as exc:
                problems.append(str(exc))
                continue
            if proposal.mapping is not None:
                notes.append(f"{fp}: mapped onto this data pack: " + proposal.mapping.summary())
            name = e.get("name") if isinstance(e.get("name"), str) and e.get("name") else proposal.display_name
            opt = self._open_proposal_as_option(proposal, name)
            opened += 1
            if pos == want_current:
                current_opt = opt
        self.warm()
        if current_opt is not None:
            self.switch_to(self.options.index(current_opt))
        self.workspace_path = path
        (report or self._report)(problems, notes)
        return problems

    def _open_proposal_as_option(self, proposal, name: str) -> AppOption:
        if self._pristine(self.current_option):
            self.close_option(self.current, ask=False)
        opt = self.add_option(proposal.plan, name, proposal=proposal, switch=False)
        proposal.title = proposal.title or opt.name
        return opt

    def open_files(self, paths, report=None) -> list[str]:
        """Open proposal files as options: duplicates once, refused files listed, the rest open."""
        from icbmap.compare.loading import same_file

        problems, notes = [], []
        seen: list[Path] = []
        last = None
        for p in paths:
            p = Path(p)
            if any(same_file(s, p) for s in seen):
                notes.append(f"{p}: given twice; opened once")
                continue
            seen.append(p)
            existing = next((o for o in self.options if o.path is not None and p.exists() and _same(o.path, p)), None)
            if existing is not None:
                notes.append(f"{p}: already open as option {existing.name}")
                continue
            try:
                proposal = prop.read_proposal(p, self.w.atlas, map_pack=True)
            except IcbmapError as exc:
                problems.append(str(exc))
                continue
            if proposal.mapping is not None:
                notes.append(f"{p}: mapped onto this data pack: " + proposal.mapping.summary())
            last = self._open_proposal_as_option(proposal, proposal.display_name)
        self.warm()
        if last is not None:
            self.switch_to(self.options.index(last))
        (report or self._report)(problems, notes)
        return problems

    def _report(self, problems: list[str], notes: list[str]) -> None:
        if problems:
            box = QMessageBox(QMessageBox.Icon.Warning, "Some options were not opened",
                              f"{len(problems)} file(s) could not be opened; the others are open.", parent=self.w)
            box.setDetailedText("\n\n".join(problems + notes))
            box.open()
        elif notes:
            self.w.statusBar().showMessage("; ".join(notes)[:300], 10000)

    # ------------------------------------------------------------------ recovery
    def offer_recovery(self, choose=None) -> bool:
        """After a crash: offer back every option the dead session autosaved."""
        pm = self.w.proposals
        ours = {o.autosaver.session for o in self.options}
        found = [r for r in find_recoverable(pm.autosaver.directory) if r.session not in ours]
        if not found:
            return False
        first = found[0]
        group = [r for r in found if first.workspace and r.workspace == first.workspace] or [first]
        group.sort(key=lambda r: r.option)
        decision = (choose or self._ask_recover)(group)
        if decision == "discard":
            for r in found:
                r.discard()
            return False
        if decision != "recover":
            return False
        recovered = []
        for r in group:
            try:
                proposal = r.load(self.w.atlas, map_pack=True)
            except IcbmapError as exc:
                QMessageBox.warning(self.w, "Cannot recover", str(exc))
                continue
            opt = self._open_proposal_as_option(proposal, proposal.display_name)
            opt.stack.resetClean()
            opt.autosaver.save_now(proposal)
            recovered.append(opt)
            r.discard()
        if recovered:
            self.switch_to(self.options.index(recovered[-1]))
            self.w.statusBar().showMessage(
                f"Recovered {len(recovered)} option(s): " + ", ".join(o.name for o in recovered), 8000)
        return bool(recovered)

    def _ask_recover(self, group) -> str:
        from icbmap.app.proposals import ask_recover

        return ask_recover(self.w, "Recover " + "; ".join(r.describe() for r in group) + "?")

    # ------------------------------------------------------------------ UI
    def _build_ui(self) -> None:
        from icbmap.app.compare_view import ComparisonPanel, DifferencePanel

        w = self.w
        self.panel = OptionsPanel(self)
        self.dock = w._dock("Options", self.panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        w.tabifyDockWidget(w.boards_dock, self.dock)
        w.boards_dock.raise_()
        self.comparison = ComparisonPanel(self)
        self.comparison_dock = w._dock("Comparison", self.comparison, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.differences = DifferencePanel(self)
        self.differences_dock = w._dock("Differences", self.differences, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._tabified = False       # tabified when first shown (tabifying hidden docks leaves a stray tab bar)
        self.comparison_dock.hide()
        self.differences_dock.hide()
        self.comparison_dock.visibilityChanged.connect(
            lambda v: v and w.resizeDocks([self.comparison_dock], [300], Qt.Orientation.Vertical))

        def act(text, slot, shortcut=None, tip=None):
            a = QAction(text, w)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
            if tip:
                a.setStatusTip(tip)
            a.triggered.connect(slot)
            return a

        self.act_new = act("New option from &baseline", self.new_from_baseline, "Ctrl+Alt+N",
                           "A new option starting from the baseline boards")
        self.act_dup = act("&Duplicate current option", lambda: self.duplicate(), "Ctrl+Alt+D",
                           "A new option starting from the current one")
        self.act_rename = act("&Rename option\u2026", self.rename_dialog, None)
        self.act_up = act("Move option &up", lambda: self.move(self.current, -1), None)
        self.act_down = act("Move option d&own", lambda: self.move(self.current, 1), None)
        self.act_close = act("&Close option", lambda: self.close_option(self.current), None)
        self.act_open = act("&Open proposals as options\u2026", self.open_dialog, None,
                            "Open one or more proposal files side by side")
        self.act_save_ws = act("&Save workspace\u2026", self.save_workspace_dialog, None,
                               "Save every option and the list of options")
        self.act_open_ws = act("Open &workspace\u2026", self.open_workspace_dialog, None)
        self.act_compare = act("Show &comparison", self.show_comparison, "Ctrl+Alt+C",
                               "The comparison table and the difference map")
        self.act_print = act("Print &comparison\u2026", self.print_comparison_dialog, None,
                             "One page: a small map of each option, the table and the differences (PDF)")
        menu = w.menuBar().addMenu("&Options")
        w.menuBar().insertMenu(w.data_menu.menuAction(), menu)
        for a in (self.act_new, self.act_dup, self.act_rename, self.act_up, self.act_down, self.act_close):
            menu.addAction(a)
        menu.addSeparator()
        for a in (self.act_open, self.act_open_ws, self.act_save_ws):
            menu.addAction(a)
        menu.addSeparator()
        menu.addAction(self.act_compare)
        menu.addAction(self.act_print)
        self.switch_actions = []
        for k in range(1, 10):
            a = QAction(w)
            a.setShortcut(QKeySequence(f"Alt+{k}"))
            a.triggered.connect(lambda _c=False, i=k - 1: self.switch_to(i) if i < len(self.options) else None)
            w.addAction(a)
            self.switch_actions.append(a)
        self.options_menu = menu
        # File ▸ Print comparison, next to the other print entries
        fm = w.file_menu
        before = getattr(w.proposals, "act_quit", None)
        if before is not None:
            fm.insertAction(before, self.act_print)
        else:
            fm.addAction(self.act_print)
        w.view_menu.addAction(self.dock.toggleViewAction())
        w.view_menu.addAction(self.comparison_dock.toggleViewAction())
        w.view_menu.addAction(self.differences_dock.toggleViewAction())
        self.optionsChanged.connect(self.panel.refresh)
        w.controller.group.cleanChanged.connect(self._clean_changed)
        self.currentChanged.connect(lambda _i: self.panel.refresh())
        self.panel.refresh()

    def show_comparison(self) -> None:
        self.comparison_dock.show()
        self.differences_dock.show()
        if not self._tabified:
            self.w.tabifyDockWidget(self.comparison_dock, self.differences_dock)
            self._tabified = True
        self.comparison_dock.raise_()
        self.comparison.refresh()

    def rename_dialog(self) -> None:
        o = self.current_option
        if o.baseline:
            QMessageBox.information(self.w, "Rename option", "The baseline cannot be renamed.")
            return
        name, ok = QInputDialog.getText(self.w, "Rename option", "Name of the option:", text=o.name)
        if ok:
            self.rename(self.current, name)

    def open_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self.w, "Open proposals as options", "",
                                                "icbmap proposals (*.icbmap.json);;All files (*)")
        if paths:
            self.open_files(paths)

    def save_workspace_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.w, "Save workspace", str(self.workspace_path or "options")
                                              + ("" if self.workspace_path else WORKSPACE_SUFFIX), WORKSPACE_FILTER)
        if path:
            self.save_workspace(path)

    def open_workspace_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.w, "Open workspace", "", WORKSPACE_FILTER)
        if path:
            self.open_workspace(path)

    def print_comparison_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.w, "Print comparison", "comparison.pdf", "PDF (*.pdf)")
        if path:
            self.print_comparison(path)

    def print_comparison(self, path, focus=None):
        """Write the comparison briefing of the open options (in a worker, with progress)."""
        from icbmap.app.proposals import snapshot
        from icbmap.app.workers import run_with_progress
        from icbmap.errors import Cancelled
        from icbmap.export.compare_brief import render_comparison

        opts = [Option(o.name, snapshot(o.plan), None, o.path, baseline=o.baseline) for o in self.options]
        focus = focus or self.comparison.focus()
        try:
            return run_with_progress(self.w, "Rendering the comparison",
                                     lambda progress: render_comparison(opts, path, focus=focus, progress=progress))
        except Cancelled:
            return None
        except (IcbmapError, OSError) as exc:
            QMessageBox.warning(self.w, "Comparison not written", f"{path}: {exc}")
            return None


def _same(a, b) -> bool:
    from icbmap.compare.loading import same_file

    return same_file(a, b)


def _rel(target: Path, base: Path) -> str:
    try:
        return str(Path(target).resolve().relative_to(base.resolve()))
    except ValueError:
        return str(Path(target).resolve())


class OptionsPanel(QWidget):
    """The list of options: click to make one current; buttons for the common actions."""

    def __init__(self, manager: OptionsManager):
        super().__init__()
        self.m = manager
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.list = QListWidget()
        self.list.setToolTip("Click an option to make it current (Alt+1 \u2026 Alt+9). "
                             "The baseline is read-only.")
        self.list.currentRowChanged.connect(self._row_changed)
        self.list.itemDoubleClicked.connect(lambda _i: self.m.rename_dialog())
        lay.addWidget(self.list)
        row1, row2 = QHBoxLayout(), QHBoxLayout()
        for text, slot, tip, row in [
            ("New", self.m.new_from_baseline, "New option from the baseline", row1),
            ("Duplicate", lambda: self.m.duplicate(), "Duplicate the current option", row1),
            ("Rename", self.m.rename_dialog, "Rename the current option", row1),
            ("\u2191", lambda: self.m.move(self.m.current, -1), "Move the current option up", row2),
            ("\u2193", lambda: self.m.move(self.m.current, 1), "Move the current option down", row2),
            ("Close", lambda: self.m.close_option(self.m.current), "Close the current option", row2),
            ("Compare", self.m.show_comparison, "Show the comparison table and differences", row2),
        ]:
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            row.addWidget(b)
        lay.addLayout(row1)
        lay.addLayout(row2)
        self._filling = False

    def refresh(self) -> None:
        self._filling = True
        self.list.clear()
        for i, o in enumerate(self.m.options):
            text = o.name
            if o.baseline:
                text += "  (baseline, read-only)"
            elif o.dirty:
                text += "  *"
            if o.path is not None:
                text += f"  \u2014 {o.path.name}"
            item = QListWidgetItem(f"{i + 1}. {text}")
            if i == self.m.current:
                f = QFont(item.font())
                f.setBold(True)
                item.setFont(f)
            item.setToolTip(str(o.path) if o.path else "not saved yet")
            self.list.addItem(item)
        self.list.setCurrentRow(self.m.current)
        self._filling = False

    def _row_changed(self, row: int) -> None:
        if not self._filling and row >= 0:
            self.m.switch_to(row)
