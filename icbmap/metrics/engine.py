"""Incremental metrics: board x area tables kept up to date as the plan changes.

``Metrics(plan)`` observes the plan.  On every :class:`~icbmap.plan.model.Change` it applies
the delta of the moved units to the board x area tables (population and unit counts, at
district, council, combined-authority and NHS-region level), then re-derives the figures
only for the boards touched and the areas whose figures can have changed (the areas of
the moved units and the areas the touched boards have pieces in), and updates the pieces
of the touched boards (:mod:`icbmap.metrics.contiguity`).  Moving k units costs
O(k + areas touched + the touched boards' pieces' boundary), not a recompute.

Definitions are in ``docs/metrics.md``; :func:`icbmap.metrics.reference.full_recompute`
computes the same :class:`~icbmap.metrics.values.MetricValues` from scratch, and the tests
check the two agree exactly after any sequence of edits.  Float figures are sums taken
with ``math.fsum`` (exactly rounded, so independent of order) of terms computed by one
correctly rounded operation each, which is what makes exact agreement possible.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from icbmap.listeners import Listeners
from icbmap.metrics.contiguity import Contiguity, island_units
from icbmap.metrics.values import (
    DEFAULT_TOLERANCE,
    FusedColumns,
    LevelValues,
    MetricValues,
    PerLevel,
    PopulationBand,
    has_coterminosity,
    table_levels,
)
from icbmap.plan.model import Change, Plan


def _row_sums(terms: np.ndarray) -> np.ndarray:
    """``math.fsum`` of each row of ``terms`` (non-negative).

    A row with at most two non-zero terms is summed by numpy: adding zeros is exact and one
    addition of two floats is correctly rounded, which is what ``fsum`` returns.  Only rows
    with three or more non-zero terms go through ``fsum``.
    """
    sums = terms.sum(-1)
    busy = np.flatnonzero(np.count_nonzero(terms, axis=-1) > 2)
    if len(busy):
        rows = terms[busy].tolist()
        for j, i in enumerate(busy.tolist()):
            sums[i] = math.fsum(rows[j])
    return sums


def _segment_sums(terms: np.ndarray, starts: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """``math.fsum`` of ``terms[r, starts[i]:starts[i + 1]]`` plus ``extra[r, i]``, for every
    row ``r`` and segment ``i`` (non-negative terms; the same exactness rule as :func:`_row_sums`)."""
    sums = np.add.reduceat(terms, starts, axis=1) + extra
    nnz = np.add.reduceat(terms != 0, starts, axis=1, dtype=np.int64) + (extra != 0)
    busy = np.argwhere(nnz > 2)
    if len(busy):
        ends = np.append(starts[1:], terms.shape[1])
        for r, i in busy.tolist():
            seg = terms[r, starts[i]:ends[i]].tolist()
            seg.append(float(extra[r, i]))
            sums[r, i] = math.fsum(seg)
    return sums


class _Level:
    """One level's view into the fused tables: its columns ``off .. off + ncol``."""

    __slots__ = ("level", "index", "off", "ncol", "cols", "area_pop", "area_units", "pop", "cnt")

    def __init__(self, level: str, index: int, off: int, ncol: int, cols: np.ndarray, engine: "Metrics"):
        self.level, self.index, self.off, self.ncol = level, index, off, ncol
        self.cols = cols                                   # int64 per unit: area + 1
        s = slice(off, off + ncol)
        self.area_pop = engine.area_pop[s]                 # int64 per column
        self.area_units = engine.area_units[s]
        self.pop = engine.pop[:, s]                        # views: (cap + 1) x ncol
        self.cnt = engine.cnt[:, s]


class Metrics(Listeners):
    """Every metric of a plan, updated incrementally as the plan changes.

    ``tolerance``: a board's piece of an area smaller than this share of the area's
    population is a *sliver* (reported apart from real splits).  ``band``: population flags.
    Listeners added with :meth:`add_listener` are called after each update with
    ``(change, dirty)`` where ``dirty`` is ``{"boards": set of ids, level: area indices}``
    (a :class:`~icbmap.metrics.values.PerLevel`: a level's indices are cut out when read).

    Every level (district, council, combined authority, region and each reference
    geography) is a range of columns in one fused board x column table, so a move updates
    all levels with a fixed number of array operations: its cost does not grow with the
    number of reference geographies.  ``self.levels[level]`` gives each level's view.
    """

    def __init__(self, plan: Plan, tolerance: float = DEFAULT_TOLERANCE,
                 band: PopulationBand | None = None, observe: bool = True):
        self.plan = plan
        self.atlas = atlas = plan.atlas
        self.tolerance = float(tolerance)
        self.band = band or PopulationBand()
        self._pop = atlas.population.astype(np.int64)
        # the same for every plan of the atlas
        self._island = atlas.derived.get("metrics.island_units", lambda: island_units(atlas.adjacency),
                                         depends=("adjacency",))
        self._listeners: list[Callable] = []
        self.last_dirty: dict = {"boards": set()}
        self._observing = False
        self.rebuild()
        if observe:
            plan.add_observer(self._on_change)
            self._observing = True

    # ------------------------------------------------------------- lifecycle
    def observe(self) -> None:
        """Start following the plan's edits (a table built with ``observe=False``)."""
        if not self._observing:
            self.plan.add_observer(self._on_change)
            self._observing = True

    def detach(self) -> None:
        """Stop observing the plan."""
        if self._observing:
            self.plan.remove_observer(self._on_change)
            self._observing = False

    def rebuild(self) -> None:
        """Recompute every table from the plan's assignment (used at start and after load)."""
        plan, atlas = self.plan, self.atlas
        cap = plan.n_boards + 8
        self.cap = cap
        rows = plan.assignment.astype(np.int64) + 1
        pop = self._pop
        self.board_pop = np.bincount(rows, weights=pop, minlength=cap + 1).astype(np.int64)
        self.board_units = np.bincount(rows, minlength=cap + 1).astype(np.int64)
        self.registered = np.zeros(cap + 1, np.int64)
        if plan.n_practices:
            np.add.at(self.registered, plan.practice_assignment.astype(np.int64) + 1, plan.practice_patients)
        names = table_levels(atlas)
        cols = [atlas.unit_level(lvl).astype(np.int64) + 1 for lvl in names]
        ncols = [len(atlas.level_layer(lvl)) + 1 for lvl in names]
        nlev = len(names)
        off = np.concatenate([[0], np.cumsum(ncols)]).astype(np.int64)
        T = int(off[-1])
        self._starts = off[:-1]
        self._ucols = np.stack(cols, axis=1) + self._starts          # unit x level -> fused column
        self._col_level = np.repeat(np.arange(nlev), ncols)
        cot = np.array([has_coterminosity(lvl) for lvl in names], bool)
        self._cot = cot
        derived = cot[self._col_level]
        derived[self._starts] = False                                  # "no area" columns
        self._derived = derived
        reported = derived | ~cot[self._col_level]     # regions: the areas of the moved units
        reported[self._starts] = False
        self._reported = reported
        self._first = (self._starts + 1).tolist()       # fused column of each level's area 0
        self._index = {lvl: i for i, lvl in enumerate(names)}
        flat_cols = self._ucols.ravel()
        wpop = np.repeat(pop, nlev)
        self.area_pop = np.bincount(flat_cols, weights=wpop, minlength=T).astype(np.int64)
        self.area_units = np.bincount(flat_cols, minlength=T).astype(np.int64)
        flat = (np.repeat(rows, nlev) * T + flat_cols)
        self.pop = np.bincount(flat, weights=wpop, minlength=(cap + 1) * T).astype(np.int64).reshape(cap + 1, T)
        self.cnt = np.bincount(flat, minlength=(cap + 1) * T).astype(np.int64).reshape(cap + 1, T)
        self.n_touch = np.zeros(T, np.int64)
        self.n_real = np.zeros(T, np.int64)
        self.main_board = np.full(T, -1, np.int64)
        self.main_pop = np.zeros(T, np.int64)
        self.area_score = np.zeros(T, np.float64)
        self.whole_n = np.zeros((nlev, cap), np.int64)
        self.part_n = np.zeros((nlev, cap), np.int64)
        self.whole_pop = np.zeros((nlev, cap), np.int64)
        self.board_score = np.zeros((nlev, cap), np.float64)
        self._names = names
        self._ncols = ncols
        self._make_views()
        self._update_cols(np.flatnonzero(derived))
        self._update_rows(np.arange(plan.n_boards))
        self.contiguity = Contiguity(atlas.adjacency, plan.assignment, self._island, cap)

    def _make_views(self) -> None:
        self.levels: dict[str, _Level] = {
            lvl: _Level(lvl, i, int(self._starts[i]), self._ncols[i], self._ucols[:, i] - self._starts[i], self)
            for i, lvl in enumerate(self._names)}
        self._view_levels: tuple | None = None

    def _grow(self, n_boards: int) -> None:
        if n_boards <= self.cap:
            return
        cap = max(n_boards, 2 * self.cap)
        extra = cap - self.cap
        z = lambda *shape: np.zeros(shape, np.int64)  # noqa: E731
        self.board_pop = np.concatenate([self.board_pop, z(extra)])
        self.board_units = np.concatenate([self.board_units, z(extra)])
        self.registered = np.concatenate([self.registered, z(extra)])
        T, nlev = self.pop.shape[1], len(self._names)
        self.pop = np.vstack([self.pop, z(extra, T)])
        self.cnt = np.vstack([self.cnt, z(extra, T)])
        self.whole_n = np.hstack([self.whole_n, z(nlev, extra)])
        self.part_n = np.hstack([self.part_n, z(nlev, extra)])
        self.whole_pop = np.hstack([self.whole_pop, z(nlev, extra)])
        self.board_score = np.hstack([self.board_score, np.zeros((nlev, extra), np.float64)])
        self.contiguity.ensure_capacity(cap)
        self.cap = cap
        self._make_views()

    # ------------------------------------------------------------- derivation
    def _update_cols(self, cols: np.ndarray) -> None:
        """Re-derive the per-area figures of fused columns ``cols`` (derived columns only)."""
        if len(cols) == 0:
            return
        P = self.pop[:, cols]
        C = self.cnt[:, cols]
        Pb, Cb = P[1:], C[1:]
        ap = self.area_pop[cols]
        touch = Cb > 0
        self.n_touch[cols] = touch.sum(0)
        self.n_real[cols] = (touch & ~(Pb < self.tolerance * ap)).sum(0)
        key = np.where(touch, Pb, -1)
        m = key.argmax(0)
        kmax = key[m, np.arange(len(cols))]
        self.main_board[cols] = np.where(kmax >= 0, m, -1)
        self.main_pop[cols] = np.maximum(kmax, 0)
        # reduced sqrt-entropy, area direction: whole boards inside the area form one piece
        whole_board = touch & (Cb == self.board_units[1:, None])
        dummy = np.where(whole_board, Pb, 0).sum(0)
        pieces = np.where(whole_board, 0, Pb)
        safe = np.where(ap > 0, ap, 1)
        terms = np.sqrt(np.vstack([pieces, dummy[None, :], P[0][None, :]]) / safe)
        self.area_score[cols] = np.where(ap > 0, _row_sums(terms.T), 0.0)

    def _update_rows(self, boards: np.ndarray) -> None:
        """Re-derive the per-board figures of ``boards`` at every level at once."""
        if len(boards) == 0:
            return
        r = boards + 1
        P = self.pop[r]
        C = self.cnt[r]
        touch = (C > 0) & self._derived
        whole = touch & (C == self.area_units)
        starts = self._starts
        self.whole_n[:, boards] = np.add.reduceat(whole, starts, axis=1, dtype=np.int64).T
        self.part_n[:, boards] = np.add.reduceat(touch & ~whole, starts, axis=1, dtype=np.int64).T
        wp = np.add.reduceat(np.where(whole, P, 0), starts, axis=1)
        self.whole_pop[:, boards] = wp.T
        bp = self.board_pop[r]
        safe = np.where(bp > 0, bp, 1)[:, None]
        pieces = np.where(touch & ~whole, P, 0)
        dummy = wp + P[:, starts]
        score = _segment_sums(np.sqrt(pieces / safe), starts, np.sqrt(dummy / safe))
        score[bp <= 0] = 0.0
        score[:, ~self._cot] = 0.0                       # regions: the table only
        self.board_score[:, boards] = score.T

    def _whole_cols(self, rows: np.ndarray) -> np.ndarray:
        """Derived columns that wholly contain one of the boards at table rows ``rows``."""
        C = self.cnt[rows]
        return np.flatnonzero(((C == self.board_units[rows, None]) & (C > 0)).any(0) & self._derived)

    # ------------------------------------------------------------- updates
    def _on_change(self, change: Change) -> None:
        dirty = PerLevel(boards=set(change.boards))
        if len(change.units):
            self._apply_units(change, dirty)
        if len(change.practices):  # with the units of the same move, or alone
            pts = self.plan.practice_patients[change.practices]
            np.subtract.at(self.registered, change.old_practice_boards.astype(np.int64) + 1, pts)
            np.add.at(self.registered, change.new_practice_boards.astype(np.int64) + 1, pts)
        if change.structural:
            self._grow(self.plan.n_boards)
        self.last_dirty = dirty
        for fn in list(self._listeners):
            fn(change, dirty)

    def _apply_units(self, change: Change, dirty: dict) -> None:
        units = change.units
        old = change.old_boards.astype(np.int64)
        new = change.new_boards.astype(np.int64)
        ro, rn = old + 1, new + 1
        upop = self._pop[units]
        if len(units) == 1:                              # the hot path: two boards at most
            touched = np.array(sorted({int(old[0]), int(new[0])} - {-1}), np.int64)
        else:
            touched = np.unique(np.concatenate([old, new]))
            touched = touched[touched >= 0]
        # an area's split score depends on which boards lie wholly inside it: the columns
        # holding a touched board whole, before and after the move, are re-derived too
        was_whole = self._whole_cols(touched + 1)
        np.subtract.at(self.board_pop, ro, upop)
        np.add.at(self.board_pop, rn, upop)
        np.subtract.at(self.board_units, ro, 1)
        np.add.at(self.board_units, rn, 1)
        uc = self._ucols[units]                          # every level at once
        if len(units) == 1:                              # the hot path: no repeated cells
            moved = uc[0]                                # sorted: levels' column ranges ascend
            p = upop[0]
            self.pop[ro[0], moved] -= p
            self.pop[rn[0], moved] += p
            self.cnt[ro[0], moved] -= 1
            self.cnt[rn[0], moved] += 1
        else:
            w = upop[:, None]
            np.subtract.at(self.pop, (ro[:, None], uc), w)
            np.add.at(self.pop, (rn[:, None], uc), w)
            np.subtract.at(self.cnt, (ro[:, None], uc), 1)
            np.add.at(self.cnt, (rn[:, None], uc), 1)
            moved = np.unique(uc)
        rows = touched + 1
        mark = np.zeros(len(self.area_pop), bool)
        mark[moved] = True
        mark[was_whole] = True
        mark[self._whole_cols(rows)] = True
        self._update_cols(np.flatnonzero(mark & self._derived))
        self._update_rows(touched)
        # what changed, per level: the areas of the moved units and, where coterminosity is
        # measured, the areas the touched boards have pieces in (the "no area" columns left out)
        mark[:] = self.cnt[rows].any(0) & self._derived
        mark[moved[self._reported[moved]]] = True
        cols = np.flatnonzero(mark)
        cut = np.searchsorted(cols, self._starts).tolist() + [len(cols)]
        index, first = self._index, self._first

        def areas(level: str) -> np.ndarray:
            i = index[level]
            return cols[cut[i]:cut[i + 1]] - first[i]

        dirty.update_pending(self._names, areas)
        self.contiguity.update(units, old, new)

    # ------------------------------------------------------------- results
    def _level_values(self, copy: bool) -> dict[str, LevelValues]:
        n = self.plan.n_boards
        out = {}
        for lvl, L in self.levels.items():
            i, s = L.index, slice(L.off, L.off + L.ncol)
            arrays = (L.pop[:n + 1], L.cnt[:n + 1], self.n_touch[s], self.n_real[s], self.main_board[s],
                      self.main_pop[s], self.area_score[s], self.whole_n[i, :n], self.part_n[i, :n],
                      self.whole_pop[i, :n], self.board_score[i, :n])
            out[lvl] = LevelValues(lvl, *([a.copy() for a in arrays] if copy else arrays))
        return out

    def _values(self, levels: dict[str, LevelValues], copy: bool) -> MetricValues:
        n = self.plan.n_boards
        c = self.contiguity
        cp = (lambda a: a.copy()) if copy else (lambda a: a)  # noqa: E731
        return MetricValues(
            n_boards=n, tolerance=self.tolerance,
            board_pop=cp(self.board_pop[1:n + 1]), board_units=cp(self.board_units[1:n + 1]),
            registered=cp(self.registered[1:n + 1]),
            unassigned_units=int(self.board_units[0]), unassigned_pop=int(self.board_pop[0]),
            unassigned_registered=int(self.registered[0]),
            pieces=cp(c.pieces[:n]), island_pieces=cp(c.island_pieces[:n]), levels=levels,
            columns=None if copy else self._columns(n))

    def _columns(self, n: int) -> FusedColumns:
        return FusedColumns(self._names, self._starts, self.area_pop, self.cnt[0], self.n_touch, self.n_real,
                            self.main_board, self.area_score, self.board_score[:, :n])

    def values(self) -> MetricValues:
        """A snapshot of every raw figure (arrays cut to the plan's board ids)."""
        return self._values(self._level_values(copy=True), copy=True)

    def summary(self):
        """Plan totals (cheap: read after every edit)."""
        from icbmap.metrics.report import plan_summary

        return plan_summary(self.plan, self.values_view(), self.band)

    def values_view(self) -> MetricValues:
        """Like :meth:`values` but sharing the live arrays (do not modify; valid until the next edit)."""
        key = (self.plan.n_boards, id(self.pop))
        if self._view_levels is None or self._view_levels[0] != key:   # views stay live: made once
            self._view_levels = (key, self._level_values(copy=False))
        return self._values(self._view_levels[1], copy=False)

    def report(self):
        """The full report (plan summary, board rows, area rows per level, CA nesting)."""
        from icbmap.metrics.report import build_report

        return build_report(self.plan, self.values_view(), self.band)
