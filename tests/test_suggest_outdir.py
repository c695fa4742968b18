"""Issue 21 (3): ``suggest -o DIR`` never deletes or replaces a file it did not write."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from icbmap.errors import DataError
from icbmap.suggest.outdir import plan_output

ROOT = Path(__file__).resolve().parent.parent


def _earlier_run(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    opts = []
    for k in range(1, n + 1):
        f = folder / f"option-{k}.icbmap.json"
        f.write_text(f'{{"option": {k}}}\n')
        opts.append({"rank": k, "file": f.name, "sha256": hashlib.sha256(f.read_bytes()).hexdigest()})
    (folder / "summary.json").write_text(json.dumps({"format": "icbmap-suggest", "options": opts}))


def test_new_or_unchanged_folder_is_written_in_place(tmp_path):
    assert plan_output(tmp_path / "new", 2).folder == tmp_path / "new"
    _earlier_run(tmp_path / "d", 3)
    where = plan_output(tmp_path / "d", 2)
    assert where.folder == tmp_path / "d" and where.note is None
    assert where.stale == [tmp_path / "d" / "option-3.icbmap.json"]   # the earlier run's, unchanged


@pytest.mark.parametrize("change, why", [
    (lambda d: (d / "option-2.icbmap.json").write_text('{"edited": true}'), "option-2.icbmap.json: was changed"),
    (lambda d: (d / "option-3.icbmap.json").write_text('{"edited": true}'), "option-3.icbmap.json: was changed"),
    (lambda d: (d / "option-4.icbmap.json").write_text("{}"), "option-4.icbmap.json: was not written"),
    (lambda d: (d / "summary.json").write_text("{}"), "summary.json: was not written"),
])
def test_edited_or_foreign_files_send_the_run_to_a_fresh_folder(tmp_path, change, why):
    d = tmp_path / "d"
    _earlier_run(d, 3)
    change(d)
    where = plan_output(d, 2)
    assert where.folder == d / "run-2" and not where.stale
    assert why in where.note and str(d / "run-2") in where.note
    (d / "run-2").mkdir()
    assert plan_output(d, 2).folder == d / "run-3"


def test_an_input_in_the_folder_is_never_replaced(tmp_path):
    d = tmp_path / "d"
    _earlier_run(d, 2)
    where = plan_output(d, 2, inputs=[str(d / "option-1.icbmap.json")])
    assert where.folder == d / "run-2" and "is an input of this run" in where.note


def test_a_file_is_refused_as_the_folder(tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(DataError, match="is a file"):
        plan_output(f, 1)


@pytest.mark.slow
def test_rerun_keeps_an_edited_option(england, tmp_path):
    out = tmp_path / "sug"
    argv = [sys.executable, "-m", "icbmap", "--pack", "england-offline", "suggest", "--blocks", "councils",
            "--scope", "East of England", "--boards", "5-7", "--top", "2", "--time-limit", "10", "-o", str(out)]
    first = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    edited = out / "option-2.icbmap.json"
    edited.write_text(edited.read_text().replace('"title": "', '"title": "my edit: '))
    keep = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    second = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    assert f"{edited}: was changed since icbmap suggest wrote it" in second.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == keep   # nothing replaced
    assert sorted(p.name for p in (out / "run-2").iterdir()) == ["option-1.icbmap.json", "option-2.icbmap.json",
                                                                "summary.json"]
    third = subprocess.run(argv[:-1] + [str(out / "run-2")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert third.returncode == 0 and "note" not in third.stderr   # its own unchanged run: replaced in place
