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

    ARRAYS = ("board_pop", "board_units", "registered", "pieces", "island_pieces")
    SCALARS = ("n_boards", "tolerance", "unassigned_units", "unassigned_pop", "unassigned_registered")

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
