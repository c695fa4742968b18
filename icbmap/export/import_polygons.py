"""Board polygons (GeoJSON, GeoPackage, shapefile or a zip of its parts; any CRS the file
declares), reprojected to EPSG:27700 and overlaid on the units (see :mod:`icbmap.export.importers`)."""


from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from icbmap.atlas.model import CRS
from icbmap.progress import Progress

from icbmap.export import import_common as common  # its size limits are read at call time
from icbmap.export.import_common import (
    board_columns,
    build_plan,
    _check_boards,
    _check_file,
    ImportError_,
    ImportReport,
    ImportResult,
    MIN_SHARE,
    WEAK_SHARE,
)


#: Suffixes a zip may hold for import, and the largest unpacked size we agree to read.
ZIP_LAYER_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json")


def _check_zip(path: Path) -> list[str]:
    """A zip of shapefile parts (``icbmap export --format shp``) or of one layer file:
    readable, not damaged, not encrypted, not a zip bomb, holding a layer to import.
    Returns the names of the layer files inside."""
    import zipfile
    import zlib

    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            total = sum(i.file_size for i in infos)
            if total > common.MAX_IMPORT_BYTES:
                raise ImportError_(path, f"unpacks to {total / 2**20:,.0f} MB, larger than the "
                                         f"{common.MAX_IMPORT_BYTES / 2**20:,.0f} MB import limit")
            if any(i.flag_bits & 0x1 for i in infos):
                raise ImportError_(path, "the zip is password-protected; unzip it and import the .shp")
            names = [i.filename for i in infos if not i.is_dir()]
            layers = [n for n in names if n.lower().endswith(ZIP_LAYER_SUFFIXES)]
            if not layers:
                shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "") if names else "nothing"
                raise ImportError_(path, f"the zip holds no shapefile, GeoPackage or GeoJSON (it holds {shown})")
            lower = {n.lower() for n in names}
            for n in layers:
                if n.lower().endswith(".shp"):
                    stem = n[:-4].lower()
                    for ext in (".dbf", ".shx"):
                        if stem + ext not in lower:
                            raise ImportError_(path, f"the zip's shapefile {n} has no {ext} beside it; a "
                                                     "shapefile is a set of files (.shp, .shx, .dbf, .prj)")
            bad = z.testzip()
            if bad is not None:
                raise ImportError_(path, f"the zip is damaged: {bad} fails its checksum")
            return layers
    except ImportError_:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError,
            NotImplementedError) as exc:
        raise ImportError_(path, f"not a readable zip archive ({str(exc) or exc.__class__.__name__})") from None
    except OSError as exc:
        raise ImportError_(path, f"cannot read the zip ({exc.strerror or exc})") from None



def read_board_polygons(path: str | Path, code_field: str | None = None, name_field: str | None = None,
                        layer: str | None = None, crs: str | None = None):
    """The features of a polygon file as ``(codes, names, geoms in EPSG:27700, report bits)``."""
    import pyogrio

    path = Path(path)
    _check_file(path, common.MAX_IMPORT_BYTES)
    zipped = _check_zip(path) if path.suffix.lower() == ".zip" else []
    if path.suffix.lower() == ".shp":
        for ext in (".dbf", ".shx"):
            side = path.with_suffix(ext)
            if not side.exists() and not path.with_suffix(ext.upper()).exists():
                raise ImportError_(path, f"the shapefile's {ext} file is missing; a shapefile is a set "
                                         "of files (.shp, .shx, .dbf, .prj) kept side by side")
        for side in path.parent.glob(f"{path.stem}.*"):  # GDAL opens them: a FIFO would hang it
            if side != path:
                _check_file(side, common.MAX_IMPORT_BYTES, empty_ok=True)
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # noqa: BLE001 - GDAL raises many kinds
        raise ImportError_(path, f"not a readable GeoJSON, GeoPackage or shapefile ({_gdal_msg(exc)})") from None
    if len(layers) == 0:
        if zipped:
            raise ImportError_(path, f"the zip's {', '.join(zipped[:3])} cannot be read as a layer "
                                     "(damaged, or not really that format)")
        raise ImportError_(path, "holds no layers")
    names = [str(r[0]) for r in layers]
    if layer is None:
        poly = [str(r[0]) for r in layers if r[1] and "polygon" in str(r[1]).lower()]
        named = [n for n in names if n.lower().endswith("_boards")]  # icbmap's shapefile zip
        if "boards" in names:
            layer = "boards"
        elif named:
            layer = named[0]
        elif poly:
            layer = poly[0]
        else:
            layer = names[0]
    elif layer not in names:
        raise ImportError_(path, f"no layer {layer!r}; layers are {', '.join(names)}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gdf = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # noqa: BLE001
        raise ImportError_(path, f"cannot read layer {layer!r} ({_gdal_msg(exc)})") from None
    if len(gdf) == 0:
        raise ImportError_(path, f"layer {layer!r} has no features: there are no boards to import")
    if "geometry" not in getattr(gdf, "columns", []) or getattr(gdf, "geometry", None) is None:
        raise ImportError_(path, f"layer {layer!r} has no geometry; for an assignment table use a .csv file")
    src_crs = crs or (gdf.crs.to_string() if gdf.crs is not None else None)
    if src_crs is None:
        if path.suffix.lower() == ".shp":
            raise ImportError_(path, "the shapefile has no .prj file, so its coordinate reference system "
                                     "is unknown; put the .prj that came with it beside the .shp (for "
                                     "British National Grid use EPSG:27700) and import again")
        raise ImportError_(path, "the layer declares no coordinate reference system; "
                                 "re-save it with one (e.g. EPSG:27700 or EPSG:4326)")
    geoms = gdf.geometry.to_numpy()
    skipped = []
    present = ~(pd.isna(geoms) | shapely.is_empty(np.where(pd.isna(geoms), None, geoms)))
    types = np.array([g.geom_type if g is not None else "" for g in np.where(present, geoms, None)])
    polygonal = np.isin(types, ["Polygon", "MultiPolygon", "GeometryCollection"])
    if present.any() and not polygonal[present].any():
        kinds = ", ".join(sorted(set(types[present])))
        raise ImportError_(path, f"layer {layer!r} holds {kinds} features, not board polygons")
    fields = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    if not code_field and not name_field and _is_icbmap_boards(fields):
        # icbmap's own boards layer (or QGIS's re-save of it): ``code``/``name`` are the
        # board, not the ONS-style ICB..CD (a local icbmap:icb:... for a new board)
        code_field, name_field = "code", "name"
    code_col, name_col = board_columns(fields, code_field, name_field, path)
    n = len(gdf)
    codes = []
    names = []
    for i in range(n):
        c = gdf[code_col].iat[i] if code_col else None
        nm = gdf[name_col].iat[i] if name_col else None
        c = "" if c is None or (isinstance(c, float) and np.isnan(c)) else str(c).strip()
        nm = "" if nm is None or (isinstance(nm, float) and np.isnan(nm)) else str(nm).strip()
        if not c:
            c = nm if (nm and code_col is None) else f"IMP{i + 1:02d}"
        codes.append(c)
        names.append(nm or c)
    keep = present & polygonal
    for i in np.flatnonzero(~keep):
        skipped.append(f"feature {i + 1} ({codes[i]}): " + ("no geometry" if not present[i] else types[i]))
    g = np.where(keep, geoms, None)
    _check_geographic_range(path, src_crs, g)
    try:
        import geopandas as gpd

        proj = gpd.GeoSeries(g, crs=src_crs).to_crs(CRS).to_numpy()
    except Exception as exc:  # noqa: BLE001
        raise ImportError_(path, f"cannot reproject from {src_crs} to British National Grid ({exc})") from None
    proj = np.array([_polygonal(x) if x is not None else None for x in proj], dtype=object)
    notes = []
    if code_col is None:
        notes.append("no board code field found; codes were made up (use --code-field)")
    return codes, names, proj, skipped, notes, layer


def _is_icbmap_boards(fields: list[str]) -> bool:
    """An icbmap boards layer: ``code``, ``name`` and the schema version (``schema_ver`` in a
    shapefile, or as QGIS shortens ``schema_version`` there)."""
    low = {f.lower() for f in fields}
    return {"code", "name"} <= low and bool(low & {"schema_version", "schema_ver"})


def _check_geographic_range(path, src_crs: str, geoms) -> None:
    """Longitude/latitude declared (GeoJSON always is) but the numbers are metres?"""
    import pyproj

    try:
        geographic = pyproj.CRS.from_user_input(src_crs).is_geographic
    except pyproj.exceptions.CRSError:
        raise ImportError_(path, f"unknown coordinate reference system {src_crs!r}") from None
    present = [x for x in geoms if x is not None]
    if not geographic or not present:
        return
    x0, y0, x1, y1 = shapely.total_bounds(np.array(present, dtype=object))
    if x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
        hint = (" They look like British National Grid metres (EPSG:27700)."
                if 0 <= x0 and x1 <= 700_000 and 0 <= y0 and y1 <= 1_300_000 else "")
        raise ImportError_(path, f"the coordinates ({x0:,.0f}, {y0:,.0f}) .. ({x1:,.0f}, {y1:,.0f}) are not "
                                 f"longitude/latitude, yet the file declares {src_crs} (a GeoJSON file is "
                                 f"always WGS84 longitude/latitude).{hint} Re-save the file with its real "
                                 "coordinate reference system (e.g. as a GeoPackage) and import that")


def _polygonal(g):
    if g is None or shapely.is_empty(g):
        return None
    if not shapely.is_valid(g):
        g = shapely.make_valid(g)
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    flat = [q for p in parts for q in shapely.get_parts(p)]
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else shapely.MultiPolygon(flat)


def _gdal_msg(exc: Exception) -> str:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    return msg[:300]


def overlay_units(atlas, geoms: np.ndarray, groups: np.ndarray, n_groups: int,
                  progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's group covering most of its area, and that group's share of the unit.

    ``geoms`` are polygons in EPSG:27700 (``None`` allowed), ``groups`` their board index.
    Returns ``(best, share)``: ``best`` -1 where nothing overlaps.
    """
    progress = progress or Progress.silent()
    units = atlas.units.geometry.to_numpy()
    n = len(units)
    valid = np.array([g is not None for g in geoms], dtype=bool)
    feat_idx = np.flatnonzero(valid)
    best = np.full(n, -1, dtype=np.int64)
    share = np.zeros(n, dtype=np.float64)
    if len(feat_idx) == 0:
        return best, share
    fgeoms = np.asarray(geoms, dtype=object)[feat_idx]
    fgroups = np.asarray(groups)[feat_idx]
    tree = shapely.STRtree(units)
    progress.step(0.05, "Finding units inside the board polygons")
    shapely.prepare(fgeoms)
    f_in, u_in = tree.query(fgeoms, predicate="contains_properly")
    unit_area = shapely.area(units)
    inside_count = np.bincount(u_in, minlength=n)
    # a unit properly inside exactly one feature is wholly on that feature's board
    sole = inside_count == 1
    sel = sole[u_in]
    best[u_in[sel]] = fgroups[f_in[sel]]
    share[u_in[sel]] = 1.0
    progress.step(0.3, "Overlaying units on the board edges")
    f_x, u_x = tree.query(fgeoms, predicate="intersects")
    todo = ~sole[u_x]
    f_x, u_x = f_x[todo], u_x[todo]
    areas = np.zeros(len(u_x))
    chunk = 2000
    for s in range(0, len(u_x), chunk):
        progress.step(0.3 + 0.65 * s / max(len(u_x), 1), f"Overlaying units ({s:,} of {len(u_x):,} pieces)")
        inter = shapely.intersection(units[u_x[s:s + chunk]], fgeoms[f_x[s:s + chunk]])
        areas[s:s + chunk] = shapely.area(inter)
    if len(u_x):
        df = pd.DataFrame({"u": u_x, "g": fgroups[f_x], "a": areas})
        agg = df.groupby(["u", "g"], sort=True)["a"].sum().reset_index()
        agg = agg[agg["a"] > 0]
        agg = agg.sort_values(["u", "a", "g"], ascending=[True, False, True], kind="stable")
        top = agg.drop_duplicates("u", keep="first")
        uu = top["u"].to_numpy()
        best[uu] = top["g"].to_numpy()
        share[uu] = np.minimum(top["a"].to_numpy() / unit_area[uu], 1.0)
    progress.step(1.0, "Overlay done")
    return best, share


def import_polygons(path: str | Path, atlas, code_field: str | None = None, name_field: str | None = None,
                    layer: str | None = None, crs: str | None = None,
                    progress: Progress | None = None) -> ImportResult:
    progress = progress or Progress.silent()
    path = Path(path)
    progress.step(0.0, f"Reading {path.name}")
    codes, names, geoms, skipped, notes, layer = read_board_polygons(path, code_field, name_field, layer, crs)
    # features sharing a code are one board
    order: dict[str, int] = {}
    boards: list[tuple[str, str]] = []
    groups = np.zeros(len(codes), dtype=np.int64)
    for i, c in enumerate(codes):
        if c not in order:
            order[c] = len(boards)
            boards.append((c, names[i]))
        groups[i] = order[c]
    if not any(g is not None for g in geoms):
        raise ImportError_(path, "no feature has a usable polygon: there are no boards to import")
    _check_boards(path, boards)
    present = [g for g in geoms if g is not None]
    ub = atlas.bounds
    fb = shapely.total_bounds(np.array(present, dtype=object))
    if fb[2] < ub[0] or fb[0] > ub[2] or fb[3] < ub[1] or fb[1] > ub[3]:
        raise ImportError_(path, "the board polygons do not overlap England at all; is the declared "
                                 "coordinate reference system right?")
    best, share = overlay_units(atlas, geoms, groups, len(boards), progress.sub(0.1, 0.9))
    report = ImportReport(source=str(path), kind=f"polygons (layer {layer})", skipped_rows=skipped,
                          warnings=notes)
    best = np.where(share >= MIN_SHARE, best, -1)
    placed = best >= 0
    report.weak = [str(c) for c in atlas.unit_codes[placed & (share < WEAK_SHARE)]]
    progress.step(0.92, "Building the plan")
    plan = build_plan(atlas, boards, best, report)
    progress.step(1.0, f"Imported {len(boards)} boards")
    return ImportResult(plan, report)


