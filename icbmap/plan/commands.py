"""Edits to a plan as commands with ``do`` and ``undo`` (Qt-free).

The CLI, the tests and the GUI use the same commands: the GUI wraps each in a
``QUndoCommand``; everything else uses :class:`History`.  Every command checks what it
needs (boards exist and are active, locks) in ``do`` *before* changing anything and raises
:class:`LockedBoardError` or :class:`~icbmap.plan.model.PlanError`; a command that raised
changed nothing.  ``undo`` restores exactly the state before ``do`` (it assumes, as an undo
stack guarantees, that later commands were undone first).  ``text`` is a one-line
description for the history view.

Locks: a locked board is read-only.  Any command that would change a locked board's units,
practices, name, colour or existence raises :class:`LockedBoardError`; only
``LockBoard(board, False)`` changes a locked board.  Undo and redo of commands that already
ran are not checked again.
"""

from __future__ import annotations

import numpy as np

from icbmap.errors import IcbmapError
from icbmap.plan.model import MAX_BOARDS, UNASSIGNED, Board, Plan, PlanError, colour_problem, name_problem


class LockedBoardError(IcbmapError):
    """The command would change a locked board; nothing was changed."""

    def __init__(self, board: Board, action: str = "change"):
        self.board_id = board.id
        super().__init__(f"board {board.name} ({board.code}) is locked: cannot {action} it. Unlock it first.")


def _check_unlocked(plan: Plan, board_ids, action: str) -> None:
    for b in sorted({int(x) for x in board_ids}):
        if b != UNASSIGNED and plan.boards[b].locked:
            raise LockedBoardError(plan.boards[b], action)


def _fmt_people(n: int) -> str:
    return f"{n:,}"


class Command:
    text: str = ""

    def do(self, plan: Plan) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def undo(self, plan: Plan) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.text}>"


class MoveUnits(Command):
    """Move ``units`` (unit indices) to ``to_board`` (-1 = unassigned).

    With ``carry_practices`` the GP practices located in the moved units go with them.
    Units already on ``to_board`` stay (a no-op that still undoes cleanly).  After ``do``:
    ``moved`` (units that changed board), ``people_moved`` (their residents),
    ``practices_moved`` and ``patients_moved``.
    """

    def __init__(self, units, to_board: int, carry_practices: bool = True, label: str | None = None):
        units = np.asarray(units, dtype=np.int64).ravel()
        self.units = units.copy() if len(units) <= 1 else np.unique(units)
        self.to_board = int(to_board)
        self.carry_practices = carry_practices
        self.label = label
        self._units = np.zeros(0, np.int64)
        self._old = np.zeros(0, np.int32)
        self._prac = np.zeros(0, np.int64)
        self._prac_old = np.zeros(0, np.int32)
        self.moved = 0
        self.people_moved = 0
        self.practices_moved = 0
        self.patients_moved = 0
        self.text = self._describe(None)

    def _describe(self, plan: Plan | None) -> str:
        what = self.label or (f"{len(self.units)} LSOA" + ("s" if len(self.units) != 1 else ""))
        if plan is None:
            dest = "unassigned" if self.to_board == UNASSIGNED else f"board {self.to_board}"
        else:
            dest = "unassigned" if self.to_board == UNASSIGNED else plan.boards[self.to_board].name
        text = f"Move {what} to {dest}"
        if plan is not None:
            text += f" ({_fmt_people(self.people_moved)} people"
            if self.practices_moved:
                text += f"; {self.practices_moved} GP practice{'s' if self.practices_moved != 1 else ''}, {_fmt_people(self.patients_moved)} patients"
            text += ")"
        return text

    def do(self, plan: Plan) -> None:
        plan.check_board(self.to_board, allow_unassigned=True)
        if len(self.units) and not (0 <= int(self.units[0]) and int(self.units[-1]) < plan.n_units):
            raise PlanError("unit index out of range")            # (units are sorted)
        old = plan.assignment[self.units]
        moving = old != self.to_board
        units, old = self.units[moving], old[moving]
        prac = np.zeros(0, np.int64)
        if self.carry_practices and plan.n_practices:
            prac = plan.practices_in_units(units)
            prac = prac[plan.practice_assignment[prac] != self.to_board]
        prac_old = plan.practice_assignment[prac]
        if len(units) or len(prac):
            _check_unlocked(plan, np.concatenate([old, prac_old, [self.to_board]]), "move areas into or out of")
        self._units, self._old = units, old
        self._prac, self._prac_old = prac, prac_old
        self.moved = len(units)
        self.people_moved = int(plan.atlas.population[units].sum())
        self.practices_moved = len(prac)
        self.patients_moved = int(plan.practice_patients[prac].sum()) if len(prac) else 0
        plan.move(units, prac, self.to_board)
        self.text = self._describe(plan)

    def undo(self, plan: Plan) -> None:
        plan.reassign(self._units, self._old, self._prac, self._prac_old)


class MovePractices(Command):
    """Move GP practices (practice indices) to ``to_board`` without moving any unit."""

    def __init__(self, practices, to_board: int):
        self.practices = np.unique(np.asarray(practices, dtype=np.int64).ravel())
        self.to_board = int(to_board)
        self._prac = np.zeros(0, np.int64)
        self._old = np.zeros(0, np.int32)
        self.patients_moved = 0
        self.text = f"Move {len(self.practices)} GP practice{'s' if len(self.practices) != 1 else ''}"

    def do(self, plan: Plan) -> None:
        plan.check_board(self.to_board, allow_unassigned=True)
        if len(self.practices) and (self.practices.min() < 0 or self.practices.max() >= plan.n_practices):
            raise PlanError("practice index out of range")
        old = plan.practice_assignment[self.practices]
        moving = old != self.to_board
        prac, old = self.practices[moving], old[moving]
        if len(prac):
            _check_unlocked(plan, np.concatenate([old, [self.to_board]]), "move GP practices into or out of")
        self._prac, self._old = prac, old
        self.patients_moved = int(plan.practice_patients[prac].sum()) if len(prac) else 0
        plan.assign_practices(prac, self.to_board)
        dest = "unassigned" if self.to_board == UNASSIGNED else plan.boards[self.to_board].name
        self.text = (f"Move {len(self.practices)} GP practice{'s' if len(self.practices) != 1 else ''} "
                     f"to {dest} ({_fmt_people(self.patients_moved)} patients)")

    def undo(self, plan: Plan) -> None:
        plan.assign_practices(self._prac, self._old)


class MergeBoards(Command):
    """Move every unit and practice of ``absorb`` into ``keep``; ``absorb`` becomes inactive.

    The kept board keeps its code, name and colour.
    """

    def __init__(self, keep: int, absorb: int):
        self.keep, self.absorb = int(keep), int(absorb)
        self._units = np.zeros(0, np.int64)
        self._prac = np.zeros(0, np.int64)
        self.text = f"Merge board {self.absorb} into board {self.keep}"

    def do(self, plan: Plan) -> None:
        if self.keep == self.absorb:
            raise PlanError("cannot merge a board into itself")
        plan.check_board(self.keep)
        plan.check_board(self.absorb)
        _check_unlocked(plan, [self.keep, self.absorb], "merge")
        self._units = plan.board_units(self.absorb)
        self._prac = np.flatnonzero(plan.practice_assignment == self.absorb)
        plan.move(self._units, self._prac, self.keep)
        plan.set_active(self.absorb, False)
        self.text = f"Merge {plan.boards[self.absorb].name} into {plan.boards[self.keep].name}"

    def undo(self, plan: Plan) -> None:
        plan.set_active(self.absorb, True)
        plan.move(self._units, self._prac, self.absorb)


class DeleteBoard(MergeBoards):
    """Delete ``board``; its units and practices go to ``to_board`` (-1 = leave them unassigned)."""

    def __init__(self, board: int, to_board: int):
        super().__init__(to_board, board)
        self.text = f"Delete board {board}"

    def do(self, plan: Plan) -> None:
        if self.keep == self.absorb:
            raise PlanError("a deleted board's units must go to another board")
        plan.check_board(self.absorb)
        plan.check_board(self.keep, allow_unassigned=True)
        _check_unlocked(plan, [self.keep, self.absorb], "delete or move areas into")
        self._units = plan.board_units(self.absorb)
        self._prac = np.flatnonzero(plan.practice_assignment == self.absorb)
        plan.move(self._units, self._prac, self.keep)
        plan.set_active(self.absorb, False)
        dest = "unassigned" if self.keep == UNASSIGNED else plan.boards[self.keep].name
        self.text = f"Delete {plan.boards[self.absorb].name} (its areas to {dest})"


class CreateBoard(Command):
    """Create an empty board; ``board_id`` is set by ``do`` (the next free id)."""

    def __init__(self, name: str, colour: str | None = None, code: str | None = None):
        self.name = str(name).strip()
        self.colour = colour
        self.code = code
        self.board_id: int | None = None
        self.text = f"Create board {self.name}"

    def do(self, plan: Plan) -> None:
        if not self.name:
            raise PlanError("a board needs a name")
        problem = name_problem(self.name, "board name") or (
            self.colour is not None and colour_problem(self.colour))
        if problem:
            raise PlanError(problem)
        if plan.n_boards >= MAX_BOARDS:
            raise PlanError(f"a plan may hold at most {MAX_BOARDS:,} boards")
        new_id = plan.n_boards
        if self.board_id is not None and self.board_id != new_id:
            raise PlanError("board ids changed since this board was created")
        code = self.code or _new_code(plan)
        if any(b.code == code for b in plan.boards):
            raise PlanError(f"board code {code} is already used")
        colour = self.colour
        if colour is None:
            from icbmap.plan.colours import suggest_colour

            colour = suggest_colour(plan)
        self.colour, self.code, self.board_id = colour, code, new_id
        plan.append_board(Board(new_id, code, self.name, colour))

    def undo(self, plan: Plan) -> None:
        plan.pop_board(self.board_id)


def _new_code(plan: Plan) -> str:
    used = {b.code for b in plan.boards}
    n = plan.n_boards - plan.n_baseline_boards + 1
    while f"NEW{n:02d}" in used:
        n += 1
    return f"NEW{n:02d}"


class _SetField(Command):
    field = ""
    verb = ""

    def __init__(self, board: int, value):
        self.board_id = int(board)
        self.value = value
        self._old = None
        self.text = f"{self.verb} board {self.board_id}"

    def _check(self, plan: Plan) -> None:
        plan.check_board(self.board_id)
        _check_unlocked(plan, [self.board_id], self.verb.lower())

    def do(self, plan: Plan) -> None:
        self._check(plan)
        self._old = getattr(plan.boards[self.board_id], self.field)
        plan.update_board(self.board_id, **{self.field: self.value})
        self.text = self._text(plan)

    def _text(self, plan: Plan) -> str:
        return f"{self.verb} {plan.boards[self.board_id].name}"

    def undo(self, plan: Plan) -> None:
        plan.update_board(self.board_id, **{self.field: self._old})


class RenameBoard(_SetField):
    field, verb = "name", "Rename"

    def __init__(self, board: int, name: str):
        super().__init__(board, str(name).strip())

    def _check(self, plan: Plan) -> None:
        if not self.value:
            raise PlanError("a board needs a name")
        super()._check(plan)

    def _text(self, plan: Plan) -> str:
        return f"Rename {self._old} to {self.value}"


class RecolourBoard(_SetField):
    field, verb = "colour", "Recolour"

    def __init__(self, board: int, colour: str):
        colour = str(colour)
        problem = colour_problem(colour)  # "#zzzzzz" too, not only the length
        if problem:
            raise PlanError(problem)
        super().__init__(board, colour.upper())


class LockBoard(_SetField):
    field, verb = "locked", "Lock"

    def __init__(self, board: int, locked: bool = True):
        super().__init__(board, bool(locked))
        self.verb = "Lock" if locked else "Unlock"
        self.text = f"{self.verb} board {self.board_id}"

    def _check(self, plan: Plan) -> None:
        plan.check_board(self.board_id)


class History:
    """A plain undo stack over one plan (the GUI uses ``QUndoStack`` with the same commands)."""

    def __init__(self, plan: Plan, limit: int | None = None):
        self.plan = plan
        self.limit = limit
        self._done: list[Command] = []
        self._undone: list[Command] = []

    def push(self, cmd: Command) -> Command:
        """Do ``cmd`` and put it on the stack (clears redo).  Raises, changing nothing, if it fails."""
        cmd.do(self.plan)
        self._done.append(cmd)
        self._undone.clear()
        if self.limit is not None and len(self._done) > self.limit:
            del self._done[0]
        return cmd

    def undo(self) -> Command | None:
        if not self._done:
            return None
        cmd = self._done.pop()
        cmd.undo(self.plan)
        self._undone.append(cmd)
        return cmd

    def redo(self) -> Command | None:
        if not self._undone:
            return None
        cmd = self._undone.pop()
        cmd.do(self.plan)
        self._done.append(cmd)
        return cmd

    def can_undo(self) -> bool:
        return bool(self._done)

    def can_redo(self) -> bool:
        return bool(self._undone)

    def clear(self) -> None:
        self._done.clear()
        self._undone.clear()

    @property
    def undo_text(self) -> str:
        return self._done[-1].text if self._done else ""

    @property
    def redo_text(self) -> str:
        return self._undone[-1].text if self._undone else ""

    def texts(self) -> list[str]:
        """Descriptions of the done commands, oldest first."""
        return [c.text for c in self._done]

    def __len__(self) -> int:
        return len(self._done)
