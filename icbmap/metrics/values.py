"""The raw metric values both the incremental engine and the reference produce.

:class:`MetricValues` holds integer tables and the per-area / per-board figures derived
from them.  The incremental engine (:mod:`icbmap.metrics.engine`) and the full-recompute
reference (:mod:`icbmap.metrics.reference`) each produce one; they must be equal exactly
(:meth:`MetricValues.diff` lists any difference).  The report the CLI and panels read is
built from a ``MetricValues`` by :mod:`icbmap.metrics.report`.

Table layout, at each level in :data:`TABLE_LEVELS`: row ``b + 1`` is board ``b`` and row 0
the unassigned units; column ``a + 1`` is area ``a`` and column 0 "no area" (only units
outside every combined authority land there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np

#: Levels with coterminosity metrics.
COTERMINOSITY_LEVELS: tuple[str, ...] = ("district", "council", "ca")
#: Levels with a board x area table (regions: the table only, no derived figures).
TABLE_LEVELS: tuple[str, ...] = ("district", "council", "ca", "region")


def table_levels(atlas) -> tuple[str, ...]:
    """Every level with a board x area table: the built-in ones, then each reference
    geography attached to ``atlas`` (``"ref:<name>"``), measured by the same code."""
    return TABLE_LEVELS + tuple(getattr(atlas, "references", {}) or ())


def coterminosity_levels(atlas) -> tuple[str, ...]:
    """Every level with coterminosity figures: councils' levels and reference geographies."""
    return COTERMINOSITY_LEVELS + tuple(getattr(atlas, "references", {}) or ())


def has_coterminosity(level: str) -> bool:
    return level in COTERMINOSITY_LEVELS or level.startswith("ref:")


#: Default sliver tolerance: a board's piece of an area under 1% of the area's population.
DEFAULT_TOLERANCE = 0.01


@dataclass(frozen=True)
class PopulationBand:
    """Board population flags.  Defaults: below 500,000; below 1,000,000 (the commonly
    proposed minimum); above 3,000,000."""

    floor: int = 500_000
    minimum: int = 1_000_000
    maximum: int = 3_000_000

    def status(self, population: int) -> str:
        """``below_floor``, ``below_minimum``, ``above_maximum`` or ``ok``."""
        if population < self.floor:
            return "below_floor"
        if population < self.minimum:
            return "below_minimum"
        if population > self.maximum:
            return "above_maximum"
        return "ok"

    def counts(self, populations: np.ndarray) -> tuple[int, int, int]:
        """How many of ``populations`` are below the floor, below the minimum and above the
        maximum (as :meth:`status` says of each)."""
        edges = (self.floor, self.minimum, self.maximum + 1)
        if edges[0] <= edges[1] <= edges[2]:         # one search: status is an interval
            n = np.bincount(np.searchsorted(edges, populations, side="right"), minlength=4).tolist()
            return n[0], n[1], n[3]
        p = np.asarray(populations)
        low = p < self.floor
        below = ~low & (p < self.minimum)
        return int(low.sum()), int(below.sum()), int((~low & ~below & (p > self.maximum)).sum())

    def label(self, status: str) -> str:
        return {
            "below_floor": f"below {self.floor:,}",
            "below_minimum": f"below {self.minimum:,}",
            "above_maximum": f"above {self.maximum:,}",
            "ok": "",
        }[status]


@dataclass
class LevelValues:
    """Board x area tables at one level and the figures derived from them."""

    level: str
    pop: np.ndarray          # int64 (n_boards + 1, n_areas + 1)
    cnt: np.ndarray          # int64 (n_boards + 1, n_areas + 1): units
    # per column (index = area + 1; column 0 is all zeros)
    n_touch: np.ndarray      # boards holding any unit of the area
    n_real: np.ndarray       # boards holding a non-sliver piece
    main_board: np.ndarray   # board holding most people (ties: lowest id), -1 if none
    main_pop: np.ndarray
    area_score: np.ndarray   # float64 reduced sqrt-entropy split score (area direction)
    # per board (index = board id)
    whole_n: np.ndarray      # areas wholly inside the board
    part_n: np.ndarray       # areas touched in part
    whole_pop: np.ndarray    # people living in areas wholly inside the board
    board_score: np.ndarray  # float64 reduced sqrt-entropy split score (board direction)

    ARRAYS = ("pop", "cnt", "n_touch", "n_real", "main_board", "main_pop", "area_score",
              "whole_n", "part_n", "whole_pop", "board_score")


class PerLevel(dict):
    """A dict of per-level entries, each made on first access by ``make(level)``.

    The engine computes every level's figures at once in fused arrays; cutting them into one
    entry per level is left until a level is read, so an edit's cost does not grow with the
    number of levels nobody looks at.  Anything that sees the whole dict (iteration,
    ``items``, ``len``, ``==``, :func:`dataclasses.asdict`, JSON) first makes every entry,
    in level order; otherwise it behaves as a plain ``dict``.
    """

    def __init__(self, *args, pending: tuple = (), make: Callable | None = None, **kw):
        super().__init__(*args, **kw)
        self._order = tuple(dict.keys(self)) + tuple(k for k in pending if not dict.__contains__(self, k))
        self._pending = set(pending) - set(dict.keys(self))
        self._make = make

    def update_pending(self, keys, make: Callable) -> None:
        """Add ``keys``, each to be made by ``make(key)`` when first read."""
        self._make = make
        new = [k for k in keys if not dict.__contains__(self, k) and k not in self._pending]
        self._order += tuple(new)
        self._pending.update(new)

    def _one(self, key):
        value = self._make(key)
        dict.__setitem__(self, key, value)
        self._pending.discard(key)
        return value

    def _fill(self) -> None:
        if self._pending:
            for k in [k for k in self._order if k in self._pending]:
                self._one(k)
            ordered = [(k, dict.__getitem__(self, k)) for k in self._order if dict.__contains__(self, k)]
            ordered += [(k, v) for k, v in dict.items(self) if k not in self._order]
            dict.clear(self)
            dict.update(self, ordered)

    def __missing__(self, key):
        if key in self._pending:
            return self._one(key)
        raise KeyError(key)

    def __contains__(self, key) -> bool:
        return dict.__contains__(self, key) or key in self._pending

    def get(self, key, default=None):
        return self[key] if key in self else default

    def __setitem__(self, key, value) -> None:
        self._pending.discard(key)
        dict.__setitem__(self, key, value)

    def __delitem__(self, key) -> None:
        self._fill()
        dict.__delitem__(self, key)

    def pop(self, key, *default):
        self._fill()
        return dict.pop(self, key, *default)

    def __iter__(self):
        self._fill()
        return dict.__iter__(self)

    def __len__(self) -> int:
        return dict.__len__(self) + len(self._pending)

    def keys(self):
        self._fill()
        return dict.keys(self)

    def values(self):
        self._fill()
        return dict.values(self)

    def items(self):
        self._fill()
        return dict.items(self)

    def copy(self) -> dict:
        self._fill()
        return dict(self)

    def __eq__(self, other) -> bool:
        self._fill()
        if isinstance(other, PerLevel):
            other._fill()
        return dict.__eq__(self, other)

    __hash__ = None

    def __repr__(self) -> str:
        self._fill()
        return dict.__repr__(self)

    def __reduce__(self):
        self._fill()
        return (dict, (dict(self),))


@dataclass
class FusedColumns:
    """Every level's per-area figures side by side: level ``i`` owns the columns
    ``starts[i] .. starts[i + 1]`` (the first of them its "no area" column), so a figure
    summed per level is one array operation whatever the number of levels."""

    levels: tuple[str, ...]
    starts: np.ndarray         # int64 first column of each level
    area_pop: np.ndarray       # people per column
    unassigned: np.ndarray     # unassigned units per column
    n_touch: np.ndarray
    n_real: np.ndarray
    main_board: np.ndarray
    area_score: np.ndarray
    board_score: np.ndarray    # float64 (levels, n_boards)
    #: the per-level counts of :func:`level_counts` when the owner keeps them up to date
    #: (the engine does, edit by edit); else ``None`` and they are summed when read
    counts: list | None = None

    @cached_property
    def spans(self) -> dict[str, tuple[int, int, int]]:
        """Each level's ``(index, first area column, end column)``."""
        ends = self.starts[1:].tolist() + [len(self.area_pop)]
        return {lvl: (i, a + 1, b) for i, (lvl, a, b) in enumerate(zip(self.levels, self.starts.tolist(), ends))}

    @classmethod
    def of(cls, levels: dict[str, LevelValues]) -> "FusedColumns":
        names = tuple(levels)
        Ls = [levels[k] for k in names]
        widths = [L.pop.shape[1] for L in Ls]
        cat = lambda f: np.concatenate([f(L) for L in Ls]) if Ls else np.zeros(0)  # noqa: E731
        return cls(names, np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64),
                   cat(lambda L: L.pop.sum(0)), cat(lambda L: L.cnt[0]), cat(lambda L: L.n_touch),
                   cat(lambda L: L.n_real), cat(lambda L: L.main_board), cat(lambda L: L.area_score),
                   np.stack([L.board_score for L in Ls]) if Ls else np.zeros((0, 0)))


#: the per-area counts summed per level for the plan summary (see :func:`column_count`)
COUNT_FIELDS = ("whole", "split", "split_pieces", "real_pieces", "real_split", "sliver", "people_split")


def column_count(n_touch: int, n_real: int, unassigned: int, people: int) -> tuple[int, ...]:
    """One area's contribution to its level's summary counts (:data:`COUNT_FIELDS`): whole in
    one board (and no unassigned unit), split, extra pieces, extra real pieces, really split,
    split by slivers only, people in split areas.  The one definition: the engine moves its
    kept sums by it, and :func:`level_counts` sums it where nobody keeps them."""
    split = n_touch > 1
    return (int(n_touch == 1 and unassigned == 0), int(split), max(n_touch - 1, 0), max(n_real - 1, 0),
            int(n_real > 1), int(split and n_real <= 1), people if split else 0)


def level_counts(F: "FusedColumns", level: str) -> list[int]:
    """:data:`COUNT_FIELDS` summed over the areas of ``level``, then the level's population:
    kept by the owner of ``F`` (``F.counts``, the engine), or summed from the level's columns
    (and kept there when the owner left a ``None`` for it)."""
    i, a, b = F.spans[level]
    row = F.counts[i] if F.counts is not None else None
    if row is None:
        s = slice(a, b)
        areas = zip(F.n_touch[s].tolist(), F.n_real[s].tolist(), F.unassigned[s].tolist(), F.area_pop[s].tolist())
        row = [sum(f) for f in zip(*(column_count(*a) for a in areas))] or [0] * len(COUNT_FIELDS)
        row.append(int(F.area_pop[s].sum()))
        if F.counts is not None:
            F.counts[i] = row
    return row


@dataclass
class MetricValues:
    n_boards: int
    tolerance: float
    board_pop: np.ndarray       # int64 per board id
    board_units: np.ndarray
    registered: np.ndarray      # registered patients of the practices on each board
    unassigned_units: int
    unassigned_pop: int
    unassigned_registered: int
    pieces: np.ndarray          # connected pieces per board (0 for an empty board)
    island_pieces: np.ndarray   # pieces made only of island units
    levels: dict[str, LevelValues] = field(default_factory=dict)
    #: the same per-area figures fused across levels (the engine shares its own; else built
    #: from ``levels`` on first use).  Not compared by :meth:`diff`.
    columns: FusedColumns | None = field(default=None, compare=False, repr=False)
    #: ``refresh(level)`` brings ``level``'s area figures up to date when the owner defers
    #: them (the engine's reference geographies, see ``Metrics.values_view``); else ``None``
    refresh: Callable[[str], None] | None = field(default=None, compare=False, repr=False)

    ARRAYS = ("board_pop", "board_units", "registered", "pieces", "island_pieces")
    SCALARS = ("n_boards", "tolerance", "unassigned_units", "unassigned_pop", "unassigned_registered")

    def fused(self) -> FusedColumns:
        """:class:`FusedColumns` of these values."""
        if self.columns is None:
            self.columns = FusedColumns.of(self.levels)
        return self.columns

    def diff(self, other: "MetricValues") -> list[str]:
        """Every field where ``self`` and ``other`` differ (exact comparison)."""
        out = []
        for name in self.SCALARS:
            if getattr(self, name) != getattr(other, name):
                out.append(f"{name}: {getattr(self, name)!r} != {getattr(other, name)!r}")
        for name in self.ARRAYS:
            a, b = getattr(self, name), getattr(other, name)
            if a.shape != b.shape or not np.array_equal(a, b):
                where = np.flatnonzero(a != b)[:10] if a.shape == b.shape else "shape"
                out.append(f"{name} differs at {where}")
        for lvl in sorted(set(self.levels) | set(other.levels)):
            if lvl not in self.levels or lvl not in other.levels:
                out.append(f"level {lvl} missing")
                continue
            la, lb = self.levels[lvl], other.levels[lvl]
            for name in LevelValues.ARRAYS:
                a, b = getattr(la, name), getattr(lb, name)
                if a.shape != b.shape or not np.array_equal(a, b):
                    where = np.argwhere(a != b)[:10].tolist() if a.shape == b.shape else f"shape {a.shape} {b.shape}"
                    out.append(f"{lvl}.{name} differs at {where}")
        return out
