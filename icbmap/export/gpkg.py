"""GeoPackage export: boards and units layers plus the metrics tables, in one file.

Layers (British National Grid, EPSG:27700, the data's own CRS, so nothing is rounded or
reprojected and neighbouring boards share their edges exactly):

* ``boards``: one polygon per board with the same attributes as the GeoJSON export (the
  flat schema of :mod:`icbmap.export.schema`: lists joined with "; " and counted);
* ``units``: one polygon per LSOA with its board's code and name;
* ``councils`` and ``combined_authorities``: the reference areas, drawn as outlines.

QGIS's ``layer_styles`` table holds a default style for each layer
(:mod:`icbmap.export.qgis_style`), so the file opens in QGIS looking as icbmap drew it.

Attribute tables (no geometry):

* ``board_metrics``: the per-board figures (population, status, councils, coterminosity
  at district / council / CA level, split scores, pieces, flags);
* ``district_splits``, ``council_splits``, ``ca_splits``: one row per area with the
  boards holding it and their shares;
* ``summary``: the plan summary as key / value rows;
* ``about``: title, schema version, data pack, population basis, generator and attribution.

The file is written to a temporary name in the same folder and renamed into place.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from icbmap.atlas.model import CRS
from icbmap.atomic import atomic_file
from icbmap.safeio import gdal_write_errors
from icbmap.export import facts as facts_mod
from icbmap.export.files import done, safe_output
from icbmap.export.schema import AREA_FIELDS, flat_board_row
from icbmap.export.shapes import as_multipolygons
from icbmap.progress import Progress


def _flat(value):
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, allow_nan=False)
    return value


_PANDAS_TYPES = {"integer": "Int64", "boolean": "boolean", "real": "float64", "string": "object"}


def typed_frame(rows: list[dict], types: dict[str, str]) -> pd.DataFrame:
    """``rows`` as a frame whose columns keep their schema type when some values are null
    (an integer column with an empty board's null stays an integer field, not a real)."""
    df = pd.DataFrame(rows)
    for col in df.columns:
        kind = types.get(col)
        if kind in _PANDAS_TYPES:
            df[col] = df[col].astype(_PANDAS_TYPES[kind])
    return df


def board_types(plan, shapefile: bool = False) -> dict[str, str]:
    from icbmap.export.schema import BOARD_FIELDS, resolve, shapefile_name, vintages

    years = vintages(plan.atlas)
    return {(shapefile_name(resolve(n, years), years) if shapefile else resolve(n, years)): t
            for n, t, _d in BOARD_FIELDS}


def boards_frame(plan, report=None, facts=None) -> gpd.GeoDataFrame:
    report = report if report is not None else facts_mod.metrics_report(plan)
    shapes = facts_mod.board_shapes(plan)
    facts = facts if facts is not None else facts_mod.board_facts(plan, report)
    rows = [flat_board_row(f) for f in facts]
    # MultiPolygon throughout; a board without units has a null geometry (not EMPTY)
    geoms = as_multipolygons([shapes[f["_id"]] for f in facts])
    return gpd.GeoDataFrame(typed_frame(rows, board_types(plan)), geometry=gpd.GeoSeries(list(geoms), crs=CRS),
                            crs=CRS)


def units_frame(plan) -> gpd.GeoDataFrame:
    atlas = plan.atlas
    codes, names = facts_mod.board_code_name_arrays(plan)
    codes = np.array(list(codes) + [None], dtype=object)
    names = np.array(list(names) + [None], dtype=object)
    a = np.asarray(plan.assignment)
    df = pd.DataFrame({
        "lsoa_code": atlas.unit_codes, "lsoa_name": atlas.units["name"].to_numpy(dtype=object),
        "population": atlas.population, "board_code": codes[a], "board_name": names[a],
        **facts_mod.unit_area_columns(atlas),
    })
    return gpd.GeoDataFrame(df, geometry=list(as_multipolygons(atlas.units.geometry.to_numpy())), crs=CRS)


#: Reference layers written as outlines: GeoPackage layer name -> atlas level.
OUTLINE_LAYERS = {"councils": "council", "combined_authorities": "ca"}


def area_frame(atlas, level: str) -> gpd.GeoDataFrame:
    t = atlas.layers[level].table
    cols = [f[0] for f in AREA_FIELDS]
    return gpd.GeoDataFrame(pd.DataFrame({c: t[c].astype(str).to_numpy() for c in cols}),
                            geometry=list(as_multipolygons(t.geometry.to_numpy())), crs=CRS)


def styles_frame(plan, boards: gpd.GeoDataFrame, layers: dict[str, str]) -> pd.DataFrame:
    from icbmap.export.qgis_style import layer_styles_rows

    spec = [(str(c), f"{n}", str(col)) for c, n, col in zip(boards["code"], boards["name"], boards["colour"])]
    df = pd.DataFrame(layer_styles_rows(spec, layers))
    df["update_time"] = pd.Timestamp.now(tz="UTC").floor("s")  # re-stamped by _stamp_styles
    return df


def _stamp_styles(path: Path) -> None:
    """GeoPackage DATETIME text with milliseconds, as QGIS writes it (older GDALs warn without)."""
    import sqlite3

    con = sqlite3.connect(path)
    try:
        con.execute("UPDATE layer_styles SET update_time = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')")
        con.commit()
    finally:
        con.close()


def splits_table_name(level: str) -> str:
    """The table of an area level's splits, named as ArcGIS and every database accept
    (letters, digits and ``_``): ``council_splits``; a reference geography
    ``ref:strategic_authorities_2026`` gives ``strategic_authorities_2026_splits``."""
    name = re.sub(r"\W+", "_", level.split(":", 1)[-1]).strip("_") or "areas"
    if name[0].isdigit():
        name = "t_" + name
    return f"{name}_splits"


def metrics_tables(plan, report) -> dict[str, pd.DataFrame]:
    rows = []
    for r in report.boards:
        row = {
            "code": r.code, "name": r.name, "population": r.population, "share": r.share,
            "status": r.status, "flags": _flat(r.flags), "units": r.units, "registered": r.registered,
            "councils_whole": _flat(r.councils_whole), "councils_part": _flat(r.councils_part),
            "districts_whole": _flat(r.districts_whole), "districts_part": _flat(r.districts_part),
            "cas_whole": _flat(r.cas_whole), "cas_part": _flat(r.cas_part),
            "regions": _flat(r.regions), "pieces": r.pieces, "island_pieces": r.island_pieces,
            "contiguous": int(r.contiguous),
        }
        for lvl, v in r.coterminosity.items():
            row[f"coterminosity_{lvl}"] = v
        for lvl, v in r.split_score.items():
            row[f"split_score_{lvl}"] = v
        rows.append(row)
    tables = {"board_metrics": pd.DataFrame(rows)}
    for lvl, areas in report.areas.items():
        tables[splits_table_name(lvl)] = pd.DataFrame([{
            "code": a.code, "name": a.name, "population": a.population,
            "main_board": a.main_board_name, "main_share": a.main_share, "boards": a.n_boards,
            "real_boards": a.n_real_boards, "split": int(a.split), "real_split": int(a.real_split),
            "sliver_only": int(a.sliver_only), "unassigned_population": a.unassigned_population,
            "split_score": a.split_score,
            "board_shares": "; ".join(f"{p.code} {p.share:.4f}{' (sliver)' if p.sliver else ''}"
                                      for p in a.boards),
        } for a in areas])
    s = report.summary
    summary = []
    for key, value in vars(s).items():
        if key == "levels":
            for lvl, ls in value.items():
                for k2, v2 in vars(ls).items():
                    if k2 != "level":
                        summary.append({"key": f"{lvl}.{k2}", "value": json.dumps(v2, allow_nan=False)})
        else:
            summary.append({"key": key, "value": json.dumps(value, allow_nan=False)})
    tables["summary"] = pd.DataFrame(summary)
    return tables


def write_gpkg(plan, path: str | Path, title: str = "", units: bool = True,
               progress: Progress | None = None) -> list[Path]:
    """Write the GeoPackage (atomically); returns ``[path]``."""
    import pyogrio

    progress = progress or Progress.silent()
    path, _note = safe_output(path)  # a name every system accepts (reported by the CLI)
    path.parent.mkdir(parents=True, exist_ok=True)
    progress.step(0.0, "Computing metrics")
    report = facts_mod.metrics_report(plan)
    progress.step(0.1, "Dissolving boards")
    boards = boards_frame(plan, report)
    with gdal_write_errors(path), atomic_file(path, ".gpkg") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        progress.step(0.2, "Writing boards")
        # GeoPackage 1.2: QGIS 3.22 / GDAL 3.6 and ArcGIS read it without a version warning
        pyogrio.write_dataframe(boards, tmp, layer="boards", driver="GPKG", geometry_type="MultiPolygon",
                                dataset_options={"VERSION": "1.2"})
        styled = {"boards": "boards"}
        if units:
            progress.step(0.3, "Writing units")
            pyogrio.write_dataframe(units_frame(plan), tmp, layer="units", driver="GPKG",
                                    geometry_type="MultiPolygon")
            styled["units"] = "units"
        progress.step(0.7, "Writing council and combined authority outlines")
        for layer, level in OUTLINE_LAYERS.items():
            if level in plan.atlas.layers:
                pyogrio.write_dataframe(area_frame(plan.atlas, level), tmp, layer=layer, driver="GPKG",
                                        geometry_type="MultiPolygon")
                styled[layer] = level
        progress.step(0.8, "Writing metrics tables")
        for name, table in metrics_tables(plan, report).items():
            pyogrio.write_dataframe(table, tmp, layer=name, driver="GPKG")
        meta = facts_mod.document_meta(plan, title)
        about = pd.DataFrame({"key": list(meta), "value": [str(_flat(v)) for v in meta.values()]})
        pyogrio.write_dataframe(about, tmp, layer="about", driver="GPKG")
        pyogrio.write_dataframe(styles_frame(plan, boards, styled), tmp, layer="layer_styles", driver="GPKG",
                                layer_options={"FID": "id"})
        _stamp_styles(tmp)
    done(progress, f"Wrote {path.name}")
    return [path]
