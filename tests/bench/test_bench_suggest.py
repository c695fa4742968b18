"""Benchmarks of the optimiser (icbmap suggest) on the pack's baseline, whatever it holds.

Run with figures:  python -m pytest tests/bench/test_bench_suggest.py --benchmark-enable
The slow cases run only with ICBMAP_SLOW_BENCH=1.

Each target is given to the solver as its time limit, so the assertion *is* the target:
- whole boards, England -> 26 (or fewer than the baseline's boards), region-nested,
  >= 1M, contiguous, minimum disruption: proven optimal within 10 s (from the April 2026
  baseline, 36 boards, and the April 2024 one, 42);
- places of the April 2024 East of England -> its April 2026 number of boards
  (../shared/facts/icb_2026): proven optimal within 30 s;
- councils -> about 26 boards, England, contiguous: within 1% of the bound within 120 s.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from icbmap.plan.model import Plan
from icbmap.suggest.solve import suggest
from icbmap.suggest.spec import Constraints, Request, Target, Weights

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
pytestmark = pytest.mark.slow


def _target(plan) -> int:
    return min(26, len(plan.active_boards()) - 1)


def _run(benchmark, plan, request):
    box = {}

    def go():
        box["r"] = suggest(plan, request, explain=False)

    benchmark.pedantic(go, rounds=1, iterations=1)
    r = box["r"]
    print(f"\n{request.blocks} -> {request.target}: {r.status}, objective {r.options[0].found.objective:,.2f}, "
          f"bound {r.options[0].found.bound:,.2f}, gap {100 * r.options[0].found.gap:.3f}%, {r.elapsed:.1f} s, "
          f"{r.problem.n} atoms")
    return r


@pytest.mark.benchmark(group="suggest")
@pytest.mark.parametrize("pack", ["england", "england_2024"])
def test_whole_boards_england_proven_optimal_in_10s(benchmark, pack, request):
    plan = Plan(request.getfixturevalue(pack))
    n = _target(plan)
    req = Request(blocks="boards", target=Target(n, n), constraints=Constraints(floor=1_000_000),
                  weights=Weights.parse("disruption=1"), time_limit=10)
    r = _run(benchmark, plan, req)
    assert r.status == "optimal" and r.options[0].found.gap == 0
    assert r.options[0].violations == []


def _region_target(region: str) -> int:
    path = SHARED / "facts" / "icb_2026" / "icb_2026.csv"
    if not path.exists():
        pytest.skip(f"fact table not available: {path}")
    with open(path, newline="", encoding="utf-8") as f:
        return sum(1 for row in csv.DictReader(f) if row["nhs_region_name"] == region)


@pytest.mark.benchmark(group="suggest")
def test_places_one_region_proven_optimal_in_30s(benchmark, england_2024):
    """The East of England's places on the April 2024 boards (6) regrouped into its April
    2026 number of boards."""
    region = "East of England"
    k = _region_target(region)
    plan = Plan(england_2024)
    req = Request(blocks="places", target=Target(k, k), scope=region, constraints=Constraints(floor=1_000_000),
                  weights=Weights.parse("disruption=1"), time_limit=30)
    r = _run(benchmark, plan, req)
    assert r.status == "optimal"
    assert r.options[0].violations == []


@pytest.mark.skipif(not os.environ.get("ICBMAP_SLOW_BENCH"), reason="about 2 minutes: set ICBMAP_SLOW_BENCH=1")
@pytest.mark.benchmark(group="suggest")
def test_councils_england_within_1pct_in_120s(benchmark, england):
    plan = Plan(england)
    n = _target(plan)
    req = Request(blocks="councils", target=Target(n, n), constraints=Constraints(floor=1_000_000),
                  weights=Weights.parse("disruption=1"), time_limit=120)
    r = _run(benchmark, plan, req)
    assert r.options and r.options[0].found.gap <= 0.01
    assert r.options[0].violations == []


# ---------------------------------------------------------------- issue 20 targets (NHS England preset)
def _nhse(atlas, blocks: str, n: int, time_limit: float) -> Request:
    from icbmap.suggest.rules import constraints_from_rules

    cons, _rs, _notes = constraints_from_rules(atlas, "NHS England 2025 guidance")
    return Request(blocks=blocks, target=Target(n, n), constraints=cons, weights=Weights(), top=1,
                   time_limit=time_limit)


def _run_cpu(benchmark, plan, request):
    """Like _run, and prints the process CPU time (the targets are CPU seconds on 2 cores)."""
    import time

    box = {}

    def go():
        c0 = time.process_time()
        box["r"] = suggest(plan, request, explain=False)
        box["cpu"] = time.process_time() - c0

    benchmark.pedantic(go, rounds=1, iterations=1)
    r = box["r"]
    o = r.options[0] if r.options else None
    print(f"\n{request.blocks} -> {request.target} (NHS England preset, default objective): {r.status}, "
          f"{r.elapsed:.2f} s wall ({r.solver_seconds:.2f} s solving), {box['cpu']:.2f} s CPU, {r.problem.n} atoms, ties {r.ties}"
          + (f", levels {o.figures['levels']}" if o else ""))
    return r, box["cpu"]


@pytest.mark.benchmark(group="suggest-issue-20")
def test_nhse_whole_boards_26(benchmark, england):
    """Target: whole boards 36 -> 26 with the preset, proven optimal in <= 0.5 s of solver time
    (the assertion allows the shared machine 4x)."""
    r, cpu = _run_cpu(benchmark, Plan(england), _nhse(england, "boards", 26, 30))
    assert r.status == "optimal"
    assert r.solver_seconds < 2.0


@pytest.mark.skipif(not os.environ.get("ICBMAP_SLOW_BENCH"), reason="minutes: set ICBMAP_SLOW_BENCH=1")
@pytest.mark.benchmark(group="suggest-issue-20")
def test_nhse_councils_26(benchmark, england):
    """Target: councils -> 26 with the preset, proven optimal in <= 5 s CPU (split by region;
    docs/suggest.md gives the measured figure; the assertion allows the shared machine 2x)."""
    r, cpu = _run_cpu(benchmark, Plan(england), _nhse(england, "councils", 26, 300))
    assert r.status == "optimal" and r.options
    assert cpu < 10.0


@pytest.mark.skipif(not os.environ.get("ICBMAP_SLOW_BENCH"), reason="minutes: set ICBMAP_SLOW_BENCH=1")
@pytest.mark.benchmark(group="suggest-issue-20")
def test_nhse_districts_26(benchmark, england):
    """Target: districts -> 26 with the preset, split by region, proven optimal in <= 60 s CPU
    (docs/suggest.md gives the figure)."""
    req = _nhse(england, "districts", 26, 300)
    req.decompose = "on"
    r, cpu = _run_cpu(benchmark, Plan(england), req)
    assert r.status == "optimal" and r.options
    assert cpu < 60.0


# ---------------------------------------------------------------- GerryChain anchor
def _gerrychain_best(problem, k: int, floor: int, seconds: float, seed: int = 1, target: float | None = None):
    """GerryChain's SingleMetricOptimizer (ReCom short bursts) on the same atoms, minimising the
    same disruption (people whose board changes, best continuation matching), for ``seconds``
    or until it reaches ``target``.  One ``random.Random`` is shared by the starting plan, the
    proposal and the optimiser, as GerryChain's documentation says: an integer seed passed to
    ``recom`` would restart the random stream on every step (the chain then repeats itself)."""
    gc = pytest.importorskip("gerrychain", reason="GerryChain is not installed (pip install gerrychain)")
    import random
    import time

    import networkx as nx
    import numpy as np
    from gerrychain.constraints import contiguous, within_percent_of_ideal_population
    from gerrychain.optimization import SingleMetricOptimizer
    from gerrychain.proposals import recom
    from gerrychain.tree import recursive_tree_part
    from scipy.optimize import linear_sum_assignment

    g = nx.Graph()
    for a in range(problem.n):
        g.add_node(a, population=int(problem.pop[a]))
    g.add_edges_from((int(a), int(b)) for a, b in problem.edges)
    graph = gc.Graph.from_networkx(g)
    total = int(problem.pop.sum())
    ideal = total / k
    eps = 1 - floor / ideal        # every part within ideal * (1 +- eps): at least the floor
    starts = sorted({s for d in problem.start for s in d})
    P = np.array([[problem.start[a].get(s, 0) for s in starts] for a in range(problem.n)])

    def disruption(part) -> float:
        W = np.zeros((k, len(starts)))
        for a, d in part.assignment.items():
            W[int(d)] += P[a]
        r, c = linear_sum_assignment(-W)
        return float(total - W[r, c].sum())

    rng = random.Random(seed)
    try:
        assignment = recursive_tree_part(graph, range(k), ideal, "population", eps, rng=rng)
    except RuntimeError as exc:
        pytest.skip(f"GerryChain found no starting plan for ReCom ({exc})")
    init = gc.Partition(graph, assignment, updaters={"population": gc.updaters.Tally("population", "population")})
    proposal = lambda p: recom(p, "population", ideal, eps, rng=rng)
    opt = SingleMetricOptimizer(proposal, [contiguous, within_percent_of_ideal_population(init, eps)], init,
                                disruption, maximize=False, rng=rng)
    t0 = time.monotonic()
    steps = 0
    reached = None
    for _ in opt.short_bursts(5, 10**9):
        steps += 1
        if reached is None and target is not None and opt.best_score <= target:
            reached = time.monotonic() - t0
            break
        if time.monotonic() - t0 > seconds:
            break
    return opt.best_score, steps, time.monotonic() - t0, reached


@pytest.mark.benchmark(group="suggest-vs-gerrychain")
@pytest.mark.parametrize("region,floor", [("East of England", 1_000_000), ("Midlands", 500_000),
                                          ("South West", 500_000)])
def test_places_against_gerrychain(benchmark, england_2024, region, floor):
    """Same place-level problem (the April 2024 region's places into its April 2026 number of
    boards, a population floor, contiguous, minimum people moved): icbmap's proven optimum
    against GerryChain's best in the same time (at least 2 s)."""
    k = _region_target(region)
    plan = Plan(england_2024)
    req = Request(blocks="places", target=Target(k, k), scope=region, constraints=Constraints(floor=floor),
                  weights=Weights.parse("disruption=1"), time_limit=30)
    r = _run(benchmark, plan, req)
    assert r.status == "optimal"
    if r.problem.n != r.problem.n_blocks:
        pytest.skip("a place is in several pieces here; ReCom cannot keep pieces together")
    ours = r.options[0].figures["terms"]["disruption"]
    for seed in (1, 2, 3):
        theirs, steps, secs, reached = _gerrychain_best(r.problem, k, floor, 30.0, seed=seed, target=ours)
        print(f"{region}: icbmap {ours:,} people moved (proven optimal, {r.elapsed:.1f} s); GerryChain ReCom "
              f"short bursts (seed {seed}) {theirs:,.0f} after {steps} steps in {secs:.1f} s"
              + (f" (reached the optimum after {reached:.2f} s)" if reached is not None else ""))
        assert ours <= theirs
