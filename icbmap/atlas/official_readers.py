"""The readers of :mod:`icbmap.atlas.official`, one per kind of official file: the LSOA -> sub-ICB
-> ICB lookup, the LSOA -> district lookup, the Census 2021 population table and the LSOA
boundaries.  Each returns the file's content checked and tidied, or raises one
:class:`~icbmap.errors.DataError` naming the file and the problem; assembling the pack from
them is :mod:`icbmap.atlas.official`'s work.  The four readers (about 520 lines together)
stay side by side because they read alike - through the column detection, size limits and
error wording of :mod:`icbmap.atlas.official_tables` - and a change to one is checked
against the others.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS as ProjCRS

from icbmap.atlas.build import BOARD_COLUMNS, configuration_arrays
from icbmap.atlas.facts import LAD_FILE, Facts
from icbmap.atlas.model import CRS
from icbmap.errors import DataError
from icbmap.progress import Progress
from icbmap.atlas.official_tables import (
    BOUNDARY_SUFFIXES,
    Column,
    ENGLAND_BNG,
    ENGLAND_LONLAT,
    ENGLISH_LSOA,
    GSS_RE,
    LSOA_RE,
    MAX_BOUNDARY_BYTES,
    POP_CODE_NAMES,
    POP_CODE_RE,
    POP_NAME_NAMES,
    POP_VALUE_NAMES,
    POP_VALUE_RE,
    TABLE_SUFFIXES,
    read_table,
    _blank_codes,
    _check_vintage,
    _clean_codes,
    _dedupe,
    _english,
    _examples,
    _existing,
    _found,
    _match,
    _match_year,
    _norm,
    _not_a_table,
    _require,
    _sniff,
    _vintage,
)


# ----------------------------------------------------------------------------- ICB lookup
@functools.lru_cache(maxsize=1)
def _bundled_configurations(folder: str) -> tuple[pd.DataFrame, dict]:
    """(index, configurations) bundled in ``folder``: shipped files, read once per process
    rather than once per board that needs them.  Callers copy before changing them."""
    from icbmap.atlas.bundle import CONFIG_DIR, read_configurations

    return read_configurations(Path(folder) / CONFIG_DIR)


@functools.lru_cache(maxsize=1)
def _bundled_lsoas(folder: str) -> pd.DataFrame:
    """The bundled LSOA table (read once, only when a new board needs its region)."""
    from icbmap.atlas.bundle import LSOA_FILE

    return pd.read_csv(Path(folder) / LSOA_FILE, dtype=str, keep_default_na=False)


def bundled_boards(facts: Facts | None = None) -> pd.DataFrame:
    """Every board icbmap knows, one row per ONS code (:data:`BOARD_COLUMNS` plus
    ``predecessors`` and ``configuration``): the bundled configurations
    (``shapefiles/configurations/``), latest first, so a code in several takes its latest
    name; then any board of ``facts`` no configuration has."""
    from icbmap.paths import shapefiles_dir

    index, configs = _bundled_configurations(str(shapefiles_dir()))
    frames = []
    for key in reversed(list(index["key"])):
        b = configs[key]["boards"].copy()
        b["configuration"] = key
        frames.append(b)
    if facts is not None:
        f = facts.icbs.copy()
        f["predecessors"], f["configuration"] = "", ""
        frames.append(f)
    cols = BOARD_COLUMNS + ["predecessors", "configuration"]
    t = pd.concat([f[cols] for f in frames], ignore_index=True).fillna("")
    return t.drop_duplicates("icb_code", keep="first").set_index("icb_code", drop=False)


@dataclass
class IcbLookup:
    path: Path
    table: pd.DataFrame  # code, lsoa_name, place_code, place_name, board_code
    place_vintage: str
    board_vintage: str
    recoded: dict[str, str] = field(default_factory=dict)
    #: the board table of this configuration (:data:`~icbmap.atlas.build.BOARD_COLUMNS`)
    boards: pd.DataFrame | None = None
    #: boards no bundled configuration knows: code -> how they were named and placed
    new_boards: dict[str, str] = field(default_factory=dict)
    board_year: str | None = None


def _first_value(t: pd.DataFrame, col: str) -> dict[str, str]:
    """Per board code, the first non-blank value of ``col``."""
    v = t[t[col] != ""]
    return dict(zip(v.drop_duplicates("board_code")["board_code"], v.drop_duplicates("board_code")[col]))


def _regions_from_lsoas(codes: set[str]) -> list[tuple[str, str, str, list[str], list[str]]]:
    """Per bundled configuration (latest first): (key, vintage, region code or "", the region
    codes, the boards) of the boards ``codes`` (LSOAs) lie in."""
    from icbmap.atlas.bundle import configuration_units
    from icbmap.paths import shapefiles_dir

    lsoa = _bundled_lsoas(str(shapefiles_dir()))
    lsoa = lsoa[lsoa["code"].isin(codes)].reset_index(drop=True)
    if lsoa.empty:
        return []
    index, configs = _bundled_configurations(str(shapefiles_dir()))
    vintages = dict(zip(index["key"], index["vintage"]))
    out = []
    for key in reversed(list(index["key"])):
        boards = sorted(set(configuration_units(lsoa, configs[key])["board_code"]))
        region = configs[key]["boards"].set_index("icb_code")["nhs_region_code"]
        regions = sorted({region[b] for b in boards if b in region.index})
        out.append((key, vintages[key], regions[0] if len(regions) == 1 else "", regions, boards))
    return out


def _resolve_boards(t: pd.DataFrame, path: Path, what: str, board: Column, board_name: Column | None,
                    nhser: Column | None, facts: Facts) -> tuple[pd.DataFrame, dict, dict]:
    """The board table of the file's configuration; ``t.board_code`` is recoded in place.

    A code a bundled configuration knows takes its name and NHS region from there.  An
    unknown code whose NHS code (``ICB..CDH``) is that of a known board is that board,
    recoded (ONS recodes boards whose boundary changes).  Any other code is a new board,
    named from the file and placed in the region the file gives it, else in the one region
    its LSOAs' boards lay in in a bundled configuration; a new board without a name, or
    without a region either way, is an error.
    """
    known = bundled_boards(facts)
    file_codes = set(t["board_code"])
    by_nhs: dict[str, str] = {}
    for code, nhs in zip(known["icb_code"], known["icb_code_nhs"].str.upper()):
        by_nhs.setdefault(nhs, code)  # latest configuration first
    nhs_of = {c: set(t.loc[t["board_code"] == c, "board_nhs"]) - {""} for c in sorted(file_codes - set(known.index))}
    recoded: dict[str, str] = {}
    for code, nhs in nhs_of.items():
        target = by_nhs.get(next(iter(nhs))) if len(nhs) == 1 else None
        if target in known.index and target not in file_codes and target not in recoded.values():
            recoded[code] = target
    if recoded:
        t["board_code"] = t["board_code"].map(lambda c: recoded.get(c, c))
    new = sorted(set(t["board_code"]) - set(known.index))

    names = _first_value(t, "board_name") if board_name else {}
    unnamed = [c for c in new if not names.get(c)]
    if unnamed:
        where = (f"no name for them in column {board_name.name}" if board_name else
                 f"no board name column (ICB{board.year or '26'}NM) to name them")
        raise DataError(path, f"{what}: {len(unnamed)} board code(s) in column {board.name} that no bundled "
                              f"configuration knows, e.g. {_examples(unnamed)}, and {where}; icbmap knows the "
                              "boards of the July 2022, April 2024 and April 2026 configurations "
                              "(shapefiles/configurations/) and names any other board from the file")
    named = t[(t["region_code"] != "") & (t["region_name"] != "")].drop_duplicates("region_code") \
        if nhser else t.iloc[:0]
    # bundled region names first, so a region keeps one name whichever boards it holds
    region_names = {**dict(zip(named["region_code"], named["region_name"])),
                    **dict(zip(known["nhs_region_code"], known["nhs_region_name"]))}
    if nhser:
        # a board in two NHS regions is refused, known or new, as for any configuration table
        pairs = t.loc[t["region_code"] != "", ["board_code", "region_code"]].drop_duplicates()
        bare = sorted(set(t["board_code"]) - set(pairs["board_code"]))
        check = pd.DataFrame({
            "icb_code": list(pairs["board_code"]) + bare, "icb_code_nhs": "",
            "icb_name": list(pairs["board_code"]) + bare,
            "nhs_region_code": list(pairs["region_code"]) + [""] * len(bare), "nhs_region_name": ""})
        configuration_arrays(t["place_code"], t["place_name"], t["board_code"], check,
                             fail=lambda col, problem: DataError(path, f"{what}: {problem} "
                                                                       f"(columns {board.name}, {nhser.name})"))
    file_region = _first_value(t, "region_code") if nhser else {}
    nhs_codes = _first_value(t, "board_nhs")

    rows, notes = [], {}
    for code in sorted(set(t["board_code"])):
        if code in known.index:
            rows.append(known.loc[code, BOARD_COLUMNS].to_dict())
            continue
        region = file_region.get(code, "")
        if region:
            how = f"NHS region {region} from column {nhser.name}"
        else:
            members = set(t.loc[t["board_code"] == code, "code"])
            tried = _regions_from_lsoas(members)
            hit = next((x for x in tried if x[2]), None)
            if hit is None:
                seen = "; ".join(f"{v}: {', '.join(r)}" for _k, v, _r, r, _b in tried if r) or "none"
                raise DataError(path, f"{what}: new board {code} ({names[code]}) has no NHS region: the file "
                                      f"gives none (no NHS region column such as NHSER{board.year or '26'}CD"
                                      f"{' or a blank one' if nhser else ''}) and its LSOAs do not lie in the "
                                      f"boards of one region in any bundled configuration (regions {seen}); "
                                      "add the NHS region columns (code and name)")
            region = hit[2]
            how = (f"NHS region {region} from its LSOAs' {hit[1]} boards "
                   f"({', '.join(hit[4])})")
        rows.append({"icb_code": code, "icb_code_nhs": nhs_codes.get(code, ""), "icb_name": names[code],
                     "nhs_region_code": region, "nhs_region_name": region_names.get(region) or region})
        notes[code] = f"{code} {names[code]} ({how})"
    return pd.DataFrame(rows, columns=BOARD_COLUMNS), recoded, notes


def read_icb_lookup(path, facts: Facts) -> IcbLookup:
    what = "LSOA to sub-ICB location to ICB lookup"
    df = read_table(path, what)
    path = Path(path).expanduser()
    cols = df.columns
    lsoa = _require(cols, "lsoa", "code", path, what)
    place = _require(cols, "sicbl", "code", path, what)
    board = _require(cols, "icb", "code", path, what)
    place_name = _match_year(cols, "sicbl", "name", place.year)
    board_name = _match_year(cols, "icb", "name", board.year)
    board_nhs = _match_year(cols, "icb", "nhs", board.year)
    nhser = _match(cols, "nhser", "code")
    nhser_name = _match_year(cols, "nhser", "name", nhser.year) if nhser else None
    lsoa_name = _match(cols, "lsoa", "name")

    def text(col):
        return df[col.name].fillna("").astype(str).str.strip() if col else ""

    t = pd.DataFrame({
        "code": _clean_codes(df[lsoa.name]),
        "lsoa_name": text(lsoa_name),
        "place_code": _clean_codes(df[place.name]),
        "place_name": text(place_name),
        "board_code": _clean_codes(df[board.name]),
        "board_nhs": _clean_codes(df[board_nhs.name]) if board_nhs else "",
        "board_name": text(board_name),
        "region_code": _clean_codes(df[nhser.name]) if nhser else "",
        "region_name": text(nhser_name),
    })
    t = _english(t, path, what, lsoa.name)
    t = _dedupe(t, path, what)
    _blank_codes(t, "place_code", path, what, f"sub-ICB location code ({place.name})")
    _blank_codes(t, "board_code", path, what, f"ICB code ({board.name})")
    t["place_name"] = t["place_name"].where(t["place_name"] != "", t["place_code"])
    t = t.reset_index(drop=True)
    boards, recoded, new = _resolve_boards(t, path, what, board, board_name, nhser, facts)
    # a sub-ICB location in two boards is refused here, naming the file
    configuration_arrays(t["place_code"], t["place_name"], t["board_code"], boards,
                         fail=lambda col, problem: DataError(path, f"{what}: {problem}"))
    keep = ["code", "lsoa_name", "place_code", "place_name", "board_code"]
    return IcbLookup(path, t[keep], _vintage(place.year, "sicbl"), _vintage(board.year, "icb"), recoded,
                     boards=boards, new_boards=new, board_year=board.year)


# ----------------------------------------------------------------------------- LAD lookup
@dataclass
class LadLookup:
    path: Path
    table: pd.DataFrame  # code, lsoa_name, lad_code (2025)
    year: str | None
    recoded: dict[str, str] = field(default_factory=dict)


def read_lad_lookup(path, facts: Facts) -> LadLookup:
    what = "LSOA to local authority district lookup"
    df = read_table(path, what)
    path = Path(path).expanduser()
    cols = df.columns
    lsoa = _require(cols, "lsoa", "code", path, what)
    lad = _require(cols, "lad", "code", path, what)
    lsoa_name = _match(cols, "lsoa", "name")
    t = pd.DataFrame({
        "code": _clean_codes(df[lsoa.name]),
        "lsoa_name": df[lsoa_name.name].str.strip() if lsoa_name else "",
        "lad_code": _clean_codes(df[lad.name]),
    })
    t = _english(t, path, what, lsoa.name)
    t = _dedupe(t, path, what)
    _blank_codes(t, "lad_code", path, what, f"district code ({lad.name})")
    new = facts.recode_lad(t["lad_code"])
    recoded = {o: n for o, n in zip(t["lad_code"], new) if o != n}
    known = set(facts.lads["lad_code"])
    unknown = sorted(set(new) - known)
    if unknown:
        raise DataError(path, f"{what}: {len(unknown)} unknown district code(s) in column {lad.name}, e.g. "
                              f"{_examples(unknown)}; icbmap knows the {len(known)} English districts of "
                              f"2025 (shapefiles/{LAD_FILE}; 2024 codes are recoded)")
    t["lad_code"] = new.to_numpy()
    return LadLookup(path, t.reset_index(drop=True), lad.year, dict(sorted(recoded.items())))


# ----------------------------------------------------------------------------- population
@dataclass
class PopulationTable:
    path: Path
    table: pd.DataFrame  # code, lsoa_name, population (int64)
    column: str


def read_population(path) -> PopulationTable:
    what = "LSOA population table"
    df = read_table(path, what, code_names=POP_CODE_NAMES, extra_patterns=(POP_CODE_RE,))
    path = Path(path).expanduser()
    cols = list(df.columns)
    norm = {c: _norm(c) for c in cols}
    code_col = _match(cols, "lsoa", "code")
    code = code_col.name if code_col else next(
        (c for c in cols if norm[c] in POP_CODE_NAMES or POP_CODE_RE.fullmatch(norm[c])), None)
    if code is None:
        raise DataError(path, f"{what}: missing column for the LSOA 2021 code (expected LSOA21CD, "
                              f"lsoa21_code or 'geography code'); found {_found(cols)}")
    value = next((c for name in POP_VALUE_NAMES for c in cols if c != code and norm[c] == name), None)
    if value is None:
        value = next((c for c in cols if c != code and POP_VALUE_RE.search(norm[c])), None)
    if value is None:
        raise DataError(path, f"{what}: missing population column (expected one named 2021, "
                              f"population, 'usual residents', observation, count or value); "
                              f"found {_found(cols)}")
    name_col = _match(cols, "lsoa", "name")
    name = name_col.name if name_col else next(
        (c for c in cols if c != code and (norm[c] in POP_NAME_NAMES or norm[c] + " code" == norm[code])), None)

    codes = _clean_codes(df[code])
    raw = df[value].fillna("").astype(str).str.strip()
    is_code = codes.str.match(LSOA_RE)
    # Nomis tables end with blank lines and footnotes: rows with neither an LSOA code nor a
    # count.  Rows of other geographies (a country total, say) are left out too.  A count
    # beside something that is not a geography code is a real problem.
    other_area = codes.str.match(GSS_RE) & ~is_code
    stray = ~is_code & ~other_area & (raw != "")
    if stray.any():
        eg = ", ".join(f"{c!r} with {v!r}" for c, v in zip(codes[stray][:3], raw[stray][:3]))
        raise DataError(path, f"{what}: {int(stray.sum()):,} row(s) with a count but no LSOA code in "
                              f"column {code}, e.g. {eg}")
    t = pd.DataFrame({"code": codes, "lsoa_name": df[name].str.strip() if name else "",
                      "raw": raw})[is_code.to_numpy()]
    t = _english(t, path, what, code)
    digits = t["raw"].str.replace(",", "", regex=False).str.replace(" ", "", regex=False)
    num = pd.to_numeric(digits, errors="coerce")
    bad = num.isna() | (num < 0) | (num != np.floor(num.fillna(0)))
    if bad.any():
        rows = t[bad.to_numpy()]
        eg = ", ".join(f"{r.code}: {r.raw!r}" for r in rows.head(3).itertuples())
        raise DataError(path, f"{what}: {int(bad.sum()):,} non-numeric or negative population value(s) "
                              f"in column {value}, e.g. {eg}")
    t["population"] = num.astype(np.int64).to_numpy()
    t = _dedupe(t[["code", "lsoa_name", "population"]], path, what)
    return PopulationTable(path, t.reset_index(drop=True), value)


# ----------------------------------------------------------------------------- boundaries
@dataclass
class Boundaries:
    path: Path
    frame: gpd.GeoDataFrame  # code, name, geometry (EPSG:27700), English only
    layer: str
    driver: str
    crs: str
    crs_note: str = ""


def _crs_label(crs) -> str:
    try:
        c = ProjCRS.from_user_input(crs)
    except Exception:
        return str(crs)[:60]
    epsg = c.to_epsg()
    return f"{c.name} (EPSG:{epsg})" if epsg else c.name


def _pick_layer(path: Path, what: str) -> str | None:
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:
        raise DataError(path, f"{what}: not a readable GeoJSON, GeoPackage or shapefile "
                              f"({exc.__class__.__name__}: {str(exc).strip()[:200]})") from exc
    if len(layers) == 0:
        raise DataError(path, f"{what}: the file holds no layers")
    if len(layers) == 1:
        return str(layers[0][0])
    polygonal = [str(n) for n, t in layers if t and "polygon" in str(t).lower()]
    for name in polygonal:
        fields = pyogrio.read_info(path, layer=name)["fields"]
        if _match(fields, "lsoa", "code"):
            return name
    if polygonal:
        return polygonal[0]
    return str(layers[0][0])


def read_boundaries(path, progress: Progress | None = None) -> Boundaries:
    progress = progress or Progress.silent()
    what = "LSOA boundaries"
    path = _existing(path, what, MAX_BOUNDARY_BYTES)
    if path.suffix.lower() == ".shp":  # GDAL opens the side files too: a FIFO there would hang it
        for side in path.parent.glob(f"{path.stem}.*"):
            _existing(side, what, MAX_BOUNDARY_BYTES)
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        raise DataError(path, f"{what}: a {suffix[1:].upper()} table is not a boundary file; "
                              f"--boundaries takes GeoJSON, GeoPackage or a shapefile "
                              f"(lookup CSVs go to --icb-lookup / --lad-lookup)")
    if path.is_file():
        head = _sniff(path)
        if suffix not in BOUNDARY_SUFFIXES and _not_a_table(head) is None and not head.startswith(b"\x00"):
            # plain text that is not JSON: a CSV/TXT table with another extension
            raise DataError(path, f"{what}: this looks like a text table, not GeoJSON, GeoPackage "
                                  "or a shapefile")
        if not head.strip():
            raise DataError(path, f"{what}: the file is empty")
    layer = _pick_layer(path, what)
    try:
        info = pyogrio.read_info(path, layer=layer)
    except Exception as exc:
        raise DataError(path, f"{what}: cannot read layer {layer!r} ({exc})") from exc
    if info.get("geometry_type") is None:
        raise DataError(path, f"{what}: layer {layer!r} has no geometry; --boundaries takes "
                              "polygons (GeoJSON, GeoPackage or shapefile)")
    fields = list(info["fields"])
    code = _require(fields, "lsoa", "code", path, what)
    name = _match(fields, "lsoa", "name")
    progress.step(0.1, f"Reading {path.name}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = pyogrio.read_dataframe(path, layer=layer, columns=[code.name] + ([name.name] if name else []))
    except Exception as exc:
        raise DataError(path, f"{what}: cannot read the features ({exc.__class__.__name__}: "
                              f"{str(exc).strip()[:200]})") from exc
    progress.step(0.6, "Checking boundaries")
    g["code"] = _clean_codes(g[code.name])
    g["name"] = g[name.name].fillna("").astype(str).str.strip() if name else ""
    g = g[g["code"].str.startswith(ENGLISH_LSOA)]
    if g.empty:
        raise DataError(path, f"{what}: no English LSOA 2021 codes (E01...) in column {code.name}")
    _check_vintage(g["code"], path, what, code.name)
    dup = g["code"].duplicated(keep=False)
    if dup.any():
        codes = sorted(set(g.loc[dup, "code"]))
        raise DataError(path, f"{what}: {len(codes):,} LSOA code(s) appear on more than one feature, "
                              f"e.g. {_examples(codes)}")
    geoms = g.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        raise DataError(path, f"{what}: {int(empty.sum()):,} LSOA(s) without a shape, "
                              f"e.g. {_examples(g.loc[empty, 'code'])}")
    types = set(shapely.get_type_id(geoms).tolist())
    if not types <= {3, 6}:  # Polygon, MultiPolygon
        kinds = sorted({str(t) for t in g.geom_type.unique()} - {"Polygon", "MultiPolygon"})
        hint = " (is this a centroid file?)" if any("Point" in k for k in kinds) else ""
        raise DataError(path, f"{what}: {', '.join(kinds)} geometries, not polygons{hint}; "
                              "--boundaries takes the LSOA boundary polygons")
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
        g[g.geometry.name] = gpd.GeoSeries(geoms, index=g.index, crs=g.crs)

    xmin, ymin, xmax, ymax = (float(v) for v in shapely.total_bounds(geoms))
    extent = f"x {xmin:,.1f} to {xmax:,.1f}, y {ymin:,.1f} to {ymax:,.1f}"
    lonlat_ok = -180 <= xmin and xmax <= 180 and -90 <= ymin and ymax <= 90
    crs_note = ""
    if g.crs is None:
        if lonlat_ok and _inside((xmin, ymin, xmax, ymax), ENGLAND_LONLAT):
            g = g.set_crs("EPSG:4326")
            crs_note = "no CRS in the file; coordinates read as longitude/latitude (WGS 84)"
        else:
            where = ("look like longitude/latitude but lie outside England" if lonlat_ok
                     else "are not longitude/latitude")
            raise DataError(path, f"{what}: the file has no coordinate reference system and its "
                                  f"coordinates ({extent}) {where}; save it with its CRS (ONS "
                                  "boundaries are usually British National Grid, EPSG:27700), "
                                  "e.g. add the shapefile's .prj file")
    declared = _crs_label(g.crs)
    if g.crs.is_geographic and not lonlat_ok:
        hint = (" (GeoJSON is read as longitude/latitude unless it names another CRS)"
                if info.get("driver") == "GeoJSON" else "")
        raise DataError(path, f"{what}: wrong CRS: the file declares {declared}, in degrees, but its "
                              f"coordinates ({extent}) are not longitude/latitude{hint}; they look "
                              "like metres, e.g. British National Grid (EPSG:27700)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = g.to_crs(CRS) if not g.crs.equals(CRS) else g
    except Exception as exc:
        raise DataError(path, f"{what}: cannot convert from {declared} to British National Grid "
                              f"({exc})") from exc
    bng = out.geometry.to_numpy()
    b = tuple(float(v) for v in shapely.total_bounds(bng))
    if not np.all(np.isfinite(b)) or not _inside(b, ENGLAND_BNG):
        shown = ("not finite" if not np.all(np.isfinite(b)) else
                 f"x {b[0]:,.0f} to {b[2]:,.0f}, y {b[1]:,.0f} to {b[3]:,.0f}")
        raise DataError(path, f"{what}: wrong CRS: read as {declared}, the LSOAs fall outside England "
                              f"on British National Grid ({shown}); the file's coordinates ({extent}) "
                              "do not match its declared CRS")
    med = float(np.median(shapely.area(bng)))
    if med < 100.0:
        raise DataError(path, f"{what}: wrong CRS: read as {declared}, the median LSOA covers only "
                              f"{med:,.2f} m\u00b2; the coordinates ({extent}) look like degrees in a "
                              "file that declares a projected CRS")
    frame = gpd.GeoDataFrame({"code": out["code"].to_numpy(), "name": out["name"].to_numpy()},
                             geometry=bng, crs=CRS)
    progress.step(1.0, f"{len(frame):,} English LSOAs read")
    return Boundaries(path, frame.reset_index(drop=True), layer, str(info.get("driver", "")),
                      declared, crs_note)


def _inside(b, box) -> bool:
    return b[0] >= box[0] and b[1] >= box[1] and b[2] <= box[2] and b[3] <= box[3]
