"""The options' files: saving an option to its proposal file, the questions
about unsaved options, the workspace file (``.icbmap-workspace.json``, listing the options'
proposal files in order), opening proposal files as options, and crash recovery of a whole
set of options.

:class:`WorkspaceFiles` is mixed into :class:`~icbmap.app.options.manager.OptionsManager`; what it
uses of the manager is said by :class:`~icbmap.app.options.host.FilesHost` (checked by a test).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from icbmap.app.dialogs.common import PROPOSAL_FILTER, suggested_path
from icbmap.errors import DataError, IcbmapError
from icbmap.plan import proposal as prop
from icbmap.plan.autosave import find_recoverable

WORKSPACE_FORMAT = "icbmap-workspace"
WORKSPACE_SUFFIX = ".icbmap-workspace.json"
WORKSPACE_FILTER = "icbmap workspaces (*.icbmap-workspace.json);;All files (*)"


class WorkspaceFiles:
    """Saving and opening the options' files; see the module doc.  Needs of ``self`` what
    :class:`~icbmap.app.options.host.FilesHost` declares, nothing more."""

    HOST = "icbmap.app.options.host.FilesHost"

    # ------------------------------------------------------------------ saving
    def save_option(self, index: int, path: str | Path | None = None) -> bool:
        o = self.options[index]
        if o.baseline:
            return True
        target = path or o.path
        if target is None:
            target, _ = QFileDialog.getSaveFileName(self.w, f"Save option {o.name}",
                                                    suggested_path(self.w, o.name, prop.SUFFIX), PROPOSAL_FILTER)
            if not target:
                return False
            if not target.endswith(prop.SUFFIX):
                target += prop.SUFFIX
        if not self.w.proposals.write(target, o.proposal, o.stack, o.autosaver, what="Option"):
            return False
        if index == self.current:
            self.w.proposal_path = str(target)
            self.w._update_title()
        self.optionsChanged.emit()
        return True

    def maybe_save_all(self) -> bool:
        """Before closing the window: one question listing every option with unsaved work
        (edited, or never saved: suggested, duplicated, imported, new), issue 21.  Each is
        saved, discarded or kept for the next start as the user says; a kept option's
        autosave stays (``self.kept``, used by :meth:`close`)."""
        from icbmap.app.dialogs.unsaved import unsaved_options

        items = unsaved_options(self)
        self.kept = set()
        if not items:
            return True
        r = self.ask_quit(items)
        if r == "cancel":
            return False
        if r == "discard":
            return True
        if r == "save":
            r = {it.index: "save" for it in items}
        options = list(self.options)
        for it in items:
            o = options[it.index]
            what = r.get(it.index, "keep")
            if what == "save" and not self.save_option(self.options.index(o)):
                return False               # the save was cancelled or failed: the window stays
            if what == "keep":
                self.kept.add(id(o))
        return True

    def ask_quit(self, items):
        """The quit question (:class:`~icbmap.app.dialogs.unsaved.UnsavedDialog`): ``"save"``,
        ``"discard"``, ``"cancel"`` or ``{index: "keep" | "save" | "discard"}``.  Tests
        replace it; a test that replaced the older ``ask_unsaved_all`` (or the proposal
        manager's ``ask_unsaved``) gets its answer for every option."""
        legacy = vars(self).get("ask_unsaved_all")
        if legacy is None and "ask_unsaved" in vars(self.w.proposals):
            legacy = lambda _names: self.w.proposals.ask_unsaved()  # noqa: E731
        if legacy is not None:
            return legacy([it.name for it in items])
        from icbmap.app.dialogs.unsaved import ask_quit

        return ask_quit(self.w, items)

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
        from icbmap.atomic import atomic_write_text

        try:
            atomic_write_text(path, json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False) + "\n")
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
            from icbmap.safeio import loads_json

            data = prop.read_bytes_limited(path, 4 * 1024 * 1024, "workspace file")
            doc = loads_json(data, path, "workspace file")   # deep nesting, NaN, huge numbers: a message
            from icbmap.guards import refuse_nonfinite

            refuse_nonfinite(doc, path, "workspace file")
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
            from icbmap.guards import text_problem

            bad = text_problem(f, f"option #{pos}'s file name", limit=4096) or (
                isinstance(e.get("name"), str) and text_problem(e["name"], f"option #{pos}'s name"))
            if bad:   # a NUL in a path is a ValueError from the OS layer; a bidi name misleads
                problems.append(f"{path}: {bad}")
                continue
            fp = (path.parent / f) if not Path(f).is_absolute() else Path(f)
            existing, proposal = self._existing_or_read(fp, problems, notes)
            if existing is not None and pos == want_current:
                current_opt = existing
            if proposal is None:
                continue
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

    def _existing_or_read(self, path: Path, problems: list, notes: list):
        """(the option already holding ``path``, None) — noted — or (None, the proposal read
        from it, mapped onto this pack if need be — noted) or (None, None) when it is refused
        (listed in ``problems``)."""
        existing = next((o for o in self.options if o.path is not None and path.exists() and _same(o.path, path)), None)
        if existing is not None:
            notes.append(f"{path}: already open as option {existing.name}")
            return existing, None
        try:
            proposal = prop.read_proposal(path, self.w.atlas, map_pack=True)
        except IcbmapError as exc:
            problems.append(str(exc))
            return None, None
        if proposal.mapping is not None:
            notes.append(f"{path}: mapped onto this data pack: " + proposal.mapping.summary())
        return None, proposal

    def _open_proposal_as_option(self, proposal, name: str):
        """A new option holding ``proposal`` (it takes the place of a pristine first option)."""
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
            _existing, proposal = self._existing_or_read(p, problems, notes)
            if proposal is None:
                continue
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
    def offer_recovery(self, choose=None, follow_baseline: bool = True) -> bool:
        """After a crash: offer back every option the dead session autosaved.

        ``choose(group) -> "recover" | "discard" | "later"`` (a message box by default).
        Discard removes only the autosaves offered; other crashed sessions stay recoverable.
        Work drawn on another baseline reopens the window on that baseline and is recovered
        there (once: ``follow_baseline``)."""
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
            for r in group:  # only what was offered
                r.discard()
            return False
        if decision != "recover":
            return False
        recovered = []
        for r in group:
            try:
                proposal = r.load(self.w.atlas, map_pack=True)
            except prop.BaselineMismatchError as exc:
                if not follow_baseline or recovered:
                    QMessageBox.warning(self.w, "Cannot recover", str(exc))
                    continue
                from icbmap.app.files.baselines import replace_window

                return replace_window(self.w, exc.baseline, then=lambda w: w.options.offer_recovery(
                    choose=lambda _group: "recover", follow_baseline=False)) is not None
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
                f"Recovered {len(recovered)} option{'' if len(recovered) == 1 else 's'}: " + ", ".join(o.name for o in recovered), 8000)
        return bool(recovered)

    def _ask_recover(self, group) -> str:
        from icbmap.app.dialogs.common import ask_recover

        return ask_recover(self.w, "Recover " + "; ".join(r.describe() for r in group) + "?")

def _same(a, b) -> bool:
    from icbmap.compare.loading import same_file

    return same_file(a, b)


def _rel(target: Path, base: Path) -> str:
    try:
        return str(Path(target).resolve().relative_to(base.resolve()))
    except ValueError:
        return str(Path(target).resolve())
