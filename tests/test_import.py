"""Import of boards drawn elsewhere: polygons in any CRS, shapefiles, assignment CSVs.

The small fixtures here are developer-made (built in the tests from the England atlas's
own board shapes), not official files.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from icbmap.export.importers import ImportError_, import_file

pytestmark = pytest.mark.slow


def _boards_gdf(england, crs="EPSG:27700"):
    import geopandas as gpd

    t = england.layers["board"].table
    g = gpd.GeoDataFrame({"ICB23CD": t["code"], "ICB23NM": t["name"]}, geometry=t.geometry.to_numpy(),
                         crs="EPSG:27700")
    return g.to_crs(crs)


@pytest.mark.parametrize("crs", ["EPSG:27700", "EPSG:3857", "EPSG:4326"])
def test_polygons_in_any_crs_give_the_baseline(england, tmp_path, crs):
    """Developer-made fixture: the atlas's own board shapes, reprojected, as a GeoPackage."""
    path = tmp_path / "boards.gpkg"
    _boards_gdf(england, crs).to_file(path, layer="icb", driver="GPKG")
    got = import_file(path, england)
    assert np.array_equal(got.plan.assignment, england.unit_level("board"))
    assert got.plan.boards[0].code == england.layers["board"].codes[0]
    assert got.report.unplaced == [] and got.report.kind == "polygons (layer icb)"


def test_shapefile_with_prj_and_merged_boards(england, tmp_path):
    """Developer-made: two baseline boards merged under one new code, written as a shapefile."""
    g = _boards_gdf(england)
    a, b = 0, 1
    g.loc[[a, b], "ICB23CD"] = "MERGED1"
    g.loc[[a, b], "ICB23NM"] = "Merged board"
    path = tmp_path / "merged.shp"
    g.to_file(path)
    got = import_file(path, england)
    plan = got.plan
    merged = plan.board_by_code("MERGED1")
    assert merged is not None and merged.id >= plan.n_baseline_boards and merged.name == "Merged board"
    base = england.unit_level("board")
    assert (plan.assignment[(base == a) | (base == b)] == merged.id).all()
    assert not plan.boards[a].active and not plan.boards[b].active
    assert set(got.report.deleted_baseline) == {england.layers["board"].codes[a], england.layers["board"].codes[b]}
    assert len(plan.active_boards()) == len(england.layers["board"]) - 1


def test_units_not_covered_are_reported(england, tmp_path):
    """Developer-made: the baseline with one board's polygon removed and a unit's hole."""
    g = _boards_gdf(england)
    g = g.iloc[1:]
    path = tmp_path / "gap.geojson"
    g.to_crs(4326).to_file(path, driver="GeoJSON")
    got = import_file(path, england)
    lost = np.flatnonzero(england.unit_level("board") == 0)
    assert sorted(got.report.unplaced) == sorted(england.unit_codes[lost].tolist())
    assert (got.plan.assignment[lost] == -1).all()
    assert "could not be placed" in got.report.summary()
    assert not got.plan.boards[0].active


def test_area_weighted_majority(england, tmp_path):
    """A unit cut by a straight line goes to the side holding most of its area."""
    import geopandas as gpd

    u = 12345
    geom = england.units.geometry.iat[u]
    x0, y0, x1, y1 = geom.bounds
    cut = x0 + (x1 - x0) * 0.3
    west = shapely.box(x0 - 10, y0 - 10, cut, y1 + 10)
    east = shapely.box(cut, y0 - 10, x1 + 10, y1 + 10)
    wa = shapely.area(shapely.intersection(geom, west))
    ea = shapely.area(shapely.intersection(geom, east))
    path = tmp_path / "cut.gpkg"
    gpd.GeoDataFrame({"code": ["W", "E"], "name": ["West", "East"]}, geometry=[west, east],
                     crs="EPSG:27700").to_file(path)
    got = import_file(path, england)
    winner = "W" if wa > ea else "E"
    assert got.plan.boards[got.plan.assignment[u]].code == winner
    # most of England lies outside the two boxes
    assert got.report.units_placed < 200 and len(got.report.unplaced) > 32_000


def test_code_and_name_fields(england, tmp_path):
    g = _boards_gdf(england).rename(columns={"ICB23CD": "my_code", "ICB23NM": "label_text"})
    path = tmp_path / "custom.gpkg"
    g.to_file(path)
    with pytest.raises(ImportError_, match="no board code field 'nope'"):
        import_file(path, england, code_field="nope")
    got = import_file(path, england, code_field="my_code", name_field="label_text")
    assert np.array_equal(got.plan.assignment, england.unit_level("board"))


def test_csv_reports_unknown_missing_and_conflicting(england, tmp_path):
    codes = england.unit_codes
    board_codes = england.layers["board"].codes
    base = england.unit_level("board")
    lines = ["LSOA11CD,ICB_CODE,ICB_NAME"]
    for i in range(len(codes) - 5):          # the last five units are missing
        lines.append(f"{codes[i]},{board_codes[base[i]]},")
    lines.append("E01999999,E54000008,")      # unknown unit
    lines.append(f"{codes[0]},{board_codes[(base[0] + 1) % len(board_codes)]},")  # conflicting duplicate
    lines.append(f"{codes[1]},NEWBOARD,A new board")  # conflicting, new board
    path = tmp_path / "assign.csv"
    path.write_text("\n".join(lines) + "\n")
    got = import_file(path, england, code_field="ICB_CODE", name_field="ICB_NAME")
    r = got.report
    assert r.unknown_codes == ["E01999999"]
    assert r.conflicts == [codes[0], codes[1]]
    assert sorted(r.unplaced) == sorted(codes[-5:].tolist())
    assert np.array_equal(got.plan.assignment[:-5], base[:-5])
    assert "not in this data pack" in r.summary() and "different boards" in r.summary()


def test_csv_semicolon_and_bom(england, tmp_path):
    codes = england.unit_codes
    base = england.unit_level("board")
    bc = england.layers["board"].codes
    text = "\ufefflsoa_code;board_code;board_name\n" + "".join(
        f"{codes[i]};{bc[base[i]]};\n" for i in range(len(codes)))
    path = tmp_path / "semi.csv"
    path.write_text(text, encoding="utf-8")
    got = import_file(path, england)
    assert np.array_equal(got.plan.assignment, base) and got.report.complete
