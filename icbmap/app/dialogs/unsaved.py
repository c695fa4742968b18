"""Unsaved work is always asked about (issue 21).

* :func:`unsaved_options`: every option holding work that is in no file: edited since it
  was saved, or never saved at all (suggested, duplicated, imported, new and drawn on).  An
  untouched option equal to the baseline holds nothing to lose and is not listed.
* :class:`UnsavedDialog`: one question on quit listing them all, each with its kind and
  file, and a choice per option: *Keep for next start* (the autosave stays and is offered
  back when the app starts again), *Save* or *Discard*; and the buttons **Save all**,
  **Discard all**, **Quit** (as chosen per option) and **Cancel**.  Only what the user
  discards there loses its autosave.
* :func:`app_output_problem`: the app's Save As and Export refuse a file it reads (the data
  pack, another open option's proposal file), like the CLI's ``-o`` (:mod:`icbmap.guards`).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

CHOICES = (("keep", "Keep for next start"), ("save", "Save"), ("discard", "Discard"))


@dataclass
class Unsaved:
    index: int          # the option's place in the workspace
    name: str
    kind: str           # suggested, duplicated, imported, new, edited
    file: str | None    # its proposal file, if it has one


def option_kind(o) -> str:
    origin = getattr(o, "origin", "") or ""
    if o.path is not None:
        return "edited"
    if origin:
        return origin
    title = (o.proposal.title or "")
    return "suggested" if title.startswith("Suggested option") else "new"


def has_unsaved_work(o) -> bool:
    if o.baseline:
        return False
    if o.dirty:
        return True
    return o.path is None and not o.plan.is_baseline()


def unsaved_options(manager) -> list[Unsaved]:
    return [Unsaved(i, o.name, option_kind(o), str(o.path) if o.path else None)
            for i, o in enumerate(manager.options) if has_unsaved_work(o)]


class UnsavedDialog(QDialog):
    """The quit question; :attr:`decision` is ``"cancel"``, ``"save"``, ``"discard"`` or
    ``{index: "keep" | "save" | "discard"}``."""

    def __init__(self, parent, items: list[Unsaved]):
        super().__init__(parent)
        self.setObjectName("unsavedDialog")
        self.setWindowTitle("Unsaved work")
        self.items = items
        self.decision: str | dict = "cancel"
        lay = QVBoxLayout(self)
        n = len(items)
        lay.addWidget(QLabel(f"{n} option{'s have' if n != 1 else ' has'} unsaved work. "
                             "Choose for each, or use Save all / Discard all.\n"
                             "Kept options are offered back the next time icbmap starts."))
        self.table = QTableWidget(n, 4, self)
        self.table.setObjectName("unsavedTable")
        self.table.setHorizontalHeaderLabels(["Option", "What", "File", "On quit"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.combos: list[QComboBox] = []
        for row, it in enumerate(items):
            self.table.setItem(row, 0, QTableWidgetItem(it.name))
            self.table.setItem(row, 1, QTableWidgetItem(it.kind))
            cell = QTableWidgetItem(it.file or "never saved")
            cell.setToolTip(it.file or "This option has never been saved to a file")
            self.table.setItem(row, 2, cell)
            combo = QComboBox(self.table)
            for key, label in CHOICES:
                combo.addItem(label, key)
            combo.setAccessibleName(f"On quit, {it.name}")
            self.table.setCellWidget(row, 3, combo)
            self.combos.append(combo)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        for c in (1, 3):
            hh.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumWidth(640)
        self.table.setMaximumHeight(60 + 30 * min(n, 10))
        lay.addWidget(self.table)
        box = QDialogButtonBox(self)
        self.quit_button = QPushButton("&Quit as chosen")
        self.save_all = QPushButton("&Save all")
        self.discard_all = QPushButton("&Discard all")
        cancel = QPushButton("Cancel")
        box.addButton(self.quit_button, QDialogButtonBox.ButtonRole.AcceptRole)
        box.addButton(self.save_all, QDialogButtonBox.ButtonRole.ApplyRole)
        box.addButton(self.discard_all, QDialogButtonBox.ButtonRole.DestructiveRole)
        box.addButton(cancel, QDialogButtonBox.ButtonRole.RejectRole)
        self.quit_button.setDefault(True)
        self.quit_button.clicked.connect(lambda: self._done(self.choices()))
        self.save_all.clicked.connect(lambda: self._done("save"))
        self.discard_all.clicked.connect(lambda: self._done("discard"))
        cancel.clicked.connect(self.reject)
        lay.addWidget(box)

    def choices(self) -> dict[int, str]:
        return {it.index: combo.currentData() for it, combo in zip(self.items, self.combos)}

    def _done(self, decision) -> None:
        self.decision = decision
        self.accept()


def ask_quit(parent, items: list[Unsaved]):
    dlg = UnsavedDialog(parent, items)
    if dlg.exec() != QDialog.DialogCode.Accepted:
        return "cancel"
    return dlg.decision


def app_output_problem(window, path, own=None) -> str | None:
    """Why the app must not write ``path`` (a data pack, or another open option's proposal
    file; ``own`` is the file being saved over, which is allowed), or ``None``."""
    from icbmap.guards import output_name_problem, output_problem, protected_files

    inputs = list(protected_files())
    options = getattr(window, "options", None)
    for o in getattr(options, "options", []):
        if o.path is not None and (own is None or str(o.path) != str(own)):
            inputs.append(str(o.path))
    problem = output_name_problem(str(path)) or output_problem(path, inputs)
    if problem and own is not None:
        from icbmap.guards import _same

        if _same(path, own) and not output_name_problem(str(path)):
            return None
    return problem


__all__ = ["UnsavedDialog", "Unsaved", "app_output_problem", "ask_quit", "has_unsaved_work", "option_kind",
           "unsaved_options"]
