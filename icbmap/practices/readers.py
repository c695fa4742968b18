"""Readers for the GP practice files planners download from NHS Digital / NHS England.

* ``gp-reg-pat-prac-all.csv`` ("Patients Registered at a GP Practice", practice totals):
  one row per practice with ``SEX == AGE == "ALL"``; :func:`read_practice_totals`.
* ``gp-reg-pat-prac-map.csv`` (practice -> PCN -> sub-ICB location -> ICB -> region):
  :func:`read_practice_map`.
* ``gp-reg-pat-prac-lsoa-all.csv`` (patients of each practice by LSOA of residence, 2011 or
  2021 LSOA codes): :func:`read_practice_lsoa`.

Headers change between releases (``CCG_CODE`` became ``SUB_ICB_LOCATION_CODE``; case,
spacing and extra columns vary; ``EXTRACT_DATE`` is ``01Jul2023``, ``2023-07-01`` or
``01/07/2023``), so headers are matched after normalising (upper case, runs of anything but
letters and digits -> ``_``) against a list of aliases.  What is wrong is reported
precisely: a missing required column, a count that is not a whole number, conflicting
duplicate practices or a file that is not a CSV raise :class:`~icbmap.errors.DataError`
naming the file; things that were tolerated (rows of sex/age breakdowns dropped, identical
duplicates dropped, blank lines, odd practice codes, several extract dates) are returned
as ``warnings``.

Qt-free and atlas-free: these functions only read files.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from icbmap.errors import DataError
from icbmap.safeio import MB, read_input, size_text

#: canonical name -> accepted (normalised) headers, in order of preference
TOTALS_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("CODE", "PRACTICE_CODE", "ORG_CODE", "GP_PRACTICE_CODE"),
    "postcode": ("POSTCODE", "PRACTICE_POSTCODE", "POST_CODE"),
    "patients": ("NUMBER_OF_PATIENTS", "NUMBER_OF_PATIENTS_REGISTERED", "PATIENTS",
                 "TOTAL_PATIENTS", "TOTAL_ALL", "REGISTERED_PATIENTS"),
    "sub_icb_ons": ("ONS_SUB_ICB_LOCATION_CODE", "ONS_SUB_ICB_LOC_CODE", "ONS_SUB_ICB_CODE",
                    "ONS_SICBL_CODE", "ONS_LOC_CODE", "ONS_CCG_CODE"),
    "sub_icb_nhs": ("SUB_ICB_LOCATION_CODE", "SUB_ICB_LOC_CODE", "SUB_ICB_CODE", "SICBL_CODE",
                    "LOC_CODE", "CCG_CODE"),
    "extract_date": ("EXTRACT_DATE", "EXTRACTDATE", "DATE"),
    "publication": ("PUBLICATION",),
    "type": ("TYPE", "ORG_TYPE"),
    "sex": ("SEX", "GENDER"),
    "age": ("AGE", "AGE_BAND", "AGE_GROUP"),
    "name": ("PRACTICE_NAME", "NAME"),
}
#: Largest practice file (or ZIP member) read; the patients-by-LSOA file is about 60 MB.
MAX_FILE_BYTES = 256 * MB

TOTALS_REQUIRED = ("code", "postcode", "patients")

MAP_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("PRACTICE_CODE", "CODE", "ORG_CODE"),
    "name": ("PRACTICE_NAME", "NAME"),
    "postcode": ("PRACTICE_POSTCODE", "POSTCODE"),
    "pcn_code": ("PCN_CODE",),
    "pcn_name": ("PCN_NAME",),
    "sub_icb_ons": TOTALS_COLUMNS["sub_icb_ons"],
    "sub_icb_nhs": TOTALS_COLUMNS["sub_icb_nhs"],
    "icb_ons": ("ONS_ICB_CODE", "ONS_STP_CODE"),
    "icb_nhs": ("ICB_CODE", "STP_CODE"),
    "region_ons": ("ONS_COMM_REGION_CODE", "ONS_REGION_CODE", "ONS_NHSER_CODE"),
    "extract_date": TOTALS_COLUMNS["extract_date"],
}
MAP_REQUIRED = ("code", "pcn_code")

LSOA_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("PRACTICE_CODE", "CODE", "ORG_CODE"),
    "lsoa": ("LSOA_CODE", "LSOA21_CODE", "LSOA21CD", "LSOA11_CODE", "LSOA11CD", "LSOA_2021_CODE",
             "LSOA_2011_CODE", "LSOA"),
    "patients": ("NUMBER_OF_PATIENTS", "PATIENTS", "NUMBER_OF_PATIENTS_REGISTERED"),
    "sex": ("SEX", "GENDER"),
    "age": ("AGE",),
    "extract_date": TOTALS_COLUMNS["extract_date"],
}
LSOA_REQUIRED = ("code", "lsoa", "patients")

PRACTICE_CODE_RE = re.compile(r"^[A-Z][0-9]{5}$")
ALL_VALUES = {"ALL", "PERSONS", "TOTAL"}

_MONTHS = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}


@dataclass
class Table:
    """What a reader returns: the normalised ``table``, where it came from and what was
    tolerated on the way (``warnings``), plus the file's extract date (ISO, or ``""``)."""

    path: Path
    table: pd.DataFrame
    extract_date: str = ""
    warnings: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> header in the file

    def __len__(self) -> int:
        return len(self.table)


# ---------------------------------------------------------------- headers and dates
def normalise_header(name: object) -> str:
    """``" Practice code "`` -> ``"PRACTICE_CODE"``; strips a byte-order mark and quotes."""
    text = str(name).replace("\ufeff", "").strip().strip('"\'').upper()
    return re.sub(r"[^A-Z0-9]+", "_", text).strip("_")


def normalise_postcode(value: object) -> str:
    """Postcode key: all whitespace removed, upper case (``"ne65 7uw"`` -> ``"NE657UW"``)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return re.sub(r"\s+", "", str(value)).upper()


def parse_extract_date(text: object) -> date | None:
    """``01Jul2023``, ``01-JUL-2023``, ``1 July 2023``, ``2023-07-01``, ``01/07/2023``
    (day first, as NHS files are British), ``20230701``; ``None`` if not a date."""
    s = str(text).strip()
    if not s:
        return None
    s = re.sub(r"[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?Z?$", "", s).strip()  # a time part
    m = re.fullmatch(r"(\d{1,2})[\s\-/.]?([A-Za-z]{3,9})[\s\-/.,]*(\d{2}|\d{4})", s)
    if m:
        mon = _MONTHS.get(m.group(2)[:3].upper())
        year = int(m.group(3))
        year = year + 2000 if year < 100 else year
        if mon:
            return _date(year, mon, int(m.group(1)))
        return None
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", s)
    if m:
        return _date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})", s)
    if m:
        year = int(m.group(3))
        year = year + 2000 if year < 100 else year
        return _date(year, int(m.group(2)), int(m.group(1)))
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", s)
    if m:
        return _date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return None


def _date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def human_date(iso: str) -> str:
    """``"2023-07-01"`` -> ``"1 July 2023"`` (anything else is returned unchanged)."""
    try:
        d = datetime.strptime(iso, "%Y-%m-%d").date()
    except (TypeError, ValueError):
        return iso
    return f"{d.day} {d.strftime('%B')} {d.year}"


# ---------------------------------------------------------------- raw CSV
def _open_text(path: Path) -> str:
    """The file's text: plain CSV, or the single CSV inside a ZIP (NHS Digital ships zips)."""
    raw = read_input(path, "CSV file", MAX_FILE_BYTES)
    if raw[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                names = [n for n in zf.namelist() if n.lower().endswith(".csv")]
                if len(names) != 1:
                    raise DataError(path, f"a ZIP archive holding {len(names)} CSV files; "
                                          "unzip it and give the CSV file instead")
                info = zf.getinfo(names[0])
                if info.file_size > MAX_FILE_BYTES:
                    raise DataError(path, f"{names[0]} in the ZIP archive expands to "
                                          f"{size_text(info.file_size)}, more than the "
                                          f"{size_text(MAX_FILE_BYTES)} limit for a CSV file")
                with zf.open(info) as member:
                    raw = member.read(MAX_FILE_BYTES + 1)  # the header's size may lie
                if len(raw) > MAX_FILE_BYTES:
                    raise DataError(path, f"{names[0]} in the ZIP archive expands to more than "
                                          f"the {size_text(MAX_FILE_BYTES)} limit for a CSV file")
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError) as exc:
            raise DataError(path, f"a damaged ZIP archive ({exc})") from exc
    if not raw.strip():
        raise DataError(path, "the file is empty")
    if b"\x00" in raw[:65536]:
        raise DataError(path, "not a CSV file (binary content)")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataError(path, "not a text CSV file (unknown character encoding)")  # pragma: no cover


def _read_csv(path: Path, spec: dict[str, tuple[str, ...]], required: tuple[str, ...],
              what: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read ``path`` as strings and rename the columns found to their canonical names."""
    path = Path(path)
    text = _open_text(path)
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    sep = ","
    if "," not in first:  # tab- or semicolon-separated exports of the same file
        sep = "\t" if "\t" in first else ";" if ";" in first else ","
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                         skipinitialspace=True, sep=sep)
    except pd.errors.EmptyDataError as exc:
        raise DataError(path, "the file is empty") from exc
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(path, f"not a readable CSV file ({exc.__class__.__name__}: "
                              f"{str(exc).strip().splitlines()[0]})") from exc
    headers = {normalise_header(c): c for c in reversed(list(df.columns))}
    found: dict[str, str] = {}
    for canon, aliases in spec.items():
        for alias in aliases:
            if alias in headers:
                found[canon] = headers[alias]
                break
    missing = [c for c in required if c not in found]
    if missing:
        want = ", ".join(spec[c][0] for c in missing)
        seen = ", ".join(map(str, list(df.columns)[:12])) or "nothing"
        raise DataError(path, f"not {what}: missing column(s) {want}; the header has {seen}")
    out = pd.DataFrame({canon: df[col].astype(str).str.strip() for canon, col in found.items()})
    return out, found


def _extract_date(path: Path, df: pd.DataFrame, warnings: list[str]) -> str:
    if "extract_date" not in df.columns:
        return ""
    raw_values = [v for v in pd.unique(df["extract_date"]) if v]
    parsed = {v: parse_extract_date(v) for v in raw_values}
    bad = [v for v, d in parsed.items() if d is None]
    if bad:
        warnings.append(f"EXTRACT_DATE value(s) not understood as a date: {', '.join(map(repr, bad[:3]))}")
    dates = sorted({d for d in parsed.values() if d is not None})
    if not dates:
        return bad[0] if bad else ""
    if len(dates) > 1:
        warnings.append(f"{len(dates)} different extract dates ({dates[0].isoformat()} to "
                        f"{dates[-1].isoformat()}); using the latest")
    return dates[-1].isoformat()


def _drop_blank(df: pd.DataFrame, warnings: list[str], what: str = "practice code") -> pd.DataFrame:
    blank = df["code"] == ""
    if blank.any():
        all_blank = (df.loc[blank] == "").all(axis=1)
        n_lines = int(all_blank.sum())
        n_rows = int(blank.sum()) - n_lines
        if n_rows:
            warnings.append(f"ignored {n_rows} row(s) without a {what}")
        df = df.loc[~blank]
    return df


def _keep_totals(path: Path, df: pd.DataFrame, warnings: list[str], what: str) -> pd.DataFrame:
    """Keep rows that are totals over sex and age (``ALL``); say what was dropped."""
    keep = pd.Series(True, index=df.index)
    for col in ("sex", "age"):
        if col in df.columns:
            v = df[col].str.upper()
            keep &= v.isin(ALL_VALUES) | (v == "")
    if not keep.any():
        raise DataError(path, f"no {what} rows with SEX and AGE equal to ALL: this looks like a "
                              "breakdown by sex or age; use the practice totals file "
                              "(gp-reg-pat-prac-all.csv)")
    dropped = int((~keep).sum())
    if dropped:
        warnings.append(f"ignored {dropped:,} row(s) of sex/age breakdowns (kept the ALL/ALL totals)")
    return df.loc[keep]


# ---------------------------------------------------------------- the three files
def read_practice_totals(path: str | Path) -> Table:
    """Registered patients per practice (``gp-reg-pat-prac-all.csv`` and its older layouts).

    ``table`` columns: ``code, postcode, patients`` (int64), ``sub_icb_ons``,
    ``sub_icb_nhs`` (``""`` when the file has none), ``name`` (``""``; the totals file has
    no names, the map file does) and ``row`` (the CSV line number), one row per practice.
    """
    path = Path(path)
    warnings: list[str] = []
    df, found = _read_csv(path, TOTALS_COLUMNS, TOTALS_REQUIRED,
                          "a GP practice registrations file (gp-reg-pat-prac-all.csv)")
    df["row"] = np.arange(2, len(df) + 2)
    df = _drop_blank(df, warnings)
    if df.empty:
        raise DataError(path, "no practice rows")
    if "type" in df.columns:
        t = df["type"].str.upper()
        other = ~t.isin({"GP", "PRACTICE", "GP_PRACTICE", ""})
        if other.all():
            raise DataError(path, f"no GP practice rows (TYPE is {', '.join(sorted(set(df['type']))[:5])})")
        if other.any():
            kinds = ", ".join(sorted(set(df.loc[other, "type"]))[:5])
            warnings.append(f"ignored {int(other.sum()):,} aggregate row(s) of TYPE {kinds}")
            df = df.loc[~other]
    df = _keep_totals(path, df, warnings, "practice total")
    df = df.copy()
    df["code"] = df["code"].str.upper()
    df["patients"] = _counts_rows(path, df, found["patients"])
    extract = _extract_date(path, df, warnings)

    dup = df["code"].duplicated(keep=False)
    if dup.any():
        groups = df.loc[dup].groupby("code")
        conflicting = [c for c, g in groups if g[["postcode", "patients"]].drop_duplicates().shape[0] > 1]
        if conflicting:
            raise DataError(path, f"{len(conflicting)} practice(s) appear more than once with different "
                                  f"figures, e.g. {', '.join(conflicting[:5])} (several extracts in one file?)")
        warnings.append(f"{int(df['code'].duplicated().sum())} duplicated practice row(s) ignored, e.g. "
                        f"{', '.join(df.loc[df['code'].duplicated(), 'code'].iloc[:3])}")
        df = df.drop_duplicates("code")
    odd = ~df["code"].str.match(PRACTICE_CODE_RE)
    if odd.any():
        warnings.append(f"{int(odd.sum())} practice code(s) not in the usual ODS form (letter + 5 digits), "
                        f"e.g. {', '.join(df.loc[odd, 'code'].iloc[:3])}; kept")
    for col in ("sub_icb_ons", "sub_icb_nhs", "name"):
        if col not in df.columns:
            df[col] = ""
    df["sub_icb_ons"] = df["sub_icb_ons"].str.upper()
    df["sub_icb_nhs"] = df["sub_icb_nhs"].str.upper()
    table = df[["code", "postcode", "patients", "sub_icb_ons", "sub_icb_nhs", "name", "row"]]
    return Table(path, table.reset_index(drop=True), extract, warnings, found)


def _counts_rows(path: Path, df: pd.DataFrame, column: str) -> np.ndarray:
    """Counts with errors quoting the CSV line numbers kept in ``df['row']``."""
    cleaned = df["patients"].str.replace(r"[,\s]", "", regex=True)
    num = pd.to_numeric(cleaned, errors="coerce")
    bad = (num.isna() | (num < 0) | (num != np.floor(num))).to_numpy()
    if bad.any():
        rows = df["row"].to_numpy()[bad]
        vals = df["patients"].to_numpy()[bad]
        examples = ", ".join(f"line {r}: {v!r}" for r, v in zip(rows[:3], vals[:3]))
        raise DataError(path, f"{int(bad.sum())} value(s) of {column} are not whole numbers of "
                              f"patients ({examples})")
    return num.to_numpy(dtype=np.float64).astype(np.int64)


def read_practice_map(path: str | Path) -> Table:
    """Practice -> PCN -> sub-ICB location -> ICB map (``gp-reg-pat-prac-map.csv``).

    ``table`` columns: ``code, name, postcode, pcn_code, pcn_name, sub_icb_ons, sub_icb_nhs,
    icb_ons, icb_nhs, region_ons`` (``""`` where the file has no such column), one row
    per practice.
    """
    path = Path(path)
    warnings: list[str] = []
    df, found = _read_csv(path, MAP_COLUMNS, MAP_REQUIRED,
                          "a GP practice to PCN map (gp-reg-pat-prac-map.csv)")
    df = _drop_blank(df, warnings)
    if df.empty:
        raise DataError(path, "no practice rows")
    df = df.copy()
    df["code"] = df["code"].str.upper()
    extract = _extract_date(path, df, warnings)
    if "pcn_name" not in df.columns:
        warnings.append("no PCN_NAME column: PCN names left blank")
    for col in MAP_COLUMNS:
        if col not in df.columns:
            df[col] = ""
    for col in ("pcn_code", "sub_icb_ons", "sub_icb_nhs", "icb_ons", "icb_nhs", "region_ons"):
        df[col] = df[col].str.upper()
    dup = df["code"].duplicated()
    if dup.any():
        conflicting = sorted(set(df.loc[dup, "code"]))
        warnings.append(f"{int(dup.sum())} practice(s) listed more than once, first row kept, e.g. "
                        f"{', '.join(conflicting[:3])}")
        df = df.drop_duplicates("code")
    cols = ["code", "name", "postcode", "pcn_code", "pcn_name", "sub_icb_ons", "sub_icb_nhs",
            "icb_ons", "icb_nhs", "region_ons"]
    return Table(path, df[cols].reset_index(drop=True), extract, warnings, found)


def read_practice_lsoa(path: str | Path) -> Table:
    """Patients of each practice by LSOA of residence (``gp-reg-pat-prac-lsoa-all.csv``).

    ``table`` columns: ``code`` (practice), ``lsoa`` (as given: 2011 or 2021 codes, or
    placeholders such as ``NO2011`` for patients without one), ``patients`` (int64); rows of
    the same practice and LSOA are summed.  ``columns['lsoa_vintage']`` says which LSOA
    codes the header names (``2011``, ``2021`` or ``""`` when it does not say).
    """
    path = Path(path)
    warnings: list[str] = []
    df, found = _read_csv(path, LSOA_COLUMNS, LSOA_REQUIRED,
                          "a GP practice by LSOA file (gp-reg-pat-prac-lsoa-all.csv)")
    df["row"] = np.arange(2, len(df) + 2)
    df = _drop_blank(df, warnings)
    if df.empty:
        raise DataError(path, "no practice rows")
    df = df.copy()
    if "sex" in df.columns and not df["sex"].str.upper().isin(ALL_VALUES | {""}).any():
        # a male/female split without totals: the sum over sexes is the total
        warnings.append("no SEX = ALL rows: summed the rows of each sex")
        df["sex"] = "ALL"
    df = _keep_totals(path, df, warnings, "practice by LSOA")
    df = df.copy()
    df["code"] = df["code"].str.upper()
    df["lsoa"] = df["lsoa"].str.upper()
    df["patients"] = _counts_rows(path, df, found["patients"])
    extract = _extract_date(path, df, warnings)
    n_rows = len(df)
    out = df.groupby(["code", "lsoa"], sort=True, as_index=False)["patients"].sum()
    if len(out) < n_rows:
        warnings.append(f"{n_rows - len(out):,} repeated practice/LSOA row(s) summed")
    header = normalise_header(found["lsoa"])
    vintage = "2021" if "21" in header else "2011" if "11" in header else ""
    found = dict(found, lsoa_vintage=vintage)
    return Table(path, out, extract, warnings, found)


__all__ = [
    "Table", "human_date", "normalise_header", "normalise_postcode", "parse_extract_date",
    "read_practice_lsoa", "read_practice_map", "read_practice_totals",
]
