"""The expected April 2027 map and the 2025 clusters as a reference geography (Qt-free).

``--baseline 2027-expected`` (and File ▸ New from baseline) draws the pack with the April 2026
boards merged cluster by cluster (``shapefiles/icb_clusters_2025.csv``, :mod:`icbmap.atlas.clusters`):
26 boards if every multi-board cluster merges on 1 April 2027.  It is **expected, not decided**:
the configuration's label is :data:`~icbmap.atlas.clusters.EXPECTED_LABEL`, its provenance names
the cluster sources, and every board made by a merger says "(expected 2027)" in its name and
carries a code that is not an ONS code (``C12-expected``).

Nothing is stored in the pack: the configuration is derived at load time from the pack's April
2026 boards (the offline pack's ``2026`` configuration, or a pack whose own boards are the April
2026 ones).  A cluster table naming a board the pack lacks is refused, naming the file.

:func:`cluster_reference` makes the clusters a reference geography (``ref:icb_clusters_2025``):
each LSOA belongs to the cluster of its April 2026 board, so the map can outline the clusters
and a rule can name them (``max_areas`` with ``geography = "icb_clusters_2025"`` and ``max = 1``
prefers merges within clusters).  The same map as an option beside others, over the April 2026
boards: :func:`icbmap.plan.expected.expected_plan`.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from icbmap.atlas.clusters import EXPECTED_KEY, EXPECTED_LABEL, SOURCE_TEXT, clusters_path, load_clusters
from icbmap.atlas.model import CRS, Layer, Provenance
from icbmap.errors import DataError

BASE_KEY = "2026"
REFERENCE_NAME = "icb_clusters_2025"
REFERENCE_LABEL = "ICB clusters (2025)"
NOTE = ("expected, not decided: the April 2026 boards merged cluster by cluster, as the 2025 clusters are expected "
        "to merge on 1 April 2027; no 2027 merger is confirmed in the sources (weakest: South East and South West "
        "London exploring collaboration, no merger planned; North East London and Kent and Medway standalone by "
        "inference; Leicester, Leicestershire and Rutland with Northamptonshire 'not necessarily a route to a "
        "merger')")


def configuration_info(n_boards: int = 26) -> dict:
    """The entry the configuration gets in ``atlas.baselines`` (as the pack's own configurations)."""
    return {"key": EXPECTED_KEY, "label": EXPECTED_LABEL, "baseline_label": EXPECTED_LABEL,
            "vintage": "April 2027 (expected)", "status": "derived, expected", "boards": str(n_boards),
            "source": SOURCE_TEXT + "; applied to the April 2026 boards", "note": NOTE}


def provenance() -> Provenance:
    return Provenance(source=SOURCE_TEXT + "; applied to the April 2026 boards", vintage="April 2027 (expected)",
                      licence="Open Government Licence v3.0 (the boards); the cluster facts are paraphrased "
                              "from public statements, with their sources in shapefiles/SOURCES.md",
                      attribution="Contains public sector information licensed under the Open Government "
                                  "Licence v3.0 (NHS England / NHS Digital)",
                      note=NOTE)


def base_key(meta: dict) -> str | None:
    """The key of the pack configuration holding the April 2026 boards ("" = its own boards)."""
    keys = [str(c.get("key")) for c in meta.get("configurations", []) or []]
    default = str(meta.get("baseline", "") or "")
    if default == BASE_KEY:
        return ""
    if BASE_KEY in keys:
        return BASE_KEY
    if not keys:
        return ""        # a single-configuration pack: usable if its boards are the April 2026 ones
    return None


def offers_expected(meta: dict) -> bool:
    """Whether the pack lists the expected configuration among its baselines."""
    keys = [str(c.get("key")) for c in meta.get("configurations", []) or []]
    return BASE_KEY in keys or str(meta.get("baseline", "") or "") == BASE_KEY


def groups_by_cluster(board_codes, clusters: pd.DataFrame, path) -> list[list[int]]:
    """Board indices grouped by cluster, each group in the order of its lowest board index."""
    codes = [str(c) for c in board_codes]
    index = {c: i for i, c in enumerate(codes)}
    missing = sorted(set(clusters["board_code"]) - set(index))
    if missing:
        raise DataError(path, f"the cluster table names the board {missing[0]}, which this data pack lacks "
                              f"({len(missing)} such board{'s' if len(missing) > 1 else ''}); the expected April "
                              "2027 map is built from the April 2026 boards")
    cluster_of = dict(zip(clusters["board_code"], clusters["cluster_id"]))
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(codes):
        key = cluster_of.get(c, f"__alone_{i}")      # a board in no cluster continues as it is
        groups.setdefault(key, []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def merge_boards(atlas, clusters: pd.DataFrame | None = None, path=None):
    """``atlas`` (drawn with the April 2026 boards) redrawn with every cluster merged, in place."""
    path = path or clusters_path()
    if clusters is None:
        clusters = load_clusters(path)
    board = atlas.layers["board"]
    t = board.table
    groups = groups_by_cluster(t["code"].astype(str), clusters, path)
    names = dict(zip(clusters["board_code"], clusters["cluster_name"]))
    cid = dict(zip(clusters["board_code"], clusters["cluster_id"]))
    atlas.board_codes_2026 = t["code"].astype(str).to_numpy(dtype=object)[atlas.units["board"].to_numpy()]
    new_of_old = np.full(len(t), -1, np.int64)
    rows, geoms = [], []
    for j, g in enumerate(groups):
        new_of_old[g] = j
        first = t.iloc[g[0]]
        row = {c: first[c] for c in t.columns if c != t.geometry.name}
        if len(g) > 1:
            regions = {int(t["region"].iat[i]) for i in g} if "region" in t.columns else set()
            if len(regions) > 1:
                raise DataError(path, f"the cluster {cid[str(first['code'])]} joins boards of different NHS regions")
            code = str(first["code"])
            row["code"] = f"{cid[code]}-expected"
            row["name"] = f"NHS {names[code]} (expected 2027) ICB"
            if "code_nhs" in row:
                row["code_nhs"] = ""
            geoms.append(shapely.union_all(t.geometry.to_numpy()[g]))
        else:
            geoms.append(t.geometry.iat[g[0]])
        row["population"] = int(t["population"].to_numpy()[g].sum())
        rows.append(row)
    table = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=gpd.GeoSeries(geoms, crs=CRS), crs=CRS)
    table["population"] = table["population"].astype(np.int64)
    prov = provenance()
    atlas.layers["board"] = Layer("board", table, prov)
    units = atlas.units
    units["board"] = new_of_old[units["board"].to_numpy()].astype(np.int32)
    place = atlas.layers["place"].table
    if "board" in place.columns:
        place["board"] = new_of_old[place["board"].to_numpy(np.int64)].astype(place["board"].dtype)
    if atlas.practices is not None and "board" in atlas.practices.columns and len(atlas.practices):
        b = atlas.practices["board"].to_numpy(np.int64)
        atlas.practices["board"] = np.where(b >= 0, new_of_old[np.maximum(b, 0)], b).astype(np.int32)
    atlas.provenance["board"] = prov
    atlas.meta["baseline"] = EXPECTED_KEY
    atlas.meta["baseline_label"] = EXPECTED_LABEL
    confs = [c for c in atlas.meta.get("configurations", []) or [] if str(c.get("key")) != EXPECTED_KEY]
    atlas.meta["configurations"] = confs + [configuration_info(len(table))]
    for attr in ("_levels", "_members"):          # cached per-level lookups follow the new boards
        atlas.__dict__.pop(attr, None)
    return atlas


def read_expected(path, read, meta: dict):
    """The pack at ``path`` (its ``meta`` table given) drawn with the expected April 2027 boards;
    ``read(path, baseline)`` reads a configuration of it (:func:`icbmap.atlas.store.read_atlas`)."""
    key = base_key(meta)
    if key is None:
        raise DataError(path, f"this data pack has no April 2026 boards to derive the baseline {EXPECTED_KEY!r} from")
    atlas = read(path, key or None)
    return merge_boards(atlas)


# ------------------------------------------------------------------ reference geography
def _april_2026_codes(atlas) -> np.ndarray | None:
    """Each unit's April 2026 board code, or None when the pack does not hold those boards
    (``atlas.board_codes_2026`` is set at load when the atlas is drawn with another of its
    configurations: :func:`icbmap.atlas.store.read_atlas`)."""
    if atlas.board_codes_2026 is not None:
        return atlas.board_codes_2026
    if atlas.baseline == BASE_KEY or (atlas.baseline == "" and not atlas.baselines):
        t = atlas.layers["board"].table
        return t["code"].astype(str).to_numpy(dtype=object)[atlas.units["board"].to_numpy()]
    return None


def cluster_reference(atlas, clusters: pd.DataFrame | None = None):
    """The 2025 clusters as a reference geography over ``atlas``, or None when the pack lacks the
    April 2026 boards (or a cluster board)."""
    from icbmap.atlas.references import LOCAL_CODE_KIND, make_reference

    codes = _april_2026_codes(atlas)
    if codes is None:
        return None
    clusters = load_clusters() if clusters is None else clusters
    if not set(clusters["board_code"]) <= set(codes):
        return None
    areas = clusters.drop_duplicates("cluster_id").sort_values("cluster_id").reset_index(drop=True)
    status = {}
    for cid, g in clusters.groupby("cluster_id"):
        s = set(g["status"])
        status[cid] = ("expected 2027, not decided" if "merger expected" in s
                       else "merged 2026" if "merged" in s else "standalone")
    # the status says "standalone": the facts' names repeat it in brackets
    names = areas["cluster_name"].str.replace(r"\s*\(standalone[^)]*\)\s*$", "", regex=True)
    table = pd.DataFrame({"code": areas["cluster_id"], "name": names,
                          "status": [status[c] for c in areas["cluster_id"]], "date": "",
                          "code_kind": LOCAL_CODE_KIND})
    area_of_cluster = {c: i for i, c in enumerate(areas["cluster_id"])}
    area_of_board = {b: area_of_cluster[c] for b, c in zip(clusters["board_code"], clusters["cluster_id"])}
    unit_area = np.fromiter((area_of_board.get(c, -1) for c in codes), np.int32, len(codes))
    prov = Provenance(source=SOURCE_TEXT, vintage="2025 clusters, as at December 2026",
                      licence="paraphrased public statements (sources in shapefiles/SOURCES.md)",
                      attribution="", note="each LSOA follows its April 2026 board; " + NOTE)
    return make_reference(atlas, REFERENCE_NAME, REFERENCE_LABEL, table, unit_area, prov, source="bundled",
                          report={"boards": len(clusters)})




__all__ = ["BASE_KEY", "REFERENCE_NAME", "cluster_reference", "configuration_info", "groups_by_cluster",
           "merge_boards", "offers_expected", "provenance", "read_expected"]
