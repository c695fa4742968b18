"""Places (sub-ICB locations) by their usual names.  Qt-free.

The official names of sub-ICB locations say which board they belong to, not where they are
("NHS Central East ICB - 06H").  ``shapefiles/place_names_2024.csv`` (made by
``shapefiles/scripts/make_names.py`` from the ONS April 2024 lookups, by a fixed rule: see
that script and ``shapefiles/SOURCES.md``) gives each April 2024 sub-ICB location a usual
name such as "Cambridgeshire and Peterborough (06H)".  At load, :func:`attach_place_names`
sets the place layer's ``name`` to it, keeping the pack's name as ``official_name``.  Places
are matched by ONS code, else by NHS code; a place in neither keeps its name.
"""

from __future__ import annotations

import re
import warnings

import pandas as pd

from icbmap.paths import shapefiles_dir

BUNDLED_FILE = "place_names_2024.csv"
_NHS_SUFFIX = re.compile(r"-\s*([0-9A-Z]{3,5})\s*$")


def read_bundled_table(file: str, need: set, nrows: int, what: str) -> pd.DataFrame | None:
    """A small bundled CSV under ``shapefiles/`` as text columns, or None with a warning naming
    the file when it cannot be read or lacks a column in ``need`` (the app goes on without it)."""
    path = shapefiles_dir() / file
    try:
        t = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=nrows)
    except (OSError, ValueError) as exc:
        warnings.warn(f"{what} not read from {path}: {exc}", UserWarning, stacklevel=3)
        return None
    if not need <= set(t.columns):
        warnings.warn(f"{what} not read from {path}: columns {sorted(need)} needed", UserWarning, stacklevel=3)
        return None
    return t


def read_place_names() -> pd.DataFrame | None:
    return read_bundled_table(BUNDLED_FILE, {"place_code", "place_code_nhs", "official_name", "usual_name"},
                              1000, "place names")


def usual_names(codes, nhs_codes, names) -> list[str]:
    """The usual name of each place (its ``names`` entry where the table has no row)."""
    t = read_place_names()
    if t is None:
        return [str(n) for n in names]
    by_code = dict(zip(t["place_code"], t["usual_name"]))
    by_nhs = dict(zip(t["place_code_nhs"], t["usual_name"]))
    out = []
    for code, nhs, name in zip(codes, nhs_codes, names):
        nhs = str(nhs or "").strip().upper()
        if not nhs:
            m = _NHS_SUFFIX.search(str(name).strip().upper())
            nhs = m.group(1) if m else ""
        out.append(by_code.get(str(code)) or by_nhs.get(nhs) or str(name))
    return out


def attach_place_names(atlas) -> None:
    """Give the atlas's places their usual names (``official_name`` keeps the pack's)."""
    layer = atlas.layers.get("place")
    if layer is None or "official_name" in layer.table.columns:
        return
    t = layer.table
    names = t["name"].astype(str).tolist()
    nhs = t["code_nhs"].astype(str).tolist() if "code_nhs" in t.columns else [""] * len(t)
    usual = usual_names(t["code"].astype(str).tolist(), nhs, names)
    if "code_nhs" not in t.columns:
        t["code_nhs"] = [(_NHS_SUFFIX.search(n.strip().upper()) or [None, ""])[1] for n in names]
    t["official_name"] = names
    t["name"] = usual
