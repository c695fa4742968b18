"""Reference geographies: named areas over the units, from a code table or from polygons.

A reference geography is built from

* a table mapping districts, councils or LSOAs to areas (:func:`from_members`), or
* polygons (:func:`from_polygons`): each LSOA goes to the polygon holding its
  point-on-surface (``units.x/y``); LSOAs whose area the polygons' edges cut are reported
  with the people in them and the side they went to.

Both give a :class:`~icbmap.atlas.model.Reference` that the metrics engine measures exactly
as it measures councils (the level ``"ref:<name>"``).  Every problem raises
:class:`~icbmap.errors.DataError` naming the file: unknown codes (listed, with a count), a
code in two areas, polygons without or in the wrong CRS, polygons outside England.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from icbmap.atlas.geometry import dissolve_units
from icbmap.atlas.model import CRS, Layer, Provenance, Reference
from icbmap.errors import DataError
from icbmap.safeio import MB, check_input

LEVELS = ("district", "council", "lsoa")
LOCAL_CODE_KIND = "local (not ONS)"
ONS_CODE_KIND = "ONS"
#: an LSOA counts as cut when between this share and (1 - it) of its area is inside a polygon
CUT_SHARE = 0.01
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")
AREA_COLUMNS = ["code", "name", "status", "date", "code_kind"]


#: Size limits for a reference geography file (as for ``icbmap import``).
MAX_CSV_BYTES = 64 * MB
MAX_POLYGON_BYTES = 512 * MB

def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")[:60] or "area"


def local_code(prefix: str, name: str) -> str:
    """A stable code for an area without an ONS code, clearly not ONS: ``icbmap:<prefix>:<slug>``."""
    return f"icbmap:{prefix}:{slug(name)}"


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise DataError(None, f"{name!r} is not a usable name for a reference geography: use letters, digits, "
                              "'_' and '-' (at most 64), e.g. sa_2026")
    return name


def area_label(row) -> str:
    status = str(row.get("status") or "").strip()
    date = str(row.get("date") or "").strip()
    extra = ", ".join(x for x in (status, date) if x)
    return f"{row['name']} ({extra})" if extra else str(row["name"])


def make_reference(atlas, name: str, label: str, areas: pd.DataFrame, unit_area: np.ndarray,
                   provenance: Provenance, source: str = "", report: dict | None = None) -> Reference:
    """A :class:`Reference` over ``atlas`` from its area table and the area of every unit."""
    areas = areas.reset_index(drop=True).copy()
    for col in AREA_COLUMNS:
        if col not in areas.columns:
            areas[col] = "" if col != "code_kind" else ONS_CODE_KIND
    areas = areas.fillna("")
    unit_area = np.asarray(unit_area, dtype=np.int32)
    pop = np.bincount(unit_area.astype(np.int64) + 1, weights=atlas.population,
                      minlength=len(areas) + 1).astype(np.int64)[1:]
    areas["population"] = pop
    areas["label"] = [area_label(r) for _, r in areas.iterrows()]
    table = gpd.GeoDataFrame(areas, geometry=gpd.GeoSeries([None] * len(areas), crs=CRS), crs=CRS)
    layer = Layer(f"ref:{name}", table, provenance)
    rep = dict(report or {})
    rep.setdefault("units_outside", int((unit_area < 0).sum()))
    rep.setdefault("population_outside", int(atlas.population[unit_area < 0].sum()))
    return Reference(name=name, label=label, layer=layer, unit_area=unit_area, source=source, report=rep)


def reference_geometry(atlas, ref: Reference) -> np.ndarray:
    """The outline of every area, dissolved from its units (computed once, then kept)."""
    table = ref.layer.table
    if len(table) and table.geometry.notna().all():
        return table.geometry.to_numpy()
    geoms = atlas.units.geometry.to_numpy()
    out = []
    for i in range(len(table)):
        members = np.flatnonzero(ref.unit_area == i)
        out.append(dissolve_units(geoms, members) if len(members) else None)
    table.set_geometry(gpd.GeoSeries(out, crs=CRS), inplace=True)
    return table.geometry.to_numpy()


# ------------------------------------------------------------------ from a code table
def _level_codes(atlas, level: str) -> tuple[dict[str, int], np.ndarray]:
    """Code -> index at ``level`` and the index of every unit at that level."""
    if level == "lsoa":
        codes = atlas.unit_codes
        return {c: i for i, c in enumerate(codes)}, np.arange(atlas.n_units)
    layer = atlas.layers[level]
    return {c: i for i, c in enumerate(layer.table["code"].astype(str))}, atlas.unit_level(level)


def _shown(items: list, limit: int = 12) -> str:
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(str(x) for x in items[:limit]) + more


def from_members(atlas, name: str, label: str, members: pd.DataFrame, level: str, path=None,
                 provenance: Provenance | None = None, source: str = "", report: dict | None = None) -> Reference:
    """A reference geography from ``members`` (columns ``member`` — a district, council or
    LSOA code — ``code``, ``name`` and optionally ``status``, ``date``, ``code_kind``)."""
    if level not in LEVELS:
        raise DataError(path, f"unknown level {level!r} (use district, council or lsoa)")
    index, unit_idx = _level_codes(atlas, level)
    m = members.copy()
    m["member"] = m["member"].astype(str).str.strip()
    m = m[m["member"] != ""]
    if m.empty:
        raise DataError(path, "no rows: the file maps no codes to areas")
    unknown = sorted(set(m["member"]) - set(index))
    what = {"district": "district", "council": "council", "lsoa": "LSOA"}[level]
    if unknown:
        raise DataError(path, f"{len(unknown)} unknown {what} code{'s' if len(unknown) != 1 else ''} "
                              f"(not in the data pack {atlas.name!r}): {_shown(unknown)}")
    dup = m.drop_duplicates(["member", "code"])
    twice = dup[dup["member"].duplicated(keep=False)]
    if len(twice):
        first = twice["member"].iloc[0]
        names = twice[twice["member"] == first]["name"].astype(str).tolist()
        n = twice["member"].nunique()
        raise DataError(path, f"overlapping areas: {n} {what} code{'s are' if n != 1 else ' is'} in two areas, "
                              f"e.g. {first} in both {names[0]!r} and {names[1]!r}")
    areas = m.drop_duplicates("code")[[c for c in AREA_COLUMNS if c in m.columns]].reset_index(drop=True)
    if areas["name"].astype(str).duplicated().any():
        dupn = areas["name"][areas["name"].astype(str).duplicated()].iloc[0]
        raise DataError(path, f"two areas share the name {dupn!r} with different codes")
    area_of = {c: i for i, c in enumerate(areas["code"])}
    member_area = np.full(max(index.values(), default=-1) + 1, -1, np.int32)
    for mem, code in zip(dup["member"], dup["code"]):
        member_area[index[mem]] = area_of[code]
    unit_area = member_area[unit_idx]
    prov = provenance or Provenance(source=f"{Path(path).name if path else name}: {what} codes mapped to areas",
                                    vintage="as supplied", licence="as supplied", attribution="")
    rep = dict(report or {})
    rep.update({"level": level, "members": int(len(dup))})
    ref = make_reference(atlas, name, label, areas, unit_area, prov, source or str(path or ""), rep)
    ref.level = level
    cols = ["member", "code", "name", "status", "date", "code_kind"]
    ref.members = dup.reindex(columns=cols).fillna("").reset_index(drop=True)
    return ref


def _pick(columns, wanted, path, what: str, given: str | None) -> str | None:
    if given:
        if given not in columns:
            raise DataError(path, f"no column {given!r} (columns: {', '.join(map(str, columns))})")
        return given
    low = {str(c).lower(): c for c in columns}
    for w in wanted:
        if w in low:
            return low[w]
    return None


def read_area_csv(atlas, name: str, path, level: str | None = None, name_field: str | None = None,
                  code_field: str | None = None, label: str | None = None) -> Reference:
    """A reference geography from a CSV: one row per district, council or LSOA code with the
    name of its area.  Columns (case-insensitive): the member code (``district``, ``lad_code``,
    ``council``, ``lsoa``, ``lsoa21cd``, ``code`` ...), the area name (``area``, ``name`` or
    ``--name-field``), optionally ``area_code``, ``status``, ``date``."""
    path = Path(path)
    check_input(path, "CSV file", MAX_CSV_BYTES)  # regular file, size-checked: never a FIFO or device
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(path, f"cannot read as CSV ({exc})") from None
    cols = list(df.columns)
    member_names = {
        "district": ["district", "district_code", "lad_code", "ladcd", "lad25cd", "lad24cd", "lad23cd", "lad21cd"],
        "council": ["council", "council_code", "utla_code", "utlacd", "ctyua_code"],
        "lsoa": ["lsoa", "lsoa_code", "lsoa21cd", "lsoa11cd", "lsoacd"],
    }
    if level is None:
        for lv, names in member_names.items():
            if _pick(cols, names, path, "member", None):
                level = lv
                break
        level = level or "district"
    if level not in LEVELS:
        raise DataError(path, f"unknown level {level!r} (use district, council or lsoa)")
    mcol = _pick(cols, member_names[level] + ["code"], path, "member", None)
    if mcol is None:
        raise DataError(path, f"no column of {level} codes (expected one of: {', '.join(member_names[level])})")
    ncol = _pick(cols, ["area", "area_name", "name"], path, "name", name_field)
    if ncol is None or ncol == mcol:
        raise DataError(path, "no column naming the areas (expected 'area' or 'name', or give --name-field)")
    ccol = _pick(cols, ["area_code"], path, "code", code_field)
    members = pd.DataFrame({"member": df[mcol], "name": df[ncol].astype(str).str.strip()})
    if (members["name"] == "").any():
        bad = int((members["name"] == "").sum())
        raise DataError(path, f"{bad} row{'s have' if bad != 1 else ' has'} no area name in column {ncol!r}")
    from icbmap.guards import text_problem

    for i, n in enumerate(members["name"].tolist()):
        problem = text_problem(n, f"row {i + 2}'s area name")
        if problem:
            raise DataError(path, problem)
    if ccol:
        members["code"] = df[ccol].astype(str).str.strip()
        members["code_kind"] = np.where(members["code"] == "", LOCAL_CODE_KIND, "as supplied")
        empty = members["code"] == ""
        members.loc[empty, "code"] = [local_code(name, n) for n in members.loc[empty, "name"]]
    else:
        members["code"] = [local_code(name, n) for n in members["name"]]
        members["code_kind"] = LOCAL_CODE_KIND
    for extra in ("status", "date"):
        c = _pick(cols, [extra], path, extra, None)
        members[extra] = df[c].astype(str) if c else ""
    return from_members(atlas, name, label or name.replace("_", " "), members, level, path)


# ------------------------------------------------------------------ from polygons
def read_polygons(path, name_field: str | None = None, code_field: str | None = None) -> gpd.GeoDataFrame:
    """Polygons with columns ``name``, ``code`` in EPSG:27700; errors name the file."""
    import pyogrio

    path = Path(path)
    check_input(path, "polygon file", MAX_POLYGON_BYTES)  # GDAL would hang on a FIFO
    from icbmap.atlas.geomcheck import check_geojson, check_names

    check_geojson(path, name_field)  # null, empty, unclosed, non-finite, unknown CRS: each its message
    try:
        gdf = gpd.read_file(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError, ValueError) as exc:
        raise DataError(path, f"cannot read polygons ({str(exc).splitlines()[0]})") from None
    except shapely.errors.ShapelyError as exc:   # GEOS: an unclosed ring, too few points
        raise DataError(path, f"invalid polygon geometry ({str(exc).splitlines()[0][:200]})") from None
    if gdf.empty:
        raise DataError(path, "no features")
    for i, g in enumerate(gdf.geometry.to_numpy()):
        if g is None:
            raise DataError(path, f"feature #{i + 1} has no geometry (null)")
        if g.is_empty:
            raise DataError(path, f"feature #{i + 1} is an empty polygon")
        if not np.all(np.isfinite(g.bounds)):
            raise DataError(path, f"feature #{i + 1} has a coordinate that is not a finite number")
    kinds = set(gdf.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise DataError(path, f"expected polygons, found {', '.join(sorted(kinds))}")
    if gdf.crs is None:
        raise DataError(path, "the polygons have no coordinate reference system; save them with one "
                              "(EPSG:27700 British National Grid or EPSG:4326)")
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    ncol = _pick(cols, ["name", "area", "area_name"], path, "name", name_field)
    if ncol is None:
        ends = [c for c in cols if str(c).lower().endswith("nm")]
        if len(ends) == 1:
            ncol = ends[0]
    if ncol is None:
        raise DataError(path, f"no field naming the areas: give --name-field (fields: {', '.join(map(str, cols))})")
    check_names(gdf, ncol, path)
    ccol = _pick(cols, ["code", "area_code"], path, "code", code_field)
    if gdf.crs.is_geographic:
        b = gdf.total_bounds
        if b[0] < -180 or b[2] > 180 or b[1] < -90 or b[3] > 90:
            raise DataError(path, f"coordinates ({b[0]:.0f}, {b[1]:.0f}) ... do not fit the file's CRS "
                                  f"({gdf.crs.to_string()}): wrong CRS?")
    try:
        gdf = gdf.to_crs(CRS)
    except Exception as exc:  # pyproj errors vary by version
        raise DataError(path, f"cannot reproject from {gdf.crs.to_string()} to {CRS} ({exc})") from None
    b = gdf.total_bounds
    if not np.all(np.isfinite(b)):
        raise DataError(path, "the coordinates do not fit the file's CRS: wrong CRS?")
    out = gpd.GeoDataFrame({"name": gdf[ncol].astype(str).str.strip(),
                            "code": gdf[ccol].astype(str) if ccol else ""},
                           geometry=shapely.make_valid(gdf.geometry.to_numpy()), crs=CRS)
    return out.reset_index(drop=True)


def from_polygons(atlas, name: str, path, name_field: str | None = None, code_field: str | None = None,
                  label: str | None = None) -> Reference:
    """Each LSOA to the polygon holding its point-on-surface; cut LSOAs in ``report["cut"]``."""
    path = Path(path)
    polys = read_polygons(path, name_field, code_field)
    ax0, ay0, ax1, ay1 = atlas.bounds
    px0, py0, px1, py1 = polys.total_bounds
    if px1 < ax0 or px0 > ax1 or py1 < ay0 or py0 > ay1:
        raise DataError(path, f"the polygons lie outside England (bounds {px0:.0f}, {py0:.0f}, {px1:.0f}, "
                              f"{py1:.0f} in {CRS}): wrong CRS?")
    geoms = polys.geometry.to_numpy()
    xy = atlas.unit_xy
    pts = shapely.points(xy[:, 0], xy[:, 1])
    tree = shapely.STRtree(geoms)
    pi, gi = tree.query(pts, predicate="within")
    if len(pi) == 0:
        raise DataError(path, "no LSOA of England lies inside any polygon: polygons outside England or in the "
                              "wrong CRS?")
    counts = np.bincount(pi, minlength=len(pts))
    if (counts > 1).any():
        both = np.flatnonzero(counts > 1)
        u = both[0]
        names = polys["name"].to_numpy()[gi[pi == u]]
        raise DataError(path, f"overlapping areas: {len(both)} LSOA{'s lie' if len(both) != 1 else ' lies'} in two "
                              f"polygons, e.g. {atlas.unit_codes[u]} in both {names[0]!r} and {names[1]!r}")
    poly_of_unit = np.full(len(pts), -1, np.int64)
    poly_of_unit[pi] = gi
    # areas: polygons with the same name form one area
    names = polys["name"].tolist()
    codes = polys["code"].tolist()
    area_names = list(dict.fromkeys(names))
    area_of_name = {n: i for i, n in enumerate(area_names)}
    poly_area = np.array([area_of_name[n] for n in names], np.int64)
    unit_area = np.where(poly_of_unit >= 0, poly_area[np.maximum(poly_of_unit, 0)], -1).astype(np.int32)
    code_of = {}
    for n, c in zip(names, codes):
        if c and c.lower() not in ("nan", "none") and n not in code_of:
            code_of[n] = c
    areas = pd.DataFrame({
        "code": [code_of.get(n) or local_code(name, n) for n in area_names],
        "name": area_names,
        "code_kind": ["as supplied" if n in code_of else LOCAL_CODE_KIND for n in area_names],
    })
    # LSOAs cut by the polygons' edges
    ugeom = atlas.units.geometry.to_numpy()
    utree = shapely.STRtree(ugeom)
    cut_rows = []
    for p, g in enumerate(geoms):
        cand = utree.query(g, predicate="overlaps")
        if not len(cand):
            continue
        inside = shapely.area(shapely.intersection(ugeom[cand], g)) / shapely.area(ugeom[cand])
        for u, share in zip(cand.tolist(), inside.tolist()):
            if CUT_SHARE < share < 1 - CUT_SHARE:
                cut_rows.append({"lsoa": str(atlas.unit_codes[u]), "area": names[p],
                                 "share_of_lsoa_area_inside": round(share, 4),
                                 "population": int(atlas.population[u]),
                                 "assigned_to": area_names[unit_area[u]] if unit_area[u] >= 0 else ""})
    per_area = {}
    for r in cut_rows:
        d = per_area.setdefault(r["area"], {"cut_lsoas": 0, "people_counted_in": 0, "people_left_out": 0})
        d["cut_lsoas"] += 1
        d["people_counted_in" if r["assigned_to"] == r["area"] else "people_left_out"] += r["population"]
    report = {"cut": cut_rows, "cut_by_area": per_area, "cut_lsoas": len({r["lsoa"] for r in cut_rows}),
              "polygons": len(polys)}
    prov = Provenance(source=f"{path.name}: polygons; each LSOA assigned by its point-on-surface",
                      vintage="as supplied", licence="as supplied", attribution="")
    return make_reference(atlas, name, label or name.replace("_", " "), areas, unit_area, prov, str(path), report)


def members_table(atlas, ref: Reference) -> pd.DataFrame:
    """The LSOA -> area table of ``ref`` (for saving a polygon-derived geography)."""
    sel = ref.unit_area >= 0
    t = ref.layer.table
    return pd.DataFrame({"member": atlas.unit_codes[sel],
                         "code": t["code"].to_numpy()[ref.unit_area[sel]],
                         "name": t["name"].to_numpy()[ref.unit_area[sel]],
                         "status": t["status"].to_numpy()[ref.unit_area[sel]],
                         "date": t["date"].to_numpy()[ref.unit_area[sel]],
                         "code_kind": t["code_kind"].to_numpy()[ref.unit_area[sel]]})


#: file suffixes read as polygons by :func:`build_reference` (anything else is a CSV of codes)
POLYGON_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip"}


def build_reference(atlas, name, path, level=None, name_field=None, code_field=None, label=None):
    """A reference geography from a CSV or polygon file (nothing is attached or saved)."""
    path = Path(path)
    try:
        check_name(name)
    except DataError as exc:
        raise DataError(path, exc.problem) from None
    if not path.exists():
        raise DataError(path, "no such file")
    from icbmap.guards import text_problem

    problem = label is not None and text_problem(label, "the label")
    if problem:
        raise DataError("--label", problem)
    if path.suffix.lower() in POLYGON_SUFFIXES:
        return from_polygons(atlas, name, path, name_field, code_field, label)
    return read_area_csv(atlas, name, path, level, name_field, code_field, label)


def describe_reference(ref) -> str:
    """What a reference geography holds and what was left out, in a few lines."""
    t = ref.layer.table
    rep = ref.report
    lines = [f"{ref.name}: {len(t)} areas, {int(t['population'].sum()):,} people; "
             f"{rep.get('units_outside', 0):,} LSOAs ({rep.get('population_outside', 0):,} people) outside every area"]
    if "cut" in rep:
        lines.append(f"LSOAs cut by the polygons' edges: {rep['cut_lsoas']} (each counted whole, by its "
                     "point-on-surface)")
        for area, d in sorted(rep["cut_by_area"].items()):
            lines.append(f"  {area}: {d['cut_lsoas']} cut LSOAs; people in them counted in {d['people_counted_in']:,}, "
                         f"left out {d['people_left_out']:,}")
    for r in rep.get("left_out", []):
        lines.append(f"  left out: {r['area_name']} ({r['status']} {r['date']}): {r['reason']}")
    return "\n".join(lines)


__all__ = ["CUT_SHARE", "LEVELS", "LOCAL_CODE_KIND", "ONS_CODE_KIND", "POLYGON_SUFFIXES", "area_label",
           "build_reference", "check_name", "describe_reference", "from_members", "from_polygons", "local_code",
           "make_reference", "members_table", "read_area_csv", "read_polygons", "reference_geometry"]
