"""Reading the tables of :mod:`icbmap.atlas.official`'s inputs: matching columns by their ONS /
NHS spellings, checking a file before it is read (there, a regular file, within its size limit),
finding the header row and reading a CSV or spreadsheet with codes kept as text, and the code
checks (English, 2021 LSOAs, no blanks or duplicates) every reader shares.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from icbmap.atlas.lsoa_vintage import classify
from icbmap.errors import DataError
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
