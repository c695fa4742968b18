"""NHS trusts: read the ODS trusts file, classify acute trusts, place headquarters (Qt-free).

Sources (``../shared/data/raw/trusts/SOURCES.md``, bundled result
``shapefiles/trusts_2026.csv`` made by ``shapefiles/scripts/make_trusts.py``):

* the NHS ODS "NHS Trusts" file ``etr.csv`` (no header; column 1 code, 2 name, 3 NHS region,
  4 the HQ's ICB, 10 HQ postcode, 11 open date, 12 close date).  Open English trusts are
  those with no close date (or one after the as-at date) and an NHS England region.
* NHS England A&E attendances by provider (June 2025): a trust reporting **type 1** (major,
  consultant-led 24-hour) attendances is **acute**.  Thirteen specialist acute trusts with no
  type 1 department are named by hand in SOURCES.md (``acute (specialist)``), the ten
  ambulance trusts are ``ambulance``; the rest are ``mental health, community or other``.

Each trust is placed by its **headquarters** postcode (ONS Postcode Directory, the same
look-up the GP practices use).  Headquarters are not catchments: a trust serves people far
beyond the LSOA its head office is in.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from icbmap.errors import DataError
from icbmap.safeio import check_input, open_input

#: the trusts table kept in the data folder: a few hundred rows, far below this
MAX_TABLE_BYTES = 16 << 20

ACUTE = "acute"
SPECIALIST = "acute (specialist)"
AMBULANCE = "ambulance"
OTHER = "mental health, community or other"
UNCLASSIFIED = "not classified (not in the A&E file)"
KINDS = (ACUTE, SPECIALIST, AMBULANCE, OTHER, UNCLASSIFIED)

#: specialist acute trusts without a type 1 A&E department (SOURCES.md: a manual list by name)
SPECIALIST_CODES = ("RAN", "RBQ", "RBV", "REN", "REP", "RET", "RGM", "RL1", "RP4", "RP6", "RPC", "RPY", "RRJ")
AMBULANCE_CODES = ("RRU", "RX6", "RX7", "RX8", "RX9", "RYA", "RYC", "RYD", "RYE", "RYF")
ENGLISH_REGIONS = ("Y56", "Y58", "Y59", "Y60", "Y61", "Y62", "Y63")

COLUMNS = ["code", "name", "kind", "type1_attendances", "postcode", "x", "y", "ods_region", "ods_icb",
           "open_date", "placed_by"]
POSTCODE_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?\s*[0-9][A-Z]{2}$", re.I)
MAX_BYTES = 50 * 1024 * 1024


def _read_raw(path: Path) -> pd.DataFrame:
    path = Path(path)
    try:  # opened once, as a regular file within the limit: never a FIFO or device
        with open_input(path, "trusts file", MAX_BYTES) as fh:
            return pd.read_csv(fh, header=None, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(path, f"cannot read as CSV ({exc})") from None


def read_ods_trusts(path, as_at: date | None = None) -> pd.DataFrame:
    """Open English trusts from an ODS trusts file: code, name, postcode, ods_region, ods_icb,
    open_date.  Accepts the ODS layout (no header) or a CSV with a header naming a postcode
    column (and ``code``/``Organisation Code`` and ``name`` columns)."""
    path = Path(path)
    raw = _read_raw(path)
    as_at = as_at or date.today()
    first = [str(v).strip().lower() for v in raw.iloc[0].tolist()] if len(raw) else []
    if any("postcode" in v or v == "post code" for v in first):
        df = raw.iloc[1:].copy()
        df.columns = first
        pc = next(c for c in first if "postcode" in c or c == "post code")
        code = next((c for c in first if c in ("code", "organisation code", "org code", "org_code",
                                               "organisation_code")), None)
        name = next((c for c in first if c in ("name", "organisation name", "org name", "org_name")), None)
        if code is None or name is None:
            raise DataError(path, "a header naming a postcode column also needs 'code' and 'name' columns")
        out = pd.DataFrame({"code": df[code].str.strip(), "name": df[name].str.strip(),
                            "postcode": df[pc].str.strip(),
                            "ods_region": df.get("national grouping", pd.Series("", index=df.index)),
                            "ods_icb": df.get("high level health geography", pd.Series("", index=df.index)),
                            "open_date": df.get("open date", pd.Series("", index=df.index)),
                            "close_date": df.get("close date", pd.Series("", index=df.index))})
    else:
        looks = raw[9].astype(str).str.strip().str.match(POSTCODE_RE) if raw.shape[1] >= 12 else None
        if looks is None or looks.mean() < 0.9:
            raise DataError(path, "no postcode column: expected the NHS ODS trusts file (etr.csv: no header, "
                                  "postcode in column 10) or a CSV whose header names a 'postcode' column")
        out = pd.DataFrame({"code": raw[0].str.strip(), "name": raw[1].str.strip(), "postcode": raw[9].str.strip(),
                            "ods_region": raw[2].str.strip(), "ods_icb": raw[3].str.strip(),
                            "open_date": raw[10].str.strip(), "close_date": raw[11].str.strip()})
    cutoff = as_at.strftime("%Y%m%d")
    closed = (out["close_date"] != "") & (out["close_date"] <= cutoff)
    english = out["ods_region"].isin(ENGLISH_REGIONS) | (out["ods_region"] == "")
    if (out["ods_region"] != "").any():
        english = out["ods_region"].isin(ENGLISH_REGIONS)
    out = out[~closed & english & (out["code"] != "")].drop(columns=["close_date"]).reset_index(drop=True)
    if out.empty:
        raise DataError(path, "no open English trusts in the file")
    return out


def read_type1(path) -> dict[str, int]:
    """Trust code -> type 1 A&E attendances from an NHS England monthly A&E provider CSV."""
    path = Path(path)
    try:
        with open_input(path, "A&E provider file", MAX_BYTES) as fh:
            df = pd.read_csv(fh, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(path, f"cannot read as CSV ({exc})") from None
    need = ["Org Code", "A&E attendances Type 1"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(path, f"not an NHS England A&E provider file: no column {missing[0]!r}")
    vals = pd.to_numeric(df["A&E attendances Type 1"].str.replace(",", ""), errors="coerce").fillna(0)
    return {c.strip(): int(v) for c, v in zip(df["Org Code"], vals) if c.strip() and c.strip() != "TOTAL"}


def classify(codes, type1: dict[str, int] | None, previous: pd.DataFrame | None = None) -> tuple[list, list]:
    """(kind, type 1 attendances) per trust code, as ``shared/data/raw/trusts/SOURCES.md`` explains.

    Without an A&E file, trusts already in ``previous`` keep their kind; new ones are
    ``not classified``."""
    prev = {} if previous is None else dict(zip(previous["code"], zip(previous["kind"],
                                                                       previous["type1_attendances"])))
    kinds, t1 = [], []
    for c in codes:
        if type1 is not None:
            n = int(type1.get(c, 0))
            t1.append(n)
            if n > 0:
                kinds.append(ACUTE)
            elif c in SPECIALIST_CODES:
                kinds.append(SPECIALIST)
            elif c in AMBULANCE_CODES:
                kinds.append(AMBULANCE)
            else:
                kinds.append(OTHER)
        elif c in prev:
            kinds.append(prev[c][0])
            t1.append(int(prev[c][1]) if str(prev[c][1]).strip() not in ("", "nan") else 0)
        elif c in SPECIALIST_CODES:
            kinds.append(SPECIALIST)
            t1.append(0)
        elif c in AMBULANCE_CODES:
            kinds.append(AMBULANCE)
            t1.append(0)
        else:
            kinds.append(UNCLASSIFIED)
            t1.append(0)
    return kinds, t1


def build_trusts_table(ods_path, ae_path=None, previous: pd.DataFrame | None = None, progress=None,
                       as_at: date | None = None) -> pd.DataFrame:
    """The trusts table (:data:`COLUMNS`): read, classify, grid references from HQ postcodes."""
    from icbmap.practices.place import lookup_postcodes
    from icbmap.practices.readers import normalise_postcode

    if ae_path:  # every input refused before any is read
        check_input(ae_path, "A&E provider file", MAX_BYTES)
    t = read_ods_trusts(ods_path, as_at)
    type1 = read_type1(ae_path) if ae_path else None
    t["kind"], t["type1_attendances"] = classify(t["code"], type1, previous)
    grid = lookup_postcodes(t["postcode"], progress)
    keys = t["postcode"].map(normalise_postcode)
    t["x"] = keys.map(grid["x"]).astype(float)
    t["y"] = keys.map(grid["y"]).astype(float)
    t["placed_by"] = np.where(t["x"].notna(), "HQ postcode (ONS Postcode Directory)",
                              "HQ postcode not in the ONS Postcode Directory")
    return t[COLUMNS]


def read_trusts_table(path) -> pd.DataFrame:
    path = Path(path)
    try:
        # through open_input: read at every pack load, a FIFO or device here must not hang
        with open_input(path, "trusts table", MAX_TABLE_BYTES) as fh:
            t = pd.read_csv(fh, dtype={"code": str, "name": str, "kind": str, "postcode": str, "ods_region": str,
                                     "ods_icb": str, "open_date": str, "placed_by": str},
                            keep_default_na=False, na_values={"x": [""], "y": [""]})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(path, f"cannot read the trusts table ({exc})") from None
    missing = [c for c in COLUMNS if c not in t.columns]
    if missing:
        raise DataError(path, f"not an icbmap trusts table: no column {missing[0]!r}")
    return t[COLUMNS]


__all__ = ["ACUTE", "AMBULANCE", "COLUMNS", "KINDS", "OTHER", "SPECIALIST", "UNCLASSIFIED", "build_trusts_table",
           "classify", "read_ods_trusts", "read_trusts_table", "read_type1"]
