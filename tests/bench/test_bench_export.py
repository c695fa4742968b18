"""Benchmarks: GeoJSON export of the 42-board England proposal, and the briefing PDF.

Run with figures:  python -m pytest tests/bench/test_bench_export.py --benchmark-enable
(``pyproject`` passes ``--benchmark-disable``: in CI each runs once as a plain test and the
checks after it still run.)

Targets on a 2-core machine: the boards GeoJSON (dissolve, reprojection, rounding,
metrics properties, writing) under 0.5 s; with the 32,844-unit layer under 3 s; the
one-page briefing PDF under 3 s; the assignment CSV under 0.1 s; the Excel workbook under 3 s.
Measured (this container, mean): boards GeoJSON 0.14 s, with units 1.74 s, briefing PDF 0.82 s,
CSV 0.025 s.  Issue 23 (the container shared by 8 sessions): boards GeoJSON 0.28 s, CSV (with the
boards table's ONS fields) 0.25 s, workbook 0.42 s.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from icbmap.export import rfc7946
from icbmap.export.briefing import render_briefing
from icbmap.export.csv import write_csv
from icbmap.export.geojson import write_geojson
from icbmap.plan.commands import History, MoveUnits
from icbmap.plan.model import Plan

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def proposal(england):
    """The baseline boards with a few hundred LSOAs moved across a border."""
    p = Plan(england)
    History(p).push(MoveUnits(np.arange(100, 400), 3))
    return p


def test_bench_geojson_boards(benchmark, proposal, tmp_path):
    out = tmp_path / "boards.geojson"
    benchmark.pedantic(write_geojson, args=(proposal, out), rounds=5, iterations=1, warmup_rounds=1)
    doc = json.loads(out.read_text())
    assert len(doc["features"]) == len(proposal.active_boards())
    assert rfc7946.check(doc) == []


def test_bench_geojson_with_units(benchmark, proposal, tmp_path):
    out = tmp_path / "boards.geojson"
    paths = benchmark.pedantic(write_geojson, args=(proposal, out), kwargs={"units": True}, rounds=3,
                               iterations=1)
    assert len(json.loads(paths[1].read_text())["features"]) == proposal.n_units


def test_bench_csv(benchmark, proposal, tmp_path):
    out = tmp_path / "a.csv"
    benchmark.pedantic(write_csv, args=(proposal, out), rounds=5, iterations=1)
    assert out.read_text().count("\n") == proposal.n_units + 1


def test_bench_briefing_pdf(benchmark, proposal, tmp_path):
    out = tmp_path / "brief.pdf"
    benchmark.pedantic(render_briefing, args=(proposal, out), rounds=3, iterations=1, warmup_rounds=1)
    assert out.read_bytes()[:4] == b"%PDF"


def test_bench_xlsx(benchmark, proposal, tmp_path):
    """The Excel workbook (metrics, principles, six sheets): target under 3 s."""
    from openpyxl import load_workbook

    from icbmap.export.xlsx import write_xlsx

    out = tmp_path / "plan.xlsx"
    benchmark.pedantic(write_xlsx, args=(proposal, out), rounds=3, iterations=1)
    wb = load_workbook(out, read_only=True)
    assert wb["boards"].max_row == len(proposal.active_boards()) + 1
    wb.close()
