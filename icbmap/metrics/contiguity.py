"""Contiguity: connected pieces of each board, kept up to date move by move.

Rule (see docs/metrics.md): a board's pieces are the connected components of its units in
the atlas adjacency *including bridge edges* (the atlas joins every island landmass to the
nearest mainland unit by one bridge).  A unit is an *island unit* when its landmass, the
component of the land-only adjacency (bridges left out) it belongs to, is not the mainland
(the largest one).  A piece made only of island units is an *island piece*: it is reported
but is not a contiguity error.  A board is contiguous when it has at most one piece that is
not an island piece.

:class:`Contiguity` keeps a piece label per unit.  Removing units from a piece first tries
a local test (the piece's units next to the removed ones are still joined through their
own neighbours, which proves the piece stays whole) and otherwise recomputes that piece
alone; adding units joins them to the neighbouring pieces of their new board.  Work is
proportional to the moved units and their neighbourhood, or to the one piece that may
have split.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components


_SMALL_EDGES = 400
#: Units a cut-off search may visit before the whole piece is recomputed instead.
_CUT_BUDGET = 400


def _joined(nodes: np.ndarray, src: np.ndarray, dst: np.ndarray, targets: np.ndarray) -> bool:
    """True when every node of ``targets`` is reachable from the first through ``src``-``dst``
    edges (a small graph: plain Python search)."""
    nbrs: dict[int, list[int]] = {}
    for x, y in zip(src.tolist(), dst.tolist()):
        nbrs.setdefault(x, []).append(y)
        nbrs.setdefault(y, []).append(x)
    want = set(targets.tolist())
    start = next(iter(want))
    seen = {start}
    stack = [start]
    while stack:
        x = stack.pop()
        for y in nbrs.get(x, ()):
            if y not in seen:
                seen.add(y)
                stack.append(y)
    return want <= seen


def island_units(adjacency) -> np.ndarray:
    """Bool per unit: True when the unit's land-only landmass is not the mainland."""
    n = adjacency.n
    land = ~adjacency.bridge
    src = np.repeat(np.arange(n), np.diff(adjacency.indptr))[land]
    dst = adjacency.indices[land]
    g = csr_matrix((np.ones(len(src), np.int8), (src, dst)), shape=(n, n))
    _, lab = connected_components(g, directed=False)
    sizes = np.bincount(lab)
    return lab != int(np.argmax(sizes))


def gather(adjacency, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All adjacency edges leaving ``nodes``: ``(src, dst)`` unit indices (bridges included)."""
    indptr = adjacency.indptr
    starts = indptr[nodes]
    counts = indptr[nodes + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    src = np.repeat(nodes, counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(starts, counts)
    return src, adjacency.indices[offsets].astype(np.int64)


def pieces_of_assignment(adjacency, assignment: np.ndarray, island: np.ndarray, n_boards: int):
    """Full computation: ``(pieces, island_pieces)`` per board id (int64 arrays)."""
    n = adjacency.n
    src = np.repeat(np.arange(n), np.diff(adjacency.indptr))
    dst = adjacency.indices
    same = (assignment[src] == assignment[dst]) & (assignment[src] >= 0)
    g = csr_matrix((np.ones(int(same.sum()), np.int8), (src[same], dst[same])), shape=(n, n))
    _, lab = connected_components(g, directed=False)
    assigned = assignment >= 0
    ncomp = int(lab.max()) + 1 if n else 0
    comp_board = np.full(ncomp, -1, np.int64)
    comp_board[lab[assigned]] = assignment[assigned]
    comp_main = np.bincount(lab[assigned], weights=(~island[assigned]).astype(np.float64), minlength=ncomp)
    live = comp_board >= 0
    pieces = np.bincount(comp_board[live], minlength=n_boards).astype(np.int64)
    isl = np.bincount(comp_board[live & (comp_main == 0)], minlength=n_boards).astype(np.int64)
    return pieces[:n_boards], isl[:n_boards]


class Contiguity:
    """Piece labels per unit, updated incrementally; ``pieces`` / ``island_pieces`` per board."""

    def __init__(self, adjacency, assignment: np.ndarray, island: np.ndarray, capacity: int):
        self.adj = adjacency
        self.assignment = assignment  # the plan's array (read only here)
        self.island = island
        self.main = (~island).astype(np.int64)
        n = adjacency.n
        self._local = np.full(n, -1, np.int64)
        self._nbrs: dict[int, list[int]] = {}     # neighbour lists of the units visited so far
        self.pieces = np.zeros(capacity, np.int64)
        self.island_pieces = np.zeros(capacity, np.int64)
        self.rebuild()

    # ----------------------------------------------------------- helpers
    def _components(self, nodes: np.ndarray, src: np.ndarray, dst: np.ndarray) -> tuple[int, np.ndarray]:
        """Components of the graph on ``nodes`` with the edges ``src``-``dst`` that join two of them."""
        local = self._local
        local[nodes] = np.arange(len(nodes))
        s, d = local[src], local[dst]
        local[nodes] = -1
        keep = (s >= 0) & (d >= 0)
        s, d = s[keep], d[keep]
        m = len(nodes)
        g = csr_matrix((np.ones(len(s), np.int8), (s, d)), shape=(m, m))
        return connected_components(g, directed=False)

    def _new_label(self, board: int) -> int:
        lab = self._next
        if lab >= len(self.size):
            grow = max(len(self.size), 1024)
            self.size = np.concatenate([self.size, np.zeros(grow, np.int64)])
            self.nmain = np.concatenate([self.nmain, np.zeros(grow, np.int64)])
            self.board = np.concatenate([self.board, np.full(grow, -1, np.int64)])
        self._next += 1
        self.board[lab] = board
        self.size[lab] = 0
        self.nmain[lab] = 0
        return lab

    def ensure_capacity(self, capacity: int) -> None:
        if capacity > len(self.pieces):
            extra = capacity - len(self.pieces)
            self.pieces = np.concatenate([self.pieces, np.zeros(extra, np.int64)])
            self.island_pieces = np.concatenate([self.island_pieces, np.zeros(extra, np.int64)])

    # ----------------------------------------------------------- full build
    def rebuild(self) -> None:
        adj, a = self.adj, self.assignment
        n = adj.n
        src = np.repeat(np.arange(n), np.diff(adj.indptr))
        dst = adj.indices
        same = (a[src] == a[dst]) & (a[src] >= 0)
        g = csr_matrix((np.ones(int(same.sum()), np.int8), (src[same], dst[same])), shape=(n, n))
        ncomp, lab = connected_components(g, directed=False)
        assigned = a >= 0
        # compact labels to the assigned units' components
        used = np.unique(lab[assigned])
        remap = np.full(ncomp, -1, np.int64)
        remap[used] = np.arange(len(used))
        self.comp = np.where(assigned, remap[lab], -1).astype(np.int64)
        cap = max(2 * len(used), 1024)
        self.size = np.zeros(cap, np.int64)
        self.nmain = np.zeros(cap, np.int64)
        self.board = np.full(cap, -1, np.int64)
        self._next = len(used)
        c = self.comp[assigned]
        self.size[:len(used)] = np.bincount(c, minlength=len(used))
        self.nmain[:len(used)] = np.bincount(c, weights=self.main[assigned], minlength=len(used)).astype(np.int64)
        self.board[c] = a[assigned]
        self.pieces[:] = 0
        self.island_pieces[:] = 0
        self._recount(np.unique(a[assigned]))

    def _recount(self, boards) -> None:
        boards = np.asarray(boards, np.int64)
        boards = boards[boards >= 0]
        if len(boards) == 0:
            return
        k = self._next
        live = self.size[:k] > 0
        lb = self.board[:k][live]                   # every live piece's board, counted at once
        n = max(int(boards.max()) + 1, 1)
        self.pieces[boards] = np.bincount(lb, minlength=n)[boards]
        self.island_pieces[boards] = np.bincount(lb[self.nmain[:k][live] == 0], minlength=n)[boards]

    # ----------------------------------------------------------- updates
    def update(self, units: np.ndarray, old: np.ndarray, new: np.ndarray) -> None:
        """Units ``units`` moved from boards ``old`` to ``new`` (the plan's assignment already changed)."""
        if len(units) == 0:
            return
        if len(units) == 1:
            self._update_one(int(units[0]), int(old[0]), int(new[0]))
            return
        comp = self.comp
        # ---- removal
        was = old >= 0
        rem = units[was]
        if len(rem):
            labs = comp[rem]
            ul, inv = np.unique(labs, return_inverse=True)
            self.size[ul] -= np.bincount(inv, minlength=len(ul))
            self.nmain[ul] -= np.bincount(inv, weights=self.main[rem], minlength=len(ul)).astype(np.int64)
            comp[rem] = -1
            for j, lab in enumerate(ul):
                if self.size[lab] > 0:
                    self._check_split(int(lab), rem[inv == j])
        # ---- addition
        for b in np.unique(new[new >= 0]):
            self._join(int(b), units[new == b])
        self._recount(np.unique(np.concatenate([old, new])))

    def _neighbours(self, u: int) -> list[int]:
        """Every adjacency neighbour of unit ``u`` (bridges included), as Python ints."""
        nb = self._nbrs.get(u)
        if nb is None:
            indptr = self.adj.indptr
            nb = self._nbrs[u] = self.adj.indices[indptr[u]:indptr[u + 1]].tolist()
        return nb

    def _update_one(self, u: int, a: int, b: int) -> None:
        """:meth:`update` for one unit moved from board ``a`` to ``b`` (the hot path: a single
        LSOA dragged), in plain Python over its few neighbours; the same steps and results."""
        comp = self.comp
        nb = self._neighbours(u)
        if a >= 0:
            lab = int(comp[u])
            self.size[lab] -= 1
            self.nmain[lab] -= int(self.main[u])
            comp[u] = -1
            if self.size[lab] > 0:
                frontier = sorted({v for v in nb if comp[v] == lab})
                # the first local test of _check_split: the frontier joined among themselves
                if len(frontier) > 1 and not self._frontier_joined(frontier):
                    self._check_split(lab, np.array([u], np.int64))
        if b >= 0:
            a_ = self.assignment
            labs = {int(comp[v]) for v in nb if a_[v] == b} - {-1}
            if len(labs) == 1:                   # the usual case: it joins one piece
                (target,) = labs
                comp[u] = target
                self.size[target] += 1
                self.nmain[target] += int(self.main[u])
            else:
                self._attach(b, np.array([u], np.int64), np.array(sorted(labs), np.int64))
        self._recount((a, b))

    def _frontier_joined(self, frontier: list[int]) -> bool:
        """True when the ``frontier`` units reach each other through edges among themselves."""
        want = set(frontier)
        seen = {frontier[0]}
        stack = [frontier[0]]
        while stack:
            for y in self._neighbours(stack.pop()):
                if y in want and y not in seen:
                    seen.add(y)
                    stack.append(y)
        return seen == want

    def _check_split(self, lab: int, removed: np.ndarray) -> None:
        comp = self.comp
        _, nb = gather(self.adj, removed)
        frontier = np.unique(nb[comp[nb] == lab])
        if len(frontier) <= 1:
            return
        # local tests (each a proof that the piece is still whole):
        # 1. the frontier units are joined among themselves;
        s, d = gather(self.adj, frontier)
        inner = np.isin(d, frontier)
        if _joined(frontier, s[inner], d[inner], frontier):
            return
        # 2. ... or through their own neighbours in the piece.
        ring = np.unique(np.concatenate([frontier, d[comp[d] == lab]]))
        s2, d2 = gather(self.adj, ring)
        keep = np.isin(d2, ring)
        if len(s2) <= _SMALL_EDGES:
            if _joined(ring, s2[keep], d2[keep], frontier):
                return
        else:
            ncomp, labels = self._components(ring, s2[keep], d2[keep])
            local = self._local
            local[ring] = np.arange(len(ring))
            fl = labels[local[frontier]]
            local[ring] = -1
            if (fl == fl[0]).all():
                return
        # 3. the piece may have split: small cut-off parts (an enclave, a peninsula) are
        # found by searching from every frontier unit at once ...
        if self._cut_off(lab, frontier.tolist()):
            return
        # ... otherwise recompute the piece alone
        members = np.flatnonzero(comp == lab)
        s3, d3 = gather(self.adj, members)
        keep = comp[d3] == lab
        ncomp, labels = self._components(members, s3[keep], d3[keep])
        if ncomp == 1:
            return
        sizes = np.bincount(labels, minlength=ncomp)
        big = int(np.argmax(sizes))
        board = int(self.board[lab])
        mains = np.bincount(labels, weights=self.main[members], minlength=ncomp).astype(np.int64)
        for k in range(ncomp):
            if k == big:
                self.size[lab] = sizes[k]
                self.nmain[lab] = mains[k]
                continue
            new = self._new_label(board)
            comp[members[labels == k]] = new
            self.size[new] = sizes[k]
            self.nmain[new] = mains[k]

    def _cut_off(self, lab: int, frontier: list[int]) -> bool:
        """Split piece ``lab`` by interleaved searches from each frontier unit.

        Searches that meet are merged; a search that runs out of units has found a whole
        component cut off from the rest, which gets a new label.  When at most one search is
        still running, every remaining frontier unit is in one component, so the rest of the
        piece is connected.  Gives up (False, nothing changed) past ``_CUT_BUDGET`` steps.
        """
        comp, indptr, indices = self.comp, self.adj.indptr, self.adj.indices
        owner = {f: i for i, f in enumerate(frontier)}
        parent = list(range(len(frontier)))
        queues = [[f] for f in frontier]
        found = [[f] for f in frontier]

        def root(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        active = list(range(len(frontier)))
        closed: list[int] = []
        steps = 0
        while len(active) > 1:
            still = []
            for r in active:
                if parent[r] != r:
                    continue  # merged into another search
                q = queues[r]
                if not q:
                    closed.append(r)
                    continue
                x = q.pop()
                steps += 1
                if steps > _CUT_BUDGET:
                    return False
                for y in indices[indptr[x]:indptr[x + 1]].tolist():
                    if comp[y] != lab:
                        continue
                    o = owner.get(y)
                    if o is None:
                        owner[y] = r
                        q.append(y)
                        found[r].append(y)
                    else:
                        ro = root(o)
                        if ro != r:
                            parent[ro] = r
                            q.extend(queues[ro])
                            found[r].extend(found[ro])
                            queues[ro], found[ro] = [], []
                still.append(r)
            active = [r for r in still if parent[r] == r]
        if not closed:
            return True
        if not active:
            closed.pop()  # everything ran out: the last one keeps the label
        board = int(self.board[lab])
        for r in closed:
            nodes = np.array(found[r], dtype=np.int64)
            new = self._new_label(board)
            comp[nodes] = new
            k, m = len(nodes), int(self.main[nodes].sum())
            self.size[new], self.nmain[new] = k, m
            self.size[lab] -= k
            self.nmain[lab] -= m
        return True

    def _join(self, b: int, added: np.ndarray) -> None:
        comp, a = self.comp, self.assignment
        s, d = gather(self.adj, added)
        onb = a[d] == b
        s, d = s[onb], d[onb]
        if len(added) == 1:
            # one unit joins every neighbouring piece of its new board into one
            labs = np.unique(comp[d])
            self._attach(b, added, labs[labs >= 0])
            return
        inner = comp[d] < 0          # another unit being added to b in this move
        t_mask = ~inner
        t_nodes = np.unique(d[t_mask])
        nodes = np.concatenate([added, t_nodes])
        # chain the existing neighbours that already share a piece
        t_lab = comp[t_nodes]
        order = np.argsort(t_lab, kind="stable")
        ts, tl = t_nodes[order], t_lab[order]
        same = tl[1:] == tl[:-1]
        src = np.concatenate([s, ts[:-1][same]])
        dst = np.concatenate([d, ts[1:][same]])
        ncomp, labels = self._components(nodes, src, dst)
        k = len(added)
        add_lab = labels[:k]
        t_comp = labels[k:]
        for c in np.unique(add_lab):
            mine = added[add_lab == c]
            existing = np.unique(t_lab[t_comp == c]) if len(t_lab) else np.zeros(0, np.int64)
            self._attach(b, mine, existing)

    def _attach(self, b: int, mine: np.ndarray, existing: np.ndarray) -> None:
        """Units ``mine`` (connected, with the pieces ``existing``) become one piece of ``b``."""
        comp = self.comp
        if len(existing) == 0:
            target = self._new_label(b)
        else:
            target = int(existing[np.argmax(self.size[existing])])
            others = existing[existing != target]
            if len(others):
                moved = np.flatnonzero(np.isin(comp, others))
                comp[moved] = target
                self.size[target] += self.size[others].sum()
                self.nmain[target] += self.nmain[others].sum()
                self.size[others] = 0
                self.nmain[others] = 0
        comp[mine] = target
        self.size[target] += len(mine)
        self.nmain[target] += int(self.main[mine].sum())
