"""Build a named data pack from official ONS / NHS files (``icbmap data import``).

Inputs, in the shapes ONS and NHS England publish them:

* LSOA (December 2021) boundaries: GeoJSON, GeoPackage, shapefile (or a zipped shapefile)
  in any CRS; reprojected to British National Grid (EPSG:27700); English LSOAs (``E01``)
  only;
* LSOA (2021) -> sub-ICB location -> ICB lookup (CSV);
* LSOA (2021) -> local authority district lookup (CSV; 2024 district codes are recoded to
  2025 through ``shapefiles/lad_recodes.csv``);
* optionally, Census 2021 usual residents by LSOA (CSV, Nomis TS001 layout with its
  footnotes, or any table with an LSOA code and a count column).

Column names are matched case-insensitively, in the Open Geography Portal spelling
(``LSOA21CD``, ``SICBL26CD``, ``ICB26CD``, ``NHSER26CD``, ``LAD26CD`` ... with any two-digit
year) or the ``snake_case`` spelling of redistributed copies (``lsoa21_code``,
``sicbl24_code``, ``icb24_code``, ``ltla24_code`` ...).

The board lookup may be of any year (see ``docs/data.md``): a board code a bundled
configuration knows takes its name and NHS region from ``shapefiles/configurations/``; a
code ONS recoded is matched through its NHS code; any other code becomes a board named from
the file and placed in the NHS region the file gives it (else the one region of the boards
its LSOAs lay in).  Files of 2011 LSOA codes, or mixing 2011 and 2021 codes, are recognised
(:mod:`icbmap.atlas.lsoa_vintage`) and refused saying so.

Everything is reduced to one :class:`~icbmap.atlas.build.UnitSource` and handed to
:func:`~icbmap.atlas.build.assemble`, the same builder the offline pack uses (repair,
dissolves, adjacency, hash).  Every problem with an input is one
:class:`~icbmap.errors.DataError` naming the file and the problem, raised before anything is
written; the pack itself is written atomically, so a failed import leaves an earlier pack of
the same name as it was.

The readers, one per kind of file, are in :mod:`icbmap.atlas.official_readers`, on top of
:mod:`icbmap.atlas.official_tables`; this module assembles the pack
from what they return.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from icbmap.atlas import store
from icbmap.atlas.build import UnitSource, assemble
from icbmap.atlas.facts import Facts
from icbmap.atlas.model import CRS, NHS_ATTRIBUTION, ONS_ATTRIBUTION, Atlas, Provenance
from icbmap.errors import DataError
from icbmap.progress import Progress
from icbmap.atlas.official_tables import POPULATION_BASIS, _examples, _existing, _file_meta, _vintage
from icbmap.atlas.official_readers import (
    IcbLookup,
    LadLookup,
    PopulationTable,
    read_boundaries,
    read_icb_lookup,
    read_lad_lookup,
    read_population,
)


# ----------------------------------------------------------------------------- the source
def _absent(codes: pd.Series, lookup_codes, what: str, path: Path, boundaries: Path) -> None:
    missing = codes[~codes.isin(set(lookup_codes))]
    if len(missing):
        raise DataError(path, f"{what}: {len(missing):,} English LSOA(s) of the boundaries "
                              f"({boundaries.name}) are not in this file, e.g. "
                              f"{_examples(sorted(missing))} (are both LSOA 2021?)")


@dataclass
class OfficialSource:
    """The checked inputs: the unit source for :func:`assemble`, the files read and a
    one-line description of the pack."""

    unit_source: UnitSource
    inputs: dict[str, Path]
    description: str


def official_source(name: str, boundaries, icb_lookup, lad_lookup, population=None,
                    facts: Facts | None = None, progress: Progress | None = None) -> OfficialSource:
    """Read and check the official files and reduce them to a :class:`UnitSource`."""
    progress = progress or Progress.silent()
    facts = facts or Facts.load()
    # every path first: a typo should not cost a boundary read
    for p, what in ((boundaries, "LSOA boundaries"), (icb_lookup, "LSOA to sub-ICB location to ICB lookup"),
                    (lad_lookup, "LSOA to local authority district lookup")):
        _existing(p, what)
    if population is not None:
        _existing(population, "LSOA population table")

    progress.step(0.0, "Reading the LSOA to sub-ICB location to ICB lookup")
    icb = read_icb_lookup(icb_lookup, facts)
    progress.step(0.1, "Reading the LSOA to district lookup")
    lad = read_lad_lookup(lad_lookup, facts)
    pop = None
    if population is not None:
        progress.step(0.15, "Reading the LSOA population table")
        pop = read_population(population)
    bnd = read_boundaries(boundaries, progress.sub(0.2, 0.95))
    f = bnd.frame

    progress.step(0.96, "Joining the files")
    _absent(f["code"], icb.table["code"], "LSOA to sub-ICB location to ICB lookup", icb.path, bnd.path)
    _absent(f["code"], lad.table["code"], "LSOA to local authority district lookup", lad.path, bnd.path)
    if pop is not None:
        _absent(f["code"], pop.table["code"], "LSOA population table", pop.path, bnd.path)
    n_lookup = len(icb.table)
    partial = n_lookup - int(icb.table["code"].isin(set(f["code"])).sum())
    if partial and pop is None:
        raise DataError(bnd.path, f"LSOA boundaries: the file covers {len(f):,} of the {n_lookup:,} English "
                                  f"LSOAs in the ICB lookup; without --population the district totals "
                                  "cannot be shared out over part of a district; give --population")

    it = icb.table.set_index("code")
    lt = lad.table.set_index("code")
    codes = f["code"]
    names = f["name"].to_numpy(dtype=object).copy()
    for fallback in (it["lsoa_name"], lt["lsoa_name"]) + ((pop.table.set_index("code")["lsoa_name"],) if pop else ()):
        blank = names == ""
        if not blank.any():
            break
        names[blank] = fallback.reindex(codes[blank]).fillna("").to_numpy()
    names = np.where(names == "", codes.to_numpy(dtype=object), names)

    frame = gpd.GeoDataFrame({
        "code": codes.to_numpy(dtype=object),
        "name": names,
        "lad_code": lt["lad_code"].reindex(codes).to_numpy(dtype=object),
        "place_code": it["place_code"].reindex(codes).to_numpy(dtype=object),
        "place_name": it["place_name"].reindex(codes).to_numpy(dtype=object),
        "board_code": it["board_code"].reindex(codes).to_numpy(dtype=object),
    }, geometry=f.geometry.to_numpy(), crs=CRS)
    if pop is not None:
        frame["population"] = pop.table.set_index("code")["population"].reindex(codes).to_numpy(np.int64)

    lad_vintage = f"LAD {_vintage(lad.year, 'lad')} codes"
    if lad.recoded:
        lad_vintage += " recoded to 2025"
    prov = {
        "unit": Provenance(
            source=f"ONS LSOA (December 2021) boundaries: {bnd.path.name}",
            vintage="LSOA December 2021",
            attribution=ONS_ATTRIBUTION,
            note=f"{bnd.driver}, {bnd.crs} reprojected to British National Grid"
                 + (f"; {bnd.crs_note}" if bnd.crs_note else "")
                 + (f"; covers {len(f):,} of {n_lookup:,} English LSOAs" if partial else ""),
        ),
        "place": Provenance(
            source=f"ONS LSOA (2021) to Sub-ICB Location to ICB lookup: {icb.path.name}",
            vintage=f"SICBL {icb.place_vintage}",
            attribution=NHS_ATTRIBUTION,
        ),
        "board": Provenance(
            source=f"ONS LSOA (2021) to Sub-ICB Location to ICB lookup: {icb.path.name}",
            vintage=f"ICB {icb.board_vintage}",
            attribution=NHS_ATTRIBUTION,
            note=board_note(icb),
        ),
        "region": Provenance(
            source=f"ONS LSOA (2021) to Sub-ICB Location to ICB lookup: {icb.path.name} (NHS region columns)",
            vintage=f"NHS regions as of the ICB {icb.board_vintage} lookup",
            attribution=NHS_ATTRIBUTION,
        ),
        "district_assignment": Provenance(
            source=f"ONS LSOA (2021) to local authority district lookup: {lad.path.name}",
            vintage=lad_vintage,
            attribution=ONS_ATTRIBUTION,
            note=("recoded " + ", ".join(f"{o} \u2192 {n}" for o, n in lad.recoded.items())
                  + " (shapefiles/lad_recodes.csv)") if lad.recoded else "",
        ),
    }
    if pop is not None:
        prov["population"] = Provenance(
            source=f"ONS Census 2021 usual residents by LSOA (TS001): {pop.path.name}",
            vintage="Census 2021 (21 March 2021)",
            attribution=ONS_ATTRIBUTION,
            note=POPULATION_BASIS,
        )
    files = {
        "code": str(bnd.path), "name": str(bnd.path), "geometry": str(bnd.path),
        "lad_code": str(lad.path), "place_code": str(icb.path), "place_name": str(icb.path),
        "board_code": str(icb.path),
    }
    if pop is not None:
        files["population"] = str(pop.path)
    src = UnitSource(frame=frame, provenance=prov, files=files, name=name,
                     population_basis=POPULATION_BASIS if pop is not None else None, boards=icb.boards)
    inputs = {"boundaries": bnd.path, "icb_lookup": icb.path, "lad_lookup": lad.path}
    if pop is not None:
        inputs["population"] = pop.path
    progress.step(1.0, "Files checked")
    return OfficialSource(src, inputs, _description(icb, lad, pop, partial, len(f), n_lookup))


def board_note(icb: IcbLookup) -> str:
    """How the boards of an imported lookup were named and placed (the board provenance note)."""
    parts = [f"official: the boards as {icb.path.name} draws them"
             + ("; this replaces icbmap's derived April 2026 configuration in this pack"
                if icb.board_year == "26" else "")]
    parts.append("names and NHS regions of known boards from the bundled configurations "
                 "(shapefiles/configurations/)")
    if icb.recoded:
        parts.append("ICB codes matched by NHS code: "
                     + ", ".join(f"{o} \u2192 {n}" for o, n in sorted(icb.recoded.items())))
    if icb.new_boards:
        parts.append("boards no bundled configuration knows, named from the file: "
                     + "; ".join(icb.new_boards.values()))
    return "; ".join(parts)


def _description(icb: IcbLookup, lad: LadLookup, pop: PopulationTable | None, partial: int,
                 n: int, n_lookup: int) -> str:
    parts = ["LSOA Dec 2021", f"SICBL/ICB {icb.board_vintage}",
             f"LAD {_vintage(lad.year, 'lad')}" + (" recoded to 2025" if lad.recoded else "")]
    parts.append("Census 2021 LSOA population" if pop is not None else "population apportioned")
    text = "official ONS files: " + ", ".join(parts)
    if partial:
        text += f" (partial: {n:,} of {n_lookup:,} English LSOAs)"
    return text


# ----------------------------------------------------------------------------- entry point
def _attach_function():
    from icbmap.atlas import hooks

    try:
        attach_practices = hooks.practices_attacher()  # registered by icbmap.practices
    except ImportError as exc:
        raise DataError(None, "GP practices cannot be imported by this version of icbmap "
                              f"(icbmap.practices.attach is not available: {exc}); import the "
                              "pack without --practices/--practice-map") from exc
    return attach_practices


def import_pack(name: str, boundaries, icb_lookup, lad_lookup, population=None,
                practices=None, practice_map=None, progress: Progress | None = None,
                facts: Facts | None = None) -> Atlas:
    """Build the pack ``name`` from official files and save it (atomically).

    Raises :class:`DataError` naming the file and the problem for any bad input, before
    anything is written; an earlier pack of the same name stays as it was.
    """
    progress = progress or Progress.silent()
    t0 = time.perf_counter()
    if name == store.OFFLINE:
        raise DataError(None, f"the name {store.OFFLINE} is kept for the offline default pack; "
                              "choose another name, e.g. ons-2024")
    target = store.pack_path(name)  # checks the name
    attach = None
    if practices is not None or practice_map is not None:
        attach = _attach_function()
        for p, what in ((practices, "GP practice registrations"), (practice_map, "GP practice map")):
            if p is not None:
                _existing(p, what)

    src = official_source(name, boundaries, icb_lookup, lad_lookup, population, facts=facts,
                          progress=progress.sub(0.0, 0.2))
    atlas = assemble(src.unit_source, facts=facts, progress=progress.sub(0.2, 0.85))
    if attach is not None:
        progress.step(0.85, "Attaching GP practices")
        result = attach(atlas, practices, practice_map, progress.sub(0.85, 0.9))
        if isinstance(result, Atlas):
            atlas = result
        elif isinstance(result, pd.DataFrame):
            atlas.set_practices(result)
    inputs = {role: _file_meta(p) for role, p in src.inputs.items()}
    for role, p in (("practices", practices), ("practice_map", practice_map)):
        if p is not None:
            inputs[role] = _file_meta(Path(p).expanduser())
    atlas.meta["description"] = src.description
    atlas.meta["source"] = "official"
    atlas.meta["baseline_label"] = (f"{atlas.provenance['board'].vintage.removeprefix('ICB ')} boards "
                                    f"({len(atlas.layers['board'])}, official)")
    atlas.meta["inputs"] = inputs
    atlas.meta["build_seconds"] = round(time.perf_counter() - t0, 1)
    store.write_atlas(atlas, target, progress.sub(0.9, 1.0))
    return atlas


__all__ = ["OfficialSource", "import_pack", "official_source"]
