"""Data packs on disk: one GeoPackage per pack, written atomically, loaded fast.

* the offline default is cached in the user's cache folder, keyed by its inputs' hash and
  the builder version (``england-offline-<key>.gpkg``); it is rebuilt when the key changes;
* packs imported from official files live in the user's data folder (``packs/<name>.gpkg``);
* the pack in use is remembered in ``settings.json`` in the config folder.

A pack file holds the layers ``units``, ``district`` ... ``region`` and the attribute tables
``adjacency``, ``meta``, ``provenance`` (and ``practices`` when the pack has them).

Atomic writes and the sweeping of stale temporary files are in :mod:`icbmap.atomic`; the
settings file in :mod:`icbmap.settings`.
"""

from __future__ import annotations

import json
import re
import sqlite3
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import geopandas as gpd
import pyogrio

from icbmap import paths
from icbmap.atomic import atomic_file
from icbmap.atlas.build import BUILDER_VERSION
from icbmap.atlas.model import CRS, LEVELS, Adjacency, Atlas, Layer, Provenance
from icbmap.errors import DataError
from icbmap.paths import data_dir
from icbmap.progress import Progress
from icbmap.safeio import check_input, gdal_write_errors
from icbmap.settings import read_settings, update_settings

OFFLINE = "england-offline"
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # always used with fullmatch




def current_pack_name() -> str:
    return read_settings().get("pack", OFFLINE)


def use_pack(name: str) -> None:
    if name != OFFLINE and not pack_path(name).exists():
        raise DataError(None, f"no data pack named {name!r}; see `icbmap data list`")
    with update_settings() as s:
        s["pack"] = name


# ---------------------------------------------------------------- where packs live
def packs_dir() -> Path:
    p = data_dir() / "packs"
    p.mkdir(parents=True, exist_ok=True)
    return p


def pack_path(name: str) -> Path:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise DataError(None, f"invalid pack name {name!r}: use letters, digits, '.', '_' or '-'")
    return packs_dir() / f"{name}.gpkg"


def offline_pack_path() -> Path:
    """The offline default pack: built once from the official files and committed under
    ``shapefiles/`` (see ``icbmap.atlas.bundle`` and ``shapefiles/SOURCES.md``); read as it
    is, so a first start builds nothing."""
    return paths.shapefiles_dir() / "england-2021.gpkg"


def list_packs() -> list[dict]:
    """Known packs: the offline default plus every imported pack."""
    out = [{"name": OFFLINE, "path": None,
            "kind": "offline default (2021 LSOAs, Census 2021, boards of 2022/2024/2026; bundled)"}]
    for p in sorted(packs_dir().glob("*.gpkg")):
        try:
            meta = read_meta(p)
        except DataError:
            meta = {"description": "unreadable pack"}
        out.append({"name": p.stem, "path": str(p), "kind": meta.get("description", "imported")})
    return out


# ---------------------------------------------------------------- write
CONFIG_LEVELS = ("place", "board", "region")
#: GDAL's clock for gpkg_contents.last_change in a reproducible pack
REPRODUCIBLE_DATE = "2000-01-01T00:00:00.000Z"


def write_atlas(atlas: Atlas, path: Path, progress: Progress | None = None,
                reproducible: bool = False) -> None:
    """Write ``atlas`` to a GeoPackage at ``path`` atomically.

    A pack with several board configurations (``atlas.configurations``) also gets the
    attribute table ``unit_configs`` (``place_<key>``, ``board_<key>``, ``region_<key>`` per
    unit) and the layers ``place_<key>``, ``board_<key>``, ``region_<key>`` of every
    configuration other than the default one (whose layers are the plain ``place`` ...).
    ``reproducible``: no spatial index and a fixed GDAL clock, so the same atlas always gives
    the same bytes (the bundled pack under ``shapefiles/``).
    """
    progress = progress or Progress.silent()
    path = Path(path)
    opts = {"SPATIAL_INDEX": "NO"} if reproducible else {}
    if reproducible:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": REPRODUCIBLE_DATE})
    try:
        with gdal_write_errors(path), atomic_file(path, ".gpkg") as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")

            def put(df, layer):
                pyogrio.write_dataframe(df, tmp, layer=layer, driver="GPKG",
                                        **(opts if isinstance(df, gpd.GeoDataFrame) else {}))

            progress.step(0.0, "Writing units")
            put(atlas.units, "units")
            for k, lvl in enumerate(LEVELS):
                progress.step(0.4 + 0.3 * k / len(LEVELS), f"Writing {lvl} layer")
                put(atlas.layers[lvl].table, lvl)
            prov = dict(atlas.provenance)
            for lvl in LEVELS:
                prov[f"layer:{lvl}"] = atlas.layers[lvl].provenance
            if atlas.configurations:
                cols = {}
                for key, c in atlas.configurations.items():
                    for lvl in CONFIG_LEVELS:
                        cols[f"{lvl}_{key}"] = np.asarray(c[lvl], dtype=np.int32)
                        if key != atlas.baseline:
                            put(c["layers"][lvl].table, f"{lvl}_{key}")
                            prov[f"layer:{lvl}_{key}"] = c["layers"][lvl].provenance
                put(pd.DataFrame(cols), "unit_configs")
            progress.step(0.75, "Writing adjacency")
            a, b, shared, bridge = atlas.adjacency.pairs()
            adj = pd.DataFrame({"a": a, "b": b, "shared": shared, "bridge": bridge.astype(np.int8)})
            put(adj, "adjacency")
            ptab = pd.DataFrame([{"key": k, **v.to_dict()} for k, v in prov.items()])
            put(ptab, "provenance")
            meta = {k: v for k, v in atlas.meta.items() if k != "path"}
            mtab = pd.DataFrame({"key": list(meta), "value": [json.dumps(v, sort_keys=True, allow_nan=False) for v in meta.values()]})
            put(mtab, "meta")
            if atlas.practices is not None and len(atlas.practices):
                put(pd.DataFrame(atlas.practices), "practices")
                if atlas.practice_configs is not None:
                    put(atlas.practice_configs, "practice_configs")
    finally:
        if reproducible:
            pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
    progress.step(1.0, f"Saved {path.name}")


# ---------------------------------------------------------------- read
def read_meta(path: Path, what: str = "icbmap data pack") -> dict:
    """The ``meta`` key/value table of an icbmap GeoPackage (values are JSON)."""
    check_input(path, what)  # a FIFO or device named like a pack must not hang SQLite
    try:
        # a URI: '#', '?' and '%' in the folder name must be quoted, or SQLite opens another path
        con = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT key, value FROM meta").fetchall()
        finally:
            con.close()
        return {k: json.loads(v) for k, v in rows}
    except (sqlite3.Error, ValueError) as exc:
        raise DataError(path, f"not a readable {what} ({exc})") from exc


def read_table(path: Path, layer: str) -> pd.DataFrame:
    """An attribute table (no geometry) of a GeoPackage."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pyogrio.read_dataframe(path, layer=layer, read_geometry=False)


def read_atlas(path: Path, baseline: str | None = None) -> Atlas:
    """Read the pack at ``path``; ``baseline`` picks one of its board configurations
    (default: the pack's own default).  An unknown baseline is a :class:`DataError`."""
    path = Path(path)
    if not path.exists():
        raise DataError(path, "data pack not found")
    check_input(path, "data pack")  # regular file: a FIFO would hang GDAL
    from icbmap.atlas.clusters import EXPECTED_KEY

    if baseline == EXPECTED_KEY:   # derived at load from the April 2026 boards (icbmap.atlas.expected_2027)
        from icbmap.atlas.expected_2027 import read_expected

        return read_expected(path, read_atlas, read_meta(path))
    try:
        layers_present = {row[0] for row in pyogrio.list_layers(path)}
    except Exception as exc:
        raise DataError(path, f"not a readable GeoPackage ({exc})") from exc
    need = {"units", "adjacency", "meta", "provenance", *LEVELS}
    if not need <= layers_present:
        raise DataError(path, f"not an icbmap data pack: missing layer(s) {sorted(need - layers_present)}")
    try:
        meta = read_meta(path)
        default = str(meta.get("baseline", "") or "")
        keys = [str(c.get("key")) for c in meta.get("configurations", []) or []]
        if baseline and baseline != default and baseline not in keys:
            from icbmap.atlas.expected_2027 import offers_expected

            offered = keys + ([EXPECTED_KEY] if offers_expected(meta) else [])
            have = ", ".join(offered) if keys else "only its own boards"
            raise DataError(path, f"this data pack has no baseline {baseline!r} (it has {have})")
        switch = bool(baseline) and baseline != default
        names = {lvl: (f"{lvl}_{baseline}" if switch and lvl in CONFIG_LEVELS else lvl) for lvl in LEVELS}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            units = pyogrio.read_dataframe(path, layer="units", use_arrow=_arrow())
            layers_tab = {lvl: pyogrio.read_dataframe(path, layer=names[lvl], use_arrow=_arrow())
                          for lvl in LEVELS}
            if switch:
                ucfg = read_table(path, "unit_configs")
                for lvl in CONFIG_LEVELS:
                    units[lvl] = ucfg[f"{lvl}_{baseline}"].to_numpy(np.int32)
                meta["baseline"] = baseline
        adj = read_table(path, "adjacency")
        ptab = read_table(path, "provenance")
        practices = read_table(path, "practices") if "practices" in layers_present else None
        if practices is not None:
            from icbmap.atlas.practices_table import conform

            practices = conform(practices)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(path, f"corrupt data pack ({exc.__class__.__name__}: {exc})") from exc
    units = units.set_crs(CRS, allow_override=True)
    for col in ("district", "council", "ca", "region", "place", "board"):
        units[col] = units[col].astype(np.int32)
    units["population"] = units["population"].astype(np.int64)
    if practices is not None and switch:
        if "practice_configs" in layers_present:
            pc = read_table(path, "practice_configs")
            for lvl in ("place", "board"):
                practices[lvl] = pc[f"{lvl}_{baseline}"].to_numpy(np.int32)
        else:
            from icbmap.atlas.practices_table import follow_units

            follow_units(practices, units)  # baseline place and board of the LSOA each stands in
    prov_all = {r["key"]: Provenance.from_dict(r) for r in ptab.to_dict("records")}
    layers = {}
    for lvl in LEVELS:
        t = layers_tab[lvl].set_crs(CRS, allow_override=True)
        t["population"] = t["population"].astype(np.int64)
        layers[lvl] = Layer(lvl, t, prov_all.get(f"layer:{names[lvl]}") or prov_all[f"layer:{lvl}"])
    for key in [k for k in prov_all if k.startswith("layer:")]:
        del prov_all[key]
    if switch:
        for lvl in ("place", "board"):
            prov_all[lvl] = layers[lvl].provenance
    meta["path"] = str(path)
    from icbmap.atlas.expected_2027 import configuration_info, offers_expected

    if offers_expected(meta):        # the expected April 2027 map, derived at load (not stored)
        meta["configurations"] = list(meta.get("configurations") or []) + [configuration_info()]
    adjacency = Adjacency.from_pairs(
        len(units), adj["a"].to_numpy(), adj["b"].to_numpy(), adj["shared"].to_numpy(),
        adj["bridge"].to_numpy().astype(bool))
    atlas = Atlas(units=units, layers=layers, adjacency=adjacency, provenance=prov_all, meta=meta,
                  practices=practices)
    if switch and offers_expected(meta):  # each unit's April 2026 board, for the 2025 clusters' outlines
        try:
            layer = "board" if default == "2026" else "board_2026"
            codes = read_table(path, layer)["code"].astype(str).to_numpy(dtype=object)
            atlas.board_codes_2026 = codes[ucfg["board_2026"].to_numpy(np.int64)]
        except Exception:   # an older pack without them: no cluster outlines, nothing else changes
            atlas.board_codes_2026 = None
    return atlas


def _arrow() -> bool:
    try:
        import pyarrow  # noqa: F401
        return True
    except ImportError:
        return False


# ---------------------------------------------------------------- the entry point
def load_atlas(name: str | None = None, rebuild: bool = False,
               progress: Progress | None = None, baseline: str | None = None) -> Atlas:
    """Load the named pack (default: the one in use) with the board configuration
    ``baseline`` (default: the pack's own; the offline pack's is April 2026), with the GP
    practices attached to it by ``icbmap data practices`` (if any).  ``rebuild`` is kept
    for callers of the old offline builder; the offline pack is never rebuilt at run time."""
    from icbmap.atlas import hooks

    progress = progress or Progress.silent()
    name = name or current_pack_name()
    progress.step(0.0, f"Reading data pack {name}")
    path = offline_pack_path() if name == OFFLINE else pack_path(name)
    if name == OFFLINE and not path.exists():
        raise DataError(path, "the bundled offline pack is missing from this installation; regenerate it "
                              "with `python -m icbmap.atlas.bundle` (see shapefiles/SOURCES.md)")
    atlas = read_atlas(path, baseline=baseline)
    hooks.run_on_load(atlas)  # the GP practices stored for the pack, then the NHS trusts (registered)
    attach_extras(atlas)
    progress.step(1.0, f"Loaded {name}")
    return atlas


def attach_extras(atlas: Atlas) -> None:
    """Reference geographies (bundled and the user's), kept apart from the pack and attached at
    load (:mod:`icbmap.atlas.areas_store`).  The NHS trusts come in through an on-load hook
    (:mod:`icbmap.trusts` registers it), as the GP practices do."""
    from icbmap.atlas.areas_store import attach_references
    from icbmap.atlas.place_names import attach_place_names

    attach_references(atlas)
    attach_place_names(atlas)


def offline_cached() -> bool:
    """True: the offline pack ships ready (kept for callers that showed a first-run build)."""
    return offline_pack_path().exists()


__all__ = [
    "BUILDER_VERSION", "OFFLINE", "offline_pack_path",
    "current_pack_name", "list_packs", "load_atlas", "offline_cached", "pack_path", "read_atlas", "use_pack",
    "write_atlas",
]
