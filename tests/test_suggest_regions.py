"""Regions follow boards (issue 20, item 4): a council that straddles an NHS region line may go
whole to either region, the regions are then the union of their boards, and the principles
checker finds the council whole on the written plan.  Split by region or not, the same option."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from icbmap.metrics import Metrics
from icbmap.plan.model import Plan
from icbmap.principles import load_rules
from icbmap.principles.check import check
from icbmap.suggest.rules import constraints_from_rules
from icbmap.suggest.solve import suggest
from icbmap.suggest.spec import Request, Target, Weights

NHSE = "NHS England 2025 guidance"
# Lancashire and South Cumbria (North West) and North East and North Cumbria (North East and
# Yorkshire) share Westmorland and Furness and Cumberland, which straddle the region line
SCOPE = "E54000048,E54000050"


def _request(atlas, **kw) -> Request:
    cons, _rs, _notes = constraints_from_rules(atlas, NHSE)
    follow = kw.pop("follow", True)
    return Request(blocks="councils", target=Target(2, 2), scope=SCOPE,
                   constraints=replace(cons, regions_follow_boards=follow), weights=Weights(), time_limit=60,
                   workers=2, **kw)


def _named(lines, name):
    return [t for t in lines if t.startswith(name + ":")]


def test_straddling_council_made_whole_and_checker_agrees(england):
    plan = Plan(england)
    rules = load_rules(NHSE)
    before = check(Metrics(plan, observe=False), rules)
    # today both councils are split between the two boards, and Cumbria fails nest-or-contain
    assert _named(before.area_failures("councils"), "Westmorland and Furness")
    assert _named(before.area_failures("councils"), "Cumberland")
    assert _named(before.area_failures("strategic-authorities"), "Cumbria Combined Authority")
    results = {}
    for mode in ("off", "on"):      # the whole model, and split by region with the programme
        r = suggest(plan, _request(england, decompose=mode), explain=False)
        assert r.status == "optimal" and r.options, r.message
        o = r.options[0]
        assert o.violations == []           # no board spans two regions: regions follow boards
        after = check(Metrics(o.plan, observe=False), rules)
        assert not _named(after.area_failures("councils"), "Westmorland and Furness")
        assert not _named(after.area_failures("councils"), "Cumberland")
        # both councils went to one board, so the Cumbria strategic authority lies in it whole
        assert not _named(after.area_failures("strategic-authorities"), "Cumbria Combined Authority")
        assert o.figures["terms"]["soft_rules"] == 0
        # Westmorland and Furness (most of its people in the North West) joined the North East
        # and Yorkshire board: that board's region is the union of its units
        names = england.level_layer("council").names
        wf = int(np.flatnonzero(np.asarray(names) == "Westmorland and Furness")[0])
        units = england.unit_level("council") == wf
        (board,) = np.unique(o.plan.assignment[units])
        row = next(b for b in o.figures["board_list"] if b["id"] == int(board))
        assert row["nhs_region"] == "North East and Yorkshire"
        assert "North West" in row["regions"]
        results[mode] = (o.figures["levels"], o.plan.assignment.tobytes())
    assert results["on"] == results["off"]


def test_majority_region_only_would_leave_cumbria_split(england):
    """With the block cut along the region line (regions_follow_boards off), Cumbria's two
    councils cannot share a board, so the soft rule fails once: the choice of region is what
    lets the option above do better."""
    plan = Plan(england)
    r = suggest(plan, _request(england, follow=False), explain=False)
    assert r.status == "optimal"
    assert r.options[0].figures["terms"]["soft_rules"] == 100


@pytest.mark.parametrize("mode", ["on", "off"])
def test_regions_follow_boards_notes(england, mode):
    r = suggest(Plan(england), _request(england, decompose=mode), explain=False)
    assert any("straddle an NHS region line" in n and "one of its regions" in n for n in r.problem.notes)


@pytest.mark.parametrize("n,top", [(5, 2), (6, 1)])
def test_decomposed_equals_whole_with_a_shared_starting_board(england, n, top):
    """Thames Valley's Buckinghamshire and Oxfordshire may each leave the South East, so which
    region continues Thames Valley is the programme's choice (a variant); Central East split in
    two with Buckinghamshire (n = 5) needs a board made mostly of people counted in another
    region, which an earlier bound cut off.  Split by region and not: the same options."""
    plan = Plan(england)
    scope = "E54000070,E54000065,E54000040,E54000043,E54000059,E54000018"
    out = {}
    for mode in ("on", "off"):
        req = replace(_request(england, decompose=mode, top=top), scope=scope, target=Target(n, n))
        r = suggest(plan, req, explain=False)
        assert r.status == "optimal"
        out[mode] = [(o.figures["levels"], o.plan.assignment.tobytes()) for o in r.options]
    assert out["on"] == out["off"]
