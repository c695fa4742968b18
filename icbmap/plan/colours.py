"""Board colours: a colour-blind-safe palette and a colouring where neighbours differ.

Palette (24 fill colours), in this order:

* Okabe & Ito, "Color Universal Design" (2008), https://jfly.uni-koeln.de/color/ — the
  eight colours less black (black is kept for outlines and labels);
* Paul Tol, "Colour Schemes" (SRON/EPS/TN/09-002), https://personal.sron.nl/~pault/ —
  the qualitative *muted* set (nine colours) and the *light* set (eight colours), both
  designed to stay distinct under the common colour-vision deficiencies.

The baseline colouring is DSatur (Brélaz 1979) on the board adjacency graph: two boards are
adjacent when any of their units are adjacent in ``atlas.adjacency`` (bridge edges to
islands included), so neighbouring boards never share a colour.  Among the colours a board
may take, the one used least so far is chosen (ties: palette order), which spreads the
palette over the map instead of reusing four colours.  Colours follow boards: a merge
keeps the kept board's colour; after edits :func:`colour_conflicts` lists adjacent boards
sharing a colour and :func:`repair_colours` proposes the fewest recolourings to fix them.
"""

from __future__ import annotations

import numpy as np

OKABE_ITO = [
    ("#E69F00", "orange"), ("#56B4E9", "sky blue"), ("#009E73", "bluish green"),
    ("#F0E442", "yellow"), ("#0072B2", "blue"), ("#D55E00", "vermillion"),
    ("#CC79A7", "reddish purple"),
]
TOL_MUTED = [
    ("#CC6677", "rose"), ("#332288", "indigo"), ("#DDCC77", "sand"), ("#117733", "green"),
    ("#88CCEE", "cyan"), ("#882255", "wine"), ("#44AA99", "teal"), ("#999933", "olive"),
    ("#AA4499", "purple"),
]
TOL_LIGHT = [
    ("#77AADD", "light blue"), ("#EE8866", "orange"), ("#EEDD88", "light yellow"),
    ("#FFAABB", "pink"), ("#99DDFF", "light cyan"), ("#44BB99", "mint"), ("#BBCC33", "pear"),
    ("#AAAA00", "olive"),
]
#: (hex, name, source) in preference order.
PALETTE_NAMED = ([(h, n, "Okabe-Ito") for h, n in OKABE_ITO]
                 + [(h, n, "Tol muted") for h, n in TOL_MUTED]
                 + [(h, n, "Tol light") for h, n in TOL_LIGHT])
PALETTE: list[str] = [h for h, _, _ in PALETTE_NAMED]


def board_neighbours(atlas, assignment: np.ndarray, n_boards: int | None = None) -> list[set[int]]:
    """For each board id, the set of board ids adjacent to it (bridges included)."""
    a, b, _, _ = atlas.adjacency.pairs()
    ba, bb = assignment[a], assignment[b]
    keep = (ba != bb) & (ba >= 0) & (bb >= 0)
    n = int(n_boards if n_boards is not None else (assignment.max() + 1 if len(assignment) else 0))
    out: list[set[int]] = [set() for _ in range(n)]
    if keep.any():
        pairs = np.unique(np.stack([np.minimum(ba[keep], bb[keep]), np.maximum(ba[keep], bb[keep])], 1), axis=0)
        for x, y in pairs:
            out[int(x)].add(int(y))
            out[int(y)].add(int(x))
    return out


def dsatur(neighbours: list[set[int]], nodes: list[int] | None = None, fixed: dict[int, int] | None = None,
           n_colours: int = len(PALETTE)) -> dict[int, int]:
    """Colour ``nodes`` so adjacent nodes differ (DSatur order, least-used colour first).

    ``fixed`` pre-colours some nodes (they are not changed).  Returns node -> colour index.
    If a node's neighbours use every colour (impossible for a map with 24 colours) it gets the
    least used colour anyway.
    """
    nodes = list(range(len(neighbours))) if nodes is None else list(nodes)
    colour: dict[int, int] = dict(fixed or {})
    use = np.zeros(n_colours, np.int64)
    for c in colour.values():
        use[c] += 1
    todo = [v for v in nodes if v not in colour]
    while todo:
        def key(v):
            sat = len({colour[u] for u in neighbours[v] if u in colour})
            return (-sat, -len(neighbours[v]), v)

        v = min(todo, key=key)
        taken = {colour[u] for u in neighbours[v] if u in colour}
        free = [c for c in range(n_colours) if c not in taken] or list(range(n_colours))
        c = min(free, key=lambda c: (use[c], c))
        colour[v] = c
        use[c] += 1
        todo.remove(v)
    return colour


#: Boards this close (metres) look like neighbours on the map even without a shared edge:
#: across the Thames, the Humber or the Severn, the clipped coastline leaves a gap.
NEAR_METRES = 2_000.0


def near_boards(atlas, distance: float = NEAR_METRES) -> list[tuple[int, int]]:
    """Baseline board pairs within ``distance`` of each other (dissolved board layer)."""
    import shapely

    geoms = atlas.layers["board"].geometry
    i, j = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=distance)
    return [(int(x), int(y)) for x, y in zip(i, j) if x < y]


def baseline_colours(atlas) -> dict[int, str]:
    """Board id -> colour for the atlas baseline boards.

    Boards that share an edge, or face each other across an estuary within
    :data:`NEAR_METRES`, get different colours.  Computed once per atlas (every new plan
    asks for them; several options open at once).
    """
    return dict(atlas.derived.get("plan.baseline_colours", lambda: _baseline_colours(atlas),
                                  depends=("units", "layers")))


def _baseline_colours(atlas) -> dict[int, str]:
    assignment = atlas.unit_level("board")
    n = len(atlas.layers["board"])
    neighbours = board_neighbours(atlas, assignment, n)
    for x, y in near_boards(atlas):
        neighbours[x].add(y)
        neighbours[y].add(x)
    col = dsatur(neighbours)
    return {b: PALETTE[col[b]] for b in range(n)}


def _index(hex_colour: str) -> int | None:
    try:
        return PALETTE.index(hex_colour.upper())
    except ValueError:
        return None


def suggest_colour(plan, board_id: int | None = None) -> str:
    """A palette colour for ``board_id`` that none of its current neighbours use.

    With ``board_id=None`` (a board about to be created, holding no units yet) the colour
    used least among active boards.
    """
    active = [b for b in plan.boards if b.active and b.id != board_id]
    use = np.zeros(len(PALETTE), np.int64)
    for b in active:
        i = _index(b.colour)
        if i is not None:
            use[i] += 1
    taken: set[int] = set()
    if board_id is not None:
        nb = board_neighbours(plan.atlas, plan.assignment, plan.n_boards)
        taken = {i for u in nb[board_id] if (i := _index(plan.boards[u].colour)) is not None}
    free = [c for c in range(len(PALETTE)) if c not in taken] or list(range(len(PALETTE)))
    return PALETTE[min(free, key=lambda c: (use[c], c))]


def colour_for_units(plan, units) -> str:
    """A palette colour for a new board about to receive ``units``: one that no board
    around them (nor the boards they leave) uses, least used first."""
    units = np.asarray(units, dtype=np.int64)
    adj = plan.atlas.adjacency
    near = np.concatenate([units] + [adj.neighbours(int(u)) for u in units]) if len(units) else units
    boards = set(plan.assignment[near].tolist()) - {-1}
    taken = {i for b in boards if (i := _index(plan.boards[b].colour)) is not None}
    use = np.zeros(len(PALETTE), np.int64)
    for b in plan.boards:
        if b.active and (i := _index(b.colour)) is not None:
            use[i] += 1
    free = [c for c in range(len(PALETTE)) if c not in taken] or list(range(len(PALETTE)))
    return PALETTE[min(free, key=lambda c: (use[c], c))]


def colour_conflicts(plan) -> list[tuple[int, int]]:
    """Pairs ``(a, b)`` (a < b) of adjacent active boards that share a colour."""
    nb = board_neighbours(plan.atlas, plan.assignment, plan.n_boards)
    out = []
    for a in range(plan.n_boards):
        if not plan.boards[a].active:
            continue
        for b in nb[a]:
            if a < b and plan.boards[b].active and plan.boards[a].colour.upper() == plan.boards[b].colour.upper():
                out.append((a, b))
    return out


def repair_colours(plan) -> dict[int, str]:
    """New colours for the fewest boards needed so no two adjacent boards share a colour.

    For each conflicting pair the board that is not locked and was created later (higher id)
    is recoloured, choosing a colour none of its neighbours use.  Returns board id -> colour
    (empty when there is nothing to fix); apply them with ``RecolourBoard`` commands so the
    change can be undone.
    """
    conflicts = colour_conflicts(plan)
    if not conflicts:
        return {}
    nb = board_neighbours(plan.atlas, plan.assignment, plan.n_boards)
    recolour: set[int] = set()
    for a, b in conflicts:
        if a in recolour or b in recolour:
            continue
        la, lb = plan.boards[a].locked, plan.boards[b].locked
        recolour.add(a if (lb and not la) else b)
    fixed = {}
    for bd in plan.boards:
        if bd.active and bd.id not in recolour:
            i = _index(bd.colour)
            if i is not None:
                fixed[bd.id] = i
    # boards with a colour outside the palette that conflict are recoloured too
    col = dsatur(nb, nodes=sorted(recolour | set(fixed)), fixed=fixed)
    return {b: PALETTE[col[b]] for b in sorted(recolour)}
