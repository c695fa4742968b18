"""Import boards drawn elsewhere: board polygons or a unit -> board assignment CSV.

Polygons (GeoJSON, GeoPackage, shapefile or a zip of its parts; any CRS the file declares) are reprojected to
EPSG:27700 and overlaid on the units: each unit goes to the board whose polygons cover the
largest part of its area (a plurality; units where that board covers less than half are
reported as weakly placed).  Units no polygon covers (or covers less than 5% of, which is
digitising noise along a neighbour's edge) are left unassigned and listed.

An assignment CSV (``lsoa_code,board_code[,board_name]``, as written by ``icbmap export
--format csv``; other common column names are recognised) gives each unit's board
directly; unit codes the pack does not know, units listed twice with different boards and
units the file does not mention are reported.

Board codes and names come from attributes: ``code_field`` / ``name_field`` when given,
else the ICB or board column (``board_code``, ``icb_code``, ``ICB26CD``, ``icb24_code``
... of any year; ``code`` in polygon files) and its name column (``ICB26NM`` ...).  A
sub-ICB location, CCG, STP or PCN column is never taken for the board, and when the board
column cannot be told (two ICB columns, or only sub-ICB-like ones) the import stops and
names the candidates and ``--code-field``.  An assignment CSV whose LSOA codes are of
another vintage than the pack's (2011 / 2021), or mix the two, is refused saying so.  A code equal to a baseline board's code
reuses that board (so its colour and id carry over); other codes become new boards.
Baseline boards the import does not mention and that end up holding nothing are marked
deleted.  Every problem raises :class:`ImportError_` (a :class:`~icbmap.errors.DataError`
naming the file).

icbmap's own Excel workbook (``icbmap export --format xlsx``) is read back from its ``boards``
and ``moves`` sheets (:func:`read_workbook_plan`).

The parts: :mod:`icbmap.export.import_common` (the report types, choosing the board columns,
the board checks, the size limits every reader looks up there at call time, building the
plan), :mod:`icbmap.export.import_polygons` (the polygon reader, the zip check and the
overlay), :mod:`icbmap.export.import_workbook` (icbmap's own workbook) and this module (the
assignment CSV reader, and :func:`import_file`, which chooses by the file's type).
"""


from __future__ import annotations

import csv as _csv
import io
from pathlib import Path

import numpy as np

from icbmap.csvsafe import unneutralise
from icbmap.progress import Progress
from icbmap.safeio import read_input

from icbmap.export import import_common as common  # its size limits are read at call time
from icbmap.export.import_common import (
    board_columns,
    build_plan,
    _check_boards,
    _check_file,
    _check_unit_vintage,
    CSV_SUFFIXES,
    ImportError_,
    ImportReport,
    ImportResult,
    _paired_name,
    POLYGON_SUFFIXES,
    _unit_column,
)
from icbmap.export.import_polygons import (
    _check_zip,
    import_polygons,
)
from icbmap.export.import_workbook import (
    _check_xlsx,
    read_workbook_plan,
)


# ------------------------------------------------------------------ CSV
#: Field delimiters an assignment table may use; the header line decides (see :func:`csv_delimiter`).
CSV_DELIMITERS = ",;\t|"


def csv_delimiter(text: str) -> str:
    """The delimiter of a CSV table, from its header record alone.

    The body is never sniffed: a name holding quotes, commas or semicolons (``Peak, "High"
    & Moorlands``) in the first rows misled :class:`csv.Sniffer`, which then read every
    quoted cell wrongly.  The header (column names) is parsed as an RFC 4180 record with
    each candidate delimiter; the one giving the most columns wins, a comma on a tie.
    """
    first = text.split("\n", 1)[0]
    best, best_n = ",", 1
    for d in CSV_DELIMITERS:
        try:
            n = len(next(_csv.reader([first], delimiter=d, quotechar='"', doublequote=True)))
        except (_csv.Error, StopIteration):
            continue
        if n > best_n:
            best, best_n = d, n
    return best


def _sniff_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a CSV table, parsed as RFC 4180 (the way icbmap's own writer,
    pandas and Excel write it: ``"`` quotes a cell, ``""`` is a quote inside one, a quoted
    cell may hold the delimiter or a line break)."""
    data = read_input(path, "CSV file", common.MAX_CSV_BYTES, ImportError_)
    if b"\x00" in data[:4096]:
        raise ImportError_(path, "is a binary file, not a CSV text table")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    delimiter = csv_delimiter(text)
    try:
        # spaces after a delimiter are dropped (cells are stripped anyway), so ``a, "b, c"``
        # written by hand still reads "b, c" as one quoted cell
        rows = list(_csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"',
                                doublequote=True, skipinitialspace=True, strict=False))
    except _csv.Error as exc:
        raise ImportError_(path, f"not a readable CSV ({exc})") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise ImportError_(path, "the CSV has no rows")
    header = [c.strip() for c in rows[0]]
    return header, rows[1:]


def read_assignment_csv(path: str | Path, atlas, code_field: str | None = None,
                        name_field: str | None = None, unit_field: str | None = None,
                        progress: Progress | None = None) -> ImportResult:
    """An assignment CSV to a plan; see the module docstring for what is reported."""
    progress = progress or Progress.silent()
    path = Path(path)
    _check_file(path, common.MAX_CSV_BYTES)
    progress.step(0.0, f"Reading {path.name}")
    header, rows = _sniff_rows(path)
    if {"schema_version", "councils_whole"} <= {h.lower() for h in header}:
        raise ImportError_(path, "is icbmap's table of boards (one row per board, no LSOAs); import the "
                                 "assignment CSV written beside it (lsoa_code,board_code,...) or the "
                                 "boards layer of the GeoPackage or GeoJSON")
    unit_col = _unit_column(header, unit_field, atlas, path)
    if unit_col is None:
        raise ImportError_(path, f"no unit code column (expected one of lsoa_code, LSOA11CD, LSOA21CD, code); "
                                 f"columns are: {', '.join(header)}")
    code_col, name_col = board_columns(header, code_field, name_field, path,
                                       exclude=(unit_col, _paired_name(header, unit_col) if unit_col else None),
                                       generic_code=False)
    if code_col is None and name_col is None:
        raise ImportError_(path, f"no board column (expected board_code or board_name, or use --code-field); "
                                 f"columns are: {', '.join(header)}")
    if code_col == unit_col:
        raise ImportError_(path, f"the board code column and the unit column are both {unit_col!r}")
    ui, ci = header.index(unit_col), header.index(code_col) if code_col else None
    _check_unit_vintage(path, atlas, [r[ui] for r in rows if len(r) > ui and r[ui].strip()], unit_col)
    ni = header.index(name_col) if name_col else None
    if ni is not None and ni in (ui, ci):
        ni = None
    report = ImportReport(source=str(path), kind="an assignment CSV")
    boards: list[tuple[str, str]] = []
    board_index: dict[str, int] = {}
    assignment = np.full(atlas.n_units, -2, dtype=np.int64)  # -2: not listed
    width = len(header)
    for r, row in enumerate(rows, start=2):
        if len(row) < width:
            row = row + [""] * (width - len(row))
        ucode = row[ui].strip()
        bcode = unneutralise(row[ci].strip()) if ci is not None else ""
        bname = unneutralise(row[ni].strip()) if ni is not None else ""
        if not bcode:
            bcode = bname
        if not ucode:
            report.skipped_rows.append(f"row {r}: no unit code")
            continue
        u = atlas.unit_index(ucode)
        if u is None:
            report.unknown_codes.append(ucode)
            continue
        if not bcode:
            b = -1  # listed, deliberately unassigned
        else:
            b = board_index.get(bcode)
            if b is None:
                b = board_index[bcode] = len(boards)
                boards.append((bcode, bname or bcode))
        if assignment[u] != -2:
            if assignment[u] != b:
                report.conflicts.append(ucode)
            continue
        assignment[u] = b
    if not boards:
        raise ImportError_(path, "no row names both a unit this data pack knows and a board"
                                 + (f" ({len(report.unknown_codes):,} unknown unit codes, e.g. "
                                    f"{report.unknown_codes[0]})" if report.unknown_codes else ""))
    _check_boards(path, boards)
    missing = np.flatnonzero(assignment == -2)
    if len(missing):
        report.warnings.append(f"{len(missing):,} unit(s) are not in the file and were left unassigned")
    assignment[assignment == -2] = -1
    progress.step(0.6, "Building the plan")
    plan = build_plan(atlas, boards, assignment, report)
    progress.step(1.0, f"Imported {len(boards)} boards")
    return ImportResult(plan, report)




# ------------------------------------------------------------------ dispatch
def precheck_import(path: str | Path) -> None:
    """The checks that need no data pack (file type, regular file, size), so the CLI refuses
    a bad file before loading the pack."""
    path = Path(path)
    suffix = path.suffix.lower()
    if path.name.lower().endswith(".icbmap.json"):
        raise ImportError_(path, "is an icbmap proposal; open it instead of importing it")
    if suffix in CSV_SUFFIXES:
        _check_file(path, common.MAX_CSV_BYTES)
    elif suffix == ".xlsx":
        _check_file(path, common.MAX_IMPORT_BYTES)
        _check_xlsx(path)
    elif suffix in POLYGON_SUFFIXES or suffix == ".zip":
        _check_file(path, common.MAX_IMPORT_BYTES)
        if suffix == ".zip":
            _check_zip(path)  # damaged, encrypted, a zip bomb: refused before the pack loads
    else:
        raise ImportError_(path, f"unknown file type {suffix or '(none)'}: import takes board polygons "
                                 "(.geojson, .gpkg, .shp), an assignment table (.csv) or icbmap's workbook (.xlsx)")



def import_file(path: str | Path, atlas, code_field: str | None = None, name_field: str | None = None,
                progress: Progress | None = None, **kwargs) -> ImportResult:
    """Import board polygons or an assignment CSV, choosing by the file's type."""
    path = Path(path)
    suffix = path.suffix.lower()
    precheck_import(path)
    if suffix in CSV_SUFFIXES:
        return read_assignment_csv(path, atlas, code_field, name_field, progress=progress, **kwargs)
    if suffix == ".xlsx":
        return read_workbook_plan(path, atlas, progress=progress)
    if suffix in POLYGON_SUFFIXES or suffix == ".zip":
        return import_polygons(path, atlas, code_field, name_field, progress=progress, **kwargs)
    raise ImportError_(path, f"unknown file type {suffix or '(none)'}: import takes board polygons "
                             "(.geojson, .gpkg, .shp or a .zip of shapefile parts) or an assignment "
                             "table (.csv)")

