"""The controller: model commands on a ``QUndoStack``, one Qt signal per change.

The life of a drag: the map emits ``moveRequested(units, board)`` -> the controller builds
``MoveUnits`` -> runs it once to validate (a locked board refuses before anything changes)
-> pushes it wrapped in a ``QUndoCommand`` -> the plan tells its observers (metrics first,
then this controller) -> ``changed`` is emitted -> each view refreshes what changed.  Undo
runs the same path backwards.  The CLI and tests use the same commands through
``icbmap.plan.commands.History`` instead of the ``QUndoStack``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoGroup, QUndoStack

from icbmap.errors import IcbmapError
from icbmap.names import short_board_name
from icbmap.metrics.engine import Metrics
from icbmap.plan import commands as cmds
from icbmap.plan.model import Plan


class PlanUndoCommand(QUndoCommand):
    def __init__(self, controller: "Controller", command, already_done: bool = True):
        super().__init__(controller.ui_text(command.text))
        self.controller = controller
        self.plan = controller.plan   # each option has its own plan and stack
        self.command = command
        self._skip_first_redo = already_done

    def redo(self) -> None:
        if self._skip_first_redo:
            self._skip_first_redo = False
            return
        self.command.do(self.plan)

    def undo(self) -> None:
        self.command.undo(self.plan)


class Controller(QObject):
    changed = Signal(object)     # the plan's Change
    planReplaced = Signal()      # a new or opened plan
    message = Signal(str)        # a refusal or note for the status bar / a message box
    readOnlyRefused = Signal()   # an edit refused because the current option is the baseline
    edited = Signal()            # after every pushed edit, undo or redo (autosave hooks on it)

    def __init__(self, atlas, plan: Plan | None = None, parent=None):
        super().__init__(parent)
        self.atlas = atlas
        # one undo stack per option, the current one active in the group
        self.group = QUndoGroup(self)
        self.group.indexChanged.connect(self._index_changed)
        self.stack = self.new_stack()
        self.group.setActiveStack(self.stack)
        self.read_only = False          # the baseline option refuses edits
        self._macro_open = False
        self._macro_count = 0
        self.carry_practices = True  # moving an area carries the GP practices standing in it
        self.plan: Plan
        self.metrics: Metrics
        self.set_plan(plan or Plan(atlas))

    def _index_changed(self, _index: int) -> None:
        self.edited.emit()

    def new_stack(self) -> QUndoStack:
        stack = QUndoStack(self)
        stack.setUndoLimit(0)
        self.group.addStack(stack)
        return stack

    def activate(self, plan: Plan, metrics: Metrics, stack: QUndoStack, read_only: bool = False,
                 notify: bool = True) -> None:
        """Make another option current: its plan, live metrics and undo stack (no recompute)."""
        if getattr(self, "plan", None) is not None:
            self.plan.remove_observer(self._on_change)
        self.plan, self.metrics, self.stack = plan, metrics, stack
        self.read_only = read_only
        plan.add_observer(self._on_change)      # after the option's metrics, which observe it
        if stack not in self.group.stacks():
            self.group.addStack(stack)
        self.group.setActiveStack(stack)
        if notify:
            self.planReplaced.emit()

    # ------------------------------------------------------------------ plan
    def set_plan(self, plan: Plan) -> None:
        old = getattr(self, "plan", None)
        # the options workspace may have built this plan's metrics already (a new option slot)
        reuse = getattr(self, "metrics", None) is not None and self.metrics.plan is plan
        if old is not None:
            old.remove_observer(self._on_change)
            if not reuse:
                self.metrics.detach()
        self.plan = plan
        if reuse:
            self.metrics.observe()        # observes the plan first
        else:
            self.metrics = Metrics(plan)  # observes the plan first
        plan.add_observer(self._on_change)
        self.stack.clear()
        self.planReplaced.emit()

    def _on_change(self, change) -> None:
        self.changed.emit(change)

    # ------------------------------------------------------------------ edits
    def execute(self, command) -> bool:
        """Run ``command`` and put it on the undo stack; False (with a message) if refused."""
        if not self._do(command):
            return False
        self.stack.push(PlanUndoCommand(self, command))
        return True

    def _do(self, command) -> bool:
        """Run ``command`` on the plan; False (with a message, nothing changed) if refused."""
        if self.read_only:
            self.message.emit("The baseline is read-only: make a new option from it "
                              "(Options \u25b8 New option from baseline) to edit")
            self.readOnlyRefused.emit()
            return False
        try:
            command.do(self.plan)
        except IcbmapError as exc:
            self.message.emit(str(exc))
            return False
        return True

    def move_units(self, units, board: int, carry_practices: bool = True) -> bool:
        units = np.asarray(units, dtype=np.int64)
        if len(units) == 0:
            return False
        if np.all(self.plan.assignment[units] == board) and not self._macro_open:
            self.message.emit("The selection is already in that board")
            return False
        cmd = cmds.MoveUnits(units, board, carry_practices=self.carry_practices and carry_practices)
        if not self.execute(cmd):
            return False
        self.message.emit(self.ui_text(cmd.text))  # says how many people, practices and patients moved
        return True

    def move_practices(self, practices, board: int) -> bool:
        practices = np.asarray(practices, dtype=np.int64)
        if len(practices) == 0:
            return False
        return self.execute(cmds.MovePractices(practices, board))

    def begin_paint(self, board: int) -> None:
        self._macro_open = False
        self._macro_count = 0
        self._paint_board = board

    def paint(self, units, board: int) -> None:
        units = np.asarray(units, dtype=np.int64)
        units = units[self.plan.assignment[units] != board]
        if len(units) == 0:
            return
        command = cmds.MoveUnits(units, board)
        if not self._do(command):
            return           # refused (the baseline, a locked board): no empty undo step either
        if not self._macro_open:
            name = short_board_name(self.plan.boards[board].name)
            self.stack.beginMacro(f"Paint into {name}")
            self._macro_open = True
        self.stack.push(PlanUndoCommand(self, command))
        self._macro_count += 1

    def end_paint(self) -> None:
        if self._macro_open:
            self.stack.endMacro()
            self._macro_open = False

    def merge(self, keep: int, absorb: list[int]) -> bool:
        absorb = [b for b in absorb if b != keep]
        if not absorb:
            self.message.emit("Choose at least two boards to merge")
            return False
        if len(absorb) == 1:
            return self.execute(cmds.MergeBoards(keep, absorb[0]))
        # several boards: one undo step
        names = ", ".join(short_board_name(self.plan.boards[b].name) for b in absorb)
        self.stack.beginMacro(f"Merge {names} into {short_board_name(self.plan.boards[keep].name)}")
        ok = True
        try:
            for b in absorb:
                ok = self.execute(cmds.MergeBoards(keep, b)) and ok
        finally:
            self.stack.endMacro()
        return ok

    def create_board(self, name: str, colour: str | None = None) -> int | None:
        cmd = cmds.CreateBoard(name, colour)
        if self.execute(cmd):
            return cmd.board_id
        return None

    def create_board_from(self, name: str, units) -> int | None:
        """A new board holding ``units``, coloured apart from its neighbours; one undo step."""
        from icbmap.plan.colours import colour_for_units

        units = np.asarray(units, dtype=np.int64)
        self.stack.beginMacro(f"New board {name} from {len(units):,} LSOAs")
        try:
            bid = self.create_board(name, colour_for_units(self.plan, units))
            if bid is not None and len(units):
                self.execute(cmds.MoveUnits(units, bid, carry_practices=self.carry_practices))
        finally:
            self.stack.endMacro()
        return bid

    def rename(self, board: int, name: str) -> bool:
        return self.execute(cmds.RenameBoard(board, name))

    def recolour(self, board: int, colour: str) -> bool:
        try:
            cmd = cmds.RecolourBoard(board, colour)  # checks the colour when made
        except IcbmapError as exc:
            self.message.emit(str(exc))
            return False
        return self.execute(cmd)

    def lock(self, board: int, locked: bool) -> bool:
        return self.execute(cmds.LockBoard(board, locked))

    def delete(self, board: int, to_board: int) -> bool:
        return self.execute(cmds.DeleteBoard(board, to_board))

    # ------------------------------------------------------------------ views' helpers
    def ui_text(self, text: str) -> str:
        """``text`` with every board's full name replaced by its short name (the UI uses one
        short name everywhere; exports keep the full names)."""
        for b in sorted(self.plan.boards, key=lambda b: -len(b.name)):
            if b.name in text:
                text = text.replace(b.name, short_board_name(b.name))
        return text

    def active_boards(self):
        return [b for b in self.plan.boards if b.active]

    def board_colours(self) -> dict[int, str]:
        return {b.id: b.colour for b in self.active_boards()}

    def board_names(self) -> dict[int, str]:
        return {b.id: b.name for b in self.active_boards()}

    def board_populations(self) -> dict[int, int]:
        pop = self.metrics.values_view().board_pop
        return {b.id: int(pop[b.id]) for b in self.active_boards()}

    def locked_boards(self) -> set[int]:
        return {b.id for b in self.active_boards() if b.locked}
