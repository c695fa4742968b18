"""Benchmarks: the offline pack's cold build and warm load (pytest-benchmark).

Run with ``python -m pytest tests/bench --benchmark-enable``; in the normal test run
(``--benchmark-disable``) each body runs once as a plain test.
"""

import pytest

from icbmap.atlas.offline import build_offline
from icbmap.atlas.store import OFFLINE, load_atlas

pytestmark = pytest.mark.slow


def test_bench_cold_build(benchmark):
    atlas = benchmark.pedantic(build_offline, rounds=1, iterations=1)
    assert atlas.n_units == 32_844


def test_bench_warm_load(benchmark, england):
    atlas = benchmark.pedantic(load_atlas, args=(OFFLINE,), rounds=5, iterations=1)
    assert atlas.total_population == 56_490_056
