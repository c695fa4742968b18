"""Issue 23, items 2, 3 and 5: ONS/NHS-style fields in every format, the Excel workbook,
and the round trip (export -> import, and QGIS's re-save -> import) with hostile names.

Expected values come from the atlas and plan under test (the offline pack's April 2026
baseline; developer-made proposals), not hard-coded figures.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from icbmap.export import schema
from icbmap.export.csv import write_csv
from icbmap.export.facts import LOCAL_CODE, LOCAL_PREFIX, ONS_CODE
from icbmap.export.geojson import write_geojson
from icbmap.export.gpkg import write_gpkg
from icbmap.export.import_common import ImportError_
from icbmap.export.importers import import_file
from icbmap.export.shp import member_base, write_shapefile_zip
from icbmap.export.xlsx import SHEETS, write_xlsx
from icbmap.plan.commands import CreateBoard, History, MoveUnits
from icbmap.plan.model import Plan

pytestmark = pytest.mark.slow

PACK = ["--pack", "england-offline"]
#: Names that break naive writers and readers: quotes, commas, RTL marks, emoji, a leading
#: "=", 300 characters (cut to 254 bytes in a shapefile only).
HOSTILE = ['Peak, "High" & Moorlands', "=HYPERLINK(\"http://x\",\"click\")", "\u200fشمال\u200f North ICB",
           "Coast 🏥🌊 Board", "Ynys Môn – Café ‘Test’", "L" * 150 + "é" * 150, "+44 @board; -x"]
LONG = HOSTILE[5]


def _plan(england, names):
    p = Plan(england)
    h = History(p)
    pool = np.flatnonzero(p.assignment == 5)
    for k, name in enumerate(names):
        c = CreateBoard(name, code=f"NEW{k + 1:02d}")
        h.push(c)
        h.push(MoveUnits(pool[25 * k: 25 * (k + 1)], c.board_id))
    return p


@pytest.fixture(scope="module")
def hostile(england):
    return _plan(england, HOSTILE)


@pytest.fixture(scope="module")
def exports(hostile, tmp_path_factory):
    d = tmp_path_factory.mktemp("ons23")
    return {
        "geojson": write_geojson(hostile, d / "h.geojson", units=True)[0],
        "gpkg": write_gpkg(hostile, d / "h.gpkg")[0],
        "shp": write_shapefile_zip(hostile, d / "h.zip", units=True)[0],
        "csv": write_csv(hostile, d / "h.csv"),
        "xlsx": write_xlsx(hostile, d / "h.xlsx", title="Hostile")[0],
        "dir": d,
    }


# ------------------------------------------------------------------ item 2: the fields
def _expected(england, plan):
    t = england.layers["board"].table
    regions = england.layers["region"].table
    out = {}
    for i, code in enumerate(t["code"]):
        r = int(t["region"].iat[i])
        out[str(code)] = {"ICB26CD": str(code), "ICB26NM": str(t["name"].iat[i]), "ICB26CDH": str(t["code_nhs"].iat[i]),
                          "code_kind": ONS_CODE, "NHSER26CD": str(regions["code"].iat[r]),
                          "NHSER26NM": str(regions["name"].iat[r])}
    return out


def test_ons_fields_in_geojson(exports, hostile, england):
    doc = json.loads(exports["geojson"].read_text(encoding="utf-8"))
    props = {f["properties"]["code"]: f["properties"] for f in doc["features"]}
    expect = _expected(england, hostile)
    assert props["E54000008"]["ICB26CDH"] == "QYG" and props["E54000008"]["NHSER26CD"].startswith("E40")
    for code, e in expect.items():
        if code in props:
            assert {k: props[code][k] for k in e} == e, code
    new = props["NEW01"]
    assert new["ICB26CD"] == LOCAL_PREFIX + "NEW01" and new["code_kind"] == LOCAL_CODE and new["ICB26CDH"] is None
    assert new["changed"] is True and props["E54000008"]["changed"] is False
    # the region of a proposed board: the one holding most of its people
    sel = hostile.assignment == hostile.board_by_code("NEW01").id
    reg = np.bincount(england.units["region"].to_numpy()[sel], weights=england.population[sel]).argmax()
    assert new["NHSER26CD"] == england.layers["region"].table["code"].iat[reg]
    # label point inside the board, in both systems; area from the shape
    import shapely

    from icbmap.export.shapes import transformer

    for code in ("E54000008", "NEW01"):
        p = props[code]
        board = hostile.board_by_code(code)
        units = england.units.geometry.to_numpy()[hostile.assignment == board.id]
        shape = shapely.union_all(units)
        assert shape.contains(shapely.Point(p["BNG_E"], p["BNG_N"]).buffer(0.6).centroid) or \
            shape.distance(shapely.Point(p["BNG_E"], p["BNG_N"])) < 1.0
        lon, lat = transformer().transform(p["BNG_E"], p["BNG_N"])
        assert abs(lon - p["LONG"]) < 1e-4 and abs(lat - p["LAT"]) < 1e-4
        assert abs(p["area_km2"] - shape.area / 1e6) < 0.01 * p["area_km2"]
        assert isinstance(p["BNG_E"], int) and isinstance(p["area_km2"], float)
    assert len({p["board_id"] for p in props.values()}) == len(props)


def test_ons_fields_types_in_gpkg_shp_csv(exports):
    import pyogrio

    types = schema.board_field_types()
    ogr = {"string": ("OFTString", "OFSTNone"), "integer": ("OFTInteger64", "OFSTNone"),
           "real": ("OFTReal", "OFSTNone"), "boolean": ("OFTInteger", "OFSTBoolean")}
    info = pyogrio.read_info(exports["gpkg"], layer="boards")
    got = dict(zip(info["fields"], zip(info["ogr_types"], info["ogr_subtypes"])))
    for name in ("ICB26CD", "ICB26NM", "ICB26CDH", "NHSER26CD", "NHSER26NM", "code_kind", "changed", "board_id",
                 "BNG_E", "BNG_N", "LONG", "LAT", "area_km2", "perimeter_km"):
        assert got[name] == ogr[types[name]], name
    base = member_base(exports["shp"])
    info = pyogrio.read_info(exports["shp"], layer=f"{base}_boards")
    fields = list(info["fields"])
    assert {"ICB26CD", "ICB26NM", "ICB26CDH", "NHSER26CD", "NHSER26NM", "BNG_E", "BNG_N", "LONG", "LAT",
            "area_km2", "perim_km", "board_id"} <= set(fields)
    units = pyogrio.read_dataframe(exports["gpkg"], layer="units", read_geometry=False)
    assert {"LAD25CD", "LAD25NM", "SICBL26CD", "SICBL26NM"} <= set(units.columns)
    assert units["LAD25CD"].str.match(r"E0[6789]\d{6}$").all()
    uinfo = pyogrio.read_info(exports["shp"], layer=f"{base}_units")
    assert {"LAD25CD", "SICBL26CD"} <= set(uinfo["fields"])
    header = next(csv.reader(io.StringIO(exports["csv"][1].read_text(encoding="utf-8-sig"))))
    assert header == schema.board_field_names()


def test_vintage_names_follow_the_baseline(england_2024, tmp_path):
    """On the April 2024 baseline the fields are ICB24CD ..., not ICB26CD."""
    plan = Plan(england_2024)
    doc = json.loads(write_geojson(plan, tmp_path / "b24.geojson")[0].read_text(encoding="utf-8"))
    p = doc["features"][0]["properties"]
    assert "ICB24CD" in p and "NHSER24CD" in p and "ICB26CD" not in p
    assert p["ICB24CD"] == p["code"] and p["code_kind"] == ONS_CODE


def test_geojson_bng(hostile, england, tmp_path, capsys):
    from icbmap.cli import main
    from icbmap.plan.proposal import Proposal, read_proposal, write_proposal

    prop = tmp_path / "h.icbmap.json"
    write_proposal(prop, Proposal.new(hostile, title="BNG"))
    out = tmp_path / "bng.geojson"
    assert main(PACK + ["export", str(prop), "--format", "geojson", "--crs", "27700", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "outside RFC 7946" in err
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::27700"
    w, s, e, n = doc["bbox"]
    assert 80_000 < w < 150_000 and 0 < s < 20_000 and 600_000 < e < 700_000 and 600_000 < n < 700_000
    import pyogrio

    assert pyogrio.read_info(out)["crs"] == "EPSG:27700"
    assert main(PACK + ["import", str(out), "-o", str(tmp_path / "back.icbmap.json")]) == 0
    back = read_proposal(tmp_path / "back.icbmap.json", england)
    assert np.array_equal(back.plan.assignment, hostile.assignment)
    assert main(PACK + ["export", "--format", "gpkg", "--crs", "27700", "-o", str(tmp_path / "x.gpkg")]) == 2
    assert "--crs applies to --format geojson" in capsys.readouterr().err


# ------------------------------------------------------------------ item 3: the workbook
def test_workbook_sheets_types_and_layout(exports, hostile, england):
    from openpyxl import load_workbook

    from icbmap.export.facts import metrics_report

    wb = load_workbook(exports["xlsx"])
    assert wb.sheetnames == list(SHEETS)
    for ws in wb:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), ws.title
        header = [c.value for c in ws[1]]
        for k, h in enumerate(header, start=1):
            from openpyxl.utils import get_column_letter

            width = ws.column_dimensions[get_column_letter(k)].width
            longest = max(10 if isinstance(c.value, dt.date) else len(str(c.value))
                          for c in ws[get_column_letter(k)] if c.value is not None)
            assert width >= min(longest, 58) or width >= 60, (ws.title, h, width, longest)
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)  # nothing is a formula
    boards = list(wb["boards"].iter_rows(values_only=True))
    header = list(boards[0])
    assert header == schema.board_field_names()
    rows = {r[header.index("code")]: dict(zip(header, r)) for r in boards[1:]}
    report = metrics_report(hostile)
    for b in report.boards:
        r = rows[b.code]
        assert r["population"] == b.population and isinstance(r["population"], int)
        assert r["units"] == b.units and r["pieces"] == b.pieces
        assert isinstance(r["contiguous"], bool) and r["contiguous"] == b.contiguous
        assert isinstance(r["population_share"], float)
    for k, name in enumerate(HOSTILE):
        assert rows[f"NEW{k + 1:02d}"]["name"] == name  # quotes, RTL, emoji, '=' ... exactly
    assert rows["NEW02"]["name"].startswith("=")        # a text cell, not a formula
    # councils: every council's board populations add up to the council's
    councils = list(wb["councils"].iter_rows(values_only=True))
    ch = list(councils[0])
    per = {}
    for r in councils[1:]:
        d = dict(zip(ch, r))
        per.setdefault(d["council_code"], [d["area_population"], 0])[1] += d["board_population_here"] or 0
    for code, (total, parts) in per.items():
        assert total == parts, code
    assert len(per) == len(england.layers["council"])
    # principles: a boolean pass/fail and a reason for each failure
    pr = list(wb["principles"].iter_rows(values_only=True))
    ph = list(pr[0])
    results = [dict(zip(ph, r)) for r in pr[1:]]
    assert {r["result"] for r in results} <= {"pass", "fail", "not checked"}
    assert all(isinstance(r["passed"], bool) for r in results if r["result"] != "not checked")
    assert all(r["reason"] for r in results if r["result"] == "fail")
    assert any(r["result"] == "fail" and r["board_code"] == "NEW01" for r in results)  # 25 LSOAs: too small
    # moves: exactly the LSOAs that differ from the baseline
    mv = list(wb["moves"].iter_rows(values_only=True))
    moved = {r[0] for r in mv[1:]}
    assert moved == set(england.unit_codes[hostile.assignment != hostile.baseline_assignment])
    # sources: a date cell, the baseline and the licences
    src = {(r[0], r[1]): r for r in wb["sources"].iter_rows(min_row=2, values_only=True)}
    assert isinstance(src[("export", "exported")][2], dt.datetime)
    assert src[("export", "baseline")][2] == "2026"
    assert any(r[4] == "Open Government Licence v3.0" for r in src.values())


def test_workbook_round_trip_and_cli(exports, hostile, england, tmp_path, capsys):
    from icbmap.cli import main
    from icbmap.plan.proposal import read_proposal

    back = import_file(exports["xlsx"], england)
    assert np.array_equal(back.plan.assignment, hostile.assignment)
    names = {b["code"]: b["name"] for b in back.report.boards}
    for k, name in enumerate(HOSTILE):
        assert names[f"NEW{k + 1:02d}"] == name
    assert main(PACK + ["export", "--format", "xlsx", "-o", str(tmp_path / "b.xlsx")]) == 0
    assert main(PACK + ["import", str(tmp_path / "b.xlsx"), "-o", str(tmp_path / "b.icbmap.json")]) == 0
    assert np.array_equal(read_proposal(tmp_path / "b.icbmap.json", england).plan.assignment,
                          Plan(england).assignment)
    capsys.readouterr()


def test_workbook_other_baseline_refused(exports, england_2024):
    with pytest.raises(ImportError_, match="made on the 2026 baseline"):
        import_file(exports["xlsx"], england_2024)


# ------------------------------------------------------------------ round trip, hostile names
def test_every_format_round_trips_hostile_names(exports, hostile, england):
    paths = {"geojson": exports["geojson"], "gpkg": exports["gpkg"], "shp": exports["shp"],
             "csv": exports["csv"][0], "xlsx": exports["xlsx"]}
    for fmt, path in paths.items():
        back = import_file(path, england)
        assert np.array_equal(back.plan.assignment, hostile.assignment), fmt
        names = {b["code"]: b["name"] for b in back.report.boards}
        for k, name in enumerate(HOSTILE):
            got = names[f"NEW{k + 1:02d}"]
            if fmt == "shp" and len(name.encode("utf-8")) > schema.DBF_TEXT_BYTES:
                assert len(got.encode("utf-8")) <= schema.DBF_TEXT_BYTES and name.startswith(got[:-1]), fmt
                assert got.endswith("…")
            else:
                assert got == name, (fmt, name)


def test_shapefile_cut_is_reported(hostile, tmp_path, capsys):
    from icbmap.cli import main
    from icbmap.plan.proposal import Proposal, write_proposal

    prop = tmp_path / "h.icbmap.json"
    write_proposal(prop, Proposal.new(hostile, title="Cut"))
    assert main(PACK + ["export", str(prop), "--format", "shp", "-o", str(tmp_path / "h.zip")]) == 0
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "254" in ln]
    assert len(lines) == 1 and "NEW06" in lines[0] and "name" in lines[0], err


def test_newline_name_is_refused_on_import(england, tmp_path):
    """A board name is one line of printable text (the plan model's rule): a file whose name
    holds a newline is refused with one line, never half-imported."""
    path = tmp_path / "nl.csv"
    rows = [["lsoa_code", "board_code", "board_name"], [england.unit_codes[0], "X1", "Two\nlines"]]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    with pytest.raises(ImportError_, match="control character"):
        import_file(path, england)


# ------------------------------------------------------------------ unwritable output
FORMATS = [("geojson", ".geojson"), ("gpkg", ".gpkg"), ("shp", ".zip"), ("csv", ".csv"), ("xlsx", ".xlsx")]


def _denied(*_a, **_k):
    raise PermissionError(13, "Permission denied")


@pytest.mark.parametrize("fmt, suffix", FORMATS)
def test_unwritable_folder_one_line_no_partial_file(fmt, suffix, tmp_path, capsys, monkeypatch):
    """No write permission in the output folder: a real read-only folder, or (as root, who
    may write anywhere) every temporary file refused as a read-only folder refuses it."""
    import tempfile

    from icbmap.cli import main

    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() == 0:
        monkeypatch.setattr(tempfile, "mkstemp", _denied)
        monkeypatch.setattr(tempfile, "mkdtemp", _denied)
    ro.chmod(0o555)
    try:
        rc = main(PACK + ["export", "--format", fmt, "-o", str(ro / f"x{suffix}")])
    finally:
        ro.chmod(0o755)
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err, err
    errors = [ln for ln in err.splitlines() if ln.startswith("icbmap: error:")]
    assert len(errors) == 1 and "ermission denied" in errors[0], err
    assert list(ro.iterdir()) == []


@pytest.mark.parametrize("fmt, suffix", FORMATS)
def test_full_disk_one_line_no_partial_file(fmt, suffix, tmp_path, capsys, monkeypatch):
    """A full disk: the data reaches the temporary file but flushing it fails with ENOSPC
    (as when the last blocks cannot be allocated): one line, nothing left behind."""
    from icbmap.cli import main

    def full(_fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    out = tmp_path / "out"
    out.mkdir()
    rc = main(PACK + ["export", "--format", fmt, "-o", str(out / f"x{suffix}")])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err, err
    errors = [ln for ln in err.splitlines() if ln.startswith("icbmap: error:")]
    assert len(errors) == 1 and "No space left on device" in errors[0], err
    assert list(out.iterdir()) == [], list(out.iterdir())


# ------------------------------------------------------------------ LibreOffice
def _soffice():
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        reason = "LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui"
        if os.environ.get("ICBMAP_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail(f"ICBMAP_REQUIRE_LIBREOFFICE=1 but {reason}")
        pytest.skip(reason)
    return path


def test_workbook_in_libreoffice_gives_the_metrics_figures(hostile, england, tmp_path, capsys):
    """``soffice --headless --convert-to csv`` of every sheet (LibreOffice 7.2+ writes one
    CSV per sheet with the sheet token -1): the boards' and councils' figures are those of
    ``icbmap metrics --format json`` for the same proposal; hostile names come back as
    text (a formula would have been exported as its result)."""
    from icbmap.cli import main
    from icbmap.plan.proposal import Proposal, write_proposal

    soffice = _soffice()
    prop = tmp_path / "h.icbmap.json"
    write_proposal(prop, Proposal.new(hostile, title="LibreOffice"))
    book = tmp_path / "h.xlsx"
    assert main(PACK + ["export", str(prop), "--format", "xlsx", "-o", str(book)]) == 0
    assert main(PACK + ["metrics", str(prop), "--format", "json", "-o", str(tmp_path / "m.json")]) == 0
    capsys.readouterr()
    metrics = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    out = tmp_path / "csv"
    r = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless",
                        "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                        "--outdir", str(out), str(book)], capture_output=True, text=True, timeout=300)
    sheets = {p.stem[len("h-"):]: p for p in out.glob("h-*.csv")} if out.exists() else {}
    assert set(sheets) == set(SHEETS), r.stdout + r.stderr

    def read(name):
        return list(csv.DictReader(io.StringIO(sheets[name].read_text(encoding="utf-8"))))

    boards = {row["code"]: row for row in read("boards")}
    assert set(boards) == {b["code"] for b in metrics["boards"]}
    for b in metrics["boards"]:
        row = boards[b["code"]]
        assert int(row["population"]) == b["population"], b["code"]
        assert int(row["units"]) == b["units"] and int(row["pieces"]) == b["pieces"], b["code"]
        assert abs(float(row["population_share"]) - b["share"]) < 1e-6, b["code"]
        assert row["contiguous"] == ("TRUE" if b["contiguous"] else "FALSE"), b["code"]
        cot = b["coterminosity"]["council"]
        assert (row["coterminosity_index"] == "") if cot is None else abs(float(row["coterminosity_index"]) - cot) < 1e-4
    for k, name in enumerate(HOSTILE):
        assert boards[f"NEW{k + 1:02d}"]["name"] == name
    councils = read("councils")
    for a in metrics["areas"]["council"]:
        rows = [c for c in councils if c["council_code"] == a["code"]]
        assert {int(c["area_population"]) for c in rows} == {a["population"]}, a["code"]
        got = {c["board_code"]: int(c["board_population_here"]) for c in rows if c["board_code"]}
        assert got == {p["code"]: p["population"] for p in a["boards"]}, a["code"]
    sources = read("sources")
    exported = next(s for s in sources if s["item"] == "exported")["value"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d( 00:00:00)?", exported), exported  # a date cell, shown as a date
    # saved again by LibreOffice (as a user would after looking at it): imports the same
    resaved = tmp_path / "resaved"
    r = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless",
                        "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(resaved), str(book)],
                       capture_output=True, text=True, timeout=300)
    back = import_file(resaved / "h.xlsx", england)
    assert np.array_equal(back.plan.assignment, hostile.assignment), r.stdout + r.stderr
    assert {b["code"]: b["name"] for b in back.report.boards}["NEW02"] == HOSTILE[1]


# ------------------------------------------------------------------ QGIS
QSTRING, QBOOL, QDOUBLE = "QString", "bool", "double"
QINTS = {"int", "qlonglong"}
ONS_STRINGS = ("ICB26CD", "ICB26NM", "ICB26CDH", "NHSER26CD", "NHSER26NM", "code_kind")


def test_qgis_reads_every_format_with_ons_fields_and_types(exports, hostile, england, tmp_path, monkeypatch):
    """QGIS 3.22 (PyQGIS, under a German locale) loads the boards of every export format
    and the LSOA layer, finds the ONS/NHS fields with their types and values, one geometry
    type (MultiPolygon), the shapefile's style and check boxes, and board labels written
    as the app writes them (2.52m, not 2,52m)."""
    from test_export_tools import _need_qgis, _run_qgis

    _need_qgis()
    shp_dir = tmp_path / "shp"
    with zipfile.ZipFile(exports["shp"]) as z:
        z.extractall(shp_dir)
    base = member_base(exports["shp"])
    specs = {
        "geojson": str(exports["geojson"]),
        "gpkg": f"{exports['gpkg']}|layername=boards",
        "shp": str(shp_dir / f"{base}_boards.shp"),
        "csv": str(exports["csv"][1]),
        "xlsx": f"{exports['xlsx']}|layername=boards",
        "units-gpkg": f"{exports['gpkg']}|layername=units",
        "units-shp": str(shp_dir / f"{base}_units.shp"),
    }
    out = tmp_path / "qgis"
    out.mkdir()
    bng = write_geojson(hostile, tmp_path / "bng.geojson", crs=27700)[0]
    monkeypatch.setenv("ICBMAP_QGIS_LOCALE", "de_DE")
    result = _run_qgis([{"name": k, "uri": v, "dissolve_field": "code", "fields_only": True}
                        for k, v in specs.items()]
                       + [{"name": "geojson-bng", "uri": str(bng), "dissolve_field": "code"}], out)
    layers = {r["name"]: r for r in result["layers"]}
    n_boards = len([b for b in hostile.boards if b.active])
    for fmt in ("geojson", "gpkg", "shp", "csv", "xlsx"):
        r = layers[fmt]
        assert r.get("valid_layer"), (fmt, r.get("errors"))
        assert r["features"] == n_boards, fmt
        t = r["variant_types"]
        for name in ONS_STRINGS:
            assert t[name] == QSTRING, (fmt, name, t[name])
        assert t["BNG_E"] in QINTS and t["BNG_N"] in QINTS and t["board_id"] in QINTS, (fmt, t)
        for name in ("LONG", "LAT", "area_km2"):
            assert t[name] == QDOUBLE, (fmt, name, t[name])
        assert t["population"] in QINTS, fmt
        rows = {row["code"]: row for row in r["rows"]}
        cm = rows["E54000008"]
        assert (cm["ICB26CDH"], cm["code_kind"]) == ("QYG", ONS_CODE), fmt
        assert cm["NHSER26CD"] == "E40000010" and cm["NHSER26NM"] == "North West", fmt
        assert rows["NEW01"]["ICB26CD"] == LOCAL_PREFIX + "NEW01", fmt
        if fmt == "shp":
            # QGIS 3.22's GDAL (3.6) reads a dBase logical field as T/F text; the .qml
            # beside the .shp shows it as a check box.  Newer GDAL reads a boolean.
            assert t["changed"] in (QSTRING, QBOOL) and r["widgets"]["changed"] == "CheckBox"
            assert r["widgets"]["contiguous"] == "CheckBox" and r["style"]["renderer"] == "categorizedSymbol"
            assert rows["NEW01"]["changed"] in ("T", True)
        else:
            assert t["changed"] == QBOOL and t["contiguous"] == QBOOL, (fmt, t["changed"])
            assert rows["NEW01"]["changed"] is True and cm["changed"] is False, fmt
        if fmt in ("geojson", "gpkg", "shp"):
            assert r["geometry_type"] == "MultiPolygon", (fmt, r["geometry_type"])
    for name in ("units-gpkg", "units-shp"):
        t = layers[name]["variant_types"]
        assert {t["LAD25CD"], t["SICBL26CD"]} == {QSTRING}, name
        row = layers[name]["rows"][0]
        assert re.fullmatch(r"E0[6789]\d{6}", row["LAD25CD"]) and row["LAD25NM"], name
    # the British National Grid GeoJSON: QGIS reads EPSG:27700, and its re-save imports back
    r = layers["geojson-bng"]
    assert r["errors"] == [] and r["crs"] == "EPSG:27700" and r["invalid_geometries"] == 0, r["errors"]
    assert np.array_equal(import_file(r["saved"], england).plan.assignment, hostile.assignment)
    # labels under de_DE: the app's "2.52m", not the locale's "2,52m"
    from icbmap.names import format_population, short_board_name

    st = layers["gpkg"]["style"]
    pops = {b.code: int(england.population[hostile.assignment == b.id].sum()) for b in hostile.boards if b.active}
    names = {b.code: b.name for b in hostile.boards if b.active}
    assert st["labels_text"] == {c: f"{short_board_name(names[c])}\n{format_population(p)}" for c, p in pops.items()}


def test_area_perimeter_label_point_equal_the_dissolved_shapes(hostile):
    """The board figures come from the units (sums and shared edges) without dissolving;
    they equal the dissolved boards' area and perimeter, and the label point is inside."""
    import shapely

    from icbmap.export.facts import board_geometry_facts, board_geometry_table, board_shapes

    table = board_geometry_table(hostile)
    shapes = board_shapes(hostile)
    assert set(table) == {b.id for b in hostile.boards if (hostile.assignment == b.id).any()}
    for bid, v in table.items():
        d = board_geometry_facts(shapes[bid])
        assert abs(v["area_km2"] - d["area_km2"]) <= 0.002 and abs(v["perimeter_km"] - d["perimeter_km"]) <= 0.002
        assert shapes[bid].distance(shapely.Point(v["BNG_E"], v["BNG_N"])) < 1.0, bid


@pytest.mark.parametrize("fmt, names, failing", [
    ("csv", ["x.csv", "x-boards.csv"], "x-boards"),
    ("geojson", ["x.geojson", "x-units.geojson"], "x-units"),
])
def test_multi_file_export_is_all_or_none(fmt, names, failing, tmp_path, capsys, monkeypatch):
    """The disk fills while the second file of an export is written: none of the files is
    replaced (the earlier export stays whole) and no temporary file is left."""
    from icbmap.cli import main

    for n in names:
        (tmp_path / n).write_text("earlier export\n")
    real = Path.write_bytes

    def write_bytes(self, data):
        if failing in self.name:
            raise OSError(28, "No space left on device", str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    argv = ["export", "--format", fmt, "-o", str(tmp_path / names[0])] + (["--units"] if fmt == "geojson" else [])
    rc = main(PACK + argv)
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err and err.count("icbmap: error:") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    assert all((tmp_path / n).read_text() == "earlier export\n" for n in names)
