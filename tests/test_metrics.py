"""Metrics on the England offline atlas: baseline facts a planner would recognise, exact
agreement of the incremental engine with the full recompute, and `icbmap metrics`."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from icbmap.atlas.store import OFFLINE
from icbmap.metrics.engine import Metrics
from icbmap.metrics.reference import compute_values, full_recompute
from icbmap.metrics.values import PopulationBand
from icbmap.plan import UNASSIGNED, Plan
from icbmap.plan.commands import (
    CreateBoard, DeleteBoard, History, MergeBoards, MovePractices, MoveUnits,
)


def by_name(atlas, level, name):
    t = atlas.layers[level].table
    hits = np.flatnonzero(t["name"].to_numpy() == name)
    assert len(hits) == 1, (level, name)
    return int(hits[0])


def board_containing(atlas, fragment):
    names = atlas.layers["board"].table["name"].tolist()
    hits = [i for i, n in enumerate(names) if fragment in n]
    assert len(hits) == 1, (fragment, hits)
    return hits[0]


@pytest.fixture(scope="module")
def baseline(england):
    plan = Plan(england)
    m = Metrics(plan)
    return plan, m, m.report()


def assert_agrees(m: Metrics, plan: Plan):
    diff = m.values().diff(compute_values(plan, m.tolerance))
    assert diff == [], diff
    assert m.report().to_dict() == full_recompute(plan, m.tolerance, m.band).to_dict()


# ---------------------------------------------------------------- baseline facts
def test_baseline_boards_and_population(baseline, england):
    """April 2026: 36 boards; totals are sums of the Census 2021 LSOA counts."""
    plan, m, r = baseline
    s = r.summary
    assert s.boards == 36 and len(r.boards) == 36
    assert s.population == england.total_population == s.assigned_population
    assert "Shropshire, Telford and Wrekin" in s.smallest[1] and s.smallest[2] == 509_143
    assert "West and North London" in s.largest[1] and s.largest[2] == 3_503_306
    assert s.below_floor == 0 and s.above_maximum == 2  # West and North London, Central East
    assert s.below_minimum == sum(1 for b in r.boards if b.population < 1_000_000)
    assert s.unassigned_units == 0 and s.non_contiguous == 0
    assert math.isclose(sum(b.share for b in r.boards), 1.0)
    shrop = r.board(board_containing(england, "Shropshire"))
    assert shrop.status == "below_minimum" and shrop.flags == ["below 1,000,000"]
    per_board = np.bincount(england.unit_level("board"), weights=england.population).astype(np.int64)
    assert [b.population for b in sorted(r.boards, key=lambda b: b.id)] == per_board.tolist()


def test_baseline_2024_figures(england_2024):
    """April 2024: 42 boards from 509,143 to 2,966,501 people, 10 councils split."""
    r = Metrics(Plan(england_2024)).report()
    assert r.summary.boards == 42
    assert r.summary.smallest[2] == 509_143 and r.summary.largest[2] == 2_966_501
    assert "North East and North Cumbria" in r.summary.largest[1]
    assert r.summary.levels["council"].split == 10
    essex = r.area("council", "Essex")
    assert essex.n_boards == 3 and essex.n_real_boards == 3
    names = {r.board(p.board).name for p in essex.boards}
    assert any("Mid and South Essex" in n for n in names)
    assert any("Suffolk and North East Essex" in n for n in names)
    assert any("Hertfordshire and West Essex" in n for n in names)
    assert r.area("council", "Hampshire").n_boards == 2
    assert r.area("council", "Surrey").n_boards == 2
    assert r.area("ca", "Greater London Authority").n_boards == 5


def test_baseline_splits_a_planner_recognises(baseline, england):
    _, _, r = baseline
    # the April 2026 mergers made Essex, Hampshire and Surrey whole
    for council, board in (("Essex", "NHS Essex"), ("Hampshire", "Hampshire and Isle of Wight"),
                           ("Surrey", "Surrey and Sussex")):
        a = r.area("council", council)
        assert a.n_boards == 1 and board in r.board(a.main_board).name, council
    # Cumbria's two unitaries still lie across North East and North Cumbria / Lancashire and South Cumbria
    cumberland = r.area("council", "Cumberland")
    assert cumberland.n_boards == 2
    assert {r.board(p.board).name for p in cumberland.boards} == {
        "NHS North East and North Cumbria Integrated Care Board",
        "NHS Lancashire and South Cumbria Integrated Care Board"}
    assert r.area("council", "North Yorkshire").n_boards == 3
    gla = r.area("ca", "Greater London Authority")
    assert gla.n_boards == 4 and gla.nests is False and gla.equals_board is None
    assert all("London" in r.board(p.board).name for p in gla.boards)
    # the four London boards lie wholly inside the GLA: the reduced area score does not penalise it
    assert gla.split_score == 1.0
    gm = r.area("ca", "Greater Manchester")
    assert gm.nests and gm.equals_board == board_containing(england, "Greater Manchester")
    # Oxfordshire: Bath, Swindon and Wiltshire / Northamptonshire hold slivers of it
    ox = r.area("council", "Oxfordshire")
    assert ox.split and ox.sliver_only and ox.n_real_boards == 1


def test_baseline_summary_levels(baseline):
    _, _, r = baseline
    c = r.summary.levels["council"]
    assert c.areas == 153
    assert c.split == sum(1 for a in r.areas["council"] if a.n_boards > 1)
    assert c.split_pieces == sum(a.n_boards - 1 for a in r.areas["council"])
    assert c.whole_in_one + c.split == c.areas
    assert c.sliver_only == 1 and c.real_split == c.split - 1
    people = sum(a.population for a in r.areas["council"] if a.split)
    assert c.people_in_split == people
    assert math.isclose(c.pct_people_in_split, 100 * people / r.summary.population)
    assert c.area_splitting > 1.0 and c.board_splitting > 1.0
    ca = r.summary.levels["ca"]
    assert ca.areas == 16 and ca.nest == sum(a.nests for a in r.areas["ca"])
    assert ca.equal == sum(a.equals_board is not None for a in r.areas["ca"])


def test_board_relationships(baseline, england, england_2024):
    r24 = Metrics(Plan(england_2024)).report()
    frimley = r24.board(board_containing(england_2024, "Frimley"))
    part = {x.rsplit(" (", 1)[0] for x in frimley.councils_part}
    assert {"Hampshire", "Surrey"} <= part
    _, _, r = baseline
    tv = r.board(board_containing(england, "Thames Valley"))
    assert {x.rsplit(" (", 1)[0] for x in tv.councils_part} == {"Buckinghamshire", "Oxfordshire"}
    gm = r.board(board_containing(england, "Greater Manchester"))
    assert gm.councils_part == [] and len(gm.councils_whole) == 10
    assert gm.coterminosity == {"district": 1.0, "council": 1.0, "ca": 1.0}
    assert gm.split_score["council"] == 1.0  # whole councils nested inside: not penalised
    kent = r.board(board_containing(england, "Kent"))
    assert kent.coterminosity["ca"] is None and kent.cas_whole == kent.cas_part == []
    assert all(len(b.regions) == 1 for b in r.boards)


def test_islands_are_not_errors(baseline, england):
    _, _, r = baseline
    hiow = r.board(board_containing(england, "Isle of Wight"))
    assert hiow.pieces == 1 and hiow.contiguous  # joined to Hampshire by the bridge
    for b in r.boards:
        assert b.contiguous, b.name


def test_splitting_score_worked_example():
    """The worked example of docs/metrics.md, through the reference code."""
    from icbmap.metrics.reference import _level_values

    # two boards, three areas: A (100) whole in board 0; B (100) split 64/36; C (50) in board 1
    rows = np.array([1] * 3 + [2] * 2 + [2])
    cols = np.array([1, 2, 2, 2, 3, 3])
    pop = np.array([100, 64, 0, 36, 25, 25])
    # board 0: A 100 + B 64 (units: 3); board 1: B 36 + C 50 (units: 3)
    lv = _level_values("x", rows, cols, pop, 2, 4, [3, 3], [164, 86], 0.01)
    assert lv.area_score[1] == 1.0                    # A whole inside board 0
    assert lv.area_score[2] == math.sqrt(0.64) + math.sqrt(0.36)  # 1.4
    assert lv.area_score[3] == 1.0
    # board 0: whole A (100) is one piece with the nested part; B's 64 another
    assert lv.board_score[0] == math.fsum([math.sqrt(64 / 164), math.sqrt(100 / 164)])
    assert lv.whole_n.tolist() == [1, 1] and lv.part_n.tolist() == [1, 1]
    area_splitting = (100 * lv.area_score[1] + 100 * lv.area_score[2] + 50 * lv.area_score[3]) / 250
    assert math.isclose(area_splitting, 1.16)
    board_splitting = (164 * lv.board_score[0] + 86 * lv.board_score[1]) / 250
    assert math.isclose(board_splitting, 1.40691, abs_tol=1e-5)


# ---------------------------------------------------------------- incremental = reference
def test_scripted_edits_agree_exactly(england_2024):
    england = england_2024
    plan = Plan(england)
    m = Metrics(plan)
    hist = History(plan)
    assert_agrees(m, plan)
    chelmsford = england.members("district", by_name(england, "district", "Chelmsford"))
    herts = board_containing(england, "Hertfordshire and West Essex")
    hist.push(MoveUnits(chelmsford, herts))
    assert_agrees(m, plan)
    r = m.report()
    assert r.area("district", "Chelmsford").main_board == herts
    essex = r.area("council", "Essex")
    assert essex.n_boards == 3
    hist.push(MergeBoards(board_containing(england, "Surrey Heartlands"), board_containing(england, "Frimley")))
    assert_agrees(m, plan)
    r = m.report()
    assert r.area("council", "Surrey").n_boards == 1
    assert r.summary.boards == 41
    new = hist.push(CreateBoard("Test North Essex")).board_id
    hist.push(MoveUnits(england.members("council", by_name(england, "council", "Essex")), new))
    assert_agrees(m, plan)
    r = m.report()
    assert r.area("council", "Essex").n_boards == 1 and r.area("council", "Essex").main_board == new
    assert r.board(new).councils_whole == ["Essex (E10000012)"]
    # leave a district unassigned
    hist.push(MoveUnits(england.members("district", by_name(england, "district", "Braintree")), UNASSIGNED))
    assert_agrees(m, plan)
    r = m.report()
    assert r.summary.unassigned_units == len(england.members("district", by_name(england, "district", "Braintree")))
    assert r.area("council", "Essex").unassigned_population > 0
    hist.push(DeleteBoard(new, herts))
    assert_agrees(m, plan)
    while hist.can_undo():
        hist.undo()
        assert_agrees(m, plan)
    assert plan.is_baseline()


def test_contiguity_detects_a_cut(england_2024):
    england = england_2024
    plan = Plan(england)
    m = Metrics(plan)
    hist = History(plan)
    # Chelmsford sits between Maldon and the rest of Mid and South Essex: moving it to a
    # far-away board cuts Mid and South Essex and gives the receiver a detached piece.
    far = board_containing(england, "Cornwall")
    mse = board_containing(england, "Mid and South Essex")
    d = england.members("district", by_name(england, "district", "Chelmsford"))
    hist.push(MoveUnits(d, far))
    r = m.report()
    cornwall = r.board(far)
    assert cornwall.pieces == 2 and not cornwall.contiguous
    assert any("separate pieces" in f for f in cornwall.flags)
    essex = r.board(mse)
    assert essex.pieces - essex.island_pieces == 2 and not essex.contiguous
    assert r.summary.non_contiguous == 2
    assert_agrees(m, plan)
    hist.undo()
    assert m.report().summary.non_contiguous == 0
    assert_agrees(m, plan)
    # moving Maldon alone leaves Mid and South Essex whole
    hist.push(MoveUnits(england.members("district", by_name(england, "district", "Maldon")),
                        board_containing(england, "Suffolk and North East Essex")))
    assert m.report().board(mse).contiguous
    assert_agrees(m, plan)


def test_region_span(england):
    plan = Plan(england)
    m = Metrics(plan)
    london = england.members("district", by_name(england, "district", "Croydon"))
    surrey = board_containing(england, "Surrey and Sussex")
    History(plan).push(MoveUnits(london, surrey))
    r = m.report()
    assert len(r.board(surrey).regions) == 2 and r.summary.multi_region == 1
    assert any("NHS regions" in f for f in r.board(surrey).flags)


def test_tolerance_and_band_are_configurable(england_2024):
    england = england_2024
    plan = Plan(england)
    m = Metrics(plan, tolerance=0.2, band=PopulationBand(600_000, 1_200_000, 2_500_000))
    r = m.report()
    assert r.area("council", "Hampshire").sliver_only  # Frimley's 12.5% is a sliver at 20%
    assert r.summary.below_floor == 3  # Shropshire, Somerset, Cornwall
    assert r.summary.above_maximum == sum(1 for b in r.boards if b.population > 2_500_000)
    assert_agrees(m, plan)


def test_registered_population_follows_practices(england):
    """With a developer-made practices table (not real NHS data)."""
    b0 = england.members("board", 0)
    df = pd.DataFrame({
        "code": ["DEV001", "DEV002", "DEV003"], "name": ["Developer-made"] * 3, "postcode": [""] * 3,
        "x": [0.0] * 3, "y": [0.0] * 3, "patients": np.array([5000, 7000, 9000], dtype=np.int64),
        "pcn_code": [""] * 3, "pcn_name": [""] * 3, "place": [-1] * 3, "board": [0, 0, 1],
        "unit": [int(b0[0]), int(b0[1]), -1], "extract_date": [""] * 3,
    })
    atlas = dataclasses.replace(england, practices=df)
    plan = Plan(atlas)
    m = Metrics(plan)
    hist = History(plan)
    assert m.values().registered[:2].tolist() == [12000, 9000]
    hist.push(MoveUnits([b0[0]], 1))
    assert m.values().registered[:2].tolist() == [7000, 14000]
    hist.push(MovePractices([2], UNASSIGNED))
    v = m.values()
    assert v.registered[:2].tolist() == [7000, 5000] and v.unassigned_registered == 9000
    assert m.values().diff(compute_values(plan)) == []
    hist.undo()
    hist.undo()
    assert m.values().registered[:2].tolist() == [12000, 9000]


def test_listeners_get_dirty_areas(england):
    plan = Plan(england)
    m = Metrics(plan)
    got = []
    m.add_listener(lambda change, dirty: got.append(dirty))
    d = by_name(england, "district", "Chelmsford")
    History(plan).push(MoveUnits(england.members("district", d), 5))
    assert got and d in got[0]["district"].tolist() and 5 in got[0]["boards"]


# ---------------------------------------------------------------- CLI
# ``--pack`` explicitly: other tests may have chosen another pack with `data use`.
def test_cli_metrics_baseline_table(england, capsys):
    from icbmap.cli import main

    assert main(["--pack", OFFLINE, "metrics"]) == 0
    out = capsys.readouterr().out
    assert "Boards: 36" in out
    assert "baseline: April 2026 boards (36, derived)" in out
    assert "Smallest board: Shropshire, Telford and Wrekin 509,143" in out
    assert "largest: West and North London 3,503,306" in out
    essex = [line for line in out.splitlines() if line.startswith("E10000012  Essex")]
    assert essex and essex[0].split()[2] == "1"
    assert "Greater London Authority" in out
    assert main(["--pack", OFFLINE, "metrics", "--baseline", "2024"]) == 0
    out = capsys.readouterr().out
    assert "Boards: 42" in out and "largest: North East and North Cumbria 2,966,501" in out
    essex = [line for line in out.splitlines() if line.startswith("E10000012  Essex")]
    assert essex and essex[0].split()[3] == "3"  # the split councils table: population, boards


def test_cli_metrics_json_csv_and_saved_plan(england_2024, tmp_path, capsys):
    from icbmap.cli import main

    england = england_2024
    plan = Plan(england)
    History(plan).push(MergeBoards(board_containing(england, "Surrey Heartlands"),
                                   board_containing(england, "Frimley")))
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan.to_dict()))
    out_json = tmp_path / "m.json"
    # a bare plan file records no baseline: --baseline says which
    assert main(["--pack", OFFLINE, "metrics", str(path), "--baseline", "2024", "--format", "json",
                 "-o", str(out_json)]) == 0
    d = json.loads(out_json.read_text())
    assert d["summary"]["boards"] == 41
    surrey = [a for a in d["areas"]["council"] if a["name"] == "Surrey"][0]
    assert surrey["n_boards"] == 1
    assert main(["--pack", OFFLINE, "metrics", "--format", "csv"]) == 0
    csv_text = capsys.readouterr().out
    assert csv_text.startswith("section,summary") and "section,council_areas" in csv_text
    # a CSV file is Excel-ready (UTF-8 BOM), like export's; --no-bom for scripts; stdout never
    excel, plain = tmp_path / "m.csv", tmp_path / "plain.csv"
    assert main(["--pack", OFFLINE, "metrics", "--format", "csv", "-o", str(excel)]) == 0
    assert main(["--pack", OFFLINE, "metrics", "--format", "csv", "--no-bom", "-o", str(plain)]) == 0
    assert excel.read_bytes() == b"\xef\xbb\xbf" + plain.read_bytes()
    assert plain.read_text(encoding="utf-8") == csv_text
    assert main(["--pack", OFFLINE, "metrics", "--no-bom"]) == 2  # only with a CSV file
    assert "--no-bom" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    d = plan.to_dict()
    d["units"] = {"3": ["E01999999"]}
    bad.write_text(json.dumps(d))
    assert main(["--pack", OFFLINE, "metrics", str(bad), "--baseline", "2024"]) == 1
    err = capsys.readouterr().err
    assert "bad.json" in err and "E01999999" in err


def test_cli_metrics_reads_a_proposal_file(england, tmp_path, capsys):
    from icbmap.cli import main
    from icbmap.plan.proposal import Proposal, write_proposal

    plan = Plan(england)
    hist = History(plan)
    new = hist.push(CreateBoard("North Essex")).board_id
    hist.push(MoveUnits(england.members("council", by_name(england, "council", "Essex")), new))
    path = write_proposal(tmp_path / "essex.icbmap.json", Proposal.new(plan, title="One Essex"))
    assert main(["--pack", OFFLINE, "metrics", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("icbmap metrics: One Essex")
    assert f"Boards: {len(england.layers['board']) + 1}" in out
    essex = [line.split() for line in out.splitlines() if line.startswith("E10000012  Essex")]
    assert essex == [["E10000012", "Essex", "1", "North", "Essex"]]  # one board now, not split


def test_many_boards_and_many_pieces(england):
    """Table growth past the initial capacity, and many piece labels (label arrays grow)."""
    plan = Plan(england)
    m = Metrics(plan)
    hist = History(plan)
    rng = np.random.default_rng(3)
    new = [hist.push(CreateBoard(f"Board {i}")).board_id for i in range(20)]
    for b in new:
        hist.push(MoveUnits(rng.choice(england.n_units, 30, replace=False), b))
    assert_agrees(m, plan)
    # scatter 1,500 single units onto one board: each lands as its own piece
    for u in rng.choice(england.n_units, 1500, replace=False):
        hist.push(MoveUnits([u], new[0]))
    assert m.values().diff(compute_values(plan)) == []
    assert m.report().board(new[0]).pieces > 1000
    while hist.can_undo():
        hist.undo()
    assert plan.is_baseline() and m.values().diff(compute_values(plan)) == []


def test_cli_metrics_refuses_a_huge_file_without_reading_it(tmp_path, capsys):
    """A 1 GB (sparse) file given to `icbmap metrics`: a clear error, not 1 GB in memory."""
    from icbmap.cli import main

    huge = tmp_path / "huge.icbmap.json"
    with open(huge, "wb") as fh:
        fh.truncate(1 << 30)
    assert main(["--pack", "england-offline", "metrics", str(huge)]) == 1
    err = capsys.readouterr().err
    assert "huge.icbmap.json" in err and "too large" in err


def test_moving_an_enclosing_lsoa_cuts_off_the_enclave(england):
    adj = england.adjacency
    hole = int(np.flatnonzero(adj.degree() == 1)[0])
    encloser = int(adj.neighbours(hole)[0])
    plan = Plan(england)
    m = Metrics(plan)
    b = int(plan.assignment[encloser])
    assert plan.assignment[hole] == b
    other = next(int(plan.assignment[x]) for x in range(england.n_units) if plan.assignment[x] != b)
    hist = History(plan)
    hist.push(MoveUnits([encloser], other))
    assert m.values().pieces[b] == 2
    assert_agrees(m, plan)
    hist.push(MoveUnits([hole], other))      # the enclave follows: whole again
    assert m.values().pieces[b] == 1
    hist.undo()
    hist.undo()
    assert m.values().pieces[b] == 1
    assert_agrees(m, plan)


def test_an_island_given_to_another_board_is_not_an_error(england):
    plan = Plan(england)
    m = Metrics(plan)
    wight = england.members("council", by_name(england, "council", "Isle of Wight"))
    dorset = board_containing(england, "Dorset")
    History(plan).push(MoveUnits(wight, dorset))
    b = m.report().board(dorset)
    assert b.pieces == 2 and b.island_pieces == 1 and b.contiguous
    assert m.report().summary.non_contiguous == 0
    assert_agrees(m, plan)


def test_lazy_area_rows_are_the_same_rows(england):
    """The app's report makes a level's area rows when that level is read; the rows are
    those of the full report, and a level nobody reads is never made."""
    from icbmap.metrics.values import PerLevel

    plan = Plan(england)
    m = Metrics(plan)
    plan.assign(england.members("district", by_name(england, "district", "Waverley")), 5)
    lazy = m.report(lazy_areas=True)
    assert isinstance(lazy.areas, PerLevel) and not dict.__len__(lazy.areas)
    council = lazy.areas["council"]
    assert dict.__len__(lazy.areas) == 1            # only the level read was made
    full = m.report()
    assert [dataclasses.asdict(r) for r in council] == [dataclasses.asdict(r) for r in full.areas["council"]]
    assert lazy.to_dict() == full.to_dict()
