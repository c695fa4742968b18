"""The attribute schema every export shares (documented in docs/exports.md).

Every attribute is a string, an integer, a real or a boolean, so QGIS, ArcGIS and Excel
read each one as a plain column and every tool that writes a layer can copy it.  A list
(the councils wholly inside a board, for example) is one string joined with ``"; "``,
with a ``*_count`` integer beside it.  Field names are the same in the GeoJSON, the
GeoPackage and the CSV exports; a shapefile gets the 10-character names of
:data:`SHAPEFILE_NAMES` (the dBase limit).

Changing a field name, type or meaning means raising :data:`SCHEMA_VERSION` and the
table in docs/exports.md (a test checks the two agree).

ONS- and NHS-style fields carry the vintage in their names, as ONS files do: ``ICB26CD``
for the April 2026 baseline, ``ICB24CD`` for April 2024; ``LAD25CD`` for the pack's 2025
district codes.  The schema names them with placeholders (``ICB{icb}CD``, ``LAD{lad}CD``)
filled from the data pack by :func:`vintages`; docs/exports.md shows the offline pack's
default (:data:`DOC_VINTAGES`).
"""

from __future__ import annotations

import re

#: Written into every export: GeoJSON member ``schema_version``, the GeoPackage ``about``
#: table, the boards field ``schema_version`` and the shapefile zip's README.txt.
#: Version 1 (icbmap <= 0.1, before the QGIS-ready schema) wrote JSON lists in GeoJSON properties;
#: version 2 had no ONS/NHS fields and mixed Polygon and MultiPolygon geometries.
SCHEMA_NAME = "icbmap-export"
SCHEMA_VERSION = 3

LIST_SEPARATOR = "; "

#: (name, type, description) of each board attribute, in file order.
BOARD_FIELDS: list[tuple[str, str, str]] = [
    ("board_id", "integer", "stable id of the board in the proposal (kept through edits and saves; "
                            "baseline boards are numbered first)"),
    ("code", "string", "board code (ONS E54... for a baseline board; the user's code for a new one)"),
    ("name", "string", "board name"),
    ("ICB{icb}CD", "string", "ONS code of the board in the baseline's vintage; a proposed (new) board has "
                             "the local code icbmap:icb:<code>, not an ONS code (see code_kind)"),
    ("ICB{icb}NM", "string", "ONS name of a baseline board; the user's name for a proposed board"),
    ("ICB{icb}CDH", "string", "NHS organisation (ODS) code of a baseline board, e.g. QYG; empty for a "
                              "proposed board"),
    ("code_kind", "string", "ONS for a baseline board's code, local (not ONS) for a proposed board's"),
    ("changed", "boolean", "true when the board's LSOAs differ from the baseline's: a proposed boundary, "
                           "not an official one"),
    ("NHSER{icb}CD", "string", "NHS England region code (E40...): a baseline board's own region; for a "
                               "proposed board the region holding most of its people (derived)"),
    ("NHSER{icb}NM", "string", "NHS England region name, as NHSER..CD"),
    ("colour", "string", "the colour icbmap draws the board in, #RRGGBB"),
    ("population", "integer", "people living in the board's units"),
    ("population_share", "real", "share of England's population, 0..1"),
    ("population_basis", "string", "how unit populations were obtained (source and vintage)"),
    ("population_estimated", "boolean", "true when unit populations are apportioned estimates"),
    ("population_status", "string", "ok, below_floor, below_minimum or above_maximum against the "
                                   "population band (docs/metrics.md)"),
    ("units", "integer", "number of LSOAs in the board"),
    ("councils_whole", "string", "councils wholly inside, \"Name (code)\" joined with \"; \""),
    ("councils_whole_count", "integer", "how many councils are wholly inside"),
    ("councils_part", "string", "councils partly inside, joined with \"; \""),
    ("councils_part_count", "integer", "how many councils are partly inside"),
    ("combined_authorities_whole", "string", "combined authorities wholly inside, joined with \"; \""),
    ("combined_authorities_whole_count", "integer", "how many combined authorities are wholly inside"),
    ("combined_authorities_part", "string", "combined authorities partly inside, joined with \"; \""),
    ("combined_authorities_part_count", "integer", "how many combined authorities are partly inside"),
    ("coterminosity_index", "real", "council level: share of the board's people in councils wholly "
                                    "inside it, 0..1 (empty for a board with no people)"),
    ("coterminosity_district", "real", "the same at district level"),
    ("coterminosity_ca", "real", "the same at combined-authority level"),
    ("regions", "string", "NHS regions the board touches, joined with \"; \""),
    ("regions_count", "integer", "how many NHS regions the board touches"),
    ("pieces", "integer", "separate pieces of the board, island pieces included"),
    ("contiguous", "boolean", "true when pieces minus island pieces is at most 1 (docs/metrics.md)"),
    ("flags", "string", "warnings about the board (population band, separate pieces, several NHS "
                        "regions), joined with \"; \""),
    ("flags_count", "integer", "how many warnings"),
    ("area_km2", "real", "area in square kilometres, on British National Grid, from the data pack's "
                         "(generalised) LSOA boundaries"),
    ("perimeter_km", "real", "length of the board's boundary in kilometres, as area_km2"),
    ("BNG_E", "integer", "label point (a point inside the board) easting, British National Grid metres"),
    ("BNG_N", "integer", "label point northing, British National Grid metres"),
    ("LONG", "real", "label point longitude, WGS84 (EPSG:4326)"),
    ("LAT", "real", "label point latitude, WGS84 (EPSG:4326)"),
    ("schema_version", "integer", f"version of this schema ({SCHEMA_VERSION})"),
]

#: The unit (LSOA) layer: GeoJSON ``-units`` file, GeoPackage ``units`` layer, shapefile
#: ``units``; the assignment CSV holds the ``lsoa_code, board_code, board_name`` columns.
UNIT_FIELDS: list[tuple[str, str, str]] = [
    ("lsoa_code", "string", "LSOA code"),
    ("lsoa_name", "string", "LSOA name"),
    ("population", "integer", "people living in the LSOA"),
    ("board_code", "string", "code of the board the LSOA is in (empty when unassigned)"),
    ("board_name", "string", "name of that board"),
    ("LAD{lad}CD", "string", "ONS code of the local authority district the LSOA is in"),
    ("LAD{lad}NM", "string", "name of that district"),
    ("SICBL{icb}CD", "string", "ONS code of the sub-ICB location the LSOA is in, in the baseline (East "
                               "Berkshire's has no published ONS code: its NHS code U2G6B, see shapefiles/SOURCES.md)"),
    ("SICBL{icb}NM", "string", "name of that sub-ICB location"),
]

#: Attribute tables for reference areas in the GeoPackage (outlined layers).
AREA_FIELDS: list[tuple[str, str, str]] = [
    ("code", "string", "ONS area code"),
    ("name", "string", "area name"),
]

#: dBase (shapefile) field names are at most 10 characters.
SHAPEFILE_NAMES: dict[str, str] = {
    "board_id": "board_id", "code": "code", "name": "name", "ICB{icb}CD": "ICB{icb}CD",
    "ICB{icb}NM": "ICB{icb}NM", "ICB{icb}CDH": "ICB{icb}CDH", "code_kind": "code_kind", "changed": "changed",
    "NHSER{icb}CD": "NHSER{icb}CD", "NHSER{icb}NM": "NHSER{icb}NM", "area_km2": "area_km2",
    "perimeter_km": "perim_km", "BNG_E": "BNG_E", "BNG_N": "BNG_N", "LONG": "LONG", "LAT": "LAT",
    "LAD{lad}CD": "LAD{lad}CD", "LAD{lad}NM": "LAD{lad}NM", "SICBL{icb}CD": "SICBL{icb}CD",
    "SICBL{icb}NM": "SICBL{icb}NM", "colour": "colour", "population": "population",
    "population_share": "pop_share", "population_basis": "pop_basis",
    "population_estimated": "pop_est", "population_status": "pop_status", "units": "units",
    "councils_whole": "cncl_whole", "councils_whole_count": "cncl_whl_n",
    "councils_part": "cncl_part", "councils_part_count": "cncl_prt_n",
    "combined_authorities_whole": "ca_whole", "combined_authorities_whole_count": "ca_whole_n",
    "combined_authorities_part": "ca_part", "combined_authorities_part_count": "ca_part_n",
    "coterminosity_index": "coterm_idx", "coterminosity_district": "coterm_dst",
    "coterminosity_ca": "coterm_ca", "regions": "regions", "regions_count": "regions_n",
    "pieces": "pieces", "contiguous": "contiguous", "flags": "flags", "flags_count": "flags_n",
    "schema_version": "schema_ver",
    # unit layer
    "lsoa_code": "lsoa_code", "lsoa_name": "lsoa_name", "board_code": "board_code",
    "board_name": "board_name",
}

#: List attributes (joined strings) and their counts.
LIST_FIELDS = ["councils_whole", "councils_part", "combined_authorities_whole",
               "combined_authorities_part", "regions", "flags"]

#: dBase text fields hold at most 254 bytes: in a shapefile these list fields hold the
#: area codes only (``E06000006; E06000007``), not "Name (code)".
SHAPEFILE_CODES_ONLY = ["councils_whole", "councils_part", "combined_authorities_whole",
                        "combined_authorities_part"]
DBF_TEXT_BYTES = 254


#: The vintages docs/exports.md shows: the offline pack on its April 2026 baseline.
DOC_VINTAGES = {"icb": "26", "lad": "25"}


def _two_digits(text) -> str | None:
    m = re.search(r"(?:19|20)(\d\d)", str(text or ""))
    return m.group(1) if m else None


def vintages(atlas) -> dict[str, str]:
    """The two-digit years of the ONS-style field names for ``atlas``: ``icb`` from the
    baseline configuration (``2026`` -> ``26``), ``lad`` from the district codes' vintage
    (``LAD and CA codes 2025`` -> ``25``); empty when the pack does not say."""
    icb = _two_digits(getattr(atlas, "baseline", ""))
    if icb is None:
        prov = atlas.provenance.get("board")
        icb = _two_digits(prov.vintage if prov else "")
    lad = None
    if "district" in atlas.layers:
        lad = _two_digits(atlas.layers["district"].provenance.vintage)
    return {"icb": icb or "", "lad": lad or ""}


def resolve(name: str, years: dict | None = None) -> str:
    """``ICB{icb}CD`` -> ``ICB26CD`` for the vintages ``years`` (default :data:`DOC_VINTAGES`)."""
    return name.format(**(years or DOC_VINTAGES)) if "{" in name else name


def board_field_names(years: dict | None = None) -> list[str]:
    return [resolve(f[0], years) for f in BOARD_FIELDS]


def unit_field_names(years: dict | None = None) -> list[str]:
    return [resolve(f[0], years) for f in UNIT_FIELDS]


def board_field_types(years: dict | None = None) -> dict[str, str]:
    """Field name -> schema type (string, integer, real, boolean)."""
    return {resolve(n, years): t for n, t, _d in BOARD_FIELDS}


def shapefile_name(name: str, years: dict | None = None) -> str:
    """The dBase (10-character) name of a schema field, resolved for ``years``."""
    for template, short in SHAPEFILE_NAMES.items():
        if resolve(template, years) == name or template == name:
            return resolve(short, years)
    raise KeyError(name)


def join_list(values) -> str:
    return LIST_SEPARATOR.join(str(v) for v in values)


def flat_board_row(fact: dict) -> dict:
    """One board's attributes in schema order from :func:`icbmap.export.facts.board_facts`
    (ONS-style names resolved for the fact's ``_vintages``)."""
    row = {}
    years = fact.get("_vintages")
    for name, _type, _doc in BOARD_FIELDS:
        key = resolve(name, years)
        if name == "schema_version":
            row[key] = SCHEMA_VERSION
        elif name.endswith("_count") and name[: -len("_count")] in LIST_FIELDS:
            row[key] = len(fact[name[: -len("_count")]])
        elif name in LIST_FIELDS:
            row[key] = join_list(fact[name])
        else:
            row[key] = fact[key] if key in fact else fact[name]
    return row


def area_code(item: str) -> str:
    """``"Kent (E10000016)"`` -> ``"E10000016"`` (unchanged when there is no code)."""
    if item.endswith(")") and " (" in item:
        return item.rsplit(" (", 1)[1][:-1]
    return item


def shapefile_board_row(fact: dict, cuts: list | None = None) -> dict:
    """The board row for a dBase file: 10-character names, lists of codes, <= 254 bytes.

    Longer text is cut on a character boundary and ends in ``…``; a list is cut at an
    item.  A cut name or other single value (not a list, whose count field keeps the true
    number) is reported in ``cuts``: one line per board."""
    row = flat_board_row(fact)
    years = fact.get("_vintages")
    for name in SHAPEFILE_CODES_ONLY:
        row[name] = join_list(area_code(x) for x in fact[name])
    out = {}
    cut_fields = []
    for k, v in row.items():
        short = shapefile_name(k, years)
        if isinstance(v, str) and len(v.encode("utf-8")) > DBF_TEXT_BYTES:
            cut = v.encode("utf-8")[: DBF_TEXT_BYTES - 3].decode("utf-8", "ignore")
            if k in LIST_FIELDS:
                v = cut.rsplit(LIST_SEPARATOR, 1)[0] + "…" if LIST_SEPARATOR in cut else cut + "…"
            else:
                cut_fields.append(f"{short} ({len(v.encode('utf-8'))} bytes)")
                v = cut + "…"
        out[short] = v
    if cut_fields and cuts is not None:
        cuts.append(f"board {fact.get('code')}: {', '.join(cut_fields)} cut to {DBF_TEXT_BYTES} bytes, the most "
                    "a shapefile (dBase) text field holds; the GeoPackage, GeoJSON, CSV and workbook keep it whole")
    return out


def document_members() -> dict:
    """Top-level members naming the schema (GeoJSON foreign members, ``about`` rows)."""
    return {"schema": SCHEMA_NAME, "schema_version": SCHEMA_VERSION}
