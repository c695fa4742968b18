"""GeoPackage export: boards and units layers plus the metrics tables, in one file.

Layers (British National Grid, EPSG:27700, the data's own CRS, so nothing is rounded or
reprojected and neighbouring boards share their edges exactly):

* ``boards``: one polygon per board with the same attributes as the GeoJSON export (lists
  joined with "; ");
* ``units``: one polygon per LSOA with its board's code and name.

Attribute tables (no geometry):

* ``board_metrics``: the per-board figures (population, status, councils, coterminosity
  at district / council / CA level, split scores, pieces, flags);
* ``district_splits``, ``council_splits``, ``ca_splits``: one row per area with the
  boards holding it and their shares;
* ``summary``: the plan summary as key / value rows;
* ``about``: title, data pack, population basis, generator and attribution.

The file is written to a temporary name in the same folder and renamed into place.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from icbmap.atlas.model import CRS
from icbmap.atlas.store import atomic_file
from icbmap.export import facts as facts_mod
from icbmap.export.files import done
from icbmap.progress import Progress


def _flat(value):
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def boards_frame(plan, report=None, facts=None) -> gpd.GeoDataFrame:
    report = report if report is not None else facts_mod.metrics_report(plan)
    facts = facts if facts is not None else facts_mod.board_facts(plan, report)
    shapes = facts_mod.board_shapes(plan)
    rows = [{k: _flat(v) for k, v in f.items() if not k.startswith("_")} for f in facts]
    geoms = [shapes[f["_id"]] for f in facts]
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=CRS)


def units_frame(plan) -> gpd.GeoDataFrame:
    atlas = plan.atlas
    codes, names = facts_mod.board_code_name_arrays(plan)
    codes = np.array(list(codes) + [None], dtype=object)
    names = np.array(list(names) + [None], dtype=object)
    a = np.asarray(plan.assignment)
    df = pd.DataFrame({
        "code": atlas.unit_codes, "name": atlas.units["name"].to_numpy(dtype=object),
        "population": atlas.population, "board_code": codes[a], "board_name": names[a],
    })
    return gpd.GeoDataFrame(df, geometry=atlas.units.geometry.to_numpy(), crs=CRS)


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
        tables[f"{lvl}_splits"] = pd.DataFrame([{
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
                        summary.append({"key": f"{lvl}.{k2}", "value": json.dumps(v2)})
        else:
            summary.append({"key": key, "value": json.dumps(value)})
    tables["summary"] = pd.DataFrame(summary)
    return tables


def write_gpkg(plan, path: str | Path, title: str = "", units: bool = True,
               progress: Progress | None = None) -> list[Path]:
    """Write the GeoPackage (atomically); returns ``[path]``."""
    import pyogrio

    progress = progress or Progress.silent()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    progress.step(0.0, "Computing metrics")
    report = facts_mod.metrics_report(plan)
    progress.step(0.1, "Dissolving boards")
    boards = boards_frame(plan, report)
    with atomic_file(path, ".gpkg") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        progress.step(0.2, "Writing boards")
        pyogrio.write_dataframe(boards, tmp, layer="boards", driver="GPKG")
        if units:
            progress.step(0.3, "Writing units")
            pyogrio.write_dataframe(units_frame(plan), tmp, layer="units", driver="GPKG")
        progress.step(0.8, "Writing metrics tables")
        for name, table in metrics_tables(plan, report).items():
            pyogrio.write_dataframe(table, tmp, layer=name, driver="GPKG")
        meta = facts_mod.document_meta(plan, title)
        about = pd.DataFrame({"key": list(meta), "value": [_flat(v) for v in meta.values()]})
        pyogrio.write_dataframe(about, tmp, layer="about", driver="GPKG")
    done(progress, f"Wrote {path.name}")
    return [path]
