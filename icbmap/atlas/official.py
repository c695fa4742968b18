"""Build a named data pack from official ONS / NHS files (``icbmap data import``).

Inputs, in the shapes ONS and NHS England publish them:

* LSOA (December 2021) boundaries: GeoJSON, GeoPackage, shapefile (or a zipped shapefile)
  in any CRS; reprojected to British National Grid (EPSG:27700); English LSOAs (``E01``)
  only;
* LSOA (2021) -> sub-ICB location -> ICB lookup (CSV);
* LSOA (2021) -> local authority district lookup (CSV; 2024 district codes are recoded to
  2025 through ``shapefiles/lad_recodes.csv``);
* optionally, Census 2021 usual residents by LSOA (CSV, Nomis TS001 layout with its
  footnotes, or any table with an LSOA code and a count column).

Column names are matched case-insensitively, in the Open Geography Portal spelling
(``LSOA21CD``, ``SICBL26CD``, ``ICB26CD``, ``NHSER26CD``, ``LAD26CD`` ... with any two-digit
year) or the ``snake_case`` spelling of redistributed copies (``lsoa21_code``,
``sicbl24_code``, ``icb24_code``, ``ltla24_code`` ...).

The board lookup may be of any year (see ``docs/data.md``): a board code a bundled
configuration knows takes its name and NHS region from ``shapefiles/configurations/``; a
code ONS recoded is matched through its NHS code; any other code becomes a board named from
the file and placed in the NHS region the file gives it (else the one region of the boards
its LSOAs lay in).  Files of 2011 LSOA codes, or mixing 2011 and 2021 codes, are recognised
(:mod:`icbmap.atlas.lsoa_vintage`) and refused saying so.

Everything is reduced to one :class:`~icbmap.atlas.build.UnitSource` and handed to
:func:`~icbmap.atlas.build.assemble`, the same builder the offline pack uses (repair,
dissolves, adjacency, hash).  Every problem with an input is one
:class:`~icbmap.errors.DataError` naming the file and the problem, raised before anything is
written; the pack itself is written atomically, so a failed import leaves an earlier pack of
the same name as it was.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS as ProjCRS

from icbmap.atlas import store
from icbmap.atlas.build import BOARD_COLUMNS, UnitSource, assemble, configuration_arrays
from icbmap.atlas.facts import LAD_FILE, Facts
from icbmap.atlas.lsoa_vintage import classify
from icbmap.atlas.model import CRS, NHS_ATTRIBUTION, ONS_ATTRIBUTION, Atlas, Provenance
from icbmap.errors import DataError
from icbmap.progress import Progress
from icbmap.safeio import GB, MB, check_input, check_zip, open_input

POPULATION_BASIS = "Census 2021 usual residents (ONS TS001, by LSOA)"

#: File types accepted as boundaries.
BOUNDARY_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb")
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xls", ".xlsx", ".ods")

#: British National Grid box around England (Isles of Scilly to Berwick, with a margin).
ENGLAND_BNG = (0.0, 0.0, 700_000.0, 700_000.0)
#: Longitude/latitude box around England, with a margin.
ENGLAND_LONLAT = (-10.0, 48.0, 5.0, 62.0)

LSOA_RE = re.compile(r"^[EWSN]0[01]\d{6}$")
GSS_RE = re.compile(r"^[EWSNK]\d{8}$")  # any ONS (GSS) area code
ENGLISH_LSOA = "E01"
#: Size limits for the input files (the real ones are 1-10 MB tables and a boundary file of
#: 14 MB generalised to about 700 MB at full resolution), so a huge or sparse file is refused
#: before it is read.
MAX_TABLE_BYTES = 256 * MB
MAX_BOUNDARY_BYTES = 2 * GB
HEADER_LINE_CHARS = 1 * MB

MONTHS = {"22": "July 2022"}  # ICB / SICBL vintages; other years are April releases


# ----------------------------------------------------------------------------- columns
def _norm(name: object) -> str:
    return re.sub(r"\s+", " ", str(name).replace("\ufeff", "").strip().lower())


#: (kind, role) -> regular expression on the normalised column name; group "y" is the year.
PATTERNS: dict[tuple[str, str], str] = {
    ("lsoa", "code"): r"lsoa(?P<y>21)_?(code|cd)",
    ("lsoa", "name"): r"lsoa(?P<y>21)_?(name|nm)",
    ("sicbl", "code"): r"(sicbl|loc)(?P<y>\d\d)_?(code|cd)",
    ("sicbl", "name"): r"(sicbl|loc)(?P<y>\d\d)_?(name|nm)",
    ("icb", "code"): r"icb(?P<y>\d\d)_?(code|cd)",
    ("icb", "name"): r"icb(?P<y>\d\d)_?(name|nm)",
    ("icb", "nhs"): r"icb(?P<y>\d\d)_?(code_nhs|cdh)",
    ("lad", "code"): r"(lad|ltla)(?P<y>\d\d)_?(code|cd)",
    ("lad", "name"): r"(lad|ltla)(?P<y>\d\d)_?(name|nm)",
    ("nhser", "code"): r"nhser(?P<y>\d\d)_?(code|cd)",
    ("nhser", "name"): r"nhser(?P<y>\d\d)_?(name|nm)",
}

#: What to tell the user we accept, per (kind, role).
SPELLINGS = {
    ("lsoa", "code"): "LSOA21CD or lsoa21_code",
    ("lsoa", "name"): "LSOA21NM or lsoa21_name",
    ("sicbl", "code"): "SICBL24CD or sicbl24_code (any year; LOC22CD)",
    ("icb", "code"): "ICB24CD or icb24_code (any year)",
    ("lad", "code"): "LAD24CD, LTLA24CD or ltla24_code (any year)",
    ("nhser", "code"): "NHSER26CD or nhser26_code (any year)",
}

#: Extra exact names for the population table (Nomis downloads).
POP_CODE_NAMES = ("lsoa21cd", "lsoa21_code", "lsoa 2021 code", "lsoa code", "geography code",
                  "geography_code", "mnemonic")
POP_NAME_NAMES = ("lsoa21nm", "lsoa21_name", "2021 super output area - lower layer", "geography",
                  "geography_name", "lower layer super output areas")
POP_VALUE_NAMES = ("2021", "population", "usual residents", "all usual residents", "observation",
                   "obs_value", "count", "value", "total", "residents")
POP_VALUE_RE = re.compile(r"(usual residents|measures: value)")
POP_CODE_RE = re.compile(r"(lower layer super output areas?|lsoa)( \(?2021\)?)? code")


@dataclass
class Column:
    name: str
    year: str | None = None


def _match(columns, kind: str, role: str) -> Column | None:
    """The column for ``(kind, role)``; with several years, the latest."""
    rx = re.compile(PATTERNS[(kind, role)])
    hits = []
    for c in columns:
        m = rx.fullmatch(_norm(c))
        if m:
            hits.append(Column(str(c), m.group("y")))
    if not hits:
        return None
    return max(hits, key=lambda h: h.year or "")


def _match_year(columns, kind: str, role: str, year: str | None) -> Column | None:
    """The column for ``(kind, role)`` of ``year`` if there is one, else the latest."""
    rx = re.compile(PATTERNS[(kind, role)])
    for c in columns:
        m = rx.fullmatch(_norm(c))
        if m and m.group("y") == year:
            return Column(str(c), year)
    return _match(columns, kind, role)


def _require(columns, kind: str, role: str, path: Path, what: str) -> Column:
    col = _match(columns, kind, role)
    if col is not None:
        return col
    if kind == "lsoa" and any(re.fullmatch(r"lsoa11_?(code|cd)", _norm(c)) for c in columns):
        raise DataError(path, f"{what} has 2011 LSOA codes (LSOA11CD); icbmap needs LSOA 2021 (LSOA21CD)")
    raise DataError(path, f"{what}: missing column for {_describe(kind, role)} "
                          f"(expected {SPELLINGS.get((kind, role), kind + ' ' + role)}); "
                          f"found {_found(columns)}")


def _describe(kind: str, role: str) -> str:
    label = {"lsoa": "the LSOA 2021", "sicbl": "the sub-ICB location", "icb": "the ICB",
             "lad": "the local authority district", "nhser": "the NHS England region"}[kind]
    return f"{label} {'code' if role == 'code' else role}"


def _found(columns) -> str:
    cols = [str(c) for c in columns]
    shown = ", ".join(cols[:14]) + (f" ... ({len(cols)} columns)" if len(cols) > 14 else "")
    return shown or "no columns"


def _examples(values, n: int = 5) -> str:
    values = list(values)
    return ", ".join(map(str, values[:n])) + (" ..." if len(values) > n else "")


# ----------------------------------------------------------------------------- files
def _existing(path, what: str, limit: int | None = None) -> Path:
    """``path`` as a Path, refused (``DataError`` naming it) unless it is there and, when it is
    not a folder, a regular file within ``limit`` bytes: a FIFO, a device or an oversized file
    is refused before anything reads it (see :mod:`icbmap.safeio`)."""
    if path is None or str(path).strip() == "":
        raise DataError(None, f"no {what} file given")
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(p, f"{what}: file not found")
    if not p.is_dir():
        error = lambda f, problem: DataError(f, f"{what}: {problem}")  # noqa: E731
        check_input(p, "file", limit, error=error)
        if limit is not None and p.suffix.lower() == ".zip":  # GDAL unpacks it: refuse a zip bomb first
            check_zip(p, limit, "file", error)
    return p


def _sniff(path: Path) -> bytes:
    try:
        with open_input(path) as fh:
            return fh.read(16)
    except OSError as exc:
        raise DataError(path, f"cannot open file ({exc.strerror or exc})") from exc


def _not_a_table(head: bytes) -> str | None:
    """Why a file that should be a CSV table is not one, from its first bytes."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        return "the file is empty"
    if stripped[:1] in (b"{", b"["):
        return "this is a JSON/GeoJSON file, not a CSV table"
    if head.startswith(b"SQLite format 3"):
        return "this is a GeoPackage/SQLite file, not a CSV table"
    if head.startswith(b"PK\x03\x04"):
        return "this is a zip archive or an Excel workbook, not a CSV table (save it as CSV)"
    if head.startswith(b"\x00\x00\x27\x0a"):
        return "this is a shapefile, not a CSV table"
    if b"\x00" in head:
        return "this is a binary file, not a CSV table"
    return None


def _header_row(path: Path, encoding: str, names: set[str], patterns: list[re.Pattern]) -> tuple[int, str]:
    """Index of the header line and the delimiter: the header is the first of the first 25
    lines with a known code column (ONS custom downloads start with title lines); the
    delimiter is a comma unless the header has tabs or semicolons and no comma."""
    with open(path, encoding=encoding, newline="") as fh:
        head: list[str] = []  # bounded: a "line" may be gigabytes of NULs
        while len(head) < 25 and sum(map(len, head)) < HEADER_LINE_CHARS:
            line = fh.readline(HEADER_LINE_CHARS)
            if not line:
                break
            head.append(line)
    for sep in (",", "\t", ";"):
        try:
            for i, row in enumerate(csv.reader(io.StringIO("".join(head)), delimiter=sep)):
                for cell in row:
                    n = _norm(cell)
                    if n in names or any(p.fullmatch(n) for p in patterns):
                        return i, sep
        except csv.Error:  # e.g. a 1 MB run of NULs: not a header line
            continue
    return 0, ","


def read_table(path, what: str, code_names: tuple[str, ...] = (),
               extra_patterns: tuple[re.Pattern, ...] = ()) -> pd.DataFrame:
    """Read a CSV lookup or population table as strings ('' for blanks)."""
    path = _existing(path, what, MAX_TABLE_BYTES)
    if path.is_dir():
        raise DataError(path, f"{what}: this is a folder, not a CSV file")
    why = _not_a_table(_sniff(path))
    if why:
        raise DataError(path, f"{what}: {why}")
    lsoa_pattern = re.compile(PATTERNS[("lsoa", "code")])
    last_exc: Exception | None = None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            skip, sep = _header_row(path, encoding, set(code_names), [lsoa_pattern] + list(extra_patterns))
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding,
                             skiprows=skip, sep=sep, skip_blank_lines=True)
        except UnicodeDecodeError as exc:
            last_exc = exc
            continue
        except MemoryError:
            raise DataError(path, f"{what}: too large to read in the memory available") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as exc:
            raise DataError(path, f"{what}: not a readable CSV file ({exc.__class__.__name__}: "
                                  f"{str(exc).strip()[:200]})") from exc
        df.columns = [str(c).replace("\ufeff", "").strip() for c in df.columns]
        return df
    raise DataError(path, f"{what}: cannot decode the text ({last_exc})")


def _clean_codes(s: pd.Series) -> pd.Series:
    return s.fillna("").astype(str).str.strip().str.upper()


def _dedupe(df: pd.DataFrame, path: Path, what: str) -> pd.DataFrame:
    """One row per LSOA: identical repeats are dropped, conflicting ones are an error."""
    df = df.drop_duplicates()
    dup = df["code"].duplicated(keep=False)
    if dup.any():
        codes = sorted(set(df.loc[dup, "code"]))
        raise DataError(path, f"{what}: {len(codes):,} LSOA code(s) appear more than once with "
                              f"different values, e.g. {_examples(codes)}")
    return df


def _blank_codes(df: pd.DataFrame, col: str, path: Path, what: str, label: str) -> None:
    blank = df[col] == ""
    if blank.any():
        raise DataError(path, f"{what}: {int(blank.sum()):,} English LSOA(s) without a {label}, "
                              f"e.g. {_examples(df.loc[blank, 'code'])}")


def _english(df: pd.DataFrame, path: Path, what: str, col: str) -> pd.DataFrame:
    out = df[df["code"].str.startswith(ENGLISH_LSOA)]
    if out.empty:
        raise DataError(path, f"{what}: no English LSOA 2021 codes (E01...) in column {col}")
    _check_vintage(out["code"], path, what, col)
    return out


def _check_vintage(codes, path: Path, what: str, col: str) -> None:
    """2011 LSOA codes, or a mix of 2011 and 2021 ones, are refused with a message saying so."""
    v = classify(codes)
    if v.vintage == "mixed":
        raise DataError(path, f"{what}: column {col} {v.mixed_message()} (icbmap data import needs "
                              "LSOA 2021 codes throughout)")
    if v.vintage == "2011":
        raise DataError(path, f"{what}: column {col} holds 2011 LSOA codes: {v.describe('2011')}, and "
                              "none of the LSOAs new in 2021; icbmap data import builds packs on LSOA "
                              "2021, so use the LSOA (2021) edition of this file")


def _vintage(year: str | None, kind: str) -> str:
    if not year:
        return "unknown vintage"
    if kind in ("sicbl", "icb"):
        return MONTHS.get(year, f"April 20{year}")
    return f"20{year}"


def _file_meta(path: Path) -> dict:
    h = hashlib.sha256()
    if path.is_file():
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        size = path.stat().st_size
    else:
        size = 0
    return {"file": path.name, "path": str(path.resolve()), "bytes": size, "sha256": h.hexdigest()[:16]}


# ----------------------------------------------------------------------------- ICB lookup
def bundled_boards(facts: Facts | None = None) -> pd.DataFrame:
    """Every board icbmap knows, one row per ONS code (:data:`BOARD_COLUMNS` plus
    ``predecessors`` and ``configuration``): the bundled configurations
    (``shapefiles/configurations/``), latest first, so a code in several takes its latest
    name; then any board of ``facts`` no configuration has."""
    from icbmap.atlas.bundle import CONFIG_DIR, read_configurations
    from icbmap.paths import shapefiles_dir

    index, configs = read_configurations(shapefiles_dir() / CONFIG_DIR)
    frames = []
    for key in reversed(list(index["key"])):
        b = configs[key]["boards"].copy()
        b["configuration"] = key
        frames.append(b)
    if facts is not None:
        f = facts.icbs.copy()
        f["predecessors"], f["configuration"] = "", ""
        frames.append(f)
    cols = BOARD_COLUMNS + ["predecessors", "configuration"]
    t = pd.concat([f[cols] for f in frames], ignore_index=True).fillna("")
    return t.drop_duplicates("icb_code", keep="first").set_index("icb_code", drop=False)


@dataclass
class IcbLookup:
    path: Path
    table: pd.DataFrame  # code, lsoa_name, place_code, place_name, board_code
    place_vintage: str
    board_vintage: str
    recoded: dict[str, str] = field(default_factory=dict)
    #: the board table of this configuration (:data:`~icbmap.atlas.build.BOARD_COLUMNS`)
    boards: pd.DataFrame | None = None
    #: boards no bundled configuration knows: code -> how they were named and placed
    new_boards: dict[str, str] = field(default_factory=dict)
    board_year: str | None = None


def _first_value(t: pd.DataFrame, col: str) -> dict[str, str]:
    """Per board code, the first non-blank value of ``col``."""
    v = t[t[col] != ""]
    return dict(zip(v.drop_duplicates("board_code")["board_code"], v.drop_duplicates("board_code")[col]))


def _regions_from_lsoas(codes: set[str]) -> list[tuple[str, str, str, list[str], list[str]]]:
    """Per bundled configuration (latest first): (key, vintage, region code or "", the region
    codes, the boards) of the boards ``codes`` (LSOAs) lie in."""
    from icbmap.atlas.bundle import CONFIG_DIR, LSOA_FILE, configuration_units, read_configurations
    from icbmap.paths import shapefiles_dir

    folder = shapefiles_dir()
    lsoa = pd.read_csv(folder / LSOA_FILE, dtype=str, keep_default_na=False)
    lsoa = lsoa[lsoa["code"].isin(codes)].reset_index(drop=True)
    if lsoa.empty:
        return []
    index, configs = read_configurations(folder / CONFIG_DIR)
    vintages = dict(zip(index["key"], index["vintage"]))
    out = []
    for key in reversed(list(index["key"])):
        boards = sorted(set(configuration_units(lsoa, configs[key])["board_code"]))
        region = configs[key]["boards"].set_index("icb_code")["nhs_region_code"]
        regions = sorted({region[b] for b in boards if b in region.index})
        out.append((key, vintages[key], regions[0] if len(regions) == 1 else "", regions, boards))
    return out


def _resolve_boards(t: pd.DataFrame, path: Path, what: str, board: Column, board_name: Column | None,
                    nhser: Column | None, facts: Facts) -> tuple[pd.DataFrame, dict, dict]:
    """The board table of the file's configuration; ``t.board_code`` is recoded in place.

    A code a bundled configuration knows takes its name and NHS region from there.  An
    unknown code whose NHS code (``ICB..CDH``) is that of a known board is that board,
    recoded (ONS recodes boards whose boundary changes).  Any other code is a new board,
    named from the file and placed in the region the file gives it, else in the one region
    its LSOAs' boards lay in in a bundled configuration; a new board without a name, or
    without a region either way, is an error.
    """
    known = bundled_boards(facts)
    file_codes = set(t["board_code"])
    by_nhs: dict[str, str] = {}
    for code, nhs in zip(known["icb_code"], known["icb_code_nhs"].str.upper()):
        by_nhs.setdefault(nhs, code)  # latest configuration first
    nhs_of = {c: set(t.loc[t["board_code"] == c, "board_nhs"]) - {""} for c in sorted(file_codes - set(known.index))}
    recoded: dict[str, str] = {}
    for code, nhs in nhs_of.items():
        target = by_nhs.get(next(iter(nhs))) if len(nhs) == 1 else None
        if target in known.index and target not in file_codes and target not in recoded.values():
            recoded[code] = target
    if recoded:
        t["board_code"] = t["board_code"].map(lambda c: recoded.get(c, c))
    new = sorted(set(t["board_code"]) - set(known.index))

    names = _first_value(t, "board_name") if board_name else {}
    unnamed = [c for c in new if not names.get(c)]
    if unnamed:
        where = (f"no name for them in column {board_name.name}" if board_name else
                 f"no board name column (ICB{board.year or '26'}NM) to name them")
        raise DataError(path, f"{what}: {len(unnamed)} board code(s) in column {board.name} that no bundled "
                              f"configuration knows, e.g. {_examples(unnamed)}, and {where}; icbmap knows the "
                              "boards of the July 2022, April 2024 and April 2026 configurations "
                              "(shapefiles/configurations/) and names any other board from the file")
    named = t[(t["region_code"] != "") & (t["region_name"] != "")].drop_duplicates("region_code") \
        if nhser else t.iloc[:0]
    # bundled region names first, so a region keeps one name whichever boards it holds
    region_names = {**dict(zip(named["region_code"], named["region_name"])),
                    **dict(zip(known["nhs_region_code"], known["nhs_region_name"]))}
    if nhser:
        # a board in two NHS regions is refused, known or new, as for any configuration table
        pairs = t.loc[t["region_code"] != "", ["board_code", "region_code"]].drop_duplicates()
        bare = sorted(set(t["board_code"]) - set(pairs["board_code"]))
        check = pd.DataFrame({
            "icb_code": list(pairs["board_code"]) + bare, "icb_code_nhs": "",
            "icb_name": list(pairs["board_code"]) + bare,
            "nhs_region_code": list(pairs["region_code"]) + [""] * len(bare), "nhs_region_name": ""})
        configuration_arrays(t["place_code"], t["place_name"], t["board_code"], check,
                             fail=lambda col, problem: DataError(path, f"{what}: {problem} "
                                                                       f"(columns {board.name}, {nhser.name})"))
    file_region = _first_value(t, "region_code") if nhser else {}
    nhs_codes = _first_value(t, "board_nhs")

    rows, notes = [], {}
    for code in sorted(set(t["board_code"])):
        if code in known.index:
            rows.append(known.loc[code, BOARD_COLUMNS].to_dict())
            continue
        region = file_region.get(code, "")
        if region:
            how = f"NHS region {region} from column {nhser.name}"
        else:
            members = set(t.loc[t["board_code"] == code, "code"])
            tried = _regions_from_lsoas(members)
            hit = next((x for x in tried if x[2]), None)
            if hit is None:
                seen = "; ".join(f"{v}: {', '.join(r)}" for _k, v, _r, r, _b in tried if r) or "none"
                raise DataError(path, f"{what}: new board {code} ({names[code]}) has no NHS region: the file "
                                      f"gives none (no NHS region column such as NHSER{board.year or '26'}CD"
                                      f"{' or a blank one' if nhser else ''}) and its LSOAs do not lie in the "
                                      f"boards of one region in any bundled configuration (regions {seen}); "
                                      "add the NHS region columns (code and name)")
            region = hit[2]
            how = (f"NHS region {region} from its LSOAs' {hit[1]} boards "
                   f"({', '.join(hit[4])})")
        rows.append({"icb_code": code, "icb_code_nhs": nhs_codes.get(code, ""), "icb_name": names[code],
                     "nhs_region_code": region, "nhs_region_name": region_names.get(region) or region})
        notes[code] = f"{code} {names[code]} ({how})"
    return pd.DataFrame(rows, columns=BOARD_COLUMNS), recoded, notes


def read_icb_lookup(path, facts: Facts) -> IcbLookup:
    what = "LSOA to sub-ICB location to ICB lookup"
    df = read_table(path, what)
    path = Path(path).expanduser()
    cols = df.columns
    lsoa = _require(cols, "lsoa", "code", path, what)
    place = _require(cols, "sicbl", "code", path, what)
    board = _require(cols, "icb", "code", path, what)
    place_name = _match_year(cols, "sicbl", "name", place.year)
    board_name = _match_year(cols, "icb", "name", board.year)
    board_nhs = _match_year(cols, "icb", "nhs", board.year)
    nhser = _match(cols, "nhser", "code")
    nhser_name = _match_year(cols, "nhser", "name", nhser.year) if nhser else None
    lsoa_name = _match(cols, "lsoa", "name")

    def text(col):
        return df[col.name].fillna("").astype(str).str.strip() if col else ""

    t = pd.DataFrame({
        "code": _clean_codes(df[lsoa.name]),
        "lsoa_name": text(lsoa_name),
        "place_code": _clean_codes(df[place.name]),
        "place_name": text(place_name),
        "board_code": _clean_codes(df[board.name]),
        "board_nhs": _clean_codes(df[board_nhs.name]) if board_nhs else "",
        "board_name": text(board_name),
        "region_code": _clean_codes(df[nhser.name]) if nhser else "",
        "region_name": text(nhser_name),
    })
    t = _english(t, path, what, lsoa.name)
    t = _dedupe(t, path, what)
    _blank_codes(t, "place_code", path, what, f"sub-ICB location code ({place.name})")
    _blank_codes(t, "board_code", path, what, f"ICB code ({board.name})")
    t["place_name"] = t["place_name"].where(t["place_name"] != "", t["place_code"])
    t = t.reset_index(drop=True)
    boards, recoded, new = _resolve_boards(t, path, what, board, board_name, nhser, facts)
    # a sub-ICB location in two boards is refused here, naming the file
    configuration_arrays(t["place_code"], t["place_name"], t["board_code"], boards,
                         fail=lambda col, problem: DataError(path, f"{what}: {problem}"))
    keep = ["code", "lsoa_name", "place_code", "place_name", "board_code"]
    return IcbLookup(path, t[keep], _vintage(place.year, "sicbl"), _vintage(board.year, "icb"), recoded,
                     boards=boards, new_boards=new, board_year=board.year)


# ----------------------------------------------------------------------------- LAD lookup
@dataclass
class LadLookup:
    path: Path
    table: pd.DataFrame  # code, lsoa_name, lad_code (2025)
    year: str | None
    recoded: dict[str, str] = field(default_factory=dict)


def read_lad_lookup(path, facts: Facts) -> LadLookup:
    what = "LSOA to local authority district lookup"
    df = read_table(path, what)
    path = Path(path).expanduser()
    cols = df.columns
    lsoa = _require(cols, "lsoa", "code", path, what)
    lad = _require(cols, "lad", "code", path, what)
    lsoa_name = _match(cols, "lsoa", "name")
    t = pd.DataFrame({
        "code": _clean_codes(df[lsoa.name]),
        "lsoa_name": df[lsoa_name.name].str.strip() if lsoa_name else "",
        "lad_code": _clean_codes(df[lad.name]),
    })
    t = _english(t, path, what, lsoa.name)
    t = _dedupe(t, path, what)
    _blank_codes(t, "lad_code", path, what, f"district code ({lad.name})")
    new = facts.recode_lad(t["lad_code"])
    recoded = {o: n for o, n in zip(t["lad_code"], new) if o != n}
    known = set(facts.lads["lad_code"])
    unknown = sorted(set(new) - known)
    if unknown:
        raise DataError(path, f"{what}: {len(unknown)} unknown district code(s) in column {lad.name}, e.g. "
                              f"{_examples(unknown)}; icbmap knows the {len(known)} English districts of "
                              f"2025 (shapefiles/{LAD_FILE}; 2024 codes are recoded)")
    t["lad_code"] = new.to_numpy()
    return LadLookup(path, t.reset_index(drop=True), lad.year, dict(sorted(recoded.items())))


# ----------------------------------------------------------------------------- population
@dataclass
class PopulationTable:
    path: Path
    table: pd.DataFrame  # code, lsoa_name, population (int64)
    column: str


def read_population(path) -> PopulationTable:
    what = "LSOA population table"
    df = read_table(path, what, code_names=POP_CODE_NAMES, extra_patterns=(POP_CODE_RE,))
    path = Path(path).expanduser()
    cols = list(df.columns)
    norm = {c: _norm(c) for c in cols}
    code_col = _match(cols, "lsoa", "code")
    code = code_col.name if code_col else next(
        (c for c in cols if norm[c] in POP_CODE_NAMES or POP_CODE_RE.fullmatch(norm[c])), None)
    if code is None:
        raise DataError(path, f"{what}: missing column for the LSOA 2021 code (expected LSOA21CD, "
                              f"lsoa21_code or 'geography code'); found {_found(cols)}")
    value = next((c for name in POP_VALUE_NAMES for c in cols if c != code and norm[c] == name), None)
    if value is None:
        value = next((c for c in cols if c != code and POP_VALUE_RE.search(norm[c])), None)
    if value is None:
        raise DataError(path, f"{what}: missing population column (expected one named 2021, "
                              f"population, 'usual residents', observation, count or value); "
                              f"found {_found(cols)}")
    name_col = _match(cols, "lsoa", "name")
    name = name_col.name if name_col else next(
        (c for c in cols if c != code and (norm[c] in POP_NAME_NAMES or norm[c] + " code" == norm[code])), None)

    codes = _clean_codes(df[code])
    raw = df[value].fillna("").astype(str).str.strip()
    is_code = codes.str.match(LSOA_RE)
    # Nomis tables end with blank lines and footnotes: rows with neither an LSOA code nor a
    # count.  Rows of other geographies (a country total, say) are left out too.  A count
    # beside something that is not a geography code is a real problem.
    other_area = codes.str.match(GSS_RE) & ~is_code
    stray = ~is_code & ~other_area & (raw != "")
    if stray.any():
        eg = ", ".join(f"{c!r} with {v!r}" for c, v in zip(codes[stray][:3], raw[stray][:3]))
        raise DataError(path, f"{what}: {int(stray.sum()):,} row(s) with a count but no LSOA code in "
                              f"column {code}, e.g. {eg}")
    t = pd.DataFrame({"code": codes, "lsoa_name": df[name].str.strip() if name else "",
                      "raw": raw})[is_code.to_numpy()]
    t = _english(t, path, what, code)
    digits = t["raw"].str.replace(",", "", regex=False).str.replace(" ", "", regex=False)
    num = pd.to_numeric(digits, errors="coerce")
    bad = num.isna() | (num < 0) | (num != np.floor(num.fillna(0)))
    if bad.any():
        rows = t[bad.to_numpy()]
        eg = ", ".join(f"{r.code}: {r.raw!r}" for r in rows.head(3).itertuples())
        raise DataError(path, f"{what}: {int(bad.sum()):,} non-numeric or negative population value(s) "
                              f"in column {value}, e.g. {eg}")
    t["population"] = num.astype(np.int64).to_numpy()
    t = _dedupe(t[["code", "lsoa_name", "population"]], path, what)
    return PopulationTable(path, t.reset_index(drop=True), value)


# ----------------------------------------------------------------------------- boundaries
@dataclass
class Boundaries:
    path: Path
    frame: gpd.GeoDataFrame  # code, name, geometry (EPSG:27700), English only
    layer: str
    driver: str
    crs: str
    crs_note: str = ""


def _crs_label(crs) -> str:
    try:
        c = ProjCRS.from_user_input(crs)
    except Exception:
        return str(crs)[:60]
    epsg = c.to_epsg()
    return f"{c.name} (EPSG:{epsg})" if epsg else c.name


def _pick_layer(path: Path, what: str) -> str | None:
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:
        raise DataError(path, f"{what}: not a readable GeoJSON, GeoPackage or shapefile "
                              f"({exc.__class__.__name__}: {str(exc).strip()[:200]})") from exc
    if len(layers) == 0:
        raise DataError(path, f"{what}: the file holds no layers")
    if len(layers) == 1:
        return str(layers[0][0])
    polygonal = [str(n) for n, t in layers if t and "polygon" in str(t).lower()]
    for name in polygonal:
        fields = pyogrio.read_info(path, layer=name)["fields"]
        if _match(fields, "lsoa", "code"):
            return name
    if polygonal:
        return polygonal[0]
    return str(layers[0][0])


def read_boundaries(path, progress: Progress | None = None) -> Boundaries:
    progress = progress or Progress.silent()
    what = "LSOA boundaries"
    path = _existing(path, what, MAX_BOUNDARY_BYTES)
    if path.suffix.lower() == ".shp":  # GDAL opens the side files too: a FIFO there would hang it
        for side in path.parent.glob(f"{path.stem}.*"):
            _existing(side, what, MAX_BOUNDARY_BYTES)
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        raise DataError(path, f"{what}: a {suffix[1:].upper()} table is not a boundary file; "
                              f"--boundaries takes GeoJSON, GeoPackage or a shapefile "
                              f"(lookup CSVs go to --icb-lookup / --lad-lookup)")
    if path.is_file():
        head = _sniff(path)
        if suffix not in BOUNDARY_SUFFIXES and _not_a_table(head) is None and not head.startswith(b"\x00"):
            # plain text that is not JSON: a CSV/TXT table with another extension
            raise DataError(path, f"{what}: this looks like a text table, not GeoJSON, GeoPackage "
                                  "or a shapefile")
        if not head.strip():
            raise DataError(path, f"{what}: the file is empty")
    layer = _pick_layer(path, what)
    try:
        info = pyogrio.read_info(path, layer=layer)
    except Exception as exc:
        raise DataError(path, f"{what}: cannot read layer {layer!r} ({exc})") from exc
    if info.get("geometry_type") is None:
        raise DataError(path, f"{what}: layer {layer!r} has no geometry; --boundaries takes "
                              "polygons (GeoJSON, GeoPackage or shapefile)")
    fields = list(info["fields"])
    code = _require(fields, "lsoa", "code", path, what)
    name = _match(fields, "lsoa", "name")
    progress.step(0.1, f"Reading {path.name}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = pyogrio.read_dataframe(path, layer=layer, columns=[code.name] + ([name.name] if name else []))
    except Exception as exc:
        raise DataError(path, f"{what}: cannot read the features ({exc.__class__.__name__}: "
                              f"{str(exc).strip()[:200]})") from exc
    progress.step(0.6, "Checking boundaries")
    g["code"] = _clean_codes(g[code.name])
    g["name"] = g[name.name].fillna("").astype(str).str.strip() if name else ""
    g = g[g["code"].str.startswith(ENGLISH_LSOA)]
    if g.empty:
        raise DataError(path, f"{what}: no English LSOA 2021 codes (E01...) in column {code.name}")
    _check_vintage(g["code"], path, what, code.name)
    dup = g["code"].duplicated(keep=False)
    if dup.any():
        codes = sorted(set(g.loc[dup, "code"]))
        raise DataError(path, f"{what}: {len(codes):,} LSOA code(s) appear on more than one feature, "
                              f"e.g. {_examples(codes)}")
    geoms = g.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        raise DataError(path, f"{what}: {int(empty.sum()):,} LSOA(s) without a shape, "
                              f"e.g. {_examples(g.loc[empty, 'code'])}")
    types = set(shapely.get_type_id(geoms).tolist())
    if not types <= {3, 6}:  # Polygon, MultiPolygon
        kinds = sorted({str(t) for t in g.geom_type.unique()} - {"Polygon", "MultiPolygon"})
        hint = " (is this a centroid file?)" if any("Point" in k for k in kinds) else ""
        raise DataError(path, f"{what}: {', '.join(kinds)} geometries, not polygons{hint}; "
                              "--boundaries takes the LSOA boundary polygons")
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
        g[g.geometry.name] = gpd.GeoSeries(geoms, index=g.index, crs=g.crs)

    xmin, ymin, xmax, ymax = (float(v) for v in shapely.total_bounds(geoms))
    extent = f"x {xmin:,.1f} to {xmax:,.1f}, y {ymin:,.1f} to {ymax:,.1f}"
    lonlat_ok = -180 <= xmin and xmax <= 180 and -90 <= ymin and ymax <= 90
    crs_note = ""
    if g.crs is None:
        if lonlat_ok and _inside((xmin, ymin, xmax, ymax), ENGLAND_LONLAT):
            g = g.set_crs("EPSG:4326")
            crs_note = "no CRS in the file; coordinates read as longitude/latitude (WGS 84)"
        else:
            where = ("look like longitude/latitude but lie outside England" if lonlat_ok
                     else "are not longitude/latitude")
            raise DataError(path, f"{what}: the file has no coordinate reference system and its "
                                  f"coordinates ({extent}) {where}; save it with its CRS (ONS "
                                  "boundaries are usually British National Grid, EPSG:27700), "
                                  "e.g. add the shapefile's .prj file")
    declared = _crs_label(g.crs)
    if g.crs.is_geographic and not lonlat_ok:
        hint = (" (GeoJSON is read as longitude/latitude unless it names another CRS)"
                if info.get("driver") == "GeoJSON" else "")
        raise DataError(path, f"{what}: wrong CRS: the file declares {declared}, in degrees, but its "
                              f"coordinates ({extent}) are not longitude/latitude{hint}; they look "
                              "like metres, e.g. British National Grid (EPSG:27700)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = g.to_crs(CRS) if not g.crs.equals(CRS) else g
    except Exception as exc:
        raise DataError(path, f"{what}: cannot convert from {declared} to British National Grid "
                              f"({exc})") from exc
    bng = out.geometry.to_numpy()
    b = tuple(float(v) for v in shapely.total_bounds(bng))
    if not np.all(np.isfinite(b)) or not _inside(b, ENGLAND_BNG):
        shown = ("not finite" if not np.all(np.isfinite(b)) else
                 f"x {b[0]:,.0f} to {b[2]:,.0f}, y {b[1]:,.0f} to {b[3]:,.0f}")
        raise DataError(path, f"{what}: wrong CRS: read as {declared}, the LSOAs fall outside England "
                              f"on British National Grid ({shown}); the file's coordinates ({extent}) "
                              "do not match its declared CRS")
    med = float(np.median(shapely.area(bng)))
    if med < 100.0:
        raise DataError(path, f"{what}: wrong CRS: read as {declared}, the median LSOA covers only "
                              f"{med:,.2f} m\u00b2; the coordinates ({extent}) look like degrees in a "
                              "file that declares a projected CRS")
    frame = gpd.GeoDataFrame({"code": out["code"].to_numpy(), "name": out["name"].to_numpy()},
                             geometry=bng, crs=CRS)
    progress.step(1.0, f"{len(frame):,} English LSOAs read")
    return Boundaries(path, frame.reset_index(drop=True), layer, str(info.get("driver", "")),
                      declared, crs_note)


def _inside(b, box) -> bool:
    return b[0] >= box[0] and b[1] >= box[1] and b[2] <= box[2] and b[3] <= box[3]


# ----------------------------------------------------------------------------- the source
def _absent(codes: pd.Series, lookup_codes, what: str, path: Path, boundaries: Path) -> None:
    missing = codes[~codes.isin(set(lookup_codes))]
    if len(missing):
        raise DataError(path, f"{what}: {len(missing):,} English LSOA(s) of the boundaries "
                              f"({boundaries.name}) are not in this file, e.g. "
                              f"{_examples(sorted(missing))} (are both LSOA 2021?)")


@dataclass
class OfficialSource:
    """The checked inputs: the unit source for :func:`assemble`, the files read and a
    one-line description of the pack."""

    unit_source: UnitSource
    inputs: dict[str, Path]
    description: str


def official_source(name: str, boundaries, icb_lookup, lad_lookup, population=None,
                    facts: Facts | None = None, progress: Progress | None = None) -> OfficialSource:
    """Read and check the official files and reduce them to a :class:`UnitSource`."""
    progress = progress or Progress.silent()
    facts = facts or Facts.load()
    # every path first: a typo should not cost a boundary read
    for p, what in ((boundaries, "LSOA boundaries"), (icb_lookup, "LSOA to sub-ICB location to ICB lookup"),
                    (lad_lookup, "LSOA to local authority district lookup")):
        _existing(p, what)
    if population is not None:
        _existing(population, "LSOA population table")

    progress.step(0.0, "Reading the LSOA to sub-ICB location to ICB lookup")
    icb = read_icb_lookup(icb_lookup, facts)
    progress.step(0.1, "Reading the LSOA to district lookup")
    lad = read_lad_lookup(lad_lookup, facts)
    pop = None
    if population is not None:
        progress.step(0.15, "Reading the LSOA population table")
        pop = read_population(population)
    bnd = read_boundaries(boundaries, progress.sub(0.2, 0.95))
    f = bnd.frame

    progress.step(0.96, "Joining the files")
    _absent(f["code"], icb.table["code"], "LSOA to sub-ICB location to ICB lookup", icb.path, bnd.path)
    _absent(f["code"], lad.table["code"], "LSOA to local authority district lookup", lad.path, bnd.path)
    if pop is not None:
        _absent(f["code"], pop.table["code"], "LSOA population table", pop.path, bnd.path)
    n_lookup = len(icb.table)
    partial = n_lookup - int(icb.table["code"].isin(set(f["code"])).sum())
    if partial and pop is None:
        raise DataError(bnd.path, f"LSOA boundaries: the file covers {len(f):,} of the {n_lookup:,} English "
                                  f"LSOAs in the ICB lookup; without --population the district totals "
                                  "cannot be shared out over part of a district; give --population")

    it = icb.table.set_index("code")
    lt = lad.table.set_index("code")
    codes = f["code"]
    names = f["name"].to_numpy(dtype=object).copy()
    for fallback in (it["lsoa_name"], lt["lsoa_name"]) + ((pop.table.set_index("code")["lsoa_name"],) if pop else ()):
        blank = names == ""
        if not blank.any():
            break
        names[blank] = fallback.reindex(codes[blank]).fillna("").to_numpy()
    names = np.where(names == "", codes.to_numpy(dtype=object), names)

    frame = gpd.GeoDataFrame({
        "code": codes.to_numpy(dtype=object),
        "name": names,
        "lad_code": lt["lad_code"].reindex(codes).to_numpy(dtype=object),
        "place_code": it["place_code"].reindex(codes).to_numpy(dtype=object),
        "place_name": it["place_name"].reindex(codes).to_numpy(dtype=object),
        "board_code": it["board_code"].reindex(codes).to_numpy(dtype=object),
    }, geometry=f.geometry.to_numpy(), crs=CRS)
    if pop is not None:
        frame["population"] = pop.table.set_index("code")["population"].reindex(codes).to_numpy(np.int64)

    lad_vintage = f"LAD {_vintage(lad.year, 'lad')} codes"
    if lad.recoded:
        lad_vintage += " recoded to 2025"
    prov = {
        "unit": Provenance(
            source=f"ONS LSOA (December 2021) boundaries: {bnd.path.name}",
            vintage="LSOA December 2021",
            attribution=ONS_ATTRIBUTION,
            note=f"{bnd.driver}, {bnd.crs} reprojected to British National Grid"
                 + (f"; {bnd.crs_note}" if bnd.crs_note else "")
                 + (f"; covers {len(f):,} of {n_lookup:,} English LSOAs" if partial else ""),
        ),
        "place": Provenance(
            source=f"ONS LSOA (2021) to Sub-ICB Location to ICB lookup: {icb.path.name}",
            vintage=f"SICBL {icb.place_vintage}",
            attribution=NHS_ATTRIBUTION,
        ),
        "board": Provenance(
            source=f"ONS LSOA (2021) to Sub-ICB Location to ICB lookup: {icb.path.name}",
            vintage=f"ICB {icb.board_vintage}",
            attribution=NHS_ATTRIBUTION,
            note=board_note(icb),
        ),
        "district_assignment": Provenance(
            source=f"ONS LSOA (2021) to local authority district lookup: {lad.path.name}",
            vintage=lad_vintage,
            attribution=ONS_ATTRIBUTION,
            note=("recoded " + ", ".join(f"{o} \u2192 {n}" for o, n in lad.recoded.items())
                  + " (shapefiles/lad_recodes.csv)") if lad.recoded else "",
        ),
    }
    if pop is not None:
        prov["population"] = Provenance(
            source=f"ONS Census 2021 usual residents by LSOA (TS001): {pop.path.name}",
            vintage="Census 2021 (21 March 2021)",
            attribution=ONS_ATTRIBUTION,
            note=POPULATION_BASIS,
        )
    files = {
        "code": str(bnd.path), "name": str(bnd.path), "geometry": str(bnd.path),
        "lad_code": str(lad.path), "place_code": str(icb.path), "place_name": str(icb.path),
        "board_code": str(icb.path),
    }
    if pop is not None:
        files["population"] = str(pop.path)
    src = UnitSource(frame=frame, provenance=prov, files=files, name=name,
                     population_basis=POPULATION_BASIS if pop is not None else None, boards=icb.boards)
    inputs = {"boundaries": bnd.path, "icb_lookup": icb.path, "lad_lookup": lad.path}
    if pop is not None:
        inputs["population"] = pop.path
    progress.step(1.0, "Files checked")
    return OfficialSource(src, inputs, _description(icb, lad, pop, partial, len(f), n_lookup))


def board_note(icb: IcbLookup) -> str:
    """How the boards of an imported lookup were named and placed (the board provenance note)."""
    parts = [f"official: the boards as {icb.path.name} draws them"
             + ("; this replaces icbmap's derived April 2026 configuration in this pack"
                if icb.board_year == "26" else "")]
    parts.append("names and NHS regions of known boards from the bundled configurations "
                 "(shapefiles/configurations/)")
    if icb.recoded:
        parts.append("ICB codes matched by NHS code: "
                     + ", ".join(f"{o} \u2192 {n}" for o, n in sorted(icb.recoded.items())))
    if icb.new_boards:
        parts.append("boards no bundled configuration knows, named from the file: "
                     + "; ".join(icb.new_boards.values()))
    return "; ".join(parts)


def _description(icb: IcbLookup, lad: LadLookup, pop: PopulationTable | None, partial: int,
                 n: int, n_lookup: int) -> str:
    parts = ["LSOA Dec 2021", f"SICBL/ICB {icb.board_vintage}",
             f"LAD {_vintage(lad.year, 'lad')}" + (" recoded to 2025" if lad.recoded else "")]
    parts.append("Census 2021 LSOA population" if pop is not None else "population apportioned")
    text = "official ONS files: " + ", ".join(parts)
    if partial:
        text += f" (partial: {n:,} of {n_lookup:,} English LSOAs)"
    return text


# ----------------------------------------------------------------------------- entry point
def _attach_function():
    try:
        from icbmap.practices.attach import attach_practices
    except ImportError as exc:
        raise DataError(None, "GP practices cannot be imported by this version of icbmap "
                              f"(icbmap.practices.attach is not available: {exc}); import the "
                              "pack without --practices/--practice-map") from exc
    return attach_practices


def import_pack(name: str, boundaries, icb_lookup, lad_lookup, population=None,
                practices=None, practice_map=None, progress: Progress | None = None,
                facts: Facts | None = None) -> Atlas:
    """Build the pack ``name`` from official files and save it (atomically).

    Raises :class:`DataError` naming the file and the problem for any bad input, before
    anything is written; an earlier pack of the same name stays as it was.
    """
    progress = progress or Progress.silent()
    t0 = time.perf_counter()
    if name == store.OFFLINE:
        raise DataError(None, f"the name {store.OFFLINE} is kept for the offline default pack; "
                              "choose another name, e.g. ons-2024")
    target = store.pack_path(name)  # checks the name
    attach = None
    if practices is not None or practice_map is not None:
        attach = _attach_function()
        for p, what in ((practices, "GP practice registrations"), (practice_map, "GP practice map")):
            if p is not None:
                _existing(p, what)

    src = official_source(name, boundaries, icb_lookup, lad_lookup, population, facts=facts,
                          progress=progress.sub(0.0, 0.2))
    atlas = assemble(src.unit_source, facts=facts, progress=progress.sub(0.2, 0.85))
    if attach is not None:
        progress.step(0.85, "Attaching GP practices")
        result = attach(atlas, practices, practice_map, progress.sub(0.85, 0.9))
        if isinstance(result, Atlas):
            atlas = result
        elif isinstance(result, pd.DataFrame):
            atlas.practices = result
    inputs = {role: _file_meta(p) for role, p in src.inputs.items()}
    for role, p in (("practices", practices), ("practice_map", practice_map)):
        if p is not None:
            inputs[role] = _file_meta(Path(p).expanduser())
    atlas.meta["description"] = src.description
    atlas.meta["source"] = "official"
    atlas.meta["baseline_label"] = (f"{atlas.provenance['board'].vintage.removeprefix('ICB ')} boards "
                                    f"({len(atlas.layers['board'])}, official)")
    atlas.meta["inputs"] = inputs
    atlas.meta["build_seconds"] = round(time.perf_counter() - t0, 1)
    store.write_atlas(atlas, target, progress.sub(0.9, 1.0))
    return atlas


__all__ = ["bundled_boards", "OfficialSource", "POPULATION_BASIS", "import_pack", "official_source", "read_boundaries",
           "read_icb_lookup", "read_lad_lookup", "read_population", "read_table"]
