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
    LevelValues,
    MetricValues,
    PopulationBand,
    has_coterminosity,
    table_levels,
)
from icbmap.plan.model import Change, Plan


class _Level:
    """Mutable state of one level."""

    def __init__(self, level: str, cols: np.ndarray, area_pop: np.ndarray, area_units: np.ndarray, cap: int):
        self.level = level
        self.cols = cols                      # int64 per unit: area + 1
        self.area_pop = area_pop              # int64 per column
        self.area_units = area_units          # int64 per column
        ncol = len(area_pop)
        self.ncol = ncol
        self.pop = np.zeros((cap + 1, ncol), np.int64)
        self.cnt = np.zeros((cap + 1, ncol), np.int64)
        self.n_touch = np.zeros(ncol, np.int64)
        self.n_real = np.zeros(ncol, np.int64)
        self.main_board = np.full(ncol, -1, np.int64)
        self.main_pop = np.zeros(ncol, np.int64)
        self.area_score = np.zeros(ncol, np.float64)
        self.whole_n = np.zeros(cap, np.int64)
        self.part_n = np.zeros(cap, np.int64)
        self.whole_pop = np.zeros(cap, np.int64)
        self.board_score = np.zeros(cap, np.float64)

    def grow(self, cap: int) -> None:
        extra = cap + 1 - self.pop.shape[0]
        if extra <= 0:
            return
        self.pop = np.vstack([self.pop, np.zeros((extra, self.ncol), np.int64)])
        self.cnt = np.vstack([self.cnt, np.zeros((extra, self.ncol), np.int64)])
        for name in ("whole_n", "part_n", "whole_pop"):
            setattr(self, name, np.concatenate([getattr(self, name), np.zeros(extra, np.int64)]))
        self.board_score = np.concatenate([self.board_score, np.zeros(extra, np.float64)])


class Metrics(Listeners):
    """Every metric of a plan, updated incrementally as the plan changes.

    ``tolerance``: a board's piece of an area smaller than this share of the area's
    population is a *sliver* (reported apart from real splits).  ``band``: population flags.
    Listeners added with :meth:`add_listener` are called after each update with
    ``(change, dirty)`` where ``dirty`` is ``{"boards": set of ids, level: area indices}``.
    """

    def __init__(self, plan: Plan, tolerance: float = DEFAULT_TOLERANCE,
                 band: PopulationBand | None = None, observe: bool = True):
        self.plan = plan
        self.atlas = atlas = plan.atlas
        self.tolerance = float(tolerance)
        self.band = band or PopulationBand()
        self._pop = atlas.population.astype(np.int64)
        island = atlas.__dict__.get("_island_units")   # the same for every plan of the atlas
        if island is None:
            island = atlas.__dict__["_island_units"] = island_units(atlas.adjacency)
        self._island = island
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
        self.levels: dict[str, _Level] = {}
        for lvl in table_levels(atlas):
            cols = atlas.unit_level(lvl).astype(np.int64) + 1
            ncol = len(atlas.level_layer(lvl)) + 1
            area_pop = np.bincount(cols, weights=pop, minlength=ncol).astype(np.int64)
            area_units = np.bincount(cols, minlength=ncol).astype(np.int64)
            L = _Level(lvl, cols, area_pop, area_units, cap)
            flat = rows * ncol + cols
            L.pop[:] = np.bincount(flat, weights=pop, minlength=(cap + 1) * ncol).astype(np.int64).reshape(cap + 1, ncol)
            L.cnt[:] = np.bincount(flat, minlength=(cap + 1) * ncol).astype(np.int64).reshape(cap + 1, ncol)
            self.levels[lvl] = L
            if has_coterminosity(lvl):
                self._update_cols(L, np.arange(1, ncol))
                self._update_rows(L, np.arange(plan.n_boards))
        self.contiguity = Contiguity(atlas.adjacency, plan.assignment, self._island, cap)

    def _grow(self, n_boards: int) -> None:
        if n_boards <= self.cap:
            return
        cap = max(n_boards, 2 * self.cap)
        extra = cap - self.cap
        self.board_pop = np.concatenate([self.board_pop, np.zeros(extra, np.int64)])
        self.board_units = np.concatenate([self.board_units, np.zeros(extra, np.int64)])
        self.registered = np.concatenate([self.registered, np.zeros(extra, np.int64)])
        for L in self.levels.values():
            L.grow(cap)
        self.contiguity.ensure_capacity(cap)
        self.cap = cap

    # ------------------------------------------------------------- derivation
    def _update_cols(self, L: _Level, cols: np.ndarray) -> None:
        """Re-derive the per-area figures of columns ``cols`` (all > 0)."""
        if len(cols) == 0:
            return
        P = L.pop[:, cols]
        C = L.cnt[:, cols]
        Pb, Cb = P[1:], C[1:]
        ap = L.area_pop[cols]
        touch = Cb > 0
        L.n_touch[cols] = touch.sum(0)
        L.n_real[cols] = (touch & ~(Pb < self.tolerance * ap)).sum(0)
        key = np.where(touch, Pb, -1)
        m = key.argmax(0)
        kmax = key[m, np.arange(len(cols))]
        L.main_board[cols] = np.where(kmax >= 0, m, -1)
        L.main_pop[cols] = np.maximum(kmax, 0)
        # reduced sqrt-entropy, area direction: whole boards inside the area form one piece
        bu = self.board_units[1:Pb.shape[0] + 1, None]
        whole_board = touch & (Cb == bu)
        dummy = np.where(whole_board, Pb, 0).sum(0)
        pieces = np.where(whole_board, 0, Pb)
        safe = np.where(ap > 0, ap, 1)
        terms = np.sqrt(np.vstack([pieces, dummy[None, :], P[0][None, :]]) / safe)
        cols_terms = terms.T.tolist()
        scores = L.area_score
        for j, c in enumerate(cols.tolist()):
            scores[c] = math.fsum(cols_terms[j]) if ap[j] > 0 else 0.0

    def _update_rows(self, L: _Level, boards: np.ndarray) -> None:
        """Re-derive the per-board figures of ``boards`` at level ``L``."""
        if len(boards) == 0:
            return
        r = boards + 1
        P = L.pop[r, 1:]
        C = L.cnt[r, 1:]
        touch = C > 0
        whole = touch & (C == L.area_units[1:])
        L.whole_n[boards] = whole.sum(1)
        L.part_n[boards] = (touch & ~whole).sum(1)
        wp = np.where(whole, P, 0).sum(1)
        L.whole_pop[boards] = wp
        bp = self.board_pop[r]
        dummy = wp + L.pop[r, 0]
        safe = np.where(bp > 0, bp, 1)
        pieces = np.where(whole, 0, P)
        terms = np.sqrt(np.hstack([pieces, dummy[:, None]]) / safe[:, None])
        rows_terms = terms.tolist()
        for j, b in enumerate(boards.tolist()):
            L.board_score[b] = math.fsum(rows_terms[j]) if bp[j] > 0 else 0.0

    # ------------------------------------------------------------- updates
    def _on_change(self, change: Change) -> None:
        dirty: dict = {"boards": set(change.boards)}
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
        np.subtract.at(self.board_pop, ro, upop)
        np.add.at(self.board_pop, rn, upop)
        np.subtract.at(self.board_units, ro, 1)
        np.add.at(self.board_units, rn, 1)
        touched = np.unique(np.concatenate([old, new]))
        touched = touched[touched >= 0]
        for lvl, L in self.levels.items():
            cols = L.cols[units]
            np.subtract.at(L.pop, (ro, cols), upop)
            np.add.at(L.pop, (rn, cols), upop)
            np.subtract.at(L.cnt, (ro, cols), 1)
            np.add.at(L.cnt, (rn, cols), 1)
            if not has_coterminosity(lvl):   # regions: the table is all we need
                dirty[lvl] = np.unique(cols[cols > 0]) - 1
                continue
            held = np.flatnonzero(L.cnt[touched + 1].any(0))
            dcols = np.unique(np.concatenate([cols, held]))
            dcols = dcols[dcols > 0]
            self._update_cols(L, dcols)
            self._update_rows(L, touched)
            dirty[lvl] = dcols - 1
        self.contiguity.update(units, old, new)

    # ------------------------------------------------------------- results
    def values(self) -> MetricValues:
        """A snapshot of every raw figure (arrays cut to the plan's board ids)."""
        n = self.plan.n_boards
        levels = {}
        for lvl, L in self.levels.items():
            levels[lvl] = LevelValues(
                lvl, L.pop[:n + 1].copy(), L.cnt[:n + 1].copy(), L.n_touch.copy(), L.n_real.copy(),
                L.main_board.copy(), L.main_pop.copy(), L.area_score.copy(),
                L.whole_n[:n].copy(), L.part_n[:n].copy(), L.whole_pop[:n].copy(), L.board_score[:n].copy())
        c = self.contiguity
        return MetricValues(
            n_boards=n, tolerance=self.tolerance,
            board_pop=self.board_pop[1:n + 1].copy(), board_units=self.board_units[1:n + 1].copy(),
            registered=self.registered[1:n + 1].copy(),
            unassigned_units=int(self.board_units[0]), unassigned_pop=int(self.board_pop[0]),
            unassigned_registered=int(self.registered[0]),
            pieces=c.pieces[:n].copy(), island_pieces=c.island_pieces[:n].copy(), levels=levels)

    def summary(self):
        """Plan totals (cheap: read after every edit)."""
        from icbmap.metrics.report import plan_summary

        return plan_summary(self.plan, self.values_view(), self.band)

    def values_view(self) -> MetricValues:
        """Like :meth:`values` but sharing the live arrays (do not modify; valid until the next edit)."""
        n = self.plan.n_boards
        levels = {}
        for lvl, L in self.levels.items():
            levels[lvl] = LevelValues(
                lvl, L.pop[:n + 1], L.cnt[:n + 1], L.n_touch, L.n_real, L.main_board, L.main_pop,
                L.area_score, L.whole_n[:n], L.part_n[:n], L.whole_pop[:n], L.board_score[:n])
        c = self.contiguity
        return MetricValues(
            n_boards=n, tolerance=self.tolerance, board_pop=self.board_pop[1:n + 1],
            board_units=self.board_units[1:n + 1], registered=self.registered[1:n + 1],
            unassigned_units=int(self.board_units[0]), unassigned_pop=int(self.board_pop[0]),
            unassigned_registered=int(self.registered[0]),
            pieces=c.pieces[:n], island_pieces=c.island_pieces[:n], levels=levels)

    def report(self):
        """The full report (plan summary, board rows, area rows per level, CA nesting)."""
        from icbmap.metrics.report import build_report

        return build_report(self.plan, self.values_view(), self.band)
