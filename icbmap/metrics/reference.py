"""Full-recompute reference implementation of every metric (the oracle).

Straightforward code, written apart from the incremental engine: the board x area tables
are built from ``plan.assignment`` in one pass, and every per-area and per-board figure is
derived with plain Python loops that follow ``docs/metrics.md`` line by line.  Contiguity
is the connected components of the whole same-board graph.  ``full_recompute(plan)`` is
also what the "full recompute" benchmark times.
"""

from __future__ import annotations

import math

import numpy as np

from icbmap.metrics.contiguity import island_units, pieces_of_assignment
from icbmap.metrics.values import (
    DEFAULT_TOLERANCE, LevelValues, MetricValues, PopulationBand, has_coterminosity, table_levels,
)

_ISLANDS: dict[int, np.ndarray] = {}


def _islands(atlas) -> np.ndarray:
    key = id(atlas.adjacency)
    if key not in _ISLANDS:
        _ISLANDS[key] = island_units(atlas.adjacency)
    return _ISLANDS[key]


def _level_values(level: str, rows: np.ndarray, cols: np.ndarray, pop: np.ndarray, n: int, ncol: int,
                  board_units: list[int], board_pop: list[int], tolerance: float,
                  derive: bool = True) -> LevelValues:
    P = np.zeros((n + 1, ncol), np.int64)
    C = np.zeros((n + 1, ncol), np.int64)
    np.add.at(P, (rows, cols), pop)
    np.add.at(C, (rows, cols), 1)
    Pl, Cl = P.tolist(), C.tolist()
    area_pop = P.sum(0).tolist()
    area_units = C.sum(0).tolist()

    n_touch = [0] * ncol
    n_real = [0] * ncol
    main_board = [-1] * ncol
    main_pop = [0] * ncol
    area_score = [0.0] * ncol
    for c in range(1, ncol if derive else 1):
        ap = area_pop[c]
        pieces = [(b, Pl[b + 1][c], Cl[b + 1][c]) for b in range(n) if Cl[b + 1][c] > 0]
        n_touch[c] = len(pieces)
        n_real[c] = sum(1 for _, p, _ in pieces if not p < tolerance * ap)
        if pieces:
            best = min(pieces, key=lambda t: (-t[1], t[0]))
            main_board[c], main_pop[c] = best[0], best[1]
        if ap > 0:
            nested = sum(p for b, p, k in pieces if k == board_units[b])   # whole boards inside
            parts = [p for b, p, k in pieces if k != board_units[b]]
            parts += [nested, Pl[0][c]]                                     # + the unassigned part
            area_score[c] = math.fsum(math.sqrt(p / ap) for p in parts)

    whole_n = [0] * n
    part_n = [0] * n
    whole_pop = [0] * n
    board_score = [0.0] * n
    for b in range(n if derive else 0):
        row, crow = Pl[b + 1], Cl[b + 1]
        whole = [c for c in range(1, ncol) if crow[c] > 0 and crow[c] == area_units[c]]
        part = [c for c in range(1, ncol) if crow[c] > 0 and crow[c] != area_units[c]]
        whole_n[b], part_n[b] = len(whole), len(part)
        whole_pop[b] = sum(row[c] for c in whole)
        bp = board_pop[b]
        if bp > 0:
            parts = [row[c] for c in part] + [whole_pop[b] + row[0]]
            board_score[b] = math.fsum(math.sqrt(p / bp) for p in parts)

    i64 = lambda x: np.asarray(x, dtype=np.int64)  # noqa: E731
    return LevelValues(level, P, C, i64(n_touch), i64(n_real), i64(main_board), i64(main_pop),
                       np.asarray(area_score, np.float64), i64(whole_n), i64(part_n), i64(whole_pop),
                       np.asarray(board_score, np.float64))


def compute_values(plan, tolerance: float = DEFAULT_TOLERANCE) -> MetricValues:
    """Every raw figure of ``plan``, computed from scratch."""
    atlas = plan.atlas
    n = plan.n_boards
    pop = atlas.population.astype(np.int64)
    rows = plan.assignment.astype(np.int64) + 1
    bp = np.zeros(n + 1, np.int64)
    bu = np.zeros(n + 1, np.int64)
    np.add.at(bp, rows, pop)
    np.add.at(bu, rows, 1)
    reg = np.zeros(n + 1, np.int64)
    if plan.n_practices:
        np.add.at(reg, plan.practice_assignment.astype(np.int64) + 1, plan.practice_patients)
    board_units, board_pop = bu[1:].tolist(), bp[1:].tolist()
    levels = {}
    for lvl in table_levels(atlas):
        cols = atlas.unit_level(lvl).astype(np.int64) + 1
        ncol = len(atlas.level_layer(lvl)) + 1
        levels[lvl] = _level_values(lvl, rows, cols, pop, n, ncol, board_units, board_pop, float(tolerance),
                                    derive=has_coterminosity(lvl))
    pieces, isl = pieces_of_assignment(atlas.adjacency, plan.assignment, _islands(atlas), n)
    return MetricValues(
        n_boards=n, tolerance=float(tolerance), board_pop=bp[1:], board_units=bu[1:], registered=reg[1:],
        unassigned_units=int(bu[0]), unassigned_pop=int(bp[0]), unassigned_registered=int(reg[0]),
        pieces=pieces, island_pieces=isl, levels=levels)


def full_recompute(plan, tolerance: float = DEFAULT_TOLERANCE, band: PopulationBand | None = None):
    """The full report of ``plan``, computed from scratch."""
    from icbmap.metrics.report import build_report

    return build_report(plan, compute_values(plan, tolerance), band or PopulationBand())
