"""Practices attached to a data pack, kept in the user's data folder.

``icbmap data practices FILE`` attaches practices to the pack in use without rebuilding it.
The table goes to ``data_dir()/practices/<content hash>.gpkg`` (attribute tables
``practices`` and ``meta``; written to a temporary file, fsynced and renamed), keyed by the
pack's content hash so that it can only ever be applied to the geography it was placed on.

:func:`load_practices_for` (called by ``icbmap.atlas.store.load_atlas``) puts it back on the
atlas: it applies when the atlas has no practices of its own, or when the attachment is
newer than the pack's build (``meta["built_at"]``).  A damaged or mismatched file is
ignored with a :class:`UserWarning` rather than stopping the program from starting.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio

from icbmap.atlas.model import Atlas, Provenance
from icbmap.atomic import atomic_file
from icbmap.atlas.store import read_meta, read_table
from icbmap.errors import DataError
from icbmap.paths import data_dir
from icbmap.atlas.practices_table import conform

FORMAT = 1


def practices_dir() -> Path:
    p = data_dir() / "practices"
    p.mkdir(parents=True, exist_ok=True)
    return p


def practices_path_for(atlas: Atlas | str) -> Path:
    """Where the practices attached to ``atlas`` (or to a content hash) are kept."""
    key = atlas if isinstance(atlas, str) else atlas.content_hash
    if not key or not all(c.isalnum() for c in key):
        raise DataError(None, f"the data pack has no usable content hash ({key!r}); rebuild it")
    return practices_dir() / f"{key}.gpkg"


def save_practices_for(atlas: Atlas, report=None) -> Path:
    """Store ``atlas.practices`` (and its provenance) for later starts; returns the path."""
    if atlas.practices is None:
        raise DataError(None, "the atlas has no GP practices to save")
    path = practices_path_for(atlas)
    table = conform(atlas.practices)
    meta = {
        "format": FORMAT,
        "content_hash": atlas.content_hash,
        "baseline": atlas.baseline,
        "pack": atlas.name,
        "attached_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "provenance": (atlas.provenance.get("practices") or Provenance("", "")).to_dict(),
        "practices": len(table),
        "patients": int(table["patients"].sum()),
    }
    if report is not None:
        meta["report"] = {k: v for k, v in report.to_dict().items() if k != "provenance"}
    mtab = pd.DataFrame({"key": list(meta), "value": [json.dumps(v, allow_nan=False) for v in meta.values()]})
    with atomic_file(path, ".gpkg") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pyogrio.write_dataframe(table, tmp, layer="practices", driver="GPKG")
        pyogrio.write_dataframe(mtab, tmp, layer="meta", driver="GPKG")
    return path


def read_practices_file(path: Path) -> tuple[pd.DataFrame, dict]:
    """The stored table (conformed) and its meta; :class:`DataError` if unreadable."""
    path = Path(path)
    meta = read_meta(path, "practices file")
    try:
        table = conform(read_table(path, "practices"))
    except Exception as exc:  # sqlite, GDAL, JSON or a table without the columns
        raise DataError(path, f"not a readable practices file ({exc.__class__.__name__}: {exc})") from exc
    return table, meta


def _check_fits(atlas: Atlas, table: pd.DataFrame, path: Path) -> None:
    limits = {"unit": atlas.n_units, "place": len(atlas.layers["place"]), "board": len(atlas.layers["board"])}
    for col, n in limits.items():
        v = table[col].to_numpy(np.int64)
        if len(v) and (v.min() < -1 or v.max() >= n):
            raise DataError(path, f"{col} indices do not fit this data pack")


def load_practices_for(atlas: Atlas, override: bool | None = None) -> pd.DataFrame | None:
    """Put the practices attached to this pack back on ``atlas``; returns the table or
    ``None`` (nothing stored, or the pack's own practices are newer).

    ``override``: ``True`` always applies a stored table, ``False`` only when the atlas has
    none, ``None`` (default) also when the attachment is newer than the pack's build.
    """
    try:
        path = practices_path_for(atlas)
    except DataError:
        return None
    if not path.exists():
        return None
    try:
        table, meta = read_practices_file(path)
        if meta.get("content_hash") not in (None, atlas.content_hash):
            raise DataError(path, "attached to another data pack")
        _check_fits(atlas, table, path)
    except DataError as exc:
        warnings.warn(f"ignored stored GP practices: {exc}", stacklevel=2)
        return None
    if atlas.practices is not None and len(atlas.practices):
        if override is False:
            return None
        if override is None and str(meta.get("attached_at", "")) < str(atlas.meta.get("built_at", "")):
            return None
    if str(meta.get("baseline", "") or "") != atlas.baseline:  # attached under another baseline
        from icbmap.atlas.practices_table import follow_units

        follow_units(table, atlas.units)
    prov = meta.get("provenance")
    atlas.set_practices(table, Provenance.from_dict(prov) if prov and prov.get("source") else None)
    return table


def practices_extract_label(atlas: Atlas) -> str:
    from icbmap.atlas.practices_table import extract_label

    return extract_label(atlas.practices)


def stored_practices_info(atlas: Atlas) -> dict | None:
    """The meta of the practices stored for this pack (``None`` if none)."""
    path = practices_path_for(atlas)
    if not path.exists():
        return None
    try:
        return read_practices_file(path)[1] | {"path": str(path)}
    except DataError:
        return None


def remove_practices_for(atlas: Atlas) -> bool:
    """Forget the practices attached to this pack; ``True`` if a file was removed."""
    path = practices_path_for(atlas)
    if path.exists():
        path.unlink()
        return True
    return False


__all__ = ["load_practices_for", "practices_path_for", "read_practices_file", "remove_practices_for",
           "save_practices_for", "stored_practices_info"]
