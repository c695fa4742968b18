"""Property: after any sequence of edits and undos, every incremental metric equals the
full recompute exactly (on the real England offline atlas).

``ICBMAP_PROPERTY_EXAMPLES`` raises the number of examples (default 60).
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icbmap.metrics.engine import Metrics
from icbmap.metrics.reference import compute_values, full_recompute
from icbmap.plan import UNASSIGNED, Plan
from icbmap.plan.commands import (
    CreateBoard, DeleteBoard, History, LockBoard, LockedBoardError, MergeBoards, MovePractices,
    MoveUnits,
)
from icbmap.plan.model import PlanError

EXAMPLES = int(os.environ.get("ICBMAP_PROPERTY_EXAMPLES", "60"))

OPS = ["unit", "neighbourhood", "district", "council", "place", "board_units", "merge", "create",
       "delete", "lock", "undo", "undo", "redo", "encloser", "encloser"]


def _enclosers(atlas):
    """LSOAs that surround another LSOA (its only neighbour): moving one cuts its board."""
    deg = atlas.adjacency.degree()
    holes = np.flatnonzero(deg == 1)
    return np.unique(atlas.adjacency.indices[atlas.adjacency.indptr[holes]])


def _units(data, atlas, plan, kind):
    n = atlas.n_units
    u = data.draw(st.integers(0, n - 1), label="unit")
    if kind == "unit":
        return np.array([u])
    if kind == "encloser":
        enc = _enclosers(atlas)
        return np.array([enc[u % len(enc)]])
    if kind == "neighbourhood":
        nb = atlas.adjacency.neighbours(u)
        k = data.draw(st.integers(0, len(nb)), label="k")
        return np.concatenate([[u], nb[:k]])
    if kind == "board_units":
        b = data.draw(st.sampled_from([b.id for b in plan.boards if b.active]), label="board")
        units = plan.board_units(b)
        # half of one board: a big move that may cut it
        return units[: max(1, len(units) // 2)]
    level = kind
    area = int(atlas.unit_level(level)[u])
    return atlas.members(level, area)


@pytest.fixture(scope="module")
def practice_atlas(england):
    """England with 3,000 developer-made GP practices (random units, some unplaced; not NHS data)."""
    rng = np.random.default_rng(7)
    n = 3000
    units = rng.integers(0, england.n_units, n)
    units[rng.random(n) < 0.03] = -1
    board = np.where(units >= 0, england.unit_level("board")[np.maximum(units, 0)], rng.integers(0, len(england.layers["board"]), n))
    df = pd.DataFrame({
        "code": [f"DEV{i:05d}" for i in range(n)], "name": "Developer-made practice", "postcode": "",
        "x": np.nan, "y": np.nan, "patients": rng.integers(1000, 30000, n).astype(np.int64),
        "pcn_code": "", "pcn_name": "", "place": -1, "board": board.astype(np.int64),
        "unit": units.astype(np.int64), "extract_date": "",
    })
    return dataclasses.replace(england, practices=df)


def _check(plan, metrics):
    diff = metrics.values().diff(compute_values(plan, metrics.tolerance))
    assert diff == [], diff


@settings(max_examples=max(10, EXAMPLES // 3), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_registered_population_with_practices(practice_atlas, data):
    plan = Plan(practice_atlas)
    metrics = Metrics(plan)
    hist = History(plan)
    for _ in range(data.draw(st.integers(1, 10), label="steps")):
        op = data.draw(st.sampled_from(["district", "unit", "practices", "merge", "undo", "nocarry"]), label="op")
        active = [b.id for b in plan.boards if b.active]
        to = data.draw(st.sampled_from(active + [UNASSIGNED]), label="to")
        u = data.draw(st.integers(0, practice_atlas.n_units - 1), label="unit")
        if op == "district":
            hist.push(MoveUnits(practice_atlas.members("district", int(practice_atlas.unit_level("district")[u])), to))
        elif op in ("unit", "nocarry"):
            hist.push(MoveUnits([u], to, carry_practices=op == "unit"))
        elif op == "practices":
            k = data.draw(st.integers(1, 50), label="k")
            hist.push(MovePractices(np.arange(u % 2950, u % 2950 + k), to))
        elif op == "merge" and len(active) > 1:
            keep, absorb = data.draw(st.permutations(active).map(lambda p: p[:2]), label="pair")
            hist.push(MergeBoards(keep, absorb))
        elif op == "undo":
            hist.undo()
        _check(plan, metrics)
    total = int(practice_atlas.practices["patients"].sum())
    v = metrics.values()
    assert int(v.registered.sum()) + v.unassigned_registered == total
    while hist.can_undo():
        hist.undo()
    assert plan.is_baseline()
    _check(plan, metrics)


def _edit(data, atlas, plan, hist) -> str:
    """One random edit (or undo/redo) drawn from OPS; returns its name."""
    op = data.draw(st.sampled_from(OPS), label="op")
    active = [b.id for b in plan.boards if b.active]
    try:
        if op in ("unit", "neighbourhood", "district", "council", "place", "board_units", "encloser"):
            units = _units(data, atlas, plan, op)
            to = data.draw(st.sampled_from(active + [UNASSIGNED]), label="to")
            hist.push(MoveUnits(units, to))
        elif op == "merge" and len(active) > 1:
            keep, absorb = data.draw(st.permutations(active).map(lambda p: p[:2]), label="pair")
            hist.push(MergeBoards(keep, absorb))
        elif op == "create":
            hist.push(CreateBoard("Property board"))
        elif op == "delete" and len(active) > 1:
            gone = data.draw(st.sampled_from(active), label="gone")
            to = data.draw(st.sampled_from([b for b in active if b != gone] + [UNASSIGNED]), label="to")
            hist.push(DeleteBoard(gone, to))
        elif op == "lock":
            b = data.draw(st.sampled_from(active), label="lock")
            hist.push(LockBoard(b, not plan.boards[b].locked))
        elif op == "undo":
            hist.undo()
        elif op == "redo":
            hist.redo()
    except (LockedBoardError, PlanError):
        pass  # refused before changing anything: the checks still hold
    return op


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_incremental_equals_full_recompute(england, data):
    plan = Plan(england)
    metrics = Metrics(plan)
    hist = History(plan)
    steps = data.draw(st.integers(1, 14), label="steps")
    for _ in range(steps):
        op = _edit(data, england, plan, hist)
        diff = metrics.values().diff(compute_values(plan, metrics.tolerance))
        assert diff == [], (op, diff)
    assert metrics.report().to_dict() == full_recompute(plan).to_dict()
    while hist.can_undo():
        hist.undo()
    assert plan.is_baseline()
    assert metrics.values().diff(compute_values(plan)) == []


@settings(max_examples=max(EXAMPLES // 2, 10), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
@pytest.mark.parametrize("refs", ["bundled", "partial"])
def test_reference_figures_deferred_across_edits(england, refs, data):
    """The engine derives the reference geographies' area and board figures when they are
    read, not at every move: after several edits with only the plan summary read between them
    (as the status bar does), each reference geography's summary, then every figure, equals
    the full recompute.  ``partial``: only the 2026 strategic authorities, which cover part of
    England, so most moves change a board's figures there without touching any of its areas."""
    import copy

    assert england.references, "the offline atlas carries its bundled reference geographies"
    atlas = england
    if refs == "partial":
        atlas = copy.copy(england)
        atlas.set_references({k: v for k, v in england.references.items() if "strategic_authorities_2026" in k})
        assert len(atlas.references) == 1
    plan = Plan(atlas)
    metrics = Metrics(plan)
    hist = History(plan)
    for _ in range(data.draw(st.integers(2, 10), label="steps")):
        _edit(data, atlas, plan, hist)
        metrics.summary().levels["district"]          # the built-in levels only
    full = full_recompute(plan)
    summary = metrics.summary()
    for lvl in (k for k in full.summary.levels if k.startswith("ref:")):
        assert dataclasses.asdict(summary.levels[lvl]) == dataclasses.asdict(full.summary.levels[lvl]), lvl
    assert metrics.values().diff(compute_values(plan, metrics.tolerance)) == []
    assert metrics.report().to_dict() == full.to_dict()
