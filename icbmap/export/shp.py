"""Shapefile export: one zip holding the parts, for ArcGIS desks that still ask for it.

The zip holds ``<name>_boards.shp/.shx/.dbf/.prj/.cpg`` (and with ``units`` the same for
``<name>_units``) plus ``README.txt`` (schema version, the field-name mapping, sources).

* British National Grid (EPSG:27700), the data's own CRS: nothing is rounded, and the
  ``.prj`` names it;
* the ``.cpg`` says UTF-8, so ArcGIS and QGIS read accented names correctly;
* dBase field names are at most 10 characters: :data:`icbmap.export.schema.SHAPEFILE_NAMES`
  maps the schema's names (documented in docs/exports.md);
* dBase text holds at most 254 bytes, so the council and combined authority lists hold
  codes only (``E06000006; E06000007``); a list still too long ends in ``…`` and its
  ``*_n`` count field keeps the true number.

``<name>`` is the zip's own name cleaned to letters, digits, ``-`` and ``_`` (ArcGIS and
some unzip tools mishandle other characters in shapefile names).
"""

from __future__ import annotations

import re
import stat
import time
import tempfile
import unicodedata
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import shapely

from icbmap.atlas.model import CRS
from icbmap.atomic import atomic_file
from icbmap.export import facts as facts_mod
from icbmap.export.files import done, safe_output
from icbmap.safeio import gdal_write_errors
from icbmap.export.schema import (BOARD_FIELDS, SCHEMA_NAME, SCHEMA_VERSION, SHAPEFILE_NAMES, UNIT_FIELDS,
                                  resolve, shapefile_board_row, shapefile_name, vintages)
from icbmap.export.shapes import as_multipolygons
from icbmap.progress import Progress

PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def member_base(path: str | Path) -> str:
    """The shapefile base name for a zip: ASCII letters, digits, ``-`` and ``_`` only."""
    stem = Path(path).name
    if stem.lower().endswith(".zip"):
        stem = stem[:-4]
    if stem.lower().endswith(".shp"):
        stem = stem[:-4]
    ascii_ = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", ascii_)
    base = re.sub(r"_{2,}", "_", base).strip("_-")[:40]
    return base or "icbmap"


def estimate_units_bytes(atlas) -> int:
    """Rough unzipped size of the units shapefile: 16 bytes a vertex plus a dBase record."""
    coords = int(shapely.get_num_coordinates(atlas.units.geometry.to_numpy()).sum())
    return coords * 16 + atlas.n_units * 400


def _readme(plan, title: str, base: str, units: bool) -> str:
    meta = facts_mod.document_meta(plan, title)
    lines = [f"icbmap shapefile export: {title or 'baseline'}",
             f"Schema: {SCHEMA_NAME} version {SCHEMA_VERSION} (see docs/exports.md in icbmap)",
             f"Generator: {meta['generator']}; data pack {meta['data_pack']['name']} "
             f"({meta['data_pack']['content_hash'][:12]})",
             "Coordinate reference system: British National Grid (EPSG:27700); text is UTF-8 (.cpg).",
             f"Population basis: {meta['population_basis']}", "",
             f"{base}_boards: one polygon per board. dBase field names (10 characters at most):"]
    years = vintages(plan.atlas)
    for name, typ, doc in BOARD_FIELDS:
        lines.append(f"  {resolve(SHAPEFILE_NAMES[name], years):<10}  {resolve(name, years)} ({typ}): {doc}")
    lines.append("  Council and combined authority lists hold area codes only (dBase text is "
                 "limited to 254 bytes); the GeoPackage and GeoJSON exports have the names.")
    lines.append("  True/false fields are dBase logical fields (T/F); "
                 f"{base}_boards.qml is a QGIS style for the layer (colours, labels, check boxes).")
    if units:
        lines += ["", f"{base}_units: one polygon per LSOA:"]
        for name, typ, doc in UNIT_FIELDS:
            lines.append(f"  {resolve(SHAPEFILE_NAMES[name], years):<10}  {resolve(name, years)} ({typ}): {doc}")
    lines += ["", "Sources:"] + [f"  {a}" for a in meta["attribution"]]
    return "\n".join(lines) + "\n"


def boards_shp_frame(plan, facts=None, cuts: list | None = None) -> gpd.GeoDataFrame:
    shapes = facts_mod.board_shapes(plan)
    facts = facts if facts is not None else facts_mod.board_facts(plan)
    rows = [shapefile_board_row(f, cuts) for f in facts]
    geoms = as_multipolygons([shapes[f["_id"]] for f in facts])  # null shape when empty
    from icbmap.export.gpkg import board_types, typed_frame

    return gpd.GeoDataFrame(typed_frame(rows, board_types(plan, shapefile=True)), geometry=list(geoms), crs=CRS)


def units_shp_frame(plan) -> gpd.GeoDataFrame:
    from icbmap.export.gpkg import units_frame

    u = units_frame(plan)
    years = vintages(plan.atlas)
    return u.rename(columns={k: shapefile_name(k, years) for k in u.columns if k != u.geometry.name})


def _add(z: zipfile.ZipFile, name: str, data: bytes) -> None:
    """A zip member that unpacks readable by everyone (mode 0644), as any file the user
    saves; ``writestr`` alone leaves the mode to the unzip tool (0600 with Python's)."""
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so the mode below is honoured
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    z.writestr(info, data)


#: Boolean fields of the boards layer (dBase logical ``L`` fields in the shapefile).
BOOLEAN_FIELDS = [SHAPEFILE_NAMES[n] for n, t, _d in BOARD_FIELDS if t == "boolean"]


def _boards_style(frame) -> str:
    """``<name>_boards.qml`` beside the .shp: QGIS applies it when the layer is added (the
    board colours and labels of the GeoPackage, and the logical fields as check boxes)."""
    from icbmap.export.qgis_style import boards_qml

    spec = [(str(c), str(n), str(col)) for c, n, col in zip(frame["code"], frame["name"], frame["colour"])]
    return boards_qml(spec, checkboxes=BOOLEAN_FIELDS)


def write_shapefile_zip(plan, path: str | Path, units: bool = False, title: str = "",
                        progress: Progress | None = None, cuts: list | None = None) -> list[Path]:
    """Write the zip (atomically); returns ``[path]``.  Text cut to the dBase limit is
    reported in ``cuts`` (one line per board)."""
    import pyogrio

    progress = progress or Progress.silent()
    path, _note = safe_output(path)  # a name every system accepts (reported by the CLI)
    base = member_base(path)
    progress.step(0.05, "Dissolving boards")
    layers = {f"{base}_boards": boards_shp_frame(plan, cuts=cuts)}
    if units:
        progress.step(0.3, "Preparing units")
        layers[f"{base}_units"] = units_shp_frame(plan)
    readme = _readme(plan, title, base, units)
    with gdal_write_errors(path), tempfile.TemporaryDirectory(prefix=".icbmap-shp-", dir=path.parent) as tmpdir, \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tmpdir = Path(tmpdir)
        for k, (name, frame) in enumerate(layers.items()):
            progress.step(0.4 + 0.4 * k / len(layers), f"Writing {name}.shp")
            pyogrio.write_dataframe(frame, tmpdir / f"{name}.shp", driver="ESRI Shapefile",
                                    layer_options={"ENCODING": "UTF-8"})
        progress.step(0.85, f"Zipping {path.name}")
        styles = {f"{base}_boards.qml": _boards_style(layers[f"{base}_boards"])}
        with atomic_file(path, ".zip") as tmp:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
                for name in layers:
                    for ext in PARTS:
                        part = tmpdir / f"{name}{ext}"
                        if part.exists():
                            _add(z, part.name, part.read_bytes())
                for name, qml in styles.items():
                    _add(z, name, qml.encode("utf-8"))
                _add(z, "README.txt", readme.encode("utf-8"))
    done(progress, f"Wrote {path.name}")
    return [path]
