"""Dissolved board shapes kept across options: a bounded cache keyed by each
board's exact set of units, and the reads and writes of the map view's drawn shapes that
let switching options re-dissolve only boards never seen before.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np


class BoardShapeCache:
    """Dissolved board shapes the map has drawn, keyed by their exact set of units.

    Switching options re-dissolves only boards never seen before: a board of another option
    with the same units (most boards, for options that differ in one region) or one shown
    earlier is taken from here.  Bounded (least recently used first out), shared by all the
    options: a display cache, not a copy of the atlas per option.
    """

    def __init__(self, limit: int = 256):
        self.limit = limit
        self._d: OrderedDict[bytes, tuple] = OrderedDict()
        self._pending_keys: dict[int, bytes] = {}

    @staticmethod
    def key(units: np.ndarray) -> bytes:
        u = np.ascontiguousarray(units, dtype=np.int64)
        return hashlib.blake2b(u.tobytes(), digest_size=16).digest() + len(u).to_bytes(4, "little")

    def get(self, key: bytes):
        hit = self._d.get(key)
        if hit is not None:
            self._d.move_to_end(key)
        return hit

    def put(self, key: bytes, value: tuple) -> None:
        self._d[key] = value
        self._d.move_to_end(key)
        while len(self._d) > self.limit:
            self._d.popitem(last=False)

    def __len__(self) -> int:
        return len(self._d)

    # ------------------------------------------------------------------ the map view's shapes
    def shapes_from_cache(self, view, old_assign, plan, changed: set[int]) -> set[int]:
        """Keep the outgoing boards' shapes; put cached shapes of incoming boards on the map.
        Returns the boards still to dissolve."""
        if not changed:
            return changed
        old_groups, new_groups = _groups(old_assign), _groups(plan.assignment)
        for bid in changed:
            shape = view.shapes.board(bid)
            if shape is not None:
                units = _units_of(old_groups, bid)
                if len(units):
                    self.put(self.key(units), shape)
        active = {b.id for b in plan.boards if b.active}
        left = set()
        self._pending_keys = {}
        for bid in changed:
            units = _units_of(new_groups, bid)
            if bid not in active or not len(units):
                left.add(bid)          # set_boards drops it
                continue
            key = self.key(units)
            hit = self.get(key)
            if hit is None:
                left.add(bid)
                self._pending_keys[bid] = key
                continue
            view.shapes.put_board(bid, *hit)
        return left

    def warm(self, view, plans) -> None:
        """Dissolve, once, the boards of ``plans`` the map has not drawn yet (after
        opening files), so that the first switch to each is as quick as the next."""
        for plan in plans:
            groups = _groups(plan.assignment)
            for b in plan.boards:
                if not b.active:
                    continue
                units = _units_of(groups, b.id)
                if not len(units):
                    continue
                key = self.key(units)
                if self.get(key) is not None:
                    continue
                self.put(key, view.shapes.dissolve(b.id, units))

    def shapes_to_cache(self, view, plan, dissolved: set[int]) -> None:
        """Keep the shapes the map has just dissolved for the boards the cache missed."""
        for bid, key in self._pending_keys.items():
            shape = view.shapes.board(bid) if bid in dissolved else None
            if shape is not None:
                self.put(key, shape)
        self._pending_keys = {}


def _groups(assignment: np.ndarray):
    order = np.argsort(assignment, kind="stable")
    return order, assignment[order]


def _units_of(groups, bid: int) -> np.ndarray:
    order, keys = groups
    lo, hi = np.searchsorted(keys, bid, "left"), np.searchsorted(keys, bid, "right")
    return order[lo:hi]
