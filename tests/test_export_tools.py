"""Exports in the tools planners hand them to (issue 16): QGIS, ArcGIS (shapefile), Excel.

* the flat attribute schema (strings, integers, reals, booleans; lists joined with "; "),
  the same field names in every format, documented in docs/exports.md;
* the styled GeoPackage (QGIS's ``layer_styles`` table);
* the shapefile zip and its re-import, with hostile zips;
* Excel-ready CSV (byte-order mark, plain numbers), checked through LibreOffice;
* a QGIS round trip (Debian's python3-qgis, driven in a subprocess of /usr/bin/python3).

Expected values come from the plan and atlas under test (no board counts are hard-coded).
The proposals are developer-made edits of the offline pack's baseline.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import re
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pytest

from icbmap.export import schema
from icbmap.export.csv import write_csv
from icbmap.export.geojson import write_geojson
from icbmap.export.gpkg import write_gpkg
from icbmap.export.import_common import ImportError_
from icbmap.export.importers import import_file
from icbmap.export.shp import member_base, write_shapefile_zip
from icbmap.plan.commands import CreateBoard, History, MoveUnits
from icbmap.plan.model import Plan

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PACK = ["--pack", "england-offline"]
FLAT_TYPES = (str, int, float, bool, type(None))
#: a board name with characters Excel mangles without a byte-order mark
ODD_NAME = "Ynys Môn – Café “Test” Board"


@pytest.fixture(scope="module")
def plans(england, thames_plan):
    base = Plan(england)
    odd = Plan(england)
    h = History(odd)
    c = CreateBoard(ODD_NAME, code="NEW99")
    h.push(c)
    h.push(MoveUnits(np.flatnonzero(odd.assignment == 5)[:40], c.board_id))
    return {"baseline": base, "proposal": thames_plan, "odd": odd}


def _active(plan):
    return [b for b in plan.boards if b.active]


# ------------------------------------------------------------------ the flat schema
@pytest.fixture(scope="module")
def outputs(plans, tmp_path_factory):
    d = tmp_path_factory.mktemp("tools")
    plan = plans["proposal"]
    return {
        "geojson": write_geojson(plan, d / "p.geojson", units=True, title="Schema"),
        "gpkg": write_gpkg(plan, d / "p.gpkg", title="Schema")[0],
        "csv": write_csv(plan, d / "p.csv"),
        "shp": write_shapefile_zip(plan, d / "p.zip", units=True, title="Schema")[0],
    }


def test_geojson_properties_are_flat_and_counted(outputs, plans, england):
    plan = plans["proposal"]
    doc = json.loads(outputs["geojson"][0].read_text(encoding="utf-8"))
    assert doc["schema"] == schema.SCHEMA_NAME and doc["schema_version"] == schema.SCHEMA_VERSION
    assert len(doc["features"]) == len(_active(plan))
    for f in doc["features"]:
        p = f["properties"]
        assert list(p) == schema.board_field_names()
        bad = {k: type(v).__name__ for k, v in p.items() if not isinstance(v, FLAT_TYPES)}
        assert not bad, bad
        for name in schema.LIST_FIELDS:
            items = [x for x in p[name].split(schema.LIST_SEPARATOR) if x]
            assert len(items) == p[f"{name}_count"], (f["id"], name)
    for level in ("council", "ca", "region"):  # so "; " splits the lists unambiguously
        assert not any(";" in n for n in england.layers[level].table["name"]), level
    kent = next(f["properties"] for f in doc["features"] if f["id"] == "NEW01")
    assert "Kent (E10000016)" in kent["councils_part"].split("; ")
    assert sum(f["properties"]["population"] for f in doc["features"]) == england.total_population
    units = json.loads(outputs["geojson"][1].read_text(encoding="utf-8"))
    assert list(units["features"][0]["properties"]) == schema.unit_field_names()
    assert units["schema_version"] == schema.SCHEMA_VERSION


def test_same_field_names_in_geojson_gpkg_csv(outputs):
    import pyogrio

    names = schema.board_field_names()
    gj = json.loads(outputs["geojson"][0].read_text(encoding="utf-8"))
    assert list(gj["features"][0]["properties"]) == names
    assert list(pyogrio.read_info(outputs["gpkg"], layer="boards")["fields"]) == names
    boards_csv = outputs["csv"][1]
    assert boards_csv.name == "p-boards.csv"
    header = next(csv.reader(io.StringIO(boards_csv.read_text(encoding="utf-8-sig"))))
    assert header == names
    assert list(pyogrio.read_info(outputs["gpkg"], layer="units")["fields"]) == schema.unit_field_names()
    unit_header = next(csv.reader(io.StringIO(outputs["csv"][0].read_text(encoding="utf-8-sig"))))
    assert set(unit_header) <= set(schema.unit_field_names())  # the assignment's columns, same names
    about = pyogrio.read_dataframe(outputs["gpkg"], layer="about")
    kv = dict(zip(about["key"], about["value"]))
    assert kv["schema_version"] == str(schema.SCHEMA_VERSION) and kv["title"] == "Schema"


def test_schema_is_documented():
    doc = (ROOT / "docs" / "exports.md").read_text(encoding="utf-8")
    assert f"schema_version` {schema.SCHEMA_VERSION}" in doc or f"version {schema.SCHEMA_VERSION}" in doc
    boards_part, units_part = doc.split("### LSOAs (units)", 1)
    for part, fields in ((boards_part, schema.BOARD_FIELDS), (units_part, schema.UNIT_FIELDS)):
        for name, typ, meaning in fields:
            shown = schema.resolve(name)  # the offline pack's vintages (ICB26CD ...)
            row = re.search(rf"^\| `{re.escape(shown)}` \| (\w+) \| `([^`]+)` \| (.*) \|$", part, flags=re.M)
            assert row, f"{shown} is not in the schema tables of docs/exports.md"
            assert row.groups() == (typ, schema.resolve(schema.SHAPEFILE_NAMES[name]), meaning), name
    assert all(len(schema.resolve(v)) <= 10 for v in schema.SHAPEFILE_NAMES.values())
    assert len(set(schema.SHAPEFILE_NAMES.values())) == len(schema.SHAPEFILE_NAMES)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/exports.md" in readme


# ------------------------------------------------------------------ styled GeoPackage
def test_gpkg_layer_styles_table(outputs, plans):
    plan = plans["proposal"]
    con = sqlite3.connect(outputs["gpkg"])
    try:
        rows = con.execute("SELECT f_table_name, f_geometry_column, styleName, useAsDefault, styleQML, "
                           "f_table_schema, update_time FROM layer_styles").fetchall()
        kind = con.execute("SELECT data_type FROM gpkg_contents WHERE table_name='layer_styles'").fetchone()
        geom_cols = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
        version = con.execute("PRAGMA user_version").fetchone()[0]
    finally:
        con.close()
    assert kind == ("attributes",)                      # a registered GeoPackage table
    assert version == 10200                             # GeoPackage 1.2: QGIS 3.22 reads it quietly
    styles = {r[0]: r for r in rows}
    assert set(styles) == {"boards", "units", "councils", "combined_authorities"}
    for table, (_t, gcol, name, default, qml, tschema, stamp) in styles.items():
        assert gcol == geom_cols[table] and name == "icbmap" and default == 1 and tschema == ""
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
        ET.fromstring(qml.split("\n", 1)[1])            # well-formed XML after the DOCTYPE
    boards = ET.fromstring(styles["boards"][4].split("\n", 1)[1])
    r = boards.find("renderer-v2")
    assert r.get("type") == "categorizedSymbol" and r.get("attr") == "code"
    cats = {c.get("value"): c.get("symbol") for c in r.find("categories")}
    syms = {s.get("name"): s for s in r.find("symbols")}
    assert set(cats) == {b.code for b in _active(plan)}
    for b in _active(plan):
        sym = syms[cats[b.code]]
        colour = sym.find("layer/Option/Option[@name='color']").get("value")
        rgb = ",".join(str(int(b.colour.lstrip("#")[i:i + 2], 16)) for i in (0, 2, 4))
        assert colour == rgb + ",255", b.code
    label = boards.find("labeling/settings/text-style").get("fieldName")
    assert '"name"' in label and '"population"' in label and boards.get("labelsEnabled") == "1"
    ca = ET.fromstring(styles["combined_authorities"][4].split("\n", 1)[1])
    opts = {o.get("name"): o.get("value") for o in ca.iter("Option") if o.get("name")}
    assert opts["line_color"] == "106,27,154,255" and opts["use_custom_dash"] == "1" and opts["customdash"] == "8;5"


# ------------------------------------------------------------------ shapefile zip
def test_shapefile_zip_parts_and_reimport(outputs, plans, england):
    plan = plans["proposal"]
    path = outputs["shp"]
    base = member_base(path)
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        assert {f"{base}_boards{e}" for e in (".shp", ".shx", ".dbf", ".prj", ".cpg")} <= names
        assert {f"{base}_units{e}" for e in (".shp", ".shx", ".dbf", ".prj", ".cpg")} <= names
        assert z.read(f"{base}_boards.cpg").decode().strip() == "UTF-8"
        assert "British_National_Grid" in z.read(f"{base}_boards.prj").decode()
        readme = z.read("README.txt").decode("utf-8")
    assert f"version {schema.SCHEMA_VERSION}" in readme and "cncl_whole" in readme
    import pyogrio

    info = pyogrio.read_info(path, layer=f"{base}_boards")
    expected = [schema.shapefile_name(n) for n in schema.board_field_names()]
    assert list(info["fields"]) == expected and info["features"] == len(_active(plan))
    assert all(len(n) <= 10 for n in info["fields"])
    df = pyogrio.read_dataframe(path, layer=f"{base}_boards")
    for name in schema.LIST_FIELDS:
        col, count = schema.shapefile_name(name), schema.shapefile_name(f"{name}_count")
        texts = df[col].fillna("")
        assert texts.map(lambda t: len(t.encode("utf-8"))).max() <= 254, col
        assert texts.map(lambda t: len([x for x in t.split("; ") if x])).tolist() == df[count].tolist(), col
    assert not df["cncl_whole"].str.contains(r"\(", regex=True).any()  # codes only in dBase text
    assert df["contiguous"].dtype == bool and df["population"].sum() == england.total_population
    back = import_file(path, england)
    assert np.array_equal(back.plan.assignment, plan.assignment)
    assert back.report.complete and back.report.weak == []


def test_cli_shp_with_units_warns_and_reimports(plans, england, tmp_path, capsys):
    from icbmap.cli import main
    from icbmap.plan.proposal import Proposal, read_proposal, write_proposal

    plan = plans["proposal"]
    prop = tmp_path / "p.icbmap.json"
    write_proposal(prop, Proposal.new(plan, title="Shapefile"))
    out = tmp_path / "p.zip"
    assert main(PACK + ["export", str(prop), "--format", "shp", "--units", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert re.search(rf"warning: --units adds all {england.n_units:,} LSOA polygons: about [\d,]+ MB", err)
    assert main(PACK + ["import", str(out), "-o", str(tmp_path / "back.icbmap.json")]) == 0
    back = read_proposal(tmp_path / "back.icbmap.json", england)
    assert np.array_equal(back.plan.assignment, plan.assignment)
    assert f"{england.n_units:,} of {england.n_units:,} units placed" in back.notes
    # an existing output is replaced (atomically: no temporary files are left beside it)
    assert main(PACK + ["export", str(prop), "--format", "shp", "-o", str(out)]) == 0
    with zipfile.ZipFile(out) as z:
        assert not any(n.endswith("_units.shp") for n in z.namelist())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["back.icbmap.json", "p.icbmap.json", "p.zip"]
    capsys.readouterr()


def _fifo(tmp_path):
    path = tmp_path / "pipe.zip"
    os.mkfifo(path)
    return path


def _zip_of(tmp_path, name, members: dict):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in members.items():
            z.writestr(n, data)
    return path


def _bad_crc(tmp_path):
    path = tmp_path / "crc.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for ext in (".shp", ".shx", ".dbf"):
            z.writestr("b" + ext, b"A" * 400)
    data = bytearray(path.read_bytes())
    data[data.index(b"A" * 400) + 10] = ord("B")  # flip one stored byte of b.shp
    path.write_bytes(bytes(data))
    return path


def _bomb(tmp_path, monkeypatch):
    """Unpacks past the limit (the limit is lowered so the test stays small and fast)."""
    from icbmap.export import import_common

    monkeypatch.setattr(import_common, "MAX_IMPORT_BYTES", 1 << 20)
    return _zip_of(tmp_path, "bomb.zip", {"b.shp": b"\0" * (3 << 20), "b.shx": b"\0", "b.dbf": b"\0"})


ZIP_CASES = [
    ("text-as-zip", lambda t, m: (t / "notes.zip", (t / "notes.zip").write_text("hello, not a zip"))[0],
     r"not a readable zip archive"),
    ("truncated-zip", lambda t, m: (t / "cut.zip", (t / "cut.zip").write_bytes(
        _zip_of(t, "whole.zip", {"b.shp": os.urandom(5000)}).read_bytes()[:3000]))[0], r"not a readable zip archive"),
    ("fifo-zip", lambda t, m: _fifo(t), r"not a regular file"),
    ("empty-zip", lambda t, m: (t / "e.zip", (t / "e.zip").write_bytes(b""))[0], r"the file is empty"),
    ("huge-zip", lambda t, m: (t / "huge.zip", open(t / "huge.zip", "wb").truncate(1 << 30))[0],
     r"larger than the 512 MB import limit"),
    ("zip-bomb", _bomb, r"unpacks to 3 MB, larger than the 1 MB import limit"),
    ("zip-of-text", lambda t, m: _zip_of(t, "docs.zip", {"readme.txt": "x", "a.pdf": "y"}),
     r"holds no shapefile, GeoPackage or GeoJSON \(it holds readme.txt, a.pdf\)"),
    ("zip-shp-no-dbf", lambda t, m: _zip_of(t, "nodbf.zip", {"b.shp": "x", "b.shx": "y"}),
     r"shapefile b.shp has no \.dbf beside it"),
    ("zip-bad-crc", lambda t, m: _bad_crc(t), r"the zip is damaged: b.shp fails its checksum"),
    ("zip-garbage-shp", lambda t, m: _zip_of(t, "junk.zip", {"b.shp": b"\x01" * 300, "b.shx": b"\x02" * 100,
                                                             "b.dbf": b"\x03" * 100}),
     r"the zip's b.shp cannot be read as a layer \(damaged, or not really that format\)"),
]


@pytest.mark.parametrize("case", ZIP_CASES, ids=[c[0] for c in ZIP_CASES])
def test_hostile_zip_imports_give_one_clear_line(case, tmp_path, monkeypatch, capsys, england):
    from icbmap.cli import main

    _id, make, message = case
    src = tmp_path / "in"
    src.mkdir()
    path = make(src, monkeypatch)
    rc = main(PACK + ["import", str(path), "-o", str(tmp_path / "out.icbmap.json")])
    err = capsys.readouterr().err
    assert rc == 1, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("icbmap: error: ")]
    assert len(errors) == 1 and str(path) in errors[0], err
    assert re.search(message, errors[0]), err
    assert not (tmp_path / "out.icbmap.json").exists()
    with pytest.raises(ImportError_):
        import_file(path, england)


# ------------------------------------------------------------------ names
@pytest.mark.parametrize("given, expected", [
    ("Option B: North?.gpkg", "Option B_ North_.gpkg"),
    ('a<b>|c*"d".geojson', "a_b_c_d_.geojson"),
    ("CON.csv", "_CON.csv"),
    ("nul.zip", "_nul.zip"),
    ("   .csv", "icbmap-export.csv"),
    ("trailing dots... .csv", "trailing dots.csv"),
    ("tab\there\x07.zip", "tab_here_.zip"),
    ("Café plan.gpkg", "Café plan.gpkg"),
    ("ok-name_2.csv", "ok-name_2.csv"),
])
def test_file_names_are_cleaned(given, expected):
    from icbmap.export.files import clean_file_name

    assert clean_file_name(given) == expected


def test_long_name_cut_to_limit_and_member_names_ascii():
    from icbmap.export.files import MAX_NAME_BYTES, clean_file_name

    out = clean_file_name("é" * 300 + ".gpkg")
    assert out.endswith(".gpkg") and len(out.encode("utf-8")) <= MAX_NAME_BYTES
    out.encode("utf-8").decode("utf-8")  # not cut inside a character
    assert member_base("Option B: Café (v2).zip") == "Option_B_Cafe_v2"
    assert member_base("   .zip") == "icbmap"


def test_cli_reports_the_cleaned_name(tmp_path, capsys):
    from icbmap.cli import main

    rc = main(PACK + ["export", "--format", "csv", "-o", str(tmp_path / "Plan: A|B?.csv")])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "warning: the file name 'Plan: A|B?.csv' is not valid on every system; writing 'Plan_ A_B_.csv'" \
        in cap.err
    assert (tmp_path / "Plan_ A_B_.csv").exists() and (tmp_path / "Plan_ A_B_-boards.csv").exists()
    assert cap.out.splitlines()[0] == str(tmp_path / "Plan_ A_B_.csv")
    assert main(PACK + ["export", "--format", "shp", "-o", str(tmp_path / "Plan B (draft).zip")]) == 0
    err = capsys.readouterr().err
    assert "note: the shapefiles in the zip are named Plan_B_draft_boards.shp" in err
    with zipfile.ZipFile(tmp_path / "Plan B (draft).zip") as z:
        assert "Plan_B_draft_boards.dbf" in z.namelist()


# ------------------------------------------------------------------ Excel-ready CSV
def test_csv_bom_and_no_bom(plans, tmp_path, capsys):
    from icbmap.cli import main

    plan = plans["odd"]
    paths = write_csv(plan, tmp_path / "a.csv")
    for p in paths:
        assert p.read_bytes().startswith(b"\xef\xbb\xbf"), p
    rows = list(csv.DictReader(io.StringIO(paths[1].read_text(encoding="utf-8-sig"))))
    odd = next(r for r in rows if r["code"] == "NEW99")
    assert odd["name"] == ODD_NAME
    for r in rows:
        assert re.fullmatch(r"\d+", r["population"]) and re.fullmatch(r"\d+", r["units"])
        assert re.fullmatch(r"0(\.\d+)?|1(\.0+)?", r["population_share"])
        assert r["contiguous"] in ("true", "false") and r["schema_version"] == str(schema.SCHEMA_VERSION)
    assert sum(int(r["population"]) for r in rows) == int(plan.atlas.population[plan.assignment >= 0].sum())
    assert main(PACK + ["export", "--format", "csv", "--no-bom", "-o", str(tmp_path / "s.csv")]) == 0
    assert (tmp_path / "s.csv").read_bytes().startswith(b"lsoa_code,")
    assert (tmp_path / "s-boards.csv").read_bytes().startswith(b"board_id,code,")
    assert main(PACK + ["export", "--format", "gpkg", "--no-bom", "-o", str(tmp_path / "s.gpkg")]) == 2
    assert "--no-bom applies to --format csv" in capsys.readouterr().err
    # the boards table is not an assignment: importing it says so in one line
    assert main(PACK + ["import", str(paths[1]), "-o", str(tmp_path / "x.icbmap.json")]) == 1
    err = capsys.readouterr().err
    assert f"icbmap: error: {paths[1]}: is icbmap's table of boards" in err and "Traceback" not in err


def test_cancelled_shapefile_export_leaves_nothing(plans, tmp_path):
    from icbmap.errors import Cancelled
    from icbmap.progress import Progress

    old = tmp_path / "p.zip"
    old.write_bytes(b"the previous export")
    seen = []

    def cb(fraction, message):
        seen.append(message)
        if message.startswith("Writing"):
            progress.cancel()  # takes effect at the next step, before the zip is made

    progress = Progress(cb, "export")
    with pytest.raises(Cancelled):
        write_shapefile_zip(plans["proposal"], old, units=False, progress=progress)
    assert not any(m.startswith("Zipping") for m in seen)
    assert [p.name for p in tmp_path.iterdir()] == ["p.zip"] and old.read_bytes() == b"the previous export"


def _xlsx_cells(path: Path):
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(path) as z:
        shared = []
        if "xl/sharedStrings.xml" in z.namelist():
            for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", ns):
                shared.append("".join(t.text or "" for t in si.iter(f"{{{ns['m']}}}t")))
        sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    rows = []
    formulas = 0
    for row in sheet.iter(f"{{{ns['m']}}}row"):
        cells = []
        for c in row.findall("m:c", ns):
            col = 0  # an empty cell is left out of the XML: place each cell by its reference
            for ch in re.match(r"[A-Z]+", c.get("r")).group():
                col = col * 26 + ord(ch) - 64
            cells.extend([None] * (col - 1 - len(cells)))
            formulas += c.find("m:f", ns) is not None
            v = c.find("m:v", ns)
            t = c.get("t", "n")
            if v is None:
                cells.append(None)
            elif t == "s":
                cells.append(shared[int(v.text)])
            elif t == "n":
                cells.append(float(v.text))
            else:
                cells.append(v.text)
        rows.append(cells)
    return rows, formulas


def test_csv_opens_in_libreoffice(plans, tmp_path):
    """``soffice --headless --convert-to xlsx`` reading the CSV as UTF-8 (headless, LibreOffice
    takes the character set from ``--infilter``, not from the byte-order mark): the mark is
    consumed, not left in the first header cell; names keep their characters; numbers are
    numeric cells; nothing is a formula."""
    import shutil

    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui")
    plan = plans["odd"]
    paths = write_csv(plan, tmp_path / "odd.csv")
    boards = paths[1]
    profile = tmp_path / "lo-profile"
    r = subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "xlsx",
                        "--infilter=CSV:44,34,76,1", "--outdir", str(tmp_path / "x"), str(boards)], capture_output=True, text=True, timeout=300)
    xlsx = tmp_path / "x" / "odd-boards.xlsx"
    assert xlsx.exists(), r.stdout + r.stderr
    rows, formulas = _xlsx_cells(xlsx)
    assert formulas == 0
    header = rows[0]
    assert header == schema.board_field_names()
    body = [dict(zip(header, row)) for row in rows[1:]]
    assert len(body) == len(_active(plan))
    odd = next(r for r in body if r["code"] == "NEW99")
    assert odd["name"] == ODD_NAME
    pops = {b.code: int(plan.atlas.population[plan.assignment == b.id].sum()) for b in _active(plan)}
    for r in body:
        assert isinstance(r["population"], float) and int(r["population"]) == pops[r["code"]]
        assert isinstance(r["population_share"], float)


# ------------------------------------------------------------------ QGIS round trip
QGIS_PYTHON = os.environ.get("ICBMAP_QGIS_PYTHON", "/usr/bin/python3")
DRIVER = Path(__file__).with_name("qgis_driver.py")
FIELD_TYPES = {"String", "Integer", "Integer64", "Real", "Boolean"}


@functools.lru_cache(maxsize=1)
def _qgis_missing() -> str | None:
    """Why the QGIS round trip cannot run here, or None."""
    if not Path(QGIS_PYTHON).exists():
        return f"{QGIS_PYTHON} does not exist (set ICBMAP_QGIS_PYTHON to a Python with PyQGIS)"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONPATH", None)
    try:
        r = subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True, text=True,
                           timeout=120, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run {QGIS_PYTHON}: {exc}"
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["?"])[-1]
        return (f"qgis.core is not importable by {QGIS_PYTHON} ({last}); QGIS is optional for developers: "
                "apt-get install python3-qgis (Debian) to run this test")
    return None


def _need_qgis():
    reason = _qgis_missing()
    if reason:
        if os.environ.get("ICBMAP_REQUIRE_QGIS") == "1":
            pytest.fail(f"ICBMAP_REQUIRE_QGIS=1 but {reason}")
        pytest.skip(reason)


def _run_qgis(specs, outdir: Path) -> dict:
    spec_path = outdir / "spec.json"
    spec_path.write_text(json.dumps(specs))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(outdir)}
    env.pop("PYTHONPATH", None)
    r = subprocess.run([QGIS_PYTHON, str(DRIVER), str(outdir), str(spec_path)], capture_output=True, text=True,
                       timeout=900, env=env, cwd=outdir)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"the QGIS driver printed no result (exit {r.returncode}):\n{r.stderr[-3000:]}"
    return json.loads(lines[-1])


@pytest.mark.parametrize("which", ["baseline", "proposal"])
def test_qgis_round_trip(which, plans, england, tmp_path):
    """QGIS loads the boards and units exports (GeoJSON, GeoPackage, shapefile zip), finds
    every geometry valid, dissolves and buffers them into memory, a GeoPackage and a
    shapefile, saves them as shapefiles; icbmap imports the results back unchanged."""
    _need_qgis()
    plan = plans[which]
    gj, gj_units = write_geojson(plan, tmp_path / "b.geojson", units=True)
    gp = write_gpkg(plan, tmp_path / "b.gpkg")[0]
    zp = write_shapefile_zip(plan, tmp_path / "b.zip")[0]
    base = member_base(zp)
    specs = [
        {"name": "boards-geojson", "uri": str(gj), "dissolve_field": "code"},
        {"name": "units-geojson", "uri": str(gj_units), "dissolve_field": "board_code"},
        {"name": "boards-gpkg", "uri": f"{gp}|layername=boards", "dissolve_field": "code"},
        {"name": "units-gpkg", "uri": f"{gp}|layername=units", "dissolve_field": "board_code"},
        {"name": "councils-gpkg", "uri": f"{gp}|layername=councils", "dissolve_field": "code"},
        {"name": "cas-gpkg", "uri": f"{gp}|layername=combined_authorities", "dissolve_field": "code"},
        {"name": "boards-shp", "uri": f"/vsizip/{zp}/{base}_boards.shp", "dissolve_field": "code"},
    ]
    out = tmp_path / "qgis"
    out.mkdir()
    result = _run_qgis(specs, out)
    layers = {r["name"]: r for r in result["layers"]}
    n_boards = len(_active(plan))
    with_units = len({int(b) for b in plan.assignment if b >= 0})
    expect = {"boards-geojson": n_boards, "boards-gpkg": n_boards, "boards-shp": n_boards,
              "units-geojson": england.n_units, "units-gpkg": england.n_units,
              "councils-gpkg": len(england.layers["council"]), "cas-gpkg": len(england.layers["ca"])}
    for name, r in layers.items():
        assert r["errors"] == [], (name, r["errors"])
        assert r["valid_layer"] and r["features"] == expect[name], name
        assert r["invalid_geometries"] == 0, name
        types = set(r["fields"].values())
        assert types <= FIELD_TYPES, (name, types)     # no JSON or StringList fields
        steps = r["steps"]
        assert all(v is not None for v in steps.values()) and len(steps) == 6, (name, steps)
        dissolved = with_units if name.startswith("units") else expect[name]
        assert {steps[f"dissolve:{t}"] for t in ("memory", "gpkg", "shp")} == {dissolved}, (name, steps)
        assert {steps[f"buffer:{t}"] for t in ("memory", "gpkg", "shp")} == {expect[name]}, (name, steps)
    # the styled GeoPackage, read back through qgis.core
    st = layers["boards-gpkg"]["style"]
    assert st["renderer"] == "categorizedSymbol" and st["attr"] == "code" and st["labels"]
    assert {k: v["colour"] for k, v in st["categories"].items()} == \
        {b.code: b.colour.lower() for b in _active(plan)}
    assert '"name"' in st["label_expression"] and '"population"' in st["label_expression"]
    from icbmap.names import format_population, short_board_name

    pops = {b.code: int(england.population[plan.assignment == b.id].sum()) for b in _active(plan)}
    assert st["labels_text"] == {b.code: f"{short_board_name(b.name)}\n{format_population(pops[b.code])}"
                                 for b in _active(plan)}  # the app's labels
    cas = layers["cas-gpkg"]["style"]
    assert (cas["line_color"], cas["line_width"], cas["dash"]) == ("106,27,154,255", "2", "8;5")
    assert layers["councils-gpkg"]["style"]["line_color"] == "48,48,48,255"
    assert layers["units-gpkg"]["style"]["min_scale"] == 250000
    # (a GeoPackage layer name may not begin with "gpkg": QGIS names output layers after
    # their files, so these layers are called boards-gpkg, not gpkg-boards)
    # what QGIS wrote, imported back into icbmap: the same assignment
    for name in ("boards-geojson", "boards-gpkg", "boards-shp"):
        back = import_file(layers[name]["saved"], england)
        assert np.array_equal(back.plan.assignment, plan.assignment), name
        assert back.report.complete, name
    for name in ("units-geojson", "units-gpkg"):
        back = import_file(layers[name]["dissolved_shp"], england, code_field="board_code",
                           name_field="board_name")
        assert np.array_equal(back.plan.assignment, plan.assignment), name


def test_shapefile_row_keeps_dbase_limits(plans):
    """A board holding more councils than 254 bytes of codes: the list is cut at an item
    and marked, the count stays true (developer-made: the baseline's first board with its
    council list repeated)."""
    from icbmap.export.facts import board_facts

    fact = dict(board_facts(plans["baseline"])[0])
    many = [f"Council {i} (E0{i:07d})" for i in range(40)]
    fact["councils_whole"] = many
    row = schema.shapefile_board_row(fact)
    text = row["cncl_whole"]
    assert len(text.encode("utf-8")) <= schema.DBF_TEXT_BYTES and text.endswith("…")
    assert text.startswith("E00000000; E00000001; ") and "Council" not in text
    assert row["cncl_whl_n"] == 40
    assert set(row) == {schema.shapefile_name(n) for n in schema.board_field_names()}


def test_gpkg_style_uses_the_apps_drawing(qtbot):
    """The GeoPackage style and the app draw from the same constants (icbmap.mapstyle)."""
    from PySide6.QtCore import QRectF

    from icbmap import mapstyle
    from icbmap.app.map import layers

    assert layers.OUTLINE_STYLE is mapstyle.OUTLINE_STYLE
    fill = layers.BoardFillLayer(QRectF(0, 0, 1, 1))
    assert fill.opacity_fill == mapstyle.BOARD_FILL_OPACITY
    edge, width = mapstyle.BOARD_EDGE
    assert fill.outline_pen.color().name() == edge and fill.outline_pen.widthF() == width
    lines = layers.UnitLinesLayer(QRectF(0, 0, 1, 1), shapes=None)
    c = lines.pen.color()
    assert (c.red(), c.green(), c.blue(), c.alpha()) == mapstyle.UNIT_LINE[0]
    assert lines.pen.widthF() == mapstyle.UNIT_LINE[1]
