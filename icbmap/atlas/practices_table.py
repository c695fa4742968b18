"""The practices table of the atlas (``atlas.practices``), as docs/design.md defines it: its columns
and the helpers that keep a table read back from a pack in shape. It lives in the atlas layer
because the pack reader (:func:`icbmap.atlas.store.read_atlas`) needs it."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: column -> dtype, in order
PRACTICE_COLUMNS: dict[str, str] = {
    "code": "str",          # ODS practice code
    "name": "str",          # practice name ("" when no map file gave one)
    "postcode": "str",      # as in the file
    "x": "float64",         # EPSG:27700; NaN when the postcode could not be placed
    "y": "float64",
    "patients": "int64",    # registered list
    "pcn_code": "str",      # "" when unknown
    "pcn_name": "str",
    "place": "int32",       # baseline place index, -1 none
    "board": "int32",       # baseline board index, -1 none
    "unit": "int32",        # LSOA containing the practice, -1 unplaced
    "extract_date": "str",  # ISO date of the registration extract
}


def conform(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with exactly the practices columns, in order, with their dtypes (text columns
    as Python ``str`` objects with ``""`` for missing).  Use it on tables read back from a
    file (GeoPackage, CSV) to undo the round trip's changes."""
    missing = [c for c in PRACTICE_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"practices table lacks column(s) {', '.join(missing)}")
    out = {}
    for col, kind in PRACTICE_COLUMNS.items():
        s = df[col]
        if kind == "str":
            out[col] = s.astype(object).where(s.notna(), "").astype(str).to_numpy(dtype=object)
        elif kind == "float64":
            out[col] = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64)
        else:
            out[col] = pd.to_numeric(s, errors="raise").fillna(-1).to_numpy().astype(kind)
    return pd.DataFrame(out)


def follow_units(practices: pd.DataFrame, units) -> pd.DataFrame:
    """Set each placed practice's baseline ``place`` and ``board`` to those of the LSOA it
    stands in (``units``: the atlas's units table), e.g. after switching baselines."""
    u = practices["unit"].to_numpy(np.int64)
    placed = u >= 0
    for lvl in ("place", "board"):
        col = units[lvl].to_numpy(np.int32)
        v = practices[lvl].to_numpy(np.int32).copy()
        v[placed] = col[u[placed]]
        practices[lvl] = v
    return practices


def extract_label(practices: pd.DataFrame | None) -> str:
    """'registrations extract 2023-07-01' (or the dates, when several), for every place the
    practices show."""
    if practices is None or not len(practices):
        return "no GP practices"
    dates = sorted({d for d in practices["extract_date"].astype(str) if d})
    if not dates:
        return "registrations extract of unknown date"
    return "registrations extract " + (dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}")


def empty_practices() -> pd.DataFrame:
    return conform(pd.DataFrame({c: pd.Series([], dtype=object) for c in PRACTICE_COLUMNS}))


__all__ = ["PRACTICE_COLUMNS", "conform", "empty_practices", "extract_label", "follow_units"]
