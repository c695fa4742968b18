"""Whether a label sits on its own board: shared by the Qt map labels
(:mod:`icbmap.app.map.labels`) and the printed briefing (:mod:`icbmap.export.drawing`).  Qt-free."""

from __future__ import annotations

import numpy as np
import shapely

#: a board label may lie over other boards by at most this share of its box (each)
OTHER_BOARD_MAX = 0.25


class BoardFit:
    """Whether a label box sits on its own board: built from the board shapes (BNG), which
    are simplified (``tolerance`` metres) for the overlap measure."""

    def __init__(self, shapes: dict[int, object], tolerance: float = 250.0, previous: BoardFit | None = None):
        self.ids = [b for b, g in shapes.items() if g is not None and not shapely.is_empty(g)]
        geoms = [shapes[b] for b in self.ids]
        self.exact = {b: g for b, g in zip(self.ids, geoms)}
        # a board whose shape is the same object as in ``previous`` keeps its simplified copy
        self._simple_of: dict[int, object] = {}
        old = previous._simple_of if previous is not None and previous.tolerance == tolerance else {}
        self.tolerance = tolerance
        simple = []
        for g in geoms:
            sg = old.get(id(g))
            if sg is None or sg[0] is not g:
                shapely.prepare(g)
                sg = (g, shapely.simplify(g, tolerance))
            self._simple_of[id(g)] = sg
            simple.append(sg[1])
        self.simple = np.array(simple, dtype=object)
        self.tree = shapely.STRtree(self.simple)

    def share_over_others(self, bid: int, box: tuple[float, float, float, float]) -> float:
        """The largest share of ``box`` lying over one board other than ``bid``."""
        area = max((box[2] - box[0]) * (box[3] - box[1]), 1e-9)
        worst = 0.0
        for k in self.tree.query(shapely.box(*box)):
            if self.ids[k] == bid:
                continue
            worst = max(worst, shapely.area(shapely.clip_by_rect(self.simple[k], *box)) / area)
        return worst

    def fits(self, bid: int, box: tuple[float, float, float, float]) -> bool:
        """``box`` (BNG) has its centre on board ``bid`` and no more than
        :data:`OTHER_BOARD_MAX` of it over any other board."""
        g = self.exact.get(bid)
        if g is None:
            return False
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        if not shapely.contains_xy(g, cx, cy):
            return False
        return self.share_over_others(bid, box) <= OTHER_BOARD_MAX

    def free(self, box: tuple[float, float, float, float]) -> bool:
        """No board under ``box`` (for a label with a leader line)."""
        b = shapely.box(*box)
        return not any(shapely.intersects(self.simple[k], b) for k in self.tree.query(b))
