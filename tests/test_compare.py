"""The comparison core and `icbmap compare`: figures checked against the LSOA table with
pandas (an independent route), moves, focus, and the bad input of issue 11."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from icbmap.compare.core import Option, RowSpec, compare, register_row, ROWS
from icbmap.compare.focus import FocusError, resolve_focus
from icbmap.compare.moves import diff_plans, match_boards
from icbmap.plan.commands import CreateBoard, History, MergeBoards, MoveUnits
from icbmap.plan.model import Plan
from icbmap.plan.proposal import Proposal, write_proposal


def _board(atlas, fragment):
    names = atlas.layers["board"].table["name"].tolist()
    hits = [i for i, n in enumerate(names) if fragment in n]
    assert len(hits) == 1, fragment
    return hits[0]


def _district(atlas, name):
    t = atlas.layers["district"].table
    return int(np.flatnonzero(t["name"].to_numpy() == name)[0])


@pytest.fixture(scope="module")
def options(england_2024):
    """Baseline; an option moving Waverley from Surrey Heartlands to Frimley; an option
    merging two London boards and moving a slice of Kent to Sussex."""
    base = Plan(england_2024)
    one = Plan(england_2024)
    waverley = england_2024.members("district", _district(england_2024, "Waverley"))
    History(one).push(MoveUnits(waverley, _board(england_2024, "Frimley")))
    two = Plan(england_2024)
    h = History(two)
    h.push(MergeBoards(_board(england_2024, "North West London"), _board(england_2024, "North Central London")))
    kent = np.flatnonzero(two.assignment == _board(england_2024, "Kent and Medway"))[:120]
    h.push(MoveUnits(kent, _board(england_2024, "Sussex")))
    return [Option("Baseline", base, baseline=True), Option("One", one), Option("Two", two)]


def _independent(atlas, plan, region_units=None, tol=0.01):
    """Figures from the LSOA table with pandas groupby (no metrics engine)."""
    u = pd.DataFrame({"board": plan.assignment, "pop": atlas.population,
                      "council": atlas.unit_level("council"), "region": atlas.unit_level("region")})
    active = {b.id for b in plan.boards if b.active}
    boards = set(u.loc[region_units, "board"]) if region_units is not None else set(u["board"])
    boards &= active
    bp = u[u.board.isin(boards)].groupby("board")["pop"].sum()
    sub = u[u.board.isin(boards)]
    touched = set(sub["council"])
    cb = u[u.council.isin(touched)].groupby(["council", "board"])["pop"].sum().reset_index()
    cpop = u[u.council.isin(touched)].groupby("council")["pop"].sum()
    cb["real"] = cb["pop"] >= tol * cb["council"].map(cpop)
    per_board_councils = sub.groupby("board")["council"].nunique()
    regions = sub.groupby("board")["region"].nunique()
    return {
        "boards": len(boards), "smallest": int(bp.min()), "largest": int(bp.max()),
        "ratio": round(bp.max() / bp.min(), 2),
        "below_minimum": int((bp < 1_000_000).sum()), "above_maximum": int((bp > 3_000_000).sum()),
        "councils_split": int((cb[cb.real].groupby("council").size() > 1).sum()),
        "councils_multi": int((cb.groupby("council").size() > 1).sum()),
        "councils_max": int(per_board_councils.max()),
        "councils_mean": round(float(per_board_councils.mean()), 2),
        "multi_region": int((regions > 1).sum()),
    }


@pytest.mark.parametrize("focus_spec", [None, "South East", "London"])
def test_rows_match_an_independent_count(england_2024, options, focus_spec):
    focus = resolve_focus(england_2024, focus_spec)
    cmp = compare(options, focus)
    for i, o in enumerate(options):
        want = _independent(england_2024, o.plan, None if focus.england else focus.units)
        for key, value in want.items():
            got = cmp.row(key).values[i]
            got = got[0] if isinstance(got, tuple) else got
            assert got == value, (focus_spec, o.name, key)


def test_best_marks_and_moved_rows(england_2024, options):
    cmp = compare(options)
    waverley = england_2024.members("district", _district(england_2024, "Waverley"))
    moved = waverley[options[0].plan.assignment[waverley] != _board(england_2024, "Frimley")]
    assert cmp.row("lsoas_moved").values[:2] == [0, len(moved)]
    assert cmp.row("people_moved").values[1] == int(england_2024.population[moved].sum())
    n = len(england_2024.layers["board"])
    assert cmp.row("boards").values == [n, n, n - 1]
    # the baseline moves nobody: best (lowest) in the moved rows, alone
    assert cmp.row("people_moved").best == [0]


def test_moves_grouped_by_district_and_place(england_2024, options):
    base, one = options[0].plan, options[1].plan
    d = diff_plans(base, one, "Baseline", "One")
    waverley = _district(england_2024, "Waverley")
    [move] = d.by["district"]
    units = england_2024.members("district", waverley)
    assert move.area == waverley and move.lsoas == int((base.assignment[units] != one.assignment[units]).sum())
    assert "Surrey Heartlands" in move.from_name and "Frimley" in move.to_name
    assert move.text().startswith(f"Waverley: {move.lsoas} of {len(units)} LSOAs")
    assert sum(m.lsoas for m in d.by["place"]) == d.lsoas == move.lsoas


def test_a_merge_moves_only_the_board_that_does_not_carry_on(england_2024, options):
    base, two = options[0].plan, options[2].plan
    d = diff_plans(base, two)
    ncl = _board(england_2024, "North Central London")
    nwl = _board(england_2024, "North West London")
    pop = england_2024.population
    smaller = min(int(pop[base.assignment == ncl].sum()), int(pop[base.assignment == nwl].sum()))
    assert d.people == smaller + int(pop[np.flatnonzero(base.assignment == _board(england_2024, "Kent and Medway"))[:120]].sum())


def test_same_lines_under_other_ids_move_nobody(england_2024):
    base = Plan(england_2024)
    p = Plan(england_2024)
    h = History(p)
    c = CreateBoard("Renamed Kent", code="NEW01")
    h.push(c)
    h.push(MoveUnits(np.flatnonzero(p.assignment == _board(england_2024, "Kent and Medway")), c.board_id))
    assert diff_plans(base, p).lsoas == 0
    assert match_boards(base.assignment, p.assignment, england_2024.population)[_board(england_2024, "Kent")] == c.board_id


def test_focus_resolution_and_refusal(england_2024):
    assert resolve_focus(england_2024, None).england
    eoe = resolve_focus(england_2024, "east of england")
    assert eoe.units.sum() == (england_2024.unit_level("region") == int(
        np.flatnonzero(england_2024.layers["region"].table["name"] == "East of England")[0])).sum()
    kent = resolve_focus(england_2024, "Kent and Medway, Sussex")
    assert len(kent.parts) == 2
    with pytest.raises(FocusError, match="'Atlantis'"):
        resolve_focus(england_2024, "Kent and Medway, Atlantis")


def test_register_row_hook(england_2024, options):
    spec = RowSpec("test_rule", "Test rule: boards over 2m", lambda c: int((c.pops > 2_000_000).sum()), "lower")
    register_row(spec)
    try:
        cmp = compare(options)
        assert cmp.row("test_rule").values[0] == int((england_2024.layers["board"].population > 2_000_000).sum())
    finally:
        ROWS[:] = [r for r in ROWS if r.key != "test_rule"]


# ------------------------------------------------------------------ CLI
@pytest.fixture(scope="module")
def files(options, tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    out = []
    for o in options[1:]:
        out.append(write_proposal(d / f"{o.name.lower()}.icbmap.json", Proposal.new(o.plan, title=o.name)))
    return out


def test_cli_json_schema(england_2024, files, tmp_path):
    from icbmap.cli import main

    out = tmp_path / "c.json"
    assert main(["--pack", "england-offline", "compare", "--with-baseline", *map(str, files),
                 "--format", "json", "-o", str(out)]) == 0
    d = json.loads(out.read_text())
    assert d["format"] == "icbmap-comparison" and [o["name"] for o in d["options"]] == ["Baseline", "One", "Two"]
    one = d["options"][1]
    assert set(one) >= {"name", "file", "baseline", "summary", "boards", "split_areas", "moves"}
    assert one["moves"]["Baseline"]["by_district"][0]["name"] == "Waverley"
    assert {"code", "name", "population", "councils_whole", "councils_part", "districts_whole",
            "districts_part", "cas_whole", "cas_part"} <= set(one["boards"][0])
    assert set(one["split_areas"]) == {"council", "district", "ca"}


@pytest.mark.parametrize("fmt", ["table", "csv", "md"])
def test_cli_formats(files, fmt, capsys):
    from icbmap.cli import main

    assert main(["--pack", "england-offline", "compare", *map(str, files), "--format", fmt]) == 0
    text = capsys.readouterr().out
    assert "Waverley" in text and "Boundary change: people whose area changes footprint" in text.replace("people_moved,", "")


def test_cli_bad_input(files, tmp_path, capsys):
    from icbmap.cli import main

    bad = tmp_path / "broken.icbmap.json"
    bad.write_text(files[0].read_text()[:200])
    assert main(["--pack", "england-offline", "compare", str(files[0]), str(bad), str(files[1]),
                 "--format", "csv"]) == 1
    cap = capsys.readouterr()
    assert "broken.icbmap.json" in cap.err and "truncated" in cap.err
    assert "One" in cap.out and "Two" in cap.out                  # the good ones are compared
    assert main(["--pack", "england-offline", "compare", str(files[0]), str(files[0])]) == 1
    cap = capsys.readouterr()
    assert "given twice" in cap.err and "Comparison of 1 option;" in cap.out
    assert main(["--pack", "england-offline", "compare", "--focus", "Narnia", str(files[0])]) == 1
    err = capsys.readouterr().err
    assert "'Narnia'" in err and "East of England" in err and "Traceback" not in err


def test_principle_rows_read_the_principles_checker(england_2024, options):
    from icbmap.principles.check import check
    from icbmap.principles.ruleset import load_rules, preset_names

    rules = load_rules(preset_names()[0])
    cmp = compare(options, rules=rules)
    rows = [r for r in cmp.rows if r.key.startswith("rule:")]
    assert len(rows) == len(rules.rules)
    for i, o in enumerate(options):
        results = {r.rule.id: r for r in check(o.metrics, rules).results()}
        for row in rows:
            r = results[row.key[5:]]
            assert row.values[i] == (None if r.missing else r.failing)
