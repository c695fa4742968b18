"""Benchmark: the metrics report of a plan with the most boards a proposal may hold.

Run with figures:  python -m pytest tests/bench/test_bench_boards.py --benchmark-enable
Issue 14 item 6: the report used to sum the board x area table once per board (quadratic
in boards); 1,000 boards (``MAX_BOARDS``) now cost about 0.1 s on a 2-core machine.
"""

from __future__ import annotations

import numpy as np
import pytest

from icbmap.metrics.engine import Metrics
from icbmap.plan.model import MAX_BOARDS, Board, Plan


@pytest.mark.benchmark(group="boards")
def test_report_with_the_most_boards(benchmark, england):
    plan = Plan(england)
    base = plan.n_boards
    for k in range(MAX_BOARDS - base):
        plan.boards.append(Board(base + k, f"N{k}", f"New {k}", "#336699"))
    units = np.arange(plan.n_units)
    plan.assignment[:] = (units * MAX_BOARDS // plan.n_units).astype(np.int32)
    metrics = Metrics(plan, observe=False)
    report = benchmark(metrics.report)
    assert len(report.boards) == MAX_BOARDS
