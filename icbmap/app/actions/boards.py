"""What the Edit and Boards menu items do: pick boards, ask the user, call the controller.

Each function takes the main window and reads what it needs from it (``atlas``, ``map``,
``boards`` — the Boards panel —, ``controller``, ``paint_combo``, ``set_tool``); the edits
themselves go through the controller, so they are undoable like a drag on the map.

* :func:`chosen_board` and :func:`board_choice` — the board an item works on: the one chosen
  in the Boards panel or under the selection, or one picked from a list;
* :func:`move_selection`, :func:`merge`, :func:`new_board`, :func:`rename`, :func:`recolour`,
  :func:`toggle_lock`, :func:`delete` — the board edits;
* :func:`choose_paint_board` and :func:`suggest` — the paint brush's board, and the
  Suggest options dialog.
"""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QInputDialog, QMainWindow, QMessageBox

from icbmap.app.dialogs.common import ask_text
from icbmap.app.describe import and_join, describe_selection
from icbmap.names import short_board_name


def chosen_board(window: QMainWindow) -> int | None:
    """The first board chosen in the Boards panel, else the board of the first selected area."""
    sel = window.boards.selected_boards()
    if sel:
        return sel[0]
    if len(window.map.selected_units):
        return int(window.controller.plan.assignment[window.map.selected_units[0]])
    return None


def board_choice(window: QMainWindow, title: str, label: str, exclude: set[int] | None = None,
                 default: int | None = None) -> int | None:
    """A board picked from a list of short names (A to Z), ``default`` preselected."""
    from icbmap.app.dialogs.common import BoardChoiceDialog

    boards = [b for b in window.controller.active_boards() if not exclude or b.id not in exclude]
    if not boards:
        return None
    dlg = BoardChoiceDialog(window, title, label, [(b.id, short_board_name(b.name), b.name, b.colour, b.locked)
                                                   for b in boards], default)
    return dlg.choose()


def _chosen_or_picked(window: QMainWindow, title: str, label: str = "Board:") -> int | None:
    """The board chosen in the Boards panel if any, else one picked from a list."""
    if window.boards.selected_boards():
        return chosen_board(window)
    return board_choice(window, title, label)


def move_target_default(window: QMainWindow, units) -> int | None:
    """The sensible target for moving ``units``: the neighbouring board sharing the
    longest border with them (not one they are already in)."""
    from icbmap.app.dialogs.common import neighbour_boards

    ranked = neighbour_boards(window.atlas, window.controller.plan.assignment, units)
    return ranked[0] if ranked else None


def read_only_box(window: QMainWindow, title: str) -> QMessageBox:
    """The box that says the baseline is read-only and offers to make an option from it."""
    box = QMessageBox(QMessageBox.Icon.Information, title,
                      "The baseline is read-only: it stays as published, so that every option is "
                      "compared with it.", parent=window)
    box.setInformativeText("To change boards, make an option from it (Options \u25b8 New option from "
                           "baseline) and edit that.")
    options = getattr(window, "options", None)
    if options is not None:
        make = box.addButton("Make an option from it", QMessageBox.ButtonRole.AcceptRole)
        make.clicked.connect(options.new_from_baseline)
    box.addButton(QMessageBox.StandardButton.Cancel)
    window._read_only_box = box
    return box


def refuse_read_only(window: QMainWindow, title: str) -> bool:
    """True (after saying so in a message box, before any other question) when the current
    option is the read-only baseline; the box offers to make an option from it (the Move
    dialog used to open first, then the status bar alone refused)."""
    if not getattr(window.controller, "read_only", False):
        return False
    read_only_box(window, title).exec()
    return True


def move_selection(window: QMainWindow) -> None:
    """Edit ▸ Move selection to board: the selected areas and practices to a board."""
    m = window.map
    if refuse_read_only(window, "Move selection"):
        return
    if not len(m.selected_units) and not len(m.selected_practices):
        window.statusBar().showMessage("Select areas or practices first (click, or arrow keys and Space on the map)", 6000)
        return
    units = m.selected_units
    plan = window.controller.plan
    if len(units):
        pop = int(window.atlas.population[units].sum())
        src = sorted(set(plan.assignment[units].tolist()))
        src_names = and_join([short_board_name(plan.boards[b].name) for b in src if b >= 0] or ["no board"])
        what = f"Move {describe_selection(window.atlas, plan, m.level, units)}, {pop:,} people, from {src_names} to:"
        default = move_target_default(window, units)
    else:
        n = len(m.selected_practices)
        what = f"Move {n} GP practice{'s' if n != 1 else ''} to:"
        src = sorted(set(plan.practice_assignment[m.selected_practices].tolist()))
        default = None
    exclude = set(src) if len(src) == 1 else None
    b = board_choice(window, "Move selection", what, exclude=exclude, default=default)
    if b is None:
        return
    if len(m.selected_units):
        window.controller.move_units(m.selected_units, b)
    if len(m.selected_practices):
        window.controller.move_practices(m.selected_practices, b)


def merge(window: QMainWindow) -> None:
    """Boards ▸ Merge boards: the boards chosen in the panel, or those under the selection."""
    if refuse_read_only(window, "Merge boards"):
        return
    controller = window.controller
    chosen = window.boards.selected_boards()
    if len(chosen) < 2 and len(window.map.selected_units):
        chosen = sorted(set(controller.plan.assignment[window.map.selected_units].tolist()))
    if len(chosen) < 2:
        QMessageBox.information(window, "Merge boards",
                                "Select two or more boards in the Boards list (Ctrl-click), "
                                "or select areas spanning them on the map, then merge.")
        return
    plan = controller.plan
    names = [short_board_name(plan.boards[b].name) for b in chosen]
    # the board with most people keeps its name and colour unless the user says otherwise
    pops = controller.board_populations()
    first = max(range(len(chosen)), key=lambda k: pops.get(chosen[k], 0))
    keep_name, ok = QInputDialog.getItem(
        window, "Merge boards", f"Merge {and_join(names)} into one board.\n\nKeep the name and colour of:",
        names, first, False)
    if not ok:
        return
    keep = chosen[names.index(keep_name)]
    if controller.merge(keep, [b for b in chosen if b != keep]):
        # the selection stays on the merged board (rows follow their boards, see RecordsTable)
        window.boards.clearSelection()
        row = window.boards.row_of(keep)
        if row >= 0:
            window.boards.selectRow(row)


def new_board(window: QMainWindow) -> None:
    """Boards ▸ New board: empty, or made from the selected areas."""
    if refuse_read_only(window, "New board"):
        return
    name, ok = ask_text(window, "New board", "Name of the new board:")
    if not ok or not name.strip():
        return
    units = window.map.selected_units
    if len(units) and QMessageBox.question(
            window, "New board", f"Make the new board from the {len(units):,} selected LSOAs?") \
            == QMessageBox.StandardButton.Yes:
        window.controller.create_board_from(name.strip(), units)
    else:
        window.controller.create_board(name.strip())


def rename(window: QMainWindow) -> None:
    if refuse_read_only(window, "Rename board"):
        return
    b = _chosen_or_picked(window, "Rename board")
    if b is None:
        return
    old = window.controller.plan.boards[b].name
    name, ok = ask_text(window, "Rename board", "New name:", old)
    if ok and name.strip() and name.strip() != old:
        window.controller.rename(b, name.strip())


def recolour(window: QMainWindow) -> None:
    if refuse_read_only(window, "Recolour board"):
        return
    b = _chosen_or_picked(window, "Recolour board")
    if b is None:
        return
    colour = QColorDialog.getColor(QColor(window.controller.plan.boards[b].colour), window, "Board colour")
    if colour.isValid():
        window.controller.recolour(b, colour.name())


def toggle_lock(window: QMainWindow) -> None:
    if refuse_read_only(window, "Lock board"):
        return
    b = _chosen_or_picked(window, "Lock board")
    if b is None:
        return
    board = window.controller.plan.boards[b]
    window.controller.lock(b, not board.locked)


def delete(window: QMainWindow) -> None:
    """Boards ▸ Delete board: its areas go to a board the user picks."""
    if refuse_read_only(window, "Delete board"):
        return
    b = _chosen_or_picked(window, "Delete board", "Board to delete:")
    if b is None:
        return
    to = board_choice(window, "Delete board", f"Move the areas of {window.controller.plan.boards[b].name} to:",
                      exclude={b})
    if to is None:
        return
    window.controller.delete(b, to)


def choose_paint_board(window: QMainWindow) -> None:
    """Edit ▸ Paint with board: pick the brush's board and take the paint tool."""
    b = board_choice(window, "Paint", "Paint with board:")
    if b is not None:
        idx = window.paint_combo.findData(b)
        if idx >= 0:
            window.paint_combo.setCurrentIndex(idx)
        window.set_tool("paint")


def suggest(window: QMainWindow):
    """Boards ▸ Suggest options: the optimiser's dialog (kept as ``window._suggest``)."""
    from icbmap.app.dialogs.suggest import show_suggest_dialog

    window._suggest = show_suggest_dialog(window)
    return window._suggest
