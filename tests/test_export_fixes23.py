"""Issue 23, fixes 1-7: what an analyst found wrong in the exports, each with a regression test.

1. CSV import parses RFC 4180 (no dialect sniffing of the first 8 KB): quotes survive;
2. every export layer has one geometry type (MultiPolygon);
3. shapefile booleans are dBase logical fields, with a QGIS style showing them as check boxes;
4. a board with no LSOAs has a null geometry in the GeoPackage (not MULTIPOLYGON EMPTY);
5. the shapefile zip's members unpack with mode 0644;
6. no GeoPackage table name holds a colon;
7. the QGIS label style names a font and formats numbers without the locale.

The plans are developer-made edits of the offline pack's baseline.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import stat
import zipfile

import numpy as np
import pandas as pd
import pytest

from icbmap.export.csv import write_csv
from icbmap.export.geojson import write_geojson
from icbmap.export.gpkg import write_gpkg
from icbmap.export.importers import import_file
from icbmap.export.shp import member_base, write_shapefile_zip
from icbmap.plan.commands import CreateBoard, History, MoveUnits
from icbmap.plan.model import Plan

pytestmark = pytest.mark.slow

QUOTED = 'Peak, "High" & Moorlands'
FORMULA = '=HYPERLINK("http://x","click")'


def _named_plan(england, names):
    """The baseline with new boards named ``names``, each taking 30 LSOAs of board 5,
    plus one empty new board (no LSOAs)."""
    p = Plan(england)
    h = History(p)
    pool = np.flatnonzero(p.assignment == 5)
    for k, name in enumerate(names):
        c = CreateBoard(name, code=f"NEW{k + 1:02d}")
        h.push(c)
        h.push(MoveUnits(pool[30 * k: 30 * (k + 1)], c.board_id))
    h.push(CreateBoard("Empty board", code="EMPTY1"))
    return p


@pytest.fixture(scope="module")
def quoted(england):
    return _named_plan(england, [QUOTED, FORMULA])


# ------------------------------------------------------------------ 1. CSV import
def _names_back(result):
    return {b["code"]: b["name"] for b in result.report.boards}


def test_csv_round_trip_keeps_quotes(quoted, england, tmp_path):
    """Written by icbmap: the quoted name is in the middle of the file, the sniffer used to
    guess the dialect from the plain rows around it and read ``Peak, "High"" & Moorlands"``."""
    paths = write_csv(quoted, tmp_path / "q.csv")
    back = import_file(paths[0], england)
    names = _names_back(back)
    assert names["NEW01"] == QUOTED and names["NEW02"] == FORMULA
    assert np.array_equal(back.plan.assignment, quoted.assignment)


@pytest.mark.parametrize("first", [True, False], ids=["quoted-rows-first", "quoted-rows-later"])
def test_pandas_written_csv_keeps_quotes(quoted, england, tmp_path, first):
    codes = np.array([b.code for b in quoted.boards] + [""], dtype=object)
    names = np.array([b.name for b in quoted.boards] + [""], dtype=object)
    a = np.asarray(quoted.assignment)
    df = pd.DataFrame({"lsoa_code": england.unit_codes, "board_code": codes[a], "board_name": names[a]})
    if first:
        df = pd.concat([df[df.board_code.str.startswith("NEW")], df[~df.board_code.str.startswith("NEW")]])
    path = tmp_path / "pandas.csv"
    df.to_csv(path, index=False)
    back = import_file(path, england)
    assert _names_back(back)["NEW01"] == QUOTED and _names_back(back)["NEW02"] == FORMULA
    assert np.array_equal(back.plan.assignment, quoted.assignment)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_csv_other_delimiters_still_read(quoted, england, tmp_path, delimiter):
    """A European Excel (``;``) or a tab-separated file: the header decides the delimiter."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(["LSOA21CD", "ICB_CODE", "ICB_NAME"])
    for u, b in zip(england.unit_codes, quoted.assignment):
        if b >= 0:
            w.writerow([u, quoted.boards[b].code, quoted.boards[b].name])
    path = tmp_path / "x.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    back = import_file(path, england, code_field="ICB_CODE", name_field="ICB_NAME")
    assert _names_back(back)["NEW01"] == QUOTED
    assert np.array_equal(back.plan.assignment, quoted.assignment)


# ------------------------------------------------------------------ 2 and 4. geometry types
@pytest.fixture(scope="module")
def written(quoted, tmp_path_factory):
    d = tmp_path_factory.mktemp("fixes23")
    return {
        "geojson": write_geojson(quoted, d / "q.geojson", units=True),
        "gpkg": write_gpkg(quoted, d / "q.gpkg")[0],
        "shp": write_shapefile_zip(quoted, d / "q.zip", units=True)[0],
    }


def test_geojson_is_all_multipolygon(written, quoted):
    for path in written["geojson"]:
        doc = json.loads(path.read_text(encoding="utf-8"))
        types = {f["geometry"]["type"] if f["geometry"] else None for f in doc["features"]}
        assert types <= {"MultiPolygon", None}, (path.name, types)
    boards = json.loads(written["geojson"][0].read_text(encoding="utf-8"))
    empty = next(f for f in boards["features"] if f["properties"]["code"] == "EMPTY1")
    assert empty["geometry"] is None


def test_gpkg_one_geometry_type_and_null_for_an_empty_board(written):
    import pyogrio
    import shapely

    con = sqlite3.connect(written["gpkg"])
    try:
        declared = dict(con.execute("SELECT table_name, geometry_type_name FROM gpkg_geometry_columns"))
        blob = con.execute("SELECT geom FROM boards WHERE code = 'EMPTY1'").fetchone()[0]
    finally:
        con.close()
    assert set(declared.values()) == {"MULTIPOLYGON"}, declared
    assert blob is None  # a SQL NULL, not a GeoPackage blob of MULTIPOLYGON EMPTY
    for layer in declared:
        df = pyogrio.read_dataframe(written["gpkg"], layer=layer)
        present = df.geometry[df.geometry.notna()]
        assert set(shapely.get_type_id(present.to_numpy())) == {6}, layer  # 6: MultiPolygon


def test_shapefile_empty_board_is_a_null_shape(written):
    import pyogrio

    df = pyogrio.read_dataframe(written["shp"], layer=f"{member_base(written['shp'])}_boards")
    assert df.loc[df["code"] == "EMPTY1", "geometry"].isna().all()


# ------------------------------------------------------------------ 3. shapefile booleans
def _dbf_fields(data: bytes) -> dict[str, str]:
    """dBase field name -> type letter, from the header of a .dbf."""
    out = {}
    for off in range(32, len(data), 32):
        if data[off] == 0x0D:
            break
        out[data[off:off + 11].split(b"\0")[0].decode()] = chr(data[off + 11])
    return out


def test_shapefile_booleans_are_logical_fields_with_a_checkbox_style(written):
    import xml.etree.ElementTree as ET

    import pyogrio

    base = member_base(written["shp"])
    with zipfile.ZipFile(written["shp"]) as z:
        fields = _dbf_fields(z.read(f"{base}_boards.dbf"))
        qml = z.read(f"{base}_boards.qml").decode("utf-8")
    assert fields["pop_est"] == "L" and fields["contiguous"] == "L"
    info = pyogrio.read_info(written["shp"], layer=f"{base}_boards")
    types = dict(zip(info["fields"], zip(info["ogr_types"], info["ogr_subtypes"])))
    assert types["contiguous"] == ("OFTInteger", "OFSTBoolean") and types["pop_est"] == types["contiguous"]
    doc = ET.fromstring(qml.split("\n", 1)[1])
    widgets = {f.get("name"): f.find("editWidget").get("type") for f in doc.iter("field")}
    assert widgets == {"pop_est": "CheckBox", "contiguous": "CheckBox", "changed": "CheckBox"}
    assert fields["changed"] == "L"
    assert doc.find("renderer-v2").get("attr") == "code"


# ------------------------------------------------------------------ 5. zip member modes
def test_zip_members_unpack_readable(written, tmp_path):
    with zipfile.ZipFile(written["shp"]) as z:
        for info in z.infolist():
            assert stat.S_IMODE(info.external_attr >> 16) == 0o644, info.filename
        assert "README.txt" in z.namelist()


# ------------------------------------------------------------------ 6. table names
def test_gpkg_table_names_are_arcgis_safe_and_documented(written):
    import re
    from pathlib import Path

    con = sqlite3.connect(written["gpkg"])
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")]
    finally:
        con.close()
    bad = [t for t in tables if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", t)]
    assert not bad, bad
    doc = (Path(__file__).resolve().parent.parent / "docs" / "exports.md").read_text(encoding="utf-8")
    for t in tables:
        assert f"`{t}`" in doc, f"GeoPackage table {t} is not documented in docs/exports.md"


# ------------------------------------------------------------------ 7. QGIS label style
def test_label_style_names_a_font_and_no_locale_number_format(written):
    import xml.etree.ElementTree as ET

    con = sqlite3.connect(written["gpkg"])
    try:
        qml = con.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = 'boards'").fetchone()[0]
    finally:
        con.close()
    style = ET.fromstring(qml.split("\n", 1)[1]).find("labeling/settings/text-style")
    assert style.get("fontFamily"), "the label style names no font: QGIS uses the machine's default"
    assert "format_number" not in style.get("fieldName")  # follows the locale: 2,97m under de_DE


def test_csv_written_by_hand_with_spaces_after_commas(quoted, england, tmp_path):
    sel = np.flatnonzero(quoted.assignment == quoted.board_by_code("NEW01").id)
    lines = ["lsoa_code, board_code, board_name"] + [f'{england.unit_codes[u]}, NEW01, "Peak, ""High"" & Moorlands"'
                                                     for u in sel]
    path = tmp_path / "hand.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    back = import_file(path, england)
    assert _names_back(back)["NEW01"] == QUOTED
