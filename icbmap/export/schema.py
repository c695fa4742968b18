"""The attribute schema every export shares (documented in docs/exports.md).

Every attribute is a string, an integer, a real or a boolean, so QGIS, ArcGIS and Excel
read each one as a plain column and every tool that writes a layer can copy it.  A list
(the councils wholly inside a board, for example) is one string joined with ``"; "``,
with a ``*_count`` integer beside it.  Field names are the same in the GeoJSON, the
GeoPackage and the CSV exports; a shapefile gets the 10-character names of
:data:`SHAPEFILE_NAMES` (the dBase limit).

Changing a field name, type or meaning means raising :data:`SCHEMA_VERSION` and the
table in docs/exports.md (a test checks the two agree).
"""

from __future__ import annotations

#: Written into every export: GeoJSON member ``schema_version``, the GeoPackage ``about``
#: table, the boards field ``schema_version`` and the shapefile zip's README.txt.
#: Version 1 (icbmap <= 0.1, before the QGIS-ready schema) wrote JSON lists in GeoJSON properties.
SCHEMA_NAME = "icbmap-export"
SCHEMA_VERSION = 2

LIST_SEPARATOR = "; "

#: (name, type, description) of each board attribute, in file order.
BOARD_FIELDS: list[tuple[str, str, str]] = [
    ("code", "string", "board code (ONS E54... for a baseline board; the user's code for a new one)"),
    ("name", "string", "board name"),
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
]

#: Attribute tables for reference areas in the GeoPackage (outlined layers).
AREA_FIELDS: list[tuple[str, str, str]] = [
    ("code", "string", "ONS area code"),
    ("name", "string", "area name"),
]

#: dBase (shapefile) field names are at most 10 characters.
SHAPEFILE_NAMES: dict[str, str] = {
    "code": "code", "name": "name", "colour": "colour", "population": "population",
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


def board_field_names() -> list[str]:
    return [f[0] for f in BOARD_FIELDS]


def unit_field_names() -> list[str]:
    return [f[0] for f in UNIT_FIELDS]


def join_list(values) -> str:
    return LIST_SEPARATOR.join(str(v) for v in values)


def flat_board_row(fact: dict) -> dict:
    """One board's attributes in schema order from :func:`icbmap.export.facts.board_facts`."""
    row = {}
    for name, _type, _doc in BOARD_FIELDS:
        if name == "schema_version":
            row[name] = SCHEMA_VERSION
        elif name.endswith("_count") and name[: -len("_count")] in LIST_FIELDS:
            row[name] = len(fact[name[: -len("_count")]])
        elif name in LIST_FIELDS:
            row[name] = join_list(fact[name])
        else:
            row[name] = fact[name]
    return row


def area_code(item: str) -> str:
    """``"Kent (E10000016)"`` -> ``"E10000016"`` (unchanged when there is no code)."""
    if item.endswith(")") and " (" in item:
        return item.rsplit(" (", 1)[1][:-1]
    return item


def shapefile_board_row(fact: dict) -> dict:
    """The board row for a dBase file: 10-character names, lists of codes, <= 254 bytes."""
    row = flat_board_row(fact)
    for name in SHAPEFILE_CODES_ONLY:
        row[name] = join_list(area_code(x) for x in fact[name])
    out = {}
    for k, v in row.items():
        if isinstance(v, str) and len(v.encode("utf-8")) > DBF_TEXT_BYTES:
            cut = v.encode("utf-8")[: DBF_TEXT_BYTES - 3].decode("utf-8", "ignore")
            v = cut.rsplit(LIST_SEPARATOR, 1)[0] + "…" if LIST_SEPARATOR in cut else cut + "…"
        out[SHAPEFILE_NAMES[k]] = v
    return out


def document_members() -> dict:
    """Top-level members naming the schema (GeoJSON foreign members, ``about`` rows)."""
    return {"schema": SCHEMA_NAME, "schema_version": SCHEMA_VERSION}
