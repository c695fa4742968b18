"""The ``suggest -o DIR`` folder is the user's (issue 21): a rerun replaces only the files
an earlier run wrote and nobody changed since.

Each run records in ``summary.json`` the SHA-256 of every option file it wrote.  Before a
new run writes, :func:`plan_output` looks at what is in the folder:

* nothing of ours, or only files whose hash still matches the record: the run writes into
  ``DIR`` (replacing those files, and removing options of the earlier run that this run
  does not write);
* a file the new run would replace or remove that was edited since (its hash differs), was
  never written by ``suggest`` (no record), or is one of this run's inputs: the run is
  written to a fresh folder ``DIR/run-N`` instead, and the note says which file caused it.

Nothing here deletes or replaces a file that is not recorded with its current hash.
Qt-free.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from icbmap.errors import DataError

OPTION_RE = re.compile(r"option-(\d+)\.icbmap\.json")
SUMMARY = "summary.json"


def sha256(path: Path) -> str | None:
    from icbmap.safeio import read_input

    try:
        return hashlib.sha256(read_input(path, "option file", 64 << 20)).hexdigest()
    except DataError:
        return None


def recorded_hashes(folder: Path) -> dict[str, str]:
    """``{file name: sha256}`` of the options an earlier run recorded in ``summary.json``."""
    from icbmap.safeio import loads_json, read_input

    p = folder / SUMMARY
    try:
        doc = loads_json(read_input(p, "suggest summary", 8 << 20), p)
    except DataError:
        return {}
    if not isinstance(doc, dict) or doc.get("format") != "icbmap-suggest":
        return {}
    out = {}
    for o in doc.get("options") or []:
        if isinstance(o, dict) and isinstance(o.get("file"), str) and isinstance(o.get("sha256"), str):
            out[o["file"]] = o["sha256"]
    out[SUMMARY] = "ours"
    return out


@dataclass
class OutputPlan:
    folder: Path                  # where this run writes
    stale: list[Path] = field(default_factory=list)  # earlier, unchanged options to remove
    note: str | None = None       # said to the user when the run went to a fresh folder


def _is_input(path: Path, inputs) -> bool:
    from icbmap.guards import output_problem

    return output_problem(path, inputs) is not None


def plan_output(folder: str | Path, n_options: int, inputs=()) -> OutputPlan:
    """Where a run writing ``n_options`` options goes (see the module doc)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DataError(folder, "is a file; -o needs a folder for the option proposals")
    if not folder.exists():
        return OutputPlan(folder)
    record = recorded_hashes(folder)
    ours = [f"option-{k}.icbmap.json" for k in range(1, n_options + 1)]
    earlier = [p for p in folder.glob("option-*.icbmap.json") if OPTION_RE.fullmatch(p.name)]
    touched = {folder / n for n in ours if (folder / n).exists() or os.path.islink(folder / n)} | set(earlier)
    blocker = None
    if (folder / SUMMARY).exists() and SUMMARY not in record:
        blocker = f"{SUMMARY} was not written by icbmap suggest"
    for p in sorted(touched) if blocker is None else ():
        if _is_input(p, inputs):
            blocker = f"{p.name} is an input of this run"
        elif p.name not in record:
            blocker = f"{p.name} was not written by icbmap suggest"
        elif os.path.islink(p) or sha256(p) != record[p.name]:
            blocker = f"{p.name} was changed since icbmap suggest wrote it"
        if blocker:
            break
    if blocker is None:
        return OutputPlan(folder, stale=[p for p in earlier if p.name not in ours])
    k = 2
    while (folder / f"run-{k}").exists():
        k += 1
    fresh = folder / f"run-{k}"
    return OutputPlan(fresh, note=f"{folder / blocker.split(' ')[0]}: {blocker.split(' ', 1)[1]}; "
                                  f"to keep it, this run is written to {fresh}")


__all__ = ["OutputPlan", "plan_output", "recorded_hashes", "sha256"]
