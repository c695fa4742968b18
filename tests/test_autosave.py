"""Autosave and crash recovery, including a real process killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from icbmap.plan.autosave import Autosaver, find_recoverable, pid_alive
from icbmap.plan.commands import CreateBoard, History, MoveUnits
from icbmap.plan.model import Plan
from icbmap.plan.proposal import Proposal

pytestmark = pytest.mark.slow

# The edits both the child process and the test replay: (units, board) per edit.
EDITS = [(np.arange(100 * k, 100 * k + 25), (k * 7) % 42) for k in range(1, 12)]


def test_sigkill_mid_editing_recovers_work_up_to_last_autosave(england, tmp_path):
    folder = tmp_path / "autosave"
    script = textwrap.dedent(f"""
        import os, signal, sys
        import numpy as np
        from icbmap.atlas.store import OFFLINE, load_atlas
        from icbmap.plan.model import Plan
        from icbmap.plan.commands import History, MoveUnits
        from icbmap.plan.proposal import Proposal
        from icbmap.plan.autosave import Autosaver
        plan = Plan(load_atlas(OFFLINE))
        history = History(plan)
        proposal = Proposal.new(plan, title="Crash test")
        saver = Autosaver(every=3, directory={str(folder)!r}, background=True).start()
        for k in range(1, 12):
            history.push(MoveUnits(np.arange(100 * k, 100 * k + 25), (k * 7) % 42))
            saver.edited(proposal)
            if k == 9:
                saver.flush()   # the 9th edit's autosave is on disk
        print("saves", saver.saves, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == -signal.SIGKILL, r.stderr
    # background saves coalesce when a newer snapshot is queued before the older is written
    assert r.stdout.startswith("saves ") and 1 <= int(r.stdout.split()[1]) <= 3
    child_pid = None
    recs = find_recoverable(folder)
    assert len(recs) == 1
    rec = recs[0]
    child_pid = rec.pid
    assert child_pid and not pid_alive(child_pid)
    assert rec.title == "Crash test" and rec.edits == 9
    assert "Crash test, autosaved" in rec.describe()
    got = rec.load(england)
    # expected: the plan after the first nine edits (edits 10 and 11 came after the last autosave)
    expected = Plan(england)
    for units, board in EDITS[:9]:
        expected.assign(units, board)
    assert np.array_equal(got.plan.assignment, expected.assignment)
    assert got.title == "Crash test"
    assert abs((got.modified - rec.saved_at).total_seconds()) < 5
    rec.discard()
    assert find_recoverable(folder) == []
    assert list(folder.iterdir()) == []


def test_clean_exit_leaves_nothing_to_recover(england, tmp_path):
    plan = Plan(england)
    prop = Proposal.new(plan)
    with Autosaver(every=2, directory=tmp_path) as saver:
        plan.assign(np.arange(10), 4)
        assert not saver.edited(prop)
        assert saver.edited(prop)
        assert saver.path.exists()
        # a running session is never offered for recovery (lock held), even to itself
        assert find_recoverable(tmp_path) == []
    assert list(tmp_path.iterdir()) == []
    assert find_recoverable(tmp_path) == []


def test_autosave_every_n_edits_and_on_demand(england, tmp_path):
    plan = Plan(england)
    h = History(plan)
    prop = Proposal.new(plan, title="count")
    saver = Autosaver(every=4, directory=tmp_path).start()
    try:
        saved = []
        for k in range(10):
            h.push(MoveUnits([k], 1))
            saved.append(saver.edited(prop))
        assert saved == [False, False, False, True, False, False, False, True, False, False]
        assert saver.saves == 2
        c = CreateBoard("Extra")
        h.push(c)
        saver.save_now(prop)
        assert saver.saves == 3 and saver.pending_edits == 0
        doc = json.loads(saver.path.read_text())
        assert doc["plan"]["boards"][-1]["name"] == "Extra"
        marker = json.loads(saver.marker_path.read_text())
        assert marker["pid"] == os.getpid() and marker["last_autosave"] and marker["edits"] == 10
    finally:
        saver.close()


def test_dead_session_without_lock_support_falls_back_to_pid(england, tmp_path):
    """A marker whose lock file is gone and whose pid is not running is recoverable."""
    plan = Plan(england)
    plan.assign(np.arange(50), 2)
    saver = Autosaver(every=1, directory=tmp_path)
    saver.save_now(Proposal.new(plan, title="orphan"))
    saver._lock.release()
    saver.lock_path.unlink()
    marker = json.loads(saver.marker_path.read_text())
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    marker["pid"] = int(dead)
    saver.marker_path.write_text(json.dumps(marker))
    recs = find_recoverable(tmp_path)
    assert [r.title for r in recs] == ["orphan"]
    assert np.array_equal(recs[0].load(england).plan.assignment, plan.assignment)
    # a live pid without a lock file is not offered
    marker["pid"] = os.getpid()
    saver.marker_path.write_text(json.dumps(marker))
    assert find_recoverable(tmp_path) == []


def test_stale_marker_without_autosave_is_cleaned(tmp_path):
    (tmp_path / "1-abc.session.json").write_text(json.dumps({"pid": 999_999_999}))
    assert find_recoverable(tmp_path) == []
    assert list(tmp_path.iterdir()) == []


def test_newest_first_and_corrupt_autosave_reported_on_load(england, tmp_path):
    from icbmap.plan.proposal import ProposalError

    for k, title in enumerate(["older", "newer"]):
        (tmp_path / f"{k}-s.icbmap.json").write_text("{truncated" if title == "older" else "{}")
        (tmp_path / f"{k}-s.session.json").write_text(json.dumps(
            {"pid": 999_999_999, "title": title, "last_autosave": f"2026-01-0{k + 1}T10:00:00Z"}))
    recs = find_recoverable(tmp_path)
    assert [r.title for r in recs] == ["newer", "older"]
    with pytest.raises(ProposalError, match="not valid JSON"):
        recs[1].load(england)
