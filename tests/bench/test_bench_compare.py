"""Benchmarks of options side by side (issue 11) on England with 5 options.

Run with figures:  python -m pytest tests/bench/test_bench_compare.py --benchmark-enable

Targets: ``icbmap compare`` of 5 proposals <= 1.5 s in total (a fresh process: start-up,
pack load, reading, comparing, writing JSON), of which <= 0.3 s after the pack is loaded;
switching the current option in the app <= 100 ms; a difference map <= 200 ms; each option
costs its plan and metrics tables (a few MB), not a copy of the geometry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from conftest import main_window

from icbmap.compare.core import Option, compare
from icbmap.compare.loading import load_options
from icbmap.compare.render import render
from icbmap.plan.commands import History, MergeBoards, MoveUnits
from icbmap.plan.model import Plan
from icbmap.plan.proposal import Proposal, write_proposal

N_OPTIONS = 5


def _option_plan(atlas, k: int) -> Plan:
    """An England-wide option: every k-th district moved to a neighbouring board, a merge."""
    p = Plan(atlas)
    h = History(p)
    b = atlas.unit_level("board")
    adj = atlas.adjacency
    dist = atlas.unit_level("district")
    for d in range(k, len(atlas.layers["district"]), 7):
        units = np.flatnonzero(dist == d)
        own = set(b[units].tolist())
        nb = {int(b[v]) for u in units[:50] for v in adj.neighbours(u)} - own
        if nb:
            h.push(MoveUnits(units, min(nb)))
    h.push(MergeBoards(k, k + 10))
    return p


@pytest.fixture(scope="module")
def proposal_files(england, tmp_path_factory):
    d = tmp_path_factory.mktemp("bench-compare")
    return [write_proposal(d / f"option-{k}.icbmap.json", Proposal.new(_option_plan(england, k), title=f"Option {k}"))
            for k in range(1, N_OPTIONS + 1)]


def test_bench_compare_cli_total(benchmark, proposal_files, tmp_path):
    out = tmp_path / "c.json"
    cmd = [sys.executable, "-m", "icbmap", "--pack", "england-offline", "compare", *map(str, proposal_files),
           "--format", "json", "-o", str(out)]
    env = dict(os.environ)

    def run():
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stderr

    benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    d = json.loads(out.read_text())
    assert [o["name"] for o in d["options"]] == [f"Option {k}" for k in range(1, N_OPTIONS + 1)]


def test_bench_compare_after_pack_load(benchmark, england, proposal_files):
    def run():
        loaded = load_options(proposal_files, england)
        cmp = compare(loaded.options)
        return render(cmp, "json")

    text = benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    assert len(json.loads(text)["options"]) == N_OPTIONS


def test_option_memory_is_its_plan_and_tables(england, proposal_files):
    """Opening an option allocates its plan and metrics tables only: a few MB."""
    from icbmap.metrics.engine import Metrics
    from icbmap.plan.proposal import read_proposal

    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    proposal = read_proposal(proposal_files[0], england)
    opt = Option("x", proposal.plan, Metrics(proposal.plan, observe=False))
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    print(f"one option: {grown / 1e6:.2f} MB")
    assert grown < 8e6
    assert opt.plan.atlas is england


@pytest.fixture
def window(qtbot, england, proposal_files, tmp_path):
    w = main_window(qtbot, england, tmp_path, size=(1400, 900))
    w.options.open_files(proposal_files, report=lambda p, n: None)
    yield w
    w.options.close()


@pytest.mark.gui
def test_bench_switch_option(benchmark, window):
    om = window.options
    state = {"k": 0}

    def switch():
        state["k"] += 1
        om.switch_to(1 + state["k"] % N_OPTIONS)

    benchmark.pedantic(switch, rounds=20, iterations=1, warmup_rounds=2)
    assert window.controller.plan is om.current_option.plan
    assert om.last_switch_ms < 1000


@pytest.mark.gui
def test_bench_difference_map(benchmark, window):
    om = window.options
    om.show_comparison()
    diff = om.differences
    om.switch_to(2)
    state = {"k": 0}

    def refresh():
        state["k"] += 1
        diff.pair = (1 + state["k"] % 2 * 2, 2)
        diff.refresh()

    benchmark.pedantic(refresh, rounds=10, iterations=1, warmup_rounds=1)
    assert diff.diff.lsoas > 0 and diff.layer.parts
