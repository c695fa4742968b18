"""The unit -> board assignment file (CSV), the equivalent of a block-assignment file.

``lsoa_code,board_code,board_name``: one row per unit in the atlas's code order; an
unassigned unit has empty board columns.  When the data pack has GP practices, a second
file ``<name>-practices.csv`` (``practice_code,practice_name,board_code,board_name``)
gives each practice's board.  :func:`icbmap.export.importers.read_assignment_csv` reads
both back.  Text that a spreadsheet would run as a formula (``=...``, ``+...``, ``-...``,
``@...``) is written with a leading ``'`` (:mod:`icbmap.csvsafe`).
``<name>-boards.csv`` holds one row per board with the boards layer's attributes (:mod:`icbmap.export.schema`, the same field names as the GeoJSON and
GeoPackage boards layers); ``<name>-boards.csvt`` beside it gives GDAL and QGIS the column types.

Excel-ready: UTF-8 with a byte-order mark by default (Excel on Windows otherwise reads
non-ASCII names in the wrong encoding; ``bom=False`` for scripts), plain numbers (no
thousands separators), booleans as ``true`` / ``false``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from icbmap.export.files import done, safe_output, write_texts
from icbmap.export.facts import board_code_name_arrays
from icbmap.csvsafe import safe_writer
from icbmap.progress import Progress

UNIT_HEADER = ["lsoa_code", "board_code", "board_name"]
PRACTICE_HEADER = ["practice_code", "practice_name", "board_code", "board_name"]
BOM = "\ufeff"


def boards_path_for(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return path.with_name(path.stem + "-boards.csv")
    return path.with_name(path.name + "-boards.csv")


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def boards_csv_text(plan, facts=None) -> str:
    from icbmap.export.facts import board_facts
    from icbmap.export.schema import board_field_names, flat_board_row, vintages

    facts = facts if facts is not None else board_facts(plan)
    buf = io.StringIO()
    w = safe_writer(buf, lineterminator="\n")  # formula-like names get a leading '
    w.writerow(board_field_names(vintages(plan.atlas)))
    w.writerows([_cell(v) for v in flat_board_row(f).values()] for f in facts)
    return buf.getvalue()


#: GDAL's CSV type sidecar (``<name>.csvt``): QGIS and ogr2ogr read the boards CSV's
#: columns with their schema types instead of all as text.
CSVT_TYPES = {"string": "String", "integer": "Integer64", "real": "Real", "boolean": "Integer(Boolean)"}


def boards_csvt_text(plan) -> str:
    from icbmap.export.schema import board_field_types, vintages

    return ",".join(f'"{CSVT_TYPES[t]}"' for t in board_field_types(vintages(plan.atlas)).values()) + "\n"


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
    w = safe_writer(buf, lineterminator="\n")
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
    w = safe_writer(buf, lineterminator="\n")
    w.writerow(PRACTICE_HEADER)
    w.writerows(zip(pr["code"].astype(str), pr["name"].astype(str), codes[a], names[a]))
    return buf.getvalue()


def write_csv(plan, path: str | Path, progress: Progress | None = None, bom: bool = True) -> list[Path]:
    """Write the assignment CSV, the boards CSV and the practices CSV (when there are
    practices); with ``bom`` (the default) each starts with a UTF-8 byte-order mark."""
    progress = progress or Progress.silent()
    path, _note = safe_output(path)  # a name every system accepts (reported by the CLI)
    progress.step(0.1, "Writing the unit assignment")
    text = assignment_csv_text(plan)
    ptext = practices_csv_text(plan)
    progress.step(0.5, "Computing board figures")
    btext = boards_csv_text(plan)
    mark = BOM if bom else ""
    bpath = boards_path_for(path)
    files = {path: mark + text, bpath: mark + btext,
             bpath.with_suffix(".csvt"): boards_csvt_text(plan)}  # column types for GDAL/QGIS
    if ptext is not None:
        files[practices_path_for(path)] = mark + ptext
    write_texts(files)  # all or none: a full disk leaves no half set of files
    out = [p for p in files if p.suffix != ".csvt"]
    done(progress, f"Wrote {path.name}")
    return out
