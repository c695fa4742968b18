"""Small dialogs and helpers for them: choosing a board (with a sensible default), long
read-only text, the crash-recovery question, and where file dialogs start (beside the
proposal, else Documents)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QMessageBox,
                               QPlainTextEdit, QVBoxLayout)


# ---------------------------------------------------------------------------- file dialogs
#: the file dialogs' filter for proposals
PROPOSAL_FILTER = "icbmap proposals (*.icbmap.json);;All files (*)"


def documents_dir() -> str:
    """The user's Documents folder (home if there is none)."""
    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if docs and os.path.isdir(docs):
        return docs
    return str(Path.home())


def start_dir(window) -> str:
    """Where open, save and export dialogs start: beside the current proposal, else in
    the user's Documents folder; never the working directory."""
    path = getattr(window, "proposal_path", None)
    if path:
        folder = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(folder):
            return folder
    return documents_dir()


def safe_file_name(title: str) -> str:
    """A proposal title as a file name (no path separators or characters Windows refuses)."""
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", title).strip(" .") or "proposal"
    return name[:120]


def suggested_path(window, title: str, suffix: str) -> str:
    return os.path.join(start_dir(window), safe_file_name(title) + suffix)


# ---------------------------------------------------------------------------- boards
def neighbour_boards(atlas, assignment: np.ndarray, units) -> list[int]:
    """Boards bordering ``units``, longest shared border first, excluding the boards the
    units are in (the sensible targets for moving them)."""
    units = np.unique(np.asarray(units, dtype=np.int64))
    if len(units) == 0:
        return []
    adj = atlas.adjacency
    starts, ends = adj.indptr[units], adj.indptr[units + 1]
    counts = ends - starts
    if counts.sum() == 0:
        return []
    idx = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends)])
    nbr = adj.indices[idx].astype(np.int64)
    shared = adj.shared[idx] + np.where(adj.bridge[idx], 1.0, 0.0)  # a bridge counts a little
    outside = ~np.isin(nbr, units)
    boards = assignment[nbr[outside]]
    weight = shared[outside]
    own = set(assignment[units].tolist())
    keep = (boards >= 0) & ~np.isin(boards, list(own))
    if not keep.any():
        return []
    totals: dict[int, float] = {}
    for b, w in zip(boards[keep].tolist(), weight[keep].tolist()):
        totals[b] = totals.get(b, 0.0) + w
    return sorted(totals, key=lambda b: -totals[b])


class BoardChoiceDialog(QDialog):
    """Pick a board from a list: short names A to Z, full names as tooltips, a default."""

    def __init__(self, parent, title: str, text: str, boards, default: int | None = None):
        """``boards``: ``(id, short name, full name, colour, locked)`` tuples."""
        super().__init__(parent)
        from icbmap.app.icons import swatch

        self.setWindowTitle(title)
        lay = QVBoxLayout(self)
        label = QLabel(text)
        label.setWordWrap(True)
        lay.addWidget(label)
        self.list = QListWidget()
        self.list.setAccessibleName("Boards")
        self.list.setAccessibleDescription(text)
        label.setBuddy(self.list)
        for bid, short, full, colour, locked in sorted(boards, key=lambda b: b[1].lower()):
            item = QListWidgetItem(swatch(colour, locked=locked), short + (" (locked)" if locked else ""))
            item.setData(Qt.ItemDataRole.UserRole, bid)
            item.setToolTip(full)
            self.list.addItem(item)
        row = next((k for k in range(self.list.count())
                    if self.list.item(k).data(Qt.ItemDataRole.UserRole) == default), 0)
        self.list.setCurrentRow(row)
        self.list.itemActivated.connect(lambda _i: self.accept())
        lay.addWidget(self.list)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.list.setFocus()
        self.resize(max(self.sizeHint().width(), 420), 460)
        from icbmap.app.a11y import name_widgets

        name_widgets(self)

    def chosen(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def choose(self) -> int | None:
        return self.chosen() if self.exec() == QDialog.DialogCode.Accepted else None


class TextDialog(QDialog):
    """A heading and a long read-only text (monospaced), sized to be read."""

    def __init__(self, parent, title: str, heading: str, text: str):
        super().__init__(parent)
        self.setWindowTitle(title)
        lay = QVBoxLayout(self)
        head = QLabel(heading)
        head.setWordWrap(True)
        lay.addWidget(head)
        self.text = QPlainTextEdit(text)
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setAccessibleName(title)
        lay.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        fm = self.text.fontMetrics()
        width = min(max(fm.horizontalAdvance("x" * 100), 600), 1100)
        screen = parent.screen().availableGeometry() if parent is not None and parent.screen() else None
        w = min(width + 60, int(screen.width() * 0.9)) if screen else width + 60
        h = min(fm.height() * 34, int(screen.height() * 0.8)) if screen else fm.height() * 34
        self.resize(w, h)
        from icbmap.app.a11y import name_widgets

        name_widgets(self)


def ask_recover(parent, question: str) -> str:
    """After a crash: "recover", "discard" or "later" (a message box)."""
    box = QMessageBox(parent)
    box.setWindowTitle("Recover unsaved work")
    box.setText("icbmap did not close properly last time.")
    box.setInformativeText(question)
    recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    if box.clickedButton() is recover:
        return "recover"
    if box.clickedButton() is discard:
        return "discard"
    return "later"


def fit_title_and_text(dlg, title: str, *texts: str) -> int:
    """Make ``dlg`` wide enough that its window title (the window manager draws it in a
    larger, bold face beside its buttons) and ``texts`` show whole, within 90% of the
    screen; returns the width (issue 22: "Download…fficial data", a cut rename box)."""
    from PySide6.QtWidgets import QApplication

    fm = dlg.fontMetrics()
    want = max([320, int(fm.horizontalAdvance(title) * 1.3) + 150]
               + [fm.horizontalAdvance(t) + 90 for t in texts if t])
    screen = dlg.screen() or QApplication.primaryScreen()
    want = min(want, int(0.9 * screen.availableGeometry().width()))
    dlg.setMinimumWidth(want)
    from PySide6.QtWidgets import QLineEdit

    edit = dlg.findChild(QLineEdit)   # an input dialog's layout sizes to its line edit
    if edit is not None:
        edit.setMinimumWidth(want - 40)
    return want


def ask_text(parent, title: str, label: str, text: str = "") -> tuple[str, bool]:
    """Like ``QInputDialog.getText``, in a box wide enough for its title and for ``text``."""
    from PySide6.QtWidgets import QInputDialog

    dlg = QInputDialog(parent)
    dlg.setInputMode(QInputDialog.InputMode.TextInput)
    dlg.setWindowTitle(title)
    dlg.setLabelText(label)
    dlg.setTextValue(text)
    fit_title_and_text(dlg, title, text, label)
    ok = dlg.exec() == QDialog.DialogCode.Accepted
    value = dlg.textValue()
    dlg.deleteLater()
    return value, ok
