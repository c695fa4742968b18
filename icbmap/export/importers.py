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

This module stays whole (about 950 lines) on purpose: the polygon, CSV and workbook readers share the
report types, the board-column choosing, the board checks and the size and zip checks, all
bounded by the one ``MAX_IMPORT_BYTES`` every reader looks up here at call time (the tests
lower it on this module); split apart, each reader would need that shared state passed in.
"""

from __future__ import annotations

import csv as _csv
import io
import re
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from icbmap.atlas.lsoa_vintage import classify
from icbmap.atlas.model import CRS
from icbmap.csvsafe import looks_like_formula, unneutralise
from icbmap.errors import DataError
from icbmap.progress import Progress
from icbmap.safeio import file_kind, read_input

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


#: Suffixes a zip may hold for import, and the largest unpacked size we agree to read.
ZIP_LAYER_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json")


def _check_zip(path: Path) -> list[str]:
    """A zip of shapefile parts (``icbmap export --format shp``) or of one layer file:
    readable, not damaged, not encrypted, not a zip bomb, holding a layer to import.
    Returns the names of the layer files inside."""
    import zipfile
    import zlib

    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_IMPORT_BYTES:
                raise ImportError_(path, f"unpacks to {total / 2**20:,.0f} MB, larger than the "
                                         f"{MAX_IMPORT_BYTES / 2**20:,.0f} MB import limit")
            if any(i.flag_bits & 0x1 for i in infos):
                raise ImportError_(path, "the zip is password-protected; unzip it and import the .shp")
            names = [i.filename for i in infos if not i.is_dir()]
            layers = [n for n in names if n.lower().endswith(ZIP_LAYER_SUFFIXES)]
            if not layers:
                shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "") if names else "nothing"
                raise ImportError_(path, f"the zip holds no shapefile, GeoPackage or GeoJSON (it holds {shown})")
            lower = {n.lower() for n in names}
            for n in layers:
                if n.lower().endswith(".shp"):
                    stem = n[:-4].lower()
                    for ext in (".dbf", ".shx"):
                        if stem + ext not in lower:
                            raise ImportError_(path, f"the zip's shapefile {n} has no {ext} beside it; a "
                                                     "shapefile is a set of files (.shp, .shx, .dbf, .prj)")
            bad = z.testzip()
            if bad is not None:
                raise ImportError_(path, f"the zip is damaged: {bad} fails its checksum")
            return layers
    except ImportError_:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError,
            NotImplementedError) as exc:
        raise ImportError_(path, f"not a readable zip archive ({str(exc) or exc.__class__.__name__})") from None
    except OSError as exc:
        raise ImportError_(path, f"cannot read the zip ({exc.strerror or exc})") from None


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


# ------------------------------------------------------------------ polygons
def read_board_polygons(path: str | Path, code_field: str | None = None, name_field: str | None = None,
                        layer: str | None = None, crs: str | None = None):
    """The features of a polygon file as ``(codes, names, geoms in EPSG:27700, report bits)``."""
    import pyogrio

    path = Path(path)
    _check_file(path, MAX_IMPORT_BYTES)
    zipped = _check_zip(path) if path.suffix.lower() == ".zip" else []
    if path.suffix.lower() == ".shp":
        for ext in (".dbf", ".shx"):
            side = path.with_suffix(ext)
            if not side.exists() and not path.with_suffix(ext.upper()).exists():
                raise ImportError_(path, f"the shapefile's {ext} file is missing; a shapefile is a set "
                                         "of files (.shp, .shx, .dbf, .prj) kept side by side")
        for side in path.parent.glob(f"{path.stem}.*"):  # GDAL opens them: a FIFO would hang it
            if side != path:
                _check_file(side, MAX_IMPORT_BYTES, empty_ok=True)
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # noqa: BLE001 - GDAL raises many kinds
        raise ImportError_(path, f"not a readable GeoJSON, GeoPackage or shapefile ({_gdal_msg(exc)})") from None
    if len(layers) == 0:
        if zipped:
            raise ImportError_(path, f"the zip's {', '.join(zipped[:3])} cannot be read as a layer "
                                     "(damaged, or not really that format)")
        raise ImportError_(path, "holds no layers")
    names = [str(r[0]) for r in layers]
    if layer is None:
        poly = [str(r[0]) for r in layers if r[1] and "polygon" in str(r[1]).lower()]
        named = [n for n in names if n.lower().endswith("_boards")]  # icbmap's shapefile zip
        if "boards" in names:
            layer = "boards"
        elif named:
            layer = named[0]
        elif poly:
            layer = poly[0]
        else:
            layer = names[0]
    elif layer not in names:
        raise ImportError_(path, f"no layer {layer!r}; layers are {', '.join(names)}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gdf = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # noqa: BLE001
        raise ImportError_(path, f"cannot read layer {layer!r} ({_gdal_msg(exc)})") from None
    if len(gdf) == 0:
        raise ImportError_(path, f"layer {layer!r} has no features: there are no boards to import")
    if "geometry" not in getattr(gdf, "columns", []) or getattr(gdf, "geometry", None) is None:
        raise ImportError_(path, f"layer {layer!r} has no geometry; for an assignment table use a .csv file")
    src_crs = crs or (gdf.crs.to_string() if gdf.crs is not None else None)
    if src_crs is None:
        if path.suffix.lower() == ".shp":
            raise ImportError_(path, "the shapefile has no .prj file, so its coordinate reference system "
                                     "is unknown; put the .prj that came with it beside the .shp (for "
                                     "British National Grid use EPSG:27700) and import again")
        raise ImportError_(path, "the layer declares no coordinate reference system; "
                                 "re-save it with one (e.g. EPSG:27700 or EPSG:4326)")
    geoms = gdf.geometry.to_numpy()
    skipped = []
    present = ~(pd.isna(geoms) | shapely.is_empty(np.where(pd.isna(geoms), None, geoms)))
    types = np.array([g.geom_type if g is not None else "" for g in np.where(present, geoms, None)])
    polygonal = np.isin(types, ["Polygon", "MultiPolygon", "GeometryCollection"])
    if present.any() and not polygonal[present].any():
        kinds = ", ".join(sorted(set(types[present])))
        raise ImportError_(path, f"layer {layer!r} holds {kinds} features, not board polygons")
    fields = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    if not code_field and not name_field and _is_icbmap_boards(fields):
        # icbmap's own boards layer (or QGIS's re-save of it): ``code``/``name`` are the
        # board, not the ONS-style ICB..CD (a local icbmap:icb:... for a new board)
        code_field, name_field = "code", "name"
    code_col, name_col = board_columns(fields, code_field, name_field, path)
    n = len(gdf)
    codes = []
    names = []
    for i in range(n):
        c = gdf[code_col].iat[i] if code_col else None
        nm = gdf[name_col].iat[i] if name_col else None
        c = "" if c is None or (isinstance(c, float) and np.isnan(c)) else str(c).strip()
        nm = "" if nm is None or (isinstance(nm, float) and np.isnan(nm)) else str(nm).strip()
        if not c:
            c = nm if (nm and code_col is None) else f"IMP{i + 1:02d}"
        codes.append(c)
        names.append(nm or c)
    keep = present & polygonal
    for i in np.flatnonzero(~keep):
        skipped.append(f"feature {i + 1} ({codes[i]}): " + ("no geometry" if not present[i] else types[i]))
    g = np.where(keep, geoms, None)
    _check_geographic_range(path, src_crs, g)
    try:
        import geopandas as gpd

        proj = gpd.GeoSeries(g, crs=src_crs).to_crs(CRS).to_numpy()
    except Exception as exc:  # noqa: BLE001
        raise ImportError_(path, f"cannot reproject from {src_crs} to British National Grid ({exc})") from None
    proj = np.array([_polygonal(x) if x is not None else None for x in proj], dtype=object)
    notes = []
    if code_col is None:
        notes.append("no board code field found; codes were made up (use --code-field)")
    return codes, names, proj, skipped, notes, layer


def _is_icbmap_boards(fields: list[str]) -> bool:
    """An icbmap boards layer: ``code``, ``name`` and the schema version (``schema_ver`` in a
    shapefile, or as QGIS shortens ``schema_version`` there)."""
    low = {f.lower() for f in fields}
    return {"code", "name"} <= low and bool(low & {"schema_version", "schema_ver"})


def _check_geographic_range(path, src_crs: str, geoms) -> None:
    """Longitude/latitude declared (GeoJSON always is) but the numbers are metres?"""
    import pyproj

    try:
        geographic = pyproj.CRS.from_user_input(src_crs).is_geographic
    except pyproj.exceptions.CRSError:
        raise ImportError_(path, f"unknown coordinate reference system {src_crs!r}") from None
    present = [x for x in geoms if x is not None]
    if not geographic or not present:
        return
    x0, y0, x1, y1 = shapely.total_bounds(np.array(present, dtype=object))
    if x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
        hint = (" They look like British National Grid metres (EPSG:27700)."
                if 0 <= x0 and x1 <= 700_000 and 0 <= y0 and y1 <= 1_300_000 else "")
        raise ImportError_(path, f"the coordinates ({x0:,.0f}, {y0:,.0f}) .. ({x1:,.0f}, {y1:,.0f}) are not "
                                 f"longitude/latitude, yet the file declares {src_crs} (a GeoJSON file is "
                                 f"always WGS84 longitude/latitude).{hint} Re-save the file with its real "
                                 "coordinate reference system (e.g. as a GeoPackage) and import that")


def _polygonal(g):
    if g is None or shapely.is_empty(g):
        return None
    if not shapely.is_valid(g):
        g = shapely.make_valid(g)
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    flat = [q for p in parts for q in shapely.get_parts(p)]
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else shapely.MultiPolygon(flat)


def _gdal_msg(exc: Exception) -> str:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    return msg[:300]


def overlay_units(atlas, geoms: np.ndarray, groups: np.ndarray, n_groups: int,
                  progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's group covering most of its area, and that group's share of the unit.

    ``geoms`` are polygons in EPSG:27700 (``None`` allowed), ``groups`` their board index.
    Returns ``(best, share)``: ``best`` -1 where nothing overlaps.
    """
    progress = progress or Progress.silent()
    units = atlas.units.geometry.to_numpy()
    n = len(units)
    valid = np.array([g is not None for g in geoms], dtype=bool)
    feat_idx = np.flatnonzero(valid)
    best = np.full(n, -1, dtype=np.int64)
    share = np.zeros(n, dtype=np.float64)
    if len(feat_idx) == 0:
        return best, share
    fgeoms = np.asarray(geoms, dtype=object)[feat_idx]
    fgroups = np.asarray(groups)[feat_idx]
    tree = shapely.STRtree(units)
    progress.step(0.05, "Finding units inside the board polygons")
    shapely.prepare(fgeoms)
    f_in, u_in = tree.query(fgeoms, predicate="contains_properly")
    unit_area = shapely.area(units)
    inside_count = np.bincount(u_in, minlength=n)
    # a unit properly inside exactly one feature is wholly on that feature's board
    sole = inside_count == 1
    sel = sole[u_in]
    best[u_in[sel]] = fgroups[f_in[sel]]
    share[u_in[sel]] = 1.0
    progress.step(0.3, "Overlaying units on the board edges")
    f_x, u_x = tree.query(fgeoms, predicate="intersects")
    todo = ~sole[u_x]
    f_x, u_x = f_x[todo], u_x[todo]
    areas = np.zeros(len(u_x))
    chunk = 2000
    for s in range(0, len(u_x), chunk):
        progress.step(0.3 + 0.65 * s / max(len(u_x), 1), f"Overlaying units ({s:,} of {len(u_x):,} pieces)")
        inter = shapely.intersection(units[u_x[s:s + chunk]], fgeoms[f_x[s:s + chunk]])
        areas[s:s + chunk] = shapely.area(inter)
    if len(u_x):
        df = pd.DataFrame({"u": u_x, "g": fgroups[f_x], "a": areas})
        agg = df.groupby(["u", "g"], sort=True)["a"].sum().reset_index()
        agg = agg[agg["a"] > 0]
        agg = agg.sort_values(["u", "a", "g"], ascending=[True, False, True], kind="stable")
        top = agg.drop_duplicates("u", keep="first")
        uu = top["u"].to_numpy()
        best[uu] = top["g"].to_numpy()
        share[uu] = np.minimum(top["a"].to_numpy() / unit_area[uu], 1.0)
    progress.step(1.0, "Overlay done")
    return best, share


def import_polygons(path: str | Path, atlas, code_field: str | None = None, name_field: str | None = None,
                    layer: str | None = None, crs: str | None = None,
                    progress: Progress | None = None) -> ImportResult:
    progress = progress or Progress.silent()
    path = Path(path)
    progress.step(0.0, f"Reading {path.name}")
    codes, names, geoms, skipped, notes, layer = read_board_polygons(path, code_field, name_field, layer, crs)
    # features sharing a code are one board
    order: dict[str, int] = {}
    boards: list[tuple[str, str]] = []
    groups = np.zeros(len(codes), dtype=np.int64)
    for i, c in enumerate(codes):
        if c not in order:
            order[c] = len(boards)
            boards.append((c, names[i]))
        groups[i] = order[c]
    if not any(g is not None for g in geoms):
        raise ImportError_(path, "no feature has a usable polygon: there are no boards to import")
    _check_boards(path, boards)
    present = [g for g in geoms if g is not None]
    ub = atlas.bounds
    fb = shapely.total_bounds(np.array(present, dtype=object))
    if fb[2] < ub[0] or fb[0] > ub[2] or fb[3] < ub[1] or fb[1] > ub[3]:
        raise ImportError_(path, "the board polygons do not overlap England at all; is the declared "
                                 "coordinate reference system right?")
    best, share = overlay_units(atlas, geoms, groups, len(boards), progress.sub(0.1, 0.9))
    report = ImportReport(source=str(path), kind=f"polygons (layer {layer})", skipped_rows=skipped,
                          warnings=notes)
    best = np.where(share >= MIN_SHARE, best, -1)
    placed = best >= 0
    report.weak = [str(c) for c in atlas.unit_codes[placed & (share < WEAK_SHARE)]]
    progress.step(0.92, "Building the plan")
    plan = build_plan(atlas, boards, best, report)
    progress.step(1.0, f"Imported {len(boards)} boards")
    return ImportResult(plan, report)


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
    data = read_input(path, "CSV file", MAX_CSV_BYTES, ImportError_)
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
    _check_file(path, MAX_CSV_BYTES)
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


# ------------------------------------------------------------------ icbmap's Excel workbook
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
    _check_file(path, MAX_IMPORT_BYTES)
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


# ------------------------------------------------------------------ dispatch
def precheck_import(path: str | Path) -> None:
    """The checks that need no data pack (file type, regular file, size), so the CLI refuses
    a bad file before loading the pack."""
    path = Path(path)
    suffix = path.suffix.lower()
    if path.name.lower().endswith(".icbmap.json"):
        raise ImportError_(path, "is an icbmap proposal; open it instead of importing it")
    if suffix in CSV_SUFFIXES:
        _check_file(path, MAX_CSV_BYTES)
    elif suffix == ".xlsx":
        _check_file(path, MAX_IMPORT_BYTES)
        _check_xlsx(path)
    elif suffix in POLYGON_SUFFIXES or suffix == ".zip":
        _check_file(path, MAX_IMPORT_BYTES)
        if suffix == ".zip":
            _check_zip(path)  # damaged, encrypted, a zip bomb: refused before the pack loads
    else:
        raise ImportError_(path, f"unknown file type {suffix or '(none)'}: import takes board polygons "
                                 "(.geojson, .gpkg, .shp), an assignment table (.csv) or icbmap's workbook (.xlsx)")


def _check_xlsx(path: Path) -> None:
    """An .xlsx is a zip: damaged, encrypted or a zip bomb is refused before it is opened."""
    import zipfile
    import zlib

    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            if sum(i.file_size for i in infos) > MAX_IMPORT_BYTES:
                raise ImportError_(path, f"unpacks to more than the {MAX_IMPORT_BYTES / 2**20:,.0f} MB import limit")
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
