"""The plan: boards and the board of every unit (Qt-free).

A :class:`Plan` starts as the atlas baseline: board ``i`` is atlas board ``i``, every unit
is on its baseline board and every GP practice on its baseline board.  Edits go through the
commands in :mod:`icbmap.plan.commands`; those call the low-level mutators here
(:meth:`Plan.assign`, :meth:`Plan.assign_practices`, :meth:`Plan.append_board`, ...), each
of which tells the observers exactly what changed with a :class:`Change`.

Board ids are stable ints: baseline boards are ``0..n-1`` (the atlas board index), a created
board gets the next id, and a deleted or absorbed board stays in ``plan.boards`` with
``active=False`` so that undo can bring it back.  ``-1`` in an assignment means unassigned.

Serialisation (:meth:`Plan.to_dict` / :meth:`Plan.from_dict`) writes the board table and
only the units (and practices) whose board differs from the baseline, as runs of unit codes
per board; see :meth:`Plan.to_dict` for the layout.

This module stays whole (about 530 lines) on purpose: most of it is the :class:`Plan` class,
whose mutators keep the unit and practice assignments and the board table consistent
together; splitting the class would split that invariant across files.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Callable

import numpy as np

from icbmap.errors import DataError, IcbmapError

UNASSIGNED = -1
PLAN_FORMAT = "icbmap-plan"
PLAN_VERSION = 1
#: Most boards a plan may hold.  England has 42 ICBs; a file with more than this is not a
#: plan a person drew, and refusing it keeps every per-board cost bounded.
MAX_BOARDS = 1000
COLOUR_RE = re.compile(r"#[0-9A-Fa-f]{6}")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def colour_problem(colour: object) -> str | None:
    """Why ``colour`` is not a ``#rrggbb`` colour, or ``None``."""
    if isinstance(colour, str) and COLOUR_RE.fullmatch(colour):
        return None
    return f"colour {str(colour)[:40]!r} is not a #rrggbb colour"


def name_problem(name: object, what: str = "name") -> str | None:
    """Why ``name`` cannot be a board name (control or bidi-override characters: NUL, newline,
    U+202E...; longer than 200 characters), or ``None``; see :func:`icbmap.guards.text_problem`."""
    from icbmap.guards import text_problem

    return text_problem(name, what)


class PlanError(IcbmapError):
    """An edit that cannot be made (unknown board, inactive board, bad argument)."""


class UnknownCodesError(DataError):
    """A serialised plan names units, practices or boards this atlas does not have.

    ``unknown_units``, ``unknown_practices`` and ``unknown_boards`` list what did not map;
    ``problems`` lists any other structural problem.  ``str()`` says all of it.  The
    proposal reader wraps this with the file name (``DataError(path, exc.problem)``).
    """

    def __init__(self, unknown_units=(), unknown_practices=(), unknown_boards=(),
                 problems=(), path=None):
        self.unknown_units = list(unknown_units)
        self.unknown_practices = list(unknown_practices)
        self.unknown_boards = list(unknown_boards)
        self.problems = list(problems)
        parts = []
        for label, items in (("unit code", self.unknown_units),
                             ("GP practice code", self.unknown_practices),
                             ("board", self.unknown_boards)):
            if items:
                shown = ", ".join(str(x) for x in items[:20])
                more = f" and {len(items) - 20} more" if len(items) > 20 else ""
                parts.append(f"{len(items)} unknown {label}{'s' if len(items) != 1 else ''}: {shown}{more}")
        parts.extend(self.problems)
        super().__init__(path, "plan does not match this data pack: " + "; ".join(parts))


@dataclass
class Board:
    """One board.  ``colour`` is ``#rrggbb``; ``active`` is False once deleted or absorbed."""

    id: int
    code: str
    name: str
    colour: str
    locked: bool = False
    active: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Change:
    """What one mutation changed, for observers.

    ``units`` are the units whose board changed, with ``old_boards`` / ``new_boards`` (int32,
    aligned); likewise ``practices``.  ``boards`` is every board id whose units, practices
    or attributes changed.  ``structural`` is True when the board table changed shape
    (a board created, deleted/absorbed or restored).  ``kind`` is one of ``"assign"``,
    ``"practices"``, ``"board"`` (attributes: name, colour, lock), ``"structure"``.
    """

    kind: str
    boards: frozenset[int]
    units: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    old_boards: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    new_boards: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    practices: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    old_practice_boards: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    new_practice_boards: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    structural: bool = False

    @property
    def empty(self) -> bool:
        return (len(self.units) == 0 and len(self.practices) == 0 and not self.structural
                and self.kind in ("assign", "practices"))


Observer = Callable[[Change], None]


def _runs(sorted_idx: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of consecutive integers in a sorted index array: ``[(first, last), ...]``."""
    if len(sorted_idx) == 0:
        return []
    breaks = np.flatnonzero(np.diff(sorted_idx) != 1)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(sorted_idx) - 1]])
    return [(int(sorted_idx[s]), int(sorted_idx[e])) for s, e in zip(starts, ends)]


class Plan:
    """Boards and the assignment of every unit (and GP practice) to a board."""

    def __init__(self, atlas, colours: dict[int, str] | None = None):
        self.atlas = atlas
        table = atlas.layers["board"].table
        if colours is None:
            from icbmap.plan.colours import baseline_colours

            colours = baseline_colours(atlas)
        codes, names = table["code"].astype(str).tolist(), table["name"].astype(str).tolist()
        self.boards: list[Board] = [Board(i, codes[i], names[i], colours[i]) for i in range(len(table))]
        self.n_baseline_boards = len(self.boards)
        self.baseline_assignment = atlas.unit_level("board").astype(np.int32).copy()
        self.assignment = self.baseline_assignment.copy()
        pr = atlas.practices
        if pr is not None and len(pr):
            self.baseline_practice_assignment = pr["board"].to_numpy(dtype=np.int32).copy()
            self.practice_unit = pr["unit"].to_numpy(dtype=np.int64)
            self.practice_patients = pr["patients"].to_numpy(dtype=np.int64)
            self.practice_codes = pr["code"].astype(str).to_numpy(dtype=object)
        else:
            self.baseline_practice_assignment = np.zeros(0, np.int32)
            self.practice_unit = np.zeros(0, np.int64)
            self.practice_patients = np.zeros(0, np.int64)
            self.practice_codes = np.zeros(0, dtype=object)
        self.practice_assignment = self.baseline_practice_assignment.copy()
        self._observers: list[Observer] = []
        self._practices_by_unit: tuple[np.ndarray, np.ndarray] | None = None

    # ------------------------------------------------------------ observers
    def add_observer(self, fn: Observer) -> None:
        if fn not in self._observers:
            self._observers.append(fn)

    def remove_observer(self, fn: Observer) -> None:
        if fn in self._observers:
            self._observers.remove(fn)

    @property
    def observers(self) -> tuple[Observer, ...]:
        return tuple(self._observers)

    def _notify(self, change: Change) -> None:
        for fn in list(self._observers):
            fn(change)

    # ------------------------------------------------------------ queries
    @property
    def n_units(self) -> int:
        return len(self.assignment)

    @property
    def n_practices(self) -> int:
        return len(self.practice_assignment)

    @property
    def n_boards(self) -> int:
        """Number of board ids ever used (active or not)."""
        return len(self.boards)

    def board(self, board_id: int) -> Board:
        if not 0 <= board_id < len(self.boards):
            raise PlanError(f"there is no board {board_id}")
        return self.boards[board_id]

    def active_boards(self) -> list[Board]:
        return [b for b in self.boards if b.active]

    def active_ids(self) -> np.ndarray:
        return np.array([b.id for b in self.boards if b.active], dtype=np.int32)

    def board_by_code(self, code: str) -> Board | None:
        for b in self.boards:
            if b.code == code and b.active:
                return b
        for b in self.boards:
            if b.code == code:
                return b
        return None

    def board_units(self, board_id: int) -> np.ndarray:
        """Unit indices on ``board_id`` (sorted; -1 = the unassigned units)."""
        return np.flatnonzero(self.assignment == board_id)

    def board_population(self, board_id: int) -> int:
        return int(self.atlas.population[self.assignment == board_id].sum())

    def unassigned_units(self) -> np.ndarray:
        return np.flatnonzero(self.assignment == UNASSIGNED)

    def units_of(self, level: str, area: int) -> np.ndarray:
        """Units of an area at ``level`` (``unit``, a reference level, or ``plan-board``).

        ``level == "plan-board"`` gives the units currently on board ``area`` in this plan;
        every other level is the atlas's fixed geography (``board`` = baseline board).
        """
        if level == "plan-board":
            return self.board_units(area)
        return self.atlas.members(level, area)

    def practices_in_units(self, units: np.ndarray) -> np.ndarray:
        """Indices of the GP practices located in ``units`` (``practices.unit``)."""
        if self.n_practices == 0 or len(units) == 0:
            return np.zeros(0, np.int64)
        if self._practices_by_unit is None:
            placed = np.flatnonzero(self.practice_unit >= 0)
            order = placed[np.argsort(self.practice_unit[placed], kind="stable")]
            self._practices_by_unit = (order, self.practice_unit[order])
        order, keys = self._practices_by_unit
        units = np.asarray(units, dtype=np.int64)
        lo = np.searchsorted(keys, units, side="left")
        hi = np.searchsorted(keys, units, side="right")
        has = hi > lo
        if not has.any():
            return np.zeros(0, np.int64)
        return np.sort(np.concatenate([order[a:b] for a, b in zip(lo[has], hi[has])]))

    def is_baseline(self) -> bool:
        return (self.n_boards == self.n_baseline_boards
                and bool(np.array_equal(self.assignment, self.baseline_assignment))
                and bool(np.array_equal(self.practice_assignment, self.baseline_practice_assignment)))

    def changed_units(self) -> np.ndarray:
        return np.flatnonzero(self.assignment != self.baseline_assignment)

    def check_board(self, board_id: int, allow_unassigned: bool = False, must_be_active: bool = True) -> None:
        if allow_unassigned and board_id == UNASSIGNED:
            return
        b = self.board(int(board_id))
        if must_be_active and not b.active:
            raise PlanError(f"board {b.name} ({b.code}) has been deleted")

    # ------------------------------------------------------------ mutators
    # These change the plan and notify observers; they do not check locks (commands do).
    def assign(self, units, boards) -> Change:
        """Put ``units`` on ``boards`` (one id or one per unit); only real changes are reported."""
        return self.reassign(units, boards)

    def assign_practices(self, practices, boards) -> Change:
        return self.reassign(practices=practices, practice_boards=boards)

    def move(self, units, practices, board_id) -> Change:
        """Units and practices to one board: one change, observers told once."""
        return self.reassign(units, board_id, practices, board_id)

    def reassign(self, units=(), boards=UNASSIGNED, practices=(), practice_boards=UNASSIGNED) -> Change:
        """Put ``units`` on ``boards`` and ``practices`` on ``practice_boards`` (one id, or
        one per item) as one change: observers are told once (kind ``"assign"`` when units
        moved, else ``"practices"``), with only the real changes."""
        units, old, new = self._changed(units, boards, self.assignment, self.n_units, "unit")
        prac, pold, pnew = self._changed(practices, practice_boards, self.practice_assignment,
                                         self.n_practices, "practice")
        self.assignment[units] = new
        self.practice_assignment[prac] = pnew
        touched = frozenset(old.tolist()).union(new.tolist(), pold.tolist(), pnew.tolist())
        change = Change("assign" if len(units) or not len(prac) else "practices", touched, units, old, new,
                        prac, pold, pnew)
        if len(units) or len(prac):
            self._notify(change)
        return change

    @staticmethod
    def _changed(items, boards, assignment: np.ndarray, n: int, what: str):
        """(items, old boards, new boards) of the items whose board would change."""
        items = np.asarray(items, dtype=np.int64).ravel()
        if len(items) == 0:
            return items, assignment[items], np.zeros(0, assignment.dtype)
        boards = np.asarray(boards, dtype=np.int32)
        new = np.full(items.shape, boards) if boards.ndim == 0 else np.broadcast_to(boards, items.shape).copy()
        if len(items) == 1:                         # one item (a single LSOA dragged): no sort
            if not 0 <= int(items[0]) < n:
                raise PlanError(f"{what} index out of range")
        else:
            if items.min() < 0 or items.max() >= n:
                raise PlanError(f"{what} index out of range")
            items, first = np.unique(items, return_index=True)
            new = new[first]
        old = assignment[items]
        moved = old != new
        return items[moved], old[moved], new[moved]

    def append_board(self, board: Board) -> Change:
        if board.id != len(self.boards):
            raise PlanError(f"new board must take id {len(self.boards)}, not {board.id}")
        self.boards.append(board)
        change = Change("structure", frozenset([board.id]), structural=True)
        self._notify(change)
        return change

    def pop_board(self, board_id: int) -> Change:
        """Remove the last board (undo of a creation); it must hold nothing."""
        if board_id != len(self.boards) - 1:
            raise PlanError("only the most recently created board can be removed")
        if (self.assignment == board_id).any() or (self.practice_assignment == board_id).any():
            raise PlanError("a board that still holds units cannot be removed")
        self.boards.pop()
        change = Change("structure", frozenset([board_id]), structural=True)
        self._notify(change)
        return change

    def set_active(self, board_id: int, active: bool) -> Change:
        self.boards[board_id].active = bool(active)
        change = Change("structure", frozenset([board_id]), structural=True)
        self._notify(change)
        return change

    def update_board(self, board_id: int, **fields) -> Change:
        allowed = {"code", "name", "colour", "locked"}
        bad = set(fields) - allowed
        if bad:
            raise PlanError(f"cannot set {', '.join(sorted(bad))} on a board")
        problem = (("name" in fields and name_problem(fields["name"], "board name"))
                   or ("code" in fields and name_problem(fields["code"], "board code"))
                   or ("colour" in fields and colour_problem(fields["colour"])))
        if problem:
            raise PlanError(problem)
        self.boards[board_id] = replace(self.boards[board_id], **fields)
        change = Change("board", frozenset([board_id]))
        self._notify(change)
        return change

    # ------------------------------------------------------------ copies
    def copy(self) -> "Plan":
        """An independent plan with the same boards and assignment (no observers)."""
        new = Plan.__new__(Plan)
        new.__dict__.update(self.__dict__)
        new.boards = [replace(b) for b in self.boards]
        new.assignment = self.assignment.copy()
        new.practice_assignment = self.practice_assignment.copy()
        new._observers = []
        return new

    # ------------------------------------------------------------ serialisation
    def to_dict(self) -> dict:
        """The plan as changes against the baseline.

        Layout::

            {"format": "icbmap-plan", "version": 1,
             "boards": [{"id", "code", "name", "colour", "locked", "active"}, ...],
             "units": {"<board id>": ["E01000001..E01000004", "E01000010", ...], ...},
             "practices": {"<board id>": ["A81001", ...], ...}}

        ``boards`` is the whole board table (baseline ids first).  ``units`` lists only the
        units whose board differs from the baseline, grouped by their board in this plan
        (``"-1"`` = unassigned), as runs of consecutive units in the atlas's unit order
        (units are sorted by code): ``"A..B"`` stands for every unit from A to B inclusive,
        a lone code for itself.  ``practices`` lists GP practice codes whose board differs from the
        practices table's baseline board.
        """
        units_out: dict[str, list[str]] = {}
        changed = self.changed_units()
        codes = self.atlas.unit_codes
        if len(changed):
            boards = self.assignment[changed]
            for b in np.unique(boards):
                idx = changed[boards == b]
                units_out[str(int(b))] = [
                    codes[s] if s == e else f"{codes[s]}..{codes[e]}" for s, e in _runs(idx)
                ]
        prac_out: dict[str, list[str]] = {}
        pch = np.flatnonzero(self.practice_assignment != self.baseline_practice_assignment)
        if len(pch):
            pb = self.practice_assignment[pch]
            for b in np.unique(pb):
                prac_out[str(int(b))] = [str(c) for c in self.practice_codes[pch[pb == b]]]
        return {
            "format": PLAN_FORMAT,
            "version": PLAN_VERSION,
            "boards": [b.to_dict() for b in self.boards],
            "units": units_out,
            "practices": prac_out,
        }

    @classmethod
    def from_dict(cls, atlas, d: dict) -> "Plan":
        """Rebuild a plan written by :meth:`to_dict` against ``atlas``.

        Raises :class:`UnknownCodesError` (a :class:`~icbmap.errors.DataError`) listing every
        unit code, practice code or board id that does not map, and any structural problem.
        """
        problems: list[str] = []
        if not isinstance(d, dict):
            raise UnknownCodesError(problems=[f"plan should be an object, found {type(d).__name__}"])
        if d.get("format", PLAN_FORMAT) != PLAN_FORMAT:
            problems.append(f"format is {d.get('format')!r}, expected {PLAN_FORMAT!r}")
        version = d.get("version", PLAN_VERSION)
        if not isinstance(version, int) or version > PLAN_VERSION:
            problems.append(f"plan version {version!r} is newer than this program understands ({PLAN_VERSION})")
        plan = cls(atlas)
        boards = _read_boards(d.get("boards"), problems)
        if len(boards) < plan.n_baseline_boards and not problems:
            problems.append(f"{len(boards)} boards listed but the data pack has {plan.n_baseline_boards} baseline boards")
        n_boards = len(boards)

        def board_key(key) -> int | None:
            try:
                b = int(key)
            except (TypeError, ValueError):
                return None
            return b if (b == UNASSIGNED or 0 <= b < n_boards) else None

        unknown_units: list[str] = []
        unknown_boards: list[str] = []
        assignment = plan.baseline_assignment.copy()
        _read_unit_runs(atlas, d.get("units", {}) or {}, board_key, assignment, problems, unknown_units,
                        unknown_boards)
        pa = plan.baseline_practice_assignment.copy()
        unknown_pr: list[str] = []
        _read_practices(plan, d.get("practices", {}) or {}, board_key, pa, problems, unknown_pr, unknown_boards)
        if unknown_units or unknown_pr or unknown_boards or problems:
            raise UnknownCodesError(unknown_units, unknown_pr, unknown_boards, problems)
        held = np.zeros(n_boards, dtype=bool)  # one pass, not one per board (linear in boards)
        for arr in (assignment, pa):
            ids = arr[(arr >= 0) & (arr < n_boards)]
            held[ids] = True
        for b in boards:
            if not b.active and 0 <= b.id < n_boards and held[b.id]:
                raise UnknownCodesError(problems=[f"deleted board {b.code} still holds units"])
        plan.boards = boards
        plan.assignment = assignment
        plan.practice_assignment = pa
        return plan


def _read_boards(raw_boards, problems: list[str]) -> list["Board"]:
    """The boards of a plan written by :meth:`Plan.to_dict` (problems are appended)."""
    if not isinstance(raw_boards, list) or not raw_boards:
        problems.append("'boards' should be a non-empty list")
        raw_boards = []
    if len(raw_boards) > MAX_BOARDS:
        raise UnknownCodesError(problems=[f"{len(raw_boards):,} boards, more than the {MAX_BOARDS:,} "
                                          "a plan may hold"])
    boards: list[Board] = []
    for pos, rb in enumerate(raw_boards):
        if not isinstance(rb, dict):
            problems.append(f"board #{pos} should be an object")
            continue
        try:
            b = Board(int(rb["id"]), str(rb["code"]), str(rb["name"]), str(rb["colour"]),
                      bool(rb.get("locked", False)), bool(rb.get("active", True)))
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"board #{pos} is malformed ({exc!s})")
            continue
        if b.id != pos:
            problems.append(f"board #{pos} has id {b.id}; ids must run 0, 1, 2, ...")
        bad = (name_problem(b.code, f"board #{pos}'s code") or name_problem(b.name, f"board {b.code}'s name")
               or colour_problem(b.colour))
        if bad:
            problems.append(bad if not bad.startswith("colour") else f"board {b.code}'s {bad}")
        boards.append(b)
    return boards


def _read_unit_runs(atlas, units, board_key, assignment: np.ndarray, problems: list[str],
                    unknown_units: list[str], unknown_boards: list[str]) -> None:
    """Apply the ``units`` runs (board id -> ``"FIRST..LAST"`` code runs) to ``assignment``."""
    if not isinstance(units, dict):
        problems.append("'units' should be an object of board id -> unit code runs")
        units = {}
    for key, runs in units.items():
        b = board_key(key)
        if b is None:
            unknown_boards.append(str(key))
            continue
        if not isinstance(runs, list):
            problems.append(f"units of board {key} should be a list")
            continue
        for run in runs:
            if not isinstance(run, str):
                problems.append(f"unit run {run!r} of board {key} is not a string")
                continue
            first, _, last = run.partition("..")
            last = last or first
            i, j = atlas.unit_index(first), atlas.unit_index(last)
            if i is None:
                unknown_units.append(first)
            if j is None and last != first:
                unknown_units.append(last)
            if i is None or j is None:
                continue
            if j < i:
                problems.append(f"unit run {run} runs backwards")
                continue
            assignment[i:j + 1] = b


def _read_practices(plan, prac, board_key, pa: np.ndarray, problems: list[str], unknown_pr: list[str],
                    unknown_boards: list[str]) -> None:
    """Apply the ``practices`` (board id -> practice codes) to the practice assignment ``pa``."""
    atlas = plan.atlas
    if not isinstance(prac, dict):
        problems.append("'practices' should be an object of board id -> practice codes")
        prac = {}
    if not prac:
        return
    codes = plan.practice_codes      # the index is the same for every plan of the atlas

    def build():
        return atlas.practices, {str(c): i for i, c in enumerate(codes)}

    table, index = atlas.derived.get("plan.practice_index", build, depends=("practices",))
    if table is not atlas.practices:      # the table was swapped without set_practices
        atlas.derived.discard("plan.practice_index")
        table, index = atlas.derived.get("plan.practice_index", build, depends=("practices",))
    for key, pcodes in prac.items():
        b = board_key(key)
        if b is None:
            unknown_boards.append(str(key))
            continue
        for c in pcodes if isinstance(pcodes, list) else []:
            i = index.get(str(c))
            if i is None:
                unknown_pr.append(str(c))
            else:
                pa[i] = b
