"""What the importers of boards drawn elsewhere share: the report and result types, choosing
the board (and unit) columns, the board checks, the size limits (the readers look them up
here at call time, so a test can lower them on this module) and turning boards and an
assignment into a plan.  The readers: :mod:`icbmap.export.import_polygons`,
:mod:`icbmap.export.import_workbook` and :mod:`icbmap.export.importers` (the CSV reader and
the entry point)."""


from __future__ import annotations

import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from icbmap.atlas.lsoa_vintage import classify
from icbmap.csvsafe import looks_like_formula
from icbmap.errors import DataError
from icbmap.safeio import file_kind


#: Largest source file we agree to open (board layers are a few MB; a national LSOA layer
#: at full resolution is a few hundred).
MAX_IMPORT_BYTES = 512 * 1024 * 1024
MAX_CSV_BYTES = 64 * 1024 * 1024

#: Board code columns: icbmap's own ``board_code``, ``icb_code``, and the ONS ``ICB<yy>CD`` /
#: geographr ``icb<yy>_code`` of any year.  (``ICB<yy>CDH``, the NHS code, is not one.)
BOARD_CODE_RE = re.compile(r"(board|icb)(\d\d)?_?(cd|code)|icb|board", re.IGNORECASE)
#: Columns of areas that are not boards but could be taken for them: sub-ICB locations,
#: CCGs, STPs, primary care networks.  Never picked without ``--code-field``.
OTHER_AREA_RE = re.compile(r"(sicbl|loc|ccg|stp|pcn)(\d\d)?_?(cd|code)", re.IGNORECASE)
#: Generic code/name columns (polygon files: icbmap's own board layers use ``code``/``name``).
GENERIC_CODE = "code"
NAME_FIELDS = ["board_name", "icb_name", "name", "label", "title"]
BOARD_NAME_RE = re.compile(r"(board|icb)(\d\d)?_?(nm|name)", re.IGNORECASE)
#: More distinct board codes than this means the code field is wrong (e.g. a unit code).
MAX_BOARDS = 500
UNIT_FIELDS = ["lsoa_code", "lsoa", "unit_code", "unit", "code"]
#: LSOA code columns of a given vintage: ``LSOA21CD``, ``lsoa11_code``, ``LSOA_2021_CODE`` ...
LSOA_VINTAGE_RE = re.compile(r"lsoa_?(?:20)?(\d\d)_?(cd|code)", re.IGNORECASE)
POLYGON_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb", ".gml", ".kml"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
WEAK_SHARE = 0.5
#: A unit whose best board covers less than this share of it is not placed: such overlaps
#: are digitising noise along another board's edge, not coverage.
MIN_SHARE = 0.05


class ImportError_(DataError):  # noqa: N801 - avoid shadowing the builtin ImportError
    """A source file could not be imported; ``str()`` names the file and the problem."""


class AmbiguousColumn(ImportError_):
    """The board column cannot be told: the import stops and asks.  ``candidates`` are the
    columns to choose from, ``option`` the argument that settles it (``code_field`` or
    ``name_field``; ``--code-field`` / ``--name-field`` on the command line)."""

    def __init__(self, path, problem: str, candidates, option: str = "code_field"):
        super().__init__(path, problem)
        self.candidates = list(candidates)
        self.option = option


@dataclass
class ImportReport:
    """What an import did, for the user: counts, and every unit that could not be placed."""

    source: str
    kind: str                               # "polygons" or "csv"
    boards: list[dict] = field(default_factory=list)   # code, name, units, population, id, new
    units_total: int = 0
    units_placed: int = 0
    unplaced: list[str] = field(default_factory=list)  # unit codes left unassigned
    weak: list[str] = field(default_factory=list)      # placed on < 50% coverage
    unknown_codes: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    skipped_rows: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    deleted_baseline: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.unplaced and not self.unknown_codes and not self.conflicts

    def summary(self) -> str:
        def some(items, n=10):
            more = f" and {len(items) - n:,} more" if len(items) > n else ""
            return ", ".join(str(x) for x in items[:n]) + more

        lines = [f"{self.source}: {len(self.boards)} board(s) from {self.kind}; "
                 f"{self.units_placed:,} of {self.units_total:,} units placed"]
        if self.unplaced:
            lines.append(f"{len(self.unplaced):,} unit(s) could not be placed (left unassigned): "
                         f"{some(self.unplaced)}")
        if self.weak:
            lines.append(f"{len(self.weak):,} unit(s) less than half covered by their board: {some(self.weak)}")
        if self.unknown_codes:
            lines.append(f"{len(self.unknown_codes):,} unit code(s) not in this data pack (ignored): "
                         f"{some(self.unknown_codes)}")
        if self.conflicts:
            lines.append(f"{len(self.conflicts):,} unit(s) listed with different boards (first kept): "
                         f"{some(self.conflicts)}")
        if self.skipped_rows:
            lines.append(f"{len(self.skipped_rows):,} row(s)/feature(s) skipped: {some(self.skipped_rows, 5)}")
        if self.deleted_baseline:
            lines.append(f"baseline boards not in the import, marked deleted: {some(self.deleted_baseline)}")
        lines.extend(self.warnings)
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in (
            "source", "kind", "boards", "units_total", "units_placed", "unplaced", "weak",
            "unknown_codes", "conflicts", "skipped_rows", "warnings", "deleted_baseline")}


@dataclass
class ImportResult:
    plan: object
    report: ImportReport

    def to_proposal(self, title: str = "", author: str = ""):
        from icbmap.plan.proposal import Proposal

        p = Proposal.new(self.plan, title=title or f"Imported from {Path(self.report.source).name}",
                         author=author)
        p.notes = self.report.summary()
        return p


# ------------------------------------------------------------------ helpers
def _check_file(path: Path, limit: int, empty_ok: bool = False) -> None:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ImportError_(path, "file not found") from None
    except OSError as exc:
        raise ImportError_(path, f"cannot open: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ImportError_(path, "is a folder; give the file itself (.shp, .gpkg, .geojson or .csv)")
    if not stat.S_ISREG(st.st_mode):
        raise ImportError_(path, f"is {file_kind(st.st_mode)}, not a regular file")
    if st.st_size == 0 and not empty_ok:
        raise ImportError_(path, "the file is empty")
    if st.st_size > limit:
        raise ImportError_(path, f"is {st.st_size / 2**20:,.0f} MB, larger than the "
                                 f"{limit / 2**20:,.0f} MB import limit")


def _named(columns, wanted: str, what: str, path, option: str) -> str:
    """The column the user named (exact, else case-insensitive)."""
    cols = [str(c) for c in columns]
    for c in cols:
        if c == wanted:
            return c
    for c in cols:
        if c.lower() == wanted.lower():
            return c
    raise ImportError_(path, f"no {what} field {wanted!r} ({option}); fields are: {', '.join(cols)}")


def _quoted(cols) -> str:
    return ", ".join(cols)


def _paired_name(cols: list[str], code: str) -> str | None:
    """The name column that goes with a code column: ICB26CD -> ICB26NM, icb26_code ->
    icb26_name, board_code -> board_name, code -> name."""
    low = code.lower()
    pairs = []
    if low.endswith("cd"):
        pairs.append(low[:-2] + "nm")
    if low.endswith("code"):
        pairs.append(low[:-4] + "name")
    lower = {c.lower(): c for c in cols}
    return next((lower[p] for p in pairs if p in lower), None)


def board_columns(columns, code_field: str | None, name_field: str | None, path,
                  exclude=(), generic_code: bool = True) -> tuple[str | None, str | None]:
    """The board code and name columns of a file: the ones named, else an ICB / board column.

    An ICB column (``ICB26CD``, ``icb24_code``, ``board_code`` ...) is the board; sub-ICB
    location, CCG, STP and PCN columns never are unless named with ``--code-field``.  When
    it cannot tell (two ICB columns, or only sub-ICB-like ones) it stops with an error naming
    the candidates and ``--code-field``; it never guesses.  ``generic_code`` lets a column
    named ``code`` be the board (polygon files) when nothing else is.
    """
    cols = [str(c) for c in columns if str(c) not in exclude]
    if code_field:
        code = _named(columns, code_field, "board code", path, "--code-field")
    else:
        boards = [c for c in cols if BOARD_CODE_RE.fullmatch(c)]
        others = [c for c in cols if OTHER_AREA_RE.fullmatch(c)]
        generic = [c for c in cols if c.lower() == GENERIC_CODE] if generic_code else []
        if len(boards) == 1:
            code = boards[0]
        elif len(boards) > 1:
            raise AmbiguousColumn(path, f"cannot tell which column is the board: {_quoted(boards)} all hold "
                                        f"board codes; name the one to import with --code-field (e.g. "
                                        f"--code-field {boards[-1]})", boards)
        elif others:
            raise AmbiguousColumn(path, f"cannot tell which column is the board: there is no ICB or board code "
                                        f"column, only {_quoted(others + generic)} (sub-ICB location, CCG, STP "
                                        "or PCN codes are not boards unless you say so); name the board column "
                                        f"with --code-field (e.g. --code-field {others[0]})", others + generic)
        else:
            code = generic[0] if generic else None
    if name_field:
        return code, _named(columns, name_field, "board name", path, "--name-field")
    name = _paired_name(cols, code) if code else None
    if name is None and (code is None or not OTHER_AREA_RE.fullmatch(code)):
        # a board code column without its own name column: a board name column, if only one
        named = [c for c in cols if BOARD_NAME_RE.fullmatch(c)]
        lower = {c.lower(): c for c in cols}
        generic_names = [lower[n] for n in NAME_FIELDS if n in lower and BOARD_NAME_RE.fullmatch(n) is None]
        if len(named) == 1:
            name = named[0]
        elif len(named) > 1 and code is None:
            raise AmbiguousColumn(path, f"cannot tell which column is the board: {_quoted(named)} all hold board "
                                        "names; name the one to import with --name-field (or the code column "
                                        "with --code-field)", named, "name_field")
        elif not named and generic_names:
            name = generic_names[0]
    return code, name


def _unit_column(header: list[str], unit_field: str | None, atlas, path) -> str | None:
    """The LSOA (unit) code column; with both an LSOA 2011 and an LSOA 2021 column, the one of
    the pack's vintage."""
    if unit_field:
        return _named(header, unit_field, "unit code", path, "unit field")
    by_year = [c for c in header if LSOA_VINTAGE_RE.fullmatch(c)]
    if len(by_year) > 1:
        pack = classify(atlas.unit_codes).vintage
        same = [c for c in by_year if "20" + LSOA_VINTAGE_RE.fullmatch(c).group(1) == pack]
        if len(same) == 1:
            return same[0]
        raise ImportError_(path, f"cannot tell which column holds the LSOA codes: {_quoted(by_year)}; keep "
                                 "only the one of this data pack's LSOA vintage")
    if by_year:
        return by_year[0]
    lower = {c.lower(): c for c in header}
    return next((lower[c] for c in UNIT_FIELDS if c in lower), None)


def _check_unit_vintage(path, atlas, codes, col: str) -> None:
    """A file of 2021 LSOA codes given to a 2011 pack (or the reverse), or one mixing the two
    vintages, is refused with a message saying so."""
    f = classify(codes)
    if f.vintage == "mixed":
        raise ImportError_(path, f"column {col} {f.mixed_message()}")
    if not f.vintage:
        return
    pack = classify(atlas.unit_codes).vintage
    if pack in ("2011", "2021") and f.vintage != pack:
        raise ImportError_(path, f"column {col} holds {f.vintage} LSOA codes ({f.describe(f.vintage)}) but this "
                                 f"data pack is built on {pack} LSOAs; import the boards as polygons "
                                 "(GeoJSON, GeoPackage or shapefile), which works across LSOA vintages, or "
                                 f"use a data pack on {f.vintage} LSOAs")


def _board_lookup(atlas) -> dict[str, int]:
    t = atlas.layers["board"].table
    out = {str(c): i for i, c in enumerate(t["code"])}
    if "code_nhs" in t.columns:
        for i, c in enumerate(t["code_nhs"]):
            if isinstance(c, str) and c and c not in out:
                out[c] = i
    return out


def build_plan(atlas, boards: list[tuple[str, str]], assignment: np.ndarray, report: ImportReport):
    """A plan from imported boards (``(code, name)`` per board) and each unit's board index.

    ``assignment`` holds indices into ``boards`` (-1 = unplaced).  Baseline codes map to
    baseline ids; the rest become new boards; untouched empty baseline boards are deleted.
    """
    from icbmap.plan.colours import repair_colours, suggest_colour
    from icbmap.plan.model import Board, Plan

    plan = Plan(atlas)
    lookup = _board_lookup(atlas)
    ids = np.full(len(boards), -1, dtype=np.int64)
    used_baseline: set[int] = set()
    new_boards = []
    for k, (code, name) in enumerate(boards):
        i = lookup.get(code)
        if i is not None and i not in used_baseline:
            used_baseline.add(i)
            ids[k] = i
            if name and name != plan.boards[i].name:
                plan.update_board(i, name=name)
        else:
            new_boards.append(k)
    for k in new_boards:
        code, name = boards[k]
        nid = plan.n_boards
        if any(b.code == code for b in plan.boards):
            code = f"{code}-{nid}"
        plan.append_board(Board(nid, code, name or code, suggest_colour(plan)))
        ids[k] = nid
    a = np.asarray(assignment, dtype=np.int64)
    mapped = np.where(a >= 0, ids[np.maximum(a, 0)], -1).astype(np.int32)
    plan.assign(np.arange(plan.n_units), mapped)
    # practices follow the unit they sit in
    if plan.n_practices:
        pu = plan.practice_unit
        pb = np.where(pu >= 0, plan.assignment[np.maximum(pu, 0)], plan.baseline_practice_assignment)
        plan.assign_practices(np.arange(plan.n_practices), pb.astype(np.int32))
    counts = np.bincount(plan.assignment[plan.assignment >= 0], minlength=plan.n_boards)
    for i in range(plan.n_baseline_boards):
        if i not in used_baseline and counts[i] == 0 and not (plan.practice_assignment == i).any():
            plan.set_active(i, False)
            report.deleted_baseline.append(plan.boards[i].code)
    for bid, colour in repair_colours(plan).items():
        plan.update_board(bid, colour=colour)
    formulas = [name for code, name in boards if looks_like_formula(name) or looks_like_formula(code)]
    if formulas:
        report.warnings.append(
            f"{len(formulas):,} board name(s) begin with =, +, -, @, a tab or a carriage return "
            f"(e.g. {formulas[0][:40]!r}), which spreadsheets run as formulas; CSV exports write "
            "them with a leading ' so they stay text")
    pop = atlas.population
    report.boards = []
    for k, (code, name) in enumerate(boards):
        bid = int(ids[k])
        sel = plan.assignment == bid
        report.boards.append({"code": plan.boards[bid].code, "name": plan.boards[bid].name, "id": bid,
                              "new": bid >= plan.n_baseline_boards, "units": int(sel.sum()),
                              "population": int(pop[sel].sum())})
    report.units_total = plan.n_units
    report.units_placed = int((plan.assignment >= 0).sum())
    report.unplaced = [str(c) for c in atlas.unit_codes[plan.assignment < 0]]
    return plan



def _check_boards(path, boards) -> None:
    """Refuse too many boards, and codes or names holding control characters (a NUL, a newline)."""
    from icbmap.plan.model import name_problem

    _check_board_count(path, boards)
    for code, name in boards:
        problem = name_problem(code, "board code") or name_problem(name, f"the name of board {code[:40]!r}")
        if problem:
            raise ImportError_(path, problem)


def _check_board_count(path, boards) -> None:
    if len(boards) > MAX_BOARDS:
        raise ImportError_(path, f"{len(boards):,} different board codes (e.g. {boards[0][0]}, {boards[1][0]}): "
                                 f"more than {MAX_BOARDS} boards means the board code field is wrong; "
                                 "name it with --code-field")


