"""The map's keyboard cursor: arrow keys move between neighbouring areas at the current
selection level, Space adds the area under the cursor to the selection.

Neighbours come from the atlas's LSOA adjacency (rook contiguity, islands bridged to the
coast they face): two districts (or councils, places, boards) are neighbours when any of
their LSOAs are.  An arrow picks the neighbour whose label point lies most nearly in that
direction, nearer ones first.  Qt-free: the view draws the cursor and announces it.
"""

from __future__ import annotations

import math

import numpy as np

#: arrow -> unit vector in British National Grid (y grows northwards)
DIRECTIONS = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "up": (0.0, 1.0), "down": (0.0, -1.0)}
COMPASS = {"left": "west", "right": "east", "up": "north", "down": "south"}
#: the widest angle off the arrow's direction a neighbour may lie at (degrees)
MAX_ANGLE = 75.0


class AreaGraph:
    """Neighbouring areas at one level: ``codes[u]`` is the area of unit ``u``."""

    def __init__(self, adjacency, codes: np.ndarray):
        self.codes = np.asarray(codes, dtype=np.int64)
        a, b, _shared, _bridge = adjacency.pairs()
        la, lb = self.codes[a], self.codes[b]
        keep = (la != lb) & (la >= 0) & (lb >= 0)
        pairs = np.unique(np.stack([np.concatenate([la[keep], lb[keep]]),
                                    np.concatenate([lb[keep], la[keep]])], axis=1), axis=0)
        self._neighbours: dict[int, np.ndarray] = {}
        if len(pairs):
            starts = np.flatnonzero(np.r_[True, pairs[1:, 0] != pairs[:-1, 0]])
            ends = np.r_[starts[1:], len(pairs)]
            for s, e in zip(starts, ends):
                self._neighbours[int(pairs[s, 0])] = pairs[s:e, 1]

    def neighbours(self, area: int) -> np.ndarray:
        return self._neighbours.get(int(area), np.zeros(0, dtype=np.int64))


def step(graph: AreaGraph, area: int, points: dict[int, tuple[float, float]] | np.ndarray,
         direction: str) -> int | None:
    """The neighbour of ``area`` an arrow in ``direction`` goes to, or None."""
    vx, vy = DIRECTIONS[direction]
    px, py = area_point(points, area)
    if not (math.isfinite(px) and math.isfinite(py)):
        return None
    best, best_score = None, math.inf
    limit = math.cos(math.radians(MAX_ANGLE))
    for n in graph.neighbours(area):
        qx, qy = area_point(points, int(n))
        dx, dy = qx - px, qy - py
        d = math.hypot(dx, dy)
        if not math.isfinite(d) or d == 0:
            continue
        cos = (dx * vx + dy * vy) / d
        if cos < limit:
            continue
        score = d * (1.0 + 3.0 * (1.0 - cos))
        if score < best_score:
            best, best_score = int(n), score
    return best


def area_point(points, area: int) -> tuple[float, float]:
    if isinstance(points, dict):
        return points.get(area, (math.nan, math.nan))
    return float(points[area, 0]), float(points[area, 1])
