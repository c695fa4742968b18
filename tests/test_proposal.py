"""Proposal files: round trip, atomic saves, validation, pack mismatch, recent files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from icbmap.errors import DataError
from icbmap.plan.commands import CreateBoard, History, LockBoard, MoveUnits, RenameBoard
from icbmap.plan.model import Plan
from icbmap.plan.proposal import (
    MAX_BYTES, PackMismatchError, Proposal, ProposalError, add_recent_proposal, read_proposal,
    recent_proposals, write_proposal,
)

pytestmark = pytest.mark.slow


def edited_plan(atlas) -> Plan:
    plan = Plan(atlas)
    h = History(plan)
    h.push(MoveUnits(np.arange(100, 180), 3))
    c = CreateBoard("Thames Valley North", code="TVN01")
    h.push(c)
    h.push(MoveUnits(np.concatenate([np.arange(5000, 5012), [7001, 9003]]), c.board_id))
    h.push(RenameBoard(5, "Renamed board"))
    h.push(LockBoard(7, True))
    return plan


def test_round_trip_keeps_everything(england, tmp_path):
    plan = edited_plan(england)
    prop = Proposal.new(plan, title="North-west option B", author="A. Planner", notes="line 1\nline 2 \u2013 \u00e9")
    path = tmp_path / "option-b.icbmap.json"
    write_proposal(path, prop)
    assert prop.path == path
    back = read_proposal(path, england)
    assert np.array_equal(back.plan.assignment, plan.assignment)
    assert [b.to_dict() for b in back.plan.boards] == [b.to_dict() for b in plan.boards]
    assert back.plan.boards[5].name == "Renamed board" and back.plan.boards[7].locked
    assert (back.title, back.author, back.notes) == (prop.title, prop.author, prop.notes)
    assert back.created == prop.created and back.modified == prop.modified
    assert back.pack_hash == england.content_hash and back.mapping is None
    doc = json.loads(path.read_text("utf-8"))
    assert doc["format"] == "icbmap-proposal" and doc["schema"] == 2
    assert doc["pack"] == {"name": england.name, "content_hash": england.content_hash,
                           "boards": len(england.layers["board"]), "baseline": "2026",
                           "baseline_label": "April 2026 boards (36, derived)"}
    # only the changes against the baseline are stored, as runs of codes
    assert sum(len(v) for v in doc["plan"]["units"].values()) < 10


def test_baseline_file_is_small(england, tmp_path):
    path = tmp_path / "base.icbmap.json"
    write_proposal(path, Proposal.new(Plan(england)))
    assert path.stat().st_size < 20_000
    assert read_proposal(path, england).plan.is_baseline()


def test_save_updates_modified_but_not_created(england, tmp_path):
    prop = Proposal.new(Plan(england))
    prop.created = prop.created.replace(year=2020)
    path = tmp_path / "p.icbmap.json"
    write_proposal(path, prop)
    back = read_proposal(path, england)
    assert back.created.year == 2020 and back.modified.year >= 2026


def test_failed_save_leaves_previous_file_intact(england, tmp_path, monkeypatch):
    path = tmp_path / "keep.icbmap.json"
    first = Proposal.new(Plan(england), title="first")
    write_proposal(path, first)
    before = path.read_bytes()
    second = Proposal.new(edited_plan(england), title="second")

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(ProposalError, match="could not save"):
        write_proposal(path, second)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert read_proposal(path, england).title == "first"
    # no temporary files left behind
    assert [p.name for p in tmp_path.iterdir()] == ["keep.icbmap.json"]


def test_save_killed_mid_write_leaves_previous_file_intact(england, tmp_path):
    """A real process killed (SIGKILL) in the middle of writing the temporary file."""
    path = tmp_path / "keep.icbmap.json"
    write_proposal(path, Proposal.new(Plan(england), title="previous"))
    before = path.read_bytes()
    script = textwrap.dedent(f"""
        import os, signal, sys
        import numpy as np
        from icbmap.atlas.store import OFFLINE, load_atlas
        from icbmap.plan.model import Plan
        from icbmap.plan.commands import MoveUnits
        from icbmap.plan.proposal import Proposal, write_proposal
        plan = Plan(load_atlas(OFFLINE))
        plan.assign(np.arange(0, 3000), 5)
        real_fsync = os.fsync
        def die(fd):
            sys.stdout.write("dying\\n"); sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        os.fsync = die      # the data is written but not yet synced or renamed
        write_proposal({str(path)!r}, Proposal.new(plan, title="half-written"))
        print("not reached")
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                       env={**os.environ})
    assert r.returncode == -9, r.stderr
    assert "dying" in r.stdout and "not reached" not in r.stdout
    assert path.read_bytes() == before
    assert read_proposal(path, england).title == "previous"
    leftovers = [p for p in tmp_path.iterdir() if p.name != path.name]
    assert leftovers and all(p.name.endswith(".tmp") for p in leftovers)  # the abandoned temp file


def test_pack_mismatch_offers_mapping(england, tmp_path):
    plan = edited_plan(england)
    path = tmp_path / "other.icbmap.json"
    write_proposal(path, Proposal.new(plan, title="drawn elsewhere"))
    doc = json.loads(path.read_text())
    nb = len(england.layers["board"])
    doc["pack"] = {"name": "ons-2023", "content_hash": "0123456789abcdef", "boards": nb}
    doc["plan"]["units"]["3"] += ["E01999998", "E01999999"]
    path.write_text(json.dumps(doc))
    with pytest.raises(PackMismatchError) as info:
        read_proposal(path, england)
    exc = info.value
    assert isinstance(exc, ProposalError) and isinstance(exc, DataError)
    assert str(path) in str(exc) and "ons-2023" in str(exc) and "E01999999" in str(exc)
    assert exc.report.unmapped_units == ["E01999998", "E01999999"]
    assert exc.report.units_mapped == len(plan.changed_units())
    assert not exc.report.complete
    assert np.array_equal(exc.mapped.plan.assignment, plan.assignment)
    mapped = read_proposal(path, england, map_pack=True)
    assert mapped.mapping is not None and mapped.mapping.unmapped_units == ["E01999998", "E01999999"]
    assert np.array_equal(mapped.plan.assignment, plan.assignment)
    assert mapped.plan.boards[nb].code == "TVN01"


def test_pack_mismatch_with_reordered_and_missing_boards(england, tmp_path):
    """Board ids are re-derived from codes; a baseline board the pack lacks becomes new."""
    plan = edited_plan(england)
    d = plan.to_dict()
    boards = d["boards"]
    boards[0], boards[1] = boards[1], boards[0]
    boards[0]["id"], boards[1]["id"] = 0, 1
    # units that were moved to board 3 in the file now point at the swapped ids
    d["units"] = {"0": d["units"].get("3", [])}  # file id 0 is code of old board 1
    boards[2]["code"] = "E54999999"
    path = tmp_path / "swap.icbmap.json"
    prop = Proposal.new(plan)
    doc = prop.to_dict()
    doc["plan"] = d
    doc["pack"]["content_hash"] = "ffffffffffffffff"
    path.write_text(json.dumps(doc))
    got = read_proposal(path, england, map_pack=True)
    assert got.mapping.unmapped_boards == ["E54999999"]
    old1 = england.layers["board"].index_of(boards[0]["code"])
    moved = got.plan.changed_units()
    assert len(moved) and (got.plan.assignment[moved] == old1).all()
    assert any(b.code == "E54999999" for b in got.plan.boards[len(england.layers["board"]):])


@pytest.mark.parametrize("content, needle", [
    (b"", "empty"),
    (b'{"format": "icbmap-proposal", "schema": 1, "pack": {"na', "truncated"),
    (b"[1, 2, 3]", "holds an array"),
    (b'{"type": "FeatureCollection", "features": []}', "GeoJSON"),
    (b'{"hello": "world"}', "no \"format\""),
    (b"\xff\xfe\x00garbage", "UTF-8"),
    (b"PK\x03\x04zipdata", "zip"),
])
def test_broken_envelopes(england, tmp_path, content, needle):
    path = tmp_path / "bad.icbmap.json"
    path.write_bytes(content)
    with pytest.raises(ProposalError) as info:
        read_proposal(path, england)
    assert str(path) in str(info.value)
    assert needle in str(info.value)


def test_newer_schema(england, tmp_path):
    path = tmp_path / "new.icbmap.json"
    write_proposal(path, Proposal.new(Plan(england)))
    doc = json.loads(path.read_text())
    doc["schema"] = 7
    doc["app"] = "icbmap 9.0"
    path.write_text(json.dumps(doc))
    with pytest.raises(ProposalError, match="newer icbmap.*schema 7"):
        read_proposal(path, england)


def test_oversized_file_is_not_read(england, tmp_path):
    path = tmp_path / "huge.icbmap.json"
    with open(path, "wb") as fh:
        fh.truncate(MAX_BYTES + 1)
    with pytest.raises(ProposalError, match="too large"):
        read_proposal(path, england)


def test_missing_file_and_folder(england, tmp_path):
    with pytest.raises(ProposalError, match="not found"):
        read_proposal(tmp_path / "nope.icbmap.json", england)
    with pytest.raises(ProposalError, match="folder"):
        read_proposal(tmp_path, england)


def test_recent_files(tmp_path, monkeypatch):
    monkeypatch.setenv("ICBMAP_HOME", str(tmp_path / "home"))
    files = []
    for i in range(12):
        p = tmp_path / f"p{i}.icbmap.json"
        p.write_text("{}")
        files.append(p)
        add_recent_proposal(p)
    add_recent_proposal(files[3])
    recent = recent_proposals()
    assert len(recent) == 10
    assert recent[0] == files[3].resolve() and recent[1] == files[11].resolve()
    files[11].unlink()
    assert files[11].resolve() not in recent_proposals()
