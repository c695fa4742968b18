"""Boundary change vs organisational change (icbmap.metrics.change), the cluster table
(icbmap.atlas.clusters) and the rule fields hard/weight (icbmap.principles.rules)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from icbmap.atlas.clusters import load_clusters
from icbmap.errors import DataError
from icbmap.metrics.change import boundary_change
from icbmap.principles.rules import KINDS, RuleError, make_rule

ROOT = Path(__file__).resolve().parents[1]
FACTS = ROOT.parent / "shared" / "facts" / "icb_clusters_2025" / "icb_clusters_2025.csv"


def _brute(base, prop, pop):
    """The definition, written out with loops."""
    nb = max(base) + 1
    cont, people = [], 0
    for b in range(nb):
        held = {}
        for x, y, w in zip(base, prop, pop):
            if x == b:
                held[y] = held.get(y, 0) + w
        if not held or sum(held.values()) == 0:
            cont.append(-1)
            continue
        best = max(held.values())
        c = min(k for k, v in held.items() if v == best)
        cont.append(c)
        people += sum(held.values()) - held[c]
    merges = sum(max(0, cont.count(p) - 1) for p in set(cont) if p >= 0)
    return people, merges, cont


def test_pure_merger_moves_nobody():
    base = np.array([0, 0, 1, 1, 2, 2])
    pop = np.array([10, 20, 30, 40, 50, 60])
    merged = np.array([0, 0, 0, 0, 1, 1])          # boards 0 and 1 merge, 2 renumbered
    people, merges, cont = boundary_change(base, merged, pop)
    assert (people, merges) == (0, 1)
    assert cont.tolist() == [0, 0, 1]
    # three boards into one: two merges, nobody moved
    assert boundary_change(base, np.zeros(6, int), pop)[:2] == (0, 2)
    # the identity: nothing
    assert boundary_change(base, base, pop)[:2] == (0, 0)


def test_moved_unit_counts_its_people_only():
    base = np.array([0, 0, 1, 1])
    pop = np.array([30, 20, 30, 40])
    prop = np.array([0, 1, 1, 1])                  # unit 1 (20 people) moves from board 0 to board 1
    people, merges, cont = boundary_change(base, prop, pop)
    assert people == 20 and merges == 0 and cont.tolist() == [0, 1]
    # when the larger part of board 0 goes, board 0 continues in board 1 (a merger) and the rest moved
    people, merges, cont = boundary_change(base, prop, np.array([10, 20, 30, 40]))
    assert people == 10 and merges == 1 and cont.tolist() == [1, 1]


def test_ties_go_to_the_lowest_board_id():
    base = np.array([0, 0])
    pop = np.array([5, 5])
    people, merges, cont = boundary_change(base, np.array([3, 1]), pop)
    assert cont.tolist() == [1] and people == 5 and merges == 0


def test_matches_brute_force_on_random_plans():
    rng = np.random.default_rng(20)
    for _ in range(200):
        n = int(rng.integers(1, 12))
        base = rng.integers(0, 4, n)
        prop = rng.integers(0, 4, n)
        pop = rng.integers(0, 5, n)
        got = boundary_change(base, prop, pop)
        want = _brute(base.tolist(), prop.tolist(), pop.tolist())
        assert got[0] == want[0] and got[1] == want[1]
        assert got[2].tolist() == want[2]


def test_bad_arrays_refused():
    with pytest.raises(ValueError):
        boundary_change([0, 1], [0], [1, 1])
    with pytest.raises(ValueError):
        boundary_change([0, 1], [0, 0], [1, float("nan")])


# ------------------------------------------------------------------ cluster table
def test_bundled_clusters_26_of_36():
    t = load_clusters()
    assert len(t) == 36 and t["board_code"].is_unique
    assert t["cluster_id"].nunique() == 26
    exp = t[t["status"] == "merger expected"]
    assert set(exp["expected_merger_date"]) == {"2027-04-01"}
    assert set(t["confidence"]) <= {"confirmed", "reported", "inferred"}
    # every code is an April 2026 board
    with open(ROOT / "shapefiles" / "configurations" / "boards_2026.csv", newline="") as fh:
        boards = {r["icb_code"] for r in csv.DictReader(fh)}
    assert set(t["board_code"]) == boards
    load_clusters(boards=boards)


@pytest.mark.skipif(not FACTS.exists(), reason="../shared/facts/icb_clusters_2025 is not present")
def test_generator_is_deterministic_and_matches_the_bundled_copy():
    import importlib.util

    spec = importlib.util.spec_from_file_location("mk", ROOT / "shapefiles" / "scripts" / "make_icb_clusters.py")
    mk = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mk)
    text = mk.build(FACTS)
    assert text == mk.build(FACTS)
    assert text == (ROOT / "shapefiles" / "icb_clusters_2025.csv").read_text(encoding="utf-8")


def test_cluster_table_naming_an_unknown_board_is_refused(tmp_path):
    src = (ROOT / "shapefiles" / "icb_clusters_2025.csv").read_text(encoding="utf-8")
    bad = tmp_path / "clusters.csv"
    bad.write_text(src.replace("E54000032", "E54000099"), encoding="utf-8")
    with open(ROOT / "shapefiles" / "configurations" / "boards_2026.csv", newline="") as fh:
        boards = {r["icb_code"] for r in csv.DictReader(fh)}
    with pytest.raises(DataError) as e:
        load_clusters(bad, boards=boards)
    assert str(bad) in str(e.value) and "E54000099" in str(e.value) and "lacks" in str(e.value)


@pytest.mark.parametrize("edit,word", [
    (lambda s: s.replace("cluster_id", "cluster"), "no column"),
    (lambda s: s.replace(",merged,", ",done,", 1), "status"),
    (lambda s: s.replace("E54000032", "E54000029"), "two clusters"),
    (lambda s: "", "cannot read"),
    (lambda s: s.replace("Kent and Medway (standalone)", "Kent\x01"), "control character"),
])
def test_bad_cluster_tables(tmp_path, edit, word):
    src = (ROOT / "shapefiles" / "icb_clusters_2025.csv").read_text(encoding="utf-8")
    bad = tmp_path / "c.csv"
    bad.write_text(edit(src), encoding="utf-8")
    with pytest.raises(DataError) as e:
        load_clusters(bad)
    assert str(bad) in str(e.value) and word in str(e.value)


# ------------------------------------------------------------------ hard / weight
def test_rule_hard_and_weight_round_trip():
    r = make_rule({"kind": "nest_or_contain", "hard": False, "weight": 2.5})
    assert r.hard is False and r.weight == 2.5 and r.subject == "areas"
    assert r.params["geography"] == "strategic_authorities_2026"
    d = r.to_dict()
    assert d["hard"] is False and d["weight"] == 2.5
    again = make_rule(d)
    assert again == r
    plain = make_rule({"kind": "population", "min": 1})
    assert plain.hard is True and plain.weight == 1.0
    assert "hard" not in plain.to_dict() and "weight" not in plain.to_dict()
    assert "nest_or_contain" in KINDS


@pytest.mark.parametrize("extra", [{"weight": 0}, {"weight": -1}, {"weight": math.nan}, {"weight": math.inf},
                                   {"weight": "2"}, {"weight": True}, {"hard": "no"}, {"hard": 1}])
def test_bad_hard_or_weight_refused(extra):
    with pytest.raises(RuleError):
        make_rule({"kind": "population", "min": 1, **extra})
