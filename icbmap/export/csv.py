"""The unit -> board assignment file (CSV), the equivalent of a block-assignment file.

``lsoa_code,board_code,board_name``: one row per unit in the atlas's code order; an
unassigned unit has empty board columns.  When the data pack has GP practices, a second
file ``<name>-practices.csv`` (``practice_code,practice_name,board_code,board_name``)
gives each practice's board.  :func:`icbmap.export.importers.read_assignment_csv` reads
both back.
"""

from __future__ import annotations

import csv as _csv
import io
from pathlib import Path

import numpy as np

from icbmap.export.files import write_text as atomic_write_text, done
from icbmap.export.facts import board_code_name_arrays
from icbmap.progress import Progress

UNIT_HEADER = ["lsoa_code", "board_code", "board_name"]
PRACTICE_HEADER = ["practice_code", "practice_name", "board_code", "board_name"]


def practices_path_for(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return path.with_name(path.stem + "-practices.csv")
    return path.with_name(path.name + "-practices.csv")


def assignment_csv_text(plan) -> str:
    codes, names = board_code_name_arrays(plan)
    codes = np.array(list(codes) + [""], dtype=object)  # index -1 -> ""
    names = np.array(list(names) + [""], dtype=object)
    a = np.asarray(plan.assignment)
    buf = io.StringIO()
    w = _csv.writer(buf, lineterminator="\n")
    w.writerow(UNIT_HEADER)
    w.writerows(zip(plan.atlas.unit_codes, codes[a], names[a]))
    return buf.getvalue()


def practices_csv_text(plan) -> str | None:
    pr = plan.atlas.practices
    if pr is None or not len(pr) or not len(plan.practice_assignment):
        return None
    codes, names = board_code_name_arrays(plan)
    codes = np.array(list(codes) + [""], dtype=object)
    names = np.array(list(names) + [""], dtype=object)
    a = np.asarray(plan.practice_assignment)
    buf = io.StringIO()
    w = _csv.writer(buf, lineterminator="\n")
    w.writerow(PRACTICE_HEADER)
    w.writerows(zip(pr["code"].astype(str), pr["name"].astype(str), codes[a], names[a]))
    return buf.getvalue()


def write_csv(plan, path: str | Path, progress: Progress | None = None) -> list[Path]:
    """Write the assignment CSV (and the practices CSV when there are practices)."""
    progress = progress or Progress.silent()
    path = Path(path)
    progress.step(0.1, "Writing the unit assignment")
    text = assignment_csv_text(plan)
    ptext = practices_csv_text(plan)
    atomic_write_text(path, text)
    out = [path]
    if ptext is not None:
        ppath = practices_path_for(path)
        atomic_write_text(ppath, ptext)
        out.append(ppath)
    done(progress, f"Wrote {path.name}")
    return out
