"""Build-time geometry: coverage repair, dissolves, adjacency (Qt-free, done once)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from icbmap.atlas.model import Adjacency


def repair_coverage(geoms: np.ndarray) -> np.ndarray:
    """Make the unit polygons a clean coverage.

    The ONS super-generalised polygons hold a few invalid rings and about a hundred
    micro-overlaps between neighbours, which ``coverage_union`` refuses.  ``make_valid``
    fixes the rings (keeping only polygonal parts) and GEOS's CoverageCleaner then snaps
    shared edges so they are vertex-for-vertex identical, gives each overlap to the
    neighbour with the longest shared border and fills hairline gaps under
    ``gap_width`` metres.  Result: every dissolve has shared edges and no slivers.
    """
    geoms = shapely.make_valid(np.asarray(geoms, dtype=object))
    geoms = np.array([_polygonal(g) for g in geoms], dtype=object)
    cleaned = shapely.coverage_clean(geoms, gap_width=1.0)
    cleaned = np.array([_polygonal(g) for g in cleaned], dtype=object)
    empty = shapely.is_empty(cleaned)
    if empty.any():
        # never lose a unit: fall back to its valid original shape
        cleaned[empty] = geoms[empty]
    return cleaned


def _polygonal(g):
    """Keep only the polygonal parts of ``g`` (make_valid may return collections)."""
    if g is None:
        return shapely.Polygon()
    t = g.geom_type
    if t in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    flat = []
    for p in parts:
        flat.extend(shapely.get_parts(p))
    if not flat:
        return shapely.Polygon()
    return flat[0] if len(flat) == 1 else shapely.MultiPolygon(flat)


def dissolve_units(geoms: np.ndarray, units, valid: bool = False):
    """The outline of ``units`` (a board, a reference area, the units an edit moved): the
    coverage union of ``geoms[units]``, whose shared edges vanish exactly because the
    coverage is repaired at build time (:func:`repair_coverage`).  An empty polygon for no
    units.  ``valid``: repair a result GEOS finds invalid (the files icbmap writes); the map
    and the briefing draw the union as it is, which is faster."""
    if len(units) == 0:
        return shapely.Polygon()
    u = shapely.coverage_union_all(geoms[units])
    return shapely.make_valid(u) if valid and not shapely.is_valid(u) else u


def dissolve(geoms: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """:func:`dissolve_units` of each group ``0..n_groups-1`` of the coverage ``geoms`` (valid
    shapes; -1 rows are skipped)."""
    order = np.argsort(group, kind="stable")
    g_sorted = group[order]
    bounds = np.searchsorted(g_sorted, np.arange(n_groups + 1))
    out = np.empty(n_groups, dtype=object)
    for k in range(n_groups):
        out[k] = dissolve_units(geoms, order[bounds[k]:bounds[k + 1]], valid=True)
    return out


def rook_adjacency(geoms: np.ndarray, decimals: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of units whose boundaries share at least one identical segment.

    Works on a repaired coverage, where neighbours' shared edges are vertex-identical.
    Returns ``(a, b, shared_length)`` with ``a < b``.
    """
    # get_rings only reads Polygons: explode MultiPolygons into parts first
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    ring_owner = part_owner[ring_part]
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    coords = np.round(coords, decimals)
    same = ring_of[:-1] == ring_of[1:]
    p = coords[:-1][same]
    q = coords[1:][same]
    owner = ring_owner[ring_of[:-1][same]]
    # orient each segment canonically so both neighbours produce the same key
    swap = (p[:, 0] > q[:, 0]) | ((p[:, 0] == q[:, 0]) & (p[:, 1] > q[:, 1]))
    lo = np.where(swap[:, None], q, p)
    hi = np.where(swap[:, None], p, q)
    length = np.hypot(hi[:, 0] - lo[:, 0], hi[:, 1] - lo[:, 1])
    keep = length > 0
    seg = pd.DataFrame({
        "x1": lo[keep, 0], "y1": lo[keep, 1], "x2": hi[keep, 0], "y2": hi[keep, 1],
        "owner": owner[keep], "length": length[keep],
    })
    seg = seg.drop_duplicates(["x1", "y1", "x2", "y2", "owner"])
    key = seg.groupby(["x1", "y1", "x2", "y2"], sort=False).ngroup().to_numpy()
    seg["key"] = key
    counts = np.bincount(key)
    multi = seg[counts[key] >= 2].sort_values(["key", "owner"])
    # every pair of distinct owners of the same segment
    pairs = multi.merge(multi[["key", "owner"]], on="key", suffixes=("", "_b"))
    pairs = pairs[pairs["owner"] < pairs["owner_b"]]
    agg = pairs.groupby(["owner", "owner_b"], sort=True)["length"].sum().reset_index()
    return (agg["owner"].to_numpy(np.int64), agg["owner_b"].to_numpy(np.int64),
            agg["length"].to_numpy(np.float64))


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected component label of each node (union-find, vectorised enough for 10^5)."""
    parent = np.arange(n)

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for i, j in zip(a.tolist(), b.tolist()):
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    return np.array([find(i) for i in range(n)])


def build_adjacency(geoms: np.ndarray) -> Adjacency:
    """Rook adjacency plus bridges that join every landmass to the mainland.

    Borůvka-style rounds: each landmass other than the one holding the mainland gets one
    bridge from its unit nearest to the closest unit outside it (East Cowes to Cowes, the
    Isle of Wight to the Hampshire coast, the Isles of Scilly to Cornwall), until the
    graph is connected.
    """
    n = len(geoms)
    a, b, shared = rook_adjacency(geoms)
    tree = shapely.STRtree(geoms)
    bridges: set[tuple[int, int]] = set()
    while True:
        ea = np.concatenate([a, [p for p, _ in bridges]]).astype(np.int64)
        eb = np.concatenate([b, [q for _, q in bridges]]).astype(np.int64)
        comp = _components(n, ea, eb)
        labels, sizes = np.unique(comp, return_counts=True)
        if len(labels) == 1:
            break
        mainland = labels[np.argmax(sizes)]
        for lab in labels:
            if lab == mainland:
                continue
            members = np.flatnonzero(comp == lab)
            island = shapely.union_all(geoms[members])
            target = _nearest_outside(tree, geoms, island, comp, lab)
            d = shapely.distance(geoms[members], geoms[target])
            source = int(members[int(np.argmin(d))])
            bridges.add((min(source, target), max(source, target)))
    ba = np.array([p for p, _ in sorted(bridges)], dtype=np.int64)
    bb = np.array([q for _, q in sorted(bridges)], dtype=np.int64)
    all_a = np.concatenate([a, ba])
    all_b = np.concatenate([b, bb])
    all_shared = np.concatenate([shared, np.zeros(len(ba))])
    all_bridge = np.concatenate([np.zeros(len(a), bool), np.ones(len(ba), bool)])
    return Adjacency.from_pairs(n, all_a, all_b, all_shared, all_bridge)


def _nearest_outside(tree, geoms, island, comp, lab) -> int:
    """The unit nearest to ``island`` that is not in its component ``lab``."""
    for dist in (100.0, 1_000.0, 5_000.0, 25_000.0, 100_000.0, 1_000_000.0):
        cand = tree.query(island, predicate="dwithin", distance=dist)
        cand = cand[comp[cand] != lab]
        if len(cand):
            d = shapely.distance(geoms[cand], island)
            return int(cand[int(np.argmin(d))])
    raise ValueError("no unit outside the island")  # pragma: no cover


def apportion(total: np.ndarray, group: np.ndarray, order_key: np.ndarray) -> np.ndarray:
    """Share integer ``total[g]`` equally among the rows of each group, exactly.

    Each row gets ``total // n``; the first ``total % n`` rows of the group in
    ``order_key`` order get one more, so group sums equal the totals to the person.
    """
    n_rows = len(group)
    counts = np.bincount(group, minlength=len(total))
    base = np.zeros(n_rows, dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(counts > 0, total // np.maximum(counts, 1), 0)
        rem = np.where(counts > 0, total % np.maximum(counts, 1), 0)
    base[:] = per[group]
    order = np.lexsort((order_key, group))
    g_sorted = group[order]
    first = np.searchsorted(g_sorted, g_sorted, side="left")
    rank = np.arange(n_rows) - first
    extra = rank < rem[g_sorted]
    base[order[extra]] += 1
    return base
