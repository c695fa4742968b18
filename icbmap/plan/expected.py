"""The expected April 2027 map as a plan, to set beside proposals (Qt-free).

Over an atlas drawn with the April 2026 boards, :func:`expected_plan` merges each multi-board
2025 cluster into its first board, renamed "NHS <cluster> (expected 2027) ICB" and recoded
"C12-expected", exactly as :func:`icbmap.atlas.expected_2027.merge_boards` draws the
``2027-expected`` baseline.  It is expected, not decided: the option is named
:data:`~icbmap.atlas.clusters.EXPECTED_LABEL`.
"""

from __future__ import annotations

import numpy as np

from icbmap.atlas.clusters import EXPECTED_KEY, EXPECTED_LABEL, clusters_path, load_clusters
from icbmap.atlas.expected_2027 import groups_by_cluster
from icbmap.errors import DataError
from icbmap.plan.model import Plan


def expected_plan(atlas, clusters=None) -> Plan:
    """The expected April 2027 map as a :class:`Plan` over ``atlas`` (drawn with the April 2026
    boards, or with the expected map itself).  Other baselines: :class:`DataError`."""
    plan = Plan(atlas)
    if atlas.baseline == EXPECTED_KEY:
        return plan
    path = clusters_path()
    clusters = load_clusters(path) if clusters is None else clusters
    codes = [b.code for b in plan.boards]
    if not set(clusters["board_code"]) <= set(codes):
        raise DataError(path, f"the expected April 2027 map is built from the April 2026 boards; this window's "
                              f"baseline is {atlas.baseline_label} (open it with --baseline 2026 or "
                              f"--baseline {EXPECTED_KEY})")
    names = dict(zip(clusters["board_code"], clusters["cluster_name"]))
    cid = dict(zip(clusters["board_code"], clusters["cluster_id"]))
    for g in groups_by_cluster(codes, clusters, path):
        if len(g) < 2:
            continue
        keep = g[0]
        code = codes[keep]
        for other in g[1:]:
            plan.move(plan.board_units(other), np.flatnonzero(plan.practice_assignment == other), keep)
            plan.set_active(other, False)
        plan.update_board(keep, code=f"{cid[code]}-expected", name=f"NHS {names[code]} (expected 2027) ICB")
    return plan


def expected_option_name() -> str:
    return EXPECTED_LABEL


__all__ = ["expected_option_name", "expected_plan"]
