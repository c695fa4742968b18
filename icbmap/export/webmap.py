"""The web page's map: the boards of a plan as inline SVG paths in British National Grid.

The map is drawn from *atoms*: the LSOAs grouped by (board, baseline board, council,
strategic authority), each group dissolved (the units form a clean coverage, so the
dissolve is exact) and the atoms' coverage simplified once with
``shapely.coverage_simplify``.  Every outline on the map (boards, councils, strategic
authorities, the baseline's boards, the moved areas) is then a union of simplified atoms,
so shared edges stay shared and the layers line up exactly at any zoom.  The shapes are
for looking at only: every figure on the page comes from the plan's metrics, never from
these simplified shapes.

Coordinates are EPSG:27700 metres divided by :data:`GRID` and rounded (10 m), with the
y axis flipped for SVG, written as relative path commands (``m``/``l``) to keep the file
small: the England page is well under a megabyte of path data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from icbmap.atlas.geometry import dissolve

#: metres per SVG unit
GRID = 10.0
#: coverage simplification tolerance, metres (well below a pixel of the England view)
TOLERANCE = 60.0
#: the strategic-authority geography drawn as outlines, first found wins
SA_LEVELS = ("ref:strategic_authorities_2026", "ca")


@dataclass
class MapGeometry:
    """SVG path data (``d`` strings) of one plan's map, in a shared frame."""

    width: int
    height: int
    origin: tuple[float, float]           # BNG (x0, y1) of SVG (0, 0)
    atoms: list[dict] = field(default_factory=list)     # d, board, base, council, sa
    boards: dict[int, str] = field(default_factory=dict)            # board id -> outline d
    board_points: dict[int, tuple[int, int]] = field(default_factory=dict)  # label point (svg)
    councils: list[str] = field(default_factory=list)               # outline d per council with units
    sas: list[str] = field(default_factory=list)
    baseline_boards: list[str] = field(default_factory=list)
    moved: str = ""
    sa_level: str | None = None

    def svg_point(self, x: float, y: float) -> tuple[int, int]:
        return (int(round((x - self.origin[0]) / GRID)), int(round((self.origin[1] - y) / GRID)))  # noqa: RUF046

    def svg_box(self, bounds) -> tuple[int, int, int, int]:
        """``(x, y, w, h)`` in SVG units of BNG ``bounds`` (x0, y0, x1, y1)."""
        x0, y0, x1, y1 = bounds
        ax, ay = self.svg_point(x0, y1)
        bx, by = self.svg_point(x1, y0)
        return ax, ay, max(bx - ax, 1), max(by - ay, 1)


def sa_level(atlas) -> str | None:
    for lvl in SA_LEVELS:
        try:
            atlas.unit_level(lvl)
        except (KeyError, AttributeError):
            continue
        return lvl
    return None


def _path_d(geom, origin) -> str:
    """Relative SVG path data of a polygonal or linear geometry, quantised to :data:`GRID`."""
    if geom is None or shapely.is_empty(geom):
        return ""
    x0, y1 = origin
    out = []
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            rings, close = [part.exterior, *part.interiors], True
        elif part.geom_type in ("LineString", "LinearRing"):
            rings, close = [part], False
        else:  # points and collections have nothing to draw here
            continue
        for ring in rings:
            c = shapely.get_coordinates(ring)
            q = np.empty((len(c), 2), dtype=np.int64)
            q[:, 0] = np.rint((c[:, 0] - x0) / GRID)
            q[:, 1] = np.rint((y1 - c[:, 1]) / GRID)
            keep = np.ones(len(q), bool)
            keep[1:] = (q[1:] != q[:-1]).any(axis=1)
            q = q[keep]
            if close and len(q) > 1 and (q[-1] == q[0]).all():
                q = q[:-1]
            if len(q) < (3 if close else 2):
                continue
            start = q[0]
            d = np.diff(q, axis=0)
            out.append(f"M{start[0]} {start[1]}l" + " ".join(f"{a} {b}" for a, b in d.tolist())
                       + ("z" if close else ""))
    return "".join(out)


def _outline(geom):
    return None if geom is None or shapely.is_empty(geom) else shapely.boundary(geom)


def _union(geoms):
    geoms = [g for g in geoms if g is not None and not shapely.is_empty(g)]
    if not geoms:
        return None
    return shapely.coverage_union_all(np.array(geoms, dtype=object))


def build_map(plan, frame=None, tolerance: float = TOLERANCE) -> MapGeometry:
    """The map of ``plan``: atoms, outlines and label points (see the module doc).

    ``frame`` is the BNG ``(x0, y0, x1, y1)`` of the SVG; default: the atlas's bounds.
    """
    atlas = plan.atlas
    x0, y0, x1, y1 = frame or atlas.bounds
    pad = 2_000.0
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    origin = (x0, y1)
    width, height = int(np.ceil((x1 - x0) / GRID)), int(np.ceil((y1 - y0) / GRID))
    a = np.asarray(plan.assignment, dtype=np.int64)
    base = np.asarray(plan.baseline_assignment, dtype=np.int64)
    council = atlas.unit_level("council").astype(np.int64)
    sal = sa_level(atlas)
    sa = atlas.unit_level(sal).astype(np.int64) if sal else np.full(len(a), -1, np.int64)
    key = np.stack([a, base, council, sa], axis=1)
    uniq, inv = np.unique(key, axis=0, return_inverse=True)
    inv = np.asarray(inv).ravel()
    atoms = dissolve(atlas.units.geometry.to_numpy(), inv, len(uniq))
    try:
        simple = shapely.coverage_simplify(atoms, tolerance)
    except shapely.errors.GEOSException:  # not a clean coverage: draw unsimplified
        simple = atoms
    m = MapGeometry(width, height, origin, sa_level=sal)
    for k, (b, bb, c, s) in enumerate(uniq.tolist()):
        d = _path_d(simple[k], origin)
        if d:
            m.atoms.append({"d": d, "board": b, "base": bb, "council": c, "sa": s})

    def groups(col: int) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for k, row in enumerate(uniq.tolist()):
            if row[col] >= 0:
                out.setdefault(row[col], []).append(k)
        return out

    for b, ks in groups(0).items():
        g = _union(simple[ks])
        if g is None:
            continue
        m.boards[b] = _path_d(_outline(g), origin)
        # a label point inside the board's largest piece, for keyboard focus
        big = max(shapely.get_parts(g), key=shapely.area)
        p = shapely.point_on_surface(big)
        m.board_points[b] = m.svg_point(p.x, p.y)
    for _c, ks in sorted(groups(2).items()):
        m.councils.append(_path_d(_outline(_union(simple[ks])), origin))
    if sal:
        for _s, ks in sorted(groups(3).items()):
            m.sas.append(_path_d(_outline(_union(simple[ks])), origin))
    if not plan.is_baseline():
        for _b, ks in sorted(groups(1).items()):
            m.baseline_boards.append(_path_d(_outline(_union(simple[ks])), origin))
        moved = [k for k, row in enumerate(uniq.tolist()) if row[0] != row[1]]
        if moved:
            m.moved = _path_d(_union(simple[moved]), origin)
    return m


def focus_bounds(plan, units: np.ndarray) -> tuple[float, float, float, float] | None:
    """BNG bounds of the units ``units`` (bool mask or indices), or None when empty."""
    geoms = plan.atlas.units.geometry.to_numpy()[units]
    if not len(geoms):
        return None
    return tuple(float(v) for v in shapely.total_bounds(geoms))
