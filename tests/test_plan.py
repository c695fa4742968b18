"""Plan, commands, history, colours and serialisation on the England offline atlas."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from icbmap.errors import DataError, IcbmapError
from icbmap.plan import UNASSIGNED, Plan, UnknownCodesError
from icbmap.plan.colours import PALETTE, board_neighbours, colour_conflicts, repair_colours, suggest_colour
from icbmap.plan.commands import (
    CreateBoard, DeleteBoard, History, LockBoard, LockedBoardError, MergeBoards, MovePractices,
    MoveUnits, RecolourBoard, RenameBoard,
)
from icbmap.plan.model import PlanError


@pytest.fixture(scope="module")
def england(england_2024):
    """The plan model knows no particular configuration; these scenarios name April 2024
    boards (Hertfordshire and West Essex, Mid and South Essex, North West London), so they
    run on the pack's April 2024 baseline."""
    return england_2024


def board_id(atlas, code_fragment: str) -> int:
    names = atlas.layers["board"].table["name"]
    hits = [i for i, n in enumerate(names) if code_fragment in n]
    assert len(hits) == 1, (code_fragment, hits)
    return hits[0]


def district(atlas, name: str) -> int:
    t = atlas.layers["district"].table
    return int(np.flatnonzero(t["name"].to_numpy() == name)[0])


@pytest.fixture()
def plan(england):
    return Plan(england)


def snapshot(plan):
    return (plan.assignment.copy(), plan.practice_assignment.copy(),
            [dataclasses.replace(b) for b in plan.boards])


def test_baseline(plan, england):
    assert len(plan.boards) == 42 and all(b.active and not b.locked for b in plan.boards)
    assert np.array_equal(plan.assignment, england.unit_level("board"))
    assert plan.boards[0].code == england.layers["board"].table["code"].iat[0]
    assert plan.is_baseline()
    assert plan.to_dict()["units"] == {}
    # the offline pack carries the July 2023 GP practices, each on its baseline board
    assert np.array_equal(plan.practice_assignment, england.practices["board"].to_numpy())


def test_baseline_colours_differ_between_neighbours(plan, england):
    assert colour_conflicts(plan) == []
    assert all(b.colour in PALETTE for b in plan.boards)
    nb = board_neighbours(england, plan.assignment, 42)
    # England's board map really is connected through shared boundaries
    assert sum(len(s) for s in nb) / 2 > 80
    for a in range(42):
        for b in nb[a]:
            assert plan.boards[a].colour != plan.boards[b].colour


def test_move_district_and_undo(plan, england):
    hist = History(plan)
    chelmsford = england.members("district", district(england, "Chelmsford"))
    to = board_id(england, "Hertfordshire and West Essex")
    before = snapshot(plan)
    seen = []
    plan.add_observer(seen.append)
    cmd = hist.push(MoveUnits(chelmsford, to, label="Chelmsford"))
    assert (plan.assignment[chelmsford] == to).all()
    assert cmd.moved == len(chelmsford) and cmd.people_moved == int(england.population[chelmsford].sum())
    assert "Chelmsford" in cmd.text and "Hertfordshire" in cmd.text
    assert [c.kind for c in seen][0] == "assign" and len([c for c in seen if c.kind == "assign"]) == 1
    assert set(seen[0].old_boards.tolist()) == {board_id(england, "Mid and South Essex")}
    assert seen[0].boards == {to, board_id(england, "Mid and South Essex")}
    # the practices standing in Chelmsford moved with it, in a second notification
    standing = plan.practices_in_units(chelmsford)
    assert len(standing) and (plan.practice_assignment[standing] == to).all()
    hist.undo()
    assert np.array_equal(plan.assignment, before[0])
    assert plan.is_baseline()
    hist.redo()
    assert (plan.assignment[chelmsford] == to).all()
    assert hist.can_undo() and not hist.can_redo()


def test_noop_move_still_undoes(plan, england):
    hist = History(plan)
    units = plan.board_units(3)[:10]
    seen = []
    plan.add_observer(seen.append)
    cmd = hist.push(MoveUnits(units, 3))
    assert cmd.moved == 0 and seen == []
    hist.undo()
    assert plan.is_baseline()
    # a partly-no-op move moves only the units that change
    mixed = np.concatenate([units, plan.board_units(4)[:5]])
    cmd = hist.push(MoveUnits(mixed, 3))
    assert cmd.moved == 5
    hist.undo()
    assert plan.is_baseline()


def test_locked_board_refuses_before_changing(plan, england):
    hist = History(plan)
    hist.push(LockBoard(5, True))
    before = snapshot(plan)
    units = plan.board_units(5)[:3]
    with pytest.raises(LockedBoardError) as err:
        hist.push(MoveUnits(units, 6))
    assert isinstance(err.value, IcbmapError) and "locked" in str(err.value)
    with pytest.raises(LockedBoardError):
        hist.push(MoveUnits(plan.board_units(6)[:3], 5))
    with pytest.raises(LockedBoardError):
        hist.push(MergeBoards(6, 5))
    with pytest.raises(LockedBoardError):
        hist.push(DeleteBoard(6, 5))
    with pytest.raises(LockedBoardError):
        hist.push(RenameBoard(5, "x"))
    assert np.array_equal(plan.assignment, before[0])
    assert [dataclasses.asdict(b) for b in plan.boards] == [dataclasses.asdict(b) for b in before[2]]
    assert len(hist) == 1
    hist.push(LockBoard(5, False))
    hist.push(MoveUnits(units, 6))
    assert (plan.assignment[units] == 6).all()


def test_merge_create_delete_rename_recolour(plan, england):
    hist = History(plan)
    keep, absorb = 10, 11
    colour = plan.boards[keep].colour
    n = len(plan.board_units(keep)) + len(plan.board_units(absorb))
    hist.push(MergeBoards(keep, absorb))
    assert not plan.boards[absorb].active and len(plan.board_units(absorb)) == 0
    assert len(plan.board_units(keep)) == n and plan.boards[keep].colour == colour
    with pytest.raises(PlanError):
        hist.push(MoveUnits([0], absorb))  # deleted boards take nothing
    create = hist.push(CreateBoard("North Essex"))
    new = create.board_id
    assert new == 42 and plan.boards[new].code == "NEW01" and plan.boards[new].colour in PALETTE
    hist.push(MoveUnits(plan.board_units(keep)[:50], new))
    hist.push(RenameBoard(new, "North East Essex"))
    assert plan.boards[new].name == "North East Essex"
    hist.push(RecolourBoard(new, "#112233"))
    assert plan.boards[new].colour == "#112233"
    hist.push(DeleteBoard(new, keep))
    assert not plan.boards[new].active and len(plan.board_units(new)) == 0
    assert len(plan.board_units(keep)) == n
    texts = hist.texts()
    assert texts[0].startswith("Merge") and texts[-1].startswith("Delete North East Essex")
    while hist.can_undo():
        hist.undo()
    assert plan.is_baseline() and len(plan.boards) == 42
    while hist.can_redo():
        hist.redo()
    assert len(plan.boards) == 43 and not plan.boards[42].active
    assert plan.boards[42].name == "North East Essex"


def test_delete_to_unassigned(plan):
    hist = History(plan)
    units = plan.board_units(7)
    hist.push(DeleteBoard(7, UNASSIGNED))
    assert np.array_equal(plan.unassigned_units(), units)
    hist.undo()
    assert plan.is_baseline()


def test_create_board_duplicate_code_refused(plan):
    with pytest.raises(PlanError):
        CreateBoard("x", code=plan.boards[0].code).do(plan)
    assert len(plan.boards) == 42


def test_round_trip_compact(plan, england):
    hist = History(plan)
    hist.push(MoveUnits(england.members("district", district(england, "Chelmsford")), 5))
    c = hist.push(CreateBoard("New", code="ZZ1"))
    hist.push(MoveUnits([0, 1, 2, 5, 6, 100], c.board_id))
    hist.push(MoveUnits([9], UNASSIGNED))
    hist.push(MergeBoards(20, 21))
    hist.push(LockBoard(20, True))
    d = plan.to_dict()
    assert d["units"][str(c.board_id)] == [
        f"{england.unit_codes[0]}..{england.unit_codes[2]}",
        f"{england.unit_codes[5]}..{england.unit_codes[6]}", england.unit_codes[100]]
    assert d["units"]["-1"] == [england.unit_codes[9]]
    # compact: far fewer strings than changed units
    n_runs = sum(len(v) for v in d["units"].values())
    assert n_runs < len(plan.changed_units()) / 10
    q = Plan.from_dict(england, d)
    assert np.array_equal(q.assignment, plan.assignment)
    assert [dataclasses.asdict(b) for b in q.boards] == [dataclasses.asdict(b) for b in plan.boards]
    assert q.to_dict() == d


def test_from_dict_lists_what_did_not_map(plan, england):
    d = plan.to_dict()
    d["units"] = {"3": ["E01999999", "E01000001..E01999998"], "77": ["E01000005"]}
    with pytest.raises(UnknownCodesError) as err:
        Plan.from_dict(england, d)
    e = err.value
    assert isinstance(e, DataError)
    assert e.unknown_units == ["E01999999", "E01999998"] and e.unknown_boards == ["77"]
    assert "E01999999" in str(e) and "77" in str(e)
    with pytest.raises(UnknownCodesError):
        Plan.from_dict(england, {"format": "something-else", "boards": []})


def test_suggest_and_repair_colours(plan, england):
    hist = History(plan)
    a = 0
    b = sorted(board_neighbours(england, plan.assignment, 42)[a])[0]
    hist.push(RecolourBoard(b, plan.boards[a].colour))
    assert (min(a, b), max(a, b)) in colour_conflicts(plan)
    fix = repair_colours(plan)
    assert list(fix) == [max(a, b)]
    for board, colour in fix.items():
        hist.push(RecolourBoard(board, colour))
    assert colour_conflicts(plan) == []
    new = hist.push(CreateBoard("Middle")).board_id
    hist.push(MoveUnits(plan.board_units(a)[:200], new))
    colour = suggest_colour(plan, new)
    neighbours = board_neighbours(england, plan.assignment, plan.n_boards)[new]
    assert neighbours and colour not in {plan.boards[n].colour for n in neighbours}


# ---------------------------------------------------------------- practices
@pytest.fixture()
def practice_atlas(england):
    """England with a small, developer-made practices table (not real NHS data)."""
    b0 = england.members("board", 0)
    b1 = england.members("board", 1)
    units = [b0[0], b0[0], b0[1], b1[0], -1]
    df = pd.DataFrame({
        "code": ["TEST01", "TEST02", "TEST03", "TEST04", "TEST05"],
        "name": [f"Developer-made practice {i}" for i in range(1, 6)],
        "postcode": ["", "", "", "", ""],
        "x": [0.0] * 4 + [np.nan], "y": [0.0] * 4 + [np.nan],
        "patients": np.array([1000, 2000, 4000, 8000, 16000], dtype=np.int64),
        "pcn_code": [""] * 5, "pcn_name": [""] * 5,
        "place": [-1] * 5,
        "board": [0, 0, 0, 1, 2],
        "unit": units,
        "extract_date": ["2026-11-01"] * 5,
    })
    return dataclasses.replace(england, practices=df)


def test_practices_follow_units(practice_atlas):
    plan = Plan(practice_atlas)
    assert plan.practice_assignment.tolist() == [0, 0, 0, 1, 2]
    hist = History(plan)
    u = practice_atlas.members("board", 0)[0]
    cmd = hist.push(MoveUnits([u], 1))
    assert cmd.practices_moved == 2 and cmd.patients_moved == 3000
    assert "3,000 patients" in cmd.text
    assert plan.practice_assignment.tolist() == [1, 1, 0, 1, 2]
    cmd2 = hist.push(MoveUnits([practice_atlas.members("board", 0)[1]], 1, carry_practices=False))
    assert cmd2.practices_moved == 0 and plan.practice_assignment[2] == 0
    hist.push(MovePractices([2, 4], 1))
    assert plan.practice_assignment.tolist() == [1, 1, 1, 1, 1]
    d = plan.to_dict()
    assert sorted(d["practices"]["1"]) == ["TEST01", "TEST02", "TEST03", "TEST05"]
    q = Plan.from_dict(practice_atlas, d)
    assert np.array_equal(q.practice_assignment, plan.practice_assignment)
    while hist.can_undo():
        hist.undo()
    assert plan.practice_assignment.tolist() == [0, 0, 0, 1, 2] and plan.is_baseline()
    d["practices"] = {"1": ["NOPE99"]}
    with pytest.raises(UnknownCodesError) as err:
        Plan.from_dict(practice_atlas, d)
    assert err.value.unknown_practices == ["NOPE99"]


def test_an_area_move_carrying_practices_is_one_change(practice_atlas):
    """Observers (the metrics engine, the app's panels) hear one change per edit, with the
    units and the practices that went with them, and the same on undo."""
    from icbmap.metrics.engine import Metrics

    plan = Plan(practice_atlas)
    metrics = Metrics(plan)
    heard = []
    plan.add_observer(heard.append)
    hist = History(plan)
    u = practice_atlas.members("board", 0)[0]
    hist.push(MoveUnits([u], 1))
    assert len(heard) == 1
    ch = heard[0]
    assert ch.units.tolist() == [u] and ch.practices.tolist() == [0, 1] and ch.kind == "assign"
    assert ch.new_practice_boards.tolist() == [1, 1] and ch.boards == frozenset({0, 1})
    full = Metrics(plan, observe=False)  # recomputed from scratch: the same figures
    assert np.array_equal(metrics.registered, full.registered)
    hist.undo()
    assert len(heard) == 2 and heard[1].practices.tolist() == [0, 1]
    assert heard[1].new_practice_boards.tolist() == [0, 0] and plan.is_baseline()
    assert np.array_equal(metrics.registered, Metrics(plan, observe=False).registered)
    hist.push(MovePractices([2], 1))  # practices alone: a "practices" change
    assert len(heard) == 3 and heard[2].kind == "practices" and len(heard[2].units) == 0


def test_merge_carries_practices(practice_atlas):
    plan = Plan(practice_atlas)
    hist = History(plan)
    hist.push(MergeBoards(1, 0))
    assert plan.practice_assignment.tolist() == [1, 1, 1, 1, 2]
    hist.undo()
    assert plan.practice_assignment.tolist() == [0, 0, 0, 1, 2]


def test_boards_facing_across_the_thames_get_different_colours(england):
    """North West and South East London share no edge (the clipped Thames lies between)
    but look like neighbours on the map: the baseline colouring keeps them apart."""
    from icbmap.plan.colours import baseline_colours, near_boards

    names = list(england.layers["board"].table["name"])
    nw = next(i for i, n in enumerate(names) if "North West London" in n)
    se = next(i for i, n in enumerate(names) if "South East London" in n)
    assert (min(nw, se), max(nw, se)) in near_boards(england)
    colours = baseline_colours(england)
    assert colours[nw] != colours[se]
