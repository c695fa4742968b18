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
    COUNT_FIELDS,
    FusedColumns,
    LevelValues,
    MetricValues,
    PerLevel,
    PopulationBand,
    column_count,
    has_coterminosity,
    table_levels,
)
from icbmap.plan.model import Change, Plan



def _fsum_groups(vals: list[float], bounds: list[int]) -> np.ndarray:
    """``math.fsum(vals[bounds[j]:bounds[j + 1]])`` for each ``j``: exactly rounded sums, so
    they depend neither on the order of the terms nor on zeros left out."""
    fsum = math.fsum
    return np.array([fsum(vals[a:b]) if b - a > 1 else (vals[a] if b > a else 0.0)
                     for a, b in zip(bounds, bounds[1:])], np.float64)


def _column_fsums(terms: np.ndarray) -> np.ndarray:
    """``math.fsum`` of each column of ``terms`` (non-negative), reading the non-zero terms."""
    tt = terms.T
    rr, cc = np.nonzero(tt)
    return _fsum_groups(tt[rr, cc].tolist(), np.searchsorted(rr, np.arange(tt.shape[0] + 1)).tolist())


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
            self._active = None
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
        self._sliver_pop = self.tolerance * self.area_pop          # a piece below this is a sliver
        self._peopled = (self.area_pop > 0).astype(np.float64)
        self._safe_pop = np.where(self.area_pop > 0, self.area_pop, 1)
        flat = (np.repeat(rows, nlev) * T + flat_cols)
        # people and units per board x column, stacked so one move updates both in one step
        self._pc = np.stack([
            np.bincount(flat, weights=wpop, minlength=(cap + 1) * T).astype(np.int64).reshape(cap + 1, T),
            np.bincount(flat, minlength=(cap + 1) * T).astype(np.int64).reshape(cap + 1, T)])
        self.pop, self.cnt = self._pc
        # per column: boards touching it, boards with a real piece, unassigned units (as last
        # derived), side by side so one step reads or writes all three
        self._seen = np.zeros((3, T), np.int64)
        self.n_touch, self.n_real = self._seen[0], self._seen[1]
        self.main_board = np.full(T, -1, np.int64)
        self.main_pop = np.zeros(T, np.int64)
        self.area_score = np.zeros(T, np.float64)
        self.whole_n = np.zeros((nlev, cap), np.int64)
        self.part_n = np.zeros((nlev, cap), np.int64)
        self.whole_pop = np.zeros((nlev, cap), np.int64)
        self.board_score = np.zeros((nlev, cap), np.float64)
        self._names = names
        self._ncols = ncols
        self._active = None                          # (active boards, ids) for the summary
        # the summary's counts summed per level (kept up to date by _update_cols from the
        # columns whose counts changed, so reading the summary does not sum every column)
        ap = self.area_pop.copy()
        ap[self._starts] = 0
        self._levc: list = [[0] * len(COUNT_FIELDS) + [p] for p in np.add.reduceat(ap, self._starts).tolist()]
        # the built-in levels' counts are kept move by move (the summary reads them after
        # every edit); a reference geography's are summed from its columns when its summary is
        # read (None until then), so a move's cost does not grow with their number
        self._lazy_from = sum(not lvl.startswith("ref:") for lvl in names)
        self._levc[self._lazy_from:] = [None] * (nlev - self._lazy_from)
        # likewise a reference geography's per-area figures: a move marks its columns stale
        # and they are re-derived, all at once, before anything reads them (values(),
        # values_view(), report(), or that geography's summary)
        self._lazy_col = int(off[self._lazy_from])      # reference geographies' columns come last
        self._stale: set[int] = set()
        self._group_key: dict[int, tuple] = {}       # rows -> (flat group key, bounds searched)
        self._nocot = np.flatnonzero(~cot)
        self._stale_boards: set[int] = set()
        self._make_views()
        self._make_parts()
        self._update_cols(np.flatnonzero(derived))
        self._update_rows(np.arange(plan.n_boards))
        self._update_rows(np.arange(plan.n_boards), lazy=True)
        self.contiguity = Contiguity(atlas.adjacency, plan.assignment, self._island, cap)

    def _make_views(self) -> None:
        self.levels: dict[str, _Level] = {
            lvl: _Level(lvl, i, int(self._starts[i]), self._ncols[i], self._ucols[:, i] - self._starts[i], self)
            for i, lvl in enumerate(self._names)}
        self._view_levels: tuple | None = None
        self._fused: tuple | None = None

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
        self._pc = np.concatenate([self._pc, z(2, extra, T)], axis=1)
        self.pop, self.cnt = self._pc
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
        P, C = self._pc[:, :, cols]
        Pb, Cb = P[1:], C[1:]
        touch = Cb > 0
        seen = np.stack([touch.sum(0), (touch & (Pb >= self._sliver_pop[cols])).sum(0), C[0]])
        self._count(cols, seen)
        self._seen[:, cols] = seen
        key = np.where(touch, Pb, -1)
        kmax = key.max(0)
        self.main_board[cols] = np.where(kmax >= 0, key.argmax(0), -1)
        self.main_pop[cols] = np.maximum(kmax, 0)
        # reduced sqrt-entropy, area direction: whole boards inside the area form one piece
        whole_board = touch & (Cb == self.board_units[1:, None])
        pieces = np.where(whole_board, 0, Pb)
        terms = np.sqrt(np.vstack([pieces, np.where(whole_board, Pb, 0).sum(0), P[0]]) / self._safe_pop[cols])
        self.area_score[cols] = _column_fsums(terms) * self._peopled[cols]     # 0 for an empty area

    def _count(self, cols: np.ndarray, seen: np.ndarray) -> None:
        """Move the per-level summary counts of ``cols`` from their last figures to ``seen``
        (:func:`~icbmap.metrics.values.column_count`, new minus old)."""
        old = self._seen[:, cols]
        ch = np.flatnonzero((seen != old).any(0))
        if len(ch) == 0:
            return
        levc, lazy = self._levc, self._lazy_from
        for lv, (a, b, x), (y, p, q), w in zip(self._col_level[cols[ch]].tolist(), seen[:, ch].T.tolist(),
                                               old[:, ch].T.tolist(), self.area_pop[cols[ch]].tolist()):
            row = levc[lv]
            if lv >= lazy:          # a reference geography: summed again when its summary is read
                levc[lv] = None
                continue
            for j, (n, o) in enumerate(zip(column_count(a, b, x, w), column_count(y, p, q, w))):
                row[j] += n - o

    def _make_parts(self) -> None:
        """The two column ranges a board's figures are derived over: the built-in levels
        (after every move) and the reference geographies (when read)."""
        T, nlev = len(self.area_pop), len(self._starts)
        self._parts = {}
        for lazy, (lo, hi, l0, l1) in ((False, (0, self._lazy_col, 0, self._lazy_from)),
                                       (True, (self._lazy_col, T, self._lazy_from, nlev))):
            cl = self._col_level[lo:hi] - l0
            self._parts[lazy] = dict(
                cols=slice(lo, hi), levels=slice(l0, l1), lo=lo, n_levels=l1 - l0,
                derived=self._derived[lo:hi], area_units=self.area_units[lo:hi],
                starts=self._starts[l0:l1] - lo, col_level=cl, nocot=np.flatnonzero(~self._cot[l0:l1]),
                keys={}, whole_in={})

    def _update_rows(self, boards: np.ndarray, lazy: bool = False) -> None:
        """Re-derive the per-board figures of ``boards`` at every level of one part (the
        built-in levels, or with ``lazy`` the reference geographies) at once."""
        pt = self._parts[lazy]
        if len(boards) == 0 or pt["n_levels"] == 0:
            return
        r = boards + 1
        s, L = pt["cols"], pt["levels"]
        P = self.pop[r, s]
        C = self.cnt[r, s]
        touch = (C > 0) & pt["derived"]
        whole = touch & (C == pt["area_units"])
        part = touch & ~whole
        starts = pt["starts"]
        holds = touch & (C == self.board_units[r, None])          # columns holding the board whole
        at, col = np.nonzero(holds)
        at, col = at.tolist(), (col + pt["lo"]).tolist()
        whole_in = pt["whole_in"]
        for i, b in enumerate(boards.tolist()):
            whole_in[b] = [c for a, c in zip(at, col) if a == i]
        pieces = np.where(part, P, 0)
        wpieces = np.where(whole, P, 0)
        n = np.add.reduceat(np.stack([whole, part, wpieces], dtype=np.int64), starts, axis=2)
        self.whole_n[L, boards], self.part_n[L, boards], self.whole_pop[L, boards] = n.transpose(0, 2, 1)
        # board direction: areas wholly inside the board, with its people in no area, form one
        # piece, put in the level's "no area" column (no piece of its own there)
        pieces[:, starts] = n[2] + P[:, starts]
        bp = self.board_pop[r]
        score = self._level_fsums(np.sqrt(pieces / np.where(bp > 0, bp, 1)[:, None]), pt)
        if (bp <= 0).any():
            score[bp <= 0] = 0.0
        score[:, pt["nocot"]] = 0.0                      # regions: the table only
        self.board_score[L, boards] = score.T

    @staticmethod
    def _level_fsums(terms: np.ndarray, pt: dict) -> np.ndarray:
        """``math.fsum`` of each row's terms per level: ``(rows, levels)``, exactly rounded."""
        m, nlev = terms.shape[0], pt["n_levels"]
        keys = pt["keys"].get(m)
        if keys is None:
            flat_key = (np.arange(m)[:, None] * nlev + pt["col_level"][None, :]).ravel()
            keys = pt["keys"][m] = (flat_key, np.arange(m * nlev + 1))
        flat = np.flatnonzero(terms)
        return _fsum_groups(terms.ravel()[flat].tolist(),
                            np.searchsorted(keys[0][flat], keys[1]).tolist()).reshape(m, nlev)

    # ------------------------------------------------------------- updates
    def _on_change(self, change: Change) -> None:
        if len(change.units):
            dirty = PerLevel({"boards": set(change.boards)}, pending=self._names,
                             make=self._apply_units(change))
        else:
            dirty = PerLevel(boards=set(change.boards))
        if len(change.practices):  # with the units of the same move, or alone
            pts = self.plan.practice_patients[change.practices]
            np.subtract.at(self.registered, change.old_practice_boards.astype(np.int64) + 1, pts)
            np.add.at(self.registered, change.new_practice_boards.astype(np.int64) + 1, pts)
        if change.structural:
            self._grow(self.plan.n_boards)
        if change.kind not in ("assign", "practices"):
            self._active = None                      # the board table changed
        self.last_dirty = dirty
        for fn in list(self._listeners):
            fn(change, dirty)

    def _apply_units(self, change: Change) -> Callable[[str], np.ndarray]:
        """Apply a move of units; returns what the dirty areas of a level are, made when read."""
        units = change.units
        old = change.old_boards.astype(np.int64)
        new = change.new_boards.astype(np.int64)
        if len(units) == 1:                              # the hot path: two boards at most
            o, n, u = int(old[0]), int(new[0]), int(units[0])
            touched = np.array(sorted({o, n} - {-1}), np.int64)
            p = int(self._pop[u])
            self.board_pop[o + 1] -= p
            self.board_pop[n + 1] += p
            self.board_units[o + 1] -= 1
            self.board_units[n + 1] += 1
            moved = self._ucols[u]                       # sorted: levels' column ranges ascend
            # both rows, every level, people and units at once (no repeated cells)
            self._pc[:, ((o + 1,), (n + 1,)), moved] += np.array(((-p, p), (-1, 1)), np.int64)[:, :, None]
        else:
            ro, rn = old + 1, new + 1
            upop = self._pop[units]
            touched = np.unique(np.concatenate([old, new]))
            touched = touched[touched >= 0]
            np.subtract.at(self.board_pop, ro, upop)
            np.add.at(self.board_pop, rn, upop)
            np.subtract.at(self.board_units, ro, 1)
            np.add.at(self.board_units, rn, 1)
            uc = self._ucols[units]                      # every level at once
            w = upop[:, None]
            np.subtract.at(self.pop, (ro[:, None], uc), w)
            np.add.at(self.pop, (rn[:, None], uc), w)
            np.subtract.at(self.cnt, (ro[:, None], uc), 1)
            np.add.at(self.cnt, (rn[:, None], uc), 1)
            moved = np.unique(uc)
        # an area's split score depends on which boards lie wholly inside it: the columns
        # holding a touched board whole, before and after the move, are re-derived too
        tl = touched.tolist()
        lazy = self._lazy_col
        moved_d = moved[self._derived[moved]].tolist()
        whole_in = self._parts[False]["whole_in"]
        cols = {c for c in moved_d if c < lazy}
        for b in tl:
            cols.update(whole_in.get(b, ()))
        self._update_rows(touched)                       # the touched boards, after the move
        for b in tl:
            cols.update(whole_in[b])
        self._update_cols(np.array(sorted(cols), np.int64))
        if self._parts[True]["n_levels"]:              # reference geographies: when read
            self._stale.update(c for c in moved_d if c >= lazy)
            self._stale_boards.update(tl)
        C = self.cnt[touched + 1] if tl else None
        self.contiguity.update(units, old, new)
        return self._dirty_areas(C, moved)

    def _dirty_areas(self, C: np.ndarray | None, moved: np.ndarray) -> Callable[[str], np.ndarray]:
        """What changed, per level: the areas of the moved units (fused columns ``moved``) and,
        where coterminosity is measured, the areas the touched boards (table rows ``C``, after
        the move) have pieces in; the "no area" columns left out.  Worked out on first read."""
        derived, reported, starts, index, first = self._derived, self._reported, self._starts, self._index, self._first
        made: list = []

        def areas(level: str) -> np.ndarray:
            if not made:
                mark = C.any(0) if C is not None else np.zeros(len(derived), bool)
                mark &= derived
                mark[moved[reported[moved]]] = True
                cols = np.flatnonzero(mark)
                made.extend((cols, np.searchsorted(cols, starts).tolist() + [len(cols)]))
            cols, cut = made
            i = index[level]
            return cols[cut[i]:cut[i + 1]] - first[i]

        return areas

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
            columns=None if copy else self._columns(n), refresh=None if copy else self._refresh)

    def _columns(self, n: int) -> FusedColumns:
        if self._fused is not None and self._fused[0] == n:    # live views: made once per size
            return self._fused[1]
        self._fused = (n, self._fused_columns(n))
        return self._fused[1]

    def _fused_columns(self, n: int) -> FusedColumns:
        return FusedColumns(self._names, self._starts, self.area_pop, self.cnt[0], self.n_touch, self.n_real,
                            self.main_board, self.area_score, self.board_score[:, :n], self._levc)

    def values(self) -> MetricValues:
        """A snapshot of every raw figure (arrays cut to the plan's board ids)."""
        self._refresh()
        return self._values(self._level_values(copy=True), copy=True)

    def _refresh(self, level: str | None = None) -> None:
        """Re-derive the stale columns of the reference geographies (before any read, or
        before reading ``level`` when it is one of them)."""
        if self._stale_boards and (level is None or self._index[level] >= self._lazy_from):
            # the columns the moved units are in, and those that held a touched board whole
            # when last derived or hold it whole now
            boards = np.array(sorted(self._stale_boards), np.int64)
            whole_in = self._parts[True]["whole_in"]
            cols = set(self._stale)
            for b in boards.tolist():
                cols.update(whole_in.get(b, ()))
            self._update_rows(boards, lazy=True)
            for b in boards.tolist():
                cols.update(whole_in[b])
            self._stale.clear()
            self._stale_boards.clear()
            self._update_cols(np.array(sorted(cols), np.int64))

    def summary(self):
        """Plan totals (cheap: read after every edit)."""
        from icbmap.metrics.report import active_boards, plan_summary

        if self._active is None:
            self._active = active_boards(self.plan)
        # a reference geography's summary refreshes its columns when it is read
        return plan_summary(self.plan, self.values_view(refresh=False), self.band, self._active)

    def values_view(self, refresh: bool = True) -> MetricValues:
        """Like :meth:`values` but sharing the live arrays (do not modify; valid until the next
        edit).  ``refresh=False``: the reference geographies' area figures may be stale until
        ``values.refresh(level)`` is called (the summary does, for the level it makes)."""
        if refresh:
            self._refresh()
        key = (self.plan.n_boards, id(self.pop))
        if self._view_levels is None or self._view_levels[0] != key:   # views stay live: made once
            self._view_levels = (key, self._level_values(copy=False))
        return self._values(self._view_levels[1], copy=False)

    def report(self, lazy_areas: bool = False):
        """The full report (plan summary, board rows, area rows per level, CA nesting).
        ``lazy_areas``: each level's area rows are made when first read, until the next edit
        (the app's panels show one level at a time)."""
        from icbmap.metrics.report import build_report

        return build_report(self.plan, self.values_view(), self.band, lazy_areas=lazy_areas)
