"""The expected April 2027 map (--baseline 2027-expected), the clusters as a reference geography,
and boundary change vs merges in metrics and compare (issue 20, items 3 and 6)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from icbmap.atlas.clusters import EXPECTED_KEY, EXPECTED_LABEL, load_clusters
from icbmap.errors import DataError

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args, env_extra=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "icbmap", *args], capture_output=True, text=True, timeout=600,
                          env=env)


@pytest.fixture(scope="module")
def expected():
    from icbmap.atlas.store import load_atlas

    return load_atlas(baseline=EXPECTED_KEY)


def test_expected_atlas_is_the_clusters_merged(england, expected):
    clusters = load_clusters()
    assert expected.baseline == EXPECTED_KEY and expected.baseline_label == EXPECTED_LABEL
    t = expected.layers["board"].table
    assert len(t) == clusters["cluster_id"].nunique() == 26
    assert t["population"].sum() == england.total_population
    # every April 2026 board's units are in the board of its cluster, and nowhere else
    codes26 = england.layers["board"].table["code"].astype(str).to_numpy()[england.units["board"].to_numpy()]
    cl = dict(zip(clusters["board_code"], clusters["cluster_id"]))
    unit_cluster = pd.Series(codes26).map(cl).to_numpy()
    b27 = expected.units["board"].to_numpy()
    pairs = pd.DataFrame({"c": unit_cluster, "b": b27}).drop_duplicates()
    assert pairs["c"].is_unique and pairs["b"].is_unique and len(pairs) == 26
    # populations: each expected board holds exactly its cluster's people
    pop = pd.Series(england.population).groupby(unit_cluster).sum()
    for c, b in zip(pairs["c"], pairs["b"]):
        assert int(t["population"].iat[b]) == int(pop[c])
    # merged boards say so, with codes that are not ONS codes; others keep theirs
    merged = t[t["code"].str.endswith("-expected")]
    multi = clusters.groupby("cluster_id").size()
    assert set(merged["code"].str[:3]) == set(multi[multi > 1].index)
    assert all("(expected 2027)" in n for n in merged["name"])
    assert set(t["code"]) - set(merged["code"]) <= set(england.layers["board"].table["code"])
    prov = expected.provenance["board"]
    assert "not decided" in prov.note and "HCWS915" in prov.source
    assert any(c["key"] == EXPECTED_KEY for c in england.baselines)       # offered from the April 2026 pack


def test_cluster_reference_geography(england, expected):
    for atlas in (england, expected):
        ref = atlas.references["ref:icb_clusters_2025"]
        assert len(ref.layer.table) == 26 and (ref.unit_area >= 0).all()
        assert ref.layer.table["population"].sum() == atlas.total_population
    # on the expected map every board is exactly one cluster
    ref = expected.references["ref:icb_clusters_2025"]
    pairs = pd.DataFrame({"a": ref.unit_area, "b": expected.units["board"].to_numpy()}).drop_duplicates()
    assert len(pairs) == 26
    # a rule can prefer merges within clusters: at most one cluster per board
    from icbmap.metrics import Metrics
    from icbmap.plan import Plan
    from icbmap.principles import RuleSet, make_rule
    from icbmap.principles.check import check

    rs = RuleSet("x", [make_rule({"kind": "max_areas", "geography": "icb_clusters_2025", "max": 1, "hard": False})])
    plan = Plan(england)
    assert check(Metrics(plan, observe=False), rs).results()[0].failing == 0
    a = plan.board_by_code("E54000048").id     # Lancashire and South Cumbria (C23)
    b = plan.board_by_code("E54000057").id     # Greater Manchester (C22)
    plan.move(plan.board_units(b), np.flatnonzero(plan.practice_assignment == b), a)
    plan.set_active(b, False)
    res = check(Metrics(plan, observe=False), rs)
    assert res.results()[0].failing == 1 and res.results()[0].warning


def test_expected_plan_beside_the_april_2026_boards(england, expected):
    from icbmap.metrics.change import boundary_change
    from icbmap.plan.expected import expected_plan

    plan = expected_plan(england)
    assert len(plan.active_ids()) == 26
    people, merges, _ = boundary_change(plan.baseline_assignment, plan.assignment, england.population)
    assert people == 0 and merges == 10       # 36 boards -> 26: ten absorbed, nobody's area moves
    # the same partition as the expected atlas
    pairs = pd.DataFrame({"a": plan.assignment, "b": expected.units["board"].to_numpy()}).drop_duplicates()
    assert len(pairs) == 26


def test_cluster_table_naming_a_board_the_pack_lacks(england, tmp_path):
    from icbmap.atlas.expected_2027 import merge_boards

    bad = tmp_path / "clusters.csv"
    bad.write_text((ROOT / "shapefiles" / "icb_clusters_2025.csv").read_text().replace("E54000062", "E54000099"))
    import copy

    atlas = copy.copy(england)
    atlas.layers = dict(england.layers)
    with pytest.raises(DataError) as e:
        merge_boards(atlas, load_clusters(bad), bad)
    assert str(bad) in str(e.value) and "E54000099" in str(e.value)
    assert atlas.layers["board"] is england.layers["board"]          # nothing changed


def _merger_proposal(atlas, path):
    """Birmingham and Solihull merged into the Black Country: a pure merger."""
    from icbmap.plan.commands import History, MergeBoards
    from icbmap.plan.model import Plan
    from icbmap.plan.proposal import Proposal, write_proposal

    plan = Plan(atlas)
    keep, absorb = plan.board_by_code("E54000062").id, plan.board_by_code("E54000055").id
    History(plan).push(MergeBoards(keep, absorb))
    write_proposal(path, Proposal.new(plan, title="Pure merger"))
    pops = [int(atlas.population[plan.baseline_assignment == b].sum()) for b in (keep, absorb)]
    return min(pops)       # the one-to-one matching carries the larger board on


def test_pure_merger_is_zero_boundary_change_in_metrics_and_compare(england, tmp_path):
    path = tmp_path / "merger.icbmap.json"
    absorbed = _merger_proposal(england, path)
    r = _cli("metrics", str(path), "--format", "json")
    assert r.returncode == 0, r.stderr
    ch = json.loads(r.stdout)["change"]
    assert (ch["people"], ch["lsoas"], ch["merges"]) == (0, 0, 1)
    assert [x["code"] for x in ch["merged"][0]["continues"]] == ["E54000055", "E54000062"]
    r = _cli("metrics", str(path))
    assert "Boundary change: 0 people (0 LSOAs)" in r.stdout and "Merges (organisational change): 1" in r.stdout
    r = _cli("compare", "--with-baseline", str(path), "2027-expected", "--format", "json")
    assert r.returncode == 0, r.stderr
    opts = json.loads(r.stdout)["options"]
    assert [o["summary"]["boundary_change"] for o in opts] == [0, 0, 0]
    assert [o["summary"]["merges"] for o in opts] == [0, 1, 10]
    assert opts[2]["name"] == EXPECTED_LABEL
    # the one-to-one matched figure still counts the smaller board's people (kept, relabelled)
    assert opts[1]["summary"]["people_moved"] == absorbed


def test_boundary_change_counts_a_real_move(england):
    from icbmap.compare.core import Option, compare
    from icbmap.plan.model import Plan

    plan = Plan(england)
    kent = plan.board_by_code("E54000032").id
    sussex = plan.board_by_code("E54000069").id
    units = plan.board_units(kent)[:50]
    plan.move(units, np.zeros(0, np.int64), sussex)
    cmp = compare([Option("Baseline", Plan(england), baseline=True), Option("Moved", plan)])
    assert cmp.row("boundary_change").values == [0, int(england.population[units].sum())]
    assert cmp.row("boundary_lsoas").values == [0, 50] and cmp.row("merges").values == [0, 0]


def test_cli_expected_baseline_metrics_compare_check():
    r = _cli("metrics", "--baseline", EXPECTED_KEY, "--format", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["summary"]["boards"] == 26 and EXPECTED_LABEL in d["meta"]["plan"]
    r = _cli("metrics", "--baseline", EXPECTED_KEY)
    assert EXPECTED_LABEL in r.stdout and "HCWS915" in r.stdout and "not decided" in r.stdout
    r = _cli("compare", "--with-baseline", "2027-expected")
    assert r.returncode == 0, r.stderr
    head = next(x for x in r.stdout.splitlines() if x.startswith("Figure"))
    assert "Baseline" in head and EXPECTED_LABEL in head
    boards = next(x for x in r.stdout.splitlines() if x.startswith("Boards "))
    assert boards.split()[-2:] == ["36", "26"]
    r = _cli("check", "--baseline", EXPECTED_KEY, "--rules", "NHS England 2025 guidance", "--format", "json")
    assert r.returncode in (0, 3), r.stderr
    d = json.loads(r.stdout)
    assert next(x for x in d["results"] if x["id"] == "population")["failing"] == 0
    r = _cli("check", "--compare", "2027-expected")
    assert r.returncode == 3 and "(2027-expected 0; +11)" in r.stdout      # the floor: 11 boards vs none


def test_unknown_baseline_lists_the_expected_one():
    r = _cli("metrics", "--baseline", "2031")
    assert r.returncode == 1 and "2027-expected" in r.stderr and "Traceback" not in r.stderr


def test_a_proposal_drawn_on_the_expected_map_reopens_on_it(expected, tmp_path):
    from icbmap.plan.commands import History, MoveUnits
    from icbmap.plan.model import Plan
    from icbmap.plan.proposal import Proposal, write_proposal

    plan = Plan(expected)
    kent = plan.board_by_code("E54000032").id
    c12 = plan.board_by_code("C12-expected").id
    units = plan.board_units(kent)[:5]
    History(plan).push(MoveUnits(units, c12))
    path = write_proposal(tmp_path / "on-2027.icbmap.json", Proposal.new(plan, title="On the 2027 map"))
    r = _cli("metrics", str(path), "--format", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["summary"]["boards"] == 26
    assert d["change"]["people"] == int(expected.population[units].sum()) and d["change"]["merges"] == 0
    r = _cli("metrics", str(path), "--baseline", "2026")
    assert r.returncode == 1 and "2027-expected" in r.stderr


@pytest.mark.slow
def test_comparison_briefing_with_the_expected_map(england, tmp_path):
    import shutil

    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    from icbmap.compare.core import Option
    from icbmap.export.compare_brief import render_comparison
    from icbmap.plan.expected import expected_plan
    from icbmap.plan.model import Plan

    out = render_comparison([Option("Baseline", Plan(england), baseline=True),
                             Option(EXPECTED_LABEL, expected_plan(england))], tmp_path / "c.pdf")[0]
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True).stdout
    flat = " ".join(text.split())
    merges = next(line for line in text.splitlines() if "Merges: baseline boards absorbed" in line)
    assert merges.split()[-2:] == ["0", "10"]
    boards = next(line for line in text.splitlines() if line.strip().startswith("Boards ") and "36" in line)
    assert boards.split()[-2:] == ["36", "26"]
    assert "April 2027 (expected: 2025 clusters merged; not decided)" in flat or (
        "April 2027 (expected: 2025" in flat and "clusters merged; not decided)" in flat)


def test_a_pack_without_the_april_2026_boards_is_refused_naming_the_cluster_table(tmp_path, monkeypatch, capsys):
    """A pack imported from a lookup whose boards are not the April 2026 ones (here a 2-board
    fixture): --baseline 2027-expected exits 1 with one message naming the cluster table and the
    board the pack lacks; nothing is written."""
    from test_official_import import fixture_files

    from icbmap import cli
    from icbmap.atlas.clusters import clusters_path
    from icbmap.atlas.official import import_pack

    monkeypatch.setenv("ICBMAP_HOME", str(tmp_path / "home"))
    import_pack("test-fixture-2027", **fixture_files(tmp_path))
    out = tmp_path / "m.txt"
    rc = cli.main(["--pack", "test-fixture-2027", "metrics", "--baseline", EXPECTED_KEY, "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err
    assert str(clusters_path()) in err and "E54000008" in err and "lacks" in err
    assert not out.exists()
