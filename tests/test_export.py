"""GeoJSON / GeoPackage / CSV export: RFC 7946, exact shared edges, geopandas, round trips."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter

import numpy as np
import pytest
import shapely

from icbmap.export import rfc7946
from icbmap.export.csv import write_csv
from icbmap.export.geojson import write_geojson
from icbmap.export.gpkg import write_gpkg
from icbmap.export.importers import import_file
from icbmap.export.shapes import MIN_PRECISION, check_precision, dissolve_boards, to_wgs84
from icbmap.plan.commands import CreateBoard, History, MoveUnits
from icbmap.plan.model import Plan

pytestmark = pytest.mark.slow

ENGLAND_BOX = (-6.5, 49.8, 1.9, 55.9)  # lon/lat; swapped axes would fall outside


@pytest.fixture(scope="module")
def plan(thames_plan):
    """A proposal touching several boards: a cross-border move and a new board."""
    return thames_plan


@pytest.fixture(scope="module")
def exported(plan, tmp_path_factory):
    d = tmp_path_factory.mktemp("export")
    paths = write_geojson(plan, d / "boards.geojson", units=True, title="Test export")
    return paths


def test_geojson_passes_rfc7946_check(exported):
    boards, units = exported
    assert units.name == "boards-units.geojson"
    assert rfc7946.check_file(boards, expect_bounds=ENGLAND_BOX) == []
    assert rfc7946.check_file(units, expect_bounds=ENGLAND_BOX) == []
    doc = json.loads(boards.read_text())
    assert "crs" not in doc and doc["type"] == "FeatureCollection"
    w, s, e, n = doc["bbox"]
    assert -6.5 < w < -5 and 49.8 < s < 50.2 and 1.5 < e < 1.9 and 55.5 < n < 55.9


def test_checker_catches_what_it_should():
    ccw = [[0.0, 51.0], [1.0, 51.0], [1.0, 52.0], [0.0, 52.0], [0.0, 51.0]]
    good = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ccw]}}]}
    assert rfc7946.check(good, expect_bounds=ENGLAND_BOX) == []
    cw = {**good, "features": [{**good["features"][0], "geometry": {"type": "Polygon", "coordinates": [ccw[::-1]]}}]}
    assert any("counter-clockwise" in p for p in rfc7946.check(cw))
    swapped = [[y, x] for x, y in ccw[::-1]]
    sw = {**good, "features": [{**good["features"][0], "geometry": {"type": "Polygon", "coordinates": [swapped]}}]}
    assert any("outside the expected area" in p for p in rfc7946.check(sw, expect_bounds=ENGLAND_BOX))
    assert any("crs" in p for p in rfc7946.check({**good, "crs": {"type": "name"}}))
    open_ring = {**good, "features": [{**good["features"][0],
                                       "geometry": {"type": "Polygon", "coordinates": [ccw[:-1] + [[0.5, 52.0]]]}}]}
    assert any("not closed" in p for p in rfc7946.check(open_ring))
    bad_bbox = {**good, "bbox": [0.2, 51.0, 1.0, 52.0]}
    assert any("bbox" in p for p in rfc7946.check(bad_bbox))
    hole_ccw = {**good, "features": [{**good["features"][0], "geometry": {"type": "Polygon", "coordinates": [
        ccw, [[0.2, 51.2], [0.4, 51.2], [0.4, 51.4], [0.2, 51.4], [0.2, 51.2]]]}}]}
    assert any("hole is not clockwise" in p for p in rfc7946.check(hole_ccw))
    bow = [[0.0, 51.0], [1.0, 52.0], [1.0, 51.0], [0.0, 52.0], [0.0, 51.0]]
    bt = {**good, "features": [{**good["features"][0], "geometry": {"type": "Polygon", "coordinates": [bow]}}]}
    assert rfc7946.check(bt)  # self-intersecting


def test_geojson_properties(exported, plan, england):
    doc = json.loads(exported[0].read_text())
    feats = {f["id"]: f for f in doc["features"]}
    nb = len(england.layers["board"])
    assert len(feats) == nb + 1 and "NEW01" in feats
    f = feats["NEW01"]["properties"]
    assert f["name"] == "Thames Estuary"
    assert f["population"] == int(england.population[plan.assignment == nb].sum())
    assert f["population_basis"] == england.population_basis
    for key in ("councils_whole", "councils_part", "combined_authorities_whole", "combined_authorities_part",
                "coterminosity_index", "flags", "regions", "population_status"):
        assert key in f
    assert "Kent (E10000016)" in f["councils_part"]
    assert sum(x["properties"]["population"] for x in doc["features"]) == england.total_population
    assert doc["data_pack"]["content_hash"] == england.content_hash and doc["title"] == "Test export"


def _segments(coords_list):
    out = Counter()
    for ring in coords_list:
        for p, q in zip(ring[:-1], ring[1:]):
            out[tuple(sorted((tuple(p), tuple(q))))] += 1
    return out


def test_shared_edges_identical_no_slivers_no_overlaps(exported):
    """Every boundary segment is used by exactly one board (coast/border) or by exactly two
    boards in opposite directions; the coverage is valid (no overlaps) in lon/lat."""
    doc = json.loads(exported[0].read_text())
    per_board = {}
    for f in doc["features"]:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        per_board[f["id"]] = _segments([r for p in polys for r in p])
    owners = Counter()
    for segs in per_board.values():
        for s, n in segs.items():
            assert n == 1  # no board uses a segment twice
            owners[s] += 1
    counts = Counter(owners.values())
    assert set(counts) <= {1, 2}, counts
    assert counts[2] > 5000  # plenty of shared boundary
    # the segments used once are exactly England's outline (the union's boundary)
    geoms = [shapely.geometry.shape(f["geometry"]) for f in doc["features"]]
    assert shapely.coverage_is_valid(np.array(geoms, dtype=object))
    outline = shapely.coverage_union_all(np.array(geoms, dtype=object))
    outer = _segments([shapely.get_coordinates(r).tolist() for p in shapely.get_parts(outline)
                       for r in [p.exterior, *p.interiors]])
    single = {s for s, n in owners.items() if n == 1}
    assert single == set(outer)
    # neighbouring boards: the shared part of two boundaries is identical line work
    a = shapely.geometry.shape(doc["features"][0]["geometry"])
    b = next(shapely.geometry.shape(f["geometry"]) for f in doc["features"][1:]
             if shapely.geometry.shape(f["geometry"]).touches(a))
    assert shapely.area(shapely.intersection(a, b)) == 0


def test_precision_rounding_keeps_edges_and_validity(plan, england):
    shapes = dissolve_boards(england.units.geometry.to_numpy(), plan.assignment, plan.n_boards)
    for p in (MIN_PRECISION, 7):
        out = to_wgs84(shapes, p)
        coords = np.concatenate([shapely.get_coordinates(g) for g in out if g is not None])
        assert np.array_equal(coords, np.round(coords, p))
        assert shapely.is_valid(np.array([g for g in out if g is not None], dtype=object)).all()
        assert shapely.coverage_is_valid(np.array([g for g in out if g is not None], dtype=object))
    with pytest.raises(ValueError, match="outside 5..15"):
        check_precision(3)


def test_geopandas_opens_it(exported, plan, england):
    import geopandas as gpd

    g = gpd.read_file(exported[0])
    assert g.crs.to_epsg() == 4326 and len(g) == len(plan.active_boards())
    assert g.geometry.is_valid.all()
    # reprojected back, the boards cover England to within rounding
    area = g.to_crs(27700).area.sum()
    assert area == pytest.approx(shapely.area(england.units.geometry.to_numpy()).sum(), rel=1e-6)
    u = gpd.read_file(exported[1])
    assert len(u) == england.n_units and set(u.columns) >= {"lsoa_code", "board_code", "board_name"}


@pytest.mark.parametrize("fmt", ["geojson", "units-geojson", "gpkg", "csv"])
def test_export_import_round_trip_exact(plan, england, tmp_path, fmt):
    if fmt == "geojson":
        src = write_geojson(plan, tmp_path / "b.geojson")[0]
    elif fmt == "units-geojson":
        src = write_geojson(plan, tmp_path / "b.geojson", units=True)[1]
    elif fmt == "gpkg":
        src = write_gpkg(plan, tmp_path / "b.gpkg")[0]
    else:
        src = write_csv(plan, tmp_path / "b.csv")[0]
    got = import_file(src, england)
    assert np.array_equal(got.plan.assignment, plan.assignment)
    assert [(b.code, b.name, b.active) for b in got.plan.boards] == \
        [(b.code, b.name, b.active) for b in plan.boards]
    assert got.report.unplaced == [] and got.report.complete
    assert got.report.weak == []


def test_csv_block_assignment(plan, england, tmp_path):
    path = write_csv(plan, tmp_path / "a.csv")[0]
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["lsoa_code", "board_code", "board_name"]
    assert len(rows) == england.n_units + 1
    got = {r[0]: r[1] for r in rows[1:]}
    assert got[england.unit_codes[150]] == plan.boards[3].code
    assert (path.stat().st_mode & 0o044) == 0o044  # readable by others, like any saved file


def test_gpkg_layers_and_tables(plan, tmp_path):
    import geopandas as gpd
    import pyogrio

    path = write_gpkg(plan, tmp_path / "p.gpkg", title="GPKG")[0]
    layers = dict(pyogrio.list_layers(path))
    assert {"boards", "units", "board_metrics", "council_splits", "district_splits", "ca_splits",
            "summary", "about"} <= set(layers)
    b = gpd.read_file(path, layer="boards")
    assert b.crs.to_epsg() == 27700 and len(b) == len(plan.active_boards())
    assert shapely.coverage_is_valid(b.geometry.to_numpy())
    m = gpd.read_file(path, layer="board_metrics")
    assert {"coterminosity_council", "councils_part", "flags"} <= set(m.columns)
    about = gpd.read_file(path, layer="about")
    assert "GPKG" in set(about["value"])


# ------------------------------------------------------------------ the CLI
def test_cli_export_baseline_and_proposal(england, plan, tmp_path, capsys):
    from icbmap.cli import main
    from icbmap.plan.proposal import Proposal, write_proposal

    pack = ["--pack", "england-offline"]
    assert main(pack + ["export", "--format", "geojson", "-o", str(tmp_path / "base.geojson")]) == 0
    base = json.loads((tmp_path / "base.geojson").read_text())
    assert len(base["features"]) == len(plan.atlas.layers["board"])
    assert rfc7946.check(base, expect_bounds=ENGLAND_BOX) == []
    prop = tmp_path / "p.icbmap.json"
    write_proposal(prop, Proposal.new(plan, title="CLI"))
    assert main(pack + ["export", str(prop), "--format", "geojson", "--units", "--precision", "5",
                        "-o", str(tmp_path / "p.geojson")]) == 0
    out = capsys.readouterr().out.split()
    assert out[-2:] == [str(tmp_path / "p.geojson"), str(tmp_path / "p-units.geojson")]
    doc = json.loads((tmp_path / "p.geojson").read_text())
    assert doc["title"] == "CLI" and len(doc["features"]) == len(plan.active_boards())
    coords = np.array([c for f in doc["features"] for poly in
                       ([f["geometry"]["coordinates"]] if f["geometry"]["type"] == "Polygon"
                        else f["geometry"]["coordinates"]) for ring in poly for c in ring])
    assert np.array_equal(coords, np.round(coords, 5))
    assert main(pack + ["export", str(prop), "--format", "gpkg", "-o", str(tmp_path / "p.gpkg")]) == 0
    assert main(pack + ["export", str(prop), "--format", "csv", "-o", str(tmp_path / "p.csv")]) == 0
    # import the CSV back through the CLI: the same assignment
    assert main(pack + ["import", str(tmp_path / "p.csv"), "-o", str(tmp_path / "back.icbmap.json")]) == 0
    from icbmap.plan.proposal import read_proposal

    back = read_proposal(tmp_path / "back.icbmap.json", england)
    assert np.array_equal(back.plan.assignment, plan.assignment)
    assert f"{england.n_units:,} of {england.n_units:,} units placed" in back.notes


def test_cli_print(plan, tmp_path, capsys):
    import subprocess

    from icbmap.cli import main
    from icbmap.plan.proposal import Proposal, write_proposal

    prop = tmp_path / "p.icbmap.json"
    write_proposal(prop, Proposal.new(plan, title="Printed from the CLI"))
    pdf = tmp_path / "brief.pdf"
    assert main(["--pack", "england-offline", "print", str(prop), "-o", str(pdf), "--paper", "A3",
                 "--subtitle", "Sub", "--changed-pages"]) == 0
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages > 1
    assert main(["--pack", "england-offline", "print", "-o", str(tmp_path / "base.png")]) == 0
    assert (tmp_path / "base.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()


def test_cancelled_export_writes_nothing(plan, tmp_path):
    from icbmap.errors import Cancelled
    from icbmap.progress import Progress

    seen = []

    def cb(fraction, message):
        seen.append(message)
        if len(seen) == 3:
            progress.cancel()

    progress = Progress(cb, "export")
    with pytest.raises(Cancelled):
        write_geojson(plan, tmp_path / "c.geojson", units=True, progress=progress)
    assert list(tmp_path.iterdir()) == []


def test_csv_with_practices_round_trip(england, tmp_path):
    """Developer-made practices table (three made-up practices) attached to the atlas."""
    import dataclasses

    import pandas as pd

    units = [100, 5000, 20000]
    base = england.unit_level("board")
    pr = pd.DataFrame({
        "code": ["X00001", "X00002", "X00003"], "name": ["Alpha Surgery", "Beta Practice", "Gamma MC"],
        "postcode": ["", "", ""], "x": [0.0, 0.0, 0.0], "y": [0.0, 0.0, 0.0],
        "patients": [5000, 7000, 9000], "pcn_code": ["", "", ""], "pcn_name": ["", "", ""],
        "place": [-1, -1, -1], "board": [int(base[u]) for u in units], "unit": units,
        "extract_date": ["2026-10-01"] * 3,
    })
    atlas = dataclasses.replace(england, practices=pr)
    plan = Plan(atlas)
    History(plan).push(MoveUnits([5000], 7))
    assert plan.practice_assignment[1] == 7  # carried with its unit
    paths = write_csv(plan, tmp_path / "a.csv")
    assert [p.name for p in paths] == ["a.csv", "a-boards.csv", "a-practices.csv"]
    rows = list(csv.reader(io.StringIO(paths[2].read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["practice_code", "practice_name", "board_code", "board_name"]
    assert rows[2][0] == "X00002" and rows[2][2] == plan.boards[7].code
    back = import_file(paths[0], atlas)
    assert np.array_equal(back.plan.assignment, plan.assignment)
    assert np.array_equal(back.plan.practice_assignment, plan.practice_assignment)


def test_round_trip_with_unassigned_units_empty_and_deleted_boards(england, tmp_path):
    from icbmap.plan.commands import DeleteBoard

    p = Plan(england)
    h = History(p)
    h.push(MoveUnits(np.arange(3000, 3050), -1))          # unassigned
    h.push(CreateBoard("Empty for now", code="EMPTY1"))  # active, no units
    h.push(DeleteBoard(5, 6))                             # deleted: units to board 6
    path = write_geojson(p, tmp_path / "odd.geojson", units=True)
    doc = json.loads(path[0].read_text())
    assert rfc7946.check(doc, expect_bounds=ENGLAND_BOX) == []
    empty = next(f for f in doc["features"] if f["id"] == "EMPTY1")
    assert empty["geometry"] is None and empty["properties"]["population"] == 0
    assert p.boards[5].code not in {f["id"] for f in doc["features"]}
    units = json.loads(path[1].read_text())
    assert sum(f["properties"]["board_code"] is None for f in units["features"]) == 50
    for src in (path[0], write_csv(p, tmp_path / "odd.csv")[0]):
        back = import_file(src, england)
        assert np.array_equal(back.plan.assignment, p.assignment), src
        assert len(back.report.unplaced) == 50
        assert not back.plan.boards[5].active
