"""Assemble an :class:`Atlas` from a table of LSOAs, whatever route they came by.

Both the offline pack (PyPI-shipped data) and ``icbmap data import`` (official files) reduce
their inputs to one frame — code, name, district code, place code and name, board code,
population (or none), geometry in EPSG:27700 — and hand it here.  Everything else (repair,
dissolves, adjacency, provenance, content hash) happens once, in this module.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from icbmap import __version__
from icbmap.atlas import geometry as geo
from icbmap.atlas.facts import CA_PROVENANCE, ICB_PROVENANCE, LAD_PROVENANCE, Facts
from icbmap.atlas.model import CRS, LEVELS, Atlas, Layer, Provenance
from icbmap.errors import DataError
from icbmap.progress import Progress

#: Bump when the build changes what it produces; part of every cache key.
BUILDER_VERSION = "2"  # 2: rook adjacency reads every part of MultiPolygon units

APPORTIONED = "Census 2021 usual residents, apportioned from district totals"

REQUIRED = ["code", "name", "lad_code", "place_code", "place_name", "board_code", "geometry"]


@dataclass
class UnitSource:
    """What a builder hands to :func:`assemble`.

    ``frame`` holds one row per LSOA with :data:`REQUIRED` columns and optionally
    ``population`` (int).  ``files`` names the input file behind each column, so errors
    can point at it.
    """

    frame: gpd.GeoDataFrame
    provenance: dict[str, Provenance]
    files: dict[str, str]
    name: str
    population_basis: str | None = None  # None: apportion from district totals
    #: the board table of the units' configuration (columns of ``Facts.icbs``); None: the
    #: bundled board tables (every configuration icbmap knows)
    boards: pd.DataFrame | None = None


BOARD_COLUMNS = ["icb_code", "icb_code_nhs", "icb_name", "nhs_region_code", "nhs_region_name"]


@dataclass
class ConfigArrays:
    """One board configuration over the units: unit -> place, board, region indices and the
    attribute tables (code, name, ...) of the place, board and region layers."""

    place: np.ndarray
    board: np.ndarray
    region: np.ndarray
    board_region: np.ndarray
    tables: dict[str, pd.DataFrame]


def configuration_arrays(place_code: pd.Series, place_name: pd.Series, board_code: pd.Series,
                         boards: pd.DataFrame, fail=None, place_code_nhs: pd.Series | None = None) -> ConfigArrays:
    """Index a configuration given per unit by place and board codes.

    ``boards`` has :data:`BOARD_COLUMNS` (one row per board; a board in two NHS regions is
    refused).  Boards are ordered by code, places by code, regions by code.
    """
    def _err(col, problem):
        return fail(col, problem) if fail else DataError(None, problem)

    place_code = pd.Series(place_code).astype(str).reset_index(drop=True)
    place_name = pd.Series(place_name).astype(str).reset_index(drop=True)
    board_code = pd.Series(board_code).astype(str).reset_index(drop=True)
    regions_per_board = boards.groupby("icb_code")["nhs_region_code"].nunique()
    if (regions_per_board > 1).any():
        bad = regions_per_board[regions_per_board > 1].index[:5].tolist()
        raise _err("board_code", f"board(s) listed in more than one NHS region: {', '.join(bad)}")
    icbs = boards.drop_duplicates("icb_code").set_index("icb_code")
    unknown = sorted(set(board_code) - set(icbs.index))
    if unknown:
        raise _err("board_code", f"{len(unknown)} unknown board (ICB) code(s), e.g. {', '.join(unknown[:5])}")
    board_codes = sorted(set(board_code))
    board_index = {c: i for i, c in enumerate(board_codes)}
    board = board_code.map(board_index).to_numpy(np.int32)
    btab = icbs.loc[board_codes].reset_index()
    region_codes = sorted(set(btab["nhs_region_code"]))
    region_index = {c: i for i, c in enumerate(region_codes)}
    b_region = btab["nhs_region_code"].map(region_index).to_numpy(np.int32)
    region_names = btab.drop_duplicates("nhs_region_code").set_index("nhs_region_code")["nhs_region_name"]

    pf = pd.DataFrame({"place_code": place_code, "place_name": place_name, "board_code": board_code})
    if place_code_nhs is not None:
        pf["place_code_nhs"] = pd.Series(place_code_nhs).astype(str).reset_index(drop=True)
    places = pf.drop_duplicates("place_code").sort_values("place_code")
    split_places = pf.groupby("place_code")["board_code"].nunique()
    if (split_places > 1).any():
        bad = split_places[split_places > 1].index[:5].tolist()
        raise _err("place_code", f"place(s) in more than one board: {', '.join(bad)}")
    place_index = {c: i for i, c in enumerate(places["place_code"])}
    place = place_code.map(place_index).to_numpy(np.int32)
    board_table = pd.DataFrame({
        "code": board_codes, "name": btab["icb_name"].to_numpy(),
        "code_nhs": btab["icb_code_nhs"].to_numpy(), "region": b_region,
    })
    tables = {
        "place": pd.DataFrame({
            "code": places["place_code"].to_numpy(), "name": places["place_name"].to_numpy(),
            "board": places["board_code"].map(board_index).to_numpy(np.int32),
            **({"code_nhs": places["place_code_nhs"].to_numpy()} if place_code_nhs is not None else {}),
        }),
        "board": board_table,
        "region": pd.DataFrame({"code": region_codes, "name": [region_names[c] for c in region_codes]}),
    }
    return ConfigArrays(place=place, board=board, region=b_region[board], board_region=b_region,
                        tables=tables)


def dissolve_layers(geoms: np.ndarray, population: np.ndarray,
                    spec: dict[str, tuple[np.ndarray, pd.DataFrame, Provenance]],
                    pop_note: str = "", progress: Progress | None = None) -> dict[str, Layer]:
    """Dissolve the unit coverage into one :class:`Layer` per level of ``spec``
    (level -> (unit group index, attribute table, provenance)); adds ``population``."""
    progress = progress or Progress.silent()
    layers: dict[str, Layer] = {}
    for k, (lvl, (group, t, prov)) in enumerate(spec.items()):
        progress.step(k / max(len(spec), 1), f"Dissolving {lvl} layer")
        t = t.copy()
        n = len(t)
        valid = group >= 0
        t["population"] = np.bincount(group[valid], weights=population[valid], minlength=n).astype(np.int64)
        shapes = geo.dissolve(geoms, np.where(valid, group, -1), n)
        if pop_note:
            prov = Provenance(prov.source, prov.vintage, prov.licence, prov.attribution, note=pop_note)
        layers[lvl] = Layer(lvl, gpd.GeoDataFrame(t, geometry=list(shapes), crs=CRS), prov)
    return layers


def _fail(src: UnitSource, column: str, problem: str) -> DataError:
    return DataError(src.files.get(column), problem)


def _districts(src: UnitSource, f, facts: Facts):
    """Each unit's district (the districts present, in the facts' order), the district table,
    and the councils and combined authorities of the districts."""
    lads = facts.lads.set_index("lad_code")
    lad_codes = facts.recode_lad(f["lad_code"].astype(str))
    unknown = sorted(set(lad_codes) - set(lads.index))
    if unknown:
        raise _fail(src, "lad_code", f"{len(unknown)} unknown district code(s), e.g. {', '.join(unknown[:5])}")
    present = [c for c in facts.lads["lad_code"] if c in set(lad_codes)]
    dist_index = {c: i for i, c in enumerate(present)}
    district = lad_codes.map(dist_index).to_numpy(np.int32)
    dtab = lads.loc[present].reset_index()

    council_codes = list(dict.fromkeys(dtab["council_code"]))
    council_index = {c: i for i, c in enumerate(council_codes)}
    ca_codes = [c for c in facts.cas["ca_code"] if c in set(dtab["ca_code"])]
    ca_index = {c: i for i, c in enumerate(ca_codes)}
    d_council = dtab["council_code"].map(council_index).to_numpy(np.int32)
    d_ca = dtab["ca_code"].map(lambda c: ca_index.get(c, -1)).to_numpy(np.int32)
    return district, dtab, council_codes, ca_codes, d_council, d_ca


def _population(src: UnitSource, f, dtab, district: np.ndarray) -> tuple[np.ndarray, str, bool]:
    """The units' population, its basis, and whether it is estimated (apportioned from the
    districts' Census 2021 totals when the source has none)."""
    if "population" in f.columns and f["population"].notna().all():
        population = f["population"].astype(np.int64).to_numpy()
        basis = src.population_basis or "Census 2021 usual residents"
        estimated = False
    else:
        totals = dtab["population_census2021"].to_numpy(np.int64)
        population = geo.apportion(totals, district, f["code"].to_numpy(dtype=str))
        basis = APPORTIONED
        estimated = True
    return population, basis, estimated


def _area_tables(facts: Facts, dtab, council_codes, ca_codes, d_council, d_ca, cfg) -> dict:
    """The attribute tables of the district, council, CA (and the configuration's) layers."""
    return {
        "district": pd.DataFrame({
            "code": dtab["lad_code"], "name": dtab["lad_name"], "lad_type": dtab["lad_type"],
            "council": d_council, "ca": d_ca,
        }),
        "council": pd.DataFrame({
            "code": council_codes,
            "name": dtab.drop_duplicates("council_code")["council_name"].to_numpy(),
            "council_type": [("county council" if c.startswith("E10") else t)
                             for c, t in zip(dtab.drop_duplicates("council_code")["council_code"],
                                             dtab.drop_duplicates("council_code")["lad_type"])],
        }),
        "ca": facts.cas.set_index("ca_code").loc[ca_codes].reset_index().rename(
            columns={"ca_code": "code", "ca_name": "name"})[["code", "name", "kind", "mayoral"]],
        **cfg.tables,
    }


def assemble(src: UnitSource, facts: Facts | None = None, progress: Progress | None = None) -> Atlas:
    progress = progress or Progress.silent()
    facts = facts or Facts.load()
    f = src.frame
    missing = [c for c in REQUIRED if c not in f.columns]
    if missing:
        raise DataError(None, f"internal: unit source lacks {missing}")
    if f.crs is None or not f.crs.equals(CRS):
        f = f.to_crs(CRS)
    f = f.sort_values("code", kind="stable").reset_index(drop=True)
    if f["code"].duplicated().any():
        dup = f.loc[f["code"].duplicated(), "code"].iloc[:5].tolist()
        raise _fail(src, "code", f"duplicate LSOA codes, e.g. {', '.join(dup)}")

    # ------------------------------------------------------------ districts
    district, dtab, council_codes, ca_codes, d_council, d_ca = _districts(src, f, facts)

    # ------------------------------------------------------------ boards, places, regions
    boards = src.boards if src.boards is not None else facts.icbs
    cfg = configuration_arrays(f["place_code"], f["place_name"], f["board_code"], boards,
                               fail=lambda col, problem: _fail(src, col, problem),
                               place_code_nhs=f["place_code_nhs"] if "place_code_nhs" in f.columns else None)
    board, place = cfg.board, cfg.place

    progress.step(0.05, "Checking population")
    # ------------------------------------------------------------ population
    population, basis, estimated = _population(src, f, dtab, district)

    # ------------------------------------------------------------ geometry
    progress.step(0.1, "Repairing boundaries (coverage clean)")
    geoms = geo.repair_coverage(f.geometry.to_numpy())
    progress.step(0.45, "Finding neighbours")
    adjacency = geo.build_adjacency(geoms)
    rep = shapely.point_on_surface(geoms)

    units = gpd.GeoDataFrame({
        "code": f["code"].astype(str).to_numpy(),
        "name": f["name"].astype(str).to_numpy(),
        "district": district,
        "council": d_council[district],
        "ca": d_ca[district],
        "region": cfg.region,
        "place": place,
        "board": board,
        "population": population,
        "x": shapely.get_x(rep),
        "y": shapely.get_y(rep),
    }, geometry=geoms, crs=CRS)

    progress.step(0.6, "Dissolving layers")
    pop_note = "apportioned from district totals" if estimated else ""
    tables = _area_tables(facts, dtab, council_codes, ca_codes, d_council, d_ca, cfg)
    layer_prov = {
        "district": LAD_PROVENANCE,
        "council": LAD_PROVENANCE,
        "ca": CA_PROVENANCE,
        "place": src.provenance.get("place", ICB_PROVENANCE),
        "board": src.provenance.get("board", ICB_PROVENANCE),
        # NHS regions come from the same lookup as the boards (its NHSER columns) when the
        # source names it; the bundled pack's own layer keeps its recorded provenance
        "region": src.provenance.get("region", ICB_PROVENANCE),
    }
    layers = dissolve_layers(geoms, population, {lvl: (units[lvl].to_numpy(np.int64), tables[lvl], layer_prov[lvl])
                                                 for lvl in LEVELS},
                             pop_note=f"population: {basis}" if pop_note else "",
                             progress=progress.sub(0.6, 0.95))

    progress.step(0.95, "Hashing")
    provenance = dict(src.provenance)
    pp = provenance.get("population")
    if pp is None or estimated:
        provenance["population"] = Provenance(
            source="ONS Census 2021 usual residents (TS001), by district" if estimated else "population",
            vintage="Census 2021",
            note=basis,
        )
    meta = {
        "name": src.name,
        "builder_version": BUILDER_VERSION,
        "icbmap_version": __version__,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "population_basis": basis,
        "population_estimated": estimated,
        "crs": CRS,
    }
    atlas = Atlas(units=units, layers=layers, adjacency=adjacency, provenance=provenance, meta=meta)
    atlas.meta["content_hash"] = content_hash(atlas)
    progress.step(1.0, "Atlas built")
    return atlas


def content_hash(atlas: Atlas) -> str:
    """A short stable hash of what a proposal depends on: codes, levels, population, shapes."""
    h = hashlib.sha256()
    u = atlas.units
    for col in ("code", "district", "council", "ca", "region", "place", "board", "population"):
        h.update(col.encode())
        h.update("\x1f".join(map(str, u[col].tolist())).encode())
    for lvl in LEVELS:
        h.update("\x1f".join(atlas.layers[lvl].table["code"].tolist()).encode())
    h.update(b"".join(shapely.to_wkb(u.geometry.to_numpy(), output_dimension=2, include_srid=False)))
    return h.hexdigest()[:16]
