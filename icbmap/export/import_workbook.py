"""icbmap's own Excel workbook (``icbmap export --format xlsx``) read back from its ``boards``
and ``moves`` sheets (see :mod:`icbmap.export.importers`)."""


from __future__ import annotations

from pathlib import Path

import numpy as np

from icbmap.progress import Progress

from icbmap.export import import_common as common  # its size limits are read at call time
from icbmap.export.import_common import (
    build_plan,
    _check_boards,
    _check_file,
    _check_unit_vintage,
    ImportError_,
    ImportReport,
    ImportResult,
)


def _sheet_records(ws, path, name):
    rows = ws.iter_rows(values_only=True)
    try:
        header = [str(h).strip() if h is not None else "" for h in next(rows)]
    except StopIteration:
        raise ImportError_(path, f"the workbook's {name!r} sheet is empty") from None
    return header, rows


def read_workbook_plan(path: str | Path, atlas, progress: Progress | None = None):
    """An icbmap workbook back to a plan: the ``boards`` sheet's codes and names, every LSOA
    on its baseline board except those the ``moves`` sheet moves.  Refused (one line) when
    the workbook is not icbmap's, or was made on another baseline than the pack's."""
    progress = progress or Progress.silent()
    path = Path(path)
    _check_file(path, common.MAX_IMPORT_BYTES)
    _check_xlsx(path)
    try:
        boards, baseline, moves = _workbook_contents(path)
    except ImportError_:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl and expat raise many kinds (an XML bomb too)
        first = (str(exc).strip().splitlines() or [""])[0][:200] or exc.__class__.__name__
        raise ImportError_(path, f"not a readable Excel workbook ({first})") from None
    if baseline is not None and str(getattr(atlas, "baseline", "")) != baseline:
        raise ImportError_(path, f"the workbook was made on the {baseline} baseline, but the data pack is on "
                                 f"{atlas.baseline}; import it with --baseline {baseline}")
    return _workbook_plan(path, atlas, boards, moves, progress)


def _workbook_contents(path: Path):
    """``(boards, baseline key or None, moves)`` from the workbook's sheets."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = wb.sheetnames
        if "boards" not in sheets:
            raise ImportError_(path, f"the workbook has no 'boards' sheet (it has {', '.join(sheets[:6])}); "
                                     "import takes icbmap's workbook (icbmap export --format xlsx)")
        header, rows = _sheet_records(wb["boards"], path, "boards")
        low = [h.lower() for h in header]
        if "code" not in low or "name" not in low:
            raise ImportError_(path, "the 'boards' sheet has no code and name columns")
        ci, ni = low.index("code"), low.index("name")
        boards: list[tuple[str, str]] = []
        for k, row in enumerate(rows, start=2):
            if row is None or all(v is None for v in row):
                continue
            code = "" if ci >= len(row) or row[ci] is None else str(row[ci]).strip()
            name = "" if ni >= len(row) or row[ni] is None else str(row[ni])
            if not code:
                raise ImportError_(path, f"the 'boards' sheet's row {k} has no board code")
            boards.append((code, name or code))
            if len(boards) > 500:
                break
        if not boards:
            raise ImportError_(path, "the 'boards' sheet lists no boards")
        _check_boards(path, boards)
        baseline = None
        if "sources" in sheets:
            h, srows = _sheet_records(wb["sources"], path, "sources")
            for row in srows:
                if row and len(row) >= 3 and row[0] == "export" and row[1] == "baseline":
                    baseline = str(row[2]) if row[2] is not None else None
        if "moves" not in sheets:
            raise ImportError_(path, "the workbook has no 'moves' sheet, so the LSOAs of its boards are unknown")
        mh, mrows = _sheet_records(wb["moves"], path, "moves")
        mlow = [h.lower() for h in mh]
        if "lsoa_code" not in mlow or "to_board_code" not in mlow:
            raise ImportError_(path, "the 'moves' sheet has no lsoa_code and to_board_code columns")
        ui, ti = mlow.index("lsoa_code"), mlow.index("to_board_code")
        moves = [(str(r[ui]).strip(), "" if r[ti] is None else str(r[ti]).strip())
                 for r in mrows if r and len(r) > max(ui, ti) and r[ui] is not None]
    finally:
        wb.close()
    return boards, baseline, moves


def _workbook_plan(path: Path, atlas, boards, moves, progress):
    progress.step(0.5, "Building the plan")
    report = ImportReport(source=str(path), kind="an icbmap workbook (boards and moves sheets)")
    index = {c: k for k, (c, _n) in enumerate(boards)}
    base_codes = atlas.layers["board"].table["code"].astype(str).to_numpy()
    base = np.asarray(atlas.unit_level("board"))
    lut = np.array([index.get(c, -1) for c in base_codes] + [-1], dtype=np.int64)
    assignment = lut[base]
    if moves:
        _check_unit_vintage(path, atlas, [u for u, _b in moves], "lsoa_code")
    moved = np.zeros(atlas.n_units, dtype=bool)
    for ucode, bcode in moves:
        u = atlas.unit_index(ucode)
        if u is None:
            report.unknown_codes.append(ucode)
            continue
        if bcode and bcode not in index:
            raise ImportError_(path, f"the 'moves' sheet moves {ucode} to board {bcode[:40]!r}, which is not in "
                                     "the 'boards' sheet")
        assignment[u] = index[bcode] if bcode else -1
        moved[u] = True
    lost = np.flatnonzero((assignment < 0) & ~moved & (base >= 0))
    if len(lost):
        gone = sorted({str(base_codes[base[u]]) for u in lost})
        raise ImportError_(path, f"{len(lost):,} LSOAs of baseline board(s) {', '.join(gone[:5])}"
                                 f"{' ...' if len(gone) > 5 else ''} are on no board of the 'boards' sheet and not "
                                 "in the 'moves' sheet: the workbook is not a complete icbmap export")
    plan = build_plan(atlas, boards, assignment, report)
    progress.step(1.0, f"Imported {len(boards)} boards")
    return ImportResult(plan, report)



def _check_xlsx(path: Path) -> None:
    """An .xlsx is a zip: damaged, encrypted or a zip bomb is refused before it is opened."""
    import zipfile
    import zlib

    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            if sum(i.file_size for i in infos) > common.MAX_IMPORT_BYTES:
                raise ImportError_(path, f"unpacks to more than the {common.MAX_IMPORT_BYTES / 2**20:,.0f} MB import limit")
            if any(i.flag_bits & 0x1 for i in infos):
                raise ImportError_(path, "the workbook is password-protected; save it without a password")
            if "xl/workbook.xml" not in z.namelist():
                raise ImportError_(path, "not an Excel workbook (no xl/workbook.xml inside)")
            bad = z.testzip()
            if bad is not None:
                raise ImportError_(path, f"the workbook is damaged: {bad} fails its checksum")
    except ImportError_:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError,
            NotImplementedError) as exc:
        raise ImportError_(path, f"not a readable Excel workbook ({str(exc) or exc.__class__.__name__}); an "
                                 "encrypted or .xls workbook cannot be read: save it as .xlsx") from None
    except OSError as exc:
        raise ImportError_(path, f"cannot read the workbook ({exc.strerror or exc})") from None


