"""The optimiser's input as plain arrays: atoms, their adjacency, populations and overlaps.

An **atom** is a connected piece of one block inside the free part of the scope: a block
(a starting board, place, council or district) restricted to the units of the scope's boards
that are not locked, cut at NHS region lines when boards must nest in regions, and split into
its connected pieces over the unit adjacency (so that a board made of atoms that are
connected as atoms is connected as units).  The atoms of one block always go to the same
board: a block is moved whole.

:func:`build_problem` makes a :class:`Problem` from a plan and a request; tests also build
small ones by hand (``units`` is then ``None``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from icbmap.suggest.spec import BLOCK_ATLAS_LEVEL, Request, SuggestError


@dataclass
class Problem:
    pop: np.ndarray                       # int64 per atom
    edges: np.ndarray                     # (m, 2) int64, atom pairs a < b that touch
    block: np.ndarray                     # block index per atom (atoms of a block move together)
    region: np.ndarray                    # NHS region per atom (-1: spans regions)
    start: list[dict[int, int]]           # per atom: starting board id -> people
    areas: dict[str, list[dict[int, int]]] = field(default_factory=dict)   # "council"/"ca": per atom area -> people
    out_touch: dict[str, dict[int, int]] = field(default_factory=dict)     # level -> area -> fixed boards touching it
    equal_possible: dict[int, list[int]] = field(default_factory=dict)     # CA -> its atoms, if it can equal a board
    area_pop: dict[str, dict[int, int]] = field(default_factory=dict)      # level -> area -> all its people
    fixed_pops: list[int] = field(default_factory=list)                    # locked boards in the scope
    fixed_councils: list[int] = field(default_factory=list)                # councils each of them deals with
    names: list[str] = field(default_factory=list)
    gid: np.ndarray | None = None         # global atom id (sub-problems of a decomposition keep them)
    start_cluster: dict[int, int] = field(default_factory=dict)   # starting board -> 2025 cluster (index)
    sa_level: str | None = None           # metrics level of the strategic authorities (sa_nesting)
    or_areas: set = field(default_factory=set)   # (level, area) counted by the decomposition itself
    unit_region: np.ndarray | None = None  # NHS region of every unit as the boards' regions follow them
    alt_region: dict[int, tuple[int, ...]] = field(default_factory=dict)   # atom -> regions it may join
    # Atlas problems only
    unit_atom: np.ndarray | None = None   # atom of every unit (-1: not free)
    scope_boards: list[int] = field(default_factory=list)
    locked_boards: list[int] = field(default_factory=list)   # locked boards in the scope
    free_boards: list[int] = field(default_factory=list)
    scope_label: str = ""
    n_blocks: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.pop)

    @property
    def free_pop(self) -> int:
        return int(self.pop.sum())

    def regions_of(self, a: int) -> tuple[int, ...]:
        """The NHS regions atom ``a`` may join: its own, or any of a straddling block's."""
        return self.alt_region.get(a) or (int(self.region[a]),)

    def board_region(self, board) -> int:
        """The region a board of these atoms lies in (regions follow boards): the one its atoms
        share (the lowest if several)."""
        common = None
        for a in board:
            r = set(self.regions_of(int(a)))
            common = r if common is None else common & r
        return min(common) if common else int(self.region[int(board[0])])

    def neighbours(self) -> list[list[int]]:
        nb: list[list[int]] = [[] for _ in range(self.n)]
        for a, b in self.edges:
            nb[int(a)].append(int(b))
            nb[int(b)].append(int(a))
        return nb

    def __post_init__(self):
        if self.n_blocks == 0 and len(self.block):
            self.n_blocks = len(np.unique(self.block))
        if not self.names:
            self.names = [f"block {i}" for i in range(self.n)]
        if self.gid is None:
            self.gid = np.arange(self.n, dtype=np.int64)


# ---------------------------------------------------------------- scope
def resolve_scope(plan, scope: str) -> tuple[list[int], str]:
    """Active board ids in ``scope`` and a label for messages.

    ``england`` (or empty): every active board.  An NHS region by code or name (a board
    belongs to the region holding most of its people).  Otherwise a comma-separated list
    of board codes (or exact names).
    """
    atlas = plan.atlas
    active = [b for b in plan.boards if b.active]
    s = (scope or "england").strip()
    if s.lower() in ("england", "all", ""):
        return [b.id for b in active], "England"
    reg = atlas.layers["region"].table
    key = s.lower()
    for r in range(len(reg)):
        if key in (str(reg["code"].iat[r]).lower(), str(reg["name"].iat[r]).lower()):
            unit_reg = atlas.unit_level("region")
            pop = atlas.population
            ids = []
            for b in active:
                u = plan.assignment == b.id
                if not u.any():
                    continue
                w = np.bincount(unit_reg[u], weights=pop[u], minlength=len(reg))
                if int(np.argmax(w)) == r:
                    ids.append(b.id)
            if not ids:
                raise SuggestError(f"--scope {s}: the region {reg['name'].iat[r]} holds no board of this plan")
            return ids, str(reg["name"].iat[r])
    ids, unknown = [], []
    for part in s.split(","):
        part = part.strip()
        if not part:
            continue
        b = next((b for b in active if b.code == part or b.name.lower() == part.lower()), None)
        if b is None:
            unknown.append(part)
        elif b.id not in ids:
            ids.append(b.id)
    if unknown:
        names = ", ".join(str(x) for x in reg["name"])
        raise SuggestError(f"--scope {s!r}: {', '.join(unknown)} is neither an NHS region ({names}) nor the code "
                           "of a board in this plan")
    if not ids:
        raise SuggestError(f"--scope {s!r} names no board")
    label = ids[0] if len(ids) == 1 else None
    return ids, (plan.boards[label].name if label is not None else f"{len(ids)} chosen boards")


def locked_ids(plan, codes) -> list[int]:
    out = [b.id for b in plan.boards if b.active and b.locked]
    for code in codes:
        b = next((b for b in plan.boards if b.active and b.code == code), None)
        if b is None:
            raise SuggestError(f"--lock {code}: there is no board with this code in the plan")
        if b.id not in out:
            out.append(b.id)
    return sorted(out)


def _sa_level(atlas) -> str | None:
    from icbmap.principles.check import resolve_geography

    return resolve_geography(atlas, "strategic_authorities_2026")


def start_clusters(plan, board_ids) -> dict[int, int]:
    """Starting board id -> index of its 2025 cluster (boards not in the table: none)."""
    from icbmap.atlas.clusters import load_clusters

    table = load_clusters()
    ids = sorted(set(table["cluster_id"]))
    of = dict(zip(table["board_code"], table["cluster_id"]))
    out = {}
    for b in board_ids:
        code = plan.boards[b].code
        if code in of:
            out[int(b)] = ids.index(of[code])
    return out


# ---------------------------------------------------------------- build
def _dense(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, inv = np.unique(keys, return_inverse=True)
    return uniq, inv


def _pair_sums(atom: np.ndarray, other: np.ndarray, pop: np.ndarray, n: int) -> list[dict[int, int]]:
    """Per atom: other value -> summed population (``other`` -1 skipped)."""
    out: list[dict[int, int]] = [dict() for _ in range(n)]
    keep = other >= 0
    a, o, p = atom[keep], other[keep].astype(np.int64), pop[keep]
    key = a.astype(np.int64) * (int(o.max()) + 1 if len(o) else 1) + o
    uk, inv = np.unique(key, return_inverse=True)
    sums = np.bincount(inv, weights=p, minlength=len(uk)).astype(np.int64)
    first = np.zeros(len(uk), np.int64)
    first[inv] = np.arange(len(inv))
    for k, s, f in zip(uk, sums, first):
        out[int(a[f])][int(o[f])] = int(s)
    return out


def build_problem(plan, request: Request) -> Problem:
    """The atoms of ``request`` over ``plan`` (see the module docstring)."""
    atlas = plan.atlas
    cons = request.constraints
    scope_ids, scope_label = resolve_scope(plan, request.scope)
    locked = locked_ids(plan, cons.locked)
    locked_in = [b for b in scope_ids if b in locked]
    free = [b for b in scope_ids if b not in locked]
    if not free:
        raise SuggestError(f"every board in the scope ({scope_label}) is locked: there is nothing to rearrange")
    A = plan.assignment
    pop = atlas.population.astype(np.int64)
    is_free = np.isin(A, free)
    level = BLOCK_ATLAS_LEVEL[request.blocks]
    key = A.astype(np.int64) if level == "plan-board" else atlas.unit_level(level).astype(np.int64)
    region = atlas.unit_level("region").astype(np.int64)
    n_reg = len(atlas.layers["region"])
    n_straddle = 0
    unit_alt = None
    if cons.region_nesting and cons.regions_follow_boards:
        # regions follow boards: a block that straddles a region line goes whole to one of its
        # regions, whichever the solution chooses (Problem.alt_region); the region holding most of
        # its people (ties: the lowest region number) is its main one, which orders the atoms
        fu = np.flatnonzero(is_free)
        bk, binv = np.unique(key[fu], return_inverse=True)
        w = np.zeros((len(bk), n_reg))
        np.add.at(w, (binv, region[fu]), pop[fu] + 1e-6)
        breg = np.argmax(w, axis=1)
        strad = (w > 0).sum(axis=1) > 1
        n_straddle = int(strad.sum())
        unit_alt = np.full(atlas.n_units, -1, np.int64)
        unit_alt[fu] = np.where(strad[binv], binv, -1)
        block_regions = {int(i): tuple(int(g) for g in np.flatnonzero(w[i] > 0)) for i in np.flatnonzero(strad)}
        region = region.copy()
        region[fu] = breg[binv]
    key2 = key * (n_reg + 1) + region if cons.region_nesting else key
    n_units = atlas.n_units
    # atoms: connected pieces of (block [∩ region]) over free units
    ea, eb, _sh, _br = atlas.adjacency.pairs()
    same = is_free[ea] & is_free[eb] & (key2[ea] == key2[eb])
    g = coo_matrix((np.ones(int(same.sum()), np.int8), (ea[same], eb[same])), shape=(n_units, n_units))
    _nc, comp = connected_components(g, directed=False)
    free_units = np.flatnonzero(is_free)
    # order atoms: by region, then north to south (a sweep keeps "atoms after the root" connected)
    comp_f = comp[free_units]
    uc, inv = np.unique(comp_f, return_inverse=True)
    n = len(uc)
    apop = np.bincount(inv, weights=pop[free_units], minlength=n).astype(np.int64)
    y = atlas.unit_xy[free_units, 1]
    ay = np.bincount(inv, weights=y, minlength=n) / np.maximum(np.bincount(inv, minlength=n), 1)
    areg_min = np.full(n, n_reg + 1, np.int64)
    np.minimum.at(areg_min, inv, region[free_units])
    areg_max = np.full(n, -1, np.int64)
    np.maximum.at(areg_max, inv, region[free_units])
    order = np.lexsort((-ay, areg_min))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    unit_atom = np.full(n_units, -1, np.int64)
    unit_atom[free_units] = rank[inv]
    ua = unit_atom[free_units]
    apop = apop[order]
    areg = np.where(areg_min == areg_max, areg_min, -1)[order]
    # blocks
    ukey, block_of_unit = _dense(key2[free_units])
    ablock = np.zeros(n, np.int64)
    ablock[ua] = block_of_unit
    # edges between atoms
    cross = is_free[ea] & is_free[eb] & (unit_atom[ea] != unit_atom[eb])
    pa, pb = unit_atom[ea[cross]], unit_atom[eb[cross]]
    lo, hi = np.minimum(pa, pb), np.maximum(pa, pb)
    edges = np.unique(np.stack([lo, hi], axis=1), axis=0) if len(lo) else np.zeros((0, 2), np.int64)

    start = _pair_sums(ua, A[free_units].astype(np.int64), pop[free_units], n)
    alt_region: dict[int, tuple[int, ...]] = {}
    if unit_alt is not None:
        for u in free_units[unit_alt[free_units] >= 0]:
            alt_region[int(unit_atom[u])] = block_regions[int(unit_alt[u])]
    sa_level = _sa_level(atlas) if "sa_nesting" in request.weights.active() else None
    extra = list(cons.whole_areas) + [r.level for r in cons.nest + cons.soft if r.level] + ([sa_level] if sa_level else [])
    levels = ("council", "ca") + tuple(dict.fromkeys(lv for lv in extra if lv not in ("council", "ca")))
    areas, area_pop = {}, {}
    for lvl in levels:
        try:
            ul_all = atlas.unit_level(lvl).astype(np.int64)
        except KeyError:
            raise SuggestError(f"the geography {lvl!r} is not loaded in this data pack") from None
        areas[lvl] = _pair_sums(ua, ul_all[free_units], pop[free_units], n)
        keep = ul_all >= 0
        totals = np.bincount(ul_all[keep], weights=pop[keep])
        area_pop[lvl] = {int(c): int(totals[c]) for c in {c for d in areas[lvl] for c in d}}
    # fixed boards (locked, outside the scope) touching each area the free atoms touch
    fixed_units = np.flatnonzero(~is_free & (A >= 0))
    out_touch: dict[str, dict[int, int]] = {}
    for lvl in levels:
        ul = atlas.unit_level(lvl).astype(np.int64)
        touched = set(np.unique(ul[free_units]).tolist()) - {-1}
        fu = fixed_units[np.isin(ul[fixed_units], list(touched))] if touched else fixed_units[:0]
        pairs = np.unique(np.stack([ul[fu], A[fu].astype(np.int64)], axis=1), axis=0) if len(fu) else np.zeros((0, 2))
        cnt: dict[int, int] = {int(c): 0 for c in touched}
        for c, _b in pairs:
            cnt[int(c)] += 1
        out_touch[lvl] = cnt
    # combined authorities that could equal a board: every unit free, every atom touching them inside them
    ca_u = atlas.unit_level("ca").astype(np.int64)
    equal_possible: dict[int, list[int]] = {}
    for c in out_touch["ca"]:
        if out_touch["ca"][c]:
            continue
        atoms = sorted({a for a in range(n) if c in areas["ca"][a]})
        if all(areas["ca"][a].get(c, 0) == apop[a] and len(areas["ca"][a]) == 1 for a in atoms):
            # also the CA's zero-population units must be in these atoms
            if np.all(is_free[ca_u == c]):
                equal_possible[c] = atoms
    # locked boards inside the scope
    council_u = atlas.unit_level("council")
    fixed_pops = [int(pop[A == b].sum()) for b in locked_in]
    fixed_councils = [len(np.unique(council_u[A == b])) for b in locked_in]
    # names
    if level == "plan-board":
        block_names = {i: plan.boards[int(k // (n_reg + 1) if cons.region_nesting else k)].name for i, k in enumerate(ukey)}
    else:
        names = atlas.layers[level].table["name"].to_numpy(dtype=object)
        block_names = {i: str(names[int(k // (n_reg + 1) if cons.region_nesting else k)]) for i, k in enumerate(ukey)}
    per_block = np.bincount(ablock, minlength=len(ukey))
    anames = [block_names[int(b)] + (" (part)" if per_block[b] > 1 else "") for b in ablock]
    notes = []
    if n_straddle:
        notes.append(f"{n_straddle} {request.blocks} straddle an NHS region line: each goes whole to one of its "
                     "regions, whichever suits best (regions follow boards)")
    if cons.region_nesting and not cons.regions_follow_boards and level not in ("plan-board", "place"):
        base = key[free_units]
        cut = len(np.unique(base)) != len(ukey)
        if cut:
            notes.append(f"{len(ukey) - len(np.unique(base))} {request.blocks} cross an NHS region line and are "
                         "cut along it so that boards can nest in regions")
    # with regions following boards a block that crosses a region line goes whole to one of
    # its regions, so only whole boards (blocks fixed in their regions) keep such areas cut
    if cons.region_nesting and (not cons.regions_follow_boards or level == "plan-board"):
        whole = (["council"] if cons.councils_whole else []) + (["ca"] if cons.cas_whole else []) \
            + [lv for lv in cons.whole_areas if lv not in ("council", "ca")]
        for lvl in whole:
            ul = atlas.unit_level(lvl).astype(np.int64)
            touched = sorted(set(np.unique(ul[free_units]).tolist()) - {-1})
            names = atlas.level_layer(lvl).names
            crossing = [str(names[c]) for c in touched if len(np.unique(region[ul == c])) > 1]
            if crossing:
                notes.append(f"{', '.join(crossing)} ({atlas.level_label(lvl)}) cross an NHS region line: with "
                             "boards nested in regions they are kept whole within each region only")
    if "sa_nesting" in request.weights.active() and sa_level is None:
        notes.append("the 2026 strategic authorities are not loaded in this data pack: sa_nesting counts 0")
    return Problem(pop=apop, edges=edges.astype(np.int64), block=ablock, region=areg, start=start,
                   start_cluster=start_clusters(plan, free), sa_level=sa_level,
                   areas=areas, out_touch=out_touch, equal_possible=equal_possible, area_pop=area_pop,
                   fixed_pops=fixed_pops,
                   fixed_councils=fixed_councils, names=anames, unit_atom=unit_atom, scope_boards=scope_ids,
                   locked_boards=locked_in, free_boards=free, scope_label=scope_label,
                   n_blocks=len(ukey), notes=notes, unit_region=region, alt_region=alt_region)
