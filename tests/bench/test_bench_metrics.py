"""Benchmarks of plan edits with every metric updated, on the England offline pack.

Run with figures:  python -m pytest tests/bench/test_bench_metrics.py --benchmark-enable
(``pyproject`` passes ``--benchmark-disable``, so in CI each benchmark runs once as a plain
test, and the correctness checks after it still run.)

Targets on a 2-core machine: one LSOA with every metric updated <= 1 ms; a district
<= 5 ms; a merge <= 20 ms; a full recompute <= 200 ms.  Each timed edit is the command
(plan + incremental tables + per-area/per-board figures + contiguity) followed by
``metrics.summary()`` (the plan totals) with the summary of each council level, i.e. every
metric current (a reference geography's level summary is cut from the fused figures when read).

Reference geographies: the same one-LSOA move on the atlas with none and with ten attached
(the bundled ones, repeated under new names).  The engine updates the built-in levels at every
move and marks the reference geographies' columns and the touched boards stale; their figures
are derived, all at once, when something reads them (``values()``, ``values_view()``, the
report, or that geography's summary).  So ten cost what none does (checked in alternating
blocks with figures enabled: within 5%), and reading a geography's summary pays for it.

GerryChain comparison: the same single-LSOA flip on the same LSOA graph with a population
``Tally`` and two ``county_splits`` updaters (district and council).  The target is icbmap at
least 20x faster.  The ratio is printed twice: with the plan totals and the three council
levels read after each move (what the status bar and the summary tab show), and with every
level's summary read, the bundled reference geographies' too (their deferred figures derived
at each move).  Measured on a 2-core machine: about 21x and 15x.  The check guards 15x
against regressions (the machine's load moves both figures by a few percent).  GerryChain is
not a dependency: ``pip install gerrychain`` to run it; otherwise the test is skipped.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pytest

from icbmap.metrics.engine import Metrics
from icbmap.metrics.reference import compute_values, full_recompute
from icbmap.metrics.values import COTERMINOSITY_LEVELS
from icbmap.plan import Plan
from icbmap.plan.commands import History, MergeBoards, MoveUnits


def _board(atlas, fragment):
    names = atlas.layers["board"].table["name"].tolist()
    return next(i for i, n in enumerate(names) if fragment in n)


def _area(atlas, level, name):
    return int(np.flatnonzero(atlas.layers[level].table["name"].to_numpy() == name)[0])


def boundary_lsoa(atlas, cuts: bool = False):
    """A fixed LSOA on a board boundary and the neighbouring board it moves to.

    ``cuts=False``: a typical one, whose move leaves both boards in one piece.
    ``cuts=True``: the worst case, an LSOA that encloses another LSOA of its board (an
    enclave with no other neighbour), so moving it cuts its board and that board's piece is
    recomputed.  The largest such board is chosen.
    """
    from icbmap.metrics.contiguity import island_units, pieces_of_assignment

    adj = atlas.adjacency
    bd = atlas.unit_level("board")
    deg = adj.degree()
    src = np.repeat(np.arange(atlas.n_units), np.diff(adj.indptr))
    cross = np.flatnonzero((bd[src] != bd[adj.indices]) & ~adj.bridge)
    if cuts:
        sizes = np.bincount(bd)
        best = None
        for e in cross:
            u = int(src[e])
            nb = adj.neighbours(u)
            if any(deg[x] == 1 and bd[x] == bd[u] for x in nb):
                if best is None or sizes[bd[u]] > sizes[bd[best[0]]]:
                    best = (u, int(bd[adj.indices[e]]))
        assert best is not None
        return best
    island = island_units(adj)
    base, _ = pieces_of_assignment(adj, bd, island, int(bd.max()) + 1)
    order = np.concatenate([cross[len(cross) // 2:], cross[:len(cross) // 2]])
    for e in order:
        u, to = int(src[e]), int(bd[adj.indices[e]])
        moved = bd.copy()
        moved[u] = to
        after, _ = pieces_of_assignment(adj, moved, island, int(bd.max()) + 1)
        if np.array_equal(after, base):
            return u, to
    raise AssertionError("no boundary LSOA found")


@pytest.fixture()
def state(england):
    plan = Plan(england)
    metrics = Metrics(plan)
    return plan, metrics, History(plan)


def current(metrics):
    """Every metric current: the plan totals and the summary of each council level (what the
    status bar and the summary tab show; a reference geography's summary is made when read)."""
    s = metrics.summary()
    for lvl in COTERMINOSITY_LEVELS:
        s.levels[lvl]
    return s


def _check(plan, metrics):
    assert metrics.values().diff(compute_values(plan)) == []


def _bench_edit(benchmark, state, make_cmd, rounds=200):
    plan, metrics, hist = state

    def setup():
        while hist.can_undo():
            hist.undo()

    def edit():
        hist.push(make_cmd())
        return current(metrics)

    benchmark.pedantic(edit, setup=setup, rounds=rounds, iterations=1, warmup_rounds=3)
    _check(plan, metrics)


@pytest.mark.benchmark(group="edit")
def test_move_one_lsoa(benchmark, england, state):
    u, to = boundary_lsoa(england)
    _bench_edit(benchmark, state, lambda: MoveUnits([u], to), rounds=500)
    assert state[0].assignment[u] == to


@pytest.mark.benchmark(group="edit")
def test_move_one_lsoa_that_cuts_its_board(benchmark, england, state):
    u, to = boundary_lsoa(england, cuts=True)
    b = int(state[0].assignment[u])
    _bench_edit(benchmark, state, lambda: MoveUnits([u], to), rounds=300)
    assert state[1].values().pieces[b] == 2


@pytest.mark.benchmark(group="edit")
def test_move_one_district(benchmark, england, state):
    units = england.members("district", _area(england, "district", "Chelmsford"))
    to = _board(england, "Central East")
    _bench_edit(benchmark, state, lambda: MoveUnits(units, to), rounds=200)
    assert (state[0].assignment[units] == to).all()


@pytest.mark.benchmark(group="edit")
def test_move_one_council(benchmark, england, state):
    units = england.members("council", _area(england, "council", "Essex"))
    to = _board(england, "Central East")
    _bench_edit(benchmark, state, lambda: MoveUnits(units, to), rounds=100)
    assert (state[0].assignment[units] == to).all()


@pytest.mark.benchmark(group="edit")
def test_merge_two_boards(benchmark, england, state):
    keep, absorb = _board(england, "Surrey and Sussex"), _board(england, "Hampshire and Isle of Wight")
    _bench_edit(benchmark, state, lambda: MergeBoards(keep, absorb), rounds=100)
    assert not state[0].boards[absorb].active


@pytest.mark.benchmark(group="edit")
def test_undo_district_move(benchmark, england, state):
    plan, metrics, hist = state
    units = england.members("district", _area(england, "district", "Chelmsford"))
    to = _board(england, "Central East")

    def setup():
        hist.clear()
        hist.push(MoveUnits(units, to))

    def undo():
        hist.undo()
        return current(metrics)

    benchmark.pedantic(undo, setup=setup, rounds=200, iterations=1, warmup_rounds=3)
    assert plan.is_baseline()
    _check(plan, metrics)


@pytest.mark.benchmark(group="full")
def test_full_recompute(benchmark, england, state):
    plan, metrics, hist = state
    hist.push(MoveUnits(england.members("district", _area(england, "district", "Chelmsford")), 5))
    report = benchmark(full_recompute, plan)
    assert report.to_dict() == metrics.report().to_dict()


@pytest.mark.benchmark(group="full")
def test_engine_build(benchmark, england):
    plan = Plan(england)
    m = benchmark(Metrics, plan, observe=False)
    assert m.values().diff(compute_values(plan)) == []


@pytest.mark.benchmark(group="full")
def test_report_rows(benchmark, state):
    _, metrics, _ = state
    r = benchmark(metrics.report)
    assert r.summary.boards == len(metrics.plan.active_boards())


# ---------------------------------------------------------------- GerryChain side by side
@pytest.fixture(scope="module")
def gerrychain_partition(england):
    gc = pytest.importorskip("gerrychain", reason="GerryChain is not installed (pip install gerrychain)")
    import networkx as nx
    from gerrychain.updaters import Tally, county_splits

    a = england
    pop, dist, coun, bd = (a.population, a.unit_level("district"), a.unit_level("council"),
                           a.unit_level("board"))
    G = nx.Graph()
    G.add_nodes_from((i, {"population": int(pop[i]), "district": int(dist[i]), "council": int(coun[i]),
                          "board": int(bd[i])}) for i in range(a.n_units))
    s, d, _, _ = a.adjacency.pairs()
    G.add_edges_from(zip(s.tolist(), d.tolist()))
    graph = gc.Graph.from_networkx(G)
    part = gc.Partition(graph, assignment="board", updaters={
        "population": Tally("population", alias="population"),
        "council_splits": county_splits("council_splits", "council"),
        "district_splits": county_splits("district_splits", "district"),
    })
    part["population"], part["council_splits"], part["district_splits"]
    return graph, part


def _gc_flip(part, node, to):
    new = part.flip({node: to})
    new["population"], new["council_splits"], new["district_splits"]
    return new


@pytest.mark.benchmark(group="flip-vs-gerrychain")
def test_gerrychain_single_flip(benchmark, england, gerrychain_partition, state):
    graph, part = gerrychain_partition
    u, to = boundary_lsoa(england)
    node = graph.internal_node_id_for_original_nx_node_id(u)
    new = benchmark(_gc_flip, part, node, to)
    assert new["population"][to] - part["population"][to] == int(england.population[u])
    if getattr(benchmark, "disabled", False):
        return
    # the ratio, measured here the same way for both: the median of many single edits, in
    # alternating blocks (edit by edit interleaving would time each side with the caches the
    # other one just filled)
    plan, metrics, hist = state

    def every_level(m):
        s = current(m)
        for lvl in s.levels:           # iterating makes every level's summary
            s.levels[lvl]
        return s

    ours, all_levels, theirs = [], [], []
    for _ in range(12):
        for read, out in ((current, ours), (every_level, all_levels)):
            for _ in range(25):
                t = time.perf_counter()
                hist.push(MoveUnits([u], to))
                read(metrics)
                out.append(time.perf_counter() - t)
                hist.undo()
        for _ in range(25):
            t = time.perf_counter()
            _gc_flip(part, node, to)
            theirs.append(time.perf_counter() - t)
    o, a, g = statistics.median(ours), statistics.median(all_levels), statistics.median(theirs)
    benchmark.extra_info.update({"icbmap_ms": o * 1e3, "icbmap_all_levels_ms": a * 1e3, "gerrychain_ms": g * 1e3,
                                 "ratio": g / o, "ratio_all_levels": g / a,
                                 "icbmap_min_ms": min(ours) * 1e3, "gerrychain_min_ms": min(theirs) * 1e3})
    print(f"\nfastest: icbmap {min(ours) * 1e3:.3f} ms, GerryChain {min(theirs) * 1e3:.3f} ms "
          f"({min(theirs) / min(ours):.1f}x)")
    print(f"\nsingle-LSOA flip: icbmap {o * 1e3:.3f} ms (plan totals and council levels read), "
          f"GerryChain {g * 1e3:.3f} ms (population + 2 split updaters): GerryChain / icbmap = {g / o:.1f}x")
    print(f"with every level's summary read, the {len(metrics.atlas.references)} reference geographies' too: "
          f"icbmap {a * 1e3:.3f} ms: GerryChain / icbmap = {g / a:.1f}x")
    assert g / o >= 15      # the target is 20x (see the module docstring for the measured figures)


# ---------------------------------------------------------------- reference geographies
def with_references(atlas, n: int):
    """A shallow copy of ``atlas`` carrying ``n`` reference geographies: the bundled ones,
    repeated under new names (each is a real area table with its own board x area table)."""
    import copy

    bundled = list(atlas.references.values())
    out = copy.copy(atlas)
    out.set_references({f"ref:bench_{i}": bundled[i % len(bundled)] for i in range(n)})
    return out


def _engine(atlas):
    plan = Plan(atlas)
    return plan, Metrics(plan), History(plan)


@pytest.mark.benchmark(group="references")
@pytest.mark.parametrize("n_refs", [0, 10])
def test_move_one_lsoa_with_references(benchmark, england, n_refs):
    state = _engine(with_references(england, n_refs))
    u, to = boundary_lsoa(england)
    _bench_edit(benchmark, state, lambda: MoveUnits([u], to), rounds=300)
    assert len(state[1].levels) == 4 + n_refs
    assert len(state[1].summary().levels) == 3 + n_refs


@pytest.mark.benchmark(group="references")
def test_ten_references_cost_no_more_than_none(benchmark, england):
    none, ten = _engine(with_references(england, 0)), _engine(with_references(england, 10))
    u, to = boundary_lsoa(england)

    def edit(state):
        t = time.perf_counter()
        state[2].push(MoveUnits([u], to))
        current(state[1])
        dt = time.perf_counter() - t
        state[2].undo()
        return dt

    benchmark.pedantic(edit, args=(ten,), rounds=3, iterations=1)
    _check(ten[0], ten[1])
    if getattr(benchmark, "disabled", False):
        return
    times: dict[int, list[float]] = {0: [], 10: []}
    for _ in range(20):      # alternating blocks, so the machine's load falls on both alike
        for n, state in ((0, none), (10, ten)):
            times[n].extend(edit(state) for _ in range(25))
    t0, t10 = statistics.median(times[0]), statistics.median(times[10])
    benchmark.extra_info.update({"none_ms": t0 * 1e3, "ten_ms": t10 * 1e3, "ratio": t10 / t0})
    print(f"\none-LSOA move, every metric: no reference geography {t0 * 1e3:.3f} ms, "
          f"ten {t10 * 1e3:.3f} ms (ten / none = {t10 / t0:.2f})")
    assert t10 <= 1.15 * t0      # measured 1.04-1.10 on a loaded 2-core machine (2.5x before fusing)
