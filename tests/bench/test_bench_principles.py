"""Benchmarks of the principles checker on the England offline pack.

Run with figures:  python -m pytest tests/bench/test_bench_principles.py --benchmark-enable

Targets: one LSOA move with a rule set active costs <= 0.2 ms more than without (compare
``move_one_lsoa_no_rules`` and ``move_one_lsoa_with_rules`` in the "principles-edit"
group); a full check of England (every rule, every board, from the metrics' tables)
<= 50 ms.  The rule set used is every rule of the three presets together plus the other
kinds (contiguity, one region, at most N councils), so it is the worst case shipped.
"""

from __future__ import annotations

import pytest

from icbmap.metrics.engine import Metrics
from icbmap.plan import Plan
from icbmap.plan.commands import History, MoveUnits
from icbmap.principles import Checker, RuleSet, load_rules, make_rule, preset_names
from icbmap.principles.check import check

from test_bench_metrics import boundary_lsoa


def all_rules() -> RuleSet:
    rules = [r for name in preset_names() for r in load_rules(name).rules]
    extra = [make_rule({"kind": "contiguous"}, 90), make_rule({"kind": "one_region"}, 91),
             make_rule({"kind": "max_areas", "geography": "council", "max": 4}, 92),
             make_rule({"kind": "area_within_one_board", "geography": "district"}, 93)]
    out = []
    for i, r in enumerate(rules + extra):
        out.append(make_rule({**r.to_dict(), "id": f"r{i}"}, i))
    return RuleSet("benchmark: every preset rule and more", out)


def _bench(benchmark, england, with_rules: bool):
    plan = Plan(england)
    metrics = Metrics(plan)
    checker = Checker(metrics, all_rules()) if with_rules else None
    hist = History(plan)
    u, to = boundary_lsoa(england)

    def setup():
        while hist.can_undo():
            hist.undo()

    def edit():
        hist.push(MoveUnits([u], to))
        return metrics.summary()

    benchmark.pedantic(edit, setup=setup, rounds=500, iterations=1, warmup_rounds=5)
    if checker is not None:
        fresh = check(Metrics(plan, observe=False), checker.ruleset)
        assert [r.to_dict() for r in checker.results()] == [r.to_dict() for r in fresh.results()]


@pytest.mark.benchmark(group="principles-edit")
def test_move_one_lsoa_no_rules(benchmark, england):
    _bench(benchmark, england, with_rules=False)


@pytest.mark.benchmark(group="principles-edit")
def test_move_one_lsoa_with_rules(benchmark, england):
    _bench(benchmark, england, with_rules=True)


@pytest.mark.benchmark(group="principles-full")
def test_full_check_of_england(benchmark, england):
    plan = Plan(england)
    metrics = Metrics(plan, observe=False)
    rules = all_rules()
    c = benchmark(check, metrics, rules)
    assert len(c.results()) == len(rules.rules)
    assert c.to_dict()["boards"]          # reasons for every failing board and rule are writable


@pytest.mark.benchmark(group="principles-full")
def test_full_check_with_reasons(benchmark, england):
    plan = Plan(england)
    metrics = Metrics(plan, observe=False)
    rules = all_rules()
    d = benchmark(lambda: check(metrics, rules).to_dict())
    assert len(d["results"]) == len(rules.rules)
